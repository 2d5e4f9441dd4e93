#pragma once
// The NGSI-LD query language (ETSI GS CIM 009 v1.6+, clause 4.9): the `q` parameter of entity
// queries and subscriptions. parseQuery() turns untrusted text into an immutable Query;
// matches() evaluates it against one normalized entity.
//
// Grammar accepted (clause 4.9, no whitespace needed; spaces around terms, parentheses and logical
// operators are skipped):
//   Query     = Expr, where Expr = And *("|" And), And = Primary *(";" Primary),
//               Primary = "(" Expr ")" / Term            -- ';' (AND) binds tighter than '|' (OR)
//   Term      = ["!"] Attribute                           -- existence / non-existence
//             / Attribute ("==" / "!=") (Value / Range / ValueList)
//             / Attribute (">" / ">=" / "<" / "<=") ComparableValue
//             / Attribute ("~=" / "!~=") RegExp
//   Attribute = name *("." name) *("[" key "]")  -- dots select sub-attributes (or observedAt,
//               unitCode, datasetId, createdAt, modifiedAt of the attribute); brackets select
//               inside the JSON value, and dots inside brackets do not split. A name containing
//               "://" (a full IRI) is taken whole, up to '[' or an operator: no sub-attributes.
//   Value     = number / "quoted \"string\"" / true / false / unquoted text (URI, DateTime, Date,
//               Time, or any text up to whitespace, ';' '|' ')' ',' or "..").
//   Range     = Value ".." Value (inclusive; both numbers or both strings)
//   ValueList = Value 1*("," Value)               -- == any of them, != none of them
//   RegExp    = "quoted" (only \" is unescaped) or unquoted up to ';' '|' ')' outside the
//               pattern's own (...) and [...]; ECMAScript syntax searched anywhere in the string
//               (not anchored); a leading "(?i)" makes it case-insensitive.
//
// Semantics: the target value is "value" (Property, GeoProperty), "object" (Relationship),
// the languageMap's strings (LanguageProperty), "vocab", "valueList" or "objectList". An array
// target, and the instances of a multi-attribute (an array of attribute objects, one per
// datasetId), are pooled: ==, >, >=, <, <=, ~= match if any pooled value matches; != and !~=
// match if at least one pooled value is of a comparable type and none is equal / in the range /
// in the list / matches the pattern. Values of different types (number vs string, bool vs number)
// never compare. Two strings that are both DateTimes (or both Dates, or both Times) compare in time
// order (offsets honoured); other strings compare byte-wise. A Relationship's object only takes
// == and != (clause 4.9). A missing attribute makes every term false except "!attr". Strings
// longer than kMaxRegexSubject never match a pattern (std::regex recursion would overflow).
//
// Limits for untrusted input (violations are Errc::kInvalidArgument): kMaxQueryBytes,
// kMaxNesting, kMaxTerms, kMaxRegexChars; a bad pattern is also kInvalidArgument, and so is one
// whose {n,m} counts would blow the automaton past ~300 states. Patterns run on libstdc++'s
// Thompson-NFA executor (no back-references), in time linear in the subject: no catastrophic
// backtracking. Error messages
// name a 1-based position in q and the problem. Nothing here throws.
#include <cstddef>
#include <functional>
#include <memory>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/result.h"

namespace ioc::ngsild {

inline constexpr std::size_t kMaxQueryBytes = 4096;
inline constexpr int kMaxNesting = 16;  //!< parenthesis depth
inline constexpr int kMaxTerms = 100;
inline constexpr std::size_t kMaxRegexChars = 256;
inline constexpr std::size_t kMaxRegexSubject = 4096;  //!< bytes of a string tested by ~= / !~=

//! A parsed query: immutable, so one instance may be evaluated from many threads at once.
class Query;

//! Maps the first path segment of an attribute (a compact term) to the name used in the entity
//! (usually the IRI from an @context). May throw; that becomes an error from parseQuery().
using TermExpander = std::function<std::string(std::string_view)>;

//! Parses `q`; `expand` (default: identity) is applied to the attribute name of every term.
core::Result<std::shared_ptr<const Query>> parseQuery(std::string_view q,
                                                      const TermExpander& expand = {});

//! True when `entity` (normalized NGSI-LD JSON: {"id","type","<attr>":{...} or [{...},...]})
//! satisfies `q`. Malformed entities simply do not match.
bool matches(const Query& q, const ioc::Json& entity);

//! Untrusted regular expressions (idPattern, ~=): ECMAScript, at most 256 characters, matched in
//! linear time (no backtracking blow-ups); "(?i)" prefix = case-insensitive. Search semantics.
core::Result<std::regex> compileSafePattern(std::string_view pattern);
bool safePatternMatches(const std::regex& re, std::string_view subject);

//! The attribute names (after expansion) the query touches, each once, in order of appearance;
//! lets the caller index or pre-filter.
std::vector<std::string> referencedAttributes(const Query& q);

}  // namespace ioc::ngsild
