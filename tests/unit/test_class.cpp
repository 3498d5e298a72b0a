// cxtrace class without root (reports/class.h, userspace/lab/submission.h):
// lab.json/report.json pairs made by the pipeline itself from a recorded
// trace and the bundled process-vs-thread sheet, then varied per student;
// the counts, spreads, outliers, duplicates and bad files; the search of
// the folders (symbolic link loops, depth, a FIFO); class.csv's quoting and
// its guard against formulas; class.html's escaping. No browser here
// (tests/integration/test_class.cpp loads the page in Chromium).
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "answers.h"
#include "class.h"
#include "class_csv.h"
#include "class_html.h"
#include "class_text.h"
#include "correlator.h"
#include "html_report.h"
#include "grading.h"
#include "json_report.h"
#include "lab_result.h"
#include "sheet.h"
#include "submission.h"

using namespace cxt;
using Catch::Matchers::Contains;
using Catch::Matchers::EndsWith;
using Catch::Matchers::StartsWith;
using nlohmann::json;

namespace {

// One real submission: the recorded process-vs-thread run, its report.json
// as cxtrace writes it, and lab.json graded by the bundled sheet on it.
struct Pair {
    json lab, report;
};

const Pair& recorded_pair() {
    static const Pair pair = [] {
        auto model = correlate_trace_file(std::string(CXTRACE_TEST_DATA) + "/process-vs-thread-n5.cxt");
        REQUIRE(model);
        auto sheet = lab::load_sheet(std::string(CXTRACE_LAB_SHEETS) + "/process-vs-thread.toml");
        REQUIRE(sheet);
        static const lab::Sheet kept = *sheet;
        lab::LabRecord record;
        record.sheet = &kept;
        record.variant = lab::choose_variant(kept, 7);
        record.student = "sample";
        record.predictions = lab::parse_answers("thread-cost = b\nratio = 2\nspaces = 6\ngetpids = 6\n", "a.txt", kept).value();
        record.graded = lab::grade_all(kept, record.variant, record.predictions, *model);
        record.command = {"process-vs-thread", "-n", "5"};
        record.kernel = model->run.kernel;
        record.cpus = model->run.cpus;
        record.started_at = model->run.started_at;
        record.report = "report.json";
        record.run_complete = model->run.complete;
        json report = report_json(*model);
        report["run"]["command"] = {"/usr/libexec/cxtrace/workloads/process-vs-thread", "-n", "5"};
        return Pair{lab::lab_json(record), report};
    }();
    return pair;
}

json& question(json& lab, const std::string& id) {
    for (json& q : lab["questions"])
        if (q["id"] == id) return q;
    FAIL("no question " << id);
    throw std::logic_error("unreachable");
}

double measured_ratio() {
    Pair pair = recorded_pair();
    return question(pair.lab, "ratio")["measured"].get<double>();
}

// A student's submission: the recorded pair with their name, seed, start
// time and ratio prediction (graded with the sheet's tolerance).
Pair student(const std::string& name, int index, std::optional<double> ratio_prediction) {
    Pair pair = recorded_pair();
    char started[64];
    std::snprintf(started, sizeof started, "2025-03-01T10:%02d:%02d.000Z", index / 60 % 60, index % 60);
    pair.lab["student"] = name;
    pair.lab["seed"] = index;
    pair.lab["started_at"] = started;
    pair.report["run"]["started_at"] = started;
    json& ratio = question(pair.lab, "ratio");
    const double measured = ratio["measured"].get<double>();
    if (ratio_prediction) {
        ratio["prediction"] = std::to_string(*ratio_prediction);
        ratio["prediction_value"] = *ratio_prediction;
        ratio["verdict"] = std::fabs(*ratio_prediction - measured) <= std::max(0.5, 0.6 * measured) ? "right" : "wrong";
    } else {
        ratio["prediction"] = nullptr;
        ratio["prediction_value"] = nullptr;
        ratio["verdict"] = "unanswered";
    }
    return pair;
}

struct Class {
    ClassFiles files;
    void add(const std::string& dir, const Pair& pair) {
        add_text(dir + "/lab.json", ClassFileKind::Lab, pair.lab.dump(2));
        add_text(dir + "/report.json", ClassFileKind::Report, pair.report.dump(2));
    }
    void add_text(const std::string& path, ClassFileKind kind, const std::string& text) {
        ClassFile file;
        file.path = path;
        file.kind = kind;
        file.text = text;
        files.files.push_back(file);
    }
    ClassSummary aggregate() const { return aggregate_class(files, {"class"}); }
};

const ClassSubmission* submission_of(const ClassSummary& s, const std::string& path) {
    for (const ClassSubmission& sub : s.submissions)
        if (sub.path == path) return &sub;
    return nullptr;
}

std::string skip_reason(const ClassSummary& s, const std::string& path) {
    for (const ClassSkip& skip : s.skipped)
        if (skip.path == path) return skip.reason;
    return "";
}

const ClassQuestion& class_question(const ClassSummary& s, const std::string& id) {
    REQUIRE(s.sheets.size() == 1);
    for (const ClassQuestion& q : s.sheets[0].questions)
        if (q.id == id) return q;
    FAIL("no question " << id);
    throw std::logic_error("unreachable");
}

}  // namespace

