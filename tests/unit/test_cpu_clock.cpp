// The kernel's CPU clock in switch events (event ABI 3): cpu_time_ns, and
// on-CPU time the switch events did not show, recovered from it; phases.
#include <catch2/catch.hpp>

#include "approximations.h"
#include "correlator.h"
#include "event_builder.h"
#include "findings.h"
#include "json_report.h"

using namespace cxt;
using namespace cxt::test;
using Catch::Matchers::Contains;
using nlohmann::json;

namespace {

constexpr uint32_t kOther = 101;

Record in(uint64_t ts, uint16_t cpu, uint32_t pid, uint64_t runtime, uint32_t from = 0) {
    SwitchSpec spec;
    spec.prev_pid = spec.prev_tgid = from;
    spec.next_pid = spec.next_tgid = pid;
    spec.next_tracked = true;
    spec.next_runtime = runtime;
    return sched_switch(ts, cpu, spec);
}

Record out(uint64_t ts, uint16_t cpu, uint32_t pid, uint64_t runtime, uint32_t to = 0, uint32_t state = 0) {
    SwitchSpec spec;
    spec.prev_pid = spec.prev_tgid = pid;
    spec.prev_tracked = true;
    spec.prev_runtime = runtime;
    spec.prev_state = state;
    spec.next_pid = spec.next_tgid = to;
    return sched_switch(ts, cpu, spec);
}

std::string intervals_of(const RunModel& m) {
    std::string text;
    for (const OnCpuInterval& iv : m.intervals)
        text += std::to_string(m.tasks[iv.task].pid) + "@cpu" + std::to_string(iv.cpu) + "[" +
                std::to_string(iv.start_ns / kUs) + "," + std::to_string(iv.end_ns / kUs) + ") ";
    return text;
}

}  // namespace

TEST_CASE("cpu_time_ns is the kernel's clock at the last switch-out", "[model][cpu-clock]") {
    StreamBuilder s;
    s.add(in(at(1 * kMs), 0, kRoot, 7 * kMs));
    s.add(out(at(2 * kMs), 0, kRoot, 7 * kMs + 900 * kUs));  // 0.9 ms of CPU in 1 ms on CPU: an interrupt
    s.add(in(at(4 * kMs), 1, kRoot, 7 * kMs + 900 * kUs));
    s.add(out(at(5 * kMs), 1, kRoot, 8 * kMs + 800 * kUs));
    RunModel m = s.correlate(test_end(at(6 * kMs)));
    const TaskRecord& root = only_task(m, kRoot);
    CHECK(root.cpu_time_ns == std::optional<uint64_t>(8 * kMs + 800 * kUs));
    CHECK(root.oncpu_ns == 2 * kMs);
    CHECK(root.repairs == 0);
    CHECK_FALSE(m.run.approximate);
    CHECK(approximation_notes(m).empty());
    // Per phase, only the CPU time the run saw: 1.8 ms, not the 7 ms before tracing.
    REQUIRE(m.phases.size() == 1);
    CHECK(m.phases[0].cpu_time_ns == std::optional<uint64_t>(1800 * kUs));
}

