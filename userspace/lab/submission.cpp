#include "submission.h"

#include <cmath>
#include <cstdio>

#include "grading.h"
#include "lab_result.h"

namespace cxt::lab {

namespace {

using nlohmann::json;

constexpr const char* kSchemaPrefix = "cxtrace.lab-result/";

const json* member(const json* object, const char* key) {
    if (!object || !object->is_object()) return nullptr;
    auto found = object->find(key);
    return found == object->end() ? nullptr : &*found;
}

// At most kSubmissionMaxText bytes, never cutting a UTF-8 character.
std::string bounded(const std::string& text) {
    if (text.size() <= kSubmissionMaxText) return text;
    size_t at = kSubmissionMaxText;
    while (at > 0 && (static_cast<unsigned char>(text[at]) & 0xc0) == 0x80) --at;
    return text.substr(0, at) + "...";
}

std::string shown(const std::string& text) {
    std::string cut = text.size() > 60 ? text.substr(0, 60) + "..." : text;
    return "\"" + cut + "\"";
}

// A field that must be a string (or, when `nullable`, null or absent).
Result<std::string> text_field(const json* object, const char* key, const std::string& where, bool nullable) {
    const json* value = member(object, key);
    if (value && value->is_string()) return bounded(value->get<std::string>());
    if (nullable && (!value || value->is_null())) return std::string();
    return Error{where + "\"" + key + "\" is " + (value ? "not a string" : "missing")};
}

std::optional<uint64_t> as_u64(const json* value) {
    if (!value) return std::nullopt;
    if (value->is_number_unsigned()) return value->get<uint64_t>();
    if (value->is_number_integer() && value->get<int64_t>() >= 0) return static_cast<uint64_t>(value->get<int64_t>());
    return std::nullopt;
}

std::optional<double> as_number(const json* value) {
    if (!value || !value->is_number()) return std::nullopt;
    return value->get<double>();
}

// "" when the schema is one this cxtrace reads, else why not.
std::string schema_problem(const json& lab, const std::string& source) {
    if (!lab.is_object()) return source + " is not a cxtrace lab.json (not a JSON object)";
    const json* schema = member(&lab, "schema");
    if (!schema || !schema->is_string()) return source + " is not a cxtrace lab.json (it has no \"schema\" field)";
    const std::string text = schema->get<std::string>(), prefix = kSchemaPrefix;
    const std::string number = text.compare(0, prefix.size(), prefix) == 0 ? text.substr(prefix.size()) : "";
    if (number.empty() || number.size() > 6 || number.find_first_not_of("0123456789") != std::string::npos)
        return source + " is not a cxtrace lab.json: its schema is " + shown(text) + ", this cxtrace reads " +
               kLabResultSchema;
    const int version = std::stoi(number);
    const int known = std::stoi(std::string(kLabResultSchema).substr(prefix.size()));
    if (version > known)
        return source + " was written by a newer cxtrace (schema " + shown(text) + "; this one reads " +
               kLabResultSchema + ")";
    if (version < 1) return source + " has an unknown schema " + shown(text);
    return "";
}

bool one_of(const std::string& word, std::initializer_list<const char*> words) {
    for (const char* w : words)
        if (word == w) return true;
    return false;
}

Result<SubmittedQuestion> read_question(const json& entry, size_t index) {
    const std::string where = "question " + std::to_string(index + 1) + ": ";
    if (!entry.is_object()) return Error{where + "not an object"};
    SubmittedQuestion q;
    auto id = text_field(&entry, "id", where, false);
    if (!id) return id.error();
    q.id = *id;
    if (q.id.empty()) return Error{where + "\"id\" is empty"};
    auto kind = text_field(&entry, "kind", where, false);
    if (!kind) return kind.error();
    q.kind = *kind;
    if (!one_of(q.kind, {"number", "choice", "ranking"}))
        return Error{where + "\"kind\" is " + shown(q.kind) + ", not number, choice or ranking"};
    auto verdict = text_field(&entry, "verdict", where, false);
    if (!verdict) return verdict.error();
    q.verdict = *verdict;
    if (!one_of(q.verdict, {"right", "wrong", "unanswered", "not-measured"}))
        return Error{where + "\"verdict\" is " + shown(q.verdict) + ", not right, wrong, unanswered or not-measured"};
    for (const auto& [key, out] : {std::pair{"prompt", &q.prompt}, std::pair{"unit", &q.unit},
                                   std::pair{"measured_text", &q.measured_text}, std::pair{"answer", &q.answer}}) {
        auto text = text_field(&entry, key, where, true);
        if (!text) return text.error();
        *out = *text;
    }
    if (const json* prediction = member(&entry, "prediction"); prediction && !prediction->is_null()) {
        if (!prediction->is_string()) return Error{where + "\"prediction\" is not a string"};
        q.prediction = bounded(prediction->get<std::string>());
    }
    if (q.kind == "ranking") {
        const json* items = member(&entry, "items");
        if (items && items->is_array())
            for (const json& item : *items)
                if (const json* metric = member(&item, "metric"); metric && metric->is_string())
                    q.metrics.push_back(bounded(metric->get<std::string>()));
    } else if (const json* metric = member(&entry, "metric"); metric && metric->is_string()) {
        q.metrics.push_back(bounded(metric->get<std::string>()));
    }
    // Kept as recorded; each reader checks the type it needs.
    if (const json* value = member(&entry, "prediction_value")) q.prediction_value = *value;
    if (const json* value = member(&entry, "measured")) q.measured = *value;
    return q;
}

// --- report.json -------------------------------------------------------------

const json* phase_named(const json& report, const std::string& name) {
    const json* phases = member(&report, "phases");
    if (!phases || !phases->is_array()) return nullptr;
    for (const json& phase : *phases)
        if (const json* n = member(&phase, "name"); n && n->is_string() && n->get<std::string>() == name) return &phase;
    return nullptr;
}

ReportValue not_checkable() { return {}; }
ReportValue known(double value) { return {true, value}; }
ReportValue unknown() { return {true, std::nullopt}; }
ReportValue of(std::optional<double> value) { return value ? known(*value) : not_checkable(); }

ReportValue latency_from(const json* by_kind, const MetricTerm& term) {
    if (!by_kind || !by_kind->is_object()) return not_checkable();
    const std::string stat = term.args.size() > 1 ? term.args[1] : "p50";
    const json* stats = member(by_kind, term.args[0].c_str());
    const std::optional<uint64_t> count = as_u64(member(stats, "count"));
    if (stat == "count") return known(count ? static_cast<double>(*count) : 0);
    if (!stats || !count || *count == 0) return unknown();
    auto ns = as_u64(member(stats, stat.c_str()));
    return ns ? known(static_cast<double>(*ns) / 1e3) : not_checkable();
}

ReportValue parallelism_from(const json* holder, const std::string& name) {
    if (name == "max_parallelism") return of(as_number(member(holder, "max_parallelism")));
    const json* by_n = member(holder, "parallelism_ns");
    if (!by_n || !by_n->is_object()) return not_checkable();
    double busy = 0, weighted = 0, parallel = 0;
    for (const auto& item : by_n->items()) {
        auto ns = as_u64(&item.value());
        const std::string& key = item.key();
        if (!ns || key.empty() || key.size() > 6 || key.find_first_not_of("0123456789") != std::string::npos)
            return not_checkable();
        const double n = std::stod(key), t = static_cast<double>(*ns);
        if (n >= 1) busy += t, weighted += n * t;
        if (n >= 2) parallel += t;
    }
    if (busy == 0) return unknown();
    return known(name == "avg_parallelism" ? weighted / busy : 100.0 * parallel / busy);
}

ReportValue states_from(const json* states, const MetricTerm& term) {
    if (!states || !states->is_object()) return not_checkable();
    double in = 0, total = 0;
    for (const auto& item : states->items()) {
        auto ns = as_u64(&item.value());
        if (!ns) return not_checkable();
        total += static_cast<double>(*ns);
        if (item.key() == term.args[0]) in += static_cast<double>(*ns);
    }
    if (term.name == "state_ms") return known(in / 1e6);
    if (total == 0) return unknown();
    return known(100.0 * in / total);
}

ReportValue term_from_report(const MetricTerm& term, const json& report) {
    const json* summary = member(&report, "summary");
    const json* run = member(&report, "run");
    const std::string& name = term.name;
    const json* phase = nullptr;
    if (!term.phase.empty()) {
        phase = phase_named(report, term.phase);
        if (!phase) return member(&report, "phases") ? unknown() : not_checkable();
    }
    if (name == "tasks") {
        if (!phase) return of(as_number(member(summary, "tasks")));
        const json* created = member(phase, "tasks_created");
        if (!created || !created->is_object()) return not_checkable();
        double n = 0;
        for (const auto& item : created->items())
            if (auto count = as_u64(&item.value())) n += static_cast<double>(*count);
        return known(n);
    }
    if (name == "processes" || name == "threads" || name == "migrations") return of(as_number(member(summary, name.c_str())));
    if (name == "created") {
        if (!phase) return not_checkable();  // counted over the tasks
        const json* created = member(phase, "tasks_created");
        if (!created || !created->is_object()) return not_checkable();
        auto n = as_u64(member(created, term.args[0].c_str()));
        return known(n ? static_cast<double>(*n) : 0);
    }
    if (name == "first_run_us") return latency_from(member(phase ? phase : summary, "creation_latency_ns"), term);
    if (name == "syscall_us") return latency_from(member(phase ? phase : summary, "syscall_latency_ns"), term);
    if (name == "max_parallelism" || name == "avg_parallelism" || name == "parallel_share")
        return parallelism_from(phase ? phase : summary, name);
    if (name == "duration_ms") {
        if (phase) {
            auto ns = as_number(member(phase, "duration_ns"));
            return ns ? known(*ns / 1e6) : not_checkable();
        }
        auto ns = as_u64(member(run, "duration_ns"));
        if (!ns) return not_checkable();
        const json* lesson = member(run, "lesson");
        if (lesson && lesson->is_object()) {
            const json* matched = member(lesson, "matched");
            if (!matched || !matched->is_boolean()) return not_checkable();
            if (matched->get<bool>()) {
                auto start = as_u64(member(lesson, "start_ns"));
                if (!start) return not_checkable();
                return known(static_cast<double>(*ns > *start ? *ns - *start : 0) / 1e6);
            }
        }
        return known(static_cast<double>(*ns) / 1e6);
    }
    if (name == "oncpu_ms") {
        if (!phase) return not_checkable();
        auto ns = as_number(member(phase, "oncpu_ns"));
        return ns ? known(*ns / 1e6) : not_checkable();
    }
    if (name == "cpu_time_ms") {
        if (!phase) return not_checkable();
        const json* total = member(phase, "cpu_time_ns");
        if (!total) return not_checkable();
        if (total->is_null()) return unknown();  // no CPU clock in this trace
        if (term.args.empty()) {
            auto ns = as_number(total);
            return ns ? known(*ns / 1e6) : not_checkable();
        }
        const json* by_kind = member(phase, "cpu_time_ns_by_kind");
        if (!by_kind || !by_kind->is_object()) return not_checkable();
        auto ns = as_u64(member(by_kind, term.args[0].c_str()));
        return known(ns ? static_cast<double>(*ns) / 1e6 : 0);
    }
    if (name == "state_share" || name == "state_ms") {
        if (phase) {
            const json* states = member(phase, "states_ns");
            if (states && states->is_null()) return unknown();
            return states_from(states, term);
        }
        const json* by_kind = member(summary, "states_ns_by_kind");
        if (!by_kind) return not_checkable();
        if (by_kind->is_null()) return unknown();
        if (!by_kind->is_object()) return not_checkable();
        json merged = json::object();
        for (const auto& item : by_kind->items()) {
            if (term.args.size() >= 2 && item.key() != term.args[1]) continue;
            if (!item.value().is_object()) return not_checkable();
            for (const auto& state : item.value().items()) {
                auto ns = as_u64(&state.value());
                if (!ns) return not_checkable();
                merged[state.key()] = merged.value(state.key(), uint64_t{0}) + *ns;
            }
        }
        return states_from(&merged, term);
    }
    if (name == "locks" || name == "lock_waits" || name == "lock_handovers" || name == "lock_wait_ms") {
        const json* locks = member(summary, "locks");
        if (!locks || !locks->is_array()) return not_checkable();
        if (name == "locks") return known(static_cast<double>(locks->size()));
        const char* field = name == "lock_waits" ? "waits" : name == "lock_handovers" ? "handovers" : "ns";
        double sum = 0;
        for (const json& lock : *locks) {
            auto n = as_u64(member(&lock, field));
            if (!n) return not_checkable();
            sum += static_cast<double>(*n);
        }
        return known(name == "lock_wait_ms" ? sum / 1e6 : sum);
    }
    // Per-task metrics, the address spaces and the CPUs used are counted
    // over the tasks, which are not read.
    return not_checkable();
}

bool same_number(double a, double b) { return std::fabs(a - b) <= 1e-9 + 1e-6 * std::max(std::fabs(a), std::fabs(b)); }

std::string number_text(double value) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%.6g", value);
    return buf;
}

// What lab.json recorded for a metric: a number, unknown (null), or not a
// number (a word: not compared).
struct Recorded {
    bool comparable = false;
    std::optional<double> value;
};
Recorded recorded(const json& measured) {
    if (measured.is_null()) return {true, std::nullopt};
    if (measured.is_number()) return {true, measured.get<double>()};
    return {};
}

std::string base_name(const std::string& path) {
    const size_t slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

Result<Submission> read_submission(const std::string& text, const std::string& source) {
    if (text.empty()) return Error{source + " is empty"};
    json lab;
    try {
        lab = json::parse(text);
    } catch (const json::exception& e) {
        std::string what = e.what();
        if (const size_t end = what.find("] "); what.compare(0, 16, "[json.exception.") == 0 && end != std::string::npos)
            what = what.substr(end + 2);
        if (what.size() > 160) what = what.substr(0, 160) + "...";
        return Error{source + " is not valid JSON (" + what + ")"};
    }
    return submission_from_json(lab, source);
}

Result<Submission> submission_from_json(const json& lab, const std::string& source) {
    if (std::string problem = schema_problem(lab, source); !problem.empty()) return Error{problem};
    const std::string where = source + ": ";
    Submission out;
    const json* sheet = member(&lab, "sheet");
    if (!sheet || !sheet->is_object()) return Error{where + "\"sheet\" is not an object"};
    auto name = text_field(sheet, "name", where + "sheet.", false);
    if (!name) return name.error();
    if (name->empty()) return Error{where + "sheet.\"name\" is empty"};
    out.sheet = *name;
    for (const auto& [key, field] : {std::pair{"version", &out.sheet_version}, std::pair{"title", &out.sheet_title}}) {
        auto value = text_field(sheet, key, where + "sheet.", true);
        if (!value) return value.error();
        *field = *value;
    }
    auto student = text_field(&lab, "student", where, true);
    if (!student) return student.error();
    out.student = *student;
    for (const auto& [key, field] : {std::pair{"status", &out.status}, std::pair{"started_at", &out.started_at}}) {
        auto value = text_field(&lab, key, where, true);
        if (!value) return value.error();
        *field = *value;
    }
    if (out.status.empty()) out.status = "graded";
    if (!one_of(out.status, {"graded", "run-interrupted", "run-failed", "questions-interrupted"}))
        return Error{where + "\"status\" is " + shown(out.status) + ", not one cxtrace lab writes"};
    if (const json* seed = member(&lab, "seed"); seed && !seed->is_null()) {
        out.seed = as_u64(seed);
        if (!out.seed) return Error{where + "\"seed\" is not a whole number"};
    }
    if (const json* parameters = member(&lab, "parameters"); parameters && parameters->is_object())
        for (const auto& item : parameters->items())
            if (item.value().is_number_integer() && out.parameters.size() < kSubmissionMaxQuestions)
                out.parameters[bounded(item.key())] = item.value().get<int64_t>();
    if (const json* command = member(&lab, "command"); command && command->is_array())
        for (const json& arg : *command)
            if (arg.is_string() && out.command.size() < 64) out.command.push_back(bounded(arg.get<std::string>()));
    const json* machine = member(&lab, "machine");
    auto kernel = text_field(machine, "kernel", where + "machine.", true);
    if (!kernel) return kernel.error();
    out.kernel = *kernel;
    out.cpus = as_u64(member(machine, "cpus"));
    if (const json* report = member(&lab, "report"); report && !report->is_null()) {
        if (!report->is_string()) return Error{where + "\"report\" is not a string"};
        out.report = bounded(report->get<std::string>());
    }
    if (const json* complete = member(&lab, "run_complete"); complete && complete->is_boolean())
        out.run_complete = complete->get<bool>();
    const json* questions = member(&lab, "questions");
    if (!questions || !questions->is_array()) return Error{where + "\"questions\" is not a list"};
    if (questions->size() > kSubmissionMaxQuestions)
        return Error{where + std::to_string(questions->size()) + " questions: a lab sheet has at most 9"};
    for (size_t i = 0; i < questions->size(); ++i) {
        auto question = read_question((*questions)[i], i);
        if (!question) return Error{where + question.error().what};
        for (const SubmittedQuestion& earlier : out.questions)
            if (earlier.id == question->id) return Error{where + "question id " + shown(earlier.id) + " is there twice"};
        out.questions.push_back(std::move(*question));
    }
    return out;
}

std::vector<std::string> regrade_differences(const Submission& submission, const Sheet& sheet) {
    std::vector<std::string> differences;
    Variant variant;
    variant.seed = submission.seed.value_or(0);
    variant.values = submission.parameters;
    for (const SubmittedQuestion& recorded_question : submission.questions) {
        const std::string& id = recorded_question.id;
        const Question* question = nullptr;
        for (const Question& q : sheet.questions)
            if (q.id == id) question = &q;
        if (!question) {
            differences.push_back("question " + id + " is not in the sheet " + sheet.name + " version " + sheet.version);
            continue;
        }
        if (recorded_question.kind != question_kind_name(question->kind)) {
            differences.push_back("question " + id + " is a " + recorded_question.kind + " question in lab.json, a " +
                                  question_kind_name(question->kind) + " question in the sheet");
            continue;
        }
        std::optional<Prediction> prediction;
        if (recorded_question.prediction) {
            auto parsed = parse_prediction(*question, *recorded_question.prediction);
            if (!parsed) {
                differences.push_back("question " + id + ": its prediction \"" + *recorded_question.prediction +
                                      "\" is not one the sheet takes (" + parsed.error().what + ")");
                continue;
            }
            prediction = std::move(*parsed);
        }
        // The values lab.json recorded, by the metric each was measured for.
        const MeasureFn recorded_value = [&](const Metric& metric) {
            json value;
            if (question->kind == QuestionKind::Ranking) {
                for (size_t i = 0; i < question->items.size(); ++i)
                    if (question->items[i].metric.text == metric.text && recorded_question.measured.is_array() &&
                        i < recorded_question.measured.size())
                        value = recorded_question.measured[i];
            } else if (question->metric.text == metric.text) {
                value = recorded_question.measured;
            }
            Measured m;
            if (value.is_number()) {
                m.known = true;
                m.number = value.get<double>();
                m.unit = recorded_question.unit;
            } else if (value.is_string()) {
                m.known = true;
                m.is_number = false;
                m.word = value.get<std::string>();
            } else {
                m.why = "not recorded in lab.json";
            }
            return m;
        };
        const Graded graded = grade(*question, prediction, recorded_value, sheet, variant);
        if (verdict_name(graded.verdict) == recorded_question.verdict) continue;
        differences.push_back("question " + id + ": lab.json says " + recorded_question.verdict + ", the sheet grades its " +
                              (prediction ? "prediction (" + *recorded_question.prediction + ")" : std::string("missing prediction")) +
                              " against its measured value (" + graded.measured_text + ") " + verdict_name(graded.verdict));
    }
    return differences;
}

bool submission_was_run(const Submission& submission) {
    return submission.status == "graded" || submission.status == "run-interrupted";
}

ReportValue metric_from_report(const Metric& metric, const json& report) {
    std::vector<ReportValue> values;
    for (const MetricTerm& term : metric.terms) values.push_back(term_from_report(term, report));
    if (values.empty()) return not_checkable();
    for (const ReportValue& v : values)
        if (!v.checkable) return not_checkable();
    if (values.size() == 1) return values.front();
    for (const ReportValue& v : values)
        if (!v.value) return unknown();
    if (*values[1].value == 0) return unknown();  // as the grader: the divisor is 0
    return known(*values[0].value / *values[1].value);
}

ReportCheck check_submission_against_report(const Submission& submission, const json& report) {
    ReportCheck check;
    const json* run = member(&report, "run");
    auto differ = [&](const std::string& what, const std::string& in_lab, const std::string& in_report) {
        check.differences.push_back(what + ": lab.json has " + in_lab + ", report.json " + in_report);
    };
    auto report_text = [&](const char* key) {
        const json* value = member(run, key);
        return value && value->is_string() ? value->get<std::string>() : std::string();
    };
    if (!submission.started_at.empty() && submission.started_at != report_text("started_at"))
        differ("the run's start", shown(submission.started_at), shown(report_text("started_at")));
    if (!submission.kernel.empty() && submission.kernel != report_text("kernel"))
        differ("the kernel", shown(submission.kernel), shown(report_text("kernel")));
    if (submission.cpus && as_u64(member(run, "cpus")) != submission.cpus) {
        auto cpus = as_u64(member(run, "cpus"));
        differ("the CPUs", std::to_string(*submission.cpus), cpus ? std::to_string(*cpus) : "none");
    }
    if (const json* complete = member(run, "complete");
        submission.run_complete && complete && complete->is_boolean() && complete->get<bool>() != *submission.run_complete)
        differ("whether the run was complete", *submission.run_complete ? "yes" : "no",
               complete->get<bool>() ? "yes" : "no");
    // The command: lab.json has the workload's name where report.json has
    // the path it ran from; the arguments are the same.
    if (const json* command = member(run, "command"); command && command->is_array() && !submission.command.empty()) {
        std::vector<std::string> ran;
        for (const json& arg : *command) ran.push_back(arg.is_string() ? arg.get<std::string>() : std::string());
        bool same = ran.size() == submission.command.size();
        for (size_t i = 0; same && i < ran.size(); ++i)
            same = i == 0 ? base_name(ran[0]) == base_name(submission.command[0]) : ran[i] == submission.command[i];
        if (!same) {
            auto joined = [](const std::vector<std::string>& argv) {
                std::string text;
                for (const std::string& arg : argv) text += (text.empty() ? "" : " ") + arg;
                return text;
            };
            differ("the command", shown(joined(submission.command)), shown(joined(ran)));
        }
    }
    // Each measured value report.json can give.
    for (const SubmittedQuestion& q : submission.questions) {
        if (q.verdict == "not-measured" && q.measured.is_null()) continue;
        const bool ranking = q.kind == "ranking";
        for (size_t i = 0; i < q.metrics.size(); ++i) {
            const json measured = ranking ? (q.measured.is_array() && i < q.measured.size() ? q.measured[i] : json())
                                          : q.measured;
            const Recorded in_lab = recorded(measured);
            auto metric = parse_metric(q.metrics[i]);
            const ReportValue in_report = metric ? metric_from_report(*metric, report) : ReportValue{};
            if (!in_lab.comparable || !in_report.checkable) {
                ++check.values_uncheckable;
                continue;
            }
            ++check.values_checked;
            const bool same = in_lab.value && in_report.value ? same_number(*in_lab.value, *in_report.value)
                                                              : !in_lab.value && !in_report.value;
            if (same) continue;
            const std::string what = "question " + q.id + (ranking ? " item " + std::string(1, static_cast<char>('a' + i)) : "") +
                                     " (" + q.metrics[i] + ")";
            differ(what, in_lab.value ? number_text(*in_lab.value) : "unknown",
                   in_report.value ? "gives " + number_text(*in_report.value) : "gives unknown");
        }
    }
    return check;
}

}  // namespace cxt::lab
