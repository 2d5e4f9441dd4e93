#pragma once
// Dispatch routing: which agency answers an incident of a category in a ward. One table per
// administrative unit; an incident uses the table of its ward, else of the nearest unit above.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/result.h"

namespace ioc::incidents {

struct RoutingRule {
  std::string category = "*";  //!< "*" = any category
  std::string ward = "*";      //!< ward code; "*" = any ward of the unit
  std::string agency;
};

struct RoutingTable {
  std::string unit;
  std::vector<RoutingRule> rules;
  std::string default_agency;  //!< when no rule matches; "" = leave unrouted
  int64_t updated_ms = 0;
  std::string updated_by;
};

//! {"rules": [{"category","ward"?,"agency"}], "default_agency"?}. Categories must be known
//! (or "*"); agencies are non-empty text up to 200 bytes.
core::Result<RoutingTable> parseRoutingTable(std::string unit, const ioc::Json& body,
                                             bool (*known_category)(std::string_view));
ioc::Json toJson(const RoutingTable& t);

//! Most specific rule first: category+ward, category+*, *+ward, *+*; then default_agency.
std::optional<std::string> route(const RoutingTable& t, std::string_view category,
                                 std::string_view ward);

}  // namespace ioc::incidents