TEST_CASE("A lab.json graded on a run matches its report.json, measured value by measured value", "[class]") {
    const Pair& pair = recorded_pair();
    auto lab = lab::submission_from_json(pair.lab, "lab.json");
    REQUIRE(lab);
    CHECK(lab->student == "sample");
    CHECK(lab->sheet == "process-vs-thread");
    const lab::ReportCheck check = lab::check_submission_against_report(*lab, pair.report);
    INFO(check.differences.size() << (check.differences.empty() ? "" : ": " + check.differences[0]));
    CHECK(check.matches());
    // thread-cost (first_run_us:thread), ratio and getpids (processes) come
    // from the summary; spaces (address_spaces) is counted over the tasks.
    CHECK(check.values_checked == 3);
    CHECK(check.values_uncheckable == 1);

    SECTION("a measured value changed in lab.json is named, with both values") {
        json edited = pair.lab;
        question(edited, "ratio")["measured"] = 1.5;
        const lab::Submission changed = lab::submission_from_json(edited, "x").value();
        const lab::ReportCheck differs = lab::check_submission_against_report(changed, pair.report);
        REQUIRE(differs.differences.size() == 1);
        CHECK_THAT(differs.differences[0], StartsWith("question ratio (first_run_us:process / first_run_us:thread): "
                                                      "lab.json has 1.5, report.json gives "));
    }
    SECTION("another run's report.json: the start, kernel and CPUs differ") {
        json other = pair.report;
        other["run"]["started_at"] = "2024-01-01T00:00:00.000Z";
        other["run"]["kernel"] = "5.10.0-99-amd64";
        other["run"]["cpus"] = 64;
        const lab::ReportCheck differs = lab::check_submission_against_report(*lab, other);
        REQUIRE(differs.differences.size() == 3);
        CHECK_THAT(differs.differences[0], StartsWith("the run's start: lab.json has \""));
        CHECK_THAT(differs.differences[1], Contains("\"5.10.0-99-amd64\""));
        CHECK_THAT(differs.differences[2], Contains("report.json 64"));
    }
    SECTION("another workload's command") {
        json other = pair.report;
        other["run"]["command"] = {"/usr/libexec/cxtrace/workloads/process-vs-thread", "-n", "40"};
        const lab::ReportCheck differs = lab::check_submission_against_report(*lab, other);
        REQUIRE(differs.differences.size() == 1);
        CHECK_THAT(differs.differences[0], StartsWith("the command: lab.json has \"process-vs-thread -n 5\""));
    }
}

