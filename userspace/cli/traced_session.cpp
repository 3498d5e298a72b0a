// The traced session (traced_session.h): launch the command held, attach
// the probes, follow it, record every event to trace.cxt, then correlate
// and report. `cxtrace run` and `cxtrace lab` both run it.
#include "traced_session.h"

#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <variant>

#include "bpf_tracer.h"
#include "commands.h"
#include "correlator.h"
#include "held_command.h"
#include "output_tee.h"
#include "output_files.h"
#include "privileges.h"
#include "text_summary.h"
#include "trace_file.h"
#include "workloads.h"

namespace cxt {

namespace {

constexpr int kDrainEveryMs = 100;
constexpr auto kStatusEvery = std::chrono::milliseconds(250);
constexpr auto kStopGrace = std::chrono::seconds(2);  // after Ctrl-C, before SIGKILL
// trace.cxt is handed to the kernel this often: a run killed (kill -9, a
// crash) keeps all but its last second, which `cxtrace report` salvages.
constexpr auto kFlushEvery = std::chrono::seconds(1);
// Test-only switch (README, Tests): when set, nothing is read from the ring
// buffer until the command has exited, so whether a burst fits no longer
// depends on how fast the reader drains; the loss test fills a small buffer
// for certain and the kernel's real loss counters are what it checks.
constexpr const char* kHoldReaderVariable = "CXTRACE_TEST_HOLD_READER";

uint64_t monotonic_ns() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ULL + static_cast<uint64_t>(ts.tv_nsec);
}

std::string iso8601_now() {
    timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    std::tm utc{};
    gmtime_r(&ts.tv_sec, &utc);
    char buf[40];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &utc);
    char out[64];
    std::snprintf(out, sizeof out, "%s.%03ldZ", buf, ts.tv_nsec / 1'000'000);
    return out;
}

std::string kernel_release() {
    utsname u{};
    return uname(&u) == 0 ? u.release : "unknown";
}

// SIGINT/SIGTERM/SIGHUP arrive on a descriptor we check between polls, so a
// Ctrl-C ends the run cleanly instead of killing cxtrace mid-write. One the
// caller ignored (nohup: SIGHUP) stays ignored: blocked for the descriptor, it
// would be queued and stop the run.
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
        sigprocmask(SIG_SETMASK, &previous_, nullptr);
    }
    StopSignals(const StopSignals&) = delete;
    StopSignals& operator=(const StopSignals&) = delete;

    int fd() const { return fd_; }
    // The signal received since the last call, or 0.
    int pending() {
        signalfd_siginfo info;
        if (fd_ >= 0 && read(fd_, &info, sizeof info) == sizeof info) return static_cast<int>(info.ssi_signo);
        return 0;
    }

private:
    sigset_t set_, previous_;
    int fd_ = -1;
};

// Waits until one of several descriptors is readable (or a timeout).
class ReadinessWaiter {
public:
    ReadinessWaiter() : epoll_fd_(epoll_create1(EPOLL_CLOEXEC)) {}
    ~ReadinessWaiter() {
        if (epoll_fd_ >= 0) close(epoll_fd_);
    }
    ReadinessWaiter(const ReadinessWaiter&) = delete;
    ReadinessWaiter& operator=(const ReadinessWaiter&) = delete;

    Status watch(int fd) {
        epoll_event event{};
        event.events = EPOLLIN;
        event.data.fd = fd;
        if (epoll_fd_ < 0 || epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0)
            return os_error("cannot wait for events");
        return Status::success();
    }
    void wait(int timeout_ms) {
        epoll_event events[4];
        epoll_wait(epoll_fd_, events, 4, timeout_ms);
    }

private:
    int epoll_fd_;
};

// One updating line on stderr while tracing, only when it is a terminal.
class StatusLine {
public:
    StatusLine() : enabled_(isatty(STDERR_FILENO) == 1), started_(std::chrono::steady_clock::now()) {}
    // lost_so_far() reads the kernel's counters: only called when the line is drawn.
    template <typename LostFn>
    void update(uint64_t events, LostFn lost_so_far) {
        if (!enabled_) return;
        auto now = std::chrono::steady_clock::now();
        if (now - last_ < kStatusEvery) return;
        uint64_t lost = lost_so_far();
        last_ = now;
        double elapsed = std::chrono::duration<double>(now - started_).count();
        std::fprintf(stderr, "\r\033[K[cxtrace] %.1f s  %llu events  %llu lost", elapsed,
                     static_cast<unsigned long long>(events), static_cast<unsigned long long>(lost));
        std::fflush(stderr);
        shown_ = true;
    }
    void clear() {
        if (shown_) std::fprintf(stderr, "\r\033[K");
        shown_ = false;
    }

private:
    bool enabled_;
    bool shown_ = false;
    std::chrono::steady_clock::time_point started_, last_;
};

