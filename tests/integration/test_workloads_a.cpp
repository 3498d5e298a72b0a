// Live tests of the lesson workloads creation-methods, shared-globals,
// pid-vs-tid, worker-pool and ping-pong: the real tracer, as root, and each
// lesson checked in report.json against the pids the workload printed.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "live_run.h"
#include "task_states.h"

using nlohmann::json;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) lines.push_back(line);
    return lines;
}

// Every line of out matching pattern, as its captured groups (1..n).
std::vector<std::vector<std::string>> matches(const std::string& out, const std::string& pattern) {
    std::regex re(pattern);
    std::vector<std::vector<std::string>> found;
    std::smatch m;
    for (const std::string& line : lines_of(out))
        if (std::regex_search(line, m, re)) {
            std::vector<std::string> groups;
            for (size_t i = 1; i < m.size(); ++i) groups.push_back(m[i]);
            found.push_back(groups);
        }
    return found;
}

int to_int(const std::string& s) { return std::stoi(s); }

// The one task with this pid; fails the test if there is not exactly one.
const json& task_with_pid(const json& report, int pid) {
    auto found = live::tasks_with_pid(report, pid);
    INFO("tasks with pid " << pid);
    REQUIRE(found.size() == 1);
    return *found.front();
}

std::vector<json> tasks_of_kind(const json& report, const std::string& kind) {
    std::vector<json> found;
    for (const auto& task : report.at("tasks"))
        if (task.at("kind") == kind) found.push_back(task);
    return found;
}

const json& root_task(const json& report) {
    const json* root = nullptr;
    int count = 0;
    for (const auto& task : report.at("tasks"))
        if (task.at("kind") == "root") {
            root = &task;
            ++count;
        }
    REQUIRE(count == 1);
    return *root;
}

// The address space the workload runs in: the one its exec gave the root.
std::string post_exec_mm(const json& root) {
    REQUIRE(root.at("execs").size() >= 1);
    return root.at("execs").back().at("mm").get<std::string>();
}

// A run that must succeed and be complete; its report.
json traced_report(const live::Outcome& outcome, const live::TempDir& tmp, const std::string& workload) {
    REQUIRE(outcome.status == 0);
    json report = live::read_json(tmp / "out/report.json");
    const json& run = report.at("run");
    CHECK(run.at("workload") == workload);
    CHECK(run.at("exit_code") == 0);
    CHECK(run.at("lost_events") == 0);
    CHECK(run.at("complete") == true);
    return report;
}

// The workload's path: the bundled workloads sit beside cxtrace.
std::string workload_binary(const std::string& name) {
    std::string cxtrace = CXTRACE_BINARY;
    return cxtrace.substr(0, cxtrace.rfind('/')) + "/workloads/" + name;
}

}  // namespace

