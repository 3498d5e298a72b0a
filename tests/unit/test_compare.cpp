// cxtrace compare's comparison (reports/compare.h): runs read from
// report.json, recorded ones made by the pipeline from tests/data's traces,
// and synthetic ones; the rule that marks what differs, the sentences, the
// unknowns; and its two renderers, compare.html and the terminal table. No
// browser here (tests/integration/test_compare.cpp loads the page in Chromium).
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "compare.h"
#include "compare_html.h"
#include "compare_text.h"
#include "correlator.h"
#include "event_builder.h"
#include "html_report.h"
#include "json_report.h"

using namespace cxt;
using Catch::Matchers::Contains;
using Catch::Matchers::EndsWith;
using nlohmann::json;

namespace {

// report.json of a recorded trace, made by the pipeline as cxtrace report makes it.
json recorded_report(const std::string& name) {
    auto model = correlate_trace_file(std::string(CXTRACE_TEST_DATA) + "/" + name);
    INFO(name << ": " << (model ? std::string("ok") : model.error().message()));
    REQUIRE(model.ok());
    return report_json(model.value());
}

CompareRun run_of(const json& report, const std::string& source) {
    auto run = compare_run_from_report(report, source);
    INFO((run ? std::string("ok") : run.error().message()));
    REQUIRE(run.ok());
    return run.value();
}

Comparison compared(std::vector<CompareRun> runs, const std::vector<std::string>& labels = {}) {
    auto comparison = compare_runs(std::move(runs), labels);
    INFO((comparison ? std::string("ok") : comparison.error().message()));
    REQUIRE(comparison.ok());
    return comparison.value();
}

const CompareRow& row(const Comparison& c, const std::string& key) {
    for (const CompareSection& section : c.sections)
        for (const CompareRow& r : section.rows)
            if (r.key == key) return r;
    FAIL("no row " << key);
    throw std::logic_error("unreachable");
}

double number(const CompareValue& value) {
    REQUIRE(value.is_known());
    return value.number;
}

// A small report as cxtrace writes it: a root, a process, a thread.
json synthetic_report(const std::string& workload) {
    json report = json::parse(R"({
      "schema": "cxtrace.report/1",
      "run": {"workload": "", "command": ["prog"], "started_at": "2025-03-01T10:00:00.000Z",
              "duration_ns": 1000000000, "cpus": 2, "kernel": "6.1.0-18-amd64", "events": 1000,
              "lost_events": 0, "complete": true, "approximate": false, "interrupted": false, "cut_off": null},
      "phases": [{"name": "whole run", "start_ns": 0, "end_ns": 1000000000, "duration_ns": 1000000000,
                  "tasks_created": {"process": 1, "thread": 1}, "cpu_time_ns": 500000000,
                  "cpu_time_ns_by_kind": {"root": 300000000, "process": 100000000, "thread": 100000000}}],
      "summary": {"tasks": 3, "processes": 2, "threads": 1, "address_spaces": 2,
                  "creation_latency_ns": {
                    "process": {"count": 1, "min": 100000, "p50": 100000, "p90": 100000, "max": 100000},
                    "thread": {"count": 1, "min": 20000, "p50": 20000, "p90": 20000, "max": 20000}},
                  "syscall_latency_ns": {
                    "process": {"count": 1, "min": 60000, "p50": 60000, "p90": 60000, "max": 60000},
                    "thread": {"count": 1, "min": 10000, "p50": 10000, "p90": 10000, "max": 10000}},
                  "max_parallelism": 2, "parallelism_ns": {"0": 100000000, "1": 600000000, "2": 400000000},
                  "context_switches": 100, "migrations": 20,
                  "states_ns_by_kind": {
                    "root": {"running": 300000000, "runnable": 0, "sleeping": 700000000, "blocked": 0, "other": 0},
                    "thread": {"running": 100000000, "runnable": 100000000, "sleeping": 0, "blocked": 0, "other": 0}}},
      "tasks": [{"pid": 100, "comm": "prog"}]
    })");
    report["run"]["workload"] = workload;
    return report;
}

std::string write_file(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
    return path;
}

}  // namespace

