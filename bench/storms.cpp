// Load generators for bench/run: each creates one kind of kernel activity
// as fast as it can, so tracer overheads can be compared on the same work.
//   storms fork N       N x (fork, child exits at once, wait)
//   storms thread N     N x (std::thread that returns at once, join)
//   storms switch N     two processes ping-pong one byte over pipes N times
//   storms switch-for S the same for S seconds (tests/soak/switch-storm-soak)
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

static int fork_storm(long n) {
    for (long i = 0; i < n; ++i) {
        pid_t pid = fork();
        if (pid < 0) return perror("fork"), 1;
        if (pid == 0) _exit(0);
        waitpid(pid, nullptr, 0);
    }
    return 0;
}

static int thread_storm(long n) {
    for (long i = 0; i < n; ++i) std::thread([] {}).join();
    return 0;
}

// n round trips, or (n < 0) round trips until -n seconds have passed: the
// parent then closes its end, which the child reads as the end.
static int switch_storm(long n) {
    int ping[2], pong[2];
    if (pipe(ping) || pipe(pong)) return perror("pipe"), 1;
    pid_t pid = fork();
    if (pid < 0) return perror("fork"), 1;
    char byte = 0;
    if (pid == 0) {
        close(ping[1]);
        for (;;) {
            ssize_t got = read(ping[0], &byte, 1);
            if (got == 0) _exit(0);  // the parent is done
            if (got != 1 || write(pong[1], &byte, 1) != 1) _exit(1);
        }
    }
    close(ping[0]);
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(n < 0 ? -n : 0);
    for (long i = 0; n < 0 || i < n; ++i) {
        // The clock every 1024 round trips: reading it costs next to nothing then.
        if (n < 0 && i % 1024 == 0 && std::chrono::steady_clock::now() >= until) break;
        if (write(ping[1], &byte, 1) != 1 || read(pong[0], &byte, 1) != 1) return 1;
    }
    close(ping[1]);
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

int main(int argc, char** argv) {
    if (argc != 3) return std::fprintf(stderr, "usage: storms fork|thread|switch N, or storms switch-for SECONDS\n"), 2;
    long n = std::strtol(argv[2], nullptr, 10);
    if (n <= 0) return std::fprintf(stderr, "storms: N must be positive\n"), 2;
    if (!std::strcmp(argv[1], "fork")) return fork_storm(n);
    if (!std::strcmp(argv[1], "thread")) return thread_storm(n);
    if (!std::strcmp(argv[1], "switch")) return switch_storm(n);
    if (!std::strcmp(argv[1], "switch-for")) return switch_storm(-n);
    return std::fprintf(stderr, "storms: unknown storm %s\n", argv[1]), 2;
}
