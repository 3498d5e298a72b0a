// Live tests of `cxtrace run -- COMMAND`: programs a student brings, here
// Python with threading and multiprocessing, and a wrapper that execs.
#include <catch2/catch.hpp>

#include <linux/bpf.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "live_run.h"

using nlohmann::json;

namespace {

const std::string kPrograms = CXTRACE_TEST_PROGRAMS;
const std::string kPython = "/usr/bin/python3";

// The capture groups ([0] = whole match) of every line matching re.
std::vector<std::vector<std::string>> matches(const std::string& text, const std::regex& re) {
    std::vector<std::vector<std::string>> found;
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
        std::smatch m;
        if (std::regex_search(line, m, re)) found.emplace_back(m.begin(), m.end());
    }
    return found;
}

const json* task_with_pid(const json& report, int pid) {
    auto found = live::tasks_with_pid(report, pid);
    return found.empty() ? nullptr : found.front();
}

// The sentences of a report.json, one string each.
std::vector<std::string> sentences(const json& report) {
    std::vector<std::string> out;
    for (const json& finding : report.at("summary").at("what_this_shows")) out.push_back(finding.at("text"));
    return out;
}

bool any_starts_with(const std::vector<std::string>& texts, const std::string& start) {
    for (const std::string& text : texts)
        if (text.rfind(start, 0) == 0) return true;
    return false;
}

}  // namespace

TEST_CASE("a Python threading program: threads share the interpreter's tgid and mm", "[live][command][python]") {
    REQUIRE_ROOT();
    live::TempDir tmp;
    auto outcome = live::cxtrace({"run", "-o", tmp / "out", "--", kPython, kPrograms + "/threads_demo.py"});
    INFO(outcome.out << outcome.err);
    REQUIRE(outcome.status == 0);
    auto main_line = matches(outcome.out, std::regex(R"(^main: pid=(\d+) tid=(\d+))"));
    REQUIRE(main_line.size() == 1);
    int main_pid = std::stoi(main_line[0][1]);
    auto thread_lines = matches(outcome.out, std::regex(R"(^thread \d: pid=(\d+) tid=(\d+))"));
    REQUIRE(thread_lines.size() == 4);

    json report = live::read_json(tmp / "out/report.json");
    const json& root = report.at("tasks")[0];
    CHECK(root.at("kind") == "root");
    CHECK(root.at("pid") == main_pid);
    REQUIRE(root.at("execs").size() == 1);
    CHECK(root.at("execs")[0].at("argv")[1] == kPrograms + "/threads_demo.py");
    for (const auto& line : thread_lines) {
        int tid = std::stoi(line[2]);
        INFO("thread " << tid);
        CHECK(std::stoi(line[1]) == main_pid);
        const json* task = task_with_pid(report, tid);
        REQUIRE(task != nullptr);
        CHECK(task->at("kind") == "thread");
        CHECK(task->at("tgid") == main_pid);
        CHECK(task->at("mm") == root.at("execs")[0].at("mm"));
    }
    // The program's own threads: not taken for a library's.
    const std::vector<std::string> texts = sentences(report);
    INFO(report.at("summary").at("what_this_shows").dump(1));
    CHECK(std::find(texts.begin(), texts.end(),
                    "All 4 threads ran in the address space of their thread group: a global variable written by one "
                    "is seen by all of them.") != texts.end());
    CHECK_FALSE(any_starts_with(texts, "Threads "));
}

