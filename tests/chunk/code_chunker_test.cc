#include "chunk/code_chunker.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "chunk/code_definitions.h"
#include "chunk/code_language.h"
#include "chunk/semantic_chunker.h"
#include "chunk_test_util.h"

namespace rlm {
namespace {

using chunk_test::CheckChunkProperties;

// Runs `split` on another thread; returns its chunks, or nullopt when it has not finished within `limit`
// (an infinite loop must fail the test, not hang the suite).
std::optional<std::vector<ChunkSpan>> SplitWithin(std::chrono::seconds limit,
                                                  std::function<std::vector<ChunkSpan>()> split) {
  auto promise = std::make_shared<std::promise<std::vector<ChunkSpan>>>();
  auto future = promise->get_future();
  std::thread([promise, split = std::move(split)] {
    try {
      promise->set_value(split());
    } catch (...) {
      promise->set_exception(std::current_exception());
    }
  }).detach();
  if (future.wait_for(limit) != std::future_status::ready) return std::nullopt;
  return future.get();
}

struct Sample {
  CodeLanguage language;
  const char* path;
  std::string source;
  // Lines (their first characters) where definitions start, with the rank expected for each.
  std::vector<std::pair<std::string, int>> cuts;
};

std::vector<Sample> Samples() {
  return {
      {CodeLanguage::kRust,
       "lib.rs",
       "use std::fmt;\n\n/// A point.\n#[derive(Debug)]\npub struct Point {\n    x: i32,\n}\n\nimpl Point {\n"
       "    pub fn new(x: i32) -> Self {\n        Point { x }\n    }\n\n    fn helper(&self) -> i32 {\n"
       "        self.x\n    }\n}\n\npub(crate) async fn run() {\n    let mut p = Point::new(1);\n}\n",
       {{"/// A point.", 0},
        {"impl Point", 0},
        {"    pub fn new", 4},
        {"    fn helper", 4},
        {"pub(crate) async fn run", 0}}},
      {CodeLanguage::kPython,
       "mod.py",
       "import os\n\n\n@decorator\ndef alpha(x):\n    return x\n\n\nclass Beta(Base):\n    "
       "\"\"\"Doc.\"\"\"\n\n"
       "    def method(self):\n        pass\n\n    async def other(self):\n        pass\n\n\n"
       "async def gamma():\n    pass\n",
       {{"@decorator", 0},
        {"class Beta", 0},
        {"    def method", 4},
        {"    async def other", 4},
        {"async def gamma", 0}}},
      {CodeLanguage::kJavaScript,
       "app.js",
       "import x from 'y';\n\nexport function alpha(a) {\n  return a;\n}\n\nclass Beta extends Base {\n"
       "  constructor() {\n    super();\n  }\n\n  get value() {\n    return 1;\n  }\n}\n\n"
       "const gamma = async (a) => {\n  return a;\n};\n",
       {{"export function alpha", 0},
        {"class Beta", 0},
        {"  constructor()", 2},
        {"  get value()", 2},
        {"const gamma", 0}}},
      {CodeLanguage::kTypeScript,
       "shape.ts",
       "export interface Shape {\n  area(): number;\n}\n\nexport type Id = string;\n\n"
       "export class Circle implements Shape {\n  private readonly r: number;\n\n  area(): number {\n"
       "    return 3 * this.r;\n  }\n}\n\nexport enum Color { Red, Green }\n",
       {{"export type Id", 0},
        {"export class Circle", 0},
        {"  area(): number {", 2},
        {"export enum Color", 0}}},
      {CodeLanguage::kGo,
       "main.go",
       "package main\n\nimport \"fmt\"\n\n// Point is a point.\ntype Point struct {\n\tX int\n}\n\n"
       "func (p Point) String() string {\n\treturn fmt.Sprint(p.X)\n}\n\nfunc main() {\n"
       "\tfmt.Println(Point{1})\n}\n",
       {{"// Point is a point.", 0}, {"func (p Point)", 0}, {"func main", 0}}},
      {CodeLanguage::kJava,
       "Shape.java",
       "package demo;\n\nimport java.util.List;\n\n/** A shape. */\npublic class Shape {\n"
       "    private int sides;\n\n    public Shape(int sides) {\n        this.sides = sides;\n    }\n\n"
       "    @Override\n    public String toString() {\n        return \"shape\";\n    }\n\n"
       "    static <T> List<T> wrap(T item) {\n        return List.of(item);\n    }\n}\n\n"
       "interface Drawable {\n    void draw();\n}\n",
       {{"/** A shape. */", 0},
        {"    public Shape(int sides)", 4},
        {"    @Override", 4},
        {"    static <T> List<T> wrap", 4},
        {"interface Drawable", 0}}},
      {CodeLanguage::kC,
       "add.c",
       "#include <stdio.h>\n\n/* Adds. */\nstatic int add(int a, int b) {\n    return a + b;\n}\n\n"
       "struct point {\n    int x;\n};\n\nint main(int argc, char **argv) {\n"
       "    printf(\"%d\\n\", add(1, 2));\n    return 0;\n}\n",
       {{"/* Adds. */", 0}, {"struct point", 0}, {"int main", 0}}},
      {CodeLanguage::kCpp,
       "stack.h++",
       "#include <vector>\n\nnamespace demo {\n\ntemplate <typename T>\nclass Stack {\n public:\n"
       "  void Push(const T& v) {\n    items_.push_back(v);\n  }\n\n"
       "  bool operator==(const Stack& other) const {\n    return items_ == other.items_;\n  }\n\n"
       " private:\n  std::vector<T> items_;\n};\n\nstd::vector<int> Range(int n) {\n  return {};\n}\n\n"
       "}  // namespace demo\n",
       {{"namespace demo", 0},
        {"template <typename T>", 0},
        {"  void Push", 2},
        {"  bool operator==", 2},
        {"std::vector<int> Range", 0}}},
      {CodeLanguage::kRuby,
       "greeter.rb",
       "require 'json'\n\n# A greeter.\nclass Greeter\n  def initialize(name)\n    @name = name\n  end\n\n"
       "  def greet\n    \"Hello #{@name}\"\n  end\nend\n\nmodule Util\n  def self.helper\n  end\nend\n",
       {{"# A greeter.", 0},
        {"  def initialize", 2},
        {"  def greet", 2},
        {"module Util", 0},
        {"  def self.helper", 2}}},
      {CodeLanguage::kPhp,
       "user.php",
       "<?php\n\nnamespace App;\n\n/** Greets. */\nfunction greet($name) {\n    return \"Hello "
       "$name\";\n}\n\n"
       "final class User {\n    public function __construct(private string $name) {}\n\n"
       "    public static function make(): self {\n        return new self('x');\n    }\n}\n",
       {{"/** Greets. */", 0},
        {"final class User", 0},
        {"    public function __construct", 4},
        {"    public static function make", 4}}},
  };
}

std::vector<StructureCut> ExpectedCuts(const Sample& sample) {
  std::vector<StructureCut> cuts;
  for (const auto& [line, rank] : sample.cuts) {
    const size_t pos = sample.source.find("\n" + line);
    EXPECT_NE(pos, std::string::npos) << line;
    cuts.push_back({pos + 1, rank});
  }
  return cuts;
}

TEST(CodeChunkerLanguageTest, ByName) {
  EXPECT_EQ(CodeLanguageFromName("Rust"), CodeLanguage::kRust);
  EXPECT_EQ(CodeLanguageFromName("py"), CodeLanguage::kPython);
  EXPECT_EQ(CodeLanguageFromName("c++"), CodeLanguage::kCpp);
  EXPECT_EQ(CodeLanguageFromName("golang"), CodeLanguage::kGo);
  EXPECT_EQ(CodeLanguageFromName("TS"), CodeLanguage::kTypeScript);
  EXPECT_EQ(CodeLanguageFromName("cobol"), CodeLanguage::kUnknown);
  for (CodeLanguage language :
       {CodeLanguage::kRust, CodeLanguage::kPython, CodeLanguage::kJavaScript, CodeLanguage::kTypeScript,
        CodeLanguage::kGo, CodeLanguage::kJava, CodeLanguage::kC, CodeLanguage::kCpp, CodeLanguage::kRuby,
        CodeLanguage::kPhp}) {
    EXPECT_EQ(CodeLanguageFromName(CodeLanguageName(language)), language);
  }
}

TEST(CodeChunkerLanguageTest, ByExtension) {
  const std::pair<const char*, CodeLanguage> cases[] = {
      {"src/main.rs", CodeLanguage::kRust},
      {"a/b/tool.py", CodeLanguage::kPython},
      {"stubs.pyi", CodeLanguage::kPython},
      {"index.js", CodeLanguage::kJavaScript},
      {"x.mjs", CodeLanguage::kJavaScript},
      {"App.jsx", CodeLanguage::kJavaScript},
      {"x.ts", CodeLanguage::kTypeScript},
      {"View.tsx", CodeLanguage::kTypeScript},
      {"main.go", CodeLanguage::kGo},
      {"Main.java", CodeLanguage::kJava},
      {"x.c", CodeLanguage::kC},
      {"x.h", CodeLanguage::kC},
      {"x.cc", CodeLanguage::kCpp},
      {"X.CPP", CodeLanguage::kCpp},
      {"x.hpp", CodeLanguage::kCpp},
      {"x.cxx", CodeLanguage::kCpp},
      {"app.rb", CodeLanguage::kRuby},
      {"Rakefile", CodeLanguage::kRuby},
      {"x.gemspec", CodeLanguage::kRuby},
      {"index.php", CodeLanguage::kPhp},
      {"README.md", CodeLanguage::kUnknown},
      {"notes", CodeLanguage::kUnknown},
      {".bashrc", CodeLanguage::kUnknown},
      {"dir.rs/file", CodeLanguage::kUnknown},
  };
  for (const auto& [path, language] : cases) EXPECT_EQ(CodeLanguageFromPath(path), language) << path;
}

TEST(CodeChunkerLanguageTest, ByContent) {
  for (const Sample& sample : Samples()) {
    EXPECT_EQ(SniffCodeLanguage(sample.source), sample.language) << sample.path;
  }
  EXPECT_EQ(SniffCodeLanguage("#!/usr/bin/env python3\nprint(1)\n"), CodeLanguage::kPython);
  EXPECT_EQ(SniffCodeLanguage("#!/usr/bin/env node\nconsole.log(1)\n"), CodeLanguage::kJavaScript);
  EXPECT_EQ(SniffCodeLanguage("#!/usr/bin/ruby -w\nputs 1\n"), CodeLanguage::kRuby);
  EXPECT_EQ(SniffCodeLanguage("#!/bin/sh\necho hi\n"), CodeLanguage::kUnknown);
  EXPECT_EQ(SniffCodeLanguage("<?php\necho 1;\n"), CodeLanguage::kPhp);
  EXPECT_EQ(SniffCodeLanguage(""), CodeLanguage::kUnknown);
  std::string prose;
  for (int i = 0; i < 50; ++i) {
    prose += "The function of a library is to define what it offers; import what you need and use it.\n";
    prose += "In a class of its own, this text has no code at all, only words.\n\n";
  }
  EXPECT_EQ(SniffCodeLanguage(prose), CodeLanguage::kUnknown);
}

TEST(CodeChunkerLanguageTest, ExplicitNameThenPathThenContent) {
  const std::string rust = Samples()[0].source;
  EXPECT_EQ(DetectCodeLanguage("", "", rust), CodeLanguage::kRust);
  EXPECT_EQ(DetectCodeLanguage("", "x.py", rust), CodeLanguage::kPython);
  EXPECT_EQ(DetectCodeLanguage("go", "x.py", rust), CodeLanguage::kGo);
  EXPECT_EQ(DetectCodeLanguage("", "notes.txt", rust), CodeLanguage::kRust);
  EXPECT_EQ(DetectCodeLanguage("klingon", "x.rs", rust), CodeLanguage::kUnknown);
}

TEST(CodeChunkerTest, FindsDefinitionsInEveryLanguage) {
  for (const Sample& sample : Samples()) {
    EXPECT_EQ(FindDefinitionCuts(sample.source, sample.language), ExpectedCuts(sample)) << sample.path;
  }
}

TEST(CodeChunkerTest, ChunksStartAtDefinitions) {
  for (const Sample& sample : Samples()) {
    SCOPED_TRACE(sample.path);
    std::vector<size_t> allowed = {0};
    for (const StructureCut& cut : ExpectedCuts(sample)) allowed.push_back(cut.pos);
    // With room for the longest definition, every chunk starts at one.
    size_t longest = 0;
    for (size_t i = 0; i < allowed.size(); ++i) {
      longest =
          std::max(longest, (i + 1 < allowed.size() ? allowed[i + 1] : sample.source.size()) - allowed[i]);
    }
    ChunkOptions options;
    options.size = longest;
    options.overlap = 20;
    options.path = sample.path;
    const auto chunks = CodeChunker().Split(sample.source, options);
    EXPECT_EQ(CheckChunkProperties(sample.source, chunks, options), "");
    EXPECT_GT(chunks.size(), 1u);
    for (const ChunkSpan& c : chunks) {
      EXPECT_NE(std::find(allowed.begin(), allowed.end(), c.start), allowed.end())
          << "chunk starts inside a definition: " << sample.source.substr(c.start, 30);
    }
  }
}

TEST(CodeChunkerTest, PacksWholeDefinitionsWhileTheyFit) {
  std::string text;
  const size_t each = std::string("fn f100() {\n    body();\n}\n\n").size();
  for (int i = 0; i < 30; ++i) text += "fn f" + std::to_string(100 + i) + "() {\n    body();\n}\n\n";
  ChunkOptions options;
  options.size = 3 * each + 2;
  options.overlap = 0;
  options.language = "rust";
  const auto chunks = CodeChunker().Split(text, options);
  ASSERT_EQ(chunks.size(), 10u);
  for (size_t i = 0; i < chunks.size(); ++i)
    EXPECT_EQ(chunks[i], (ChunkSpan{3 * each * i, 3 * each * (i + 1)}));
}

TEST(CodeChunkerTest, UnknownLanguageFallsBackToSemantic) {
  std::string text;
  for (int i = 0; i < 40; ++i) text += "Plain prose, sentence number " + std::to_string(i) + ". ";
  ChunkOptions options;
  options.size = 200;
  options.overlap = 50;
  options.path = "notes.txt";
  EXPECT_EQ(CodeChunker().Split(text, options), SemanticChunker().Split(text, options));
}

// rlm-rs looped forever with definitions only at 0 and ~2910 bytes for size 3000 / overlap 500.
TEST(CodeChunkerTest, SparseDefinitionsDoNotLoopForever) {
  // Shared with the worker thread, which outlives this test if the chunker hangs.
  auto text = std::make_shared<std::string>("fn main() {\n");
  while (text->size() < 2905) *text += "    let value = compute(1, 2, 3);\n";
  *text += "}\n";
  const size_t second = text->size();
  ASSERT_NEAR(static_cast<double>(second), 2910.0, 40.0);
  *text += "fn second() {\n";
  while (text->size() < 300000) *text += "    let other = compute(4, 5, 6);\n";
  *text += "}\n";

  for (const char* path : {"main.rs", ""}) {
    ChunkOptions options;  // 3000 / 500
    options.path = path;
    const auto chunks = SplitWithin(std::chrono::seconds(10),
                                    [text, options] { return CodeChunker().Split(*text, options); });
    ASSERT_TRUE(chunks.has_value()) << "code chunker did not finish (path '" << path << "')";
    EXPECT_EQ(CheckChunkProperties(*text, *chunks, options), "");
    EXPECT_EQ(chunks->front(), (ChunkSpan{0, second}));
    EXPECT_EQ((*chunks)[1].start, second);
  }
}

// Found by chunker_fuzz in a 10-minute campaign: a C/C++ line starting with an unclosed "[[" attribute made
// the definition finder loop forever (the attribute was neither skipped nor the loop left).
TEST(CodeChunkerTest, UnclosedAttributeDoesNotLoopForever) {
  auto text = std::make_shared<std::string>("int main() {\n  return 0;\n}\n[[\x06=\n[[nodiscard int f();\n");
  for (const char* path : {"a.cpp", "a.c", ""}) {
    ChunkOptions options;
    options.size = 64;
    options.overlap = 0;
    options.path = path;
    const auto chunks = SplitWithin(std::chrono::seconds(10),
                                    [text, options] { return CodeChunker().Split(*text, options); });
    ASSERT_TRUE(chunks.has_value()) << "code chunker did not finish (path '" << path << "')";
    EXPECT_EQ(CheckChunkProperties(*text, *chunks, options), "");
  }
}

TEST(CodeChunkerTest, RandomSparseDefinitionsAlwaysFinish) {
  const auto finished = SplitWithin(std::chrono::seconds(20), []() -> std::vector<ChunkSpan> {
    static constexpr const char* kDefinitions[] = {
        "fn item() {\n",  "def item(x):\n",     "function item() {\n",  "func item() {\n",
        "class Item {\n", "int item(void) {\n", "  def nested(self):\n"};
    static constexpr const char* kLanguages[] = {"rust", "python", "javascript", "go",         "java",
                                                 "c",    "ruby",   "php",        "typescript", ""};
    std::mt19937_64 rng(2910);
    for (int i = 0; i < 60; ++i) {
      std::string text;
      const size_t length = 1000 + rng() % 60000;
      while (text.size() < length) {
        if (rng() % 50 == 0) text += kDefinitions[rng() % std::size(kDefinitions)];
        text += rng() % 7 == 0 ? "\n" : "    statement(with, arguments);\n";
        if (rng() % 500 == 0) text += std::string(rng() % 5000, 'x');
      }
      ChunkOptions options;
      options.size = 1 + rng() % 4000;
      options.overlap = rng() % options.size;
      options.language = kLanguages[rng() % std::size(kLanguages)];
      const std::string problem = CheckChunkProperties(text, CodeChunker().Split(text, options), options);
      if (!problem.empty()) throw std::runtime_error("case " + std::to_string(i) + ": " + problem);
    }
    return {};
  });
  EXPECT_TRUE(finished.has_value()) << "code chunker did not finish";
}

}  // namespace
}  // namespace rlm
