// perfetto.pftrace: the run as a native Perfetto trace (a `Trace` protobuf,
// TrackEvent format), for Perfetto UI (ui.perfetto.dev) and trace_processor.
// Hand-encoded with reports/proto_encoder.h; no protobuf library.
//
// Two views of the same on-CPU intervals:
//  - per task: a process track per thread group (ProcessDescriptor, named
//    after its leader) and a thread track per task (ThreadDescriptor: pid =
//    tgid, tid = pid, "<comm> [<kind>]"); a slice (category "oncpu") per
//    on-CPU interval, named after its CPU ("CPU 1"), so core placement reads
//    off the track; instants (category "lifecycle") for creation, each exec
//    and exit, with their facts as debug annotations; a flow (creator ->
//    created) from the creator's on-CPU slice around the creation to the
//    created task's first slice (or its "created" instant when it never ran);
//    Off a CPU (traces of event ABI 4 on), the task's track holds its
//    states as slices (category "state"): "Runnable" (waiting for a CPU)
//    and each wait named by its state, system call and lock ("Sleeping:
//    futex lock1", "Blocked: read"), with who ended it as the annotation
//    "woken by" ("<comm> <pid>" or "outside the trace"; none when not seen).
//    With the on-CPU slices they tile the task's traced life;
//  - per CPU: a pseudo-process "CPUs" (pid kPerfettoCpuPid) with one thread
//    track per CPU where each interval appears again (category "cpu"), named
//    "<comm> <pid>", plus " (tgid <tgid>)" for a task that is not its
//    group's leader.
// Plus a track "cxtrace run" with one instant at 0 carrying the run's facts.
//
// Times are nanoseconds since the start of tracing, delta-encoded: the
// first packet makes a sequence-scoped clock (id 64) the default for
// TracePacket.timestamp, the second declares it incremental and at 0 when
// BOOTTIME is at 0, and each later packet's timestamp is the nanoseconds
// since the previous packet's (Perfetto's "incremental timestamps", as its
// own SDK writes them). Slices are BEGIN/END pairs; packets
// are written in time order (at equal times: slice ends, then begins, then
// instants). One packet sequence; slice and category names are interned up
// front in the first packet, which clears the sequence's incremental state.
// The slices carry no debug annotations and no sequence_flags: they are two
// of every interval's four packets, and their size is most of the file's
// (trace_processor reads interned names without SEQ_NEEDS_INCREMENTAL_STATE;
// the flag only lets it skip packets after a data loss, which a file
// written whole cannot have).
#pragma once

#include <cstdint>
#include <string>

#include "model.h"
#include "text_out.h"

namespace cxt {

constexpr const char* kPerfettoFileName = "perfetto.pftrace";

// Above any pid Linux hands out (pid_max <= 2^22), so never a real task;
// below 2^31, so a valid int32 pid in a ProcessDescriptor.
constexpr uint32_t kPerfettoCpuPid = 2'000'000'000;
// Track (tid) of CPU n in the "CPUs" pseudo-process. Not n itself: Perfetto
// treats tids as system-wide and reserves tid 0 for the idle task.
constexpr uint32_t perfetto_cpu_tid(uint32_t cpu) { return kPerfettoCpuPid + 1 + cpu; }

constexpr const char* kPerfettoSchema = "cxtrace.perfetto/4";

// The whole file as one string (tests, small outputs). Strings from the
// traced program have invalid UTF-8 replaced (U+FFFD, as report.json does):
// every protobuf string field is valid UTF-8.
std::string render_perfetto_trace(const RunModel& model);
// The same, streamed to out as it is encoded: no copy of the file is held
// (only an order of the intervals, 4 bytes each, when they are not in time order).
void write_perfetto_trace(const RunModel& model, TextOut& out);

// text with invalid UTF-8 sequences replaced by U+FFFD exactly as
// nlohmann::json's error_handler_t::replace does (text itself when valid).
std::string valid_utf8(const std::string& text);

}  // namespace cxt
