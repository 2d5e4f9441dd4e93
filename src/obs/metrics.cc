#include "obs/metrics.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <type_traits>

namespace ioc::obs {
namespace {

bool isAlpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool isDigit(char c) {
  return c >= '0' && c <= '9';
}

void validateMetricName(std::string_view name) {
  bool ok = !name.empty() && (isAlpha(name[0]) || name[0] == ':');
  for (char c : name) ok = ok && (isAlpha(c) || isDigit(c) || c == ':');
  if (!ok) throw std::invalid_argument("invalid metric name '" + std::string(name) + "'");
}

// Label names are stricter than metric names: no ':' and no reserved "__" prefix.
void validateLabelNames(const std::vector<std::string>& names, MetricType type) {
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string& name = names[i];
    bool ok = !name.empty() && isAlpha(name[0]) && !name.starts_with("__");
    for (char c : name) ok = ok && (isAlpha(c) || isDigit(c));
    if (!ok) throw std::invalid_argument("invalid label name '" + name + "'");
    if (type == MetricType::kHistogram && name == "le") {
      throw std::invalid_argument("label name 'le' is reserved for histogram buckets");
    }
    for (size_t j = 0; j < i; ++j) {
      if (names[j] == name) throw std::invalid_argument("duplicate label name '" + name + "'");
    }
  }
}

void validateBounds(const std::vector<double>& bounds) {
  for (size_t i = 0; i < bounds.size(); ++i) {
    if (!std::isfinite(bounds[i]) || (i > 0 && !(bounds[i - 1] < bounds[i]))) {
      throw std::invalid_argument("histogram bounds must be finite and strictly increasing");
    }
  }
}

template <typename M>
constexpr MetricType typeOf() {
  if constexpr (std::is_same_v<M, Counter>) return MetricType::kCounter;
  if constexpr (std::is_same_v<M, Gauge>) return MetricType::kGauge;
  if constexpr (std::is_same_v<M, Histogram>) return MetricType::kHistogram;
}

const char* typeName(MetricType type) {
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

void appendUint(std::string& out, uint64_t v) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, res.ptr);
}

// Plain decimals for the usual magnitudes (so "le" reads 0.0005, not 5e-04), exponent otherwise;
// always the shortest text that parses back to the same double.
void appendDouble(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
    return;
  }
  if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
    return;
  }
  double a = std::fabs(v);
  auto fmt = (a == 0 || (a >= 1e-4 && a < 1e15)) ? std::chars_format::fixed
                                                 : std::chars_format::scientific;
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v, fmt);
  out.append(buf, res.ptr);
}

[[noreturn]] void throwClash(const std::string& metric, const std::string& histogram) {
  throw std::invalid_argument("metric " + metric + " clashes with histogram " + histogram);
}

std::string formatDouble(double v) {
  std::string s;
  appendDouble(s, v);
  return s;
}

