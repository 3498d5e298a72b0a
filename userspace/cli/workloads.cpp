#include "workloads.h"

#include <unistd.h>

#include <climits>

namespace cxt {

const std::vector<WorkloadInfo>& bundled_workloads() {
    static const std::vector<WorkloadInfo> workloads = {
        {"process-vs-thread",
         "creation cost: N processes (fork) then N threads, one at a time; each exits at once"},
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
