// Where each task's time went: states, waits, wakers and locks, from
// synthetic streams (event ABI 4).
#include <algorithm>
#include <vector>

#include <catch2/catch.hpp>

#include "event_builder.h"
#include "findings.h"
#include "waits.h"

using namespace cxt;
using namespace cxt::test;

namespace {

uint64_t state_ns(const TaskRecord& task, RunState state) {
    REQUIRE(task.states);
    return (*task.states)[state];
}

const WaitRecord& only_wait(const TaskRecord& task, int32_t syscall) {
    const WaitRecord* found = nullptr;
    for (const WaitRecord& wait : task.waits)
        if (wait.syscall == syscall) {
            REQUIRE(found == nullptr);
            found = &wait;
        }
    REQUIRE(found != nullptr);
    return *found;
}

// An event ABI 3 switch (no wait fields) of the root onto CPU 0, or off it to sleep.
Record abi3_switch(uint64_t ts, bool in) {
    SwitchSpec spec;
    if (in) {
        spec.next_pid = spec.next_tgid = kRoot;
        spec.next_tracked = true;
    } else {
        spec.prev_pid = spec.prev_tgid = kRoot;
        spec.prev_tracked = true;
        spec.prev_state = kInterruptible;
    }
    spec.abi3_layout = true;
    return sched_switch(ts, 0, spec);
}

}  // namespace

TEST_CASE("every moment of a task's traced life is in one state, and the states add up to it exactly", "[states]") {
    RunModel m = thread_story().correlate(test_end(at(300 * kUs)));
    const TaskRecord& thread = only_task(m, kThread);
    CHECK(state_ns(thread, RunState::Running) == 60 * kUs);   // 30-50, 90-100, 120-130, 160-170, 210-220
    CHECK(state_ns(thread, RunState::Runnable) == 59 * kUs);  // 21-30, 80-90, 100-120, 150-160, 200-210
    CHECK(state_ns(thread, RunState::Sleeping) == 60 * kUs);  // 50-80, 170-200
    CHECK(state_ns(thread, RunState::Blocked) == 20 * kUs);   // 130-150
    CHECK(state_ns(thread, RunState::Other) == 0);
    CHECK(thread.states->total() == 220 * kUs - 21 * kUs);  // from its wakeup_new to its last switch-out
    CHECK(thread.states->total() == [&] {
        uint64_t sum = 0;
        for (uint64_t ns : thread.states->ns) sum += ns;
        return sum;
    }());
    CHECK(state_ns(thread, RunState::Running) == thread.oncpu_ns);
    CHECK(thread.voluntary_switches == 3);
    CHECK(thread.involuntary_switches == 1);

    const TaskRecord& root = only_task(m, kRoot);
    CHECK(state_ns(root, RunState::Running) == 290 * kUs);  // on CPU 0 from 10 us to the trace's end
    CHECK(root.states->total() == 290 * kUs);
    CHECK(m.anomalies.total() == 0);
    CHECK_FALSE(m.run.approximate);

    SECTION("the phase holds everyone's states, and the summary holds them by kind") {
        REQUIRE(m.phases.size() == 1);
        REQUIRE(m.phases[0].states);
        CHECK(m.phases[0].states->total() == 199 * kUs + 290 * kUs);
        CHECK(m.summary.states_by_kind.at("thread")[RunState::Sleeping] == 60 * kUs);
        CHECK(m.summary.states_by_kind.at("root")[RunState::Running] == 290 * kUs);
    }
}

