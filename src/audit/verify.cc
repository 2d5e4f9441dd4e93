#include "audit/verify.h"

namespace ioc::audit {

core::Result<VerifyReport> verifyChain(storage::Store& store) {
  VerifyReport report;
  std::string prev = model::kAuditGenesisHash;
  int64_t expected_seq = 1;
  auto scanned = store.scanAudit([&](const model::AuditEntry& e) {
    std::string problem;
    if (e.seq != expected_seq) {
      problem = "sequence gap: expected " + std::to_string(expected_seq) + ", found " +
                std::to_string(e.seq) + " (entries deleted)";
    } else if (e.prev_hash != prev) {
      problem = "prev_hash does not match the previous entry";
    } else if (model::computeAuditHash(e) != e.hash) {
      problem = "content does not match its hash (entry edited)";
    }
    if (!problem.empty()) {
      report.intact = false;
      report.first_bad_seq = e.seq;
      report.problem = problem;
      return false;
    }
    ++report.entries;
    prev = e.hash;
    ++expected_seq;
    report.head_hash = e.hash;
    return true;
  });
  if (!scanned.ok()) return scanned.error();
  return report;
}

}  // namespace ioc::audit
