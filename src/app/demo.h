#pragma once
#include <string>

#include "auth/identity_service.h"

namespace ioc::app {

//! Demo mode: on first start, creates one account per role in the demo city (Huế, unit 46) with
//! random passwords, written to <data_dir>/demo-credentials.txt (mode 0600) and printed once.
core::Status seedDemo(auth::IdentityService& identity, storage::Store& store,
                      const std::string& data_dir);

inline constexpr const char* kDemoProvince = "46";

//! A fresh integration key for the demo simulator (earlier ones are revoked): the simulator
//! reports through the same authenticated HTTP paths as a real integration.
core::Result<std::string> demoSimulatorKey(auth::IdentityService& identity, storage::Store& store);

}  // namespace ioc::app
