// cxtrace lab without root: sheets (good and malformed), seeds, the metric
// vocabulary on recorded traces, grading of right and wrong predictions of
// each kind, answers files, lab.json, and the page's "Your predictions".
#include <catch2/catch.hpp>

#include <fstream>
#include <set>
#include <sstream>

#include "answers.h"
#include "correlator.h"
#include "grading.h"
#include "html_report.h"
#include "lab_result.h"
#include "metrics.h"
#include "sheet.h"

using namespace cxt;
using namespace cxt::lab;

namespace {

RunModel recorded(const std::string& name) {
    auto model = correlate_trace_file(std::string(CXTRACE_TEST_DATA) + "/" + name);
    REQUIRE(model);
    return std::move(*model);
}

Measured measure_text(const RunModel& model, const std::string& text) {
    auto metric = parse_metric(text);
    REQUIRE(metric);
    return Measurer(model)(*metric);
}

double number_of(const RunModel& model, const std::string& text) {
    Measured m = measure_text(model, text);
    INFO(text << ": " << m.why);
    REQUIRE(m.known);
    REQUIRE(m.is_number);
    return m.number;
}

std::string word_of(const RunModel& model, const std::string& text) {
    Measured m = measure_text(model, text);
    INFO(text << ": " << m.why);
    REQUIRE(m.known);
    REQUIRE_FALSE(m.is_number);
    return m.word;
}

// A sheet about tests/data/shared-globals.cxt (a thread and a child process).
const char* const kSheet = R"(format = "cxtrace.lab/1"
version = "3"
title = "Shared globals"

[workload]
name = "shared-globals"
args = ["--value", "{value}"]

[parameters]
value = { min = 10, max = 999 }
spare = { values = [1, 2, 3] }

[[question]]
id = "spaces"
kind = "number"
prompt = "n = {value}: how many address spaces?"
metric = "address_spaces"
tolerance = { absolute = 0 }
explanation = "{measured} address spaces (you said {prediction}; right: {answer}); tasks {metric:tasks}, value {value}."

[[question]]
id = "child"
kind = "choice"
prompt = "Does the child share main's memory?"
metric = "shares_mm:root:process#1"
choices = [
  { text = "yes", word = "yes" },
  { text = "no", word = "no" },
]
explanation = "Answer: {answer}."

[[question]]
id = "rank"
kind = "ranking"
prompt = "Rank by count"
items = [
  { text = "tasks", metric = "tasks" },
  { text = "processes", metric = "processes" },
  { text = "threads", metric = "threads" },
]
explanation = "{measured}"
)";

Sheet good_sheet() {
    auto sheet = parse_sheet(kSheet, "/labs/shared.toml");
    INFO((sheet ? "" : sheet.error().what));
    REQUIRE(sheet);
    return std::move(*sheet);
}

std::string parse_error(const std::string& text) {
    auto sheet = parse_sheet(text, "bad.toml");
    REQUIRE_FALSE(sheet);
    return sheet.error().what;
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
    size_t at = text.find(from);
    REQUIRE(at != std::string::npos);
    return text.replace(at, from.size(), to);
}

Prediction predict(const Question& q, const std::string& text) {
    auto p = parse_prediction(q, text);
    INFO(text << ": " << (p ? "" : p.error().what));
    REQUIRE(p);
    return *p;
}

}  // namespace

TEST_CASE("A good lab sheet is read field by field", "[lab]") {
    Sheet sheet = good_sheet();
    CHECK(sheet.name == "shared");
    CHECK(sheet.version == "3");
    CHECK(sheet.workload.workload == "shared-globals");
    REQUIRE(sheet.parameters.size() == 2);
    CHECK(sheet.parameters[0].name == "value");  // the order written, not toml++'s
    CHECK(sheet.parameters[1].values == std::vector<int64_t>{1, 2, 3});
    REQUIRE(sheet.questions.size() == 3);
    CHECK(sheet.questions[0].kind == QuestionKind::Number);
    CHECK(sheet.questions[0].tolerance.absolute == 0.0);
    CHECK(sheet.questions[1].choices.size() == 2);
    CHECK(sheet.questions[2].items.size() == 3);
    CHECK(sheet.questions[2].largest_first);
}