TEST_CASE("compare reads each run's figures from report.json as the pipeline wrote them", "[compare]") {
    const json report = recorded_report("process-vs-thread-n5.cxt");
    const CompareRun run = run_of(report, "a/report.json");
    const json& summary = report.at("summary");
    CHECK(run.tasks == summary.at("tasks").get<uint64_t>());
    CHECK(run.processes == summary.at("processes").get<uint64_t>());
    CHECK(run.threads == summary.at("threads").get<uint64_t>());
    CHECK(run.address_spaces == summary.at("address_spaces").get<uint64_t>());
    CHECK(run.max_parallelism == summary.at("max_parallelism").get<uint64_t>());
    REQUIRE(run.first_run);
    for (const auto& item : summary.at("creation_latency_ns").items()) {
        INFO("kind " << item.key());
        REQUIRE(run.first_run->count(item.key()) == 1);
        CHECK(run.first_run->at(item.key()).p50 == item.value().at("p50").get<uint64_t>());
        CHECK(run.first_run->at(item.key()).count == item.value().at("count").get<uint64_t>());
    }
    // The phases tile the run: their sums are the run's.
    uint64_t created = 0, cpu = 0;
    for (const json& phase : report.at("phases")) {
        for (const auto& item : phase.at("tasks_created").items()) created += item.value().get<uint64_t>();
        if (phase.at("cpu_time_ns").is_number()) cpu += phase.at("cpu_time_ns").get<uint64_t>();
    }
    REQUIRE(run.created);
    uint64_t created_by_kind = 0;
    for (const auto& [kind, n] : *run.created) created_by_kind += n;
    CHECK(created_by_kind == created);
    CHECK(created == run.tasks.value() - 1);  // every task but the root was created in the trace
    if (run.cpu_time_ns) CHECK(*run.cpu_time_ns == cpu);
    const bool has_states = summary.at("states_ns_by_kind").is_object();
    CHECK(run.states_by_kind.has_value() == has_states);
    if (has_states)
        for (const auto& item : summary.at("states_ns_by_kind").items())
            CHECK(run.states_by_kind->at(item.key())[RunState::Running] == item.value().at("running").get<uint64_t>());

    // Read from the file's text, the tasks are skipped and the figures the same.
    auto from_text = compare_run_from_text(render_json_report(report), "a/report.json");
    REQUIRE(from_text.ok());
    CHECK(from_text.value().tasks == run.tasks);
    CHECK(from_text.value().first_run->at("process").p90 == run.first_run->at("process").p90);
}

TEST_CASE("two recorded runs: the rows that differ are marked and said with their numbers", "[compare]") {
    const json fork_threads = recorded_report("process-vs-thread-n5.cxt");
    const json lost_update = recorded_report("lost-update-t4.cxt");
    const Comparison c = compared({run_of(fork_threads, "pvt/report.json"), run_of(lost_update, "lu/report.json")});
    REQUIRE(c.runs.size() == 2);
    CHECK(c.runs[0].letter == 'A');
    CHECK(c.runs[1].letter == 'B');
    CHECK(c.runs[0].label != c.runs[1].label);

    // Aligned: every row has a value per run, each the run's own figure.
    for (const CompareSection& section : c.sections)
        for (const CompareRow& r : section.rows) CHECK(r.values.size() == 2);
    const CompareRow& spaces = row(c, "tasks.address_spaces");
    CHECK(number(spaces.values[0]) == fork_threads.at("summary").at("address_spaces").get<double>());
    CHECK(number(spaces.values[1]) == lost_update.at("summary").at("address_spaces").get<double>());
    CHECK(spaces.differs == (spaces.values[0].number != spaces.values[1].number));
    const CompareRow& tasks = row(c, "tasks.tasks");
    CHECK(tasks.differs == (tasks.values[0].number != tasks.values[1].number));
    if (tasks.differs) {
        const std::string expected = "Tasks: " + format_compare_value(tasks.values[0], CompareUnit::Count) + " in " +
                                     c.runs[0].label + ", " + format_compare_value(tasks.values[1], CompareUnit::Count) +
                                     " in " + c.runs[1].label + ".";
        CHECK(tasks.difference == expected);
    }

    // The differences are exactly the marked rows' sentences, in order.
    std::vector<std::string> marked;
    for (const CompareSection& section : c.sections)
        for (const CompareRow& r : section.rows)
            if (r.differs) marked.push_back(r.difference);
    CHECK(marked == c.differences);
    CHECK(!c.differences.empty());
    // A thread run and a process run: lost-update creates no process.
    CHECK(row(c, "creation.thread.created").values[1].is_known());
    const CompareRow& process_p50 = row(c, "creation.process.first_run_p50");
    CHECK(process_p50.values[0].is_known());
    CHECK(process_p50.values[1].state == CompareValue::State::None);
    CHECK(format_compare_value(process_p50.values[1], process_p50.unit) == "none");
}