TEST_CASE("a switch-out without its switch-in is placed from the task's CPU clock", "[model][cpu-clock]") {
    // The root runs [1,2) ms; the kernel then never reports its switch-in
    // at 5 ms, only its switch-out at 9 ms, by which its clock rose 4 ms.
    StreamBuilder s;
    s.add(in(at(1 * kMs), 0, kRoot, 0));
    s.add(out(at(2 * kMs), 0, kRoot, 1 * kMs));

    SECTION("the CPU was free: the whole run is placed before the switch-out") {
        s.add(out(at(9 * kMs), 0, kRoot, 5 * kMs));
        RunModel m = s.correlate(test_end(at(10 * kMs)));
        const TaskRecord& root = only_task(m, kRoot);
        CHECK(intervals_of(m) == "100@cpu0[1000,2000) 100@cpu0[5000,9000) ");
        CHECK(root.oncpu_ns == 5 * kMs);
        CHECK(root.cpu_time_ns == std::optional<uint64_t>(5 * kMs));
        CHECK(root.recovered_oncpu_ns == 4 * kMs);
        CHECK(root.unplaced_cpu_ns == 0);
        CHECK(root.switches_in == 2);
        CHECK(m.anomalies.switch_out_not_running == 1);
        CHECK(m.anomalies.recovered_intervals == 1);
        CHECK(m.anomalies.recovered_oncpu_ns == 4 * kMs);
        // The parallelism is recounted with the recovered interval in it.
        CHECK(m.summary.parallelism_ns == std::map<uint32_t, uint64_t>{{0, 5 * kMs}, {1, 5 * kMs}});
        CHECK(m.run.approximate);
        auto notes = approximation_notes(m);
        REQUIRE(notes.size() == 2);
        CHECK_THAT(notes[0], Contains("leaving a CPU without having reported it arriving once") &&
                                 Contains("4.00 ms of on-CPU time were placed"));
        CHECK(notes[1] == "Tasks affected: pid 100 (" + root.comm + ").");
        json report = report_json(m);
        CHECK(report["run"]["approximate"] == true);
        CHECK(report["summary"]["approximations"].size() == 2);
        CHECK(report["tasks"][0]["cpu_time_ns"] == 5 * kMs);
        CHECK(report["tasks"][0]["recovered_oncpu_ns"] == 4 * kMs);
    }
    SECTION("an older trace without the clock keeps the old behaviour, and says so") {
        StreamBuilder old;
        SwitchSpec spec;
        spec.next_pid = spec.next_tgid = kRoot;
        spec.next_tracked = true;
        spec.abi2_layout = true;
        old.add(sched_switch(at(1 * kMs), 0, spec));
        SwitchSpec leave;
        leave.prev_pid = leave.prev_tgid = kRoot;
        leave.prev_tracked = true;
        leave.abi2_layout = true;
        old.add(sched_switch(at(2 * kMs), 0, leave));
        old.add(sched_switch(at(9 * kMs), 0, leave));
        RunModel m = old.correlate(test_end(at(10 * kMs)));
        const TaskRecord& root = only_task(m, kRoot);
        CHECK(root.oncpu_ns == 1 * kMs);
        CHECK_FALSE(root.cpu_time_ns.has_value());
        CHECK(m.anomalies.switch_out_not_running == 1);
        CHECK(m.run.approximate);
        auto notes = approximation_notes(m);
        REQUIRE_FALSE(notes.empty());
        CHECK_THAT(notes[0], Contains("no CPU clock readings"));
        CHECK(report_json(m)["tasks"][0]["cpu_time_ns"].is_null());
    }
}

TEST_CASE("unseen CPU time is placed only where the CPU was free of traced tasks", "[model][cpu-clock]") {
    // kOther holds cpu 0 over [4,6) ms; the root's unseen 4 ms before its
    // switch-out at 9 ms can start no earlier than 6 ms: 3 ms placed, 1 ms not.
    StreamBuilder s;
    s.add(in(at(1 * kMs), 0, kRoot, 0));
    s.add(syscall_enter(at(1100 * kUs), kRoot, kRoot, 0, CXT_SYS_CLONE, 1, kForkFlags));
    NewTask child;
    child.pid = child.tgid = kOther;
    child.ppid = kLauncher;
    s.add(task_new(at(1200 * kUs), kRoot, kRoot, 0, child));
    s.add(syscall_exit(at(1300 * kUs), kRoot, kRoot, 0, CXT_SYS_CLONE, kOther));
    s.add(out(at(2 * kMs), 0, kRoot, 1 * kMs));
    s.add(in(at(4 * kMs), 0, kOther, 0));
    s.add(out(at(6 * kMs), 0, kOther, 2 * kMs));
    s.add(out(at(9 * kMs), 0, kRoot, 5 * kMs));
    RunModel m = s.correlate(test_end(at(10 * kMs)));
    const TaskRecord& root = only_task(m, kRoot);
    CHECK(root.recovered_oncpu_ns == 3 * kMs);
    CHECK(root.unplaced_cpu_ns == 1 * kMs);
    CHECK(root.oncpu_ns == 4 * kMs);
    CHECK(m.anomalies.unplaced_cpu == 1);
    CHECK(m.summary.max_parallelism == 1);  // never two on one CPU
    auto notes = approximation_notes(m);
    REQUIRE(notes.size() == 3);
    CHECK_THAT(notes[1], Contains("1.00 ms of CPU time (once)") && Contains("could not be placed"));
}

