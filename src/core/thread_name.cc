#include "core/thread_name.h"

#include <pthread.h>

#include <algorithm>

namespace ioc::core {

namespace {
constexpr size_t kMaxNameBytes = 15;  // TASK_COMM_LEN - 1
}

void nameThisThread(std::string_view name) {
  std::string truncated(name.substr(0, std::min(name.size(), kMaxNameBytes)));
  pthread_setname_np(pthread_self(), truncated.c_str());
}

std::string threadName() {
  char buffer[kMaxNameBytes + 1] = {};
  if (pthread_getname_np(pthread_self(), buffer, sizeof buffer) != 0) return {};
  return buffer;
}

}  // namespace ioc::core
