// The correlator on synthetic event streams: task identity, kinds, address
// spaces, latencies, CPU time and parallelism, anomalies.
#include <catch2/catch.hpp>

#include <algorithm>
#include <numeric>
#include <random>
#include <set>

#include "correlator.h"
#include "event_builder.h"
#include "text_summary.h"
#include "json_report.h"
#include "paths.h"
#include "running_count.h"

using namespace cxt;
using namespace cxt::test;
using Catch::Matchers::Contains;

namespace {



// The creator (pid/tgid, running on `cpu`) enters `syscall` at `t`, the
// child is created 1 us later, queued on `wakeup_cpu` 2 us later, and the
// creator's syscall returns 3 us after entry. Times relative to trace start.
// As in a real trace the creator must be on `cpu` already: the correlator
// takes events recorded in a task's own context as proof it is running.
void create(StreamBuilder& s, uint64_t t, uint32_t creator, uint32_t creator_tgid, uint16_t cpu, uint32_t syscall,
            const NewTask& child, uint32_t wakeup_cpu = 0) {
    const uint64_t flags_arg = syscall == CXT_SYS_CLONE ? child.clone_flags : 0;  // only clone's flags are read
    s.add(syscall_enter(at(t), creator, creator_tgid, cpu, syscall, child.creator_mm_id, flags_arg));
    s.add(task_new(at(t + 1 * kUs), creator, creator_tgid, cpu, child));
    s.add(wakeup_new(at(t + 2 * kUs), child.pid, child.tgid, cpu, wakeup_cpu));
    s.add(syscall_exit(at(t + 3 * kUs), creator, creator_tgid, cpu, syscall, child.pid));
}

NewTask process_child(uint32_t pid, uint32_t mm_id, uint32_t creator_mm_id, uint32_t ppid = kRoot) {
    NewTask child;
    child.pid = pid;
    child.tgid = pid;
    child.ppid = ppid;
    child.clone_flags = kForkFlags;
    child.mm_id = mm_id;
    child.creator_mm_id = creator_mm_id;
    child.comm = "proc";
    return child;
}

NewTask thread_child(uint32_t pid, uint32_t tgid, uint32_t mm_id, uint32_t ppid = kLauncher) {
    NewTask child;
    child.pid = pid;
    child.tgid = tgid;
    child.ppid = ppid;
    child.clone_flags = kPthreadFlags;
    child.mm_id = mm_id;
    child.creator_mm_id = mm_id;
    child.comm = "thr";
    return child;
}

// "{cpu or n: ns, ...}", so that a failed comparison shows both maps.
std::string ns_map(const std::map<uint32_t, uint64_t>& map) {
    std::string out = "{";
    for (const auto& [key, ns] : map) out += (out.size() > 1 ? ", " : "") + std::to_string(key) + ": " + std::to_string(ns);
    return out + "}";
}

// The model minus the anomaly counters, for comparing two correlations.
std::string without_anomalies(const RunModel& model) {
    nlohmann::json j = report_json(model);
    j.erase("anomalies");
    std::string out = j.dump(1);
    for (const OnCpuInterval& i : model.intervals)
        out += "\n" + std::to_string(i.task) + "@" + std::to_string(i.cpu) + ":" + std::to_string(i.start_ns) + "-" +
               std::to_string(i.end_ns);
    return out;
}

}  // namespace

TEST_CASE("task kind from clone flags follows DESIGN.md", "[model]") {
    auto [flags, kind, name] = GENERATE(table<uint64_t, TaskKind, std::string>({
        {kPthreadFlags, TaskKind::Thread, "thread"},
        {kCloneThread | kCloneVm | kCloneSighand, TaskKind::Thread, "thread"},
        {kSigchld, TaskKind::Process, "process"},
        {kForkFlags, TaskKind::Process, "process"},
        {0, TaskKind::Process, "process"},
        {kCloneVm | kCloneVfork, TaskKind::Vfork, "vfork"},
        {kVforkFlags, TaskKind::Vfork, "vfork"},
        {kCloneVfork | kSigchld, TaskKind::Vfork, "vfork"},  // vfork without CLONE_VM is still a vfork
        {kCloneVm, TaskKind::SharedVm, "shared-vm"},
        {kSharedVmFlags | kCloneFs | kCloneFiles, TaskKind::SharedVm, "shared-vm"},
    }));
    INFO("clone flags 0x" << std::hex << flags);
    CHECK(kind_from_clone_flags(flags) == kind);
    CHECK(task_kind_name(kind_from_clone_flags(flags)) == name);
    CHECK(std::string(task_kind_name(TaskKind::Root)) == "root");
}

TEST_CASE("task kinds, ids and creation syscalls from a stream", "[model]") {
    StreamBuilder s;
    s.add(switch_in(at(1 * kUs), 0, kRoot, kRoot));
    create(s, 10 * kUs, kRoot, kRoot, 0, CXT_SYS_CLONE3, thread_child(101, kRoot, 5));
    NewTask proc = process_child(102, 6, 5);
    create(s, 20 * kUs, kRoot, kRoot, 0, CXT_SYS_CLONE, proc);
    NewTask vforked = process_child(103, 5, 5);
    vforked.clone_flags = kVforkFlags;
    create(s, 30 * kUs, kRoot, kRoot, 0, CXT_SYS_VFORK, vforked);
    NewTask shared = process_child(104, 5, 5);
    shared.clone_flags = kSharedVmFlags;
    create(s, 40 * kUs, kRoot, kRoot, 0, CXT_SYS_CLONE, shared);
    NewTask forked = process_child(105, 7, 5);
    create(s, 50 * kUs, kRoot, kRoot, 0, CXT_SYS_FORK, forked);
    // A thread of the child process 102, created by 102 while it runs on cpu 1.
    s.add(switch_in(at(55 * kUs), 1, 102, 102));
    create(s, 60 * kUs, 102, 102, 1, CXT_SYS_CLONE3, thread_child(106, 102, 6, kRoot));

    RunModel m = s.correlate(test_end(at(1 * kMs)));
    REQUIRE(m.tasks.size() == 7);

    const TaskRecord& root = m.tasks[0];
    CHECK(root.pid == kRoot);
    CHECK(root.tgid == kRoot);
    CHECK(root.kind == TaskKind::Root);
    CHECK(root.ppid == kLauncher);
    CHECK(root.parent_pid == kLauncher);
    CHECK_FALSE(root.created_ns.has_value());

    struct Want {
        uint32_t pid, tgid, ppid, parent;
        TaskKind kind;
        std::string syscall;
    };
    auto want = GENERATE(values<Want>({
        {101, kRoot, kLauncher, kRoot, TaskKind::Thread, "clone3"},
        {102, 102, kRoot, kRoot, TaskKind::Process, "clone"},
        {103, 103, kRoot, kRoot, TaskKind::Vfork, "vfork"},
        {104, 104, kRoot, kRoot, TaskKind::SharedVm, "clone"},
        {105, 105, kRoot, kRoot, TaskKind::Process, "fork"},
        {106, 102, kRoot, 102, TaskKind::Thread, "clone3"},
    }));
    INFO("pid " << want.pid);
    const TaskRecord& t = only_task(m, want.pid);
    CHECK(t.tgid == want.tgid);
    CHECK(t.ppid == want.ppid);
    CHECK(t.parent_pid == want.parent);
    CHECK(t.kind == want.kind);
    CHECK(t.creation_syscall == want.syscall);
    CHECK_FALSE(t.inferred);
    REQUIRE(t.created_ns.has_value());
    CHECK(m.anomalies.total() == 0);
    CHECK(m.summary.threads == 2);
}

