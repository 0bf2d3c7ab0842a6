#include "eval/trec.h"

#include <xxhash.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <tbb/parallel_for.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <exception>
#include <unordered_map>

#include "core/error.h"
#include "core/file.h"

namespace rlm::trec {

// ---------------------------------------------------------------------------------------------------------
// DocIdTable: open addressing over (tag, id + 1) slots; the tag (32 hash bits) avoids most string compares.

struct DocIdTable::Map {
  struct Slot {
    uint32_t tag = 0;
    uint32_t id1 = 0;  // id + 1; 0 = empty
  };
  std::vector<Slot> slots;
  std::vector<uint32_t> tags;  // per id, for rehashing without rehashing strings
  size_t mask = 0;

  void Grow(size_t want) {
    size_t cap = 1024;
    while (cap < want * 2) cap <<= 1;
    slots.assign(cap, Slot{});
    mask = cap - 1;
    for (uint32_t id = 0; id < tags.size(); ++id) {
      size_t i = Home(tags[id]);
      while (slots[i].id1 != 0) i = (i + 1) & mask;
      slots[i] = Slot{tags[id], id + 1};
    }
  }
  size_t Home(uint32_t tag) const { return (static_cast<size_t>(tag) * 0x9E3779B1u) & mask; }
};

DocIdTable::DocIdTable() : map_(std::make_unique<Map>()) {
  map_->Grow(1024);
}
DocIdTable::~DocIdTable() = default;

std::string_view DocIdTable::Store(std::string_view name) {
  if (block_used_ + name.size() > block_size_) {
    block_size_ = std::max<size_t>(size_t{1} << 20, name.size());
    blocks_.push_back(std::make_unique<char[]>(block_size_));
    block_used_ = 0;
  }
  char* p = blocks_.back().get() + block_used_;
  if (!name.empty()) std::memcpy(p, name.data(), name.size());
  block_used_ += name.size();
  return {p, name.size()};
}

uint32_t DocIdTable::Tag(std::string_view name) {
  uint64_t h = XXH3_64bits(name.data(), name.size());
  uint32_t t = static_cast<uint32_t>(h ^ (h >> 32));
  return t ? t : 1;
}

uint32_t DocIdTable::Intern(std::string_view name) {
  Map& m = *map_;
  uint32_t tag = Tag(name);
  size_t i = m.Home(tag);
  while (m.slots[i].id1 != 0) {
    if (m.slots[i].tag == tag && names_[m.slots[i].id1 - 1] == name) return m.slots[i].id1 - 1;
    i = (i + 1) & m.mask;
  }
  if (names_.size() >= UINT32_MAX - 1) throw InvalidInput("too many distinct document ids");
  uint32_t id = static_cast<uint32_t>(names_.size());
  names_.push_back(Store(name));
  m.tags.push_back(tag);
  m.slots[i] = Map::Slot{tag, id + 1};
  if (names_.size() * 2 > m.slots.size()) m.Grow(names_.size());
  return id;
}

uint32_t DocIdTable::TagOf(uint32_t id) const {
  return map_->tags[id];
}

uint32_t DocIdTable::Find(std::string_view name, uint32_t tag) const {
  const Map& m = *map_;
  size_t i = m.Home(tag);
  while (m.slots[i].id1 != 0) {
    if (m.slots[i].tag == tag && names_[m.slots[i].id1 - 1] == name) return m.slots[i].id1 - 1;
    i = (i + 1) & m.mask;
  }
  return kMissing;
}

// ---------------------------------------------------------------------------------------------------------
// Line scanning shared by both parsers.

namespace {

// trec_eval splits on isspace(): space, \t, \n, \v, \f, \r.
inline bool IsSpace(char c) {
  return c == ' ' || (c >= '\t' && c <= '\r');
}

// The fields of one line (at most `kMax`; `count` keeps counting past it).
struct Fields {
  static constexpr int kMax = 6;
  std::string_view f[kMax];
  int count = 0;
};

inline void SplitFields(const char* p, const char* end, Fields& out) {
  out.count = 0;
  while (true) {
    while (p < end && IsSpace(*p)) ++p;
    if (p >= end) return;
    const char* s = p;
    while (p < end && !IsSpace(*p)) ++p;
    if (out.count < Fields::kMax) out.f[out.count] = std::string_view(s, static_cast<size_t>(p - s));
    ++out.count;
  }
}

// True when the line holds only blanks.
inline bool Blank(const char* p, const char* end) {
  while (p < end && IsSpace(*p)) ++p;
  return p == end;
}

[[noreturn]] void LineError(std::string_view name, uint64_t line, const std::string& what) {
  throw InvalidInput(std::string(name) + ":" + std::to_string(line) + ": " + what);
}

std::string Quote(std::string_view s) {
  if (s.size() > 60) return "'" + std::string(s.substr(0, 57)) + "...'";
  return "'" + std::string(s) + "'";
}

bool ParseInt(std::string_view s, int32_t& v) {
  const char* b = s.data();
  const char* e = b + s.size();
  if (b < e && *b == '+') ++b;
  auto r = std::from_chars(b, e, v);
  return r.ec == std::errc() && r.ptr == e && b < e;
}

bool ParseDouble(std::string_view s, double& v) {
  const char* b = s.data();
  const char* e = b + s.size();
  if (b < e && *b == '+') ++b;
  // Fast path for the usual run score ("12.3456", "-0.5"): at most 15 significant digits and no exponent.
  // The digits are then an exactly representable integer m, 10^k (k <= 22) is exact too, and m / 10^k is
  // one correctly rounded division: the same double strtod and from_chars produce (Clinger's fast path).
  {
    static constexpr double kPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                        1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                        1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    const char* p = b;
    const bool negative = p < e && *p == '-';
    if (negative) ++p;
    uint64_t m = 0;
    int digits = 0, frac = -1;
    for (; p < e; ++p) {
      if (*p >= '0' && *p <= '9') {
        m = m * 10 + static_cast<uint64_t>(*p - '0');
        if (m != 0) ++digits;  // leading zeros are not significant
        if (frac >= 0) ++frac;
      } else if (*p == '.' && frac < 0) {
        frac = 0;
      } else {
        break;
      }
    }
    const bool any_digit = p - b > (negative ? 1 : 0) + (frac >= 0 ? 1 : 0);
    if (p == e && any_digit && digits <= 15 && frac <= 22) {
      const double x = static_cast<double>(m) / kPow10[frac < 0 ? 0 : frac];
      v = negative ? -x : x;
      return true;
    }
  }
  auto r = std::from_chars(b, e, v, std::chars_format::general);
  return r.ec == std::errc() && r.ptr == e && b < e;
}

// Visits each line as (begin, end, 1-based number); `end` excludes the newline.
template <typename Fn>
void ForEachLine(std::string_view text, Fn&& fn) {
  const char* p = text.data();
  const char* end = p + text.size();
  uint64_t line = 0;
  while (p < end) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
    const char* le = nl ? nl : end;
    fn(p, le, ++line);
    p = nl ? nl + 1 : end;
  }
}

// Groups rows by query id, remembering the last query so that runs sorted by qid look up once per query.
template <typename Query>
class QueryGrouper {
 public:
  explicit QueryGrouper(std::vector<Query>& out) : out_(out) {}
  Query& Get(std::string_view qid) {
    if (last_ != nullptr && qid == last_qid_) return *last_;  // re-pointed after every emplace_back
    auto it = index_.find(qid);
    size_t i;
    if (it == index_.end()) {
      i = out_.size();
      out_.emplace_back();
      out_.back().qid = std::string(qid);
      index_.emplace(qid, i);  // views into the input text, alive while parsing
    } else {
      i = it->second;
    }
    last_ = &out_[i];
    last_qid_ = qid;
    return *last_;
  }

