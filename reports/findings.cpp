#include "findings.h"
#include "paths.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>

#include "time_findings.h"
#include "wait_findings.h"
#include "lesson.h"
#include "text_summary.h"

namespace cxt {

namespace {

constexpr size_t kListed = 5;  // tasks named one by one in a sentence, at most

// A thread that exec'd while not its group's leader took the leader's pid:
// its tid before the exec, else 0.
uint32_t tid_before_exec(const TaskRecord& task) {
    for (const ExecRecord& exec : task.execs)
        if (exec.pid_before != 0 && exec.pid_before != task.pid) return exec.pid_before;
    return 0;
}


std::string all_of(uint64_t n, bool capital = true) {
    if (n == 2) return capital ? "Both" : "both";
    return std::string(capital ? "All " : "all ") + std::to_string(n);
}

// Who created whom and what each ran: worked out once for every finding.
class RunFacts {
public:
    explicit RunFacts(const RunModel& model) : model_(model), creator_(model.tasks.size(), kNone) {
        // Tasks are in creation order: a task's creator is the latest task
        // seen with its parent_pid (a thread that exec'd is found under its
        // old tid too, for what it created before).
        std::unordered_map<uint32_t, size_t> latest_with_pid;
        for (size_t i = 0; i < model.tasks.size(); ++i) {
            const TaskRecord& task = model.tasks[i];
            auto found = latest_with_pid.find(task.parent_pid);
            if (task.kind != TaskKind::Root && !task.inferred && found != latest_with_pid.end())
                creator_[i] = found->second;
            latest_with_pid[task.pid] = i;
            if (uint32_t old_tid = tid_before_exec(task)) latest_with_pid[old_tid] = i;
        }
        find_library_threads();
    }

    const RunModel& model() const { return model_; }
    const TaskRecord* creator(size_t i) const { return creator_[i] == kNone ? nullptr : &model_.tasks[creator_[i]]; }
    // The address space the task's creator had when it created the task (0: unknown).
    uint32_t creator_mm(size_t i) const {
        const TaskRecord* by = creator(i);
        const TaskRecord& task = model_.tasks[i];
        return by && task.created_ns ? mm_at(*by, *task.created_ns) : 0;
    }
    // Every exec but the root's first: that one is cxtrace's launcher
    // starting the command, not something the program did. (The lesson
    // view of --from-exec has already dropped the execs that launched it.)
    bool program_exec(size_t i, size_t exec) const {
        return model_.run.lesson.matched || !(model_.tasks[i].kind == TaskKind::Root && exec == 0);
    }

    // A thread probably started by Python's multiprocessing, not by the
    // program itself (see find_library_threads), with why.
    struct LibraryThread {
        size_t index;
        std::string why;
    };
    const std::vector<LibraryThread>& library_threads() const { return library_; }
    bool is_library_thread(size_t i) const { return library_set_.count(i) > 0; }
    bool is_library_thread(const TaskRecord& task) const {
        return is_library_thread(static_cast<size_t>(&task - model_.tasks.data()));
    }

private:
    static constexpr size_t kNone = static_cast<size_t>(-1);

    // The program task i runs at time ts: its own latest exec's, else
    // (inherited through fork and clone) its creator's when it was created.
    // The argv is null for the lesson's root, whose exec the lesson view
    // dropped: its program is the one --from-exec named.
    struct Program {
        std::string name;  // the file's basename, or argv[0]'s when that names python
        const std::vector<std::string>* argv = nullptr;
    };
    std::optional<Program> program_at(size_t i, uint64_t ts) const {
        for (size_t hops = 0; i != kNone && hops <= model_.tasks.size(); ++hops) {
            const TaskRecord& task = model_.tasks[i];
            const ExecRecord* latest = nullptr;
            for (const ExecRecord& exec : task.execs)
                if (exec.ts_ns <= ts) latest = &exec;
            if (latest) {
                std::string name = basename_of(latest->filename);
                if (!is_python(name) && !latest->argv.empty()) name = basename_of(latest->argv[0]);
                return Program{name, &latest->argv};
            }
            if (!task.created_ns) {
                if (i == 0 && model_.run.lesson.matched) return Program{basename_of(model_.run.lesson.from_exec)};
                return std::nullopt;
            }
            ts = *task.created_ns;
            i = creator_[i];
        }
        return std::nullopt;
    }
    static bool is_python(const std::string& name) { return name.rfind("python", 0) == 0; }
    bool runs_python(size_t i, uint64_t ts) const {
        const auto program = program_at(i, ts);
        return program && is_python(program->name);
    }
    // Spawn and forkserver children: python -c 'from multiprocessing...'.
    bool started_by_multiprocessing(size_t i, uint64_t ts) const {
        const auto program = program_at(i, ts);
        if (!program || !program->argv) return false;
        for (const std::string& arg : *program->argv)
            if (arg.find("multiprocessing") != std::string::npos) return true;
        return false;
    }

