// Evaluation datasets in memory: a corpus, the queries to evaluate and their graded judgments (qrels),
// loaded from a BEIR folder, TREC files, EmbedEval JSONL, or synthesised from a folder of text files.
//
// Every loader validates as it reads and throws InvalidInput naming `file:line` (and `:column` for TSV
// fields) for a malformed line: bad JSON, a line that is not an object, a missing or mistyped id or text,
// invalid UTF-8, a TSV line with the wrong number of columns, a non-integer grade, an empty query, a
// duplicate document or query id (naming both lines). A file a dataset folder lacks is NotFound naming the
// expected path. Problems that do not stop an evaluation (qrels naming unknown documents or queries,
// duplicate qrels lines, queries without judgments) are counted in DatasetReport and described in its
// `warnings`, never silently dropped.
//
// Files are memory-mapped and parsed line by line with nlohmann-json's SAX interface (no DOM is built,
// nested `metadata` is skipped), so SciFact's 8 MB corpus loads in a few tens of milliseconds.
// A loaded EvalDataset is immutable by convention and safe to read from many threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/hash.h"

namespace rlm {

// Index of a judged document that the corpus lacks.
inline constexpr uint32_t kUnknownDoc = UINT32_MAX;

struct EvalDocument {
  std::string id;
  std::string title;  // may be empty; retrieval embeds `title + " " + text` (BEIR convention)
  std::string text;
};

// One judgment of one document for one query. Judgments naming a document the corpus lacks are kept with
// `doc == kUnknownDoc`: trec_eval counts them among a query's relevant documents, so recall and nDCG
// denominators stay those of trec_eval on the same qrels file. They are counted in DatasetReport.
struct EvalJudgment {
  std::string doc_id;
  uint32_t doc = kUnknownDoc;  // index into EvalDataset::corpus
  int32_t grade = 0;           // trec_eval's integer relevance; > 0 is relevant at the default level
};

struct EvalQuery {
  std::string id;
  std::string text;                     // never empty
  std::vector<EvalJudgment> judgments;  // in qrels order, at most one per document
  std::vector<std::string> tags;        // EmbedEval "tags"; empty otherwise
};

struct DatasetReport {
  size_t documents = 0;
  size_t queries = 0;                    // queries kept in EvalDataset::queries
  size_t queries_in_file = 0;            // queries read from the queries/topics file
  size_t queries_outside_split = 0;      // BEIR: in queries.jsonl but not in the split's qrels: not evaluated
  size_t queries_without_judgments = 0;  // kept, but no qrels: metrics skip them, as trec_eval does
  size_t queries_without_relevant = 0;   // judged, but no grade > 0
  size_t qrels_lines = 0;                // judgment lines read (BEIR header excluded)
  size_t judgments = 0;                  // judgments kept across all queries
  size_t qrels_unknown_queries = 0;      // lines naming a query the queries file lacks: dropped
  size_t qrels_unknown_docs = 0;         // lines naming a document the corpus lacks: kept, doc == kUnknownDoc
  size_t qrels_duplicates = 0;           // repeated (query, document) lines: the first is kept ...
  size_t qrels_conflicts = 0;            // ... of which this many gave a different grade
  int64_t grade_scale = 1;               // EmbedEval: relevanceScores were multiplied by this (see below)
  size_t files_skipped = 0;              // synthesised: files that are empty, binary or not UTF-8
  // One line per kind of problem counted above, with its first occurrence (file:line) and the count.
  std::vector<std::string> warnings;
};

struct TransparentStringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
};

struct EvalDataset {
  std::string format;  // "beir", "trec", "embedeval" or "synth"
  std::string split;   // BEIR split; empty for other formats
  std::vector<EvalDocument> corpus;
  std::unordered_map<std::string, uint32_t, TransparentStringHash, std::equal_to<>> doc_index;  // id -> index
  std::vector<EvalQuery> queries;
  DatasetReport report;
  Hash128 fingerprint;  // == DatasetFingerprint of the same inputs

  // The corpus index of document `id`, or kUnknownDoc.
  uint32_t FindDoc(std::string_view id) const;
};

enum class DatasetFormat { kBeir, kTrec, kEmbedEval, kSynth };
const char* DatasetFormatName(DatasetFormat format);  // "beir", "trec", "embedeval", "synth"
// Throws InvalidInput listing the formats.
DatasetFormat ParseDatasetFormat(std::string_view name);

// Where a dataset comes from. File names are relative to `path` unless absolute.
//   beir:      path = folder; corpus.jsonl, queries.jsonl, qrels/<split>.tsv unless overridden
//   trec:      corpus, queries and qrels are required (path is only their base folder)
//   embedeval: corpus.jsonl and queries.jsonl in path unless overridden
//   synth:     path = folder of text files; synth_queries known-item queries from synth_seed
struct DatasetSpec {
  DatasetFormat format = DatasetFormat::kBeir;
  std::string path;
  std::string split = "test";  // BEIR only
  std::string corpus;          // empty: the format's default
  std::string queries;
  std::string qrels;
  size_t synth_queries = 100;
  uint64_t synth_seed = 42;
};

// A dataset input in memory. `name` is how messages refer to it (a path); for TREC it also selects JSONL
// vs TSV.
struct DatasetSource {
  std::string name;
  std::string_view data;
};

