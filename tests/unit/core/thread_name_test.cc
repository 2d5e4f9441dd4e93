#include "core/thread_name.h"

#include <gtest/gtest.h>

#include <thread>

namespace ioc::core {
namespace {

TEST(ThreadName, NamesTheCallingThreadOnly) {
  std::string before = threadName();
  std::string seen;
  std::thread([&seen] {
    nameThisThread("ioc-writer");
    seen = threadName();
  }).join();
  EXPECT_EQ(seen, "ioc-writer");
  EXPECT_EQ(threadName(), before);
}

TEST(ThreadName, KeepsTheFirstFifteenBytesOfALongName) {
  std::string seen;
  std::thread([&seen] {
    nameThisThread("ioc-subscription-matcher");
    seen = threadName();
  }).join();
  EXPECT_EQ(seen, "ioc-subscriptio");
}

}  // namespace
}  // namespace ioc::core
