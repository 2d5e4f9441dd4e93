#include "indices/qcvn40.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <string>
#include <vector>

namespace ioc::indices {
namespace {

using json = ioc::Json;

const Qcvn40Table& table() {
  static const Qcvn40Table* t = [] {
    const std::string path = std::string(IOC_SOURCE_DIR) + "/data/indices/qcvn40_2011.json";
    std::ifstream in(path);
    EXPECT_TRUE(in.good()) << path;
    auto parsed = parseQcvn40Table(json::parse(in, nullptr, /*allow_exceptions=*/false));
    EXPECT_TRUE(parsed.ok()) << (parsed.ok() ? "" : parsed.error().message);
    return new Qcvn40Table(parsed.ok() ? std::move(parsed).value() : Qcvn40Table{});
  }();
  return *t;
}

TEST(Qcvn40Table, ShippedTableHasTheRequiredParameters) {
  EXPECT_EQ(table().standard, "QCVN 40:2011/BTNMT");
  const struct {
    const char* id;
    std::optional<double> a_min, a_max, b_min, b_max;
    bool apply_k;
  } rows[] = {
      {"ph", 6, 9, 5.5, 9, false},
      {"bod5", {}, 30, {}, 50, true},
      {"cod", {}, 75, {}, 150, true},
      {"tss", {}, 50, {}, 100, true},
      {"nh4_n", {}, 5, {}, 10, true},
      {"total_n", {}, 20, {}, 40, true},
      {"total_p", {}, 4, {}, 6, true},
      {"coliform", {}, 3000, {}, 5000, false},
      {"temperature", {}, 40, {}, 40, false},
  };
  for (const auto& row : rows) {
    const Qcvn40Parameter* p = table().find(row.id);
    ASSERT_NE(p, nullptr) << row.id;
    EXPECT_EQ(p->a.min, row.a_min) << row.id;
    EXPECT_EQ(p->a.max, row.a_max) << row.id;
    EXPECT_EQ(p->b.min, row.b_min) << row.id;
    EXPECT_EQ(p->b.max, row.b_max) << row.id;
    EXPECT_EQ(p->apply_k, row.apply_k) << row.id;
    EXPECT_FALSE(p->name_vi.empty());
    EXPECT_FALSE(p->name_en.empty());
  }
  EXPECT_EQ(table().find("mercury"), nullptr);
}

TEST(Qcvn40Table, RejectsBadTables) {
  const char* bad[] = {
      R"([])",
      R"({"parameters":[]})",
      R"({"parameters":[{"id":"x","name_vi":"x","name_en":"x","A":{"max":1}}]})",
      R"({"parameters":[{"id":"x","name_vi":"x","name_en":"x","A":{},"B":{"max":1}}]})",
      R"({"parameters":[{"id":"x","name_vi":"x","name_en":"x","A":{"max":0},"B":{"max":1}}]})",
      R"({"parameters":[{"id":"x","name_vi":"x","name_en":"x","A":{"min":9,"max":6},"B":{"max":1}}]})",
      R"({"parameters":[{"id":"x","name_vi":"x","name_en":"x","A":{"max":"1"},"B":{"max":1}}]})",
      R"({"parameters":[{"id":"x","name_vi":"x","name_en":"x","A":{"max":1},"B":{"max":1},"apply_k":1}]})",
      R"({"parameters":[{"id":"","name_vi":"x","name_en":"x","A":{"max":1},"B":{"max":1}}]})",
      R"({"parameters":[{"id":"x","name_vi":"x","name_en":"x","A":{"max":1},"B":{"max":1}},
                        {"id":"x","name_vi":"x","name_en":"x","A":{"max":1},"B":{"max":1}}]})",
  };
  for (const char* text : bad) {
    auto r = parseQcvn40Table(json::parse(text));
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.error().code, core::Errc::kInvalidArgument) << text;
  }
}

TEST(Qcvn40, CompliantSampleHasNoExceedances) {
  const std::vector<WastewaterSample> s = {{"ph", 7.2}, {"bod5", 30}, {"cod", 75},
                                           {"tss", 49}, {"nh4_n", 5}, {"coliform", 3000},
                                           {"ph", 6.0}, {"ph", 9.0},  {"temperature", 40}};
  auto r = wastewaterExceedances(table(), Qcvn40Column::kA, s);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->empty());  // values equal to the limit comply
}

