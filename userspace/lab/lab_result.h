// lab.json: one lab session's record, schema "cxtrace.lab-result/1"
// (README, "lab.json"): the sheet and its version, the seed and the
// parameters it chose, the student, each question with the prediction, the
// measured value, the verdict and the explanation, the machine, and a
// pointer to report.json. Pure: built from values, written by the caller.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "grading.h"
#include "sheet.h"

namespace cxt::lab {

constexpr const char* kLabResultSchema = "cxtrace.lab-result/1";

// How far the session got.
enum class LabStatus {
    Graded,                // the run finished and was graded
    RunInterrupted,        // Ctrl-C during the run: what was captured graded
    RunFailed,             // the run failed before a report existed: nothing measured
    QuestionsInterrupted,  // Ctrl-C (or end of input) while answering: nothing ran
};
const char* lab_status_name(LabStatus status);

struct LabRecord {
    const Sheet* sheet = nullptr;
    Variant variant;
    std::string student;  // "" when not given
    LabStatus status = LabStatus::Graded;
    std::map<std::string, Prediction> predictions;
    std::vector<Graded> graded;  // empty when nothing was measured
    std::vector<std::string> command;
    std::string kernel;
    int cpus = 0;
    std::string started_at;              // ISO-8601, when the run began ("" if it did not)
    std::optional<std::string> report;   // report.json, relative to lab.json
    std::optional<bool> run_complete;    // report.json's run.complete
};

nlohmann::json lab_json(const LabRecord& record);

}  // namespace cxt::lab