TEST_CASE("creation-methods: each method makes the kind of task it promises", "[live][workload]") {
    REQUIRE_ROOT();
    live::TempDir tmp;
    const int n = 4;
    auto outcome = live::cxtrace({"run", "-o", tmp / "out", "creation-methods", "-n", std::to_string(n)});
    INFO("stdout:\n" << outcome.out << "\nstderr:\n" << outcome.err);
    json report = traced_report(outcome, tmp, "creation-methods");

    auto main_lines = matches(outcome.out, R"(^main: getpid\(\)=(\d+) gettid\(\)=(\d+))");
    REQUIRE(main_lines.size() == 1);
    const int main_pid = to_int(main_lines[0][0]);
    const json& root = root_task(report);
    REQUIRE(root.at("pid") == main_pid);
    const std::string root_mm = post_exec_mm(root);

    struct Expect {
        std::string kind;
        std::vector<std::string> syscalls;  // creation_syscall, any of
        bool shares_creator_mm;
        bool execs_true;
    };
    const std::map<std::string, Expect> expected = {
        {"fork", {"process", {"clone"}, false, false}},
        {"vfork", {"vfork", {"vfork"}, true, false}},
        {"vfork+exec", {"vfork", {"vfork"}, true, true}},
        // glibc >= 2.34 creates it with clone3(CLONE_VM|CLONE_VFORK), older ones with clone
        {"posix_spawn", {"vfork", {"clone3", "clone"}, true, true}},
        {"clone(CLONE_VM)", {"shared-vm", {"clone"}, true, false}},
        {"fork+exec", {"process", {"clone"}, false, true}},
        {"std::thread", {"thread", {"clone3"}, true, false}},
    };

    std::map<std::string, std::vector<int>> printed;  // method -> pids, in order
    for (const auto& m : matches(outcome.out, R"(^  (\S+) #(\d+): pid=(\d+))")) {
        INFO("line for " << m[0] << " #" << m[1]);
        REQUIRE(expected.count(m[0]) == 1);
        printed[m[0]].push_back(to_int(m[2]));
        CHECK(to_int(m[1]) == static_cast<int>(printed[m[0]].size()));
    }
    REQUIRE(printed.size() == expected.size());
    for (const auto& [method, pids] : printed) {
        INFO("method " << method);
        CHECK(pids.size() == n);
    }

    std::set<std::string> own_mms;  // address spaces born with a fork or an exec
    for (const auto& [method, pids] : printed) {
        const Expect& want = expected.at(method);
        for (int pid : pids) {
            INFO(method << " pid " << pid);
            const json& task = task_with_pid(report, pid);
            CHECK(task.at("kind") == want.kind);
            CHECK(std::count(want.syscalls.begin(), want.syscalls.end(),
                             task.at("creation_syscall").is_string() ? task.at("creation_syscall").get<std::string>()
                                                                     : std::string("none")) == 1);
            CHECK(task.at("parent_pid") == main_pid);
            if (want.kind == "thread") {
                CHECK(task.at("tgid") == main_pid);
                CHECK(task.at("ppid") == root.at("ppid"));
            } else {
                CHECK(task.at("tgid") == pid);
                CHECK(task.at("ppid") == main_pid);
            }
            CHECK(task.at("exit_code") == 0);

            // Address spaces: shared with the creator (vfork until exec,
            // clone(CLONE_VM), threads) or a copy of its own (fork).
            const std::string mm = task.at("mm").get<std::string>();
            if (want.shares_creator_mm) {
                CHECK(mm == root_mm);
            } else {
                CHECK(mm != root_mm);
                CHECK(mm != root.at("mm").get<std::string>());
                CHECK(own_mms.insert(mm).second);
            }

            // exec replaces the address space, keeping the pid.
            const json& execs = task.at("execs");
            if (want.execs_true) {
                REQUIRE(execs.size() == 1);
                CHECK(execs[0].at("filename") == "/bin/true");
                CHECK(execs[0].at("argv") == json::array({"true"}));
                const std::string exec_mm = execs[0].at("mm").get<std::string>();
                CHECK(exec_mm != mm);
                CHECK(exec_mm != root_mm);
                CHECK(own_mms.insert(exec_mm).second);
                CHECK(task.at("comm") == "true");
            } else {
                CHECK(execs.empty());
            }

            // Creation cost is measured for every created task.
            CHECK(task.at("latency_ns").at("first_run").get<int64_t>() > 0);
            CHECK(task.at("latency_ns").at("syscall").get<int64_t>() > 0);
            if (want.kind == "vfork") {
                // The creator stays suspended in vfork until the child has
                // exec'd or exited: the child must have run before it returned.
                CHECK(task.at("latency_ns").at("syscall").get<int64_t>() >
                      task.at("latency_ns").at("first_run").get<int64_t>());
            }
        }
    }

    SECTION("nothing else was created, and the summary counts by kind") {
        CHECK(report.at("tasks").size() == 7 * n + 1);
        CHECK(tasks_of_kind(report, "process").size() == 2 * n);
        CHECK(tasks_of_kind(report, "vfork").size() == 3 * n);
        CHECK(tasks_of_kind(report, "shared-vm").size() == n);
        CHECK(tasks_of_kind(report, "thread").size() == n);
        const json& latency = report.at("summary").at("creation_latency_ns");
        CHECK(latency.at("process").at("count") == 2 * n);
        CHECK(latency.at("vfork").at("count") == 3 * n);
        CHECK(latency.at("shared-vm").at("count") == n);
        CHECK(latency.at("thread").at("count") == n);
        // root before and after its exec, one per fork, one per exec
        CHECK(report.at("summary").at("address_spaces") == 2 + 2 * n + 3 * n);
        CHECK(report.at("summary").at("threads") == n);
    }
    SECTION("the workload printed its own average per method") {
        for (const auto& [method, want] : expected) {
            INFO("method " << method);
            CHECK(matches(outcome.out, "^  " + std::regex_replace(method, std::regex(R"([()+])"), R"(\$&)") +
                                           R"( +\d+\.\d+ ms +\d+\.\d+ ms$)")
                      .size() == 1);
        }
    }
}

