// The traced session that `cxtrace run` and `cxtrace lab` share: prepare
// (resolve the workload or command, check it, the tracing prerequisites and
// the output directory), hold the command, attach, follow it until it exits
// (the status line, Ctrl-C), collect the trace's end, write trace.cxt,
// correlate, and render the reports. Messages go to stderr as "cxtrace: ...".
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "commands.h"
#include "model.h"
#include "output_files.h"
#include "privileges.h"
#include "result.h"

namespace cxt {

// What is traced: a bundled workload or any command.
struct Target {
    std::string label;     // workload name, or the command's basename
    std::string workload;  // "" for an arbitrary command
    std::vector<std::string> argv;
};

// RunOptions' workload (and its arguments) or command, as argv to execute.
// ENOENT in the error: a bundled workload is missing from the installation.
Result<Target> resolve_target(const RunOptions& options);

// What a caller adds around the common session (lab: its grading).
struct SessionHooks {
    // Once the model exists, before the reports are written: what report.html
    // opens with (ReportExtras::predictions), and any files of the caller's.
    std::function<ReportExtras(const RunModel& model, const std::string& dir)> before_reports;
    // After the reports were written and the terminal summary printed.
    std::function<void(const RunModel& model, const ReportPaths& paths)> after_reports;
};

class TracedSession {
public:
    // Everything checked before anything runs: --as-root allowed, the target
    // found and executable, a bundled workload's own options, the tracing
    // prerequisites, the output directory created and writable. On failure
    // the reason is printed and the exit status `run` gives is returned.
    static std::variant<std::unique_ptr<TracedSession>, int> prepare(const RunOptions& options,
                                                                      const std::optional<InvokingUser>& user);
    ~TracedSession();
    TracedSession(const TracedSession&) = delete;
    TracedSession& operator=(const TracedSession&) = delete;

    const Target& target() const { return target_; }
    const OutputDir& dir() const { return dir_; }

    // Runs the command under tracing until it exits (or Ctrl-C, or a limit:
    // --max-trace-size, --duration), writes trace.cxt and the reports, prints
    // the summary. When cxtrace stops the command, what it left running is
    // stopped too; if cxtrace dies, its guard kills them (task_tree_guard.h).
    // The exit status of `cxtrace run`: the command's own (128+N when killed
    // by signal N), 124 when a limit ended the tracing, or cxtrace's when it
    // failed (the command's status is then printed). `traced` tells whether
    // reports were written.
    int run(const SessionHooks& hooks, bool* traced = nullptr);

private:
    TracedSession(RunOptions options, std::optional<InvokingUser> user, Target target, OutputDir dir);
    RunOptions options_;
    std::optional<InvokingUser> user_;
    Target target_;
    OutputDir dir_;
};

}  // namespace cxt