TEST_CASE("A malformed sheet is refused with its file, line and field", "[lab]") {
    struct Case {
        std::string text, expected;
    };
    const std::string good = kSheet;
    const std::vector<Case> cases = {
        {replaced(good, "cxtrace.lab/1", "cxtrace.lab/9"), "bad.toml:1:10: format: this cxtrace reads"},
        {replaced(good, "metric = \"address_spaces\"", "metric = \"adress_spaces\""),
         "bad.toml:17:10: question[1] (spaces).metric: unknown metric 'adress_spaces'"},
        {replaced(good, "kind = \"choice\"", "kind = \"pick\""), "bad.toml:23:8: question[2] (child).kind: must be"},
        {replaced(good, "tolerance = { absolute = 0 }", "tolerance = 0.5"),
         "bad.toml:18:13: question[1] (spaces).tolerance: must be a table"},
        {replaced(good, "tolerance = { absolute = 0 }\n", ""), "question[1] (spaces).tolerance: missing"},
        {replaced(good, "{measured} address", "{mesured} address"),
         "bad.toml:19:15: question[1] (spaces).explanation: unknown placeholder {mesured}"},
        {replaced(good, "args = [\"--value\", \"{value}\"]", "args = [\"--value\", \"{valeu}\"]"),
         "workload.args: unknown placeholder {valeu}"},
        {replaced(good, "value = { min = 10, max = 999 }", "value = { min = 10, max = 5 }"),
         "bad.toml:10:9: parameters.value: min must not exceed max"},
        {replaced(good, "{ text = \"yes\", word = \"yes\" },", "{ text = \"yes\", colour = \"yes\" },"),
         "bad.toml:27:28: question[2] (child).choices[1].colour: unknown field"},
        {replaced(good, "title = \"Shared globals\"", "title = \"Shared globals"), "bad.toml:3:"},
        {replaced(good, "id = \"child\"", "id = \"spaces\""), "question[2].id: 'spaces' is used twice"},
        {replaced(good, "metric = \"shares_mm:root:process#1\"", "metric = \"shares_mm:root:proc#1\""),
         "'proc#1' is not a valid argument of metric 'shares_mm'"},
        {replaced(good, "metric = \"threads\" }", "metric = \"threads@x\" }"), "metric 'threads' has no @phase form"},
        {replaced(good, "name = \"shared-globals\"\n", ""), "workload: give name"},
    };
    for (const Case& c : cases) {
        std::string message = parse_error(c.text);
        INFO(message);
        CHECK(message.find(c.expected) != std::string::npos);
        CHECK(message.rfind("bad.toml:", 0) == 0);
    }
}

TEST_CASE("Every bundled lab sheet parses", "[lab]") {
    for (const char* name : {"process-vs-thread", "creation-methods", "shared-globals", "pid-vs-tid", "worker-pool",
                             "ipc-queue", "io-bound", "cpu-bound", "lost-update", "ping-pong",
                             "python-threads-vs-processes", "python-pool"}) {
        auto sheet = load_sheet(std::string(CXTRACE_LAB_SHEETS) + "/" + name + ".toml");
        INFO(name << ": " << (sheet ? "" : sheet.error().what));
        REQUIRE(sheet);
        CHECK(sheet->questions.size() >= 3);
        CHECK(sheet->questions.size() <= 5);
        std::set<QuestionKind> kinds;
        for (const Question& q : sheet->questions) kinds.insert(q.kind);
        CHECK(kinds.count(QuestionKind::Number) == 1);  // numbers and choices mixed
        CHECK(kinds.count(QuestionKind::Choice) == 1);
    }
}

