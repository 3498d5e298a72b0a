// Lesson "I/O-bound": D "downloads", each simulated by sleeping (waiting for
// the network costs no CPU). Done one after the other they take the sum of
// their times; done in D processes or D threads they overlap and take about
// the longest one, even on a single CPU, because the tasks are almost always
// off-CPU, waiting. cxtrace shows the tasks asleep and the run's length.
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "workload_main.h"

namespace {

int download_ms = 200;

// One simulated download: say who runs it, then wait without using the CPU.
void download(int number, const char* where) {
    workload::say("  download %d started in %s pid=%d tid=%d (waiting %d ms)\n", number, where, getpid(), gettid(),
                  download_ms);
    timespec ts{download_ms / 1000, (download_ms % 1000) * 1'000'000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

long run_sequential(int downloads) {
    workload::phase("sequential");
    workload::say("sequential: %d downloads one after the other in main\n", downloads);
    auto start = std::chrono::steady_clock::now();
    for (int i = 1; i <= downloads; ++i) download(i, "main");
    return workload::elapsed_ms(start);
}

// Returns -1 if a fork failed.
long run_processes(int downloads) {
    workload::phase("processes");
    workload::say("processes: %d downloads, each in its own process (fork)\n", downloads);
    auto start = std::chrono::steady_clock::now();
    std::vector<pid_t> children;
    bool failed = false;
    for (int i = 1; i <= downloads; ++i) {
        std::fflush(stdout);  // the child must not inherit unwritten output
        pid_t pid = fork();
        if (pid < 0) {
            std::perror("fork");
            failed = true;
            break;
        }
        if (pid == 0) {
            download(i, "process");
            _exit(0);
        }
        children.push_back(pid);
    }
    for (pid_t pid : children) {
        int status = 0;
        waitpid(pid, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) failed = true;
    }
    long ms = workload::elapsed_ms(start);
    return failed ? -1 : ms;
}

long run_threads(int downloads) {
    workload::phase("threads");
    workload::say("threads: %d downloads, each in its own thread (std::thread)\n", downloads);
    auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> threads;
    for (int i = 1; i <= downloads; ++i) threads.emplace_back(download, i, "thread");
    for (auto& t : threads) t.join();
    return workload::elapsed_ms(start);
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"io-bound: simulated downloads (sleeps) done sequentially, in processes, and in threads"};
    int downloads = 4;
    std::string mode = "all";
    app.add_option("-d,--downloads", downloads, "How many downloads")
        ->check(CLI::Range(1, 1000))
        ->capture_default_str();
    app.add_option("--ms", download_ms, "How long one download waits, in milliseconds")
        ->check(CLI::Range(1, 60000))
        ->capture_default_str();
    app.add_option("--mode", mode, "Which way(s) to run the downloads")
        ->check(CLI::IsMember({"sequential", "processes", "threads", "all"}))
        ->capture_default_str();
    if (int status = workload::parse_options(app, argc, argv); status >= 0) return status;

    workload::say("main pid=%d: %d downloads of %d ms each (%d ms if done one after the other)\n", getpid(), downloads,
                  download_ms, downloads * download_ms);
    struct Phase {
        const char* name;
        long ms;
    };
    std::vector<Phase> phases;
    if (mode == "sequential" || mode == "all") phases.push_back({"sequential", run_sequential(downloads)});
    if (mode == "processes" || mode == "all") {
        long ms = run_processes(downloads);
        if (ms < 0) return 1;
        phases.push_back({"processes", ms});
    }
    if (mode == "threads" || mode == "all") phases.push_back({"threads", run_threads(downloads)});

    workload::say("total wall time (the downloads barely use the CPU, so overlapping them saves the waiting):\n");
    for (const Phase& phase : phases) workload::say("%s: %ld ms\n", phase.name, phase.ms);
    return 0;
}
