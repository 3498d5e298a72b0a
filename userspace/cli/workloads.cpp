#include "workloads.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <climits>

// Where the installed workloads are, relative to the installed cxtrace's
// directory (CMake computes it from the install directories).
#ifndef CXTRACE_WORKLOADS_FROM_BINDIR
#define CXTRACE_WORKLOADS_FROM_BINDIR "../libexec/cxtrace"
#endif
#ifndef CXTRACE_LABS_FROM_BINDIR
#define CXTRACE_LABS_FROM_BINDIR "../share/cxtrace/labs"
#endif

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

namespace {

// The directory of the running executable, from the kernel (not argv[0]).
std::string own_directory() {
    char self[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len <= 0) return ".";
    std::string exe(self, static_cast<size_t>(len));
    return exe.substr(0, exe.rfind('/'));
}

// dir + relative, with each leading ".." taking a component off dir, so
// messages and reports show /usr/libexec/cxtrace rather than /usr/bin/../libexec/cxtrace.
std::string join_lexically(std::string dir, std::string relative) {
    while (relative.rfind("../", 0) == 0 && dir.size() > 1) {
        dir = dir.substr(0, dir.rfind('/'));
        if (dir.empty()) dir = "/";
        relative.erase(0, 3);
    }
    return dir + (dir.back() == '/' ? "" : "/") + relative;
}

bool is_regular_file(const std::string& path) {
    struct stat st;
    return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool is_directory(const std::string& path) {
    struct stat st;
    return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace

Result<std::string> workload_path(const std::string& name) {
    const std::string dir = own_directory();
    const std::string in_build_tree = dir + "/workloads/" + name;
    if (is_regular_file(in_build_tree)) return in_build_tree;
    const std::string installed = join_lexically(dir, CXTRACE_WORKLOADS_FROM_BINDIR) + "/" + name;
    if (is_regular_file(installed)) return installed;
    return Error{"the bundled workload " + name + " is missing: looked for " + installed + " (installed) and " +
                     in_build_tree + " (build tree); reinstall cxtrace, or rebuild it",
                 ENOENT};
}

std::string workload_names() {
    std::string names;
    for (const WorkloadInfo& w : bundled_workloads()) names += (names.empty() ? "" : ", ") + std::string(w.name);
    return names;
}

Result<std::string> lab_sheets_dir() {
    const std::string dir = own_directory();
    const std::string in_build_tree = dir + "/labs";
    if (is_directory(in_build_tree)) return in_build_tree;
    const std::string installed = join_lexically(dir, CXTRACE_LABS_FROM_BINDIR);
    if (is_directory(installed)) return installed;
    return Error{"the bundled lab sheets are missing: looked for " + installed + " (installed) and " + in_build_tree +
                     " (build tree); reinstall cxtrace, or rebuild it",
                 ENOENT};
}

std::vector<std::string> bundled_sheet_files(const std::string& dir) {
    std::vector<std::string> files;
    if (DIR* d = opendir(dir.c_str())) {
        while (dirent* entry = readdir(d)) {
            const std::string name = entry->d_name;
            if (name.size() > 5 && name.compare(name.size() - 5, 5, ".toml") == 0 && name[0] != '.') files.push_back(name);
        }
        closedir(d);
    }
    std::sort(files.begin(), files.end());
    return files;
}

}  // namespace cxt