TEST(Qcvn40, ExceedancesWithRatios) {
  const std::vector<WastewaterSample> s = {{"bod5", 45}, {"cod", 120},   {"tss", 80},
                                           {"ph", 5.8},  {"total_p", 5}, {"coliform", 4500}};
  auto a = wastewaterExceedances(table(), Qcvn40Column::kA, s);
  ASSERT_TRUE(a.ok());
  ASSERT_EQ(a->size(), 6u);
  EXPECT_EQ((*a)[0].parameter, "bod5");
  EXPECT_DOUBLE_EQ((*a)[0].limit, 30);
  EXPECT_DOUBLE_EQ((*a)[0].ratio, 1.5);
  EXPECT_EQ((*a)[0].bound, LimitBound::kMax);
  EXPECT_DOUBLE_EQ((*a)[1].ratio, 1.6);  // COD 120 / 75
  EXPECT_DOUBLE_EQ((*a)[2].ratio, 1.6);  // TSS 80 / 50
  EXPECT_EQ((*a)[3].parameter, "ph");
  EXPECT_EQ((*a)[3].bound, LimitBound::kMin);
  EXPECT_DOUBLE_EQ((*a)[3].limit, 6);
  EXPECT_NEAR((*a)[3].ratio, 5.8 / 6, 1e-12);
  EXPECT_DOUBLE_EQ((*a)[4].ratio, 1.25);  // total P 5 / 4
  EXPECT_DOUBLE_EQ((*a)[5].ratio, 1.5);   // coliform 4500 / 3000

  // Column B is looser: every value is within it, pH 5.8 included (≥ 5.5).
  auto b = wastewaterExceedances(table(), Qcvn40Column::kB, s);
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->empty());
}

TEST(Qcvn40, HighPh) {
  const std::vector<WastewaterSample> s = {{"ph", 10.8}};
  auto r = wastewaterExceedances(table(), Qcvn40Column::kB, s);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].bound, LimitBound::kMax);
  EXPECT_DOUBLE_EQ((*r)[0].ratio, 1.2);
}

TEST(Qcvn40, KqKfScaleOnlyWhereApplicable) {
  const DischargeFactors k{0.9, 1.1};  // Cmax = C × 0.99
  const Qcvn40Parameter& cod = *table().find("cod");
  EXPECT_NEAR(*permittedLimit(cod, Qcvn40Column::kB, k).max, 148.5, 1e-9);
  // Temperature, pH and coliform keep Cmax = C; pH's lower bound is never scaled.
  EXPECT_EQ(*permittedLimit(*table().find("temperature"), Qcvn40Column::kB, k).max, 40);
  EXPECT_EQ(*permittedLimit(*table().find("coliform"), Qcvn40Column::kA, k).max, 3000);
  const Qcvn40Limit ph = permittedLimit(*table().find("ph"), Qcvn40Column::kA, k);
  EXPECT_EQ(*ph.min, 6);
  EXPECT_EQ(*ph.max, 9);

  const std::vector<WastewaterSample> s = {{"cod", 149}, {"coliform", 5000}, {"temperature", 40}};
  auto r = wastewaterExceedances(table(), Qcvn40Column::kB, s, k);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1u);  // COD 149 > 148.5; the others sit on their unscaled limits
  EXPECT_EQ((*r)[0].parameter, "cod");
  EXPECT_NEAR((*r)[0].limit, 148.5, 1e-9);
  EXPECT_NEAR((*r)[0].ratio, 149 / 148.5, 1e-12);

  // Factors above 1 relax the limit: COD 149 is then within B.
  auto relaxed = wastewaterExceedances(table(), Qcvn40Column::kB, s, {1.1, 1.0});
  ASSERT_TRUE(relaxed.ok());
  EXPECT_TRUE(relaxed->empty());
}

TEST(Qcvn40, Errors) {
  const std::vector<WastewaterSample> unknown = {{"bod", 10}};
  auto r = wastewaterExceedances(table(), Qcvn40Column::kA, unknown);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, core::Errc::kInvalidArgument);
  const std::vector<WastewaterSample> nan = {{"cod", std::nan("")}};
  EXPECT_FALSE(wastewaterExceedances(table(), Qcvn40Column::kA, nan).ok());
  const std::vector<WastewaterSample> ok = {{"cod", 10}};
  EXPECT_FALSE(wastewaterExceedances(table(), Qcvn40Column::kA, ok, {0, 1}).ok());
  EXPECT_FALSE(wastewaterExceedances(table(), Qcvn40Column::kA, ok, {1, -1}).ok());
  EXPECT_FALSE(wastewaterExceedances(table(), Qcvn40Column::kA, ok, {1, NAN}).ok());
}

}  // namespace
}  // namespace ioc::indices
