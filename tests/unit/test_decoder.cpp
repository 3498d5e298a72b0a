// The decoder: raw records as the BPF side writes them -> typed events, and
// every malformed record -> an error naming the problem.
#include <catch2/catch.hpp>

#include <cstring>
#include <string>
#include <type_traits>
#include <variant>

#include "event.h"
#include "event_builder.h"

using namespace cxt;
using namespace cxt::test;
using Catch::Matchers::Contains;

namespace {

std::string decode_error(const Record& record) {
    auto event = decode_event(record.data(), record.size());
    if (event) return "";
    return event.error().what;
}

void check_header(const Event& e, EventKind kind, uint64_t ts, uint32_t pid, uint32_t tgid, uint16_t cpu) {
    CHECK(e.kind == kind);
    CHECK(e.ts_ns == ts);
    CHECK(e.pid == pid);
    CHECK(e.tgid == tgid);
    CHECK(e.cpu == cpu);
}

}  // namespace

TEST_CASE("each event kind decodes with the fields the BPF side wrote", "[decoder]") {
    SECTION("syscall_enter") {
        Event e = decode(syscall_enter(123'456'789'012ull, 4242, 4240, 3, CXT_SYS_CLONE, 77, kPthreadFlags));
        check_header(e, EventKind::SyscallEnter, 123'456'789'012ull, 4242, 4240, 3);
        const auto* body = std::get_if<SyscallEnter>(&e.body);
        REQUIRE(body);
        CHECK(body->syscall == Syscall::Clone);
        CHECK(body->mm_id == 77);
        CHECK(body->clone_flags == kPthreadFlags);
    }
    SECTION("syscall_enter of every creation and exec syscall") {
        auto [code, expected, creation] = GENERATE(table<uint32_t, Syscall, bool>({
            {CXT_SYS_CLONE, Syscall::Clone, true},
            {CXT_SYS_CLONE3, Syscall::Clone3, true},
            {CXT_SYS_FORK, Syscall::Fork, true},
            {CXT_SYS_VFORK, Syscall::Vfork, true},
            {CXT_SYS_EXECVE, Syscall::Execve, false},
            {CXT_SYS_EXECVEAT, Syscall::Execveat, false},
        }));
        Event e = decode(syscall_enter(10, 1, 1, 0, code, 1));
        REQUIRE(std::get_if<SyscallEnter>(&e.body));
        CHECK(std::get<SyscallEnter>(e.body).syscall == expected);
        CHECK(is_creation_syscall(expected) == creation);
    }
    SECTION("syscall_exit keeps a negative return value") {
        Event e = decode(syscall_exit(55, 7, 7, 1, CXT_SYS_VFORK, -11));
        check_header(e, EventKind::SyscallExit, 55, 7, 7, 1);
        const auto* body = std::get_if<SyscallExit>(&e.body);
        REQUIRE(body);
        CHECK(body->syscall == Syscall::Vfork);
        CHECK(body->ret == -11);
    }
    SECTION("syscall_exit with a pid return value") {
        Event e = decode(syscall_exit(56, 7, 7, 1, CXT_SYS_CLONE3, 31337));
        CHECK(std::get<SyscallExit>(e.body).syscall == Syscall::Clone3);
        CHECK(std::get<SyscallExit>(e.body).ret == 31337);
    }
    SECTION("task_new") {
        NewTask child;
        child.pid = 501;
        child.tgid = 500;
        child.ppid = 99;
        child.clone_flags = kPthreadFlags;
        child.mm_id = 12;
        child.creator_mm_id = 12;
        child.comm = "worker";
        child.start_ns = 987'654'321;
        Event e = decode(task_new(1'000, 500, 500, 2, child));
        check_header(e, EventKind::TaskNew, 1'000, 500, 500, 2);
        const auto* body = std::get_if<TaskNew>(&e.body);
        REQUIRE(body);
        CHECK(body->clone_flags == kPthreadFlags);
        CHECK(body->child_start_ns == 987'654'321);
        CHECK(body->child_pid == 501);
        CHECK(body->child_tgid == 500);
        CHECK(body->child_ppid == 99);
        CHECK(body->child_mm_id == 12);
        CHECK(body->creator_mm_id == 12);
        CHECK(body->child_comm == "worker");
    }
    SECTION("a comm filling all 16 bytes without a NUL is cut at 16, not overread") {
        NewTask child;
        child.pid = 2;
        child.tgid = 2;
        child.comm = "0123456789abcdefEXTRA";  // copy_chars keeps 16 bytes, no NUL
        Event e = decode(task_new(1, 1, 1, 0, child));
        CHECK(std::get<TaskNew>(e.body).child_comm == "0123456789abcdef");
    }
    SECTION("wakeup_new") {
        Event e = decode(wakeup_new(77, 300, 300, 1, 3));
        check_header(e, EventKind::WakeupNew, 77, 300, 300, 1);
        REQUIRE(std::get_if<WakeupNew>(&e.body));
        CHECK(std::get<WakeupNew>(e.body).target_cpu == 3);
    }
    SECTION("switch: flags become booleans, header names the tracked next task") {
        SwitchSpec spec;
        spec.prev_pid = 11;
        spec.prev_tgid = 10;
        spec.prev_tracked = true;
        spec.prev_state = kTaskDead;
        spec.next_pid = 21;
        spec.next_tgid = 20;
        spec.next_tracked = true;
        Event e = decode(sched_switch(900, 3, spec));
        check_header(e, EventKind::Switch, 900, 21, 20, 3);
        const auto* body = std::get_if<Switch>(&e.body);
        REQUIRE(body);
        CHECK(body->prev_pid == 11);
        CHECK(body->prev_tgid == 10);
        CHECK(body->next_pid == 21);
        CHECK(body->next_tgid == 20);
        CHECK(body->prev_state == kTaskDead);
        CHECK(body->prev_tracked);
        CHECK(body->next_tracked);
        CHECK(body->prev_dead);
    }
    SECTION("switch: each flag on its own") {
        Event in = decode(switch_in(5, 0, 42, 42));
        CHECK_FALSE(std::get<Switch>(in.body).prev_tracked);
        CHECK(std::get<Switch>(in.body).next_tracked);
        CHECK_FALSE(std::get<Switch>(in.body).prev_dead);
        CHECK(in.pid == 42);

        Event out = decode(switch_out(6, 0, 42, 42));
        CHECK(std::get<Switch>(out.body).prev_tracked);
        CHECK_FALSE(std::get<Switch>(out.body).next_tracked);
        CHECK_FALSE(std::get<Switch>(out.body).prev_dead);
        CHECK(out.pid == 42);  // header names prev when next is untracked

        Event dead = decode(switch_out(7, 0, 42, 42, kTaskDead));
        CHECK(std::get<Switch>(dead.body).prev_dead);
    }
    SECTION("migrate") {
        Event e = decode(migrate(31, 8, 8, 0, 0, 3));
        check_header(e, EventKind::Migrate, 31, 8, 8, 0);
        REQUIRE(std::get_if<Migrate>(&e.body));
        CHECK(std::get<Migrate>(e.body).orig_cpu == 0);
        CHECK(std::get<Migrate>(e.body).dest_cpu == 3);
    }
    SECTION("exec") {
        ExecSpec spec;
        spec.mm_id = 9;
        spec.comm = "ls";
        spec.filename = "/bin/ls";
        spec.argv = {"ls", "-l", "/tmp"};
        Event e = decode(exec(4'000, 600, 600, 1, spec));
        check_header(e, EventKind::Exec, 4'000, 600, 600, 1);
        const auto* body = std::get_if<Exec>(&e.body);
        REQUIRE(body);
        CHECK(body->old_pid == 600);
        CHECK(body->mm_id == 9);
        CHECK(body->argc == 3);
        CHECK(body->comm == "ls");
        CHECK(body->filename == "/bin/ls");
        CHECK(body->argv == std::vector<std::string>{"ls", "-l", "/tmp"});
        CHECK(body->argv_bytes_total == 3 + 3 + 5);
        CHECK_FALSE(body->argv_truncated);
        CHECK_FALSE(body->filename_truncated);
    }
    SECTION("exec by a non-leader thread keeps old_pid") {
        ExecSpec spec;
        spec.old_pid = 603;
        Event e = decode(exec(4'000, 600, 600, 1, spec));
        CHECK(std::get<Exec>(e.body).old_pid == 603);
        CHECK(e.pid == 600);
    }
    SECTION("exit") {
        Event e = decode(exit(8'000, 700, 699, 2, (3 << 8), false, "worker"));
        check_header(e, EventKind::Exit, 8'000, 700, 699, 2);
        const auto* body = std::get_if<Exit>(&e.body);
        REQUIRE(body);
        CHECK(body->exit_code == (3 << 8));
        CHECK_FALSE(body->group_dead);
        CHECK(body->comm == "worker");
        CHECK(std::get<Exit>(decode(exit(1, 1, 1, 0, 9, true)).body).group_dead);
    }
}

TEST_CASE("raw_event_kind names the kind of a raw record, if known", "[decoder]") {
    CHECK(raw_event_kind(switch_in(1, 0, 1, 1).data(), 48) == std::optional<EventKind>(EventKind::Switch));
    Record record = exit(1, 1, 1, 0, 0);
    CHECK(raw_event_kind(record.data(), record.size()) == std::optional<EventKind>(EventKind::Exit));
    CHECK_FALSE(raw_event_kind(record.data(), 23).has_value());
    auto kind = GENERATE(as<uint16_t>{}, 0, CXT_EV_KIND_COUNT, 0xffff);
    set_header_kind(record, kind);
    CHECK_FALSE(raw_event_kind(record.data(), record.size()).has_value());
}

TEST_CASE("event kind and syscall names", "[decoder]") {
    CHECK(std::string(event_kind_name(EventKind::SyscallEnter)) == "syscall_enter");
    CHECK(std::string(event_kind_name(EventKind::Switch)) == "switch");
    CHECK(std::string(event_kind_name(EventKind::Exit)) == "exit");
    CHECK(std::string(syscall_name(Syscall::Clone3)) == "clone3");
    CHECK(std::string(syscall_name(Syscall::Vfork)) == "vfork");
    CHECK(std::string(syscall_name(Syscall::Execveat)) == "execveat");
}

TEST_CASE("a fixed-size event of the wrong size is rejected", "[decoder]") {
    auto [name, record] = GENERATE(table<std::string, Record>({
        {"syscall_enter", syscall_enter(1, 1, 1, 0, CXT_SYS_FORK, 1)},
        {"syscall_exit", syscall_exit(1, 1, 1, 0, CXT_SYS_FORK, 2)},
        {"task_new", task_new(1, 1, 1, 0, NewTask{})},
        {"wakeup_new", wakeup_new(1, 1, 1, 0, 0)},
        {"switch", switch_in(1, 0, 1, 1)},
        {"migrate", migrate(1, 1, 1, 0, 0, 1)},
        {"exit", exit(1, 1, 1, 0, 0)},
    }));
    const size_t right = record.size();
    auto delta = GENERATE(-8, -1, 1, 8);
    INFO(name << " record of " << right << " bytes resized by " << delta);

    // A switch 8 bytes short is event ABI 3's layout, which still reads (tested apart).
    if (name == "switch" && right + delta == CXT_SWITCH_V3_SIZE) return;
    Record wrong = record;
    wrong.resize(right + delta, 0);
    set_header_size(wrong, static_cast<uint32_t>(wrong.size()));  // header and record agree: only the size is wrong
    std::string error = decode_error(wrong);
    CHECK_THAT(error, Contains(name));
    CHECK_THAT(error, Contains(std::to_string(wrong.size()) + " bytes"));
    CHECK_THAT(error, Contains("expected " + std::to_string(right)));

    SECTION("a header-only record is rejected too") {
        Record header_only(record.begin(), record.begin() + sizeof(cxt_header));
        set_header_size(header_only, sizeof(cxt_header));
        CHECK_THAT(decode_error(header_only), Contains("expected " + std::to_string(right)));
    }
}

TEST_CASE("records whose header does not fit are rejected", "[decoder]") {
    Record good = syscall_enter(1, 1, 1, 0, CXT_SYS_CLONE, 1);

    SECTION("shorter than a header") {
        auto size = GENERATE(as<size_t>{}, 0, 1, 8, 23);
        Record tiny(good.begin(), good.begin() + size);
        auto event = decode_event(tiny.data(), tiny.size());
        REQUIRE_FALSE(event.ok());
        CHECK_THAT(event.error().what, Contains("shorter than its header"));
        CHECK_FALSE(raw_event_size(tiny.data(), tiny.size()).ok());
    }
    SECTION("null data with size 0") {
        auto event = decode_event(nullptr, 0);
        CHECK_FALSE(event.ok());
    }
    SECTION("header size larger than the record") {
        auto claimed = GENERATE(as<uint32_t>{}, 41, 48, 4096, 0xffffffffu);
        Record bad = good;
        set_header_size(bad, claimed);
        auto event = decode_event(bad.data(), bad.size());
        REQUIRE_FALSE(event.ok());
        CHECK_THAT(event.error().what, Contains("claims " + std::to_string(claimed)));
        CHECK_THAT(event.error().what, Contains("record has 40"));
        CHECK_FALSE(raw_event_size(bad.data(), bad.size()).ok());
    }
    SECTION("header size smaller than a header") {
        auto claimed = GENERATE(as<uint32_t>{}, 0, 1, 23);
        Record bad = good;
        set_header_size(bad, claimed);
        CHECK_FALSE(decode_event(bad.data(), bad.size()).ok());
        CHECK_FALSE(raw_event_size(bad.data(), bad.size()).ok());
    }
    SECTION("header size smaller than the record") {
        Record bad = good;
        bad.resize(48, 0);  // header still says 40
        auto event = decode_event(bad.data(), bad.size());
        REQUIRE_FALSE(event.ok());
        CHECK_THAT(event.error().what, Contains("claims 40"));
        // ...which the recorder accepts: it stores only the 40 bytes the header names.
        auto stored = raw_event_size(bad.data(), bad.size());
        REQUIRE(stored.ok());
        CHECK(*stored == 40);
    }
}

TEST_CASE("unknown event kinds are rejected by number", "[decoder]") {
    auto kind = GENERATE(as<uint16_t>{}, 0, CXT_EV_KIND_COUNT, CXT_EV_KIND_COUNT + 1, 200, 0xffff);
    Record record = syscall_enter(1, 1, 1, 0, CXT_SYS_CLONE, 1);
    set_header_kind(record, kind);
    auto event = decode_event(record.data(), record.size());
    REQUIRE_FALSE(event.ok());
    CHECK_THAT(event.error().what, Contains("unknown event kind " + std::to_string(kind)));
}

TEST_CASE("unknown syscall codes are rejected", "[decoder]") {
    auto code = GENERATE(as<uint32_t>{}, 0, 7, 56, 0xffffffffu);
    SECTION("in syscall_enter") {
        Record record = syscall_enter(1, 1, 1, 0, code, 1);
        auto event = decode_event(record.data(), record.size());
        REQUIRE_FALSE(event.ok());
        CHECK_THAT(event.error().what, Contains("unknown syscall code " + std::to_string(code)));
    }
    SECTION("in syscall_exit") {
        Record record = syscall_exit(1, 1, 1, 0, code, 0);
        auto event = decode_event(record.data(), record.size());
        REQUIRE_FALSE(event.ok());
        CHECK_THAT(event.error().what, Contains("unknown syscall code " + std::to_string(code)));
    }
}

TEST_CASE("exec argv is split into its NUL-terminated strings", "[decoder]") {
    ExecSpec spec;
    auto argv = GENERATE(values<std::vector<std::string>>({
        {"prog"},
        {"/bin/sh", "-c", "echo \"hi there\"; exit 3"},
        {"prog", "", "after-empty"},
        {"", ""},
        {"tab\there", "new\nline", "utf8-\xc3\xa9"},
    }));
    spec.argv = argv;
    Event e = decode(exec(1, 5, 5, 0, spec));
    const Exec& body = std::get<Exec>(e.body);
    CHECK(body.argv == argv);
    CHECK(body.argc == argv.size());
    CHECK_FALSE(body.argv_truncated);
}

TEST_CASE("exec argv truncation is reported", "[decoder]") {
    ExecSpec spec;
    spec.argv = {"prog", "a", "b"};

    SECTION("no truncation: argc strings captured") {
        CHECK_FALSE(std::get<Exec>(decode(exec(1, 5, 5, 0, spec)).body).argv_truncated);
    }
    SECTION("the kernel side flagged CXT_EXEC_ARGS_TRUNCATED") {
        spec.flags = CXT_EXEC_ARGS_TRUNCATED;
        spec.args_total = 10'000;
        const Exec body = std::get<Exec>(decode(exec(1, 5, 5, 0, spec)).body);
        CHECK(body.argv_truncated);
        CHECK(body.argv_bytes_total == 10'000);
        CHECK(body.argv == spec.argv);  // what was captured is kept
    }
    SECTION("argv longer than CXT_ARGS_LEN is cut at CXT_ARGS_LEN and flagged") {
        spec.argv = {"prog", std::string(5000, 'x')};
        Record record = exec(1, 5, 5, 0, spec);
        CHECK(record.size() == CXT_EXEC_FIXED_SIZE + CXT_ARGS_LEN);
        const Exec body = std::get<Exec>(decode(record).body);
        CHECK(body.argv_truncated);
        REQUIRE(body.argv.size() == 2);
        CHECK(body.argv[1] == std::string(CXT_ARGS_LEN - 5, 'x'));  // the cut last string, no overread
        CHECK(body.argv_bytes_total == 5 + 5001);
    }
    SECTION("argv unreadable: no strings, flagged") {
        spec.flags = CXT_EXEC_ARGS_UNREADABLE;
        const Exec body = std::get<Exec>(decode(exec(1, 5, 5, 0, spec)).body);
        CHECK(body.argv_truncated);
        CHECK(body.argv.empty());
    }
    SECTION("fewer strings than argc") {
        spec.argc = 5;
        const Exec body = std::get<Exec>(decode(exec(1, 5, 5, 0, spec)).body);
        CHECK(body.argv_truncated);
        CHECK(body.argc == 5);
        CHECK(body.argv.size() == 3);
    }
    SECTION("filename longer than CXT_FILENAME_LEN") {
        spec.filename = "/" + std::string(400, 'd');
        const Exec body = std::get<Exec>(decode(exec(1, 5, 5, 0, spec)).body);
        CHECK(body.filename_truncated);
        CHECK(body.filename == spec.filename.substr(0, CXT_FILENAME_LEN - 1));
    }
}

TEST_CASE("exec stored size must be CXT_EXEC_FIXED_SIZE + args_len", "[decoder]") {
    ExecSpec spec;
    spec.argv = {"prog", "arg"};  // 9 bytes
    Record good = exec(1, 5, 5, 0, spec);
    REQUIRE(good.size() == CXT_EXEC_FIXED_SIZE + 9);
    REQUIRE(header_of(good).size == good.size());

    auto set_args_len = [](Record& record, uint32_t len) {
        std::memcpy(record.data() + offsetof(cxt_exec, args_len), &len, sizeof len);
    };
    auto set_filename_len = [](Record& record, uint32_t len) {
        std::memcpy(record.data() + offsetof(cxt_exec, filename_len), &len, sizeof len);
    };

    SECTION("one byte more than args_len") {
        Record bad = good;
        bad.push_back(0);
        set_header_size(bad, static_cast<uint32_t>(bad.size()));
        CHECK_THAT(decode_error(bad), Contains("argv length 9") && Contains(std::to_string(bad.size())));
    }
    SECTION("args_len larger than what is stored") {
        Record bad = good;
        set_args_len(bad, 10);
        CHECK_THAT(decode_error(bad), Contains("argv length 10"));
    }
    SECTION("args_len beyond CXT_ARGS_LEN, even when the size would agree") {
        Record bad = good;
        bad.resize(CXT_EXEC_FIXED_SIZE + CXT_ARGS_LEN + 8, 0);
        set_header_size(bad, static_cast<uint32_t>(bad.size()));
        set_args_len(bad, CXT_ARGS_LEN + 8);
        CHECK_THAT(decode_error(bad), Contains("argv length"));
    }
    SECTION("args_len huge") {
        Record bad = good;
        set_args_len(bad, 0xffffffffu);
        CHECK_THAT(decode_error(bad), Contains("argv length"));
    }
    SECTION("shorter than the fixed part") {
        Record bad(good.begin(), good.begin() + CXT_EXEC_FIXED_SIZE - 1);
        set_header_size(bad, static_cast<uint32_t>(bad.size()));
        CHECK_THAT(decode_error(bad), Contains("shorter than its fixed part"));
    }
    SECTION("filename_len out of range") {
        Record bad = good;
        set_filename_len(bad, CXT_FILENAME_LEN + 1);
        CHECK_THAT(decode_error(bad), Contains("filename length"));
    }
    SECTION("no args at all: exactly the fixed part") {
        ExecSpec none;
        none.argv = {};
        Record record = exec(1, 5, 5, 0, none);
        CHECK(record.size() == CXT_EXEC_FIXED_SIZE);
        const Exec body = std::get<Exec>(decode(record).body);
        CHECK(body.argv.empty());
        CHECK_FALSE(body.argv_truncated);
    }
    SECTION("the ring buffer hands over the whole reserved struct") {
        Record reserved = exec_as_reserved(1, 5, 5, 0, spec);
        REQUIRE(reserved.size() == sizeof(cxt_exec));
        // Not decodable as is: the header names the stored size...
        CHECK_FALSE(decode_event(reserved.data(), reserved.size()).ok());
        // ...which raw_event_size reports, and those bytes decode.
        auto stored = raw_event_size(reserved.data(), reserved.size());
        REQUIRE(stored.ok());
        CHECK(*stored == good.size());
        auto event = decode_event(reserved.data(), *stored);
        REQUIRE(event.ok());
        CHECK(std::get<Exec>(event->body).argv == spec.argv);
    }
}

TEST_CASE("a rename carries the old and the new comm", "[decoder]") {
    Record record = rename(5, 7, 7, 1, "python3", "student-task");
    Event event = decode(record);
    CHECK(event.kind == EventKind::Rename);
    CHECK(event.pid == 7);
    const auto& body = std::get<Rename>(event.body);
    CHECK(body.old_comm == "python3");
    CHECK(body.new_comm == "student-task");
    CHECK_FALSE(decode_event(record.data(), record.size() - 8).ok());
}

TEST_CASE("a wakeup names the woken task and its waker", "[decoder]") {
    Record record = wakeup(5, 7, 7, 1, 9, 8, 0);
    Event event = decode(record);
    CHECK(event.kind == EventKind::Wakeup);
    CHECK(event.pid == 7);
    const auto& body = std::get<Wakeup>(event.body);
    CHECK(body.waker_pid == 9);
    CHECK(body.waker_tgid == 8);
    CHECK(body.target_cpu == 0);
    CHECK_FALSE(decode_event(record.data(), record.size() - 8).ok());
}

TEST_CASE("a pid_ns event carries the ids a task sees inside its namespace", "[decoder]") {
    Record record = pid_ns(5, 4242, 4242, 1, NamespaceIds{1, 1, 0, 1, 4026532177u});
    Event event = decode(record);
    CHECK(event.kind == EventKind::PidNs);
    CHECK(event.pid == 4242);  // the header keeps the kernel's global id
    const auto& body = std::get<PidNs>(event.body);
    CHECK(body.ns_pid == 1);
    CHECK(body.ns_tgid == 1);
    CHECK(body.ns_ppid == 0);
    CHECK(body.level == 1);
    CHECK(body.ns_inum == 4026532177u);
    CHECK(std::string(event_kind_name(event.kind)) == "pid_ns");
    CHECK_FALSE(decode_event(record.data(), record.size() - 8).ok());
}

TEST_CASE("a task's last switch-out is recognised in the raw record", "[decoder]") {
    Record last = switch_out(5, 0, 42, 42, kTaskDead);
    CHECK(raw_is_final_switch_out(last.data(), last.size(), 42));
    CHECK_FALSE(raw_is_final_switch_out(last.data(), last.size(), 43));
    Record preempted = switch_out(5, 0, 42, 42);
    CHECK_FALSE(raw_is_final_switch_out(preempted.data(), preempted.size(), 42));
    Record other_kind = wakeup(5, 42, 42, 1, 9, 8, 0);
    CHECK_FALSE(raw_is_final_switch_out(other_kind.data(), other_kind.size(), 42));
}

namespace {

// Every field of two bodies of the same kind, as text: a field the decoder
// forgets to set on reused storage shows as a difference.
std::string fields(const Event& e) {
    std::string out = std::to_string(e.body.index()) + ":";
    auto add = [&](auto... values) { ((out += std::to_string(values) + ","), ...); };
    add(static_cast<int>(e.kind), e.cpu, e.ts_ns, e.pid, e.tgid);
    std::visit(
        [&](const auto& body) {
            using Body = std::decay_t<decltype(body)>;
            if constexpr (std::is_same_v<Body, SyscallEnter>) add(static_cast<int>(body.syscall), body.mm_id, body.clone_flags);
            else if constexpr (std::is_same_v<Body, SyscallExit>) add(static_cast<int>(body.syscall), body.ret);
            else if constexpr (std::is_same_v<Body, TaskNew>) {
                add(body.clone_flags, body.child_start_ns, body.child_pid, body.child_tgid, body.child_ppid,
                    body.child_mm_id, body.creator_mm_id);
                out += body.child_comm;
            } else if constexpr (std::is_same_v<Body, WakeupNew>) add(body.target_cpu);
            else if constexpr (std::is_same_v<Body, Switch>)
                add(body.prev_pid, body.prev_tgid, body.next_pid, body.next_tgid, body.prev_state, body.prev_tracked,
                    body.next_tracked, body.prev_dead);
            else if constexpr (std::is_same_v<Body, Migrate>) add(body.orig_cpu, body.dest_cpu);
            else if constexpr (std::is_same_v<Body, Exec>) {
                add(body.old_pid, body.mm_id, body.argc, body.filename_truncated, body.argv_truncated,
                    body.argv_bytes_total);
                out += body.comm + "|" + body.filename;
                for (const std::string& arg : body.argv) out += "|" + arg;
            } else if constexpr (std::is_same_v<Body, Exit>) {
                add(body.exit_code, body.group_dead);
                out += body.comm;
            } else if constexpr (std::is_same_v<Body, Rename>) out += body.old_comm + "|" + body.new_comm;
            else if constexpr (std::is_same_v<Body, Wakeup>) add(body.waker_pid, body.waker_tgid, body.target_cpu);
            else if constexpr (std::is_same_v<Body, PidNs>)
                add(body.ns_pid, body.ns_tgid, body.ns_ppid, body.level, body.ns_inum);
        },
        e.body);
    return out;
}

}  // namespace

TEST_CASE("decoding into a reused event leaves nothing of the previous one", "[decoder]") {
    // The reading loop decodes every event into storage that held an
    // earlier one, of the same kind or not: the result must be what a
    // fresh decode gives, every field of it.
    ExecSpec long_exec;
    long_exec.argv = {"prog", "--a-long-option-that-needs-the-heap", "x", "y", "z"};
    long_exec.filename = "/a/long/path/that/does/not/fit/in/a/small/string/buffer/prog";
    ExecSpec short_exec;
    short_exec.argv = {"sh"};
    short_exec.filename = "/bin/sh";
    short_exec.comm = "sh";
    SwitchSpec dead;
    dead.prev_pid = 6, dead.prev_tgid = 6, dead.prev_tracked = true, dead.prev_state = kTaskDead;
    NamespaceIds ids;
    ids.pid = 1, ids.tgid = 1, ids.ppid = 0, ids.level = 1, ids.inum = 4026532000;
    NamespaceIds other_ids;
    other_ids.pid = 2, other_ids.tgid = 1, other_ids.ppid = 1, other_ids.level = 2, other_ids.inum = 4026532001;
    NewTask child;
    child.pid = 9, child.tgid = 9, child.ppid = 5, child.mm_id = 3, child.creator_mm_id = 2;
    const std::vector<Record> records = {
        exec(1, 5, 5, 0, long_exec),
        exec(2, 6, 6, 1, short_exec),  // an exec over a longer exec
        rename(3, 6, 6, 1, "sh", "renamed"),
        switch_between(4, 1, 6, 6, 7, 7),
        sched_switch(5, 0, dead),  // a switch over a switch: other pids, flags and state
        exit(6, 6, 6, 0, 0x0900, true, "sh"),
        exec(7, 7, 7, 0, long_exec),
        wakeup(8, 6, 6, 0, 7, 7, 1),
        wakeup(9, 8, 8, 1, 6, 6, 0),
        syscall_enter(10, 5, 5, 0, CXT_SYS_CLONE, 3, kPthreadFlags),
        syscall_enter(11, 6, 6, 1, CXT_SYS_FORK, 4, 0),
        syscall_exit(12, 5, 5, 0, CXT_SYS_CLONE, 9),
        syscall_exit(13, 6, 6, 1, CXT_SYS_FORK, -12),
        wakeup_new(14, 9, 9, 0, 1),
        wakeup_new(15, 10, 10, 1, 0),
        migrate(16, 9, 9, 0, 0, 1),
        migrate(17, 10, 10, 1, 1, 0),
        pid_ns(18, 9, 9, 0, ids),
        pid_ns(19, 10, 9, 1, other_ids),
        task_new(20, 5, 5, 0, child),
        switch_in(21, 1, 9, 9),
    };
    Event reused;
    for (const Record& record : records) {
        REQUIRE(decode_event_into(record.data(), record.size(), reused));
        CHECK(fields(reused) == fields(decode(record)));
    }
}
