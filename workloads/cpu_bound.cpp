// Lesson "CPU-bound": N busy workers each do the same fixed amount of pure
// computation, as processes (fork), as threads (std::thread), and as threads
// that must hold one global lock while they compute (the model of an
// interpreter lock, like CPython's GIL). Processes and threads run truly in
// parallel on several CPUs; under the lock only one computes at a time, so
// the wall time is the sum. cxtrace shows how many ran on a CPU at once.
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "workload_main.h"

namespace {

using Clock = std::chrono::steady_clock;

constexpr uint64_t kChunk = 10'000;  // iterations between two clock reads while calibrating
constexpr int kSliceMs = 5;          // the lock is held for one slice of work at a time

// The work: arithmetic on a volatile accumulator, so the compiler can
// neither skip it nor fold it; each iteration really runs on the CPU.
void spin(uint64_t iterations) {
    volatile uint64_t accumulator = 0;
    for (uint64_t i = 0; i < iterations; ++i) accumulator = accumulator * 6364136223846793005ULL + i;
}

double thread_cpu_ms() {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

// Iterations per millisecond of CPU time on this machine, measured over
// ~50 ms of this thread's CPU time (not wall time: if other programs take
// the CPU meanwhile, the rate stays right and the work stays the same).
uint64_t calibrate() {
    spin(kChunk);  // warm up
    uint64_t done = 0;
    const double start = thread_cpu_ms();
    double ms = 0;
    while (ms < 50) {
        spin(kChunk);
        done += kChunk;
        ms = thread_cpu_ms() - start;
    }
    uint64_t rate = static_cast<uint64_t>(static_cast<double>(done) / ms);
    return rate > 0 ? rate : 1;
}

struct Work {
    uint64_t slices;     // how many slices each worker computes
    uint64_t per_slice;  // iterations in one slice
};

// The "interpreter lock" of the locked mode. A thread computes only while
// it holds global_lock, one slice at a time. Like CPython's GIL (forced
// switching), a thread that releases the lock while another waits for it
// does not take it back before the waiter got it: the threads take turns.
std::mutex global_lock;
std::atomic<int> lock_waiters{0};
std::atomic<uint64_t> lock_acquisitions{0};

void compute_holding_the_lock(uint64_t iterations) {
    lock_waiters.fetch_add(1);
    global_lock.lock();
    lock_waiters.fetch_sub(1);
    const uint64_t mine = lock_acquisitions.fetch_add(1) + 1;
    spin(iterations);  // only one thread computes at a time
    global_lock.unlock();
    while (lock_waiters.load() > 0 && lock_acquisitions.load() == mine) sched_yield();  // hand over
}

void worker(int number, const char* kind, const Work& work, bool locked) {
    workload::say("  worker %d (%s): pid=%d tid=%d starts on CPU %d\n", number, kind, getpid(), gettid(),
                  sched_getcpu());
    auto start = Clock::now();
    for (uint64_t s = 0; s < work.slices; ++s) {
        if (locked)
            compute_holding_the_lock(work.per_slice);
        else
            spin(work.per_slice);
    }
    // Its own CPU time (CLOCK_THREAD_CPUTIME_ID), read as the last thing before it exits: the figure
    // cxtrace's cpu_time_ns must match.
    workload::say("  worker %d (%s): pid=%d tid=%d done after %ld ms, on CPU %d, cpu_time=%.3f ms\n", number, kind,
                  getpid(), gettid(), workload::elapsed_ms(start), sched_getcpu(), thread_cpu_ms());
}

// The first field of /proc/PID/schedstat: the task's CPU time (ns) as the
// kernel counts it (se.sum_exec_runtime).
std::optional<double> final_cpu_ms(pid_t pid) {
    std::FILE* file = std::fopen(("/proc/" + std::to_string(pid) + "/schedstat").c_str(), "r");
    if (!file) return std::nullopt;
    unsigned long long ns = 0;
    const bool read = std::fscanf(file, "%llu", &ns) == 1;
    std::fclose(file);
    if (!read) return std::nullopt;
    return static_cast<double>(ns) / 1e6;
}

// Returns the wall time, or -1 if a fork failed.
long run_processes(int workers, const Work& work) {
    workload::phase("processes");
    workload::say("processes: %d workers, each in its own process (fork)\n", workers);
    auto start = Clock::now();
    std::vector<pid_t> children;
    bool failed = false;
    for (int i = 1; i <= workers; ++i) {
        std::fflush(stdout);  // the child must not inherit unwritten output
        pid_t pid = fork();
        if (pid < 0) {
            std::perror("fork");
            failed = true;
            break;
        }
        if (pid == 0) {
            worker(i, "process", work, false);
            _exit(0);
        }
        children.push_back(pid);
    }
    for (pid_t pid : children) {
        // Exited but not yet reaped, a child's /proc entry still holds the
        // kernel's final count of its CPU time, its exit included.
        siginfo_t info{};
        if (waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT) == 0) {
            if (auto cpu_ms = final_cpu_ms(pid))
                workload::say("  main: worker process pid=%d exited; the kernel counted %.3f ms of CPU for it\n", pid,
                              *cpu_ms);
        }
        int status = 0;
        waitpid(pid, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) failed = true;
    }
    long ms = workload::elapsed_ms(start);
    return failed ? -1 : ms;
}

long run_threads(int workers, const Work& work, bool locked) {
    workload::phase(locked ? "locked" : "threads");
    if (locked)
        workload::say(
            "locked: %d workers, each a thread that holds one global lock while it computes "
            "(slices of %d ms, like an interpreter lock)\n",
            workers, kSliceMs);
    else
        workload::say("threads: %d workers, each in its own thread (std::thread)\n", workers);
    auto start = Clock::now();
    std::vector<std::thread> threads;
    for (int i = 1; i <= workers; ++i)
        threads.emplace_back(worker, i, locked ? "locked thread" : "thread", std::cref(work), locked);
    for (auto& t : threads) t.join();
    return workload::elapsed_ms(start);
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"cpu-bound: busy workers as processes, as threads, and as threads under one global lock"};
    int workers = 2;
    int work_ms = 300;
    std::string mode = "all";
    app.add_option("-n,--workers", workers, "How many workers (2 = a typical CPU count)")
        ->check(CLI::Range(1, 256))
        ->capture_default_str();
    app.add_option("--work-ms", work_ms, "CPU work per worker, in milliseconds of computation on one CPU")
        ->check(CLI::Range(1, 60000))
        ->capture_default_str();
    app.add_option("--mode", mode, "Which way(s) to run the workers")
        ->check(CLI::IsMember({"processes", "threads", "locked", "all"}))
        ->capture_default_str();
    if (int status = workload::parse_options(app, argc, argv); status >= 0) return status;

