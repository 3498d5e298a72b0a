// Where a run's files go, written safely: atomically (temp + rename), never
// through a planted symlink, and owned by the user behind sudo.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "held_command.h"
#include "model.h"
#include "result.h"
#include "text_out.h"

namespace cxt {

struct OutputOwner {
    std::optional<InvokingUser> user;  // files are chowned to this user, if set
};

// Creates the run's output directory: `requested` if given, else
// ./cxtrace-reports/<label>-<YYYYmmdd-HHMMSS>/.
Result<std::string> create_output_dir(const std::string& requested, const std::string& label, const OutputOwner& owner);

// Text produced piece by piece (written as it comes) to path, which only
// appears, whole, once written: a temporary name, renamed into place.
Status write_file_atomically(const std::string& path, const OutputOwner& owner,
                             const std::function<void(TextOut&)>& produce);
void give_to_owner(const std::string& path, const OutputOwner& owner);

struct ReportPaths {
    std::string json, html, perfetto;
};
// Writes report.json, perfetto.pftrace and report.html into dir.
Result<ReportPaths> write_reports(const RunModel& model, const std::string& dir, const OutputOwner& owner);
// The lines that tell the user where everything is; the HTML report last.
std::string report_locations(const ReportPaths& paths, const std::string& trace_path);

}  // namespace cxt
