#include "node/metrics.h"

#include <charconv>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace cbx::node {
namespace {

// HELP text escaping: backslash and newline (the format's rule for HELP).
std::string EscapeHelp(std::string_view help) {
  std::string out;
  out.reserve(help.size());
  for (char c : help) {
    if (c == '\\') {
      out.append("\\\\");
    } else if (c == '\n') {
      out.append("\\n");
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// name{k="v",...} value
std::string SampleLine(std::string_view name, const MetricLabels& labels,
                       double value) {
  std::string line(name);
  if (!labels.empty()) {
    line.push_back('{');
    for (size_t i = 0; i < labels.size(); ++i) {
      if (i > 0) line.push_back(',');
      absl::StrAppend(&line, labels[i].first, "=\"",
                      EscapeLabelValue(labels[i].second), "\"");
    }
    line.push_back('}');
  }
  absl::StrAppend(&line, " ", FormatMetricValue(value));
  return line;
}

const char* TypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

void AtomicAdd(std::atomic<double>& a, double by) {
  double old = a.load(std::memory_order_relaxed);
  while (!a.compare_exchange_weak(old, old + by, std::memory_order_relaxed)) {
  }
}

}  // namespace

std::string FormatMetricValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  if (ec != std::errc()) return "NaN";
  return std::string(buf, end);
}

std::string EscapeLabelValue(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out.append("\\\\");
    } else if (c == '"') {
      out.append("\\\"");
    } else if (c == '\n') {
      out.append("\\n");
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// --- Exposition --------------------------------------------------------------

Exposition::Family& Exposition::FamilyFor(std::string_view name,
                                          std::string_view help,
                                          MetricType type) {
  auto it = families_.find(name);
  if (it == families_.end()) {
    order_.emplace_back(name);
    it = families_
             .emplace(std::string(name), Family{std::string(help), type, {}})
             .first;
  }
  return it->second;
}

void Exposition::Add(std::string_view family, std::string_view help,
                     MetricType type, const MetricLabels& labels,
                     double value) {
  FamilyFor(family, help, type)
      .lines.push_back(SampleLine(family, labels, value));
}

void Exposition::AddHistogram(std::string_view family, std::string_view help,
                              const MetricLabels& labels,
                              const std::vector<double>& bounds,
                              const std::vector<uint64_t>& counts, double sum) {
  Family& f = FamilyFor(family, help, MetricType::kHistogram);
  const std::string bucket = absl::StrCat(std::string(family), "_bucket");
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= bounds.size(); ++i) {
    cumulative += i < counts.size() ? counts[i] : 0;
    MetricLabels with_le = labels;
    with_le.emplace_back("le", i < bounds.size() ? FormatMetricValue(bounds[i])
                                                 : std::string("+Inf"));
    f.lines.push_back(
        SampleLine(bucket, with_le, static_cast<double>(cumulative)));
  }
  f.lines.push_back(
      SampleLine(absl::StrCat(std::string(family), "_sum"), labels, sum));
  f.lines.push_back(SampleLine(absl::StrCat(std::string(family), "_count"),
                               labels, static_cast<double>(cumulative)));
}

std::string Exposition::Render() const {
  std::string out;
  for (const std::string& name : order_) {
    const Family& f = families_.find(name)->second;
    absl::StrAppend(&out, "# HELP ", name, " ", EscapeHelp(f.help), "\n");
    absl::StrAppend(&out, "# TYPE ", name, " ", TypeName(f.type), "\n");
    for (const std::string& line : f.lines) absl::StrAppend(&out, line, "\n");
  }
  return out;
}

// --- Cells -------------------------------------------------------------------

void CounterCell::Increment(double by) {
  if (by < 0) return;  // a counter never goes down
  AtomicAdd(value_, by);
}

void GaugeCell::Add(double by) { AtomicAdd(value_, by); }

void HistogramCell::Observe(double v) {
  size_t i = 0;
  while (i < bounds_->size() && v > (*bounds_)[i]) ++i;
  std::lock_guard<std::mutex> lock(mu_);
  ++counts_[i];
  sum_ += v;
}

void HistogramCell::Read(std::vector<uint64_t>* counts, double* sum) const {
  std::lock_guard<std::mutex> lock(mu_);
  *counts = counts_;
  *sum = sum_;
}

// --- Families ----------------------------------------------------------------

template <typename Cell>
Cell& MetricFamily<Cell>::With(const std::vector<std::string>& label_values) {
  std::lock_guard<std::mutex> lock(mu_);
  std::unique_ptr<Cell>& cell = cells_[label_values];
  if (cell == nullptr) {
    if constexpr (std::is_same_v<Cell, HistogramCell>) {
      cell = std::make_unique<Cell>(&bounds);
    } else {
      cell = std::make_unique<Cell>();
    }
  }
  return *cell;
}

template <typename Cell>
void MetricFamily<Cell>::ForEach(
    const std::function<void(const MetricLabels&, const Cell&)>& f) const {
  std::vector<std::pair<MetricLabels, const Cell*>> cells;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [values, cell] : cells_) {
      MetricLabels labels;
      for (size_t i = 0; i < label_names_.size() && i < values.size(); ++i) {
        labels.emplace_back(label_names_[i], values[i]);
      }
      cells.emplace_back(std::move(labels), cell.get());
    }
  }
  for (const auto& [labels, cell] : cells) f(labels, *cell);
}

