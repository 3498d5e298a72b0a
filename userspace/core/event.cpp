#include "event.h"

#include <cstddef>
#include <cstring>
#include <string>
#include <type_traits>

namespace cxt {

static_assert(static_cast<uint32_t>(Syscall::Execveat) == CXT_SYS_EXECVEAT);
// Codes are consecutive from 1: kinds index arrays of kEventKindCount.
#define CXT_KIND_ONE(c_name, cpp_name, code, text) +1
static_assert(CXT_EV_KIND_COUNT == 1 CXT_EVENT_KINDS(CXT_KIND_ONE));
#undef CXT_KIND_ONE

const char* event_kind_name(EventKind kind) {
    switch (kind) {
#define CXT_KIND_NAME(c_name, cpp_name, code, text) \
    case EventKind::cpp_name: return text;
        CXT_EVENT_KINDS(CXT_KIND_NAME)
#undef CXT_KIND_NAME
    }
    return "unknown";
}

const char* syscall_name(Syscall sc) {
    switch (sc) {
        case Syscall::Clone: return "clone";
        case Syscall::Clone3: return "clone3";
        case Syscall::Fork: return "fork";
        case Syscall::Vfork: return "vfork";
        case Syscall::Execve: return "execve";
        case Syscall::Execveat: return "execveat";
    }
    return "unknown";
}

bool is_creation_syscall(Syscall sc) {
    return sc == Syscall::Clone || sc == Syscall::Clone3 || sc == Syscall::Fork || sc == Syscall::Vfork;
}

namespace {

// A fixed-size char array from the kernel, cut at its first NUL.
template <size_t N>
std::string bounded_string(const char (&chars)[N]) {
    return std::string(chars, strnlen(chars, N));
}

// Sets the event's body. When the event (reused storage) already holds this
// kind, it is assigned in place: no destroying and constructing through
// the variant.
template <typename Body>
void set_body(Event& event, Body&& body) {
    using Kind = std::decay_t<Body>;
    if (Kind* same = std::get_if<Kind>(&event.body)) *same = std::forward<Body>(body);
    else event.body.emplace<Kind>(std::forward<Body>(body));
}

// The event's body as a Kind, to be filled in field by field: the one it
// holds if it is one (reused storage), else a new one. A braced temporary
// copied in was stored as narrow writes and reloaded as 16-byte ones, a
// store-forwarding stall per event.
template <typename Kind>
Kind& body_as(Event& event) {
    if (Kind* same = std::get_if<Kind>(&event.body)) return *same;
    return event.body.emplace<Kind>();
}

// The record as its fixed-size struct; false when the size is not that
// struct's. No Status here: building and destroying one (with its string)
// per event showed in profiles.
template <typename Raw>
bool read_fixed(const uint8_t* data, size_t size, Raw& raw) {
    if (size != sizeof(Raw)) return false;
    std::memcpy(&raw, data, sizeof(Raw));
    return true;
}

// One field of a raw record, read straight from the record's bytes. The
// hot fixed-size kinds are decoded this way: copied whole to the stack
// first, the struct was reloaded by GCC with 16-byte loads straddling two
// of its stores, a store-forwarding stall per event.
template <typename Field>
Field field_at(const uint8_t* data, size_t offset) {
    Field value;
    std::memcpy(&value, data + offset, sizeof value);
    return value;
}
#define CXT_RAW_FIELD(Raw, name) field_at<decltype(Raw::name)>(data, offsetof(Raw, name))

Error wrong_size(const char* name, size_t size, size_t expected) {
    return Error{std::string(name) + " event has " + std::to_string(size) + " bytes, expected " +
                 std::to_string(expected)};
}

bool known_syscall(uint32_t code) { return code >= CXT_SYS_CLONE && code <= CXT_SYS_EXECVEAT; }

Error unknown_syscall(uint32_t code) { return Error{"unknown syscall code " + std::to_string(code)}; }

Result<Exec> decode_exec(const uint8_t* data, size_t size) {
    if (size < CXT_EXEC_FIXED_SIZE) return Error{"exec event shorter than its fixed part"};
    cxt_exec raw;  // large: fine on the stack of a decoder call
    std::memcpy(&raw, data, CXT_EXEC_FIXED_SIZE);
    if (raw.args_len > CXT_ARGS_LEN || CXT_EXEC_FIXED_SIZE + raw.args_len != size)
        return Error{"exec event argv length " + std::to_string(raw.args_len) + " does not match its size " +
                     std::to_string(size)};
    if (raw.filename_len > CXT_FILENAME_LEN) return Error{"exec event filename length out of range"};

    Exec exec;
    exec.old_pid = raw.old_pid;
    exec.mm_id = raw.mm_id;
    exec.argc = raw.argc;
    exec.comm = bounded_string(raw.comm);
    exec.filename = bounded_string(raw.filename);
    exec.filename_truncated = raw.flags & CXT_EXEC_FILENAME_TRUNCATED;
    exec.argv_bytes_total = raw.args_total;
    exec.argv_truncated = (raw.flags & (CXT_EXEC_ARGS_TRUNCATED | CXT_EXEC_ARGS_UNREADABLE)) != 0;

    const char* args = reinterpret_cast<const char*>(data + CXT_EXEC_FIXED_SIZE);
    size_t pos = 0;
    while (pos < raw.args_len) {
        size_t len = strnlen(args + pos, raw.args_len - pos);
        exec.argv.emplace_back(args + pos, len);
        pos += len + 1;
    }
    // Fewer strings than argc means the capture was cut (or argv was
    // rewritten by the program before we read it): say so.
    if (exec.argv.size() < exec.argc) exec.argv_truncated = true;
    return exec;
}

}  // namespace

std::optional<EventKind> raw_event_kind(const uint8_t* data, size_t size) {
    if (size < sizeof(cxt_header)) return std::nullopt;
    cxt_header header;
    std::memcpy(&header, data, sizeof header);
    if (header.kind < CXT_EV_SYSCALL_ENTER || header.kind >= CXT_EV_KIND_COUNT) return std::nullopt;
    return static_cast<EventKind>(header.kind);
}

bool raw_is_final_switch_out(const uint8_t* data, size_t size, uint32_t pid) {
    if (size != sizeof(cxt_switch) && size != CXT_SWITCH_V3_SIZE && size != CXT_SWITCH_V2_SIZE) return false;
    cxt_switch raw{};
    std::memcpy(&raw, data, size);
    return raw.h.kind == CXT_EV_SWITCH && raw.prev_pid == pid && (raw.flags & CXT_SWITCH_PREV_DEAD) != 0;
}

std::optional<uint64_t> raw_event_timestamp(const uint8_t* data, size_t size) {
    if (size < sizeof(cxt_header)) return std::nullopt;
    cxt_header header;
    std::memcpy(&header, data, sizeof header);
    return header.ts_ns;
}

Result<size_t> raw_event_size(const uint8_t* data, size_t size) {
    if (size < sizeof(cxt_header))
        return Error{"event of " + std::to_string(size) + " bytes is shorter than its header"};
    cxt_header header;
    std::memcpy(&header, data, sizeof header);
    if (header.size < sizeof(cxt_header) || header.size > size)
        return Error{"event header claims " + std::to_string(header.size) + " bytes, record has " +
                     std::to_string(size)};
    return static_cast<size_t>(header.size);
}

Status decode_event_into(const uint8_t* data, size_t size, Event& event) {
    cxt_header header;
    if (size < sizeof header) return raw_event_size(data, size).error();
    std::memcpy(&header, data, sizeof header);
    if (header.size != size)
        return Error{"event header claims " + std::to_string(header.size) + " bytes, record has " +
                     std::to_string(size)};

    event.kind = static_cast<EventKind>(header.kind);
    event.cpu = header.cpu;
    event.ts_ns = header.ts_ns;
    event.pid = header.pid;
    event.tgid = header.tgid;

    switch (header.kind) {
        case CXT_EV_SYSCALL_ENTER: {
            if (size != sizeof(cxt_syscall_enter))
                return wrong_size("syscall_enter", size, sizeof(cxt_syscall_enter));
            const uint32_t code = CXT_RAW_FIELD(cxt_syscall_enter, syscall);
            if (!known_syscall(code)) return unknown_syscall(code);
            SyscallEnter& body = body_as<SyscallEnter>(event);
            body.syscall = static_cast<Syscall>(code);
            body.mm_id = CXT_RAW_FIELD(cxt_syscall_enter, mm_id);
            body.clone_flags = CXT_RAW_FIELD(cxt_syscall_enter, clone_flags);
            return Status::success();
        }
        case CXT_EV_SYSCALL_EXIT: {
            if (size != sizeof(cxt_syscall_exit)) return wrong_size("syscall_exit", size, sizeof(cxt_syscall_exit));
            const uint32_t code = CXT_RAW_FIELD(cxt_syscall_exit, syscall);
            if (!known_syscall(code)) return unknown_syscall(code);
            SyscallExit& body = body_as<SyscallExit>(event);
            body.syscall = static_cast<Syscall>(code);
            body.ret = CXT_RAW_FIELD(cxt_syscall_exit, ret);
            return Status::success();
        }
        case CXT_EV_TASK_NEW: {
            cxt_task_new raw;
            if (!read_fixed(data, size, raw)) return wrong_size("task_new", size, sizeof raw);
            set_body(event, TaskNew{raw.clone_flags, raw.child_start_ns, raw.child_pid, raw.child_tgid,
                                    raw.child_ppid, raw.child_mm_id, raw.creator_mm_id,
                                    bounded_string(raw.child_comm)});
            return Status::success();
        }
        case CXT_EV_WAKEUP_NEW: {
            if (size != sizeof(cxt_wakeup_new)) return wrong_size("wakeup_new", size, sizeof(cxt_wakeup_new));
            body_as<WakeupNew>(event).target_cpu = CXT_RAW_FIELD(cxt_wakeup_new, target_cpu);
            return Status::success();
        }
        case CXT_EV_SWITCH: {
            const bool has_wait = size == sizeof(cxt_switch);
            const bool has_runtimes = has_wait || size == CXT_SWITCH_V3_SIZE;
            if (!has_runtimes && size != CXT_SWITCH_V2_SIZE) return wrong_size("switch", size, sizeof(cxt_switch));
            const uint32_t flags = CXT_RAW_FIELD(cxt_switch, flags);
            Switch& body = body_as<Switch>(event);
            body.prev_pid = CXT_RAW_FIELD(cxt_switch, prev_pid);
            body.prev_tgid = CXT_RAW_FIELD(cxt_switch, prev_tgid);
            body.next_pid = CXT_RAW_FIELD(cxt_switch, next_pid);
            body.next_tgid = CXT_RAW_FIELD(cxt_switch, next_tgid);
            body.prev_state = CXT_RAW_FIELD(cxt_switch, prev_state);
            body.prev_tracked = (flags & CXT_SWITCH_PREV_TRACKED) != 0;
            body.next_tracked = (flags & CXT_SWITCH_NEXT_TRACKED) != 0;
            body.prev_dead = (flags & CXT_SWITCH_PREV_DEAD) != 0;
            body.has_runtimes = has_runtimes;
            body.prev_runtime_ns = has_runtimes ? CXT_RAW_FIELD(cxt_switch, prev_runtime_ns) : 0;
            body.next_runtime_ns = has_runtimes ? CXT_RAW_FIELD(cxt_switch, next_runtime_ns) : 0;
            body.prev_preempted = (flags & CXT_SWITCH_PREEMPT) != 0;
            body.has_wait = has_wait;
            body.prev_syscall = has_wait ? CXT_RAW_FIELD(cxt_switch, prev_syscall) : 0;
            body.prev_lock_id = has_wait ? CXT_RAW_FIELD(cxt_switch, prev_lock_id) : 0;
            return Status::success();
        }
        case CXT_EV_MIGRATE: {
            if (size != sizeof(cxt_migrate)) return wrong_size("migrate", size, sizeof(cxt_migrate));
            Migrate& body = body_as<Migrate>(event);
            body.orig_cpu = CXT_RAW_FIELD(cxt_migrate, orig_cpu);
            body.dest_cpu = CXT_RAW_FIELD(cxt_migrate, dest_cpu);
            return Status::success();
        }
        case CXT_EV_EXEC: {
            auto exec = decode_exec(data, size);
            if (!exec) return exec.error();
            set_body(event, std::move(*exec));
            return Status::success();
        }
        case CXT_EV_EXIT: {
            cxt_exit raw;
            if (!read_fixed(data, size, raw)) return wrong_size("exit", size, sizeof raw);
            set_body(event, Exit{raw.exit_code, raw.group_dead != 0, bounded_string(raw.comm)});
            return Status::success();
        }
        case CXT_EV_RENAME: {
            cxt_rename raw;
            if (!read_fixed(data, size, raw)) return wrong_size("rename", size, sizeof raw);
            set_body(event, Rename{bounded_string(raw.old_comm), bounded_string(raw.new_comm)});
            return Status::success();
        }
        case CXT_EV_WAKEUP: {
            if (size != sizeof(cxt_wakeup)) return wrong_size("wakeup", size, sizeof(cxt_wakeup));
            Wakeup& body = body_as<Wakeup>(event);
            body.waker_pid = CXT_RAW_FIELD(cxt_wakeup, waker_pid);
            body.waker_tgid = CXT_RAW_FIELD(cxt_wakeup, waker_tgid);
            body.target_cpu = CXT_RAW_FIELD(cxt_wakeup, target_cpu);
            const uint32_t flags = CXT_RAW_FIELD(cxt_wakeup, flags);
            body.in_interrupt = (flags & CXT_WAKEUP_IN_INTERRUPT) != 0;
            body.context_unknown = (flags & CXT_WAKEUP_CONTEXT_UNKNOWN) != 0;
            return Status::success();
        }
        case CXT_EV_PID_NS: {
            if (size != sizeof(cxt_pid_ns)) return wrong_size("pid_ns", size, sizeof(cxt_pid_ns));
            PidNs& body = body_as<PidNs>(event);
            body.ns_pid = CXT_RAW_FIELD(cxt_pid_ns, ns_pid);
            body.ns_tgid = CXT_RAW_FIELD(cxt_pid_ns, ns_tgid);
            body.ns_ppid = CXT_RAW_FIELD(cxt_pid_ns, ns_ppid);
            body.level = CXT_RAW_FIELD(cxt_pid_ns, level);
            body.ns_inum = CXT_RAW_FIELD(cxt_pid_ns, ns_inum);
            return Status::success();
        }
        default:
            return Error{"unknown event kind " + std::to_string(header.kind)};
    }
}

#undef CXT_RAW_FIELD

Result<Event> decode_event(const uint8_t* data, size_t size) {
    Event event;
    if (Status decoded = decode_event_into(data, size, event); !decoded) return decoded.error();
    return event;
}

}  // namespace cxt
