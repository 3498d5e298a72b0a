// Live tests of where the tasks' time went: threads that take turns on a
// mutex and sleep between turns read the kernel's own accounting as the
// last thing they do (schedstat's runqueue wait, the context switch
// counts) and know what they did (slept so long, held the lock so often);
// report.json's states and waits must agree.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <map>
#include <regex>
#include <string>

#include "live_run.h"
#include "task_states.h"
#include "trace_file.h"

using nlohmann::json;

namespace {

struct Witnessed {
    long long cpu_ns = 0, run_delay_ns = 0, voluntary = 0, involuntary = 0, asked_sleep_ns = 0, slept_ns = 0;
    long long locked = 0, read_ns = 0;
};

std::map<long, Witnessed> witnessed(const std::string& text) {
    std::map<long, Witnessed> found;
    std::regex re(R"(wait tid=(\d+) cpu_ns=(\d+) run_delay_ns=(\d+) voluntary=(\d+) involuntary=(\d+) )"
                  R"(asked_sleep_ns=(\d+) slept_ns=(\d+) locked=(\d+) read_ns=(\d+))");
    for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator(); ++it) {
        const std::smatch& m = *it;
        found[std::stol(m[1])] = Witnessed{std::stoll(m[2]), std::stoll(m[3]), std::stoll(m[4]), std::stoll(m[5]),
                                           std::stoll(m[6]), std::stoll(m[7]), std::stoll(m[8]), std::stoll(m[9])};
    }
    return found;
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
        // A switch-in whose wakeup cxtrace did not see (now and then on this
        // kernel) is a repair: the wait before it is not known to have
        // ended, so its runnable part counts as the wait, and only the
        // upper bound holds.
        if (task.at("repairs").get<long long>() == 0) CHECK(runnable >= own.run_delay_ns - within(own.run_delay_ns));
        CHECK(runnable <= own.run_delay_ns + within(own.run_delay_ns) + after_read);
        // The kernel's nvcsw and nivcsw.
        CHECK(std::llabs(task.at("voluntary_switches").get<long long>() - own.voluntary) <=
              within_count(own.voluntary));
        CHECK(std::llabs(task.at("involuntary_switches").get<long long>() - own.involuntary) <=
              within_count(own.involuntary));
        // It asked for 20 sleeps of 0.5 ms; by the clock they took slept_ns
        // (the sleep, then the wait for a CPU, then returning).
        const long long asleep = sum_waits(task, "clock_nanosleep");
        CHECK(sum_waits(task, "clock_nanosleep", "count") == 20);
        CHECK(asleep >= own.asked_sleep_ns);
        CHECK(asleep <= own.slept_ns);
        // Its sleeps end by the timer, never by a traced task.
        for (const json& wait : task.at("waits"))
            if (wait.at("syscall") == "clock_nanosleep") CHECK(wait.at("woken_by").size() == 1);  // "outside" only
        // The states cover its life: running is what the CPU clock says.
        CHECK(std::llabs(states.at("running").get<long long>() - own.cpu_ns) <= within(own.cpu_ns) + 2'000'000);
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