 private:
  std::vector<Query>& out_;
  std::unordered_map<std::string_view, size_t> index_;
  Query* last_ = nullptr;
  std::string_view last_qid_;
};

template <typename Query>
void SortQueries(std::vector<Query>& queries) {
  std::sort(queries.begin(), queries.end(), [](const Query& a, const Query& b) { return a.qid < b.qid; });
}

template <typename Query>
const Query* FindQuery(const std::vector<Query>& queries, std::string_view qid) {
  auto it = std::lower_bound(queries.begin(), queries.end(), qid, [](const Query& q, std::string_view id) {
    return std::string_view(q.qid) < id;
  });
  return it != queries.end() && it->qid == qid ? &*it : nullptr;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------
// Qrels

const Judgment* QrelsQuery::Find(uint32_t doc) const {
  auto it = std::lower_bound(judgments.begin(), judgments.end(), doc,
                             [](const Judgment& j, uint32_t d) { return j.doc < d; });
  return it != judgments.end() && it->doc == doc ? &*it : nullptr;
}

const QrelsQuery* Qrels::Find(std::string_view qid) const {
  return FindQuery(queries, qid);
}

Qrels ParseQrels(std::string_view text, std::string_view name, std::shared_ptr<DocIdTable> docs) {
  Qrels q;
  q.docs = docs ? std::move(docs) : std::make_shared<DocIdTable>();
  DocIdTable& table = *q.docs;
  QueryGrouper<QrelsQuery> group(q.queries);
  Fields f;
  ForEachLine(text, [&](const char* b, const char* e, uint64_t line) {
    if (b < e && *b == '#') return;  // trec_eval: '#' in the first column starts a comment
    if (Blank(b, e)) return;
    SplitFields(b, e, f);
    if (f.count != 4) {
      LineError(name, line, "expected 4 columns (qid iter docid rel), found " + std::to_string(f.count));
    }
    int32_t rel;
    if (!ParseInt(f.f[3], rel)) {
      LineError(name, line, "relevance grade " + Quote(f.f[3]) + " (column 4) is not an integer");
    }
    QrelsQuery& query = group.Get(f.f[0]);
    query.judgments.push_back(
        Judgment{table.Intern(f.f[2]), rel, static_cast<uint32_t>(std::min<uint64_t>(line, UINT32_MAX))});
  });
  for (QrelsQuery& query : q.queries) {
    std::sort(query.judgments.begin(), query.judgments.end(), [](const Judgment& a, const Judgment& b) {
      return a.doc != b.doc ? a.doc < b.doc : a.line < b.line;
    });
    for (size_t i = 1; i < query.judgments.size(); ++i) {
      if (query.judgments[i].doc == query.judgments[i - 1].doc) {
        LineError(name, query.judgments[i].line,
                  "document " + Quote(table.Name(query.judgments[i].doc)) + " is judged twice for query " +
                      Quote(query.qid) + " (first at line " + std::to_string(query.judgments[i - 1].line) +
                      ")");
      }
    }
  }
  SortQueries(q.queries);
  return q;
}

Qrels LoadQrels(const std::string& path, std::shared_ptr<DocIdTable> docs) {
  MappedFile file(path);
  return ParseQrels(file.view(), path, std::move(docs));
}

RelFormat ParseRelFormat(std::string_view name) {
  for (RelFormat f : {RelFormat::kQrels, RelFormat::kQrelsJg, RelFormat::kQrelsPrefs, RelFormat::kPrefs}) {
    if (name == RelFormatName(f)) return f;
  }
  throw InvalidInput("unknown relevance file format '" + std::string(name) + "'",
                     "use qrels, qrels_jg, qrels_prefs or prefs", ErrorType::kUnknownFormat);
}

const char* RelFormatName(RelFormat format) {
  switch (format) {
    case RelFormat::kQrels:
      return "qrels";
    case RelFormat::kQrelsJg:
      return "qrels_jg";
    case RelFormat::kQrelsPrefs:
      return "qrels_prefs";
    case RelFormat::kPrefs:
      return "prefs";
  }
  return "?";
}

Qrels ParseQrels(std::string_view text, std::string_view name, RelFormat format,
                 std::shared_ptr<DocIdTable> docs) {
  if (format == RelFormat::kQrels) return ParseQrels(text, name, std::move(docs));
  Qrels q;
  q.format = format;
  q.docs = docs ? std::move(docs) : std::make_shared<DocIdTable>();
  DocIdTable& table = *q.docs;
  QueryGrouper<QrelsQuery> group(q.queries);
  const bool prefs = format != RelFormat::kQrelsJg;
  const bool five = format == RelFormat::kPrefs;  // with a subgroup column
  const int columns = five ? 5 : 4;
  Fields f;
  ForEachLine(text, [&](const char* b, const char* e, uint64_t line) {
    if (b < e && *b == '#') return;
    if (Blank(b, e)) return;
    SplitFields(b, e, f);
    if (f.count != columns) {
      LineError(name, line,
                std::string(five    ? "expected 5 columns (qid group subgroup docid level)"
                            : prefs ? "expected 4 columns (qid group docid level)"
                                    : "expected 4 columns (qid group docid rel)") +
                    ", found " + std::to_string(f.count));
    }
    const std::string_view docid = f.f[columns - 2], value = f.f[columns - 1];
    int32_t rel = 0;
    double level = 0;
    if (prefs ? !ParseDouble(value, level) || level != level : !ParseInt(value, rel)) {
      LineError(name, line,
                std::string(prefs ? "level " : "relevance grade ") + Quote(value) + " (column " +
                    std::to_string(columns) + ") is not " + (prefs ? "a number" : "an integer"));
    }
    QrelsQuery& query = group.Get(f.f[0]);
    auto it = std::find_if(query.groups.begin(), query.groups.end(),
                           [&](const JudgmentGroup& g) { return g.name == f.f[1]; });
    if (it == query.groups.end()) {
      query.groups.emplace_back();
      query.groups.back().name = std::string(f.f[1]);
      it = query.groups.end() - 1;
    }
    it->judgments.push_back(
        Judgment{table.Intern(docid), rel, static_cast<uint32_t>(std::min<uint64_t>(line, UINT32_MAX))});
    if (prefs) it->levels.push_back(level);
    if (five) {
      auto sub = std::find(it->subgroup_names.begin(), it->subgroup_names.end(), f.f[2]);
      if (sub == it->subgroup_names.end()) {
        it->subgroup_names.emplace_back(f.f[2]);
        sub = it->subgroup_names.end() - 1;
      }
      it->subgroups.push_back(static_cast<uint32_t>(sub - it->subgroup_names.begin()));
    }
  });
  for (QrelsQuery& query : q.queries) {
    std::sort(query.groups.begin(), query.groups.end(),
              [](const JudgmentGroup& a, const JudgmentGroup& b) { return a.name < b.name; });
    for (JudgmentGroup& g : query.groups) {
      // Subgroups renumbered in name order, then judgments sorted by (subgroup, doc).
      {
        std::vector<uint32_t> by_name(g.subgroup_names.size()), renumber(g.subgroup_names.size());
        for (uint32_t i = 0; i < by_name.size(); ++i) by_name[i] = i;
        std::sort(by_name.begin(), by_name.end(),
                  [&](uint32_t a, uint32_t b) { return g.subgroup_names[a] < g.subgroup_names[b]; });
        std::vector<std::string> names(by_name.size());
        for (uint32_t i = 0; i < by_name.size(); ++i) {
          renumber[by_name[i]] = i;
          names[i] = std::move(g.subgroup_names[by_name[i]]);
        }
        g.subgroup_names = std::move(names);
        for (uint32_t& sub : g.subgroups) sub = renumber[sub];
      }
      auto sub_of = [&](size_t i) { return five ? g.subgroups[i] : 0u; };
      std::vector<size_t> order(g.judgments.size());
      for (size_t i = 0; i < order.size(); ++i) order[i] = i;
      std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        const Judgment& x = g.judgments[a];
        const Judgment& y = g.judgments[b];
        if (sub_of(a) != sub_of(b)) return sub_of(a) < sub_of(b);
        return x.doc != y.doc ? x.doc < y.doc : x.line < y.line;
      });
      std::vector<Judgment> judgments(order.size());
      std::vector<double> levels(prefs ? order.size() : 0);
      std::vector<uint32_t> subgroups(five ? order.size() : 0);
      for (size_t i = 0; i < order.size(); ++i) {
        judgments[i] = g.judgments[order[i]];
        if (prefs) levels[i] = g.levels[order[i]];
        if (five) subgroups[i] = g.subgroups[order[i]];
      }
      for (size_t i = 1; i < judgments.size(); ++i) {
        if (judgments[i].doc == judgments[i - 1].doc && (!five || subgroups[i] == subgroups[i - 1])) {
          LineError(name, judgments[i].line,
                    "document " + Quote(table.Name(judgments[i].doc)) + " is judged twice for query " +
                        Quote(query.qid) + " in group " + Quote(g.name) +
                        (five ? " subgroup " + Quote(g.subgroup_names[subgroups[i]]) : std::string()) +
                        " (first at line " + std::to_string(judgments[i - 1].line) + ")");
        }
      }
      g.judgments = std::move(judgments);
      g.levels = std::move(levels);
      g.subgroups = std::move(subgroups);
    }
  }
  SortQueries(q.queries);
  return q;
}

