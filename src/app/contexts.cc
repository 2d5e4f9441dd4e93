#include "app/contexts.h"

#include "app/paths.h"
#include "core/log.h"
#include "net/url_fetch.h"

namespace ioc::app {

ContextSetup contextSetup(const core::ServeConfig& config) {
  ContextSetup s;
  s.allow_remote_fetch = config.context_allow_remote_fetch;
  s.fetch_timeout_ms = config.context_fetch_timeout_ms;
  s.max_document_bytes = config.context_max_document_bytes;
  s.preload_dir = config.context_preload_dir;
  s.ca_file = config.tls_ca_file;
  return s;
}

core::Result<std::unique_ptr<context::ContextRegistry>> openContextRegistry(
    const ContextSetup& setup, storage::Store* store) {
  context::ContextFetcher fetcher;
  if (setup.allow_remote_fetch) {
    net::FetchOptions options;
    options.timeout = std::chrono::milliseconds(setup.fetch_timeout_ms);
    options.max_bytes = static_cast<size_t>(setup.max_document_bytes);
    options.ca_file = setup.ca_file;
    fetcher = [options](const std::string& url) -> core::Result<std::string> {
      auto body = net::fetchUrl(url, options);
      if (body.ok()) {
        core::logInfo("fetched @context", {{"url", url}, {"bytes", body->size()}});
      } else {
        core::logWarn("@context download failed", {{"url", url}, {"error", body.error().message}});
      }
      return body;
    };
  }
  auto registry = std::make_unique<context::ContextRegistry>(std::move(fetcher), store);
  if (auto s = registry->load(); !s.ok()) return s.error();
  const std::string builtin = locateShipped("", kBuiltinContextsDir);
  if (!builtin.empty()) {
    auto n = registry->preloadDirectory(builtin, "builtin");
    if (!n.ok()) return n.error();
  } else {
    core::logWarn("built-in @contexts not found", {{"dir", kBuiltinContextsDir}});
  }
  if (!setup.preload_dir.empty()) {
    auto n = registry->preloadDirectory(setup.preload_dir, "preloaded");
    if (!n.ok()) return n.error();
    core::logInfo("preloaded @contexts",
                  {{"dir", setup.preload_dir}, {"urls", static_cast<int64_t>(*n)}});
  }
  return registry;
}

}  // namespace ioc::app
