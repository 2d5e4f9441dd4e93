#pragma once
// Names the calling thread ("ioc-writer", "ioc-mqtt" …) so that `top -H`, `perf` and
// /proc/PID/task/*/comm tell the server's threads apart; Linux keeps the first 15 bytes.
#include <string>
#include <string_view>

namespace ioc::core {

void nameThisThread(std::string_view name);
//! The calling thread's name as the kernel holds it (empty if it cannot be read).
std::string threadName();

}  // namespace ioc::core