TEST_CASE("each wait is named by its system call and lock, and says who ended it", "[states]") {
    RunModel m = thread_story().correlate(test_end(at(300 * kUs)));
    const TaskRecord& thread = only_task(m, kThread);
    REQUIRE(thread.waits.size() == 3);

    const WaitRecord& lock = only_wait(thread, kNrFutex);
    CHECK(lock.state == RunState::Sleeping);
    CHECK(lock.lock == 1);  // the run's first lock, whatever the kernel's id
    CHECK(lock.count == 1);
    CHECK(lock.ns == 30 * kUs);
    REQUIRE(lock.woken_by.count(kRoot) == 1);
    CHECK(lock.woken_by.at(kRoot).count == 1);
    CHECK(lock.woken_by.at(kRoot).ns == 30 * kUs);
    CHECK(lock.outside.count == 0);

    const WaitRecord& read = only_wait(thread, kNrRead);
    CHECK(read.state == RunState::Blocked);
    CHECK(read.lock == 0);
    CHECK(read.woken_by.empty());  // pid 0: no task woke it
    CHECK(read.outside.count == 1);
    CHECK(read.outside.ns == 20 * kUs);

    // A timer fired while the root ran: the root did not wake it.
    const WaitRecord& sleep = only_wait(thread, kNrClockNanosleep);
    CHECK(sleep.woken_by.empty());
    CHECK(sleep.outside.count == 1);
    CHECK(sleep.outside.ns == 30 * kUs);

    REQUIRE(m.summary.locks.size() == 1);
    const LockRecord& lock1 = m.summary.locks[0];
    CHECK(lock1.label == 1);
    CHECK(lock1.tgid == kRoot);
    CHECK(lock1.waiters == std::vector<uint32_t>{kThread});
    CHECK(lock1.waits == 1);
    CHECK(lock1.ns == 30 * kUs);
    CHECK(lock1.handovers == 1);
}

// The task's stretches off a CPU, in time order.
std::vector<OffCpuInterval> off_cpu_of(const RunModel& m, uint32_t pid) {
    std::vector<OffCpuInterval> found;
    for (const OffCpuInterval& off : m.off_cpu)
        if (m.tasks.at(off.task).pid == pid) found.push_back(off);
    std::sort(found.begin(), found.end(),
              [](const OffCpuInterval& a, const OffCpuInterval& b) { return a.start_ns < b.start_ns; });
    return found;
}

TEST_CASE("each stretch off a CPU is on record with what it waited in and who ended it, filling the gaps between runs",
          "[states]") {
    RunModel m = thread_story().correlate(test_end(at(300 * kUs)));
    const TaskRecord& thread = only_task(m, kThread);
    const std::vector<OffCpuInterval> off = off_cpu_of(m, kThread);
    REQUIRE(off.size() == 5);
    auto wait_syscall = [&](const OffCpuInterval& o) { return thread.waits.at(o.wait).syscall; };
    // Runnable from its wakeup_new until it first ran.
    CHECK(off[0].state == RunState::Runnable);
    CHECK((off[0].start_ns == 21 * kUs && off[0].woken_ns == 21 * kUs && off[0].end_ns == 30 * kUs));
    CHECK(off[0].wait == OffCpuInterval::kNoWait);
    // On lock 1, woken by the root at 80, runnable until 90.
    CHECK(off[1].state == RunState::Sleeping);
    CHECK((off[1].start_ns == 50 * kUs && off[1].woken_ns == 80 * kUs && off[1].end_ns == 90 * kUs));
    CHECK(wait_syscall(off[1]) == kNrFutex);
    CHECK(thread.waits.at(off[1].wait).lock == 1);
    CHECK(off[1].waker == WakerKind::Traced);
    CHECK(m.tasks.at(off[1].waker_task).pid == kRoot);
    // Preempted: runnable throughout.
    CHECK(off[2].state == RunState::Runnable);
    CHECK((off[2].start_ns == 100 * kUs && off[2].woken_ns == 100 * kUs && off[2].end_ns == 120 * kUs));
    // Blocked in read, woken from outside the trace.
    CHECK(off[3].state == RunState::Blocked);
    CHECK((off[3].start_ns == 130 * kUs && off[3].woken_ns == 150 * kUs && off[3].end_ns == 160 * kUs));
    CHECK(wait_syscall(off[3]) == kNrRead);
    CHECK(off[3].waker == WakerKind::Outside);
    // Asleep, woken in an interrupt while the root ran: outside, not the root.
    CHECK(off[4].state == RunState::Sleeping);
    CHECK(wait_syscall(off[4]) == kNrClockNanosleep);
    CHECK(off[4].waker == WakerKind::Outside);
    CHECK((off[4].woken_ns == 200 * kUs && off[4].end_ns == 210 * kUs));

    // With the on-CPU intervals they tile its life exactly, and sum to its states.
    std::vector<std::pair<uint64_t, uint64_t>> pieces;
    for (const OnCpuInterval& iv : m.intervals)
        if (m.tasks[iv.task].pid == kThread) pieces.emplace_back(iv.start_ns, iv.end_ns);
    for (const OffCpuInterval& o : off) pieces.emplace_back(o.start_ns, o.end_ns);
    std::sort(pieces.begin(), pieces.end());
    CHECK(pieces.front().first == 21 * kUs);
    CHECK(pieces.back().second == 220 * kUs);
    for (size_t k = 1; k < pieces.size(); ++k) CHECK(pieces[k].first == pieces[k - 1].second);
    StateTimes summed;
    for (const OffCpuInterval& o : off) {
        summed[o.state] += o.woken_ns - o.start_ns;
        summed[RunState::Runnable] += o.end_ns - o.woken_ns;
    }
    summed[RunState::Running] = thread.oncpu_ns;
    CHECK(summed.ns == thread.states->ns);

    CHECK(off_cpu_of(m, kRoot).empty());  // on its CPU throughout
}

