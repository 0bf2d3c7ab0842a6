#include "index/bm25.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <mutex>

#include "core/error.h"
#include "index/bm25_image.h"

namespace rlm {

using bm25_image::Header;
using bm25_image::Posting;

namespace {

[[noreturn]] void Corrupt(const std::string& what) {
  throw InvalidInput("corrupt BM25 index image: " + what, "delete the index file so it is rebuilt");
}

// Per-query length normalisation of every document, k1 * (1 - b + b * dl / avgdl), for one (k1, b).
struct NormTable {
  double k1 = -1, b = -1;
  std::vector<float> norm;
};

// Per-thread accumulators sized to the largest index searched on the thread (touched has one spare slot for
// the branchless append). Invariant between searches: score is all zeros.
struct Accumulator {
  std::vector<float> score;
  std::vector<uint32_t> touched;
  std::vector<ScoredDoc> heap;
};

Accumulator& ThreadAccumulator() {
  thread_local Accumulator acc;
  return acc;
}

// Adds one term's contributions, w * tf / (tf + norm[d]), to `score`. A document whose score was still 0
// is appended to `touched` (contributions are positive, so a 0 score means not seen yet). Returns the new
// touched count. Throws on a posting a valid image cannot contain.
template <bool kFiltered>
size_t AccumulateTerm(const Posting* p, const Posting* end, float w, uint64_t n, const float* norm,
                      const uint8_t* allow, float* score, uint32_t* touched, size_t num_touched) {
  for (; p != end; ++p) {
    const uint32_t d = p->doc;
    if ((d >= n) | (p->tf == 0)) Corrupt("posting out of range");
    const float tf = static_cast<float>(p->tf);
    float add = w * tf / (tf + norm[d]);
    if constexpr (kFiltered) add = allow[d] != 0 ? add : 0.0f;
    const float old = score[d];
    touched[num_touched] = d;
    num_touched += (old == 0.0f) & (add != 0.0f);
    score[d] = old + add;
  }
  return num_touched;
}

}  // namespace

struct Bm25Index::Impl {
  std::string owned;  // the image when this index owns it (built, or copied because it was misaligned)
  std::string_view image;
  Header header{};
  const uint32_t* doc_len = nullptr;
  const uint64_t* term_off = nullptr;
  const uint64_t* post_off = nullptr;
  const Posting* postings = nullptr;
  const char* pool = nullptr;
  double avgdl = 1;

  mutable std::mutex norm_mu;
  mutable std::shared_ptr<const NormTable> norms;  // GUARDED_BY(norm_mu)

