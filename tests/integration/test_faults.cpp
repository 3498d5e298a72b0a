// Live tests of faults and namespaces: crashes, unexecutable commands, pid
// reuse under churn, reparenting, PID namespaces and cxtrace's own privileges.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "live_run.h"
#include "perfetto_trace.h"

using nlohmann::json;

namespace {

const std::string kPrograms = CXTRACE_TEST_PROGRAMS;
const std::string kPython = "/usr/bin/python3";

// name=value pairs of each line starting with "who:", keyed by who.
std::multimap<std::string, std::map<std::string, long>> printed_ids(const std::string& text) {
    std::multimap<std::string, std::map<std::string, long>> lines;
    std::istringstream in(text);
    std::string line;
    const std::regex head(R"(^([a-z]+): (.*)$)"), pair(R"((\w+)=(\d+))");
    while (std::getline(in, line)) {
        std::smatch m;
        if (!std::regex_match(line, m, head)) continue;
        std::map<std::string, long> values;
        std::string rest = m[2];
        for (std::sregex_iterator it(rest.begin(), rest.end(), pair), end; it != end; ++it)
            values[(*it)[1]] = std::stol((*it)[2]);
        lines.emplace(m[1], values);
    }
    return lines;
}

// Sets a sysctl for one test and puts the old value back, whatever happens.
class SysctlOverride {
public:
    SysctlOverride(std::string path, const std::string& value) : path_(std::move(path)) {
        std::ifstream(path_) >> old_;
        std::ofstream(path_) << value;
    }
    ~SysctlOverride() { std::ofstream(path_) << old_; }
    SysctlOverride(const SysctlOverride&) = delete;
    SysctlOverride& operator=(const SysctlOverride&) = delete;

private:
    std::string path_, old_;
};

}  // namespace

TEST_CASE("a command that crashes with SIGSEGV: the report records the signal, cxtrace exits 139",
          "[live][faults]") {
    REQUIRE_ROOT();
    live::TempDir tmp;
    // A real invalid read, not a signal sent by hand.
    auto outcome = live::cxtrace({"run", "-o", tmp / "out", "--", kPython, "-c", "import ctypes; ctypes.string_at(0)"});
    INFO(outcome.err);
    CHECK(outcome.status == 128 + 11);
    json report = live::read_json(tmp / "out/report.json");
    CHECK(report.at("run").at("exit_signal") == 11);
    CHECK(report.at("run").at("exit_code").is_null());
    CHECK(report.at("run").at("complete") == true);
    CHECK(report.at("tasks")[0].at("exit_signal") == 11);
    CHECK(outcome.out.find("report: ") != std::string::npos);
}

TEST_CASE("a command that cannot be executed: 126, a message, no report", "[live][faults]") {
    REQUIRE_ROOT();
    live::TempDir tmp;
    SECTION("a file without execute permission") {
        std::string script = tmp / "not-executable.sh";
        std::ofstream(script) << "#!/bin/sh\necho hi\n";
        REQUIRE(chmod(script.c_str(), 0644) == 0);
        auto outcome = live::cxtrace({"run", "-o", tmp / "out", "--", script});
        CHECK(outcome.status == 126);
        CHECK(outcome.err.find(script) != std::string::npos);
        CHECK(outcome.err.find("ermission denied") != std::string::npos);
        CHECK_FALSE(live::file_exists(tmp / "out/report.json"));
    }
    SECTION("a directory") {
        auto outcome = live::cxtrace({"run", "-o", tmp / "out", "--", tmp.path()});
        CHECK(outcome.status == 126);
        CHECK_FALSE(live::file_exists(tmp / "out/report.json"));
    }
}

