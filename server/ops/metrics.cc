#include "server/ops/metrics.h"

#include <cmath>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace rexec::ops {
namespace {

void AppendHeader(std::string* out, const std::string& name,
                  const std::string& help, const char* type) {
  absl::StrAppend(out, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type,
                  "\n");
}

// A label value, escaped as the format asks: backslash, quote, newline.
std::string Escaped(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

// Shortest text that reads back as the value, for bucket bounds and sums.
std::string Number(double value) {
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  for (int digits = 6; digits < 17; ++digits) {
    std::string text = absl::StrFormat("%.*g", digits, value);
    if (std::strtod(text.c_str(), nullptr) == value) return text;
  }
  return absl::StrFormat("%.17g", value);
}

}  // namespace

Counter::Counter(std::string name, std::string help, std::vector<Label> labels)
    : name_(std::move(name)),
      help_(std::move(help)),
      labels_(std::move(labels)) {
  for (const Label& label : labels_) series_count_ *= label.values.size();
  series_.reset(new std::atomic<uint64_t>[series_count_]);
  for (size_t i = 0; i < series_count_; ++i) series_[i] = 0;
}

size_t Counter::SeriesOf(std::initializer_list<size_t> indices) const {
  size_t series = 0;
  size_t label = 0;
  for (size_t index : indices) {
    const size_t count = labels_[label++].values.size();
    // Out of range: the last value (each family's "other").
    series = series * count + std::min(index, count - 1);
  }
  return series;
}

void Counter::Add(std::initializer_list<size_t> indices, uint64_t n) {
  series_[SeriesOf(indices)].fetch_add(n, std::memory_order_relaxed);
}

uint64_t Counter::Value(std::initializer_list<size_t> indices) const {
  return series_[SeriesOf(indices)].load(std::memory_order_relaxed);
}

void Counter::Render(std::string* out) const {
  AppendHeader(out, name_, help_, "counter");
  for (size_t series = 0; series < series_count_; ++series) {
    // The series' label values, from its mixed-radix number.
    std::vector<std::string> parts(labels_.size());
    size_t rest = series;
    for (size_t i = labels_.size(); i-- > 0;) {
      const Label& label = labels_[i];
      parts[i] =
          absl::StrCat(label.name, "=\"",
                       Escaped(label.values[rest % label.values.size()]), "\"");
      rest /= label.values.size();
    }
    absl::StrAppend(out, name_);
    if (!parts.empty())
      absl::StrAppend(out, "{", absl::StrJoin(parts, ","), "}");
    absl::StrAppend(out, " ", series_[series].load(std::memory_order_relaxed),
                    "\n");
  }
}

Histogram::Histogram(std::string name, std::string help,
                     std::vector<double> bounds)
    : name_(std::move(name)),
      help_(std::move(help)),
      bounds_(std::move(bounds)) {
  buckets_.reset(new std::atomic<uint64_t>[bounds_.size() + 1]);
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i] = 0;
}

void Histogram::Observe(absl::Duration d) {
  const double seconds = absl::ToDoubleSeconds(d);
  size_t bucket = 0;
  while (bucket < bounds_.size() && seconds > bounds_[bucket]) ++bucket;
  buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_nanos_.fetch_add(absl::ToInt64Nanoseconds(d), std::memory_order_relaxed);
}

void Histogram::Render(std::string* out) const {
  AppendHeader(out, name_, help_, "histogram");
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    absl::StrAppend(out, name_, "_bucket{le=\"",
                    i < bounds_.size() ? Number(bounds_[i]) : "+Inf", "\"} ",
                    cumulative, "\n");
  }
  // The count is the +Inf bucket's, so that the two always agree in one
  // scrape even while observations land.
  absl::StrAppend(out, name_, "_sum ",
                  Number(sum_nanos_.load(std::memory_order_relaxed) / 1e9),
                  "\n", name_, "_count ", cumulative, "\n");
}

void RenderSample(
    std::string* out, const std::string& name, const std::string& help,
    const std::string& type,
    const std::vector<std::pair<std::string, std::string>>& labels,
    double value) {
  AppendHeader(out, name, help, type.c_str());
  std::vector<std::string> parts;
  for (const auto& [label, text] : labels) {
    parts.push_back(absl::StrCat(label, "=\"", Escaped(text), "\""));
  }
  absl::StrAppend(out, name);
  if (!parts.empty()) absl::StrAppend(out, "{", absl::StrJoin(parts, ","), "}");
  absl::StrAppend(out, " ", Number(value), "\n");
}

void RenderByLabel(std::string* out, const std::string& name,
                   const std::string& help, const std::string& type,
                   const std::string& label,
                   const std::vector<std::pair<std::string, double>>& series) {
  AppendHeader(out, name, help, type.c_str());
  for (const auto& [text, value] : series) {
    absl::StrAppend(out, name, "{", label, "=\"", Escaped(text), "\"} ",
                    Number(value), "\n");
  }
}

}  // namespace rexec::ops
