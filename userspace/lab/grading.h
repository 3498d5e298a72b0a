// Predictions and their grading: pure functions over a sheet's question and
// the run model. A prediction is text as the student typed it: a number; a
// choice's letter (a, b, ...) or number (1, 2, ...); a ranking's letters or
// numbers in order ("b a c", "2,1,3").
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "metrics.h"
#include "model.h"
#include "result.h"
#include "sheet.h"

namespace cxt::lab {

struct Prediction {
    std::string text;             // as given
    double number = 0;            // number questions
    size_t choice = 0;            // choice questions: index into choices
    std::vector<size_t> order;    // ranking questions: item indexes, first first
};

// The prediction in `text` for `question`, or why it is not one.
Result<Prediction> parse_prediction(const Question& question, const std::string& text);
// How a prediction is shown: "12", "b) no", "b > a > c".
std::string describe_prediction(const Question& question, const Prediction& prediction);
// How to answer, for the prompt: "a number", "a letter a-c", ...
std::string answer_hint(const Question& question);

enum class Verdict { Right, Wrong, Unanswered, NotMeasured };
const char* verdict_name(Verdict verdict);  // right, wrong, unanswered, not-measured

struct Graded {
    const Question* question = nullptr;
    std::optional<Prediction> prediction;
    Verdict verdict = Verdict::Unanswered;
    // What was measured: the question's metric; for a ranking, each item's.
    std::vector<Measured> measured;
    std::string measured_text;  // "41.2 µs", "yes", "b 12 ms > a 3 ms > c 1 ms"
    std::string answer;         // the right answer: "38.5 µs (±50%: 19.3 to 57.8)", "b) yes", "b > a > c"
    std::string explanation;    // the sheet's template, filled
};

// What grading measures a metric with: a Measurer over the run, or (cxtrace
// class, grading a lab.json again) the values the lab.json recorded.
using MeasureFn = std::function<Measured(const Metric&)>;

// Grades one question against the run (the prediction may be absent).
Graded grade(const Question& question, const std::optional<Prediction>& prediction, const MeasureFn& measure,
             const Sheet& sheet, const Variant& variant);
// Every question; predictions by question id.
std::vector<Graded> grade_all(const Sheet& sheet, const Variant& variant,
                              const std::map<std::string, Prediction>& predictions, const RunModel& model);

}  // namespace cxt::lab