TEST_CASE("a run compared with itself differs in nothing, and the two are told apart", "[compare]") {
    const json report = recorded_report("process-vs-thread-n5.cxt");
    const Comparison c = compared({run_of(report, "one/report.json"), run_of(report, "two/report.json")});
    CHECK(c.differences.empty());
    for (const CompareSection& section : c.sections)
        for (const CompareRow& r : section.rows) CHECK_FALSE(r.differs);
    // Same workload, same start: the directories tell them apart.
    CHECK(c.runs[0].label == "process-vs-thread (one)");
    CHECK(c.runs[1].label == "process-vs-thread (two)");
    CHECK_THAT(render_compare_html(c), Contains("No figure differs by the rule below."));
    CHECK_THAT(render_compare_text(c), Contains("what differs: nothing"));
}

TEST_CASE("the highlight rule: 1.5x and 1 us for times, any difference for counts, 10 points for shares",
          "[compare]") {
    struct Case {
        const char* what;
        const char* key;
        std::function<void(json&, json&)> set;
        bool differs;
    };
    auto p50 = [](uint64_t a, uint64_t b) {
        return [a, b](json& x, json& y) {
            x["summary"]["creation_latency_ns"]["process"]["p50"] = a;
            y["summary"]["creation_latency_ns"]["process"]["p50"] = b;
        };
    };
    auto parallel = [](uint64_t one_a, uint64_t two_a, uint64_t one_b, uint64_t two_b) {
        return [=](json& x, json& y) {
            x["summary"]["parallelism_ns"] = {{"1", one_a}, {"2", two_a}};
            y["summary"]["parallelism_ns"] = {{"1", one_b}, {"2", two_b}};
        };
    };
    auto migrations = [](uint64_t a, uint64_t b) {
        return [a, b](json& x, json& y) { x["summary"]["migrations"] = a, y["summary"]["migrations"] = b; };
    };
    auto spaces = [](uint64_t a, uint64_t b) {
        return [a, b](json& x, json& y) { x["summary"]["address_spaces"] = a, y["summary"]["address_spaces"] = b; };
    };
    const Case cases[] = {
        {"1.5x exactly", "creation.process.first_run_p50", p50(100000, 150000), true},
        {"just under 1.5x", "creation.process.first_run_p50", p50(100000, 149999), false},
        {"the other way round", "creation.process.first_run_p50", p50(150000, 100000), true},
        {"2.8x but under 1 us apart", "creation.process.first_run_p50", p50(500, 1400), false},
        {"0 against a time", "creation.process.first_run_p50", p50(0, 5000), true},
        {"the same", "creation.process.first_run_p50", p50(100000, 100000), false},
        {"shares 10 points apart", "parallelism.share", parallel(60, 40, 50, 50), true},  // 40% against 50%
        {"shares 9 points apart", "parallelism.share", parallel(59, 41, 50, 50), false},
        {"migrations 2.25x but 5 apart", "parallelism.migrations", migrations(4, 9), false},
        {"migrations 1.5x and 20 apart", "parallelism.migrations", migrations(40, 60), true},
        {"counts differ by one", "tasks.address_spaces", spaces(3, 4), true},
        {"counts the same", "tasks.address_spaces", spaces(4, 4), false},
    };
    for (const Case& test : cases) {
        INFO(test.what);
        json a = synthetic_report("a"), b = synthetic_report("b");
        test.set(a, b);
        const Comparison c = compared({run_of(a, "a/report.json"), run_of(b, "b/report.json")});
        const CompareRow& r = row(c, test.key);
        INFO(r.values[0].number << " against " << r.values[1].number);
        CHECK(r.differs == test.differs);
        CHECK(r.difference.empty() == !test.differs);
        const bool listed = std::find(c.differences.begin(), c.differences.end(), r.difference) != c.differences.end();
        CHECK(listed == test.differs);
    }
}