TEST_CASE("The metrics a report.json holds are recomputed as the grader measured them", "[class]") {
    const json report = recorded_pair().report;
    auto value = [&](const std::string& text) {
        auto metric = lab::parse_metric(text);
        REQUIRE(metric);
        return lab::metric_from_report(*metric, report);
    };
    const json& latency = report["summary"]["creation_latency_ns"];
    CHECK(value("first_run_us:thread").value == latency["thread"]["p50"].get<double>() / 1e3);
    CHECK(value("first_run_us:process:max").value == latency["process"]["max"].get<double>() / 1e3);
    CHECK(value("first_run_us:vfork:count").value == 0.0);
    CHECK(value("first_run_us:vfork").checkable);
    CHECK_FALSE(value("first_run_us:vfork").value);  // unknown, as the grader finds it
    CHECK(value("threads").value == report["summary"]["threads"].get<double>());
    CHECK(value("max_parallelism").value == report["summary"]["max_parallelism"].get<double>());
    CHECK(value("tasks@nowhere").checkable);
    CHECK_FALSE(value("tasks@nowhere").value);
    for (const char* per_task : {"address_spaces", "pid:root", "shares_mm:root:thread#1", "cpus_used", "oncpu_ms"})
        CHECK_FALSE(value(per_task).checkable);
}

TEST_CASE("cxtrace class counts the right predictions and spreads them against the measured values", "[class]") {
    const double measured = measured_ratio();
    Class c;
    c.add("class/ana", student("ana", 1, measured));             // right
    c.add("class/ben", student("ben", 2, measured * 10 + 10));   // too high
    c.add("class/cy", student("cy", 3, measured / 10));          // too low (and outside the 0.5 absolute tolerance?)
    c.add("class/dee", student("dee", 4, std::nullopt));         // unanswered
    const ClassSummary s = c.aggregate();
    INFO(render_class_text(s));
    REQUIRE(s.submissions.size() == 4);
    CHECK(s.skipped.empty());
    REQUIRE(s.sheets.size() == 1);
    CHECK(s.sheets[0].name == "process-vs-thread");
    CHECK(s.sheets[0].counted == 4);
    const ClassQuestion& ratio = class_question(s, "ratio");
    const bool low_is_wrong = std::fabs(measured / 10 - measured) > std::max(0.5, 0.6 * measured);
    CHECK(ratio.right == (low_is_wrong ? 1u : 2u));
    CHECK(ratio.wrong == (low_is_wrong ? 2u : 1u));
    CHECK(ratio.unanswered == 1);
    CHECK(ratio.too_high == 1);
    CHECK(ratio.too_low == (low_is_wrong ? 1u : 0u));
    REQUIRE(ratio.points.size() == 4);
    CHECK(ratio.predicted.n == 3);
    CHECK(ratio.measured.n == 4);
    CHECK(ratio.measured.p50 == Approx(measured));
    REQUIRE(ratio.ratio.n == 3);
    CHECK(ratio.ratio.p50 == Approx(1.0));  // ana's: exact
    CHECK(ratio.ratio.max == Approx((measured * 10 + 10) / measured));
    CHECK_THAT(ratio.summary, StartsWith(std::to_string(ratio.right) + " of 3 predicted right"));
    // The choice: everyone predicted b, and b was right on every run.
    const ClassQuestion& cost = class_question(s, "thread-cost");
    CHECK(cost.predicted_keys == std::map<std::string, size_t>{{"b", 4}});
    const std::string right_letter = question(const_cast<json&>(recorded_pair().lab), "thread-cost")["answer"].get<std::string>().substr(0, 1);
    CHECK(cost.right_keys == std::map<std::string, size_t>{{right_letter, 4}});
    CHECK(cost.right == (right_letter == "b" ? 4u : 0u));
    // Per student: the scores, in name order.
    CHECK(s.submissions[0].who == "ana");
    CHECK(s.submissions[3].who == "dee");
    for (const ClassSubmission& sub : s.submissions) CHECK(sub.report == ReportState::Matches);
    // One lesson, four machines (runs), no outlier.
    REQUIRE(s.lessons.size() == 1);
    CHECK(s.lessons[0].name == "process-vs-thread");
    CHECK(s.lessons[0].runs.size() == 4);
    CHECK(s.outliers.empty());
}

