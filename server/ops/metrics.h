// The Prometheus metrics of one server, and their text exposition format
// (https://prometheus.io/docs/instrumenting/exposition_formats/). Debian 12
// has no prometheus-cpp; what rexecd needs of it is small: counters and one
// histogram whose label values are all known up front (an RPC, a status
// code, a reason), so each series is one atomic and recording takes no
// lock, and gauges rendered from what is read when scraped.
//
// Thread-safe: Add() and Observe() from any thread, Render() too.
#ifndef REXEC_SERVER_OPS_METRICS_H_
#define REXEC_SERVER_OPS_METRICS_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"

namespace rexec::ops {

// A label and every value it may take.
struct Label {
  std::string name;
  std::vector<std::string> values;
};

// A counter with a series for each combination of its labels' values.
class Counter {
 public:
  Counter(std::string name, std::string help, std::vector<Label> labels = {});
  // `indices` picks one value of each label, in order.
  void Add(std::initializer_list<size_t> indices, uint64_t n = 1);
  uint64_t Value(std::initializer_list<size_t> indices) const;
  void Render(std::string* out) const;

 private:
  size_t SeriesOf(std::initializer_list<size_t> indices) const;

  const std::string name_, help_;
  const std::vector<Label> labels_;
  std::unique_ptr<std::atomic<uint64_t>[]> series_;
  size_t series_count_ = 1;
};

// Durations, in seconds, in cumulative buckets.
class Histogram {
 public:
  Histogram(std::string name, std::string help, std::vector<double> bounds);
  void Observe(absl::Duration d);
  void Render(std::string* out) const;

 private:
  const std::string name_, help_;
  const std::vector<double> bounds_;
  // One per bound, plus +Inf; not cumulative until rendered.
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;
  std::atomic<uint64_t> count_{0};
  std::atomic<int64_t> sum_nanos_{0};
};

// "# HELP", "# TYPE" and one line per series, for a metric of its own
// (build info, say): `labels` as name and value pairs.
void RenderSample(
    std::string* out, const std::string& name, const std::string& help,
    const std::string& type,
    const std::vector<std::pair<std::string, std::string>>& labels,
    double value);

// The same for one label: a series for each (value, sample).
void RenderByLabel(std::string* out, const std::string& name,
                   const std::string& help, const std::string& type,
                   const std::string& label,
                   const std::vector<std::pair<std::string, double>>& series);

}  // namespace rexec::ops

#endif  // REXEC_SERVER_OPS_METRICS_H_
