#include "held_command.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <utility>

namespace cxt {

namespace {

// With the effective ids: what the invoking user may do (act_as_invoker),
// not what root could.
bool may_access(const std::string& path, int mode) { return faccessat(AT_FDCWD, path.c_str(), mode, AT_EACCESS) == 0; }

bool is_executable_file(const std::string& path) {
    struct stat st;
    return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && may_access(path, X_OK);
}

// Runs in the forked child only: async-signal-safe calls, then exec or _exit.
[[noreturn]] void child_main(int go_fd, int exec_error_fd, char* const* argv,
                             const std::optional<InvokingUser>& user, const SpawnOptions& options) {
    char go;
    ssize_t got;
    do got = read(go_fd, &go, 1);
    while (got < 0 && errno == EINTR);
    if (got != 1) _exit(125);  // cxtrace went away before releasing us
    close(go_fd);

    int err = 0;
    for (auto [from, to] : {std::pair{options.stdout_fd, STDOUT_FILENO}, std::pair{options.stderr_fd, STDERR_FILENO}})
        if (err == 0 && from >= 0 && dup2(from, to) < 0) err = errno;
    if (err == 0 && user) {
        if ((err = switch_to_user(*user)) == 0) {
            setenv("HOME", user->home.c_str(), 1);
            setenv("USER", user->name.c_str(), 1);
            setenv("LOGNAME", user->name.c_str(), 1);
        }
    }
    if (options.may_outlive) {
        setpgid(0, 0);
    } else {
        // If cxtrace dies, the command dies with it rather than run on
        // untraced. Set after setuid, which clears it.
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() == 1) _exit(125);
    }
    // cxtrace blocks its stop signals to read them from a descriptor
    // (traced_session.cpp); the command gets them as it would from a shell.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&stop_signals, sig);
    sigprocmask(SIG_UNBLOCK, &stop_signals, nullptr);
    if (err == 0) {
        execvp(argv[0], argv);
        err = errno;
    }
    ssize_t ignored = write(exec_error_fd, &err, sizeof err);
    (void)ignored;
    _exit(err == ENOENT ? 127 : 126);
}

ExitStatus decode_wait_status(int status) {
    ExitStatus exit;
    if (WIFEXITED(status)) exit.code = WEXITSTATUS(status);
    else if (WIFSIGNALED(status)) exit.signal = WTERMSIG(status);
    return exit;
}

}  // namespace