TEST_CASE("cxtrace class: a lab.json that does not match its report.json is an outlier, not counted", "[class]") {
    Class c;
    c.add("class/ana", student("ana", 1, 2.0));
    Pair edited = student("ben", 2, 2.0);
    json& ratio = question(edited.lab, "ratio");
    ratio["measured"] = 2.0;  // claimed, to make the prediction right
    ratio["verdict"] = "right";
    c.add("class/ben", edited);
    const ClassSummary s = c.aggregate();
    const ClassSubmission* ben = submission_of(s, "class/ben/lab.json");
    REQUIRE(ben);
    CHECK(ben->report == ReportState::Differs);
    CHECK_FALSE(ben->counted);
    CHECK(s.sheets[0].counted == 1);
    CHECK(class_question(s, "ratio").points.size() == 1);
    REQUIRE(s.outliers.size() == 1);
    CHECK(s.outliers[0].kind == "report-differs");
    CHECK(s.outliers[0].who == "ben");
    CHECK_THAT(s.outliers[0].text, Contains("question ratio") && Contains("lab.json has 2, report.json gives"));
    CHECK_THAT(render_class_csv(s), Contains(",differs,not-regraded,no,report.json differs,"));
}

TEST_CASE("cxtrace class: duplicates are kept once, the others skipped as duplicate of the first", "[class]") {
    Class c;
    const Pair ana = student("ana", 5, 2.0);
    c.add("class/a/ana", ana);
    c.add("class/b/ana-copy", ana);  // the same files collected twice
    // Ana again on the same sheet, later: her first run is kept even though
    // this one sorts first by path.
    c.add("class/0/ana-again", student(" ANA ", 9, 3.0));
    // Ben handed in Cy's run under his own name.
    Pair cy = student("cy", 7, 2.0), ben = cy;
    ben.lab["student"] = "ben";
    c.add("class/cy", cy);
    c.add("class/ben", ben);
    const ClassSummary s = c.aggregate();
    INFO(render_class_text(s));
    CHECK(s.submissions.size() == 2);
    CHECK(submission_of(s, "class/a/ana/lab.json"));
    CHECK(skip_reason(s, "class/b/ana-copy/lab.json") == "duplicate of class/a/ana/lab.json (the same file content)");
    CHECK_THAT(skip_reason(s, "class/0/ana-again/lab.json"),
               StartsWith("duplicate of class/a/ana/lab.json: a second submission of process-vs-thread by  ANA ; "
                          "the run that started first (2025-03-01T10:00:05.000Z) is kept"));
    // Ben's and Cy's: one run; the first by start, then path, is kept.
    CHECK(submission_of(s, "class/ben/lab.json"));
    CHECK_THAT(skip_reason(s, "class/cy/lab.json"),
               StartsWith("duplicate of class/ben/lab.json: the same run (started 2025-03-01T10:00:07.000Z") &&
                   Contains("as ben's: one run handed in twice"));
    // The skipped lab.json's report.json goes with it.
    CHECK(skip_reason(s, "class/cy/report.json") ==
          "belongs to class/cy/lab.json, which is skipped as a duplicate of class/ben/lab.json");
    CHECK(s.runs.size() == 2);
}

