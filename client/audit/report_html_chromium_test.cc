// The transparency report's HTML page (spec/cooperation.md §7.6) looked at
// in a real browser: headless Chromium renders it to a PNG, which must not
// be blank (it differs from a blank page's screenshot and is larger), and
// its DOM as rendered must hold the charts; the file itself references
// nothing external and carries the CSP. Skipped only where no chromium is
// installed (scripts/install-deps.sh installs it). ctest label: chromium.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "client/audit/report_output.h"
#include "core/report/report.h"
#include "gtest/gtest.h"

namespace cbx::client::audit {
namespace {

namespace fs = std::filesystem;

std::string Chromium() {
  for (const char* path : {"/usr/bin/chromium", "/usr/bin/chromium-browser"}) {
    if (fs::exists(path)) return path;
  }
  return "";
}

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void WriteFile(const fs::path& p, const std::string& data) {
  std::ofstream(p, std::ios::binary) << data;
}

v1::Report Sample() {
  std::vector<v1::AuditEntry> entries;
  const report::Month m = *report::ParseMonth("2026-03");
  for (int i = 0; i < 40; ++i) {
    v1::AuditEntry e;
    e.set_time_ms(m.start_ms + i * 1000);
    e.set_direction(i % 3 == 0 ? v1::AUDIT_DIRECTION_RECEIVED
                               : v1::AUDIT_DIRECTION_SENT);
    e.set_peer(i % 2 == 0 ? "RS" : "AL");
    e.set_rpc("Peer.Evaluate");
    e.set_kind("evaluate_request");
    entries.push_back(e);
  }
  report::ReportInput input{.member = "MK", .month = m, .min_cell = 5,
                            .log_begin = 0, .log_end = 40,
                            .as_of_ms = m.end_ms};
  return report::ComputeReport(input, entries);
}

class ChromiumTest : public ::testing::Test {
 protected:
  void SetUp() override {
    chromium_ = Chromium();
    if (chromium_.empty()) GTEST_SKIP() << "no chromium installed";
    dir_ = fs::temp_directory_path() /
           ("cbx-report-html-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }

  // Runs chromium headless on `page` with `flags`; its exit status.
  int Run(const fs::path& page, const std::string& flags,
          const fs::path& stdout_file) {
    const std::string cmd =
        "timeout 90 " + chromium_ +
        " --headless --no-sandbox --disable-gpu --disable-dev-shm-usage "
        "--no-first-run --user-data-dir=" + (dir_ / "profile").string() +
        " --window-size=1000,1400 " + flags + " file://" + page.string() +
        " >" + stdout_file.string() + " 2>" + (dir_ / "stderr").string();
    return std::system(cmd.c_str());
  }

  std::string chromium_;
  fs::path dir_;
};

TEST_F(ChromiumTest, RendersNonBlankAndLoadsNothingExternal) {
  const std::string html = ReportHtml(Sample());
  // Nothing that could load: no script, stylesheet link, url(), src.
  for (const char* external :
       {"<script", "<link", "url(", "src=", "@import", "http:", "https:"}) {
    EXPECT_EQ(html.find(external), std::string::npos) << external;
  }
  EXPECT_NE(html.find("http-equiv=\"Content-Security-Policy\""),
            std::string::npos);
  const fs::path page = dir_ / "report.html";
  const fs::path blank = dir_ / "blank.html";
  WriteFile(page, html);
  WriteFile(blank, "<!DOCTYPE html><html><body></body></html>\n");

  ASSERT_EQ(Run(page, "--screenshot=" + (dir_ / "report.png").string(),
                dir_ / "out1"),
            0)
      << ReadFile(dir_ / "stderr");
  ASSERT_EQ(Run(blank, "--screenshot=" + (dir_ / "blank.png").string(),
                dir_ / "out2"),
            0)
      << ReadFile(dir_ / "stderr");
  const std::string png = ReadFile(dir_ / "report.png");
  const std::string blank_png = ReadFile(dir_ / "blank.png");
  ASSERT_GT(png.size(), 8u);
  EXPECT_EQ(png.substr(0, 8), "\x89PNG\r\n\x1a\n");
  EXPECT_NE(png, blank_png);
  // Text and bars compress far worse than a white page.
  EXPECT_GT(png.size(), 2 * blank_png.size())
      << png.size() << " vs blank " << blank_png.size();

  // The DOM as Chromium built it: the charts and the table are there.
  ASSERT_EQ(Run(page, "--dump-dom", dir_ / "dom.html"), 0)
      << ReadFile(dir_ / "stderr");
  const std::string dom = ReadFile(dir_ / "dom.html");
  EXPECT_NE(dom.find("<svg"), std::string::npos);
  EXPECT_NE(dom.find("class=\"bar\""), std::string::npos);
  EXPECT_NE(dom.find("queries_sent"), std::string::npos);
  EXPECT_EQ(dom.find("<script"), std::string::npos);
}

}  // namespace
}  // namespace cbx::client::audit
