// Live tests: the real tracer, as root, on real workloads. Each compares
// the kernel's truth in report.json with what the workload itself printed.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "live_run.h"
#include "perfetto_trace.h"

using nlohmann::json;

namespace {

struct Printed {
    int main_pid = 0;
    std::map<int, int> process_ppid;  // getpid() -> getppid() as printed by each child
    std::map<int, int> thread_tgid;   // gettid() -> getpid() as printed by each thread
};

Printed parse_workload_output(const std::string& out) {
    Printed printed;
    std::regex main_line(R"(^main: getpid\(\)=(\d+) gettid\(\)=(\d+))");
    std::regex process_line(R"(^\s+process \d+: getpid\(\)=(\d+) getppid\(\)=(\d+))");
    std::regex thread_line(R"(^\s+thread \d+: gettid\(\)=(\d+) getpid\(\)=(\d+))");
    std::istringstream lines(out);
    std::string line;
    std::smatch m;
    while (std::getline(lines, line)) {
        if (std::regex_search(line, m, main_line)) printed.main_pid = std::stoi(m[1]);
        else if (std::regex_search(line, m, process_line)) printed.process_ppid[std::stoi(m[1])] = std::stoi(m[2]);
        else if (std::regex_search(line, m, thread_line)) printed.thread_tgid[std::stoi(m[1])] = std::stoi(m[2]);
    }
    return printed;
}

std::vector<json> tasks_of_kind(const json& report, const std::string& kind) {
    std::vector<json> found;
    for (const auto& task : report.at("tasks"))
        if (task.at("kind") == kind) found.push_back(task);
    return found;
}

std::string last_line(const std::string& text) {
    auto end = text.find_last_not_of('\n');
    if (end == std::string::npos) return "";
    auto start = text.rfind('\n', end);
    return text.substr(start == std::string::npos ? 0 : start + 1, end - (start == std::string::npos ? 0 : start + 1) + 1);
}

// Any aligned 8-byte word in the kernel's half of the address space.
bool has_kernel_address_word(const std::string& bytes) {
    for (size_t i = 0; i + 8 <= bytes.size(); i += 4) {
        uint64_t word;
        std::memcpy(&word, bytes.data() + i, 8);
        if (word >= 0xffff800000000000ULL && word != ~0ULL) return true;
    }
    return false;
}

}  // namespace

