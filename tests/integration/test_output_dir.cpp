// Live tests of where a run's files go: -o is created as mkdir -p would, and
// two runs' files never share a directory.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <fstream>

#include "live_run.h"

using nlohmann::json;

TEST_CASE("an output directory (-o) with missing parents is created, as the invoking user", "[live][output]") {
    REQUIRE_ROOT();
    live::TempDir tmp;
    REQUIRE(chmod(tmp.path().c_str(), 0777) == 0);
    SECTION("under sudo") {
        auto outcome = live::run({"/usr/bin/env", "SUDO_UID=65534", "SUDO_GID=65534", "SUDO_USER=nobody",
                                  CXTRACE_BINARY, "run", "-o", tmp / "a/b/c", "--", "/bin/true"});
        INFO(outcome.err);
        REQUIRE(outcome.status == 0);
        for (const char* dir : {"a", "a/b", "a/b/c", "a/b/c/report.json"}) {
            INFO(dir);
            CHECK(live::owner_uid(tmp / dir) == 65534);
        }
    }
    SECTION("a parent that is a file is refused") {
        std::ofstream(tmp / "file") << "not a directory";
        auto outcome = live::cxtrace({"run", "-o", tmp / "file/out", "--", "/bin/true"});
        CHECK(outcome.status == 1);
        CHECK(outcome.err.find(tmp / "file exists and is not a directory") != std::string::npos);
    }
    SECTION("directories created for a run that then failed are removed again") {
        // Passes the early check (an executable file), fails at exec: its interpreter is missing.
        const std::string script = tmp / "bad-interpreter.sh";
        std::ofstream(script) << "#!/nonexistent/interpreter\n";
        REQUIRE(chmod(script.c_str(), 0755) == 0);
        auto outcome = live::cxtrace({"run", "-o", tmp / "new/out", "--", script});
        CHECK(outcome.status == 127);
        CHECK_FALSE(live::file_exists(tmp / "new"));
    }
}

TEST_CASE("an -o directory that holds another run's files is refused before anything is attached",
          "[live][output]") {
    REQUIRE_ROOT();
    live::TempDir tmp;
    for (const char* name : {"report.json", "trace.cxt"}) {
        INFO(name);
        const std::string dir = tmp / (std::string("holds-") + name);
        REQUIRE(mkdir(dir.c_str(), 0755) == 0);
        std::ofstream(dir + "/" + name) << "an earlier run's";
        // --verbose names the syscall probes as they are loaded: never, here.
        auto outcome = live::cxtrace({"run", "--verbose", "-o", dir, "--", "/bin/echo", "command-ran"});
        CHECK(outcome.status == 1);
        CHECK(outcome.err.find(dir + " already holds a run's files (" + name + ")") != std::string::npos);
        CHECK(outcome.err.find("syscall entry/exit") == std::string::npos);
        CHECK(outcome.out.find("command-ran") == std::string::npos);
        CHECK(live::read_file(dir + "/" + name) == "an earlier run's");
    }

    SECTION("cxtrace report too, but a trace rendered again into its own directory replaces its own reports") {
        auto first = live::cxtrace({"run", "-o", tmp / "first", "--", "/bin/true"});
        REQUIRE(first.status == 0);
        auto second = live::cxtrace({"run", "-o", tmp / "second", "--", "/bin/true"});
        REQUIRE(second.status == 0);
        const std::string second_report = live::read_file(tmp / "second/report.json");
        auto mixed = live::cxtrace({"report", "-o", tmp / "second", tmp / "first/trace.cxt"});
        CHECK(mixed.status == 1);
        CHECK(mixed.err.find("already holds a run's files (trace.cxt, report.json, report.html, perfetto.pftrace)") !=
              std::string::npos);
        CHECK(live::read_file(tmp / "second/report.json") == second_report);
        auto again = live::cxtrace({"report", tmp / "first/trace.cxt"});
        INFO(again.err);
        CHECK(again.status == 0);
        auto again_by_name = live::cxtrace({"report", "-o", tmp / "first/.", tmp / "first/trace.cxt"});
        CHECK(again_by_name.status == 0);
    }
}