TEST_CASE("A seed chooses the parameters: the same seed the same, another seed others", "[lab]") {
    Sheet sheet = good_sheet();
    Variant a = choose_variant(sheet, 1234), again = choose_variant(sheet, 1234);
    CHECK(a.values == again.values);
    for (const auto& [name, value] : a.values) {
        CHECK(value >= (name == "value" ? 10 : 1));
        CHECK(value <= (name == "value" ? 999 : 3));
    }
    bool differs = false;
    for (uint64_t seed = 1; seed < 6 && !differs; ++seed) differs = choose_variant(sheet, seed).values != a.values;
    CHECK(differs);
    // The workload's arguments and the prompts carry the values.
    CHECK(workload_arguments(sheet, a) ==
          std::vector<std::string>{"shared-globals", "--value", std::to_string(a.values.at("value"))});
    CHECK(substitute_parameters(sheet.questions[0].prompt, sheet, a) ==
          "n = " + std::to_string(a.values.at("value")) + ": how many address spaces?");
    CHECK(substitute_parameters("{sheet_dir}/x {{value}}", sheet, a) == "/labs/x {value}");
    CHECK(describe_variant(sheet, a) ==
          "value=" + std::to_string(a.values.at("value")) + " spare=" + std::to_string(a.values.at("spare")));
}

TEST_CASE("A seed changes the expected answers: threads counted from the run it chose", "[lab]") {
    // Two runs as two seeds would give them: process-vs-thread -n 5 is the
    // recorded one; the answer to "how many threads" is what each run measured.
    RunModel n5 = recorded("process-vs-thread-n5.cxt");
    RunModel t4 = recorded("lost-update-t4.cxt");
    CHECK(number_of(n5, "threads") == 5);
    CHECK(number_of(t4, "threads") != 5);
    auto sheet = parse_sheet(R"(format = "cxtrace.lab/1"
version = "1"
title = "t"
[workload]
name = "process-vs-thread"
args = ["-n", "{count}"]
[parameters]
count = { min = 5, max = 50 }
[[question]]
id = "threads"
kind = "number"
prompt = "{count} threads?"
metric = "threads"
tolerance = { absolute = 0 }
explanation = "{measured} threads, {count} asked"
)",
                             "t.toml");
    REQUIRE(sheet);
    std::map<std::string, Prediction> five{{"threads", predict(sheet->questions[0], "5")}};
    Variant v = choose_variant(*sheet, 7);
    CHECK(grade_all(*sheet, v, five, n5)[0].verdict == Verdict::Right);
    CHECK(grade_all(*sheet, v, five, t4)[0].verdict == Verdict::Wrong);
    CHECK(grade_all(*sheet, v, five, n5)[0].explanation ==
          "5 threads, " + std::to_string(v.values.at("count")) + " asked");
}

TEST_CASE("A when sentence joins the explanation only where the run's data holds it", "[lab]") {
    RunModel n5 = recorded("process-vs-thread-n5.cxt");  // 5 threads, 6 processes, no phase "x"
    auto sheet = parse_sheet(R"(format = "cxtrace.lab/1"
version = "1"
title = "t"
[workload]
name = "process-vs-thread"
[[question]]
id = "threads"
kind = "number"
prompt = "threads?"
metric = "threads"
tolerance = { absolute = 0 }
explanation = "{measured} threads."
when = [
  { min = 5, max = 6, text = "Five: in [5, 6)." },
  { max = 5, text = "Under five." },
  { word = "5", text = "The word 5." },
  { metric = "processes", min = 6, text = "{metric:processes} processes, at least 6." },
  { metric = "processes", max = 6, text = "Under 6 processes." },
  { metric = "max_parallelism@x", min = 0, text = "Phase x, which this run lacks." },
]
[[question]]
id = "order"
kind = "ranking"
prompt = "rank"
items = [ { text = "threads", metric = "threads" }, { text = "processes", metric = "processes" } ]
explanation = "{measured}."
when = [ { metric = "threads / processes", max = 1, text = "Fewer threads than processes." } ]
)",
                             "t.toml");
    REQUIRE(sheet);
    const auto graded = grade_all(*sheet, choose_variant(*sheet, 1), {}, n5);
    CHECK(graded[0].explanation == "5 threads. Five: in [5, 6). The word 5. 6 processes, at least 6.");
    CHECK(graded[1].explanation.find("Fewer threads than processes.") != std::string::npos);

    const std::string base = R"(format = "cxtrace.lab/1"