TEST_CASE("the recount of the parallelism after a placed run takes intervals that start out of order", "[model][cpu-clock]") {
    // The root holds cpu 0 over [1,9) ms while kOther runs three short
    // slices on cpu 1: the root's interval ends, and so is listed, after
    // slices that start later. Then 3 ms of the root's clock rise with no
    // switch-in: placed at [12,15) on cpu 0, while kOther runs [10,13) on cpu 1.
    StreamBuilder s;
    s.add(in(at(1 * kMs), 0, kRoot, 0));
    s.add(syscall_enter(at(1100 * kUs), kRoot, kRoot, 0, CXT_SYS_CLONE, 1, kForkFlags));
    NewTask child;
    child.pid = child.tgid = kOther;
    child.ppid = kLauncher;
    s.add(task_new(at(1200 * kUs), kRoot, kRoot, 0, child));
    s.add(syscall_exit(at(1300 * kUs), kRoot, kRoot, 0, CXT_SYS_CLONE, kOther));
    for (uint64_t start : {2, 4, 6}) {
        s.add(in(at(start * kMs), 1, kOther, (start / 2 - 1) * kMs));
        s.add(out(at((start + 1) * kMs), 1, kOther, (start / 2) * kMs));
    }
    s.add(out(at(9 * kMs), 0, kRoot, 8 * kMs));
    s.add(in(at(10 * kMs), 1, kOther, 3 * kMs));
    s.add(out(at(13 * kMs), 1, kOther, 6 * kMs));
    s.add(out(at(15 * kMs), 0, kRoot, 11 * kMs));
    RunModel m = s.correlate(test_end(at(16 * kMs)));
    REQUIRE(m.anomalies.recovered_intervals == 1);
    CHECK(intervals_of(m) == "101@cpu1[2000,3000) 101@cpu1[4000,5000) 101@cpu1[6000,7000) 100@cpu0[1000,9000) "
                             "101@cpu1[10000,13000) 100@cpu0[12000,15000) ");
    // One on a CPU over [1,2) [3,4) [5,6) [7,9) [10,12) [13,15); two over
    // [2,3) [4,5) [6,7) [12,13); none over [0,1) [9,10) [15,16).
    CHECK(m.summary.parallelism_ns == std::map<uint32_t, uint64_t>{{0, 3 * kMs}, {1, 9 * kMs}, {2, 4 * kMs}});
    CHECK(m.summary.max_parallelism == 2);
}

TEST_CASE("a clock that rose while no switch event had the task on a CPU is unplaced", "[model][cpu-clock]") {
    StreamBuilder s;
    s.add(in(at(1 * kMs), 0, kRoot, 0));
    s.add(out(at(2 * kMs), 0, kRoot, 1 * kMs));
    s.add(in(at(8 * kMs), 1, kRoot, 3 * kMs));  // 2 ms of CPU somewhere, with no switch event at all
    s.add(out(at(9 * kMs), 1, kRoot, 4 * kMs));
    RunModel m = s.correlate(test_end(at(10 * kMs)));
    const TaskRecord& root = only_task(m, kRoot);
    CHECK(root.unplaced_cpu_ns == 2 * kMs);
    CHECK(root.recovered_oncpu_ns == 0);
    CHECK(root.oncpu_ns == 2 * kMs);
    CHECK(root.cpu_time_ns == std::optional<uint64_t>(4 * kMs));
    CHECK(m.run.approximate);
}

