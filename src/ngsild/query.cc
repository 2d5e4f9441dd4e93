#include "ngsild/query.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <exception>
#include <limits>
#include <optional>
#include <regex>
#include <system_error>
#include <utility>

#include "core/clock.h"

namespace ioc::ngsild {
namespace {

using json = ioc::Json;

enum class Op { kExists, kNotExists, kEq, kNe, kGt, kGe, kLt, kLe, kMatch, kNotMatch };

enum class Temporal { kNone, kDateTime, kDate, kTime };

struct Value {
  enum class Kind { kNumber, kString, kBool };
  Kind kind = Kind::kString;
  double num = 0;
  bool is_int = false;  // integer literal that fits int64: compared exactly against JSON integers
  std::int64_t i = 0;
  bool b = false;
  std::string str;
  Temporal temporal = Temporal::kNone;
  std::int64_t tkey = 0;  // DateTime: µs since epoch; Date: days since epoch; Time: µs of day
};

struct Path {
  std::string attr;               // first segment, expanded
  std::vector<std::string> subs;  // dotted sub-attributes (or metadata members)
  std::vector<std::string> keys;  // [key] selectors into the value
};

struct Term {
  Path path;
  Op op = Op::kExists;
  std::vector<Value> values;  // one value, a value list, or {min, max} when is_range
  bool is_range = false;
  std::optional<std::regex> regex;
};

struct Node {
  enum class Kind { kTerm, kAnd, kOr };
  Kind kind = Kind::kTerm;
  std::size_t term = 0;
  std::vector<Node> kids;
};

constexpr int kIncomparable = 2;

// ---- Temporal values ----------------------------------------------------------------------------

bool isDigit(char c) {
  return c >= '0' && c <= '9';
}

bool readDigits(std::string_view s, std::size_t& pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (std::size_t k = 0; k < n; ++k) {
    const char c = s[pos + k];
    if (!isDigit(c)) return false;
    v = v * 10 + (c - '0');
  }
  pos += n;
  out = v;
  return true;
}

bool parseDate(std::string_view s, std::size_t& pos, std::int64_t& days) {
  int y = 0, m = 0, d = 0;
  if (!readDigits(s, pos, 4, y) || pos >= s.size() || s[pos++] != '-' ||
      !readDigits(s, pos, 2, m) || pos >= s.size() || s[pos++] != '-' ||
      !readDigits(s, pos, 2, d)) {
    return false;
  }
  static constexpr int kMonthDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12 || d < 1 || d > kMonthDays[m - 1]) return false;
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (m == 2 && d == 29 && !leap) return false;
  days = core::daysFromCivil(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
  return true;
}

// hh:mm[:ss[.fraction]] -> µs of the day.
bool parseTimeOfDay(std::string_view s, std::size_t& pos, std::int64_t& us) {
  int h = 0, mi = 0, sec = 0;
  if (!readDigits(s, pos, 2, h) || pos >= s.size() || s[pos++] != ':' ||
      !readDigits(s, pos, 2, mi)) {
    return false;
  }
  std::int64_t frac = 0;
  if (pos < s.size() && s[pos] == ':') {
    ++pos;
    if (!readDigits(s, pos, 2, sec)) return false;
    if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
      ++pos;
      std::size_t n = 0;
      std::int64_t scale = 100000;
      while (pos < s.size() && isDigit(s[pos])) {
        if (n < 6) {
          frac += (s[pos] - '0') * scale;
          scale /= 10;
        }
        ++pos;
        ++n;
      }
      if (n == 0) return false;
    }
  }
  if (h > 23 || mi > 59 || sec > 60) return false;
  us = ((static_cast<std::int64_t>(h) * 60 + mi) * 60 + sec) * 1000000 + frac;
  return true;
}

// Optional "Z", "±hh:mm" or "±hhmm" -> µs to subtract to get UTC.
bool parseOffset(std::string_view s, std::size_t& pos, std::int64_t& us) {
  us = 0;
  if (pos == s.size()) return true;
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
    return true;
  }
  if (s[pos] != '+' && s[pos] != '-') return false;
  const bool neg = s[pos++] == '-';
  int h = 0, m = 0;
  if (!readDigits(s, pos, 2, h)) return false;
  if (pos < s.size() && s[pos] == ':') ++pos;
  if (!readDigits(s, pos, 2, m) || h > 23 || m > 59) return false;
  us = (static_cast<std::int64_t>(h) * 60 + m) * 60 * 1000000;
  if (neg) us = -us;
  return true;
}

