// Lesson "shared globals": a global int n = 100. A thread sets it to 0 and
// main sees 0: threads share one address space. Then n is 100 again, a
// child process (fork) sets it to 0 and main still sees 100: the child
// changed its own copy. cxtrace shows why: the thread runs in the creator's
// mm, the child process in a new one.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <thread>

#include "workload_main.h"

int n = 100;  // the global both tasks change

int main(int argc, char** argv) {
    CLI::App app{"shared-globals: a thread and a child process each set the global n to 0; who sees it?"};
    int value = 100;
    app.add_option("--value", value, "The global's starting value (not 0, or there is nothing to see)")
        ->check(CLI::Range(1, 1000000000))
        ->capture_default_str();
    if (int status = workload::parse_options(app, argc, argv); status >= 0) return status;

    n = value;
    workload::say("main: getpid()=%d gettid()=%d, global n = %d\n", getpid(), gettid(), n);

    workload::phase("thread");
    workload::say("a thread sets n = 0:\n");
    std::thread thread([] {
        n = 0;
        workload::say("  thread: getpid()=%d gettid()=%d, set n = %d\n", getpid(), gettid(), n);
    });
    thread.join();
    workload::say("after the thread: n = %d\n", n);

    n = value;
    workload::phase("process");
    workload::say("main sets n = %d again; a child process (fork) sets n = 0:\n", n);
    pid_t pid = fork();
    if (pid < 0) {
        std::perror("fork");
        return 1;
    }
    if (pid == 0) {
        n = 0;
        workload::say("  child process: getpid()=%d getppid()=%d, set n = %d\n", getpid(), getppid(), n);
        _exit(0);
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        std::fprintf(stderr, "the child process %d did not exit normally\n", pid);
        return 1;
    }
    workload::say("after the child process: n = %d\n", n);
    workload::say("the thread changed main's n (one address space); the child changed its own copy\n");
    return 0;
}
