#include "node/metrics.h"

#include <gtest/gtest.h>

#include <limits>
#include <thread>

#include "node/rpc_metrics.h"

namespace cbx::node {
namespace {

TEST(MetricsTest, CounterAndGaugeExposition) {
  MetricsRegistry registry;
  registry.Counter("cbx_test_calls_total", "Calls.", {"peer"})
      .With({"MK"})
      .Increment(3);
  registry.Gauge("cbx_test_bytes", "Bytes.").With({}).Set(1.5);
  EXPECT_EQ(registry.Render(),
            "# HELP cbx_test_calls_total Calls.\n"
            "# TYPE cbx_test_calls_total counter\n"
            "cbx_test_calls_total{peer=\"MK\"} 3\n"
            "# HELP cbx_test_bytes Bytes.\n"
            "# TYPE cbx_test_bytes gauge\n"
            "cbx_test_bytes 1.5\n");
}

TEST(MetricsTest, CounterNeverGoesDown) {
  CounterCell c;
  c.Increment(2);
  c.Increment(-5);
  EXPECT_EQ(c.value(), 2);
}

TEST(MetricsTest, LabelValuesAndHelpAreEscaped) {
  MetricsRegistry registry;
  registry.Counter("cbx_test_total", "Line one\nback\\slash", {"office"})
      .With({"a\"b\\c\nd"})
      .Increment();
  const std::string text = registry.Render();
  EXPECT_NE(text.find("# HELP cbx_test_total Line one\\nback\\\\slash\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("cbx_test_total{office=\"a\\\"b\\\\c\\nd\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(EscapeLabelValue("\xE2\x80\xA8ok"), "\xE2\x80\xA8ok");
}

TEST(MetricsTest, HistogramBucketsAreCumulativeAndEndInInf) {
  MetricsRegistry registry;
  HistogramFamily& h =
      registry.Histogram("cbx_test_seconds", "Latency.", {"m"}, {0.125, 1});
  h.With({"Evaluate"}).Observe(0.0625);
  h.With({"Evaluate"}).Observe(0.125);  // on the bound: in le="0.125"
  h.With({"Evaluate"}).Observe(0.5);
  h.With({"Evaluate"}).Observe(7);
  EXPECT_EQ(registry.Render(),
            "# HELP cbx_test_seconds Latency.\n"
            "# TYPE cbx_test_seconds histogram\n"
            "cbx_test_seconds_bucket{m=\"Evaluate\",le=\"0.125\"} 2\n"
            "cbx_test_seconds_bucket{m=\"Evaluate\",le=\"1\"} 3\n"
            "cbx_test_seconds_bucket{m=\"Evaluate\",le=\"+Inf\"} 4\n"
            "cbx_test_seconds_sum{m=\"Evaluate\"} 7.6875\n"
            "cbx_test_seconds_count{m=\"Evaluate\"} 4\n");
}

TEST(MetricsTest, ValuesFormat) {
  EXPECT_EQ(FormatMetricValue(0), "0");
  EXPECT_EQ(FormatMetricValue(1e21), "1e+21");
  EXPECT_EQ(FormatMetricValue(0.1), "0.1");
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(FormatMetricValue(inf), "+Inf");
  EXPECT_EQ(FormatMetricValue(-inf), "-Inf");
  EXPECT_EQ(FormatMetricValue(std::numeric_limits<double>::quiet_NaN()), "NaN");
}

TEST(MetricsTest, CollectorsAddFamiliesAndCanBeRemoved) {
  MetricsRegistry registry;
  int id = registry.AddCollector([](Exposition& out) {
    out.Gauge("cbx_test_peer_tags", "Tags.", {{"peer", "RS"}}, 10);
    out.Gauge("cbx_test_peer_tags", "Tags.", {{"peer", "MK"}}, 20);
  });
  EXPECT_EQ(registry.Render(),
            "# HELP cbx_test_peer_tags Tags.\n"
            "# TYPE cbx_test_peer_tags gauge\n"
            "cbx_test_peer_tags{peer=\"RS\"} 10\n"
            "cbx_test_peer_tags{peer=\"MK\"} 20\n");
  registry.RemoveCollector(id);
  EXPECT_EQ(registry.Render(), "");
}

TEST(MetricsTest, ConcurrentIncrementsAreAllCounted) {
  MetricsRegistry registry;
  CounterFamily& f = registry.Counter("cbx_test_total", "T.", {"t"});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) f.With({"x"}).Increment();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(f.With({"x"}).value(), 40000);
}

TEST(MetricsTest, AlertsAreCountedByName) {
  CountAlert("ALERT-phantom-hit");
  const std::string text = MetricsRegistry::Default().Render();
  EXPECT_NE(text.find("cbx_alerts_total{alert=\"phantom-hit\"} "),
            std::string::npos)
      << text;
}

TEST(RpcMetricsTest, CallerLabelsAreBounded) {
  auto is_member = [](const std::string& c) { return c == "MK" || c == "RS"; };
  EXPECT_EQ(PeerCallerLabel({"spiffe://cbx/member/MK"}, is_member), "MK");
  // A certificate cannot make up label values.
  EXPECT_EQ(PeerCallerLabel({"spiffe://cbx/member/ZZ\"}"}, is_member),
            "unknown");
  EXPECT_EQ(PeerCallerLabel({}, is_member), "unknown");
  EXPECT_EQ(OfficeCallerLabel({"spiffe://cbx/office/MK/opj-skopje/prosecutor"}),
            "prosecutor");
  EXPECT_EQ(OfficeCallerLabel({"spiffe://cbx/office/MK/x/admin"}), "unknown");
  EXPECT_EQ(StatusCodeName(absl::StatusCode::kResourceExhausted),
            "RESOURCE_EXHAUSTED");
}

}  // namespace
}  // namespace cbx::node