Temporal classifyTemporal(std::string_view s, std::int64_t& key) {
  if (s.size() < 5 || s.size() > 64 || !isDigit(s[0])) return Temporal::kNone;
  std::size_t pos = 0;
  std::int64_t days = 0;
  if (parseDate(s, pos, days)) {
    if (pos == s.size()) {
      key = days;
      return Temporal::kDate;
    }
    if (s[pos] != 'T' && s[pos] != 't') return Temporal::kNone;
    ++pos;
    std::int64_t tod = 0, off = 0;
    if (!parseTimeOfDay(s, pos, tod) || !parseOffset(s, pos, off) || pos != s.size()) {
      return Temporal::kNone;
    }
    key = days * 86400LL * 1000000 + tod - off;
    return Temporal::kDateTime;
  }
  pos = 0;
  std::int64_t tod = 0, off = 0;
  if (parseTimeOfDay(s, pos, tod) && parseOffset(s, pos, off) && pos == s.size()) {
    key = tod - off;
    return Temporal::kTime;
  }
  return Temporal::kNone;
}

// ---- Query values -------------------------------------------------------------------------------

Value stringValue(std::string s) {
  Value v;
  v.kind = Value::Kind::kString;
  v.temporal = classifyTemporal(s, v.tkey);
  v.str = std::move(s);
  return v;
}

// -?digits[.digits][(e|E)[+-]digits]
bool looksNumeric(std::string_view s, bool& integral) {
  std::size_t p = 0;
  integral = true;
  if (p < s.size() && s[p] == '-') ++p;
  const std::size_t int_start = p;
  while (p < s.size() && isDigit(s[p])) ++p;
  if (p == int_start) return false;
  if (p < s.size() && s[p] == '.') {
    integral = false;
    const std::size_t f = ++p;
    while (p < s.size() && isDigit(s[p])) ++p;
    if (p == f) return false;
  }
  if (p < s.size() && (s[p] == 'e' || s[p] == 'E')) {
    integral = false;
    ++p;
    if (p < s.size() && (s[p] == '+' || s[p] == '-')) ++p;
    const std::size_t e = p;
    while (p < s.size() && isDigit(s[p])) ++p;
    if (p == e) return false;
  }
  return p == s.size();
}

// ---- Evaluation ---------------------------------------------------------------------------------

