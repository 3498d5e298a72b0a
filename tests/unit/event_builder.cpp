#include "event_builder.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <type_traits>

#include <catch2/catch.hpp>

namespace cxt::test {

namespace {

template <typename Raw>
Record to_record(const Raw& raw) {
    Record record(sizeof(Raw));
    std::memcpy(record.data(), &raw, sizeof(Raw));
    return record;
}

template <typename Raw>
Raw zeroed() {
    static_assert(std::is_trivially_copyable_v<Raw>);
    Raw raw;
    std::memset(&raw, 0, sizeof raw);
    return raw;
}

void fill_header(cxt_header& h, uint16_t kind, uint32_t size, uint64_t ts, uint32_t pid, uint32_t tgid, uint16_t cpu) {
    h.ts_ns = ts;
    h.pid = pid;
    h.tgid = tgid;
    h.kind = kind;
    h.cpu = cpu;
    h.size = size;
}

// Copies at most N bytes of s; like bpf_probe_read_kernel_str, the result is
// NUL-terminated when it fits (a string of exactly N bytes fills the array).
template <size_t N>
void copy_chars(char (&dest)[N], const std::string& s) {
    std::memset(dest, 0, N);
    std::memcpy(dest, s.data(), std::min(s.size(), N));
}

}  // namespace

Record syscall_enter(uint64_t ts, uint32_t pid, uint32_t tgid, uint16_t cpu, uint32_t syscall, uint32_t mm_id,
                     uint64_t clone_flags) {
    auto e = zeroed<cxt_syscall_enter>();
    fill_header(e.h, CXT_EV_SYSCALL_ENTER, sizeof e, ts, pid, tgid, cpu);
    e.syscall = syscall;
    e.mm_id = mm_id;
    e.clone_flags = clone_flags;
    return to_record(e);
}

Record syscall_exit(uint64_t ts, uint32_t pid, uint32_t tgid, uint16_t cpu, uint32_t syscall, int64_t ret) {
    auto e = zeroed<cxt_syscall_exit>();
    fill_header(e.h, CXT_EV_SYSCALL_EXIT, sizeof e, ts, pid, tgid, cpu);
    e.syscall = syscall;
    e.ret = ret;
    return to_record(e);
}

Record task_new(uint64_t ts, uint32_t creator_pid, uint32_t creator_tgid, uint16_t cpu, const NewTask& child) {
    auto e = zeroed<cxt_task_new>();
    fill_header(e.h, CXT_EV_TASK_NEW, sizeof e, ts, creator_pid, creator_tgid, cpu);
    e.clone_flags = child.clone_flags;
    e.child_start_ns = child.start_ns ? child.start_ns : ts;
    e.child_pid = child.pid;
    e.child_tgid = child.tgid;
    e.child_ppid = child.ppid;
    e.child_mm_id = child.mm_id;
    e.creator_mm_id = child.creator_mm_id;
    copy_chars(e.child_comm, child.comm);
    return to_record(e);
}

Record wakeup_new(uint64_t ts, uint32_t pid, uint32_t tgid, uint16_t cpu, uint32_t target_cpu) {
    auto e = zeroed<cxt_wakeup_new>();
    fill_header(e.h, CXT_EV_WAKEUP_NEW, sizeof e, ts, pid, tgid, cpu);
    e.target_cpu = target_cpu;
    return to_record(e);
}

Record sched_switch(uint64_t ts, uint16_t cpu, const SwitchSpec& spec) {
    auto e = zeroed<cxt_switch>();
    uint32_t flags = 0;
    if (spec.prev_tracked) flags |= CXT_SWITCH_PREV_TRACKED;
    if (spec.next_tracked) flags |= CXT_SWITCH_NEXT_TRACKED;
    if (spec.prev_tracked && (spec.prev_state & kTaskDead)) flags |= CXT_SWITCH_PREV_DEAD;
    if (spec.prev_tracked && spec.preempted) flags |= CXT_SWITCH_PREEMPT;
    if (spec.next_tracked)
        fill_header(e.h, CXT_EV_SWITCH, sizeof e, ts, spec.next_pid, spec.next_tgid, cpu);
    else
        fill_header(e.h, CXT_EV_SWITCH, sizeof e, ts, spec.prev_pid, spec.prev_tgid, cpu);
    e.prev_pid = spec.prev_pid;
    e.prev_tgid = spec.prev_tgid;
    e.next_pid = spec.next_pid;
    e.next_tgid = spec.next_tgid;
    e.prev_state = spec.prev_state;
    e.flags = flags;
    e.prev_runtime_ns = spec.prev_runtime;
    e.next_runtime_ns = spec.next_runtime;
    e.prev_syscall = spec.prev_syscall;
    e.prev_lock_id = spec.prev_lock_id;
    Record record = to_record(e);
    if (spec.abi2_layout || spec.abi3_layout) {
        const uint32_t size = spec.abi2_layout ? CXT_SWITCH_V2_SIZE : CXT_SWITCH_V3_SIZE;
        record.resize(size);
        set_header_size(record, size);
    }
    return record;
}

Record switch_in(uint64_t ts, uint16_t cpu, uint32_t pid, uint32_t tgid) {
    SwitchSpec spec;
    spec.next_pid = pid;
    spec.next_tgid = tgid;
    spec.next_tracked = true;
    return sched_switch(ts, cpu, spec);
}

Record switch_out(uint64_t ts, uint16_t cpu, uint32_t pid, uint32_t tgid, uint32_t prev_state) {
    SwitchSpec spec;
    spec.prev_pid = pid;
    spec.prev_tgid = tgid;
    spec.prev_tracked = true;
    spec.prev_state = prev_state;
    return sched_switch(ts, cpu, spec);
}

Record switch_between(uint64_t ts, uint16_t cpu, uint32_t prev_pid, uint32_t prev_tgid, uint32_t next_pid,
                      uint32_t next_tgid) {
    SwitchSpec spec;
    spec.prev_pid = prev_pid;
    spec.prev_tgid = prev_tgid;
    spec.prev_tracked = true;
    spec.prev_state = 0;  // preempted: it needs no wakeup to run again
    spec.next_pid = next_pid;
    spec.next_tgid = next_tgid;
    spec.next_tracked = true;
    return sched_switch(ts, cpu, spec);
}

Record migrate(uint64_t ts, uint32_t pid, uint32_t tgid, uint16_t cpu, uint32_t orig_cpu, uint32_t dest_cpu) {
    auto e = zeroed<cxt_migrate>();
    fill_header(e.h, CXT_EV_MIGRATE, sizeof e, ts, pid, tgid, cpu);
    e.orig_cpu = orig_cpu;
    e.dest_cpu = dest_cpu;
    return to_record(e);
}

Record wakeup(uint64_t ts, uint32_t pid, uint32_t tgid, uint16_t cpu, uint32_t waker_pid, uint32_t waker_tgid,
              uint32_t target_cpu, uint32_t flags) {
    auto e = zeroed<cxt_wakeup>();
    fill_header(e.h, CXT_EV_WAKEUP, sizeof e, ts, pid, tgid, cpu);
    e.waker_pid = waker_pid;
    e.waker_tgid = waker_tgid;
    e.target_cpu = target_cpu;
    e.flags = flags;
    return to_record(e);
}

Record pid_ns(uint64_t ts, uint32_t pid, uint32_t tgid, uint16_t cpu, const NamespaceIds& ids) {
    auto e = zeroed<cxt_pid_ns>();
    fill_header(e.h, CXT_EV_PID_NS, sizeof e, ts, pid, tgid, cpu);
    e.ns_pid = ids.pid;
    e.ns_tgid = ids.tgid;
    e.ns_ppid = ids.ppid;
    e.level = ids.level;
    e.ns_inum = ids.inum;
    return to_record(e);
}

Record rename(uint64_t ts, uint32_t pid, uint32_t tgid, uint16_t cpu, const std::string& old_comm,
              const std::string& new_comm) {
    auto e = zeroed<cxt_rename>();
    fill_header(e.h, CXT_EV_RENAME, sizeof e, ts, pid, tgid, cpu);
    copy_chars(e.old_comm, old_comm);
    copy_chars(e.new_comm, new_comm);
    return to_record(e);
}

namespace {

// Fills a whole cxt_exec as on_sched_process_exec does; returns it with
// h.size = CXT_EXEC_FIXED_SIZE + args_len.
std::vector<uint8_t> build_exec(uint64_t ts, uint32_t pid, uint32_t tgid, uint16_t cpu, const ExecSpec& spec) {
    std::vector<uint8_t> storage(sizeof(cxt_exec), 0);
    cxt_exec& e = *reinterpret_cast<cxt_exec*>(storage.data());

    std::string args;
    for (const std::string& arg : spec.argv) {
        args += arg;
        args.push_back('\0');
    }
    uint32_t total = spec.args_total ? *spec.args_total : static_cast<uint32_t>(args.size());
    uint32_t len = static_cast<uint32_t>(args.size());
    e.flags = spec.flags;
    if (len > CXT_ARGS_LEN) {
        len = CXT_ARGS_LEN;
        e.flags |= CXT_EXEC_ARGS_TRUNCATED;
    }
    if (spec.flags & CXT_EXEC_ARGS_UNREADABLE) len = 0;

    e.old_pid = spec.old_pid ? spec.old_pid : pid;
    e.mm_id = spec.mm_id;
    e.argc = spec.argc ? *spec.argc : static_cast<uint32_t>(spec.argv.size());
    e.args_total = total;
    e.args_len = len;
    copy_chars(e.comm, spec.comm);
    copy_chars(e.filename, spec.filename);
    // bpf_probe_read_kernel_str: bytes copied including the NUL, the whole
    // buffer when the name does not fit.
    size_t copied = std::min(spec.filename.size() + 1, sizeof e.filename);
    if (copied == sizeof e.filename) {
        e.filename[sizeof e.filename - 1] = '\0';
        e.flags |= CXT_EXEC_FILENAME_TRUNCATED;
    }
    e.filename_len = static_cast<uint32_t>(copied);
    std::memcpy(e.args, args.data(), len);
    fill_header(e.h, CXT_EV_EXEC, static_cast<uint32_t>(CXT_EXEC_FIXED_SIZE + len), ts, pid, tgid, cpu);
    return storage;
}

}  // namespace

Record exec(uint64_t ts, uint32_t pid, uint32_t tgid, uint16_t cpu, const ExecSpec& spec) {
    Record record = build_exec(ts, pid, tgid, cpu, spec);
    record.resize(header_of(record).size);
    return record;
}

Record exec_as_reserved(uint64_t ts, uint32_t pid, uint32_t tgid, uint16_t cpu, const ExecSpec& spec) {
    return build_exec(ts, pid, tgid, cpu, spec);
}

Record exit(uint64_t ts, uint32_t pid, uint32_t tgid, uint16_t cpu, int32_t exit_code, bool group_dead,
            const std::string& comm) {
    auto e = zeroed<cxt_exit>();
    fill_header(e.h, CXT_EV_EXIT, sizeof e, ts, pid, tgid, cpu);
    e.exit_code = exit_code;
    e.group_dead = group_dead ? 1 : 0;
    copy_chars(e.comm, comm);
    return to_record(e);
}

cxt_header header_of(const Record& record) {
    REQUIRE(record.size() >= sizeof(cxt_header));
    cxt_header h;
    std::memcpy(&h, record.data(), sizeof h);
    return h;
}

void set_header(Record& record, const cxt_header& header) {
    REQUIRE(record.size() >= sizeof(cxt_header));
    std::memcpy(record.data(), &header, sizeof header);
}

void set_header_size(Record& record, uint32_t size) {
    cxt_header h = header_of(record);
    h.size = size;
    set_header(record, h);
}

void set_header_kind(Record& record, uint16_t kind) {
    cxt_header h = header_of(record);
    h.kind = kind;
    set_header(record, h);
}

Event decode(const Record& record) {
    auto event = decode_event(record.data(), record.size());
    INFO("decode_event: " << (event ? std::string("ok") : event.error().what));
    REQUIRE(event.ok());
    return std::move(event).value();
}

namespace {

std::string quoted(const std::string& s) {
    std::string out = "\"";
    for (unsigned char c : s) {
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
            out.push_back(static_cast<char>(c));
        } else {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
        }
    }
    return out + "\"";
}

}  // namespace