Qrels LoadQrels(const std::string& path, RelFormat format, std::shared_ptr<DocIdTable> docs) {
  MappedFile file(path);
  return ParseQrels(file.view(), path, format, std::move(docs));
}

// ---------------------------------------------------------------------------------------------------------
// Runs

const RunQuery* Run::Find(std::string_view qid) const {
  return FindQuery(queries, qid);
}

void CheckNoDuplicates(std::span<const RunEntry> entries, std::string_view name, std::string_view qid) {
  if (entries.size() < 2) return;
  // A small open-addressing set of entry indexes keyed by the docid's tag; fits in cache for any ranking.
  size_t cap = 16;
  while (cap < entries.size() * 2) cap <<= 1;
  std::vector<std::pair<uint32_t, uint32_t>> slots(cap, {0, UINT32_MAX});  // (tag, entry index)
  for (size_t k = 0; k < entries.size(); ++k) {
    const RunEntry& e = entries[k];
    uint32_t tag = e.tag ? e.tag : DocIdTable::Tag(e.docid);
    size_t i = (static_cast<size_t>(tag) * 0x9E3779B1u) & (cap - 1);
    for (; slots[i].second != UINT32_MAX; i = (i + 1) & (cap - 1)) {
      if (slots[i].first != tag) continue;
      const RunEntry& first = entries[slots[i].second];
      if (first.docid != e.docid) continue;
      std::string what = "document " + Quote(e.docid) + " is retrieved twice for query " + Quote(qid);
      if (e.line != 0) LineError(name, e.line, what + " (first at line " + std::to_string(first.line) + ")");
      throw InvalidInput(std::string(name) + ": " + what);
    }
    slots[i] = {tag, static_cast<uint32_t>(k)};
  }
}