TEST_CASE("a Python multiprocessing pool: each worker its own process and mm", "[live][command][python]") {
    REQUIRE_ROOT();
    live::TempDir tmp;
    auto outcome = live::cxtrace({"run", "-o", tmp / "out", "--", kPython, kPrograms + "/mp_pool.py"});
    INFO(outcome.out << outcome.err);
    REQUIRE(outcome.status == 0);
    auto main_line = matches(outcome.out, std::regex(R"(^main: pid=(\d+))"));
    REQUIRE(main_line.size() == 1);
    int main_pid = std::stoi(main_line[0][1]);
    auto task_lines = matches(outcome.out, std::regex(R"(^task \d: worker pid=(\d+) ppid=(\d+))"));
    REQUIRE(task_lines.size() == 9);

    json report = live::read_json(tmp / "out/report.json");
    const json& root = report.at("tasks")[0];
    CHECK(root.at("pid") == main_pid);
    std::set<int> workers;
    for (const auto& line : task_lines) workers.insert(std::stoi(line[1]));
    CHECK(workers.size() <= 3);
    std::set<std::string> worker_mms;
    for (int pid : workers) {
        INFO("worker " << pid);
        const json* task = task_with_pid(report, pid);
        REQUIRE(task != nullptr);
        CHECK(task->at("kind") == "process");
        CHECK(task->at("tgid") == pid);
        CHECK(task->at("ppid") == main_pid);
        CHECK(task->at("mm") != root.at("execs")[0].at("mm"));
        worker_mms.insert(task->at("mm").get<std::string>());
    }
    CHECK(worker_mms.size() == workers.size());
    // The pool's helper threads live in the main process.
    int helper_threads = 0;
    for (const auto& task : report.at("tasks"))
        if (task.at("kind") == "thread" && task.at("tgid") == main_pid) ++helper_threads;
    CHECK(helper_threads >= 1);
    // ... and the report says so, leaving them out of the sentences on threads.
    const std::string shows = report.at("summary").at("what_this_shows").dump();
    CHECK(shows.find("probably started by Python's multiprocessing") != std::string::npos);
    CHECK(shows.find("(created by process " + std::to_string(main_pid) + " while forked child processes of it ran)") !=
          std::string::npos);
    CHECK(shows.find("ran in the address space of their thread group") == std::string::npos);
    CHECK(shows.find("Creating a thread") == std::string::npos);
}

TEST_CASE("a Python Queue program: writer and reader have their own address spaces, the feeder thread is the "
          "library's",
          "[live][command][python]") {
    REQUIRE_ROOT();
    live::TempDir tmp;
    auto outcome = live::cxtrace({"run", "-o", tmp / "out", "--", kPython, kPrograms + "/mp_queue.py"});
    INFO(outcome.out << outcome.err);
    REQUIRE(outcome.status == 0);
    auto writer_line = matches(outcome.out, std::regex(R"(^writer: pid=(\d+) ppid=(\d+))"));
    auto reader_line = matches(outcome.out, std::regex(R"(^reader: pid=(\d+) ppid=(\d+))"));
    REQUIRE(writer_line.size() == 1);
    REQUIRE(reader_line.size() == 1);
    const int writer = std::stoi(writer_line[0][1]), reader = std::stoi(reader_line[0][1]);

    json report = live::read_json(tmp / "out/report.json");
    const json* writer_task = task_with_pid(report, writer);
    const json* reader_task = task_with_pid(report, reader);
    REQUIRE(writer_task != nullptr);
    REQUIRE(reader_task != nullptr);
    CHECK(writer_task->at("mm") != reader_task->at("mm"));
    std::vector<const json*> threads;
    for (const json& task : report.at("tasks"))
        if (task.at("kind") == "thread") threads.push_back(&task);
    REQUIRE(threads.size() == 1);  // the Queue's feeder, in the writer, sharing its mm
    const json& feeder = *threads.front();
    CHECK(feeder.at("tgid") == writer);
    CHECK(feeder.at("mm") == writer_task->at("mm"));

    const std::vector<std::string> texts = sentences(report);
    INFO(report.at("summary").at("what_this_shows").dump(1));
    CHECK(std::find(texts.begin(), texts.end(),
                    "Both processes created with fork got an address space of their own: their writes stay invisible "
                    "to their creator.") != texts.end());
    CHECK(any_starts_with(texts, "Thread " + std::to_string(feeder.at("pid").get<int>()) + " (created by process " +
                                     std::to_string(writer) + ", "));
    for (const std::string& text : texts) {
        CHECK(text.find("1 process of 2") == std::string::npos);
        CHECK(text.find("exec") == std::string::npos);  // only the launcher's: not the program's
    }
}