// HELP text escapes backslash and newline; label values also escape the double quote.
void appendEscaped(std::string& out, std::string_view s, bool quote) {
  for (char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (quote && c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

void appendHeader(std::string& out, const std::string& name, const std::string& help,
                  MetricType type) {
  out += "# HELP ";
  out += name;
  out += ' ';
  appendEscaped(out, help, false);
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += typeName(type);
  out += '\n';
}

// `le` is empty except for histogram buckets.
void appendLabels(std::string& out, const std::vector<std::string>& names,
                  const std::vector<std::string>& values, std::string_view le = {}) {
  if (names.empty() && le.empty()) return;
  out += '{';
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ',';
    out += names[i];
    out += "=\"";
    appendEscaped(out, values[i], true);
    out += '"';
  }
  if (!le.empty()) {
    if (!names.empty()) out += ',';
    out += "le=\"";
    out += le;
    out += '"';
  }
  out += '}';
}

class CallbackGauge final : public detail::FamilyBase {
 public:
  CallbackGauge(std::string name, std::string help, std::function<double()> read)
      : FamilyBase(std::move(name), std::move(help), MetricType::kGauge, {}),
        read_(std::move(read)) {}

  void set(std::function<double()> read) {
    std::lock_guard lock(mu_);
    read_ = std::move(read);
  }

  void render(std::string& out) const override {
    double v = 0;
    {
      // Held while the callback runs so that set()/remove wait for an in-flight call.
      std::lock_guard lock(mu_);
      if (!read_) return;
      try {
        v = read_();
      } catch (...) {
        v = std::numeric_limits<double>::quiet_NaN();
      }
    }
    appendHeader(out, name_, help_, type_);
    out += name_;
    out += ' ';
    appendDouble(out, v);
    out += '\n';
  }

 private:
  mutable std::mutex mu_;
  std::function<double()> read_;
};

}  // namespace

std::vector<double> defaultLatencyBuckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      counts_(std::make_unique<std::atomic<uint64_t>[]>(bounds_.size() + 1)) {
  validateBounds(bounds_);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  s.cumulative.resize(bounds_.size() + 1);
  uint64_t total = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    total += counts_[i].load(std::memory_order_relaxed);
    s.cumulative[i] = total;
  }
  s.count = total;
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

template <typename M>
Family<M>::Family(std::string name, std::string help, std::vector<std::string> label_names,
                  std::vector<double> bounds)
    : FamilyBase(std::move(name), std::move(help), typeOf<M>(), std::move(label_names)),
      bounds_(std::move(bounds)) {
  validateBounds(bounds_);
  // An unlabelled metric exists from registration, so it is exposed as 0 before first use.
  if (label_names_.empty()) with();
}

template <typename M>
M& Family<M>::with(std::span<const std::string_view> values) {
  if (values.size() != label_names_.size()) {
    throw std::invalid_argument("metric " + name_ + " expects " +
                                std::to_string(label_names_.size()) + " label values, got " +
                                std::to_string(values.size()));
  }
  {
    std::shared_lock lock(mu_);
    auto it = children_.find(values);
    if (it != children_.end()) return it->second;
  }
  std::unique_lock lock(mu_);
  // try_emplace keeps the child another thread may have created between the two locks.
  std::vector<std::string> key(values.begin(), values.end());
  if constexpr (std::is_same_v<M, Histogram>) {
    return children_.try_emplace(std::move(key), bounds_).first->second;
  } else {
    return children_.try_emplace(std::move(key)).first->second;
  }
}

template <typename M>
void Family<M>::render(std::string& out) const {
  std::shared_lock lock(mu_);
  if (children_.empty()) return;
  appendHeader(out, name_, help_, type_);
  if constexpr (std::is_same_v<M, Histogram>) {
    std::vector<std::string> les;
    les.reserve(bounds_.size() + 1);
    for (double b : bounds_) les.push_back(formatDouble(b));
    les.emplace_back("+Inf");
    for (const auto& [values, h] : children_) {
      Histogram::Snapshot snap = h.snapshot();
      for (size_t i = 0; i < les.size(); ++i) {
        out += name_;
        out += "_bucket";
        appendLabels(out, label_names_, values, les[i]);
        out += ' ';
        appendUint(out, snap.cumulative[i]);
        out += '\n';
      }
      out += name_;
      out += "_sum";
      appendLabels(out, label_names_, values);
      out += ' ';
      appendDouble(out, snap.sum);
      out += '\n';
      out += name_;
      out += "_count";
      appendLabels(out, label_names_, values);
      out += ' ';
      appendUint(out, snap.count);
      out += '\n';
    }
  } else {
    for (const auto& [values, m] : children_) {
      out += name_;
      appendLabels(out, label_names_, values);
      out += ' ';
      if constexpr (std::is_same_v<M, Counter>) {
        appendUint(out, m.value());
      } else {
        appendDouble(out, m.value());
      }
      out += '\n';
    }
  }
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

// A histogram "x" also exposes x_bucket, x_sum and x_count; no other family may use those.
void Registry::checkNameFree(const std::string& name, MetricType type) const {
  for (std::string_view suffix : {"_bucket", "_sum", "_count"}) {
    std::string derived = name;
    derived += suffix;
    if (type == MetricType::kHistogram && families_.contains(derived)) {
      throwClash(derived, name);
    }
    if (name.ends_with(suffix)) {
      auto it = families_.find(std::string_view(name).substr(0, name.size() - suffix.size()));
      if (it != families_.end() && it->second->type() == MetricType::kHistogram) {
        throwClash(name, it->first);
      }
    }
  }
}

template <typename M>
Family<M>& Registry::getOrCreate(std::string_view name, std::string_view help,
                                 std::vector<std::string> label_names, std::vector<double> bounds) {
  validateMetricName(name);
  validateLabelNames(label_names, typeOf<M>());
  std::lock_guard lock(mu_);
  if (auto it = families_.find(name); it != families_.end()) {
    auto* existing = dynamic_cast<Family<M>*>(it->second.get());
    if (existing == nullptr || existing->labelNames() != label_names ||
        existing->bounds_ != bounds) {
      throw std::invalid_argument("metric " + std::string(name) +
                                  " already registered with another type, labels or buckets");
    }
    return *existing;
  }
  std::string key(name);
  checkNameFree(key, typeOf<M>());
  auto family = std::make_unique<Family<M>>(key, std::string(help), std::move(label_names),
                                            std::move(bounds));
  Family<M>& ref = *family;
  families_.emplace(std::move(key), std::move(family));
  return ref;
}

CounterFamily& Registry::counter(std::string_view name, std::string_view help,
                                 std::vector<std::string> label_names) {
  return getOrCreate<Counter>(name, help, std::move(label_names), {});
}

GaugeFamily& Registry::gauge(std::string_view name, std::string_view help,
                             std::vector<std::string> label_names) {
  return getOrCreate<Gauge>(name, help, std::move(label_names), {});
}

HistogramFamily& Registry::histogram(std::string_view name, std::string_view help,
                                     std::vector<std::string> label_names,
                                     std::vector<double> bounds) {
  return getOrCreate<Histogram>(name, help, std::move(label_names), std::move(bounds));
}

void Registry::gaugeCallback(std::string_view name, std::string_view help,
                             std::function<double()> read) {
  validateMetricName(name);
  std::lock_guard lock(mu_);
  if (auto it = families_.find(name); it != families_.end()) {
    auto* existing = dynamic_cast<CallbackGauge*>(it->second.get());
    if (existing == nullptr) {
      throw std::invalid_argument("metric " + std::string(name) + " is not a callback gauge");
    }
    existing->set(std::move(read));
    return;
  }
  std::string key(name);
  checkNameFree(key, MetricType::kGauge);
  auto family = std::make_unique<CallbackGauge>(key, std::string(help), std::move(read));
  families_.emplace(std::move(key), std::move(family));
}

void Registry::removeGaugeCallback(std::string_view name) {
  std::lock_guard lock(mu_);
  auto it = families_.find(name);
  if (it == families_.end()) return;
  auto* existing = dynamic_cast<CallbackGauge*>(it->second.get());
  if (existing == nullptr) {
    throw std::invalid_argument("metric " + std::string(name) + " is not a callback gauge");
  }
  // The family stays (a concurrent render may hold a pointer to it); it just renders nothing.
  existing->set(nullptr);
}

std::string Registry::render() const {
  // Copy the family list so callbacks and rendering run without the registry lock; families
  // are never removed, so the pointers stay valid.
  std::vector<const detail::FamilyBase*> families;
  {
    std::lock_guard lock(mu_);
    families.reserve(families_.size());
    for (const auto& entry : families_) families.push_back(entry.second.get());
  }
  std::string out;
  for (const detail::FamilyBase* family : families) family->render(out);
  return out;
}

Registry& defaultRegistry() {
  // Leaked on purpose: threads may still update metrics while statics are destroyed.
  static Registry* const registry = new Registry();
  return *registry;
}

}  // namespace ioc::obs