TEST_CASE("in a PID namespace the report keeps the kernel's ids and names the ones each task saw",
          "[live][namespaces]") {
    REQUIRE_ROOT();
    live::TempDir tmp;
    auto outcome = live::cxtrace(
        {"run", "-o", tmp / "out", "--", "/usr/bin/unshare", "--pid", "--fork", kPython, kPrograms + "/ns_ids.py"});
    INFO(outcome.out << outcome.err);
    REQUIRE(outcome.status == 0);
    auto printed = printed_ids(outcome.out);
    REQUIRE(printed.count("main") == 1);
    REQUIRE(printed.count("thread") == 1);
    REQUIRE(printed.count("child") == 1);
    const auto& main_ids = printed.find("main")->second;
    const auto& thread_ids = printed.find("thread")->second;
    const auto& child_ids = printed.find("child")->second;
    CHECK(main_ids.at("pid") == 1);  // the namespace's init
    CHECK(main_ids.at("ppid") == 0);  // its parent is outside

    json report = live::read_json(tmp / "out/report.json");
    CHECK(report.at("run").at("pid_namespace") == "initial");
    const json& root = report.at("tasks")[0];
    CHECK(root.at("kind") == "root");
    CHECK(root.at("pid_namespace").is_null());  // unshare itself stays in the initial namespace

    // Each line a task printed matches exactly one task's pid_namespace.
    auto task_seeing = [&](long ns_pid) -> const json* {
        const json* found = nullptr;
        for (const auto& task : report.at("tasks")) {
            const json& ns = task.at("pid_namespace");
            if (ns.is_object() && ns.at("pid") == ns_pid && task.at("comm") == "python3") {
                if (found) FAIL("two tasks claim namespace pid " << ns_pid);
                found = &task;
            }
        }
        return found;
    };
    const json* init = task_seeing(main_ids.at("tid"));
    const json* thread = task_seeing(thread_ids.at("tid"));
    const json* child = task_seeing(child_ids.at("tid"));
    REQUIRE(init != nullptr);
    REQUIRE(thread != nullptr);
    REQUIRE(child != nullptr);

    CHECK(init->at("kind") == "process");
    CHECK(init->at("parent_pid") == root.at("pid"));
    CHECK(init->at("pid") != 1);  // the kernel's global id
    CHECK(init->at("pid_namespace").at("tgid") == main_ids.at("pid"));
    CHECK(init->at("pid_namespace").at("ppid") == main_ids.at("ppid"));
    CHECK(init->at("pid_namespace").at("level") == 1);

    CHECK(thread->at("kind") == "thread");
    CHECK(thread->at("tgid") == init->at("pid"));
    CHECK(thread->at("pid_namespace").at("tgid") == thread_ids.at("pid"));

    CHECK(child->at("kind") == "process");
    CHECK(child->at("parent_pid") == init->at("pid"));
    CHECK(child->at("ppid") == init->at("pid"));
    CHECK(child->at("pid_namespace").at("tgid") == child_ids.at("pid"));
    CHECK(child->at("pid_namespace").at("ppid") == child_ids.at("ppid"));
    CHECK(child->at("pid_namespace").at("inode") == init->at("pid_namespace").at("inode"));

    std::string findings = report.at("summary").at("what_this_shows").dump();
    CHECK(findings.find("child PID namespace") != std::string::npos);
    CHECK(live::read_file(tmp / "out/report.html").find("pid_namespace") != std::string::npos);
}

TEST_CASE("pids reused under churn never merge two tasks", "[live][faults][churn]") {
    REQUIRE_ROOT();
    live::TempDir tmp;
    // With pid_max this low, 3000 forks must hand out the same pids again.
    constexpr int kForks = 3000;
    SysctlOverride low_pid_max("/proc/sys/kernel/pid_max", "1400");
    auto outcome =
        live::cxtrace({"run", "-o", tmp / "out", "--", kPython, kPrograms + "/fork_churn.py", std::to_string(kForks)});
    INFO(outcome.err);
    REQUIRE(outcome.status == 0);
    auto printed = printed_ids(outcome.out);
    REQUIRE(printed.count("child") == kForks);
    std::map<long, int> printed_times;
    for (auto [it, end] = printed.equal_range("child"); it != end; ++it) ++printed_times[it->second.at("pid")];
    CHECK(printed_times.size() < static_cast<size_t>(kForks));  // reuse really happened

    json report = live::read_json(tmp / "out/report.json");
    REQUIRE(report.at("run").at("lost_events") == 0);
    const json& root = report.at("tasks")[0];
    for (const auto& [pid, times] : printed_times) {
        INFO("pid " << pid);
        int children = 0;
        for (const json* task : live::tasks_with_pid(report, pid)) {
            if (task->at("parent_pid") != root.at("pid")) continue;
            ++children;
            CHECK(task->at("kind") == "process");
            CHECK(task->at("inferred") == false);
            CHECK(task->at("exited_ns").is_number());
            CHECK(task->at("exited_ns").get<uint64_t>() >= task->at("created_ns").get<uint64_t>());
        }
        CHECK(children == times);  // one task per fork, never merged
    }
    CHECK(report.at("anomalies").at("pid_reused_before_exit") == 0);
    CHECK(report.at("anomalies").at("unknown_tasks") == 0);
}

TEST_CASE("a grandchild adopted by a subreaper stays one task with its creator", "[live][faults]") {
    REQUIRE_ROOT();
    live::TempDir tmp;
    auto outcome = live::cxtrace({"run", "-o", tmp / "out", "--", kPython, kPrograms + "/subreaper.py"});
    INFO(outcome.out << outcome.err);
    REQUIRE(outcome.status == 0);
    auto printed = printed_ids(outcome.out);
    REQUIRE(printed.count("grandchild") == 1);
    const auto& grandchild = printed.find("grandchild")->second;
    const long reaper = printed.find("subreaper")->second.at("pid");
    CHECK(grandchild.at("adopted_by") == reaper);  // reparented, as the kernel promised
    CHECK(printed.find("reaped")->second.at("pid") == grandchild.at("pid"));

    json report = live::read_json(tmp / "out/report.json");
    auto tasks = live::tasks_with_pid(report, grandchild.at("pid"));
    REQUIRE(tasks.size() == 1);
    const json& task = *tasks.front();
    CHECK(task.at("parent_pid") == grandchild.at("created_by"));
    CHECK(task.at("ppid") == grandchild.at("created_by"));  // getppid() when it was created
    CHECK(task.at("inferred") == false);
    CHECK(task.at("exit_code") == 0);
    CHECK(report.at("anomalies").at("unknown_tasks") == 0);
}

