#include "correlator.h"

#include "lesson.h"
#include "running_count.h"

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
// The kernel's CPU clock (the runqueue clock, updated early in schedule())
// and an event's timestamp (taken at the tracepoint) are read apart: on this
// VM under load an interval's CPU time exceeds its wall time by up to ~130 us
// (p99 76 us over 811 intervals), more rarely. So a CPU clock that ran ahead
// of the switch events is taken as unseen running only past this, when no
// event proves a switch-in was missed ...
constexpr uint64_t kUnprovenRunNs = 1'000'000;
// ... and past this, when one does (a switch-out of a task not on that CPU).
constexpr uint64_t kClockSkewNs = 200'000;
// A task's state as sched_switch reports it (include/linux/sched.h).
constexpr uint32_t kTaskInterruptible = 0x1;
constexpr uint32_t kTaskUninterruptible = 0x2;

// The state a task left its CPU in: preempted, it stays runnable.
RunState state_after_switch_out(const Switch& body) {
    if (body.prev_preempted || body.prev_state == 0) return RunState::Runnable;
    if (body.prev_state & kTaskInterruptible) return RunState::Sleeping;
    if (body.prev_state & kTaskUninterruptible) return RunState::Blocked;
    return RunState::Other;  // stopped, traced, ...
}

bool is_wait(RunState state) {
    return state == RunState::Sleeping || state == RunState::Blocked || state == RunState::Other;
}

}  // namespace

const char* run_state_name(RunState state) {
    switch (state) {
        case RunState::Running: return "running";
        case RunState::Runnable: return "runnable";
        case RunState::Sleeping: return "sleeping";
        case RunState::Blocked: return "blocked";
        case RunState::Other: return "other";
    }
    return "other";
}

uint32_t mm_at(const TaskRecord& task, uint64_t ts) {
    uint32_t mm = task.mm;
    for (const ExecRecord& exec : task.execs)
        if (exec.ts_ns <= ts) mm = exec.mm;
    return mm;
}

uint64_t StateTimes::total() const {
    uint64_t sum = 0;
    for (uint64_t part : ns) sum += part;
    return sum;
}

StateTimes& StateTimes::operator+=(const StateTimes& other) {
    for (size_t i = 0; i < kRunStateCount; ++i) ns[i] += other.ns[i];
    return *this;
}

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

const char* ran_after_name(RanAfter after) {
    switch (after) {
        case RanAfter::Unknown: return "unknown";
        case RanAfter::Idle: return "idle";
        case RanAfter::Creator: return "creator";
        case RanAfter::TracedTask: return "traced task";
        case RanAfter::UntracedTask: return "untraced task";
    }
    return "unknown";
}

TaskKind kind_from_clone_flags(uint64_t flags) {
    if (flags & kCloneThread) return TaskKind::Thread;
    if (flags & kCloneVfork) return TaskKind::Vfork;
    if (flags & kCloneVm) return TaskKind::SharedVm;
    return TaskKind::Process;
}

bool is_phase_marker(const std::string& comm) { return !comm.empty() && comm.front() == kPhaseMarker; }

uint64_t Anomalies::total() const {
    uint64_t sum = 0;
#define CXT_ANOMALY_SUM(name, repair, what) sum += name;
    CXT_ANOMALIES(CXT_ANOMALY_SUM)
#undef CXT_ANOMALY_SUM
    return sum;
}

uint64_t Anomalies::repairs() const {
    uint64_t sum = 0;
#define CXT_ANOMALY_REPAIR(name, repair, what) sum += repair ? name : 0;
    CXT_ANOMALIES(CXT_ANOMALY_REPAIR)
#undef CXT_ANOMALY_REPAIR
    return sum;
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
    model_.phases.emplace_back().name = "whole run";
    phase_starts_.push_back(meta.trace_start_ns);
    phase_parallelism_.emplace_back();
    phase_states_.emplace_back();
    phase_cpu_by_kind_.emplace_back();
}

