#include "workloads.h"

#include <unistd.h>

#include <climits>

namespace cxt {

const std::vector<WorkloadInfo>& bundled_workloads() {
    static const std::vector<WorkloadInfo> workloads = {
        {"process-vs-thread",
         "creation cost: N processes (fork) then N threads, one at a time; each exits at once"},
        {"creation-methods", "fork, vfork, posix_spawn, clone(CLONE_VM), fork+exec and std::thread side by side"},
        {"shared-globals", "a thread and a child process each set the global n=100 to 0: who sees it?"},
        {"pid-vs-tid", "threads print getpid()/gettid(), processes print getpid()/getppid()"},
        {"worker-pool", "K process workers and K thread workers consume M > K tasks"},
        {"ipc-queue", "a writer and a reader process over a pipe; the reader is killed at the end"},
        {"io-bound", "sleeping downloads: sequential, in processes, in threads"},
        {"cpu-bound", "busy workers as processes, as threads, and under one global lock"},
        {"lost-update", "100 threads add to a shared balance, without and with a lock"},
        {"ping-pong", "two processes count on their own copies; two threads share one counter"},
    };
    return workloads;
}

const char* default_workload() { return "process-vs-thread"; }

std::optional<WorkloadInfo> find_workload(const std::string& name) {
    for (const WorkloadInfo& w : bundled_workloads())
        if (name == w.name) return w;
    return std::nullopt;
}

std::string workload_path(const std::string& name) {
    char self[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    std::string dir = ".";
    if (len > 0) {
        std::string exe(self, static_cast<size_t>(len));
        dir = exe.substr(0, exe.rfind('/'));
    }
    return dir + "/workloads/" + name;
}

std::string workload_names() {
    std::string names;
    for (const WorkloadInfo& w : bundled_workloads()) names += (names.empty() ? "" : ", ") + std::string(w.name);
    return names;
}

}  // namespace cxt
