// `cityioc import csv`: bulk history import. The rows become time-series points written straight
// to the store in batches (one group commit per ~10k points); each entity is created through the
// Broker if missing and its attributes set to the newest reading, unless the entity already holds
// a newer one. The server must not run on the same data directory (DataDirLock).
#include "app/import_csv.h"

#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>

#include "app/application.h"
#include "app/contexts.h"
#include "app/data_lock.h"
#include "context/broker.h"
#include "context/entity.h"
#include "core/clock.h"
#include "core/log.h"

namespace ioc::app {

namespace {

using json = ioc::Json;

constexpr size_t kBatchPoints = 10000;
constexpr size_t kShownBadRows = 5;

int usage(const std::string& message) {
  std::fprintf(stderr, "cityioc import csv: %s\n", message.c_str());
  std::fprintf(stderr,
               "usage: cityioc import csv --data DIR FILE --entity-type T "
               "[--entity-id ID | --id-column C] [--time-column C] "
               "[--attr COLUMN=NAME[:UNITCODE]]... [--unit CODE] [--context URL]\n");
  return 2;
}

struct AttrSpec {
  std::string column;
  std::string name;  //!< as given (short or IRI); expanded later
  std::string unit_code;
  size_t index = 0;
  std::string expanded;
};

struct ImportArgs {
  std::string data_dir;
  std::string file;
  std::string entity_type;
  std::string entity_id;
  std::string id_column;
  std::string time_column;
  std::vector<AttrSpec> attrs;
  std::string unit;  //!< administrative unit of created entities
  std::string context;
};

std::optional<std::string> parseArgs(const std::vector<std::string>& args, ImportArgs& out) {
  for (size_t i = 2; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.rfind("--", 0) != 0) {
      if (!out.file.empty()) return "only one FILE may be given (" + arg + ")";
      out.file = arg;
      continue;
    }
    std::string name = arg.substr(2), value;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return "--" + name + " needs a value";
    }
    if (name == "data") {
      out.data_dir = value;
    } else if (name == "entity-type") {
      out.entity_type = value;
    } else if (name == "entity-id") {
      out.entity_id = value;
    } else if (name == "id-column") {
      out.id_column = value;
    } else if (name == "time-column") {
      out.time_column = value;
    } else if (name == "unit") {
      out.unit = value;
    } else if (name == "context") {
      out.context = value;
    } else if (name == "attr") {
      // COLUMN=NAME[:UNITCODE]; NAME may be an IRI, so the unit code is after the last ':'
      // only when what follows it has no '/' (UN/CEFACT codes are short: GQ, CEL, MTR…).
      AttrSpec a;
      const size_t eq = value.find('=');
      a.column = value.substr(0, eq);
      std::string rest = eq == std::string::npos ? value : value.substr(eq + 1);
      const size_t colon = rest.rfind(':');
      if (colon != std::string::npos && rest.find('/', colon) == std::string::npos &&
          rest.size() - colon - 1 <= 8 && colon + 1 < rest.size()) {
        a.unit_code = rest.substr(colon + 1);
        rest = rest.substr(0, colon);
      }
      a.name = rest;
      if (a.column.empty() || a.name.empty()) return "--attr takes COLUMN=NAME[:UNITCODE]";
      out.attrs.push_back(std::move(a));
    } else {
      return "unknown option --" + name;
    }
  }
  if (out.data_dir.empty()) return "--data DIR is required";
  if (out.file.empty()) return "the CSV FILE is required";
  if (out.entity_type.empty()) return "--entity-type is required";
  if (out.entity_id.empty() == out.id_column.empty()) {
    return "give exactly one of --entity-id and --id-column";
  }
  if (!out.entity_id.empty() && !context::isValidEntityId(out.entity_id)) {
    return "--entity-id must be a URI, e.g. urn:ngsi-ld:AirQualityObserved:hanoi-us-embassy";
  }
  return std::nullopt;
}