std::string describe(const Event& event) {
    std::ostringstream out;
    out << event_kind_name(event.kind) << " ts=" << event.ts_ns << " pid=" << event.pid << " tgid=" << event.tgid
        << " cpu=" << event.cpu << " {";
    std::visit(
        [&](const auto& b) {
            using Body = std::decay_t<decltype(b)>;
            if constexpr (std::is_same_v<Body, SyscallEnter>) {
                out << "syscall=" << syscall_name(b.syscall) << " mm_id=" << b.mm_id << " clone_flags=" << b.clone_flags;
            } else if constexpr (std::is_same_v<Body, SyscallExit>) {
                out << "syscall=" << syscall_name(b.syscall) << " ret=" << b.ret;
            } else if constexpr (std::is_same_v<Body, TaskNew>) {
                out << "clone_flags=" << b.clone_flags << " child_start_ns=" << b.child_start_ns
                    << " child_pid=" << b.child_pid << " child_tgid=" << b.child_tgid << " child_ppid=" << b.child_ppid
                    << " child_mm_id=" << b.child_mm_id << " creator_mm_id=" << b.creator_mm_id
                    << " child_comm=" << quoted(b.child_comm);
            } else if constexpr (std::is_same_v<Body, WakeupNew>) {
                out << "target_cpu=" << b.target_cpu;
            } else if constexpr (std::is_same_v<Body, Switch>) {
                out << "prev=" << b.prev_pid << "/" << b.prev_tgid << " next=" << b.next_pid << "/" << b.next_tgid
                    << " prev_state=" << b.prev_state << " prev_tracked=" << b.prev_tracked
                    << " next_tracked=" << b.next_tracked << " prev_dead=" << b.prev_dead
                    << " prev_preempted=" << b.prev_preempted << " has_runtimes=" << b.has_runtimes
                    << " prev_runtime_ns=" << b.prev_runtime_ns << " next_runtime_ns=" << b.next_runtime_ns
                    << " has_wait=" << b.has_wait << " prev_syscall=" << b.prev_syscall
                    << " prev_lock_id=" << b.prev_lock_id;
            } else if constexpr (std::is_same_v<Body, Migrate>) {
                out << "orig_cpu=" << b.orig_cpu << " dest_cpu=" << b.dest_cpu;
            } else if constexpr (std::is_same_v<Body, Exec>) {
                out << "old_pid=" << b.old_pid << " mm_id=" << b.mm_id << " argc=" << b.argc
                    << " comm=" << quoted(b.comm) << " filename=" << quoted(b.filename) << " argv=[";
                for (const std::string& arg : b.argv) out << quoted(arg) << ",";
                out << "] filename_truncated=" << b.filename_truncated << " argv_truncated=" << b.argv_truncated
                    << " argv_bytes_total=" << b.argv_bytes_total;
            } else if constexpr (std::is_same_v<Body, Exit>) {
                out << "exit_code=" << b.exit_code << " group_dead=" << b.group_dead << " comm=" << quoted(b.comm);
            } else if constexpr (std::is_same_v<Body, Wakeup>) {
                out << "waker_pid=" << b.waker_pid << " waker_tgid=" << b.waker_tgid << " target_cpu=" << b.target_cpu
                    << " in_interrupt=" << b.in_interrupt << " context_unknown=" << b.context_unknown;
            } else if constexpr (std::is_same_v<Body, Rename>) {
                out << "old_comm=" << quoted(b.old_comm) << " new_comm=" << quoted(b.new_comm);
            } else if constexpr (std::is_same_v<Body, PidNs>) {
                out << "ns_pid=" << b.ns_pid << " ns_tgid=" << b.ns_tgid << " ns_ppid=" << b.ns_ppid
                    << " level=" << b.level << " ns_inum=" << b.ns_inum;
            }
        },
        event.body);
    out << "}";
    return out.str();
}