TEST_CASE("the sentences say what the numbers show, and nothing of a run where a figure is unknown",
          "[compare]") {
    json a = synthetic_report("forks"), b = synthetic_report("threads"), old = synthetic_report("old");
    a["summary"]["creation_latency_ns"]["process"]["p50"] = 100000;
    b["summary"]["creation_latency_ns"]["process"]["p50"] = 40000;
    b["summary"]["parallelism_ns"] = {{"1", 900}, {"2", 100}};  // 10% against 40% with 2 or more
    old["summary"].erase("creation_latency_ns");
    old["summary"].erase("parallelism_ns");

    SECTION("two runs") {
        const Comparison c = compared({run_of(a, "x/report.json"), run_of(b, "y/report.json")});
        CHECK(row(c, "creation.process.first_run_p50").difference ==
              "Process: first run, p50: 2.5x as long in forks (100.0 us) as in threads (40.0 us).");
        CHECK(row(c, "parallelism.share").difference ==
              "Share of that time with 2 or more: 40% in forks, 10% in threads (30 points apart).");
        CHECK(row(c, "creation.process.first_run_p50").highest == 0u);
        CHECK(row(c, "creation.process.first_run_p50").lowest == 1u);
    }
    SECTION("three runs, one without the figures") {
        const Comparison c = compared({run_of(a, "x/report.json"), run_of(b, "y/report.json"), run_of(old, "z/report.json")});
        const CompareRow& p50 = row(c, "creation.process.first_run_p50");
        CHECK(p50.values[2].state == CompareValue::State::Unknown);
        CHECK(p50.difference == "Process: first run, p50: 2.5x as long in forks (100.0 us) as in threads (40.0 us); "
                                "unknown in old.");
        CHECK(row(c, "parallelism.share").difference ==
              "Share of that time with 2 or more: 40% in forks, 10% in threads (30 points apart); unknown in old.");
    }
    SECTION("runs tied at the lowest are all marked so in the page") {
        json b2 = b;
        b2["run"]["workload"] = "threads again";
        const Comparison c = compared({run_of(a, "x/report.json"), run_of(b, "y/report.json"), run_of(b2, "z/report.json")});
        const std::string html = render_compare_html(c);
        const size_t at = html.find("<tr data-key=\"creation.process.first_run_p50\"");
        REQUIRE(at != std::string::npos);
        const std::string tr = html.substr(at, html.find("</tr>", at) - at);
        CHECK_THAT(tr, Contains("<td class=\"num high\">100.0 us</td><td class=\"num low\">40.0 us</td>"
                                "<td class=\"num low\">40.0 us</td>"));
    }
    SECTION("three runs that all have it: the highest and the lowest") {
        json c3 = synthetic_report("vforks");
        c3["summary"]["creation_latency_ns"]["process"]["p50"] = 70000;
        const Comparison c = compared({run_of(a, "x/report.json"), run_of(b, "y/report.json"), run_of(c3, "z/report.json")});
        CHECK(row(c, "creation.process.first_run_p50").difference ==
              "Process: first run, p50: 2.5x as long in forks (100.0 us) as in threads (40.0 us), the highest and the "
              "lowest of 3 runs.");
    }
}

