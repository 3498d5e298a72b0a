#include "wait_findings.h"

#include "text_summary.h"

#include <algorithm>
#include <map>
#include <set>

namespace cxt {

namespace {

constexpr size_t kLocksListed = 3;

const char* kind_plural(const std::string& kind) {
    if (kind == "process") return "processes";
    if (kind == "thread") return "threads";
    if (kind == "vfork") return "vfork children";
    if (kind == "shared-vm") return "shared-address-space tasks";
    return "tasks";
}

std::string task_name(const TaskRecord& task) { return "task " + std::to_string(task.pid) + " (" + task.comm + ")"; }

// Sleeping and blocked time of a task by wait reason.
std::map<WaitReason, uint64_t> waited_by_reason(const TaskRecord& task) {
    std::map<WaitReason, uint64_t> by_reason;
    for (const WaitRecord& wait : task.waits) by_reason[wait_reason(wait.syscall)] += wait.ns;
    return by_reason;
}

// "running 49%, waiting for a CPU 2%, sleeping 48% (mostly in futex: ...)"
std::string state_shares(const StateTimes& states, const std::map<WaitReason, uint64_t>& by_reason) {
    const double total = static_cast<double>(states.total());
    std::string text;
    auto part = [&](RunState state, const std::string& words) {
        const double share = static_cast<double>(states[state]) / total;
        if (share < 0.005) return;
        text += (text.empty() ? "" : ", ") + words + " " + percent(share);
    };
    part(RunState::Running, "running");
    part(RunState::Runnable, "waiting for a CPU");
    part(RunState::Sleeping, "sleeping");
    part(RunState::Blocked, "blocked");
    part(RunState::Other, "stopped or in another state");
    const uint64_t waited = states[RunState::Sleeping] + states[RunState::Blocked] + states[RunState::Other];
    auto most = std::max_element(by_reason.begin(), by_reason.end(),
                                 [](const auto& a, const auto& b) { return a.second < b.second; });
    if (waited * 100 >= states.total() && most != by_reason.end() && most->second * 2 > waited)
        text += " (of the waiting, " + percent(static_cast<double>(most->second) / static_cast<double>(waited)) +
                " " + wait_reason_words(most->first) + ")";
    return text;
}

void kind_findings(const RunModel& model, std::vector<Finding>& out) {
    std::map<std::string, std::pair<uint64_t, StateTimes>> by_kind;
    std::map<std::string, std::map<WaitReason, uint64_t>> reasons;
    for (const TaskRecord& task : model.tasks) {
        if (!has_lesson_life(task)) continue;
        const std::string kind = task_kind_name(task.kind);
        ++by_kind[kind].first;
        by_kind[kind].second += *task.states;
        for (const auto& [reason, ns] : waited_by_reason(task)) reasons[kind][reason] += ns;
    }
    for (const auto& [kind, tasks_and_states] : by_kind) {
        const auto& [tasks, states] = tasks_and_states;
        const std::string who = kind == "root" ? "The command's first task" : tasks == 1 ? std::string("The ") + kind
                                                                                         : "The " + std::to_string(tasks) + " " + kind_plural(kind);
        out.push_back({"waiting", who + (tasks == 1 ? " spent its" : " spent their") + " traced time " +
                                      state_shares(states, reasons[kind]) + "."});
    }
}

// Threads of one process that took turns: each slept in futex for a large
// part of its life and was woken mostly by the others.
void turn_findings(const RunModel& model, std::vector<Finding>& out) {
    std::map<uint32_t, std::vector<const TaskRecord*>> groups;
    for (const TaskRecord& task : model.tasks)
        if (has_lesson_life(task)) groups[task.tgid].push_back(&task);
    for (const auto& [tgid, members] : groups) {
        std::set<uint32_t> pids;
        for (const TaskRecord* task : members) pids.insert(task->pid);
        std::vector<const TaskRecord*> takers;
        uint64_t by_others = 0, woken = 0;
        double run_low = 1, run_high = 0, wait_low = 1, wait_high = 0;
        for (const TaskRecord* task : members) {
            uint64_t futex_ns = 0, task_by_others = 0, task_woken = 0;
            for (const WaitRecord& wait : task->waits) {
                if (wait_reason(wait.syscall) != WaitReason::Futex) continue;
                futex_ns += wait.ns;
                task_woken += wait.count;
                for (const auto& [waker, tally] : wait.woken_by)
                    if (waker != task->pid && pids.count(waker)) task_by_others += tally.count;
            }
            const double life = static_cast<double>(task->states->total());
            const double running = static_cast<double>((*task->states)[RunState::Running]) / life;
            const double waiting = static_cast<double>(futex_ns) / life;
            if (running < 0.2 || waiting < 0.2 || task_woken < 2 || task_by_others * 2 < task_woken) continue;
            takers.push_back(task);
            by_others += task_by_others;
            woken += task_woken;
            run_low = std::min(run_low, running), run_high = std::max(run_high, running);
            wait_low = std::min(wait_low, waiting), wait_high = std::max(wait_high, waiting);
        }
        if (takers.size() < 2) continue;
        auto range = [](double low, double high) {
            return percent(low) == percent(high) ? percent(low) : percent(low) + " to " + percent(high);
        };
        std::string program;  // the process's: the last exec any of its tasks made
        for (const TaskRecord* task : members)
            if (!task->execs.empty()) program = task->execs.back().filename;
        const std::string base = program.substr(program.find_last_of('/') + 1);
        std::string text = std::to_string(takers.size()) + " threads of process " + std::to_string(tgid) +
                           " took turns: each was running " + range(run_low, run_high) +
                           " of its traced time and sleeping in futex " + range(wait_low, wait_high) + ", and " +
                           std::to_string(by_others) + " of their " + counted(woken, "futex wait", "futex waits") +
                           " were ended by another of them: one ran while " +
                           (takers.size() == 2 ? "the other waited for it" : "the others waited for it");
        if (base.rfind("python", 0) == 0) text += " (in Python: the interpreter lock, the GIL)";
        out.push_back({"waiting", text + "."});
    }
}

void lock_findings(const RunModel& model, std::vector<Finding>& out) {
    std::vector<const LockRecord*> locks;
    // Locks waited on more than once, for at least 1% of the traced time.
    for (const LockRecord& lock : model.summary.locks)
        if (lock.waits >= 2 && lock.ns * 100 >= model.run.duration_ns) locks.push_back(&lock);
    std::sort(locks.begin(), locks.end(), [](const LockRecord* a, const LockRecord* b) { return a->ns > b->ns; });
    for (size_t i = 0; i < locks.size() && i < kLocksListed; ++i) {
        const LockRecord& lock = *locks[i];
        const std::string name = "lock" + std::to_string(lock.label);
        std::string text = (lock.waiters.size() == 1 ? "Task " + std::to_string(lock.waiters[0])
                                                     : std::to_string(lock.waiters.size()) + " tasks") +
                           " waited for " + name + " (a futex word of process " + std::to_string(lock.tgid) + ") for " +
                           format_duration_ns(lock.ns) + " in total, in " + counted(lock.waits, "wait", "waits");
        const bool one = lock.waiters.size() == 1;
        text += lock.handovers > 0 ? std::string(one ? "; another traced task woke it " : "; another traced task woke a waiter ") +
                                         counted(lock.handovers, "time", "times")
                                   : one ? "; no traced task woke it" : "; no traced task woke its waiters";
        out.push_back({"waiting", text + "."});
    }
    if (locks.size() > kLocksListed)
        out.push_back({"waiting", "... and " + counted(locks.size() - kLocksListed, "more lock", "more locks") +
                                      " waited on (report.json, summary.locks)."});
}

// Sleeps of several tasks that add up to more than the traced time must
// have overlapped.
void overlap_findings(const RunModel& model, std::vector<Finding>& out) {
    uint64_t slept = 0, sleepers = 0;
    for (const TaskRecord& task : model.tasks) {
        if (!has_lesson_life(task)) continue;
        const auto by_reason = waited_by_reason(task);
        auto sleep = by_reason.find(WaitReason::Sleep);
        if (sleep == by_reason.end() || sleep->second == 0) continue;
        slept += sleep->second;
        ++sleepers;
    }
    if (sleepers >= 2 && slept > model.run.duration_ns)
        out.push_back({"waiting", std::to_string(sleepers) + " tasks slept in timed sleeps (nanosleep, clock_nanosleep) "
                                  "for " + format_duration_ns(slept) + " in total within " +
                                  format_duration_ns(model.run.duration_ns) +
                                  " of traced time: their sleeps overlapped."});
}

void runnable_findings(const RunModel& model, std::vector<Finding>& out) {
    uint64_t runnable = 0, life = 0;
    for (const TaskRecord& task : model.tasks)
        if (has_lesson_life(task)) runnable += (*task.states)[RunState::Runnable], life += task.states->total();
    if (life == 0) return;
    const double share = static_cast<double>(runnable) / static_cast<double>(life);
    if (share >= 0.1)
        out.push_back({"waiting", "Traced tasks were runnable but not running for " + format_duration_ns(runnable) +
                                      ", " + percent(share) +
                                      " of their traced time: ready to run, each waited while the CPU it was queued "
                                      "on ran another task (traced or not)."});
}

// The longest waits in a read/write or for a child, with the traced tasks
// that ended them.
void partner_findings(const RunModel& model, std::vector<Finding>& out) {
    std::map<uint32_t, const TaskRecord*> by_pid;
    for (const TaskRecord& task : model.tasks) by_pid[task.pid] = &task;
    for (WaitReason reason : {WaitReason::ReadWrite, WaitReason::Child}) {
        const TaskRecord* longest = nullptr;
        uint64_t longest_ns = 0;
        for (const TaskRecord& task : model.tasks) {
            if (!has_lesson_life(task)) continue;
            const uint64_t ns = waited_by_reason(task)[reason];
            if (ns > longest_ns) longest_ns = ns, longest = &task;
        }
        if (!longest || longest_ns * 10 < longest->states->total()) continue;  // under 10% of its life: not the story
        uint64_t waits = 0;
        std::map<uint32_t, uint64_t> wakers;
        std::set<std::string> calls;
        for (const WaitRecord& wait : longest->waits) {
            if (wait_reason(wait.syscall) != reason) continue;
            waits += wait.count;
            calls.insert(syscall_display_name(wait.syscall));
            for (const auto& [waker, tally] : wait.woken_by) wakers[waker] += tally.count;
        }
        std::string call_list;
        for (const std::string& call : calls) call_list += (call_list.empty() ? "" : "/") + call;
        std::string text = "Task " + std::to_string(longest->pid) + " (" + longest->comm + ") waited " +
                           (reason == WaitReason::Child ? "for a child to exit" : "to read or write") + " (" +
                           call_list + ") for " + format_duration_ns(longest_ns) + ", " +
                           percent(static_cast<double>(longest_ns) / static_cast<double>(longest->states->total())) +
                           " of its traced time, in " + counted(waits, "wait", "waits");
        uint64_t ended = 0;
        for (const auto& [waker, count] : wakers) ended += count;
        if (!wakers.empty()) {
            auto top = std::max_element(wakers.begin(), wakers.end(),
                                        [](const auto& a, const auto& b) { return a.second < b.second; });
            auto waker = by_pid.find(top->first);
            const std::string top_name =
                waker != by_pid.end() ? task_name(*waker->second) : "task " + std::to_string(top->first);
            const bool top_alone = std::count_if(wakers.begin(), wakers.end(), [&](const auto& other) {
                                       return other.second == top->second;
                                   }) == 1;
            if (wakers.size() == 1)
                text += "; " + top_name + " ended " + std::to_string(ended) + " of them";
            else
                text += "; " + std::to_string(wakers.size()) + " traced tasks ended " + std::to_string(ended) +
                        " of them" + (top_alone ? ", " + top_name + " the most (" + std::to_string(top->second) + ")" : "");
        }
        out.push_back({"waiting", text + "."});
    }
}

}  // namespace

bool has_lesson_life(const TaskRecord& task) {
    return !task.launcher && task.states && task.states->total() > 0;
}

std::string wait_reason_words(WaitReason reason) {
    switch (reason) {
        case WaitReason::Futex: return "in futex (a lock, condition or join)";
        case WaitReason::Sleep: return "in a timed sleep";
        case WaitReason::ReadWrite: return "in read or write (a pipe, socket or terminal)";
        case WaitReason::Poll: return "in poll, select or epoll";
        case WaitReason::Child: return "waiting for a child to exit";
        case WaitReason::OtherSyscall: return "in other system calls";
        case WaitReason::NoSyscall: return "outside any system call (page faults, ...)";
    }
    return "in other system calls";
}

std::vector<Finding> wait_findings(const RunModel& model) {
    std::vector<Finding> out;
    kind_findings(model, out);
    turn_findings(model, out);
    lock_findings(model, out);
    overlap_findings(model, out);
    runnable_findings(model, out);
    partner_findings(model, out);
    return out;
}

}  // namespace cxt
