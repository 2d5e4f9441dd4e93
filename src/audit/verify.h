#pragma once
// Checks the audit log's hash chain from the first entry to the last.
#include <cstdint>
#include <string>

#include "storage/store.h"

namespace ioc::audit {

struct VerifyReport {
  int64_t entries = 0;
  bool intact = true;
  int64_t first_bad_seq = 0;  //!< 0 when intact
  std::string problem;        //!< what is wrong with first_bad_seq
  std::string head_hash;      //!< hash of the last entry; note it down to detect truncation
};

core::Result<VerifyReport> verifyChain(storage::Store& store);

}  // namespace ioc::audit