TEST_CASE("once attached, cxtrace gives up BPF and admin powers", "[live][security]") {
    REQUIRE_ROOT();
    live::TempDir tmp;
    REQUIRE(chmod(tmp.path().c_str(), 0777) == 0);
    SECTION("under sudo it becomes the invoking user: no uid 0, no capability") {
        auto outcome = live::run({"/usr/bin/env", "SUDO_UID=65534", "SUDO_GID=65534", "SUDO_USER=nobody",
                                  CXTRACE_BINARY, "run", "-o", tmp / "user", "--", "/bin/sh", "-c",
                                  "grep -E '^(Uid|Gid|CapEff|CapPrm|NoNewPrivs):' /proc/$PPID/status"});
        INFO(outcome.out << outcome.err);
        REQUIRE(outcome.status == 0);
        CHECK(outcome.out.find("Uid:\t65534\t65534\t65534\t65534") != std::string::npos);
        CHECK(outcome.out.find("Gid:\t65534\t65534\t65534\t65534") != std::string::npos);
        CHECK(outcome.out.find("CapEff:\t0000000000000000") != std::string::npos);
        CHECK(outcome.out.find("CapPrm:\t0000000000000000") != std::string::npos);
        CHECK(outcome.out.find("NoNewPrivs:\t1") != std::string::npos);
        CHECK(live::owner_uid(tmp / "user/report.json") == 65534);
        // ... and writes with the user's rights: a root-owned directory is refused.
        auto refused = live::run({"/usr/bin/env", "SUDO_UID=65534", "SUDO_GID=65534", "SUDO_USER=nobody",
                                  CXTRACE_BINARY, "run", "-o", "/root/cxtrace-never", "--", "/bin/true"});
        CHECK(refused.status == 1);
        CHECK(refused.err.find("/root/cxtrace-never") != std::string::npos);
        CHECK_FALSE(live::file_exists("/root/cxtrace-never"));
        return;
    }
    // Plain root (or --as-root): uid 0 stays, the capabilities go. The
    // traced command is cxtrace's child: it reads its parent's credentials.
    auto outcome = live::cxtrace({"run", "--as-root", "-o", tmp / "out", "--", "/bin/sh", "-c",
                                  "grep -E '^(CapEff|CapPrm|CapBnd|NoNewPrivs):' /proc/$PPID/status"});
    INFO(outcome.err);
    REQUIRE(outcome.status == 0);
    std::map<std::string, std::string> status;
    std::istringstream lines(outcome.out);
    std::string key, value;
    while (lines >> key >> value) status[key] = value;
    // CAP_DAC_OVERRIDE and CAP_KILL only: no CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN, nor CAP_CHOWN (files are
    // written by their owner).
    CHECK(status["CapEff:"] == "0000000000000022");
    CHECK(status["CapPrm:"] == "0000000000000022");
    CHECK(status["CapBnd:"] == "0000000000000022");
    CHECK(status["NoNewPrivs:"] == "1");
    // ... and it still finished the run: losses read, report written.
    json report = live::read_json(tmp / "out/report.json");
    CHECK(report.at("run").at("complete") == true);
    CHECK(report.at("tasks").size() >= 2);
}

TEST_CASE("with leave-running a stop signal ends the tracing but not the command", "[live][faults]") {
    REQUIRE_ROOT();
    live::TempDir tmp;
    // A busy loop (events keep coming while cxtrace stops) with an unusual
    // marker, so it can be found afterwards. Output goes to a file: the loop
    // left running keeps it open.
    // SIGTERM once the command runs (it creates a file then).
    std::string script = std::string(CXTRACE_BINARY) + " run --leave-running -o '" + (tmp / "out") +
                         "' -- /bin/sh -c 'touch \"$0\"; while :; do /bin/true; done # 27.1828' '" +
                         (tmp / "running") + "' >'" + (tmp / "log") + "' 2>&1 & pid=$!; " +
                         live::shell_wait_for_file(tmp / "running") + "; kill -TERM $pid; wait $pid; echo status=$?";
    auto outcome = live::run({"/bin/sh", "-c", script});
    const std::string log = live::read_file(tmp / "log");
    INFO(outcome.out << log);
    auto survivors = live::run({"/usr/bin/pgrep", "-f", "done # 27.1828"});
    live::run({"/usr/bin/pkill", "-f", "done # 27.1828"});
    CHECK(outcome.out.find("status=143") != std::string::npos);
    CHECK_FALSE(survivors.out.empty());  // still running after cxtrace finished

    json report = live::read_json(tmp / "out/report.json");
    const json& run = report.at("run");
    CHECK(run.at("interrupted") == true);
    CHECK(run.at("left_running") == true);
    CHECK(run.at("complete") == false);
    CHECK(run.at("exit_code").is_null());
    CHECK(run.at("exit_signal").is_null());
    CHECK(run.at("lost_events") == 0);  // what was submitted until the probes stopped was read
    CHECK(std::stol(survivors.out) == run.at("root_pid").get<long>());
    CHECK(log.find("left running") != std::string::npos);
}