TEST_CASE("a run a limit stopped is marked incomplete, naming the limit, and an unknown option is not shown",
          "[compare]") {
    json limited = synthetic_report("limited");
    limited["run"]["complete"] = false;
    limited["run"]["limit_reached"] = {{"option", "--max-trace-size"}, {"bytes", 1 << 20}};
    const CompareRun run = run_of(limited, "l/report.json");
    CHECK(run.limit_reached == std::optional<std::string>("--max-trace-size"));
    CompareRun labelled = run;
    labelled.label = "limited";
    const auto notes = compare_run_notes(labelled);
    REQUIRE(notes.size() == 1);
    CHECK(notes[0].warning);
    CHECK(notes[0].text == "limited is incomplete: its tracing stopped at a limit (--max-trace-size); its figures "
                           "cover only what was captured.");
    limited["run"]["limit_reached"]["option"] = "<script>";
    CHECK_FALSE(run_of(limited, "l/report.json").limit_reached.has_value());
}

TEST_CASE("a report without states, phases or syscall latencies shows them unknown, never 0", "[compare]") {
    json now = recorded_report("process-vs-thread-n5.cxt");
    json old = synthetic_report("older");
    // As an older cxtrace wrote it: schema 1, without what later versions added.
    old.erase("phases");
    old["summary"].erase("syscall_latency_ns");
    old["summary"].erase("context_switches");
    old["summary"]["states_ns_by_kind"] = nullptr;
    old["run"].erase("kernel");
    const Comparison c = compared({run_of(now, "now/report.json"), run_of(old, "old/report.json")});

    for (const char* key : {"cpu.all", "cpu.busy", "runs.kernel", "parallelism.switch_ins", "creation.process.created",
                            "creation.process.syscall_p50"}) {
        INFO(key);
        CHECK(row(c, key).values[1].state == CompareValue::State::Unknown);
        CHECK_FALSE(row(c, key).differs);
    }
    if (now.at("summary").at("states_ns_by_kind").is_object()) {
        bool any = false;
        for (const CompareSection& section : c.sections)
            if (section.id == "states")
                for (const CompareRow& r : section.rows) {
                    any = true;
                    CHECK(r.values[1].state == CompareValue::State::Unknown);
                }
        CHECK(any);
    }
    // Nothing says a figure of the old run is 0: its unknowns are said so.
    const std::string html = render_compare_html(c), text = render_compare_text(c);
    CHECK_THAT(html, Contains("<td class=\"num unknown\">unknown</td>"));
    CHECK_THAT(text, Contains("unknown"));
    for (const std::string& sentence : c.differences) CHECK_THAT(sentence, !Contains("0 ns in older"));

    SECTION("no run has states: the section says they are unknown") {
        json old2 = old;
        old2["run"]["workload"] = "older too";
        const Comparison both_old = compared({run_of(old, "a/report.json"), run_of(old2, "b/report.json")});
        for (const CompareSection& section : both_old.sections)
            if (section.id == "states") CHECK(section.rows.empty());
        CHECK_THAT(render_compare_html(both_old), Contains("Unknown in every run"));
        CHECK_THAT(render_compare_text(both_old), Contains("(unknown in every run)"));
    }
}

