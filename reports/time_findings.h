// "What this shows" sentences about where CPU time went: the phases of a
// run side by side (a run with one phase has none: the whole-run sentences
// cover it), and the switch events' on-CPU time against the kernel's clock.
#pragma once

#include <vector>

#include "findings.h"

namespace cxt {

std::vector<Finding> phase_findings(const RunModel& model);
std::vector<Finding> clock_findings(const RunModel& model);

// Of a phase's (or run's) time with at least one traced task on a CPU, the
// share with two or more: 0 when nothing ran.
double parallel_share(const std::map<uint32_t, uint64_t>& parallelism_ns);

}  // namespace cxt
