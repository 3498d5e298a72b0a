#include "lesson.h"
#include "paths.h"

#include <algorithm>
#include <optional>
#include <set>
#include <unordered_map>

namespace cxt {

namespace {

constexpr size_t kCommBytes = 15;  // TASK_COMM_LEN - 1: the kernel cuts longer names


// The first exec of NAME in the run, by time.
std::optional<Lesson> first_exec_of(const RunModel& model, const std::string& name) {
    std::optional<Lesson> first;
    for (uint32_t i = 0; i < model.tasks.size(); ++i) {
        const std::vector<ExecRecord>& execs = model.tasks[i].execs;
        for (uint32_t k = 0; k < execs.size(); ++k) {
            if (!exec_matches(execs[k], name)) continue;
            if (!first || execs[k].ts_ns < first->start_ns) {
                first = Lesson{};
                first->task = i;
                first->exec = k;
                first->start_ns = execs[k].ts_ns;
            }
            break;  // a task's execs are in time order
        }
    }
    return first;
}

// Which tasks are the lesson's: its first task, and each task a lesson task
// created after the lesson began. Tasks are in creation order, so a task's
// creator is the latest task before it with its parent_pid.
std::vector<bool> lesson_members(const RunModel& model, const Lesson& lesson) {
    std::vector<bool> in(model.tasks.size(), false);
    std::unordered_map<uint32_t, uint32_t> latest_with_pid;
    std::set<uint32_t> lesson_groups;
    for (uint32_t i = 0; i < model.tasks.size(); ++i) {
        const TaskRecord& task = model.tasks[i];
        if (i == lesson.task) {
            in[i] = true;
        } else if (!task.inferred && task.created_ns && *task.created_ns >= lesson.start_ns) {
            auto creator = latest_with_pid.find(task.parent_pid);
            in[i] = creator != latest_with_pid.end() && in[creator->second];
        }
        if (in[i]) lesson_groups.insert(task.tgid);
        latest_with_pid[task.pid] = i;
    }
    // A task first seen mid-life (its creation was lost) goes with its thread group.
    for (uint32_t i = 0; i < model.tasks.size(); ++i)
        if (model.tasks[i].inferred && lesson_groups.count(model.tasks[i].tgid)) in[i] = true;
    return in;
}

// How long n lesson tasks were on CPUs at once, from the lesson's start to
// the end of the run (0 included, as the correlator counts it).
std::map<uint32_t, uint64_t> lesson_parallelism(const RunModel& model, const Lesson& lesson,
                                                const std::vector<bool>& in) {
    std::vector<uint64_t> starts, ends;
    for (const OnCpuInterval& iv : model.intervals) {
        const uint64_t start = std::max(iv.start_ns, lesson.start_ns);
        if (!in[iv.task] || iv.end_ns <= start) continue;
        starts.push_back(start);
        ends.push_back(iv.end_ns);
    }
    std::sort(starts.begin(), starts.end());
    std::sort(ends.begin(), ends.end());
    std::vector<uint64_t> ns_at(1, 0);
    uint32_t running = 0;
    uint64_t since = lesson.start_ns;
    auto advance = [&](uint64_t to) {
        if (to <= since) return;
        if (running >= ns_at.size()) ns_at.resize(running + 1, 0);
        ns_at[running] += to - since;
        since = to;
    };
    for (size_t s = 0, e = 0; s < starts.size() || e < ends.size();) {
        // At equal times an end comes first: n tasks, not n + 1, at that instant.
        const bool is_end = e < ends.size() && (s == starts.size() || ends[e] <= starts[s]);
        advance(is_end ? ends[e] : starts[s]);
        if (is_end) ++e, --running;
        else ++s, ++running;
    }
    advance(model.run.duration_ns);
    std::map<uint32_t, uint64_t> parallelism;
    for (uint32_t n = 0; n < ns_at.size(); ++n)
        if (ns_at[n] > 0) parallelism[n] = ns_at[n];
    return parallelism;
}

// The summary's figures over the lesson's tasks, field by field.
void summarize_lesson(RunModel& model, const Lesson& lesson, const std::vector<bool>& in) {
    Summary& s = model.summary;
    s.tasks = s.threads = s.context_switches = s.migrations = 0;
    std::set<uint32_t> groups, spaces;
    std::map<std::string, std::vector<uint64_t>> first_run, syscall;
    for (uint32_t i = 0; i < model.tasks.size(); ++i) {
        if (!in[i]) continue;
        const TaskRecord& task = model.tasks[i];
        ++s.tasks;
        groups.insert(task.tgid);
        size_t first_exec = 0;
        if (i == lesson.task) {
            // Its creation, address spaces and CPU time before the exec were the launcher's.
            first_exec = lesson.exec;
        } else {
            if (task.mm) spaces.insert(task.mm);
            if (task.kind == TaskKind::Thread) ++s.threads;
            s.context_switches += task.switches_in;
            s.migrations += task.migrations;
            const char* kind = task_kind_name(task.kind);
            if (task.latency.first_run) first_run[kind].push_back(*task.latency.first_run);
            if (task.latency.syscall) syscall[kind].push_back(*task.latency.syscall);
        }
        for (size_t k = first_exec; k < task.execs.size(); ++k)
            if (task.execs[k].mm) spaces.insert(task.execs[k].mm);
    }
    // The first task's switch-ins and migrations since the lesson began (a
    // task's intervals are in time order).
    std::optional<uint32_t> last_cpu;
    for (const OnCpuInterval& iv : model.intervals) {
        if (iv.task != lesson.task) continue;
        if (iv.start_ns >= lesson.start_ns) {
            ++s.context_switches;
            if (last_cpu && *last_cpu != iv.cpu) ++s.migrations;
        }
        last_cpu = iv.cpu;
    }
    s.processes = groups.size();
    s.address_spaces = spaces.size();
    s.first_run_latency.clear();
    s.syscall_latency.clear();
    for (auto& [kind, values] : first_run) s.first_run_latency[kind] = latency_stats(std::move(values));
    for (auto& [kind, values] : syscall) s.syscall_latency[kind] = latency_stats(std::move(values));
    s.parallelism_ns = lesson_parallelism(model, lesson, in);
    s.max_parallelism = 0;
    for (const auto& [n, ns] : s.parallelism_ns) s.max_parallelism = std::max(s.max_parallelism, n);
}

// The common launcher: the command exec'd another program after creating
// tasks (a wrapper script's readlink, dirname, ...).
std::optional<LauncherHint> find_launcher(const RunModel& model) {
    if (model.tasks.empty() || model.tasks.front().kind != TaskKind::Root) return std::nullopt;
    const TaskRecord& root = model.tasks.front();
    if (root.execs.size() < 2) return std::nullopt;  // the first is the command itself
    const ExecRecord& last = root.execs.back();
    LauncherHint hint;
    hint.program = last.filename_truncated || last.filename.empty() ? last.comm : basename_of(last.filename);
    for (size_t i = 1; i < model.tasks.size(); ++i) {
        const TaskRecord& task = model.tasks[i];
        if (!task.created_ns || *task.created_ns >= last.ts_ns) continue;
        ++hint.tasks_before;
        ++hint.comms[task.comm];
    }
    if (hint.tasks_before == 0 || hint.program.empty()) return std::nullopt;
    return hint;
}

}  // namespace

bool exec_matches(const ExecRecord& exec, const std::string& name) {
    if (name.empty()) return false;
    if (name.find('/') != std::string::npos) return !exec.filename_truncated && exec.filename == name;
    return (!exec.filename_truncated && basename_of(exec.filename) == name) || exec.comm == name.substr(0, kCommBytes);
}

void scope_to_lesson(RunModel& model, const std::string& from_exec) {
    Lesson& lesson = model.run.lesson;
    lesson = Lesson{};
    lesson.from_exec = from_exec;
    model.run.launcher_hint.reset();
    for (TaskRecord& task : model.tasks) task.launcher = false;
    std::optional<Lesson> found = from_exec.empty() ? std::nullopt : first_exec_of(model, from_exec);
    if (!found) {
        model.run.launcher_hint = find_launcher(model);
        return;
    }
    lesson.matched = true;
    lesson.task = found->task;
    lesson.exec = found->exec;
    lesson.start_ns = found->start_ns;
    std::vector<bool> in = lesson_members(model, lesson);
    for (uint32_t i = 0; i < model.tasks.size(); ++i)
        if (!in[i]) {
            model.tasks[i].launcher = true;
            ++lesson.launcher_tasks;
        }
    summarize_lesson(model, lesson, in);
}

RunModel lesson_view(const RunModel& model) {
    RunModel view;
    view.run = model.run;
    view.summary = model.summary;
    view.anomalies = model.anomalies;
    const Lesson& lesson = model.run.lesson;
    if (!lesson.matched) {
        view.tasks = model.tasks;
        return view;
    }
    view.run.duration_ns = model.run.duration_ns > lesson.start_ns ? model.run.duration_ns - lesson.start_ns : 0;
    for (uint32_t i = 0; i < model.tasks.size(); ++i) {
        if (model.tasks[i].launcher) continue;
        TaskRecord task = model.tasks[i];
        if (i == lesson.task) {
            // The lesson's root: it starts in the address space its exec made.
            task.kind = TaskKind::Root;
            task.mm = task.execs[lesson.exec].mm;
            task.execs.erase(task.execs.begin(), task.execs.begin() + lesson.exec + 1);
            task.latency = Latency{};
        }
        view.tasks.push_back(std::move(task));
    }
    return view;
}

}  // namespace cxt