void Correlator::expect_events(uint64_t events) {
    // One interval per switch at most, plus one per task closed at the end.
    // Only a hint from the file's size: capped, so a huge (or sparse) file
    // cannot make it allocate what it does not hold; past it, the vector grows.
    constexpr uint64_t kMostReserved = uint64_t{1} << 24;
    model_.intervals.reserve(static_cast<size_t>(std::min(events, kMostReserved)) + 1024);
    // As many stretches off a CPU (each switch-out begins one): reserved,
    // not touched, so not resident until used.
    model_.off_cpu.reserve(static_cast<size_t>(std::min(events, kMostReserved)) + 1024);
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
    ++model_.tasks[index].repairs;
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
            else if constexpr (std::is_same_v<Body, Wakeup>) on_wakeup(event, body);
            else if constexpr (std::is_same_v<Body, WakeupNew>) {
                const uint32_t index = task_for(event.pid, event.tgid);
                TaskRecord& task = model_.tasks[index];
                if (!task.wakeup_cpu) task.wakeup_cpu = body.target_cpu;
                if (!states_[index].life_started) enter_state(index, RunState::Runnable, event.ts_ns);
            } else if constexpr (std::is_same_v<Body, Migrate>) {
                ++model_.tasks[task_for(event.pid, event.tgid)].migrate_events;
            } else if constexpr (std::is_same_v<Body, PidNs>) {
                model_.tasks[task_for(event.pid, event.tgid)].pid_ns =
                    NamespaceIds{body.ns_pid, body.ns_tgid, body.ns_ppid, body.level, body.ns_inum};
            } else if constexpr (std::is_same_v<Body, Rename>) {
                TaskRecord& task = model_.tasks[task_for(event.pid, event.tgid)];
                if (is_phase_marker(body.new_comm)) {
                    begin_phase(event, body.new_comm);  // a marker, not a name: the task keeps its own
                } else if (body.new_comm != task.comm) {
                    task.comm = body.new_comm;
                    task.renames.push_back(CommChange{relative(event.ts_ns), body.new_comm});
                }
            }
        },
        event.body);
}

// A task made runnable. Only a traced waker is named: in interrupt context
// (flagged since event ABI 4) the running task is not the waker.
void Correlator::on_wakeup(const Event& e, const Wakeup& body) {
    const uint32_t index = task_for(e.pid, e.tgid);
    TaskRecord& task = model_.tasks[index];
    ++task.wakeups;
    WokenBy woken{WakerKind::Outside, 0};
    if (body.context_unknown) {
        ++model_.anomalies.wakers_unknown;
        woken = WokenBy{WakerKind::Unknown, 0};
    } else if (const uint32_t* waker = live_.find(body.waker_pid);
               !body.in_interrupt && body.waker_pid != 0 && body.waker_pid != e.pid && waker) {
        states_[index].woken.add(body.waker_pid, 1, task.woken_by);
        woken = WokenBy{WakerKind::Traced, body.waker_pid, *waker};
    }
    TaskState& state = states_[index];
    if (state.life_started && !is_wait(state.run_state)) {
        // Woken while running or already runnable (it was woken between
        // saying it would wait and leaving its CPU): nothing ended.
        ++model_.anomalies.wakeups_not_sleeping;
        return;
    }
    enter_state(index, RunState::Runnable, e.ts_ns, woken);
}

void Correlator::enter_state(uint32_t index, RunState next, uint64_t ts, WokenBy woken) {
    TaskState& state = states_[index];
    if (state.life_ended) return;
    if (!state.life_started) {
        state.life_started = true;
        state.run_state = next;
        state.state_since = std::max(ts, meta_.trace_start_ns);
        track_off_cpu(index, next, state.state_since, woken);
        return;
    }
    const uint64_t from = state.state_since, to = std::max(ts, from);
    track_off_cpu(index, next, to, woken);
    if (to > from) {
        state.states[state.run_state] += to - from;
        for_each_phase_in(from, to, [&](size_t p, uint64_t ns) { phase_states_[p][state.run_state] += ns; });
    }
    if (state.wait) {
        WaitRecord& wait = model_.tasks[index].waits[*state.wait];
        wait.ns += to - from;
        switch (woken.kind) {
            case WakerKind::Traced: wait.woken_by[woken.pid].add(to - from); break;
            case WakerKind::Outside: wait.outside.add(to - from); break;
            case WakerKind::Unknown: wait.unknown.add(to - from); break;
        }
        state.wait.reset();
    }
    state.run_state = next;
    state.state_since = to;
}