TEST_CASE("a wait that ended unseen is a stretch off a CPU with no runnable part and no waker", "[states]") {
    StreamBuilder s;
    add_thread_start(s);
    s.add(leave_to_wait(at(40 * kUs), 1, kThread, kInterruptible, kNrFutex, 3));
    SECTION("switched in with no wakeup seen") {
        s.add(switch_in(at(70 * kUs), 1, kThread, kRoot));
        const std::vector<OffCpuInterval> off = off_cpu_of(s.correlate(test_end(at(100 * kUs))), kThread);
        REQUIRE(off.size() == 2);
        CHECK((off[1].start_ns == 40 * kUs && off[1].woken_ns == 70 * kUs && off[1].end_ns == 70 * kUs));
        CHECK(off[1].waker == WakerKind::Unknown);
    }
    SECTION("still waiting when the trace ended") {
        const std::vector<OffCpuInterval> off = off_cpu_of(s.correlate(test_end(at(100 * kUs))), kThread);
        REQUIRE(off.size() == 2);
        CHECK((off[1].start_ns == 40 * kUs && off[1].woken_ns == 100 * kUs && off[1].end_ns == 100 * kUs));
        CHECK(off[1].waker == WakerKind::Unknown);
    }
}

TEST_CASE("locks get labels in the order they are first waited on, and the kernel's ids never show", "[states]") {
    StreamBuilder s;
    s.add(switch_in(at(1 * kUs), 0, kRoot, kRoot));
    for (uint32_t t = 0; t < 3; ++t) s.add(task_new(at((2 + t) * kUs), kRoot, kRoot, 0, thread_of_root(kThread + t)));
    // 101 and 103 wait on kernel lock 900, 102 on 40; each is woken by the root.
    const uint32_t kernel_lock[] = {900, 40, 900};
    for (uint32_t t = 0; t < 3; ++t) {
        const uint64_t base = (10 + 10 * t) * kUs;
        s.add(switch_in(at(base), 1, kThread + t, kRoot));
        s.add(leave_to_wait(at(base + 2 * kUs), 1, kThread + t, kInterruptible, kNrFutex, kernel_lock[t]));
    }
    for (uint32_t t = 0; t < 3; ++t) s.add(wakeup(at((50 + t) * kUs), kThread + t, kRoot, 0, kRoot, kRoot, 1));
    RunModel m = s.correlate(test_end(at(100 * kUs)));
    CHECK(only_wait(only_task(m, kThread), kNrFutex).lock == 1);
    CHECK(only_wait(only_task(m, kThread + 1), kNrFutex).lock == 2);
    CHECK(only_wait(only_task(m, kThread + 2), kNrFutex).lock == 1);
    REQUIRE(m.summary.locks.size() == 2);
    CHECK(m.summary.locks[0].waiters == std::vector<uint32_t>{kThread, kThread + 2});
    CHECK(m.summary.locks[0].waits == 2);
    CHECK(m.summary.locks[0].handovers == 2);
    CHECK(m.summary.locks[1].waiters == std::vector<uint32_t>{kThread + 1});
    // 101 waited from 12 to 50 us, 103 from 32 to 52 us.
    CHECK(m.summary.locks[0].ns == (50 - 12) * kUs + (52 - 32) * kUs);
}

