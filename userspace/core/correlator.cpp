#include "correlator.h"

#include <algorithm>
#include <cassert>
#include <set>
#include <utility>

namespace cxt {

namespace {
constexpr size_t kPrefetchAhead = 8;
constexpr uint64_t kCloneThread = 0x00010000;
constexpr uint64_t kCloneVm = 0x00000100;
constexpr uint64_t kCloneVfork = 0x00004000;
}  // namespace

const char* task_kind_name(TaskKind kind) {
    switch (kind) {
        case TaskKind::Root: return "root";
        case TaskKind::Process: return "process";
        case TaskKind::Thread: return "thread";
        case TaskKind::Vfork: return "vfork";
        case TaskKind::SharedVm: return "shared-vm";
    }
    return "process";
}

TaskKind kind_from_clone_flags(uint64_t flags) {
    if (flags & kCloneThread) return TaskKind::Thread;
    if (flags & kCloneVfork) return TaskKind::Vfork;
    if (flags & kCloneVm) return TaskKind::SharedVm;
    return TaskKind::Process;
}

uint64_t Anomalies::total() const {
    return reordered_events + unknown_tasks + pid_reused_before_exit + switch_out_not_running +
           switch_in_over_running + events_before_start + unmatched_syscall_exits + inferred_switch_ins +
           late_events;
}

uint64_t percentile_of_sorted(const std::vector<uint64_t>& sorted, double p) {
    if (sorted.empty()) return 0;
    // Nearest rank: the smallest value with at least p% of values <= it.
    size_t rank = static_cast<size_t>(p / 100.0 * static_cast<double>(sorted.size()) + 0.999999999);
    rank = std::clamp<size_t>(rank, 1, sorted.size());
    return sorted[rank - 1];
}

LatencyStats latency_stats(std::vector<uint64_t> values) {
    LatencyStats stats;
    if (values.empty()) return stats;
    std::sort(values.begin(), values.end());
    stats.count = values.size();
    stats.min = values.front();
    stats.max = values.back();
    stats.p50 = percentile_of_sorted(values, 50);
    stats.p90 = percentile_of_sorted(values, 90);
    return stats;
}

Correlator::Correlator(const TraceMeta& meta) : meta_(meta) {
    model_.run.workload = meta.workload;
    model_.run.command = meta.command;
    model_.run.started_at = meta.started_at;
    model_.run.cpus = meta.cpus;
    model_.run.kernel = meta.kernel;
    model_.run.root_pid = meta.root_pid;

    TaskRecord root;
    root.pid = root.tgid = meta.root_pid;
    root.ppid = root.parent_pid = meta.launcher_pid;
    root.kind = TaskKind::Root;
    live_.set(meta.root_pid, add_task(std::move(root)));
    parallelism_since_ = meta.trace_start_ns;
}

void Correlator::expect_events(uint64_t events) {
    // One interval per switch at most, plus one per task closed at the end.
    // Only a hint from the file's size: capped, so a huge (or sparse) file
    // cannot make it allocate what it does not hold; past it, the vector grows.
    constexpr uint64_t kMostReserved = uint64_t{1} << 24;
    model_.intervals.reserve(static_cast<size_t>(std::min(events, kMostReserved)) + 1024);
}

void Correlator::add(Event event) {
    event_slot() = std::move(event);
    add_slot();
}

Event& Correlator::event_slot() {
    if (window_tail_ - window_head_ > window_mask_) grow_window();
    return window_slot(window_tail_);
}

void Correlator::grow_window() {
    std::vector<Event> grown(window_.size() * 2);
    for (uint64_t i = window_head_; i < window_tail_; ++i) grown[i - window_head_] = std::move(window_slot(i));
    window_ = std::move(grown);
    window_mask_ = window_.size() - 1;
    window_tail_ -= window_head_;
    window_head_ = 0;
}

void Correlator::add_slot() {
    assert(window_tail_ - window_head_ <= window_mask_);  // event_slot() made room
    uint64_t at = window_tail_++;
    const uint64_t ts = window_slot(at).ts_ns;
    ++events_;
    if (ts < newest_ts_) ++model_.anomalies.reordered_events;
    newest_ts_ = std::max(newest_ts_, ts);

    // Nearly sorted input: almost always in place already.
    for (; at > window_head_ && window_slot(at - 1).ts_ns > ts; --at) std::swap(window_slot(at - 1), window_slot(at));

    while (window_head_ < window_tail_ && window_slot(window_head_).ts_ns + kReorderWindowNs < newest_ts_) {
        // The event waited a whole window since it was decoded: out of
        // the cache by now. Fetching one a few places on hides that wait.
        const char* ahead = reinterpret_cast<const char*>(&window_slot(window_head_ + kPrefetchAhead));
        __builtin_prefetch(ahead);
        __builtin_prefetch(ahead + 64);
        __builtin_prefetch(ahead + sizeof(Event) - 1);
        process(window_slot(window_head_++));
    }
}

uint64_t Correlator::relative(uint64_t ts) {
    if (ts < meta_.trace_start_ns) {
        ++model_.anomalies.events_before_start;
        return 0;
    }
    return ts - meta_.trace_start_ns;
}

uint32_t Correlator::add_task(TaskRecord record) {
    model_.tasks.push_back(std::move(record));
    states_.emplace_back();
    return static_cast<uint32_t>(model_.tasks.size() - 1);
}

uint32_t Correlator::mm_label(uint32_t kernel_mm_id) {
    if (kernel_mm_id == 0) return 0;
    auto [it, inserted] = mm_labels_.try_emplace(kernel_mm_id, static_cast<uint32_t>(mm_labels_.size() + 1));
    return it->second;
}

// A task first seen mid-life (its creation not traced, e.g. lost): added
// as inferred, and known under pid from now on.
uint32_t Correlator::add_inferred_task(uint32_t pid, uint32_t tgid) {
    ++model_.anomalies.unknown_tasks;
    TaskRecord record;
    record.pid = pid;
    record.tgid = tgid;
    record.kind = pid == tgid ? TaskKind::Process : TaskKind::Thread;
    record.inferred = true;
    uint32_t index = add_task(std::move(record));
    live_.set(pid, index);
    return index;
}

// An event recorded in a task's own context proves it is on that CPU. Now
// and then the kernel delivers no sched_switch for a switch-in (seen on
// Linux 6.18); the interval is then taken to start at this event.
void Correlator::note_running(uint32_t index, const Event& event) {
    const TaskState& state = states_[index];
    if (state.on_cpu && static_cast<uint32_t>(*state.on_cpu) == event.cpu) return;
    ++model_.anomalies.inferred_switch_ins;
    advance_parallelism(event.ts_ns);
    switch_in(index, event.cpu, event.ts_ns);
}

void Correlator::process(const Event& event) {
    if (event.ts_ns < processed_ts_) ++model_.anomalies.late_events;  // later than the window allowed
    processed_ts_ = std::max(processed_ts_, event.ts_ns);
    switch (event.kind) {
        case EventKind::SyscallEnter:
        case EventKind::SyscallExit:
        case EventKind::TaskNew:
        case EventKind::Exit:
            note_running(task_for(event.pid, event.tgid), event);
            break;
        case EventKind::Exec: {
            const auto& exec = std::get<Exec>(event.body);
            note_running(task_for(exec.old_pid ? exec.old_pid : event.pid, event.tgid), event);
            break;
        }
        default:
            break;
    }
    std::visit(
        [&](const auto& body) {
            using Body = std::decay_t<decltype(body)>;
            if constexpr (std::is_same_v<Body, SyscallEnter>) on_syscall_enter(event, body);
            else if constexpr (std::is_same_v<Body, SyscallExit>) on_syscall_exit(event, body);
            else if constexpr (std::is_same_v<Body, TaskNew>) on_task_new(event, body);
            else if constexpr (std::is_same_v<Body, Switch>) on_switch(event, body);
            else if constexpr (std::is_same_v<Body, Exec>) on_exec(event, body);
            else if constexpr (std::is_same_v<Body, Exit>) on_exit(event, body);
            else if constexpr (std::is_same_v<Body, WakeupNew>) {
                TaskRecord& task = model_.tasks[task_for(event.pid, event.tgid)];
                if (!task.wakeup_cpu) task.wakeup_cpu = body.target_cpu;
            } else if constexpr (std::is_same_v<Body, Migrate>) {
                ++model_.tasks[task_for(event.pid, event.tgid)].migrate_events;
            } else if constexpr (std::is_same_v<Body, Wakeup>) {
                uint32_t index = task_for(event.pid, event.tgid);
                TaskRecord& task = model_.tasks[index];
                ++task.wakeups;
                // Only a traced waker is named: in interrupt context the
                // "waker" is whatever happened to be running.
                if (body.waker_pid != 0 && body.waker_pid != event.pid && live_.contains(body.waker_pid))
                    states_[index].woken.add(body.waker_pid, 1, task.woken_by);
            } else if constexpr (std::is_same_v<Body, PidNs>) {
                model_.tasks[task_for(event.pid, event.tgid)].pid_ns =
                    NamespaceIds{body.ns_pid, body.ns_tgid, body.ns_ppid, body.level, body.ns_inum};
            } else if constexpr (std::is_same_v<Body, Rename>) {
                TaskRecord& task = model_.tasks[task_for(event.pid, event.tgid)];
                task.comm = body.new_comm;
                task.renames.push_back(CommChange{relative(event.ts_ns), body.new_comm});
            }
        },
        event.body);
}

void Correlator::on_syscall_enter(const Event& e, const SyscallEnter& body) {
    uint32_t index = task_for(e.pid, e.tgid);
    TaskRecord& task = model_.tasks[index];
    // The address space a task had when first seen; for the root, the one
    // it had when tracing began (before its exec).
    if (task.mm == 0 && task.execs.empty()) task.mm = mm_label(body.mm_id);
    if (is_creation_syscall(body.syscall)) creating_[e.pid] = PendingCreation{e.ts_ns, body.syscall, std::nullopt};
}

void Correlator::on_syscall_exit(const Event& e, const SyscallExit& body) {
    if (!is_creation_syscall(body.syscall)) return;
    auto it = creating_.find(e.pid);
    if (it == creating_.end()) {
        // ret 0 is the new task's own return from clone/fork: not a creator.
        if (body.ret != 0) ++model_.anomalies.unmatched_syscall_exits;
        return;
    }
    if (it->second.child && e.ts_ns >= it->second.enter_ts)
        model_.tasks[*it->second.child].latency.syscall = e.ts_ns - it->second.enter_ts;
    creating_.erase(it);
}

void Correlator::on_task_new(const Event& e, const TaskNew& body) {
    uint32_t creator = task_for(e.pid, e.tgid);
    if (model_.tasks[creator].mm == 0) model_.tasks[creator].mm = mm_label(body.creator_mm_id);

    const uint32_t* previous = live_.find(body.child_pid);
    if (previous && !model_.tasks[*previous].exited_ns && !states_[*previous].dead)
        ++model_.anomalies.pid_reused_before_exit;

    TaskRecord child;
    child.pid = body.child_pid;
    child.tgid = body.child_tgid;
    child.ppid = body.child_ppid;
    child.parent_pid = e.pid;
    child.comm = body.child_comm;
    child.kind = kind_from_clone_flags(body.clone_flags);
    child.mm = mm_label(body.child_mm_id);
    child.created_ns = relative(e.ts_ns);
    child.clone_flags = body.clone_flags;
    uint32_t index = add_task(std::move(child));
    live_.set(body.child_pid, index);

    auto pending = creating_.find(e.pid);
    if (pending != creating_.end() && !pending->second.child) {
        pending->second.child = index;
        model_.tasks[index].creation_syscall = syscall_name(pending->second.syscall);
        states_[index].create_enter_ts = pending->second.enter_ts;
    }
}

void Correlator::advance_parallelism(uint64_t ts) {
    if (ts <= parallelism_since_) return;
    if (running_ >= parallelism_ns_.size()) parallelism_ns_.resize(running_ + 1);
    parallelism_ns_[running_] += ts - parallelism_since_;
    parallelism_since_ = ts;
}

void Correlator::switch_out(uint32_t index, uint64_t ts) {
    TaskState& state = states_[index];
    if (!state.on_cpu) return;
    uint32_t cpu = static_cast<uint32_t>(*state.on_cpu);
    uint64_t start = std::max(state.on_since, meta_.trace_start_ns);
    uint64_t end = std::max(ts, start);
    TaskRecord& task = model_.tasks[index];
    task.oncpu_ns += end - start;
    state.cpu_time.add(cpu, end - start, task.cpu_ns);
    // Field by field into the vector: a braced temporary is stored as
    // narrow writes and copied with 16-byte loads, a store-forwarding stall.
    OnCpuInterval& interval = model_.intervals.emplace_back();
    interval.task = index;
    interval.cpu = cpu;
    interval.start_ns = start - meta_.trace_start_ns;
    interval.end_ns = end - meta_.trace_start_ns;
    state.on_cpu.reset();
    cpu_running_[cpu].reset();
    --running_;
}

void Correlator::switch_in(uint32_t index, uint32_t cpu, uint64_t ts) {
    if (cpu >= cpu_running_.size()) cpu_running_.resize(cpu + 1);
    if (cpu_running_[cpu] && *cpu_running_[cpu] != index) {
        ++model_.anomalies.switch_in_over_running;
        switch_out(*cpu_running_[cpu], ts);
    }
    TaskState& state = states_[index];
    if (state.on_cpu) {
        if (static_cast<uint32_t>(*state.on_cpu) == cpu) return;  // already here
        ++model_.anomalies.switch_in_over_running;
        switch_out(index, ts);
    }
    TaskRecord& task = model_.tasks[index];
    if (state.last_cpu && *state.last_cpu != cpu) ++task.migrations;
    state.last_cpu = cpu;
    if (!state.ran) {
        state.ran = true;
        if (state.create_enter_ts && ts >= *state.create_enter_ts)
            task.latency.first_run = ts - *state.create_enter_ts;
    }
    ++task.switches_in;
    state.on_cpu = static_cast<int>(cpu);
    state.on_since = ts;
    cpu_running_[cpu] = index;
    ++running_;
}

void Correlator::on_switch(const Event& e, const Switch& body) {
    advance_parallelism(e.ts_ns);
    if (e.cpu >= cpu_running_.size()) cpu_running_.resize(e.cpu + 1);
    if (body.prev_tracked) {
        uint32_t prev = task_for(body.prev_pid, body.prev_tgid);
        if (states_[prev].on_cpu && static_cast<uint32_t>(*states_[prev].on_cpu) == e.cpu) {
            switch_out(prev, e.ts_ns);
        } else {
            ++model_.anomalies.switch_out_not_running;
        }
        if (body.prev_dead) states_[prev].dead = true;
    } else if (cpu_running_[e.cpu]) {
        // A traced task must have left this CPU unseen (lost event).
        ++model_.anomalies.switch_out_not_running;
        switch_out(*cpu_running_[e.cpu], e.ts_ns);
    }
    if (body.next_tracked) switch_in(task_for(body.next_pid, body.next_tgid), e.cpu, e.ts_ns);
}

void Correlator::on_exec(const Event& e, const Exec& body) {
    uint32_t index = task_for(body.old_pid ? body.old_pid : e.pid, e.tgid);
    TaskRecord& task = model_.tasks[index];
    if (task.mm == 0) task.mm = mm_label(body.mm_id);  // the pre-exec space was never seen

    ExecRecord exec;
    exec.ts_ns = relative(e.ts_ns);
    exec.filename = body.filename;
    exec.argv = body.argv;
    exec.argc = body.argc;
    exec.argv_truncated = body.argv_truncated;
    exec.filename_truncated = body.filename_truncated;
    exec.mm = mm_label(body.mm_id);
    exec.pid_before = body.old_pid;
    task.execs.push_back(std::move(exec));
    task.comm = body.comm;

    if (body.old_pid != 0 && body.old_pid != e.pid) {
        // A non-leader thread exec'd: it takes over the leader's pid and the
        // old leader is gone (de_thread).
        if (task.pid_ns) task.pid_ns->pid = task.pid_ns->tgid;
        const uint32_t* leader = live_.find(e.pid);
        if (leader && *leader != index) {
            TaskRecord& old_leader = model_.tasks[*leader];
            if (!old_leader.exited_ns) old_leader.exited_ns = relative(e.ts_ns);
            states_[*leader].dead = true;
        }
        live_.erase(body.old_pid);
        live_.set(e.pid, index);
        task.pid = e.pid;
    }
}

void Correlator::on_exit(const Event& e, const Exit& body) {
    TaskRecord& task = model_.tasks[task_for(e.pid, e.tgid)];
    task.exited_ns = relative(e.ts_ns);
    if (!body.comm.empty()) task.comm = body.comm;
    int signal = body.exit_code & 0x7f;
    if (signal != 0) {
        task.exit_signal = signal;
        task.core_dumped = (body.exit_code & 0x80) != 0;
    } else {
        task.exit_code = (body.exit_code >> 8) & 0xff;
    }
}

RunModel Correlator::finish(const TraceEnd& end) {
    while (window_head_ < window_tail_) process(window_slot(window_head_++));
    window_ = std::vector<Event>(1);  // freed before the reports are rendered
    window_mask_ = 0;

    uint64_t end_ts = std::max(end.trace_end_ns, processed_ts_);
    advance_parallelism(end_ts);  // before closing: tasks still running count until the end
    for (uint32_t index = 0; index < states_.size(); ++index) {
        switch_out(index, end_ts);
        states_[index].cpu_time.flush(model_.tasks[index].cpu_ns);
        states_[index].woken.flush(model_.tasks[index].woken_by);
    }
    // Only the counts that were on a CPU for some time, as the map always had.
    for (uint32_t n = 0; n < parallelism_ns_.size(); ++n)
        if (parallelism_ns_[n] > 0) model_.summary.parallelism_ns[n] = parallelism_ns_[n];

    RunInfo& run = model_.run;
    run.duration_ns = end_ts > meta_.trace_start_ns ? end_ts - meta_.trace_start_ns : 0;
    run.events = events_;
    run.lost_events = end.lost_total();
    for (int kind = 1; kind < kEventKindCount; ++kind)
        run.lost_by_kind[event_kind_name(static_cast<EventKind>(kind))] = end.lost_by_kind[kind];
    run.interrupted = end.interrupted;
    run.left_running = end.left_running;
    run.losses_unknown = end.losses_unknown;
    run.complete = run.lost_events == 0 && !end.interrupted && !end.losses_unknown;
    run.exit_code = end.exit_code;
    run.exit_signal = end.exit_signal;

    Summary& summary = model_.summary;
    summary.tasks = model_.tasks.size();
    std::set<uint32_t> tgids;
    std::map<std::string, std::vector<uint64_t>> first_run, syscall;
    for (const TaskRecord& task : model_.tasks) {
        tgids.insert(task.tgid);
        if (task.kind == TaskKind::Thread) ++summary.threads;
        summary.context_switches += task.switches_in;
        summary.migrations += task.migrations;
        if (task.kind == TaskKind::Root) continue;
        const char* kind = task_kind_name(task.kind);
        if (task.latency.first_run) first_run[kind].push_back(*task.latency.first_run);
        if (task.latency.syscall) syscall[kind].push_back(*task.latency.syscall);
    }
    summary.processes = tgids.size();
    summary.address_spaces = mm_labels_.size();
    for (auto& [kind, values] : first_run) summary.first_run_latency[kind] = latency_stats(std::move(values));
    for (auto& [kind, values] : syscall) summary.syscall_latency[kind] = latency_stats(std::move(values));
    for (const auto& [n, ns] : summary.parallelism_ns)
        if (ns > 0) summary.max_parallelism = std::max(summary.max_parallelism, n);
    return std::move(model_);
}

Result<RunModel> correlate_trace_file(const std::string& path) {
    auto reader = TraceReader::open(path);
    if (!reader) return reader.error();
    Correlator correlator(reader->meta());
    correlator.expect_events(reader->max_events());
    for (;;) {
        auto more = reader->next(correlator.event_slot());
        if (!more) return more.error();
        if (!*more) break;
        correlator.add_slot();
    }
    return correlator.finish(reader->end());
}

}  // namespace cxt
