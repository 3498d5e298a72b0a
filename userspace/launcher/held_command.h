// Starts the traced command held before its exec: the child is forked and
// waits on a pipe until the tracer follows its pid, then execs. Nothing the
// command does is missed. Under sudo the command runs as the invoking user.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "privileges.h"
#include "result.h"

namespace cxt {

struct ExitStatus {
    std::optional<int> code;    // exited normally
    std::optional<int> signal;  // killed by a signal
    // What a shell would report: the code, or 128 + signal.
    int shell_status() const { return code ? *code : 128 + signal.value_or(0); }
};

struct SpawnOptions {
    std::optional<InvokingUser> run_as;  // the user the command runs as; none: as cxtrace itself
    // The command may outlive cxtrace: its own process group (Ctrl-C at the
    // terminal reaches only cxtrace) and no death signal when cxtrace dies.
    bool may_outlive = false;
    // When set (>= 0), the command's stdout / stderr (--capture-output's pipes).
    int stdout_fd = -1;
    int stderr_fd = -1;
};

class HeldCommand {
public:
    // Forks; the child waits for release(). argv[0] is looked up in PATH.
    static Result<HeldCommand> spawn(const std::vector<std::string>& argv, const SpawnOptions& options);
    HeldCommand(HeldCommand&& other) noexcept;
    HeldCommand& operator=(HeldCommand&&) = delete;
    ~HeldCommand();

    pid_t pid() const { return pid_; }
    // A pidfd: readable once the command has exited.
    int exit_fd() const { return exit_fd_; }
    // Lets the child exec; fails with the child's errno if exec failed.
    Status release();
    // Non-blocking: the exit status once the command has ended.
    std::optional<ExitStatus> poll_exit();
    ExitStatus wait_exit();
    void signal(int sig);
    // Stop watching: the command runs on, no longer cxtrace's to stop.
    void leave_running();

private:
    HeldCommand(pid_t pid, int go_fd, int exec_error_fd, int exit_fd)
        : pid_(pid), go_fd_(go_fd), exec_error_fd_(exec_error_fd), exit_fd_(exit_fd) {}

    pid_t pid_ = -1;
    int go_fd_ = -1;          // write end: one byte lets the child exec
    int exec_error_fd_ = -1;  // read end: the child's errno if exec failed, EOF if it succeeded
    int exit_fd_ = -1;
    bool reaped_ = false;
};

// Runs argv (argv[0] a path) to completion with cxtrace's own stdio, as run_as.
Result<ExitStatus> run_to_completion(const std::vector<std::string>& argv,
                                     const std::optional<InvokingUser>& run_as);

// Whether argv0 names something executable (a path, or a PATH lookup), so a
// typo is reported before anything is set up.
Status check_command_exists(const std::string& argv0);

}  // namespace cxt