TraceMeta test_meta() {
    TraceMeta meta;
    meta.workload = "unit-test";
    meta.command = {"unit-test", "-n", "2"};
    meta.started_at = "2024-01-02T03:04:05Z";
    meta.cpus = 4;
    meta.kernel = "6.1.0-test";
    meta.root_pid = kRoot;
    meta.launcher_pid = kLauncher;
    meta.trace_start_ns = kStart;
    meta.ring_buffer_bytes = 1 << 20;
    return meta;
}

TraceEnd test_end(uint64_t end_ns) {
    TraceEnd end;
    end.trace_end_ns = end_ns;
    end.exit_code = 0;
    return end;
}

StreamBuilder& StreamBuilder::add(Record record) {
    records_.push_back(std::move(record));
    return *this;
}

std::vector<Event> StreamBuilder::events() const {
    std::vector<Event> out;
    out.reserve(records_.size());
    for (const Record& record : records_) out.push_back(decode(record));
    return out;
}

RunModel StreamBuilder::correlate(const TraceEnd& end, const TraceMeta& meta) const {
    std::vector<size_t> order(records_.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    return correlate_in_order(order, end, meta);
}

RunModel StreamBuilder::correlate_in_order(const std::vector<size_t>& order, const TraceEnd& end,
                                           const TraceMeta& meta) const {
    REQUIRE(order.size() == records_.size());
    Correlator correlator(meta);
    for (size_t index : order) correlator.add(decode(records_.at(index)));
    return correlator.finish(end);
}

std::vector<const TaskRecord*> tasks_with_pid(const RunModel& model, uint32_t pid) {
    std::vector<const TaskRecord*> out;
    for (const TaskRecord& task : model.tasks)
        if (task.pid == pid) out.push_back(&task);
    return out;
}

const TaskRecord& only_task(const RunModel& model, uint32_t pid) {
    auto found = tasks_with_pid(model, pid);
    INFO("tasks with pid " << pid);
    REQUIRE(found.size() == 1);
    return *found.front();
}

TempDir::TempDir() {
    char pattern[] = "/tmp/cxtrace-unit-XXXXXX";
    char* made = mkdtemp(pattern);
    REQUIRE(made != nullptr);
    path_ = made;
}

TempDir::~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
}

