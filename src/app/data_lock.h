#pragma once
// An advisory lock on a data directory (DATA/cityioc.lock, flock): `serve` and `import` hold it
// so that a bulk import never runs beside a server that keeps the same entities in memory.
// The kernel drops the lock when the process ends, however it ends.
#include <string>

#include "core/result.h"

namespace ioc::app {

class DataDirLock {
 public:
  DataDirLock() = default;
  DataDirLock(DataDirLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  DataDirLock& operator=(DataDirLock&& other) noexcept;
  DataDirLock(const DataDirLock&) = delete;
  DataDirLock& operator=(const DataDirLock&) = delete;
  ~DataDirLock();

  //! kConflict when another process holds it.
  static core::Result<DataDirLock> acquire(const std::string& data_dir);

 private:
  int fd_ = -1;
};

}  // namespace ioc::app
