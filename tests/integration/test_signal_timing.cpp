// Live tests of stop signals at any moment of a run: while the probes load,
// while the command runs, while the reports are written. Each leaves a
// usable report or a clear message, and the exit status agrees with what
// the report says.
#include <catch2/catch.hpp>

#include <dirent.h>
#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "live_run.h"

using nlohmann::json;
using namespace std::chrono_literals;

namespace {

const std::string kPython = "/usr/bin/python3";

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::vector<std::string> files_in(const std::string& dir) {
    std::vector<std::string> names;
    if (DIR* d = opendir(dir.c_str())) {
        while (dirent* entry = readdir(d))
            if (entry->d_name[0] != '.') names.push_back(entry->d_name);
        closedir(d);
    }
    return names;
}

// What a shell would say of the run's command, from report.json.
int shell_status_of(const json& run) {
    return run.at("exit_code").is_number() ? run.at("exit_code").get<int>() : 128 + run.at("exit_signal").get<int>();
}

// cxtrace with CXTRACE_TEST_HOLD_REPORTS: it waits before the reports until
// `go` exists, so a signal can be sent while they are due, without a race.
std::vector<std::string> held_before_reports(const std::string& go, const std::string& out) {
    return {"/usr/bin/env", "CXTRACE_TEST_HOLD_REPORTS=" + go, CXTRACE_BINARY, "run", "-o", out, "--", "/bin/sh", "-c",
            "exit 3"};
}

}  // namespace

TEST_CASE("a signal while the reports are written changes nothing they say, and the exit status agrees",
          "[live][faults][signals]") {
    REQUIRE_ROOT();
    live::TempDir tmp;
    const std::string out = tmp / "out", go = tmp / "go";
    live::Started cxtrace(held_before_reports(go, out));
    REQUIRE(live::eventually([&] { return contains(cxtrace.err_so_far(), "the reports wait until " + go); }, 60s));
    kill(cxtrace.pid(), SIGINT);
    REQUIRE(live::eventually([&] { return contains(cxtrace.err_so_far(), "SIGINT after the tracing ended"); }, 30s));

    SECTION("one: the reports are finished; exit status and report both say the command's own") {
        live::run({"/usr/bin/touch", go});
        const live::Outcome outcome = cxtrace.wait();
        INFO(outcome.out << outcome.err);
        CHECK(contains(outcome.err, "SIGINT after the tracing ended: cxtrace finishes " + out +
                                        "/trace.cxt and the reports first (SIGINT again stops at once)"));
        const json run = live::read_json(out + "/report.json");
        CHECK(run.at("run").at("interrupted") == false);
        CHECK(run.at("run").at("complete") == true);
        CHECK(run.at("run").at("exit_code") == 3);
        CHECK(outcome.status == 3);  // what the report says, not 130
        CHECK(live::file_exists(out + "/report.html"));
    }
    SECTION("two: cxtrace stops at once by that signal, trace.cxt whole, no half-written report") {
        kill(cxtrace.pid(), SIGINT);
        const live::Outcome outcome = cxtrace.wait();
        INFO(outcome.out << outcome.err);
        CHECK(outcome.status == 128 + SIGINT);
        CHECK(contains(outcome.err, "stopped (SIGINT) before the reports were all written; " + out +
                                        "/trace.cxt is complete: `cxtrace report " + out + "/trace.cxt` writes them"));
        for (const std::string& name : files_in(out)) {
            INFO(name);
            CHECK(name == "trace.cxt");  // no report, whole or half
        }
        auto rendered = live::cxtrace({"report", out + "/trace.cxt"});
        INFO(rendered.err);
        CHECK(rendered.status == 0);
        CHECK(live::read_json(out + "/report.json").at("run").at("exit_code") == 3);
    }
}