void write_trace(const std::string& path, const TraceMeta& meta, const std::vector<Record>& records,
                 const TraceEnd& end) {
    auto writer = TraceWriter::create(path, meta);
    INFO("TraceWriter::create: " << (writer ? std::string("ok") : writer.error().message()));
    REQUIRE(writer.ok());
    for (const Record& record : records) {
        Status appended = writer->append_raw(record.data(), record.size());
        INFO("append_raw: " << (appended ? std::string("ok") : appended.error().message()));
        REQUIRE(appended.ok());
    }
    Status finished = writer->finish(end);
    INFO("finish: " << (finished ? std::string("ok") : finished.error().message()));
    REQUIRE(finished.ok());
}

std::vector<uint8_t> read_bytes(const std::string& path) {
    std::FILE* file = std::fopen(path.c_str(), "rb");
    REQUIRE(file != nullptr);
    std::vector<uint8_t> bytes;
    uint8_t buf[4096];
    size_t got;
    while ((got = std::fread(buf, 1, sizeof buf, file)) > 0) bytes.insert(bytes.end(), buf, buf + got);
    std::fclose(file);
    return bytes;
}

void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
    std::FILE* file = std::fopen(path.c_str(), "wb");
    REQUIRE(file != nullptr);
    REQUIRE(std::fwrite(bytes.data(), 1, bytes.size(), file) == bytes.size());
    REQUIRE(std::fclose(file) == 0);
}

