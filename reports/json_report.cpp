#include "json_report.h"

#include "findings.h"

namespace cxt {

namespace {

using nlohmann::json;

template <typename T>
json or_null(const std::optional<T>& value) {
    return value ? json(*value) : json(nullptr);
}

std::string mm_name(uint32_t mm) { return "mm" + std::to_string(mm); }
json mm_or_null(uint32_t mm) { return mm ? json(mm_name(mm)) : json(nullptr); }

json stats_json(const std::map<std::string, LatencyStats>& by_kind) {
    json out = json::object();
    for (const auto& [kind, s] : by_kind)
        out[kind] = {{"count", s.count}, {"min", s.min}, {"p50", s.p50}, {"p90", s.p90}, {"max", s.max}};
    return out;
}

json task_json(const TaskRecord& task) {
    json cpus = json::object();
    for (const auto& [cpu, ns] : task.cpu_ns) cpus[std::to_string(cpu)] = ns;
    json execs = json::array();
    for (const ExecRecord& exec : task.execs) {
        json entry = {{"ts_ns", exec.ts_ns},
                      {"filename", exec.filename},
                      {"argv", exec.argv},
                      {"mm", mm_or_null(exec.mm)},
                      {"argc", exec.argc},
                      {"argv_truncated", exec.argv_truncated},
                      {"filename_truncated", exec.filename_truncated}};
        if (exec.pid_before != 0 && exec.pid_before != task.pid) entry["pid_before"] = exec.pid_before;
        execs.push_back(std::move(entry));
    }
    json woken_by = json::object();
    for (const auto& [waker, times] : task.woken_by) woken_by[std::to_string(waker)] = times;
    json renames = json::array();
    for (const CommChange& change : task.renames) renames.push_back({{"ts_ns", change.ts_ns}, {"comm", change.comm}});
    return {
        {"pid", task.pid},
        {"tgid", task.tgid},
        {"ppid", task.ppid},
        {"parent_pid", task.parent_pid},
        {"comm", task.comm},
        {"kind", task_kind_name(task.kind)},
        {"mm", mm_or_null(task.mm)},
        {"created_ns", or_null(task.created_ns)},
        {"exited_ns", or_null(task.exited_ns)},
        {"exit_code", or_null(task.exit_code)},
        {"exit_signal", or_null(task.exit_signal)},
        {"core_dumped", task.core_dumped},
        {"latency_ns", {{"syscall", or_null(task.latency.syscall)}, {"first_run", or_null(task.latency.first_run)}}},
        {"wakeup_cpu", or_null(task.wakeup_cpu)},
        {"oncpu_ns", task.oncpu_ns},
        {"cpus", cpus},
        {"migrations", task.migrations},
        {"migrate_events", task.migrate_events},
        {"context_switches", task.switches_in},
        {"wakeups", task.wakeups},
        {"woken_by", woken_by},
        {"execs", execs},
        {"renames", renames},
        {"creation_syscall", task.creation_syscall.empty() ? json(nullptr) : json(task.creation_syscall)},
        {"clone_flags", task.clone_flags},
        {"inferred", task.inferred},
        {"pid_namespace", task.pid_ns ? json{{"pid", task.pid_ns->pid},
                                             {"tgid", task.pid_ns->tgid},
                                             {"ppid", task.pid_ns->ppid},
                                             {"level", task.pid_ns->level},
                                             {"inode", task.pid_ns->inum}}
                                      : json(nullptr)},
    };
}

}  // namespace

json run_json(const RunInfo& run) {
    return {{"workload", run.workload},
            {"command", run.command},
            {"started_at", run.started_at},
            {"duration_ns", run.duration_ns},
            {"cpus", run.cpus},
            {"kernel", run.kernel},
            {"events", run.events},
            {"lost_events", run.lost_events},
            {"lost_events_by_kind", run.lost_by_kind},
            {"complete", run.complete},
            {"interrupted", run.interrupted},
            {"left_running", run.left_running},
            {"exit_code", or_null(run.exit_code)},
            {"exit_signal", or_null(run.exit_signal)},
            {"root_pid", run.root_pid},
            // Every pid/tgid/ppid in the report is the kernel's id in the
            // initial namespace; a task's pid_namespace adds what it saw itself.
            {"pid_namespace", "initial"}};
}

json report_json(const RunModel& model) {
    json tasks = json::array();
    for (const TaskRecord& task : model.tasks) tasks.push_back(task_json(task));

    json parallelism = json::object();
    for (const auto& [n, ns] : model.summary.parallelism_ns) parallelism[std::to_string(n)] = ns;

    json what_this_shows = json::array();
    for (const Finding& finding : findings(model))
        what_this_shows.push_back({{"topic", finding.topic}, {"text", finding.text}});

    const Anomalies& a = model.anomalies;
    return {
        {"schema", kReportSchema},
        {"run", run_json(model.run)},
        {"tasks", tasks},
        {"summary",
         {{"tasks", model.summary.tasks},
          {"processes", model.summary.processes},
          {"threads", model.summary.threads},
          {"address_spaces", model.summary.address_spaces},
          {"creation_latency_ns", stats_json(model.summary.first_run_latency)},
          {"syscall_latency_ns", stats_json(model.summary.syscall_latency)},
          {"max_parallelism", model.summary.max_parallelism},
          {"parallelism_ns", parallelism},
          {"context_switches", model.summary.context_switches},
          {"migrations", model.summary.migrations},
          {"what_this_shows", what_this_shows}}},
        {"anomalies",
         {{"reordered_events", a.reordered_events},
          {"late_events", a.late_events},
          {"unknown_tasks", a.unknown_tasks},
          {"pid_reused_before_exit", a.pid_reused_before_exit},
          {"switch_out_not_running", a.switch_out_not_running},
          {"switch_in_over_running", a.switch_in_over_running},
          {"events_before_start", a.events_before_start},
          {"unmatched_syscall_exits", a.unmatched_syscall_exits},
          {"inferred_switch_ins", a.inferred_switch_ins}}},
    };
}

std::string render_json_report(const RunModel& model) { return render_json_report(report_json(model)); }

std::string render_json_report(const json& report) {
    // Invalid UTF-8 from the traced program (comm, argv) is replaced, not fatal.
    return report.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace cxt