// Called before the task's state changes to next at ts (its current one
// is still state.run_state, its wait state.wait). A stretch off a CPU
// begins when it leaves Running (or its life starts elsewhere); a wait
// that ends in Runnable continues the stretch; it ends in Running, or in
// another wait (an anomaly's Other). Its slot in model_.off_cpu is taken
// when it begins, so the stretches are in order of their starts.
void Correlator::track_off_cpu(uint32_t index, RunState next, uint64_t ts, WokenBy woken) {
    TaskState& state = states_[index];
    if (state.off) {
        OffCpuInterval& off = model_.off_cpu[*state.off];
        if (is_wait(state.run_state)) {  // its wait ends here
            off.wait = state.wait ? *state.wait : OffCpuInterval::kNoWait;
            off.waker = woken.kind;
            off.waker_task = woken.task;
            off.woken_ns = ts - meta_.trace_start_ns;
            if (next == RunState::Runnable) return;
        }
        end_off_cpu(state, ts);
    }
    if (next == RunState::Running) return;
    state.off = model_.off_cpu.size();
    OffCpuInterval& off = model_.off_cpu.emplace_back();
    off.task = index;
    off.wait = OffCpuInterval::kNoWait;
    off.waker_task = 0;
    off.state = next;
    off.waker = WakerKind::Unknown;
    off.start_ns = off.woken_ns = off.end_ns = ts - meta_.trace_start_ns;
}

// An empty stretch (it ended where it began, or never ended: a task's
// last one after its death) keeps end_ns == start_ns and is dropped at the end.
void Correlator::end_off_cpu(TaskState& state, uint64_t ts) {
    model_.off_cpu[*state.off].end_ns = ts - meta_.trace_start_ns;
    state.last_off = state.off;
    state.off.reset();
}

// A tracked task left a CPU (not for the last time): preempted, it waits
// for a CPU; else it waits in what the switch says.
void Correlator::leave_cpu(uint32_t index, const Switch& body, uint64_t ts) {
    if (!states_known_) return;
    TaskRecord& task = model_.tasks[index];
    const RunState next = state_after_switch_out(body);
    if (next == RunState::Runnable) {
        ++task.involuntary_switches;
        enter_state(index, next, ts);
        return;
    }
    ++task.voluntary_switches;
    enter_state(index, next, ts);
    uint32_t lock = 0;
    if (body.prev_lock_id != 0) {
        auto [it, inserted] =
            lock_labels_.try_emplace(body.prev_lock_id, static_cast<uint32_t>(lock_labels_.size() + 1));
        lock = it->second;
    }
    auto same = std::find_if(task.waits.begin(), task.waits.end(), [&](const WaitRecord& wait) {
        return wait.state == next && wait.syscall == body.prev_syscall && wait.lock == lock;
    });
    if (same == task.waits.end()) {
        same = task.waits.emplace(task.waits.end());
        same->state = next;
        same->syscall = body.prev_syscall;
        same->lock = lock;
    }
    ++same->count;
    states_[index].wait = static_cast<uint32_t>(same - task.waits.begin());
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
    if (it->second.child && e.ts_ns >= it->second.enter_ts) {
        model_.tasks[*it->second.child].latency.syscall = e.ts_ns - it->second.enter_ts;
        model_.tasks[*it->second.child].first_run_context.creator_cpu = e.cpu;
        states_[*it->second.child].create_return_ts = e.ts_ns;
    }
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
    // Created while its creator wore a phase marker as its name: it is
    // named as its creator really is.
    child.comm = is_phase_marker(body.child_comm) ? model_.tasks[creator].comm : body.child_comm;
    child.kind = kind_from_clone_flags(body.clone_flags);
    child.mm = mm_label(body.child_mm_id);
    child.created_ns = relative(e.ts_ns);
    child.clone_flags = body.clone_flags;
    uint32_t index = add_task(std::move(child));
    live_.set(body.child_pid, index);
    states_[index].creator = creator;

    auto pending = creating_.find(e.pid);
    if (pending != creating_.end() && !pending->second.child) {
        pending->second.child = index;
        model_.tasks[index].creation_syscall = syscall_name(pending->second.syscall);
        states_[index].create_enter_ts = pending->second.enter_ts;
    }
}

template <typename Fn>
void Correlator::for_each_phase_in(uint64_t start, uint64_t end, Fn fn) {
    for (size_t p = phase_starts_.size(); p-- > 0;) {
        const uint64_t from = std::max(start, phase_starts_[p]);
        const uint64_t to = p + 1 < phase_starts_.size() ? std::min(end, phase_starts_[p + 1]) : end;
        if (to > from) fn(p, to - from);
        if (phase_starts_[p] <= start) break;
    }
}