TEST_CASE("cxtrace class: unreadable, foreign, newer, unfinished and broken submissions are skipped with why",
          "[class]") {
    Class c;
    c.add("class/good", student("good", 1, 2.0));
    ClassFile unreadable;
    unreadable.path = "class/locked/lab.json";
    unreadable.unreadable = "cannot be read (Permission denied)";
    c.files.files.push_back(unreadable);
    c.add_text("class/cut/lab.json", ClassFileKind::Lab, recorded_pair().lab.dump().substr(0, 300));
    c.add_text("class/other/lab.json", ClassFileKind::Lab, "{\"schema\": \"someone.else/1\"}");
    c.add_text("class/array/lab.json", ClassFileKind::Lab, "[1, 2]");
    Pair newer = student("newer", 2, 2.0);
    newer.lab["schema"] = "cxtrace.lab-result/2";
    c.add("class/newer", newer);
    Pair bad_field = student("bad", 3, 2.0);
    bad_field.lab["student"] = 42;
    c.add_text("class/badfield/lab.json", ClassFileKind::Lab, bad_field.lab.dump());
    Pair interrupted = student("early", 4, 2.0);
    interrupted.lab["status"] = "questions-interrupted";
    c.add_text("class/early/lab.json", ClassFileKind::Lab, interrupted.lab.dump());
    // A good lab.json whose report.json is of a newer cxtrace: kept, unchecked.
    Pair newer_report = student("nora", 5, 2.0);
    newer_report.report["schema"] = "cxtrace.report/7";
    c.add("class/nora", newer_report);
    // A lab.json pointing outside its directory: not followed.
    Pair escaping = student("eve", 6, 2.0);
    escaping.lab["report"] = "../good/report.json";
    c.add_text("class/eve/lab.json", ClassFileKind::Lab, escaping.lab.dump());

    const ClassSummary s = c.aggregate();
    INFO(render_class_text(s));
    CHECK(skip_reason(s, "class/locked/lab.json") == "cannot be read (Permission denied)");
    CHECK_THAT(skip_reason(s, "class/cut/lab.json"), StartsWith("is not valid JSON ("));
    CHECK_THAT(skip_reason(s, "class/other/lab.json"), Contains("is not a cxtrace lab.json") && Contains("someone.else/1"));
    CHECK_THAT(skip_reason(s, "class/array/lab.json"), Contains("not a JSON object"));
    CHECK_THAT(skip_reason(s, "class/newer/lab.json"), Contains("was written by a newer cxtrace") && Contains("cxtrace.lab-result/2"));
    CHECK(skip_reason(s, "class/badfield/lab.json") == "\"student\" is not a string");
    CHECK_THAT(skip_reason(s, "class/early/lab.json"), StartsWith("not run (status questions-interrupted)"));
    CHECK_THAT(skip_reason(s, "class/nora/report.json"), Contains("newer cxtrace") && Contains("cxtrace.report/7"));
    // newer's report.json has no usable lab.json: a run on its own.
    CHECK(s.runs_alone() == 1);
    const ClassSubmission* nora = submission_of(s, "class/nora/lab.json");
    REQUIRE(nora);
    CHECK(nora->report == ReportState::Unreadable);
    CHECK(nora->counted);
    const ClassSubmission* eve = submission_of(s, "class/eve/lab.json");
    REQUIRE(eve);
    CHECK(eve->report == ReportState::Missing);
    CHECK_THAT(eve->report_problem, Contains("is not a path beside it"));
    CHECK(s.submissions.size() == 3);
    // Every skip is on the page, with its reason; the page is whole.
    const std::string page = render_class_html(s);
    for (const ClassSkip& skip : s.skipped) CHECK_THAT(page, Contains(html_escape(skip.reason)));
    CHECK_THAT(page, Contains("</html>"));
}

TEST_CASE("cxtrace class: hostile names are escaped on the page, kept as text in the CSV and never run as formulas",
          "[class]") {
    Class c;
    c.add("class/a", student("<script>alert(1)</script>", 1, 2.0));
    c.add("class/b", student("\xE2\x80\xAE" "evil", 2, 2.0));
    c.add("class/c", student("=HYPERLINK(\"http://x\",\"y\")", 3, 2.0));
    Pair markup = student("@sum", 4, 2.0);
    markup.lab["sheet"]["title"] = "<img src=x onerror=alert(2)>";
    question(markup.lab, "ratio")["prediction"] = "-1+2";
    c.add("class/d", markup);
    const ClassSummary s = c.aggregate();
    const std::string page = render_class_html(s);
    CHECK_THAT(page, !Contains("<script>alert") && !Contains("<img src=x"));
    CHECK_THAT(page, Contains("&lt;script&gt;alert(1)&lt;/script&gt;") && Contains("[U+202E]evil"));
    CHECK(page.find("\xE2\x80\xAE") == std::string::npos);
    const std::string csv = render_class_csv(s);
    CHECK_THAT(csv, Contains("\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\""));
    CHECK_THAT(csv, Contains("\r\n'@sum,"));
    CHECK_THAT(csv, Contains(",'-1+2,"));
    CHECK_THAT(csv, Contains("\r\n<script>alert(1)</script>,"));  // data, not markup, in a CSV
    const std::string text = render_class_text(s);
    CHECK(text.find("\xE2\x80\xAE") == std::string::npos);
}

