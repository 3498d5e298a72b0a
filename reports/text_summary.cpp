#include "text_summary.h"

#include "approximations.h"
#include "findings.h"
#include "time_findings.h"
#include "scope_note.h"
#include "unicode.h"

#include <algorithm>
#include <cstdio>
#include <iterator>
#include <map>
#include <sstream>
#include <utility>

namespace cxt {

std::string format_duration_ns(uint64_t ns) {
    char buf[32];
    if (ns < 1'000) std::snprintf(buf, sizeof buf, "%llu ns", static_cast<unsigned long long>(ns));
    else if (ns < 1'000'000) std::snprintf(buf, sizeof buf, "%.1f us", ns / 1e3);
    else if (ns < 1'000'000'000) std::snprintf(buf, sizeof buf, "%.2f ms", ns / 1e6);
    else std::snprintf(buf, sizeof buf, "%.2f s", ns / 1e9);
    return buf;
}

std::string format_bytes(uint64_t bytes) {
    const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
    if (bytes < 1024) return counted(bytes, "byte", "bytes");
    double value = bytes / 1024.0;
    size_t unit = 0;
    while (value >= 1024 && unit + 1 < std::size(units)) {
        value /= 1024;
        ++unit;
    }
    char buf[32];
    // Whole numbers as they were typed (256M: "256 MiB"), others to one decimal.
    if (value == static_cast<double>(static_cast<uint64_t>(value)))
        std::snprintf(buf, sizeof buf, "%.0f %s", value, units[unit]);
    else
        std::snprintf(buf, sizeof buf, "%.1f %s", value, units[unit]);
    return buf;
}

std::string limit_reached_sentence(const RunInfo& run) {
    if (!run.limit) return "";
    const TraceLimit& limit = *run.limit;
    const std::string what = limit.kind == TraceLimitKind::MaxTraceSize
                                 ? "the trace size limit (--max-trace-size " + format_bytes(limit.value) + ")"
                                 : "the time limit (--duration " + format_duration_ns(limit.value) + ")";
    return "tracing stopped at " + what + ", " + format_duration_ns(run.duration_ns) +
           " into the run: what the command did after that is not in this report";
}

std::string counted(uint64_t n, const char* one, const char* many) {
    return std::to_string(n) + " " + (n == 1 ? one : many);
}

std::string percent(double share) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%.0f%%", share * 100.0);
    return buf;
}

std::string times(double ratio) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1fx", ratio);
    return buf;
}

std::string command_line(const std::vector<std::string>& argv) {
    std::string line;
    for (const std::string& arg : argv) line += (line.empty() ? "" : " ") + arg;
    return line;
}

namespace {

// The command line for the summary's first line: a huge argv is cut, and
// says by how much (report.json keeps it whole).
constexpr size_t kCommandShown = 160;
std::string command_line_shown(const std::vector<std::string>& command) {
    const std::string line = command_line(command);
    if (line.size() <= kCommandShown + 40) return terminal_safe(line);
    size_t cut = kCommandShown;
    while (cut > 0 && (static_cast<unsigned char>(line[cut]) & 0xc0) == 0x80) --cut;  // not inside a character
    return terminal_safe(line.substr(0, cut)) + " ... (" + std::to_string(line.size() - cut) +
           " more bytes; report.json has it all)";
}

std::string row(const char* kind, const LatencyStats& first_run, const LatencyStats* syscall) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "    %-10s %6llu %11s %11s %11s %13s\n", kind,
                  static_cast<unsigned long long>(first_run.count), format_duration_ns(first_run.p50).c_str(),
                  format_duration_ns(first_run.p90).c_str(), format_duration_ns(first_run.max).c_str(),
                  syscall ? format_duration_ns(syscall->p50).c_str() : "-");
    return buf;
}

// One row per phase: the figures a lesson compares.
std::string phase_table(const std::vector<Phase>& phases) {
    std::string out = "  phases:\n";
    char line[256];
    std::snprintf(line, sizeof line, "    %-15s %10s %8s %7s %11s %9s  %s\n", "phase", "wall", "created", "max on",
                  "CPU time", ">=2 on", "first run p50 (kind created most)");
    out += line;
    for (const Phase& phase : phases) {
        uint64_t created = 0;
        for (const auto& [kind, n] : phase.created) created += n;
        std::string first_run = "-";
        uint64_t counted = 0;
        for (const auto& [kind, stats] : phase.first_run_latency)
            if (stats.count > counted) counted = stats.count, first_run = format_duration_ns(stats.p50) + " " + kind;
        std::snprintf(line, sizeof line, "    %-15s %10s %8llu %7u %11s %8.0f%%  %s\n",
                      terminal_safe(phase.name).c_str(), format_duration_ns(phase.end_ns - phase.start_ns).c_str(),
                      static_cast<unsigned long long>(created), phase.max_parallelism,
                      format_duration_ns(phase.cpu_time_ns.value_or(phase.oncpu_ns)).c_str(),
                      parallel_share(phase.parallelism_ns) * 100.0, first_run.c_str());
        out += line;
    }
    return out;
}

