#include "core/thread_name.h"

#include <gtest/gtest.h>

#include <thread>

namespace ioc::core {
namespace {

//! The name a new thread reads back after naming itself `name`.
std::string nameReadBackInANewThread(const std::string& name) {
  std::string seen;
  std::thread([&] {
    nameThisThread(name);
    seen = threadName();
  }).join();
  return seen;
}

TEST(ThreadName, NamesTheCallingThreadOnly) {
  const std::string before = threadName();
  EXPECT_EQ(nameReadBackInANewThread("ioc-writer"), "ioc-writer");
  EXPECT_EQ(threadName(), before);
}

TEST(ThreadName, KeepsTheFirstFifteenBytesOfALongName) {
  EXPECT_EQ(nameReadBackInANewThread("ioc-subscription-matcher"), "ioc-subscriptio");
}

}  // namespace
}  // namespace ioc::core