TEST_CASE("a wakeup of a task that is not waiting is counted and not used", "[states]") {
    StreamBuilder s = thread_story();
    // 95 us: the thread is running (90-100); a wakeup then ends nothing.
    s.add(wakeup(at(95 * kUs), kThread, kRoot, 0, kRoot, kRoot, 1));
    RunModel m = s.correlate(test_end(at(300 * kUs)));
    const TaskRecord& thread = only_task(m, kThread);
    CHECK(m.anomalies.wakeups_not_sleeping == 1);
    CHECK_FALSE(m.run.approximate);  // nothing was guessed
    CHECK(state_ns(thread, RunState::Running) == 60 * kUs);
    CHECK(state_ns(thread, RunState::Runnable) == 59 * kUs);
    CHECK(only_wait(thread, kNrFutex).woken_by.at(kRoot).count == 1);
}

TEST_CASE("a waiting task switched in with no wakeup seen: its waker is unknown, and the run says so", "[states]") {
    StreamBuilder s;
    add_thread_start(s);
    s.add(leave_to_wait(at(40 * kUs), 1, kThread, kInterruptible, kNrFutex, 3));
    s.add(switch_in(at(70 * kUs), 1, kThread, kRoot));  // its wakeup was lost
    RunModel m = s.correlate(test_end(at(100 * kUs)));
    const TaskRecord& thread = only_task(m, kThread);
    const WaitRecord& wait = only_wait(thread, kNrFutex);
    CHECK(wait.unknown.count == 1);
    CHECK(wait.unknown.ns == 30 * kUs);  // all of it counted as the wait: when it became runnable is unknown
    CHECK(wait.woken_by.empty());
    CHECK(m.anomalies.switch_ins_without_wakeup == 1);
    CHECK(thread.repairs == 1);
    CHECK(m.run.approximate);
    CHECK(thread.states->total() == 100 * kUs - 21 * kUs);
}

TEST_CASE("a wakeup whose context could not be read names no waker", "[states]") {
    StreamBuilder s;
    s.add(switch_in(at(10 * kUs), 0, kRoot, kRoot));
    s.add(task_new(at(20 * kUs), kRoot, kRoot, 0, thread_of_root(kThread)));
    s.add(switch_in(at(30 * kUs), 1, kThread, kRoot));
    s.add(leave_to_wait(at(40 * kUs), 1, kThread, kInterruptible, kNrFutex, 3));
    s.add(wakeup(at(60 * kUs), kThread, kRoot, 0, kRoot, kRoot, 1, CXT_WAKEUP_CONTEXT_UNKNOWN));
    s.add(switch_in(at(70 * kUs), 1, kThread, kRoot));
    RunModel m = s.correlate(test_end(at(100 * kUs)));
    const WaitRecord& wait = only_wait(only_task(m, kThread), kNrFutex);
    CHECK(wait.woken_by.empty());
    CHECK(wait.outside.count == 0);
    CHECK(wait.unknown.count == 1);
    CHECK(wait.unknown.ns == 20 * kUs);
    CHECK(m.anomalies.wakers_unknown == 1);  // counted, and not a repair: the run is not approximate
    CHECK(m.anomalies.repairs() == 0);
    // The thread's own life starts at its first switch-in: no wakeup_new was seen.
    CHECK(only_task(m, kThread).states->total() == 70 * kUs);
}

TEST_CASE("a task switched out in a state the model does not know counts as other, never dropped", "[states]") {
    StreamBuilder s;
    s.add(switch_in(at(10 * kUs), 0, kRoot, kRoot));
    s.add(leave_to_wait(at(20 * kUs), 0, kRoot, kStopped, 62));  // kill(2) stopped it: SIGSTOP
    s.add(wakeup(at(50 * kUs), kRoot, kRoot, 1, 0, 0, 0));
    s.add(switch_in(at(55 * kUs), 0, kRoot, kRoot));
    RunModel m = s.correlate(test_end(at(60 * kUs)));
    const TaskRecord& root = only_task(m, kRoot);
    CHECK(state_ns(root, RunState::Other) == 30 * kUs);
    CHECK(root.states->total() == 50 * kUs);
    REQUIRE(root.waits.size() == 1);
    CHECK(root.waits[0].state == RunState::Other);
    CHECK(syscall_display_name(root.waits[0].syscall) == "kill");
}

