#include "findings.h"

#include <cstdio>
#include <cstring>
#include <map>
#include <set>

#include "time_findings.h"
#include "text_summary.h"

namespace cxt {

namespace {

// The address space a task has now: its last exec's, else its creation one.
uint32_t current_mm(const TaskRecord& task) { return task.execs.empty() ? task.mm : task.execs.back().mm; }

std::string percent(double share) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%.0f%%", share * 100.0);
    return buf;
}

std::string plural(uint64_t n, const char* one, const char* many) {
    return std::to_string(n) + " " + (n == 1 ? one : many);
}

void creation_findings(const RunModel& model, std::vector<Finding>& out) {
    const auto& latency = model.summary.first_run_latency;
    auto process = latency.find("process"), thread = latency.find("thread");
    if (process != latency.end() && thread != latency.end() && thread->second.p50 > 0 && process->second.p50 > 0) {
        const double ratio = static_cast<double>(process->second.p50) / static_cast<double>(thread->second.p50);
        char buf[400];
        if (ratio >= 1.0)
            std::snprintf(buf, sizeof buf,
                          "Creating a process took %s (median) from fork to its first run on a CPU, a thread %s: "
                          "%.1fx as long, because a process needs its own copy of the address space.",
                          format_duration_ns(process->second.p50).c_str(),
                          format_duration_ns(thread->second.p50).c_str(), ratio);
        else  // Possible with few samples or a busy machine: say so rather than explain it away.
            std::snprintf(buf, sizeof buf,
                          "Creating a process took %s (median) from fork to its first run on a CPU, a thread %s: "
                          "here the threads waited longer (%.1fx), though a thread needs no copy of the address "
                          "space. With %llu thread%s measured, scheduling delays dominate: rerun with more.",
                          format_duration_ns(process->second.p50).c_str(),
                          format_duration_ns(thread->second.p50).c_str(), 1.0 / ratio,
                          static_cast<unsigned long long>(thread->second.count), thread->second.count == 1 ? "" : "s");
        out.push_back({"creation", buf});
    }
    for (const char* kind : {"vfork", "shared-vm"}) {
        auto it = latency.find(kind);
        if (it == latency.end()) continue;
        out.push_back({"creation", std::string("Creating a ") + kind + " task took " +
                                       format_duration_ns(it->second.p50) + " (median, " +
                                       plural(it->second.count, "task", "tasks") + ") until it ran."});
    }
}

void address_space_findings(const RunModel& model, std::vector<Finding>& out) {
    std::map<uint32_t, uint32_t> leader_mm;  // tgid -> the group's current address space
    for (const TaskRecord& task : model.tasks)
        if (task.pid == task.tgid) leader_mm[task.tgid] = current_mm(task);

    std::map<uint32_t, uint64_t> users;  // address space -> tasks that ever had it
    for (const TaskRecord& task : model.tasks) {
        std::set<uint32_t> had{task.mm};
        for (const ExecRecord& exec : task.execs) had.insert(exec.mm);
        for (uint32_t mm : had) ++users[mm];
    }

    uint64_t sharing_threads = 0, threads = 0, own_processes = 0, processes = 0, borrowed = 0, execs = 0;
    for (const TaskRecord& task : model.tasks) {
        execs += task.execs.size();
        auto leader = leader_mm.find(task.tgid);
        if (task.kind == TaskKind::Thread) {
            ++threads;
            if (leader != leader_mm.end() && task.mm == leader->second) ++sharing_threads;
        } else if (task.kind == TaskKind::Process) {
            ++processes;
            if (users[task.mm] == 1) ++own_processes;
        } else if (task.kind == TaskKind::Vfork || task.kind == TaskKind::SharedVm) {
            ++borrowed;
        }
    }
    if (threads > 0)
        out.push_back({"address-space", plural(sharing_threads, "thread", "threads") + " of " + std::to_string(threads) +
                                            " ran in the address space of their thread group: a global variable "
                                            "written by one is seen by all of them."});
    if (processes > 0)
        out.push_back({"address-space", plural(own_processes, "process", "processes") + " of " +
                                            std::to_string(processes) +
                                            " created with fork got an address space of their own: their writes "
                                            "stay invisible to the parent."});
    if (borrowed > 0)
        out.push_back({"address-space", plural(borrowed, "task", "tasks") +
                                            " created with CLONE_VM but no CLONE_THREAD (vfork, posix_spawn, "
                                            "clone) borrowed their creator's address space."});
    if (execs > 0)
        out.push_back({"address-space", plural(execs, "exec", "execs") +
                                            " replaced a task's address space with a new one, keeping its pid."});
}

void id_findings(const RunModel& model, std::vector<Finding>& out) {
    std::map<uint32_t, uint64_t> group_size;
    for (const TaskRecord& task : model.tasks) ++group_size[task.tgid];
    uint32_t biggest = 0;
    uint64_t biggest_size = 0;
    for (const auto& [tgid, size] : group_size)
        if (size > biggest_size) biggest = tgid, biggest_size = size;
    if (biggest_size > 1)
        out.push_back({"ids", plural(biggest_size, "task", "tasks") + " share tgid " + std::to_string(biggest) +
                                  ": getpid() returns " + std::to_string(biggest) +
                                  " in each, while gettid() returns each task's own pid."});
    out.push_back({"ids", std::to_string(model.tasks.size()) + " tasks formed " +
                              plural(group_size.size(), "thread group (process)", "thread groups (processes)") + "."});

    // Inside a PID namespace a task sees other numbers than the kernel's
    // global ones this report uses: name one example so both can be matched.
    const TaskRecord* first_in_ns = nullptr;
    std::set<uint32_t> namespaces;
    uint64_t in_namespace = 0;
    for (const TaskRecord& task : model.tasks)
        if (task.pid_ns) {
            if (!first_in_ns) first_in_ns = &task;
            namespaces.insert(task.pid_ns->inum);
            ++in_namespace;
        }
    if (first_in_ns)
        out.push_back({"ids", plural(in_namespace, "task", "tasks") +
                                  " ran in " + plural(namespaces.size(), "child PID namespace", "child PID namespaces") +
                                  ", where they see other ids: pid " + std::to_string(first_in_ns->pid) +
                                  " calls itself " + std::to_string(first_in_ns->pid_ns->pid) +
                                  ". This report's pid, tgid and ppid are the kernel's ids in the initial namespace; "
                                  "pid_namespace holds what each task saw itself."});
}

void placement_findings(const RunModel& model, std::vector<Finding>& out) {
    const Summary& s = model.summary;
    uint64_t busy = 0, parallel = 0;
    for (const auto& [n, ns] : s.parallelism_ns) {
        if (n >= 1) busy += ns;
        if (n >= 2) parallel += ns;
    }
    if (model.run.duration_ns > 0) {
        double on_cpu = static_cast<double>(busy) / static_cast<double>(model.run.duration_ns);
        std::string text = "Traced tasks were on a CPU " + percent(on_cpu) + " of the run";
        if (on_cpu < 0.2) text += ": they mostly waited (sleeping or blocked), not computed";
        out.push_back({"placement", text + "."});
    }
    if (busy > 0 && model.phases.size() < 2) {  // several phases: compared phase by phase instead
        double share = static_cast<double>(parallel) / static_cast<double>(busy);
        std::string text = "At most " + plural(s.max_parallelism, "task", "tasks") + " ran at the same time; " +
                           percent(share) + " of the busy time had two or more on CPUs at once";
        text += share >= 0.5 ? " (true parallelism)." : share < 0.1 ? " (they ran one at a time)." : ".";
        out.push_back({"placement", text});
    }
    if (s.migrations > 0)
        out.push_back({"placement", plural(s.migrations, "migration", "migrations") +
                                        ": a task resumed on a different CPU than where it last ran."});
}

// Wakeups between traced tasks: how they coordinate through the kernel.
void wakeup_findings(const RunModel& model, std::vector<Finding>& out) {
    std::map<uint32_t, const TaskRecord*> by_pid;  // the latest task with each pid
    for (const TaskRecord& task : model.tasks) by_pid[task.pid] = &task;
    uint64_t across = 0, within = 0, top_times = 0;
    const TaskRecord *top_waker = nullptr, *top_wakee = nullptr;
    for (const TaskRecord& task : model.tasks) {
        for (const auto& [waker_pid, times] : task.woken_by) {
            auto waker = by_pid.find(waker_pid);
            if (waker == by_pid.end()) continue;
            if (waker->second->tgid == task.tgid) {
                within += times;
                continue;
            }
            across += times;
            if (times > top_times) top_times = times, top_waker = waker->second, top_wakee = &task;
        }
    }
    if (across > 0)
        out.push_back({"ipc", plural(across, "wakeup", "wakeups") +
                                  " crossed from one process to another; the most: task " +
                                  std::to_string(top_waker->pid) + " (" + top_waker->comm + ") woke task " +
                                  std::to_string(top_wakee->pid) + " (" + top_wakee->comm + ") " +
                                  plural(top_times, "time", "times") +
                                  ". Processes share no memory: they coordinate through the kernel (pipes, "
                                  "signals, futexes)."});
    if (within > 0)
        out.push_back({"ipc", plural(within, "wakeup", "wakeups") +
                                  " happened between threads of one process (a lock or condition handed "
                                  "over, a join)."});
}

void exit_findings(const RunModel& model, std::vector<Finding>& out) {
    constexpr int kListed = 5;
    int killed = 0;
    for (const TaskRecord& task : model.tasks) {
        if (!task.exit_signal || ++killed > kListed) continue;
        const char* name = strsignal(*task.exit_signal);
        out.push_back({"exit", "Task " + std::to_string(task.pid) + " (" + task.comm + ") was killed by signal " +
                                   std::to_string(*task.exit_signal) + " (" + (name ? name : "?") + ")."});
    }
    if (killed > kListed)
        out.push_back({"exit", "... and " + plural(killed - kListed, "more task", "more tasks") + " killed by signals."});
}

}  // namespace

std::vector<Finding> findings(const RunModel& model) {
    std::vector<Finding> out;
    creation_findings(model, out);
    address_space_findings(model, out);
    id_findings(model, out);
    placement_findings(model, out);
    wakeup_findings(model, out);
    exit_findings(model, out);
    for (Finding& finding : phase_findings(model)) out.push_back(std::move(finding));
    for (Finding& finding : clock_findings(model)) out.push_back(std::move(finding));
    return out;
}

}  // namespace cxt
