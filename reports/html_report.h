// report.html: one self-contained page (inline CSS, SVG, JS; nothing from
// the network) that answers the four questions for one run. The run's data
// is embedded as JSON; the page's script draws the charts and the timeline.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model.h"
#include "text_out.h"

namespace cxt {

// Up to this many on-CPU intervals are embedded one by one; a larger run
// embeds per-CPU bins instead, so the file stays small and fast to open.
// The stretches off a CPU are embedded when they and the on-CPU intervals
// together are within this number.
constexpr size_t kHtmlMaxIntervals = 100'000;
constexpr size_t kHtmlTimelineBins = 4000;
// The per-task lanes of a binned run: one digit per bin and task, at most
// kHtmlTaskLaneDigits in all (tasks in creation order until they are
// spent), each lane kHtmlMaxTaskLaneBins bins, fewer (down to
// kHtmlMinTaskLaneBins) when many tasks ran.
constexpr size_t kHtmlTaskLaneDigits = 500'000;
constexpr size_t kHtmlMaxTaskLaneBins = 1000;
constexpr size_t kHtmlMinTaskLaneBins = 200;

// A lab's predictions beside what was measured (cxtrace lab), already
// graded and worded: the page only shows them, escaped.
struct PredictionRow {
    std::string id, prompt, prediction, measured, verdict, explanation;  // verdict: right, wrong, unanswered, not-measured
};
struct LabPredictions {
    std::string sheet, sheet_version, student, seed, parameters;
    std::vector<PredictionRow> rows;
};
// What a report can carry besides the run model.
struct ReportExtras {
    std::optional<LabPredictions> predictions;  // report.html then opens with "Your predictions"
};

std::string html_escape(const std::string& text);
// JSON text made safe inside <script>: no "</script>", "<!--" or U+2028.
std::string script_safe_json(const std::string& json_text);
std::string render_html_report(const RunModel& model);
// The same, reusing report_json(model) when the caller has built it already.
std::string render_html_report(const RunModel& model, const nlohmann::json& report);
// The same, streamed to out (report may lack "tasks": they come from the model).
void write_html_report(const RunModel& model, const nlohmann::json& report, TextOut& out,
                       const ReportExtras& extras = {});
std::string render_html_report(const RunModel& model, const ReportExtras& extras);

}  // namespace cxt
