// Lesson "lost update": threads share one address space, so they share
// every variable. T threads each add 1 to a shared balance K times. Without
// a lock, "balance = balance + 1" is a read, an add and a write: two threads
// that read the same value both write value+1, and one update is lost. With
// a std::mutex around it, no update is lost. cxtrace shows that all T
// threads are one thread group with one address space.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "workload_main.h"

namespace {

// The shared balance: a plain integer, not an atomic. volatile only makes
// the compiler really load and store it at each step (instead of adding K
// once in a register); it does not make the read-modify-write atomic.
volatile long balance = 0;
std::mutex balance_lock;

// Widens the window between the read and the write, as real code that does
// some work with the value before storing it back would.
void pause_a_little() {
    for (volatile int i = 0; i < 50; i = i + 1) {
    }
}

void add_one_without_lock() {
    long seen = balance;  // read
    pause_a_little();
    balance = seen + 1;  // write back: overwrites what others wrote since the read
}

void add_one_with_lock() {
    std::lock_guard<std::mutex> hold(balance_lock);
    long seen = balance;
    pause_a_little();
    balance = seen + 1;
}

// Lets main start every thread's phase at the same time, and wait until all
// threads have finished a phase.
class Phases {
public:
    void open(int phase) {
        {
            std::lock_guard<std::mutex> hold(mutex_);
            phase_ = phase;
            done_ = 0;
        }
        changed_.notify_all();
    }
    void wait_open(int phase) {
        std::unique_lock<std::mutex> hold(mutex_);
        changed_.wait(hold, [&] { return phase_ >= phase; });
    }
    void arrive() {
        {
            std::lock_guard<std::mutex> hold(mutex_);
            ++done_;
        }
        changed_.notify_all();
    }
    void wait_all_arrived(int count) {
        std::unique_lock<std::mutex> hold(mutex_);
        changed_.wait(hold, [&] { return done_ >= count; });
    }

private:
    std::mutex mutex_;
    std::condition_variable changed_;
    int phase_ = 0;
    int done_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"lost-update: T threads add 1 to a shared balance K times, without and then with a lock"};
    int threads = 100;
    int increments = 1000;
    app.add_option("-t,--threads", threads, "How many threads")->check(CLI::Range(1, 10000))->capture_default_str();
    app.add_option("-k,--increments", increments, "How many times each thread adds 1")
        ->check(CLI::Range(1, 10000000))
        ->capture_default_str();
    if (int status = workload::parse_options(app, argc, argv); status >= 0) return status;
    const long expected = static_cast<long>(threads) * increments;

    workload::phase("start");
    workload::say("main pid=%d: starting %d threads; each will add 1 to a shared balance %d times\n", getpid(), threads,
                  increments);
    Phases phases;
    std::vector<int> tids(static_cast<size_t>(threads));
    std::vector<int> pids(static_cast<size_t>(threads));
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&, t] {
            tids[t] = gettid();
            pids[t] = getpid();
            phases.arrive();
            phases.wait_open(1);
            for (int k = 0; k < increments; ++k) add_one_without_lock();
            phases.arrive();
            phases.wait_open(2);
            for (int k = 0; k < increments; ++k) add_one_with_lock();
        });
    }
    phases.wait_all_arrived(threads);

    bool one_process = true;
    for (int pid : pids) one_process = one_process && pid == getpid();
    std::string list;
    for (int tid : tids) list += " " + std::to_string(tid);
    workload::say("%d threads, getpid()=%d in %s; their gettid():%s\n", threads, getpid(),
                  one_process ? "every one of them" : "NOT all of them", list.c_str());

    balance = 0;
    workload::phase("without-lock");
    phases.open(1);
    phases.wait_all_arrived(threads);
    long without = balance;
    workload::say("without a lock: balance = %ld (expected %ld)", without, expected);
    if (without != expected)
        workload::say(": %ld updates lost\n", expected - without);
    else
        workload::say(": no update lost this time (the race is still there)\n");

    balance = 0;
    workload::phase("with-lock");
    phases.open(2);
    for (auto& worker : workers) worker.join();
    long with = balance;
    workload::say("with a lock: balance = %ld (expected %ld)\n", with, expected);
    return with == expected && one_process ? 0 : 1;
}