TEST_CASE("a grandchild adopted by init: the ppid at creation, and the reparenting inferred",
          "[live][command][python]") {
    REQUIRE_ROOT();
    live::TempDir tmp;
    auto outcome = live::cxtrace({"run", "-o", tmp / "out", "--", kPython, kPrograms + "/orphan.py"});
    INFO(outcome.out << outcome.err);
    REQUIRE(outcome.status == 0);
    auto line = matches(outcome.out, std::regex(R"(^grandchild: pid=(\d+) created_by=(\d+) adopted_by=(\d+))"));
    REQUIRE(line.size() == 1);
    const int pid = std::stoi(line[0][1]), created_by = std::stoi(line[0][2]);
    CHECK(std::stoi(line[0][3]) != created_by);  // adopted, as the program saw it

    json report = live::read_json(tmp / "out/report.json");
    const json* grandchild = task_with_pid(report, pid);
    const json* middle = task_with_pid(report, created_by);
    REQUIRE(grandchild != nullptr);
    REQUIRE(middle != nullptr);
    CHECK(grandchild->at("ppid") == created_by);
    REQUIRE(grandchild->at("ppid_exited_ns").is_number_integer());
    CHECK(grandchild->at("ppid_exited_ns") == middle->at("exited_ns"));
    CHECK(middle->at("ppid_exited_ns").is_null());
    INFO(report.at("summary").at("what_this_shows").dump(1));
    CHECK(any_starts_with(sentences(report), "Task " + std::to_string(pid) + " outlived its parent: thread group " +
                                                 std::to_string(created_by) + ", its ppid at creation, exited at "));
}

TEST_CASE("a thread that execs takes its leader's pid, and its old tid is kept", "[live][command][python]") {
    REQUIRE_ROOT();
    live::TempDir tmp;
    auto outcome = live::cxtrace({"run", "-o", tmp / "out", "--", kPython, kPrograms + "/thread_exec.py"});
    INFO(outcome.out << outcome.err);
    REQUIRE(outcome.status == 0);
    auto thread_line = matches(outcome.out, std::regex(R"(^thread: tid=(\d+) pid=(\d+))"));
    auto after_line = matches(outcome.out, std::regex(R"(^after exec: pid=(\d+))"));
    REQUIRE(thread_line.size() == 1);
    REQUIRE(after_line.size() == 1);
    const int tid = std::stoi(thread_line[0][1]), pid = std::stoi(after_line[0][1]);
    CHECK(pid == std::stoi(thread_line[0][2]));

    json report = live::read_json(tmp / "out/report.json");
    const json* execer = nullptr;
    for (const json* task : live::tasks_with_pid(report, pid))
        if (task->at("kind") == "thread") execer = task;
    REQUIRE(execer != nullptr);
    REQUIRE(execer->at("execs").size() == 1);
    CHECK(execer->at("execs")[0].at("pid_before") == tid);
    INFO(report.at("summary").at("what_this_shows").dump(1));
    const std::vector<std::string> texts = sentences(report);
    CHECK(any_starts_with(texts, "Thread " + std::to_string(tid) + " called exec and took pid " +
                                     std::to_string(pid) + ","));
    CHECK(std::find(texts.begin(), texts.end(),
                    "1 exec replaced a task's address space with a new one; the task was a thread, and took its group "
                    "leader's pid.") != texts.end());
}