TEST_CASE("class.csv follows RFC 4180", "[class]") {
    CHECK(csv_field("plain", true) == "plain");
    CHECK(csv_field("a,b", false) == "\"a,b\"");
    CHECK(csv_field("say \"hi\"", false) == "\"say \"\"hi\"\"\"");
    CHECK(csv_field("two\nlines", false) == "\"two\nlines\"");
    CHECK(csv_field("=1+1", true) == "'=1+1");
    CHECK(csv_field("=1+1", false) == "=1+1");
    CHECK(csv_field("+1", true) == "'+1");
    CHECK(csv_field("\tx", true) == "'\tx");
    Class c;
    c.add("class/a", student("ana", 1, 2.0));
    const std::string csv = render_class_csv(c.aggregate());
    const size_t header_end = csv.find("\r\n");
    REQUIRE(header_end != std::string::npos);
    CHECK_THAT(csv.substr(0, header_end),
               StartsWith("student,sheet,sheet_version,seed,kernel,cpus,started_at,status,right,graded,questions,report_json,"
                          "verdicts,counted,flags,lab_json,thread-cost prediction,thread-cost measured,thread-cost verdict,"));
    CHECK(csv.substr(header_end + 2).find("ana,process-vs-thread,1,1,") == 0);
}

TEST_CASE("cxtrace class: a machine 10x slower than its lesson's median, and a run with lost events, are outliers",
          "[class]") {
    Class c;
    for (int i = 0; i < 5; ++i) {
        Pair run = student("s" + std::to_string(i), i, 2.0);
        json& latency = run.report["summary"]["creation_latency_ns"]["thread"];
        const double factor = i == 4 ? 12.0 : 1.0 + 0.1 * i;
        for (const char* stat : {"min", "p50", "p90", "max"})
            latency[stat] = static_cast<uint64_t>(latency[stat].get<double>() * factor);
        c.add_text("class/runs/" + std::to_string(i) + "/report.json", ClassFileKind::Report, run.report.dump());
    }
    Pair lossy = student("lossy", 9, 2.0);
    lossy.report["run"]["lost_events"] = 1234;
    lossy.report["run"]["complete"] = false;
    question(lossy.lab, "ratio");  // its lab.json says complete: report.json disagrees
    c.add("class/lossy", lossy);
    const ClassSummary s = c.aggregate();
    INFO(render_class_text(s));
    CHECK(s.runs_alone() == 5);
    REQUIRE(s.lessons.size() == 1);
    const LessonQuantity* thread = nullptr;
    for (const LessonQuantity& q : s.lessons[0].quantities)
        if (q.key == "first_run.thread") thread = &q;
    REQUIRE(thread);
    CHECK(thread->values.size() == 6);
    size_t flagged = 0;
    for (const LessonValue& v : thread->values) flagged += v.outlier;
    CHECK(flagged == 1);
    std::vector<std::string> kinds;
    for (const ClassOutlier& o : s.outliers) kinds.push_back(o.kind + " " + o.path);
    CHECK(kinds == std::vector<std::string>{"report-differs class/lossy/lab.json", "lost-events class/lossy/report.json",
                                            "slow class/runs/4/report.json"});
    for (const ClassOutlier& o : s.outliers)
        if (o.kind == "slow") CHECK_THAT(o.text, Contains("thread: creation to first run, p50") && Contains("the median of 6 runs"));
        else if (o.kind == "lost-events") CHECK_THAT(o.text, StartsWith("lost 1234 events"));
}

TEST_CASE("Quantiles of a spread", "[class]") {
    const Spread s = spread_of({5, 1, 3, 2, 4});
    CHECK(s.n == 5);
    CHECK(s.min == 1);
    CHECK(s.p25 == 2);
    CHECK(s.p50 == 3);
    CHECK(s.p75 == 4);
    CHECK(s.max == 5);
    CHECK(spread_of({}).n == 0);
    CHECK(spread_of({1, 2}).p50 == Approx(1.5));
}

namespace {

struct TempTree {
    std::string root;
    TempTree() {
        char path[] = "/tmp/cxtrace-class-XXXXXX";
        REQUIRE(mkdtemp(path));
        root = path;
    }
    ~TempTree() {
        std::error_code error;
        std::filesystem::remove_all(root, error);
    }
    std::string write(const std::string& rel, const std::string& text) const {
        const std::string path = root + "/" + rel;
        std::filesystem::create_directories(std::filesystem::path(path).parent_path());
        std::ofstream(path, std::ios::binary) << text;
        return path;
    }
};

}  // namespace