// An input file of a dataset: its role ("corpus", "queries", "qrels"), its name as configured or by the
// format's default (relative to DatasetSpec::path unless absolute), and how messages name it.
struct DatasetFile {
  std::string role;
  std::string name;
  std::string what;  // e.g. "BEIR corpus", for "missing BEIR corpus: expected <path>"
};

// The dataset formats as one table: each row says which `dataset.*` settings apply, which files the format
// reads (and their default names), and how they are parsed and fingerprinted. LoadDataset,
// DatasetFingerprint, the experiment parser (eval/experiment.h) and its canonical JSON all read this table.
struct DatasetFormatInfo {
  DatasetFormat format;
  const char* name;
  const char* label;  // for messages: "BEIR dataset folder not found: ..."
  bool needs_path;    // dataset.path is required (the folder)
  bool takes_split;   // dataset.split applies
  bool takes_qrels;   // dataset.qrels applies
  bool takes_files;   // dataset.corpus / dataset.queries apply
  bool takes_synth;   // dataset.synth applies
  // The files `spec` names, default names filled in; checks that required names are given (InvalidInput).
  // No I/O.
  std::vector<DatasetFile> (*files)(const DatasetSpec& spec);
  // Parses the mapped files, in the order `files` returned them.
  EvalDataset (*parse)(const DatasetSpec& spec, std::span<const DatasetSource> inputs);
  Hash128 (*fingerprint)(const DatasetSpec& spec, std::span<const DatasetSource> inputs);
};
std::span<const DatasetFormatInfo> DatasetFormats();
const DatasetFormatInfo& DatasetFormatOf(DatasetFormat format);

// Loads any format. Throws NotFound for a missing folder or file (naming the expected path), InvalidInput
// for malformed content, IoError when a file cannot be read.
EvalDataset LoadDataset(const DatasetSpec& spec);

// XXH3-128 over the format, each input file's role, size and bytes, the split (BEIR) and the synthesis
// parameters: what a run id needs to change when the data changes. Equals LoadDataset(spec).fingerprint
// without parsing. Throws like LoadDataset for missing files.
Hash128 DatasetFingerprint(const DatasetSpec& spec);

// BEIR folder: corpus.jsonl (`_id`, `title`, `text`; `metadata` and other fields ignored), queries.jsonl
// (`_id`, `text`), qrels/<split>.tsv (`query-id<TAB>corpus-id<TAB>score`; the first line is a header when
// its score column is not a number). Ids may be JSON strings or integers. As BEIR does, only the queries that
// appear in the split's qrels are evaluated; the others are counted in queries_outside_split.
EvalDataset LoadBeir(const std::string& folder, const std::string& split = "test");

// TREC: `qrels` in trec_eval's format (`qid iter docno rel`, whitespace-separated); `queries` (topics) and
// `corpus` as JSONL (`_id` or `id`; `text`, `query` or `content`; optional `title`) when the name ends in
// .jsonl or .json, else TSV: topics `qid<TAB>text`, corpus `id<TAB>text` or `id<TAB>title<TAB>text`.
// Every topic is kept; topics without judgments are counted (metrics skip them).
EvalDataset LoadTrec(const std::string& corpus, const std::string& queries, const std::string& qrels);

// EmbedEval JSONL: corpus `{"id","content","metadata"?}`, queries `{"id","query","relevantDocs":[...],
// "relevanceScores":[...]?,"tags"?,"metadata"?}`. relevanceScores (parallel to relevantDocs; absent means
// 1.0 each) become integer grades by one scale for the whole dataset: 10^d for the smallest d in 0..3 that
// makes every score an integer (1.0/0.8/0.5 -> 10/8/5; 3/2/1 stay 3/2/1), else 1000 with rounding, a positive
// score never rounding below 1. trec_eval's nDCG uses the grade as a linear gain, so a common scale leaves
// nDCG unchanged, and every positive score stays relevant (grade >= 1) for P, recall, MAP and MRR. The scale
// is in report.grade_scale.
EvalDataset LoadEmbedEval(const std::string& corpus, const std::string& queries);

// Known-item queries over a folder of text files (read recursively, hidden entries skipped, in bytewise
// order of relative path). Each file is one document (id = relative path, empty title): chunking is then
// the evaluated variant's business, as for any corpus of long documents. Files that are empty, contain NUL
// bytes or are not UTF-8 are skipped and counted. Query i draws a document uniformly among those of at
// least 5 words, a window length uniformly in 5..12 (at most the document's word count) and a start
// uniformly; the query is that window of whitespace-separated words joined by single spaces, its source
// document the one relevant document (grade 1). The generator is SplitMix64 with a fixed reduction, so
// the same folder, n and seed give the same queries on every platform. Throws InvalidInput when n is 0
// or no document has 5 words.
EvalDataset Synthesize(const std::string& folder, size_t n, uint64_t seed);

// In-memory entry points (the file loaders map their files and call these; fuzz targets call them
// directly).
EvalDataset ParseBeir(const DatasetSource& corpus, const DatasetSource& queries, const DatasetSource& qrels,
                      std::string_view split);
EvalDataset ParseTrec(const DatasetSource& corpus, const DatasetSource& queries, const DatasetSource& qrels);
EvalDataset ParseEmbedEval(const DatasetSource& corpus, const DatasetSource& queries);

}  // namespace rlm
