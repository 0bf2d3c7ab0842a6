// The HTML report in a real browser: Debian's chromium, headless, opens the file with every network request
// sent to a local proxy that counts connections. The page must make no request, log no console error, and
// render something (the screenshot is decoded and must not be blank). Plus the Markdown summary.
#include "eval/report.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

namespace rlm {
namespace {

namespace fs = std::filesystem;

ReportData Sample() {
  ReportData d;
  d.title = "Evaluation <script>alert(1)</script>";
  d.run_id = "abc123";
  d.dataset = "scifact/test";
  d.baseline = "bm25";
  for (int i = 0; i < 30; ++i) d.query_ids.push_back("q" + std::to_string(i));
  const char* names[] = {"bm25", "dense & co", "hybrid"};
  for (int v = 0; v < 3; ++v) {
    ReportVariant rv;
    rv.name = names[v];
    rv.queries = 30;
    rv.failed = v == 1 ? 1 : 0;
    for (const char* m : {"ndcg_cut.10", "recall.100"}) {
      ReportMeasure me;
      me.name = m;
      for (int i = 0; i < 30; ++i) me.per_query.push_back(((i * 7 + v * 3) % 11) / 10.0);
      double s = 0;
      for (double x : me.per_query) s += x;
      me.mean = s / 30;
      me.ci_low = me.mean - 0.04;
      me.ci_high = me.mean + 0.04;
      rv.measures.push_back(me);
    }
    for (int i = 0; i < 30; ++i) rv.latency_ms.push_back(0.5 + 0.05 * i * (v + 1));
    d.variants.push_back(rv);
  }
  d.comparisons.push_back({"bm25", "dense & co", "ndcg_cut.10", "t", 0.5, 0.45, 0.2, 0.4, -0.1, -0.1, 0.02});
  d.comparisons.push_back({"bm25", "hybrid", "ndcg_cut.10", "t", 0.5, 0.55, 0.001, 0.002, 0.4, 0.01, 0.09});
  return d;
}

TEST(Report, MarkdownAndEscaping) {
  const ReportData d = Sample();
  const std::string md = ReportMarkdown(d);
  EXPECT_NE(md.find("| bm25 |"), std::string::npos) << md;
  EXPECT_NE(md.find("0.0020 *"), std::string::npos) << md;  // significant after correction
  const std::string html = ReportHtml(d);
  EXPECT_EQ(html.find("<script"), std::string::npos);  // names are escaped, the page has no script
  EXPECT_NE(html.find("dense &amp; co"), std::string::npos);
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
}

// A loopback "proxy" that records the first line of every request the browser sends it (GET http://...,
// CONNECT host:443) and answers nothing.
class RequestRecorder {
 public:
  RequestRecorder() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    listen(fd_, 16);
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] {
      while (true) {
        int c = accept(fd_, nullptr, nullptr);
        if (c < 0 || stop_) break;
        timeval tv{1, 0};
        setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        char buf[512];
        const ssize_t n = recv(c, buf, sizeof buf, 0);
        std::string line = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "?";
        line = line.substr(0, line.find("\r\n"));
        {
          std::lock_guard lock(mu_);
          lines_.push_back(line);
        }
        close(c);
      }
    });
  }
  ~RequestRecorder() {
    stop_ = true;
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
  }
  int port() const { return port_; }
  // Requests a page caused: everything but chromium's own service traffic (component and time updates,
  // accounts), which it sends whatever page it shows.
  std::vector<std::string> PageRequests() const {
    static const char* kBrowserOwn[] = {"googleapis.com", "accounts.google.com", "clients2.google.com",
                                        "gvt1.com", "gstatic.com"};
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (const std::string& l : lines_) {
      bool own = false;
      for (const char* host : kBrowserOwn) own = own || l.find(host) != std::string::npos;
      if (!own) out.push_back(l);
    }
    return out;
  }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::vector<std::string> lines_;
  std::thread thread_;
};

uint32_t Be32(const std::string& s, size_t at) {
  return (uint32_t(uint8_t(s[at])) << 24) | (uint32_t(uint8_t(s[at + 1])) << 16) |
         (uint32_t(uint8_t(s[at + 2])) << 8) | uint32_t(uint8_t(s[at + 3]));
}

