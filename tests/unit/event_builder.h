// Test helpers: raw event records built byte for byte as the BPF side
// (bpf/cxtrace.bpf.c) writes them, decoded events, and temporary trace files.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "correlator.h"
#include "event.h"
#include "model.h"
#include "trace_file.h"

extern "C" {
#include "cxtrace_events.h"
}

namespace cxt::test {

using Record = std::vector<uint8_t>;

// Clone flags as the kernel defines them (linux/sched.h), spelled out so the
// tests do not depend on the correlator's private copies.
constexpr uint64_t kSigchld = 17;
constexpr uint64_t kCloneVm = 0x00000100;
constexpr uint64_t kCloneFs = 0x00000200;
constexpr uint64_t kCloneFiles = 0x00000400;
constexpr uint64_t kCloneSighand = 0x00000800;
constexpr uint64_t kCloneVfork = 0x00004000;
constexpr uint64_t kCloneThread = 0x00010000;
constexpr uint64_t kCloneSysvsem = 0x00040000;
constexpr uint64_t kCloneSettls = 0x00080000;
constexpr uint64_t kCloneParentSettid = 0x00100000;
constexpr uint64_t kCloneChildCleartid = 0x00200000;
constexpr uint64_t kCloneChildSettid = 0x01000000;
// What glibc passes: pthread_create, fork(), vfork()/posix_spawn.
constexpr uint64_t kPthreadFlags = kCloneVm | kCloneFs | kCloneFiles | kCloneSighand | kCloneThread | kCloneSysvsem |
                                   kCloneSettls | kCloneParentSettid | kCloneChildCleartid;
constexpr uint64_t kForkFlags = kCloneChildSettid | kCloneChildCleartid | kSigchld;
constexpr uint64_t kVforkFlags = kCloneVm | kCloneVfork | kSigchld;
constexpr uint64_t kSharedVmFlags = kCloneVm | kSigchld;

constexpr uint32_t kTaskDead = 0x80;  // prev_state of a task switched out for the last time

// --- raw records ----------------------------------------------------------

Record syscall_enter(uint64_t ts, uint32_t pid, uint32_t tgid, uint16_t cpu, uint32_t syscall, uint32_t mm_id,
                     uint64_t clone_flags = 0);
Record syscall_exit(uint64_t ts, uint32_t pid, uint32_t tgid, uint16_t cpu, uint32_t syscall, int64_t ret);

struct NewTask {
    uint32_t pid = 0, tgid = 0, ppid = 0;
    uint64_t clone_flags = kForkFlags;
    uint32_t mm_id = 0;          // child's address space (kernel-side id)
    uint32_t creator_mm_id = 0;
    std::string comm = "child";
    uint64_t start_ns = 0;       // task->start_time
};
Record task_new(uint64_t ts, uint32_t creator_pid, uint32_t creator_tgid, uint16_t cpu, const NewTask& child);

Record wakeup_new(uint64_t ts, uint32_t pid, uint32_t tgid, uint16_t cpu, uint32_t target_cpu);

// sched_switch on `cpu`. pid 0 (idle) and other untracked tasks are passed as
// such: the tracked flags are computed from prev_tracked/next_tracked and the
// header names next when tracked, else prev (as the BPF side does).
struct SwitchSpec {
    uint32_t prev_pid = 0, prev_tgid = 0;
    bool prev_tracked = false;
    uint32_t next_pid = 0, next_tgid = 0;
    bool next_tracked = false;
    uint32_t prev_state = 0;  // kTaskDead sets CXT_SWITCH_PREV_DEAD when prev is tracked
    // The kernel's CPU clock (se.sum_exec_runtime) of each tracked side.
    uint64_t prev_runtime = 0, next_runtime = 0;
    bool abi2_layout = false;  // the 48-byte form of event ABI 1 and 2, without runtimes
    bool abi3_layout = false;  // the 64-byte form of event ABI 3, without what prev waits in
    bool preempted = false;    // CXT_SWITCH_PREEMPT
    // A tracked prev that left to wait: the system call it waits in
    // (x86-64 number, CXT_NO_SYSCALL for none) and its futex lock id.
    int32_t prev_syscall = 0;
    uint32_t prev_lock_id = 0;
};
Record sched_switch(uint64_t ts, uint16_t cpu, const SwitchSpec& spec);
// Common shapes: a tracked task switched in from idle / out to idle.
Record switch_in(uint64_t ts, uint16_t cpu, uint32_t pid, uint32_t tgid);
// By default the task was preempted (TASK_RUNNING): it needs no wakeup to run again.
Record switch_out(uint64_t ts, uint16_t cpu, uint32_t pid, uint32_t tgid, uint32_t prev_state = 0);
// prev (tracked, preempted) -> next (tracked) on one CPU.
Record switch_between(uint64_t ts, uint16_t cpu, uint32_t prev_pid, uint32_t prev_tgid, uint32_t next_pid,
                      uint32_t next_tgid);

// flags: CXT_WAKEUP_* (in an interrupt; context unknown).
Record wakeup(uint64_t ts, uint32_t pid, uint32_t tgid, uint16_t cpu, uint32_t waker_pid, uint32_t waker_tgid,
              uint32_t target_cpu, uint32_t flags = 0);
Record rename(uint64_t ts, uint32_t pid, uint32_t tgid, uint16_t cpu, const std::string& old_comm,
              const std::string& new_comm);
// What a task in a child PID namespace sees of its ids (sent after task_new).
Record pid_ns(uint64_t ts, uint32_t pid, uint32_t tgid, uint16_t cpu, const NamespaceIds& ids);
Record migrate(uint64_t ts, uint32_t pid, uint32_t tgid, uint16_t cpu, uint32_t orig_cpu, uint32_t dest_cpu);

struct ExecSpec {
    uint32_t old_pid = 0;  // 0: same as the event's pid
    uint32_t mm_id = 0;
    std::string comm = "prog";
    std::string filename = "/usr/bin/prog";
    std::vector<std::string> argv = {"prog"};
    std::optional<uint32_t> argc;        // default: argv.size()
    std::optional<uint32_t> args_total;  // default: bytes of argv, NULs included
    uint32_t flags = 0;                  // CXT_EXEC_*; ARGS_TRUNCATED is added when argv exceeds CXT_ARGS_LEN
};
// Stored form: CXT_EXEC_FIXED_SIZE + args_len bytes, h.size matching.
Record exec(uint64_t ts, uint32_t pid, uint32_t tgid, uint16_t cpu, const ExecSpec& spec);
// As the ring buffer hands it over: the whole reserved struct (sizeof(cxt_exec)
// bytes) with h.size naming only the used part.
Record exec_as_reserved(uint64_t ts, uint32_t pid, uint32_t tgid, uint16_t cpu, const ExecSpec& spec);

Record exit(uint64_t ts, uint32_t pid, uint32_t tgid, uint16_t cpu, int32_t exit_code, bool group_dead = true,
            const std::string& comm = "");

// Raw header access for tampering.
cxt_header header_of(const Record& record);
void set_header(Record& record, const cxt_header& header);
void set_header_size(Record& record, uint32_t size);
void set_header_kind(Record& record, uint16_t kind);

// --- decoded events -------------------------------------------------------

// Decodes a record that must be valid (fails the current test otherwise).
Event decode(const Record& record);
// Every field of an event, for equality checks and readable failures.
std::string describe(const Event& event);

// --- streams through the correlator ---------------------------------------

// A trace's metadata as the unit tests use it: tracing starts at 1 ms of
// CLOCK_MONOTONIC, the root is pid 100, launched by cxtrace as pid 99.
constexpr uint64_t kStart = 1'000'000;
constexpr uint32_t kRoot = 100;
constexpr uint32_t kLauncher = 99;
constexpr uint64_t kUs = 1'000;
constexpr uint64_t kMs = 1'000'000;
// Absolute time of `relative_ns` after tracing began.
inline uint64_t at(uint64_t relative_ns) { return kStart + relative_ns; }
TraceMeta test_meta();
// An end record at `end_ns` (absolute) with nothing lost.
TraceEnd test_end(uint64_t end_ns);

// Collects records; at(ts) helpers take times relative to kStart.
class StreamBuilder {
public:
    static uint64_t at(uint64_t relative_ns) { return kStart + relative_ns; }

