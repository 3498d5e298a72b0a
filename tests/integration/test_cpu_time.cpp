// Live tests of the kernel's CPU clock in cxtrace's figures, and of phases:
// tasks print their own CPU time (CLOCK_THREAD_CPUTIME_ID) and the kernel's
// final total (a zombie's /proc/PID/schedstat); report.json must agree.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <map>
#include <regex>
#include <string>

#include "live_run.h"

using nlohmann::json;

namespace {

// pid -> ns, from every "<prefix> ... pid|tid=N cpu_ns=M" line.
std::map<long, long long> printed(const std::string& text, const std::string& pattern) {
    std::map<long, long long> found;
    std::regex re(pattern);
    for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator(); ++it)
        found[std::stol((*it)[1])] = std::stoll((*it)[2]);
    return found;
}

long long tolerance(long long ns) { return std::max<long long>(ns / 50, 1'000'000); }  // 2% or 1 ms

}  // namespace

TEST_CASE("cpu_time_ns agrees with what threads and processes read of their own CPU time", "[live][cpu-clock]") {
    REQUIRE_ROOT();
    live::TempDir dir;
    auto outcome = live::cxtrace({"run", "-o", dir / "out", "--", CXTRACE_CPUTIME_WITNESS, "2", "2", "150"});
    INFO(outcome.out << outcome.err);
    REQUIRE(outcome.status == 0);
    json report = live::read_json(dir / "out/report.json");

    auto own = printed(outcome.out, R"(cputime pid=\d+ tid=(\d+) cpu_ns=(\d+))");
    auto final_total = printed(outcome.out, R"(final pid=(\d+) cpu_ns=(\d+))");
    REQUIRE(own.size() == 5);  // 2 threads, 2 processes, main
    REQUIRE(final_total.size() == 2);
    for (const auto& [tid, ns] : own) {
        if (final_total.count(tid)) continue;  // a process: its exit costs more, checked below against the final total
        auto tasks = live::tasks_with_pid(report, tid);
        REQUIRE(tasks.size() == 1);
        const json& task = *tasks[0];
        INFO("tid " << tid << " printed " << ns << " ns; report: " << task.dump());
        REQUIRE(task.at("cpu_time_ns").is_number());
        // Exiting costs a little CPU after the read: never less, at most the tolerance more.
        CHECK(task.at("cpu_time_ns").get<long long>() >= ns);
        CHECK(task.at("cpu_time_ns").get<long long>() - ns <= tolerance(ns));
        // What the switch events show (with repairs) is not short of it by
        // more than the two clocks' difference under load (a few percent).
        CHECK(task.at("oncpu_ns").get<long long>() + std::max(ns / 10, 2'000'000LL) >= ns);
    }
    for (const auto& [pid, ns] : final_total) {
        auto tasks = live::tasks_with_pid(report, pid);
        REQUIRE(tasks.size() == 1);
        INFO("process " << pid << ": the kernel's final total " << ns << " ns");
        // The same clock, read at the final switch-out: equal but for rounding.
        CHECK(std::llabs(tasks[0]->at("cpu_time_ns").get<long long>() - ns) <= 100'000);
    }
}

TEST_CASE("cpu-bound marks its phases, each holds its workers CPU time, the locked threads take turns", "[live][phases]") {
    REQUIRE_ROOT();
    live::TempDir dir;
    auto outcome = live::cxtrace({"run", "-o", dir / "out", "cpu-bound", "--work-ms", "200"});
    INFO(outcome.out << outcome.err);
    REQUIRE(outcome.status == 0);
    json report = live::read_json(dir / "out/report.json");
    const json& phases = report.at("phases");
    REQUIRE(phases.size() == 4);
    std::map<std::string, const json*> by_name;
    for (const json& phase : phases) by_name[phase.at("name")] = &phase;
    REQUIRE(by_name.count("calibrate") + by_name.count("processes") + by_name.count("threads") +
                by_name.count("locked") == 4);
    CHECK(by_name["processes"]->at("tasks_created").at("process") == 2);
    CHECK(by_name["threads"]->at("tasks_created").at("thread") == 2);
    CHECK(by_name["locked"]->at("tasks_created").at("thread") == 2);
    // Each worker computed ~200 ms: each phase's kernel CPU time holds both
    // workers' work (what they printed), whatever the machine's load.
    auto worker_cpu = printed(outcome.out, R"(tid=(\d+) done after .* cpu_time=([\d.]+) ms)");
    REQUIRE(worker_cpu.size() == 6);
    for (const char* name : {"processes", "threads", "locked"}) {
        INFO(name << ": " << by_name[name]->dump());
        CHECK(by_name[name]->at("cpu_time_ns").get<long long>() >= 2 * 150'000'000LL);
    }
    // The lock lets one thread compute at a time, however idle the machine:
    // two of them on CPUs at once is rare (the hand-over), never the rule.
    auto share_of_two = [](const json& phase) {
        long long busy = 0, two = 0;
        for (const auto& [n, ns] : phase.at("parallelism_ns").items()) {
            if (std::stoi(n) >= 1) busy += ns.get<long long>();
            if (std::stoi(n) >= 2) two += ns.get<long long>();
        }
        return busy ? static_cast<double>(two) / static_cast<double>(busy) : 0.0;
    };
    CHECK(share_of_two(*by_name["locked"]) < 0.2);
    // The root's comm is the workload's name, not a marker.
    CHECK(live::tasks_with_pid(report, report.at("run").at("root_pid").get<long>())[0]->at("comm") == "cpu-bound");
}