// Decodes an 8-bit RGB/RGBA PNG and returns the fraction of pixels that are not near-white.
double InkFraction(const std::string& png) {
  if (png.size() < 33 || png.compare(1, 3, "PNG") != 0) return -1;
  const uint32_t w = Be32(png, 16), h = Be32(png, 20);
  const int depth = uint8_t(png[24]), color = uint8_t(png[25]);
  if (depth != 8 || (color != 2 && color != 6)) return -1;
  const size_t bpp = color == 6 ? 4 : 3, stride = w * bpp;
  std::string idat;
  for (size_t at = 8; at + 8 <= png.size();) {
    const uint32_t len = Be32(png, at);
    if (png.compare(at + 4, 4, "IDAT") == 0) idat += png.substr(at + 8, len);
    at += 12 + len;
  }
  std::vector<uint8_t> raw((stride + 1) * h);
  uLongf raw_len = raw.size();
  if (uncompress(raw.data(), &raw_len, reinterpret_cast<const Bytef*>(idat.data()), idat.size()) != Z_OK)
    return -1;
  std::vector<uint8_t> prev(stride, 0), cur(stride);
  size_t ink = 0;
  for (uint32_t y = 0; y < h; ++y) {
    const uint8_t f = raw[y * (stride + 1)];
    const uint8_t* in = &raw[y * (stride + 1) + 1];
    for (size_t x = 0; x < stride; ++x) {
      const int a = x >= bpp ? cur[x - bpp] : 0, b = prev[x], c = x >= bpp ? prev[x - bpp] : 0;
      int p = 0;
      if (f == 1) p = a;
      if (f == 2) p = b;
      if (f == 3) p = (a + b) / 2;
      if (f == 4) {
        const int pa = std::abs(b - c), pb = std::abs(a - c), pc = std::abs(a + b - 2 * c);
        p = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      cur[x] = uint8_t(in[x] + p);
    }
    for (uint32_t x = 0; x < w; ++x) {
      if (cur[x * bpp] < 200 || cur[x * bpp + 1] < 200 || cur[x * bpp + 2] < 200) ++ink;
    }
    prev.swap(cur);
  }
  return double(ink) / (double(w) * h);
}

struct BrowserRun {
  int exit_code = -1;
  std::string log;
  std::vector<std::string> page_requests;
  double ink = -1;
};

// Opens `html` in headless chromium (all traffic to a recording proxy) and takes a screenshot.
BrowserRun OpenInChromium(const std::string& name, const std::string& html) {
  const fs::path dir = fs::path(::testing::TempDir()) / ("report-chromium-" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "page.html") << html;
  RequestRecorder proxy;
  const std::string cmd = "cd '" + dir.string() +
                          "' && timeout 60 chromium --headless=new --no-sandbox --disable-gpu "
                          "--no-first-run --user-data-dir='" +
                          (dir / "profile").string() +
                          "' --disable-background-networking --disable-component-update --disable-sync "
                          "--disable-extensions --proxy-server=127.0.0.1:" +
                          std::to_string(proxy.port()) +
                          " --enable-logging=stderr --v=0 --virtual-time-budget=3000 --window-size=1200,1400 "
                          "--screenshot=" +
                          (dir / "shot.png").string() + " file://" + (dir / "page.html").string() + " 2>'" +
                          (dir / "log.txt").string() + "'";
  BrowserRun run;
  run.exit_code = std::system(cmd.c_str());
  std::ifstream log_in(dir / "log.txt");
  std::stringstream log;
  log << log_in.rdbuf();
  run.log = log.str();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // let the recorder read the last request
  run.page_requests = proxy.PageRequests();
  std::ifstream png_in(dir / "shot.png", std::ios::binary);
  std::stringstream png;
  png << png_in.rdbuf();
  run.ink = InkFraction(png.str());
  return run;
}

bool HaveChromium() {
  return std::system("command -v chromium >/dev/null 2>&1") == 0;
}

TEST(Report, OpensInHeadlessChromiumWithoutNetworkOrErrors) {
  if (!HaveChromium()) {
    GTEST_SKIP() << "chromium is not installed (scripts/setup installs it); the browser test did not run";
  }
  const BrowserRun run = OpenInChromium("report", ReportHtml(Sample()));
  ASSERT_EQ(run.exit_code, 0) << run.log;
  EXPECT_EQ(run.log.find("CONSOLE"), std::string::npos) << run.log;
  EXPECT_EQ(run.log.find("Uncaught"), std::string::npos) << run.log;
  EXPECT_TRUE(run.page_requests.empty()) << "the report made a network request: " << run.page_requests[0];
  EXPECT_GT(run.ink, 0.01) << "the screenshot is blank (or not decodable: " << run.ink << ")";
}

// The detectors can fail: a page with an external image, a script error and nothing drawn trips all three.
TEST(Report, BrowserCheckCatchesRequestsErrorsAndBlankPages) {
  if (!HaveChromium()) {
    GTEST_SKIP() << "chromium is not installed (scripts/setup installs it); the browser test did not run";
  }
  const BrowserRun run =
      OpenInChromium("control",
                     "<!DOCTYPE html><html><body><img src=\"http://rlm-report-test.invalid/a.png\">"
                     "<script>undefinedFunction();</script></body></html>");
  ASSERT_EQ(run.exit_code, 0) << run.log;
  ASSERT_EQ(run.page_requests.size(), 1u);
  EXPECT_NE(run.page_requests[0].find("rlm-report-test.invalid"), std::string::npos) << run.page_requests[0];
  EXPECT_NE(run.log.find("CONSOLE"), std::string::npos) << run.log;
  EXPECT_GE(run.ink, 0.0);
  EXPECT_LT(run.ink, 0.01);
}

}  // namespace
}  // namespace rlm