void Correlator::begin_phase(const Event& e, const std::string& marker) {
    std::string name = marker.substr(1);
    if (name.empty()) name = "phase " + std::to_string(model_.phases.size() + 1);
    // A first marker set before any task was created names the run from
    // its start: the program's setup belongs to its first phase.
    if (model_.phases.size() == 1 && model_.phases[0].marked_by == 0 && model_.tasks.size() == 1) {
        model_.phases[0].name = std::move(name);
        model_.phases[0].marked_by = e.pid;
        return;
    }
    Phase& phase = model_.phases.emplace_back();
    phase.name = std::move(name);
    phase.start_ns = relative(e.ts_ns);
    phase.marked_by = e.pid;
    phase_starts_.push_back(std::max(e.ts_ns, meta_.trace_start_ns));
    phase_parallelism_.emplace_back();
    phase_states_.emplace_back();
    phase_cpu_by_kind_.emplace_back();
}

// start and end are absolute timestamps, start >= the trace's start.
void Correlator::add_interval(uint32_t index, uint32_t cpu, uint64_t start, uint64_t end) {
    TaskRecord& task = model_.tasks[index];
    task.oncpu_ns += end - start;
    states_[index].cpu_time.add(cpu, end - start, task.cpu_ns);
    for_each_phase_in(start, end, [&](size_t phase, uint64_t ns) { model_.phases[phase].oncpu_ns += ns; });
    // Field by field into the vector: a braced temporary is stored as
    // narrow writes and copied with 16-byte loads, a store-forwarding stall.
    OnCpuInterval& interval = model_.intervals.emplace_back();
    interval.task = index;
    interval.cpu = cpu;
    interval.start_ns = start - meta_.trace_start_ns;
    interval.end_ns = end - meta_.trace_start_ns;
    cpu_free_since_[cpu] = std::max(cpu_free_since_[cpu], end);
}

void Correlator::switch_out(uint32_t index, uint64_t ts) {
    TaskState& state = states_[index];
    if (!state.on_cpu) return;
    uint32_t cpu = static_cast<uint32_t>(*state.on_cpu);
    uint64_t start = std::max(state.on_since, meta_.trace_start_ns);
    add_interval(index, cpu, start, std::max(ts, start));
    state.on_cpu.reset();
    cpu_running_[cpu].reset();
}

void Correlator::note_runtime(uint32_t index, uint64_t runtime, uint64_t ts) {
    TaskState& state = states_[index];
    runtimes_seen_ = true;
    // The CPU time since the clock was last read, shared among the phases
    // that span covers in proportion to their share of it.
    if (state.runtime && runtime > *state.runtime && ts > state.runtime_ts) {
        const uint64_t ran = runtime - *state.runtime, span = ts - state.runtime_ts;
        const auto kind = static_cast<size_t>(model_.tasks[index].kind);
        for_each_phase_in(state.runtime_ts, ts, [&](size_t p, uint64_t ns) {
            // Mostly one phase takes the whole span: no division then.
            const uint64_t share = ns == span ? ran : static_cast<uint64_t>(static_cast<double>(ran) * ns / span);
            Phase& phase = model_.phases[p];
            phase.cpu_time_ns = phase.cpu_time_ns.value_or(0) + share;
            phase_cpu_by_kind_[p].ns[kind] += share;
            phase_cpu_by_kind_[p].seen[kind] = true;
        });
    }
    state.runtime = runtime;
    state.runtime_ts = ts;
    std::optional<uint64_t>& cpu_time = model_.tasks[index].cpu_time_ns;
    cpu_time = std::max(cpu_time.value_or(0), runtime);
}

// A task on a CPU by an inferred switch-in (an event showed it there) was
// runnable from when the stretch off a CPU that switch-in ended was woken
// (or began, preempted); it cannot have run before. The switch-in time when
// no such stretch ended there.
uint64_t Correlator::runnable_before_inferred_run(uint32_t index) const {
    const TaskState& state = states_[index];
    if (!state.last_off || state.run_state != RunState::Running) return state.on_since;
    const OffCpuInterval& off = model_.off_cpu[*state.last_off];
    // Not the stretch that ended at this switch-in (it had none): nothing before it.
    if (meta_.trace_start_ns + off.end_ns != state.on_since) return state.on_since;
    return meta_.trace_start_ns + off.woken_ns;
}