version = "1"
title = "t"
[workload]
name = "process-vs-thread"
[[question]]
id = "q"
kind = "ranking"
prompt = "rank"
items = [ { text = "a", metric = "threads" }, { text = "b", metric = "processes" } ]
explanation = "e"
)";
    CHECK(parse_error(base + "when = [ { max = 1, text = \"t\" } ]\n").find("question[1] (q).when[1].metric: missing") !=
          std::string::npos);
    CHECK(parse_error(base + "when = [ { metric = \"threads\", word = \"1\", min = 1, text = \"t\" } ]\n")
              .find("when[1]: either word or min/max") != std::string::npos);
    CHECK(parse_error(base + "when = [ { metric = \"threads\", text = \"t\" } ]\n").find("when[1]: needs word") !=
          std::string::npos);
    CHECK(parse_error(base + "when = [ { metric = \"threads\", min = 1, text = \"{mesured}\" } ]\n")
              .find("when[1].text: unknown placeholder {mesured}") != std::string::npos);
    CHECK(parse_error(base + "when = []\n").find("(q).when: must be an array") != std::string::npos);
}

TEST_CASE("The metric vocabulary on recorded runs", "[lab]") {
    SECTION("process-vs-thread -n 5: counts, latencies and their ratio, parallelism, phases") {
        RunModel model = recorded("process-vs-thread-n5.cxt");
        CHECK(number_of(model, "tasks") == 11);
        CHECK(number_of(model, "processes") == 6);
        CHECK(number_of(model, "threads") == 5);
        CHECK(number_of(model, "address_spaces") == 6);
        CHECK(number_of(model, "created:process") == 5);
        CHECK(number_of(model, "first_run_us:thread:count") == 5);
        const double process = number_of(model, "first_run_us:process");
        const double thread = number_of(model, "first_run_us:thread");
        CHECK(process == Approx(model.summary.first_run_latency.at("process").p50 / 1e3));
        CHECK(number_of(model, "first_run_us:process / first_run_us:thread") == Approx(process / thread));
        CHECK(measure_text(model, "first_run_us:process / first_run_us:thread").unit == "×");
        CHECK(number_of(model, "syscall_us:thread:max") >= number_of(model, "syscall_us:thread:min"));
        CHECK(number_of(model, "max_parallelism") == model.summary.max_parallelism);
        CHECK(number_of(model, "avg_parallelism") >= 1);
        CHECK(number_of(model, "avg_parallelism") <= model.summary.max_parallelism);
        CHECK(number_of(model, "cpus_used") >= 1);
        CHECK(number_of(model, "migrations") == model.summary.migrations);
        // Phases (this trace predates the workloads' markers: one phase, the whole run).
        REQUIRE_FALSE(model.phases.empty());
        const std::string whole = "@" + model.phases.front().name;
        CHECK(number_of(model, "created:thread" + whole) == 5);
        CHECK(number_of(model, "duration_ms" + whole) > 0);
        CHECK(number_of(model, "max_parallelism" + whole) == model.phases.front().max_parallelism);
        CHECK_FALSE(measure_text(model, "duration_ms@nosuchphase").known);
        CHECK_FALSE(measure_text(model, "first_run_us:vfork").known);
        CHECK(measure_text(model, "first_run_us:vfork").why.find("no vfork") != std::string::npos);
    }
    SECTION("shared-globals: who shares an mm, getpid/gettid/getppid") {
        RunModel model = recorded("shared-globals.cxt");
        const TaskRecord& root = model.tasks.front();
        CHECK(word_of(model, "shares_mm:root:thread#1") == "yes");
        CHECK(word_of(model, "shares_mm:root:process#1") == "no");
        CHECK(word_of(model, "same_process:root:thread#1") == "yes");
        CHECK(word_of(model, "same_process:root:process#1") == "no");
        CHECK(word_of(model, "parent_is:process#1:root") == "yes");
        CHECK(word_of(model, "parent_is:thread#1:root") == "no");
        CHECK(word_of(model, "is_leader:root") == "yes");
        CHECK(word_of(model, "is_leader:thread#1") == "no");
        CHECK(word_of(model, "kind:thread#1") == "thread");
        CHECK(number_of(model, "tgid:thread#1") == root.tgid);
        CHECK(number_of(model, "pid:root") == root.pid);
        CHECK(number_of(model, "ppid:thread#1") == root.ppid);
        CHECK(number_of(model, "exit_signal:process#1") == 0);
        CHECK_FALSE(measure_text(model, "pid:thread#2").known);
    }
    SECTION("lost-update: states and locks") {
        RunModel model = recorded("lost-update-t4.cxt");
        CHECK(number_of(model, "address_spaces") == 1);
        if (!model.summary.states_by_kind.empty()) {
            double shares = 0;
            for (const char* state : {"running", "runnable", "sleeping", "blocked", "other"})
                shares += number_of(model, std::string("state_share:") + state);
            CHECK(shares == Approx(100));
            CHECK(number_of(model, "state_ms:running:thread") >= 0);
        } else {
            CHECK_FALSE(measure_text(model, "state_share:running").known);
        }
        CHECK(number_of(model, "locks") == model.summary.locks.size());
        CHECK(number_of(model, "lock_handovers") <= number_of(model, "lock_waits"));
    }
    SECTION("the lesson's scope: --from-exec leaves the launcher out") {
        RunModel whole = recorded("mp-pool.cxt");
        auto scoped = correlate_trace_file(std::string(CXTRACE_TEST_DATA) + "/mp-pool.cxt", std::string("python3"));
        REQUIRE(scoped);
        CHECK(number_of(*scoped, "tasks") == scoped->summary.tasks);
        CHECK(number_of(*scoped, "tasks") <= number_of(whole, "tasks"));
        uint64_t lesson_tasks = 0;
        for (const TaskRecord& task : scoped->tasks) lesson_tasks += !task.launcher;
        CHECK(number_of(*scoped, "created:process") + number_of(*scoped, "created:thread") +
                  number_of(*scoped, "created:vfork") + number_of(*scoped, "created:shared-vm") + 1 ==
              lesson_tasks);
    }
}

