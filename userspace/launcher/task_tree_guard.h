// Every task of a traced command dies with cxtrace, not only the root.
//
// The root's death signal (PR_SET_PDEATHSIG) covers the root alone: what it
// started in the background would run on, untraced, under pid 1. So cxtrace
// forks a small guard before it lets the command run. The guard waits on a
// pipe that only cxtrace holds open; when the pipe says cxtrace is gone
// (kill -9, a crash), the guard kills every task the probes still follow,
// again and again until none is left, and exits. It holds copies of the
// descriptors that keep the probes attached, so tasks the command creates
// after cxtrace died are followed, and killed, too. It needs no privilege
// of its own: it has cxtrace's rights after the attach (under sudo, the
// invoking user's, like the command's). cxtrace ends it (stand_down) before
// it ends normally. Not used with --leave-running, whose command outlives
// cxtrace on purpose.
#pragma once

#include <sys/types.h>

#include <functional>
#include <vector>

#include "result.h"

namespace cxt {

class TaskTreeGuard {
public:
    // Sends SIGKILL to every task of the command still alive; the pids it signalled.
    using KillRemaining = std::function<Result<std::vector<pid_t>>()>;

    // Forks the guard, which keeps only keep_fds and stderr (for the one line
    // it prints when it kills anything). Call it while cxtrace has no other
    // thread: the guard is a copy of this process and calls kill_remaining.
    static Result<TaskTreeGuard> start(const std::vector<int>& keep_fds, KillRemaining kill_remaining);
    TaskTreeGuard(TaskTreeGuard&& other) noexcept;
    TaskTreeGuard& operator=(TaskTreeGuard&&) = delete;
    // Without stand_down(), as if cxtrace were gone: the guard kills what is
    // left of the command (cxtrace is leaving on an error).
    ~TaskTreeGuard();

    // cxtrace ends normally: the guard goes, killing nothing.
    void stand_down();

private:
    TaskTreeGuard(pid_t pid, int alive_fd) : pid_(pid), alive_fd_(alive_fd) {}
    pid_t pid_ = -1;
    int alive_fd_ = -1;  // write end of the pipe: the guard sees its end when cxtrace is gone
};

}  // namespace cxt
