#pragma once
// Prometheus metrics (text exposition format 0.0.4). Updating a metric is one or two relaxed
// atomic operations; only registration and the first use of a new label set take a lock.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <concepts>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ioc::obs {

//! Value for the Content-Type header of a scrape response.
inline constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

//! 0.5 ms .. 10 s, suited to request latencies.
std::vector<double> defaultLatencyBuckets();

//! Monotonically increasing count. Aligned to a cache line so that hot counters updated from
//! different cores do not falsely share one.
class alignas(64) Counter {
 public:
  void inc(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

//! Value that goes up and down. Stored as a double: integers are exact up to 2^53.
class alignas(64) Gauge {
 public:
  void set(double v) { value_.store(v, std::memory_order_relaxed); }
  void inc(double v = 1.0) { value_.fetch_add(v, std::memory_order_relaxed); }
  void dec(double v = 1.0) { value_.fetch_sub(v, std::memory_order_relaxed); }
  // Integer overloads so that set(queue.size()) or inc(1) is not ambiguous.
  template <std::integral T>
  void set(T v) {
    set(static_cast<double>(v));
  }
  template <std::integral T>
  void inc(T v) {
    inc(static_cast<double>(v));
  }
  template <std::integral T>
  void dec(T v) {
    dec(static_cast<double>(v));
  }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

//! Distribution of observations over fixed upper bounds (inclusive, Prometheus "le").
class Histogram {
 public:
  //! Throws std::invalid_argument unless bounds are finite and strictly increasing; +Inf is
  //! implicit.
  explicit Histogram(std::vector<double> bounds = defaultLatencyBuckets());

  void observe(double seconds) {
    // Linear scan: few buckets, and most observations land in the first ones. NaN goes to +Inf.
    size_t i = 0;
    while (i < bounds_.size() && !(seconds <= bounds_[i])) ++i;
    counts_[i].fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(seconds, std::memory_order_relaxed);
  }

  struct Snapshot {
    std::vector<uint64_t> cumulative;  // one per bound, then +Inf (== count)
    uint64_t count = 0;
    double sum = 0;
  };
  //! Buckets and sum are read separately, so a concurrent observe may show in one but not the
  //! other; count always equals the +Inf bucket.
  Snapshot snapshot() const;
  const std::vector<double>& bounds() const { return bounds_; }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // per bucket, not cumulative; last is +Inf
  std::atomic<double> sum_{0.0};
};

enum class MetricType { kCounter, kGauge, kHistogram };

namespace detail {

//! Orders label-value tuples; transparent so lookups need no allocation.
struct LabelLess {
  using is_transparent = void;
  template <typename A, typename B>
  bool operator()(const A& a, const B& b) const {
    return std::lexicographical_compare(
        a.begin(), a.end(), b.begin(), b.end(),
        [](std::string_view x, std::string_view y) { return x < y; });
  }
};

class FamilyBase {
 public:
  FamilyBase(std::string name, std::string help, MetricType type,
             std::vector<std::string> label_names)
      : name_(std::move(name)),
        help_(std::move(help)),
        type_(type),
        label_names_(std::move(label_names)) {}
  virtual ~FamilyBase() = default;
  FamilyBase(const FamilyBase&) = delete;
  FamilyBase& operator=(const FamilyBase&) = delete;

  const std::string& name() const { return name_; }
  MetricType type() const { return type_; }
  const std::vector<std::string>& labelNames() const { return label_names_; }
  //! Appends HELP, TYPE and samples; appends nothing while the family has no samples.
  virtual void render(std::string& out) const = 0;

 protected:
  std::string name_;
  std::string help_;
  MetricType type_;
  std::vector<std::string> label_names_;
};

}  // namespace detail

//! Metrics of one name, one child per tuple of label values. Obtain from a Registry.
template <typename M>
class Family final : public detail::FamilyBase {
 public:
  Family(std::string name, std::string help, std::vector<std::string> label_names,
         std::vector<double> bounds = {});

  //! Returns the child for these label values (in label-name order), creating it on first use.
  //! The reference stays valid for the registry's life. Lookups take a shared lock, so on hot
  //! paths with a fixed label set, call once and cache the reference. Throws
  //! std::invalid_argument if the number of values does not match the label names.
  M& with(std::initializer_list<std::string_view> values = {}) {
    return with(std::span<const std::string_view>(values.begin(), values.size()));
  }
  M& with(std::span<const std::string_view> values);

  void render(std::string& out) const override;

 private:
  friend class Registry;
  std::vector<double> bounds_;  // histograms only
  mutable std::shared_mutex mu_;
  std::map<std::vector<std::string>, M, detail::LabelLess> children_;
};

extern template class Family<Counter>;
extern template class Family<Gauge>;
extern template class Family<Histogram>;
using CounterFamily = Family<Counter>;
using GaugeFamily = Family<Gauge>;
using HistogramFamily = Family<Histogram>;

//! Set of metric families rendered together. Registration validates names and throws
//! std::invalid_argument on misuse: that is a start-up programming error, not runtime input.
//! Registering an existing name again with the same type and labels returns the same family
//! (the first help text wins). Families are never removed.
class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  CounterFamily& counter(std::string_view name, std::string_view help,
                         std::vector<std::string> label_names = {});
  GaugeFamily& gauge(std::string_view name, std::string_view help,
                     std::vector<std::string> label_names = {});
  HistogramFamily& histogram(std::string_view name, std::string_view help,
                             std::vector<std::string> label_names = {},
                             std::vector<double> bounds = defaultLatencyBuckets());

  //! Gauge whose value is read at scrape time, on the scraping thread. Registering the same name
  //! again replaces the callback (e.g. a restarted component). The callback must not register or
  //! remove this same gauge; if it throws, NaN is exposed.
  void gaugeCallback(std::string_view name, std::string_view help, std::function<double()> read);
  //! Stops calling the callback; once this returns it is not running and will not run again, so
  //! an owner can call this from its destructor.
  void removeGaugeCallback(std::string_view name);

  //! Text exposition, ordered by family name then label values.
  std::string render() const;

 private:
  template <typename M>
  Family<M>& getOrCreate(std::string_view name, std::string_view help,
                         std::vector<std::string> label_names, std::vector<double> bounds);
  void checkNameFree(const std::string& name, MetricType type) const;

  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<detail::FamilyBase>, std::less<>> families_;
};

//! Process-wide registry; never destroyed, so metrics may be updated during static teardown.
Registry& defaultRegistry();

//! Observes the seconds elapsed between construction and destruction (steady clock).
class ScopedTimer {
 public:
  explicit ScopedTimer(Histogram& histogram)
      : histogram_(&histogram), start_(std::chrono::steady_clock::now()) {}
  ~ScopedTimer() {
    if (histogram_ != nullptr) histogram_->observe(elapsedSeconds());
  }
  ScopedTimer(const ScopedTimer&) = delete;
  ScopedTimer& operator=(const ScopedTimer&) = delete;

  double elapsedSeconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }
  //! Records nothing on destruction (e.g. for requests that should not count toward latency).
  void cancel() { histogram_ = nullptr; }

 private:
  Histogram* histogram_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace ioc::obs
