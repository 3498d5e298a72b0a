// Lesson "ping-pong counters": a global counter starts at 0. Two processes
// (fork) each count to N on it: each has its own copy, so each counts all
// the way, 2N lines. Then two threads count to N together on the one
// counter they share, taking turns under a mutex: N lines. cxtrace's mm ids
// say why: the processes have two address spaces, the threads share main's.
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

#include "workload_main.h"

int counter = 0;  // the global both pairs count on

namespace {

[[noreturn]] void count_in_process(int n) {
    for (int k = 1; k <= n; ++k) {
        ++counter;
        workload::say("  process pid=%d: counter=%d\n", getpid(), counter);
        std::this_thread::sleep_for(std::chrono::microseconds(500));  // let the other one have a turn
    }
    _exit(0);
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"ping-pong: two processes count on their own copies; two threads share one counter"};
    int n = 10;
    app.add_option("-n,--count", n, "Count to this")->check(CLI::Range(1, 100000))->capture_default_str();
    if (int status = workload::parse_options(app, argc, argv); status >= 0) return status;

    workload::say("main: getpid()=%d gettid()=%d, counter = %d\n", getpid(), gettid(), counter);
    workload::phase("processes");
    workload::say("two processes (fork) each count to %d:\n", n);
    pid_t children[2];
    for (pid_t& child : children) {
        child = fork();
        if (child < 0) {
            std::perror("fork");
            return 1;
        }
        if (child == 0) count_in_process(n);
    }
    for (pid_t child : children) {
        int status = 0;
        if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            std::fprintf(stderr, "child process %d failed\n", child);
            return 1;
        }
    }
    workload::say("main: counter = %d (each process counted on its own copy: %d lines)\n", counter, 2 * n);

    workload::phase("threads");
    workload::say("two threads count to %d together on the counter they share:\n", n);
    std::mutex mutex;
    std::condition_variable turn_changed;
    auto count_in_thread = [&](int parity) {
        std::unique_lock<std::mutex> lock(mutex);
        for (;;) {
            // Ping-pong: thread 0 takes the odd numbers, thread 1 the even ones.
            turn_changed.wait(lock, [&] { return counter >= n || counter % 2 == parity; });
            if (counter >= n) break;
            ++counter;
            workload::say("  thread tid=%d: counter=%d\n", gettid(), counter);
            turn_changed.notify_all();
        }
        turn_changed.notify_all();
    };
    std::thread ping(count_in_thread, 0);
    std::thread pong(count_in_thread, 1);
    ping.join();
    pong.join();
    workload::say("main: counter = %d (both threads counted on the same one: %d lines)\n", counter, n);
    return 0;
}
