#include "units/catalog.h"

#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <string>

namespace ioc::units {
namespace {

const std::string kDataFile = std::string(IOC_SOURCE_DIR) + "/data/admin/vn34_units_2025_full.json";

// Loaded once: every test reads the same immutable catalog, as the server does.
const UnitCatalog& catalog() {
  static const UnitCatalog* c = [] {
    auto loaded = UnitCatalog::loadFile(kDataFile);
    EXPECT_TRUE(loaded.ok()) << (loaded.ok() ? "" : loaded.error().message);
    return new UnitCatalog(loaded.ok() ? std::move(loaded).value() : UnitCatalog());
  }();
  return *c;
}

size_t countLevel(Level level) {
  size_t n = 0;
  for (const Unit& u : catalog().all()) n += u.level == level ? 1 : 0;
  return n;
}

bool contains(const std::vector<const Unit*>& units, std::string_view code) {
  for (const Unit* u : units) {
    if (u->code == code) return true;
  }
  return false;
}

TEST(UnitCatalog, LoadsTheRealFile) {
  EXPECT_EQ(catalog().size(), 34u + 3321u);
  EXPECT_EQ(countLevel(Level::kProvince), 34u);
  EXPECT_EQ(countLevel(Level::kCommune), 3321u);
  EXPECT_EQ(catalog().children("").size(), 34u);
  size_t communes = 0;
  for (const Unit* p : catalog().children("")) communes += catalog().children(p->code).size();
  EXPECT_EQ(communes, 3321u);
}

TEST(UnitCatalog, ProvinceHue) {
  const Unit* hue = catalog().find("46");
  ASSERT_NE(hue, nullptr);
  EXPECT_EQ(hue->name, "Huế");
  EXPECT_EQ(hue->level, Level::kProvince);
  EXPECT_EQ(hue->parent_code, "");
  EXPECT_EQ(hue->kind, "Thành phố");
  EXPECT_EQ(hue->kind_en, "City");
  const auto kids = catalog().children("46");
  EXPECT_EQ(kids.size(), 40u);
  for (size_t i = 0; i < kids.size(); ++i) {
    EXPECT_EQ(kids[i]->parent_code, "46");
    if (i > 0) {
      EXPECT_LT(kids[i - 1]->code, kids[i]->code);
    }
  }
}

TEST(UnitCatalog, FindCommune) {
  const Unit* u = catalog().find("00004");
  ASSERT_NE(u, nullptr);
  EXPECT_EQ(u->name, "Ba Đình");
  EXPECT_EQ(u->name_en, "Ba Dinh");
  EXPECT_EQ(u->full_name, "Phường Ba Đình");
  EXPECT_EQ(u->full_name_en, "Ba Dinh Ward");
  EXPECT_EQ(u->kind, "Phường");
  EXPECT_EQ(u->kind_en, "Ward");
  EXPECT_EQ(u->level, Level::kCommune);
  EXPECT_EQ(u->parent_code, "01");
  EXPECT_EQ(u->search_key, "ba dinh phuong ba dinh ba dinh");
  EXPECT_EQ(catalog().find("99999"), nullptr);
  EXPECT_EQ(catalog().find(""), nullptr);
  EXPECT_TRUE(catalog().children("00004").empty());
  EXPECT_TRUE(catalog().children("nope").empty());
}

TEST(UnitCatalog, CodesAreUniqueAndOrdered) {
  std::set<std::string> codes;
  for (const Unit& u : catalog().all()) EXPECT_TRUE(codes.insert(u.code).second) << u.code;
  EXPECT_EQ(catalog().all().front().code, "01");
  EXPECT_EQ(catalog().all()[34].level, Level::kCommune);
}

TEST(UnitCatalog, SearchFindsThuanHoaWithAndWithoutDiacritics) {
  // The file spells it "Thuận Hoá" (old tone placement), code 19789, in Huế.
  for (const char* q : {"thuan hoa", "Thuận Hóa", "Thuận Hoá", "THUẬN HOÁ", "hoa thuan"}) {
    UnitQuery query;
    query.q = q;
    const UnitPage page = catalog().query(query);
    EXPECT_TRUE(contains(page.items, "19789")) << q;
    EXPECT_EQ(page.total, page.items.size()) << q;
    query.parent = "46";
    const UnitPage in_hue = catalog().query(query);
    ASSERT_EQ(in_hue.total, 1u) << q;
    EXPECT_EQ(in_hue.items[0]->code, "19789");
    EXPECT_EQ(in_hue.items[0]->name, "Thuận Hoá");
  }
  UnitQuery none;
  none.q = "thuan hoa khong ton tai";
  EXPECT_EQ(catalog().query(none).total, 0u);
}

TEST(UnitCatalog, SearchByEnglishNameAndKind) {
  UnitQuery q;
  q.q = "Hanoi";
  q.level = Level::kProvince;
  const UnitPage page = catalog().query(q);
  ASSERT_EQ(page.total, 1u);
  EXPECT_EQ(page.items[0]->code, "01");
}

TEST(UnitCatalog, ParentAndLevelFilters) {
  UnitQuery q;
  q.parent = "46";
  EXPECT_EQ(catalog().query(q).total, 40u);
  q.level = Level::kProvince;
  EXPECT_EQ(catalog().query(q).total, 0u);
  q.level = Level::kCommune;
  q.q = "phuong";
  const UnitPage wards = catalog().query(q);
  EXPECT_GT(wards.total, 0u);
  EXPECT_LT(wards.total, 40u);
  for (const Unit* u : wards.items) EXPECT_EQ(u->kind, "Phường");
  q = UnitQuery{};
  q.parent = "zz";
  EXPECT_EQ(catalog().query(q).total, 0u);
  q = UnitQuery{};
  q.level = Level::kProvince;
  EXPECT_EQ(catalog().query(q).total, 34u);
}

TEST(UnitCatalog, PagingKeepsTotalAndOrder) {
  UnitQuery q;
  q.parent = "46";
  q.limit = 15;
  std::vector<std::string> seen;
  for (q.offset = 0; q.offset < 50; q.offset += q.limit) {
    const UnitPage page = catalog().query(q);
    EXPECT_EQ(page.total, 40u);
    for (const Unit* u : page.items) seen.push_back(u->code);
  }
  ASSERT_EQ(seen.size(), 40u);
  for (size_t i = 1; i < seen.size(); ++i) EXPECT_LT(seen[i - 1], seen[i]);
  q.offset = 30;
  EXPECT_EQ(catalog().query(q).items.size(), 10u);
  q.offset = 1000;
  EXPECT_TRUE(catalog().query(q).items.empty());
  EXPECT_EQ(catalog().query(q).total, 40u);
  q.offset = 0;
  q.limit = 0;
  EXPECT_TRUE(catalog().query(q).items.empty());
  q = UnitQuery{};  // default limit 100 over the whole country
  const UnitPage all = catalog().query(q);
  EXPECT_EQ(all.total, 3355u);
  EXPECT_EQ(all.items.size(), 100u);
}

TEST(UnitCatalog, IsWithin) {
  EXPECT_TRUE(catalog().isWithin("19789", "46"));   // ward within its province
  EXPECT_FALSE(catalog().isWithin("19789", "01"));  // not within another province
  EXPECT_FALSE(catalog().isWithin("00004", "46"));
  EXPECT_TRUE(catalog().isWithin("46", "46"));         // province within itself
  EXPECT_TRUE(catalog().isWithin("19789", "19789"));   // ward within itself
  EXPECT_FALSE(catalog().isWithin("46", "19789"));     // province not within its ward
  EXPECT_FALSE(catalog().isWithin("19900", "19789"));  // sibling wards
  EXPECT_TRUE(catalog().isWithin("19789", ""));        // empty ancestor = whole country
  EXPECT_TRUE(catalog().isWithin("46", ""));
  EXPECT_FALSE(catalog().isWithin("nope", "46"));
  EXPECT_FALSE(catalog().isWithin("nope", "nope"));
  EXPECT_FALSE(catalog().isWithin("", "46"));
}

TEST(UnitCatalog, ToJson) {
  const ioc::Json w = toJson(*catalog().find("19789"));
  EXPECT_EQ(w["code"], "19789");
  EXPECT_EQ(w["name"], "Thuận Hoá");
  EXPECT_EQ(w["name_en"], "Thuan Hoa");
  EXPECT_EQ(w["full_name"], "Phường Thuận Hoá");
  EXPECT_EQ(w["full_name_en"], "Thuan Hoa Ward");
  EXPECT_EQ(w["kind"], "Phường");
  EXPECT_EQ(w["kind_en"], "Ward");
  EXPECT_EQ(w["level"], "commune");
  EXPECT_EQ(w["parent_code"], "46");
  EXPECT_EQ(w.size(), 9u);
  const ioc::Json p = toJson(*catalog().find("46"));
  EXPECT_EQ(p["level"], "province");
  EXPECT_TRUE(p["parent_code"].is_null());
}

TEST(UnitCatalog, CopiesAndMovesStayConsistent) {
  const UnitCatalog copy = catalog();  // NOLINT(performance-unnecessary-copy-initialization)
  const Unit* u = copy.find("00004");
  ASSERT_NE(u, nullptr);
  EXPECT_EQ(u, &copy.all()[u - copy.all().data()]);
  EXPECT_NE(u, catalog().find("00004"));
  EXPECT_EQ(copy.children("46").size(), 40u);
  UnitCatalog moved = UnitCatalog(copy);
  const Unit* before = moved.find("46");
  const UnitCatalog target = std::move(moved);
  EXPECT_EQ(target.find("46"), before);  // pointers survive a move
}

// --- malformed inputs ---

constexpr const char* kMiniProvince = R"({"Type":"province","Code":"01","Name":"Hà Nội",
  "NameEn":"Hanoi","FullName":"Thành phố Hà Nội","FullNameEn":"Hanoi City",
  "AdministrativeUnitShortName":"Thành phố","AdministrativeUnitShortNameEn":"City",
  "Wards":[WARDS]})";

