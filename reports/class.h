// cxtrace class: a class's lab submissions seen together. The folders are
// searched for lab.json and report.json files (find_class_files, the only
// part that touches the file system); aggregate_class then reads them, a
// pure function: which submissions are usable and which are skipped (with
// why), each checked against its report.json; per question, how many
// predicted right and how the predictions spread against the measured
// values; per lesson, how the measured quantities spread across the
// machines; the outliers; a row per student. The renderers (class_html.h,
// class_csv.h, class_text.h) only read the ClassSummary.
//
// A submission is a lab.json with the report.json it points to (beside
// it); a report.json that no lab.json points to is a run alone, used for
// the lessons' distributions. Duplicates (README, "cxtrace class"): a file
// whose bytes another file already has; a named student's second
// submission of one sheet (the run that started first is kept: its
// predictions came before any result); a lab.json whose run is another's
// (the same start, kernel, CPUs and command: one run handed in twice). The
// first is kept, the others are skipped as "duplicate of" it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "compare.h"
#include "result.h"
#include "submission.h"

namespace cxt {

// The search: this many directory levels below each folder given; a
// directory reached twice (a symbolic link loop, or a second path to it)
// is read once.
constexpr int kClassMaxDepth = 12;
// Files larger than these are not read (skipped, saying so).
constexpr uint64_t kClassMaxLabBytes = 4ull << 20;
constexpr uint64_t kClassMaxReportBytes = 256ull << 20;
// A machine is an outlier when a creation latency of its run is at least
// kClassSlowFactor times the median of the lesson's runs, once at least
// kClassMinRunsForMedian runs have the figure.
constexpr double kClassSlowFactor = 10.0;
constexpr size_t kClassMinRunsForMedian = 3;

enum class ClassFileKind { Lab, Report };

// A file found under the folders: its text, or why it could not be read.
struct ClassFile {
    std::string path;  // as found: FOLDER/.../lab.json
    ClassFileKind kind = ClassFileKind::Lab;
    std::string text;
    std::string unreadable;  // why it was not read ("" when it was)
    std::string same_file_as;  // an earlier path to the very same file (a link, or given twice), or ""
};

struct ClassSkip {
    std::string path;
    std::string reason;
};

struct ClassFiles {
    std::vector<ClassFile> files;
    std::vector<std::string> notes;  // directories not searched, and why
    size_t directories = 0;
};

// Searches each folder (or takes a file given as it is: a report.json, or
// any other file as a lab.json). Fails when a folder does not exist or
// cannot be read at all.
Result<ClassFiles> find_class_files(const std::vector<std::string>& folders);

// One question of one submission, as the class pages show it.
struct ClassAnswer {
    std::string verdict;                    // right, wrong, unanswered, not-measured
    std::optional<std::string> prediction;  // as typed
    std::optional<double> predicted, measured;  // number questions (and numeric choices' measured value)
    std::string predicted_key;  // choice: "b"; ranking: "b > a > c"
    std::string right_key;      // choice: the right letter; ranking: the right order (from lab.json's answer)
    std::string measured_text, unit;
};

enum class ReportState {
    Matches,     // report.json read, and lab.json agrees with it
    Differs,     // report.json read, and lab.json disagrees with it: not counted
    Missing,     // lab.json points to no report.json that was found
    Unreadable,  // its report.json was found but could not be read
};
const char* report_state_name(ReportState state);  // matches, differs, missing, unreadable

struct ClassSubmission {
    std::string path;         // lab.json
    std::string report_path;  // report.json, "" when missing
    lab::Submission lab;
    std::string who;  // the student, or "(no name: DIR)"
    ReportState report = ReportState::Missing;
    std::string report_problem;           // why Missing/Unreadable
    lab::ReportCheck check;               // when report.json was read
    bool regraded = false;                // graded again by this cxtrace's sheet of its name and version
    std::vector<std::string> verdict_differences;  // where that grading differs: not counted
    std::optional<size_t> run;            // index into ClassSummary::runs
    bool counted = true;                  // in the questions' figures (not when its report.json differs)
    std::vector<std::string> flags;       // outliers about it, short: "lost events", "10x slower", ...
    std::map<std::string, ClassAnswer> answers;  // by question id
    size_t right = 0, graded = 0;
};

struct ClassRun {
    std::string path;  // report.json
    CompareRun data;
    std::string lesson;                  // its workload, or its command's name
    std::optional<size_t> submission;    // the submission it belongs to
    std::string who;                     // that submission's student, else the directory
    nlohmann::json report;               // report.json without its tasks
};

// A spread of values: how many, and the quantiles (linear interpolation).
struct Spread {
    size_t n = 0;
    double min = 0, p25 = 0, p50 = 0, p75 = 0, max = 0;
};
Spread spread_of(std::vector<double> values);

struct ClassPoint {
    size_t submission = 0;  // index into ClassSummary::submissions
    std::optional<double> predicted, measured;
    std::string verdict;
};

struct ClassQuestion {
    std::string sheet, id, kind, prompt, unit;  // prompt: as one student saw it (the seed fills it in)
    bool prompt_checked = false;                // from a submission whose report.json matches
    std::vector<std::string> metrics;
    size_t right = 0, wrong = 0, unanswered = 0, not_measured = 0;
    size_t graded() const { return right + wrong; }
    // Number questions: each counted submission's prediction and measured value.
    std::vector<ClassPoint> points;
    Spread predicted, measured, ratio;  // ratio: prediction / measured, both > 0
    size_t too_low = 0, too_high = 0;   // wrong predictions below / above the measured value
    // Choice and ranking questions: how many predicted each, how many runs made each right.
    std::map<std::string, size_t> predicted_keys, right_keys;
    std::map<std::string, std::string> key_text;  // a choice's letter -> its text, where an answer shows it
    std::string summary;  // one sentence written from the figures
};

struct ClassSheet {
    std::string name;
    std::vector<std::string> versions;
    std::vector<std::string> titles;  // the most common first
    size_t submissions = 0, counted = 0;
    size_t regraded = 0;                   // submissions whose verdicts were graded again
    std::vector<ClassQuestion> questions;  // in the sheet's order
    std::vector<std::string> column_ids;   // the questions' ids, for the tables
};

enum class LessonUnit { Duration, Ratio, Average, Count };

struct LessonValue {
    size_t run = 0;  // index into ClassSummary::runs
    double value = 0;
    bool outlier = false;
};

struct LessonQuantity {
    std::string key, label;
    LessonUnit unit = LessonUnit::Duration;
    bool slow_rule = false;  // the 10x rule applies (creation latencies)
    std::vector<LessonValue> values;
    Spread spread;
};

struct ClassLesson {
    std::string name;
    std::vector<size_t> runs;
    std::map<std::string, size_t> kernels;  // kernel -> runs
    std::vector<LessonQuantity> quantities;
};

struct ClassOutlier {
    std::string kind;  // slow, lost-events, incomplete, report-differs, report-missing
    std::string path, who;
    std::string text;
};

struct ClassSummary {
    std::vector<std::string> folders;
    size_t files_found = 0, directories = 0;
    std::vector<std::string> notes;
    std::vector<ClassSubmission> submissions;  // sorted by student, sheet, start
    std::vector<ClassRun> runs;
    std::vector<ClassSkip> skipped;
    std::vector<ClassSheet> sheets;
    std::vector<ClassLesson> lessons;
    std::vector<ClassOutlier> outliers;
    size_t runs_alone() const;
    size_t usable() const { return submissions.size() + runs_alone(); }
};

// `sheets`: the lab sheets this cxtrace knows (the bundled ones); a
// submission naming one of them, of the same version, has its verdicts
// graded again (lab::regrade_differences).
ClassSummary aggregate_class(const ClassFiles& found, const std::vector<std::string>& folders,
                             const std::vector<lab::Sheet>& sheets = {});

// Formats shared by the renderers.
std::string format_lesson_value(double value, LessonUnit unit);
std::string format_class_number(double value);

}  // namespace cxt
