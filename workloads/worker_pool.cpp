// Lesson "worker pool": K workers consume M > K tasks, so workers are
// reused. First a pool of K processes (fork) fed task numbers over one pipe:
// each reads until end of file. Then a pool of K threads taking task numbers
// from one mutex-protected queue. Each worker prints which task it ran;
// cxtrace shows which task ran on which CPU, and when.
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "workload_main.h"

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

void work(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

// A process worker: reads task numbers (one int each, written whole, so
// reads of one int never split one) until every writer has closed the pipe.
[[noreturn]] void process_worker(int tasks_fd, int work_ms) {
    int task = 0, ran = 0;
    while (read(tasks_fd, &task, sizeof task) == static_cast<ssize_t>(sizeof task)) {
        work(work_ms);
        workload::say("  process worker pid=%d ran task %d\n", getpid(), task);
        ++ran;
    }
    workload::say("  process worker pid=%d: ran %d tasks, the pipe is empty and closed: exits\n", getpid(), ran);
    _exit(0);
}

bool process_pool(int workers, int tasks, int work_ms) {
    int pipe_fds[2];
    if (pipe(pipe_fds) != 0) {
        std::perror("pipe");
        return false;
    }
    std::vector<pid_t> pids;
    for (int k = 0; k < workers; ++k) {
        pid_t pid = fork();
        if (pid < 0) {
            std::perror("fork");
            break;
        }
        if (pid == 0) {
            close(pipe_fds[1]);  // or this worker would never see end of file
            process_worker(pipe_fds[0], work_ms);
        }
        pids.push_back(pid);
    }
    close(pipe_fds[0]);
    bool ok = static_cast<int>(pids.size()) == workers;
    for (int task = 1; task <= tasks && ok; ++task)
        if (write(pipe_fds[1], &task, sizeof task) != static_cast<ssize_t>(sizeof task)) {
            std::perror("write");
            ok = false;
        }
    close(pipe_fds[1]);  // end of file: the workers finish the queue and exit
    for (pid_t pid : pids) {
        int status = 0;
        if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) ok = false;
    }
    if (!ok) std::fprintf(stderr, "the process pool failed\n");
    return ok;
}

void thread_pool(int workers, int tasks, int work_ms) {
    std::mutex mutex;
    std::deque<int> queue;
    for (int task = 1; task <= tasks; ++task) queue.push_back(task);
    std::vector<std::thread> threads;
    for (int k = 0; k < workers; ++k)
        threads.emplace_back([&] {
            int ran = 0;
            for (;;) {
                int task;
                {
                    std::lock_guard<std::mutex> lock(mutex);
                    if (queue.empty()) break;
                    task = queue.front();
                    queue.pop_front();
                }
                work(work_ms);
                workload::say("  thread worker tid=%d ran task %d\n", gettid(), task);
                ++ran;
            }
            workload::say("  thread worker tid=%d: ran %d tasks, the queue is empty: exits\n", gettid(), ran);
        });
    for (auto& t : threads) t.join();
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"worker-pool: a pool of K worker processes, then of K worker threads, consume M > K tasks"};
    int workers = 3;
    int tasks = 12;
    int work_ms = 2;
    app.add_option("-k,--workers", workers, "Workers in each pool (K)")->check(CLI::Range(1, 1000))->capture_default_str();
    app.add_option("-m,--tasks", tasks, "Tasks for each pool (M, more than K)")
        ->check(CLI::Range(2, 100000))
        ->capture_default_str();
    app.add_option("--work-ms", work_ms, "How long each task \"works\" (sleeps), in milliseconds")
        ->check(CLI::Range(0, 1000))
        ->capture_default_str();
    // Checked while parsing, so that a bad pair exits 2 like any bad value
    // (and cxtrace's option check catches it before tracing).
    app.callback([&] {
        if (tasks <= workers)
            throw CLI::ValidationError("--tasks (" + std::to_string(tasks) + ") must be more than --workers (" +
                                       std::to_string(workers) + "), or no worker is ever reused");
    });
    if (int status = workload::parse_options(app, argc, argv); status >= 0) return status;

    workload::say("main: getpid()=%d gettid()=%d\n", getpid(), gettid());
    workload::phase("processes");
    workload::say("a pool of %d worker processes (fork) takes %d tasks from one pipe:\n", workers, tasks);
    auto start = Clock::now();
    if (!process_pool(workers, tasks, work_ms)) return 1;
    double process_ms = ms_since(start);
    workload::phase("threads");
    workload::say("a pool of %d worker threads takes %d tasks from one mutex-protected queue:\n", workers, tasks);
    start = Clock::now();
    thread_pool(workers, tasks, work_ms);
    double thread_ms = ms_since(start);
    workload::say("%d tasks of %d ms by %d workers: processes took %.1f ms, threads took %.1f ms\n", tasks, work_ms,
                  workers, process_ms, thread_ms);
    return 0;
}
