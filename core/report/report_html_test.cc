#include "core/report/report_html.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cbx::report {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

v1::Report Sample() {
  v1::Report r;
  r.set_member("MK");
  r.set_month("2026-11");
  r.set_log_begin(10);
  r.set_log_end(90);
  r.set_min_cell(5);
  v1::ReportFigure* sent = r.add_figures();
  sent->set_name("queries_sent");
  sent->set_value(40);
  v1::ReportFigure* few = r.add_figures();
  few->set_name("hits");
  few->set_suppressed(true);
  v1::ReportFigure* peer = r.add_figures();
  peer->set_name("queries_sent");
  peer->set_peer("<RS>");
  peer->set_value(12);
  v1::ReportFigure* time = r.add_figures();
  time->set_name("time_to_receipt_p50_ms");
  time->set_value(3000);
  return r;
}

TEST(ReportHtmlTest, ChartsAndTableOfEveryFigure) {
  const std::string html = ReportBodyHtml(Sample());
  EXPECT_THAT(html, HasSubstr("entries 10..90"));
  EXPECT_THAT(html, HasSubstr("aria-label=\"The node&#39;s figures\""));
  EXPECT_THAT(html, HasSubstr("<figcaption>Times (ms)</figcaption>"));
  EXPECT_THAT(html, HasSubstr("<figcaption>With &lt;RS&gt;</figcaption>"));
  // A suppressed count is never shown as its value.
  EXPECT_THAT(html, HasSubstr("class=\"suppressed\""));
  EXPECT_THAT(html, HasSubstr("<td>hits</td><td>all</td><td>&lt;5</td>"));
  EXPECT_THAT(html, HasSubstr("<td>queries_sent</td><td>all</td><td>40</td>"));
}

TEST(ReportHtmlTest, NoStyleNoScriptNoPeerTextUnescaped) {
  const std::string html = ReportBodyHtml(Sample());
  for (const char* forbidden :
       {"<style", "style=", "<script", "<RS>", "src=", "url("}) {
    EXPECT_THAT(html, Not(HasSubstr(forbidden))) << forbidden;
  }
}

}  // namespace
}  // namespace cbx::report
