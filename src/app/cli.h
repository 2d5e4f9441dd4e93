#pragma once
#include <string>
#include <vector>

namespace ioc::app {

//! Entry point of the `cityioc` binary: dispatches subcommands; returns the exit code.
int runCli(const std::vector<std::string>& args);

}  // namespace ioc::app