TEST_CASE("address spaces: shared by threads, own for processes, new on exec", "[model]") {
    // Kernel-side mm ids are arbitrary; the model relabels them mm1, mm2, ...
    // in order of first appearance.
    StreamBuilder s;
    s.add(switch_in(at(1 * kUs), 0, kRoot, kRoot));
    s.add(syscall_enter(at(10 * kUs), kRoot, kRoot, 0, CXT_SYS_EXECVE, 7));  // pre-exec space: mm1
    ExecSpec root_exec;
    root_exec.mm_id = 42;  // mm2
    root_exec.comm = "workload";
    root_exec.filename = "/usr/bin/workload";
    root_exec.argv = {"workload", "-n", "1"};
    s.add(exec(at(20 * kUs), kRoot, kRoot, 0, root_exec));
    s.add(syscall_exit(at(21 * kUs), kRoot, kRoot, 0, CXT_SYS_EXECVE, 0));
    create(s, 30 * kUs, kRoot, kRoot, 0, CXT_SYS_CLONE3, thread_child(101, kRoot, 42));
    create(s, 40 * kUs, kRoot, kRoot, 0, CXT_SYS_CLONE, process_child(102, 13, 42));  // mm3
    NewTask vforked = process_child(103, 42, 42);
    vforked.clone_flags = kVforkFlags;
    s.add(syscall_enter(at(50 * kUs), kRoot, kRoot, 0, CXT_SYS_VFORK, 42));
    s.add(task_new(at(51 * kUs), kRoot, kRoot, 0, vforked));
    s.add(switch_out(at(52 * kUs), 0, kRoot, kRoot));  // the vfork parent waits
    s.add(switch_in(at(55 * kUs), 1, 103, 103));
    ExecSpec child_exec;
    child_exec.mm_id = 55;  // mm4
    child_exec.filename = "/bin/true";
    child_exec.argv = {"true"};
    s.add(exec(at(60 * kUs), 103, 103, 1, child_exec));
    s.add(exit(at(70 * kUs), 103, 103, 1, 0));
    s.add(switch_between(at(71 * kUs), 1, 103, 103, 102, 102));
    s.add(switch_in(at(71 * kUs + 500), 0, kRoot, kRoot));
    s.add(syscall_exit(at(72 * kUs), kRoot, kRoot, 0, CXT_SYS_VFORK, 103));
    // 102 (own space) execs too: mm5.
    ExecSpec again;
    again.mm_id = 8;
    s.add(exec(at(80 * kUs), 102, 102, 1, again));

    RunModel m = s.correlate(test_end(at(1 * kMs)));
    const TaskRecord& root = only_task(m, kRoot);
    const TaskRecord& thread = only_task(m, 101);
    const TaskRecord& process = only_task(m, 102);
    const TaskRecord& vfork = only_task(m, 103);

    SECTION("the root keeps its pre-exec space; the exec names the new one") {
        CHECK(root.mm == 1);
        REQUIRE(root.execs.size() == 1);
        CHECK(root.execs[0].mm == 2);
        CHECK(root.execs[0].ts_ns == 20 * kUs);
        CHECK(root.execs[0].filename == "/usr/bin/workload");
        CHECK(root.execs[0].argv == root_exec.argv);
        CHECK(root.execs[0].argc == 3);
        CHECK(root.comm == "workload");
    }
    SECTION("a thread shares its creator's current space") {
        CHECK(thread.mm == root.execs.back().mm);
        CHECK(thread.mm == 2);
    }
    SECTION("a process gets its own; exec gives it another and task.mm stays the creation space") {
        CHECK(process.mm == 3);
        REQUIRE(process.execs.size() == 1);
        CHECK(process.execs[0].mm == 5);
    }
    SECTION("a vfork child shares the parent's space until its exec") {
        CHECK(vfork.kind == TaskKind::Vfork);
        CHECK(vfork.mm == 2);
        REQUIRE(vfork.execs.size() == 1);
        CHECK(vfork.execs[0].mm == 4);
        CHECK(vfork.exit_code == std::optional<int>(0));
        REQUIRE(vfork.latency.syscall.has_value());
        CHECK(*vfork.latency.syscall == 22 * kUs);  // the parent is held until the child exec'd/exited
        CHECK(vfork.latency.first_run == std::optional<uint64_t>(5 * kUs));
    }
    SECTION("labels are dense and every space is counted once") {
        CHECK(m.summary.address_spaces == 5);
        std::set<uint32_t> labels;
        for (const TaskRecord& t : m.tasks) {
            labels.insert(t.mm);
            for (const ExecRecord& e : t.execs) labels.insert(e.mm);
        }
        CHECK(labels == std::set<uint32_t>{1, 2, 3, 4, 5});
    }
    SECTION("a realistic stream raises no anomaly") {
        CHECK(m.anomalies.total() == 0);
    }
}

TEST_CASE("pid reuse never merges two tasks", "[model]") {
    StreamBuilder s;
    s.add(switch_in(at(1 * kUs), 0, kRoot, kRoot));
    create(s, 10 * kUs, kRoot, kRoot, 0, CXT_SYS_CLONE, process_child(200, 2, 1));
    s.add(switch_in(at(20 * kUs), 1, 200, 200));

    SECTION("exit seen before the pid comes back") {
        s.add(exit(at(30 * kUs), 200, 200, 1, 1 << 8));
        s.add(switch_out(at(31 * kUs), 1, 200, 200, kTaskDead));
        create(s, 100 * kUs, kRoot, kRoot, 0, CXT_SYS_CLONE, process_child(200, 3, 1));
        s.add(switch_in(at(110 * kUs), 2, 200, 200));
        s.add(exit(at(120 * kUs), 200, 200, 2, 2 << 8));
        RunModel m = s.correlate(test_end(at(1 * kMs)));

        auto tasks = tasks_with_pid(m, 200);
        REQUIRE(tasks.size() == 2);
        const TaskRecord& first = *tasks[0];
        const TaskRecord& second = *tasks[1];
        CHECK(first.created_ns == std::optional<uint64_t>(11 * kUs));
        CHECK(second.created_ns == std::optional<uint64_t>(101 * kUs));
        CHECK(first.exit_code == std::optional<int>(1));
        CHECK(second.exit_code == std::optional<int>(2));
        CHECK(first.exited_ns == std::optional<uint64_t>(30 * kUs));
        CHECK(second.exited_ns == std::optional<uint64_t>(120 * kUs));
        CHECK(first.mm != second.mm);
        // Later events go to the new task only.
        CHECK(first.cpu_ns.count(1) == 1);
        CHECK(first.cpu_ns.count(2) == 0);
        CHECK(second.cpu_ns.count(2) == 1);
        CHECK(second.latency.first_run == std::optional<uint64_t>(10 * kUs));
        CHECK(m.anomalies.total() == 0);
        CHECK(m.summary.tasks == 3);
    }
    SECTION("only the final switch-out (TASK_DEAD) seen: still a clean reuse") {
        s.add(switch_out(at(31 * kUs), 1, 200, 200, kTaskDead));
        create(s, 100 * kUs, kRoot, kRoot, 0, CXT_SYS_CLONE, process_child(200, 3, 1));
        RunModel m = s.correlate(test_end(at(1 * kMs)));
        CHECK(tasks_with_pid(m, 200).size() == 2);
        CHECK(m.anomalies.pid_reused_before_exit == 0);
    }
    SECTION("no exit seen: two tasks and an anomaly") {
        create(s, 100 * kUs, kRoot, kRoot, 0, CXT_SYS_CLONE, process_child(200, 3, 1));
        RunModel m = s.correlate(test_end(at(1 * kMs)));
        CHECK(tasks_with_pid(m, 200).size() == 2);
        CHECK(m.anomalies.pid_reused_before_exit == 1);
    }
}

namespace {

// A longer run (8 creations about 37 ms apart, ~300 ms in all) whose events
// span several reorder windows. All timestamps are distinct.
StreamBuilder long_run() {
    StreamBuilder s;
    s.add(switch_in(at(50 * kUs), 0, kRoot, kRoot));
    for (uint32_t i = 0; i < 8; ++i) {
        const uint64_t base = i * 37 * kMs + 100 * kUs;
        const uint32_t pid = 200 + i;
        const uint16_t cpu = static_cast<uint16_t>(1 + i % 3);
        if (i % 2 == 0) {
            create(s, base, kRoot, kRoot, 0, CXT_SYS_CLONE, process_child(pid, 10 + i, 1), cpu);
        } else {
            create(s, base, kRoot, kRoot, 0, CXT_SYS_CLONE3, thread_child(pid, kRoot, 1), cpu);
        }
        const uint32_t tgid = i % 2 == 0 ? pid : kRoot;
        s.add(switch_out(at(base + 350 * kUs), 0, kRoot, kRoot));
        s.add(switch_in(at(base + 400 * kUs), cpu, pid, tgid));
        s.add(syscall_exit(at(base + 450 * kUs), pid, tgid, cpu, i % 2 == 0 ? CXT_SYS_CLONE : CXT_SYS_CLONE3, 0));
        s.add(exit(at(base + (500 + 10 * i) * kUs), pid, tgid, cpu, static_cast<int32_t>(i) << 8));
        s.add(switch_out(at(base + 600 * kUs), cpu, pid, tgid, kTaskDead));
        s.add(switch_in(at(base + 700 * kUs), 0, kRoot, kRoot));
    }
    s.add(exit(at(300 * kMs), kRoot, kRoot, 0, 0));
    s.add(switch_out(at(300 * kMs + 100 * kUs), 0, kRoot, kRoot, kTaskDead));
    return s;
}

}  // namespace

