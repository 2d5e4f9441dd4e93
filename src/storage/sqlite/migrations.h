#pragma once
#include "storage/sqlite/db.h"

namespace ioc::storage::sqlite {

//! Brings the schema up to the latest version, one transaction per migration. Safe to call from
//! several processes at once: each migration re-checks the version under the write lock.
core::Status migrate(Db& db);
int latestSchemaVersion();
core::Result<int> currentSchemaVersion(Db& db);

}  // namespace ioc::storage::sqlite