TEST_CASE("under nohup a SIGHUP neither ends the trace nor reaches the command", "[live][faults]") {
    REQUIRE_ROOT();
    live::TempDir tmp;
    // The command says which signals it ignores, shows it runs, then waits
    // until the SIGHUP has been sent before it finishes on its own.
    const std::string running = tmp / "running";
    std::string script = "/usr/bin/nohup " + std::string(CXTRACE_BINARY) + " run -o '" + (tmp / "out") +
                         "' -- /bin/sh -c 'grep SigIgn /proc/$$/status; touch \"$0\"; "
                         "while [ ! -e \"$0.sent\" ]; do sleep 0.02; done; echo finished' '" + running +
                         "' & pid=$!; " + live::shell_wait_for_file(running) + "; kill -HUP $pid; touch '" + running +
                         ".sent'; wait $pid; echo status=$?";
    auto outcome = live::run({"/bin/sh", "-c", script});
    INFO(outcome.out << outcome.err);
    REQUIRE(live::file_exists(running));
    CHECK(outcome.out.find("finished\n") != std::string::npos);
    CHECK(outcome.out.find("status=0") != std::string::npos);
    std::smatch ignored;
    REQUIRE(std::regex_search(outcome.out, ignored, std::regex(R"(SigIgn:\s+([0-9a-f]+))")));
    CHECK((std::stoull(ignored[1], nullptr, 16) & 1) == 1);  // SIGHUP (1) is bit 0: still ignored by the command
    json report = live::read_json(tmp / "out/report.json");
    CHECK(report.at("run").at("interrupted") == false);
    CHECK(report.at("run").at("complete") == true);
    CHECK(report.at("run").at("exit_code") == 0);
}

TEST_CASE("a command that creates nothing gives a valid and small report", "[live][faults]") {
    REQUIRE_ROOT();
    live::TempDir tmp;
    auto outcome = live::cxtrace({"run", "-o", tmp / "out", "--", "/bin/true"});
    INFO(outcome.err);
    REQUIRE(outcome.status == 0);
    json report = live::read_json(tmp / "out/report.json");
    REQUIRE(report.at("tasks").size() == 1);
    CHECK(report.at("tasks")[0].at("kind") == "root");
    CHECK(report.at("run").at("complete") == true);
    CHECK(report.at("run").at("exit_code") == 0);
    CHECK(report.at("summary").at("creation_latency_ns").empty());
    for (const char* file : {"report.json", "perfetto.pftrace", "trace.cxt"})
        CHECK(live::read_file(tmp / (std::string("out/") + file)).size() < 16 * 1024);
    CHECK(live::read_file(tmp / "out/report.html").size() < 64 * 1024);  // the page's own CSS and script
    CHECK_NOTHROW(cxt::pftrace::decode(live::read_file(tmp / "out/perfetto.pftrace")));
}

TEST_CASE("CAP_BPF and CAP_PERFMON are enough: no root needed", "[live][security]") {
    REQUIRE_ROOT();
    if (!live::file_exists("/usr/bin/setpriv")) {
        WARN("skipped: setpriv not installed");
        return;
    }
    live::TempDir tmp;
    REQUIRE(chmod(tmp.path().c_str(), 0777) == 0);
    auto outcome = live::run({"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                              "--inh-caps=+bpf,+perfmon", "--ambient-caps=+bpf,+perfmon", CXTRACE_BINARY, "run", "-o",
                              tmp / "out", "--", "/bin/sh", "-c", "id -u; /bin/true"});
    INFO(outcome.out << outcome.err);
    REQUIRE(outcome.status == 0);
    CHECK(outcome.out.rfind("65534\n", 0) == 0);
    json report = live::read_json(tmp / "out/report.json");
    CHECK(report.at("run").at("complete") == true);
    CHECK(report.at("tasks").size() >= 2);  // sh and what it started
    CHECK(live::owner_uid(tmp / "out/report.json") == 65534);
}
