#pragma once
// CAP 1.2 (OASIS Common Alerting Protocol) rendering of an alert, for public warning systems and
// feeds. Element order follows the CAP 1.2 XML schema; times are local (UTC+7) with an explicit
// offset, as CAP requires ("Z" is not allowed).
#include <string>

#include "rules/alert.h"

namespace ioc::alerts {

namespace geo = ngsild::geo;

struct CapSender {
  std::string sender = "cityioc@localhost";  //!< globally unique sender id
  std::string sender_name = "CityIOC";       //!< human-readable, e.g. the province's IOC
  std::string language = "vi-VN";
};

//! The alert as one CAP <alert> message: msgType Alert while it is new and never updated,
//! Update afterwards, Cancel once resolved or closed (referencing the first message).
std::string toCapXml(const rules::Alert& alert, const CapSender& sender);

//! "2026-11-22T15:04:05+07:00" (CAP dateTime: seconds, explicit offset).
std::string capTime(int64_t unix_ms);

}  // namespace ioc::alerts
