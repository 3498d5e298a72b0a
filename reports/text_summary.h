// The terminal summary printed at the end of every run.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model.h"

namespace cxt {

std::string format_duration_ns(uint64_t ns);
// A size in binary units: "512 bytes", "64 KiB", "1.5 GiB".
std::string format_bytes(uint64_t bytes);
// For a run a limit ended (RunInfo::limit), the sentence that says so,
// starting in lower case: "tracing stopped at ... not in this report".
std::string limit_reached_sentence(const RunInfo& run);
// "1 thread", "2 threads": a count with its noun in the right number.
std::string counted(uint64_t n, const char* one, const char* many);
// A share (0..1) as a whole percentage: "42%".
std::string percent(double share);
// A ratio as "2.5x".
std::string times(double ratio);
// An argv as one line, its words joined by spaces (not quoted).
std::string command_line(const std::vector<std::string>& argv);
std::string render_text_summary(const RunModel& model);

}  // namespace cxt
