#pragma once
// The @context registry as `serve` and the CLI set it up: remote fetching over HTTP(S) with the
// configured limits, the store for durability, the built-in documents shipped in data/contexts
// (Smart Data Models) and the site's own preload directory.
#include <memory>
#include <string>

#include "context/ld_context.h"
#include "core/config.h"
#include "storage/store.h"

namespace ioc::app {

//! Where the built-in @context documents live, relative to the shipped data.
inline constexpr const char* kBuiltinContextsDir = "data/contexts";

struct ContextSetup {
  bool allow_remote_fetch = true;
  int fetch_timeout_ms = 5000;
  int max_document_bytes = 1024 * 1024;
  std::string preload_dir;  //!< "" = none
  std::string ca_file;      //!< trusted CAs for https:// downloads, "" = the system's
};
ContextSetup contextSetup(const core::ServeConfig& config);

//! Loads hosted and cached contexts from the store, then the built-in and preloaded documents
//! (a copy already in the store wins: it was reloaded on purpose).
core::Result<std::unique_ptr<context::ContextRegistry>> openContextRegistry(
    const ContextSetup& setup, storage::Store* store);

}  // namespace ioc::app
