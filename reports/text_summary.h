// The terminal summary printed at the end of every run.
#pragma once

#include <cstdint>
#include <string>

#include "model.h"

namespace cxt {

std::string format_duration_ns(uint64_t ns);
std::string render_text_summary(const RunModel& model);

}  // namespace cxt