TEST_CASE("creation-methods: --methods picks and orders the methods", "[live][workload]") {
    REQUIRE_ROOT();
    live::TempDir tmp;
    auto outcome =
        live::cxtrace({"run", "-o", tmp / "out", "creation-methods", "--methods", "thread,fork-exec", "-n", "2"});
    INFO("stdout:\n" << outcome.out << "\nstderr:\n" << outcome.err);
    json report = traced_report(outcome, tmp, "creation-methods");
    auto lines = matches(outcome.out, R"(^  (\S+) #(\d+): pid=(\d+))");
    REQUIRE(lines.size() == 4);
    CHECK(lines[0][0] == "std::thread");
    CHECK(lines[1][0] == "std::thread");
    CHECK(lines[2][0] == "fork+exec");
    CHECK(lines[3][0] == "fork+exec");
    CHECK(report.at("tasks").size() == 5);
    CHECK(tasks_of_kind(report, "thread").size() == 2);
    CHECK(tasks_of_kind(report, "process").size() == 2);

    auto bad = live::cxtrace({"run", "-o", tmp / "bad", "creation-methods", "--methods", "fork,teleport"});
    CHECK(bad.status == 2);
    CHECK(bad.err.find("teleport") != std::string::npos);
}

TEST_CASE("shared-globals: the thread shares main's n, the child process has its own", "[live][workload]") {
    REQUIRE_ROOT();
    live::TempDir tmp;
    auto outcome = live::cxtrace({"run", "-o", tmp / "out", "shared-globals"});
    INFO("stdout:\n" << outcome.out << "\nstderr:\n" << outcome.err);
    json report = traced_report(outcome, tmp, "shared-globals");

    // What the student sees: 0 after the thread, still 100 after the child.
    auto after = matches(outcome.out, R"(^after the (thread|child process): n = (-?\d+)$)");
    REQUIRE(after.size() == 2);
    CHECK(after[0] == std::vector<std::string>{"thread", "0"});
    CHECK(after[1] == std::vector<std::string>{"child process", "100"});

    auto main_line = matches(outcome.out, R"(^main: getpid\(\)=(\d+) gettid\(\)=(\d+), global n = 100$)");
    auto thread_line = matches(outcome.out, R"(^  thread: getpid\(\)=(\d+) gettid\(\)=(\d+), set n = 0$)");
    auto child_line = matches(outcome.out, R"(^  child process: getpid\(\)=(\d+) getppid\(\)=(\d+), set n = 0$)");
    REQUIRE(main_line.size() == 1);
    REQUIRE(thread_line.size() == 1);
    REQUIRE(child_line.size() == 1);
    const int main_pid = to_int(main_line[0][0]);
    const int tid = to_int(thread_line[0][1]);
    const int child_pid = to_int(child_line[0][0]);
    CHECK(to_int(thread_line[0][0]) == main_pid);
    CHECK(to_int(child_line[0][1]) == main_pid);

    const json& root = root_task(report);
    CHECK(root.at("pid") == main_pid);
    const std::string root_mm = post_exec_mm(root);
    CHECK(report.at("tasks").size() == 3);

    const json& thread = task_with_pid(report, tid);
    CHECK(thread.at("kind") == "thread");
    CHECK(thread.at("tgid") == main_pid);
    CHECK(thread.at("parent_pid") == main_pid);
    CHECK(thread.at("mm") == root_mm);  // one address space: main sees the 0

    const json& child = task_with_pid(report, child_pid);
    CHECK(child.at("kind") == "process");
    CHECK(child.at("tgid") == child_pid);
    CHECK(child.at("ppid") == main_pid);
    CHECK(child.at("parent_pid") == main_pid);
    CHECK(child.at("mm") != root_mm);  // its own copy: main keeps its 100
    CHECK(child.at("mm") != root.at("mm"));
    CHECK(child.at("execs").empty());
    CHECK(report.at("summary").at("address_spaces") == 3);
}

