// report.json: the run model for graders and scripts (DESIGN.md fixes the
// field names; more fields are additions, never renames).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "model.h"

namespace cxt {

constexpr const char* kReportSchema = "cxtrace.report/1";

nlohmann::json report_json(const RunModel& model);
// The "run" object of report.json (shared with the Perfetto metadata).
nlohmann::json run_json(const RunInfo& run);
std::string render_json_report(const RunModel& model);
std::string render_json_report(const nlohmann::json& report);

}  // namespace cxt