template class MetricFamily<CounterCell>;
template class MetricFamily<GaugeCell>;
template class MetricFamily<HistogramCell>;

// --- Registry ----------------------------------------------------------------

MetricsRegistry& MetricsRegistry::Default() {
  static MetricsRegistry* registry = new MetricsRegistry();
  return *registry;
}

namespace {

template <typename Family>
Family& FindOrAdd(std::vector<std::unique_ptr<Family>>& families,
                  const std::string& name, const std::string& help,
                  std::vector<std::string> label_names) {
  for (const auto& f : families) {
    if (f->name() == name) return *f;
  }
  families.push_back(
      std::make_unique<Family>(name, help, std::move(label_names)));
  return *families.back();
}

}  // namespace

CounterFamily& MetricsRegistry::Counter(const std::string& name,
                                        const std::string& help,
                                        std::vector<std::string> label_names) {
  std::lock_guard<std::mutex> lock(mu_);
  return FindOrAdd(counters_, name, help, std::move(label_names));
}

GaugeFamily& MetricsRegistry::Gauge(const std::string& name,
                                    const std::string& help,
                                    std::vector<std::string> label_names) {
  std::lock_guard<std::mutex> lock(mu_);
  return FindOrAdd(gauges_, name, help, std::move(label_names));
}

HistogramFamily& MetricsRegistry::Histogram(
    const std::string& name, const std::string& help,
    std::vector<std::string> label_names, std::vector<double> bounds) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& f : histograms_) {
    if (f->name() == name) return *f;
  }
  auto family =
      std::make_unique<HistogramFamily>(name, help, std::move(label_names));
  family->bounds = std::move(bounds);
  histograms_.push_back(std::move(family));
  return *histograms_.back();
}

int MetricsRegistry::AddCollector(std::function<void(Exposition&)> collector) {
  std::lock_guard<std::mutex> lock(collect_mu_);
  int id = next_collector_++;
  collectors_.emplace(id, std::move(collector));
  return id;
}

void MetricsRegistry::RemoveCollector(int id) {
  std::lock_guard<std::mutex> lock(collect_mu_);
  collectors_.erase(id);
}

std::string MetricsRegistry::Render() const {
  Exposition out;
  std::vector<const CounterFamily*> counters;
  std::vector<const GaugeFamily*> gauges;
  std::vector<const HistogramFamily*> histograms;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& f : counters_) counters.push_back(f.get());
    for (const auto& f : gauges_) gauges.push_back(f.get());
    for (const auto& f : histograms_) histograms.push_back(f.get());
  }
  for (const CounterFamily* f : counters) {
    f->ForEach([&](const MetricLabels& labels, const CounterCell& cell) {
      out.Counter(f->name(), f->help(), labels, cell.value());
    });
  }
  for (const GaugeFamily* f : gauges) {
    f->ForEach([&](const MetricLabels& labels, const GaugeCell& cell) {
      out.Gauge(f->name(), f->help(), labels, cell.value());
    });
  }
  for (const HistogramFamily* f : histograms) {
    f->ForEach([&](const MetricLabels& labels, const HistogramCell& cell) {
      std::vector<uint64_t> counts;
      double sum = 0;
      cell.Read(&counts, &sum);
      out.AddHistogram(f->name(), f->help(), labels, f->bounds, counts, sum);
    });
  }
  {
    std::lock_guard<std::mutex> lock(collect_mu_);
    for (const auto& [id, collector] : collectors_) collector(out);
  }
  return out.Render();
}

const std::vector<double>& RpcLatencyBuckets() {
  static const std::vector<double> kBuckets = {
      0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
      0.25,  0.5,    1,     2.5,  5,     10,   30};
  return kBuckets;
}

namespace {

// The series of cbx_alerts_total for `event` (ALERT-<name>), made at 0 the
// first time.
auto& AlertCell(std::string_view event) {
  std::string_view name = event;
  if (name.substr(0, 6) == "ALERT-") name.remove_prefix(6);
  return MetricsRegistry::Default()
      .Counter("cbx_alerts_total",
               "ALERT- events the node logged since it started, by alert "
               "(the event name without ALERT-).",
               {"alert"})
      .With({std::string(name)});
}

}  // namespace

void CountAlert(std::string_view event) { AlertCell(event).Increment(); }

void DeclareAlert(std::string_view event) { (void)AlertCell(event); }

}  // namespace cbx::node