TEST_CASE("pid-vs-tid: the TGID/PID/PPID table agrees with what each task printed", "[live][workload]") {
    REQUIRE_ROOT();
    live::TempDir tmp;
    const int threads = 4, processes = 3;
    auto outcome = live::cxtrace({"run", "-o", tmp / "out", "pid-vs-tid", "--threads", std::to_string(threads),
                                  "--processes", std::to_string(processes)});
    INFO("stdout:\n" << outcome.out << "\nstderr:\n" << outcome.err);
    json report = traced_report(outcome, tmp, "pid-vs-tid");

    auto main_line = matches(outcome.out, R"(^main: getpid\(\)=(\d+) gettid\(\)=(\d+) getppid\(\)=(\d+)$)");
    REQUIRE(main_line.size() == 1);
    const int main_pid = to_int(main_line[0][0]);
    CHECK(to_int(main_line[0][1]) == main_pid);
    const json& root = root_task(report);
    CHECK(root.at("pid") == main_pid);
    CHECK(root.at("tgid") == main_pid);
    CHECK(root.at("ppid") == to_int(main_line[0][2]));
    const std::string root_mm = post_exec_mm(root);

    auto thread_lines =
        matches(outcome.out, R"(^  thread (\d+): getpid\(\)=(\d+) gettid\(\)=(\d+) getppid\(\)=(\d+)$)");
    REQUIRE(thread_lines.size() == threads);
    std::set<int> tids;
    for (size_t i = 0; i < thread_lines.size(); ++i) {
        const auto& line = thread_lines[i];
        CHECK(to_int(line[0]) == static_cast<int>(i + 1));  // printed in turn
        const int tid = to_int(line[2]);
        INFO("thread tid " << tid);
        tids.insert(tid);
        const json& task = task_with_pid(report, tid);
        CHECK(task.at("kind") == "thread");
        CHECK(task.at("pid") == tid);
        CHECK(task.at("tgid") == to_int(line[1]));
        CHECK(task.at("ppid") == to_int(line[3]));
        CHECK(task.at("parent_pid") == main_pid);
        CHECK(task.at("mm") == root_mm);
        CHECK(to_int(line[1]) == main_pid);  // getpid() in a thread is the group's
    }
    CHECK(tids.size() == threads);

    auto process_lines = matches(outcome.out, R"(^  process (\d+): getpid\(\)=(\d+) getppid\(\)=(\d+)$)");
    REQUIRE(process_lines.size() == processes);
    std::set<int> pids;
    for (size_t i = 0; i < process_lines.size(); ++i) {
        const auto& line = process_lines[i];
        CHECK(to_int(line[0]) == static_cast<int>(i + 1));
        const int pid = to_int(line[1]);
        INFO("process pid " << pid);
        pids.insert(pid);
        const json& task = task_with_pid(report, pid);
        CHECK(task.at("kind") == "process");
        CHECK(task.at("tgid") == pid);
        CHECK(task.at("ppid") == to_int(line[2]));
        CHECK(task.at("parent_pid") == main_pid);
        CHECK(to_int(line[2]) == main_pid);
        CHECK(task.at("mm") != root_mm);
    }
    CHECK(pids.size() == processes);

    CHECK(report.at("tasks").size() == 1 + threads + processes);
    CHECK(report.at("summary").at("processes") == 1 + processes);  // thread groups
    CHECK(report.at("summary").at("threads") == threads);
}