TEST_CASE("reports compare cannot read are refused, naming the file and what to do", "[compare]") {
    const json good = synthetic_report("w");
    auto refused = [](const json& report) {
        auto run = compare_run_from_report(report, "runs/x/report.json");
        REQUIRE_FALSE(run.ok());
        CHECK_THAT(run.error().message(), Contains("runs/x/report.json"));
        return run.error().message();
    };
    json newer = good;
    newer["schema"] = "cxtrace.report/2";
    CHECK_THAT(refused(newer), Contains("newer cxtrace") && Contains("cxtrace.report/1") && Contains("cxtrace report"));
    json foreign = good;
    foreign["schema"] = "someone.else/1";
    CHECK_THAT(refused(foreign), Contains("not a cxtrace report.json") && Contains("someone.else/1"));
    json hostile_schema = good;
    hostile_schema["schema"] = "cxtrace.report/\x1b[2J";
    CHECK_THAT(refused(hostile_schema), !Contains("\x1b") && Contains("\\x1b"));
    json unversioned = good;
    unversioned.erase("schema");
    CHECK_THAT(refused(unversioned), Contains("no \"schema\" field"));
    CHECK_THAT(refused(json::array()), Contains("not a JSON object"));
    json no_summary = good;
    no_summary.erase("summary");
    CHECK_THAT(refused(no_summary), Contains("no \"summary\" object"));

    auto bad_text = compare_run_from_text("{\"schema\": \"cxtrace.report/1\", \"run\": {", "cut/report.json");
    REQUIRE_FALSE(bad_text.ok());
    CHECK_THAT(bad_text.error().message(), Contains("cut/report.json is not valid JSON") && Contains("line"));
    auto empty = compare_run_from_text("", "empty/report.json");
    REQUIRE_FALSE(empty.ok());
    CHECK_THAT(empty.error().message(), Contains("empty/report.json is empty"));

    // The largest numbers JSON holds render (UBSan: no conversion out of range).
    json huge = good;
    const uint64_t most = UINT64_MAX;
    huge["run"]["duration_ns"] = most;
    huge["summary"]["creation_latency_ns"]["process"] = {{"count", most}, {"min", most}, {"p50", most}, {"p90", most}, {"max", most}};
    huge["summary"]["parallelism_ns"] = {{"1", most}, {"999999", most}};
    huge["phases"][0]["cpu_time_ns"] = most;
    huge["phases"][0]["cpu_time_ns_by_kind"]["thread"] = most;
    const Comparison extreme = compared({run_of(huge, "huge/report.json"), run_of(good, "good/report.json")});
    CHECK_THAT(render_compare_html(extreme), Contains("huge/report.json"));
    CHECK_THAT(render_compare_text(extreme), Contains("huge/report.json"));

    // Fields of the wrong type are unknown, not a crash.
    json odd = good;
    odd["summary"]["tasks"] = "many";
    odd["summary"]["creation_latency_ns"] = {{"process", {{"count", -1}}}};
    odd["summary"]["parallelism_ns"] = {{"x", 5}, {"2", "y"}};
    odd["phases"] = {{{"tasks_created", 7}}};
    const CompareRun run = run_of(odd, "odd/report.json");
    CHECK_FALSE(run.tasks);
    CHECK(run.first_run->empty());
    CHECK(run.parallelism_ns->empty());
    CHECK_FALSE(run.created);
}

TEST_CASE("a command-line argument names a run's directory or its report.json, or is refused", "[compare]") {
    test::TempDir tmp;
    const std::string with_report = tmp.file("run");
    REQUIRE(mkdir(with_report.c_str(), 0755) == 0);
    write_file(with_report + "/report.json", synthetic_report("w").dump());
    const std::string trace_only = tmp.file("trace-only");
    REQUIRE(mkdir(trace_only.c_str(), 0755) == 0);
    write_file(trace_only + "/trace.cxt", "CXTRACE");
    const std::string empty_dir = tmp.file("empty");
    REQUIRE(mkdir(empty_dir.c_str(), 0755) == 0);
    const std::string fifo = tmp.file("fifo");
    REQUIRE(mkfifo(fifo.c_str(), 0644) == 0);

    CHECK(locate_report_json(with_report).value() == with_report + "/report.json");
    CHECK(locate_report_json(with_report + "/").value() == with_report + "/report.json");
    CHECK(locate_report_json(with_report + "/report.json").value() == with_report + "/report.json");
    auto message = [](const std::string& path) {
        auto located = locate_report_json(path);
        REQUIRE_FALSE(located.ok());
        CHECK_THAT(located.error().message(), Contains(path));
        return located.error().message();
    };
    CHECK_THAT(message(trace_only), Contains("cxtrace report " + trace_only + "/trace.cxt"));
    CHECK_THAT(message(trace_only + "/trace.cxt"), Contains("is a trace, not a report"));
    CHECK_THAT(message(empty_dir), Contains("holds no report.json"));
    CHECK_THAT(message(tmp.file("missing")), Contains("no such file or directory"));
    CHECK_THAT(message(fifo), Contains("not a regular file"));

    auto read = read_compare_run(with_report + "/report.json");
    REQUIRE(read.ok());
    CHECK(read.value().workload == "w");
    CHECK(read.value().source == with_report + "/report.json");
}

