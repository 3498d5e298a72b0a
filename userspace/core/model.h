// The run model: what the correlator concluded from one trace. Renderers
// (reports/) read only this; they never see events or the kernel.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "captured_output.h"
#include "trace_limit.h"

namespace cxt {

enum class TaskKind { Root, Process, Thread, Vfork, SharedVm };
constexpr size_t kTaskKindCount = 5;
static_assert(static_cast<size_t>(TaskKind::SharedVm) + 1 == kTaskKindCount, "one count per kind");
const char* task_kind_name(TaskKind kind);
// Kind of a task created with these clone flags (DESIGN.md definitions).
TaskKind kind_from_clone_flags(uint64_t clone_flags);

struct ExecRecord {
    uint64_t ts_ns = 0;  // relative to trace start
    std::string filename;
    std::vector<std::string> argv;
    uint32_t argc = 0;
    bool argv_truncated = false;
    bool filename_truncated = false;
    uint32_t mm = 0;          // dense per-run address-space number (mm<N>)
    uint32_t pid_before = 0;  // differs from the task's pid when a non-leader thread exec'd
    std::string comm;         // the task's name after this exec
};

struct CommChange {
    uint64_t ts_ns = 0;  // relative to trace start
    std::string comm;    // the new name
};

struct Latency {
    std::optional<uint64_t> syscall;    // creator enters clone.. -> returns in the creator
    std::optional<uint64_t> first_run;  // creator enters clone.. -> new task first switched in
};

// What the CPU a new task first ran on was doing just before (the switch
// that brought it in): what its wait for a CPU was spent behind.
enum class RanAfter { Unknown, Idle, Creator, TracedTask, UntracedTask };
const char* ran_after_name(RanAfter after);

// Where a new task was when it first ran, to explain its first_run latency.
struct FirstRunContext {
    std::optional<uint32_t> cpu;          // the CPU it first ran on
    std::optional<uint32_t> creator_cpu;  // where its creator's creation syscall returned
    RanAfter after = RanAfter::Unknown;
    // Its creator ran on that CPU from the syscall's return until the
    // switch that brought the new task in: the new task waited behind it.
    bool creator_kept_cpu = false;
};

// What a task in a child PID namespace sees of its own ids (getpid() inside
// a container); the TaskRecord's pid/tgid/ppid are the initial namespace's.
struct NamespaceIds {
    uint32_t pid = 0, tgid = 0, ppid = 0;  // ppid 0: the parent is outside the namespace
    uint32_t level = 0;                    // nesting depth below the initial namespace
    uint32_t inum = 0;                     // the namespace's inode number (/proc/PID/ns/pid)
};

// What a task was doing at each moment of its traced life: exactly one of
// these (DESIGN.md, "where the time went").
enum class RunState : uint8_t { Running, Runnable, Sleeping, Blocked, Other };
constexpr size_t kRunStateCount = 5;
const char* run_state_name(RunState state);  // "running", "runnable", ...

// Time in each RunState; over a task's traced life they sum to its length.
struct StateTimes {
    std::array<uint64_t, kRunStateCount> ns{};
    uint64_t& operator[](RunState state) { return ns[static_cast<size_t>(state)]; }
    uint64_t operator[](RunState state) const { return ns[static_cast<size_t>(state)]; }
    uint64_t total() const;
    StateTimes& operator+=(const StateTimes& other);
};

// Who ended a wait: a traced task, something outside the trace (another
// program, an interrupt, a timer), or not known (no wakeup was seen, or the
// waker's context was unreadable).
enum class WakerKind : uint8_t { Unknown, Outside, Traced };

// Waits ended by one waker (or one kind of waker): how many, how long in all.
struct WakerTally {
    uint64_t count = 0, ns = 0;
    void add(uint64_t waited) { ++count, ns += waited; }
};

// A task's waits off a CPU in one state, in one system call, on one lock.
struct WaitRecord {
    RunState state = RunState::Sleeping;  // Sleeping, Blocked or Other
    int32_t syscall = -1;                 // x86-64 number; -1: not in a system call
    uint32_t lock = 0;                    // futex waits: the run's lock label (lock<N>); 0: none
    uint64_t count = 0, ns = 0;
    std::map<uint32_t, WakerTally> woken_by;  // traced waker pid -> its share
    WakerTally outside;  // woken from outside the trace: another program, an interrupt, a timer
    // Who ended it is not known: no wakeup was seen (it ended with a
    // switch-in, or the trace's end), or the waker's context was unreadable.
    WakerTally unknown;
};

struct TaskRecord {
    uint32_t pid = 0, tgid = 0, parent_pid = 0;
    uint32_t ppid = 0;  // what getppid() returned when the task was created
    // When the thread group named by ppid exited while this task lived
    // (inferred from the traced exits): the kernel then reparented it (to a
    // subreaper or init; the trace does not say which), so getppid() no
    // longer returns ppid.
    std::optional<uint64_t> ppid_exited_ns;
    std::string comm;
    TaskKind kind = TaskKind::Process;
    uint32_t mm = 0;                       // 0: never learned
    std::optional<uint64_t> created_ns;    // relative to trace start
    std::optional<uint64_t> exited_ns;
    std::optional<int> exit_code;
    std::optional<int> exit_signal;
    bool core_dumped = false;
    Latency latency;
    FirstRunContext first_run_context;
    std::optional<uint32_t> wakeup_cpu;
    uint64_t oncpu_ns = 0;                 // wall time between its switch-in and switch-out events
    // The kernel's own CPU-time clock (se.sum_exec_runtime, what
    // CLOCK_THREAD_CPUTIME_ID reads in the task) at its last switch-out:
    // all its CPU time since it was created, without interrupt or steal
    // time. Unknown in traces from before event ABI 3.
    std::optional<uint64_t> cpu_time_ns;
    // On-CPU time the switch events did not show but the kernel's clock
    // did: a switch-out came without the switch-in before it. Placed on
    // the timeline just before that switch-out, as long as the clock says
    // (recovered), or not placeable anywhere (unplaced).
    uint64_t recovered_oncpu_ns = 0;
    uint64_t unplaced_cpu_ns = 0;
    uint32_t repairs = 0;                  // places the correlator inferred or repaired something about it
    std::map<uint32_t, uint64_t> cpu_ns;   // cpu -> on-CPU time
    uint32_t migrations = 0;
    uint32_t migrate_events = 0;           // sched_migrate_task seen for this task
    uint32_t switches_in = 0;
    uint64_t wakeups = 0;                     // times it was made runnable
    std::map<uint32_t, uint64_t> woken_by;    // waker pid (traced tasks only) -> times
    // Where its time went from when it was first made runnable (or first
    // seen) to its last switch-out (or the trace's end). Unknown in traces
    // from before event ABI 4.
    std::optional<StateTimes> states;
    std::vector<WaitRecord> waits;
    uint64_t voluntary_switches = 0;    // left a CPU to wait (the kernel's nvcsw)
    uint64_t involuntary_switches = 0;  // preempted (nivcsw)
    std::vector<ExecRecord> execs;
    std::vector<CommChange> renames;  // every comm change, exec's included
    uint64_t clone_flags = 0;
    std::string creation_syscall;          // "clone", "clone3", ... or "" when unseen
    bool inferred = false;                 // first seen mid-life (its creation was not traced)
    std::optional<NamespaceIds> pid_ns;    // set when it lives in a child PID namespace
    bool launcher = false;                 // the command's launcher, outside the lesson (lesson.h)
};

struct OnCpuInterval {
    uint32_t task;  // index into RunModel::tasks
    uint32_t cpu;
    uint64_t start_ns, end_ns;  // relative to trace start
};

// A stretch of a task's traced life off a CPU (traces of event ABI 4 on):
// in `state` from start_ns until woken_ns, then runnable until end_ns. A
// stretch runnable throughout (preempted, or new and not yet run) has
// state Runnable and woken_ns == start_ns; a wait that ended unseen (the
// trace's end) has woken_ns == end_ns.
struct OffCpuInterval {
    static constexpr uint32_t kNoWait = ~uint32_t{0};
    uint32_t task;       // index into RunModel::tasks
    uint32_t wait;       // index into the task's waits; kNoWait: none (runnable, or other with no wait)
    uint32_t waker_task;  // WakerKind::Traced: who ended the wait (index into RunModel::tasks)
    RunState state;
    WakerKind waker;
    uint64_t start_ns, woken_ns, end_ns;  // relative to trace start
};

struct LatencyStats {
    uint64_t count = 0, min = 0, p50 = 0, p90 = 0, max = 0;
};

// Things the correlator found surprising. Counted and reported, never
// fatal. X(name, repair, what): repair says whether the correlator had to
// guess or repair something for it (which makes the run approximate);
// events only put back in order, or a wakeup it did not use, are not.
// report.json's "anomalies" and Anomalies::total() come from this list.
#define CXT_ANOMALIES(X)                                                                                      \
    X(reordered_events, false, "arrived with a timestamp earlier than their predecessor")                   \
    X(late_events, true, "arrived later than the reorder window allows: processed out of order")                     \
    X(unknown_tasks, true, "events for a task whose creation was not seen")                                 \
    X(pid_reused_before_exit, true, "a new task took a pid whose exit was not seen")                         \
    X(switch_out_not_running, true, "switched out a task not known to be on that CPU")                       \
    X(switch_in_over_running, true, "switched in while another traced task was on that CPU")                 \
    X(events_before_start, true, "timestamps before tracing began (clamped)")                                \
    X(unmatched_syscall_exits, true, "creation syscall returned without a recorded entry")                   \
    X(inferred_switch_ins, true, "a task acted on a CPU it was not seen switched in to")                     \
    X(recovered_intervals, true, "on-CPU intervals placed from the kernel's CPU clock")                      \
    X(unplaced_cpu, true, "CPU time the clock showed that could not be placed")                              \
    X(wakeups_not_sleeping, false, "a wakeup of a task already running or runnable: counted, not used")      \
    X(switch_ins_without_wakeup, true, "a sleeping task switched in with no wakeup seen: its waker unknown")   \
    X(wakers_unknown, false, "a wakeup whose waker could not be known (its sched_waking unseen, or its context unreadable)")

struct Anomalies {
#define CXT_ANOMALY_FIELD(name, repair, what) uint64_t name = 0;
    CXT_ANOMALIES(CXT_ANOMALY_FIELD)
#undef CXT_ANOMALY_FIELD
    // Not counts: totals of the time involved, for the report's wording.
    uint64_t recovered_oncpu_ns = 0;
    uint64_t unplaced_cpu_ns = 0;

