// Decoded events: the typed, validated form of the raw records the BPF side
// writes (bpf/cxtrace_events.h). The decoder is the only code that reads raw
// event bytes; everything downstream sees these structs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "result.h"

extern "C" {
#include "cxtrace_events.h"
}

namespace cxt {

// Generated from CXT_EVENT_KINDS (bpf/cxtrace_events.h): one list for the
// kernel side, the decoder and the reports.
enum class EventKind : uint16_t {
#define CXT_KIND_ENUMERATOR(c_name, cpp_name, code, text) cpp_name = code,
    CXT_EVENT_KINDS(CXT_KIND_ENUMERATOR)
#undef CXT_KIND_ENUMERATOR
};
constexpr int kEventKindCount = CXT_EV_KIND_COUNT;  // indices 1..count-1 are used
const char* event_kind_name(EventKind kind);

enum class Syscall : uint32_t { Clone = 1, Clone3 = 2, Fork = 3, Vfork = 4, Execve = 5, Execveat = 6 };
const char* syscall_name(Syscall sc);
bool is_creation_syscall(Syscall sc);

struct SyscallEnter {
    Syscall syscall;
    uint32_t mm_id;
    uint64_t clone_flags;
};
struct SyscallExit {
    Syscall syscall;
    int64_t ret;
};
struct TaskNew {
    uint64_t clone_flags;
    uint64_t child_start_ns;
    uint32_t child_pid, child_tgid, child_ppid;
    uint32_t child_mm_id, creator_mm_id;
    std::string child_comm;
};
struct WakeupNew {
    uint32_t target_cpu;
};
struct Switch {
    uint32_t prev_pid, prev_tgid, next_pid, next_tgid;
    uint32_t prev_state;
    bool prev_tracked, next_tracked, prev_dead;
    bool prev_preempted;  // false in traces before event ABI 4 (then unknown)
    bool has_runtimes;    // false in traces of event ABI 1 and 2
    bool has_wait;        // prev_syscall and prev_lock_id were recorded (ABI 4)
    // The kernel's CPU-time clock (se.sum_exec_runtime) of each tracked side.
    uint64_t prev_runtime_ns, next_runtime_ns;
    // A tracked prev that left to wait: the system call it waits in
    // (x86-64 number; CXT_NO_SYSCALL: none), and its futex lock id (0: none).
    int32_t prev_syscall;
    uint32_t prev_lock_id;
};
struct Migrate {
    uint32_t orig_cpu, dest_cpu;
};
struct Exec {
    uint32_t old_pid;
    uint32_t mm_id;
    uint32_t argc;
    std::string comm;
    std::string filename;
    std::vector<std::string> argv;
    bool filename_truncated = false;
    bool argv_truncated = false;   // argv longer than what the kernel side captured
    uint32_t argv_bytes_total = 0; // size of argv in the new process
};
struct Exit {
    int32_t exit_code;  // kernel encoding: (status << 8) | signal
    bool group_dead;
    std::string comm;
};

struct Rename {
    std::string old_comm;
    std::string new_comm;
};

struct Wakeup {
    uint32_t waker_pid, waker_tgid;
    uint32_t target_cpu;
    bool in_interrupt;     // waker_pid just happened to be running (ABI 4; false before)
    bool context_unknown;  // whether it was in an interrupt could not be read
};

// The ids a task in a child PID namespace sees itself; the event's pid/tgid
// are the kernel's global ones.
struct PidNs {
    uint32_t ns_pid, ns_tgid, ns_ppid;
    uint32_t level;
    uint32_t ns_inum;
};

struct Event {
    EventKind kind;
    uint16_t cpu;
    uint64_t ts_ns;
    uint32_t pid;
    uint32_t tgid;
    std::variant<SyscallEnter, SyscallExit, TaskNew, WakeupNew, Switch, Migrate, Exec, Exit, Rename, Wakeup, PidNs> body;
};

// Decodes one raw event record. Checks sizes against the ABI; a record that
// does not match is an error naming what is wrong, never a crash.
Result<Event> decode_event(const uint8_t* data, size_t size);
// The same into an existing event (its storage reused): the reading loop's form.
Status decode_event_into(const uint8_t* data, size_t size, Event& event);

// The kind named by a raw record's header, if it is a known one.
std::optional<EventKind> raw_event_kind(const uint8_t* data, size_t size);

// Whether a raw record is the switch-out for the last time (TASK_DEAD) of pid.
bool raw_is_final_switch_out(const uint8_t* data, size_t size, uint32_t pid);
// The kernel timestamp of a raw event, if it is long enough to hold one.
std::optional<uint64_t> raw_event_timestamp(const uint8_t* data, size_t size);

// Size in bytes of the stored form of a raw record (from its header), or an
// error when the header is unusable. Lets the recorder copy records verbatim.
Result<size_t> raw_event_size(const uint8_t* data, size_t size);

}  // namespace cxt