TEST_CASE("events arriving out of order within the window give the sorted model", "[model]") {
    const StreamBuilder s = long_run();
    const TraceEnd end = test_end(at(301 * kMs));
    const RunModel sorted = s.correlate(end);
    REQUIRE(sorted.anomalies.total() == 0);
    REQUIRE(sorted.tasks.size() == 9);

    // Shuffle within 40 ms buckets: no event arrives after one more than
    // 40 ms (< the 50 ms window) younger than itself.
    auto seed = GENERATE(1u, 2u, 3u, 42u, 1234u);
    std::mt19937 rng(seed);
    const std::vector<Event> events = s.events();
    std::vector<size_t> order(events.size());
    std::iota(order.begin(), order.end(), 0);
    auto bucket = [&](size_t i) { return (events[i].ts_ns - kStart) / (40 * kMs); };
    for (size_t begin = 0; begin < order.size();) {
        size_t stop = begin;
        while (stop < order.size() && bucket(order[stop]) == bucket(order[begin])) ++stop;
        std::shuffle(order.begin() + begin, order.begin() + stop, rng);
        begin = stop;
    }
    // Arrivals older than the newest event seen before them.
    size_t late = 0;
    uint64_t newest = 0;
    for (size_t index : order) {
        if (events[index].ts_ns < newest) ++late;
        newest = std::max(newest, events[index].ts_ns);
    }
    REQUIRE(late > 0);

    const RunModel shuffled = s.correlate_in_order(order, end);
    CHECK(without_anomalies(shuffled) == without_anomalies(sorted));
    CHECK(shuffled.anomalies.reordered_events == late);
    CHECK(shuffled.anomalies.total() == shuffled.anomalies.reordered_events);
}

TEST_CASE("an event arriving later than the reorder window is counted once", "[model]") {
    // The root's migrate at 10 ms arrives after an event at 100 ms: too late
    // to be sorted in (the window is 50 ms). It is one reordered event.
    StreamBuilder s;
    s.add(switch_in(at(1 * kMs), 0, kRoot, kRoot));
    s.add(switch_out(at(20 * kMs), 0, kRoot, kRoot));
    s.add(switch_in(at(100 * kMs), 1, kRoot, kRoot));
    s.add(migrate(at(10 * kMs), kRoot, kRoot, 0, 0, 1));
    RunModel m = s.correlate(test_end(at(200 * kMs)));
    CHECK(only_task(m, kRoot).migrate_events == 1);
    CHECK(only_task(m, kRoot).oncpu_ns == 19 * kMs + 100 * kMs);
    CHECK(m.anomalies.reordered_events == 1);
}

TEST_CASE("a reversed stream shorter than the window is fully re-sorted", "[model]") {
    StreamBuilder s;
    s.add(switch_in(at(1 * kUs), 0, kRoot, kRoot));
    create(s, 10 * kUs, kRoot, kRoot, 0, CXT_SYS_CLONE, process_child(300, 2, 1), 1);
    s.add(switch_in(at(20 * kUs), 1, 300, 300));
    s.add(exit(at(30 * kUs), 300, 300, 1, 0));
    s.add(switch_out(at(31 * kUs), 1, 300, 300, kTaskDead));
    std::vector<size_t> reversed(s.records().size());
    std::iota(reversed.rbegin(), reversed.rend(), 0);
    const TraceEnd end = test_end(at(1 * kMs));
    RunModel backwards = s.correlate_in_order(reversed, end);
    RunModel forwards = s.correlate(end);
    CHECK(without_anomalies(backwards) == without_anomalies(forwards));
    CHECK(forwards.anomalies.total() == 0);
    CHECK(backwards.anomalies.reordered_events == s.records().size() - 1);
    CHECK(backwards.anomalies.total() == backwards.anomalies.reordered_events);
}

TEST_CASE("an exit that arrives before its task_new is applied to the right task", "[model]") {
    // Recorded on another CPU, the child's exit reaches the ring buffer before
    // the creator's task_new, though it happened later.
    StreamBuilder s;
    s.add(switch_in(at(5 * kUs), 0, kRoot, kRoot));                                    // 0
    s.add(syscall_enter(at(10 * kUs), kRoot, kRoot, 0, CXT_SYS_CLONE, 1, kForkFlags));  // 1
    s.add(task_new(at(11 * kUs), kRoot, kRoot, 0, process_child(300, 2, 1)));          // 2
    s.add(switch_in(at(12 * kUs), 1, 300, 300));                                       // 3
    s.add(exit(at(13 * kUs), 300, 300, 1, 7 << 8, true, "quick"));                     // 4
    s.add(switch_out(at(14 * kUs), 1, 300, 300, kTaskDead));                           // 5
    s.add(syscall_exit(at(15 * kUs), kRoot, kRoot, 0, CXT_SYS_CLONE, 300));            // 6
    RunModel m = s.correlate_in_order({0, 4, 5, 3, 1, 2, 6}, test_end(at(1 * kMs)));

    REQUIRE(m.tasks.size() == 2);
    const TaskRecord& child = only_task(m, 300);
    CHECK_FALSE(child.inferred);
    CHECK(child.kind == TaskKind::Process);
    CHECK(child.created_ns == std::optional<uint64_t>(11 * kUs));
    CHECK(child.exited_ns == std::optional<uint64_t>(13 * kUs));
    CHECK(child.exit_code == std::optional<int>(7));
    CHECK(child.comm == "quick");
    CHECK(child.oncpu_ns == 2 * kUs);
    CHECK(child.latency.first_run == std::optional<uint64_t>(2 * kUs));
    CHECK(child.latency.syscall == std::optional<uint64_t>(5 * kUs));
    CHECK(m.anomalies.reordered_events > 0);
    CHECK(m.anomalies.total() == m.anomalies.reordered_events);
}

TEST_CASE("lost events and interruptions make the run incomplete", "[model]") {
    StreamBuilder s;
    s.add(switch_in(at(1 * kUs), 0, kRoot, kRoot));
    TraceEnd end = test_end(at(1 * kMs));

    SECTION("nothing lost") {
        RunModel m = s.correlate(end);
        CHECK(m.run.lost_events == 0);
        CHECK(m.run.complete);
        CHECK_FALSE(m.run.interrupted);
        CHECK(m.run.events == 1);
    }
    SECTION("lost switches and execs") {
        end.lost_by_kind[static_cast<int>(EventKind::Switch)] = 5;
        end.lost_by_kind[static_cast<int>(EventKind::Exec)] = 2;
        RunModel m = s.correlate(end);
        CHECK(m.run.lost_events == 7);
        CHECK_FALSE(m.run.complete);
        CHECK(m.run.lost_by_kind.at("switch") == 5);
        CHECK(m.run.lost_by_kind.at("exec") == 2);
        CHECK(m.run.lost_by_kind.at("task_new") == 0);
        CHECK(m.run.lost_by_kind.size() == CXT_EV_KIND_COUNT - 1);
    }
    SECTION("interrupted") {
        end.interrupted = true;
        RunModel m = s.correlate(end);
        CHECK(m.run.lost_events == 0);
        CHECK(m.run.interrupted);
        CHECK_FALSE(m.run.complete);
    }
    SECTION("loss counters that could not be read") {
        end.losses_unknown = true;
        RunModel m = s.correlate(end);
        CHECK(m.run.lost_events == 0);
        CHECK(m.run.losses_unknown);
        CHECK_FALSE(m.run.complete);
        CHECK(report_json(m).at("run").at("losses_unknown") == true);
        CHECK_THAT(render_text_summary(m), Contains("loss counters could not be read"));
    }
    SECTION("meta and end are carried into the run") {
        end.exit_code = std::nullopt;
        end.exit_signal = 15;
        RunModel m = s.correlate(end);
        CHECK(m.run.workload == "unit-test");
        CHECK(m.run.command == test_meta().command);
        CHECK(m.run.started_at == test_meta().started_at);
        CHECK(m.run.cpus == 4);
        CHECK(m.run.kernel == "6.1.0-test");
        CHECK(m.run.root_pid == kRoot);
        CHECK(m.run.duration_ns == 1 * kMs);
        CHECK_FALSE(m.run.exit_code.has_value());
        CHECK(m.run.exit_signal == std::optional<int>(15));
    }
}