int sign(auto a, auto b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

// -1/0/1 comparing target `t` with `v`, or kIncomparable when their types differ.
int compare(const json& t, const Value& v) {
  switch (v.kind) {
    case Value::Kind::kNumber:
      if (!t.is_number()) return kIncomparable;
      if (v.is_int && t.is_number_integer()) {
        if (t.is_number_unsigned()) {
          const auto u = t.get<std::uint64_t>();
          if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return 1;
          return sign(static_cast<std::int64_t>(u), v.i);
        }
        return sign(t.get<std::int64_t>(), v.i);
      }
      return sign(t.get<double>(), v.num);
    case Value::Kind::kBool:
      if (!t.is_boolean()) return kIncomparable;
      return sign(t.get<bool>(), v.b);
    case Value::Kind::kString: {
      if (!t.is_string()) return kIncomparable;
      const auto& s = t.get_ref<const std::string&>();
      if (v.temporal != Temporal::kNone) {
        std::int64_t key = 0;
        if (classifyTemporal(s, key) == v.temporal) return sign(key, v.tkey);
      }
      const int c = s.compare(v.str);
      return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
  }
  return kIncomparable;
}

struct Target {
  const json* v;
  bool rel;             // a Relationship's object: only == and != apply
  bool millis = false;  // createdAt/modifiedAt held as Unix ms: compared as their date-time text
};

const json* member(const json& o, std::string_view key) {
  if (!o.is_object()) return nullptr;
  const auto it = o.find(key);
  return it == o.end() ? nullptr : &*it;
}

bool isMetadataMember(std::string_view s) {
  return s == "observedAt" || s == "unitCode" || s == "datasetId" || s == "createdAt" ||
         s == "modifiedAt" || s == "deletedAt" || s == "instanceId" || s == "lang";
}

bool isReservedMember(std::string_view s) {
  return s == "type" || s == "value" || s == "object" || s == "languageMap" || s == "vocab" ||
         s == "valueList" || s == "objectList" || s == "id" || s == "@context";
}

// An attribute is one object, or an array of objects (one instance per datasetId).
void addInstances(const json& a, std::vector<const json*>& out) {
  if (a.is_object()) {
    out.push_back(&a);
  } else if (a.is_array()) {
    for (const auto& e : a) {
      if (e.is_object()) out.push_back(&e);
    }
  }
}

void addFlat(const json& v, bool rel, std::vector<Target>& out) {
  auto add = [&](const json& e) {
    // ListRelationship objectList entries are {"object": "urn:..."}.
    const json* obj = rel && e.is_object() ? member(e, "object") : nullptr;
    out.push_back({obj ? obj : &e, rel});
  };
  if (v.is_array()) {
    for (const auto& e : v) add(e);
  } else {
    add(v);
  }
}

// Selects [key] inside values; arrays along the way are searched element-wise.
std::vector<const json*> selectKeys(std::vector<const json*> cur,
                                    const std::vector<std::string>& keys) {
  for (const auto& key : keys) {
    std::vector<const json*> next;
    for (const json* j : cur) {
      if (j->is_array()) {
        for (const auto& e : *j) {
          if (const json* m = member(e, key)) next.push_back(m);
        }
      } else if (const json* m = member(*j, key)) {
        next.push_back(m);
      }
    }
    cur = std::move(next);
    if (cur.empty()) break;
  }
  return cur;
}

// Fills `targets` with the values `path` addresses in `entity`; returns whether it exists.
bool resolve(const Path& path, const json& entity, std::vector<Target>& targets) {
  const json* attr = member(entity, path.attr);
  if (!attr) return false;
  std::vector<const json*> nodes;
  addInstances(*attr, nodes);
  for (std::size_t i = 0; i < path.subs.size() && !nodes.empty(); ++i) {
    const std::string& seg = path.subs[i];
    const bool last = i + 1 == path.subs.size();
    if (isMetadataMember(seg)) {
      if (!last) return false;
      std::vector<const json*> values;
      for (const json* n : nodes) {
        const json* m = member(*n, seg);
        if (m && !m->is_object() && !m->is_null()) values.push_back(m);
      }
      if (!path.keys.empty()) values = selectKeys(std::move(values), path.keys);
      for (const json* m : values) addFlat(*m, false, targets);
      if (seg == "createdAt" || seg == "modifiedAt") {
        for (auto& t : targets) t.millis = t.v->is_number_integer();
      }
      return !values.empty();
    }
    std::vector<const json*> next;
    if (!isReservedMember(seg)) {
      for (const json* n : nodes) {
        if (const json* m = member(*n, seg)) addInstances(*m, next);
      }
    }
    nodes = std::move(next);
  }
  if (nodes.empty()) return false;

  // The value of each attribute instance.
  bool exists = path.keys.empty();
  for (const json* n : nodes) {
    const json* type = member(*n, "type");
    const std::string_view t =
        type && type->is_string() ? std::string_view(type->get_ref<const std::string&>()) : "";
    const json* v = nullptr;
    bool rel = false;
    bool lang = false;
    if (t == "Relationship" || (t.empty() && member(*n, "object"))) {
      v = member(*n, "object");
      rel = true;
    } else if (t == "ListRelationship" || (t.empty() && member(*n, "objectList"))) {
      v = member(*n, "objectList");
      rel = true;
    } else if (t == "LanguageProperty" || (t.empty() && member(*n, "languageMap"))) {
      v = member(*n, "languageMap");
      lang = true;
    } else if (t == "VocabProperty" || (t.empty() && member(*n, "vocab"))) {
      v = member(*n, "vocab");
    } else if (t == "ListProperty" || (t.empty() && member(*n, "valueList"))) {
      v = member(*n, "valueList");
    } else {
      v = member(*n, "value");
    }
    if (!v || v->is_null()) continue;
    if (!path.keys.empty()) {
      const auto selected = selectKeys({v}, path.keys);
      if (!selected.empty()) exists = true;
      for (const json* s : selected) addFlat(*s, rel, targets);
    } else if (lang) {
      if (v->is_object()) {
        for (const auto& [k, text] : v->items()) addFlat(text, false, targets);
      }
    } else {
      addFlat(*v, rel, targets);
    }
  }
  return exists;
}

// kIncomparable, 0 (comparable, no match) or 1 (match) for == semantics of one target.
int equalsAny(const json& t, const Term& term) {
  if (term.is_range) {
    const int lo = compare(t, term.values[0]);
    const int hi = compare(t, term.values[1]);
    if (lo == kIncomparable || hi == kIncomparable) return kIncomparable;
    return lo >= 0 && hi <= 0 ? 1 : 0;
  }
  int result = kIncomparable;
  for (const auto& v : term.values) {
    const int c = compare(t, v);
    if (c == 0) return 1;
    if (c != kIncomparable) result = 0;
  }
  return result;
}

bool regexMatches(const std::regex& re, const json& t) {
  if (!t.is_string()) return false;
  const auto& s = t.get_ref<const std::string&>();
  if (s.size() > kMaxRegexSubject) return false;
  try {
    return std::regex_match(s, re);  // `re` is wrapped in [\s\S]*(?:...)[\s\S]*
  } catch (const std::exception&) {
    return false;
  }
}

bool evalTerm(const Term& term, const json& entity) {
  std::vector<Target> targets;
  const bool exists = resolve(term.path, entity, targets);
  // System times as clients see them. Reserved (pointers stay valid) only when needed: this
  // runs for every entity a query scans.
  std::vector<json> texts;
  for (auto& t : targets) {
    if (!t.millis) continue;
    if (texts.empty()) texts.reserve(targets.size());
    t.v = &texts.emplace_back(core::formatRfc3339(t.v->get<std::int64_t>()));
  }
  switch (term.op) {
    case Op::kExists:
      return exists;
    case Op::kNotExists:
      return !exists;
    case Op::kEq:
      for (const auto& t : targets) {
        if (equalsAny(*t.v, term) == 1) return true;
      }
      return false;
    case Op::kNe: {
      bool comparable = false;
      for (const auto& t : targets) {
        const int r = equalsAny(*t.v, term);
        if (r == 1) return false;
        if (r == 0) comparable = true;
      }
      return comparable;
    }
    case Op::kGt:
    case Op::kGe:
    case Op::kLt:
    case Op::kLe:
      for (const auto& t : targets) {
        if (t.rel) continue;
        const int c = compare(*t.v, term.values[0]);
        if (c == kIncomparable) continue;
        if ((term.op == Op::kGt && c > 0) || (term.op == Op::kGe && c >= 0) ||
            (term.op == Op::kLt && c < 0) || (term.op == Op::kLe && c <= 0)) {
          return true;
        }
      }
      return false;
    case Op::kMatch:
      for (const auto& t : targets) {
        if (!t.rel && regexMatches(*term.regex, *t.v)) return true;
      }
      return false;
    case Op::kNotMatch: {
      bool any = false;
      for (const auto& t : targets) {
        if (t.rel || !t.v->is_string()) continue;
        // Too long to test safely: neither "matches" nor "does not match" can be claimed.
        if (t.v->get_ref<const std::string&>().size() > kMaxRegexSubject) return false;
        if (regexMatches(*term.regex, *t.v)) return false;
        any = true;
      }
      return any;
    }
  }
  return false;
}

}  // namespace

class Query {
 public:
  std::vector<Term> terms;
  Node root;
  std::vector<std::string> attributes;
};

namespace {

bool evalNode(const Query& q, const Node& n, const json& entity) {
  switch (n.kind) {
    case Node::Kind::kTerm:
      return evalTerm(q.terms[n.term], entity);
    case Node::Kind::kAnd:
      for (const auto& k : n.kids) {
        if (!evalNode(q, k, entity)) return false;
      }
      return true;
    case Node::Kind::kOr:
      for (const auto& k : n.kids) {
        if (evalNode(q, k, entity)) return true;
      }
      return false;
  }
  return false;
}

// ---- Regular expressions ----------------------------------------------------------------------

// The automaton is matched in O(subject × states); {n,m} multiplies states, so bound them.
constexpr std::int64_t kMaxRegexCost = 300;

// Rough count of automaton states: one per atom, each {n,m} repeating what precedes it.
std::int64_t regexCost(std::string_view p) {
  constexpr std::int64_t kCap = std::int64_t{1} << 40;
  std::vector<std::int64_t> groups{0};
  std::int64_t last = 0;  // cost of the atom or group a quantifier would apply to
  auto add = [&](std::int64_t c) {
    groups.back() = std::min(kCap, groups.back() + c);
    last = c;
  };
  for (std::size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    if (c == '\\') {
      ++i;
      add(1);
    } else if (c == '[') {
      for (++i; i < p.size() && p[i] != ']'; ++i) {
        if (p[i] == '\\') ++i;
      }
      add(1);
    } else if (c == '(') {
      groups.push_back(0);
      if (i + 1 < p.size() && p[i + 1] == '?') i += 2;  // (?: (?= (?!
    } else if (c == ')' && groups.size() > 1) {
      const std::int64_t g = groups.back();
      groups.pop_back();
      add(std::min(kCap, g + 2));
    } else if (c == '{') {
      std::size_t j = i + 1;
      std::int64_t lo = 0, hi = -1;
      bool digits = false;
      while (j < p.size() && isDigit(p[j])) {
        lo = std::min<std::int64_t>(kCap, lo * 10 + (p[j++] - '0'));
        digits = true;
      }
      if (digits && j < p.size() && p[j] == ',') {
        ++j;
        if (j < p.size() && isDigit(p[j])) {
          hi = 0;
          while (j < p.size() && isDigit(p[j]))
            hi = std::min<std::int64_t>(kCap, hi * 10 + (p[j++] - '0'));
        } else {
          hi = lo + 1;  // {n,}: n copies then a star
        }
      }
      if (!digits || j >= p.size() || p[j] != '}') {
        add(1);  // a literal '{'
        continue;
      }
      const std::int64_t copies = std::max(lo, hi);
      const std::int64_t extra = copies > 0 && last > kCap / copies ? kCap : last * copies;
      groups.back() = std::min(kCap, groups.back() + extra);
      last = std::min(kCap, last + extra);
      i = j;
    } else {
      add(1);
    }
  }
  std::int64_t total = 0;
  for (const auto g : groups) total = std::min(kCap, total + g);
  return total;
}

// ---- Parser -------------------------------------------------------------------------------------

std::string describeChar(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u < 0x20 || u == 0x7f) {
    static constexpr char kHex[] = "0123456789abcdef";
    return std::string("byte 0x") + kHex[u >> 4] + kHex[u & 0xf];
  }
  return std::string("'") + c + "'";
}

class Parser {
 public:
  Parser(std::string_view q, const TermExpander& expand, Query& out)
      : q_(q), expand_(expand), out_(out) {}

  std::optional<core::Error> run() {
    if (q_.size() > kMaxQueryBytes) {
      return fail(kMaxQueryBytes, "query is " + std::to_string(q_.size()) +
                                      " bytes, more than the " + std::to_string(kMaxQueryBytes) +
                                      " allowed");
    }
    skipWs();
    if (atEnd()) return fail(0, "empty query");
    if (!parseOr(out_.root)) return err_;
    skipWs();
    if (!atEnd()) {
      if (peek() == ')') return fail(pos_, "')' without a matching '('");
      return fail(pos_, "unexpected " + describeChar(peek()));
    }
    return std::nullopt;
  }

 private:
  std::optional<core::Error> fail(std::size_t at, const std::string& problem) {
    err_ = core::makeError(core::Errc::kInvalidArgument,
                           "invalid q at position " + std::to_string(at + 1) + ": " + problem);
    return err_;
  }
  bool failed(std::size_t at, const std::string& problem) {
    fail(at, problem);
    return false;
  }

  bool atEnd() const { return pos_ >= q_.size(); }
  char peek(std::size_t ahead = 0) const {
    return pos_ + ahead < q_.size() ? q_[pos_ + ahead] : '\0';
  }
  bool startsWith(std::string_view s) const { return q_.substr(pos_).starts_with(s); }
  void skipWs() {
    while (!atEnd() && (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r')) {
      ++pos_;
    }
  }
  bool atTermEnd() const { return atEnd() || peek() == ';' || peek() == '|' || peek() == ')'; }

  bool parseOr(Node& out) {
    Node first;
    if (!parseAnd(first)) return false;
    skipWs();
    if (peek() != '|' || atEnd()) {
      out = std::move(first);
      return true;
    }
    out.kind = Node::Kind::kOr;
    out.kids.push_back(std::move(first));
    while (!atEnd() && peek() == '|') {
      ++pos_;
      Node n;
      if (!parseAnd(n)) return false;
      out.kids.push_back(std::move(n));
      skipWs();
    }
    return true;
  }

  bool parseAnd(Node& out) {
    Node first;
    if (!parsePrimary(first)) return false;
    skipWs();
    if (peek() != ';' || atEnd()) {
      out = std::move(first);
      return true;
    }
    out.kind = Node::Kind::kAnd;
    out.kids.push_back(std::move(first));
    while (!atEnd() && peek() == ';') {
      ++pos_;
      Node n;
      if (!parsePrimary(n)) return false;
      out.kids.push_back(std::move(n));
      skipWs();
    }
    return true;
  }

  bool parsePrimary(Node& out) {
    skipWs();
    if (atEnd()) return failed(pos_, "expected an attribute or '(' but the query ends");
    if (peek() != '(') return parseTerm(out);
    const std::size_t open = pos_;
    if (++depth_ > kMaxNesting) {
      return failed(open, "parentheses nested deeper than " + std::to_string(kMaxNesting));
    }
    ++pos_;
    if (!parseOr(out)) return false;
    skipWs();
    if (atEnd() || peek() != ')') {
      return failed(pos_, "missing ')' to close the '(' at position " + std::to_string(open + 1));
    }
    ++pos_;
    --depth_;
    return true;
  }

  // Characters that end an attribute name (besides '.', which separates segments).
  bool atNameEnd() const {
    if (atEnd()) return true;
    const char c = peek();
    switch (c) {
      case ';':
      case '|':
      case '(':
      case ')':
      case '[':
      case ']':
      case '=':
      case '<':
      case '>':
      case '"':
      case ',':
      case ' ':
      case '\t':
      case '\r':
      case '\n':
        return true;
      case '!':
        return peek(1) == '=' || (peek(1) == '~' && peek(2) == '=');
      case '~':
        return peek(1) == '=';
      default:
        return false;
    }
  }

  static bool nameChar(char c) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x80) return true;  // UTF-8 in terms
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || isDigit(c)) return true;
    switch (c) {
      case '_':
      case ':':
      case '/':
      case '#':
      case '-':
      case '@':
      case '?':
      case '&':
      case '%':
      case '+':
      case '$':
      case '*':
      case '\'':
      case '~':
      case '.':
        return true;
      default:
        return false;
    }
  }

  bool parsePath(Path& path) {
    const std::size_t start = pos_;
    while (!atNameEnd()) {
      if (!nameChar(peek())) {
        return failed(pos_, describeChar(peek()) + " is not allowed in an attribute name");
      }
      ++pos_;
    }
    const std::string_view region = q_.substr(start, pos_ - start);
    if (region.empty()) {
      if (atEnd()) return failed(pos_, "expected an attribute name but the query ends");
      return failed(pos_, "expected an attribute name, found " + describeChar(peek()));
    }
    std::vector<std::string> segs;
    if (region.find("://") != std::string_view::npos) {
      segs.emplace_back(region);  // a full IRI: its dots do not separate sub-attributes
    } else {
      std::size_t from = 0;
      while (true) {
        const std::size_t dot = region.find('.', from);
        const auto seg = region.substr(from, dot == std::string_view::npos ? dot : dot - from);
        if (seg.empty()) {
          return failed(start + (dot == std::string_view::npos ? region.size() : dot),
                        "empty attribute name segment (stray '.')");
        }
        segs.emplace_back(seg);
        if (dot == std::string_view::npos) break;
        from = dot + 1;
      }
    }
    while (!atEnd() && peek() == '[') {
      const std::size_t open = pos_++;
      const std::size_t key_start = pos_;
      while (!atEnd() && peek() != ']' && peek() != '[') ++pos_;
      if (atEnd() || peek() == '[') {
        return failed(open, "'[' without a matching ']'");
      }
      if (pos_ == key_start) return failed(open, "empty key in '[]'");
      path.keys.emplace_back(q_.substr(key_start, pos_ - key_start));
      ++pos_;
    }
    if (!atEnd() && peek() == '.' && !path.keys.empty()) {
      return failed(pos_, "'.' after '[...]': sub-attributes must come before the brackets");
    }
    if (!atEnd() && peek() == ']') return failed(pos_, "']' without a matching '['");

    std::string name = segs.front();
    if (expand_) {
      try {
        name = expand_(segs.front());
      } catch (const std::exception& e) {
        return failed(start, "cannot expand attribute name '" + segs.front() + "': " + e.what());
      } catch (...) {
        return failed(start, "cannot expand attribute name '" + segs.front() + "'");
      }
      if (name.empty()) {
        return failed(start, "attribute name '" + segs.front() + "' expands to nothing");
      }
    }
    path.attr = std::move(name);
    path.subs.assign(std::make_move_iterator(segs.begin() + 1),
                     std::make_move_iterator(segs.end()));
    // Sub-attributes are stored under expanded names like attributes; metadata members are not.
    static const char* kMetadata[] = {"observedAt", "unitCode",   "datasetId",
                                      "createdAt",  "modifiedAt", "type",
                                      "value",      "object",     "languageMap"};
    if (expand_) {
      for (auto& sub : path.subs) {
        if (std::any_of(std::begin(kMetadata), std::end(kMetadata),
                        [&](const char* m) { return sub == m; })) {
          continue;
        }
        try {
          std::string expanded = expand_(sub);
          if (!expanded.empty()) sub = std::move(expanded);
        } catch (...) {
          return failed(start, "cannot expand sub-attribute name '" + sub + "'");
        }
      }
    }
    bool seen = false;
    for (const auto& a : out_.attributes) seen = seen || a == path.attr;
    if (!seen) out_.attributes.push_back(path.attr);
    return true;
  }

  bool parseTerm(Node& out) {
    const std::size_t start = pos_;
    if (static_cast<int>(out_.terms.size()) >= kMaxTerms) {
      return failed(start, "more than " + std::to_string(kMaxTerms) + " terms");
    }
    Term term;
    const bool negated = peek() == '!';
    if (negated) ++pos_;
    if (!parsePath(term.path)) return false;
    skipWs();
    if (atTermEnd()) {
      term.op = negated ? Op::kNotExists : Op::kExists;
    } else {
      const std::size_t op_pos = pos_;
      struct OpText {
        std::string_view text;
        Op op;
      };
      static constexpr OpText kOps[] = {
          {"==", Op::kEq}, {"!~=", Op::kNotMatch}, {"!=", Op::kNe}, {">=", Op::kGe},
          {"<=", Op::kLe}, {">", Op::kGt},         {"<", Op::kLt},  {"~=", Op::kMatch},
      };
      const OpText* found = nullptr;
      for (const auto& o : kOps) {
        if (startsWith(o.text)) {
          found = &o;
          break;
        }
      }
      if (!found) {
        if (peek() == '=') return failed(op_pos, "unknown operator '=' (did you mean '=='?)");
        return failed(op_pos,
                      "expected an operator (== != > >= < <= ~= !~=) or ';' '|' ')' "
                      "after the attribute, found " +
                          describeChar(peek()));
      }
      if (negated) {
        return failed(start, "'!' (non-existence) cannot be combined with an operator");
      }
      term.op = found->op;
      pos_ += found->text.size();
      skipWs();
      const bool ok = term.op == Op::kMatch || term.op == Op::kNotMatch
                          ? parseRegex(term, found->text)
                          : parseValues(term, op_pos, found->text);
      if (!ok) return false;
      skipWs();
      if (!atTermEnd()) {
        return failed(pos_, "unexpected " + describeChar(peek()) + " after the value");
      }
    }
    out.kind = Node::Kind::kTerm;
    out.term = out_.terms.size();
    out_.terms.push_back(std::move(term));
    return true;
  }

  bool parseQuoted(std::string& s) {
    const std::size_t open = pos_++;
    while (true) {
      if (atEnd()) return failed(open, "unterminated string (missing closing '\"')");
      const char c = q_[pos_++];
      if (c == '"') return true;
      if (c != '\\') {
        s += c;
        continue;
      }
      if (atEnd()) return failed(open, "unterminated string (missing closing '\"')");
      const char e = q_[pos_++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          s += e;
          break;
        case 'n':
          s += '\n';
          break;
        case 't':
          s += '\t';
          break;
        case 'r':
          s += '\r';
          break;
        case 'b':
          s += '\b';
          break;
        case 'f':
          s += '\f';
          break;
        default:
          return failed(pos_ - 2, "unknown escape '\\" + std::string(1, e) + "' in string");
      }
    }
  }

  bool parseValue(Value& v, std::string_view after) {
    skipWs();
    if (atTermEnd() || peek() == ',') {
      return failed(pos_, "missing value after " + std::string(after));
    }
    if (peek() == '"') {
      std::string s;
      if (!parseQuoted(s)) return false;
      v = stringValue(std::move(s));
      skipWs();
      return true;
    }
    const std::size_t start = pos_;
    const char first = peek();
    if (first == '=' || first == '<' || first == '>' || first == '!' || first == '~') {
      return failed(pos_, "unexpected " + describeChar(first) +
                              " where a value is expected (misspelt operator?)");
    }
    while (!atTermEnd() && peek() != ',' && !startsWith("..") && peek() != ' ' && peek() != '\t' &&
           peek() != '\r' && peek() != '\n') {
      const char c = peek();
      if (c == '"' || c == '(' || static_cast<unsigned char>(c) < 0x20) {
        return failed(pos_, describeChar(c) + " inside an unquoted value (quote the value)");
      }
      ++pos_;
    }
    const std::string_view text = q_.substr(start, pos_ - start);
    skipWs();
    if (text == "true" || text == "false") {
      v = Value{};
      v.kind = Value::Kind::kBool;
      v.b = text == "true";
      return true;
    }
    bool integral = false;
    if (looksNumeric(text, integral)) {
      v = Value{};
      v.kind = Value::Kind::kNumber;
      const char* b = text.data();
      const char* e = text.data() + text.size();
      const auto r = std::from_chars(b, e, v.num);
      if (r.ec != std::errc() || r.ptr != e) {
        return failed(start, "number '" + std::string(text) + "' is out of range");
      }
      if (integral) v.is_int = std::from_chars(b, e, v.i).ec == std::errc();
      return true;
    }
    v = stringValue(std::string(text));
    return true;
  }

  bool parseValues(Term& term, std::size_t op_pos, std::string_view op) {
    const std::size_t value_pos = pos_;
    Value first;
    if (!parseValue(first, "'" + std::string(op) + "'")) return false;
    term.values.push_back(std::move(first));
    if (startsWith("..")) {
      pos_ += 2;
      Value second;
      if (!parseValue(second, "'..'")) return false;
      const auto k0 = term.values[0].kind;
      if (k0 == Value::Kind::kBool || second.kind == Value::Kind::kBool) {
        return failed(value_pos, "a range needs numbers or strings, not true/false");
      }
      if (k0 != second.kind) {
        return failed(value_pos, "a range needs two numbers or two strings");
      }
      term.values.push_back(std::move(second));
      term.is_range = true;
      if (startsWith("..") || (!atEnd() && peek() == ',')) {
        return failed(pos_, "unexpected " + describeChar(peek()) + " after a range");
      }
    } else {
      while (!atEnd() && peek() == ',') {
        ++pos_;
        Value next;
        if (!parseValue(next, "','")) return false;
        term.values.push_back(std::move(next));
        if (startsWith("..")) return failed(pos_, "a value list cannot contain a range");
      }
    }
    if (term.op != Op::kEq && term.op != Op::kNe) {
      if (term.is_range) {
        return failed(op_pos, "a range is only allowed with == or !=, not " + std::string(op));
      }
      if (term.values.size() > 1) {
        return failed(op_pos, "a value list is only allowed with == or !=, not " + std::string(op));
      }
      if (term.values[0].kind == Value::Kind::kBool) {
        return failed(value_pos, "true/false only compare with == or !=, not " + std::string(op));
      }
    }
    return true;
  }

  bool parseRegex(Term& term, std::string_view op) {
    const std::size_t start = pos_;
    std::string pattern;
    if (!atEnd() && peek() == '"') {
      ++pos_;
      while (true) {
        if (atEnd()) return failed(start, "unterminated pattern (missing closing '\"')");
        const char c = q_[pos_++];
        if (c == '"') break;
        if (c == '\\' && !atEnd()) {
          const char e = q_[pos_++];
          if (e != '"') pattern += '\\';
          pattern += e;
          continue;
        }
        pattern += c;
      }
    } else {
      // Unquoted: up to ';' '|' ')' that are not inside the pattern's own (...) or [...].
      int depth = 0;
      bool in_class = false;
      while (!atEnd()) {
        const char c = peek();
        if (c == '\\') {
          pattern += c;
          ++pos_;
          if (!atEnd()) pattern += q_[pos_++];
          continue;
        }
        if (in_class) {
          in_class = c != ']';
        } else if (c == '[') {
          in_class = true;
        } else if (c == '(') {
          ++depth;
        } else if (c == ')') {
          if (depth == 0) break;
          --depth;
        } else if (depth == 0 && (c == ';' || c == '|')) {
          break;
        }
        pattern += c;
        ++pos_;
      }
      while (!pattern.empty() && (pattern.back() == ' ' || pattern.back() == '\t')) {
        pattern.pop_back();
      }
    }
    if (pattern.empty()) return failed(start, "missing pattern after '" + std::string(op) + "'");
    if (pattern.size() > kMaxRegexChars) {
      return failed(start, "pattern is " + std::to_string(pattern.size()) +
                               " characters, more than the " + std::to_string(kMaxRegexChars) +
                               " allowed");
    }
    auto compiled = compileSafePattern(pattern);
    if (!compiled.ok()) return failed(start, compiled.error().message);
    term.regex.emplace(std::move(*compiled));
    return true;
  }

  std::string_view q_;
  const TermExpander& expand_;
  Query& out_;
  std::size_t pos_ = 0;
  int depth_ = 0;
  std::optional<core::Error> err_;
};

}  // namespace