TEST_CASE("the default workload's report matches what it printed", "[live][workload]") {
    REQUIRE_ROOT();
    live::TempDir tmp;
    const int n = 20;
    auto outcome = live::cxtrace({"run", "-o", tmp / "out", "process-vs-thread", "-n", std::to_string(n)});
    INFO("stdout:\n" << outcome.out << "\nstderr:\n" << outcome.err);
    REQUIRE(outcome.status == 0);
    REQUIRE(last_line(outcome.out) == "report: " + (tmp / "out") + "/report.html");
    CHECK(live::file_exists(tmp / "out/report.json"));
    CHECK(live::file_exists(tmp / "out/perfetto.pftrace"));

    Printed printed = parse_workload_output(outcome.out);
    REQUIRE(printed.main_pid > 0);
    REQUIRE(printed.process_ppid.size() == n);
    REQUIRE(printed.thread_tgid.size() == n);

    json report = live::read_json(tmp / "out/report.json");
    CHECK(report.at("schema") == "cxtrace.report/1");
    const json& run = report.at("run");
    CHECK(run.at("workload") == "process-vs-thread");
    CHECK(run.at("lost_events") == 0);
    CHECK(run.at("complete") == true);
    CHECK(run.at("exit_code") == 0);
    CHECK(run.at("exit_signal").is_null());
    CHECK(run.at("events").get<int>() > 4 * n);
    CHECK(run.at("cpus").get<int>() >= 1);
    CHECK(run.at("duration_ns").get<int64_t>() > 0);

    auto roots = tasks_of_kind(report, "root");
    REQUIRE(roots.size() == 1);
    const json& root = roots[0];
    CHECK(root.at("pid") == printed.main_pid);
    CHECK(root.at("tgid") == printed.main_pid);
    REQUIRE(root.at("execs").size() == 1);
    const json& exec = root.at("execs")[0];
    CHECK(exec.at("filename").get<std::string>().find("workloads/process-vs-thread") != std::string::npos);
    CHECK(exec.at("argv").size() == 3);
    CHECK(exec.at("argv")[1] == "-n");
    CHECK(exec.at("argv")[2] == std::to_string(n));
    CHECK(exec.at("argv_truncated") == false);
    CHECK(exec.at("mm") != root.at("mm"));  // exec replaced the address space
    const json root_mm_after_exec = exec.at("mm");

    SECTION("every process has its own tgid and mm, and ppid = root") {
        auto processes = tasks_of_kind(report, "process");
        REQUIRE(processes.size() == n);
        std::set<std::string> mms;
        for (const auto& task : processes) {
            int pid = task.at("pid");
            INFO("process pid " << pid);
            REQUIRE(printed.process_ppid.count(pid) == 1);
            CHECK(task.at("tgid") == pid);
            CHECK(task.at("ppid") == printed.process_ppid.at(pid));
            CHECK(task.at("ppid") == printed.main_pid);
            CHECK(task.at("parent_pid") == printed.main_pid);
            CHECK(task.at("mm") != root_mm_after_exec);
            CHECK(task.at("creation_syscall") == "clone");
            CHECK(task.at("exit_code") == 0);
            mms.insert(task.at("mm").get<std::string>());
        }
        CHECK(mms.size() == n);
    }
    SECTION("every thread has the root's tgid and address space") {
        auto threads = tasks_of_kind(report, "thread");
        REQUIRE(threads.size() == n);
        for (const auto& task : threads) {
            int tid = task.at("pid");
            INFO("thread tid " << tid);
            REQUIRE(printed.thread_tgid.count(tid) == 1);
            CHECK(task.at("tgid") == printed.thread_tgid.at(tid));
            CHECK(task.at("tgid") == printed.main_pid);
            CHECK(task.at("parent_pid") == printed.main_pid);
            CHECK(task.at("ppid") == root.at("ppid"));  // a thread's getppid() is its group's
            CHECK(task.at("mm") == root_mm_after_exec);
            CHECK(task.at("creation_syscall") == "clone3");
        }
    }
    SECTION("creation latencies are measured for every created task") {
        for (const auto& task : report.at("tasks")) {
            if (task.at("kind") == "root") continue;
            INFO("task " << task.at("pid"));
            CHECK(task.at("latency_ns").at("syscall").get<int64_t>() > 0);
            CHECK(task.at("latency_ns").at("first_run").get<int64_t>() > 0);
            CHECK(task.at("wakeup_cpu").get<int>() < run.at("cpus").get<int>());
            CHECK(task.at("created_ns").get<int64_t>() > 0);
            CHECK(task.at("exited_ns").get<int64_t>() >= task.at("created_ns").get<int64_t>());
        }
        const json& latency = report.at("summary").at("creation_latency_ns");
        CHECK(latency.at("process").at("count") == n);
        CHECK(latency.at("thread").at("count") == n);
        CHECK(latency.at("process").at("p50").get<int64_t>() > 0);
    }
    SECTION("on-CPU time adds up per task and per CPU") {
        for (const auto& task : report.at("tasks")) {
            INFO("task " << task.at("pid"));
            CHECK(task.at("oncpu_ns").get<int64_t>() > 0);
            int64_t sum = 0;
            for (const auto& [cpu, ns] : task.at("cpus").items()) {
                CHECK(std::stoi(cpu) < run.at("cpus").get<int>());
                sum += ns.get<int64_t>();
            }
            CHECK(sum == task.at("oncpu_ns").get<int64_t>());
        }
        int64_t parallel_total = 0;
        for (const auto& [tasks_on_cpu, ns] : report.at("summary").at("parallelism_ns").items())
            parallel_total += ns.get<int64_t>();
        CHECK(parallel_total == run.at("duration_ns").get<int64_t>());
        CHECK(report.at("summary").at("max_parallelism").get<int>() >= 1);
    }
    SECTION("perfetto.pftrace's on-CPU slices add up to the report's on-CPU time") {
        cxt::pftrace::Trace trace;
        REQUIRE_NOTHROW(trace = cxt::pftrace::decode(live::read_file(tmp / "out/perfetto.pftrace")));
        std::map<int64_t, std::pair<int64_t, int64_t>> slices;  // tid -> (sum of dur in ns, slices)
        for (const auto& slice : trace.slices) {
            if (std::find(slice.categories.begin(), slice.categories.end(), "oncpu") == slice.categories.end()) continue;
            const auto& track = trace.track(slice.track);
            REQUIRE(track.thread);
            auto& [sum, count] = slices[track.tid];
            sum += static_cast<int64_t>(slice.dur);
            ++count;
        }
        std::map<int64_t, int64_t> oncpu;  // tid -> oncpu_ns (summed should a pid be reused)
        for (const auto& task : report.at("tasks")) oncpu[task.at("pid").get<int64_t>()] += task.at("oncpu_ns").get<int64_t>();
        for (const auto& [tid, ns] : oncpu) {
            INFO("tid " << tid << " oncpu_ns " << ns);
            REQUIRE(slices.count(tid) == 1);
            const auto [sum, count] = slices.at(tid);
            CHECK(count > 0);
            CHECK(sum == ns);  // nanoseconds, no rounding
        }
        CHECK(slices.size() == oncpu.size());
    }
    SECTION("summary counts") {
        const json& summary = report.at("summary");
        CHECK(summary.at("tasks") == 2 * n + 1);
        CHECK(summary.at("threads") == n);
        CHECK(summary.at("processes") == n + 1);
        CHECK(summary.at("address_spaces") == n + 2);  // root before and after exec, one per child
    }
    SECTION("no kernel address leaves the process") {
        std::string text = live::read_file(tmp / "out/report.json");
        CHECK_FALSE(std::regex_search(text, std::regex("ffff[89a-f][0-9a-f]{11}", std::regex::icase)));
        CHECK_FALSE(has_kernel_address_word(live::read_file(tmp / "out/trace.cxt")));
    }
    SECTION("cxtrace report re-renders the saved trace identically") {
        auto replay = live::cxtrace({"report", "-o", tmp / "replay", tmp / "out/trace.cxt"});
        INFO(replay.err);
        REQUIRE(replay.status == 0);
        CHECK(live::read_file(tmp / "replay/report.json") == live::read_file(tmp / "out/report.json"));
    }
}

