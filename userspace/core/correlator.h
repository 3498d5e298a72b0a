// The correlator turns a stream of decoded events into the run model. It
// never touches libbpf: it is fed events (live, or replayed from a trace
// file) and tested on synthetic streams.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <unordered_map>
#include <vector>

#include "event.h"
#include "model.h"
#include "pid_index.h"
#include "trace_file.h"

namespace cxt {

class Correlator {
public:
    // Events may arrive out of timestamp order by up to this much (the ring
    // buffer is shared by all CPUs); they are re-sorted within this window.
    static constexpr uint64_t kReorderWindowNs = 50'000'000;

    explicit Correlator(const TraceMeta& meta);

    // A hint that at most about `events` events will come: the interval list
    // is sized once (untouched capacity costs no memory) instead of growing
    // by copies that briefly hold it twice.
    void expect_events(uint64_t events);
    void add(Event event);
    // The reading loop's form, which moves no event: decode into
    // event_slot() (storage of an earlier event, reused), then add_slot().
    // Always in pairs: event_slot() makes room in the window, add_slot()
    // takes the slot it returned.
    Event& event_slot();
    void add_slot();
    RunModel finish(const TraceEnd& end);

private:
    // A sum kept apart while its key stays the same, added to a map only
    // when the key changes (or at the end).
    struct RunLength {
        uint32_t key = 0;
        uint64_t sum = 0;
        bool any = false;

        void add(uint32_t to_key, uint64_t amount, std::map<uint32_t, uint64_t>& into) {
            if (any && key != to_key) flush(into);
            key = to_key;
            sum += amount;
            any = true;
        }
        void flush(std::map<uint32_t, uint64_t>& into) {
            if (any) into[key] += sum;
            sum = 0;
            any = false;
        }
    };
    struct TaskState {
        std::optional<int> on_cpu;
        uint64_t on_since = 0;
        std::optional<uint32_t> last_cpu;
        std::optional<uint64_t> create_enter_ts;  // creator's syscall entry
        std::optional<uint64_t> create_return_ts; // ... and its return in the creator
        std::optional<uint32_t> creator;          // index of the task that created it
        bool ran = false;
        bool dead = false;
        // The kernel's CPU-time clock of the task when a switch event last
        // read it, and when (a switch-out: it cannot have run before).
        std::optional<uint64_t> runtime;
        uint64_t runtime_ts = 0;
        // On-CPU time and wakeups are summed here while the CPU (the waker)
        // stays the same, and only then added to the task's maps: not a
        // map lookup per interval and per wakeup.
        RunLength cpu_time;
        RunLength woken;
        // Where its time goes: the state it is in since state_since; life
        // starts when it is first made runnable or seen, and ends at its
        // last switch-out. While it waits, wait indexes its TaskRecord::waits.
        RunState run_state = RunState::Other;
        uint64_t state_since = 0;
        bool life_started = false, life_ended = false;
        std::optional<uint32_t> wait;
        StateTimes states;
        // The stretch off a CPU it is in: its slot in model_.off_cpu.
        std::optional<size_t> off;
        // The last stretch off a CPU that ended: its slot in model_.off_cpu.
        std::optional<size_t> last_off;
    };
    // Who ended a wait.
    struct WokenBy {
        WakerKind kind = WakerKind::Unknown;
        uint32_t pid = 0, task = 0;  // Traced: the waker, and its index in the model
    };
    struct PendingCreation {
        uint64_t enter_ts;
        Syscall syscall;
        std::optional<uint32_t> child;
    };

    Event& window_slot(uint64_t counter) { return window_[counter & window_mask_]; }
    void grow_window();
    void process(const Event& event);
    void on_syscall_enter(const Event& e, const SyscallEnter& body);
    void on_syscall_exit(const Event& e, const SyscallExit& body);
    void on_task_new(const Event& e, const TaskNew& body);
    void on_switch(const Event& e, const Switch& body);
    void on_exec(const Event& e, const Exec& body);
    void on_exit(const Event& e, const Exit& body);
    void on_wakeup(const Event& e, const Wakeup& body);
    // The task's state changes at ts; a wait it was in ends, ended by woken.
    void enter_state(uint32_t task, RunState next, uint64_t ts, WokenBy woken);
    void enter_state(uint32_t task, RunState next, uint64_t ts) { enter_state(task, next, ts, WokenBy()); }
    // Extends or ends the task's stretch off a CPU as it goes from its
    // current state to next at ts (enter_state's part for model_.off_cpu).
    void track_off_cpu(uint32_t task, RunState next, uint64_t ts, WokenBy woken);
    void end_off_cpu(TaskState& state, uint64_t ts);
    void leave_cpu(uint32_t task, const Switch& body, uint64_t ts);
    void finish_states(uint64_t end_ts);

