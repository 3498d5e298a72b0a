#include "task_tree_guard.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdio>
#include <set>
#include <thread>
#include <utility>

namespace cxt {

namespace {

// How long the guard goes on killing: a task in an uninterruptible wait
// dies only when the wait ends.
constexpr auto kGuardKillsFor = std::chrono::seconds(10);
constexpr auto kGuardKillEvery = std::chrono::milliseconds(10);

void close_range_of(unsigned first, unsigned last) {
    if (first > last) return;
    if (syscall(SYS_close_range, first, last, 0) == 0) return;
    // Before Linux 5.9: one by one, up to the descriptor limit.
    const long open_max = sysconf(_SC_OPEN_MAX);
    const unsigned limit = open_max > 0 ? static_cast<unsigned>(open_max) - 1 : 1023u;
    for (unsigned fd = first; fd <= std::min(last, limit); ++fd) close(static_cast<int>(fd));
}

// Every descriptor but those in keep (sorted).
void close_all_but(const std::vector<int>& keep) {
    unsigned from = 0;
    for (int fd : keep) {
        if (fd < 0 || static_cast<unsigned>(fd) < from) continue;
        if (static_cast<unsigned>(fd) > from) close_range_of(from, static_cast<unsigned>(fd) - 1);
        from = static_cast<unsigned>(fd) + 1;
    }
    close_range_of(from, UINT_MAX);
}

// Runs in the forked guard only.
[[noreturn]] void guard_main(int alive_fd, std::vector<int> keep, const TaskTreeGuard::KillRemaining& kill_remaining,
                             pid_t cxtrace_pid) {
    prctl(PR_SET_NAME, "cxtrace-guard");
    // Ctrl-C and the like reach the whole foreground process group: cxtrace
    // deals with them, and stands the guard down when it ends.
    for (int sig : {SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGTSTP, SIGTTIN, SIGTTOU, SIGPIPE}) signal(sig, SIG_IGN);
    keep.push_back(alive_fd);
    keep.push_back(STDERR_FILENO);
    std::sort(keep.begin(), keep.end());
    close_all_but(keep);

    char byte;
    ssize_t got;
    do got = read(alive_fd, &byte, 1);
    while (got < 0 && errno == EINTR);
    // End of file: cxtrace is gone without standing the guard down.
    std::set<pid_t> killed;
    const auto until = std::chrono::steady_clock::now() + kGuardKillsFor;
    while (std::chrono::steady_clock::now() < until) {
        auto signalled = kill_remaining();
        if (!signalled || signalled->empty()) break;
        killed.insert(signalled->begin(), signalled->end());
        std::this_thread::sleep_for(kGuardKillEvery);
    }
    if (!killed.empty())
        std::fprintf(stderr,
                     "cxtrace: cxtrace (pid %d) ended while tracing: the %zu tasks left of its command were "
                     "killed (SIGKILL)\n",
                     static_cast<int>(cxtrace_pid), killed.size());
    _exit(0);
}

}  // namespace

Result<TaskTreeGuard> TaskTreeGuard::start(const std::vector<int>& keep_fds, KillRemaining kill_remaining) {
    int alive[2];
    if (pipe2(alive, O_CLOEXEC) != 0) return os_error("cannot create a pipe for the command's guard");
    const pid_t cxtrace_pid = getpid();
    std::fflush(nullptr);  // nothing buffered may be written twice
    const pid_t pid = fork();
    if (pid < 0) {
        int err = errno;
        close(alive[0]);
        close(alive[1]);
        return os_error("cannot fork the command's guard", err);
    }
    if (pid == 0) guard_main(alive[0], keep_fds, kill_remaining, cxtrace_pid);
    close(alive[0]);
    return TaskTreeGuard(pid, alive[1]);
}

TaskTreeGuard::TaskTreeGuard(TaskTreeGuard&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)), alive_fd_(std::exchange(other.alive_fd_, -1)) {}

TaskTreeGuard::~TaskTreeGuard() {
    // The guard reads the end of the pipe and kills what is left; it is not
    // waited for (it may take a while), cxtrace is on its way out.
    if (alive_fd_ >= 0) close(alive_fd_);
}

void TaskTreeGuard::stand_down() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);  // before the pipe closes: it never sees cxtrace gone
    pid_t done;
    do done = waitpid(pid_, nullptr, 0);
    while (done < 0 && errno == EINTR);
    pid_ = -1;
    close(alive_fd_);
    alive_fd_ = -1;
}

}  // namespace cxt
