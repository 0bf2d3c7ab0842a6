// fts5_export: copies every chunk of an rlm workspace into an SQLite FTS5 table, the peer of bench/search.sh.
//
// The table is the one rlm-rs searches with: `fts5(content, tokenize='porter unicode61')`, rowid = rlm's
// chunk id, so both sides index exactly the same chunk texts. Buffer text is read once per buffer (block by
// block) and sliced by the chunks' byte ranges; the whole insert is one transaction.
//
// Usage: fts5_export WORKSPACE_DB OUT_DB   (OUT_DB must not exist)
// Prints "<chunks> chunks, <bytes> bytes" on success.
#include <sqlite3.h>
#include <sys/stat.h>

#include <cstdio>
#include <exception>
#include <stdexcept>
#include <string>

#include "store/workspace.h"

namespace {

void Check(int rc, sqlite3* db, const char* what) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
    throw std::runtime_error(std::string(what) + ": " + sqlite3_errmsg(db));
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: fts5_export WORKSPACE_DB OUT_DB\n");
    return 2;
  }
  struct stat st {};
  if (stat(argv[2], &st) == 0) {
    std::fprintf(stderr, "fts5_export: %s exists; remove it first\n", argv[2]);
    return 2;
  }
  sqlite3* out = nullptr;
  try {
    auto ws = rlm::Workspace::Open(argv[1], rlm::Workspace::Mode::kMustExist);
    Check(sqlite3_open(argv[2], &out), out, "open output");
    Check(sqlite3_exec(out,
                       "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
                       "CREATE VIRTUAL TABLE chunks_fts USING fts5(content, tokenize='porter unicode61');"
                       "BEGIN;",
                       nullptr, nullptr, nullptr),
          out, "create table");
    sqlite3_stmt* insert = nullptr;
    Check(sqlite3_prepare_v2(out, "INSERT INTO chunks_fts(rowid, content) VALUES (?, ?)", -1, &insert, nullptr),
          out, "prepare insert");

    size_t chunk_count = 0;
    unsigned long long bytes = 0;
    rlm::Workspace::ReadTransaction snapshot(*ws);
    for (const rlm::BufferInfo& buffer : ws->ListBuffers()) {
      std::string text;
      text.reserve(buffer.size);
      ws->ForEachTextBlock(buffer.id, [&](std::string_view block) { text.append(block); });
      for (const rlm::ChunkRecord& chunk : ws->ListChunks(buffer.id)) {
        if (chunk.end > text.size() || chunk.start > chunk.end) {
          throw std::runtime_error("chunk " + std::to_string(chunk.id) + " lies outside its buffer's text");
        }
        sqlite3_bind_int64(insert, 1, chunk.id);
        sqlite3_bind_text(insert, 2, text.data() + chunk.start, static_cast<int>(chunk.end - chunk.start),
                          SQLITE_STATIC);
        Check(sqlite3_step(insert), out, "insert");
        sqlite3_reset(insert);
        ++chunk_count;
        bytes += chunk.end - chunk.start;
      }
    }
    sqlite3_finalize(insert);
    Check(sqlite3_exec(out, "COMMIT; INSERT INTO chunks_fts(chunks_fts) VALUES('optimize');", nullptr, nullptr,
                       nullptr),
          out, "commit");
    sqlite3_close(out);
    std::printf("%zu chunks, %llu bytes\n", chunk_count, bytes);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fts5_export: %s\n", e.what());
    if (out != nullptr) sqlite3_close(out);
    std::remove(argv[2]);
    return 1;
  }
  return 0;
}