// The kernel switched a task out of `cpu` at ts: its CPU clock says how
// long it ran since the clock was last read. On this kernel a switch-in is
// now and then never reported (perf's sched_switch shows the same gaps), so
// a task can compute for long stretches the switch events never show. What
// the clock shows beyond the interval in the model is placed just before
// this switch-out, where the task must have been running; what cannot be
// placed there (the CPU was busy with another traced task, or, with the
// states known, the task was not yet runnable) stays counted. Placed before
// an inferred switch-in, it was running where the states had it runnable.
void Correlator::recover_unseen_run(uint32_t index, uint32_t cpu, uint64_t ts, uint64_t runtime) {
    TaskState& state = states_[index];
    if (!state.runtime || runtime <= *state.runtime) return;
    const uint64_t ran = runtime - *state.runtime;
    const bool here = state.on_cpu && static_cast<uint32_t>(*state.on_cpu) == cpu;
    uint64_t shown = 0;
    if (here) shown = ts - std::min(std::max(state.on_since, state.runtime_ts), ts);
    // Not on this CPU in the model: its switch-in here was certainly missed.
    const uint64_t noise = here ? kUnprovenRunNs : 0;
    if (ran <= shown + noise) return;

    TaskRecord& task = model_.tasks[index];
    ++task.repairs;
    uint64_t earliest = std::max({state.runtime_ts, cpu_free_since_[cpu], meta_.trace_start_ns});
    if (states_known_ && here) earliest = std::max(earliest, runnable_before_inferred_run(index));
    if (states_known_ && !here && state.run_state == RunState::Runnable)
        earliest = std::max(earliest, state.state_since);
    const uint64_t start = std::max(ts > ran ? ts - ran : 0, earliest);
    uint64_t recovered = 0;
    if (here) {
        if (start < state.on_since) {
            recovered = state.on_since - start;
            if (states_known_) {  // running, not runnable, since start: its stretch off a CPU ends there
                state.states[RunState::Runnable] -= recovered;
                state.states[RunState::Running] += recovered;
                for_each_phase_in(start, state.on_since, [&](size_t p, uint64_t ns) {
                    phase_states_[p][RunState::Runnable] -= ns;
                    phase_states_[p][RunState::Running] += ns;
                });
                model_.off_cpu[*state.last_off].end_ns = start - meta_.trace_start_ns;
            }
            state.on_since = start;
        }
    } else {
        if (state.on_cpu) {  // placed on another CPU by inference: it had left there
            const uint64_t left = std::max(state.on_since, std::min(start, ts));
            shown += left - state.on_since;
            switch_out(index, left);
        }
        if (start < ts) {
            recovered = ts - start;
            enter_state(index, RunState::Running, start);
            add_interval(index, cpu, start, ts);
            if (state.last_cpu && *state.last_cpu != cpu) ++task.migrations;
            state.last_cpu = cpu;
            state.ran = true;  // its first-run latency stays unknown: the switch-in was not seen
            ++task.switches_in;
        }
    }
    if (recovered > 0) {
        ++model_.anomalies.recovered_intervals;
        model_.anomalies.recovered_oncpu_ns += recovered;
        task.recovered_oncpu_ns += recovered;
    }
    const uint64_t placed = shown + recovered;
    if (ran > placed + kClockSkewNs) {
        ++model_.anomalies.unplaced_cpu;
        model_.anomalies.unplaced_cpu_ns += ran - placed;
        task.unplaced_cpu_ns += ran - placed;
    }
}

void Correlator::switch_in(uint32_t index, uint32_t cpu, uint64_t ts) {
    ensure_cpu(cpu);
    if (cpu_running_[cpu] && *cpu_running_[cpu] != index) {
        ++model_.anomalies.switch_in_over_running;
        ++model_.tasks[*cpu_running_[cpu]].repairs;
        enter_state(*cpu_running_[cpu], RunState::Other, ts);  // what it left in is not known
        switch_out(*cpu_running_[cpu], ts);
    }
    TaskState& state = states_[index];
    if (state.on_cpu) {
        if (static_cast<uint32_t>(*state.on_cpu) == cpu) return;  // already here
        ++model_.anomalies.switch_in_over_running;
        ++model_.tasks[index].repairs;
        switch_out(index, ts);
    }
    TaskRecord& task = model_.tasks[index];
    if (state.last_cpu && *state.last_cpu != cpu) ++task.migrations;
    state.last_cpu = cpu;
    if (!state.ran) {
        state.ran = true;
        task.first_run_context.cpu = cpu;
        if (state.create_enter_ts && ts >= *state.create_enter_ts)
            task.latency.first_run = ts - *state.create_enter_ts;
    }
    ++task.switches_in;
    state.on_cpu = static_cast<int>(cpu);
    state.on_since = ts;
    cpu_running_[cpu] = index;
    if (state.wait) {  // no wakeup seen: the wait's end, and who ended it, are not known
        ++model_.anomalies.switch_ins_without_wakeup;
        ++task.repairs;
    }
    enter_state(index, RunState::Running, ts);
}

