#pragma once
#include <string>

#include "auth/identity_service.h"

namespace ioc::app {

//! Demo mode: on first start, creates one account per role in the demo city (Huế, unit 46) with
//! random passwords, written to <data_dir>/demo-credentials.txt (mode 0600) and printed once.
core::Status seedDemo(auth::IdentityService& identity, storage::Store& store,
                      const std::string& data_dir);

inline constexpr const char* kDemoProvince = "46";

}  // namespace ioc::app
