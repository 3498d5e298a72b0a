// cxtrace compare: two to eight runs side by side. Each run is read from
// its report.json (the summary and the phases; its tasks are skipped), its
// figures are aligned row by row, and the rows that differ enough to matter
// are marked by one rule (below), each with a sentence written from the
// measured numbers. Pure: the renderers (compare_html.h, compare_text.h)
// only read the Comparison.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model.h"
#include "result.h"

namespace cxt {

constexpr size_t kCompareMinRuns = 2;
constexpr size_t kCompareMaxRuns = 8;

// The rule that marks a row as differing (only the runs where the figure is
// known take part; "unknown" and "none" never do):
// - a count that describes the run (tasks, processes, threads, address
//   spaces, tasks created, the most on a CPU at once, CPUs, lost events) or
//   a text (the kernel): any two runs differ;
// - a time or an average: the largest is at least kCompareRatio times the
//   smallest (or the smallest is 0), and a time is also at least
//   kCompareMinGapNs above it;
// - an amount that varies from run to run (events, switch-ins,
//   migrations): as a time, and at least kCompareMinQuantityGap apart;
// - a share (of a time): the largest at least kComparePoints above the
//   smallest (10 percentage points).
constexpr double kCompareRatio = 1.5;
constexpr uint64_t kCompareMinGapNs = 1000;
constexpr double kCompareMinQuantityGap = 10;
constexpr double kComparePoints = 0.10;
// The rule in words, for the page and the terminal.
std::string compare_rule_text();

enum class CompareUnit {
    Count,     // structure of the run: any difference counts
    Text,      // any difference counts
    Duration,  // ns: ratio rule, and 1 us apart
    Quantity,  // event-like counts: ratio rule, and 10 apart
    Average,   // a plain number (tasks on CPUs on average): ratio rule
    Share,     // 0..1: 10 points apart
};

// One run's figure: measured, not known (the report does not have it: an
// older cxtrace, a trace without the events), or none (the run had no task
// it could be measured on, e.g. no thread created).
struct CompareValue {
    enum class State { Known, Unknown, None };
    State state = State::Unknown;
    double number = 0;
    std::string text;  // CompareUnit::Text

    static CompareValue known(double number) { return {State::Known, number, {}}; }
    static CompareValue known_text(std::string text) { return {State::Known, 0, std::move(text)}; }
    static CompareValue unknown() { return {}; }
    static CompareValue none() { return {State::None, 0, {}}; }
    bool is_known() const { return state == State::Known; }
};

// A value as shown: "85.2 us", "7", "42%", "1.93", "unknown", "none".
std::string format_compare_value(const CompareValue& value, CompareUnit unit);

struct CompareRow {
    std::string key;    // stable: "creation.process.first_run_p50"
    std::string label;  // "process: first run, p50"
    std::string kind;   // the kind of task it is about ("process", ...), or ""
    CompareUnit unit = CompareUnit::Count;
    std::vector<CompareValue> values;  // one per run, in the runs' order
    bool differs = false;              // by the rule above
    std::string difference;            // the sentence saying how, when it differs
    // A differing number: a run with the highest value and one with the lowest.
    std::optional<size_t> highest, lowest;
};

struct CompareSection {
    std::string id;       // "tasks", "creation", "parallelism", "cpu", "states", "runs"
    std::string title;
    std::string explain;  // what the figures are (true of any run)
    std::vector<CompareRow> rows;
};

// What compare reads from one report.json. Every figure is optional: a
// report of an older cxtrace lacks some, and those are unknown, never 0.
struct CompareRun {
    std::string source;  // the report.json it was read from
    std::string label;   // how the page and the table name it (set by compare_runs)
    char letter = 'A';   // its key in the charts (set by compare_runs)

    std::string workload;
    std::vector<std::string> command;
    std::string started_at;
    std::optional<std::string> kernel;
    std::optional<uint64_t> cpus, duration_ns, events, lost_events;
    bool complete = true, approximate = false, interrupted = false;
    std::optional<std::string> cut_off, scope_note;
    std::optional<std::string> limit_reached;  // the option whose limit ended the tracing

    std::optional<uint64_t> tasks, processes, threads, address_spaces;
    std::optional<std::map<std::string, LatencyStats>> first_run, syscall;  // by kind
    std::optional<std::map<std::string, uint64_t>> created;                 // by kind, over the phases
    std::optional<uint64_t> max_parallelism;
    std::optional<std::map<uint32_t, uint64_t>> parallelism_ns;
    std::optional<uint64_t> context_switches, migrations;
    // The kernel's CPU clock over the phases (which tile the lesson), by
    // kind; unknown for a trace without CPU clock readings.
    std::optional<std::map<std::string, uint64_t>> cpu_time_by_kind;
    std::optional<uint64_t> cpu_time_ns, phases_ns;
    std::optional<std::map<std::string, StateTimes>> states_by_kind;
};

// What a reader must know before trusting a run's figures: warnings when
// it is incomplete (lost events, cut off, interrupted) or approximate; a
// note when a launcher's tasks were left out (--from-exec).
struct CompareNote {
    bool warning = false;
    std::string text;
};
std::vector<CompareNote> compare_run_notes(const CompareRun& run);

// The report.json (file, or directory holding one) a command-line argument
// names. Fails, saying what to give instead, for anything else: a missing
// path, a directory without report.json, a trace.cxt, a FIFO.
Result<std::string> locate_report_json(const std::string& path);
// A regular file's whole text, opened without blocking on a FIFO (or any
// other file swapped in after the path was looked at); a file of more than
// `limit` bytes is refused. Messages start with the path.
Result<std::string> read_regular_file(const std::string& path, uint64_t limit = UINT64_MAX);
// Reads and checks one report.json: valid JSON, schema cxtrace.report/1
// (a newer or foreign one is refused, naming it), "run" and "summary".
Result<CompareRun> read_compare_run(const std::string& report_json_path);
// The same from report.json's text or from its DOM (the tasks are not read).
Result<CompareRun> compare_run_from_text(const std::string& text, const std::string& source);
Result<CompareRun> compare_run_from_report(const nlohmann::json& report, const std::string& source);

struct Comparison {
    std::vector<CompareRun> runs;
    std::vector<CompareSection> sections;
    std::vector<std::string> differences;  // the differing rows' sentences, in section order
};

// Aligns 2..8 runs. labels: empty (each run is named after its workload or
// command, with a suffix telling apart runs of the same name), or one per run.
Result<Comparison> compare_runs(std::vector<CompareRun> runs, const std::vector<std::string>& labels = {});

}  // namespace cxt
