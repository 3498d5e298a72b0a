#include "compare.h"
#include "paths.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <set>
#include <utility>

#include "json_report.h"
#include "text_summary.h"
#include "time_findings.h"
#include "unicode.h"

namespace cxt {

namespace {

using nlohmann::json;

constexpr const char* kSchemaPrefix = "cxtrace.report/";
constexpr const char* kReportFileName = "report.json";
// Kinds read from one map of a report: the five the model has, and room
// for a few more a later cxtrace might add (a hostile file gets no more).
constexpr size_t kMaxKinds = 8;
constexpr size_t kMaxLabelBytes = 40;

// --- reading report.json, any field possibly missing ------------------------

const json* member(const json* object, const char* key) {
    if (!object || !object->is_object()) return nullptr;
    auto found = object->find(key);
    return found == object->end() ? nullptr : &*found;
}

std::optional<uint64_t> as_u64(const json* value) {
    if (!value) return std::nullopt;
    if (value->is_number_unsigned()) return value->get<uint64_t>();
    if (value->is_number_integer() && value->get<int64_t>() >= 0) return static_cast<uint64_t>(value->get<int64_t>());
    return std::nullopt;
}

std::optional<std::string> as_string(const json* value) {
    if (!value || !value->is_string()) return std::nullopt;
    return value->get<std::string>();
}

bool as_bool(const json* value, bool otherwise) { return value && value->is_boolean() ? value->get<bool>() : otherwise; }

std::optional<std::map<std::string, LatencyStats>> stats_by_kind(const json* by_kind) {
    if (!by_kind || !by_kind->is_object()) return std::nullopt;
    std::map<std::string, LatencyStats> out;
    for (const auto& item : by_kind->items()) {
        if (out.size() >= kMaxKinds) break;
        const json& s = item.value();
        auto count = as_u64(member(&s, "count")), min = as_u64(member(&s, "min")), p50 = as_u64(member(&s, "p50")),
             p90 = as_u64(member(&s, "p90")), max = as_u64(member(&s, "max"));
        if (count && min && p50 && p90 && max && *count > 0) out[item.key()] = {*count, *min, *p50, *p90, *max};
    }
    return out;
}

// Sums per kind over the phases; unknown unless every phase has the map.
std::optional<std::map<std::string, uint64_t>> sum_over_phases(const json* phases, const char* key) {
    if (!phases || !phases->is_array() || phases->empty()) return std::nullopt;
    std::map<std::string, uint64_t> out;
    for (const json& phase : *phases) {
        const json* by_kind = member(&phase, key);
        if (!by_kind || !by_kind->is_object()) return std::nullopt;
        for (const auto& item : by_kind->items())
            if (auto n = as_u64(&item.value()); n && (out.count(item.key()) || out.size() < kMaxKinds))
                out[item.key()] += *n;
    }
    return out;
}

std::string schema_shown(const std::string& schema) {
    return "\"" + terminal_safe(schema.size() > 60 ? schema.substr(0, 60) + "..." : schema) + "\"";
}

int known_schema_version() { return std::stoi(std::string(kReportSchema).substr(std::string(kSchemaPrefix).size())); }

// "" when the report's schema is one this cxtrace reads, else why not.
std::string schema_problem(const json& report, const std::string& source) {
    const std::string what_to_give = ": give the report.json that cxtrace run or cxtrace report wrote";
    if (!report.is_object()) return source + " is not a cxtrace report.json (not a JSON object)" + what_to_give;
    auto schema = as_string(member(&report, "schema"));
    if (!schema) return source + " is not a cxtrace report.json (it has no \"schema\" field)" + what_to_give;
    const std::string prefix = kSchemaPrefix;
    const std::string number = schema->compare(0, prefix.size(), prefix) == 0 ? schema->substr(prefix.size()) : "";
    if (number.empty() || number.size() > 6 || number.find_first_not_of("0123456789") != std::string::npos)
        return source + " is not a cxtrace report.json: its schema is " + schema_shown(*schema) + ", this cxtrace reads " +
               kReportSchema + what_to_give;
    const int version = std::stoi(number);
    if (version > known_schema_version())
        return source + " was written by a newer cxtrace (schema " + schema_shown(*schema) + "; this one reads " +
               kReportSchema + "): compare it with that cxtrace, or render its trace.cxt again with this one "
               "(cxtrace report DIR/trace.cxt)";
    if (version < 1) return source + " has an unknown schema " + schema_shown(*schema) + "; this cxtrace reads " + kReportSchema;
    return "";
}

// --- labels ------------------------------------------------------------------

// At most `bytes` bytes, never cutting a UTF-8 character.
std::string cut(const std::string& text, size_t bytes) {
    if (text.size() <= bytes) return text;
    size_t at = bytes;
    while (at > 0 && (static_cast<unsigned char>(text[at]) & 0xc0) == 0x80) --at;
    return text.substr(0, at) + "...";
}

std::string base_label(const CompareRun& run) {
    if (!run.workload.empty()) return cut(run.workload, kMaxLabelBytes);
    if (run.command.empty()) return "command";
    std::string label = basename_of(run.command[0]);
    // "python3 demo.py": the interpreter alone says little.
    if (run.command.size() > 1 && !run.command[1].empty() && run.command[1][0] != '-')
        label += " " + basename_of(run.command[1]);
    return cut(label, kMaxLabelBytes);
}

// The directory a report.json is in, by name ("" for the current one).
std::string directory_name(const std::string& source) {
    const size_t slash = source.rfind('/');
    if (slash == std::string::npos) return "";
    return basename_of(source.substr(0, slash));
}

// Runs that share a name get the first suffix that tells them apart: the
// time they started (UTC), with the date, or their directory's name. When
// none does, the letters do.
void assign_labels(std::vector<CompareRun>& runs) {
    using Suffix = std::string (*)(const CompareRun&);
    const Suffix suffixes[] = {
        [](const CompareRun& run) {
            return run.started_at.size() >= 19 ? run.started_at.substr(11, 8) + " UTC" : std::string();
        },
        [](const CompareRun& run) {
            return run.started_at.size() >= 19 ? run.started_at.substr(0, 10) + " " + run.started_at.substr(11, 8) + " UTC"
                                               : std::string();
        },
        [](const CompareRun& run) { return cut(directory_name(run.source), kMaxLabelBytes); },
    };
    std::map<std::string, std::vector<size_t>> by_name;
    for (size_t i = 0; i < runs.size(); ++i) by_name[base_label(runs[i])].push_back(i);
    for (const auto& named : by_name) {
        const std::string& name = named.first;
        const std::vector<size_t>& group = named.second;
        for (size_t i : group) runs[i].label = name;
        if (group.size() < 2) continue;
        for (Suffix suffix : suffixes) {
            std::set<std::string> seen;
            bool apart = true;
            for (size_t i : group) {
                const std::string s = suffix(runs[i]);
                apart = apart && !s.empty() && seen.insert(s).second;
            }
            if (!apart) continue;
            for (size_t i : group) runs[i].label = name + " (" + suffix(runs[i]) + ")";
            break;
        }
    }
}

// --- rows ----------------------------------------------------------------------

CompareValue value_of(const std::optional<uint64_t>& n) {
    return n ? CompareValue::known(static_cast<double>(*n)) : CompareValue::unknown();
}

template <typename ValueOf>
CompareRow make_row(std::string key, std::string label, CompareUnit unit, const std::vector<CompareRun>& runs,
                    ValueOf value) {
    CompareRow row;
    row.key = std::move(key);
    row.label = std::move(label);
    row.unit = unit;
    for (const CompareRun& run : runs) row.values.push_back(value(run));
    return row;
}

// Kinds in the order a lesson reads them, then any other a report names.
std::vector<std::string> ordered_kinds(const std::set<std::string>& kinds, bool with_root) {
    std::vector<std::string> out;
    for (const char* kind : {"root", "process", "thread", "vfork", "shared-vm"})
        if (kinds.count(kind) && (with_root || std::string(kind) != "root")) out.push_back(kind);
    for (const std::string& kind : kinds)
        if (std::find(out.begin(), out.end(), kind) == out.end() && (with_root || kind != "root")) out.push_back(kind);
    return out;
}

template <typename Map>
void add_keys(std::set<std::string>& kinds, const std::optional<Map>& map) {
    if (map)
        for (const auto& entry : *map) kinds.insert(entry.first);
}

uint64_t busy_ns(const std::map<uint32_t, uint64_t>& parallelism) {
    uint64_t busy = 0;
    for (const auto& [n, ns] : parallelism)
        if (n >= 1) busy += ns;
    return busy;
}

CompareSection runs_section(const std::vector<CompareRun>& runs) {
    CompareSection s{"runs", "The runs",
                     "Where and for how long each run was traced. A run with lost events is incomplete: its figures "
                     "cover only what was captured.",
                     {}};
    s.rows.push_back(make_row("runs.cpus", "CPUs", CompareUnit::Count, runs, [](const CompareRun& r) { return value_of(r.cpus); }));
    s.rows.push_back(make_row("runs.kernel", "kernel", CompareUnit::Text, runs, [](const CompareRun& r) {
        return r.kernel ? CompareValue::known_text(*r.kernel) : CompareValue::unknown();
    }));
    s.rows.push_back(make_row("runs.duration", "traced for", CompareUnit::Duration, runs,
                              [](const CompareRun& r) { return value_of(r.duration_ns); }));
    s.rows.push_back(make_row("runs.events", "events", CompareUnit::Quantity, runs, [](const CompareRun& r) { return value_of(r.events); }));
    s.rows.push_back(make_row("runs.lost_events", "lost events", CompareUnit::Count, runs,
                              [](const CompareRun& r) { return value_of(r.lost_events); }));
    return s;
}

CompareSection tasks_section(const std::vector<CompareRun>& runs) {
    CompareSection s{"tasks", "Tasks and address spaces",
                     "Threads share their creator's address space (its mm); a process created by fork gets its own, and "
                     "an exec replaces it. Processes are thread groups (distinct tgids); address spaces count every mm "
                     "id, the exec'd ones included.",
                     {}};
    s.rows.push_back(make_row("tasks.tasks", "tasks", CompareUnit::Count, runs, [](const CompareRun& r) { return value_of(r.tasks); }));
    s.rows.push_back(make_row("tasks.processes", "processes (thread groups)", CompareUnit::Count, runs,
                              [](const CompareRun& r) { return value_of(r.processes); }));
    s.rows.push_back(make_row("tasks.threads", "threads", CompareUnit::Count, runs, [](const CompareRun& r) { return value_of(r.threads); }));
    s.rows.push_back(make_row("tasks.address_spaces", "address spaces", CompareUnit::Count, runs,
                              [](const CompareRun& r) { return value_of(r.address_spaces); }));
    return s;
}

CompareValue stat_of(const std::optional<std::map<std::string, LatencyStats>>& by_kind, const std::string& kind,
                     uint64_t LatencyStats::*field) {
    if (!by_kind) return CompareValue::unknown();
    auto found = by_kind->find(kind);
    return found == by_kind->end() ? CompareValue::none() : CompareValue::known(static_cast<double>(found->second.*field));
}

CompareSection creation_section(const std::vector<CompareRun>& runs) {
    CompareSection s{"creation", "Creation latency",
                     "First run: from the creator entering clone, clone3, fork or vfork until the new task is first "
                     "switched in on a CPU; syscall: until that call returned in the creator. The chart puts every run "
                     "and kind on one logarithmic axis: the line spans the fastest to the slowest creation, the box the "
                     "median (p50) to p90. On a busy machine the wait for a CPU, and with it the first run, changes "
                     "from run to run.",
                     {}};
    std::set<std::string> kinds;
    for (const CompareRun& run : runs) add_keys(kinds, run.first_run), add_keys(kinds, run.syscall), add_keys(kinds, run.created);
    for (const std::string& kind : ordered_kinds(kinds, false)) {
        const size_t first = s.rows.size();
        s.rows.push_back(make_row("creation." + kind + ".created", kind + ": created", CompareUnit::Count, runs,
                                  [&](const CompareRun& r) {
                                      if (!r.created) return CompareValue::unknown();
                                      auto found = r.created->find(kind);
                                      return CompareValue::known(found == r.created->end() ? 0.0 : static_cast<double>(found->second));
                                  }));
        s.rows.push_back(make_row("creation." + kind + ".first_run_p50", kind + ": first run, p50", CompareUnit::Duration,
                                  runs, [&](const CompareRun& r) { return stat_of(r.first_run, kind, &LatencyStats::p50); }));
        s.rows.push_back(make_row("creation." + kind + ".first_run_p90", kind + ": first run, p90", CompareUnit::Duration,
                                  runs, [&](const CompareRun& r) { return stat_of(r.first_run, kind, &LatencyStats::p90); }));
        s.rows.push_back(make_row("creation." + kind + ".syscall_p50", kind + ": syscall, p50", CompareUnit::Duration, runs,
                                  [&](const CompareRun& r) { return stat_of(r.syscall, kind, &LatencyStats::p50); }));
        for (size_t i = first; i < s.rows.size(); ++i) s.rows[i].kind = kind;
    }
    return s;
}

CompareSection parallelism_section(const std::vector<CompareRun>& runs) {
    CompareSection s{"parallelism", "Parallelism",
                     "How many traced tasks were on a CPU at each instant, weighted by time over the time with at "
                     "least one on a CPU: two or more at once is true parallelism, and never more than the CPUs. A "
                     "migration is a task running on another CPU than in its previous interval.",
                     {}};
    s.rows.push_back(make_row("parallelism.max", "most on a CPU at once", CompareUnit::Count, runs,
                              [](const CompareRun& r) { return value_of(r.max_parallelism); }));
    s.rows.push_back(make_row("parallelism.busy", "time with a traced task on a CPU", CompareUnit::Duration, runs,
                              [](const CompareRun& r) {
                                  return r.parallelism_ns ? CompareValue::known(static_cast<double>(busy_ns(*r.parallelism_ns)))
                                                          : CompareValue::unknown();
                              }));
    s.rows.push_back(make_row("parallelism.average", "on a CPU at once, on average", CompareUnit::Average,
                              runs, [](const CompareRun& r) {
                                  if (!r.parallelism_ns) return CompareValue::unknown();
                                  const uint64_t busy = busy_ns(*r.parallelism_ns);
                                  if (busy == 0) return CompareValue::none();
                                  double weighted = 0;
                                  for (const auto& [n, ns] : *r.parallelism_ns) weighted += static_cast<double>(n) * static_cast<double>(ns);
                                  return CompareValue::known(weighted / static_cast<double>(busy));
                              }));
    s.rows.push_back(make_row("parallelism.share", "share of that time with 2 or more", CompareUnit::Share, runs,
                              [](const CompareRun& r) {
                                  if (!r.parallelism_ns) return CompareValue::unknown();
                                  if (busy_ns(*r.parallelism_ns) == 0) return CompareValue::none();
                                  return CompareValue::known(parallel_share(*r.parallelism_ns));
                              }));
    s.rows.push_back(make_row("parallelism.switch_ins", "switch-ins", CompareUnit::Quantity, runs,
                              [](const CompareRun& r) { return value_of(r.context_switches); }));
    s.rows.push_back(make_row("parallelism.migrations", "migrations", CompareUnit::Quantity, runs,
                              [](const CompareRun& r) { return value_of(r.migrations); }));
    return s;
}

CompareSection cpu_section(const std::vector<CompareRun>& runs) {
    CompareSection s{"cpu", "CPU time per kind",
                     "The kernel's own CPU clock of the tasks (what CLOCK_THREAD_CPUTIME_ID reads; interrupts and steal "
                     "time left out), summed by the kind each task was created as, over the run's phases (with "
                     "--from-exec, the lesson's). CPUs busy on average: that CPU time over the phases' wall time.",
                     {}};
    std::set<std::string> kinds;
    for (const CompareRun& run : runs) add_keys(kinds, run.cpu_time_by_kind);
    for (const std::string& kind : ordered_kinds(kinds, true)) {
        s.rows.push_back(make_row("cpu." + kind, kind + ": CPU time", CompareUnit::Duration, runs, [&](const CompareRun& r) {
            if (!r.cpu_time_by_kind) return CompareValue::unknown();
            if (auto found = r.cpu_time_by_kind->find(kind); found != r.cpu_time_by_kind->end())
                return CompareValue::known(static_cast<double>(found->second));
            // Tasks of the kind were created and the clock shows none of their time: 0.
            const bool created = r.created && r.created->count(kind) && r.created->at(kind) > 0;
            return created ? CompareValue::known(0) : CompareValue::none();
        }));
        s.rows.back().kind = kind;
    }
    s.rows.push_back(make_row("cpu.all", "all kinds: CPU time", CompareUnit::Duration, runs,
                              [](const CompareRun& r) { return value_of(r.cpu_time_ns); }));
    s.rows.push_back(make_row("cpu.busy", "CPUs busy on average", CompareUnit::Average, runs, [](const CompareRun& r) {
        if (!r.cpu_time_ns || !r.phases_ns) return CompareValue::unknown();
        if (*r.phases_ns == 0) return CompareValue::none();
        return CompareValue::known(static_cast<double>(*r.cpu_time_ns) / static_cast<double>(*r.phases_ns));
    }));
    return s;
}

CompareSection states_section(const std::vector<CompareRun>& runs) {
    CompareSection s{"states", "Where the time went",
                     "Every moment of a task's traced life, from when it was first made runnable to its last "
                     "switch-out, is in one state: running (on a CPU), runnable (waiting for a CPU), sleeping (waiting "
                     "for an event: a lock, a timer, a read), blocked (uninterruptible: disk, page faults) or other. "
                     "Shares of the lives of all the tasks of a kind, summed.",
                     {}};
    std::set<std::string> kinds;
    for (const CompareRun& run : runs) add_keys(kinds, run.states_by_kind);
    for (const std::string& kind : ordered_kinds(kinds, true)) {
        const size_t first = s.rows.size();
        auto states_of = [&](const CompareRun& r) -> const StateTimes* {
            if (!r.states_by_kind) return nullptr;
            auto found = r.states_by_kind->find(kind);
            return found == r.states_by_kind->end() ? nullptr : &found->second;
        };
        s.rows.push_back(make_row("states." + kind + ".life", kind + ": lives, summed", CompareUnit::Duration, runs,
                                  [&](const CompareRun& r) {
                                      if (!r.states_by_kind) return CompareValue::unknown();
                                      const StateTimes* states = states_of(r);
                                      return states ? CompareValue::known(static_cast<double>(states->total()))
                                                    : CompareValue::none();
                                  }));
        for (size_t i = 0; i < kRunStateCount; ++i) {
            const RunState state = static_cast<RunState>(i);
            bool any = false;
            for (const CompareRun& run : runs)
                if (const StateTimes* states = states_of(run)) any = any || (*states)[state] > 0;
            if (!any) continue;  // no run had it: a row of 0% says nothing
            s.rows.push_back(make_row("states." + kind + "." + run_state_name(state), kind + ": " + run_state_name(state),
                                      CompareUnit::Share, runs, [&](const CompareRun& r) {
                                          if (!r.states_by_kind) return CompareValue::unknown();
                                          const StateTimes* states = states_of(r);
                                          if (!states || states->total() == 0) return CompareValue::none();
                                          return CompareValue::known(static_cast<double>((*states)[state]) /
                                                                     static_cast<double>(states->total()));
                                      }));
        }
        for (size_t i = first; i < s.rows.size(); ++i) s.rows[i].kind = kind;
    }
    return s;
}

// --- the rule, and the sentence saying how a row differs ------------------------

std::string sentence_start(const std::string& label) {
    std::string text = label;
    if (!text.empty() && text[0] >= 'a' && text[0] <= 'z') text[0] = static_cast<char>(text[0] - 'a' + 'A');
    return text + ": ";
}

// "; unknown in C; none in D": the runs that took no part.
std::string left_out(const CompareRow& row, const std::vector<CompareRun>& runs) {
    std::string unknown, none;
    for (size_t i = 0; i < runs.size(); ++i) {
        if (row.values[i].state == CompareValue::State::Unknown) unknown += (unknown.empty() ? "" : ", ") + runs[i].label;
        if (row.values[i].state == CompareValue::State::None) none += (none.empty() ? "" : ", ") + runs[i].label;
    }
    return (unknown.empty() ? "" : "; unknown in " + unknown) + (none.empty() ? "" : "; none in " + none);
}

std::string in_run(const CompareRow& row, size_t i, const std::vector<CompareRun>& runs) {
    return format_compare_value(row.values[i], row.unit) + " in " + runs[i].label;
}

void judge(CompareRow& row, const std::vector<CompareRun>& runs) {
    std::vector<size_t> known;
    for (size_t i = 0; i < row.values.size(); ++i)
        if (row.values[i].is_known()) known.push_back(i);
    if (known.size() < 2) return;
    size_t hi = known[0], lo = known[0];
    for (size_t i : known) {
        if (row.values[i].number > row.values[hi].number) hi = i;
        if (row.values[i].number < row.values[lo].number) lo = i;
    }
    const double high = row.values[hi].number, low = row.values[lo].number;
    switch (row.unit) {
        case CompareUnit::Count:
            row.differs = high != low;
            break;
        case CompareUnit::Text:
            for (size_t i : known) row.differs = row.differs || row.values[i].text != row.values[known[0]].text;
            break;
        case CompareUnit::Duration:
        case CompareUnit::Quantity:
        case CompareUnit::Average: {
            const bool ratio = low <= 0 ? high > 0 : high >= kCompareRatio * low;
            const double gap = row.unit == CompareUnit::Duration   ? static_cast<double>(kCompareMinGapNs)
                               : row.unit == CompareUnit::Quantity ? kCompareMinQuantityGap
                                                                   : 0.0;
            row.differs = ratio && high - low >= gap && high > low;
            break;
        }
        case CompareUnit::Share:
            row.differs = high - low >= kComparePoints - 1e-9;
            break;
    }
    if (!row.differs) return;
    if (row.unit != CompareUnit::Text) row.highest = hi, row.lowest = lo;

    std::string text = sentence_start(row.label);
    if (row.unit == CompareUnit::Count || row.unit == CompareUnit::Text) {
        for (size_t k = 0; k < known.size(); ++k) text += (k ? ", " : "") + in_run(row, known[k], runs);
    } else if (row.unit == CompareUnit::Share) {
        const std::string points = std::to_string(static_cast<long>(std::lround((high - low) * 100))) + " points apart";
        if (known.size() == 2)
            text += in_run(row, hi, runs) + ", " + in_run(row, lo, runs) + " (" + points + ")";
        else
            text += "from " + in_run(row, lo, runs) + " to " + in_run(row, hi, runs) + " (" + points + ", the lowest and the highest of " +
                    std::to_string(known.size()) + " runs)";
    } else {
        const char* as = row.unit == CompareUnit::Duration ? " as long in " : row.unit == CompareUnit::Quantity ? " as many in " : " as high in ";
        if (low > 0)
            text += times(high / low) + as + runs[hi].label + " (" + format_compare_value(row.values[hi], row.unit) +
                    ") as in " + runs[lo].label + " (" + format_compare_value(row.values[lo], row.unit) + ")";
        else
            text += in_run(row, hi, runs) + ", " + in_run(row, lo, runs);
        if (known.size() > 2) text += ", the highest and the lowest of " + std::to_string(known.size()) + " runs";
    }
    row.difference = text + left_out(row, runs) + ".";
}

}  // namespace

std::string compare_rule_text() {
    char ratio[16];
    std::snprintf(ratio, sizeof ratio, "%.1fx", kCompareRatio);
    return std::string("A figure is marked when it differs enough to matter: a count (tasks, processes, threads, address "
                       "spaces, tasks created, the most on a CPU at once, CPUs, lost events) or the kernel differs at "
                       "all; a time is ") +
           ratio + " or more the shortest, and at least " + format_duration_ns(kCompareMinGapNs) +
           " longer; events, switch-ins and migrations " + ratio + " or more, and at least " +
           std::to_string(static_cast<int>(kCompareMinQuantityGap)) + " more; an average " + ratio +
           " or more; a share " + std::to_string(static_cast<int>(std::lround(kComparePoints * 100))) +
           " percentage points or more apart. Runs where a figure is unknown or none take no part.";
}

std::string format_compare_value(const CompareValue& value, CompareUnit unit) {
    if (value.state == CompareValue::State::Unknown) return "unknown";
    if (value.state == CompareValue::State::None) return "none";
    char buf[48];
    switch (unit) {
        case CompareUnit::Text: return value.text;
        case CompareUnit::Duration: {
            // A report's numbers are up to 2^64 - 1, which a double rounds up to 2^64.
            const double ns = std::round(value.number);
            return format_duration_ns(ns <= 0 ? 0 : ns >= 18446744073709551615.0 ? UINT64_MAX : static_cast<uint64_t>(ns));
        }
        case CompareUnit::Share: return percent(value.number);
        case CompareUnit::Average: std::snprintf(buf, sizeof buf, "%.2f", value.number); return buf;
        case CompareUnit::Count:
        case CompareUnit::Quantity: std::snprintf(buf, sizeof buf, "%.0f", value.number); return buf;
    }
    return "";
}

std::vector<CompareNote> compare_run_notes(const CompareRun& run) {
    std::vector<CompareNote> notes;
    if (!run.complete) {
        std::string note = run.label + " is incomplete:";
        if (run.lost_events && *run.lost_events > 0) note += " " + counted(*run.lost_events, "event was", "events were") + " lost;";
        if (run.cut_off) note += " its trace file was cut off;";
        else if (run.interrupted) note += " it was interrupted;";
        if (run.limit_reached) note += " its tracing stopped at a limit (" + *run.limit_reached + ");";
        notes.push_back({true, note + " its figures cover only what was captured."});
    }
    if (run.approximate)
        notes.push_back({true, "Some of " + run.label + "'s figures are approximate: cxtrace inferred or repaired part "
                                                        "of its trace (its report.html says what)."});
    if (run.scope_note) notes.push_back({false, run.label + ": " + *run.scope_note});
    return notes;
}

Result<std::string> locate_report_json(const std::string& path) {
    const std::string give = ": give a run's output directory (where cxtrace run wrote report.json) or a report.json";
    struct stat st;
    if (stat(path.c_str(), &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR) return Error{path + ": no such file or directory" + give};
        return os_error("cannot inspect " + path);
    }
    if (S_ISDIR(st.st_mode)) {
        const std::string dir = path.size() > 1 && path.back() == '/' ? path.substr(0, path.size() - 1) : path;
        const std::string report = dir + "/" + kReportFileName;
        struct stat inside;
        if (stat(report.c_str(), &inside) == 0 && S_ISREG(inside.st_mode)) return report;
        if (stat((dir + "/trace.cxt").c_str(), &inside) == 0)
            return Error{path + " holds no report.json but a trace.cxt: run `cxtrace report " + dir +
                         "/trace.cxt` first, then compare the directory"};
        return Error{path + " holds no report.json" + give};
    }
    if (!S_ISREG(st.st_mode)) return Error{path + " is not a regular file" + give};
    if (path.size() >= 4 && path.compare(path.size() - 4, 4, ".cxt") == 0)
        return Error{path + " is a trace, not a report: run `cxtrace report " + path + "` first, then compare its directory"};
    return path;
}

Result<std::string> read_regular_file(const std::string& path, uint64_t limit) {
    struct Fd {
        int fd;
        ~Fd() {
            if (fd >= 0) close(fd);
        }
    } file{open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC)};
    if (file.fd < 0) return os_error("cannot read " + path);
    struct stat st;
    if (fstat(file.fd, &st) != 0 || !S_ISREG(st.st_mode)) return Error{path + " is not a regular file"};
    auto too_large = [&](uint64_t bytes) {
        return Error{path + " is too large (" + std::to_string(bytes >> 20) + " MiB; at most " + std::to_string(limit >> 20) +
                     " MiB are read)"};
    };
    if (static_cast<uint64_t>(st.st_size) > limit) return too_large(static_cast<uint64_t>(st.st_size));
    std::string text;
    text.reserve(static_cast<size_t>(st.st_size));
    char buf[1 << 16];
    for (;;) {
        const ssize_t got = read(file.fd, buf, sizeof buf);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) return os_error("cannot read " + path);
        if (got == 0) break;
        text.append(buf, static_cast<size_t>(got));
        if (text.size() > limit) return too_large(text.size());  // it grew while read
    }
    return text;
}