TEST_CASE("a traced command's exit status passes through", "[live][command]") {
    REQUIRE_ROOT();
    live::TempDir tmp;
    SECTION("exit code") {
        auto outcome = live::cxtrace({"run", "-o", tmp / "code", "--", "/bin/sh", "-c", "exit 3"});
        CHECK(outcome.status == 3);
        json report = live::read_json(tmp / "code/report.json");
        CHECK(report.at("run").at("exit_code") == 3);
        CHECK(report.at("tasks")[0].at("exit_code") == 3);
    }
    SECTION("killed by a signal") {
        auto outcome = live::cxtrace({"run", "-o", tmp / "signal", "--", "/bin/sh", "-c", "kill -9 $$"});
        CHECK(outcome.status == 128 + 9);
        json report = live::read_json(tmp / "signal/report.json");
        CHECK(report.at("run").at("exit_signal") == 9);
        CHECK(report.at("run").at("exit_code").is_null());
        CHECK(report.at("tasks")[0].at("exit_signal") == 9);
    }
}

TEST_CASE("exec chains are followed with full argv", "[live][command]") {
    REQUIRE_ROOT();
    live::TempDir tmp;
    auto outcome = live::cxtrace(
        {"run", "-o", tmp / "out", "--", "/bin/sh", "-c", "/bin/echo one two; /bin/true --flag; exec /bin/echo last"});
    INFO(outcome.err);
    REQUIRE(outcome.status == 0);
    CHECK(outcome.out.rfind("one two\nlast\n", 0) == 0);
    json report = live::read_json(tmp / "out/report.json");
    std::vector<std::vector<std::string>> argvs;
    for (const auto& task : report.at("tasks"))
        for (const auto& exec : task.at("execs")) argvs.push_back(exec.at("argv").get<std::vector<std::string>>());
    using V = std::vector<std::string>;
    CHECK(std::count(argvs.begin(), argvs.end(), V{"/bin/echo", "one", "two"}) == 1);
    CHECK(std::count(argvs.begin(), argvs.end(), V{"/bin/true", "--flag"}) == 1);
    CHECK(std::count(argvs.begin(), argvs.end(), V{"/bin/echo", "last"}) == 1);
    const json& root = report.at("tasks")[0];
    REQUIRE(root.at("execs").size() == 2);  // sh, then exec echo in place
    CHECK(root.at("execs")[1].at("mm") != root.at("execs")[0].at("mm"));
    CHECK(root.at("comm") == "echo");
    for (const auto& task : tasks_of_kind(report, "process")) CHECK(task.at("execs").size() == 1);
}

TEST_CASE("a long argv is flagged as truncated, never cut silently", "[live][command]") {
    REQUIRE_ROOT();
    live::TempDir tmp;
    auto outcome = live::cxtrace({"run", "-o", tmp / "out", "--", "/bin/sh", "-c", "/bin/true $(seq 1 3000)"});
    REQUIRE(outcome.status == 0);
    json report = live::read_json(tmp / "out/report.json");
    bool found = false;
    for (const auto& task : report.at("tasks"))
        for (const auto& exec : task.at("execs"))
            if (exec.at("filename") == "/bin/true") {
                found = true;
                CHECK(exec.at("argc") == 3001);
                CHECK(exec.at("argv_truncated") == true);
                CHECK(exec.at("argv").size() < 3001);
            }
    CHECK(found);
}