TEST_CASE("a wrapper script that execs the interpreter keeps its pid", "[live][command]") {
    REQUIRE_ROOT();
    live::TempDir tmp;
    auto outcome = live::cxtrace({"run", "-o", tmp / "out", "--", kPrograms + "/wrapper.sh"});
    INFO(outcome.out << outcome.err);
    REQUIRE(outcome.status == 0);
    auto main_line = matches(outcome.out, std::regex(R"(^main: pid=(\d+))"));
    REQUIRE(main_line.size() == 1);
    json report = live::read_json(tmp / "out/report.json");
    const json& root = report.at("tasks")[0];
    CHECK(root.at("pid") == std::stoi(main_line[0][1]));
    REQUIRE(root.at("execs").size() == 2);
    CHECK(root.at("execs")[0].at("filename") == kPrograms + "/wrapper.sh");
    CHECK(root.at("execs")[1].at("filename") == kPython);
    CHECK(root.at("execs")[0].at("mm") != root.at("execs")[1].at("mm"));
    CHECK(root.at("comm").get<std::string>().rfind("python", 0) == 0);
}

TEST_CASE("under sudo the command runs as the invoking user and the files are theirs", "[live][command][sudo]") {
    REQUIRE_ROOT();
    live::TempDir tmp;
    REQUIRE(chmod(tmp.path().c_str(), 0777) == 0);  // cxtrace writes as the user
    // What sudo sets; nobody (65534) stands in for the student.
    const std::vector<std::string> as_sudo{"/usr/bin/env", "SUDO_UID=65534", "SUDO_GID=65534", "SUDO_USER=nobody",
                                           CXTRACE_BINARY};
    SECTION("as the invoking user by default") {
        auto argv = as_sudo;
        argv.insert(argv.end(), {"run", "-o", tmp / "user", "--", "/bin/sh", "-c", "id -u; id -g; echo $USER $HOME"});
        auto outcome = live::run(argv);
        INFO(outcome.err);
        REQUIRE(outcome.status == 0);
        CHECK(outcome.out.rfind("65534\n65534\nnobody /nonexistent\n", 0) == 0);
        CHECK(live::owner_uid(tmp / "user") == 65534);
        CHECK(live::owner_uid(tmp / "user/report.json") == 65534);
        CHECK(live::owner_uid(tmp / "user/trace.cxt") == 65534);
    }
}

TEST_CASE("under sudo, --as-root is refused: it would hand the user a root shell", "[live][command][sudo]") {
    REQUIRE_ROOT();
    live::TempDir tmp;
    REQUIRE(chmod(tmp.path().c_str(), 0777) == 0);
    auto outcome = live::run({"/usr/bin/env", "SUDO_UID=65534", "SUDO_GID=65534", "SUDO_USER=nobody", CXTRACE_BINARY,
                              "run", "--as-root", "-o", tmp / "out", "--", "/bin/sh", "-c", "id -u"});
    CHECK(outcome.status == 2);
    CHECK(outcome.err.find("--as-root is refused under sudo for nobody (uid 65534)") != std::string::npos);
    CHECK(outcome.out.empty());  // the shell never ran
    CHECK_FALSE(live::file_exists(tmp / "out"));

    // Root itself (no SUDO_UID) still may.
    auto as_root = live::cxtrace({"run", "--as-root", "-o", tmp / "root", "--", "/usr/bin/id", "-u"});
    INFO(as_root.err);
    CHECK(as_root.status == 0);
    CHECK(as_root.out.rfind("0\n", 0) == 0);
}

