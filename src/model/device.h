#pragma once
// A provisioned IoT device: how its FIWARE IoT Agent JSON messages (/{apikey}/{device_id}/attrs)
// map onto an NGSI-LD entity.
#include <cstdint>
#include <string>

namespace ioc::model {

struct Device {
  std::string device_id;
  std::string apikey;       //!< the service-group key in the MQTT topic (not a bearer key)
  std::string entity_id;    //!< NGSI-LD entity the readings update
  std::string entity_type;  //!< expanded type IRI
  std::string unit_code;    //!< administrative unit of whoever provisioned it
  std::string mapping;  //!< JSON: {"<object_id>": {"name": <expanded attr>, "type", "unitCode"}}
  int64_t created_at_ms = 0;
};

//! One time-series point of a numeric attribute.
struct Point {
  std::string entity_id;
  std::string attribute;  //!< expanded name
  int64_t at_ms = 0;      //!< observedAt, else the time of the update
  double value = 0;
};

}  // namespace ioc::model