std::string ward(const std::string& code, const std::string& province = "01") {
  return R"({"Type":"ward","Code":")" + code + R"(","Name":"Ba Đình","NameEn":"Ba Dinh",
    "FullName":"Phường Ba Đình","FullNameEn":"Ba Dinh Ward","ProvinceCode":")" +
         province +
         R"(","AdministrativeUnitShortName":"Phường","AdministrativeUnitShortNameEn":"Ward"})";
}

std::string doc(const std::string& wards) {
  std::string p = kMiniProvince;
  p.replace(p.find("WARDS"), 5, wards);
  return "[" + p + "]";
}

void expectInvalid(const std::string& json, const std::string& needle) {
  auto r = UnitCatalog::loadJson(json);
  ASSERT_FALSE(r.ok()) << json;
  EXPECT_EQ(r.error().code, core::Errc::kInvalidArgument);
  EXPECT_NE(r.error().message.find(needle), std::string::npos) << r.error().message;
}

TEST(UnitCatalogLoad, MiniDocumentLoads) {
  auto r = UnitCatalog::loadJson(doc(ward("00004") + "," + ward("00008")));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->size(), 3u);
  EXPECT_EQ(r->children("01").size(), 2u);
  EXPECT_TRUE(r->isWithin("00008", "01"));
}

