#include "alerts/cap.h"

#include <cstdio>
#include <ctime>
#include <sstream>

#include "core/text.h"

namespace ioc::alerts {

namespace {

void element(std::ostringstream& out, int depth, const char* name, std::string_view text) {
  out << std::string(static_cast<size_t>(depth) * 2, ' ') << '<' << name << '>'
      << core::xmlEscape(text) << "</" << name << ">\n";
}

std::string latLon(const geo::Position& p) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6f,%.6f", p.lat, p.lon);
  return buf;
}

// CAP polygons are "lat,lon" pairs, first == last, at least four: outer rings only.
void areaElements(std::ostringstream& out, const geo::Geometry& g) {
  auto ring = [&](const geo::Ring& r) {
    std::string text;
    for (const auto& p : r) text += (text.empty() ? "" : " ") + latLon(p);
    element(out, 3, "polygon", text);
  };
  using geo::GeometryType;
  if (g.type == GeometryType::kPoint || g.type == GeometryType::kMultiPoint) {
    for (const auto& p : g.points) element(out, 3, "circle", latLon(p) + " 0");
  } else if (g.type == GeometryType::kPolygon || g.type == GeometryType::kMultiPolygon) {
    for (const auto& p : g.polygons) {
      if (!p.empty()) ring(p.front());
    }
  }
}

const char* msgType(const rules::Alert& a) {
  if (!a.open()) return "Cancel";
  return a.history.size() > 1 || a.count > 1 ? "Update" : "Alert";
}

}  // namespace

std::string capTime(int64_t unix_ms) {
  const std::time_t local = static_cast<std::time_t>(unix_ms / 1000) + 7 * 3600;
  std::tm tm{};
  gmtime_r(&local, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S+07:00", &tm);
  return buf;
}

std::string toCapXml(const rules::Alert& a, const CapSender& sender) {
  const int64_t last_change = a.history.empty() ? a.last_seen_ms : a.history.back().at_ms;
  const int64_t sent = std::max(last_change, a.last_seen_ms);
  const std::string type = msgType(a);
  const bool first = type == "Alert";
  std::ostringstream out;
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      << "<alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\">\n";
  element(out, 1, "identifier", first ? a.id : a.id + "-" + std::to_string(sent));
  element(out, 1, "sender", sender.sender);
  element(out, 1, "sent", capTime(sent));
  element(out, 1, "status", "Actual");
  element(out, 1, "msgType", type);
  element(out, 1, "scope", "Public");
  if (!first) element(out, 1, "references", sender.sender + "," + a.id + "," + capTime(a.onset_ms));
  out << "  <info>\n";
  element(out, 2, "language", sender.language);
  element(out, 2, "category", toString(a.category));
  element(out, 2, "event", a.rule_id);
  element(out, 2, "urgency", toString(a.urgency));
  element(out, 2, "severity", toString(a.severity));
  element(out, 2, "certainty", toString(a.certainty));
  element(out, 2, "onset", capTime(a.onset_ms));
  if (a.expires_ms) element(out, 2, "expires", capTime(*a.expires_ms));
  element(out, 2, "senderName", sender.sender_name);
  element(out, 2, "headline", a.headline);
  if (!a.description.empty()) element(out, 2, "description", a.description);
  out << "    <parameter>\n";
  element(out, 3, "valueName", "status");
  element(out, 3, "value", toString(a.status));
  out << "    </parameter>\n";
  out << "    <area>\n";
  element(out, 3, "areaDesc", a.subject);
  if (a.area) areaElements(out, *a.area);
  out << "    </area>\n";
  out << "  </info>\n</alert>\n";
  return out.str();
}

}  // namespace ioc::alerts