    // Python's multiprocessing starts threads of its own: a Pool three
    // handler threads beside its worker processes, a Queue a feeder thread
    // in each process that puts. The kernel sees them as any other thread;
    // the guess, for a Python program only: a thread started in a process
    // forked from another Python process without exec (or started by
    // multiprocessing's spawn), or in a process that had a forked child
    // running (not yet exec'd) at that moment.
    void find_library_threads() {
        const auto& tasks = model_.tasks;
        find_child_spans();
        for (size_t i = 0; i < tasks.size(); ++i) {
            const TaskRecord& thread = tasks[i];
            if (thread.kind != TaskKind::Thread || thread.inferred || !thread.created_ns) continue;
            const uint64_t at = *thread.created_ns;
            if (!runs_python(i, at)) continue;
            size_t leader = creator_[i];  // the group's first task: up through the threads that created threads
            while (leader != kNone && tasks[leader].kind == TaskKind::Thread) leader = creator_[leader];
            if (leader == kNone) continue;
            const TaskRecord& process = tasks[leader];
            const bool forked_python = process.kind == TaskKind::Process && !program_at_own_exec(leader, at) &&
                                       creator_[leader] != kNone && process.created_ns &&
                                       runs_python(creator_[leader], *process.created_ns);
            if (forked_python || started_by_multiprocessing(leader, at)) {
                std::string why = "by process " + std::to_string(process.pid) + ", ";
                why += forked_python ? format_duration_ns(at - *process.created_ns) + " after it was forked"
                                     : "which multiprocessing started";
                add_library_thread(i, why);
                continue;
            }
            if (child_running_at(thread.tgid, at))
                add_library_thread(i, "by process " + std::to_string(process.pid) +
                                          " while forked child processes of it ran");
        }
    }
    // Spans when a group had a forked child running its program (between
    // the fork and the child's exit or exec), merged, per tgid.
    void find_child_spans() {
        const auto& tasks = model_.tasks;
        for (size_t c = 0; c < tasks.size(); ++c) {
            const TaskRecord& child = tasks[c];
            if (child.kind != TaskKind::Process || creator_[c] == kNone || !child.created_ns) continue;
            uint64_t end = child.exited_ns.value_or(UINT64_MAX);
            if (!child.execs.empty()) end = std::min(end, child.execs.front().ts_ns);
            if (end > *child.created_ns) child_spans_[tasks[creator_[c]].tgid].emplace_back(*child.created_ns, end);
        }
        for (auto& [tgid, spans] : child_spans_) {
            std::sort(spans.begin(), spans.end());
            std::vector<std::pair<uint64_t, uint64_t>> merged;
            for (const auto& span : spans)
                if (!merged.empty() && span.first <= merged.back().second)
                    merged.back().second = std::max(merged.back().second, span.second);
                else
                    merged.push_back(span);
            spans = std::move(merged);
        }
    }
    bool child_running_at(uint32_t tgid, uint64_t at) const {
        auto group = child_spans_.find(tgid);
        if (group == child_spans_.end()) return false;
        const auto& spans = group->second;
        auto after = std::upper_bound(spans.begin(), spans.end(), std::make_pair(at, UINT64_MAX));
        return after != spans.begin() && std::prev(after)->second > at;
    }
    bool program_at_own_exec(size_t i, uint64_t ts) const {
        for (const ExecRecord& exec : model_.tasks[i].execs)
            if (exec.ts_ns <= ts) return true;
        return false;
    }
    void add_library_thread(size_t i, std::string why) {
        library_.push_back({i, std::move(why)});
        library_set_.insert(i);
    }

