// report.json: the run model for graders and scripts (DESIGN.md fixes the
// field names; more fields are additions, never renames).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "json_writer.h"
#include "model.h"
#include "text_out.h"

namespace cxt {

constexpr const char* kReportSchema = "cxtrace.report/1";

nlohmann::json report_json(const RunModel& model);
// All of report_json() but "tasks": the small part, built as a DOM once.
nlohmann::json report_json_without_tasks(const RunModel& model);
// The "run" object of report.json (shared with the Perfetto metadata).
nlohmann::json run_json(const RunInfo& run);
nlohmann::json phases_json(const std::vector<Phase>& phases);
std::string render_json_report(const RunModel& model);
// report.json written as it is made: `head` from report_json_without_tasks,
// the tasks written one by one. The same text as render_json_report.
void write_json_report(const RunModel& model, const nlohmann::json& head, TextOut& out);

// For the HTML page's data: a task's position and its creator's (-1: none).
struct TaskIndex {
    size_t index;
    int64_t parent_index;
};
// One task as in report.json's "tasks", written to w; given an index, as
// the HTML page's data: with "index" and "parent_index", without "woken_by".
void write_task_json(JsonWriter& w, const TaskRecord& task, const TaskIndex* index = nullptr);
std::string render_json_report(const nlohmann::json& report);

}  // namespace cxt
