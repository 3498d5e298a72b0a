// Checks of one task's states and waits in report.json that hold for any
// task whatever it did (README, "Where the time went"); the live tests of
// the lesson workloads add what each workload knows it did.
#pragma once

#include <catch2/catch.hpp>

#include <cstdint>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

namespace live {

// Its traced life: the sum of its states.
inline int64_t life_ns(const nlohmann::json& task) {
    int64_t life = 0;
    for (const auto& [state, ns] : task.at("states_ns").items()) life += ns.get<int64_t>();
    return life;
}

inline int64_t state_ns(const nlohmann::json& task, const std::string& state) {
    return task.at("states_ns").at(state).get<int64_t>();
}

// The sum of `field` ("ns" or "count") over the task's waits that `which` picks.
inline int64_t sum_waits(const nlohmann::json& task, const std::function<bool(const nlohmann::json&)>& which,
                         const char* field = "ns") {
    int64_t sum = 0;
    for (const nlohmann::json& wait : task.at("waits"))
        if (which(wait)) sum += wait.at(field).get<int64_t>();
    return sum;
}

// How many of the wait's ends `waker` (a pid, "outside") is named for.
inline int64_t ended_by(const nlohmann::json& wait, const std::string& waker) {
    const nlohmann::json& woken_by = wait.at("woken_by");
    return woken_by.contains(waker) ? woken_by.at(waker).at("count").get<int64_t>() : 0;
}

// How many of the wait's ends have no waker: the kernel reported the
// wakeup without its sched_waking (now and then on this kernel, as it
// drops a switch-in now and then), so the report names nobody. Never a
// wrong name: a test allows these, not another waker.
inline int64_t ended_unseen(const nlohmann::json& wait) { return wait.at("unknown").at("count").get<int64_t>(); }

// The same over every task's waits on one lock label ("lock1"): the waits
// a lock's `handovers` (ended by a traced task) cannot count.
inline int64_t ended_unseen_on_lock(const nlohmann::json& report, const nlohmann::json& label) {
    int64_t unseen = 0;
    for (const nlohmann::json& task : report.at("tasks"))
        for (const nlohmann::json& wait : task.at("waits"))
            if (wait.at("lock") == label) unseen += ended_unseen(wait);
    return unseen;
}

// The states and waits of a task created and exited within the trace add
// up: to its life, to its time on a CPU, to each other.
inline void check_states_add_up(const nlohmann::json& task) {
    INFO("task " << task.at("pid") << ": " << task.dump());
    REQUIRE(task.at("states_ns").is_object());
    for (const char* state : {"running", "runnable", "sleeping", "blocked", "other"})
        CHECK(task.at("states_ns").at(state).get<int64_t>() >= 0);
    // Running is its time on a CPU, the on-CPU intervals' sum.
    CHECK(state_ns(task, "running") == task.at("oncpu_ns").get<int64_t>());
    // Each wait off a CPU began with a voluntary switch and is in one
    // waiting state; who ended it (a traced task, outside, unknown) covers
    // every one of its ends and every ns.
    const auto all = [](const nlohmann::json&) { return true; };
    CHECK(sum_waits(task, all) == state_ns(task, "sleeping") + state_ns(task, "blocked") + state_ns(task, "other"));
    CHECK(sum_waits(task, all, "count") == task.at("voluntary_switches").get<int64_t>());
    for (const nlohmann::json& wait : task.at("waits")) {
        INFO(wait.dump());
        int64_t count = wait.at("unknown").at("count").get<int64_t>();
        int64_t ns = wait.at("unknown").at("ns").get<int64_t>();
        for (const auto& [waker, tally] : wait.at("woken_by").items()) {
            count += tally.at("count").get<int64_t>();
            ns += tally.at("ns").get<int64_t>();
        }
        CHECK(count == wait.at("count").get<int64_t>());
        CHECK(ns == wait.at("ns").get<int64_t>());
    }
    // Its life runs from its first wakeup (inside its creator's creation
    // syscall, after created_ns) to its last switch-out (after exited_ns).
    // So it is at least exited - created less that syscall's length. It
    // exceeds exited - created only by the exit path after exited_ns (under
    // 0.4 ms measured), stretched by any wait for a CPU on the way: at most
    // its runnable time and 5 ms.
    const nlohmann::json& created = task.at("created_ns");
    const nlohmann::json& exited = task.at("exited_ns");
    const nlohmann::json& syscall = task.at("latency_ns").at("syscall");
    REQUIRE(created.is_number());
    REQUIRE(exited.is_number());
    REQUIRE(syscall.is_number());
    const int64_t lived = exited.get<int64_t>() - created.get<int64_t>();
    CHECK(life_ns(task) >= lived - syscall.get<int64_t>());
    CHECK(life_ns(task) <= lived + state_ns(task, "runnable") + 5'000'000);
}

}  // namespace live