TEST_CASE("phases split the states at their markers", "[states]") {
    StreamBuilder s;
    s.add(switch_in(at(10 * kUs), 0, kRoot, kRoot));
    s.add(rename(at(11 * kUs), kRoot, kRoot, 0, "prog", "@setup"));
    s.add(task_new(at(20 * kUs), kRoot, kRoot, 0, thread_of_root(kThread)));
    s.add(wakeup_new(at(21 * kUs), kThread, kRoot, 0, 1));
    s.add(switch_in(at(30 * kUs), 1, kThread, kRoot));
    s.add(leave_to_wait(at(40 * kUs), 1, kThread, kInterruptible, kNrClockNanosleep));
    s.add(rename(at(50 * kUs), kRoot, kRoot, 0, "prog", "@work"));
    s.add(wakeup(at(70 * kUs), kThread, kRoot, 1, 0, 0, 1));
    RunModel m = s.correlate(test_end(at(100 * kUs)));
    REQUIRE(m.phases.size() == 2);
    REQUIRE(m.phases[0].states);
    REQUIRE(m.phases[1].states);
    // The thread slept 40-70: 10 us in the first phase, 20 in the second.
    CHECK((*m.phases[0].states)[RunState::Sleeping] == 10 * kUs);
    CHECK((*m.phases[1].states)[RunState::Sleeping] == 20 * kUs);
    CHECK((*m.phases[1].states)[RunState::Runnable] == 30 * kUs);  // 70 to the end
    CHECK(m.phases[0].states->total() + m.phases[1].states->total() ==
          only_task(m, kRoot).states->total() + only_task(m, kThread).states->total());
}

TEST_CASE("a trace from before event ABI 4 leaves the states unknown, never wrong", "[states]") {
    StreamBuilder s;
    s.add(abi3_switch(at(10 * kUs), true));
    s.add(abi3_switch(at(20 * kUs), false));
    s.add(wakeup(at(30 * kUs), kRoot, kRoot, 1, 0, 0, 0));
    RunModel m = s.correlate(test_end(at(40 * kUs)));
    const TaskRecord& root = only_task(m, kRoot);
    CHECK_FALSE(root.states);
    CHECK(root.waits.empty());
    CHECK(root.voluntary_switches == 0);
    CHECK(m.summary.states_by_kind.empty());
    CHECK(m.summary.locks.empty());
    CHECK_FALSE(m.phases[0].states);
    CHECK(m.off_cpu.empty());
    CHECK(root.oncpu_ns == 10 * kUs);  // the rest reads as before
}

TEST_CASE("system calls are named from the kernel's table, grouped, and shown by number when unknown", "[states]") {
    CHECK(syscall_display_name(kNrFutex) == "futex");
    CHECK(syscall_display_name(kNrRead) == "read");
    CHECK(syscall_display_name(61) == "wait4");
    CHECK(syscall_display_name(9999) == "syscall 9999");
    CHECK(syscall_display_name(CXT_NO_SYSCALL).empty());
    CHECK(wait_reason(kNrFutex) == WaitReason::Futex);
    CHECK(wait_reason(kNrClockNanosleep) == WaitReason::Sleep);
    CHECK(wait_reason(kNrRead) == WaitReason::ReadWrite);
    CHECK(wait_reason(7) == WaitReason::Poll);    // poll
    CHECK(wait_reason(232) == WaitReason::Poll);  // epoll_wait
    CHECK(wait_reason(61) == WaitReason::Child);
    CHECK(wait_reason(39) == WaitReason::OtherSyscall);  // getpid
    CHECK(wait_reason(9999) == WaitReason::OtherSyscall);
    CHECK(wait_reason(CXT_NO_SYSCALL) == WaitReason::NoSyscall);
    CHECK(std::string(wait_reason_key(WaitReason::ReadWrite)) == "read-write");
}

