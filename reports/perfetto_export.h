// perfetto.json: the run as Chrome trace-event JSON, for Perfetto UI
// (ui.perfetto.dev, legacy JSON importer) and chrome://tracing.
//
// Two views of the same on-CPU intervals:
//  - per task: one track per task (pid = tgid, tid = pid), an "X" slice
//    (cat "oncpu") per on-CPU interval, instants (cat "lifecycle") for
//    creation, each exec and exit, and a flow arrow (cat "creation") from
//    the creator to the task it created;
//  - per CPU: a pseudo-process "CPUs" (pid kPerfettoCpuPid) with one track
//    per CPU where each interval appears again as "<comm> <pid>" (cat "cpu").
// Timestamps and durations are microseconds relative to the start of
// tracing, with three decimals (nanosecond precision).
#pragma once

#include <cstdint>
#include <string>

#include "model.h"
#include "text_out.h"

namespace cxt {

// Above any pid Linux hands out (pid_max <= 2^22), so never a real task.
constexpr uint32_t kPerfettoCpuPid = 2'000'000'000;
// Track (tid) of CPU n in the "CPUs" pseudo-process. Not n itself: Perfetto
// treats tids as system-wide and reserves tid 0 for the idle task.
constexpr uint32_t perfetto_cpu_tid(uint32_t cpu) { return kPerfettoCpuPid + 1 + cpu; }

constexpr const char* kPerfettoSchema = "cxtrace.perfetto/1";

// The whole file: {"traceEvents":[...],"displayTimeUnit":"ns","metadata":{...}},
// one event per line. Strings from the traced program are escaped, invalid
// UTF-8 replaced: always valid JSON.
std::string render_perfetto_json(const RunModel& model);
// The same, streamed: nothing proportional to the trace is held as text.
void write_perfetto_json(const RunModel& model, TextOut& out);

}  // namespace cxt
