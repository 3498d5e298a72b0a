// The correlator turns a stream of decoded events into the run model. It
// never touches libbpf: it is fed events (live, or replayed from a trace
// file) and tested on synthetic streams.
#pragma once

#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include "event.h"
#include "model.h"
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
    RunModel finish(const TraceEnd& end);

private:
    struct TaskState {
        std::optional<int> on_cpu;
        uint64_t on_since = 0;
        std::optional<uint32_t> last_cpu;
        std::optional<uint64_t> create_enter_ts;  // creator's syscall entry
        bool ran = false;
        bool dead = false;
    };
    struct PendingCreation {
        uint64_t enter_ts;
        Syscall syscall;
        std::optional<uint32_t> child;
    };

    void process(const Event& event);
    void on_syscall_enter(const Event& e, const SyscallEnter& body);
    void on_syscall_exit(const Event& e, const SyscallExit& body);
    void on_task_new(const Event& e, const TaskNew& body);
    void on_switch(const Event& e, const Switch& body);
    void on_exec(const Event& e, const Exec& body);
    void on_exit(const Event& e, const Exit& body);

    uint32_t task_for(uint32_t pid, uint32_t tgid);
    uint32_t add_task(TaskRecord record);
    uint32_t mm_label(uint32_t kernel_mm_id);
    uint64_t relative(uint64_t ts);
    void advance_parallelism(uint64_t ts);
    void switch_in(uint32_t task, uint32_t cpu, uint64_t ts);
    void switch_out(uint32_t task, uint64_t ts);
    void note_running(uint32_t task, const Event& event);

    TraceMeta meta_;
    // Sorted by ts, arrival order within equal ts, from reorder_head_ on: a
    // vector consumed from the front (a deque of events this size
    // allocates every few events).
    std::vector<Event> reorder_;
    size_t reorder_head_ = 0;
    uint64_t newest_ts_ = 0;
    uint64_t processed_ts_ = 0;
    uint64_t events_ = 0;

    RunModel model_;
    std::vector<TaskState> states_;                   // parallel to model_.tasks
    std::unordered_map<uint32_t, uint32_t> live_;     // pid -> current task
    std::unordered_map<uint32_t, PendingCreation> creating_;  // creator pid -> its creation syscall
    std::unordered_map<uint32_t, uint32_t> mm_labels_;        // kernel mm id -> dense label
    std::vector<std::optional<uint32_t>> cpu_running_;        // cpu -> traced task on it
    uint32_t running_ = 0;
    uint64_t parallelism_since_ = 0;
};

// Reads a whole trace file through the correlator.
Result<RunModel> correlate_trace_file(const std::string& path);

}  // namespace cxt