bool file_exists(const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0;
}

ReadOutcome read_trace(const std::string& path) {
    ReadOutcome outcome;
    auto reader = TraceReader::open(path);
    if (!reader) {
        outcome.error = reader.error().message();
        outcome.failed_at_open = true;
        return outcome;
    }
    outcome.meta = reader->meta();
    // Bounded: a reader that never ends is a failure too.
    for (size_t guard = 0; guard < 1'000'000; ++guard) {
        auto next = reader->next();
        if (!next) {
            outcome.error = next.error().message();
            return outcome;
        }
        if (!*next) {
            outcome.ok = true;
            outcome.end = reader->end();
            return outcome;
        }
        outcome.events.push_back(std::move(**next));
    }
    outcome.error = "reader did not stop";
    return outcome;
}

void add_exec_and_thread(StreamBuilder& s, ExecSpec program, const std::string& thread_comm) {
    s.add(switch_in(at(5 * kUs), 0, kRoot, kRoot));
    s.add(syscall_enter(at(10 * kUs), kRoot, kRoot, 0, CXT_SYS_EXECVE, 7));
    program.mm_id = 8;
    s.add(exec(at(20 * kUs), kRoot, kRoot, 0, program));
    s.add(syscall_exit(at(21 * kUs), kRoot, kRoot, 0, CXT_SYS_EXECVE, 0));

    NewTask thread;
    thread.pid = 101;
    thread.tgid = kRoot;
    thread.ppid = kLauncher;
    thread.clone_flags = kPthreadFlags;
    thread.mm_id = 8;
    thread.creator_mm_id = 8;
    thread.comm = thread_comm;
    s.add(syscall_enter(at(30 * kUs), kRoot, kRoot, 0, CXT_SYS_CLONE3, 8));
    s.add(task_new(at(31 * kUs), kRoot, kRoot, 0, thread));
    s.add(wakeup_new(at(32 * kUs), 101, kRoot, 0, 1));
    s.add(syscall_exit(at(33 * kUs), kRoot, kRoot, 0, CXT_SYS_CLONE3, 101));
    s.add(switch_in(at(40 * kUs), 1, 101, kRoot));
}