TEST_CASE("a stop signal ends the run cleanly, and the report says it was interrupted", "[live][command]") {
    REQUIRE_ROOT();
    live::TempDir tmp;
    // SIGTERM, not SIGINT: a non-interactive shell's background job ignores
    // SIGINT, and the traced command inherits that. Sent once the command
    // runs (cxtrace then handles it), which it shows by creating a file.
    std::string script = std::string(CXTRACE_BINARY) + " run -o '" + (tmp / "out") +
                         "' -- /bin/sh -c 'touch \"$0\"; exec /bin/sleep 300' '" + (tmp / "running") +
                         "' & pid=$!; " + live::shell_wait_for_file(tmp / "running") + "; kill -TERM $pid; wait $pid";
    auto outcome = live::run({"/bin/sh", "-c", script});
    INFO(outcome.out << outcome.err);
    REQUIRE(live::file_exists(tmp / "running"));
    // The command died of the forwarded signal (not of SIGKILL after the grace
    // period, not by finishing its 300 s sleep).
    CHECK(outcome.status == 128 + 15);
    json report = live::read_json(tmp / "out/report.json");
    CHECK(report.at("run").at("interrupted") == true);
    CHECK(report.at("run").at("complete") == false);
    CHECK(report.at("run").at("exit_signal") == 15);
    CHECK(outcome.out.find("incomplete") != std::string::npos);
    CHECK(live::read_file(tmp / "out/report.html").find("id=\"incomplete\"") != std::string::npos);
}

TEST_CASE("comm changes by prctl(PR_SET_NAME) are followed", "[live][command][python]") {
    REQUIRE_ROOT();
    live::TempDir tmp;
    auto outcome = live::cxtrace({"run", "-o", tmp / "out", "--", kPython, "-c",
                                  "import ctypes; ctypes.CDLL(None).prctl(15, b'student-task', 0, 0, 0)"});
    INFO(outcome.err);
    REQUIRE(outcome.status == 0);
    json report = live::read_json(tmp / "out/report.json");
    const json& root = report.at("tasks")[0];
    CHECK(root.at("comm") == "student-task");
    std::vector<std::string> names;
    for (const auto& change : root.at("renames")) names.push_back(change.at("comm"));
    CHECK(names == std::vector<std::string>{"python3", "student-task"});  // the exec's, then prctl's
}

TEST_CASE("a planted symlink as the output directory is refused, not followed", "[live][command]") {
    REQUIRE_ROOT();
    live::TempDir tmp;
    live::TempDir elsewhere;
    REQUIRE(symlink(elsewhere.path().c_str(), (tmp / "link").c_str()) == 0);
    auto outcome = live::cxtrace({"run", "-o", tmp / "link", "--", "/bin/true"});
    CHECK(outcome.status == 1);
    CHECK(outcome.err.find("symbolic link") != std::string::npos);
    CHECK_FALSE(live::file_exists(elsewhere / "report.json"));
    CHECK_FALSE(live::file_exists(elsewhere / "trace.cxt"));
}

namespace {
// Whether the kernel still holds the BPF program with this id.
bool bpf_program_exists(uint32_t id) {
    bpf_attr attr{};
    attr.prog_id = id;
    int fd = static_cast<int>(syscall(SYS_bpf, BPF_PROG_GET_FD_BY_ID, &attr, sizeof attr));
    if (fd >= 0) close(fd);
    return fd >= 0 || errno != ENOENT;
}
}  // namespace

TEST_CASE("kill -9 of cxtrace leaves no BPF program loaded and no traced command running", "[live][command]") {
    REQUIRE_ROOT();
    live::TempDir tmp;
    // A sleep with an unusual duration, so it can be found afterwards. Once
    // it runs, the ids of cxtrace's programs are read from its descriptors
    // (other cxtrace runs on the machine have their own), then it is killed.
    std::string script = std::string(CXTRACE_BINARY) + " run -o '" + (tmp / "out") +
                         "' -- /bin/sh -c 'touch \"$0\"; exec /bin/sleep 31.4159' '" + (tmp / "running") +
                         "' & pid=$!; " + live::shell_wait_for_file(tmp / "running") +
                         "; grep -h '^prog_id:' /proc/$pid/fdinfo/*; kill -9 $pid; wait $pid; echo status=$?";
    auto outcome = live::run({"/bin/sh", "-c", script});
    INFO(outcome.out << outcome.err);
    REQUIRE(live::file_exists(tmp / "running"));
    CHECK(outcome.out.find("status=137") != std::string::npos);
    std::set<uint32_t> programs;
    for (const auto& line : matches(outcome.out, std::regex(R"(^prog_id:\s+(\d+))")))
        programs.insert(static_cast<uint32_t>(std::stoul(line[1])));
    CHECK(programs.size() >= 8);  // the tracepoints' programs were loaded
    // PR_SET_PDEATHSIG takes the command down with cxtrace, and the kernel
    // frees programs whose last link and descriptor closed: both soon, not
    // at once, so they are given time.
    CHECK(live::eventually([] { return live::run({"/usr/bin/pgrep", "-f", "sleep 31.4159"}).out.empty(); },
                           std::chrono::seconds(30)));
    for (uint32_t id : programs) {
        INFO("BPF program " << id);
        CHECK(live::eventually([id] { return !bpf_program_exists(id); }, std::chrono::seconds(30)));
    }
    CHECK_FALSE(live::file_exists(tmp / "out/report.json"));
    CHECK_FALSE(live::file_exists(tmp / "out/trace.cxt"));  // only trace.cxt.partial, never a half file
}