TEST_CASE("a switch-in inferred from a syscall is extended back by the CPU clock", "[model][cpu-clock]") {
    // The switch-in at 5 ms is missing; a syscall at 7 ms proves the root is
    // on cpu 0 (an inferred switch-in); the switch-out at 9 ms shows 4 ms ran.
    StreamBuilder s;
    s.add(in(at(1 * kMs), 0, kRoot, 0));
    s.add(out(at(2 * kMs), 0, kRoot, 1 * kMs));
    s.add(syscall_enter(at(7 * kMs), kRoot, kRoot, 0, CXT_SYS_EXECVE, 1));
    s.add(out(at(9 * kMs), 0, kRoot, 5 * kMs));
    RunModel m = s.correlate(test_end(at(10 * kMs)));
    CHECK(intervals_of(m) == "100@cpu0[1000,2000) 100@cpu0[5000,9000) ");
    CHECK(m.anomalies.inferred_switch_ins == 1);
    CHECK(m.anomalies.recovered_oncpu_ns == 2 * kMs);
    CHECK(m.summary.parallelism_ns == std::map<uint32_t, uint64_t>{{0, 5 * kMs}, {1, 5 * kMs}});
    // Its states say the same: the 2 ms placed before the inferred switch-in
    // were running, not runnable (preempted at 2 ms, it could run from then).
    const TaskRecord& root = only_task(m, kRoot);
    REQUIRE(root.states);
    CHECK((*root.states)[RunState::Running] == root.oncpu_ns);
    CHECK((*root.states)[RunState::Running] == 5 * kMs);
    CHECK((*root.states)[RunState::Runnable] == 4 * kMs);  // [2,5) and [9,10)
    CHECK(root.states->total() == 9 * kMs);
    REQUIRE(m.phases.size() == 1);
    REQUIRE(m.phases[0].states);
    CHECK(m.phases[0].states->ns == root.states->ns);
    // The stretch off the CPU before it ends where the placed run begins.
    std::vector<std::pair<uint64_t, uint64_t>> off;
    for (const OffCpuInterval& o : m.off_cpu) off.emplace_back(o.start_ns / kUs, o.end_ns / kUs);
    CHECK(off == std::vector<std::pair<uint64_t, uint64_t>>{{2000, 5000}, {9000, 10000}});
}

TEST_CASE("a run the switch events did not show is placed no earlier than the task was woken", "[model][cpu-clock]") {
    // The root sleeps from 2 ms and is woken at 6 ms; its switch-in is never
    // reported; at 9 ms its clock shows 4 ms ran. It could only run from
    // 6 ms: 3 ms are placed, 1 ms is not, and its wait is left whole.
    StreamBuilder s;
    s.add(in(at(1 * kMs), 0, kRoot, 0));
    s.add(out(at(2 * kMs), 0, kRoot, 1 * kMs, 0, kInterruptible));
    s.add(wakeup(at(6 * kMs), kRoot, kRoot, 1, kOther, kOther, 0));
    SECTION("a syscall at 7 ms infers the switch-in") {
        s.add(syscall_enter(at(7 * kMs), kRoot, kRoot, 0, CXT_SYS_EXECVE, 1));
    }
    SECTION("nothing shows it before its switch-out") {}
    s.add(out(at(9 * kMs), 0, kRoot, 5 * kMs));
    RunModel m = s.correlate(test_end(at(10 * kMs)));
    const TaskRecord& root = only_task(m, kRoot);
    CHECK(intervals_of(m) == "100@cpu0[1000,2000) 100@cpu0[6000,9000) ");
    CHECK(root.unplaced_cpu_ns == 1 * kMs);
    REQUIRE(root.states);
    CHECK((*root.states)[RunState::Running] == root.oncpu_ns);
    CHECK((*root.states)[RunState::Running] == 4 * kMs);
    CHECK((*root.states)[RunState::Sleeping] == 4 * kMs);  // [2,6)
    CHECK((*root.states)[RunState::Runnable] == 1 * kMs);  // [9,10)
    REQUIRE(root.waits.size() == 1);
    CHECK(root.waits[0].ns == 4 * kMs);
    // The stretch asleep has no runnable part: it ends at its wakeup.
    REQUIRE(m.off_cpu.size() == 2);
    CHECK((m.off_cpu[0].start_ns == 2 * kMs && m.off_cpu[0].woken_ns == 6 * kMs && m.off_cpu[0].end_ns == 6 * kMs));
}