void print_error(const std::string& message) { std::cerr << "cxtrace: " << message << "\n"; }

bool asks_for_help(const std::vector<std::string>& args) {
    return std::find(args.begin(), args.end(), "--help") != args.end() ||
           std::find(args.begin(), args.end(), "-h") != args.end();
}

// A bundled workload checks its own options (run as the command would be);
// asking it first means a typo is reported (exit 2) before anything is
// traced or written.
std::optional<int> check_workload_options(const Target& target, const std::optional<InvokingUser>& user) {
    std::vector<std::string> argv = target.argv;
    if (asks_for_help(argv)) {
        auto shown = run_to_completion(argv, user);
        return shown ? shown->shell_status() : kExitFailure;
    }
    argv.insert(argv.begin() + 1, "--check-options");
    auto checked = run_to_completion(argv, user);
    if (!checked) {
        print_error(checked.error().message());
        return kExitFailure;
    }
    if (checked->code != 0) return kExitUsage;
    return std::nullopt;
}

}  // namespace

Result<Target> resolve_target(const RunOptions& options) {
    if (!options.command.empty()) {
        const std::string& argv0 = options.command.front();
        std::string base = argv0.substr(argv0.rfind('/') + 1);
        std::string label;
        for (char c : base) label += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') ? c : '_';
        return Target{label.empty() ? "command" : label, "", options.command};
    }
    std::vector<std::string> args = options.workload_and_args;
    std::string name = args.empty() ? default_workload() : args.front();
    if (!find_workload(name))
        return Error{"unknown workload '" + name + "'; bundled workloads: " + workload_names() +
                     " (or trace any command with: cxtrace run -- COMMAND [ARGS...])"};
    auto path = workload_path(name);
    if (!path) return path.error();
    std::vector<std::string> argv{*path};
    if (!args.empty()) argv.insert(argv.end(), args.begin() + 1, args.end());
    return Target{name, name, argv};
}

TracedSession::TracedSession(RunOptions options, std::optional<InvokingUser> user, Target target, OutputDir dir)
    : options_(std::move(options)), user_(std::move(user)), target_(std::move(target)), dir_(std::move(dir)) {}

TracedSession::~TracedSession() = default;

std::variant<std::unique_ptr<TracedSession>, int> TracedSession::prepare(const RunOptions& options,
                                                                          const std::optional<InvokingUser>& user) {
    if (options.as_root)
        if (Status allowed = check_may_run_command_as_root(user); !allowed) {
            print_error(allowed.error().message());
            return kExitUsage;
        }
    auto target = resolve_target(options);
    if (!target) {
        print_error(target.error().what);
        // A bundled workload missing from the installation is not a usage error.
        return target.error().err == ENOENT ? kExitCommandNotFound : kExitUsage;
    }
    if (Status exists = check_command_exists(target->argv.front()); !exists) {
        print_error(exists.error().what);
        return exists.error().err == EACCES ? kExitCannotExecute : kExitCommandNotFound;
    }
    if (!target->workload.empty())
        if (auto status = check_workload_options(*target, user)) return *status;
    Status ready = [&]() -> Status {
        auto privileged = PrivilegedScope::enter(user);
        return privileged ? check_tracing_prerequisites() : privileged.error();
    }();
    if (!ready) {
        print_error(ready.error().message());
        return kExitFailure;
    }
    // Before anything is attached: the directory exists and takes files,
    // with the rights they will be written with.
    auto dir = OutputDir::for_run(options.output_dir, target->label);
    if (!dir) {
        print_error(output_error(dir.error(), user));
        return kExitFailure;
    }
    if (const auto& kept = dir->kept_unfinished_trace())
        print_error(dir->trace_path() + kPartialSuffix + " was left unfinished by an earlier run (killed?): kept as " +
                    *kept);
    return std::unique_ptr<TracedSession>(new TracedSession(options, user, std::move(*target), std::move(*dir)));
}