StreamBuilder family_story(const ExecSpec& program, const std::string& thread_comm) {
    StreamBuilder s;
    add_exec_and_thread(s, program, thread_comm);
    s.add(exit(at(50 * kUs), 101, kRoot, 1, 0, false, thread_comm));
    s.add(switch_out(at(60 * kUs), 1, 101, kRoot, kTaskDead));

    NewTask proc;
    proc.pid = 102;
    proc.tgid = 102;
    proc.ppid = kRoot;
    proc.clone_flags = kForkFlags;
    proc.mm_id = 9;
    proc.creator_mm_id = 8;
    proc.comm = "victim";
    s.add(syscall_enter(at(70 * kUs), kRoot, kRoot, 0, CXT_SYS_CLONE, 8, kForkFlags));
    s.add(task_new(at(71 * kUs), kRoot, kRoot, 0, proc));
    s.add(syscall_exit(at(73 * kUs), kRoot, kRoot, 0, CXT_SYS_CLONE, 102));
    s.add(switch_in(at(75 * kUs), 1, 102, 102));
    s.add(exit(at(80 * kUs), 102, 102, 1, 9, true, "victim"));  // SIGKILL
    s.add(switch_out(at(85 * kUs), 1, 102, 102, kTaskDead));

    proc.pid = 103;
    proc.tgid = 103;
    proc.mm_id = 10;
    proc.comm = "sleeper";
    s.add(task_new(at(90 * kUs), kRoot, kRoot, 0, proc));

    s.add(switch_out(at(100 * kUs), 0, kRoot, kRoot));
    return s;
}

