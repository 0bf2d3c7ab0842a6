// "Did you mean": the one helper that turns a misspelt name into the nearest valid one, for every error
// message that names an unknown key, measure, chunker or command.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace rlm {

// Optimal-string-alignment distance (Levenshtein plus adjacent transpositions), ASCII case-insensitive.
size_t EditDistance(std::string_view a, std::string_view b);

// The valid name nearest to `name`, or "" when none is close enough to be a plausible typo (distance at
// most max(2, |name| / 3), and less than the longer length). Ties go to a name that is a prefix of the
// other ("kk" -> "k", not "k1"), then to the earlier one.
std::string NearestName(std::string_view name, std::span<const std::string> valid);

}  // namespace rlm
