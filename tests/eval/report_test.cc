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

#include "eval/results_fixture.h"

namespace rlm {
namespace {

namespace fs = std::filesystem;

// Three variants (one with a name to escape), 30 judged queries, some empty, some failed; the user listed
// recall.100 first, so it is the report's primary measure.
EvalResults Sample() {
  testing::SyntheticOptions o;
  o.variants = {"bm25", "dense & co", "hybrid"};
  o.p_fail = 0.05;
  const testing::SyntheticEval s = testing::MakeSyntheticEval(7, o);
  ResultsInput in;
  in.dataset = &s.dataset;
  in.outcome = &s.outcome;
  in.metrics = {"recall.100", "ndcg_cut.10"};
  in.bootstrap = 500;
  EvalResults r = BuildEvalResults(in);
  r.title = "Evaluation <script>alert(1)</script>";
  r.run_id = "abc123";
  r.dataset = "scifact/test";
  return r;
}

TEST(Report, MarkdownAndEscaping) {
  const EvalResults d = Sample();
  const std::string md = ReportMarkdown(d);
  EXPECT_NE(md.find("| bm25 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| variant | recall_100 | ndcg_cut_10 |"), std::string::npos) << md;  // the user's order
  EXPECT_NE(md.find("B - A"), std::string::npos) << md;
  const std::string html = ReportHtml(d);
  EXPECT_EQ(html.find("<script"), std::string::npos);  // names are escaped, the page has no script
  EXPECT_NE(html.find("dense &amp; co"), std::string::npos);
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
}

// The per-query difference bars name their query in an SVG tooltip, with both values; the significance
// matrix is filled for every pair; the changed-queries table shows query texts and documents.
TEST(Report, DifferenceBarsNameTheirQueriesAndTheMatrixIsFull) {
  const EvalResults d = Sample();
  const std::string html = ReportHtml(d);
  size_t titles = 0;
  for (size_t at = html.find("<title>q"); at != std::string::npos; at = html.find("<title>q", at + 1))
    ++titles;
  // Two difference charts (dense & co, hybrid against bm25), one bar per paired query.
  size_t paired = 0;
  for (const Comparison& c : d.comparisons) {
    if (c.measure == "recall_100" && c.a == "bm25") paired += c.queries;
  }
  EXPECT_EQ(titles, paired);
  const Comparison& first = d.comparisons[0];
  ASSERT_EQ(first.measure, "recall_100");
  EXPECT_NE(html.find("query &lt;"), std::string::npos) << "query texts are shown (escaped)";
  const size_t matrix = html.find("<h2>Significance (recall_100");
  ASSERT_NE(matrix, std::string::npos);
  const std::string table = html.substr(matrix, html.find("</table>", matrix) - matrix);
  size_t cells = 0;
  for (size_t at = table.find("<br>p "); at != std::string::npos; at = table.find("<br>p ", at + 1)) ++cells;
  EXPECT_EQ(cells, 6u) << "3 variants: every off-diagonal cell is filled";
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
  std::string text;  // the page's visible text: printed to PDF by chromium, extracted by pdftotext
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
  const std::string pdf_cmd =
      "cd '" + dir.string() +
      "' && timeout 60 chromium --headless=new --no-sandbox "
      "--disable-gpu --no-first-run --user-data-dir='" +
      (dir / "profile").string() +
      "' --disable-background-networking --disable-component-update --disable-sync "
      "--disable-extensions --proxy-server=127.0.0.1:" +
      std::to_string(proxy.port()) + " --no-pdf-header-footer --print-to-pdf=" + (dir / "page.pdf").string() +
      " file://" + (dir / "page.html").string() + " 2>/dev/null && pdftotext -layout page.pdf page.txt";
  if (std::system(pdf_cmd.c_str()) == 0) {
    std::ifstream text_in(dir / "page.txt");
    std::stringstream text;
    text << text_in.rdbuf();
    run.text = text.str();
  }
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
  // What a reader sees: the measure listed first leads the charts, with labelled axes.
  ASSERT_FALSE(run.text.empty()) << "chromium's PDF or pdftotext gave no text";
  const size_t charts = run.text.find("Measures with 95% confidence intervals");
  ASSERT_NE(charts, std::string::npos) << run.text;
  const size_t recall = run.text.find("recall_100: mean over the evaluated queries", charts);
  const size_t ndcg = run.text.find("ndcg_cut_10: mean over the evaluated queries", charts);
  ASSERT_NE(recall, std::string::npos) << run.text;
  EXPECT_LT(recall, ndcg) << "the first listed measure comes first";
  EXPECT_NE(run.text.find("milliseconds per query"), std::string::npos) << "latency axis label";
  EXPECT_NE(run.text.find("dense & co - bm25"), std::string::npos) << "difference chart with its axis label";
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