TEST(UnitCatalogLoad, MalformedInputsGiveErrors) {
  expectInvalid("", "JSON");
  expectInvalid("not json", "JSON");
  expectInvalid("[{\"Type\":", "JSON");
  expectInvalid("{}", "array");
  expectInvalid("[]", "no provinces");
  expectInvalid("[42]", "province #0");
  expectInvalid(doc(ward("00004") + "," + ward("00004")), "duplicate code 00004");
  expectInvalid(doc(ward("01")), "duplicate code 01");  // ward code clashing with a province
  expectInvalid(doc(ward("00004", "02")), "ProvinceCode '02'");
  expectInvalid(doc(ward("00004") + ",[1]"), "ward #1 of province 01");
  expectInvalid(doc(ward("0000x")), "ward 0000x: Code");

  std::string missing = ward("00007");
  missing.replace(missing.find("\"NameEn\""), 8, "\"Nickname\"");
  expectInvalid(doc(missing), "ward 00007: missing field 'NameEn'");

  std::string not_string = ward("00009");
  not_string.replace(not_string.find("\"Ba Dinh\""), 9, "123");
  expectInvalid(doc(not_string), "ward 00009: field 'NameEn' is not a string");

  std::string no_code = ward("00004");
  no_code.replace(no_code.find("\"Code\""), 6, "\"Kode\"");
  expectInvalid(doc(no_code), "missing field 'Code'");

  std::string wrong_type = ward("00004");
  wrong_type.replace(wrong_type.find("\"ward\""), 6, "\"province\"");
  expectInvalid(doc(wrong_type), "Type");

  std::string no_wards = doc("");
  no_wards.replace(no_wards.find("\"Wards\""), 7, "\"Words\"");
  expectInvalid(no_wards, "'Wards' must be an array");

  std::string bad_utf8 = doc(ward("00004"));
  bad_utf8.replace(bad_utf8.find("Ba Dinh"), 2, "B\xC3");
  expectInvalid(bad_utf8, "JSON");  // the parser rejects it before field checks
}

TEST(UnitCatalogLoad, MissingFileIsNotFound) {
  auto r = UnitCatalog::loadFile("/nonexistent/units.json");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, core::Errc::kNotFound);
}

}  // namespace
}  // namespace ioc::units