// The run parser is the hot path (a run has ~1000 lines per query). A line of up to 63 bytes (nearly all)
// is classified 16 bytes at a time with SSE2 into a bit mask of isspace() positions, and its fields are cut
// with count-trailing-zeros; longer lines and the last 64 bytes of the text take the scalar path.
namespace {

inline bool IsSpaceByte(unsigned char c) {
  return c == ' ' || (c >= '\t' && c <= '\r');
}

// Cuts the fields of [p, p + len) (no newline inside) into f[0..5]; returns the number of fields.
inline int CutFieldsScalar(const unsigned char* p, size_t len, std::string_view* f) {
  int n = 0;
  size_t i = 0;
  while (true) {
    while (i < len && IsSpaceByte(p[i])) ++i;
    if (i == len) return n;
    size_t s = i;
    while (i < len && !IsSpaceByte(p[i])) ++i;
    if (n < 6) f[n] = std::string_view(reinterpret_cast<const char*>(p + s), i - s);
    ++n;
  }
}

#if defined(__SSE2__)
// Bits of p[0..63]: `space` where isspace(), `newline` where '\n'.
inline void Masks64(const unsigned char* p, uint64_t& space, uint64_t& newline) {
  const __m128i blank = _mm_set1_epi8(' ');
  const __m128i tab = _mm_set1_epi8('\t');
  const __m128i four = _mm_set1_epi8(4);
  const __m128i nl = _mm_set1_epi8('\n');
  space = newline = 0;
  for (int k = 0; k < 4; ++k) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * k));
    __m128i d = _mm_sub_epi8(v, tab);  // '\t'..'\r' -> 0..4
    __m128i ctl = _mm_cmpeq_epi8(_mm_min_epu8(d, four), d);
    __m128i sp = _mm_or_si128(_mm_cmpeq_epi8(v, blank), ctl);
    space |= static_cast<uint64_t>(static_cast<uint16_t>(_mm_movemask_epi8(sp))) << (16 * k);
    newline |= static_cast<uint64_t>(static_cast<uint16_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, nl))))
               << (16 * k);
  }
}
#endif

}  // namespace

