#pragma once
// The composition root: the only place that picks concrete classes (SQLite store, Beast server)
// and wires them together. Lifecycle: create() → run() blocks until SIGINT/SIGTERM → orderly
// shutdown (stop accepting, finish in-flight requests, drain workers, flush the store).
#include <memory>

#include "core/config.h"
#include "core/result.h"

namespace ioc::app {

class Application {
 public:
  static core::Result<std::unique_ptr<Application>> create(const core::ServeConfig& config);
  ~Application();
  //! Blocks the calling thread until a shutdown signal, then shuts down. Signals must already be
  //! blocked in every thread (blockShutdownSignals() before create()).
  core::Status run();

  struct Parts;

 private:
  explicit Application(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

//! Blocks SIGINT/SIGTERM in the calling thread and in every thread it starts later, so that only
//! run() (via sigwait) sees them.
void blockShutdownSignals();

//! Opens the SQLite store under data_dir (created if missing): shared by serve and the CLI.
}  // namespace ioc::app

#include "storage/sqlite/sqlite_store.h"
#include "units/catalog.h"

namespace ioc::app {
core::Result<std::unique_ptr<storage::sqlite::SqliteStore>> openStore(
    const std::string& data_dir, int busy_timeout_ms, int compact_interval_ms = 10000,
    int background_commit_ms = 0);
core::Result<units::UnitCatalog> loadUnits(const std::string& configured_path);

}  // namespace ioc::app
