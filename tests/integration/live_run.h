// Runs the real cxtrace binary and collects what it printed.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

// Live tests need root to load BPF programs; without it they say so and
// stop (Catch2 v2 has no skip).
#define REQUIRE_ROOT()                                                          \
    do {                                                                        \
        if (!live::is_root()) {                                                 \
            WARN("skipped: live tracing needs root (run the tests with sudo)"); \
            return;                                                             \
        }                                                                       \
    } while (0)

namespace live {

struct Outcome {
    int status = -1;  // exit status, or 128 + signal
    std::string out;
    std::string err;
};

// Runs argv (argv[0] a path) to completion, capturing stdout and stderr.
Outcome run(const std::vector<std::string>& argv);
// cxtrace with these arguments.
Outcome cxtrace(const std::vector<std::string>& args);

// A fresh directory under /tmp, removed with its contents on destruction,
// unless an assertion failed while it existed: then it is kept (its path
// goes to stderr), so a rare failure leaves its trace and reports to read.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::string& path() const { return path_; }
    std::string operator/(const std::string& name) const { return path_ + "/" + name; }

private:
    std::string path_;
    uint64_t failures_before_;
};

// Shell text that waits until `path` exists, as long as the process $pid
// lives: a test signals cxtrace only once the command it traces is running
// (it creates the file), however long loading the probes took.
std::string shell_wait_for_file(const std::string& path);
// Polls `done` until it holds or `limit` has passed; whether it held.
bool eventually(const std::function<bool()>& done, std::chrono::seconds limit);

// A program started in the background, its output going to files, so a
// test can signal it while it runs; killed (SIGKILL) and waited for unless
// the test waited for it.
class Started {
public:
    explicit Started(const std::vector<std::string>& argv);
    ~Started();
    Started(const Started&) = delete;
    Started& operator=(const Started&) = delete;
    pid_t pid() const { return pid_; }
    // Waits for it to end: its status (128 + signal when killed) and output.
    Outcome wait();
    // What it wrote to stderr so far (after wait(): all of it, and what any
    // process that kept its stderr wrote since).
    std::string err_so_far() const;

private:
    TempDir files_;
    pid_t pid_ = -1;
    bool waited_ = false;
};

// The pids of the processes whose command line is exactly argv (as
// /proc/PID/cmdline gives it; a zombie has none).
std::vector<long> processes_running(const std::vector<std::string>& argv);

bool is_root();
bool file_exists(const std::string& path);
long owner_uid(const std::string& path);  // -1 if missing
std::string read_file(const std::string& path);
nlohmann::json read_json(const std::string& path);
// Every task of a report.json with this pid (a reused pid gives several).
std::vector<const nlohmann::json*> tasks_with_pid(const nlohmann::json& report, long pid);

}  // namespace live
