// The sentence that says which tasks the figures cover when a launcher (a
// wrapper script, a version-manager shim) ran before the program: left out
// with --from-exec, or seen and not left out. Shared by every renderer.
#pragma once

#include <optional>
#include <string>

#include "model.h"

namespace cxt {

std::optional<std::string> scope_note(const RunModel& model);
// `--from-exec NAME`, NAME quoted for a shell where it needs it.
std::string from_exec_option(const std::string& name);

}  // namespace cxt