TEST_CASE("phases begin at markers and carry their own figures", "[model][phases]") {
    // "@one" before anything was created names the run from its start; "@two"
    // at 5 ms starts a second phase. The root runs [1,7) ms on cpu 0, a thread
    // created at 6 ms (while the root's comm is the marker) runs [6.5,8) on cpu 1.
    StreamBuilder s;
    s.add(in(at(1 * kMs), 0, kRoot, 0));
    ExecSpec program;
    program.comm = "cpu-bound";
    s.add(exec(at(1200 * kUs), kRoot, kRoot, 0, program));
    s.add(rename(at(1500 * kUs), kRoot, kRoot, 0, "cpu-bound", "@one"));
    s.add(rename(at(1600 * kUs), kRoot, kRoot, 0, "@one", "cpu-bound"));
    s.add(rename(at(5 * kMs), kRoot, kRoot, 0, "cpu-bound", "@two"));
    s.add(syscall_enter(at(6 * kMs), kRoot, kRoot, 0, CXT_SYS_CLONE3, 1));
    NewTask thread;
    thread.pid = kOther;
    thread.tgid = kRoot;
    thread.ppid = kLauncher;
    thread.clone_flags = kPthreadFlags;
    thread.mm_id = thread.creator_mm_id = 1;
    thread.comm = "@two";
    s.add(task_new(at(6 * kMs + 10 * kUs), kRoot, kRoot, 0, thread));
    s.add(syscall_exit(at(6 * kMs + 20 * kUs), kRoot, kRoot, 0, CXT_SYS_CLONE3, kOther));
    s.add(in(at(6500 * kUs), 1, kOther, 0));
    s.add(out(at(7 * kMs), 0, kRoot, 6 * kMs));
    s.add(out(at(8 * kMs), 1, kOther, 1500 * kUs, 0, kTaskDead));
    s.add(exit(at(7900 * kUs), kOther, kRoot, 1, 0, false, "@two"));
    RunModel m = s.correlate(test_end(at(10 * kMs)));

    const TaskRecord& root = only_task(m, kRoot);
    CHECK(root.comm == "cpu-bound");
    CHECK(root.renames.empty());  // the markers and the name put back are not renames
    CHECK(only_task(m, kOther).comm == root.comm);  // named as its creator, not after the marker

    REQUIRE(m.phases.size() == 2);
    const Phase& one = m.phases[0];
    const Phase& two = m.phases[1];
    CHECK(one.name == "one");
    CHECK(one.start_ns == 0);
    CHECK(one.end_ns == 5 * kMs);
    CHECK(one.marked_by == kRoot);
    CHECK(one.created.empty());
    CHECK(one.oncpu_ns == 4 * kMs);
    CHECK(one.parallelism_ns == std::map<uint32_t, uint64_t>{{0, 1 * kMs}, {1, 4 * kMs}});
    CHECK(two.name == "two");
    CHECK(two.start_ns == 5 * kMs);
    CHECK(two.end_ns == 10 * kMs);
    CHECK(two.created == std::map<std::string, uint64_t>{{"thread", 1}});
    CHECK(two.first_run_latency.at("thread").p50 == 500 * kUs);
    CHECK(two.oncpu_ns == 2 * kMs + 1500 * kUs);
    CHECK(two.max_parallelism == 2);
    CHECK(two.parallelism_ns == std::map<uint32_t, uint64_t>{{0, 2 * kMs}, {1, 2500 * kUs}, {2, 500 * kUs}});
    // The root's 6 ms of CPU over [1,7) ms is shared by wall time: 4 ms, 2 ms.
    CHECK(one.cpu_time_ns == std::optional<uint64_t>(4 * kMs));
    CHECK(two.cpu_time_ns == std::optional<uint64_t>(2 * kMs + 1500 * kUs));
    CHECK(two.cpu_time_by_kind.at("thread") == 1500 * kUs);

    json phases = report_json(m)["phases"];
    REQUIRE(phases.size() == 2);
    CHECK(phases[1]["name"] == "two");
    CHECK(phases[1]["tasks_created"]["thread"] == 1);
    CHECK(phases[1]["duration_ns"] == 5 * kMs);

    bool compared = false;
    for (const Finding& f : findings(m))
        if (f.text.rfind("Phase by phase", 0) == 0) {
            compared = true;
            CHECK(f.text == "Phase by phase, the share of the time with a traced task on a CPU that had two or more "
                            "on CPUs at once: \"one\" 0% (at most 1 at once, nearly always one at a time); \"two\" "
                            "17% (at most 2 at once).");
        }
    CHECK(compared);
}