TEST_CASE("Metrics are checked when a sheet is read", "[lab]") {
    CHECK(parse_metric("threads"));
    CHECK(parse_metric("first_run_us:process:p90@processes"));
    CHECK(parse_metric(" first_run_us:process / first_run_us:thread "));
    CHECK_FALSE(parse_metric("first_run_us"));
    CHECK_FALSE(parse_metric("first_run_us:fork"));
    CHECK_FALSE(parse_metric("threads / "));
    CHECK_FALSE(parse_metric("a / b / c"));
    CHECK_FALSE(parse_metric("pid:thread#0"));
    CHECK_FALSE(parse_metric("cpus_used@x"));
    CHECK_FALSE(parse_metric("state_share:running:thread@x"));
    CHECK(metric_vocabulary().size() > 30);
}

TEST_CASE("Grading: right and wrong predictions of each kind", "[lab]") {
    Sheet sheet = good_sheet();
    RunModel model = recorded("shared-globals.cxt");
    Variant variant = choose_variant(sheet, 42);
    const Measurer measure(model);
    const Question& spaces = sheet.questions[0];
    const Question& child = sheet.questions[1];
    const Question& rank = sheet.questions[2];

    SECTION("number, with its tolerance") {
        CHECK(grade(spaces, predict(spaces, "2"), measure, sheet, variant).verdict == Verdict::Right);
        CHECK(grade(spaces, predict(spaces, "3"), measure, sheet, variant).verdict == Verdict::Wrong);
        Question loose = spaces;
        loose.tolerance = {std::nullopt, 0.5};
        CHECK(grade(loose, predict(loose, "3"), measure, sheet, variant).verdict == Verdict::Right);
        CHECK(grade(loose, predict(loose, "3.1"), measure, sheet, variant).verdict == Verdict::Wrong);
        Graded g = grade(spaces, predict(spaces, "3"), measure, sheet, variant);
        CHECK(g.measured_text == "2");
        CHECK(g.explanation == "2 address spaces (you said 3; right: 2 (within ±0: 2 to 2)); tasks 3, value " +
                                   std::to_string(variant.values.at("value")) + ".");
        CHECK_FALSE(parse_prediction(spaces, "two"));
    }
    SECTION("choice, by letter, number or its text") {
        CHECK(grade(child, predict(child, "b"), measure, sheet, variant).verdict == Verdict::Right);
        CHECK(grade(child, predict(child, "2"), measure, sheet, variant).verdict == Verdict::Right);
        CHECK(grade(child, predict(child, "No"), measure, sheet, variant).verdict == Verdict::Right);
        Graded wrong = grade(child, predict(child, "A"), measure, sheet, variant);
        CHECK(wrong.verdict == Verdict::Wrong);
        CHECK(wrong.answer == "b) no");
        CHECK(wrong.explanation == "Answer: b) no.");
        CHECK_FALSE(parse_prediction(child, "c"));
    }
    SECTION("ranking, as an order") {
        // tasks 3 > processes 2 > threads 1
        CHECK(grade(rank, predict(rank, "a b c"), measure, sheet, variant).verdict == Verdict::Right);
        CHECK(grade(rank, predict(rank, "1,2,3"), measure, sheet, variant).verdict == Verdict::Right);
        CHECK(grade(rank, predict(rank, "abc"), measure, sheet, variant).verdict == Verdict::Right);
        CHECK(grade(rank, predict(rank, "b a c"), measure, sheet, variant).verdict == Verdict::Wrong);
        Question tied = rank;
        tied.ties = 0.5;  // 3 and 2 are within 50% of each other
        CHECK(grade(tied, predict(tied, "b a c"), measure, sheet, variant).verdict == Verdict::Right);
        CHECK(grade(tied, predict(tied, "c a b"), measure, sheet, variant).verdict == Verdict::Wrong);
        CHECK_FALSE(parse_prediction(rank, "a b"));
        CHECK_FALSE(parse_prediction(rank, "a a b"));
        CHECK(grade(rank, predict(rank, "a b c"), measure, sheet, variant).measured_text == "a 3 > b 2 > c 1");
    }
    SECTION("no prediction, or nothing measured") {
        CHECK(grade(spaces, std::nullopt, measure, sheet, variant).verdict == Verdict::Unanswered);
        Question missing = spaces;
        missing.metric = parse_metric("first_run_us:vfork").value();
        CHECK(grade(missing, predict(missing, "1"), measure, sheet, variant).verdict == Verdict::NotMeasured);
    }
}

