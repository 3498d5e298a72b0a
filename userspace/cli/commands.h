// The cxtrace subcommands. Each takes its parsed options and the user
// behind sudo, if any, and returns the process exit status. main has already
// set cxtrace's rights (privileges.h): report and list run as that user.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "privileges.h"

namespace cxt {

// Exit statuses of cxtrace itself (a traced command's own status is passed
// through by `run`).
constexpr int kExitUsage = 2;
constexpr int kExitFailure = 1;
constexpr int kExitCommandNotFound = 127;
constexpr int kExitCannotExecute = 126;
// A limit (--max-trace-size, --duration) ended the tracing, as timeout(1) says it.
constexpr int kExitLimitReached = 124;

// trace.cxt's default size limit. A lesson's run writes a few MiB at most; a
// context-switch storm about 12 MiB a second (69 bytes per event on disk).
// Reporting a trace takes about 0.9 bytes of memory per byte of it (61 bytes
// per event, bench/run e) and perfetto.pftrace up to its size again:
// 256 MiB keeps a runaway run within ~250 MiB of memory and ~600 MiB of
// disk, on machines a whole lab shares, while leaving a lesson ample room.
constexpr uint64_t kDefaultMaxTraceBytes = uint64_t{256} << 20;

struct RunOptions {
    std::string output_dir;
    uint64_t ring_buffer_bytes = 16u << 20;
    uint64_t max_trace_bytes = kDefaultMaxTraceBytes;  // trace.cxt stops growing here (0: no limit)
    uint64_t duration_ns = 0;                          // tracing stops after this long (0: no limit)
    bool as_root = false;
    bool leave_running = false;  // on Ctrl-C/SIGTERM stop tracing, not the command
    bool verbose = false;
    bool syscall_tracepoints = false;  // per-syscall classic tracepoints instead of tp_btf sys_enter/exit
    std::string from_exec;             // the lesson starts at the first exec of this program ("": whole run)
    bool capture_output = false;       // keep what the command writes (it then writes to pipes)
    std::vector<std::string> workload_and_args;  // WORKLOAD [ARGS...]
    std::vector<std::string> command;            // after --
};

struct ReportOptions {
    std::string trace_file;
    std::string output_dir;
    std::optional<std::string> from_exec;  // replaces the trace's own --from-exec
};

struct LabOptions {
    std::string sheet;                // a bundled sheet's name or a path; "" lists the sheets
    std::string answers_file;         // predictions from this file instead of the terminal
    std::optional<uint64_t> seed;     // chooses the sheet's parameters (default: a random one, recorded)
    std::string student;
    std::string output_dir;
};

struct CompareOptions {
    std::vector<std::string> runs;    // output directories or report.json files
    std::vector<std::string> labels;  // --label, one per run (or none)
    std::string output_dir;
};

struct ClassOptions {
    std::vector<std::string> folders;  // searched for lab.json and report.json
    std::string output_dir;
};

int run_command(const RunOptions& options, const std::optional<InvokingUser>& user);
int report_command(const ReportOptions& options, const std::optional<InvokingUser>& user);
int compare_command(const CompareOptions& options, const std::optional<InvokingUser>& user);
int class_command(const ClassOptions& options, const std::optional<InvokingUser>& user);
int list_command();
int lab_command(const LabOptions& options, const std::optional<InvokingUser>& user);

}  // namespace cxt