//! One CSV record (RFC 4180: quoted fields, "" escapes). Newlines inside quotes are not
//! supported: a record is one line.
std::optional<std::vector<std::string>> splitCsv(std::string_view line) {
  std::vector<std::string> fields;
  std::string field;
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < line.size() && line[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        field += c;
      }
    } else if (c == '"' && field.empty()) {
      quoted = true;
    } else if (c == ',') {
      fields.push_back(std::move(field));
      field.clear();
    } else {
      field += c;
    }
  }
  if (quoted) return std::nullopt;
  fields.push_back(std::move(field));
  return fields;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

//! ISO 8601 as found in exports: seconds optional ("2016-01-01T01:00+07:00"), a space instead
//! of 'T', no offset = UTC.
std::optional<int64_t> parseTime(std::string_view raw) {
  std::string s(trim(raw));
  if (s.size() >= 16 && s[10] == ' ') s[10] = 'T';
  if (s.size() >= 16 && (s.size() == 16 || s[16] != ':')) s.insert(16, ":00");
  if (s.size() == 19) s += 'Z';
  auto ms = context::parseDateTime(s);
  if (!ms.ok()) return std::nullopt;
  return *ms;
}

std::optional<double> parseNumber(std::string_view raw) {
  std::string_view s = trim(raw);
  if (s.empty()) return std::nullopt;
  if (s.front() == '+') s.remove_prefix(1);
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

//! Progress on stderr: a redrawn bar on a terminal, a plain line every 10% otherwise.
class Progress {
 public:
  explicit Progress(uint64_t total_bytes)
      : total_(std::max<uint64_t>(total_bytes, 1)),
        tty_(isatty(STDERR_FILENO) == 1),
        start_(std::chrono::steady_clock::now()) {}

  void update(uint64_t bytes, size_t rows, bool final = false) {
    const int pct = static_cast<int>(std::min<uint64_t>(100, bytes * 100 / total_));
    const auto now = std::chrono::steady_clock::now();
    if (final && !tty_ && next_pct_ > 100) return;  // the 100% line is already out
    if (!final) {
      if (tty_ && now - last_ < std::chrono::milliseconds(100)) return;
      if (!tty_ && pct < next_pct_) return;
    }
    last_ = now;
    const double secs = std::chrono::duration<double>(now - start_).count();
    const double rate = secs > 0 ? static_cast<double>(rows) / secs : 0.0;
    if (tty_) {
      constexpr int kWidth = 30;
      const int filled = pct * kWidth / 100;
      std::fprintf(stderr, "\r[%s%s] %3d%%  %zu rows  %.0f rows/s",
                   std::string(filled, '#').c_str(), std::string(kWidth - filled, '.').c_str(), pct,
                   rows, rate);
      if (final) std::fprintf(stderr, "\n");
    } else {
      std::fprintf(stderr, "import: %3d%%  %zu rows  %.0f rows/s\n", pct, rows, rate);
      next_pct_ = pct / 10 * 10 + 10;
    }
    std::fflush(stderr);
  }

 private:
  uint64_t total_;
  bool tty_;
  std::chrono::steady_clock::time_point start_, last_{};
  int next_pct_ = 10;
};

struct Newest {
  int64_t at_ms = INT64_MIN;
  double value = 0;
  bool held = false;
};

}  // namespace