TEST_CASE("creation latencies are exact differences of kernel timestamps", "[model]") {
    const uint64_t enter = 100 * kUs + 17;
    StreamBuilder s;
    s.add(switch_in(at(50 * kUs), 0, kRoot, kRoot));
    s.add(syscall_enter(at(enter), kRoot, kRoot, 0, CXT_SYS_CLONE, 1, kForkFlags));
    s.add(task_new(at(enter + 20'001), kRoot, kRoot, 0, process_child(101, 2, 1)));
    s.add(wakeup_new(at(enter + 25'000), 101, 101, 0, 2));
    s.add(syscall_exit(at(enter + 30'003), kRoot, kRoot, 0, CXT_SYS_CLONE, 101));
    s.add(switch_in(at(enter + 45'007), 2, 101, 101));
    s.add(syscall_exit(at(enter + 46'000), 101, 101, 2, CXT_SYS_CLONE, 0));  // the child's own return
    // Later switch-ins do not change first_run; a second wakeup_new does not change wakeup_cpu.
    s.add(switch_out(at(enter + 50'000), 2, 101, 101));
    s.add(wakeup_new(at(enter + 51'000), 101, 101, 0, 3));
    s.add(switch_in(at(enter + 60'000), 3, 101, 101));

    RunModel m = s.correlate(test_end(at(1 * kMs)));
    const TaskRecord& child = only_task(m, 101);
    CHECK(child.latency.syscall == std::optional<uint64_t>(30'003));
    CHECK(child.latency.first_run == std::optional<uint64_t>(45'007));
    CHECK(child.wakeup_cpu == std::optional<uint32_t>(2));
    CHECK(child.created_ns == std::optional<uint64_t>(enter + 20'001));
    CHECK(child.creation_syscall == "clone");
    CHECK(child.clone_flags == kForkFlags);
    CHECK(m.anomalies.unmatched_syscall_exits == 0);
    CHECK(m.anomalies.total() == 0);

    SECTION("the summary has them by kind") {
        REQUIRE(m.summary.first_run_latency.count("process") == 1);
        CHECK(m.summary.first_run_latency.at("process").count == 1);
        CHECK(m.summary.first_run_latency.at("process").p50 == 45'007);
        CHECK(m.summary.syscall_latency.at("process").max == 30'003);
        CHECK(m.summary.first_run_latency.count("root") == 0);
    }
}

TEST_CASE("latencies that were not observed stay unknown", "[model]") {
    StreamBuilder s;
    s.add(switch_in(at(1 * kUs), 0, kRoot, kRoot));
    SECTION("a child that never ran") {
        create(s, 10 * kUs, kRoot, kRoot, 0, CXT_SYS_CLONE, process_child(101, 2, 1));
        RunModel m = s.correlate(test_end(at(1 * kMs)));
        const TaskRecord& child = only_task(m, 101);
        CHECK(child.latency.syscall == std::optional<uint64_t>(3 * kUs));
        CHECK_FALSE(child.latency.first_run.has_value());
        CHECK(child.oncpu_ns == 0);
        CHECK(m.summary.first_run_latency.count("process") == 0);
    }
    SECTION("a creation whose syscall entry was not seen") {
        s.add(task_new(at(10 * kUs), kRoot, kRoot, 0, process_child(101, 2, 1)));
        s.add(syscall_exit(at(12 * kUs), kRoot, kRoot, 0, CXT_SYS_CLONE, 101));
        s.add(switch_in(at(13 * kUs), 1, 101, 101));
        RunModel m = s.correlate(test_end(at(1 * kMs)));
        const TaskRecord& child = only_task(m, 101);
        CHECK_FALSE(child.latency.syscall.has_value());
        CHECK_FALSE(child.latency.first_run.has_value());
        CHECK(child.creation_syscall.empty());
        CHECK(m.anomalies.unmatched_syscall_exits == 1);
    }
    SECTION("a failed clone attaches to no task") {
        s.add(syscall_enter(at(10 * kUs), kRoot, kRoot, 0, CXT_SYS_CLONE, 1, kForkFlags));
        s.add(syscall_exit(at(11 * kUs), kRoot, kRoot, 0, CXT_SYS_CLONE, -11));
        s.add(task_new(at(20 * kUs), kRoot, kRoot, 0, process_child(101, 2, 1)));  // creation entry not seen
        s.add(switch_in(at(25 * kUs), 1, 101, 101));
        RunModel m = s.correlate(test_end(at(1 * kMs)));
        const TaskRecord& child = only_task(m, 101);
        CHECK_FALSE(child.latency.syscall.has_value());
        CHECK_FALSE(child.latency.first_run.has_value());
        CHECK(m.anomalies.unmatched_syscall_exits == 0);
    }
}

TEST_CASE("a new task's first run: where it was queued and what its CPU ran just before", "[model]") {
    StreamBuilder s;
    s.add(switch_in(at(5 * kUs), 0, kRoot, kRoot));
    // Returns at 13 us on CPU 0, queued on wakeup_cpu.
    auto fork_at_10us = [&](uint32_t wakeup_cpu) {
        create(s, 10 * kUs, kRoot, kRoot, 0, CXT_SYS_CLONE, process_child(200, 2, 1), wakeup_cpu);
    };
    auto context = [&] {
        RunModel m = s.correlate(test_end(at(1 * kMs)));
        return only_task(m, 200).first_run_context;
    };
    SECTION("queued on its creator's CPU, which its creator kept since the syscall returned") {
        fork_at_10us(0);
        s.add(switch_between(at(20 * kUs), 0, kRoot, kRoot, 200, 200));
        const FirstRunContext c = context();
        CHECK(c.after == RanAfter::Creator);
        CHECK(c.creator_kept_cpu);
        CHECK(c.creator_cpu == std::optional<uint32_t>(0));
        CHECK(c.cpu == std::optional<uint32_t>(0));
    }
    SECTION("after its creator, which had left the CPU and come back") {
        fork_at_10us(0);
        s.add(switch_out(at(15 * kUs), 0, kRoot, kRoot));
        s.add(switch_in(at(16 * kUs), 0, kRoot, kRoot));
        s.add(switch_between(at(20 * kUs), 0, kRoot, kRoot, 200, 200));
        const FirstRunContext c = context();
        CHECK(c.after == RanAfter::Creator);
        CHECK_FALSE(c.creator_kept_cpu);
    }
    SECTION("after a task outside the trace, on another CPU") {
        fork_at_10us(1);
        SwitchSpec from_untraced;
        from_untraced.prev_pid = from_untraced.prev_tgid = 555;
        from_untraced.next_pid = from_untraced.next_tgid = 200;
        from_untraced.next_tracked = true;
        s.add(sched_switch(at(20 * kUs), 1, from_untraced));
        const FirstRunContext c = context();
        CHECK(c.after == RanAfter::UntracedTask);
        CHECK_FALSE(c.creator_kept_cpu);
        CHECK(c.creator_cpu == std::optional<uint32_t>(0));
        CHECK(c.cpu == std::optional<uint32_t>(1));
    }
    SECTION("on an idle CPU, before its creator's syscall returned") {
        s.add(syscall_enter(at(10 * kUs), kRoot, kRoot, 0, CXT_SYS_CLONE, 1, kForkFlags));
        s.add(task_new(at(11 * kUs), kRoot, kRoot, 0, process_child(200, 2, 1)));
        s.add(switch_in(at(12 * kUs), 1, 200, 200));
        s.add(syscall_exit(at(13 * kUs), kRoot, kRoot, 0, CXT_SYS_CLONE, 200));
        RunModel m = s.correlate(test_end(at(1 * kMs)));
        const TaskRecord& child = only_task(m, 200);
        CHECK(child.first_run_context.after == RanAfter::Idle);
        CHECK(child.first_run_context.creator_cpu == std::optional<uint32_t>(0));
        CHECK(child.latency.first_run < child.latency.syscall);
    }
    SECTION("after another traced task, not its creator") {
        create(s, 8 * kUs, kRoot, kRoot, 0, CXT_SYS_CLONE3, thread_child(201, kRoot, 1), 1);
        s.add(switch_in(at(9 * kUs), 1, 201, kRoot));
        fork_at_10us(1);
        s.add(switch_between(at(20 * kUs), 1, 201, kRoot, 200, 200));
        const FirstRunContext c = context();
        CHECK(c.after == RanAfter::TracedTask);
        CHECK_FALSE(c.creator_kept_cpu);
    }
    SECTION("the root has no creator: nothing is said of what ran before it") {
        RunModel m = s.correlate(test_end(at(1 * kMs)));
        CHECK(m.tasks.front().first_run_context.after == RanAfter::Unknown);
    }
}

TEST_CASE("a task whose parent's thread group ended first is marked reparented", "[model]") {
    StreamBuilder s;
    s.add(switch_in(at(5 * kUs), 0, kRoot, kRoot));
    create(s, 10 * kUs, kRoot, kRoot, 0, CXT_SYS_CLONE, process_child(200, 2, 1));
    s.add(switch_between(at(20 * kUs), 0, kRoot, kRoot, 200, 200));
    create(s, 30 * kUs, 200, 200, 0, CXT_SYS_CLONE, process_child(201, 3, 2, 200));
    // A thread of the middle process: the group ends only with its last task.
    create(s, 40 * kUs, 200, 200, 0, CXT_SYS_CLONE3, thread_child(202, 200, 2, kRoot));
    s.add(exit(at(50 * kUs), 200, 200, 0, 0, false));
    SECTION("the group ends while the grandchild lives") {
        s.add(exit(at(60 * kUs), 202, 200, 0, 0, true));
        RunModel m = s.correlate(test_end(at(1 * kMs)));
        CHECK(only_task(m, 201).ppid == 200);  // the ppid at creation stays
        CHECK(only_task(m, 201).ppid_exited_ns == std::optional<uint64_t>(60 * kUs));
        CHECK_FALSE(only_task(m, 200).ppid_exited_ns.has_value());  // the root outlived it
        CHECK_FALSE(only_task(m, 202).ppid_exited_ns.has_value());
    }
    SECTION("the grandchild exits first") {
        s.add(exit(at(55 * kUs), 201, 201, 1, 0, true));
        s.add(exit(at(60 * kUs), 202, 200, 0, 0, true));
        RunModel m = s.correlate(test_end(at(1 * kMs)));
        CHECK_FALSE(only_task(m, 201).ppid_exited_ns.has_value());
    }
    SECTION("while the group lives on, nothing is inferred") {
        RunModel m = s.correlate(test_end(at(1 * kMs)));
        CHECK_FALSE(only_task(m, 201).ppid_exited_ns.has_value());
    }
}

TEST_CASE("an earlier thread group with the parent's tgid does not make a task reparented", "[model]") {
    StreamBuilder s;
    s.add(switch_in(at(5 * kUs), 0, kRoot, kRoot));
    create(s, 10 * kUs, kRoot, kRoot, 0, CXT_SYS_CLONE, process_child(300, 2, 1));
    s.add(exit(at(15 * kUs), 300, 300, 0, 0, true));
    s.add(switch_out(at(16 * kUs), 0, 300, 300, kTaskDead));
    create(s, 20 * kUs, kRoot, kRoot, 0, CXT_SYS_CLONE, process_child(300, 3, 1));  // pid 300 again
    s.add(switch_between(at(25 * kUs), 0, kRoot, kRoot, 300, 300));
    create(s, 30 * kUs, 300, 300, 0, CXT_SYS_CLONE, process_child(301, 4, 3, 300));
    RunModel m = s.correlate(test_end(at(1 * kMs)));
    CHECK(only_task(m, 301).ppid == 300);
    CHECK_FALSE(only_task(m, 301).ppid_exited_ns.has_value());
}

TEST_CASE("syscall exits: the child's own return is not an anomaly", "[model]") {
    StreamBuilder s;
    s.add(switch_in(at(1 * kUs), 0, kRoot, kRoot));
    create(s, 10 * kUs, kRoot, kRoot, 0, CXT_SYS_CLONE3, thread_child(101, kRoot, 1));
    s.add(switch_in(at(20 * kUs), 1, 101, kRoot));
    s.add(syscall_exit(at(21 * kUs), 101, kRoot, 1, CXT_SYS_CLONE3, 0));
    SECTION("ret 0 in the child") {
        RunModel m = s.correlate(test_end(at(1 * kMs)));
        CHECK(m.anomalies.unmatched_syscall_exits == 0);
        CHECK(m.anomalies.total() == 0);
    }
    SECTION("a creator's return without its entry is counted") {
        s.add(syscall_exit(at(30 * kUs), kRoot, kRoot, 0, CXT_SYS_CLONE, 555));
        RunModel m = s.correlate(test_end(at(1 * kMs)));
        CHECK(m.anomalies.unmatched_syscall_exits == 1);
    }
    SECTION("exec returns are not creation exits") {
        s.add(syscall_exit(at(30 * kUs), kRoot, kRoot, 0, CXT_SYS_EXECVE, -2));
        RunModel m = s.correlate(test_end(at(1 * kMs)));
        CHECK(m.anomalies.unmatched_syscall_exits == 0);
    }
}

TEST_CASE("on-CPU intervals, CPU time, migrations and parallelism", "[model]") {
    // Root A=100 and its child B=101 (times in ms):
    //   A on cpu0 [1,3)   then cpu1 [4,5)
    //   B on cpu1 [2,4)   then cpu2 [6,8)   (or [6,end) when left running)
    const uint32_t A = kRoot, B = 101;
    StreamBuilder s;
    s.add(switch_in(at(1 * kMs), 0, A, A));
    s.add(syscall_enter(at(1200 * kUs), A, A, 0, CXT_SYS_CLONE, 1, kForkFlags));
    s.add(task_new(at(1400 * kUs), A, A, 0, process_child(B, 2, 1)));
    s.add(wakeup_new(at(1500 * kUs), B, B, 0, 1));
    s.add(syscall_exit(at(1600 * kUs), A, A, 0, CXT_SYS_CLONE, B));
    s.add(switch_in(at(2 * kMs), 1, B, B));
    s.add(switch_out(at(3 * kMs), 0, A, A));
    s.add(switch_between(at(4 * kMs), 1, B, B, A, A));
    s.add(migrate(at(4 * kMs + 500 * kUs), B, B, 1, 1, 2));
    s.add(switch_out(at(5 * kMs), 1, A, A));
    s.add(switch_in(at(6 * kMs), 2, B, B));

    auto check_common = [&](const RunModel& m) {
        const TaskRecord& a = only_task(m, A);
        CHECK(a.oncpu_ns == 3 * kMs);
        CHECK(ns_map(a.cpu_ns) == ns_map({{0, 2 * kMs}, {1, 1 * kMs}}));
        CHECK(a.migrations == 1);
        CHECK(a.switches_in == 2);
        const TaskRecord& b = only_task(m, B);
        CHECK(b.migrations == 1);
        CHECK(b.migrate_events == 1);
        CHECK(b.switches_in == 2);
        CHECK(b.latency.first_run == std::optional<uint64_t>(800 * kUs));
        CHECK(b.wakeup_cpu == std::optional<uint32_t>(1));
        CHECK(m.summary.max_parallelism == 2);
        CHECK(m.summary.context_switches == 4);
        CHECK(m.summary.migrations == 2);
        CHECK(m.run.duration_ns == 10 * kMs);
        CHECK(m.anomalies.total() == 0);
    };

    SECTION("all intervals closed by switches") {
        s.add(switch_out(at(8 * kMs), 2, B, B));
        RunModel m = s.correlate(test_end(at(10 * kMs)));
        check_common(m);
        const TaskRecord& b = only_task(m, B);
        CHECK(b.oncpu_ns == 4 * kMs);
        CHECK(ns_map(b.cpu_ns) == ns_map({{1, 2 * kMs}, {2, 2 * kMs}}));
        CHECK(ns_map(m.summary.parallelism_ns) == ns_map({{0, 4 * kMs}, {1, 5 * kMs}, {2, 1 * kMs}}));

        REQUIRE(m.intervals.size() == 4);
        auto interval = [&](size_t i) {
            const OnCpuInterval& iv = m.intervals[i];
            return std::make_tuple(m.tasks[iv.task].pid, iv.cpu, iv.start_ns, iv.end_ns);
        };
        CHECK(interval(0) == std::make_tuple(A, 0u, 1 * kMs, 3 * kMs));
        CHECK(interval(1) == std::make_tuple(B, 1u, 2 * kMs, 4 * kMs));
        CHECK(interval(2) == std::make_tuple(A, 1u, 4 * kMs, 5 * kMs));
        CHECK(interval(3) == std::make_tuple(B, 2u, 6 * kMs, 8 * kMs));
    }
    SECTION("an interval still open at the end is closed at trace_end_ns") {
        RunModel m = s.correlate(test_end(at(10 * kMs)));
        check_common(m);
        const TaskRecord& b = only_task(m, B);
        CHECK(b.oncpu_ns == 6 * kMs);
        CHECK(ns_map(b.cpu_ns) == ns_map({{1, 2 * kMs}, {2, 4 * kMs}}));
        REQUIRE(m.intervals.size() == 4);
        const OnCpuInterval& last = m.intervals.back();
        CHECK(m.tasks[last.task].pid == B);
        CHECK(last.cpu == 2);
        CHECK(last.start_ns == 6 * kMs);
        CHECK(last.end_ns == 10 * kMs);
        // B was on a CPU from 6 ms to the end: that is time at parallelism 1.
        CHECK(ns_map(m.summary.parallelism_ns) == ns_map({{0, 2 * kMs}, {1, 7 * kMs}, {2, 1 * kMs}}));
    }
    SECTION("parallelism time adds up to the traced duration") {
        RunModel m = s.correlate(test_end(at(10 * kMs)));
        uint64_t total = 0;
        for (const auto& [n, ns] : m.summary.parallelism_ns) total += ns;
        CHECK(total == m.run.duration_ns);
        uint64_t oncpu = 0, weighted = 0;
        for (const TaskRecord& t : m.tasks) oncpu += t.oncpu_ns;
        for (const auto& [n, ns] : m.summary.parallelism_ns) weighted += n * ns;
        CHECK(weighted == oncpu);  // time-weighted parallelism is total on-CPU time
    }
}

TEST_CASE("a task left running at the end is counted in the parallelism", "[model]") {
    // The simplest case of the above: one task on a CPU from 2 ms to the end (10 ms).
    StreamBuilder s;
    s.add(switch_in(at(2 * kMs), 0, kRoot, kRoot));
    RunModel m = s.correlate(test_end(at(10 * kMs)));
    CHECK(only_task(m, kRoot).oncpu_ns == 8 * kMs);
    CHECK(m.summary.max_parallelism == 1);
    CHECK(ns_map(m.summary.parallelism_ns) == ns_map({{0, 2 * kMs}, {1, 8 * kMs}}));
}

TEST_CASE("switch anomalies are counted, not fatal", "[model]") {
    StreamBuilder s;
    SECTION("switched out while not known to run there") {
        s.add(switch_out(at(1 * kMs), 0, kRoot, kRoot));
        RunModel m = s.correlate(test_end(at(2 * kMs)));
        CHECK(m.anomalies.switch_out_not_running == 1);
        CHECK(only_task(m, kRoot).oncpu_ns == 0);
    }
    SECTION("a lost switch-out: the next switch on that CPU closes the interval") {
        s.add(switch_in(at(1 * kMs), 0, kRoot, kRoot));
        create(s, 1500 * kUs, kRoot, kRoot, 0, CXT_SYS_CLONE, process_child(101, 2, 1));
        // The root left cpu 0 unseen; later an untracked task is switched out
        // there in favour of 101.
        SwitchSpec spec;
        spec.prev_pid = 9999;
        spec.prev_tgid = 9999;
        spec.next_pid = 101;
        spec.next_tgid = 101;
        spec.next_tracked = true;
        s.add(sched_switch(at(3 * kMs), 0, spec));
        RunModel m = s.correlate(test_end(at(4 * kMs)));
        CHECK(m.anomalies.switch_out_not_running == 1);
        CHECK(only_task(m, kRoot).oncpu_ns == 2 * kMs);
        CHECK(only_task(m, 101).oncpu_ns == 1 * kMs);
        CHECK(m.summary.max_parallelism == 1);
    }
    SECTION("switched in on a CPU while still running on another") {
        s.add(switch_in(at(1 * kMs), 0, kRoot, kRoot));
        s.add(switch_in(at(2 * kMs), 1, kRoot, kRoot));  // the switch-out on cpu 0 was lost
        RunModel m = s.correlate(test_end(at(3 * kMs)));
        CHECK(m.anomalies.switch_in_over_running == 1);
        const TaskRecord& root = only_task(m, kRoot);
        CHECK(ns_map(root.cpu_ns) == ns_map({{0, 1 * kMs}, {1, 1 * kMs}}));
        CHECK(root.migrations == 1);
        CHECK(m.summary.max_parallelism == 1);
    }
    SECTION("an event before tracing began is clamped") {
        s.add(switch_in(kStart - 500, 0, kRoot, kRoot));
        s.add(switch_out(at(1 * kMs), 0, kRoot, kRoot));
        RunModel m = s.correlate(test_end(at(2 * kMs)));
        CHECK(only_task(m, kRoot).oncpu_ns == 1 * kMs);
        REQUIRE(m.intervals.size() == 1);
        CHECK(m.intervals[0].start_ns == 0);
    }
}

TEST_CASE("exit codes are decoded from the kernel's encoding", "[model]") {
    auto [raw, code, signal, core] = GENERATE(table<int32_t, std::optional<int>, std::optional<int>, bool>({
        {3 << 8, 3, std::nullopt, false},
        {0, 0, std::nullopt, false},
        {255 << 8, 255, std::nullopt, false},
        {9, std::nullopt, 9, false},
        {15, std::nullopt, 15, false},
        {0x80 | 11, std::nullopt, 11, true},
        {0x80 | 6, std::nullopt, 6, true},
    }));
    INFO("task->exit_code = " << raw);
    StreamBuilder s;
    s.add(switch_in(at(1 * kUs), 0, kRoot, kRoot));
    create(s, 10 * kUs, kRoot, kRoot, 0, CXT_SYS_CLONE, process_child(101, 2, 1));
    s.add(switch_in(at(15 * kUs), 1, 101, 101));
    s.add(exit(at(20 * kUs), 101, 101, 1, raw, true, "dies"));
    s.add(switch_out(at(21 * kUs), 1, 101, 101, kTaskDead));
    RunModel m = s.correlate(test_end(at(1 * kMs)));
    const TaskRecord& t = only_task(m, 101);
    CHECK(t.exit_code == code);
    CHECK(t.exit_signal == signal);
    CHECK(t.core_dumped == core);
    CHECK(t.exited_ns == std::optional<uint64_t>(20 * kUs));
    CHECK(t.comm == "dies");
    CHECK(m.anomalies.total() == 0);
}

TEST_CASE("events for a task whose creation was not seen infer it", "[model]") {
    StreamBuilder s;
    SECTION("a switch-in of an unknown process") {
        s.add(switch_in(at(1 * kMs), 2, 555, 555));
        RunModel m = s.correlate(test_end(at(2 * kMs)));
        const TaskRecord& t = only_task(m, 555);
        CHECK(t.inferred);
        CHECK(t.tgid == 555);
        CHECK(t.kind == TaskKind::Process);
        CHECK_FALSE(t.created_ns.has_value());
        CHECK(t.oncpu_ns == 1 * kMs);
        CHECK(m.anomalies.unknown_tasks == 1);
    }
    SECTION("several events of an unknown thread: one task, one anomaly") {
        s.add(wakeup_new(at(1 * kMs), 556, kRoot, 0, 1));
        s.add(exit(at(2 * kMs), 556, kRoot, 0, 0));
        RunModel m = s.correlate(test_end(at(3 * kMs)));
        const TaskRecord& t = only_task(m, 556);
        CHECK(t.inferred);
        CHECK(t.kind == TaskKind::Thread);
        CHECK(t.wakeup_cpu == std::optional<uint32_t>(1));
        CHECK(t.exited_ns == std::optional<uint64_t>(2 * kMs));
        CHECK(m.anomalies.unknown_tasks == 1);
        CHECK(m.summary.threads == 1);
    }
    SECTION("the root is known from the metadata") {
        s.add(switch_in(at(1 * kMs), 0, kRoot, kRoot));
        s.add(exit(at(2 * kMs), kRoot, kRoot, 0, 0));
        RunModel m = s.correlate(test_end(at(3 * kMs)));
        CHECK(m.tasks.size() == 1);
        CHECK(m.anomalies.unknown_tasks == 0);
    }
}

TEST_CASE("a non-leader thread's exec takes over the leader's pid", "[model]") {
    // de_thread(): the other threads, the old leader included, exit first;
    // then the exec'ing thread takes the leader's pid.
    StreamBuilder s;
    s.add(switch_in(at(1 * kUs), 0, kRoot, kRoot));
    create(s, 10 * kUs, kRoot, kRoot, 0, CXT_SYS_CLONE3, thread_child(101, kRoot, 1));
    s.add(switch_in(at(15 * kUs), 1, 101, kRoot));
    s.add(syscall_enter(at(18 * kUs), 101, kRoot, 1, CXT_SYS_EXECVE, 1));
    s.add(exit(at(20 * kUs), kRoot, kRoot, 0, 0, false));
    s.add(switch_out(at(21 * kUs), 0, kRoot, kRoot, kTaskDead));
    ExecSpec spec;
    spec.old_pid = 101;
    spec.mm_id = 9;
    spec.comm = "newprog";
    s.add(exec(at(30 * kUs), kRoot, kRoot, 1, spec));
    s.add(switch_out(at(40 * kUs), 1, kRoot, kRoot));  // switch events name it by its new pid
    // Its old tid is free again: a new process may get it.
    s.add(switch_in(at(50 * kUs), 1, kRoot, kRoot));
    create(s, 60 * kUs, kRoot, kRoot, 1, CXT_SYS_CLONE, process_child(101, 3, 2));
    s.add(switch_out(at(70 * kUs), 1, kRoot, kRoot));
    RunModel m = s.correlate(test_end(at(1 * kMs)));

    auto with_root_pid = tasks_with_pid(m, kRoot);
    REQUIRE(with_root_pid.size() == 2);
    const TaskRecord& old_leader = *with_root_pid[0];
    const TaskRecord& execer = *with_root_pid[1];
    CHECK(old_leader.kind == TaskKind::Root);
    CHECK(old_leader.exited_ns == std::optional<uint64_t>(20 * kUs));
    CHECK(old_leader.oncpu_ns == 20 * kUs);
    CHECK(execer.kind == TaskKind::Thread);
    CHECK(execer.tgid == kRoot);
    REQUIRE(execer.execs.size() == 1);
    CHECK(execer.execs[0].pid_before == 101);
    CHECK(execer.execs[0].mm == 2);
    CHECK(execer.comm == "newprog");
    CHECK(execer.oncpu_ns == 25 * kUs + 20 * kUs);
    CHECK_FALSE(execer.exited_ns.has_value());
    const TaskRecord& reused = only_task(m, 101);
    CHECK(reused.kind == TaskKind::Process);
    CHECK(reused.parent_pid == kRoot);
    CHECK(m.anomalies.total() == 0);  // not a reuse of a live pid
}

TEST_CASE("tasks in a child PID namespace keep global ids and learn their own", "[model]") {
    constexpr uint32_t kNs = 4026532177u;
    StreamBuilder s;
    s.add(switch_in(at(1 * kUs), 0, kRoot, kRoot));
    // unshare --pid --fork: the root's child is the namespace's init (pid 1 inside, parent outside).
    create(s, 10 * kUs, kRoot, kRoot, 0, CXT_SYS_CLONE, process_child(101, 2, 1));
    s.add(pid_ns(at(11 * kUs + 1), 101, 101, 0, NamespaceIds{1, 1, 0, 1, kNs}));
    s.add(switch_out(at(12 * kUs), 0, kRoot, kRoot));
    s.add(switch_in(at(15 * kUs), 1, 101, 101));
    create(s, 20 * kUs, 101, 101, 1, CXT_SYS_CLONE3, thread_child(102, 101, 2));
    s.add(pid_ns(at(21 * kUs + 1), 102, 101, 1, NamespaceIds{2, 1, 0, 1, kNs}));
    // The thread execs: it takes over the leader's pid, outside and inside.
    s.add(exit(at(30 * kUs), 101, 101, 1, 0, false));
    s.add(switch_between(at(31 * kUs), 1, 101, 101, 102, 101));
    ExecSpec spec;
    spec.old_pid = 102;
    spec.mm_id = 3;
    s.add(exec(at(40 * kUs), 101, 101, 1, spec));
    RunModel m = s.correlate(test_end(at(1 * kMs)));

    CHECK_FALSE(only_task(m, kRoot).pid_ns.has_value());
    auto with_pid = tasks_with_pid(m, 101);
    REQUIRE(with_pid.size() == 2);
    const TaskRecord& init = *with_pid[0];
    REQUIRE(init.pid_ns.has_value());
    CHECK(init.pid_ns->pid == 1);
    CHECK(init.pid_ns->ppid == 0);
    CHECK(init.pid_ns->inum == kNs);
    const TaskRecord& execer = *with_pid[1];
    REQUIRE(execer.pid_ns.has_value());
    CHECK(execer.kind == TaskKind::Thread);
    CHECK(execer.pid_ns->pid == 1);  // was 2 before its exec
    CHECK(execer.pid_ns->tgid == 1);
    CHECK(m.anomalies.unknown_tasks == 0);
}

TEST_CASE("summary counts tasks, thread groups, threads and address spaces", "[model]") {
    StreamBuilder s;
    s.add(switch_in(at(1 * kUs), 0, kRoot, kRoot));
    create(s, 10 * kUs, kRoot, kRoot, 0, CXT_SYS_CLONE3, thread_child(101, kRoot, 1));
    create(s, 20 * kUs, kRoot, kRoot, 0, CXT_SYS_CLONE3, thread_child(102, kRoot, 1));
    create(s, 30 * kUs, kRoot, kRoot, 0, CXT_SYS_CLONE, process_child(103, 2, 1));
    s.add(switch_in(at(35 * kUs), 1, 103, 103));
    create(s, 40 * kUs, 103, 103, 1, CXT_SYS_CLONE3, thread_child(104, 103, 2, kRoot));
    create(s, 50 * kUs, kRoot, kRoot, 0, CXT_SYS_FORK, process_child(105, 3, 1));
    RunModel m = s.correlate(test_end(at(1 * kMs)));
    CHECK(m.summary.tasks == 6);
    CHECK(m.summary.processes == 3);  // tgids 100, 103, 105
    CHECK(m.summary.threads == 3);
    CHECK(m.summary.address_spaces == 3);
    CHECK(m.anomalies.total() == 0);
    CHECK(m.tasks.size() == 6);
    CHECK(m.tasks[0].pid == kRoot);  // the root first, then in order of creation
    for (size_t i = 1; i < m.tasks.size(); ++i) CHECK(m.tasks[i].pid == 100 + i);
}

TEST_CASE("latency statistics use nearest-rank percentiles", "[model]") {
    SECTION("1..10") {
        std::vector<uint64_t> values{7, 3, 10, 1, 9, 2, 8, 4, 6, 5};
        LatencyStats s = latency_stats(values);
        CHECK(s.count == 10);
        CHECK(s.min == 1);
        CHECK(s.p50 == 5);
        CHECK(s.p90 == 9);
        CHECK(s.max == 10);
    }
    SECTION("1..100") {
        std::vector<uint64_t> values(100);
        std::iota(values.begin(), values.end(), 1);
        std::reverse(values.begin(), values.end());
        LatencyStats s = latency_stats(values);
        CHECK(s.p50 == 50);
        CHECK(s.p90 == 90);
    }
    SECTION("small sets") {
        auto [values, p50, p90] = GENERATE(table<std::vector<uint64_t>, uint64_t, uint64_t>({
            {{42}, 42, 42},
            {{1, 2}, 1, 2},
            {{1, 2, 3}, 2, 3},
            {{1, 2, 3, 4}, 2, 4},
            {{5, 5, 5, 100}, 5, 100},
        }));
        LatencyStats s = latency_stats(values);
        CHECK(s.count == values.size());
        CHECK(s.p50 == p50);
        CHECK(s.p90 == p90);
    }
    SECTION("empty") {
        LatencyStats s = latency_stats({});
        CHECK(s.count == 0);
        CHECK(s.min == 0);
        CHECK(s.max == 0);
    }
    SECTION("percentile_of_sorted bounds") {
        std::vector<uint64_t> sorted{10, 20, 30};
        CHECK(percentile_of_sorted(sorted, 0) == 10);
        CHECK(percentile_of_sorted(sorted, 100) == 30);
        CHECK(percentile_of_sorted({}, 50) == 0);
    }
    SECTION("summary stats by kind from a stream") {
        StreamBuilder s;
        s.add(switch_in(at(1 * kUs), 0, kRoot, kRoot));
        for (uint32_t i = 1; i <= 10; ++i) {
            const uint64_t t = i * 100 * kUs;
            s.add(syscall_enter(at(t), kRoot, kRoot, 0, CXT_SYS_CLONE3, 1));
            s.add(task_new(at(t + 1), kRoot, kRoot, 0, thread_child(100 + i, kRoot, 1)));
            s.add(syscall_exit(at(t + 2), kRoot, kRoot, 0, CXT_SYS_CLONE3, 100 + i));
            s.add(switch_in(at(t + i * kUs), 1, 100 + i, kRoot));  // first_run = i us
            s.add(switch_out(at(t + 50 * kUs), 1, 100 + i, kRoot, kTaskDead));
        }
        RunModel m = s.correlate(test_end(at(2 * kMs)));
        const LatencyStats& first_run = m.summary.first_run_latency.at("thread");
        CHECK(first_run.count == 10);
        CHECK(first_run.min == 1 * kUs);
        CHECK(first_run.p50 == 5 * kUs);
        CHECK(first_run.p90 == 9 * kUs);
        CHECK(first_run.max == 10 * kUs);
        CHECK(m.summary.syscall_latency.at("thread").p50 == 2);
    }
}

TEST_CASE("comm changes are followed", "[model]") {
    StreamBuilder s;
    s.add(switch_in(at(1 * kUs), 0, kRoot, kRoot));
    s.add(rename(at(2 * kUs), kRoot, kRoot, 0, "cxtrace", "python3"));
    s.add(rename(at(9 * kUs), kRoot, kRoot, 0, "python3", "student-task"));
    RunModel m = s.correlate(test_end(at(10 * kUs)));
    const TaskRecord& root = only_task(m, kRoot);
    CHECK(root.comm == "student-task");
    REQUIRE(root.renames.size() == 2);
    CHECK(root.renames[0].comm == "python3");
    CHECK(root.renames[0].ts_ns == 2 * kUs);
    CHECK(root.renames[1].comm == "student-task");
    CHECK(m.anomalies.total() == 0);
}

TEST_CASE("wakeups name their traced waker", "[model]") {
    StreamBuilder s;
    s.add(switch_in(at(1 * kUs), 0, kRoot, kRoot));
    NewTask child;
    child.pid = 101;
    child.tgid = 101;
    child.ppid = kRoot;
    child.clone_flags = kForkFlags;
    child.mm_id = 9;
    child.creator_mm_id = 8;
    child.comm = "reader";
    s.add(task_new(at(2 * kUs), kRoot, kRoot, 0, child));
    s.add(wakeup(at(5 * kUs), 101, 101, 0, kRoot, kRoot, 1));  // the root woke it
    s.add(wakeup(at(6 * kUs), 101, 101, 0, kRoot, kRoot, 1));
    s.add(wakeup(at(7 * kUs), 101, 101, 0, 0, 0, 1));          // from an interrupt on an idle CPU
    s.add(wakeup(at(8 * kUs), 101, 101, 0, 4242, 4242, 1));    // an untraced waker
    RunModel m = s.correlate(test_end(at(10 * kUs)));
    const TaskRecord& reader = only_task(m, 101);
    CHECK(reader.wakeups == 4);
    CHECK(reader.woken_by == std::map<uint32_t, uint64_t>{{kRoot, 2}});
    CHECK(m.anomalies.unknown_tasks == 0);
}

TEST_CASE("wakeups and CPU time are summed per waker and per CPU, whatever their order", "[model]") {
    // The correlator sums runs of the same waker (CPU) before it adds them
    // to the task's maps: a waker or CPU that comes back must add to its
    // first sum, not replace it.
    const uint32_t other = 102;
    StreamBuilder s;
    s.add(switch_in(at(1 * kUs), 0, kRoot, kRoot));
    NewTask child = process_child(101, 9, 8);
    s.add(task_new(at(2 * kUs), kRoot, kRoot, 0, child));
    s.add(task_new(at(3 * kUs), kRoot, kRoot, 0, process_child(other, 10, 8)));
    s.add(wakeup(at(5 * kUs), 101, 101, 0, kRoot, kRoot, 1));
    s.add(wakeup(at(6 * kUs), 101, 101, 0, kRoot, kRoot, 1));
    s.add(wakeup(at(7 * kUs), 101, 101, 0, other, other, 1));
    s.add(wakeup(at(8 * kUs), 101, 101, 0, kRoot, kRoot, 1));
    // 101 runs on cpu1 [10,20), cpu2 [30,35), cpu1 [40,44), cpu1 [50,51) us.
    s.add(switch_in(at(10 * kUs), 1, 101, 101));
    s.add(switch_out(at(20 * kUs), 1, 101, 101));
    s.add(switch_in(at(30 * kUs), 2, 101, 101));
    s.add(switch_out(at(35 * kUs), 2, 101, 101));
    s.add(switch_in(at(40 * kUs), 1, 101, 101));
    s.add(switch_out(at(44 * kUs), 1, 101, 101));
    s.add(switch_in(at(50 * kUs), 1, 101, 101));
    s.add(switch_out(at(51 * kUs), 1, 101, 101));
    RunModel m = s.correlate(test_end(at(100 * kUs)));
    const TaskRecord& woken = only_task(m, 101);
    CHECK(woken.wakeups == 4);
    CHECK(ns_map(woken.woken_by) == ns_map({{kRoot, 3}, {other, 1}}));
    CHECK(ns_map(woken.cpu_ns) == ns_map({{1, 15 * kUs}, {2, 5 * kUs}}));
    CHECK(woken.oncpu_ns == 20 * kUs);
    // Its first wakeup made it runnable; the others found it so: counted,
    // not used, and nothing repaired.
    CHECK(m.anomalies.wakeups_not_sleeping == 3);
    CHECK(m.anomalies.repairs() == 0);
}

TEST_CASE("a trace file correlates as its events added one by one", "[model]") {
    // correlate_trace_file decodes into the correlator's own storage
    // (event_slot/add_slot); add() takes finished events. Same model.
    const std::string path = CXTRACE_TEST_DATA "/process-vs-thread-n5.cxt";
    auto from_file = correlate_trace_file(path);
    REQUIRE(from_file);

    auto reader = TraceReader::open(path);
    REQUIRE(reader);
    Correlator correlator(reader->meta());
    size_t events = 0;
    for (;;) {
        auto next = reader->next();
        REQUIRE(next);
        if (!*next) break;
        correlator.add(std::move(**next));
        ++events;
    }
    RunModel one_by_one = correlator.finish(reader->end());
    // Longer than the reorder window: storage is reused as events are processed.
    REQUIRE(events > 50);
    REQUIRE(one_by_one.run.duration_ns > 2 * Correlator::kReorderWindowNs);
    CHECK(without_anomalies(*from_file) == without_anomalies(one_by_one));
    CHECK(report_json(*from_file)["anomalies"] == report_json(one_by_one)["anomalies"]);
}

TEST_CASE("a window that fills up as events get denser keeps them all, in order", "[model]") {
    // 1 event per 100 us for 200 ms (2000 events, the window moving on),
    // then 1 per 4 us for 100 ms (25000, about 12500 at once in the 50 ms
    // window): its storage grows while in use, past its first size. Each
    // event is a switch of the root in or out, so every one of them shows
    // in the intervals.
    StreamBuilder s;
    std::vector<uint64_t> times;
    for (uint64_t t = 1 * kMs; t < 201 * kMs; t += 100 * kUs) times.push_back(t);
    for (uint64_t t = 201 * kMs; t < 301 * kMs; t += 4 * kUs) times.push_back(t);
    if (times.size() % 2) times.pop_back();
    for (size_t i = 0; i < times.size(); ++i)
        s.add(i % 2 == 0 ? switch_in(at(times[i]), 0, kRoot, kRoot) : switch_out(at(times[i]), 0, kRoot, kRoot));
    const TraceEnd end = test_end(at(400 * kMs));

    const RunModel in_order = s.correlate(end);
    REQUIRE(in_order.intervals.size() == times.size() / 2);
    uint64_t oncpu = 0;
    for (size_t i = 0; i + 1 < times.size(); i += 2) oncpu += times[i + 1] - times[i];
    CHECK(only_task(in_order, kRoot).oncpu_ns == oncpu);
    CHECK(in_order.anomalies.total() == 0);

    // Neighbours swapped at random: each late one is moved back into place.
    std::mt19937 rng(7);
    std::vector<size_t> order(times.size());
    std::iota(order.begin(), order.end(), 0);
    size_t swapped = 0;
    for (size_t i = 0; i + 1 < order.size(); ++i)
        if (rng() % 3 == 0) std::swap(order[i], order[i + 1]), ++swapped, ++i;
    REQUIRE(swapped > 1000);
    const RunModel shuffled = s.correlate_in_order(order, end);
    CHECK(without_anomalies(shuffled) == without_anomalies(in_order));
    CHECK(shuffled.anomalies.reordered_events == swapped);
    CHECK(shuffled.anomalies.late_events == 0);
}

TEST_CASE("basename_of gives the last component of a path, as basename(1) does", "[model]") {
    CHECK(cxt::basename_of("/usr/bin/python3") == "python3");
    CHECK(cxt::basename_of("python3") == "python3");
    CHECK(cxt::basename_of("runs/a/") == "a");
    CHECK(cxt::basename_of("runs/a//") == "a");
    CHECK(cxt::basename_of("/") == "/");
    CHECK(cxt::basename_of("//") == "/");
    CHECK(cxt::basename_of("").empty());
}

TEST_CASE("the running count sweeps intervals in any order, ends before starts at equal times", "[model]") {
    // Listed as the correlator lists them, by end, plus one listed late
    // ([0,3) after [4,6)) and one of no length at 5.
    const std::vector<OnCpuInterval> intervals = {
        {0, 0, 2, 4}, {1, 1, 4, 6}, {2, 1, 0, 3}, {3, 0, 5, 5}, {1, 0, 6, 9},
    };
    std::vector<std::tuple<uint64_t, uint64_t, uint32_t>> seen;
    const uint64_t last = for_each_running_count(intervals, 0, [&](uint64_t from, uint64_t to, uint32_t running) {
        seen.emplace_back(from, to, running);
    });
    // [0,2) 1, [2,3) 2, [3,4) 1, [4,6) 1 (one ends at 4 as the next starts), [6,9) 1.
    const std::vector<std::tuple<uint64_t, uint64_t, uint32_t>> want = {
        {0, 2, 1}, {2, 3, 2}, {3, 4, 1}, {4, 5, 1}, {5, 6, 1}, {6, 9, 1}};
    CHECK(seen == want);
    CHECK(last == 9);

    SECTION("intervals already in start and end order are swept without a sorted copy") {
        std::vector<std::tuple<uint64_t, uint64_t, uint32_t>> in_order;
        for_each_running_count(std::vector<OnCpuInterval>{{0, 0, 1, 2}, {0, 0, 3, 5}}, 0,
                               [&](uint64_t from, uint64_t to, uint32_t running) { in_order.emplace_back(from, to, running); });
        CHECK(in_order == std::vector<std::tuple<uint64_t, uint64_t, uint32_t>>{{0, 1, 0}, {1, 2, 1}, {2, 3, 0}, {3, 5, 1}});
    }
    SECTION("brute force over a random set agrees") {
        std::mt19937_64 random(7);
        std::vector<OnCpuInterval> many;
        for (uint32_t k = 0; k < 500; ++k) {
            const uint64_t start = random() % 10'000, length = random() % 300;
            many.push_back({k, k % 4, start, start + length});
        }
        std::stable_sort(many.begin(), many.end(), [](const auto& a, const auto& b) { return a.end_ns < b.end_ns; });
        std::swap(many[10], many[400]);  // and two listed out of end order
        std::vector<uint64_t> ns_at(20'000);
        for_each_running_count(many, 0, [&](uint64_t from, uint64_t to, uint32_t running) {
            for (uint64_t t = from; t < to; ++t) ns_at[t] = running;
        });
        size_t wrong = 0;
        for (uint64_t t = 0; t < ns_at.size(); ++t) {
            uint32_t covering = 0;
            for (const OnCpuInterval& iv : many) covering += iv.start_ns <= t && t < iv.end_ns;
            wrong += ns_at[t] != covering;
        }
        CHECK(wrong == 0);
    }
}
