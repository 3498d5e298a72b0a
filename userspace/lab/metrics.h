// The vocabulary of run metrics a lab sheet's questions name (README, "Lab
// sheets"): pure functions over the run model, no kernel, no files. A metric
// is written `name[:arg[:arg]][@phase]`, or `A / B`, the ratio of two.
// Figures cover the lesson (--from-exec): the launcher's tasks are left out,
// as the reports leave them out.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "model.h"
#include "result.h"

namespace cxt::lab {

// One `name:args@phase` term of a metric.
struct MetricTerm {
    std::string name;
    std::vector<std::string> args;
    std::string phase;  // "" for the whole lesson
};

// A parsed metric: one term, or two for a ratio (A / B).
struct Metric {
    std::string text;  // as written
    std::vector<MetricTerm> terms;
};

// Checks the name, the number and form of the arguments, and whether @phase
// is allowed; the message names what is wrong.
Result<Metric> parse_metric(const std::string& text);

// What a metric measured: a number (with its unit) or a word (yes/no, a
// kind); unknown when the run does not hold it (why says so).
struct Measured {
    bool known = false;
    bool is_number = true;
    double number = 0;
    std::string word;
    std::string unit;  // "µs", "ms", "%", "×", "" for counts
    std::string why;   // when unknown
};

// Measures metrics over one run: its lesson's tasks (lesson.h), its
// phases by name. Keeps a reference to the model.
class Measurer {
public:
    explicit Measurer(const RunModel& model);
    Measured operator()(const Metric& metric) const;

private:
    const RunModel& model_;
    RunModel view_;  // lesson_view(model)
};

// A measured value as shown: numbers to 3 significant digits (integers
// whole), with the unit; "unknown (why)" when not measured.
std::string format_measured(const Measured& measured);
std::string format_number(double value);

// One entry of the vocabulary, for documentation and `cxtrace lab --metrics`.
struct MetricInfo {
    const char* name;
    const char* args;  // e.g. "KIND[:STAT]"
    const char* unit;
    bool phase;        // may take @phase
    const char* meaning;
};
const std::vector<MetricInfo>& metric_vocabulary();

}  // namespace cxt::lab
