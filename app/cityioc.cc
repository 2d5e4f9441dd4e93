// cityioc: the one binary. Everything lives in src/; this only hands over the arguments.
#include <string>
#include <vector>

#include "app/cli.h"

// Read by jemalloc (linked into Release builds; ignored by glibc malloc) at start-up; MALLOC_CONF
// still overrides it. A background thread returns freed pages to the system ~10 s after a
// burst, instead of only when that arena allocates again: an idle server keeps the memory of its
// last burst otherwise (docs/BENCHMARKS.md, RSS at 100,000 entities).
extern "C" {
extern const char* malloc_conf;
const char* malloc_conf = "background_thread:true";
}

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return ioc::app::runCli(args);
}