Status check_command_exists(const std::string& argv0) {
    if (argv0.empty()) return Error{"empty command name"};
    if (argv0.find('/') != std::string::npos) {
        if (!may_access(argv0, F_OK))
            return errno == EACCES ? Error{"cannot execute " + argv0 + ": permission denied", EACCES}
                                   : Error{"command not found: " + argv0, ENOENT};
        if (!is_executable_file(argv0)) {
            struct stat st;
            bool directory = stat(argv0.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
            return Error{"cannot execute " + argv0 +
                             (directory ? ": it is a directory"
                                        : ": permission denied (not executable: chmod +x it, or run it through its "
                                          "interpreter, e.g. sh " + argv0 + ")"),
                         EACCES};
        }
        return Status::success();
    }
    const char* path = std::getenv("PATH");
    std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
    size_t start = 0;
    while (start <= dirs.size()) {
        size_t end = dirs.find(':', start);
        if (end == std::string::npos) end = dirs.size();
        std::string dir = dirs.substr(start, end - start);
        if (is_executable_file((dir.empty() ? "." : dir) + "/" + argv0)) return Status::success();
        start = end + 1;
    }
    return Error{"command not found: " + argv0 + " (not in PATH)", ENOENT};
}

Result<HeldCommand> HeldCommand::spawn(const std::vector<std::string>& argv, const SpawnOptions& options) {
    if (argv.empty()) return Error{"no command to run"};
    std::vector<char*> c_argv;
    for (const std::string& arg : argv) c_argv.push_back(const_cast<char*>(arg.c_str()));
    c_argv.push_back(nullptr);
    const std::optional<InvokingUser>& user = options.run_as;

    int go[2], exec_error[2];
    if (pipe2(go, O_CLOEXEC) != 0) return os_error("cannot create a pipe");
    if (pipe2(exec_error, O_CLOEXEC) != 0) {
        int err = errno;
        close(go[0]);
        close(go[1]);
        return os_error("cannot create a pipe", err);
    }
    fflush(nullptr);  // nothing buffered may be written twice
    pid_t pid = fork();
    if (pid < 0) {
        int err = errno;
        for (int fd : {go[0], go[1], exec_error[0], exec_error[1]}) close(fd);
        return os_error("cannot fork", err);
    }
    if (pid == 0) {
        close(go[1]);
        close(exec_error[0]);
        child_main(go[0], exec_error[1], c_argv.data(), user, options);
    }
    close(go[0]);
    close(exec_error[1]);
    int exit_fd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
    if (exit_fd < 0) {
        int err = errno;
        HeldCommand discard(pid, go[1], exec_error[0], -1);  // its destructor kills the child
        return os_error("cannot watch the command (pidfd_open; Linux 5.3 or newer is needed)", err);
    }
    return HeldCommand(pid, go[1], exec_error[0], exit_fd);
}

HeldCommand::HeldCommand(HeldCommand&& other) noexcept
    : pid_(other.pid_),
      go_fd_(other.go_fd_),
      exec_error_fd_(other.exec_error_fd_),
      exit_fd_(other.exit_fd_),
      reaped_(other.reaped_) {
    other.pid_ = -1;
    other.go_fd_ = other.exec_error_fd_ = other.exit_fd_ = -1;
    other.reaped_ = true;
}

HeldCommand::~HeldCommand() {
    if (go_fd_ >= 0) close(go_fd_);  // a held child sees EOF and exits
    if (exec_error_fd_ >= 0) close(exec_error_fd_);
    if (exit_fd_ >= 0) close(exit_fd_);
    if (pid_ > 0 && !reaped_) {
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
    }
}

Status HeldCommand::release() {
    char go = 1;
    ssize_t wrote = write(go_fd_, &go, 1);
    int write_err = errno;
    close(go_fd_);
    go_fd_ = -1;
    if (wrote != 1) return os_error("cannot release the command", write_err);

    int child_err = 0;
    ssize_t got;
    do got = read(exec_error_fd_, &child_err, sizeof child_err);
    while (got < 0 && errno == EINTR);
    close(exec_error_fd_);
    exec_error_fd_ = -1;
    if (got == sizeof child_err) return Error{"cannot run the command", child_err};
    return Status::success();
}

std::optional<ExitStatus> HeldCommand::poll_exit() {
    if (reaped_) return std::nullopt;
    int status = 0;
    pid_t done = waitpid(pid_, &status, WNOHANG);
    if (done != pid_) return std::nullopt;
    reaped_ = true;
    return decode_wait_status(status);
}

ExitStatus HeldCommand::wait_exit() {
    int status = 0;
    pid_t done;
    do done = waitpid(pid_, &status, 0);
    while (done < 0 && errno == EINTR);
    reaped_ = true;
    return decode_wait_status(status);
}

void HeldCommand::signal(int sig) {
    if (pid_ > 0 && !reaped_) kill(pid_, sig);
}

void HeldCommand::leave_running() {
    if (exit_fd_ >= 0) close(exit_fd_);
    exit_fd_ = -1;
    reaped_ = true;  // not ours to kill or wait for any more
}

Result<ExitStatus> run_to_completion(const std::vector<std::string>& argv,
                                     const std::optional<InvokingUser>& run_as) {
    auto command = HeldCommand::spawn(argv, SpawnOptions{run_as, false});
    if (!command) return command.error();
    if (Status released = command->release(); !released)
        return Error{"cannot run " + argv.front(), released.error().err};
    return command->wait_exit();
}

}  // namespace cxt
