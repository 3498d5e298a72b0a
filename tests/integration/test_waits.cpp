// Live tests of where the tasks' time went: threads that take turns on a
// mutex and sleep between turns read the kernel's own accounting as the
// last thing they do (schedstat's runqueue wait, the context switch
// counts) and know what they did (slept so long, held the lock so often);
// report.json's states and waits must agree.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "live_run.h"
#include "task_states.h"
#include "trace_file.h"

using nlohmann::json;

namespace {

struct Witnessed {
    long long cpu_ns = 0, run_delay_ns = 0, voluntary = 0, involuntary = 0, asked_sleep_ns = 0, slept_ns = 0;
    long long locked = 0, counts_ns = 0, read_ns = 0, blocked_sleeps = 0;
};

std::map<long, Witnessed> witnessed(const std::string& text) {
    std::map<long, Witnessed> found;
    std::regex re(R"(wait tid=(\d+) cpu_ns=(\d+) run_delay_ns=(\d+) voluntary=(\d+) involuntary=(\d+) )"
                  R"(asked_sleep_ns=(\d+) slept_ns=(\d+) locked=(\d+) counts_ns=(\d+) read_ns=(\d+) blocked_sleeps=(\d+))");
    for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator(); ++it) {
        const std::smatch& m = *it;
        found[std::stol(m[1])] = Witnessed{std::stoll(m[2]), std::stoll(m[3]), std::stoll(m[4]), std::stoll(m[5]),
                                           std::stoll(m[6]), std::stoll(m[7]), std::stoll(m[8]), std::stoll(m[9]),
                                           std::stoll(m[10]), std::stoll(m[11])};
    }
    return found;
}

// What the kernel's figures hold that the thread's own reads cannot
// correct for, found in the trace's raw events.
struct UnreadByTheThread {
    // Switch-outs after it began reading its switch counts: the kernel
    // counts them too, but after the thread's read (a busy machine
    // preempts an exiting thread now and then).
    long long switch_outs_after_counts = 0;
    // Sleep that schedstat counts as runqueue wait: a thread that went to
    // sleep with more than its share of CPU stays queued (EEVDF's delayed
    // dequeue); moved to another CPU while so queued, it is enqueued there
    // as if runnable, and its run_delay runs from that move until it is
    // woken and runs. cxtrace counts that time as the sleep it was.
    long long asleep_after_move_ns = 0;
    // Time on a CPU its CPU clock did not count: the hypervisor held the
    // vCPU (steal time, which the kernel leaves out of a task's clock).
    long long on_cpu_unclocked_ns = 0;
    // Waits for a CPU that schedstat may not have counted: waits ended by
    // a switch that took the CPU from a task left runnable (not idle).
    // A wakeup that asks the running task to give way tells the next
    // schedule() not to update the runqueue's clock; without kernel
    // preemption (this VM's kernel runs preempt=none) that schedule() comes
    // when the task next returns to user space, up to a tick later.
    // The stale clock then takes the wait off the woken task's run_delay
    // (and puts it on the one it replaced).
    long long waits_ended_on_a_stale_clock_ns = 0;
};

// The longest scheduler tick a kernel is built with (CONFIG_HZ=100; this
// VM's is 4 ms): the tick updates the runqueue's clock.
constexpr long long kLongestTickNs = 10'000'000;

// The trace's events, in time order (the file holds them as the ring
// buffer gave them).
std::vector<cxt::Event> events_in_time_order(cxt::TraceReader& trace) {
    std::vector<cxt::Event> events;
    for (;;) {
        auto next = trace.next();
        if (!next) FAIL("the trace could not be read: " << next.error().what);
        if (!*next) break;
        events.push_back(std::move(**next));
    }
    std::stable_sort(events.begin(), events.end(),
                     [](const cxt::Event& a, const cxt::Event& b) { return a.ts_ns < b.ts_ns; });
    return events;
}