    StreamBuilder& add(Record record);
    const std::vector<Record>& records() const { return records_; }
    std::vector<Event> events() const;

    // Decodes the records and feeds them to a Correlator in this order (or
    // in the order given by `order`, indices into records()).
    RunModel correlate(const TraceEnd& end, const TraceMeta& meta = test_meta()) const;
    RunModel correlate_in_order(const std::vector<size_t>& order, const TraceEnd& end,
                                const TraceMeta& meta = test_meta()) const;

private:
    std::vector<Record> records_;
};

// The start of a story several tests tell: the root (on CPU 0 from 5 us)
// execs `program` at 20 us (its mm goes from id 7 to 8), then creates
// thread 101 (mm 8, comm `thread_comm`), first on CPU 1 at 40 us.
void add_exec_and_thread(StreamBuilder& s, ExecSpec program, const std::string& thread_comm);

// The whole story the report tests render: add_exec_and_thread, then the
// thread exits (50 us); process 102 "victim" is forked, runs on CPU 1 and
// is killed by SIGKILL (80 us); process 103 "sleeper" is created and never
// runs (90 us, its creator's syscall not seen); the root leaves CPU 0 at 100 us.
StreamBuilder family_story(const ExecSpec& program, const std::string& thread_comm);

// Index of the only task with this pid (fails the test when not exactly one).
const TaskRecord& only_task(const RunModel& model, uint32_t pid);
std::vector<const TaskRecord*> tasks_with_pid(const RunModel& model, uint32_t pid);

// --- a thread's waits (event ABI 4) -----------------------------------------

constexpr uint32_t kThread = 101;
constexpr int32_t kNrRead = 0;
constexpr int32_t kNrFutex = 202;
constexpr int32_t kNrClockNanosleep = 230;
constexpr uint32_t kInterruptible = 1, kUninterruptible = 2, kStopped = 4;

// A thread of the root, "worker" (mm 5).
NewTask thread_of_root(uint32_t pid);
// A thread of the root leaving its CPU to wait in `syscall` (in state, on lock).
SwitchSpec waiting(uint32_t pid, uint32_t state, int32_t syscall, uint32_t lock);
// pid leaves `cpu` to wait, and the CPU goes idle.
Record leave_to_wait(uint64_t ts, uint16_t cpu, uint32_t pid, uint32_t state, int32_t syscall, uint32_t lock = 0);
// pid is preempted off `cpu`: it stays runnable.
Record preempted(uint64_t ts, uint16_t cpu, uint32_t pid);
Record last_switch_out(uint64_t ts, uint16_t cpu, uint32_t pid);
// The root on CPU 0 from 10 us; it creates its thread at 20 us, runnable
// from 21 us, on CPU 1 at 30 us.
void add_thread_start(StreamBuilder& s);
// The root runs on CPU 0 from 10 us to the end (300 us). Its thread:
// runnable from its wakeup_new (21 us), on CPU 1 at 30; waits on a lock
// (50-80, the root wakes it), preempted (100-120), blocked in read (130-150,
// woken from outside), asleep (170-200, woken by a timer while the root
// ran), exits at 220.
StreamBuilder thread_story();

// --- files ----------------------------------------------------------------

// A fresh directory under /tmp, removed with its contents on destruction.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::string& path() const { return path_; }
    std::string file(const std::string& name) const { return path_ + "/" + name; }

private:
    std::string path_;
};

// Writes meta + records + end with cxt::TraceWriter (fails the test on error).
void write_trace(const std::string& path, const TraceMeta& meta, const std::vector<Record>& records,
                 const TraceEnd& end);
std::vector<uint8_t> read_bytes(const std::string& path);
void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes);
bool file_exists(const std::string& path);

// Reads a whole trace. On success: the events and the end record; on failure
// the error message and how many events were read before it.
struct ReadOutcome {
    bool ok = false;
    std::string error;
    bool failed_at_open = false;
    TraceMeta meta;
    std::vector<Event> events;
    TraceEnd end;
};
ReadOutcome read_trace(const std::string& path);

}  // namespace cxt::test
