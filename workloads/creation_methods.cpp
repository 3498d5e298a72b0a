// Lesson "creation methods": the ways a Linux program can create a task,
// side by side. Each method creates N tasks, one at a time; each new task
// ends at once (or runs /bin/true). The creator prints the pid the kernel
// returned (a thread prints its own gettid()), then the wall time each method
// took as seen by this program. cxtrace shows, from the kernel, what each
// method really asked for: a new address space (fork), a borrowed one until
// exec (vfork, posix_spawn), a shared one (clone with CLONE_VM, threads).
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "workload_main.h"

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;

const char* const kTrue = "/bin/true";

// One creation: the pid the kernel gave and the two wall times seen here.
struct Created {
    pid_t pid = -1;
    double call_ms = 0;   // until the creating call returned in this program
    double total_ms = 0;  // until the new task had finished and was waited for / joined
};

double ms_between(Clock::time_point from, Clock::time_point to) {
    return std::chrono::duration<double, std::milli>(to - from).count();
}

// Waits for a child process; false (and a message) unless it exited with 0.
bool reap(pid_t pid, const char* what) {
    int status = 0;
    if (waitpid(pid, &status, 0) != pid) {
        std::perror("waitpid");
        return false;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        std::fprintf(stderr, "%s child %d did not exit with status 0 (wait status %#x)\n", what, pid, status);
        return false;
    }
    return true;
}

bool by_fork(Created& c) {
    auto start = Clock::now();
    pid_t pid = fork();
    if (pid < 0) return std::perror("fork"), false;
    if (pid == 0) _exit(0);  // the child: a full copy of this program, ends at once
    auto returned = Clock::now();
    if (!reap(pid, "fork")) return false;
    c = {pid, ms_between(start, returned), ms_between(start, Clock::now())};
    return true;
}

bool by_vfork(Created& c) {
    auto start = Clock::now();
    pid_t pid = vfork();
    if (pid < 0) return std::perror("vfork"), false;
    if (pid == 0) _exit(0);  // borrows our memory: _exit() is all it may do
    auto returned = Clock::now();  // we were suspended until the child's _exit
    if (!reap(pid, "vfork")) return false;
    c = {pid, ms_between(start, returned), ms_between(start, Clock::now())};
    return true;
}

bool by_vfork_exec(Created& c) {
    auto start = Clock::now();
    pid_t pid = vfork();
    if (pid < 0) return std::perror("vfork"), false;
    if (pid == 0) {
        execl(kTrue, "true", static_cast<char*>(nullptr));  // gets its own memory here
        _exit(127);
    }
    auto returned = Clock::now();  // we were suspended until the child's exec
    if (!reap(pid, "vfork+exec")) return false;
    c = {pid, ms_between(start, returned), ms_between(start, Clock::now())};
    return true;
}

bool by_posix_spawn(Created& c) {
    char arg0[] = "true";
    char* argv[] = {arg0, nullptr};
    auto start = Clock::now();
    pid_t pid = -1;
    int rc = posix_spawn(&pid, kTrue, nullptr, nullptr, argv, environ);
    if (rc != 0) {
        std::fprintf(stderr, "posix_spawn %s: %s\n", kTrue, std::strerror(rc));
        return false;
    }
    auto returned = Clock::now();
    if (!reap(pid, "posix_spawn")) return false;
    c = {pid, ms_between(start, returned), ms_between(start, Clock::now())};
    return true;
}

// Written by the clone(CLONE_VM) children: they share this program's memory.
volatile int written_by_clone_child = 0;

int clone_child(void* arg) {
    written_by_clone_child = *static_cast<int*>(arg);  // no stdio, no errno: just memory
    return 0;                                          // the glibc wrapper calls exit(2)
}

bool by_clone_vm(Created& c, int number, void* stack_top) {
    auto start = Clock::now();
    pid_t pid = clone(clone_child, stack_top, CLONE_VM | SIGCHLD, &number);
    if (pid < 0) return std::perror("clone"), false;
    auto returned = Clock::now();
    if (!reap(pid, "clone(CLONE_VM)")) return false;
    c = {pid, ms_between(start, returned), ms_between(start, Clock::now())};
    return true;
}

bool by_fork_exec(Created& c) {
    auto start = Clock::now();
    pid_t pid = fork();
    if (pid < 0) return std::perror("fork"), false;
    if (pid == 0) {
        execl(kTrue, "true", static_cast<char*>(nullptr));
        _exit(127);
    }
    auto returned = Clock::now();
    if (!reap(pid, "fork+exec")) return false;
    c = {pid, ms_between(start, returned), ms_between(start, Clock::now())};
    return true;
}