    const RunModel& model_;
    std::vector<size_t> creator_;  // index of each task's creator, or kNone
    std::vector<LibraryThread> library_;
    std::set<size_t> library_set_;
    // tgid -> [fork, exit or exec) of its forked children, merged.
    std::unordered_map<uint32_t, std::vector<std::pair<uint64_t, uint64_t>>> child_spans_;
};

// ---------- creation cost ----------

// One kind's creation latency, and how it splits: the syscall in the
// creator, then the wait until the new task first ran.
struct KindCreation {
    std::vector<uint64_t> first_run, syscall, wait;
    uint64_t split_first_run_total = 0, wait_total = 0;  // over the tasks with both latencies
    uint64_t mostly_waiting = 0;                         // tasks whose wait was longer than their syscall
    uint64_t ran_before_return = 0;                      // first ran before its creator's syscall returned
    uint64_t queued_on_creator_cpu = 0, placed = 0;      // wakeup CPU = creator's CPU, of those with both known
    std::map<RanAfter, uint64_t> after;                  // ... what their CPU ran just before
    std::map<RanAfter, uint64_t> after_kept;             // Creator split: creator had kept the CPU since return
    const TaskRecord* only = nullptr;                    // the task, when there is one

    void add(const TaskRecord& task) {
        if (!task.latency.first_run) return;
        only = first_run.empty() ? &task : nullptr;
        first_run.push_back(*task.latency.first_run);
        if (!task.latency.syscall) return;
        const uint64_t total = *task.latency.first_run, in_syscall = *task.latency.syscall;
        syscall.push_back(in_syscall);
        const uint64_t waited = total > in_syscall ? total - in_syscall : 0;
        if (total < in_syscall) ++ran_before_return;
        wait.push_back(waited);
        split_first_run_total += total;
        wait_total += waited;
        if (waited > total - waited) ++mostly_waiting;
        const FirstRunContext& context = task.first_run_context;
        if (task.wakeup_cpu && context.creator_cpu) {
            ++placed;
            if (*task.wakeup_cpu == *context.creator_cpu) ++queued_on_creator_cpu;
        }
        if (context.after == RanAfter::Creator && context.creator_kept_cpu) ++after_kept[RanAfter::Creator];
        else ++after[context.after];
    }
    uint64_t p50(std::vector<uint64_t> values) const { return latency_stats(std::move(values)).p50; }
    uint64_t first_run_p50() const { return p50(first_run); }
    uint64_t syscall_p50() const { return p50(syscall); }
    uint64_t wait_p50() const { return p50(wait); }
};

const char* noun(const std::string& kind, uint64_t n) {
    if (kind == "process") return n == 1 ? "process" : "processes";
    return n == 1 ? "thread" : "threads";
}

std::string median_of(const KindCreation& c, const std::string& kind) {
    return "(median of " + counted(c.first_run.size(), noun(kind, 1), noun(kind, 2)) + ")";
}

// "For the processes: the syscall took 447 us (median) in the creator, then
// they waited 7.83 ms (median) until they first ran: waiting made up 95%."
std::string split_sentence(const KindCreation& c, const std::string& kind) {
    const size_t n = c.syscall.size();
    const bool one = n == 1;
    std::string text = std::string("For the ") + noun(kind, n) + ": the creation syscall took " +
                       format_duration_ns(c.syscall_p50()) + (one ? "" : " (median)") + " in the creator, then " +
                       (one ? "it" : "they") + " waited " + format_duration_ns(c.wait_p50()) +
                       (one ? "" : " (median)") +
                       " until " + (one ? "it" : "they") + " first ran on a CPU";
    if (c.ran_before_return > 0)
        text += " (" + (one ? std::string("it") : std::to_string(c.ran_before_return) + " of them") +
                " ran even before the syscall had returned in the creator)";
    if (one && c.split_first_run_total > 0) {
        const double waiting = static_cast<double>(c.wait_total) / static_cast<double>(c.split_first_run_total);
        text += waiting >= 0.5 ? ": waiting made up " + percent(waiting) + " of the time"
                               : ": the syscall made up " + percent(1.0 - waiting) + " of the time";
    } else if (!one) {
        // Per task, not summed: one slow outlier must not outweigh the rest.
        const bool waiting = c.mostly_waiting * 2 > n;
        const uint64_t longer = waiting ? c.mostly_waiting : n - c.mostly_waiting;
        text += std::string(": ") + (waiting ? "waiting" : "the syscall") + " was the longer part for " +
                (longer == n ? all_of(n, false)
                             : std::to_string(longer) + " of the " + std::to_string(n));
    }
    return text + ".";
}

std::string after_phrase(RanAfter after, bool kept, bool one) {
    if (kept) return one ? "its creator, which had kept that CPU since the syscall returned"
                         : "their creator, which had kept that CPU since the syscall returned";
    switch (after) {
        case RanAfter::Creator: return one ? "its creator" : "their creator";
        case RanAfter::TracedTask: return "another traced task";
        case RanAfter::UntracedTask:
            return "a task outside the trace (another program, a kernel thread or cxtrace itself)";
        case RanAfter::Idle: return "nothing (it was idle)";
        case RanAfter::Unknown: break;
    }
    return "";
}

// Where the new tasks waited: which CPU they were queued on and what ran
// there just before each first ran. Only facts from the switches; no cause.
std::string wait_sentence(const KindCreation& c, const std::string& kind) {
    std::vector<std::pair<uint64_t, std::string>> parts;
    const bool one = c.only != nullptr;
    for (const auto& [after, n] : c.after_kept) parts.emplace_back(n, after_phrase(after, true, one));
    for (const auto& [after, n] : c.after)
        if (after != RanAfter::Unknown) parts.emplace_back(n, after_phrase(after, false, one));
    if (parts.empty()) return "";
    std::stable_sort(parts.begin(), parts.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    if (one) {
        const TaskRecord& task = *c.only;
        const FirstRunContext& context = task.first_run_context;
        std::string text = "The new " + std::string(noun(kind, 1));
        if (task.wakeup_cpu) {
            text += " was queued on CPU " + std::to_string(*task.wakeup_cpu);
            if (context.creator_cpu)
                text += *context.creator_cpu == *task.wakeup_cpu
                            ? " (its creator's CPU)"
                            : " (its creator was on CPU " + std::to_string(*context.creator_cpu) + ")";
            text += ";";
        }
        text += " just before it first ran";
        if (context.cpu) text += " on CPU " + std::to_string(*context.cpu);
        return text + ", that CPU was running " + parts.front().second + ".";
    }
    std::string text = "Where the new " + std::string(noun(kind, 2)) + " waited: ";
    if (c.placed > 0)
        text += (c.queued_on_creator_cpu == c.placed
                     ? all_of(c.placed, false) + " were"
                     : std::to_string(c.queued_on_creator_cpu) + " of " + std::to_string(c.placed) +
                           (c.queued_on_creator_cpu == 1 ? " was" : " were")) +
                " queued on their creator's CPU; ";
    text += "just before each first ran, its CPU was running";
    if (parts.size() == 1) return text + " " + parts.front().second + " (" + all_of(parts.front().first, false) + ").";
    for (size_t i = 0; i < parts.size(); ++i)
        text += std::string(i == 0 ? ":" : ";") + " for " + std::to_string(parts[i].first) + ", " + parts[i].second;
    return text + ".";
}

void creation_findings(const RunFacts& facts, std::vector<Finding>& out) {
    const RunModel& model = facts.model();
    std::map<std::string, KindCreation> by_kind;  // "process", "thread": the program's own only
    std::map<std::string, std::vector<uint64_t>> borrowed;  // "vfork", "shared-vm": first-run latencies
    for (const TaskRecord& task : model.tasks) {
        if (task.kind == TaskKind::Process) by_kind["process"].add(task);
        else if (task.kind == TaskKind::Thread && !facts.is_library_thread(task)) by_kind["thread"].add(task);
        else if ((task.kind == TaskKind::Vfork || task.kind == TaskKind::SharedVm) && task.latency.first_run)
            borrowed[task_kind_name(task.kind)].push_back(*task.latency.first_run);
    }
    const KindCreation* process = nullptr;
    const KindCreation* thread = nullptr;
    if (auto it = by_kind.find("process"); it != by_kind.end() && !it->second.first_run.empty()) process = &it->second;
    if (auto it = by_kind.find("thread"); it != by_kind.end() && !it->second.first_run.empty()) thread = &it->second;

    if (process && thread && process->first_run_p50() > 0 && thread->first_run_p50() > 0) {
        const double ratio =
            static_cast<double>(process->first_run_p50()) / static_cast<double>(thread->first_run_p50());
        out.push_back({"creation", "Creating a process took " + format_duration_ns(process->first_run_p50()) + " " +
                                       median_of(*process, "process") +
                                       " from the creation syscall to its first run on a CPU, a thread " +
                                       format_duration_ns(thread->first_run_p50()) + " " +
                                       median_of(*thread, "thread") +
                                       (ratio >= 1.0 ? ": " + times(ratio) + " as long."
                                                     : ": the threads took " + times(1.0 / ratio) + " as long.")});
    } else {
        for (const auto& [kind, c] : by_kind)
            if (!c.first_run.empty())
                out.push_back({"creation", "Creating a " + kind + " took " + format_duration_ns(c.first_run_p50()) +
                                               " " + median_of(c, kind) +
                                               " from the creation syscall to its first run on a CPU."});
    }
    for (const auto& [kind, c] : by_kind) {
        if (c.syscall.empty()) continue;
        out.push_back({"creation", split_sentence(c, kind)});
        if (c.wait_total > 0)
            if (std::string where = wait_sentence(c, kind); !where.empty()) out.push_back({"creation", where});
    }
    if (process && thread && !process->syscall.empty() && !thread->syscall.empty()) {
        const uint64_t ps = process->syscall_p50(), ts = thread->syscall_p50();
        auto pair = [](uint64_t a, uint64_t b) {
            return " (" + format_duration_ns(a) + " against " + format_duration_ns(b) + ", medians)";
        };
        if (ps >= ts && ts > 0)
            out.push_back({"creation", "The creation syscall alone took " + times(static_cast<double>(ps) / ts) +
                                           " as long for a process as for a thread" + pair(ps, ts) +
                                           ": that is work done in the creator, where fork copies the creator's "
                                           "page tables and a thread's clone shares them."});
        else if (ps > 0)
            out.push_back({"creation", "The creation syscall alone took " + times(static_cast<double>(ts) / ps) +
                                           " as long for a thread as for a process" + pair(ts, ps) + "."});
        // Did waiting change the ratio? The first-run ratio against the
        // syscalls' one: within 1.5x either way, the syscalls set it.
        const uint64_t pf = process->first_run_p50(), tf = thread->first_run_p50();
        const uint64_t pw = process->wait_p50(), tw = thread->wait_p50();
        const std::string waits = " (" + format_duration_ns(pw) + " against " + format_duration_ns(tw) + ", medians)";
        if (ps > 0 && ts > 0 && pf > 0 && tf > 0) {
            const double first_run_ratio = static_cast<double>(pf) / static_cast<double>(tf);
            const double syscall_ratio = static_cast<double>(ps) / static_cast<double>(ts);
            const double apart = first_run_ratio / syscall_ratio;
            if (apart <= 1.5 && apart >= 1 / 1.5)
                out.push_back({"creation", "So the first-run times compare much as the syscalls do: the work of "
                                           "creating the task made the difference, and the wait for a CPU" +
                                               waits + " changed it little."});
            else
                out.push_back({"creation", "So the first-run times do not compare as the syscalls do: the wait for a "
                                           "CPU" + waits +
                                               " changed the ratio, and how long a new task waits depends on what "
                                               "else the CPUs were running, so it changes from run to run."});
        }
    }
    for (const char* kind : {"vfork", "shared-vm"}) {
        auto it = borrowed.find(kind);
        if (it == borrowed.end()) continue;
        const size_t n = it->second.size();
        out.push_back({"creation", std::string("Creating a ") + kind + " task took " +
                                       format_duration_ns(latency_stats(it->second).p50) +
                                       (n == 1 ? " (1 task)" : " (median of " + std::to_string(n) + " tasks)") +
                                       " from the creation syscall to its first run on a CPU."});
    }
}

// ---------- address spaces ----------

void address_space_findings(const RunFacts& facts, std::vector<Finding>& out) {
    const RunModel& model = facts.model();
    uint64_t sharing_threads = 0, threads = 0, own_processes = 0, processes = 0, borrowed = 0;
    uint64_t execs = 0, thread_execs = 0;
    for (size_t i = 0; i < model.tasks.size(); ++i) {
        const TaskRecord& task = model.tasks[i];
        for (size_t k = 0; k < task.execs.size(); ++k) {
            if (!facts.program_exec(i, k)) continue;
            ++execs;
            if (task.execs[k].pid_before != 0 && task.execs[k].pid_before != task.pid) ++thread_execs;
        }
        if (task.inferred) continue;  // its kind is a guess: its creation was not traced
        const uint32_t creator_mm = facts.creator_mm(i);
        if (task.kind == TaskKind::Thread && !facts.is_library_thread(i)) {
            ++threads;
            if (task.mm != 0 && task.mm == creator_mm) ++sharing_threads;
        } else if (task.kind == TaskKind::Process) {
            // Created without CLONE_VM: an address space of its own from the
            // start, whatever later shares it (a thread the library starts).
            ++processes;
            if (task.mm != 0 && creator_mm != 0 && task.mm != creator_mm) ++own_processes;
        } else if (task.kind == TaskKind::Vfork || task.kind == TaskKind::SharedVm) {
            ++borrowed;
        }
    }
    if (threads > 0) {
        std::string text;
        if (sharing_threads == threads)
            text = threads == 1 ? "The thread ran in the address space of its thread group: a global variable it "
                                  "writes is seen by the whole group."
                                : all_of(threads) +
                                      " threads ran in the address space of their thread group: a global variable "
                                      "written by one is seen by all of them.";
        else
            text = std::to_string(sharing_threads) + " of " + counted(threads, "thread", "threads") +
                   " ran in the address space of their thread group (for the others it was not seen): a global "
                   "variable written by one is seen by all of them.";
        out.push_back({"address-space", text});
    }
    if (processes > 0) {
        std::string text;
        if (own_processes == processes)
            text = processes == 1 ? "The process created with fork got an address space of its own: its writes stay "
                                    "invisible to its creator."
                                  : all_of(processes) +
                                        " processes created with fork got an address space of their own: their "
                                        "writes stay invisible to their creator.";
        else
            text = std::to_string(own_processes) + " of " + counted(processes, "process", "processes") +
                   " created with fork were seen getting an address space of their own (for the others it was not "
                   "seen): their writes stay invisible to their creator.";
        out.push_back({"address-space", text});
    }
    if (borrowed > 0)
        out.push_back({"address-space",
                       counted(borrowed, "task", "tasks") +
                           " created with CLONE_VM but no CLONE_THREAD (vfork, posix_spawn, clone) borrowed " +
                           (borrowed == 1 ? "its" : "their") + " creator's address space."});
    if (execs > 0) {
        std::string text = counted(execs, "exec", "execs") + (execs == 1 ? "" : " each") +
                           " replaced a task's address space with a new one";
        if (thread_execs == 0) text += ", keeping its pid.";
        else if (thread_execs == execs)
            text += execs == 1 ? "; the task was a thread, and took its group leader's pid."
                               : "; each task was a thread, and took its group leader's pid.";
        else
            text += "; " + std::to_string(thread_execs) +
                    " of them in a thread, which took its group leader's pid, the others keeping their pid.";
        out.push_back({"address-space", text});
    }
}

// ---------- ids ----------

void id_findings(const RunFacts& facts, std::vector<Finding>& out) {
    const RunModel& model = facts.model();
    std::map<uint32_t, uint64_t> group_size;
    for (const TaskRecord& task : model.tasks) ++group_size[task.tgid];
    uint32_t biggest = 0;
    uint64_t biggest_size = 0;
    for (const auto& [tgid, size] : group_size)
        if (size > biggest_size) biggest = tgid, biggest_size = size;
    if (biggest_size > 1)
        out.push_back({"ids", counted(biggest_size, "task", "tasks") + " share tgid " + std::to_string(biggest) +
                                  ": getpid() returns " + std::to_string(biggest) +
                                  " in each, while gettid() returns each task's own pid."});
    out.push_back({"ids", counted(model.tasks.size(), "task", "tasks") + " formed " +
                              counted(group_size.size(), "thread group (process)", "thread groups (processes)") + "."});

    // Threads the kernel cannot tell apart from the program's own.
    if (!facts.library_threads().empty()) {
        const auto& library = facts.library_threads();
        const bool one = library.size() == 1;
        // Threads created the same way are named together: "15098, 15099 and 15100 (created ...)".
        std::vector<std::pair<std::string, std::vector<uint32_t>>> by_why;
        for (const auto& thread : library) {
            if (by_why.empty() || by_why.back().first != thread.why) by_why.push_back({thread.why, {}});
            by_why.back().second.push_back(model.tasks[thread.index].pid);
        }
        std::string text = one ? "Thread " : "Threads ";
        size_t named = 0;
        for (size_t g = 0; g < by_why.size() && named < kListed; ++g) {
            const auto& pids = by_why[g].second;
            text += g == 0 ? "" : "; ";
            for (size_t k = 0; k < pids.size() && named < kListed; ++k, ++named)
                text += (k == 0 ? "" : k + 1 == pids.size() ? " and " : ", ") + std::to_string(pids[k]);
            text += " (created " + by_why[g].first + ")";
        }
        if (library.size() > named) text += " and " + std::to_string(library.size() - named) + " more";
        text += std::string(one ? " was" : " were") +
                " probably started by Python's multiprocessing, not by the program: a Pool starts 3 helper threads "
                "beside its worker processes, a Queue a feeder thread in the process that puts. This is a guess "
                "from how the tasks were created (a Python thread in a process forked from another, or in one whose "
                "forked children were running); the sentences on threads leave " +
                (one ? "it" : "them") + " out.";
        out.push_back({"ids", text});
    }

    // A thread that exec'd is found under its group leader's pid.
    for (const TaskRecord& task : model.tasks)
        if (uint32_t old_tid = tid_before_exec(task))
            out.push_back({"ids", "Thread " + std::to_string(old_tid) + " called exec and took pid " +
                                      std::to_string(task.pid) +
                                      ", its thread group's (exec leaves one task in the group, with the leader's "
                                      "pid): the tables show it as pid " + std::to_string(task.pid) + " (was tid " +
                                      std::to_string(old_tid) + ")."});

    // getppid() changes when the parent's thread group ends first.
    std::vector<const TaskRecord*> orphans;
    for (const TaskRecord& task : model.tasks)
        if (task.ppid_exited_ns) orphans.push_back(&task);
    if (!orphans.empty()) {
        const TaskRecord& first = *orphans.front();
        std::string text =
            orphans.size() == 1
                ? "Task " + std::to_string(first.pid) + " outlived its parent: thread group " +
                      std::to_string(first.ppid) + ", its ppid at creation, exited at " +
                      format_duration_ns(*first.ppid_exited_ns) + "; the kernel then reparents the task"
                : counted(orphans.size(), "task", "tasks") +
                      " outlived the thread group of their ppid at creation (e.g. task " + std::to_string(first.pid) +
                      ", whose parent " + std::to_string(first.ppid) + " exited at " +
                      format_duration_ns(*first.ppid_exited_ns) + "); the kernel then reparents such tasks";
        text += std::string(" (to a subreaper or init; the trace does not say which), so from then on ") +
                (orphans.size() == 1 ? "its" : "their") +
                " getppid() returned another pid. Inferred from the traced exits; the tables keep the ppid at "
                "creation.";
        out.push_back({"ids", text});
    }

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
        out.push_back({"ids", counted(in_namespace, "task", "tasks") + " ran in " +
                                  counted(namespaces.size(), "child PID namespace", "child PID namespaces") +
                                  ", where they see other ids: pid " + std::to_string(first_in_ns->pid) +
                                  " calls itself " + std::to_string(first_in_ns->pid_ns->pid) +
                                  ". This report's pid, tgid and ppid are the kernel's ids in the initial namespace; "
                                  "pid_namespace holds what each task saw itself."});
}

// ---------- placement ----------

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
        std::string text = "At most " + counted(s.max_parallelism, "task", "tasks") + " ran at the same time; " +
                           percent(share) + " of the busy time had two or more on CPUs at once";
        text += share >= 0.5 ? " (true parallelism)." : share < 0.1 ? " (they ran one at a time)." : ".";
        out.push_back({"placement", text});
    }
    if (s.migrations > 0)
        out.push_back({"placement", counted(s.migrations, "migration", "migrations") +
                                        ": a task resumed on a different CPU than where it last ran."});
}

// Wakeups between traced tasks: how they coordinate through the kernel.
void wakeup_findings(const RunFacts& facts, std::vector<Finding>& out) {
    const RunModel& model = facts.model();
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
    auto name = [&](const TaskRecord& task) {
        return "task " + std::to_string(task.pid) + " (" + task.comm +
               (facts.is_library_thread(task) ? ", probably multiprocessing's thread" : "") + ")";
    };
    if (across > 0)
        out.push_back({"ipc", counted(across, "wakeup", "wakeups") +
                                  " crossed from one process to another; the most: " + name(*top_waker) + " woke " +
                                  name(*top_wakee) + " " + counted(top_times, "time", "times") +
                                  ". Processes share no memory: they coordinate through the kernel (pipes, "
                                  "signals, futexes)."});
    if (within > 0)
        out.push_back({"ipc", counted(within, "wakeup", "wakeups") +
                                  " happened between threads of one process (a lock or condition handed "
                                  "over, a join)."});
}

void exit_findings(const RunModel& model, std::vector<Finding>& out) {
    size_t killed = 0;
    for (const TaskRecord& task : model.tasks) {
        if (!task.exit_signal || ++killed > kListed) continue;
        const char* name = strsignal(*task.exit_signal);
        out.push_back({"exit", "Task " + std::to_string(task.pid) + " (" + task.comm + ") was killed by signal " +
                                   std::to_string(*task.exit_signal) + " (" + (name ? name : "?") + ")."});
    }
    if (killed > kListed)
        out.push_back(
            {"exit", "... and " + counted(killed - kListed, "more task", "more tasks") + " killed by signals."});
}

std::vector<Finding> findings_of(const RunModel& model) {
    const RunFacts facts(model);
    std::vector<Finding> out;
    creation_findings(facts, out);
    address_space_findings(facts, out);
    id_findings(facts, out);
    placement_findings(model, out);
    wakeup_findings(facts, out);
    exit_findings(model, out);
    for (Finding& finding : phase_findings(model)) out.push_back(std::move(finding));
    for (Finding& finding : clock_findings(model)) out.push_back(std::move(finding));
    for (Finding& finding : wait_findings(model)) out.push_back(std::move(finding));
    return out;
}

}  // namespace

std::vector<Finding> findings(const RunModel& model) {
    // With --from-exec, the sentences speak of the lesson only: not the launcher's tasks.
    return model.run.lesson.matched ? findings_of(lesson_view(model)) : findings_of(model);
}

}  // namespace cxt