UnreadByTheThread unread_by_the_thread(const std::vector<cxt::Event>& events, uint32_t tid, long long counts_ns) {
    UnreadByTheThread unread;
    bool asleep = false;
    std::optional<std::pair<uint64_t, uint64_t>> on_cpu;  // since when, its CPU clock then
    std::optional<uint64_t> runnable_since;
    bool moved = false;     // while asleep
    uint64_t moved_at = 0;  // its first move while asleep
    auto ends_sleep = [&](uint64_t ts) {
        if (asleep && moved) unread.asleep_after_move_ns += static_cast<long long>(ts - moved_at);
        asleep = moved = false;
    };
    for (const cxt::Event& event : events) {
        if (const auto* step = std::get_if<cxt::Switch>(&event.body)) {
            if (step->prev_pid != tid && step->next_pid != tid) continue;
            if (step->prev_pid == tid) {
                if (static_cast<long long>(event.ts_ns) >= counts_ns) ++unread.switch_outs_after_counts;
                if (on_cpu && step->has_runtimes) {
                    const long long wall = static_cast<long long>(event.ts_ns - on_cpu->first);
                    const long long clocked = static_cast<long long>(step->prev_runtime_ns - on_cpu->second);
                    unread.on_cpu_unclocked_ns += std::max(0LL, wall - clocked);
                }
                on_cpu.reset();
                asleep = !step->prev_preempted && step->prev_state != 0 && !step->prev_dead;
                moved = false;
                if (asleep) runnable_since.reset();
                else runnable_since = event.ts_ns;
            } else {
                ends_sleep(event.ts_ns);
                on_cpu = std::make_pair(event.ts_ns, step->next_runtime_ns);
                const bool replaced_a_runnable_task =
                    step->prev_pid != 0 && (step->prev_preempted || step->prev_state == 0);
                if (runnable_since && replaced_a_runnable_task)
                    unread.waits_ended_on_a_stale_clock_ns +=
                        std::min<long long>(static_cast<long long>(event.ts_ns - *runnable_since), kLongestTickNs);
                runnable_since.reset();
            }
        } else if (event.pid != tid) {
            continue;
        } else if (std::holds_alternative<cxt::Migrate>(event.body)) {
            if (asleep && !moved) {
                moved = true;
                moved_at = event.ts_ns;
            }
        } else if (std::holds_alternative<cxt::Wakeup>(event.body)) {
            if (asleep) runnable_since = event.ts_ns;
            ends_sleep(event.ts_ns);
        }
    }
    return unread;
}

long long within(long long ns) { return std::max<long long>(ns / 20, 1'000'000); }  // 5% or 1 ms
long long within_count(long long n) { return std::max<long long>(n / 20, 1); }     // 5% or 1

long long sum_waits(const json& task, const std::string& syscall, const char* field = "ns") {
    long long sum = 0;
    for (const json& wait : task.at("waits"))
        if (wait.at("syscall") == syscall) sum += wait.at(field).get<long long>();
    return sum;
}

}  // namespace

