// The lesson inside a run. A shell wrapper or version-manager shim (pyenv,
// conda) runs helpers such as readlink and dirname before it execs the real
// program, and their tasks would enter every figure. With --from-exec NAME
// the lesson starts at the first exec of NAME: that task, and every task a
// lesson task created after it, is the lesson. Every other task is the
// launcher's: still listed (labelled `launcher`), but left out of the
// summary (counts, creation latency, parallelism) and the findings.
#pragma once

#include <string>

#include "model.h"

namespace cxt {

// Whether `exec` ran NAME: a path (NAME with a '/') is compared whole,
// else the file's basename or the name the task got (comm, which the
// kernel cuts to 15 bytes).
bool exec_matches(const ExecRecord& exec, const std::string& name);

// Applies --from-exec NAME ("": the whole run) to a finished model: marks
// the launcher's tasks and recomputes the summary over the lesson. When
// nothing is scoped, looks for a launcher to suggest leaving out.
void scope_to_lesson(RunModel& model, const std::string& from_exec);

// The model as the findings read it: the lesson's tasks only (its first
// task as their root, holding the execs from the lesson's on), the run's
// duration from the lesson's start. Intervals are not copied.
RunModel lesson_view(const RunModel& model);

}  // namespace cxt