int importCsv(const std::vector<std::string>& args) {
  ImportArgs a;
  if (auto err = parseArgs(args, a)) return usage(*err);
  std::ifstream in(a.file, std::ios::binary);
  if (!in) return usage("cannot read " + a.file);
  std::error_code size_ec;
  const uint64_t file_bytes = std::filesystem::file_size(a.file, size_ec);

  // Header and column mapping, before touching the store.
  std::string line;
  if (!std::getline(in, line)) return usage(a.file + " is empty");
  if (line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);  // UTF-8 BOM
  auto header_fields = splitCsv(line);
  if (!header_fields) return usage(a.file + ": the header line is not valid CSV");
  std::vector<std::string> header;
  for (const auto& h : *header_fields) header.emplace_back(trim(h));
  auto column = [&](const std::string& name) -> std::optional<size_t> {
    for (size_t i = 0; i < header.size(); ++i) {
      if (header[i] == name) return i;
    }
    return std::nullopt;
  };
  std::vector<std::string> missing;
  if (a.time_column.empty()) {
    for (const auto& h : header) {
      const std::string l = lower(h);
      if (l.find("time") != std::string::npos || l.find("date") != std::string::npos ||
          l == "observedat") {
        a.time_column = h;
        break;
      }
    }
    if (a.time_column.empty()) {
      return usage(a.file + ": no time column found (columns: " + json(header).dump() +
                   "); name it with --time-column");
    }
  }
  auto time_index = column(a.time_column);
  if (!time_index) missing.push_back(a.time_column);
  std::optional<size_t> id_index;
  if (!a.id_column.empty()) {
    id_index = column(a.id_column);
    if (!id_index) missing.push_back(a.id_column);
  }
  for (auto& spec : a.attrs) {
    auto i = column(spec.column);
    if (!i) {
      missing.push_back(spec.column);
    } else {
      spec.index = *i;
    }
  }
  if (!missing.empty()) {
    return usage(a.file + ": missing column(s) " + json(missing).dump() + "; the file has " +
                 json(header).dump());
  }

  // The store, locked against a running server.
  auto lock = DataDirLock::acquire(a.data_dir);
  if (!lock.ok()) return usage(lock.error().message);
  auto store = openStore(a.data_dir, 5000);
  if (!store.ok()) {
    std::fprintf(stderr, "cityioc import csv: %s\n", store.error().message.c_str());
    return 1;
  }
  auto units = loadUnits("");
  if (!units.ok()) {
    std::fprintf(stderr, "cityioc import csv: %s\n", units.error().message.c_str());
    return 1;
  }
  if (!a.unit.empty() && !units->find(a.unit))
    return usage("unknown administrative unit " + a.unit);
  std::shared_ptr<const context::TermMap> terms = context::TermMap::core();
  std::unique_ptr<context::ContextRegistry> registry;
  if (!a.context.empty()) {
    auto r = openContextRegistry(ContextSetup{}, store->get());
    if (!r.ok()) {
      std::fprintf(stderr, "cityioc import csv: %s\n", r.error().message.c_str());
      return 1;
    }
    registry = std::move(*r);
    auto t = registry->resolve(json(a.context));
    if (!t.ok()) return usage("--context " + a.context + ": " + t.error().message);
    terms = *t;
  }
  const std::string type = terms->expand(a.entity_type);
  for (auto& spec : a.attrs) spec.expanded = terms->expand(spec.name);
  // Without --attr, every other column whose first value is a number.
  const bool infer_attrs = a.attrs.empty();

  const core::Clock& clock = core::SystemClock::instance();
  context::Broker broker(**store, *units, clock);
  if (auto s = broker.load(); !s.ok()) {
    std::fprintf(stderr, "cityioc import csv: %s\n", s.error().message.c_str());
    return 1;
  }

  size_t rows = 0, bad_rows = 0, empty_cells = 0, points_written = 0, line_no = 1;
  std::vector<std::string> shown_bad;
  std::map<std::pair<std::string, std::string>, Newest> newest;  // (entity, attr) → reading
  std::vector<model::Point> batch;
  batch.reserve(kBatchPoints);
  uint64_t bytes_read = line.size() + 1;
  Progress progress(file_bytes);
  int64_t first_ms = INT64_MAX, last_ms = INT64_MIN;
  auto flushBatch = [&]() -> core::Status {
    if (batch.empty()) return core::Status::success();
    auto s = (*store)->writeSync([&](storage::WriteTx& tx) { return tx.appendPoints(batch); });
    if (s.ok()) points_written += batch.size();
    batch.clear();
    return s;
  };
  auto bad = [&](const std::string& why) {
    ++bad_rows;
    if (shown_bad.size() < kShownBadRows) {
      shown_bad.push_back("line " + std::to_string(line_no) + ": " + why);
    }
  };

  while (std::getline(in, line)) {
    ++line_no;
    bytes_read += line.size() + 1;
    if (trim(line).empty()) continue;
    ++rows;
    auto fields = splitCsv(line);
    if (!fields) {
      bad("unterminated quoted field");
      continue;
    }
    if (fields->size() != header.size()) {
      bad(std::to_string(fields->size()) + " fields, the header has " +
          std::to_string(header.size()));
      continue;
    }
    if (infer_attrs) {
      for (size_t i = 0; i < header.size(); ++i) {
        if (i == *time_index || (id_index && i == *id_index)) continue;
        if (parseNumber((*fields)[i])) {
          a.attrs.push_back(AttrSpec{header[i], header[i], "", i, terms->expand(header[i])});
        }
      }
      if (a.attrs.empty()) {
        return usage(a.file + ": no numeric column in line " + std::to_string(line_no) +
                     "; choose columns with --attr");
      }
      std::fprintf(stderr, "import: columns %s\n",
                   json([&] {
                     std::vector<std::string> n;
                     for (const auto& s : a.attrs) n.push_back(s.column);
                     return n;
                   }())
                       .dump()
                       .c_str());
    }
    auto at = parseTime((*fields)[*time_index]);
    if (!at) {
      bad(a.time_column + " \"" + (*fields)[*time_index] + "\" is not an ISO 8601 date-time");
      continue;
    }
    std::string id = a.entity_id;
    if (id_index) {
      id = std::string(trim((*fields)[*id_index]));
      if (!context::isValidEntityId(id)) id = "urn:ngsi-ld:" + a.entity_type + ":" + id;
      if (id.empty() || !context::isValidEntityId(id)) {
        bad(a.id_column + " \"" + (*fields)[*id_index] + "\" is not a usable entity id");
        continue;
      }
    }
    std::vector<std::pair<const AttrSpec*, double>> values;
    std::string problem;
    for (const auto& spec : a.attrs) {
      const std::string_view cell = trim((*fields)[spec.index]);
      if (cell.empty()) {
        ++empty_cells;
        continue;
      }
      auto v = parseNumber(cell);
      if (!v) {
        problem = spec.column + " \"" + std::string(cell) + "\" is not a number";
        break;
      }
      values.emplace_back(&spec, *v);
    }
    if (!problem.empty()) {
      bad(problem);
      continue;
    }
    first_ms = std::min(first_ms, *at);
    last_ms = std::max(last_ms, *at);
    for (const auto& [spec, v] : values) {
      // The newest reading per attribute is held back: it becomes the attribute's value through
      // the Broker, which records its point; every other reading is written here.
      Newest& n = newest[{id, spec->expanded}];
      if (n.held && *at <= n.at_ms) {
        batch.push_back(model::Point{id, spec->expanded, *at, v});
      } else {
        if (n.held) batch.push_back(model::Point{id, spec->expanded, n.at_ms, n.value});
        n = Newest{*at, v, true};
      }
    }
    if (batch.size() >= kBatchPoints) {
      if (auto s = flushBatch(); !s.ok()) {
        std::fprintf(stderr, "\ncityioc import csv: writing points failed: %s\n",
                     s.error().message.c_str());
        return 1;
      }
    }
    progress.update(bytes_read, rows);
  }
  if (auto s = flushBatch(); !s.ok()) {
    std::fprintf(stderr, "\ncityioc import csv: writing points failed: %s\n",
                 s.error().message.c_str());
    return 1;
  }
  progress.update(bytes_read, rows, true);

  // Current values: the newest reading per attribute, unless the entity holds a newer one.
  const model::Actor actor{"cli:import", "cli", a.unit, "", ""};
  const context::Visibility all{""};
  const context::Visibility as_unit{a.unit};
  std::map<std::string, std::map<std::string, Newest>> by_entity;
  for (const auto& [key, n] : newest) by_entity[key.first][key.second] = n;
  std::map<std::string, std::string> unit_of;
  for (const auto& spec : a.attrs) unit_of[spec.expanded] = spec.unit_code;
  size_t created = 0, updated = 0, kept = 0;
  const int64_t now = clock.nowUnixMs();
  for (const auto& [id, attrs] : by_entity) {
    auto current = broker.get(id, all);
    json body = json::object();
    std::vector<model::Point> kept_points;
    for (const auto& [attr, n] : attrs) {
      if (current && current->doc.contains(attr)) {
        const json& inst =
            current->doc[attr].is_array() ? current->doc[attr][0] : current->doc[attr];
        int64_t cur_ms = current->modified_at_ms;
        if (inst.contains("observedAt") && inst["observedAt"].is_string()) {
          auto t = context::parseDateTime(inst["observedAt"].get<std::string>());
          if (t.ok()) cur_ms = *t;
        }
        if (cur_ms >= n.at_ms) {
          kept_points.push_back(model::Point{id, attr, n.at_ms, n.value});
          ++kept;
          continue;
        }
      }
      json inst = {
          {"type", "Property"}, {"value", n.value}, {"observedAt", core::formatRfc3339(n.at_ms)}};
      if (!unit_of[attr].empty()) inst["unitCode"] = unit_of[attr];
      body[attr] = std::move(inst);
    }
    if (!kept_points.empty()) {
      auto s =
          (*store)->writeSync([&](storage::WriteTx& tx) { return tx.appendPoints(kept_points); });
      if (!s.ok()) {
        std::fprintf(stderr, "cityioc import csv: %s\n", s.error().message.c_str());
        return 1;
      }
      points_written += kept_points.size();
    }
    if (body.empty()) continue;
    const size_t n_points = body.size();
    if (!current) {
      body["id"] = id;
      body["type"] = type;
      auto entity = context::parseEntity(body, *terms, now);
      if (!entity.ok()) {
        std::fprintf(stderr, "cityioc import csv: %s: %s\n", id.c_str(),
                     entity.error().message.c_str());
        return 1;
      }
      if (auto s = broker.create(std::move(*entity), as_unit, actor); !s.ok()) {
        std::fprintf(stderr, "cityioc import csv: %s: %s\n", id.c_str(), s.error().message.c_str());
        return 1;
      }
      ++created;
    } else {
      auto parsed = context::parseAttributes(body, *terms, now);
      if (!parsed.ok()) {
        std::fprintf(stderr, "cityioc import csv: %s: %s\n", id.c_str(),
                     parsed.error().message.c_str());
        return 1;
      }
      auto merged = broker.mergeAttrs(id, *parsed, context::MergeMode::kAppend, all, actor);
      if (!merged.ok()) {
        std::fprintf(stderr, "cityioc import csv: %s: %s\n", id.c_str(),
                     merged.error().message.c_str());
        return 1;
      }
      ++updated;
    }
    points_written += n_points;
  }

  // One audit entry for the whole import.
  json detail = {{"file", std::filesystem::path(a.file).filename().string()},
                 {"rows", rows},
                 {"bad_rows", bad_rows},
                 {"points", points_written},
                 {"entities_created", created},
                 {"entities_updated", updated}};
  if (first_ms <= last_ms) {
    detail["from"] = core::formatRfc3339(first_ms);
    detail["to"] = core::formatRfc3339(last_ms);
  }
  auto audit = model::makeAuditEntry(model::Actor{"cli:import", "cli", a.unit, "", ""},
                                     "timeseries.import", a.entity_id.empty() ? type : a.entity_id,
                                     detail.dump(), clock.nowUnixMs());
  auto audited = (*store)->writeSync([&](storage::WriteTx& tx) -> core::Status {
    auto seq = tx.appendAudit(audit);
    if (!seq.ok()) return seq.error();
    return core::Status::success();
  });
  if (!audited.ok()) {
    const auto& s = audited;
    std::fprintf(stderr, "cityioc import csv: audit: %s\n", s.error().message.c_str());
    return 1;
  }
  (*store)->flush();

  std::printf("imported %s: %zu rows, %zu points into %zu entities (%zu created, %zu updated",
              a.file.c_str(), rows, points_written, by_entity.size(), created, updated);
  if (kept > 0) std::printf(", %zu newer current values kept", kept);
  std::printf(")\n");
  if (first_ms <= last_ms) {
    std::printf("time range: %s .. %s\n", core::formatRfc3339(first_ms).c_str(),
                core::formatRfc3339(last_ms).c_str());
  }
  if (empty_cells > 0) std::printf("empty cells skipped: %zu\n", empty_cells);
  if (bad_rows > 0) {
    std::printf("bad rows: %zu (not imported)\n", bad_rows);
    for (const auto& b : shown_bad) std::printf("  %s\n", b.c_str());
    if (bad_rows > shown_bad.size()) std::printf("  …\n");
  }
  std::fflush(stdout);
  return points_written == 0 && rows > 0 ? 1 : 0;
}

}  // namespace ioc::app
