// Bm25Builder (declared in index/bm25.h): parallel analysis into per-part vocabularies, a sequential merge
// into one vocabulary, and a counting sort into the flat image of index/bm25_image.h.
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/task_arena.h>

#include <algorithm>
#include <cstring>
#include <numeric>

#include "core/error.h"
#include "index/bm25.h"
#include "index/bm25_image.h"
#include "index/term_table.h"

namespace rlm {

using bm25_image::Header;
using bm25_image::Posting;

namespace {

struct TermCount {
  uint32_t term;
  uint32_t tf;
};

// The analysis of a contiguous run of documents: its own vocabulary (local ids) and, per document, the
// distinct terms with their frequencies.
struct Part {
  TermTable vocab;
  std::vector<uint32_t> doc_len;
  std::vector<uint64_t> doc_end;  // end of each document's entries in `counts`
  std::vector<TermCount> counts;

  void Analyze(const Analyzer& analyzer, std::span<const std::string_view> texts) {
    std::vector<uint32_t> seen_in;  // local id -> 1 + index of the last document that used it
    std::vector<uint64_t> slot;     // local id -> its entry in `counts` for that document
    doc_len.reserve(texts.size());
    doc_end.reserve(texts.size());
    for (size_t d = 0; d < texts.size(); ++d) {
      const auto mark = static_cast<uint32_t>(d + 1);
      uint64_t len = 0;
      analyzer.ForEachTerm(texts[d], [&](std::string_view term) {
        const uint32_t id = vocab.Intern(term);
        if (id >= seen_in.size()) {
          seen_in.resize(std::max<size_t>(id + 1, seen_in.size() * 2), 0);
          slot.resize(seen_in.size());
        }
        if (seen_in[id] != mark) {
          seen_in[id] = mark;
          slot[id] = counts.size();
          counts.push_back({id, 1});
        } else {
          ++counts[slot[id]].tf;
        }
        ++len;
      });
      if (len > UINT32_MAX) throw InvalidInput("a document has more than 2^32 terms");
      doc_len.push_back(static_cast<uint32_t>(len));
      doc_end.push_back(counts.size());
    }
  }
};

}  // namespace

struct Bm25Builder::Impl {
  Analyzer analyzer;
  TermTable vocab;                // global ids in order of first appearance
  std::vector<uint32_t> doc_len;  // per document
  std::vector<uint64_t> doc_end;  // end of each document's entries in `counts`
  std::vector<TermCount> counts;  // global term ids
};

Bm25Builder::Bm25Builder(const Analyzer& analyzer)
    : impl_(std::make_unique<Impl>(Impl{analyzer, {}, {}, {}, {}})) {}
Bm25Builder::~Bm25Builder() = default;

size_t Bm25Builder::num_docs() const {
  return impl_->doc_len.size();
}

void Bm25Builder::AddBatch(std::span<const std::string_view> texts) {
  Impl& m = *impl_;
  if (texts.empty()) return;
  if (m.doc_len.size() + texts.size() > UINT32_MAX - 1)
    throw InvalidInput("BM25 index exceeds 2^32 documents");

  // Contiguous parts, several per thread for load balance; each part has its own vocabulary so the
  // parallel phase shares nothing.
  const size_t threads = static_cast<size_t>(std::max(1, tbb::this_task_arena::max_concurrency()));
  const size_t num_parts =
      std::min(texts.size(), std::max<size_t>(1, std::min(threads * 4, texts.size() / 16)));
  std::vector<Part> parts(num_parts);
  auto part_begin = [&](size_t p) { return texts.size() * p / num_parts; };
  tbb::parallel_for(size_t{0}, num_parts, [&](size_t p) {
    parts[p].Analyze(m.analyzer, texts.subspan(part_begin(p), part_begin(p + 1) - part_begin(p)));
  });

  // Sequential merge in document order. Interning only touches each part's distinct terms. Nothing below
  // throws except allocation failure, which leaves the builder usable but possibly partly appended; keep
  // the sizes to roll back.
  const size_t old_docs = m.doc_len.size(), old_counts = m.counts.size();
  try {
    std::vector<uint32_t> to_global;
    for (Part& part : parts) {
      to_global.resize(part.vocab.size());
      for (uint32_t id = 0; id < part.vocab.size(); ++id) to_global[id] = m.vocab.Intern(part.vocab.Key(id));
      const uint64_t base = m.counts.size();
      for (const TermCount& tc : part.counts) m.counts.push_back({to_global[tc.term], tc.tf});
      m.doc_len.insert(m.doc_len.end(), part.doc_len.begin(), part.doc_len.end());
      for (uint64_t e : part.doc_end) m.doc_end.push_back(base + e);
      part = Part();  // free as we go
    }
  } catch (...) {
    // Terms interned for the failed batch stay in the vocabulary with no postings; Finish drops them.
    m.doc_len.resize(old_docs);
    m.doc_end.resize(old_docs);
    m.counts.resize(old_counts);
    throw;
  }
}

Bm25Index Bm25Builder::Finish() {
  Impl& m = *impl_;
  const uint64_t num_docs = m.doc_len.size();
  const uint32_t vocab_size = static_cast<uint32_t>(m.vocab.size());

  std::vector<uint64_t> df(vocab_size, 0);
  for (const TermCount& tc : m.counts) ++df[tc.term];

  // Final term ids: the terms that have postings, sorted bytewise.
  std::vector<uint32_t> order;
  order.reserve(vocab_size);
  for (uint32_t t = 0; t < vocab_size; ++t) {
    if (df[t] > 0) order.push_back(t);
  }
  std::sort(order.begin(), order.end(),
            [&](uint32_t a, uint32_t b) { return m.vocab.Key(a) < m.vocab.Key(b); });
  const uint64_t num_terms = order.size();
  std::vector<uint32_t> rank(vocab_size, 0);
  uint64_t pool_bytes = 0;
  for (uint64_t r = 0; r < num_terms; ++r) {
    rank[order[r]] = static_cast<uint32_t>(r);
    pool_bytes += m.vocab.Key(order[r]).size();
  }
  const uint64_t num_postings = m.counts.size();
  const uint64_t total_len = std::accumulate(m.doc_len.begin(), m.doc_len.end(), uint64_t{0});

  const auto layout = bm25_image::ComputeLayout(num_docs, num_terms, num_postings, pool_bytes);
  std::string image(layout.end, '\0');
  char* base = image.data();

  Header h{};
  std::memcpy(h.magic, bm25_image::kMagic, sizeof(h.magic));
  h.version = bm25_image::kVersion;
  h.header_bytes = sizeof(Header);
  h.num_docs = num_docs;
  h.num_terms = num_terms;
  h.num_postings = num_postings;
  h.total_doc_len = total_len;
  h.pool_bytes = pool_bytes;

  if (num_docs > 0) std::memcpy(base + layout.doc_len, m.doc_len.data(), 4 * num_docs);
  auto* term_off = reinterpret_cast<uint64_t*>(base + layout.term_off);
  auto* post_off = reinterpret_cast<uint64_t*>(base + layout.post_off);
  char* pool = base + layout.pool;
  uint64_t str = 0, post = 0;
  for (uint64_t r = 0; r < num_terms; ++r) {
    term_off[r] = str;
    post_off[r] = post;
    std::string_view key = m.vocab.Key(order[r]);
    std::memcpy(pool + str, key.data(), key.size());
    str += key.size();
    post += df[order[r]];
  }
  term_off[num_terms] = str;
  post_off[num_terms] = post;

  // Counting sort into postings: documents are visited in order, so every list comes out doc-ascending.
  // `df` becomes the write cursor of each term.
  for (uint64_t r = 0; r < num_terms; ++r) df[order[r]] = post_off[r];
  auto* postings = reinterpret_cast<Posting*>(base + layout.postings);
  uint64_t begin = 0;
  for (uint64_t d = 0; d < num_docs; ++d) {
    const uint64_t end = m.doc_end[d];
    for (uint64_t i = begin; i < end; ++i) {
      const TermCount& tc = m.counts[i];
      postings[df[tc.term]++] = Posting{static_cast<uint32_t>(d), tc.tf};
    }
    begin = end;
  }

  std::memcpy(base, &h, sizeof(h));
  h.checksum = bm25_image::ImageChecksum(image);
  std::memcpy(base, &h, sizeof(h));

  *impl_ = Impl{m.analyzer, {}, {}, {}, {}};
  return Bm25Index::FromImage(std::move(image));
}

}  // namespace rlm