namespace {

// Parses the lines of `text`, the first being line `first_line` of the file. Leaves duplicates, sorting and
// merging to ParseRun.
Run ParseRunChunk(std::string_view text, std::string_view name, uint64_t first_line) {
  Run run;
  QueryGrouper<RunQuery> group(run.queries);
  std::string_view runid;
  const unsigned char* p = reinterpret_cast<const unsigned char*>(text.data());
  const unsigned char* const end = p + text.size();
  std::string_view f[6];
  uint64_t line = first_line - 1;
  while (p < end) {
    ++line;
    int n = -1;
    size_t len = 0;
#if defined(__SSE2__)
    if (end - p >= 64) {
      uint64_t space, newline;
      Masks64(p, space, newline);
      if (newline != 0) {
        len = static_cast<size_t>(__builtin_ctzll(newline));  // < 64
        uint64_t sp = space | (~uint64_t{0} << len);          // bits from the newline on count as space
        n = 0;
        int pos = 0;
        while (pos < 64) {
          uint64_t word = ~sp & (~uint64_t{0} << pos);
          if (word == 0) break;
          int s = __builtin_ctzll(word);
          int e = __builtin_ctzll(sp & (~uint64_t{0} << s));  // exists: bit `len` is set
          if (n < 6)
            f[n] = std::string_view(reinterpret_cast<const char*>(p + s), static_cast<size_t>(e - s));
          ++n;
          pos = e;
        }
      }
    }
#endif
    if (n < 0) {
      const void* nl = std::memchr(p, '\n', static_cast<size_t>(end - p));
      len =
          nl ? static_cast<size_t>(static_cast<const unsigned char*>(nl) - p) : static_cast<size_t>(end - p);
      n = CutFieldsScalar(p, len, f);
    }
    p += len + 1;  // past the newline (or the end)
    if (n == 0 || f[0][0] == '#')
      continue;  // blank line or comment (also after leading blanks, as trec_eval)
    if (n < 6) {
      LineError(name, line, "expected 6 columns (qid Q0 docid rank score runid), found " + std::to_string(n));
    }
    double score;
    if (!ParseDouble(f[4], score) || score != score) {
      LineError(name, line, "score " + Quote(f[4]) + " (column 5) is not a number");
    }
    RunQuery& query = group.Get(f[0]);
    query.entries.push_back(RunEntry{f[2], score, static_cast<uint32_t>(std::min<uint64_t>(line, UINT32_MAX)),
                                     DocIdTable::Tag(f[2])});
    runid = f[5];
  }
  run.runid = std::string(runid);
  return run;
}

size_t CountNewlines(std::string_view text) {
  size_t n = 0;
  const char* p = text.data();
  const char* end = p + text.size();
  while (p < end) {
    const void* nl = std::memchr(p, '\n', static_cast<size_t>(end - p));
    if (nl == nullptr) break;
    ++n;
    p = static_cast<const char*>(nl) + 1;
  }
  return n;
}

}  // namespace

