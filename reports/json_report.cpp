#include "json_report.h"

#include "approximations.h"
#include "waits.h"
#include "findings.h"
#include "scope_note.h"

#include <algorithm>

namespace cxt {

namespace {

using nlohmann::json;

template <typename T>
json or_null(const std::optional<T>& value) {
    return value ? json(*value) : json(nullptr);
}

std::string mm_name(uint32_t mm) { return "mm" + std::to_string(mm); }
std::string lock_name(uint32_t lock) { return "lock" + std::to_string(lock); }

json anomalies_json(const Anomalies& anomalies) {
    json out = json::object();
#define CXT_ANOMALY_JSON(name, repair, what) out[#name] = anomalies.name;
    CXT_ANOMALIES(CXT_ANOMALY_JSON)
#undef CXT_ANOMALY_JSON
    out["recovered_oncpu_ns"] = anomalies.recovered_oncpu_ns;
    out["unplaced_cpu_ns"] = anomalies.unplaced_cpu_ns;
    return out;
}

json stats_json(const std::map<std::string, LatencyStats>& by_kind) {
    json out = json::object();
    for (const auto& [kind, s] : by_kind)
        out[kind] = {{"count", s.count}, {"min", s.min}, {"p50", s.p50}, {"p90", s.p90}, {"max", s.max}};
    return out;
}

// Keys of a JSON object with numeric names, in nlohmann's (string) order.
template <typename Map>
std::vector<std::pair<std::string, uint64_t>> by_name(const Map& numbered) {
    std::vector<std::pair<std::string, uint64_t>> named;
    named.reserve(numbered.size());
    for (const auto& [number, value] : numbered) named.emplace_back(std::to_string(number), value);
    std::sort(named.begin(), named.end());
    return named;
}

void write_named(JsonWriter& w, const std::vector<std::pair<std::string, uint64_t>>& named) {
    w.begin_object();
    for (const auto& [name, value] : named) w.key(name), w.value(value);
    w.end_object();
}

void write_tally(JsonWriter& w, const WakerTally& tally) {
    w.begin_object();
    w.key("count"), w.value(tally.count);
    w.key("ns"), w.value(tally.ns);
    w.end_object();
}

void write_states(JsonWriter& w, const std::optional<StateTimes>& states) {
    if (!states) return w.null();
    // Keys sorted, as nlohmann keeps them.
    std::vector<std::pair<std::string, uint64_t>> named;
    for (size_t i = 0; i < kRunStateCount; ++i) named.emplace_back(run_state_name(static_cast<RunState>(i)), states->ns[i]);
    std::sort(named.begin(), named.end());
    write_named(w, named);
}

// One wait of a task: keys sorted.
void write_wait(JsonWriter& w, const WaitRecord& wait) {
    w.begin_object();
    w.key("count"), w.value(wait.count);
    w.key("lock");
    if (wait.lock) w.value(lock_name(wait.lock));
    else w.null();
    w.key("ns"), w.value(wait.ns);
    w.key("reason"), w.value(wait_reason_key(wait_reason(wait.syscall)));
    w.key("state"), w.value(run_state_name(wait.state));
    w.key("syscall");
    if (wait.syscall >= 0) w.value(syscall_display_name(wait.syscall));
    else w.null();
    w.key("unknown"), write_tally(w, wait.unknown);
    // Traced wakers by pid, then "outside": digits sort before letters.
    std::vector<std::pair<std::string, const WakerTally*>> wakers;
    for (const auto& [pid, tally] : wait.woken_by) wakers.emplace_back(std::to_string(pid), &tally);
    std::sort(wakers.begin(), wakers.end());
    w.key("woken_by");
    w.begin_object();
    for (const auto& [pid, tally] : wakers) w.key(pid), write_tally(w, *tally);
    w.key("outside"), write_tally(w, wait.outside);
    w.end_object();
    w.end_object();
}

void write_mm(JsonWriter& w, uint32_t mm) {
    if (mm) w.value(mm_name(mm));
    else w.null();
}

}  // namespace

// One task of report.json, keys in the sorted order nlohmann keeps (so the
// file reads as report_json(model).dump(2) would).
void write_task_json(JsonWriter& w, const TaskRecord& task, const TaskIndex* index) {
    w.begin_object();
    w.key("clone_flags"), w.value(task.clone_flags);
    w.key("comm"), w.value(task.comm);
    w.key("context_switches"), w.value(task.switches_in);
    w.key("core_dumped"), w.value(task.core_dumped);
    w.key("cpu_time_ns"), w.value(task.cpu_time_ns);
    w.key("cpus"), write_named(w, by_name(task.cpu_ns));
    w.key("created_ns"), w.value(task.created_ns);
    w.key("creation_syscall");
    if (task.creation_syscall.empty()) w.null();
    else w.value(task.creation_syscall);
    w.key("execs");
    w.begin_array();
    for (const ExecRecord& exec : task.execs) {
        w.begin_object();
        w.key("argc"), w.value(exec.argc);
        w.key("argv");
        w.begin_array();
        for (const std::string& arg : exec.argv) w.value(arg);
        w.end_array();
        w.key("argv_truncated"), w.value(exec.argv_truncated);
        w.key("filename"), w.value(exec.filename);
        w.key("filename_truncated"), w.value(exec.filename_truncated);
        w.key("mm"), write_mm(w, exec.mm);
        if (exec.pid_before != 0 && exec.pid_before != task.pid) w.key("pid_before"), w.value(exec.pid_before);
        w.key("ts_ns"), w.value(exec.ts_ns);
        w.end_object();
    }
    w.end_array();
    w.key("exit_code"), w.value(task.exit_code);
    w.key("exit_signal"), w.value(task.exit_signal);
    w.key("exited_ns"), w.value(task.exited_ns);
    w.key("first_run_context");
    w.begin_object();
    w.key("after"), w.value(ran_after_name(task.first_run_context.after));
    w.key("cpu"), w.value(task.first_run_context.cpu);
    w.key("creator_cpu"), w.value(task.first_run_context.creator_cpu);
    w.key("creator_kept_cpu"), w.value(task.first_run_context.creator_kept_cpu);
    w.end_object();
    if (index) w.key("index"), w.value(static_cast<uint64_t>(index->index));
    w.key("inferred"), w.value(task.inferred);
    // The page draws the states itself (its "Where did the time go?"): its data leaves them out.
    if (!index) w.key("involuntary_switches"), w.value(task.involuntary_switches);
    w.key("kind"), w.value(task_kind_name(task.kind));
    w.key("latency_ns");
    w.begin_object();
    w.key("first_run"), w.value(task.latency.first_run);
    w.key("syscall"), w.value(task.latency.syscall);
    w.end_object();
    w.key("launcher"), w.value(task.launcher);
    w.key("migrate_events"), w.value(task.migrate_events);
    w.key("migrations"), w.value(task.migrations);
    w.key("mm"), write_mm(w, task.mm);
    w.key("oncpu_ns"), w.value(task.oncpu_ns);
    if (index) w.key("parent_index"), w.value(index->parent_index);
    w.key("parent_pid"), w.value(task.parent_pid);
    w.key("pid"), w.value(task.pid);
    w.key("pid_namespace");
    if (task.pid_ns) {
        w.begin_object();
        w.key("inode"), w.value(task.pid_ns->inum);
        w.key("level"), w.value(task.pid_ns->level);
        w.key("pid"), w.value(task.pid_ns->pid);
        w.key("ppid"), w.value(task.pid_ns->ppid);
        w.key("tgid"), w.value(task.pid_ns->tgid);
        w.end_object();
    } else {
        w.null();
    }
    w.key("ppid"), w.value(task.ppid);
    w.key("ppid_exited_ns"), w.value(task.ppid_exited_ns);
    w.key("recovered_oncpu_ns"), w.value(task.recovered_oncpu_ns);
    w.key("renames");
    w.begin_array();
    for (const CommChange& change : task.renames) {
        w.begin_object();
        w.key("comm"), w.value(change.comm);
        w.key("ts_ns"), w.value(change.ts_ns);
        w.end_object();
    }
    w.end_array();
    w.key("repairs"), w.value(task.repairs);
    if (!index) w.key("states_ns"), write_states(w, task.states);
    w.key("tgid"), w.value(task.tgid);
    w.key("unplaced_cpu_ns"), w.value(task.unplaced_cpu_ns);
    if (!index) {
        w.key("voluntary_switches"), w.value(task.voluntary_switches);
        w.key("waits");
        w.begin_array();
        for (const WaitRecord& wait : task.waits) write_wait(w, wait);
        w.end_array();
    }
    w.key("wakeup_cpu"), w.value(task.wakeup_cpu);
    w.key("wakeups"), w.value(task.wakeups);
    // Not in the page's data: it does not show who woke whom, and the
    // lists grow with the square of the tasks (15 MB of a 2,000-thread page).
    if (!index) w.key("woken_by"), write_named(w, by_name(task.woken_by));
    w.end_object();
}

namespace {

json lesson_json(const RunInfo& run) {
    const Lesson& lesson = run.lesson;
    if (lesson.from_exec.empty()) return nullptr;
    return {{"from_exec", lesson.from_exec},
            {"matched", lesson.matched},
            {"start_ns", lesson.matched ? json(lesson.start_ns) : json(nullptr)},
            {"task_index", lesson.matched ? json(lesson.task) : json(nullptr)},
            {"launcher_tasks", lesson.launcher_tasks}};
}

json launcher_hint_json(const RunInfo& run) {
    if (!run.launcher_hint) return nullptr;
    const LauncherHint& hint = *run.launcher_hint;
    return {{"program", hint.program},
            {"tasks_before", hint.tasks_before},
            {"comms", hint.comms},
            {"option", from_exec_option(hint.program)}};
}

json stream_json(const CapturedStream& stream) {
    return {{"head", stream.head}, {"tail", stream.tail}, {"bytes", stream.total_bytes},
            {"cut_bytes", stream.cut_bytes()}};
}

json output_json(const RunInfo& run) {
    if (!run.output) return nullptr;
    return {{"stdout", stream_json(run.output->out)}, {"stderr", stream_json(run.output->err)}};
}

// The limit that ended the tracing: the option and its value (bytes, or
// nanoseconds as every time here), or null.
json limit_json(const RunInfo& run) {
    if (!run.limit) return nullptr;
    const bool size = run.limit->kind == TraceLimitKind::MaxTraceSize;
    return {{"option", trace_limit_option(run.limit->kind)}, {size ? "bytes" : "ns", run.limit->value}};
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
            {"approximate", run.approximate},
            {"interrupted", run.interrupted},
            {"cut_off", run.cut_off ? json(*run.cut_off) : json(nullptr)},
            {"left_running", run.left_running},
            {"limit_reached", limit_json(run)},
            {"losses_unknown", run.losses_unknown},
            {"exit_code", or_null(run.exit_code)},
            {"exit_signal", or_null(run.exit_signal)},
            {"root_pid", run.root_pid},
            // Every pid/tgid/ppid in the report is the kernel's id in the
            // initial namespace; a task's pid_namespace adds what it saw itself.
            {"pid_namespace", "initial"},
            {"lesson", lesson_json(run)},
            {"launcher_hint", launcher_hint_json(run)}};
}

json states_json(const StateTimes& states) {
    json out = json::object();
    for (size_t i = 0; i < kRunStateCount; ++i) out[run_state_name(static_cast<RunState>(i))] = states.ns[i];
    return out;
}

json locks_json(const std::vector<LockRecord>& locks) {
    json out = json::array();
    for (const LockRecord& lock : locks)
        out.push_back({{"lock", lock_name(lock.label)},
                       {"tgid", lock.tgid},
                       {"waiters", lock.waiters},
                       {"waits", lock.waits},
                       {"ns", lock.ns},
                       {"handovers", lock.handovers}});
    return out;
}

json phases_json(const std::vector<Phase>& phases) {
    json out = json::array();
    for (const Phase& phase : phases) {
        json parallelism = json::object();
        for (const auto& [n, ns] : phase.parallelism_ns) parallelism[std::to_string(n)] = ns;
        out.push_back({{"name", phase.name},
                       {"start_ns", phase.start_ns},
                       {"end_ns", phase.end_ns},
                       {"duration_ns", phase.end_ns - phase.start_ns},
                       {"marked_by", phase.marked_by ? json(phase.marked_by) : json(nullptr)},
                       {"tasks_created", phase.created},
                       {"creation_latency_ns", stats_json(phase.first_run_latency)},
                       {"syscall_latency_ns", stats_json(phase.syscall_latency)},
                       {"oncpu_ns", phase.oncpu_ns},
                       {"cpu_time_ns", or_null(phase.cpu_time_ns)},
                       {"cpu_time_ns_by_kind", phase.cpu_time_by_kind},
                       {"max_parallelism", phase.max_parallelism},
                       {"parallelism_ns", parallelism},
                       {"states_ns", phase.states ? states_json(*phase.states) : json(nullptr)}});
    }
    return out;
}

// null for a trace that cannot tell the states apart (before event ABI 4).
json states_by_kind_json(const Summary& summary) {
    if (summary.states_by_kind.empty()) return nullptr;
    json out = json::object();
    for (const auto& [kind, states] : summary.states_by_kind) out[kind] = states_json(states);
    return out;
}

json report_json(const RunModel& model) {
    // The writer is the one definition of a task's fields; the DOM is read back from it.
    return json::parse(render_json_report(model));
}

json report_json_without_tasks(const RunModel& model) {
    json parallelism = json::object();
    for (const auto& [n, ns] : model.summary.parallelism_ns) parallelism[std::to_string(n)] = ns;

    json what_this_shows = json::array();
    for (const Finding& finding : findings(model))
        what_this_shows.push_back({{"topic", finding.topic}, {"text", finding.text}});

    // The captured output only here: not in run_json's other uses (Perfetto's metadata).
    json run = run_json(model.run);
    run["output"] = output_json(model.run);
    auto note = scope_note(model);
    run["scope_note"] = note ? json(*note) : json(nullptr);

    return {
        {"schema", kReportSchema},
        {"run", run},
        {"phases", phases_json(model.phases)},
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
          {"states_ns_by_kind", states_by_kind_json(model.summary)},
          {"locks", locks_json(model.summary.locks)},
          {"what_this_shows", what_this_shows},
          {"approximations", approximation_notes(model)}}},
        {"anomalies", anomalies_json(model.anomalies)},
    };
}

std::string render_json_report(const RunModel& model) {
    return render_to_string([&](TextOut& out) { write_json_report(model, report_json_without_tasks(model), out); });
}

void write_json_report(const RunModel& model, const json& head, TextOut& out) {
    // As report.dump(2): the keys in order, "tasks" (the bulk) written
    // task by task between "summary" and nothing else.
    JsonWriter w(out, 2);
    w.begin_object();
    for (const auto& [name, value] : head.items()) {
        if (name > std::string("tasks")) break;
        w.key(name), w.value(value);
    }
    w.key("tasks");
    w.begin_array();
    for (const TaskRecord& task : model.tasks) write_task_json(w, task);
    w.end_array();
    for (const auto& [name, value] : head.items())
        if (name > std::string("tasks")) w.key(name), w.value(value);
    w.end_object();
    out.put('\n');
}

std::string render_json_report(const json& report) {
    // Invalid UTF-8 from the traced program (comm, argv) is replaced, not fatal.
    return report.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace cxt