    workload::phase("calibrate");
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    workload::say("main pid=%d: %d workers, each computing for about %d ms; this machine has %ld CPUs\n", getpid(),
                  workers, work_ms, cpus);
    uint64_t rate = calibrate();
    Work work;
    work.slices = static_cast<uint64_t>((work_ms + kSliceMs - 1) / kSliceMs);
    work.per_slice = rate * static_cast<uint64_t>(work_ms) / work.slices;
    workload::say("calibrated: %llu iterations per ms, so %llu iterations per worker\n",
                  static_cast<unsigned long long>(rate), static_cast<unsigned long long>(work.slices * work.per_slice));

    struct Phase {
        const char* name;
        long ms;
    };
    std::vector<Phase> phases;
    if (mode == "processes" || mode == "all") {
        long ms = run_processes(workers, work);
        if (ms < 0) return 1;
        phases.push_back({"processes", ms});
    }
    if (mode == "threads" || mode == "all") phases.push_back({"threads", run_threads(workers, work, false)});
    if (mode == "locked" || mode == "all") phases.push_back({"locked", run_threads(workers, work, true)});

    long parallel = std::min<long>(workers, cpus);
    workload::say(
        "total wall time (one worker alone: ~%d ms; %d workers: ~%ld ms if %ld run at once, ~%ld ms if "
        "one at a time):\n",
        work_ms, workers, work_ms * ((workers + parallel - 1) / parallel), parallel,
        static_cast<long>(work_ms) * workers);
    for (const Phase& phase : phases) workload::say("%s: %ld ms\n", phase.name, phase.ms);
    return 0;
}
