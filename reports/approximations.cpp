#include "approximations.h"

#include <algorithm>

#include "text_summary.h"

namespace cxt {

namespace {

std::string times(uint64_t n) { return n == 1 ? "once" : std::to_string(n) + " times"; }

std::string plural(uint64_t n, const char* one, const char* many) {
    return std::to_string(n) + " " + (n == 1 ? one : many);
}

// "pid 7700 (cpu-bound), pid 7754 (cpu-bound) and 3 more", most repaired first.
std::string affected_tasks(const RunModel& model) {
    constexpr size_t kNamed = 6;
    std::vector<const TaskRecord*> affected;
    for (const TaskRecord& task : model.tasks)
        if (task.repairs > 0) affected.push_back(&task);
    std::stable_sort(affected.begin(), affected.end(),
                     [](const TaskRecord* a, const TaskRecord* b) { return a->repairs > b->repairs; });
    std::string text;
    for (size_t i = 0; i < affected.size() && i < kNamed; ++i) {
        if (i) text += ", ";
        text += "pid " + std::to_string(affected[i]->pid) + " (" + affected[i]->comm + ")";
    }
    if (affected.size() > kNamed) text += " and " + plural(affected.size() - kNamed, "more", "more");
    return text;
}

bool has_cpu_clock(const RunModel& model) {
    return std::any_of(model.tasks.begin(), model.tasks.end(),
                       [](const TaskRecord& task) { return task.cpu_time_ns.has_value(); });
}

}  // namespace

std::vector<std::string> approximation_notes(const RunModel& model) {
    const Anomalies& a = model.anomalies;
    std::vector<std::string> notes;
    if (a.recovered_intervals > 0)
        notes.push_back("The kernel reported a task leaving a CPU without having reported it arriving " +
                        times(a.recovered_intervals) + ". The task's own CPU clock showed it had been running, so " +
                        format_duration_ns(a.recovered_oncpu_ns) +
                        " of on-CPU time were placed just before " +
                        (a.recovered_intervals == 1 ? "that departure" : "each departure") +
                        ": the timeline and the "
                        "parallelism figures are approximate there.");
    if (a.unplaced_cpu > 0)
        notes.push_back(format_duration_ns(a.unplaced_cpu_ns) + " of CPU time (" + times(a.unplaced_cpu) +
                        ") that the kernel's clock counted could not be placed on the timeline: those tasks' "
                        "on-CPU time is short by that much, while their CPU time (cpu_time_ns) is right.");
    if (a.switch_out_not_running > 0 && !has_cpu_clock(model))
        notes.push_back("A task was reported leaving a CPU it had not been seen arriving on " +
                        times(a.switch_out_not_running) +
                        ". This trace has no CPU clock readings (it is from an older cxtrace), so that time is "
                        "missing from the on-CPU figures.");
    if (a.inferred_switch_ins > 0)
        notes.push_back("A task did something on a CPU (a system call, an exit) without having been seen arriving "
                        "there " + times(a.inferred_switch_ins) + "; its time there was counted from that moment.");
    if (a.switch_in_over_running > 0)
        notes.push_back("A task was reported arriving on a CPU that another traced task was still believed to hold " +
                        times(a.switch_in_over_running) + "; that task was taken to have left at that moment.");
    if (a.unknown_tasks > 0)
        notes.push_back(plural(a.unknown_tasks, "task was", "tasks were") +
                        " first seen in the middle of its life (its creation was not traced): its kind and "
                        "creator are guesses.");
    if (a.pid_reused_before_exit > 0)
        notes.push_back("A pid was reused before its previous task was seen to exit " +
                        times(a.pid_reused_before_exit) + ".");
    if (a.late_events > 0)
        notes.push_back(plural(a.late_events, "event", "events") +
                        " arrived too late to be put back in time order and were used out of order.");
    if (a.events_before_start > 0)
        notes.push_back(plural(a.events_before_start, "event", "events") +
                        " carried a time before tracing began and were counted at its start.");
    if (a.unmatched_syscall_exits > 0)
        notes.push_back("A creating system call returned without its start having been seen " +
                        times(a.unmatched_syscall_exits) + ": no syscall latency for those.");
    if (!notes.empty()) {
        std::string tasks = affected_tasks(model);
        if (!tasks.empty()) notes.push_back("Tasks affected: " + tasks + ".");
    }
    return notes;
}

}  // namespace cxt