// One row per kind: the shares of the tasks' traced lives in each state.
std::string state_table(const RunModel& model) {
    std::map<std::string, uint64_t> tasks;
    for (const TaskRecord& task : model.tasks)
        if (!task.launcher && task.states) ++tasks[task_kind_name(task.kind)];
    std::string out = "  where the time went (each task from its first wakeup to its last switch-out):\n";
    char line[160];
    std::snprintf(line, sizeof line, "    %-10s %6s %9s %9s %9s %9s %9s\n", "kind", "tasks", "running", "runnable",
                  "sleeping", "blocked", "other");
    out += line;
    for (const auto& by_kind : model.summary.states_by_kind) {
        const std::string& kind = by_kind.first;
        const StateTimes& states = by_kind.second;  // not a structured binding: lambdas capture it (C++17)
        const double total = static_cast<double>(std::max<uint64_t>(states.total(), 1));
        auto share = [&](RunState state) { return percent(static_cast<double>(states[state]) / total); };
        std::snprintf(line, sizeof line, "    %-10s %6llu %9s %9s %9s %9s %9s\n", kind.c_str(),
                      static_cast<unsigned long long>(tasks[kind]), share(RunState::Running).c_str(),
                      share(RunState::Runnable).c_str(), share(RunState::Sleeping).c_str(),
                      share(RunState::Blocked).c_str(), share(RunState::Other).c_str());
        out += line;
    }
    return out;
}

}  // namespace

std::string render_text_summary(const RunModel& model) {
    const RunInfo& run = model.run;
    const Summary& s = model.summary;
    std::ostringstream out;

    out << "\ncxtrace summary: " << (run.workload.empty() ? "command" : run.workload);
    if (!run.command.empty()) out << " (" << command_line_shown(run.command) << ")";
    out << "\n";
    if (!run.complete) {
        out << "  WARNING: this report is incomplete:";
        if (run.lost_events) out << " " << run.lost_events << " events were lost (try a larger --ring-buffer-size)";
        if (run.cut_off)
            out << " the trace file was cut off (" << terminal_safe(*run.cut_off) << "): the report covers the "
                << run.events << " events before the cut; how the run ended and any losses are not known";
        else if (run.interrupted)
            out << " the run was interrupted";
        if (run.limit) out << " " << limit_reached_sentence(run);
        if (run.left_running) out << "; the command was left running (pid " << run.root_pid << "), untraced";
        if (run.losses_unknown) out << " the kernel's loss counters could not be read";
        out << "\n";
    }
    if (run.approximate) {
        out << "  APPROXIMATE: cxtrace had to infer or repair part of this run:\n";
        for (const std::string& note : approximation_notes(model)) out << "    - " << terminal_safe(note) << "\n";
    }
    if (auto note = scope_note(model)) out << "  launcher: " << terminal_safe(*note) << "\n";
    out << "  tasks: " << s.tasks << " (" << counted(s.processes, "process", "processes") << ", "
        << counted(s.threads, "thread", "threads") << "), "
        << counted(s.address_spaces, "address space", "address spaces");
    // The root's first address space is a copy of cxtrace's launcher's,
    // replaced by the exec of the command: counted, but not the program's
    // (with --from-exec, the lesson's figures leave it out).
    if (!model.run.lesson.matched && !model.tasks.empty() && !model.tasks.front().execs.empty() && model.tasks.front().mm != 0)
        out << " (the first one the launcher's, before the command's exec)";
    out << "\n";

    if (!s.first_run_latency.empty()) {
        out << "  creation latency, creator's syscall -> new task first on a CPU:\n";
        char head[160];
        std::snprintf(head, sizeof head, "    %-10s %6s %11s %11s %11s %13s\n", "kind", "count", "p50", "p90", "max",
                      "syscall p50");
        out << head;
        for (const auto& [kind, stats] : s.first_run_latency) {
            auto syscall = s.syscall_latency.find(kind);
            out << row(kind.c_str(), stats, syscall == s.syscall_latency.end() ? nullptr : &syscall->second);
        }
    }
    out << "  parallelism: at most " << counted(s.max_parallelism, "traced task", "traced tasks")
        << " on a CPU at once; " << counted(s.context_switches, "switch-in", "switch-ins") << ", "
        << counted(s.migrations, "migration", "migrations") << "\n";
    if (model.phases.size() > 1) out << phase_table(model.phases);
    if (!s.states_by_kind.empty()) out << state_table(model);
    out << "  events: " << run.events << ", lost: " << run.lost_events << ", traced for "
        << format_duration_ns(run.duration_ns) << " on " << counted(static_cast<uint64_t>(run.cpus), "CPU", "CPUs")
        << "\n";
    auto shown = findings(model);
    if (!shown.empty()) {
        out << "  what this shows:\n";
        for (const Finding& finding : shown) out << "    - " << terminal_safe(finding.text) << "\n";
    }
    if (run.output) {
        out << "  output kept for the report:";
        for (const auto& [name, stream] : {std::pair{"stdout", &run.output->out}, std::pair{"stderr", &run.output->err}}) {
            out << " " << name << " " << stream->total_bytes << " bytes";
            if (stream->cut_bytes() > 0) out << " (" << stream->cut_bytes() << " cut from the middle)";
            out << (name == std::string("stdout") ? "," : "\n");
        }
    }
    if (model.anomalies.total() > 0)
        out << "  anomalies: " << model.anomalies.total() << " (see \"anomalies\" in report.json)\n";
    if (run.exit_signal) out << "  the command was killed by signal " << *run.exit_signal << "\n";
    else if (run.exit_code) out << "  the command exited with status " << *run.exit_code << "\n";
    return out.str();
}

}  // namespace cxt