    uint64_t total() const;    // the counts above, not the times
    uint64_t repairs() const;  // the counts of things guessed or repaired
};

// The part of a run the figures cover (lesson.h): with --from-exec NAME,
// from the first exec of NAME on, that task and what it created after.
struct Lesson {
    std::string from_exec;        // NAME; "" when the whole run is the lesson
    bool matched = false;         // an exec of NAME was seen (else the figures cover the whole run)
    uint64_t start_ns = 0;        // that exec, relative to trace start
    uint32_t task = 0;            // index of the task that exec'd it
    uint32_t exec = 0;            // index of that exec in the task's execs
    uint64_t launcher_tasks = 0;  // tasks left out of the figures
};

// Seen without --from-exec: the command exec'd another program after running
// other processes first (a shell wrapper or version-manager shim).
struct LauncherHint {
    std::string program;                  // basename of the program the root exec'd last
    uint64_t tasks_before = 0;            // tasks it created before that exec
    std::map<std::string, uint64_t> comms;  // their names -> how many
};

struct RunInfo {
    std::string workload;
    std::vector<std::string> command;
    std::string started_at;
    uint64_t duration_ns = 0;
    int cpus = 0;
    std::string kernel;
    uint64_t events = 0;
    uint64_t lost_events = 0;
    std::map<std::string, uint64_t> lost_by_kind;
    bool interrupted = false;
    bool left_running = false;  // interrupted, the command left running untraced
    bool losses_unknown = false;  // the kernel's loss counters could not be read
    // A limit (--max-trace-size, --duration) ended the tracing before the
    // command ended: what came after is not in the trace.
    std::optional<TraceLimit> limit;
    // The trace file ends early (a run killed before it finished writing):
    // what it says, the report covering the whole records before the cut.
    std::optional<std::string> cut_off;
    bool complete = true;
    // The correlator had to infer or repair something (see Anomalies and
    // TaskRecord::repairs): figures that depend on exact switch times are
    // approximate for the tasks named there.
    bool approximate = false;
    std::optional<int> exit_code;
    std::optional<int> exit_signal;
    uint32_t root_pid = 0;
    Lesson lesson;
    std::optional<LauncherHint> launcher_hint;
    std::optional<CapturedOutput> output;  // what the command wrote (--capture-output)
};

// A futex word waited on by traced tasks: a lock, a condition or a join.
struct LockRecord {
    uint32_t label = 0;  // lock<label>
    uint32_t tgid = 0;   // the process whose address space holds it (a shared one gets a label per process)
    std::vector<uint32_t> waiters;  // pids of the tasks that waited on it, in task order
    uint64_t waits = 0, ns = 0;
    uint64_t handovers = 0;  // waits ended by a traced task's wakeup
};

struct Summary {
    uint64_t tasks = 0;
    uint64_t processes = 0;       // thread groups (distinct tgids)
    uint64_t threads = 0;         // tasks created with CLONE_THREAD
    uint64_t address_spaces = 0;  // distinct mm ids, exec'd ones included
    std::map<std::string, LatencyStats> first_run_latency;  // by kind
    std::map<std::string, LatencyStats> syscall_latency;    // by kind
    uint32_t max_parallelism = 0;
    std::map<uint32_t, uint64_t> parallelism_ns;  // n traced tasks on CPU -> time
    uint64_t context_switches = 0;  // switch-ins of traced tasks
    uint64_t migrations = 0;
    std::map<std::string, StateTimes> states_by_kind;  // empty when states are unknown
    std::vector<LockRecord> locks;                     // by label
};

// A phase: a named span of the run, begun by a marker the program sets by
// renaming one of its tasks to "@name" (prctl(PR_SET_NAME), a write to
// /proc/self/comm, pthread_setname_np). It lasts until the next marker or
// the end of the trace. A run without markers is one phase.
constexpr char kPhaseMarker = '@';
bool is_phase_marker(const std::string& comm);

struct Phase {
    std::string name;
    uint64_t start_ns = 0, end_ns = 0;  // relative to trace start
    uint32_t marked_by = 0;             // pid of the task that set the marker; 0 for none
    std::map<std::string, uint64_t> created;                // kind -> tasks created in the phase
    std::map<std::string, LatencyStats> first_run_latency;  // by kind, tasks created in the phase
    std::map<std::string, LatencyStats> syscall_latency;
    uint64_t oncpu_ns = 0;    // traced tasks' on-CPU time within the phase
    std::optional<uint64_t> cpu_time_ns;  // the kernel's CPU clock, summed (ABI 3 traces)
    std::map<std::string, uint64_t> cpu_time_by_kind;
    uint32_t max_parallelism = 0;
    std::map<uint32_t, uint64_t> parallelism_ns;  // n traced tasks on CPU -> time
    std::optional<StateTimes> states;  // the traced tasks' states within the phase
};

struct RunModel {
    RunInfo run;
    std::vector<TaskRecord> tasks;  // in order of creation; the root first
    std::vector<OnCpuInterval> intervals;
    std::vector<OffCpuInterval> off_cpu;  // in the order they began; empty when states are unknown
    std::vector<Phase> phases;  // in time order, covering the whole run
    Summary summary;
    Anomalies anomalies;
};

// The address space a task ran in at ts (relative to trace start): the
// one it was created with, or its latest exec's by then.
uint32_t mm_at(const TaskRecord& task, uint64_t ts);

// The summary's states by kind and its locks, from the lesson's tasks.
void summarize_states(RunModel& model);

// Nearest-rank percentile of sorted values (p in 0..100).
uint64_t percentile_of_sorted(const std::vector<uint64_t>& sorted, double p);
LatencyStats latency_stats(std::vector<uint64_t> values);

}  // namespace cxt
