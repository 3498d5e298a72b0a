// Lesson "pid vs tid": what getpid(), gettid() and getppid() really return.
// T threads, all alive at once, print in turn: they share main's getpid()
// (the thread group id) and getppid(), each has its own gettid(). Then P
// processes, all alive at once, print in turn: each has its own getpid(),
// and getppid() is main. cxtrace's TGID/PID/PPID table shows the same.
#include <sys/wait.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>
#include <vector>

#include "workload_main.h"

namespace {

// Threads print in the order they were created, while all are alive.
bool run_threads(int count) {
    std::mutex mutex;
    std::condition_variable changed;
    int turn = 1;      // which thread prints next
    bool release = false;
    std::vector<std::thread> threads;
    for (int k = 1; k <= count; ++k) {
        threads.emplace_back([&, k] {
            std::unique_lock<std::mutex> lock(mutex);
            changed.wait(lock, [&] { return turn == k; });
            workload::say("  thread %d: getpid()=%d gettid()=%d getppid()=%d\n", k, getpid(), gettid(), getppid());
            ++turn;
            changed.notify_all();
            changed.wait(lock, [&] { return release; });  // stay alive until all have printed
        });
    }
    {
        std::unique_lock<std::mutex> lock(mutex);
        changed.wait(lock, [&] { return turn == count + 1; });
        release = true;
    }
    changed.notify_all();
    for (auto& t : threads) t.join();
    return true;
}

// Processes are created one at a time: each prints, tells main so over a
// pipe, and stays alive until main closes the other pipe.
bool run_processes(int count) {
    int printed[2], release[2];
    if (pipe(printed) != 0 || pipe(release) != 0) {
        std::perror("pipe");
        return false;
    }
    std::vector<pid_t> children;
    bool ok = true;
    for (int k = 1; k <= count && ok; ++k) {
        pid_t pid = fork();
        if (pid < 0) {
            std::perror("fork");
            ok = false;
            break;
        }
        if (pid == 0) {
            close(printed[0]);
            close(release[1]);
            workload::say("  process %d: getpid()=%d getppid()=%d\n", k, getpid(), getppid());
            char byte = 1;
            if (write(printed[1], &byte, 1) != 1) _exit(1);
            while (read(release[0], &byte, 1) > 0) {
            }
            _exit(0);
        }
        children.push_back(pid);
        char byte;
        if (read(printed[0], &byte, 1) != 1) ok = false;
    }
    close(printed[0]);
    close(printed[1]);
    close(release[0]);
    close(release[1]);  // EOF: every child may end now
    for (pid_t pid : children) {
        int status = 0;
        if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) ok = false;
    }
    if (!ok) std::fprintf(stderr, "a child process failed\n");
    return ok;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"pid-vs-tid: threads print getpid()/gettid(), processes print getpid()/getppid()"};
    int threads = 3;
    int processes = 3;
    app.add_option("--threads", threads, "How many threads")->check(CLI::Range(0, 1000))->capture_default_str();
    app.add_option("--processes", processes, "How many child processes")
        ->check(CLI::Range(0, 1000))
        ->capture_default_str();
    if (int status = workload::parse_options(app, argc, argv); status >= 0) return status;

    workload::say("main: getpid()=%d gettid()=%d getppid()=%d\n", getpid(), gettid(), getppid());
    workload::phase("threads");
    workload::say("%d threads, all alive at once: same getpid(), each its own gettid():\n", threads);
    if (!run_threads(threads)) return 1;
    workload::phase("processes");
    workload::say("%d processes, all alive at once: each its own getpid(), getppid() is main:\n", processes);
    if (!run_processes(processes)) return 1;
    workload::say("getpid() is the thread group id (TGID), gettid() the task id (PID in the kernel)\n");
    return 0;
}
