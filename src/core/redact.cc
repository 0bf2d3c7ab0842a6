#include "core/redact.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <vector>

namespace rlm {
namespace {

std::mutex g_mu;
std::vector<std::string> g_secrets;  // GUARDED_BY(g_mu): longest first, no duplicates

// Characters that end a URL's authority in free text.
bool EndsAuthority(char c) {
  return std::strchr("/?#\"'<>`()[]{},; \t\r\n", c) != nullptr;
}

// Characters of a token after "Bearer " / "Basic ": base64, base64url and API key alphabets (plus '\', for
// a JSON body that escapes '/' as "\/").
bool IsTokenChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         std::strchr("-._~+/=\\", c) != nullptr;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

void ReplaceAll(std::string& text, std::string_view what, std::string_view with) {
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + with.size())) {
    text.replace(at, what.size(), with);
  }
}

// Replaces the userinfo text[start, at) by "user:***" (the user name is kept, as RedisUrl::Redacted keeps
// it), or by "***" when it has no ':' (a token given as the user name). Already redacted text stays as is.
void HideUserinfo(std::string& text, size_t start, size_t at) {
  const size_t colon = text.find(':', start);
  if (colon != std::string::npos && colon < at) {
    text.replace(colon + 1, at - colon - 1, "***");
  } else {
    text.replace(start, at - start, "***");
  }
}

// Removes the userinfo of every "scheme://userinfo@host" in `text`.
void RedactUrls(std::string& text) {
  for (size_t sep = text.find("://"); sep != std::string::npos; sep = text.find("://", sep + 3)) {
    const size_t start = sep + 3;
    size_t end = start;
    while (end < text.size() && !EndsAuthority(text[end])) ++end;
    const size_t at = text.rfind('@', end == start ? start : end - 1);
    if (at == std::string::npos || at < start || at >= end) continue;
    HideUserinfo(text, start, at);
  }
}

// Replaces the token after each "Bearer " / "Basic " (an echoed Authorization header).
void RedactAuthSchemes(std::string& text) {
  for (std::string_view scheme : {"Bearer ", "bearer ", "Basic "}) {
    for (size_t at = text.find(scheme); at != std::string::npos; at = text.find(scheme, at + 1)) {
      const size_t start = at + scheme.size();
      size_t end = start;
      while (end < text.size() && IsTokenChar(text[end])) ++end;
      if (end - start < kMinSecretBytes) continue;
      text.replace(start, end - start, kRedacted);
    }
  }
}

}  // namespace

std::string RedactUrl(std::string_view url) {
  std::string s(url);
  const size_t sep = s.find("://");
  const size_t start = sep == std::string::npos ? 0 : sep + 3;
  const size_t end = std::min(s.size(), s.find_first_of("/?#", start));
  const size_t at = s.rfind('@', end == 0 ? 0 : end - 1);
  if (at != std::string::npos && at >= start && at < end) HideUserinfo(s, start, at);
  return s;
}

void RegisterSecret(std::string_view secret) {
  if (secret.size() < kMinSecretBytes) return;
  std::lock_guard<std::mutex> lock(g_mu);
  if (std::find(g_secrets.begin(), g_secrets.end(), secret) != g_secrets.end()) return;
  g_secrets.emplace_back(secret);
  std::stable_sort(g_secrets.begin(), g_secrets.end(),
                   [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

void RegisterUrlCredentials(std::string_view userinfo) {
  if (userinfo.empty()) return;
  RegisterSecret(userinfo);
  const size_t colon = userinfo.find(':');
  const std::string_view password = colon == std::string_view::npos ? "" : userinfo.substr(colon + 1);
  RegisterSecret(password);
  RegisterSecret(PercentDecode(password));
  const std::string user = PercentDecode(userinfo.substr(0, colon));
  RegisterSecret(Base64(user + ":" + PercentDecode(password)));
}

std::string Redact(std::string_view text) {
  std::string out(text);
  RedactUrls(out);
  RedactAuthSchemes(out);
  std::lock_guard<std::mutex> lock(g_mu);
  for (const std::string& secret : g_secrets) ReplaceAll(out, secret, kRedacted);
  return out;
}

std::string Base64(std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (size_t i = 0; i < bytes.size(); i += 3) {
    const size_t n = std::min<size_t>(3, bytes.size() - i);
    uint32_t v = 0;
    for (size_t k = 0; k < 3; ++k) v = (v << 8) | (k < n ? static_cast<unsigned char>(bytes[i + k]) : 0u);
    for (size_t k = 0; k < 4; ++k) out += k <= n ? kAlphabet[(v >> (18 - 6 * k)) & 63] : '=';
  }
  return out;
}

}  // namespace rlm