TEST_CASE("Answers files: id = value lines, checked against the sheet", "[lab]") {
    Sheet sheet = good_sheet();
    auto answers = parse_answers("# mine\nspaces = 2\nchild = \"b\"  \n\nrank = c,b,a # guess\n", "a.txt", sheet);
    REQUIRE(answers);
    CHECK(answers->at("spaces").number == 2);
    CHECK(answers->at("child").choice == 1);
    CHECK(answers->at("rank").order == std::vector<size_t>{2, 1, 0});
    auto round_trip = parse_answers(format_answers(sheet, *answers), "b.txt", sheet);
    REQUIRE(round_trip);
    CHECK(round_trip->size() == 3);
    CHECK(parse_answers("spaces = 2\nnope = 1\n", "a.txt", sheet).error().what.find("a.txt:2: nope") == 0);
    CHECK(parse_answers("spaces = x\n", "a.txt", sheet).error().what.find("a.txt:1: spaces: 'x' is not a number") == 0);
    CHECK(parse_answers("spaces\n", "a.txt", sheet).error().what == "a.txt:1: expected id = value");
    CHECK(parse_answers("spaces = 1\nspaces = 2\n", "a.txt", sheet).error().what.find("answered twice") !=
          std::string::npos);
}

TEST_CASE("lab.json holds the sheet, seed, student, each question and the machine", "[lab]") {
    Sheet sheet = good_sheet();
    RunModel model = recorded("shared-globals.cxt");
    LabRecord record;
    record.sheet = &sheet;
    record.variant = choose_variant(sheet, 99);
    record.student = "<b>alice</b>";
    record.predictions = parse_answers("spaces = 2\nchild = a\n", "a.txt", sheet).value();
    record.graded = grade_all(sheet, record.variant, record.predictions, model);
    record.kernel = model.run.kernel;
    record.cpus = model.run.cpus;
    record.report = "report.json";
    record.run_complete = true;
    nlohmann::json lab = lab_json(record);
    CHECK(lab["schema"] == "cxtrace.lab-result/1");
    CHECK(lab["sheet"]["name"] == "shared");
    CHECK(lab["sheet"]["version"] == "3");
    CHECK(lab["seed"] == 99);
    CHECK(lab["parameters"]["value"] == record.variant.values.at("value"));
    CHECK(lab["student"] == "<b>alice</b>");
    CHECK(lab["status"] == "graded");
    CHECK(lab["machine"]["kernel"] == model.run.kernel);
    CHECK(lab["machine"]["cpus"] == model.run.cpus);
    CHECK(lab["report"] == "report.json");
    CHECK(lab["score"]["right"] == 1);
    CHECK(lab["score"]["graded"] == 2);
    REQUIRE(lab["questions"].size() == 3);
    CHECK(lab["questions"][0]["prediction"] == "2");
    CHECK(lab["questions"][0]["prediction_value"] == 2.0);
    CHECK(lab["questions"][0]["measured"] == 2.0);
    CHECK(lab["questions"][0]["verdict"] == "right");
    CHECK(lab["questions"][1]["prediction_value"] == "a");
    CHECK(lab["questions"][1]["measured"] == "no");
    CHECK(lab["questions"][1]["verdict"] == "wrong");
    CHECK(lab["questions"][1]["explanation"] == "Answer: b) no.");
    CHECK(lab["questions"][2]["prediction"].is_null());
    CHECK(lab["questions"][2]["verdict"] == "unanswered");
    CHECK(lab["questions"][2]["measured"] == nlohmann::json::array({3.0, 2.0, 1.0}));

    SECTION("interrupted before the run: the predictions, nothing measured") {
        LabRecord early = record;
        early.status = LabStatus::QuestionsInterrupted;
        early.graded.clear();
        early.report.reset();
        early.run_complete.reset();
        nlohmann::json partial = lab_json(early);
        CHECK(partial["status"] == "questions-interrupted");
        CHECK(partial["report"].is_null());
        CHECK(partial["questions"][0]["prediction"] == "2");
        CHECK(partial["questions"][0]["measured"].is_null());
        CHECK(partial["questions"][0]["verdict"] == "not-measured");
    }
}

TEST_CASE("report.html opens with the predictions, every string escaped", "[lab]") {
    RunModel model = recorded("shared-globals.cxt");
    ReportExtras extras;
    extras.predictions = LabPredictions{"<sheet>", "1", "<script>alert(1)</script>", "7", "n=3", {}};
    extras.predictions->rows.push_back({"q1", "How <many>?", "3 & 4", "2", "wrong", "Because \"2\"."});
    const std::string page = render_html_report(model, extras);
    const size_t section = page.find("<section id=\"predictions\"");
    REQUIRE(section != std::string::npos);
    CHECK(section < page.find("<section id=\"findings\""));
    CHECK(page.find("Your predictions") != std::string::npos);
    CHECK(page.find("<script>alert(1)</script>") == std::string::npos);
    CHECK(page.find("&lt;script&gt;alert(1)&lt;/script&gt;") != std::string::npos);
    CHECK(page.find("How &lt;many&gt;?") != std::string::npos);
    CHECK(page.find("3 &amp; 4") != std::string::npos);
    CHECK(page.find("0 of 1 predicted right") != std::string::npos);
    CHECK(render_html_report(model).find("id=\"predictions\"") == std::string::npos);
}
