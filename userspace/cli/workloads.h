// The bundled workloads: one small C++ program per lesson, installed beside
// the cxtrace executable (build/workloads/<name>).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace cxt {

struct WorkloadInfo {
    const char* name;
    const char* lesson;
};

const std::vector<WorkloadInfo>& bundled_workloads();
const char* default_workload();
std::optional<WorkloadInfo> find_workload(const std::string& name);
// Path of the workload's executable, next to the running cxtrace binary.
std::string workload_path(const std::string& name);
std::string workload_names();

}  // namespace cxt
