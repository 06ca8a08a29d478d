// The node's metrics: a small registry of counters, gauges and histograms
// with fixed buckets, and their rendering in the Prometheus text exposition
// format 0.0.4 (served by node/admin_http.h at /metrics).
//
// Two kinds of values:
//   - Families registered once (Counter, Gauge, Histogram) and updated where
//     things happen (an RPC ends, an alert is logged): cells keyed by their
//     label values, created on first use and kept for the process's life.
//   - Collectors: functions run at each scrape that read the node's state
//     (index copies, the audit log, file sizes) and add samples to an
//     Exposition. Nothing is kept between scrapes.
//
// Rendering follows the exposition format: one "# HELP" and one "# TYPE"
// line per family, then its samples; label values escaped (\\, \", \n);
// histograms as cumulative _bucket{le=...} samples ending in le="+Inf",
// then _sum and _count. Names are the caller's (the cbx_ prefix, base units
// and _total suffix of counters are checked by promtool in the tests).
//
// Threading: every method of every class here is thread-safe. Updating a
// counter or gauge cell is lock-free (an atomic); a histogram cell takes its
// own small mutex; creating a cell takes the family's mutex. Collectors run
// on the scraping thread with no registry lock held.
#ifndef CBX_NODE_METRICS_H_
#define CBX_NODE_METRICS_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"

namespace cbx::node {

// Label name/value pairs of one sample, in the family's label order.
using MetricLabels = std::vector<std::pair<std::string, std::string>>;

enum class MetricType { kCounter, kGauge, kHistogram };

// One scrape's text: families in the order first added, each with its
// samples. Not thread-safe (one per scrape).
class Exposition {
 public:
  // Adds a sample `name`{labels} = value to family `family` (declaring it
  // with `help` and `type` on first use; later declarations are ignored).
  // For a counter or gauge `name` is the family's name; a histogram's
  // samples are added by AddHistogram.
  void Add(std::string_view family, std::string_view help, MetricType type,
           const MetricLabels& labels, double value);
  // Shorthands for a gauge and a counter sample.
  void Gauge(std::string_view name, std::string_view help,
             const MetricLabels& labels, double value) {
    Add(name, help, MetricType::kGauge, labels, value);
  }
  void Counter(std::string_view name, std::string_view help,
               const MetricLabels& labels, double value) {
    Add(name, help, MetricType::kCounter, labels, value);
  }
  // A histogram's samples: `bounds` (ascending upper bounds, +Inf implied),
  // `counts` per bucket (not cumulative; one more than bounds: the last is
  // above every bound), `sum` of the observations.
  void AddHistogram(std::string_view family, std::string_view help,
                    const MetricLabels& labels,
                    const std::vector<double>& bounds,
                    const std::vector<uint64_t>& counts, double sum);

  // The text exposition (format 0.0.4), ending in a newline.
  std::string Render() const;

 private:
  struct Family {
    std::string help;
    MetricType type;
    std::vector<std::string> lines;  // rendered samples
  };
  Family& FamilyFor(std::string_view name, std::string_view help,
                    MetricType type);
  std::vector<std::string> order_;
  std::map<std::string, Family, std::less<>> families_;
};

// A monotonically increasing value.
class CounterCell {
 public:
  void Increment(double by = 1);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// A value that goes up and down.
class GaugeCell {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double by);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Observations counted in fixed buckets.
class HistogramCell {
 public:
  explicit HistogramCell(const std::vector<double>* bounds)
      : bounds_(bounds), counts_(bounds->size() + 1, 0) {}
  // Counts `v` in the first bucket whose upper bound is >= v.
  void Observe(double v);
  // Per-bucket (not cumulative) counts and the sum, read together.
  void Read(std::vector<uint64_t>* counts, double* sum) const;

