#include "core/redact.h"

#include <gtest/gtest.h>

namespace rlm {
namespace {

TEST(Redact, UrlUserinfo) {
  EXPECT_EQ(RedactUrl("https://user:pass@api.example.com/v1"), "https://user:***@api.example.com/v1");
  EXPECT_EQ(RedactUrl("http://:pw@h:8080"), "http://:***@h:8080");
  EXPECT_EQ(RedactUrl("https://ghp_token123@h/x"), "https://***@h/x");  // a token as the user name
  EXPECT_EQ(RedactUrl("ftp://u:p@h"), "ftp://u:***@h");
  EXPECT_EQ(RedactUrl("redis://:a@b@[::1]:6379/0"), "redis://:***@[::1]:6379/0");  // the last '@' ends it
  EXPECT_EQ(RedactUrl("redis://:***@h"), "redis://:***@h");                        // idempotent
  EXPECT_EQ(RedactUrl("https://api.example.com/users/@me"), "https://api.example.com/users/@me");
  EXPECT_EQ(RedactUrl("http://h/v1?x=a@b"), "http://h/v1?x=a@b");
  EXPECT_EQ(RedactUrl("u:p@h/v1"), "u:***@h/v1");  // no scheme: still an authority
  EXPECT_EQ(RedactUrl(""), "");
}

TEST(Redact, UrlsInFreeText) {
  EXPECT_EQ(Redact("POST https://u:secretpw@h/v1/embeddings failed; see 'http://a:b@c'"),
            "POST https://u:***@h/v1/embeddings failed; see 'http://a:***@c'");
  EXPECT_EQ(Redact("mail me at bob@example.com"), "mail me at bob@example.com");
}

TEST(Redact, AuthorizationCredentials) {
  EXPECT_EQ(Redact("You sent Authorization: Bearer sk-abc_123.XYZ, which is wrong"),
            "You sent Authorization: Bearer [REDACTED], which is wrong");
  EXPECT_EQ(Redact("header was Basic dXNlcjpwYXNz=="), "header was Basic [REDACTED]");
  EXPECT_EQ(Redact(R"({"auth":"bearer abc\/def+ghi"})"), R"({"auth":"bearer [REDACTED]"})");
  EXPECT_EQ(Redact("Basic ok"), "Basic ok");  // too short to be a credential
}

TEST(Redact, RegisteredSecretsAnywhere) {
  RegisterSecret("tok-9f8e7d6c5b4a");
  RegisterSecret("abc");  // too short: ignored
  EXPECT_EQ(Redact("invalid key tok-9f8e7d6c5b4a (key=tok-9f8e7d6c5b4a)"),
            "invalid key [REDACTED] (key=[REDACTED])");
  EXPECT_EQ(Redact("abc"), "abc");
  RegisterUrlCredentials("al%69ce:p%40ss-w0rd");
  EXPECT_EQ(Redact("password p%40ss-w0rd or p@ss-w0rd"), "password [REDACTED] or [REDACTED]");
  // HTTP Basic sends base64("alice:p@ss-w0rd").
  const std::string basic = Base64("alice:p@ss-w0rd");
  EXPECT_EQ(Redact("token=" + basic), "token=[REDACTED]");
}

TEST(Redact, Base64) {
  EXPECT_EQ(Base64(""), "");
  EXPECT_EQ(Base64("f"), "Zg==");
  EXPECT_EQ(Base64("fo"), "Zm8=");
  EXPECT_EQ(Base64("foo"), "Zm9v");
  EXPECT_EQ(Base64("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64("user:pass"), "dXNlcjpwYXNz");
}

}  // namespace
}  // namespace rlm