namespace {

// prev leaves `cpu` to wait in futex on `lock`, next comes in.
Record hand_over(uint64_t ts, uint16_t cpu, uint32_t prev, uint32_t next, uint32_t lock) {
    SwitchSpec spec = waiting(prev, kInterruptible, kNrFutex, lock);
    spec.next_pid = next;
    spec.next_tgid = kRoot;
    spec.next_tracked = true;
    return sched_switch(ts, cpu, spec);
}

std::vector<std::string> waiting_sentences(const RunModel& model) {
    std::vector<std::string> texts;
    for (const Finding& finding : findings(model))
        if (finding.topic == "waiting") texts.push_back(finding.text);
    return texts;
}

}  // namespace

TEST_CASE("the sentences on waiting say what the states and waits show", "[states][findings]") {
    // Two threads of the root take turns on one CPU: each runs 10 us, wakes
    // the other and waits on lock id 5, 10 rounds each, from 100 us to 300 us.
    StreamBuilder s;
    const uint32_t a = kThread, b = kThread + 1;
    s.add(switch_in(at(10 * kUs), 0, kRoot, kRoot));
    s.add(task_new(at(20 * kUs), kRoot, kRoot, 0, thread_of_root(a)));
    s.add(task_new(at(21 * kUs), kRoot, kRoot, 0, thread_of_root(b)));
    s.add(leave_to_wait(at(30 * kUs), 0, kRoot, kInterruptible, kNrFutex, 9));  // the root joins
    s.add(switch_in(at(100 * kUs), 1, a, kRoot));
    for (uint32_t round = 0; round < 20; ++round) {
        const uint64_t t = (110 + 10 * round) * kUs;
        const uint32_t running = round % 2 ? b : a, next = round % 2 ? a : b;
        if (round > 0) s.add(wakeup(at(t - 1), next, kRoot, 1, running, kRoot, 1));
        s.add(hand_over(at(t), 1, running, next, 5));
    }
    RunModel m = s.correlate(test_end(at(320 * kUs)));
    // a: from 100 to 320 us, running 120 us (10 turns and the last 20 us),
    // sleeping 10 x 9.999 us, runnable 10 ns; b: from 110, running 100 us,
    // sleeping 9 x 9.999 us and the last 20 us (never woken: unknown).
    CHECK(state_ns(only_task(m, a), RunState::Running) == 120 * kUs);
    CHECK(state_ns(only_task(m, b), RunState::Sleeping) == 9 * (10 * kUs - 1) + 20 * kUs);
    const auto texts = waiting_sentences(m);
    INFO([&] {
        std::string all;
        for (const std::string& text : texts) all += text + "\n";
        return all;
    }());
    auto said = [&](const std::string& text) { return std::find(texts.begin(), texts.end(), text) != texts.end(); };
    CHECK(said("2 threads of process 100 took turns: each was running 48% to 55% of its traced time and sleeping in "
               "futex 45% to 52%, and 19 of their 20 futex waits were ended by another of them: one ran while the "
               "other waited for it."));
    // The root's join took the first label (lock id 9, at 30 us); it waited once: no sentence.
    CHECK(said("2 tasks waited for lock2 (a futex word of process 100) for 210.0 us in total, in 20 waits; another "
               "traced task woke a waiter 19 times."));
    CHECK(said("The 2 threads spent their traced time running 51%, sleeping 49% (of the waiting, 100% in futex (a "
               "lock, condition or join))."));

    SECTION("runnable time is said as what it is: a wait on the task's own CPU's queue") {
        // The thread story: 59 us runnable of the thread's 199 us and the root's 290 us.
        const auto story = waiting_sentences(thread_story().correlate(test_end(at(300 * kUs))));
        CHECK(std::find(story.begin(), story.end(),
                        "Traced tasks were runnable but not running for 59.0 us, 12% of their traced time: ready to "
                        "run, each waited while the CPU it was queued on ran another task (traced or not).") !=
              story.end());
    }
    SECTION("a trace from before event ABI 4 has no sentences on waiting") {
        StreamBuilder old;
        old.add(abi3_switch(at(10 * kUs), true));
        CHECK(waiting_sentences(old.correlate(test_end(at(20 * kUs)))).empty());
    }
}
