#include "core/printable.h"

#include <gtest/gtest.h>

#include <string>

namespace rlm {
namespace {

TEST(EscapeForTerminal, PlainTextIsUnchanged) {
  EXPECT_EQ(EscapeForTerminal("notes.md"), "notes.md");
  EXPECT_EQ(EscapeForTerminal("a\\b/c 日本語 é ☕"), "a\\b/c 日本語 é ☕");
  EXPECT_EQ(EscapeForTerminal(""), "");
}

TEST(EscapeForTerminal, ControlsBecomeEscapes) {
  EXPECT_EQ(EscapeForTerminal("\x1b[31mred\x1b[0m"), "\\x1b[31mred\\x1b[0m");
  EXPECT_EQ(EscapeForTerminal("a\rb\nc\td\x7f"), "a\\x0db\\x0ac\\x09d\\x7f");
  EXPECT_EQ(EscapeForTerminal(std::string("nul\0x", 5)), "nul\\x00x");
}

TEST(EscapeForTerminal, C1ControlsAndBidiOverridesBecomeEscapes) {
  EXPECT_EQ(EscapeForTerminal("\xc2\x9b"
                              "2J"),
            "\\u{009b}2J");                                                 // U+009B, the 8-bit CSI
  EXPECT_EQ(EscapeForTerminal("txt.\xe2\x80\xaegnp"), "txt.\\u{202e}gnp");  // RIGHT-TO-LEFT OVERRIDE
  EXPECT_EQ(EscapeForTerminal("\xe2\x81\xa6x\xe2\x81\xa9"), "\\u{2066}x\\u{2069}");
}

TEST(EscapeForTerminal, InvalidBytesBecomeEscapesAndValidTextAroundThemStays) {
  EXPECT_EQ(EscapeForTerminal("a\x9b"
                              "b"),
            "a\\x9bb");
  EXPECT_EQ(EscapeForTerminal("\xff\xfeé\xc3"), "\\xff\\xfeé\\xc3");
  EXPECT_EQ(EscapeForTerminal("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // a surrogate
}

}  // namespace
}  // namespace rlm