namespace {
std::string tracefs_mounts() {
    std::string lines;
    std::ifstream mounts("/proc/mounts");
    for (std::string line; std::getline(mounts, line);)
        if (line.find(" tracefs ") != std::string::npos) lines += line + "\n";
    return lines;
}

// creation syscall, clone flags and syscall latency present, per task, sorted.
std::multiset<std::string> creations(const json& report) {
    std::multiset<std::string> seen;
    for (const auto& task : report.at("tasks"))
        seen.insert(task.at("kind").get<std::string>() + " " + task.at("creation_syscall").dump() + " " +
                    task.at("clone_flags").dump() + " " +
                    (task.at("latency_ns").at("syscall").is_null() ? "no-syscall-latency" : "syscall-latency"));
    return seen;
}
}  // namespace

TEST_CASE("per-syscall tracepoints (--syscall-tracepoints) see what tp_btf sees, and nothing stays mounted",
          "[live][command]") {
    REQUIRE_ROOT();
    live::TempDir tmp;
    const std::string before = tracefs_mounts();
    const std::string workload = "creation-methods";  // bundled: fork, vfork, clone, clone3, exec
    auto outcome = live::cxtrace({"run", "--syscall-tracepoints", "--verbose", "-o", tmp / "tp", workload});
    INFO(outcome.err);
    REQUIRE(outcome.status == 0);
    CHECK(outcome.err.find("syscall entry/exit: per-syscall tracepoints") != std::string::npos);
    CHECK(tracefs_mounts() == before);  // a tracefs cxtrace needed was mounted only in a helper's namespace

    auto fallback = live::cxtrace({"run", "--verbose", "-o", tmp / "btf", workload});  // the default
    INFO(fallback.err);
    REQUIRE(fallback.status == 0);
    CHECK(fallback.err.find("syscall entry/exit: tp_btf sys_enter/sys_exit") != std::string::npos);
    CHECK(tracefs_mounts() == before);

    json with_tp = live::read_json(tmp / "tp/report.json"), with_btf = live::read_json(tmp / "btf/report.json");
    CHECK(with_tp.at("run").at("lost_events") == 0);
    CHECK(creations(with_tp) == creations(with_btf));
    CHECK(creations(with_tp).count("thread \"clone3\" 4001536 syscall-latency") > 0);
}