TEST_CASE("The folders are searched to a bounded depth, each directory once, without blocking on a FIFO",
          "[class]") {
    TempTree tree;
    const Pair ana = student("ana", 1, 2.0);
    tree.write("room/ana/run1/lab.json", ana.lab.dump());
    tree.write("room/ana/run1/report.json", ana.report.dump());
    tree.write("room/notes.txt", "not a submission");
    // A symbolic link back up: a loop.
    REQUIRE(symlink("..", (tree.root + "/room/ana/up").c_str()) == 0);
    // A FIFO named lab.json: read without blocking, skipped.
    std::filesystem::create_directories(tree.root + "/room/fifo");
    REQUIRE(mkfifo((tree.root + "/room/fifo/lab.json").c_str(), 0644) == 0);
    // Deeper than the search goes.
    std::string deep = "room";
    for (int i = 0; i <= kClassMaxDepth; ++i) deep += "/d";
    tree.write(deep + "/lab.json", ana.lab.dump());

    auto found = find_class_files({tree.root + "/room/"});
    REQUIRE(found);
    std::vector<std::string> paths;
    for (const ClassFile& f : found->files) paths.push_back(f.path.substr(tree.root.size()));
    CHECK(paths == std::vector<std::string>{"/room/ana/run1/lab.json", "/room/ana/run1/report.json", "/room/fifo/lab.json"});
    CHECK(found->files[2].unreadable == "is not a regular file");
    REQUIRE(found->notes.size() == 2);
    CHECK_THAT(found->notes[0], Contains("not searched (more than 12 levels below the folder given)"));
    CHECK_THAT(found->notes[1], StartsWith("1 directory was reached a second time"));

    const ClassSummary s = aggregate_class(*found, {tree.root + "/room"});
    CHECK(s.submissions.size() == 1);
    CHECK(s.submissions[0].report == ReportState::Matches);

    SECTION("a folder that does not exist is refused, naming it") {
        auto missing = find_class_files({tree.root + "/room", tree.root + "/nope"});
        REQUIRE_FALSE(missing);
        CHECK_THAT(missing.error().what, Contains("/nope: No such file or directory"));
    }
}

TEST_CASE("cxtrace class: the largest numbers a file can hold render without an out-of-range conversion", "[class]") {
    Class c;
    Pair huge = student("huge", 1, 1e308);
    for (const char* key : {"creation_latency_ns", "syscall_latency_ns"})
        for (auto& stats : huge.report["summary"][key])
            for (const char* stat : {"min", "p50", "p90", "max"}) stats[stat] = UINT64_MAX;
    json& ratio = question(huge.lab, "ratio");
    ratio["measured"] = -1e308;
    c.add("class/huge", huge);
    c.add("class/small", student("small", 2, -5.0));
    const ClassSummary s = c.aggregate();
    CHECK(s.submissions.size() == 2);
    CHECK_THAT(render_class_html(s), Contains("</html>"));
    CHECK_THAT(render_class_csv(s), Contains("1e+308"));
    CHECK_FALSE(render_class_text(s).empty());
}