void Correlator::on_switch(const Event& e, const Switch& body) {
    if (!body.has_wait) states_known_ = false;  // a trace from before event ABI 4
    ensure_cpu(e.cpu);
    std::optional<uint32_t> prev_here;  // the traced task this switch took off the CPU
    uint64_t prev_on_since = 0;
    if (body.prev_tracked) {
        uint32_t prev = task_for(body.prev_pid, body.prev_tgid);
        if (!states_[prev].on_cpu || static_cast<uint32_t>(*states_[prev].on_cpu) != e.cpu) {
            ++model_.anomalies.switch_out_not_running;
            ++model_.tasks[prev].repairs;
        }
        if (body.has_runtimes) recover_unseen_run(prev, e.cpu, e.ts_ns, body.prev_runtime_ns);
        if (states_[prev].on_cpu && static_cast<uint32_t>(*states_[prev].on_cpu) == e.cpu) {
            prev_here = prev;
            prev_on_since = states_[prev].on_since;
            switch_out(prev, e.ts_ns);
        }
        if (body.has_runtimes) note_runtime(prev, body.prev_runtime_ns, e.ts_ns);
        if (body.prev_dead) {
            states_[prev].dead = true;
            enter_state(prev, RunState::Other, e.ts_ns);  // closes its life's last state
            states_[prev].life_ended = true;
        } else {
            leave_cpu(prev, body, e.ts_ns);
        }
    } else if (cpu_running_[e.cpu]) {
        // A traced task must have left this CPU unseen (lost event).
        ++model_.anomalies.switch_out_not_running;
        ++model_.tasks[*cpu_running_[e.cpu]].repairs;
        enter_state(*cpu_running_[e.cpu], RunState::Other, e.ts_ns);  // what it left in is not known
        switch_out(*cpu_running_[e.cpu], e.ts_ns);
    }
    if (body.next_tracked) {
        uint32_t next = task_for(body.next_pid, body.next_tgid);
        TaskState& state = states_[next];
        // Its clock rose while no switch event had it on a CPU: it ran
        // somewhere, unseen, and nothing says where.
        if (body.has_runtimes && state.runtime && !state.on_cpu &&
            body.next_runtime_ns > *state.runtime + kUnprovenRunNs) {
            const uint64_t unseen = body.next_runtime_ns - *state.runtime;
            ++model_.anomalies.unplaced_cpu;
            model_.anomalies.unplaced_cpu_ns += unseen;
            model_.tasks[next].unplaced_cpu_ns += unseen;
            ++model_.tasks[next].repairs;
        }
        const bool first = !state.ran;
        switch_in(next, e.cpu, e.ts_ns);
        if (body.has_runtimes) note_runtime(next, body.next_runtime_ns, e.ts_ns);
        if (first && states_[next].creator) note_first_run(next, e.cpu, body, prev_here, prev_on_since);
    }
}

void Correlator::ensure_cpu(uint32_t cpu) {
    if (cpu < cpu_running_.size()) return;
    cpu_running_.resize(cpu + 1);
    cpu_free_since_.resize(cpu + 1, meta_.trace_start_ns);
}

// The running count over time, from the intervals, once they are all
// known: an interval recovered from a task's CPU clock is placed after the
// events around it were processed, so a count kept online would miss it.
void Correlator::count_running(uint64_t end_ts) {
    const uint64_t base = meta_.trace_start_ns, end = end_ts - base;
    const uint64_t last = for_each_running_count(model_.intervals, 0, [&](uint64_t from, uint64_t to, uint32_t running) {
        if (from < end) count_parallelism(base + from, base + std::min(to, end), running);
    });
    if (end > last) count_parallelism(base + last, base + end, 0);
}