Result<CompareRun> read_compare_run(const std::string& report_json_path) {
    // Not blocking on a FIFO swapped in since locate_report_json looked.
    auto text = read_regular_file(report_json_path);
    if (!text) return text.error();
    return compare_run_from_text(*text, report_json_path);
}

Result<CompareRun> compare_run_from_text(const std::string& text, const std::string& source) {
    if (text.empty()) return Error{source + " is empty: give the report.json that cxtrace run or cxtrace report wrote"};
    json report;
    try {
        // The tasks, the bulk of a big run's report, are not needed: skipped as they are parsed.
        report = json::parse(text, [](int depth, json::parse_event_t event, json& parsed) {
            return !(depth == 1 && event == json::parse_event_t::key && parsed == "tasks");
        });
    } catch (const json::exception& e) {
        std::string what = e.what();
        if (const size_t end = what.find("] "); what.compare(0, 16, "[json.exception.") == 0 && end != std::string::npos)
            what = what.substr(end + 2);
        return Error{source + " is not valid JSON (" + terminal_safe(cut(what, 200)) +
                     "): give the whole report.json that cxtrace run or cxtrace report wrote"};
    }
    return compare_run_from_report(report, source);
}

Result<CompareRun> compare_run_from_report(const json& report, const std::string& source) {
    if (std::string problem = schema_problem(report, source); !problem.empty()) return Error{problem};
    const json* run = member(&report, "run");
    const json* summary = member(&report, "summary");
    for (const auto& [name, part] : {std::pair{"run", run}, std::pair{"summary", summary}})
        if (!part || !part->is_object())
            return Error{source + " has no \"" + name + "\" object: it is not a whole cxtrace report.json"};

    CompareRun out;
    out.source = source;
    out.workload = as_string(member(run, "workload")).value_or("");
    if (const json* command = member(run, "command"); command && command->is_array())
        for (const json& arg : *command)
            if (arg.is_string()) out.command.push_back(arg.get<std::string>());
    out.started_at = as_string(member(run, "started_at")).value_or("");
    out.kernel = as_string(member(run, "kernel"));
    out.cpus = as_u64(member(run, "cpus"));
    out.duration_ns = as_u64(member(run, "duration_ns"));
    out.events = as_u64(member(run, "events"));
    out.lost_events = as_u64(member(run, "lost_events"));
    out.complete = as_bool(member(run, "complete"), true);
    out.approximate = as_bool(member(run, "approximate"), false);
    out.interrupted = as_bool(member(run, "interrupted"), false);
    out.cut_off = as_string(member(run, "cut_off"));
    // Only the options cxtrace has: the text is shown as it is.
    if (auto option = as_string(member(member(run, "limit_reached"), "option"));
        option && (*option == "--max-trace-size" || *option == "--duration"))
        out.limit_reached = option;
    out.scope_note = as_string(member(run, "scope_note"));

    out.tasks = as_u64(member(summary, "tasks"));
    out.processes = as_u64(member(summary, "processes"));
    out.threads = as_u64(member(summary, "threads"));
    out.address_spaces = as_u64(member(summary, "address_spaces"));
    out.first_run = stats_by_kind(member(summary, "creation_latency_ns"));
    out.syscall = stats_by_kind(member(summary, "syscall_latency_ns"));
    out.max_parallelism = as_u64(member(summary, "max_parallelism"));
    if (const json* parallelism = member(summary, "parallelism_ns"); parallelism && parallelism->is_object()) {
        std::map<uint32_t, uint64_t> by_n;
        for (const auto& item : parallelism->items()) {
            const std::string& n = item.key();
            auto ns = as_u64(&item.value());
            if (ns && !n.empty() && n.size() <= 6 && n.find_first_not_of("0123456789") == std::string::npos)
                by_n[static_cast<uint32_t>(std::stoul(n))] += *ns;
        }
        out.parallelism_ns = std::move(by_n);
    }
    out.context_switches = as_u64(member(summary, "context_switches"));
    out.migrations = as_u64(member(summary, "migrations"));
    if (const json* by_kind = member(summary, "states_ns_by_kind"); by_kind && by_kind->is_object()) {
        std::map<std::string, StateTimes> states;
        for (const auto& item : by_kind->items()) {
            if (states.size() >= kMaxKinds) break;
            StateTimes times;
            for (size_t i = 0; i < kRunStateCount; ++i)
                times.ns[i] = as_u64(member(&item.value(), run_state_name(static_cast<RunState>(i)))).value_or(0);
            states[item.key()] = times;
        }
        out.states_by_kind = std::move(states);
    }

    const json* phases = member(&report, "phases");
    out.created = sum_over_phases(phases, "tasks_created");
    // The CPU clock: known when the phases have it (traces of event ABI 3 on).
    if (phases && phases->is_array() && !phases->empty()) {
        uint64_t cpu = 0, wall = 0;
        bool clock = false, walls = true;
        for (const json& phase : *phases) {
            if (auto ns = as_u64(member(&phase, "cpu_time_ns"))) cpu += *ns, clock = true;
            if (auto ns = as_u64(member(&phase, "duration_ns"))) wall += *ns;
            else walls = false;
        }
        if (clock) {
            out.cpu_time_ns = cpu;
            out.cpu_time_by_kind = sum_over_phases(phases, "cpu_time_ns_by_kind");
        }
        if (walls) out.phases_ns = wall;
    }
    return out;
}

