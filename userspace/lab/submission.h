// A student's lab.json read back (cxtrace class), and checked against the
// report.json it points to. A submission is untrusted input: every field is
// checked for its type, a newer or foreign schema is refused, and nothing
// in it is believed just because it is there: the measured values are
// recomputed from report.json wherever report.json holds what a metric needs.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "metrics.h"
#include "result.h"
#include "sheet.h"

namespace cxt::lab {

// One question of a lab.json, as recorded.
struct SubmittedQuestion {
    std::string id, kind, prompt;  // kind: number, choice, ranking
    std::vector<std::string> metrics;  // the question's metric, or each ranking item's
    std::optional<std::string> prediction;  // as typed
    nlohmann::json prediction_value;        // a number, a letter, a list of letters, or null
    nlohmann::json measured;                // a number, a word, a list (ranking), or null
    std::string unit, measured_text, answer;
    std::string verdict;  // right, wrong, unanswered, not-measured
};

struct Submission {
    std::string student;  // "" when none was given
    std::string sheet, sheet_version, sheet_title;
    std::optional<uint64_t> seed;
    std::map<std::string, int64_t> parameters;
    std::string status;  // graded, run-interrupted, run-failed, questions-interrupted
    std::vector<std::string> command;
    std::string started_at, kernel;
    std::optional<uint64_t> cpus;
    std::optional<std::string> report;  // report.json, relative to lab.json
    std::optional<bool> run_complete;
    std::vector<SubmittedQuestion> questions;
};

// Strings a submission holds are cut to this many bytes (a whole UTF-8
// character kept): a hostile file cannot blow up the page or the table.
constexpr size_t kSubmissionMaxText = 2000;
constexpr size_t kSubmissionMaxQuestions = 50;

// Reads one lab.json's text (`source` names it in messages). Refuses, saying
// why: not JSON, not a cxtrace lab.json, a newer schema than
// cxtrace.lab-result/1, or a field of the wrong type. Messages quote the
// file's own text as is: the renderers make it safe (HTML, terminal).
Result<Submission> read_submission(const std::string& text, const std::string& source);
Result<Submission> submission_from_json(const nlohmann::json& lab, const std::string& source);

// Whether the lab's measured run was graded (so its verdicts mean something).
bool submission_was_run(const Submission& submission);

// A metric recomputed from a report.json (its run, summary and phases; the
// tasks are not read): not checkable when report.json does not hold what
// it needs (per-task metrics, the address spaces), else its value, or
// unknown (a kind never created) as the grader would have found it.
struct ReportValue {
    bool checkable = false;
    std::optional<double> value;  // nullopt: unknown
};
ReportValue metric_from_report(const Metric& metric, const nlohmann::json& report);

// lab.json against its report.json: the run (when it started, the kernel,
// the CPUs, whether it was complete, the command) and each measured value
// report.json lets us recompute. Each difference is one sentence.
struct ReportCheck {
    size_t values_checked = 0;     // measured values recomputed and compared
    size_t values_uncheckable = 0;  // measured values report.json cannot give
    std::vector<std::string> differences;
    bool matches() const { return differences.empty(); }
};
ReportCheck check_submission_against_report(const Submission& submission, const nlohmann::json& report);

// lab.json's verdicts graded again by `sheet` (the one it names, of the
// same version), from its own predictions, seed and parameters and the
// measured values it recorded (which check_submission_against_report holds
// to report.json): a verdict edited by hand shows. Each question whose
// verdict differs, or that the sheet does not have, is one sentence.
std::vector<std::string> regrade_differences(const Submission& submission, const Sheet& sheet);

}  // namespace cxt::lab