TEST_CASE("bad input gets a clear error and the right exit status", "[live][errors]") {
    live::TempDir tmp;
    SECTION("unknown workload lists the known ones") {
        auto outcome = live::cxtrace({"run", "-o", tmp / "x", "no-such-workload"});
        CHECK(outcome.status == 2);
        CHECK(outcome.err.find("unknown workload 'no-such-workload'") != std::string::npos);
        CHECK(outcome.err.find("process-vs-thread") != std::string::npos);
    }
    SECTION("bad option values exit 2 with a message naming the option") {
        const std::vector<std::pair<std::string, std::string>> bad = {
            {"--ring-buffer-size", "3"},           {"--ring-buffer-size", "lots"},
            {"--ring-buffer-size", "-1"},          {"--ring-buffer-size", "2G"},
            {"--ring-buffer-size", "96K"},         // not a power of two
            {"--ring-buffer-size", "17179869185G"},  // wraps to 1G if the multiply overflows
        };
        for (const auto& [option, value] : bad) {
            auto outcome = live::cxtrace({"run", option, value, "--", "/bin/true"});
            INFO(option << " " << value << ": " << outcome.err);
            CHECK(outcome.status == 2);
            CHECK(outcome.err.find(option) != std::string::npos);
        }
        CHECK(live::cxtrace({"frobnicate"}).status == 2);
        CHECK(live::cxtrace({"run", "--"}).status == 2);
        CHECK(live::cxtrace({"run", "--no-such-option", "--", "/bin/true"}).status == 2);
        CHECK(live::cxtrace({"report"}).status == 2);  // the trace file is required
    }
    SECTION("a bundled workload's bad option values exit 2 before anything is traced") {
        for (const std::vector<std::string>& args :
             {std::vector<std::string>{"process-vs-thread", "-n", "-5"}, {"process-vs-thread", "-n", "99999999999"},
              {"worker-pool", "--workers", "0"}, {"cpu-bound", "--workers", "100000"}}) {
            std::vector<std::string> argv{"run", "-o", tmp / "never"};
            argv.insert(argv.end(), args.begin(), args.end());
            auto outcome = live::cxtrace(argv);
            INFO(outcome.err);
            CHECK(outcome.status == 2);
            CHECK(outcome.err.find("not in range") != std::string::npos);
            CHECK_FALSE(live::file_exists(tmp / "never"));
        }
    }
    SECTION("a damaged trace file is refused with what and where") {
        std::string random_path = tmp / "random.cxt";
        {
            std::ofstream out(random_path, std::ios::binary);
            for (int i = 0; i < 1000; ++i) out.put(static_cast<char>((i * 7919) & 0xff));
        }
        auto outcome = live::cxtrace({"report", "-o", tmp / "r", random_path});
        CHECK(outcome.status != 0);
        CHECK(outcome.err.find("not a cxtrace trace file") != std::string::npos);

        std::string data = live::read_file(CXTRACE_TEST_DATA "/process-vs-thread-n5.cxt");
        std::string cut_path = tmp / "cut.cxt";
        std::ofstream(cut_path, std::ios::binary) << data.substr(0, data.size() / 2);
        // A trace cut off (a run killed mid-write): its whole records are
        // salvaged into reports that say so, and the exit is still a failure.
        outcome = live::cxtrace({"report", "-o", tmp / "r2", cut_path});
        CHECK(outcome.status != 0);
        CHECK(outcome.err.find("truncated") != std::string::npos);
        CHECK(outcome.err.find("offset") != std::string::npos);
        CHECK(outcome.err.find("whole events before the cut") != std::string::npos);
        REQUIRE(live::file_exists(tmp / "r2/report.json"));
        const json salvaged = live::read_json(tmp / "r2/report.json");
        CHECK(salvaged.at("run").at("complete") == false);
        CHECK(salvaged.at("run").at("cut_off").get<std::string>().find("truncated") != std::string::npos);
        CHECK(salvaged.at("run").at("events").get<int64_t>() > 0);
    }
    SECTION("command not found: 127 and no report") {
        REQUIRE_ROOT();
        auto outcome = live::cxtrace({"run", "-o", tmp / "nf", "--", "no-such-command-xyz"});
        CHECK(outcome.status == 127);
        CHECK(outcome.err.find("command not found: no-such-command-xyz") != std::string::npos);
        CHECK_FALSE(live::file_exists(tmp / "nf/report.json"));
    }
    SECTION("without privileges: one line saying to use sudo") {
        REQUIRE_ROOT();
        if (!live::file_exists("/usr/bin/setpriv")) {
            WARN("skipped: setpriv not installed");
            return;
        }
        auto outcome = live::run({"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                  CXTRACE_BINARY, "run", "-o", "/tmp", "--", "/bin/true"});
        CHECK(outcome.status == 1);
        CHECK(outcome.err.find("sudo") != std::string::npos);
    }
}