TEST_CASE("worker-pool: K workers of each kind run M tasks, so workers are reused", "[live][workload]") {
    REQUIRE_ROOT();
    live::TempDir tmp;
    const int workers = 3, tasks = 12, work_ms = 2;
    auto outcome = live::cxtrace({"run", "-o", tmp / "out", "worker-pool", "--workers", std::to_string(workers),
                                  "--tasks", std::to_string(tasks), "--work-ms", std::to_string(work_ms)});
    INFO("stdout:\n" << outcome.out << "\nstderr:\n" << outcome.err);
    json report = traced_report(outcome, tmp, "worker-pool");
    const json& root = root_task(report);
    const int main_pid = root.at("pid");
    const std::string root_mm = post_exec_mm(root);

    struct Pool {
        const char* name;
        const char* kind;
        const char* ran_pattern;
        const char* exit_pattern;
    };
    const Pool pools[] = {
        {"process", "process", R"(^  process worker pid=(\d+) ran task (\d+)$)",
         R"(^  process worker pid=(\d+): ran (\d+) tasks)"},
        {"thread", "thread", R"(^  thread worker tid=(\d+) ran task (\d+)$)",
         R"(^  thread worker tid=(\d+): ran (\d+) tasks)"},
    };
    for (const Pool& pool : pools) {
        INFO(pool.name << " pool");
        // The workers, as the kernel saw them.
        std::set<int> worker_pids;
        std::set<std::string> mms;
        for (const json& task : tasks_of_kind(report, pool.kind)) {
            worker_pids.insert(task.at("pid").get<int>());
            mms.insert(task.at("mm").get<std::string>());
            CHECK(task.at("parent_pid") == main_pid);
            CHECK(task.at("oncpu_ns").get<int64_t>() > 0);
            CHECK(task.at("exit_code") == 0);
            if (std::string(pool.kind) == "thread") {
                CHECK(task.at("tgid") == main_pid);
                CHECK(task.at("mm") == root_mm);
            } else {
                CHECK(task.at("tgid") == task.at("pid"));
                CHECK(task.at("mm") != root_mm);
            }
        }
        REQUIRE(worker_pids.size() == workers);
        if (std::string(pool.kind) == "process") CHECK(mms.size() == workers);

        // Which worker ran which task, as the workers printed it.
        std::map<int, int> ran_by_worker;
        std::vector<int> task_numbers;
        for (const auto& line : matches(outcome.out, pool.ran_pattern)) {
            const int pid = to_int(line[0]);
            INFO("worker " << pid << " ran task " << line[1]);
            CHECK(worker_pids.count(pid) == 1);
            ++ran_by_worker[pid];
            task_numbers.push_back(to_int(line[1]));
        }
        REQUIRE(task_numbers.size() == tasks);
        std::sort(task_numbers.begin(), task_numbers.end());
        for (int i = 0; i < tasks; ++i) CHECK(task_numbers[i] == i + 1);  // each task ran exactly once
        int most = 0;
        for (const auto& [pid, ran] : ran_by_worker) most = std::max(most, ran);
        CHECK(most > 1);  // reused

        // Each worker said how many it ran before it exited.
        auto exits = matches(outcome.out, pool.exit_pattern);
        REQUIRE(exits.size() == workers);
        std::set<int> exited;
        for (const auto& line : exits) {
            const int pid = to_int(line[0]);
            exited.insert(pid);
            CHECK(to_int(line[1]) == ran_by_worker[pid]);
        }
        CHECK(exited == worker_pids);

        // Where each worker's time went. Its work on a task is one sleep of
        // --work-ms, ended by its timer (outside the trace). Its other waits
        // are on the pool: a process waits for work in read() on the pipe,
        // until main's write or close, or a worker that read a task and left
        // others in the pipe, wakes it; a thread never waits for work (the
        // queue is full before it starts), only for the queue's mutex or
        // stdout's lock held by another worker.
        const bool processes = std::string(pool.kind) == "process";
        const auto slept = [](const json& wait) { return wait.at("reason") == "sleep"; };
        const auto on_the_pool = [&](const json& wait) {
            return processes ? wait.at("syscall") == "read" : wait.at("reason") == "futex";
        };
        int64_t sleeps = 0, sleeps_by_timer = 0;
        for (int pid : worker_pids) {
            const json& task = task_with_pid(report, pid);
            INFO(pool.name << " worker " << pid << " ran " << ran_by_worker[pid] << " tasks: " << task.dump());
            live::check_states_add_up(task);
            const int64_t ran = ran_by_worker[pid];
            CHECK(live::sum_waits(task, slept, "count") == ran);
            sleeps += live::sum_waits(task, slept, "count");
            // A sleep's wait begins when it leaves the CPU, microseconds after
            // the kernel armed its timer; the timer never fires early (and
            // with the timer slack the sleeps took 40 to 80 us more, measured).
            CHECK(live::sum_waits(task, slept) >= ran * (int64_t{work_ms} * 1'000'000 - 100'000));
            // It slept in nothing else.
            CHECK(live::sum_waits(task, slept) + live::sum_waits(task, on_the_pool) ==
                  live::state_ns(task, "sleeping"));
            for (const json& wait : task.at("waits")) {
                INFO(wait.dump());
                if (slept(wait)) {
                    CHECK(wait.at("syscall") == "clock_nanosleep");
                    // Ended by the timer, or by no one the kernel reported: never by a traced task.
                    CHECK(live::ended_by(wait, "outside") + live::ended_unseen(wait) == wait.at("count").get<int64_t>());
                    sleeps_by_timer += live::ended_by(wait, "outside");
                } else if (on_the_pool(wait)) {
                    int64_t by_the_pool = processes ? live::ended_by(wait, std::to_string(main_pid)) : 0;
                    for (int other : worker_pids)
                        if (other != pid) by_the_pool += live::ended_by(wait, std::to_string(other));
                    CHECK(by_the_pool + live::ended_unseen(wait) == wait.at("count").get<int64_t>());
                }
            }
        }
        CHECK(sleeps == tasks);  // the M tasks, handed to the K workers
        // A wakeup reported without its waker is the exception (2 of 30 runs
        // had one in 12 sleeps): most sleeps are seen ended by their timer.
        CHECK(sleeps_by_timer * 2 > sleeps);
        // Main waited for the pool: in waitpid for the processes, each wait
        // ended by one exiting; in join (a futex) for the threads, each wait
        // ended by one exiting.
        for (const json& wait : root.at("waits")) {
            if (wait.at("reason") != (processes ? "child" : "futex")) continue;
            INFO("main: " << wait.dump());
            int64_t by_the_pool = 0;
            for (int pid : worker_pids) by_the_pool += live::ended_by(wait, std::to_string(pid));
            CHECK(by_the_pool + live::ended_unseen(wait) == wait.at("count").get<int64_t>());
        }
    }
    CHECK(report.at("tasks").size() == 1 + 2 * workers);
}

TEST_CASE("worker-pool: M must be more than K, checked before anything is traced", "[live][workload]") {
    REQUIRE_ROOT();
    live::TempDir tmp;
    auto outcome = live::cxtrace({"run", "-o", tmp / "out", "worker-pool", "--workers", "4", "--tasks", "4"});
    INFO("stdout:\n" << outcome.out << "\nstderr:\n" << outcome.err);
    CHECK(outcome.status == 2);
    CHECK(outcome.err.find("--tasks (4) must be more than --workers (4)") != std::string::npos);
    CHECK(outcome.out.find("main:") == std::string::npos);  // the workload never ran for real
    CHECK_FALSE(live::file_exists(tmp / "out/report.json"));
}

TEST_CASE("ping-pong: 20 lines from two processes, 10 from two threads, and mm ids say why", "[live][workload]") {
    REQUIRE_ROOT();
    live::TempDir tmp;
    const int n = 10;
    auto outcome = live::cxtrace({"run", "-o", tmp / "out", "ping-pong", "-n", std::to_string(n)});
    INFO("stdout:\n" << outcome.out << "\nstderr:\n" << outcome.err);
    json report = traced_report(outcome, tmp, "ping-pong");
    const json& root = root_task(report);
    const int main_pid = root.at("pid");
    const std::string root_mm = post_exec_mm(root);

    SECTION("two processes: each counted 1..n on its own copy") {
        auto lines = matches(outcome.out, R"(^  process pid=(\d+): counter=(\d+)$)");
        CHECK(lines.size() == 2 * n);
        std::map<int, std::vector<int>> counts;
        for (const auto& line : lines) counts[to_int(line[0])].push_back(to_int(line[1]));
        REQUIRE(counts.size() == 2);
        std::vector<int> one_to_n;
        for (int k = 1; k <= n; ++k) one_to_n.push_back(k);
        std::set<std::string> mms;
        for (const auto& [pid, seen] : counts) {
            INFO("process " << pid);
            CHECK(seen == one_to_n);
            const json& task = task_with_pid(report, pid);
            CHECK(task.at("kind") == "process");
            CHECK(task.at("tgid") == pid);
            CHECK(task.at("ppid") == main_pid);
            CHECK(task.at("mm") != root_mm);
            mms.insert(task.at("mm").get<std::string>());
        }
        CHECK(mms.size() == 2);  // two address spaces, two counters
        CHECK(tasks_of_kind(report, "process").size() == 2);
        CHECK(matches(outcome.out, R"(^main: counter = 0 )").size() == 1);
    }
    SECTION("two threads: together they counted 1..n on the one counter") {
        auto lines = matches(outcome.out, R"(^  thread tid=(\d+): counter=(\d+)$)");
        REQUIRE(lines.size() == n);
        std::set<int> tids;
        for (size_t i = 0; i < lines.size(); ++i) {
            CHECK(to_int(lines[i][1]) == static_cast<int>(i + 1));
            if (i > 0) CHECK(lines[i][0] != lines[i - 1][0]);  // they took turns
            tids.insert(to_int(lines[i][0]));
        }
        REQUIRE(tids.size() == 2);
        for (int tid : tids) {
            INFO("thread " << tid);
            const json& task = task_with_pid(report, tid);
            CHECK(task.at("kind") == "thread");
            CHECK(task.at("tgid") == main_pid);
            CHECK(task.at("mm") == root_mm);  // one address space, one counter
        }
        CHECK(tasks_of_kind(report, "thread").size() == 2);
        CHECK(matches(outcome.out, "^main: counter = " + std::to_string(n) + " ").size() == 1);
    }
    CHECK(report.at("tasks").size() == 5);
}

TEST_CASE("lesson workloads A: --help shows the defaults, a bad value exits 2", "[live][workload]") {
    struct Case {
        std::string name;
        std::vector<std::string> defaults_shown;
        std::vector<std::vector<std::string>> bad;
    };
    const std::vector<Case> cases = {
        {"creation-methods", {"=5", "posix-spawn"}, {{"-n", "0"}, {"-n", "1001"}, {"--methods", "spoon"}}},
        {"shared-globals", {"=100"}, {{"--value", "0"}, {"--value", "many"}}},
        {"pid-vs-tid", {"=3"}, {{"--threads", "-1"}, {"--processes", "1001"}}},
        {"worker-pool", {"=3", "=12", "=2"}, {{"--workers", "0"}, {"--tasks", "3"}, {"--work-ms", "x"}}},
        {"ping-pong", {"=10"}, {{"-n", "0"}, {"--no-such-option"}}},
    };
    for (const Case& c : cases) {
        INFO(c.name);
        const std::string binary = workload_binary(c.name);
        auto help = live::run({binary, "--help"});
        CHECK(help.status == 0);
        for (const auto& shown : c.defaults_shown) CHECK(help.out.find(shown) != std::string::npos);
        for (const auto& args : c.bad) {
            std::vector<std::string> argv{binary};
            argv.insert(argv.end(), args.begin(), args.end());
            auto bad = live::run(argv);
            INFO("args: " << args[0]);
            CHECK(bad.status == 2);
            CHECK_FALSE(bad.err.empty());
            CHECK(bad.out.find("main:") == std::string::npos);  // nothing ran
        }
    }
}