Result<Comparison> compare_runs(std::vector<CompareRun> runs, const std::vector<std::string>& labels) {
    if (runs.size() < kCompareMinRuns || runs.size() > kCompareMaxRuns)
        return Error{"compare takes " + std::to_string(kCompareMinRuns) + " to " + std::to_string(kCompareMaxRuns) +
                     " runs, not " + std::to_string(runs.size())};
    if (!labels.empty() && labels.size() != runs.size())
        return Error{"give one --label per run, in the order of the runs: " + counted(runs.size(), "run", "runs") + ", " +
                     counted(labels.size(), "label", "labels")};
    for (const std::string& label : labels)
        if (label.empty()) return Error{"a --label cannot be empty: name each run, or give no --label"};
    assign_labels(runs);
    for (size_t i = 0; i < runs.size(); ++i) {
        runs[i].letter = static_cast<char>('A' + i);
        if (!labels.empty()) runs[i].label = labels[i];
    }
    Comparison comparison;
    comparison.sections = {runs_section(runs), creation_section(runs), tasks_section(runs),
                           parallelism_section(runs), cpu_section(runs), states_section(runs)};
    for (CompareSection& section : comparison.sections)
        for (CompareRow& row : section.rows) {
            judge(row, runs);
            if (row.differs) comparison.differences.push_back(row.difference);
        }
    comparison.runs = std::move(runs);
    return comparison;
}

}  // namespace cxt
