// Lesson "creation cost": create N processes with fork(), then N threads
// with std::thread, one at a time; each new task prints who it is and exits
// at once. cxtrace measures, in the kernel, how long each took to run.
#include <sys/wait.h>
#include <unistd.h>

#include "workload_main.h"
#include <chrono>
#include <cstdio>
#include <thread>

namespace {

double elapsed_ms(std::chrono::steady_clock::time_point since) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - since).count();
}

// Returns the wall time the creations took, or -1 if a fork failed.
double create_processes(int count) {
    auto start = std::chrono::steady_clock::now();
    for (int i = 1; i <= count; ++i) {
        std::fflush(stdout);  // the child must not inherit unwritten output
        pid_t pid = fork();
        if (pid < 0) {
            std::perror("fork");
            return -1;
        }
        if (pid == 0) {
            std::printf("  process %d: getpid()=%d getppid()=%d\n", i, getpid(), getppid());
            std::fflush(stdout);
            _exit(0);
        }
        waitpid(pid, nullptr, 0);
    }
    return elapsed_ms(start);
}

double create_threads(int count) {
    auto start = std::chrono::steady_clock::now();
    for (int i = 1; i <= count; ++i) {
        std::thread worker([i] {
            std::printf("  thread %d: gettid()=%d getpid()=%d\n", i, gettid(), getpid());
            std::fflush(stdout);
        });
        worker.join();
    }
    return elapsed_ms(start);
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"process-vs-thread: create N processes, then N threads, one at a time"};
    int count = 20;
    app.add_option("-n,--count", count, "How many processes and how many threads to create")
        ->check(CLI::Range(1, 100000))
        ->capture_default_str();
    if (int status = workload::parse_options(app, argc, argv); status >= 0) return status;

    std::printf("main: getpid()=%d gettid()=%d\n", getpid(), gettid());
    workload::phase("processes");
    std::printf("creating %d processes with fork(), one at a time:\n", count);
    double process_ms = create_processes(count);
    if (process_ms < 0) return 1;
    workload::phase("threads");
    std::printf("creating %d threads with std::thread, one at a time:\n", count);
    double thread_ms = create_threads(count);
    std::printf("%d processes took %.2f ms, %d threads took %.2f ms (wall time seen by this program)\n", count,
                process_ms, count, thread_ms);
    return 0;
}