void Correlator::count_parallelism(uint64_t from, uint64_t to, uint32_t running) {
    if (running >= parallelism_ns_.size()) parallelism_ns_.resize(running + 1);
    parallelism_ns_[running] += to - from;
    for_each_phase_in(from, to, [&](size_t p, uint64_t ns) {
        std::vector<uint64_t>& phase = phase_parallelism_[p];
        if (running >= phase.size()) phase.resize(running + 1);
        phase[running] += ns;
    });
}

// Ends, creations, latencies and parallelism of each phase, once the run is
// known.
void Correlator::finish_phases() {
    std::vector<Phase>& phases = model_.phases;
    if (phases.size() > 1 && phases[0].marked_by == 0) phases[0].name = "before the first marker";
    for (size_t p = 0; p < phases.size(); ++p) {
        phases[p].end_ns = p + 1 < phases.size() ? phases[p + 1].start_ns : model_.run.duration_ns;
        for (uint32_t n = 0; n < phase_parallelism_[p].size(); ++n)
            if (phase_parallelism_[p][n] > 0) {
                phases[p].parallelism_ns[n] = phase_parallelism_[p][n];
                phases[p].max_parallelism = std::max(phases[p].max_parallelism, n);
            }
        if (runtimes_seen_ && !phases[p].cpu_time_ns) phases[p].cpu_time_ns = 0;
        if (states_known_) phases[p].states = phase_states_[p];
        for (size_t kind = 0; kind < kTaskKindCount; ++kind)
            if (phase_cpu_by_kind_[p].seen[kind])
                phases[p].cpu_time_by_kind[task_kind_name(static_cast<TaskKind>(kind))] = phase_cpu_by_kind_[p].ns[kind];
    }
    std::vector<std::map<std::string, std::vector<uint64_t>>> first_run(phases.size()), syscall(phases.size());
    for (const TaskRecord& task : model_.tasks) {
        if (task.kind == TaskKind::Root || !task.created_ns || task.launcher) continue;
        auto after = std::upper_bound(phases.begin(), phases.end(), *task.created_ns,
                                      [](uint64_t ts, const Phase& phase) { return ts < phase.start_ns; });
        const size_t p = static_cast<size_t>(std::max<std::ptrdiff_t>(after - phases.begin() - 1, 0));
        const char* kind = task_kind_name(task.kind);
        ++phases[p].created[kind];
        if (task.latency.first_run) first_run[p][kind].push_back(*task.latency.first_run);
        if (task.latency.syscall) syscall[p][kind].push_back(*task.latency.syscall);
    }
    for (size_t p = 0; p < phases.size(); ++p) {
        for (auto& [kind, values] : first_run[p]) phases[p].first_run_latency[kind] = latency_stats(std::move(values));
        for (auto& [kind, values] : syscall[p]) phases[p].syscall_latency[kind] = latency_stats(std::move(values));
    }
}

// What the CPU did before a new task's first switch-in: it explains the
// wait between the creation syscall and the new task's first run.
void Correlator::note_first_run(uint32_t index, uint32_t cpu, const Switch& body, std::optional<uint32_t> prev,
                                uint64_t prev_on_since) {
    const TaskState& state = states_[index];
    FirstRunContext& context = model_.tasks[index].first_run_context;
    if (body.prev_pid == 0) context.after = RanAfter::Idle;  // pid 0: the CPU's idle task
    else if (!body.prev_tracked) context.after = RanAfter::UntracedTask;
    else if (prev && prev == state.creator) context.after = RanAfter::Creator;
    else context.after = RanAfter::TracedTask;
    context.creator_kept_cpu = context.after == RanAfter::Creator && state.create_return_ts &&
                               context.creator_cpu == cpu && prev_on_since <= *state.create_return_ts;
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
    exec.comm = body.comm;
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
    if (body.group_dead) group_exits_.emplace_back(e.tgid, *task.exited_ns);
    if (!body.comm.empty() && !is_phase_marker(body.comm)) task.comm = body.comm;
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
    finish_states(end_ts);
    for (uint32_t index = 0; index < states_.size(); ++index) {
        switch_out(index, end_ts);
        states_[index].cpu_time.flush(model_.tasks[index].cpu_ns);
        states_[index].woken.flush(model_.tasks[index].woken_by);
    }
    count_running(end_ts);
    note_reparenting();
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
    run.limit = end.limit;
    run.complete = run.lost_events == 0 && !end.interrupted && !end.losses_unknown && !end.limit;
    run.approximate = model_.anomalies.repairs() > 0;
    run.exit_code = end.exit_code;
    run.exit_signal = end.exit_signal;
    run.output = end.output;

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
    scope_to_lesson(model_, meta_.from_exec);
    finish_phases();  // after the scope: a launcher's tasks are not the phases' creations
    summarize_states(model_);
    return std::move(model_);
}

