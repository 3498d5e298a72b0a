// Lab sheets: an instructor's questions about a run, in a versioned TOML
// file (format "cxtrace.lab/1", README "Lab sheets"). Parsing checks every
// field; a malformed sheet gives FILE:LINE:COLUMN: FIELD: what is wrong.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "metrics.h"
#include "result.h"

namespace cxt::lab {

constexpr const char* kSheetFormat = "cxtrace.lab/1";

enum class QuestionKind { Number, Choice, Ranking };
const char* question_kind_name(QuestionKind kind);

// A choice is right when the measured word equals `word` (yes/no, a kind),
// or the measured number lies in [min, max).
struct Choice {
    std::string text;
    std::optional<std::string> word;
    std::optional<double> min, max;
};

struct RankItem {
    std::string text;
    Metric metric;
};

// Right when |prediction - measured| <= max(absolute, relative * |measured|).
struct Tolerance {
    std::optional<double> absolute, relative;
};

// A sentence the explanation gets only when the run's data supports it:
// `metric` (the question's own when absent) measured equal to `word`, or in
// [min, max). Left out when its condition fails or cannot be measured: a
// mechanism ("the lock serialises them") is said only where the numbers
// show it.
struct WhenSentence {
    std::string text;  // a template, like the explanation
    std::optional<Metric> metric;
    std::optional<std::string> word;
    std::optional<double> min, max;
};

struct Question {
    std::string id;
    QuestionKind kind = QuestionKind::Number;
    std::string prompt;
    Metric metric;             // number and choice questions
    Tolerance tolerance;       // number questions
    std::vector<Choice> choices;
    std::vector<RankItem> items;  // ranking questions
    bool largest_first = true;    // ranking order
    double ties = 0;              // ranking: values within this relative gap may come in either order
    std::string explanation;      // a template (placeholders: README)
    std::vector<WhenSentence> when;  // appended to the explanation where they hold
};

// An integer parameter the seed chooses: from [min, max], or one of values.
struct Parameter {
    std::string name;
    int64_t min = 0, max = 0;
    std::vector<int64_t> values;
};

struct SheetWorkload {
    std::string workload;               // a bundled workload, or
    std::vector<std::string> command;   // any command
    std::vector<std::string> args;      // the workload's arguments
    std::vector<std::string> needs;     // programs that must be on PATH (e.g. python3)
    std::string from_exec;              // as cxtrace run --from-exec
};

struct Sheet {
    std::string path;     // the file it came from
    std::string name;     // its file name without .toml
    std::string version;  // the sheet's own version
    std::string title;
    SheetWorkload workload;
    std::vector<Parameter> parameters;  // in the order written
    std::vector<Question> questions;
};

// The sheet in `text`, read from `path` (named in messages).
Result<Sheet> parse_sheet(const std::string& text, const std::string& path);
Result<Sheet> load_sheet(const std::string& path);

// The parameters one seed chose.
struct Variant {
    uint64_t seed = 0;
    std::map<std::string, int64_t> values;
};
// Deterministic: each parameter from splitmix64(seed, FNV-1a(name)), so a
// parameter's value does not depend on the others.
Variant choose_variant(const Sheet& sheet, uint64_t seed);
// "count=37 ms=120", in the sheet's order.
std::string describe_variant(const Sheet& sheet, const Variant& variant);

// A template filled in one pass: each {placeholder} replaced by value(name),
// or kept as written when it returns nothing; `{{` and `}}` are braces.
std::string fill_template(const std::string& text,
                          const std::function<std::optional<std::string>(const std::string&)>& value);
// A parameter's placeholder ({name} or {param:name}) or {sheet_dir} (the
// sheet's directory), else nothing.
std::optional<std::string> parameter_value(const std::string& placeholder, const Sheet& sheet, const Variant& variant);
// The template with parameters and {sheet_dir} filled in.
std::string substitute_parameters(const std::string& text, const Sheet& sheet, const Variant& variant);

// The workload's argv as the session takes it (RunOptions::workload_and_args
// or ::command), parameters substituted.
std::vector<std::string> workload_arguments(const Sheet& sheet, const Variant& variant);

}  // namespace cxt::lab