TEST_CASE("with debugfs mounted, as systemd mounts it, per-syscall tracepoints mount nothing on it", "[live][command]") {
    REQUIRE_ROOT();
    live::TempDir tmp;
    // In a mount namespace of the test's own: debugfs mounted, no tracefs
    // anywhere. Reading debug/tracing there would mount tracefs on it (an
    // automount that stays); cxtrace must read the ids elsewhere.
    const std::string script =
        "mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug || exit 20\n"
        "while grep -q ' - tracefs ' /proc/self/mountinfo; do\n"
        "  umount \"$(grep ' - tracefs ' /proc/self/mountinfo | head -n 1 | cut -d ' ' -f 5)\" || exit 21\n"
        "done\n"
        "'" CXTRACE_BINARY "' run --syscall-tracepoints --verbose -o '" + tmp / "out" + "' creation-methods \\\n"
        "  >/dev/null 2>'" + tmp / "err" + "' || exit 22\n"
        "grep -c ' - tracefs ' /proc/self/mountinfo\n";
    auto outcome = live::run({"/usr/bin/unshare", "--mount", "--propagation", "private", "/bin/sh", "-c", script});
    const std::string err = live::read_file(tmp / "err");
    INFO(outcome.out << outcome.err << err);
    CHECK(outcome.out == "0\n");  // grep -c: no tracefs mounted after the run
    CHECK(err.find("tracefs not mounted: ids read from a tracefs mounted in a private mount namespace") !=
          std::string::npos);
    CHECK(live::read_json(tmp / "out/report.json").at("run").at("lost_events") == 0);
}

TEST_CASE("a ring buffer too small for a burst reports its losses, the default loses nothing", "[live][command]") {
    REQUIRE_ROOT();
    live::TempDir tmp;
    // 500 execs: each exec event reserves 4,384 bytes, so a 64 KiB buffer holds
    // at most 14 of them. CXTRACE_TEST_HOLD_READER keeps the reader from
    // reading anything until the command has exited, so the burst must fit in
    // the buffer whatever the machine's speed: the 64 KiB one cannot hold it,
    // the default 16 MiB one can.
    constexpr int kExecs = 500 + 2;  // and sh's own, and seq's
    constexpr int kExecsThatFit = (64 << 10) / (4384 + 8);  // + the ring buffer's record header
    const std::vector<std::string> burst{"--", "/bin/sh", "-c", "for i in $(seq 500); do /bin/true & done; wait"};
    auto execs_in = [](const json& report) {
        int execs = 0;
        for (const auto& task : report.at("tasks")) execs += static_cast<int>(task.at("execs").size());
        return execs;
    };
    auto run_with = [&](const std::vector<std::string>& options, const std::string& dir) {
        std::vector<std::string> argv{"/usr/bin/env", "CXTRACE_TEST_HOLD_READER=1", CXTRACE_BINARY, "run", "-o",
                                      tmp / dir};
        argv.insert(argv.end(), options.begin(), options.end());
        argv.insert(argv.end(), burst.begin(), burst.end());
        auto outcome = live::run(argv);
        INFO(outcome.err);
        REQUIRE(outcome.status == 0);
        CHECK(outcome.err.find("CXTRACE_TEST_HOLD_READER is set") != std::string::npos);
        return std::make_pair(outcome, live::read_json(tmp / (dir + "/report.json")));
    };
    auto [tiny_outcome, tiny] = run_with({"--ring-buffer-size", "64K"}, "tiny");
    const json& tiny_run = tiny.at("run");
    CHECK(tiny_run.at("complete") == false);
    const int lost_execs = tiny_run.at("lost_events_by_kind").at("exec").get<int>();
    CHECK(lost_execs >= kExecs - kExecsThatFit);  // the kernel counted every exec it could not deliver
    CHECK(lost_execs <= kExecs);
    CHECK(lost_execs + execs_in(tiny) == kExecs);  // each exec delivered or counted lost, once
    CHECK(tiny_run.at("lost_events").get<int>() >= lost_execs);
    CHECK(tiny_outcome.out.find("events were lost") != std::string::npos);
    CHECK(live::read_file(tmp / "tiny/report.html").find("id=\"incomplete\"") != std::string::npos);

    auto [default_outcome, full] = run_with({}, "default");
    CHECK(full.at("run").at("lost_events") == 0);
    CHECK(full.at("run").at("complete") == true);
    CHECK(execs_in(full) == kExecs);
}
