// Lesson "IPC queue": two processes do not share memory, so they talk
// through the kernel. main fork()s a writer and a reader connected by a
// pipe; the writer sends M messages and exits; the reader prints each one,
// then blocks in read() waiting for more until main terminates it with a
// signal. cxtrace shows two address spaces, the wakeups between them, and
// the reader's exit by signal.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "workload_main.h"

namespace {

// One message: fixed size, smaller than PIPE_BUF, so each write() is atomic
// and each read() of this size returns exactly one message.
struct Message {
    int number;
    char text[60];
};

// Signals whose default action ends the process: the only ones that make
// sense for "kill the reader".
struct SignalName {
    const char* name;
    int number;
};
constexpr SignalName kSignals[] = {
    {"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT},     {"ILL", SIGILL},   {"TRAP", SIGTRAP},
    {"ABRT", SIGABRT}, {"BUS", SIGBUS},   {"FPE", SIGFPE},       {"KILL", SIGKILL}, {"USR1", SIGUSR1},
    {"SEGV", SIGSEGV}, {"USR2", SIGUSR2}, {"PIPE", SIGPIPE},     {"ALRM", SIGALRM}, {"TERM", SIGTERM},
    {"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF}, {"SYS", SIGSYS},
};

// "TERM", "SIGTERM", "term" or "15" -> 15; 0 if not a terminating signal.
int parse_signal(const std::string& text) {
    std::string upper;
    for (char c : text) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (upper.rfind("SIG", 0) == 0) upper = upper.substr(3);
    bool numeric = !upper.empty() && upper.find_first_not_of("0123456789") == std::string::npos;
    int number = numeric && upper.size() < 4 ? std::atoi(upper.c_str()) : 0;
    for (const SignalName& s : kSignals)
        if (upper == s.name || number == s.number) return s.number;
    return 0;
}

bool write_all(int fd, const void* data, size_t size) {
    const char* p = static_cast<const char*>(data);
    while (size > 0) {
        ssize_t n = write(fd, p, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        p += n;
        size -= static_cast<size_t>(n);
    }
    return true;
}

// Returns false at end of file or on error.
bool read_all(int fd, void* data, size_t size) {
    char* p = static_cast<char*>(data);
    while (size > 0) {
        ssize_t n = read(fd, p, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        p += n;
        size -= static_cast<size_t>(n);
    }
    return true;
}

void sleep_ms(int ms) {
    timespec ts{ms / 1000, (ms % 1000) * 1'000'000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

[[noreturn]] void run_writer(int data_fd, int messages, int interval_ms) {
    for (int k = 1; k <= messages; ++k) {
        Message message{};
        message.number = k;
        std::snprintf(message.text, sizeof message.text, "message %d from pid %d", k, getpid());
        if (!write_all(data_fd, &message, sizeof message)) {
            std::perror("writer: write");
            _exit(1);
        }
        workload::say("writer pid=%d sent message %d\n", getpid(), k);
        if (k < messages) sleep_ms(interval_ms);
    }
    workload::say("writer pid=%d: all %d messages sent, exiting\n", getpid(), messages);
    _exit(0);
}

// Reads messages forever: once the writer is gone, main still holds the
// pipe's write end open, so the reader never sees end-of-file; it blocks in
// read() until a signal ends it. Each message is acknowledged on ack_fd
// after it is printed, so main knows when all were received.
[[noreturn]] void run_reader(int data_fd, int ack_fd) {
    Message message;
    while (read_all(data_fd, &message, sizeof message)) {
        message.text[sizeof message.text - 1] = '\0';
        workload::say("reader pid=%d got message %d (\"%s\")\n", getpid(), message.number, message.text);
        char ack = 'a';
        if (!write_all(ack_fd, &ack, 1)) _exit(1);
    }
    workload::say("reader pid=%d: end of file\n", getpid());
    _exit(0);
}

// State letter of a process from /proc/PID/stat ('S' = sleeping), or '?'.
char process_state(pid_t pid) {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE* f = std::fopen(path, "r");
    if (!f) return '?';
    char buf[512];
    size_t n = std::fread(buf, 1, sizeof buf - 1, f);
    std::fclose(f);
    buf[n] = '\0';
    const char* close_paren = std::strrchr(buf, ')');
    return close_paren && close_paren[1] == ' ' ? close_paren[2] : '?';
}

std::string describe(int status) {
    char buf[128];
    if (WIFSIGNALED(status))
        std::snprintf(buf, sizeof buf, "was killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
    else if (WIFEXITED(status))
        std::snprintf(buf, sizeof buf, "exited with code %d", WEXITSTATUS(status));
    else
        std::snprintf(buf, sizeof buf, "ended with status 0x%x", status);
    return buf;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{
        "ipc-queue: a writer process sends messages to a reader process through a pipe; "
        "then the reader is killed by a signal"};
    int messages = 20;
    int interval_ms = 5;
    std::string signal_text = "TERM";
    app.add_option("-n,--messages", messages, "How many messages the writer sends")
        ->check(CLI::Range(1, 100000))
        ->capture_default_str();
    app.add_option("--interval-ms", interval_ms, "Pause between two messages, in milliseconds")
        ->check(CLI::Range(0, 10000))
        ->capture_default_str();
    app.add_option("--signal", signal_text, "Signal that ends the reader (name like TERM/SIGKILL, or a number)")
        ->check(CLI::Validator(
            [](std::string& value) {
                return parse_signal(value) ? std::string() : "not a signal that ends a process: " + value;
            },
            "SIGNAL"))
        ->capture_default_str();
    if (int status = workload::parse_options(app, argc, argv); status >= 0) return status;
    const int signal_number = parse_signal(signal_text);

    workload::phase("messages");
    workload::say("main pid=%d: creating a pipe, a writer process and a reader process\n", getpid());
    int data_pipe[2], ack_pipe[2];
    if (pipe(data_pipe) != 0 || pipe(ack_pipe) != 0) {
        std::perror("pipe");
        return 1;
    }

    std::fflush(stdout);
    pid_t reader = fork();
    if (reader < 0) {
        std::perror("fork");
        return 1;
    }
    if (reader == 0) {
        close(data_pipe[1]);
        close(ack_pipe[0]);
        run_reader(data_pipe[0], ack_pipe[1]);
    }
    close(ack_pipe[1]);
    close(data_pipe[0]);
    workload::say("main pid=%d: started reader pid=%d\n", getpid(), reader);

    pid_t writer = fork();  // workload::say flushed stdout
    if (writer < 0) {
        std::perror("fork");
        kill(reader, SIGKILL);
        return 1;
    }
    if (writer == 0) {
        close(ack_pipe[0]);
        run_writer(data_pipe[1], messages, interval_ms);
    }
    // main keeps data_pipe[1] open: the reader will not get end-of-file.
    workload::say("main pid=%d: started writer pid=%d\n", getpid(), writer);

    int writer_status = 0;
    waitpid(writer, &writer_status, 0);
    workload::say("main: writer pid=%d %s\n", writer, describe(writer_status).c_str());

    int received = 0;
    char ack;
    while (received < messages && read_all(ack_pipe[0], &ack, 1)) ++received;
    if (received < messages) workload::say("main: the reader acknowledged only %d messages\n", received);

    // Wait (at most 2 s) until the reader sleeps again, i.e. blocks in read().
    for (int i = 0; i < 2000 && process_state(reader) != 'S'; ++i) sleep_ms(1);
    workload::phase("terminate");
    workload::say("main: reader pid=%d got all %d messages and is blocked in read(); sending SIG%s\n", reader, received,
                  sigabbrev_np(signal_number));
    kill(reader, signal_number);

    int reader_status = 0;
    waitpid(reader, &reader_status, 0);
    workload::say("main: reader pid=%d %s\n", reader, describe(reader_status).c_str());
    close(data_pipe[1]);
    close(ack_pipe[0]);
    bool as_expected = WIFEXITED(writer_status) && WEXITSTATUS(writer_status) == 0 && WIFSIGNALED(reader_status) &&
                       WTERMSIG(reader_status) == signal_number && received == messages;
    return as_expected ? 0 : 1;
}