// Large runs are cut at line boundaries into pieces parsed in parallel (line numbers from a parallel count
// of newlines first); the pieces' queries are then merged in file order, so the result and the first error
// reported are the same as a sequential parse.
Run ParseRun(std::string_view text, std::string_view name) {
  constexpr size_t kPiece = size_t{4} << 20;
  size_t pieces = std::min<size_t>(64, text.size() / kPiece + 1);
  if (pieces == 1) {
    Run run = ParseRunChunk(text, name, 1);
    for (const RunQuery& query : run.queries) CheckNoDuplicates(query.entries, name, query.qid);
    SortQueries(run.queries);
    return run;
  }
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (size_t k = 1; k <= pieces && start < text.size(); ++k) {
    size_t cut = k == pieces ? text.size() : std::max(start, text.size() * k / pieces);
    if (cut < text.size()) {
      size_t nl = text.find('\n', cut);
      cut = nl == std::string_view::npos ? text.size() : nl + 1;
    }
    if (cut > start) parts.push_back(text.substr(start, cut - start));
    start = cut;
  }
  std::vector<size_t> newlines(parts.size());
  tbb::parallel_for(size_t{0}, parts.size(), [&](size_t k) { newlines[k] = CountNewlines(parts[k]); });
  std::vector<Run> runs(parts.size());
  std::vector<std::exception_ptr> errors(parts.size());
  tbb::parallel_for(size_t{0}, parts.size(), [&](size_t k) {
    uint64_t first_line = 1;
    for (size_t i = 0; i < k; ++i) first_line += newlines[i];
    try {
      runs[k] = ParseRunChunk(parts[k], name, first_line);
    } catch (...) {
      errors[k] = std::current_exception();
    }
  });
  for (const std::exception_ptr& e : errors) {
    if (e) std::rethrow_exception(e);
  }
  Run run;
  std::unordered_map<std::string, size_t> index;
  for (Run& piece : runs) {
    if (!piece.runid.empty()) run.runid = std::move(piece.runid);
    for (RunQuery& q : piece.queries) {
      auto [it, added] = index.emplace(q.qid, run.queries.size());
      if (added) {
        run.queries.push_back(std::move(q));
      } else {
        std::vector<RunEntry>& into = run.queries[it->second].entries;
        into.insert(into.end(), q.entries.begin(), q.entries.end());
      }
    }
  }
  // The first duplicate in query order, as the sequential path reports it.
  std::vector<std::exception_ptr> dup(run.queries.size());
  tbb::parallel_for(size_t{0}, run.queries.size(), [&](size_t k) {
    try {
      CheckNoDuplicates(run.queries[k].entries, name, run.queries[k].qid);
    } catch (...) {
      dup[k] = std::current_exception();
    }
  });
  for (const std::exception_ptr& e : dup) {
    if (e) std::rethrow_exception(e);
  }
  SortQueries(run.queries);
  return run;
}

Run LoadRun(const std::string& path) {
  if (path == "-") {
    auto text = std::make_shared<const std::string>(ReadFd(0, "stdin"));
    Run run = ParseRun(*text, "stdin");
    run.storage = std::move(text);
    return run;
  }
  auto file = std::make_shared<MappedFile>(path);
  Run run = ParseRun(file->view(), path);
  run.storage = std::move(file);
  return run;
}

void RankEntries(std::vector<RunEntry>& entries) {
  auto before = [](const RunEntry& a, const RunEntry& b) {
    if (a.score != b.score) return a.score > b.score;
    return a.docid > b.docid;  // trec_eval: strcmp(b, a), i.e. docid descending
  };
  // Runs are usually written in rank order already; checking is O(n).
  if (!std::is_sorted(entries.begin(), entries.end(), before))
    std::sort(entries.begin(), entries.end(), before);
}

}  // namespace rlm::trec
