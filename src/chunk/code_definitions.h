// Where definitions start in source code: functions, methods, classes, structs, enums, traits, impls,
// modules, namespaces, interfaces (by language, from the line's leading keywords; no parsing, so a
// definition-looking line inside a block comment or string also counts). A definition starts at the start
// of its line, moved up over the comment, decorator and attribute lines directly above it, so doc comments
// stay with what they document.
#pragma once

#include <string_view>
#include <vector>

#include "chunk/code_language.h"
#include "chunk/structured_packer.h"

namespace rlm {

// The definition starts in `text`, sorted, each with rank = the definition line's indentation in columns
// (tabs count 4; capped at 64), so top-level definitions are the strongest cuts and methods come next.
// Offsets are > 0 and < text.size(). Empty for kUnknown.
std::vector<StructureCut> FindDefinitionCuts(std::string_view text, CodeLanguage language);

}  // namespace rlm