TEST_CASE("cxtrace class: a ranking question counts each predicted order and each right one", "[class]") {
    Class c;
    for (int i = 0; i < 3; ++i) {
        Pair p = student("r" + std::to_string(i), i, 2.0);
        json& q = question(p.lab, "spaces");
        q["kind"] = "ranking";
        q.erase("metric");
        q["items"] = {{{"text", "root"}, {"metric", "pid:root"}}, {{"text", "first"}, {"metric", "pid:process#1"}}};
        q["prediction"] = i == 0 ? "a b" : "b a";
        q["prediction_value"] = i == 0 ? json({"a", "b"}) : json({"b", "a"});
        q["measured"] = {100 + i, 200 + i};
        q["answer"] = "b > a (within 30% either way)";
        q["verdict"] = i == 0 ? "wrong" : "right";
        c.add_text("class/" + std::to_string(i) + "/lab.json", ClassFileKind::Lab, p.lab.dump());  // no report.json
    }
    const ClassSummary s = c.aggregate();
    const ClassQuestion& q = class_question(s, "spaces");
    CHECK(q.kind == "ranking");
    CHECK(q.right == 2);
    CHECK(q.wrong == 1);
    CHECK(q.predicted_keys == std::map<std::string, size_t>{{"a > b", 1}, {"b > a", 2}});
    CHECK(q.right_keys == std::map<std::string, size_t>{{"b > a", 3}});
    CHECK_THAT(q.summary, Contains("Most predicted b > a (2); the runs made b > a right on 3 of 3."));
    for (const ClassSubmission& sub : s.submissions) {
        CHECK(sub.report == ReportState::Missing);
        CHECK(sub.counted);  // unchecked, but counted
    }
    CHECK_THAT(render_class_html(s), Contains("<table class=\"keys\">") && Contains("b &gt; a"));
}

TEST_CASE("A lab.json given by name brings the report.json beside it", "[class]") {
    TempTree tree;
    const Pair ana = student("ana", 1, 2.0);
    const std::string lab = tree.write("ana/lab.json", ana.lab.dump());
    tree.write("ana/report.json", ana.report.dump());
    auto found = find_class_files({lab});
    REQUIRE(found);
    REQUIRE(found->files.size() == 2);
    CHECK(found->files[1].kind == ClassFileKind::Report);
    const ClassSummary s = aggregate_class(*found, {lab});
    REQUIRE(s.submissions.size() == 1);
    CHECK(s.submissions[0].report == ReportState::Matches);
}

TEST_CASE("cxtrace class grades each submission again with its sheet: a verdict edited by hand is found", "[class]") {
    auto sheet = lab::load_sheet(std::string(CXTRACE_LAB_SHEETS) + "/process-vs-thread.toml");
    REQUIRE(sheet);
    Class c;
    c.add("class/ana", student("ana", 1, 2.0));
    Pair eve = student("eve", 2, 1000.0);
    question(eve.lab, "ratio")["verdict"] = "right";  // 1000 is far from the measured ratio
    c.add("class/eve", eve);
    Pair old = student("old", 3, 2.0);
    old.lab["sheet"]["version"] = "0";  // a version this cxtrace does not have
    c.add("class/old", old);
    const ClassSummary s = aggregate_class(c.files, {"class"}, {*sheet});
    INFO(render_class_text(s));
    const ClassSubmission* ana = submission_of(s, "class/ana/lab.json");
    REQUIRE(ana);
    CHECK(ana->regraded);
    CHECK(ana->verdict_differences.empty());
    CHECK(ana->counted);
    const ClassSubmission* edited = submission_of(s, "class/eve/lab.json");
    REQUIRE(edited);
    CHECK(edited->regraded);
    REQUIRE(edited->verdict_differences.size() == 1);
    CHECK_THAT(edited->verdict_differences[0],
               StartsWith("question ratio: lab.json says right, the sheet grades its prediction (1000.000000) against its "
                          "measured value (") &&
                   EndsWith(") wrong"));
    CHECK(edited->report == ReportState::Matches);  // its measured values are the run's: only the verdict was edited
    CHECK_FALSE(edited->counted);
    const ClassSubmission* older = submission_of(s, "class/old/lab.json");
    REQUIRE(older);
    CHECK_FALSE(older->regraded);
    CHECK(older->counted);
    CHECK(s.sheets[0].regraded == 2);
    CHECK(s.sheets[0].counted == 2);
    REQUIRE(s.outliers.size() == 1);
    CHECK(s.outliers[0].kind == "verdicts-differ");
    CHECK_THAT(render_class_csv(s), Contains(",matches,differ,no,verdicts differ,"));
    CHECK_THAT(render_class_html(s), Contains("1 of them name a version of the sheet this cxtrace does not have"));

    SECTION("the recorded pair, graded again, gives its own verdicts") {
        const lab::Submission recorded = lab::submission_from_json(recorded_pair().lab, "lab.json").value();
        CHECK(lab::regrade_differences(recorded, *sheet).empty());
    }
}
