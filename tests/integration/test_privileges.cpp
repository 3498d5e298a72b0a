// Live tests of what `sudo cxtrace` may do: every subcommand acts as the
// user behind sudo before it touches a path, so it can write, read and take
// over nothing that user could not.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "live_run.h"

extern char** environ;

namespace {

// What sudo sets; nobody (65534) stands in for the student.
std::vector<std::string> as_sudo_nobody(const std::vector<std::string>& args) {
    std::vector<std::string> argv{"/usr/bin/env", "SUDO_UID=65534", "SUDO_GID=65534", "SUDO_USER=nobody",
                                  CXTRACE_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
}

const std::string kSample = std::string(CXTRACE_TEST_DATA) + "/process-vs-thread-n5.cxt";
const std::string kNobodyMessage = "(cxtrace writes its files as nobody, the user behind sudo)";

std::string status_field(const std::string& status, const std::string& field) {
    std::istringstream lines(status);
    for (std::string line; std::getline(lines, line);)
        if (line.rfind(field + ":\t", 0) == 0) return line.substr(field.size() + 2);
    return "";
}

// A root-owned directory (0755, or as given) that nobody may not write into.
std::string root_only_dir(const live::TempDir& tmp, const std::string& name, mode_t mode = 0755) {
    std::string dir = tmp / name;
    if (mkdir(dir.c_str(), mode) != 0 || chmod(dir.c_str(), mode) != 0) throw std::runtime_error("mkdir " + dir);
    return dir;
}

struct Observed {
    std::string status;  // /proc/PID/status while it was stuck writing its output
    live::Outcome outcome;
};

// Runs argv with its standard output on a full pipe, so it stops at its
// first write there (after its work, as main has set its rights), reads its
// credentials, then lets it finish.
Observed observe_while_writing_output(const std::vector<std::string>& argv) {
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0 || fcntl(out[1], F_SETPIPE_SZ, 4096) < 0) throw std::runtime_error("pipe");
    fcntl(out[1], F_SETFL, O_NONBLOCK);
    const std::string filler(512, 'x');
    while (write(out[1], filler.data(), filler.size()) > 0) {
    }
    fcntl(out[1], F_SETFL, 0);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    std::vector<char*> c_argv;
    for (const auto& arg : argv) c_argv.push_back(const_cast<char*>(arg.c_str()));
    c_argv.push_back(nullptr);
    pid_t pid;
    int rc = posix_spawn(&pid, c_argv[0], &actions, nullptr, c_argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
    if (rc != 0) throw std::runtime_error("cannot start " + argv[0]);

    // Blocked in write(1, ...): /proc/PID/syscall starts with x86-64's
    // write (1) and the descriptor. Only a process that exited early misses it.
    Observed observed;
    const std::string proc = "/proc/" + std::to_string(pid);
    for (;;) {
        std::string syscall_line = live::read_file(proc + "/syscall");
        if (syscall_line.rfind("1 0x1 ", 0) == 0) {
            observed.status = live::read_file(proc + "/status");
            break;
        }
        if (syscall_line.empty()) break;  // gone
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    char buf[65536];
    ssize_t got;
    size_t filler_left = 4096;
    while ((got = read(out[0], buf, sizeof buf)) > 0) {
        size_t skip = std::min(filler_left, static_cast<size_t>(got));
        filler_left -= skip;
        observed.outcome.out.append(buf + skip, static_cast<size_t>(got) - skip);
    }
    close(out[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    observed.outcome.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return observed;
}

void check_is_nobody_without_privileges(const std::string& status) {
    INFO(status);
    CHECK(status_field(status, "Uid") == "65534\t65534\t65534\t65534");
    CHECK(status_field(status, "Gid") == "65534\t65534\t65534\t65534");
    CHECK(status_field(status, "Groups") == "65534 ");
    CHECK(status_field(status, "CapEff") == "0000000000000000");
    CHECK(status_field(status, "CapPrm") == "0000000000000000");
    CHECK(status_field(status, "NoNewPrivs") == "1");
}

}  // namespace

TEST_CASE("under sudo, cxtrace report and list run as the invoking user, with no privilege left",
          "[live][security][sudo]") {
    REQUIRE_ROOT();
    live::TempDir tmp;
    REQUIRE(chmod(tmp.path().c_str(), 0777) == 0);
    SECTION("report") {
        auto observed = observe_while_writing_output(as_sudo_nobody({"report", "-o", tmp / "out", kSample}));
        check_is_nobody_without_privileges(observed.status);
        CHECK(observed.outcome.status == 0);
        CHECK(observed.outcome.out.find("report: " + (tmp / "out/report.html")) != std::string::npos);
        for (const char* file : {"out", "out/report.json", "out/report.html", "out/perfetto.pftrace"})
            CHECK(live::owner_uid(tmp / file) == 65534);
    }
    SECTION("list") {
        auto observed = observe_while_writing_output(as_sudo_nobody({"list"}));
        check_is_nobody_without_privileges(observed.status);
        CHECK(observed.outcome.status == 0);
        CHECK(observed.outcome.out.find("process-vs-thread") != std::string::npos);
    }
}

TEST_CASE("under sudo, cxtrace report writes and reads nothing the invoking user could not",
          "[live][security][sudo]") {
    REQUIRE_ROOT();
    live::TempDir tmp;
    REQUIRE(chmod(tmp.path().c_str(), 0755) == 0);
    const std::string trace = tmp / "trace.cxt";
    std::ofstream(trace, std::ios::binary) << live::read_file(kSample);
    REQUIRE(chmod(trace.c_str(), 0644) == 0);
    const std::string secret = root_only_dir(tmp, "secret", 0700);
    SECTION("no directory of theirs inside a root-only one") {
        auto outcome = live::run(as_sudo_nobody({"report", "-o", secret + "/x", trace}));
        CHECK(outcome.status == 1);
        CHECK(outcome.err.find("cannot create directory " + secret + "/x: Permission denied " + kNobodyMessage) !=
              std::string::npos);
        CHECK_FALSE(live::file_exists(secret + "/x"));
    }
    SECTION("no taking over root's report files") {
        const std::string roots = root_only_dir(tmp, "roots");
        std::ofstream(roots + "/report.json") << "root's";
        auto outcome = live::run(as_sudo_nobody({"report", "-o", roots, trace}));
        CHECK(outcome.status == 1);
        CHECK(outcome.err.find("cannot write into " + roots + ": Permission denied " + kNobodyMessage) !=
              std::string::npos);
        CHECK(live::read_file(roots + "/report.json") == "root's");
        CHECK(live::owner_uid(roots + "/report.json") == 0);
        CHECK_FALSE(live::file_exists(roots + "/report.html"));
    }
    SECTION("no way around it through a symbolic link, with or without /.") {
        const std::string roots = root_only_dir(tmp, "roots");
        REQUIRE(symlink(roots.c_str(), (tmp / "link").c_str()) == 0);
        for (const std::string& out : {tmp / "link", tmp / "link/.", tmp / "link/"}) {
            INFO(out);
            auto outcome = live::run(as_sudo_nobody({"report", "-o", out, trace}));
            CHECK(outcome.status == 1);
            CHECK_FALSE(live::file_exists(roots + "/report.json"));
        }
        // Even where the user could write, a symlink as the directory is not followed.
        REQUIRE(chmod(roots.c_str(), 0777) == 0);
        auto outcome = live::run(as_sudo_nobody({"report", "-o", tmp / "link/.", trace}));
        CHECK(outcome.status == 1);
        CHECK(outcome.err.find("symbolic link") != std::string::npos);
        CHECK_FALSE(live::file_exists(roots + "/report.json"));
    }
    SECTION("no reading a trace the user may not read") {
        const std::string hidden = secret + "/trace.cxt";
        std::ofstream(hidden, std::ios::binary) << live::read_file(kSample);
        const std::string out = root_only_dir(tmp, "open", 0777);
        auto outcome = live::run(as_sudo_nobody({"report", "-o", out, hidden}));
        CHECK(outcome.status == 1);
        CHECK(outcome.err.find("Permission denied") != std::string::npos);
        CHECK_FALSE(live::file_exists(out + "/report.json"));
    }
}

TEST_CASE("under sudo, cxtrace run refuses an output directory the user cannot write before attaching anything",
          "[live][security][sudo]") {
    REQUIRE_ROOT();
    live::TempDir tmp;
    REQUIRE(chmod(tmp.path().c_str(), 0755) == 0);
    const std::string secret = root_only_dir(tmp, "secret", 0700);
    const std::string roots = root_only_dir(tmp, "roots");
    REQUIRE(symlink(roots.c_str(), (tmp / "link").c_str()) == 0);
    struct Case {
        std::string out, message;
    };
    for (const Case& refused : {Case{secret + "/x", "cannot create directory " + secret + "/x: Permission denied " +
                                                        kNobodyMessage},
                                Case{roots, "cannot write into " + roots + ": Permission denied " + kNobodyMessage},
                                Case{tmp / "link/.", "refusing to write through the symbolic link"}}) {
        INFO(refused.out);
        // --verbose names the syscall probes as they are loaded: never, here.
        auto outcome = live::run(as_sudo_nobody({"run", "--verbose", "-o", refused.out, "--", "/bin/echo", "ran"}));
        INFO(outcome.err);
        CHECK(outcome.status == 1);
        CHECK(outcome.err.find(refused.message) != std::string::npos);
        CHECK(outcome.err.find("syscall entry/exit") == std::string::npos);
        CHECK(outcome.out.find("ran") == std::string::npos);
    }
    CHECK_FALSE(live::file_exists(secret + "/x"));
    CHECK_FALSE(live::file_exists(roots + "/trace.cxt"));
    CHECK_FALSE(live::file_exists(roots + "/trace.cxt.partial"));

    SECTION("and a command the user may not execute") {
        const std::string script = secret + "/script.sh";
        std::ofstream(script) << "#!/bin/sh\necho ran\n";
        REQUIRE(chmod(script.c_str(), 0755) == 0);
        const std::string out = root_only_dir(tmp, "open", 0777);
        auto outcome = live::run(as_sudo_nobody({"run", "-o", out + "/run", "--", script}));
        CHECK(outcome.status == 126);
        CHECK(outcome.err.find("cannot execute " + script + ": permission denied") != std::string::npos);
        CHECK_FALSE(live::file_exists(out + "/run"));
    }
}