TEST_CASE("each run is named after its workload or command, with a suffix only where names clash", "[compare]") {
    json a = synthetic_report(""), b = synthetic_report(""), c = synthetic_report("process-vs-thread"),
         d = synthetic_report("process-vs-thread");
    a["run"]["command"] = {"/home/me/bin/prog", "-n", "5"};
    b["run"]["command"] = {"/usr/bin/python3", "prog.py"};
    c["run"]["started_at"] = "2025-03-01T10:00:00.000Z";
    d["run"]["started_at"] = "2025-03-01T11:30:05.000Z";
    const std::vector<CompareRun> runs = {run_of(a, "1/report.json"), run_of(b, "2/report.json"),
                                          run_of(c, "3/report.json"), run_of(d, "4/report.json")};
    const Comparison named = compared(runs);
    CHECK(named.runs[0].label == "prog");
    CHECK(named.runs[1].label == "python3 prog.py");
    CHECK(named.runs[2].label == "process-vs-thread (10:00:00 UTC)");
    CHECK(named.runs[3].label == "process-vs-thread (11:30:05 UTC)");
    CHECK(named.runs[3].letter == 'D');

    const Comparison relabelled = compared(runs, {"C", "Python", "one", "two"});
    CHECK(relabelled.runs[1].label == "Python");

    auto mismatch = compare_runs(runs, {"only one"});
    REQUIRE_FALSE(mismatch.ok());
    CHECK_THAT(mismatch.error().message(), Contains("one --label per run"));
    auto empty = compare_runs({runs[0], runs[1]}, {"C", ""});
    REQUIRE_FALSE(empty.ok());
    CHECK_THAT(empty.error().message(), Contains("cannot be empty"));
    auto one = compare_runs({runs[0]});
    REQUIRE_FALSE(one.ok());
    CHECK_THAT(one.error().message(), Contains("2 to 8 runs"));
    std::vector<CompareRun> nine(9, runs[0]);
    CHECK_FALSE(compare_runs(nine).ok());
    std::vector<CompareRun> eight(8, runs[0]);
    const Comparison most = compared(eight);
    CHECK(most.runs.back().letter == 'H');
}

TEST_CASE("hostile names stay text in compare.html and never reach the terminal as controls", "[compare]") {
    const std::string markup = "<img src=x onerror=alert(1)>";
    const std::string script = "</script><script>alert(2)</script>";
    json a = synthetic_report(markup), b = synthetic_report("plain");
    a["run"]["command"] = {script, "\x1b[31mred"};
    a["run"]["kernel"] = "6.1\xE2\x80\xAE" "evil";
    a["run"]["scope_note"] = "<b>launcher</b>";
    a["summary"]["creation_latency_ns"]["<i>kind</i>"] = {{"count", 1}, {"min", 5}, {"p50", 5}, {"p90", 5}, {"max", 5}};
    a["summary"]["states_ns_by_kind"]["\x1b]0;title\x07"] = {{"running", 5}};
    const Comparison c = compared({run_of(a, "dir/<u>report</u>.json"), run_of(b, "b/report.json")});

    const std::string html = render_compare_html(c);
    CHECK_THAT(html, !Contains("<img") && !Contains("<script") && !Contains("<i>kind") && !Contains("<b>launcher") &&
                         !Contains("<u>report"));
    CHECK_THAT(html, Contains("&lt;img src=x onerror=alert(1)&gt;") && Contains("&lt;/script&gt;&lt;script&gt;"));
    CHECK_THAT(html, Contains("[U+202E]"));
    CHECK_THAT(html, !Contains("\x1b"));
    const std::string text = render_compare_text(c);
    CHECK_THAT(text, !Contains("\x1b") && !Contains("\x07") && !Contains("\xE2\x80\xAE"));
    CHECK_THAT(text, Contains("[U+202E]") && Contains("\\x1b"));
}

