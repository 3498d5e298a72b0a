// Live tests: when cxtrace is killed (kill -9) or stopped (SIGTERM), every
// task of the traced command dies too, not only the root.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <string>
#include <vector>

#include "live_run.h"

using nlohmann::json;
using namespace std::chrono_literals;

namespace {

// A shell that starts one sleep in the background and one in the
// foreground: the first is what the root's death signal never reached.
// It creates `running` first, so the test knows the command runs.
std::vector<std::string> two_sleeps(const std::string& running) {
    return {"/bin/sh", "-c", "touch \"$0\"; /bin/sleep 301 & /bin/sleep 302", running};
}

size_t sleeps_alive() {
    return live::processes_running({"/bin/sleep", "301"}).size() + live::processes_running({"/bin/sleep", "302"}).size();
}

// Kills the sleeps a failed check left behind, so the next test starts clean.
struct KillSleepsAfterwards {
    ~KillSleepsAfterwards() {
        for (const char* seconds : {"301", "302"})
            for (long pid : live::processes_running({"/bin/sleep", seconds})) kill(static_cast<pid_t>(pid), SIGKILL);
    }
};

std::vector<std::string> with_command(std::vector<std::string> argv, const std::vector<std::string>& command) {
    argv.push_back("--");
    argv.insert(argv.end(), command.begin(), command.end());
    return argv;
}

}  // namespace

TEST_CASE("when cxtrace is killed or stopped every task of the command dies, not only the root",
          "[live][faults][tree]") {
    REQUIRE_ROOT();
    KillSleepsAfterwards cleanup;
    REQUIRE(sleeps_alive() == 0);  // none left by an earlier run
    live::TempDir tmp;
    const std::string running = tmp / "running";
    // Both sleeps run: the command is fully under way.
    auto under_way = [&] { return live::file_exists(running) && sleeps_alive() == 2; };

    SECTION("kill -9 of cxtrace: its guard kills them") {
        live::Started cxtrace(with_command({CXTRACE_BINARY, "run", "-o", tmp / "out"}, two_sleeps(running)));
        REQUIRE(live::eventually(under_way, 60s));
        kill(cxtrace.pid(), SIGKILL);
        const live::Outcome outcome = cxtrace.wait();
        CHECK(outcome.status == 128 + SIGKILL);
        CHECK(live::eventually([] { return sleeps_alive() == 0; }, 10s));
        // The guard keeps cxtrace's stderr: it says what it did once done.
        CHECK(live::eventually(
            // The root may have died of its death signal already: 2 or 3 tasks.
            [&] { return cxtrace.err_so_far().find("tasks left of its command were killed (SIGKILL)") !=
                         std::string::npos; },
            10s));
        INFO(cxtrace.err_so_far());
        CHECK(live::file_exists(tmp / "out/trace.cxt.partial"));  // what it traced is kept, as before
    }
    SECTION("SIGTERM to cxtrace: the command gets it, what it leaves is killed, the trace shows it") {
        live::Started cxtrace(with_command({CXTRACE_BINARY, "run", "-o", tmp / "out"}, two_sleeps(running)));
        REQUIRE(live::eventually(under_way, 60s));
        kill(cxtrace.pid(), SIGTERM);
        const live::Outcome outcome = cxtrace.wait();
        INFO(outcome.out << outcome.err);
        CHECK(outcome.status == 128 + SIGTERM);  // the shell, the root, died of the signal passed on
        CHECK(live::eventually([] { return sleeps_alive() == 0; }, 10s));
        CHECK(outcome.err.find("stopped the 2 tasks the command left running (SIGKILL)") != std::string::npos);
        const json report = live::read_json(tmp / "out/report.json");
        CHECK(report.at("run").at("interrupted") == true);
        CHECK(report.at("run").at("exit_signal") == SIGTERM);
        // Followed to their end: both sleeps' deaths are in the trace.
        int sleeps_killed = 0;
        for (const json& task : report.at("tasks"))
            if (task.at("comm") == "sleep" && task.at("exit_signal") == SIGKILL) ++sleeps_killed;
        CHECK(sleeps_killed == 2);
    }
    SECTION("kill -9 with CAP_BPF and CAP_PERFMON only, as the cxtrace group runs it: the same, without root") {
        if (!live::file_exists("/usr/bin/setpriv")) {
            WARN("skipped: setpriv not installed");
            return;
        }
        REQUIRE(chmod(tmp.path().c_str(), 0777) == 0);
        live::Started cxtrace(with_command({"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                            "--inh-caps=+bpf,+perfmon", "--ambient-caps=+bpf,+perfmon", CXTRACE_BINARY,
                                            "run", "-o", tmp / "out"},
                                           two_sleeps(running)));
        REQUIRE(live::eventually(under_way, 60s));
        for (long pid : live::processes_running({"/bin/sleep", "301"})) {
            struct stat owner;
            REQUIRE(stat(("/proc/" + std::to_string(pid)).c_str(), &owner) == 0);
            CHECK(owner.st_uid == 65534);  // the command, and so the sleeps, are nobody's
        }
        kill(cxtrace.pid(), SIGKILL);
        cxtrace.wait();
        CHECK(live::eventually([] { return sleeps_alive() == 0; }, 10s));
    }
    SECTION("with --leave-running they are left running, as asked") {
        live::Started cxtrace(
            with_command({CXTRACE_BINARY, "run", "--leave-running", "-o", tmp / "out"}, two_sleeps(running)));
        REQUIRE(live::eventually(under_way, 60s));
        kill(cxtrace.pid(), SIGKILL);
        cxtrace.wait();
        // A moment for a guard to act, were there one; the sleeps run on.
        CHECK_FALSE(live::eventually([] { return sleeps_alive() < 2; }, 2s));
    }
}