bool by_thread(Created& c, int number) {
    auto start = Clock::now();
    std::thread worker([number] { workload::say("  std::thread #%d: pid=%d\n", number, gettid()); });
    auto returned = Clock::now();
    worker.join();
    c = {0, ms_between(start, returned), ms_between(start, Clock::now())};  // it printed its own gettid()
    return true;
}

struct Method {
    const char* key;    // as given to --methods
    const char* label;  // as printed
    const char* what;
};

const std::vector<Method> kMethods = {
    {"fork", "fork", "fork(): a child process with a copy of our memory; it _exit()s at once"},
    {"vfork", "vfork", "vfork(): the child borrows our memory, we wait until it _exit()s"},
    {"vfork-exec", "vfork+exec", "vfork() then exec /bin/true in the child: it gets its own memory at exec"},
    {"posix-spawn", "posix_spawn", "posix_spawn(/bin/true): glibc creates the child the vfork way, then execs"},
    {"clone-vm", "clone(CLONE_VM)", "clone(CLONE_VM|SIGCHLD): a process sharing our memory (not a thread)"},
    {"fork-exec", "fork+exec", "fork() then exec /bin/true in the child: a copy, then a new program"},
    {"thread", "std::thread", "std::thread: a thread in our process, sharing everything"},
};

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"creation-methods: create tasks with fork, vfork, posix_spawn, clone(CLONE_VM), fork+exec "
                 "and std::thread, one at a time"};
    int count = 5;
    std::vector<std::string> all_keys;
    for (const Method& m : kMethods) all_keys.push_back(m.key);
    std::vector<std::string> chosen = all_keys;
    app.add_option("-n,--count", count, "How many tasks to create with each method")
        ->check(CLI::Range(1, 1000))
        ->capture_default_str();
    app.add_option("--methods", chosen, "Which methods, in this order (comma-separated)")
        ->delimiter(',')
        ->check(CLI::IsMember(all_keys))
        ->capture_default_str();
    if (int status = workload::parse_options(app, argc, argv); status >= 0) return status;

    // The clone(CLONE_VM) children need a stack of their own (x86-64: it grows down).
    const size_t stack_size = 256 * 1024;
    void* stack = mmap(nullptr, stack_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) {
        std::perror("mmap");
        return 1;
    }
    void* stack_top = static_cast<char*>(stack) + stack_size;

    workload::say("main: getpid()=%d gettid()=%d\n", getpid(), gettid());
    struct Timing {
        const Method* method;
        double call_ms = 0, total_ms = 0;
    };
    std::vector<Timing> timings;
    for (const std::string& key : chosen) {
        const Method* method = nullptr;
        for (const Method& m : kMethods)
            if (key == m.key) method = &m;
        workload::phase(method->key);
        workload::say("%s, %d times:\n", method->what, count);
        Timing timing{method};
        for (int i = 1; i <= count; ++i) {
            Created c;
            bool ok = false;
            if (key == "fork") ok = by_fork(c);
            else if (key == "vfork") ok = by_vfork(c);
            else if (key == "vfork-exec") ok = by_vfork_exec(c);
            else if (key == "posix-spawn") ok = by_posix_spawn(c);
            else if (key == "clone-vm") ok = by_clone_vm(c, i, stack_top);
            else if (key == "fork-exec") ok = by_fork_exec(c);
            else if (key == "thread") ok = by_thread(c, i);
            if (!ok) return 1;
            if (key == "clone-vm")
                workload::say("  %s #%d: pid=%d (it wrote %d into our memory)\n", method->label, i, c.pid,
                              written_by_clone_child);
            else if (key != "thread")
                workload::say("  %s #%d: pid=%d\n", method->label, i, c.pid);
            timing.call_ms += c.call_ms;
            timing.total_ms += c.total_ms;
        }
        timings.push_back(timing);
    }
    munmap(stack, stack_size);

    workload::say("average wall time per task, as seen by this program (%d of each):\n", count);
    workload::say("  %-16s %14s %16s\n", "method", "call returned", "task finished");
    for (const Timing& t : timings)
        workload::say("  %-16s %11.3f ms %13.3f ms\n", t.method->label, t.call_ms / count, t.total_ms / count);
    workload::say("(the kernel's view, from the creating syscall to the new task's first run, is in the report)\n");
    return 0;
}