    // Looked up for nearly every event: inline, with the rare case (a task
    // first seen mid-life) out of line.
    uint32_t task_for(uint32_t pid, uint32_t tgid) {
        if (const uint32_t* known = live_.find(pid)) return *known;
        return add_inferred_task(pid, tgid);
    }
    [[gnu::noinline]] uint32_t add_inferred_task(uint32_t pid, uint32_t tgid);
    uint32_t add_task(TaskRecord record);
    uint32_t mm_label(uint32_t kernel_mm_id);
    uint64_t relative(uint64_t ts);
    void switch_in(uint32_t task, uint32_t cpu, uint64_t ts);
    void switch_out(uint32_t task, uint64_t ts);
    void note_running(uint32_t task, const Event& event);
    void note_runtime(uint32_t task, uint64_t runtime, uint64_t ts);
    void recover_unseen_run(uint32_t task, uint32_t cpu, uint64_t ts, uint64_t runtime);
    // When the task, on a CPU by an inferred switch-in, could have begun
    // to run: where its runnable time before that switch-in began.
    uint64_t runnable_before_inferred_run(uint32_t task) const;
    void add_interval(uint32_t task, uint32_t cpu, uint64_t start, uint64_t end);
    void ensure_cpu(uint32_t cpu);
    void begin_phase(const Event& e, const std::string& marker);
    // Calls fn(phase, overlap_ns) for each phase [start, end) (absolute) overlaps.
    template <typename Fn>
    void for_each_phase_in(uint64_t start, uint64_t end, Fn fn);
    void count_parallelism(uint64_t from, uint64_t to, uint32_t running);
    void finish_phases();
    void count_running(uint64_t end_ts);
    void note_first_run(uint32_t task, uint32_t cpu, const Switch& body, std::optional<uint32_t> prev,
                        uint64_t prev_on_since);
    void note_reparenting();

    TraceMeta meta_;
    // The reorder window: a ring of events in the order they will be
    // processed (by ts, arrival order within equal ts), window_head_ to
    // window_tail_ (counters; the slot is counter & (size - 1)). The
    // reading loop decodes straight into the tail slot; an event older
    // than the ones before it is swapped back into place (rare: the
    // kernel's ring buffer is nearly ordered). Written and read in order,
    // the window streams through memory, which the CPU prefetches well; an
    // index of slots read a whole window later missed the cache per event.
    std::vector<Event> window_ = std::vector<Event>(1024);  // a power of two
    uint64_t window_mask_ = 1024 - 1;                       // its size - 1, kept: not a division per use
    uint64_t window_head_ = 0, window_tail_ = 0;
    uint64_t newest_ts_ = 0;
    uint64_t processed_ts_ = 0;
    uint64_t events_ = 0;

    RunModel model_;
    std::vector<TaskState> states_;                   // parallel to model_.tasks
    PidIndex live_;                                   // pid -> current task
    std::unordered_map<uint32_t, PendingCreation> creating_;  // creator pid -> its creation syscall
    std::unordered_map<uint32_t, uint32_t> mm_labels_;        // kernel mm id -> dense label
    std::vector<std::pair<uint32_t, uint64_t>> group_exits_;  // (tgid, relative ts) of each thread group's end
    std::vector<std::optional<uint32_t>> cpu_running_;        // cpu -> traced task on it
    std::vector<uint64_t> cpu_free_since_;                    // cpu -> end of its last traced interval
    std::vector<uint64_t> parallelism_ns_;  // tasks running -> time; the summary's map is filled at the end
    // Phases: model_.phases in order; their absolute start times, and the
    // running count over time within each (as parallelism_ns_ for the run).
    std::vector<uint64_t> phase_starts_;
    std::vector<std::vector<uint64_t>> phase_parallelism_;
    bool runtimes_seen_ = false;
    // Every switch so far said what a task left to wait in (event ABI 4):
    // the states can be told apart. Older traces leave them unknown.
    bool states_known_ = true;
    std::vector<StateTimes> phase_states_;                 // parallel to model_.phases
    // Each phase's CPU time by task kind (TaskKind's values), a key only
    // once a share was added: Phase::cpu_time_by_kind at the end. Not the
    // map itself: a string lookup per switch cost 8% of a report.
    struct KindTimes {
        std::array<uint64_t, kTaskKindCount> ns{};
        std::array<bool, kTaskKindCount> seen{};
    };
    std::vector<KindTimes> phase_cpu_by_kind_;             // parallel to model_.phases
    std::unordered_map<uint32_t, uint32_t> lock_labels_;   // kernel lock id -> dense label
};

// Reads a whole trace file through the correlator; from_exec, when given,
// replaces the --from-exec recorded in the trace ("": the whole run).
Result<RunModel> correlate_trace_file(const std::string& path,
                                      const std::optional<std::string>& from_exec = std::nullopt);

}  // namespace cxt