TEST_CASE("SIGINT at random moments, from loading the probes to writing the reports: a usable report or a clear "
          "message every time",
          "[live][faults][signals]") {
    REQUIRE_ROOT();
    live::TempDir tmp;
    // A seed of its own each run, unless given: printed when a check fails.
    const char* seed_text = std::getenv("CXTRACE_TEST_SEED");
    const uint64_t seed = seed_text ? std::strtoull(seed_text, nullptr, 10) : std::random_device{}();
    INFO("seed " << seed << " (again with CXTRACE_TEST_SEED=" << seed << ")");
    std::mt19937_64 random(seed);
    // A short context-switch storm: a trace of some size, so the reports take a while too.
    auto command = [&](const std::string& out) {
        return std::vector<std::string>{CXTRACE_BINARY, "run", "-o", out, "--", kPython,
                                        std::string(CXTRACE_TEST_PROGRAMS) + "/yield_storm.py", "15000"};
    };
    // How long a whole run takes here, now: the signals are spread over it.
    const auto calibration_started = std::chrono::steady_clock::now();
    live::Started calibration(command(tmp / "calibration"));
    REQUIRE(calibration.wait().status == 0);
    const auto whole_run = std::chrono::steady_clock::now() - calibration_started;
    INFO("a whole run took " << std::chrono::duration_cast<std::chrono::milliseconds>(whole_run).count() << " ms");

    // Most trials spread over a whole run; the last few aim at its end, once
    // trace.cxt is whole and the reports are being written, a short part
    // of a run that an even spread would seldom hit.
    constexpr int kTrials = 20, kSpread = 14;
    int before_tracing = 0, while_tracing = 0, after_tracing = 0, after_exit = 0;
    for (int trial = 0; trial < kTrials; ++trial) {
        const std::string out = tmp / ("trial-" + std::to_string(trial));
        std::chrono::microseconds delay;
        live::Started cxtrace(command(out));
        if (trial < kSpread) {
            // A random moment of the trial-th fourteenth of a run.
            std::uniform_real_distribution<double> within(trial / double(kSpread), (trial + 1) / double(kSpread));
            delay = std::chrono::duration_cast<std::chrono::microseconds>(whole_run * within(random));
            std::this_thread::sleep_for(delay);
        } else {
            // Up to 30 ms after trace.cxt is in place (the reports come next).
            live::eventually([&] { return live::file_exists(out + "/trace.cxt"); }, 60s);
            delay = std::chrono::microseconds(std::uniform_int_distribution<int>(0, 30'000)(random));
            std::this_thread::sleep_for(delay);
        }
        kill(cxtrace.pid(), SIGINT);
        const live::Outcome outcome = cxtrace.wait();
        INFO("trial " << trial << ": SIGINT after " << delay.count() << " us" << (trial < kSpread ? "" : " after trace.cxt")
                      << "; exit " << outcome.status << "\n"
                      << outcome.err);
        for (const std::string& name : files_in(out)) {
            INFO(name);
            CHECK(name.find(".partial") == std::string::npos);  // nothing half-written left behind
        }
        if (!live::file_exists(out + "/report.json")) {
            // Stopped before anything ran: said, and nothing left behind (or,
            // signalled before it even read its arguments, killed by it).
            CHECK(outcome.status == 128 + SIGINT);
            CHECK((contains(outcome.err, "interrupted (SIGINT) before the command started: nothing was traced") ||
                   contains(outcome.err, "interrupted (SIGINT) while the probes were loaded: nothing was traced") ||
                   outcome.err.empty()));
            CHECK(files_in(out).empty());
            ++before_tracing;
            continue;
        }
        const json report = live::read_json(out + "/report.json");
        CHECK(live::file_exists(out + "/report.html"));
        CHECK(live::file_exists(out + "/trace.cxt"));
        const json& run = report.at("run");
        CHECK(outcome.status == shell_status_of(run));  // the exit status is what the report says
        if (run.at("interrupted") == true) {
            // The command got the signal: killed by it, or (python3 while
            // it starts) ending with a status of its own, as the report says.
            CHECK(run.at("complete") == false);
            ++while_tracing;
        } else if (contains(outcome.err, "SIGINT after the tracing ended")) {
            CHECK(run.at("complete") == true);
            CHECK(outcome.status == 0);
            ++after_tracing;
        } else {
            CHECK(run.at("complete") == true);  // cxtrace had ended: the signal found nobody
            CHECK(outcome.status == 0);
            ++after_exit;
        }
    }
    INFO("signalled before tracing " << before_tracing << ", while tracing " << while_tracing
                                     << ", after the tracing ended " << after_tracing << ", after cxtrace's end "
                                     << after_exit);
    CHECK(before_tracing + while_tracing + after_tracing + after_exit == kTrials);
}
