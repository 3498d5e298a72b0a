// The bundled workloads: one small C++ program per lesson. In the build tree
// they sit beside the cxtrace executable (build/workloads/<name>); installed,
// under libexec (/usr/bin/cxtrace runs /usr/libexec/cxtrace/<name>). The lab
// sheets are found the same way.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "result.h"

namespace cxt {

struct WorkloadInfo {
    const char* name;
    const char* lesson;
};

const std::vector<WorkloadInfo>& bundled_workloads();
const char* default_workload();
std::optional<WorkloadInfo> find_workload(const std::string& name);
// Path of the workload's executable, found from the running cxtrace binary's
// own path: build/workloads/<name> beside it, else <bindir>/<CXTRACE_WORKLOADS_FROM_BINDIR>/<name>
// (../libexec/cxtrace when installed). An error naming both when neither exists.
Result<std::string> workload_path(const std::string& name);
std::string workload_names();
// The directory of the bundled lab sheets (cxtrace lab), found like the
// workloads: build/labs beside the binary, else
// <bindir>/<CXTRACE_LABS_FROM_BINDIR> (../share/cxtrace/labs when installed).
Result<std::string> lab_sheets_dir();
// The sheet files in that directory (NAME.toml), sorted.
std::vector<std::string> bundled_sheet_files(const std::string& dir);

}  // namespace cxt