TEST_CASE("compare.html is one self-contained page: a column per run in every table, nothing fetched, no script",
          "[compare]") {
    const Comparison c = compared({run_of(recorded_report("process-vs-thread-n5.cxt"), "a/report.json"),
                                   run_of(recorded_report("shared-globals.cxt"), "b/report.json"),
                                   run_of(recorded_report("creation-methods.cxt"), "c/report.json")});
    const std::string html = render_compare_html(c);
    CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
    CHECK_THAT(html, Contains("Content-Security-Policy") && Contains("default-src 'none'"));
    for (const char* fetch : {"<script", "<link", " src=", "http://", "https://", "url("}) CHECK_THAT(html, !Contains(fetch));
    for (const char* id : {"differences", "runs", "creation", "tasks", "parallelism", "cpu", "states"})
        CHECK_THAT(html, Contains(std::string("<section id=\"") + id + "\"") || Contains(std::string("id=\"") + id + "\""));
    CHECK_THAT(html, Contains("id=\"creation-chart\"") && Contains("id=\"parallelism-chart\""));
    // Each table: the figure column, then one per run.
    size_t tables = 0;
    for (size_t at = html.find("<table class=\"cmp-table\""); at != std::string::npos;
         at = html.find("<table class=\"cmp-table\"", at + 1)) {
        ++tables;
        const std::string head = html.substr(at, html.find("</thead>", at) - at);
        size_t columns = 0;
        for (size_t th = head.find("<th>"); th != std::string::npos; th = head.find("<th>", th + 1)) ++columns;
        CHECK(columns == 1 + c.runs.size());
    }
    CHECK(tables >= 5);
    // Every differing row is marked, and its sentence listed.
    for (const std::string& sentence : c.differences) CHECK_THAT(html, Contains("<li>" + html_escape(sentence) + "</li>"));
    size_t marked = 0;
    for (const CompareSection& section : c.sections)
        for (const CompareRow& r : section.rows) marked += r.differs;
    size_t in_page = 0;
    for (size_t at = html.find("class=\"differs\""); at != std::string::npos; at = html.find("class=\"differs\"", at + 1))
        ++in_page;
    CHECK(in_page == marked);
}

TEST_CASE("where the time went: the states of a run that has them, against one without", "[compare]") {
    // A thread's waits, through the pipeline (event ABI 4: it has the states).
    const json calm = report_json(test::thread_story().correlate(test::test_end(test::at(300 * test::kUs))));
    REQUIRE(calm.at("summary").at("states_ns_by_kind").is_object());
    json busy = calm;
    json& thread = busy["summary"]["states_ns_by_kind"]["thread"];
    thread["running"] = thread["running"].get<uint64_t>() * 4;
    const json old = recorded_report("process-vs-thread-n5.cxt");  // recorded before the states existed
    REQUIRE(old.at("summary").at("states_ns_by_kind").is_null());
    const Comparison c =
        compared({run_of(calm, "calm/report.json"), run_of(busy, "busy/report.json"), run_of(old, "old/report.json")});

    auto share = [](const json& states, const char* state) {
        uint64_t total = 0;
        for (const auto& item : states.items()) total += item.value().get<uint64_t>();
        return static_cast<double>(states.at(state).get<uint64_t>()) / static_cast<double>(total);
    };
    const json& calm_thread = calm.at("summary").at("states_ns_by_kind").at("thread");
    const CompareRow& running = row(c, "states.thread.running");
    CHECK(number(running.values[0]) == Approx(share(calm_thread, "running")));
    CHECK(number(running.values[1]) == Approx(share(thread, "running")));
    CHECK(running.values[2].state == CompareValue::State::Unknown);
    CHECK(running.differs == (number(running.values[1]) - number(running.values[0]) >= 0.1));
    CHECK(running.differs);
    CHECK_THAT(running.difference, EndsWith("; unknown in " + c.runs[2].label + "."));
    uint64_t life = 0;
    for (const auto& item : calm_thread.items()) life += item.value().get<uint64_t>();
    CHECK(number(row(c, "states.thread.life").values[0]) == static_cast<double>(life));
    // A state no run was in has no row: 0% everywhere would say nothing.
    for (const auto& item : calm_thread.items())
        if (item.value().get<uint64_t>() == 0 && thread.at(item.key()).get<uint64_t>() == 0)
            for (const CompareSection& section : c.sections)
                for (const CompareRow& r : section.rows) CHECK(r.key != "states.thread." + item.key());

    const std::string html = render_compare_html(c);
    CHECK_THAT(html, Contains("id=\"states-chart\"") && Contains("class=\"st-running\""));
    CHECK_THAT(html, Contains("<div class=\"state-bar unknown\""));
}