TEST_CASE("a run without markers is one phase, the whole run", "[model][phases]") {
    StreamBuilder s;
    s.add(in(at(1 * kMs), 0, kRoot, 0));
    s.add(out(at(3 * kMs), 0, kRoot, 2 * kMs));
    RunModel m = s.correlate(test_end(at(4 * kMs)));
    REQUIRE(m.phases.size() == 1);
    CHECK(m.phases[0].name == "whole run");
    CHECK(m.phases[0].end_ns == 4 * kMs);
    CHECK(m.phases[0].oncpu_ns == 2 * kMs);
    for (const Finding& f : findings(m)) CHECK_THAT(f.text, !Contains("Phase by phase"));
}

TEST_CASE("a marker after the first creation leaves an opening phase", "[model][phases]") {
    StreamBuilder s;
    s.add(in(at(1 * kMs), 0, kRoot, 0));
    s.add(syscall_enter(at(1100 * kUs), kRoot, kRoot, 0, CXT_SYS_CLONE, 1, kForkFlags));
    NewTask child;
    child.pid = child.tgid = kOther;
    child.ppid = kRoot;
    s.add(task_new(at(1200 * kUs), kRoot, kRoot, 0, child));
    s.add(syscall_exit(at(1300 * kUs), kRoot, kRoot, 0, CXT_SYS_CLONE, kOther));
    s.add(rename(at(2 * kMs), kRoot, kRoot, 0, "x", "@"));
    RunModel m = s.correlate(test_end(at(4 * kMs)));
    REQUIRE(m.phases.size() == 2);
    CHECK(m.phases[0].name == "before the first marker");
    CHECK(m.phases[0].created == std::map<std::string, uint64_t>{{"process", 1}});
    CHECK(m.phases[1].name == "phase 2");  // "@" alone: numbered
}

TEST_CASE("on-CPU time and the kernel's clock: a difference is explained, agreement is not remarked", "[model][cpu-clock][report]") {
    auto clock_sentence = [](const RunModel& m) {
        std::string found;
        for (const Finding& f : findings(m))
            if (f.text.rfind("Switch events put", 0) == 0) found = f.text;
        return found;
    };
    StreamBuilder s;
    s.add(in(at(1 * kMs), 0, kRoot, 0));
    SECTION("the clock counted 10% less: interrupts and steal") {
        s.add(out(at(101 * kMs), 0, kRoot, 90 * kMs));
        RunModel m = s.correlate(test_end(at(102 * kMs)));
        CHECK(clock_sentence(m) ==
              "Switch events put the traced tasks on CPUs for 100.00 ms; the kernel's own CPU clock for them "
              "(cpu_time_ns) counted 90.00 ms, 10% less: that clock leaves out time a CPU spent handling interrupts "
              "and, in a virtual machine, time the host took the CPU away (steal), which wall time between switch "
              "events includes.");
    }
    SECTION("within 2%: nothing to say") {
        s.add(out(at(101 * kMs), 0, kRoot, 99 * kMs));
        RunModel m = s.correlate(test_end(at(102 * kMs)));
        CHECK(clock_sentence(m).empty());
    }
    SECTION("running the events never showed") {
        s.add(out(at(2 * kMs), 0, kRoot, 1 * kMs));
        s.add(in(at(50 * kMs), 1, kRoot, 9 * kMs));  // 8 ms unseen, nowhere to place it
        s.add(out(at(51 * kMs), 1, kRoot, 10 * kMs));
        RunModel m = s.correlate(test_end(at(52 * kMs)));
        CHECK_THAT(clock_sentence(m), Contains("counted 10.00 ms, 400% more: 8.00 ms of their running was never shown"));
    }
}