core::Result<std::regex> compileSafePattern(std::string_view pattern) {
  auto invalid = [&](const std::string& why) {
    return core::makeError(core::Errc::kInvalidArgument,
                           "regular expression '" + std::string(pattern) + "' " + why);
  };
  if (pattern.size() > kMaxRegexChars) return invalid("is longer than 256 characters");
  auto flags = std::regex::ECMAScript;
#if defined(__GLIBCXX__)
  // Thompson-NFA executor: polynomial time and no recursion per input character, so hostile
  // patterns such as (a+)+b cannot hang or overflow the stack. Back-references are rejected.
  flags |= std::regex_constants::__polynomial;
#endif
  std::string_view body = pattern;
  if (body.starts_with("(?i)")) {
    body.remove_prefix(4);
    flags |= std::regex::icase;
  }
  try {
    const std::regex alone(body.begin(), body.end(), flags);  // validates the pattern by itself
  } catch (const std::regex_error& e) {
    return core::makeError(
        core::Errc::kInvalidArgument,
        "invalid regular expression '" + std::string(pattern) + "': " + e.what());
  }
  if (regexCost(body) > kMaxRegexCost) {
    return invalid("is too complex (reduce the {n,m} repetition counts)");
  }
  // regex_search restarts the automaton at every offset (quadratic); a full match of
  // "anything, the pattern, anything" gives the same answer in one linear pass. ^, $ and \b
  // are position assertions, so they keep their meaning inside the wrapper.
  std::string wrapped = "[\\s\\S]*(?:";
  wrapped.append(body);
  wrapped += ")[\\s\\S]*";
  try {
    return std::regex(wrapped, flags);
  } catch (const std::regex_error& e) {
    return core::makeError(
        core::Errc::kInvalidArgument,
        "invalid regular expression '" + std::string(pattern) + "': " + e.what());
  }
}

bool safePatternMatches(const std::regex& re, std::string_view subject) {
  if (subject.size() > kMaxRegexSubject) return false;
  return std::regex_match(subject.begin(), subject.end(), re);
}

core::Result<std::shared_ptr<const Query>> parseQuery(std::string_view q,
                                                      const TermExpander& expand) {
  try {
    auto query = std::make_shared<Query>();
    Parser parser(q, expand, *query);
    if (auto err = parser.run()) return std::move(*err);
    return std::shared_ptr<const Query>(std::move(query));
  } catch (const std::exception& e) {
    return core::makeError(core::Errc::kInternal, std::string("cannot parse q: ") + e.what());
  } catch (...) {
    return core::makeError(core::Errc::kInternal, "cannot parse q");
  }
}

bool matches(const Query& q, const ioc::Json& entity) {
  try {
    return evalNode(q, q.root, entity);
  } catch (...) {
    return false;
  }
}

std::vector<std::string> referencedAttributes(const Query& q) {
  try {
    return q.attributes;
  } catch (...) {
    return {};
  }
}

}  // namespace ioc::ngsild