 private:
  const std::vector<double>* bounds_;
  mutable std::mutex mu_;
  std::vector<uint64_t> counts_ ABSL_GUARDED_BY(mu_);
  double sum_ ABSL_GUARDED_BY(mu_) = 0;
};

// A family of cells of one type sharing a name, help and label names.
template <typename Cell>
class MetricFamily {
 public:
  MetricFamily(std::string name, std::string help,
               std::vector<std::string> label_names)
      : name_(std::move(name)),
        help_(std::move(help)),
        label_names_(std::move(label_names)) {}

  // The cell for `label_values` (one per label name, in order), created on
  // first use. The reference stays valid for the family's life.
  Cell& With(const std::vector<std::string>& label_values);

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  // Calls `f(labels, cell)` for every cell, in label-value order.
  void ForEach(
      const std::function<void(const MetricLabels&, const Cell&)>& f) const;

  // Histograms only: the bucket bounds every cell uses.
  std::vector<double> bounds;

 private:
  const std::string name_;
  const std::string help_;
  const std::vector<std::string> label_names_;
  mutable std::mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<Cell>> cells_
      ABSL_GUARDED_BY(mu_);
};

using CounterFamily = MetricFamily<CounterCell>;
using GaugeFamily = MetricFamily<GaugeCell>;
using HistogramFamily = MetricFamily<HistogramCell>;

class MetricsRegistry {
 public:
  // The process's registry, used by the node's instrumentation (the RPC
  // faces and the log's alert counter, which have no other way to reach
  // one). Never null; never destroyed.
  static MetricsRegistry& Default();

  // The family `name`, registered on first call with `help` and
  // `label_names`; later calls return the same family (their help and
  // labels are ignored). The reference stays valid for the registry's life.
  CounterFamily& Counter(const std::string& name, const std::string& help,
                         std::vector<std::string> label_names = {});
  GaugeFamily& Gauge(const std::string& name, const std::string& help,
                     std::vector<std::string> label_names = {});
  // `bounds`: ascending upper bounds (+Inf is implied).
  HistogramFamily& Histogram(const std::string& name, const std::string& help,
                             std::vector<std::string> label_names,
                             std::vector<double> bounds);

  // Adds a collector run at each Render, after the registered families, in
  // the order added. Returns an id for RemoveCollector.
  int AddCollector(std::function<void(Exposition&)> collector);
  // Removes a collector; once this returns it is not running and will not
  // run again.
  void RemoveCollector(int id);

  // Every family and collector's samples in the text exposition format.
  std::string Render() const;

 private:
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<CounterFamily>> counters_ ABSL_GUARDED_BY(mu_);
  std::vector<std::unique_ptr<GaugeFamily>> gauges_ ABSL_GUARDED_BY(mu_);
  std::vector<std::unique_ptr<HistogramFamily>> histograms_
      ABSL_GUARDED_BY(mu_);
  // Held while collectors run, so RemoveCollector waits for a running one.
  mutable std::mutex collect_mu_;
  std::map<int, std::function<void(Exposition&)>> collectors_
      ABSL_GUARDED_BY(collect_mu_);
  int next_collector_ ABSL_GUARDED_BY(collect_mu_) = 0;
};

// The bucket bounds (seconds) of the RPC latency histograms: 1 ms to 30 s.
const std::vector<double>& RpcLatencyBuckets();

// `v` as the exposition format writes a value: shortest round-trip decimal,
// "+Inf", "-Inf" or "NaN".
std::string FormatMetricValue(double v);
// A label value escaped for the inside of its double quotes.
std::string EscapeLabelValue(std::string_view v);

// Counts one ALERT-<name> event (cbx_alerts_total{alert="<name>"}); `event`
// is the whole event name. Called by the node's log for every ALERT- event.
void CountAlert(std::string_view event);
// Makes the series of `event` exist at 0, so that a scrape shows every
// known alert before its first occurrence.
void DeclareAlert(std::string_view event);

}  // namespace cbx::node

#endif  // CBX_NODE_METRICS_H_