  void Parse(bool verify_checksum);
  std::string_view Term(uint64_t i) const;
  // Index of `term` in the dictionary, or -1.
  int64_t Find(std::string_view term) const;
  std::shared_ptr<const NormTable> Norms(double k1, double b) const;
};

void Bm25Index::Impl::Parse(bool verify_checksum) {
  if (image.size() < sizeof(Header)) Corrupt("shorter than its header");
  std::memcpy(&header, image.data(), sizeof(Header));
  if (std::memcmp(header.magic, bm25_image::kMagic, sizeof(header.magic)) != 0) Corrupt("bad magic");
  if (header.version != bm25_image::kVersion) {
    throw InvalidInput("BM25 index image has format version " + std::to_string(header.version) +
                           ", expected " + std::to_string(bm25_image::kVersion),
                       "delete the index file so it is rebuilt");
  }
  if (header.header_bytes != sizeof(Header)) Corrupt("bad header size");
  // Every element is at least one byte, so bounding counts by the image size keeps the layout arithmetic
  // far from overflow.
  const uint64_t size = image.size();
  if (header.num_docs > size || header.num_terms > size || header.num_postings > size ||
      header.pool_bytes > size) {
    Corrupt("counts exceed the image size");
  }
  if (header.num_docs > UINT32_MAX - 1) Corrupt("too many documents");
  const auto layout =
      bm25_image::ComputeLayout(header.num_docs, header.num_terms, header.num_postings, header.pool_bytes);
  if (layout.end != size)
    Corrupt("size " + std::to_string(size) + " differs from " + std::to_string(layout.end));
  if (verify_checksum && bm25_image::ImageChecksum(image) != header.checksum) {
    Corrupt("checksum mismatch");
  }
  const char* base = image.data();
  doc_len = reinterpret_cast<const uint32_t*>(base + layout.doc_len);
  term_off = reinterpret_cast<const uint64_t*>(base + layout.term_off);
  post_off = reinterpret_cast<const uint64_t*>(base + layout.post_off);
  postings = reinterpret_cast<const Posting*>(base + layout.postings);
  pool = base + layout.pool;
  avgdl = header.num_docs == 0 ? 1.0 : static_cast<double>(header.total_doc_len) / header.num_docs;
  // Only a corrupt image has postings but no length; keep the arithmetic finite anyway.
  if (!(avgdl > 0)) avgdl = 1.0;
}

std::string_view Bm25Index::Impl::Term(uint64_t i) const {
  const uint64_t begin = term_off[i], end = term_off[i + 1];
  if (begin > end || end > header.pool_bytes) Corrupt("term offsets out of range");
  return std::string_view(pool + begin, end - begin);
}

int64_t Bm25Index::Impl::Find(std::string_view term) const {
  uint64_t lo = 0, hi = header.num_terms;
  while (lo < hi) {
    const uint64_t mid = lo + (hi - lo) / 2;
    const int c = Term(mid).compare(term);
    if (c == 0) return static_cast<int64_t>(mid);
    if (c < 0) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return -1;
}

std::shared_ptr<const NormTable> Bm25Index::Impl::Norms(double k1, double b) const {
  std::lock_guard<std::mutex> lock(norm_mu);
  if (norms && norms->k1 == k1 && norms->b == b) return norms;
  auto table = std::make_shared<NormTable>();
  table->k1 = k1;
  table->b = b;
  table->norm.resize(header.num_docs);
  for (uint64_t d = 0; d < header.num_docs; ++d) {
    table->norm[d] = static_cast<float>(k1 * (1 - b + b * doc_len[d] / avgdl));
  }
  norms = table;
  return norms;
}

Bm25Index::Bm25Index() : impl_(std::make_unique<Impl>()) {
  // An empty index: a valid zero-document image of its own.
  Header h{};
  std::memcpy(h.magic, bm25_image::kMagic, sizeof(h.magic));
  h.version = bm25_image::kVersion;
  h.header_bytes = sizeof(Header);
  const auto layout = bm25_image::ComputeLayout(0, 0, 0, 0);
  impl_->owned.assign(layout.end, '\0');
  std::memcpy(impl_->owned.data(), &h, sizeof(h));
  h.checksum = bm25_image::ImageChecksum(impl_->owned);
  std::memcpy(impl_->owned.data(), &h, sizeof(h));
  impl_->image = impl_->owned;
  impl_->Parse(false);
}

Bm25Index::~Bm25Index() = default;
Bm25Index::Bm25Index(Bm25Index&&) noexcept = default;
Bm25Index& Bm25Index::operator=(Bm25Index&&) noexcept = default;

size_t Bm25Index::num_docs() const {
  return impl_->header.num_docs;
}
size_t Bm25Index::num_terms() const {
  return impl_->header.num_terms;
}
double Bm25Index::avg_doc_length() const {
  return impl_->header.num_docs == 0 ? 0.0 : static_cast<double>(impl_->header.total_doc_len) / num_docs();
}

std::string Bm25Index::Serialize() const {
  return std::string(impl_->image);
}

Bm25Index Bm25Index::Open(std::string_view image, bool verify_checksum) {
  Bm25Index index;
  auto impl = std::make_unique<Impl>();
  if (reinterpret_cast<uintptr_t>(image.data()) % 8 != 0) {
    // Typed reads need 8-byte alignment; a memory map or a std::string buffer always has it.
    impl->owned.assign(image);
    impl->image = impl->owned;
  } else {
    impl->image = image;
  }
  impl->Parse(verify_checksum);
  index.impl_ = std::move(impl);
  return index;
}

Bm25Index Bm25Index::FromImage(std::string image) {
  Bm25Index index;
  index.impl_->owned = std::move(image);
  index.impl_->image = index.impl_->owned;
  index.impl_->Parse(false);  // checks what the builder just wrote
  return index;
}

size_t Bm25Index::DocFreq(std::string_view term) const {
  const int64_t t = impl_->Find(term);
  if (t < 0) return 0;
  const uint64_t begin = impl_->post_off[t], end = impl_->post_off[t + 1];
  if (begin > end || end > impl_->header.num_postings) Corrupt("postings offsets out of range");
  return end - begin;
}

std::vector<ScoredDoc> Bm25Index::Search(std::span<const std::string> query_terms, size_t k,
                                         const Bm25Params& params, const DocFilter* filter,
                                         SearchStats* stats) const {
  const double k1 = params.k1, b = params.b;
  if (!std::isfinite(k1) || k1 < 0 || !std::isfinite(b) || b < 0 || b > 1) {
    throw InvalidInput("BM25 parameters out of range: k1 must be >= 0 and b in [0, 1]");
  }
  const Impl& m = *impl_;
  const uint64_t n = m.header.num_docs;
  if (filter != nullptr && filter->size() != n) {
    throw InvalidInput("document filter has " + std::to_string(filter->size()) + " entries for " +
                       std::to_string(n) + " documents");
  }
  if (k == 0 || n == 0 || query_terms.empty()) return {};

  // A repeated query term counts again: group repeats into a weight. Sorting fixes the accumulation order.
  std::vector<std::string_view> terms(query_terms.begin(), query_terms.end());
  std::sort(terms.begin(), terms.end());

  struct TermWork {
    uint64_t begin, end;
    float weight;  // idf * (k1 + 1) * query count
  };
  std::vector<TermWork> work;
  for (size_t i = 0; i < terms.size();) {
    size_t j = i + 1;
    while (j < terms.size() && terms[j] == terms[i]) ++j;
    const int64_t t = m.Find(terms[i]);
    if (t >= 0) {
      const uint64_t begin = m.post_off[t], end = m.post_off[t + 1];
      if (begin > end || end > m.header.num_postings || end - begin > n)
        Corrupt("postings offsets out of range");
      const double df = static_cast<double>(end - begin);
      const double idf = std::log(1 + (static_cast<double>(n) - df + 0.5) / (df + 0.5));
      if (end > begin)
        work.push_back({begin, end, static_cast<float>(idf * (k1 + 1) * static_cast<double>(j - i))});
    }
    i = j;
  }
  if (work.empty()) return {};

  const std::shared_ptr<const NormTable> norms = m.Norms(k1, b);
  const float* norm = norms->norm.data();
  const uint8_t* allow = filter != nullptr ? filter->data() : nullptr;

  Accumulator& acc = ThreadAccumulator();
  if (acc.score.size() < n) acc.score.resize(n, 0.0f);
  float* score = acc.score.data();
  std::vector<uint32_t>& touched = acc.touched;
  // `touched` has room for every document, so new documents are appended without a branch (whether a
  // document is new is unpredictable, and mispredictions would dominate the loop).
  if (touched.size() < n + 1) touched.resize(n + 1);
  size_t num_touched = 0;
  // Restores the all-zero invariant however the search ends. If a corrupt posting throws mid-way, the
  // touched count is incomplete, so the whole score array is cleared.
  struct Reset {
    Accumulator& acc;
    uint64_t n;
    const size_t& num_touched;
    bool complete = false;
    ~Reset() {
      if (!complete) {
        std::fill(acc.score.begin(), acc.score.begin() + static_cast<ptrdiff_t>(n), 0.0f);
      } else {
        for (size_t i = 0; i < num_touched; ++i) acc.score[acc.touched[i]] = 0.0f;
      }
    }
  } reset{acc, n, num_touched};

  size_t postings_read = 0;
  for (const TermWork& w : work) {
    postings_read += w.end - w.begin;
    if (allow == nullptr) {
      num_touched = AccumulateTerm<false>(m.postings + w.begin, m.postings + w.end, w.weight, n, norm,
                                          nullptr, score, touched.data(), num_touched);
    } else {
      num_touched = AccumulateTerm<true>(m.postings + w.begin, m.postings + w.end, w.weight, n, norm, allow,
                                         score, touched.data(), num_touched);
    }
  }
  reset.complete = true;  // from here on the guard zeroes exactly the touched documents

  // Bounded heap whose front is the worst of the current top k.
  std::vector<ScoredDoc>& heap = acc.heap;
  heap.clear();
  for (size_t i = 0; i < num_touched; ++i) {
    const uint32_t d = touched[i];
    const ScoredDoc cand{d, score[d]};
    if (heap.size() < k) {
      heap.push_back(cand);
      std::push_heap(heap.begin(), heap.end(), RanksBefore);
    } else if (RanksBefore(cand, heap.front())) {
      std::pop_heap(heap.begin(), heap.end(), RanksBefore);
      heap.back() = cand;
      std::push_heap(heap.begin(), heap.end(), RanksBefore);
    }
  }
  std::sort_heap(heap.begin(), heap.end(), RanksBefore);
  if (stats != nullptr) {
    stats->postings_read += postings_read;
    stats->docs_scored += num_touched;
  }
  return std::vector<ScoredDoc>(heap.begin(), heap.end());
}

}  // namespace rlm
