// For Catch2's listener interface (a listener counts failed assertions).
#define CATCH_CONFIG_EXTERNAL_INTERFACES
#include <catch2/catch.hpp>

#include "live_run.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <poll.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace live {

namespace {

// Failed assertions so far in this test process; a TempDir compares it on
// destruction with its value when it was made.
std::atomic<uint64_t>& failed_assertions() {
    static std::atomic<uint64_t> count{0};
    return count;
}

struct FailureCounter : Catch::TestEventListenerBase {
    using TestEventListenerBase::TestEventListenerBase;
    bool assertionEnded(const Catch::AssertionStats& stats) override {
        if (!stats.assertionResult.succeeded()) ++failed_assertions();
        return true;
    }
};

// The tests' own environment without sudo's variables: under `sudo
// scripts/test` cxtrace would otherwise act as the user who ran sudo. A test
// that means to be "under sudo" sets them itself (env SUDO_UID=...).
std::vector<char*> environment_without_sudo() {
    std::vector<char*> env;
    for (char** var = environ; *var; ++var)
        if (std::strncmp(*var, "SUDO_", 5) != 0) env.push_back(*var);
    env.push_back(nullptr);
    return env;
}

}  // namespace

CATCH_REGISTER_LISTENER(FailureCounter)

Outcome run(const std::vector<std::string>& argv) {
    int out_pipe[2], err_pipe[2];
    if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
    std::vector<char*> c_argv;
    for (const auto& arg : argv) c_argv.push_back(const_cast<char*>(arg.c_str()));
    c_argv.push_back(nullptr);
    pid_t pid;
    std::vector<char*> env = environment_without_sudo();
    int rc = posix_spawn(&pid, c_argv[0], &actions, nullptr, c_argv.data(), env.data());
    posix_spawn_file_actions_destroy(&actions);
    close(out_pipe[1]);
    close(err_pipe[1]);
    if (rc != 0) throw std::runtime_error("cannot start " + argv[0]);

    Outcome outcome;
    pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
    std::string* sinks[2] = {&outcome.out, &outcome.err};
    int open_fds = 2;
    while (open_fds > 0) {
        if (poll(fds, 2, -1) < 0) continue;
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP))) continue;
            char buf[4096];
            ssize_t got = read(fds[i].fd, buf, sizeof buf);
            if (got > 0) {
                sinks[i]->append(buf, static_cast<size_t>(got));
            } else {
                close(fds[i].fd);
                fds[i].fd = -1;
                --open_fds;
            }
        }
    }
    int status = 0;
    waitpid(pid, &status, 0);
    outcome.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return outcome;
}

Outcome cxtrace(const std::vector<std::string>& args) {
    std::vector<std::string> argv{CXTRACE_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv);
}

TempDir::TempDir() : failures_before_(failed_assertions()) {
    char templ[] = "/tmp/cxtrace-live-XXXXXX";
    if (!mkdtemp(templ)) throw std::runtime_error("mkdtemp");
    path_ = templ;
}

TempDir::~TempDir() {
    if (failed_assertions() > failures_before_) {
        std::fprintf(stderr, "kept %s: an assertion failed while it was in use\n", path_.c_str());
        return;
    }
    std::string command = "rm -rf '" + path_ + "'";
    if (std::system(command.c_str()) != 0) {
        // leaving a temp dir behind is not worth failing a test over
    }
}

std::string shell_wait_for_file(const std::string& path) {
    return "while [ ! -e '" + path + "' ] && kill -0 $pid 2>/dev/null; do sleep 0.02; done";
}

bool eventually(const std::function<bool()>& done, std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return true;
}

Started::Started(const std::vector<std::string>& argv) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, (files_ / "out").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, (files_ / "err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<char*> c_argv;
    for (const auto& arg : argv) c_argv.push_back(const_cast<char*>(arg.c_str()));
    c_argv.push_back(nullptr);
    std::vector<char*> env = environment_without_sudo();
    int rc = posix_spawn(&pid_, c_argv[0], &actions, nullptr, c_argv.data(), env.data());
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) throw std::runtime_error("cannot start " + argv[0]);
}

Started::~Started() {
    if (waited_) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
}

Outcome Started::wait() {
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    waited_ = true;
    Outcome outcome;
    outcome.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    outcome.out = read_file(files_ / "out");
    outcome.err = read_file(files_ / "err");
    return outcome;
}

std::string Started::err_so_far() const { return read_file(files_ / "err"); }

std::vector<long> processes_running(const std::vector<std::string>& argv) {
    std::string wanted;
    for (const std::string& arg : argv) wanted += arg + '\0';
    std::vector<long> found;
    DIR* proc = opendir("/proc");
    if (!proc) return found;
    while (dirent* entry = readdir(proc)) {
        char* end = nullptr;
        long pid = std::strtol(entry->d_name, &end, 10);
        if (pid <= 0 || *end != '\0') continue;
        if (read_file("/proc/" + std::string(entry->d_name) + "/cmdline") == wanted) found.push_back(pid);
    }
    closedir(proc);
    return found;
}

bool is_root() { return geteuid() == 0; }

bool file_exists(const std::string& path) {
    struct stat st;
    return stat(path.c_str(), &st) == 0;
}

long owner_uid(const std::string& path) {
    struct stat st;
    return lstat(path.c_str(), &st) == 0 ? static_cast<long>(st.st_uid) : -1;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream content;
    content << in.rdbuf();
    return content.str();
}

nlohmann::json read_json(const std::string& path) { return nlohmann::json::parse(read_file(path)); }

std::vector<const nlohmann::json*> tasks_with_pid(const nlohmann::json& report, long pid) {
    std::vector<const nlohmann::json*> found;
    for (const auto& task : report.at("tasks"))
        if (task.at("pid") == pid) found.push_back(&task);
    return found;
}

}  // namespace live