NewTask thread_of_root(uint32_t pid) {
    NewTask child;
    child.pid = pid;
    child.tgid = kRoot;
    child.ppid = kLauncher;
    child.clone_flags = kPthreadFlags;
    child.mm_id = child.creator_mm_id = 5;
    child.comm = "worker";
    return child;
}

SwitchSpec waiting(uint32_t pid, uint32_t state, int32_t syscall, uint32_t lock) {
    SwitchSpec spec;
    spec.prev_pid = pid;
    spec.prev_tgid = kRoot;
    spec.prev_tracked = true;
    spec.prev_state = state;
    spec.prev_syscall = syscall;
    spec.prev_lock_id = lock;
    return spec;
}

Record leave_to_wait(uint64_t ts, uint16_t cpu, uint32_t pid, uint32_t state, int32_t syscall, uint32_t lock) {
    return sched_switch(ts, cpu, waiting(pid, state, syscall, lock));
}

Record preempted(uint64_t ts, uint16_t cpu, uint32_t pid) {
    SwitchSpec spec = waiting(pid, kInterruptible, 0, 0);  // about to wait, but preempted first: still runnable
    spec.preempted = true;
    return sched_switch(ts, cpu, spec);
}

Record last_switch_out(uint64_t ts, uint16_t cpu, uint32_t pid) {
    return leave_to_wait(ts, cpu, pid, kTaskDead, CXT_NO_SYSCALL);
}

void add_thread_start(StreamBuilder& s) {
    s.add(switch_in(at(10 * kUs), 0, kRoot, kRoot));
    s.add(task_new(at(20 * kUs), kRoot, kRoot, 0, thread_of_root(kThread)));
    s.add(wakeup_new(at(21 * kUs), kThread, kRoot, 0, 1));
    s.add(switch_in(at(30 * kUs), 1, kThread, kRoot));
}

StreamBuilder thread_story() {
    StreamBuilder s;
    add_thread_start(s);
    s.add(leave_to_wait(at(50 * kUs), 1, kThread, kInterruptible, kNrFutex, 7));
    s.add(wakeup(at(80 * kUs), kThread, kRoot, 0, kRoot, kRoot, 1));
    s.add(switch_in(at(90 * kUs), 1, kThread, kRoot));
    s.add(preempted(at(100 * kUs), 1, kThread));
    s.add(switch_in(at(120 * kUs), 1, kThread, kRoot));
    s.add(leave_to_wait(at(130 * kUs), 1, kThread, kUninterruptible, kNrRead));
    s.add(wakeup(at(150 * kUs), kThread, kRoot, 1, 0, 0, 1));
    s.add(switch_in(at(160 * kUs), 1, kThread, kRoot));
    s.add(leave_to_wait(at(170 * kUs), 1, kThread, kInterruptible, kNrClockNanosleep));
    s.add(wakeup(at(200 * kUs), kThread, kRoot, 0, kRoot, kRoot, 1, CXT_WAKEUP_IN_INTERRUPT));
    s.add(switch_in(at(210 * kUs), 1, kThread, kRoot));
    s.add(exit(at(215 * kUs), kThread, kRoot, 1, 0, false));
    s.add(last_switch_out(at(220 * kUs), 1, kThread));
    return s;
}

}  // namespace cxt::test
