#include "storage/store.h"

#include <future>

namespace ioc::storage {

Status Store::writeSync(WriteJob job) {
  std::promise<Status> done;
  auto result = done.get_future();
  submitWrite(std::move(job), [&done](Status s) { done.set_value(std::move(s)); });
  return result.get();
}

}  // namespace ioc::storage