int TracedSession::run(const SessionHooks& hooks, bool* traced) {
    if (traced) *traced = false;
    const RunOptions& options = options_;
    const std::optional<InvokingUser>& user = user_;
    const Target* target = &target_;
    OutputDir* dir = &dir_;
    // --as-root is only allowed with no user to run as: the command then runs as root.
    SpawnOptions spawn_options{user, options.leave_running};
    std::unique_ptr<OutputTee> tee;
    if (options.capture_output) {
        auto created_tee = OutputTee::create();
        if (!created_tee) {
            print_error(created_tee.error().message());
            return kExitFailure;
        }
        tee = std::move(*created_tee);
        spawn_options.stdout_fd = tee->command_stdout();
        spawn_options.stderr_fd = tee->command_stderr();
    }
    auto command = HeldCommand::spawn(target->argv, spawn_options);
    if (!command) {
        print_error(command.error().message());
        return kExitFailure;
    }

    // Every event is counted and recorded. The writer exists before the
    // command is released, so nothing the command does can precede it.
    std::optional<TraceWriter> writer;
    uint64_t events = 0;
    std::array<uint64_t, kEventKindCount> received_by_kind{};
    Status write_status;
    const auto root_pid = static_cast<uint32_t>(command->pid());
    bool root_switched_out = false;  // for the last time: nothing more will come from it
    auto sink = [&](const uint8_t* data, size_t size) {
        ++events;
        if (auto kind = raw_event_kind(data, size)) ++received_by_kind[static_cast<size_t>(*kind)];
        root_switched_out = root_switched_out || raw_is_final_switch_out(data, size, root_pid);
        if (writer && write_status) write_status = writer->append_raw(data, size);
    };
    TracerOptions tracer_options{options.ring_buffer_bytes, options.verbose, options.syscall_tracepoints};
    auto tracer = [&]() -> Result<std::unique_ptr<BpfTracer>> {
        auto privileged = PrivilegedScope::enter(user);
        if (!privileged) return privileged.error();
        auto started = BpfTracer::start(tracer_options, sink);
        if (!started) return started.error();
        if (Status tracked = (*started)->track(command->pid()); !tracked) return tracked.error();
        return std::move(*started);
    }();
    if (!tracer) {
        print_error(tracer.error().message());
        return kExitFailure;
    }

    // Attached and following: from here on no BPF or admin power is needed.
    // Under sudo cxtrace becomes the user for good.
    if (Status dropped = drop_privileges_after_attach(user); !dropped) {
        print_error(dropped.error().message());
        return kExitFailure;
    }

    TraceMeta meta;
    meta.workload = target->workload;
    meta.command = target->argv;
    meta.started_at = iso8601_now();
    meta.cpus = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
    meta.kernel = kernel_release();
    meta.root_pid = root_pid;
    meta.launcher_pid = static_cast<uint32_t>(getpid());
    meta.ring_buffer_bytes = options.ring_buffer_bytes;
    meta.from_exec = options.from_exec;
    meta.trace_start_ns = monotonic_ns();
    const std::string trace_path = dir->trace_path();
    auto created = TraceWriter::create(trace_path, meta);
    if (!created) {
        print_error(created.error().message());
        return kExitFailure;
    }
    writer.emplace(std::move(*created));
    // Started after privileges were dropped: capabilities are per thread.
    if (tee)
        if (Status started = tee->start(); !started) {
            print_error(started.error().message());
            return kExitFailure;
        }

    StopSignals stop_signals;
    if (Status released = command->release(); !released) {
        int err = released.error().err;
        print_error((err == ENOENT ? "command not found: " : "cannot execute ") + target->argv.front() + ": " +
                    std::strerror(err));
        command->wait_exit();
        unlink((trace_path + ".partial").c_str());  // the directory then goes too
        return err == ENOENT ? kExitCommandNotFound : kExitCannotExecute;
    }

    const char* hold = std::getenv(kHoldReaderVariable);
    const bool hold_reader = hold && *hold;
    if (hold_reader)
        print_error(std::string(kHoldReaderVariable) + " is set: no event is read until the command has exited");
    StatusLine status;
    ReadinessWaiter waiter;
    std::vector<int> watched_fds{command->exit_fd(), stop_signals.fd()};
    if (!hold_reader) watched_fds.push_back((*tracer)->ready_fd());
    for (int fd : watched_fds)
        if (Status watched = waiter.watch(fd); !watched) {
            print_error(watched.error().message());
            return kExitFailure;
        }
    std::optional<ExitStatus> exit;
    uint64_t exited_at = 0;
    bool interrupted = false;
    int left_running_after = 0;  // the stop signal, when the command was left running
    std::optional<std::chrono::steady_clock::time_point> stop_deadline;
    auto lost_so_far = [&] {
        uint64_t lost = 0;
        if (auto counts = (*tracer)->lost_by_kind())
            for (uint64_t n : *counts) lost += n;
        return lost;
    };
    auto flushed_at = std::chrono::steady_clock::now();
    while (!exit) {
        // Wakes on data past the wakeup threshold, the command's exit or a
        // signal; the timeout drains events submitted without a wakeup.
        waiter.wait(kDrainEveryMs);
        if (const auto now = std::chrono::steady_clock::now(); now - flushed_at >= kFlushEvery) {
            if (writer && write_status) write_status = writer->flush();  // a failure is reported with the trace's
            flushed_at = now;
        }
        if (auto drained = hold_reader ? Result<int>(0) : (*tracer)->drain(); !drained) {
            status.clear();
            print_error(drained.error().message());
            interrupted = true;
            command->signal(SIGKILL);
        }
        if (int sig = stop_signals.pending()) {
            if (options.leave_running) {
                interrupted = true;
                left_running_after = sig;
                exited_at = monotonic_ns();
                break;
            }
            if (!interrupted) {
                interrupted = true;
                command->signal(sig);  // forward, like a shell would
                stop_deadline = std::chrono::steady_clock::now() + kStopGrace;
            } else {
                command->signal(SIGKILL);  // a second Ctrl-C: stop now
            }
        }
        if (stop_deadline && std::chrono::steady_clock::now() > *stop_deadline) command->signal(SIGKILL);
        exit = command->poll_exit();
        if (exit) exited_at = monotonic_ns();
        status.update(events, lost_so_far);
    }
    // The root's final switch-out lands just after its parent is told it
    // exited; wait for it a moment (10 ms at most), taking everything
    // buffered. The trace ends at the exit (or the last event, if later).
    for (int waited_ms = 0; waited_ms < 10 && !root_switched_out; ++waited_ms) {
        usleep(1'000);
        (void)(*tracer)->drain();
    }
    // Descendants may outlive the root (background jobs, --leave-running):
    // stop the probes before the last drain, so what was submitted was read.
    (*tracer)->stop_probes();
    (void)(*tracer)->drain();
    TraceEnd end;
    end.trace_end_ns = exited_at;
    // What the kernel submitted but we never read also counts as lost.
    auto lost = (*tracer)->lost_by_kind();
    auto submitted = (*tracer)->submitted_by_kind();
    if (lost && submitted) {
        end.lost_by_kind = *lost;
        for (int kind = 1; kind < kEventKindCount; ++kind)
            if ((*submitted)[kind] > received_by_kind[kind])
                end.lost_by_kind[kind] += (*submitted)[kind] - received_by_kind[kind];
    } else {
        status.clear();
        print_error((lost ? submitted.error() : lost.error()).message() +
                    ": the report cannot prove that nothing was lost and is marked incomplete");
        end.losses_unknown = true;
    }
    if (exit) {
        end.exit_code = exit->code;
        end.exit_signal = exit->signal;
    }
    end.interrupted = interrupted;
    end.left_running = left_running_after != 0;
    if (tee) end.output = tee->finish();
    tracer->reset();  // detach before the heavy work
    status.clear();
    if (left_running_after) command->leave_running();

    if (!write_status) {
        print_error(write_status.error().message());
        return kExitFailure;
    }
    if (Status finished = writer->finish(end); !finished) {
        print_error(finished.error().message());
        return kExitFailure;
    }

    auto model = correlate_trace_file(trace_path);
    if (!model) {
        print_error(model.error().message());
        return kExitFailure;
    }
    ReportExtras extras;
    if (hooks.before_reports) extras = hooks.before_reports(*model, dir->path());
    auto reports = write_reports(*model, dir->path(), extras);
    if (!reports) {
        print_error(reports.error().message());
        return kExitFailure;
    }
    std::cout << render_text_summary(*model) << report_locations(*reports, trace_path) << std::flush;
    if (traced) *traced = true;
    if (hooks.after_reports) hooks.after_reports(*model, *reports);
    // Stopped by a signal, like a shell reports it; else the command's own status.
    return exit ? exit->shell_status() : 128 + left_running_after;
}

}  // namespace cxt
