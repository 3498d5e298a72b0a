// "What this shows" sentences about where the tasks' time went off their
// CPUs: what they waited in, on which lock, and who woke them (event ABI 4
// traces; older ones have no states and get none of these).
#pragma once

#include <string>
#include <vector>

#include "findings.h"
#include "waits.h"

namespace cxt {

std::vector<Finding> wait_findings(const RunModel& model);

// A task of the lesson (not a launcher's) with a traced life of known
// states: what the sentences and report.html's bars are about.
bool has_lesson_life(const TaskRecord& task);

// What a student reads for a wait reason: "in futex (a lock, condition or join)".
std::string wait_reason_words(WaitReason reason);

}  // namespace cxt