TEST_CASE("each thread's states and waits agree with the kernel's accounting and with what it did", "[live][waits]") {
    REQUIRE_ROOT();
    live::TempDir dir;
    auto outcome = live::cxtrace({"run", "-o", dir / "out", "--", CXTRACE_WAIT_WITNESS, "3", "20", "500", "1000"});
    INFO(outcome.out << outcome.err);
    REQUIRE(outcome.status == 0);
    json report = live::read_json(dir / "out/report.json");
    INFO("anomalies: " << report.at("anomalies").dump());
    const auto threads = witnessed(outcome.out);
    REQUIRE(threads.size() == 3);
    // The trace's clock (CLOCK_MONOTONIC) at its start: report.json's times count from it.
    auto trace = cxt::TraceReader::open(dir / "out/trace.cxt");
    REQUIRE(trace);
    const uint64_t trace_start_ns = trace->meta().trace_start_ns;
    const std::vector<cxt::Event> events = events_in_time_order(*trace);

    long long lock_waits = 0;
    for (const auto& [tid, own] : threads) {
        auto tasks = live::tasks_with_pid(report, tid);
        REQUIRE(tasks.size() == 1);
        const json& task = *tasks[0];
        INFO("thread " << tid << ": " << task.dump());
        REQUIRE(task.at("states_ns").is_object());
        const json& states = task.at("states_ns");
        long long life = 0;
        for (const auto& [state, ns] : states.items()) life += ns.get<long long>();

        // The kernel's runqueue wait (schedstat's second field), read just
        // before the thread exits: cxtrace's runnable time, which also
        // counts what it waited for a CPU between the read and its last
        // switch-out, the end of its traced life (at most that span: on a
        // busy machine one preemption while it exits is milliseconds, more
        // than the tolerance).
        REQUIRE(task.at("created_ns").is_number());
        const long long life_end = static_cast<long long>(trace_start_ns + task.at("created_ns").get<uint64_t>()) + life;
        const long long after_read = std::max<long long>(0, life_end - own.read_ns);
        const long long runnable = states.at("runnable").get<long long>();
        INFO("runnable " << runnable << " ns, run_delay " << own.run_delay_ns << " ns, read " << after_read
                         << " ns before its exit");
        const UnreadByTheThread unread = unread_by_the_thread(events, tid, own.counts_ns);
        INFO("from the trace: " << unread.switch_outs_after_counts << " switch-outs after its read of the counts, "
                                << unread.asleep_after_move_ns << " ns asleep after a move while queued, "
                                << unread.on_cpu_unclocked_ns << " ns on a CPU its clock did not count, "
                                << unread.waits_ended_on_a_stale_clock_ns
                                << " ns of waits ended where the runqueue clock may be stale");
        // A switch-in or a wakeup the kernel did not report is a repair:
        // the wait before it is not known to have ended, so its runnable
        // part counts as the wait, and only the upper bound holds. (On
        // this VM's kernel a switch away from the sandbox agent's thread
        // fires no sched_switch: perf, reading the tracepoint apart from
        // cxtrace, misses the same switch-ins.)
        if (task.at("repairs").get<long long>() == 0)
            CHECK(runnable >= own.run_delay_ns - within(own.run_delay_ns) - unread.asleep_after_move_ns);
        CHECK(runnable <=
              own.run_delay_ns + within(own.run_delay_ns) + after_read + unread.waits_ended_on_a_stale_clock_ns);
        // The kernel's nvcsw and nivcsw, read before the switches it made
        // after that read.
        const long long voluntary = task.at("voluntary_switches").get<long long>();
        const long long involuntary = task.at("involuntary_switches").get<long long>();
        CHECK(voluntary >= own.voluntary - within_count(own.voluntary));
        CHECK(voluntary <= own.voluntary + within_count(own.voluntary) + unread.switch_outs_after_counts);
        CHECK(involuntary >= own.involuntary - within_count(own.involuntary));
        CHECK(involuntary <= own.involuntary + within_count(own.involuntary) + unread.switch_outs_after_counts);
        // It asked for 20 sleeps of 0.5 ms; by the clock they took slept_ns
        // (the sleep, then the wait for a CPU, then returning). A sleep
        // whose timer fired before the thread reached schedule() never
        // blocked: the thread counted the sleeps that made a voluntary
        // switch, the waits the kernel saw, each at least the time asked.
        INFO("sleeps that blocked: " << own.blocked_sleeps);
        const long long asleep = sum_waits(task, "clock_nanosleep");
        CHECK(own.blocked_sleeps >= 15);  // a sleep returning unblocked is rare
        CHECK(sum_waits(task, "clock_nanosleep", "count") == own.blocked_sleeps);
        CHECK(asleep >= own.asked_sleep_ns / 20 * own.blocked_sleeps);
        CHECK(asleep <= own.slept_ns);
        // Its sleeps end by the timer, never by a traced task.
        for (const json& wait : task.at("waits"))
            if (wait.at("syscall") == "clock_nanosleep") CHECK(wait.at("woken_by").size() == 1);  // "outside" only
        // The states cover its life: running is what the CPU clock says,
        // and the time on a CPU the clock did not count (steal).
        const long long running = states.at("running").get<long long>();
        CHECK(running >= own.cpu_ns - within(own.cpu_ns) - 2'000'000);
        CHECK(running <= own.cpu_ns + within(own.cpu_ns) + 2'000'000 + unread.on_cpu_unclocked_ns);
        CHECK(own.locked == 20);
        lock_waits += sum_waits(task, "futex", "count");
        CHECK(life > 0);
    }

    // The mutex (and the barrier the threads meet at before they read):
    // every wait on them was ended by another of the threads, unlocking
    // the mutex or reaching the barrier.
    long long labelled_waits = 0;
    for (const json& lock : report.at("summary").at("locks")) {
        INFO(lock.dump());
        for (const json& waiter : lock.at("waiters")) CHECK(threads.count(waiter.get<long>()) == 1);
        CHECK(lock.at("handovers").get<long long>() + live::ended_unseen_on_lock(report, lock.at("lock")) ==
              lock.at("waits").get<long long>());
        labelled_waits += lock.at("waits").get<long long>();
    }
    CHECK(labelled_waits == lock_waits);
    CHECK(lock_waits > 0);  // three threads, two CPUs, a lock held 1 ms of every 1.5: they waited
    // Each switch-in without its wakeup is a repair of a task, and the run says it is approximate.
    long long all_repairs = 0;
    for (const json& task : report.at("tasks")) all_repairs += task.at("repairs").get<long long>();
    const long long without_wakeup = report.at("anomalies").at("switch_ins_without_wakeup").get<long long>();
    CHECK(all_repairs >= without_wakeup);
    if (without_wakeup > 0) CHECK(report.at("run").at("approximate") == true);
}