TEST_CASE("a trace.cxt.partial left by a killed run does not block the next run, and is kept", "[live][output]") {
    REQUIRE_ROOT();
    live::TempDir tmp;
    const std::string out = tmp / "out";
    // A run killed while its command runs leaves its unfinished trace.
    std::string script = std::string(CXTRACE_BINARY) + " run -o '" + out +
                         "' -- /bin/sh -c 'touch \"$0\"; exec /bin/sleep 300' '" + (tmp / "running") + "' & pid=$!; " +
                         live::shell_wait_for_file(tmp / "running") + "; kill -9 $pid; wait $pid";
    live::run({"/bin/sh", "-c", script});
    REQUIRE(live::file_exists(out + "/trace.cxt.partial"));
    const std::string unfinished = live::read_file(out + "/trace.cxt.partial");
    live::run({"/usr/bin/pkill", "-f", "sleep 300"});

    auto next = live::cxtrace({"run", "-o", out, "--", "/bin/true"});
    INFO(next.err);
    REQUIRE(next.status == 0);
    CHECK(next.err.find(out + "/trace.cxt.partial was left unfinished by an earlier run (killed?): kept as " + out +
                        "/trace.cxt.unfinished-") != std::string::npos);
    CHECK(live::read_json(out + "/report.json").at("run").at("complete") == true);
    CHECK_FALSE(live::file_exists(out + "/trace.cxt.partial"));
    const std::string kept_name = next.err.substr(next.err.find("kept as ") + 8);
    CHECK(live::read_file(kept_name.substr(0, kept_name.find('\n'))) == unfinished);
}

TEST_CASE("a second run into a directory a run is writing now is refused", "[live][output]") {
    REQUIRE_ROOT();
    live::TempDir tmp;
    const std::string out = tmp / "out";
    // The first run's command waits for the file `done`, created once the
    // second run has been refused.
    std::string script = std::string(CXTRACE_BINARY) + " run -o '" + out +
                         "' -- /bin/sh -c 'touch \"$0\"; while [ ! -e \"$0.done\" ]; do sleep 0.02; done' '" +
                         (tmp / "running") + "' & pid=$!; " + live::shell_wait_for_file(tmp / "running") + "; " +
                         CXTRACE_BINARY + " run --verbose -o '" + out + "' -- /bin/echo second-command-ran; echo second=$?; touch '" +
                         (tmp / "running.done") + "'; wait $pid; echo first=$?";
    auto outcome = live::run({"/bin/sh", "-c", script});
    INFO(outcome.out << outcome.err);
    CHECK(outcome.out.find("second=1") != std::string::npos);
    CHECK(outcome.err.find("another cxtrace run is writing into this directory now (" + out +
                           "/trace.cxt.partial)") != std::string::npos);
    CHECK(outcome.out.find("second-command-ran") == std::string::npos);
    CHECK(outcome.err.find("syscall entry/exit") == std::string::npos);  // the second loaded no probe
    CHECK(outcome.out.find("first=0") != std::string::npos);
    CHECK(live::read_json(out + "/report.json").at("run").at("complete") == true);
}

TEST_CASE("a run killed after a few seconds keeps what it traced, and cxtrace report salvages it", "[live][output]") {
    REQUIRE_ROOT();
    live::TempDir tmp;
    const std::string out = tmp / "out";
    // The command runs 3 s before cxtrace is killed: trace.cxt.partial is
    // handed to the kernel every second, so it holds the run's start.
    std::string script = std::string(CXTRACE_BINARY) + " run -o '" + out +
                         "' -- /bin/sh -c 'touch \"$0\"; exec /bin/sleep 307' '" + (tmp / "running") + "' & pid=$!; " +
                         live::shell_wait_for_file(tmp / "running") + "; sleep 3; kill -9 $pid; wait $pid";
    live::run({"/bin/sh", "-c", script});
    live::run({"/usr/bin/pkill", "-f", "^/bin/sleep 307$"});
    REQUIRE(live::file_exists(out + "/trace.cxt.partial"));

    auto salvaged = live::cxtrace({"report", "-o", tmp / "report", out + "/trace.cxt.partial"});
    INFO(salvaged.out << salvaged.err);
    CHECK(salvaged.status != 0);  // not the whole run: said, and the exit says it too
    CHECK(salvaged.err.find("whole events before the cut") != std::string::npos);
    const json report = live::read_json(tmp / "report/report.json");
    CHECK(report.at("run").at("complete") == false);
    CHECK(report.at("run").at("cut_off").is_string());
    // The command's exec of sleep, 3 s before the kill, is in it.
    bool saw_sleep = false;
    for (const json& task : report.at("tasks"))
        for (const json& exec : task.at("execs")) saw_sleep |= exec.at("filename") == "/bin/sleep";
    CHECK(saw_sleep);
    CHECK(salvaged.out.find("the trace file was cut off") != std::string::npos);
}