// Each task's states up to the trace's end (a wait still open there ended
// unseen), or none at all for a trace from before event ABI 4.
void Correlator::finish_states(uint64_t end_ts) {
    for (uint32_t index = 0; index < states_.size(); ++index) {
        TaskState& state = states_[index];
        TaskRecord& task = model_.tasks[index];
        if (state.life_started && !state.life_ended) {
            enter_state(index, state.run_state, end_ts);
            if (state.off) end_off_cpu(state, end_ts);
        }
        if (!states_known_) {
            task.waits.clear();
            task.voluntary_switches = task.involuntary_switches = 0;
        } else if (state.life_started) {
            task.states = state.states;
        }
    }
    if (!states_known_) model_.off_cpu.clear();
    model_.off_cpu.erase(std::remove_if(model_.off_cpu.begin(), model_.off_cpu.end(),
                                        [](const OffCpuInterval& off) { return off.end_ns <= off.start_ns; }),
                         model_.off_cpu.end());
}

// The lesson's states by kind, and its futex words (locks) with their waits.
void summarize_states(RunModel& model) {
    Summary& summary = model.summary;
    std::map<uint32_t, LockRecord> locks;
    for (const TaskRecord& task : model.tasks) {
        if (task.launcher) continue;
        if (task.states) summary.states_by_kind[task_kind_name(task.kind)] += *task.states;
        for (const WaitRecord& wait : task.waits) {
            if (wait.lock == 0) continue;
            LockRecord& lock = locks[wait.lock];
            if (lock.waits == 0) {
                lock.label = wait.lock;
                lock.tgid = task.tgid;
            }
            if (std::find(lock.waiters.begin(), lock.waiters.end(), task.pid) == lock.waiters.end())
                lock.waiters.push_back(task.pid);
            lock.waits += wait.count;
            lock.ns += wait.ns;
            for (const auto& [waker, tally] : wait.woken_by) lock.handovers += tally.count;
        }
    }
    for (auto& [label, lock] : locks) summary.locks.push_back(std::move(lock));
}

// A task whose ppid's thread group ended before it did was reparented by
// the kernel at that moment (to a subreaper or init; the trace does not
// say which). The group that ended is the first one with that tgid to end
// after the task's creation: the parent was alive then (a later group with
// a reused tgid cannot end first).
void Correlator::note_reparenting() {
    if (group_exits_.empty()) return;
    std::sort(group_exits_.begin(), group_exits_.end());
    for (TaskRecord& task : model_.tasks) {
        if (!task.created_ns) continue;  // the root, or first seen mid-life: its creation time is unknown
        auto ended = std::lower_bound(group_exits_.begin(), group_exits_.end(),
                                      std::make_pair(task.ppid, *task.created_ns));
        if (ended == group_exits_.end() || ended->first != task.ppid) continue;
        if (!task.exited_ns || ended->second < *task.exited_ns) task.ppid_exited_ns = ended->second;
    }
}

Result<RunModel> correlate_trace_file(const std::string& path, const std::optional<std::string>& from_exec) {
    auto reader = TraceReader::open(path);
    if (!reader) return reader.error();
    TraceMeta meta = reader->meta();
    if (from_exec) meta.from_exec = *from_exec;
    Correlator correlator(meta);
    correlator.expect_events(reader->max_events());
    for (;;) {
        auto more = reader->next(correlator.event_slot());
        if (!more) {
            if (!reader->cut_off()) return more.error();
            // Salvage: the whole records before the cut, and a run that says
            // it was cut off (its end, exit status and losses are unknown).
            TraceEnd end;
            end.interrupted = true;
            RunModel model = correlator.finish(end);
            model.run.cut_off = more.error().message();
            return model;
        }
        if (!*more) break;
        correlator.add_slot();
    }
    return correlator.finish(reader->end());
}

}  // namespace cxt
