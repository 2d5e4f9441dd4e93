#pragma once
// `cityioc import csv`: loads a CSV history (one row per observation time) into the store as
// time-series points, and sets each entity's attributes to its newest reading.
#include <string>
#include <vector>

namespace ioc::app {

//! args as given to the binary: {"import", "csv", …}. Exit codes: 0 imported (bad rows are
//! reported), 1 nothing importable or a store failure, 2 usage errors, missing columns, a data
//! directory in use.
int importCsv(const std::vector<std::string>& args);

}  // namespace ioc::app
