// Live tests of the limits on a run: --max-trace-size and --duration stop
// the tracing cleanly, the command is stopped (or left running, as asked),
// the report and the exit status (124) say so.
#include <catch2/catch.hpp>

#include <signal.h>

#include <chrono>
#include <string>
#include <vector>

#include "live_run.h"

using nlohmann::json;
using namespace std::chrono_literals;

namespace {

const std::string kPython = "/usr/bin/python3";
// A context-switch storm that would go on for hours: only a limit ends it.
const std::vector<std::string> kEndlessStorm{kPython, std::string(CXTRACE_TEST_PROGRAMS) + "/yield_storm.py",
                                             "987654321"};

size_t storms_alive() { return live::processes_running(kEndlessStorm).size(); }

struct KillStormsAfterwards {
    ~KillStormsAfterwards() {
        for (long pid : live::processes_running(kEndlessStorm)) kill(static_cast<pid_t>(pid), SIGKILL);
    }
};

std::vector<std::string> run_storm(std::vector<std::string> args) {
    args.insert(args.begin(), "run");
    args.push_back("--");
    args.insert(args.end(), kEndlessStorm.begin(), kEndlessStorm.end());
    return args;
}

}  // namespace

TEST_CASE("a trace size limit (--max-trace-size) stops the tracing: a whole trace within it, the command stopped, exit 124",
          "[live][limits]") {
    REQUIRE_ROOT();
    KillStormsAfterwards cleanup;
    live::TempDir tmp;
    constexpr uint64_t kLimit = 2u << 20;
    auto outcome = live::cxtrace(run_storm({"--max-trace-size", "2M", "-o", tmp / "out"}));
    INFO(outcome.out << outcome.err);
    CHECK(outcome.status == 124);
    // Said as it came near (stderr is no terminal here: one line), then when reached.
    const size_t near = outcome.err.find("trace.cxt has reached ");
    const size_t reached = outcome.err.find(tmp / "out/trace.cxt reached its size limit (--max-trace-size 2 MiB): "
                                                  "tracing stopped; stopping the command (SIGTERM");
    CHECK(near != std::string::npos);
    CHECK(reached != std::string::npos);
    CHECK(near < reached);
    // Both processes of the storm: the root by the SIGTERM, its child after it.
    CHECK(outcome.err.find("stopped the 1 task the command left running (SIGKILL)") != std::string::npos);
    CHECK(storms_alive() == 0);

    const std::string trace = live::read_file(tmp / "out/trace.cxt");
    CHECK(trace.size() <= kLimit + 4096);  // the events within the limit, then the end record
    CHECK(trace.size() > kLimit - 8192);   // ... and filled up to it
    const json report = live::read_json(tmp / "out/report.json");
    const json& run = report.at("run");
    CHECK(run.at("limit_reached") == json{{"option", "--max-trace-size"}, {"bytes", kLimit}});
    CHECK(run.at("complete") == false);
    CHECK(run.at("interrupted") == false);
    CHECK(run.at("lost_events") == 0);
    CHECK(run.at("exit_signal") == SIGTERM);
    CHECK(outcome.out.find("incomplete: tracing stopped at the trace size limit (--max-trace-size 2 MiB)") !=
          std::string::npos);
    CHECK(live::read_file(tmp / "out/report.html").find("Tracing stopped at the trace size limit") !=
          std::string::npos);
    // The file is a whole trace: rendered again, it says the same.
    auto again = live::cxtrace({"report", "-o", tmp / "again", tmp / "out/trace.cxt"});
    INFO(again.err);
    CHECK(again.status == 0);
    CHECK(live::read_json(tmp / "again/report.json").at("run").at("limit_reached") == run.at("limit_reached"));
}

TEST_CASE("a trace size limit with --leave-running: tracing stops, the command runs on", "[live][limits]") {
    REQUIRE_ROOT();
    KillStormsAfterwards cleanup;
    live::TempDir tmp;
    // Output to files: the storm left running keeps them open.
    std::vector<std::string> argv = run_storm({"--max-trace-size", "1M", "--leave-running", "-o", tmp / "out"});
    argv.insert(argv.begin(), CXTRACE_BINARY);
    live::Started cxtrace(argv);
    const live::Outcome outcome = cxtrace.wait();
    INFO(outcome.out << outcome.err);
    CHECK(outcome.status == 124);
    CHECK(outcome.err.find("tracing stopped; the command is left running (pid ") != std::string::npos);
    CHECK(storms_alive() == 2);
    const json run = live::read_json(tmp / "out/report.json").at("run");
    CHECK(run.at("left_running") == true);
    CHECK(run.at("limit_reached").at("option") == "--max-trace-size");
    CHECK(run.at("exit_code").is_null());
    CHECK(run.at("exit_signal").is_null());
}

TEST_CASE("a time limit (--duration) stops the tracing after that long, and the report says so", "[live][limits]") {
    REQUIRE_ROOT();
    live::TempDir tmp;
    const std::vector<std::string> sleeper{"/bin/sleep", "303"};
    auto outcome = live::cxtrace({"run", "--duration", "1.5", "-o", tmp / "out", "--", sleeper[0], sleeper[1]});
    INFO(outcome.out << outcome.err);
    for (long pid : live::processes_running(sleeper)) kill(static_cast<pid_t>(pid), SIGKILL);
    CHECK(outcome.status == 124);
    CHECK(outcome.err.find("the time limit was reached (--duration 1.50 s): tracing stopped; stopping the command") !=
          std::string::npos);
    const json run = live::read_json(tmp / "out/report.json").at("run");
    CHECK(run.at("limit_reached") == json{{"option", "--duration"}, {"ns", 1'500'000'000}});
    CHECK(run.at("duration_ns").get<uint64_t>() >= 1'500'000'000u);
    CHECK(run.at("exit_signal") == SIGTERM);
    CHECK(run.at("complete") == false);
    CHECK(outcome.out.find("tracing stopped at the time limit (--duration 1.50 s)") != std::string::npos);
}

TEST_CASE("limits that are not sizes or durations are refused before anything runs", "[live][limits]") {
    REQUIRE_ROOT();
    live::TempDir tmp;
    const std::vector<std::vector<std::string>> refused{
        {"--max-trace-size", "10K"}, {"--max-trace-size", "-1"}, {"--max-trace-size", "lots"},
        {"--max-trace-size", "99999999999999G"}, {"--duration", "0"}, {"--duration", "-3"},
        {"--duration", "nan"}, {"--duration", "1e9"}, {"--duration", "10s"}};
    for (const auto& option : refused) {
        INFO(option[0] << " " << option[1]);
        auto outcome = live::cxtrace({"run", option[0], option[1], "-o", tmp / "out", "--", "/bin/echo", "ran"});
        CHECK(outcome.status == 2);
        CHECK(outcome.err.find(option[0]) != std::string::npos);
        CHECK(outcome.out.find("ran") == std::string::npos);
        CHECK_FALSE(live::file_exists(tmp / "out"));
    }
    SECTION("0 means no size limit") {
        auto outcome = live::cxtrace({"run", "--max-trace-size", "0", "-o", tmp / "none", "--", "/bin/true"});
        CHECK(outcome.status == 0);
        CHECK(live::read_json(tmp / "none/report.json").at("run").at("limit_reached").is_null());
    }
}
