// Secrets stay secret: the one place that removes credentials from text before it becomes a message.
// Every error, warning, notice and progress line that may carry a URL or a server's words (an HTTP error
// body can echo the request's Authorization header or API key) passes through Redact, in the library where
// the message is built and again in the CLI where it is printed.
//
// What Redact removes:
// - the password of every URL ("https://u:p@host/v1" -> "https://u:***@host/v1"; a userinfo without ':',
//   a token, becomes "***"),
// - the credentials after "Bearer " and "Basic " (as an echoed Authorization header carries them),
// - every secret registered with RegisterSecret / RegisterUrlCredentials, wherever it appears.
//
// Thread-safe. Registered secrets live for the process's life.
#pragma once

#include <string>
#include <string_view>

namespace rlm {

// What a secret is replaced by.
inline constexpr std::string_view kRedacted = "[REDACTED]";
// Registered secrets shorter than this are not searched for in free text (they would match everywhere
// and hide nothing); such values still never enter a message through a URL or an Authorization header.
inline constexpr size_t kMinSecretBytes = 4;

// `url` with the password in the userinfo of its authority (what precedes '@' before the first '/', '?' or
// '#') replaced by "***" ("user:***@"; a userinfo without ':' becomes "***@"); unchanged when it has none.
std::string RedactUrl(std::string_view url);

// Makes Redact replace `secret` (an API key, a password) from now on. Ignores values shorter than
// kMinSecretBytes.
void RegisterSecret(std::string_view secret);

// Registers the forms in which a URL's `userinfo` ("user:password", possibly percent-encoded) can come back
// in a server's text: as written, the password as written and percent-decoded, and the base64 of the
// decoded "user:password" that HTTP Basic authentication sends.
void RegisterUrlCredentials(std::string_view userinfo);

// `text` without credentials, as described at the top of this file.
std::string Redact(std::string_view text);

// Standard base64 with padding (RFC 4648), as HTTP Basic authentication encodes "user:password".
std::string Base64(std::string_view bytes);

}  // namespace rlm
