// SIGINT, SIGTERM and SIGHUP, read from a descriptor instead of acted on:
// a Ctrl-C then ends a run cleanly (the command stopped, the trace and the
// reports written) rather than killing cxtrace mid-write. One the caller
// ignored (nohup: SIGHUP) stays ignored: blocked for the descriptor, it
// would be queued and stop the run. Nested scopes are fine: the innermost
// reads what arrived, the outermost puts the signal mask back.
#pragma once

#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <string>

namespace cxt {

class StopSignals {
public:
    StopSignals() {
        sigemptyset(&set_);
        for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
            struct sigaction current {};
            if (sigaction(sig, nullptr, &current) == 0 && current.sa_handler == SIG_IGN) continue;
            sigaddset(&set_, sig);
        }
        sigprocmask(SIG_BLOCK, &set_, &previous_);
        fd_ = signalfd(-1, &set_, SFD_NONBLOCK | SFD_CLOEXEC);
    }
    ~StopSignals() {
        if (fd_ >= 0) close(fd_);
        if (restore_) sigprocmask(SIG_SETMASK, &previous_, nullptr);
    }
    StopSignals(const StopSignals&) = delete;
    StopSignals& operator=(const StopSignals&) = delete;

    int fd() const { return fd_; }
    // For a process about to exit: the signals stay blocked after this scope,
    // so one arriving now cannot end it with a status its files contradict.
    void stay_blocked() { restore_ = false; }
    // The signal received since the last call, or 0.
    int pending() {
        signalfd_siginfo info;
        if (fd_ >= 0 && read(fd_, &info, sizeof info) == sizeof info) return static_cast<int>(info.ssi_signo);
        return 0;
    }

private:
    sigset_t set_, previous_;
    int fd_ = -1;
    bool restore_ = true;
};

// "SIGINT" for SIGINT: how messages name a signal.
inline std::string signal_name(int sig) {
    const char* abbreviation = sigabbrev_np(sig);
    return abbreviation ? std::string("SIG") + abbreviation : "signal " + std::to_string(sig);
}

}  // namespace cxt
