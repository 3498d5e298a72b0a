// The traced session (traced_session.h): launch the command held, attach
// the probes, follow it, record every event to trace.cxt, then correlate
// and report. `cxtrace run` and `cxtrace lab` both run it.
#include "traced_session.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstring>
#include <cstdio>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <set>
#include <thread>
#include <variant>

#include "bpf_tracer.h"
#include "commands.h"
#include "correlator.h"
#include "held_command.h"
#include "output_tee.h"
#include "output_files.h"
#include "privileges.h"
#include "stop_signals.h"
#include "task_tree_guard.h"
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
constexpr const char* kHoldReportsVariable = "CXTRACE_TEST_HOLD_REPORTS";
// After a stop, how long the tasks the command left are killed again and
// again: one in an uninterruptible wait dies only when the wait ends.
constexpr auto kStopLeftoversFor = std::chrono::seconds(5);

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
    bool enabled() const { return enabled_; }
    // lost_so_far() reads the kernel's counters: only called when the line is
    // drawn. note: a warning shown after the figures ("" for none).
    template <typename LostFn>
    void update(uint64_t events, uint64_t trace_bytes, LostFn lost_so_far, const std::string& note) {
        if (!enabled_) return;
        auto now = std::chrono::steady_clock::now();
        if (now - last_ < kStatusEvery) return;
        uint64_t lost = lost_so_far();
        last_ = now;
        double elapsed = std::chrono::duration<double>(now - started_).count();
        std::fprintf(stderr, "\r\033[K[cxtrace] %.1f s  %llu events  %llu lost  trace %s%s%s", elapsed,
                     static_cast<unsigned long long>(events), static_cast<unsigned long long>(lost),
                     format_bytes(trace_bytes).c_str(), note.empty() ? "" : "  ", note.c_str());
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

// trace.cxt near --max-trace-size (from 80 %), and --duration's end: a note
// on the status line; without one (stderr is not a terminal), one line when
// the trace size first comes near its limit. The sink notes every size, so
// the crossing is never missed, however much one drain brings.
class LimitWarning {
public:
    LimitWarning(uint64_t max_bytes, uint64_t duration_ns) : max_bytes_(max_bytes), duration_ns_(duration_ns) {}

    void note_size(uint64_t bytes) {
        if (max_bytes_ && !near_ && bytes >= max_bytes_ / 10 * 8) {
            near_ = announce_ = true;
            near_at_ = bytes;
        }
    }
    // The line to print once, when there is no status line to show the note.
    std::optional<std::string> announcement(bool status_line) {
        if (!announce_ || status_line) return std::nullopt;
        announce_ = false;
        return "trace.cxt has reached " + format_bytes(near_at_) + " of its " + format_bytes(max_bytes_) +
               " limit (--max-trace-size): tracing stops there";
    }
    std::string status_note() const {
        std::string note;
        if (near_) note = "near its limit (--max-trace-size " + format_bytes(max_bytes_) + "): tracing stops there";
        if (duration_ns_)
            note += (note.empty() ? "" : "; ") + std::string("tracing stops at ") + format_duration_ns(duration_ns_) +
                    " (--duration)";
        return note;
    }

private:
    uint64_t max_bytes_, duration_ns_;
    bool near_ = false, announce_ = false;
    uint64_t near_at_ = 0;
};

// After the command was stopped (a signal, a limit): SIGKILL to every task
// it left, again until none is followed (kStopLeftoversFor at most), reading
// the events of their end meanwhile. The root, reaped already, is skipped:
// its bit lasts until its last switch-out, its pid no longer names it. How
// many tasks there were.
size_t stop_what_is_left(BpfTracer& tracer, pid_t root) {
    std::set<pid_t> killed;
    const auto until = std::chrono::steady_clock::now() + kStopLeftoversFor;
    while (std::chrono::steady_clock::now() < until) {
        auto pids = tracer.followed_pids();
        if (!pids) break;
        pids->erase(std::remove(pids->begin(), pids->end(), root), pids->end());
        if (pids->empty()) break;
        for (pid_t pid : *pids)
            if (pid > 1 && pid != getpid()) {
                kill(pid, SIGKILL);
                killed.insert(pid);
            }
        (void)tracer.drain();
        usleep(5'000);
    }
    return killed.size();
}

// How the command ended, for the messages of a run whose files could not
// all be written: its status is never lost with them.
std::string describe_command_end(const std::optional<ExitStatus>& exit, bool left_running, uint32_t root_pid) {
    if (left_running) return "the command was left running (pid " + std::to_string(root_pid) + ")";
    if (!exit) return "the command's exit status is not known";
    if (exit->code) return "the command exited with status " + std::to_string(*exit->code);
    return "the command was killed by " + signal_name(exit->signal.value_or(0)) + " (status " +
           std::to_string(exit->shell_status()) + ")";
}

// A stop signal once the tracing has ended (the command ended, was stopped
// or left running) changes nothing the run's files will say: the first one
// is answered at once, and trace.cxt and the reports are finished; the exit
// status stays the one the reports give. A second one stops cxtrace at once,
// by that signal: report files not yet whole are removed, trace.cxt is kept
// (complete, or as trace.cxt.partial if it was not finished yet).
class LateSignals {
public:
    LateSignals(StopSignals& signals, std::vector<std::string> temporaries, std::string trace_path)
        : signals_(signals), temporaries_(std::move(temporaries)), trace_path_(std::move(trace_path)) {
        if (pipe2(quit_, O_CLOEXEC) != 0) quit_[0] = quit_[1] = -1;
        else watcher_ = std::thread([this] { watch(); });
    }
    ~LateSignals() {
        if (watcher_.joinable()) {
            char quit = 0;
            ssize_t ignored = write(quit_[1], &quit, 1);
            (void)ignored;
            watcher_.join();
        }
        for (int fd : quit_)
            if (fd >= 0) close(fd);
    }
    LateSignals(const LateSignals&) = delete;
    LateSignals& operator=(const LateSignals&) = delete;

    void trace_finished() { trace_finished_ = true; }

private:
    void watch() {
        bool answered = false;
        for (;;) {
            pollfd fds[2] = {{signals_.fd(), POLLIN, 0}, {quit_[0], POLLIN, 0}};
            if (poll(fds, 2, -1) < 0) continue;
            if (fds[1].revents) return;
            const int sig = signals_.pending();
            if (!sig) continue;
            const std::string name = signal_name(sig);
            if (!answered) {
                answered = true;
                print_error(name + " after the tracing ended: cxtrace finishes " + trace_path_ + " and the reports first (" +
                            name + " again stops at once)");
                continue;
            }
            for (const std::string& temporary : temporaries_) unlink(temporary.c_str());
            print_error(trace_finished_ ? "stopped (" + name + ") before the reports were all written; " + trace_path_ +
                                              " is complete: `cxtrace report " + trace_path_ + "` writes them"
                                        : "stopped (" + name + ") before " + trace_path_ + " was finished: its events are "
                                              "kept in " + trace_path_ + kPartialSuffix +
                                              " (`cxtrace report` salvages them)");
            std::signal(sig, SIG_DFL);
            sigset_t just_this;
            sigemptyset(&just_this);
            sigaddset(&just_this, sig);
            pthread_sigmask(SIG_UNBLOCK, &just_this, nullptr);
            raise(sig);
            _exit(128 + sig);  // not reached: the default action ends the process
        }
    }

    StopSignals& signals_;
    std::vector<std::string> temporaries_;
    std::string trace_path_;
    std::atomic<bool> trace_finished_{false};
    int quit_[2] = {-1, -1};
    std::thread watcher_;
};

// Test-only switch (README, Tests): when set to a path, cxtrace waits before
// the reports until that path exists, so a test can send a signal while
// they are being written without racing them.
void hold_reports_for_tests() {
    const char* path = std::getenv(kHoldReportsVariable);
    if (!path || !*path) return;
    print_error(std::string(kHoldReportsVariable) + " is set: the reports wait until " + path + " exists");
    while (access(path, F_OK) != 0) usleep(10'000);
}

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
    // From here to the end a stop signal is read, never acted on by default:
    // what it does depends on how far the run got.
    StopSignals stop_signals;
    auto interrupted_before_tracing = [&](const char* when) -> std::optional<int> {
        const int sig = stop_signals.pending();
        if (!sig) return std::nullopt;
        print_error("interrupted (" + signal_name(sig) + ") " + when + ": nothing was traced");
        return 128 + sig;
    };
    if (auto status = interrupted_before_tracing("before the command started")) return *status;
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

    // Every event is counted and recorded until a limit is reached. The
    // writer exists before the command is released, so nothing the command
    // does can precede it.
    std::optional<TraceWriter> writer;
    uint64_t events = 0;
    std::array<uint64_t, kEventKindCount> received_by_kind{};
    Status write_status;
    std::optional<TraceLimit> limit;  // the limit that ended the recording
    uint64_t limit_end_ns = 0;        // the trace ends there
    LimitWarning limit_warning(options.max_trace_bytes, options.duration_ns);
    const auto root_pid = static_cast<uint32_t>(command->pid());
    bool root_switched_out = false;  // for the last time: nothing more will come from it
    auto sink = [&](const uint8_t* data, size_t size) {
        ++events;
        if (auto kind = raw_event_kind(data, size)) ++received_by_kind[static_cast<size_t>(*kind)];
        root_switched_out = root_switched_out || raw_is_final_switch_out(data, size, root_pid);
        if (!writer || !write_status || limit) return;
        const auto stored = raw_event_size(data, size);
        if (options.max_trace_bytes &&
            writer->bytes_written() + TraceWriter::record_bytes(stored ? stored.value() : size) > options.max_trace_bytes) {
            // The last event that fit ends the trace.
            limit = TraceLimit{TraceLimitKind::MaxTraceSize, options.max_trace_bytes};
            return;
        }
        write_status = writer->append_raw(data, size);
        if (!write_status) return;
        limit_warning.note_size(writer->bytes_written());
        if (auto ts = raw_event_timestamp(data, size)) limit_end_ns = std::max(limit_end_ns, *ts);
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
    if (auto status = interrupted_before_tracing("while the probes were loaded")) return *status;

    // Attached and following: from here on no BPF or admin power is needed.
    // Under sudo cxtrace becomes the user for good.
    if (Status dropped = drop_privileges_after_attach(user); !dropped) {
        print_error(dropped.error().message());
        return kExitFailure;
    }
    // If cxtrace dies now, every task of the command dies with it
    // (task_tree_guard.h). Forked while cxtrace has no other thread.
    std::optional<TaskTreeGuard> guard;
    if (!options.leave_running) {
        const BpfTracer* followed = tracer->get();
        auto started = TaskTreeGuard::start(followed->descriptors_that_keep_following(),
                                            [followed] { return followed->signal_followed_tasks(SIGKILL); });
        if (!started) {
            print_error(started.error().message());
            return kExitFailure;
        }
        guard.emplace(std::move(*started));
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
    limit_end_ns = meta.trace_start_ns;
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

    if (Status released = command->release(); !released) {
        int err = released.error().err;
        print_error((err == ENOENT ? "command not found: " : "cannot execute ") + target->argv.front() + ": " +
                    std::strerror(err));
        command->wait_exit();
        unlink((trace_path + kPartialSuffix).c_str());  // the directory then goes too
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
    bool left_running_at_limit = false;
    std::optional<std::chrono::steady_clock::time_point> stop_deadline;
    auto lost_so_far = [&] {
        uint64_t lost = 0;
        if (auto counts = (*tracer)->lost_by_kind())
            for (uint64_t n : *counts) lost += n;
        return lost;
    };
    std::optional<Result<std::array<uint64_t, kEventKindCount>>> lost_at_limit;
    const uint64_t duration_end_ns = options.duration_ns ? meta.trace_start_ns + options.duration_ns : 0;
    bool told_write_failure = false;
    auto flushed_at = std::chrono::steady_clock::now();
    while (!exit) {
        // Wakes on data past the wakeup threshold, the command's exit or a
        // signal (or at --duration's end); the timeout drains events
        // submitted without a wakeup.
        int timeout_ms = kDrainEveryMs;
        if (duration_end_ns && !limit) {
            const uint64_t now = monotonic_ns();
            timeout_ms = now >= duration_end_ns
                             ? 0
                             : static_cast<int>(std::min<uint64_t>(kDrainEveryMs, (duration_end_ns - now + 999'999) / 1'000'000));
        }
        waiter.wait(timeout_ms);
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
        if (auto line = limit_warning.announcement(status.enabled())) print_error(*line);
        if (!write_status && !told_write_failure) {
            told_write_failure = true;
            status.clear();
            print_error(write_status.error().message() + ": nothing more is recorded; the command runs on until it "
                                                          "ends (Ctrl-C stops it)");
        }
        if (duration_end_ns && !limit && monotonic_ns() >= duration_end_ns) {
            // What was submitted until now belongs in the trace: read it first.
            if (!hold_reader) (void)(*tracer)->drain();
            if (!limit) {
                limit = TraceLimit{TraceLimitKind::Duration, options.duration_ns};
                limit_end_ns = std::max(limit_end_ns, monotonic_ns());
            }
        }
        if (limit && !lost_at_limit) {
            // Losses from here on are of events the trace would not hold anyway.
            lost_at_limit = (*tracer)->lost_by_kind();
            status.clear();
            const std::string reached =
                limit->kind == TraceLimitKind::MaxTraceSize
                    ? trace_path + " reached its size limit (--max-trace-size " + format_bytes(limit->value) + ")"
                    : "the time limit was reached (--duration " + format_duration_ns(limit->value) + ")";
            if (options.leave_running) {
                print_error(reached + ": tracing stopped; the command is left running (pid " +
                            std::to_string(command->pid()) + ")");
                left_running_at_limit = true;
                break;
            }
            print_error(reached + ": tracing stopped; stopping the command (SIGTERM, SIGKILL after " +
                        std::to_string(std::chrono::duration_cast<std::chrono::seconds>(kStopGrace).count()) + " s)");
            command->signal(SIGTERM);
            stop_deadline = std::chrono::steady_clock::now() + kStopGrace;
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
        status.update(events, writer ? writer->bytes_written() : 0, lost_so_far,
                      limit ? "" : limit_warning.status_note());
    }
    status.clear();
    LateSignals late_signals(stop_signals, report_temporaries(dir->path()), trace_path);
    // Stopped (a signal, a limit, a failed read): what the command left
    // behind is stopped too, not left running untraced. Still followed
    // meanwhile, so the trace shows how each ended.
    if (!options.leave_running && (interrupted || limit)) {
        const size_t stopped = stop_what_is_left(**tracer, static_cast<pid_t>(root_pid));
        if (stopped > 0)
            print_error("stopped the " + counted(stopped, "task", "tasks") + " the command left running (SIGKILL)");
    }
    // The root's final switch-out lands just after its parent is told it
    // exited; wait for it a moment (10 ms at most), taking everything
    // buffered. The trace ends at the exit (or the last event, if later).
    for (int waited_ms = 0; waited_ms < 10 && exit && !limit && !root_switched_out; ++waited_ms) {
        usleep(1'000);
        (void)(*tracer)->drain();
    }
    // The command ended (or is left running): tasks it left behind may
    // outlive it, as they would a shell. The guard must go before the
    // probes, whose links it holds.
    if (guard) guard->stand_down();
    // Descendants may outlive the root (background jobs, --leave-running):
    // stop the probes before the last drain, so what was submitted was read.
    (*tracer)->stop_probes();
    (void)(*tracer)->drain();
    TraceEnd end;
    end.trace_end_ns = limit ? limit_end_ns : exited_at;
    // What the kernel submitted but we never read also counts as lost.
    auto lost = limit && lost_at_limit ? *lost_at_limit : (*tracer)->lost_by_kind();
    auto submitted = (*tracer)->submitted_by_kind();
    if (lost && submitted) {
        end.lost_by_kind = *lost;
        for (int kind = 1; kind < kEventKindCount; ++kind)
            if ((*submitted)[kind] > received_by_kind[kind])
                end.lost_by_kind[kind] += (*submitted)[kind] - received_by_kind[kind];
    } else {
        print_error((lost ? submitted.error() : lost.error()).message() +
                    ": the report cannot prove that nothing was lost and is marked incomplete");
        end.losses_unknown = true;
    }
    if (exit) {
        end.exit_code = exit->code;
        end.exit_signal = exit->signal;
    }
    end.interrupted = interrupted;
    end.left_running = left_running_after != 0 || left_running_at_limit;
    end.limit = limit;
    if (tee) end.output = tee->finish();
    tracer->reset();  // detach before the heavy work
    if (end.left_running) command->leave_running();
    const std::string command_end = describe_command_end(exit, end.left_running, root_pid);

    const std::string unfinished = trace_path + kPartialSuffix;
    if (!write_status) {
        if (!told_write_failure) print_error(write_status.error().message());
        print_error("the trace is incomplete: the whole events written before the failure are kept in " + unfinished +
                    " (`cxtrace report` salvages them); " + command_end);
        return kExitFailure;
    }
    if (Status finished = writer->finish(end); !finished) {
        print_error(finished.error().message());
        print_error("the trace is incomplete: its events are kept in " + unfinished +
                    " (`cxtrace report` salvages them); " + command_end);
        return kExitFailure;
    }

    late_signals.trace_finished();
    hold_reports_for_tests();
    auto model = correlate_trace_file(trace_path);
    if (!model) {
        print_error(model.error().message());
        print_error(command_end);
        return kExitFailure;
    }
    ReportExtras extras;
    if (hooks.before_reports) extras = hooks.before_reports(*model, dir->path());
    auto reports = write_reports(*model, dir->path(), extras);
    if (!reports) {
        print_error(output_error(reports.error(), user) + "; " + trace_path +
                    " is complete: `cxtrace report " + trace_path + "` writes the reports once that is fixed");
        print_error(command_end);
        return kExitFailure;
    }
    std::cout << render_text_summary(*model) << report_locations(*reports, trace_path) << std::flush;
    if (traced) *traced = true;
    if (hooks.after_reports) hooks.after_reports(*model, *reports);
    if (limit) return kExitLimitReached;
    // Stopped by a signal, like a shell reports it; else the command's own status.
    return exit ? exit->shell_status() : 128 + left_running_after;
}

}  // namespace cxt
