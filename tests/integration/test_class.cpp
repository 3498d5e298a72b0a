// `cxtrace class` as an instructor runs it, on a class generated from one
// real submission: tests/data/lab-process-vs-thread holds the lab.json and
// trace.cxt of a live `cxtrace lab process-vs-thread` run, and `cxtrace
// report` makes its report.json again. Each generated student varies the
// name, seed, start, machine speed and predictions (lab.json and
// report.json kept consistent); bad submissions are added. None of it
// needs root (the ownership check under sudo does, and says so).
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "headless_chromium.h"
#include "live_run.h"

using Catch::Matchers::Contains;
using Catch::Matchers::EndsWith;
using Catch::Matchers::StartsWith;
using nlohmann::json;

namespace {

const std::string kRecorded = std::string(CXTRACE_TEST_DATA) + "/lab-process-vs-thread";
const std::string kArtifacts = std::string(CXTRACE_ARTIFACTS) + "/class";

void write_text(const std::string& path, const std::string& text) {
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream(path, std::ios::binary) << text;
    REQUIRE(live::read_file(path) == text);
}

std::string last_line(const std::string& text) {
    std::string trimmed = text;
    while (!trimmed.empty() && trimmed.back() == '\n') trimmed.pop_back();
    const size_t newline = trimmed.rfind('\n');
    return newline == std::string::npos ? trimmed : trimmed.substr(newline + 1);
}

struct Pair {
    json lab, report;
};

// The recorded submission: lab.json as cxtrace lab wrote it, report.json
// as cxtrace report makes it from the same run's trace.
Pair recorded_pair(const live::TempDir& tmp) {
    const live::Outcome out = live::cxtrace({"report", "-o", tmp / "recorded", kRecorded + "/trace.cxt"});
    INFO(out.err);
    REQUIRE(out.status == 0);
    return {live::read_json(kRecorded + "/lab.json"), live::read_json(tmp / "recorded/report.json")};
}

json& question(json& lab, const std::string& id) {
    for (json& q : lab["questions"])
        if (q["id"] == id) return q;
    FAIL("no question " << id);
    throw std::logic_error("unreachable");
}

void scale_latencies(json& holder, double factor) {
    for (const char* key : {"creation_latency_ns", "syscall_latency_ns"})
        for (auto& [kind, stats] : holder[key].items())
            for (const char* stat : {"min", "p50", "p90", "max"})
                stats[stat] = static_cast<uint64_t>(std::llround(stats[stat].get<double>() * factor));
}

// Student i's submission: the recorded one on a machine `factor` times as
// slow, started at another time, with predictions of their own, graded as
// the sheet grades (thread-cost's choices, ratio's tolerance).
Pair student(const Pair& base, int i, double factor) {
    Pair p = base;
    char name[32], started[40];
    std::snprintf(name, sizeof name, "student-%03d", i);
    std::snprintf(started, sizeof started, "2025-03-0%dT%02d:%02d:%02d.%03dZ", 1 + i / 3600, 8 + i / 60 % 60, i % 60, i * 7 % 60, i);
    p.lab["student"] = name;
    p.lab["seed"] = 1000 + i;
    p.lab["started_at"] = started;
    p.report["run"]["started_at"] = started;
    scale_latencies(p.report["summary"], factor);
    for (json& phase : p.report["phases"]) scale_latencies(phase, factor);
    const json& latency = p.report["summary"]["creation_latency_ns"];
    const double thread_us = latency["thread"]["p50"].get<double>() / 1e3;
    const double ratio = latency["process"]["p50"].get<double>() / 1e3 / thread_us;

    json& cost = question(p.lab, "thread-cost");
    cost["measured"] = thread_us;
    const std::string right = thread_us < 1 ? "a" : thread_us < 2000 ? "b" : "c";
    const std::string predicted = i % 4 == 0 ? "a" : i % 4 == 3 ? "c" : "b";
    cost["answer"] = right + ") " + (right == "a" ? "under 1 µs" : right == "b" ? "between 1 µs and 2 ms" : "more than 2 ms");
    cost["prediction"] = predicted;
    cost["prediction_value"] = predicted;
    cost["verdict"] = predicted == right ? "right" : "wrong";

    json& r = question(p.lab, "ratio");
    const double guess = 0.5 + (i % 13) * 0.6;
    r["measured"] = ratio;
    r["prediction"] = std::to_string(guess);
    r["prediction_value"] = guess;
    r["verdict"] = std::fabs(guess - ratio) <= std::max(0.5, 0.6 * ratio) ? "right" : "wrong";

    int right_count = 0, graded = 0;
    for (const json& q : p.lab["questions"]) {
        right_count += q["verdict"] == "right";
        graded += q["verdict"] == "right" || q["verdict"] == "wrong";
    }
    p.lab["score"]["right"] = right_count;
    p.lab["score"]["graded"] = graded;
    return p;
}

void write_pair(const std::string& dir, const Pair& p) {
    write_text(dir + "/lab.json", p.lab.dump(2) + "\n");
    write_text(dir + "/report.json", p.report.dump(2) + "\n");
}

// A class of `students` generated submissions under root/class, with the
// bad ones an instructor meets.
void generate_class(const Pair& base, const std::string& root, int students) {
    for (int i = 0; i < students; ++i) {
        const double factor = i == 123 % students ? 15.0 : 0.7 + (i % 11) * 0.06;
        Pair p = student(base, i, factor);
        if (i == 200 % students) question(p.lab, "ratio")["measured"] = 99.0;  // edited: does not match
        if (i == 250 % students) {
            p.report["run"]["lost_events"] = 99;
            p.report["run"]["complete"] = false;
            p.lab["run_complete"] = false;
        }
        char dir[64];
        std::snprintf(dir, sizeof dir, "/class/room-%d/student-%03d/cxtrace-reports/lab", i % 3, i);
        write_pair(root + dir, p);
    }
    // Hostile: a name with markup and a right-to-left override.
    Pair hostile = student(base, students + 1, 1.0);
    hostile.lab["student"] = "<script>alert('x')</script>\xE2\x80\xAE" "evil";
    hostile.lab["sheet"]["title"] = "<img src=x onerror=alert(2)>";
    question(hostile.lab, "ratio")["prediction"] = "=cmd|' /C calc'!A0";
    write_pair(root + "/class/hostile", hostile);
    // Unreadable as a lab.json: cut short, a FIFO, from a newer cxtrace.
    write_text(root + "/class/bad/cut/lab.json", base.lab.dump().substr(0, 200));
    std::filesystem::create_directories(root + "/class/bad/fifo");
    REQUIRE(mkfifo((root + "/class/bad/fifo/lab.json").c_str(), 0644) == 0);
    Pair newer = student(base, students + 2, 1.0);
    newer.lab["schema"] = "cxtrace.lab-result/2";
    write_text(root + "/class/bad/newer/lab.json", newer.lab.dump());
    // The same submission collected twice.
    std::filesystem::copy(root + "/class/room-1/student-001", root + "/class/bad/student-001-again",
                          std::filesystem::copy_options::recursive);
    // A symbolic link loop.
    std::filesystem::create_directory_symlink("..", root + "/class/bad/loop");  // to class/
}

std::vector<std::string> csv_lines(const std::string& csv) {
    std::vector<std::string> lines;
    for (size_t at = 0; at < csv.size();) {
        const size_t end = csv.find("\r\n", at);
        if (end == std::string::npos) break;
        lines.push_back(csv.substr(at, end - at));
        at = end + 2;
    }
    return lines;
}

}  // namespace

TEST_CASE("The recorded lab.json matches the report.json cxtrace report makes from its trace", "[cli][class]") {
    live::TempDir tmp;
    const Pair base = recorded_pair(tmp);
    write_pair(tmp / "one/alice", base);
    const live::Outcome out = live::cxtrace({"class", "-o", tmp / "out", tmp / "one"});
    INFO(out.out << out.err);
    REQUIRE(out.status == 0);
    const std::vector<std::string> lines = csv_lines(live::read_file(tmp / "out/class.csv"));
    REQUIRE(lines.size() == 2);
    CHECK_THAT(lines[1], Contains(",matches,regraded,yes,,"));  // the bundled sheet gives its verdicts again
}

TEST_CASE("cxtrace class aggregates 300 generated submissions and the bad ones, quickly, into class.html and class.csv",
          "[cli][class]") {
    live::TempDir tmp;
    const Pair base = recorded_pair(tmp);
    generate_class(base, tmp.path(), 300);

    const auto start = std::chrono::steady_clock::now();
    const live::Outcome out = live::cxtrace({"class", "-o", tmp / "out", tmp / "class"});
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    INFO(out.out << out.err);
    REQUIRE(out.status == 0);
    CHECK(out.err.empty());
    // The issue asks for under 2 s; CI is a loaded 2-CPU VM, so the bound
    // here is generous and the figure is printed.
    WARN("cxtrace class on 300 submissions (600 files and the bad ones): " << seconds << " s, the command's own: "
                                                                          << [&] {
                                                                                 std::smatch m;
                                                                                 std::regex_search(out.out, m, std::regex("aggregated in ([0-9.]+ s)"));
                                                                                 return m.size() > 1 ? m[1].str() : "?";
                                                                             }());
    CHECK(seconds < 10);

    const std::string page = tmp / "out/class.html", csv = tmp / "out/class.csv";
    CHECK(last_line(out.out) == "class: " + page);
    CHECK_THAT(out.out, Contains("  csv:   " + csv + "\n"));
    CHECK_THAT(out.out, StartsWith("cxtrace class: 301 submissions (301 students, 1 sheet) and 0 runs without a lab.json"));
    CHECK_THAT(out.out, Contains("5 skipped"));
    // Not counted: the one whose lab.json was edited, and the hostile one,
    // whose prediction is no number (the sheet cannot grade it again).
    CHECK_THAT(out.out, Contains("process-vs-thread (version 1): 301 submissions, 299 counted"));
    CHECK(out.out.find("\xE2\x80\xAE") == std::string::npos);  // the override shown as [U+202E]
    CHECK_THAT(out.out, Contains("[U+202E]evil") || !Contains("evil"));

    // class.csv: a header and a row per submission.
    const std::vector<std::string> lines = csv_lines(live::read_file(csv));
    REQUIRE(lines.size() == 302);
    CHECK_THAT(lines[0], StartsWith("student,sheet,sheet_version,seed,kernel,cpus,started_at,status,right,graded,"));
    size_t differs = 0, guarded = 0;
    for (const std::string& line : lines) {
        differs += line.find(",differs,") != std::string::npos;
        guarded += line.find(",'=cmd|' /C calc'!A0,") != std::string::npos;
    }
    CHECK(differs == 1);
    CHECK(guarded == 1);
    CHECK_THAT(lines[1], StartsWith("<script>alert('x')</script>"));  // sorted first; data in a CSV
    CHECK_THAT(lines[2], StartsWith("student-000,process-vs-thread,1,1000,"));

    const std::string html = live::read_file(page);
    CHECK_THAT(html, !Contains("<script>alert") && !Contains("<img src=x"));
    CHECK_THAT(html, Contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;[U+202E]evil"));
    for (const char* skipped : {"bad/cut/lab.json", "bad/fifo/lab.json", "bad/newer/lab.json",
                                "bad/student-001-again/cxtrace-reports/lab/lab.json"})
        CHECK_THAT(html, Contains(skipped));
    CHECK_THAT(html, Contains("is not a regular file") && Contains("was written by a newer cxtrace") &&
                         Contains("is not valid JSON") && Contains("(the same file content)"));
    CHECK_THAT(html, Contains("student-123") && Contains("slower or more than the class on process-vs-thread"));
    CHECK_THAT(html, Contains("lost 99 events"));
    CHECK_THAT(html, Contains("lab.json does not match its report.json") && Contains("lab.json has 99"));
    CHECK_THAT(html, Contains("reached a second time"));
    CHECK_THAT(html, Contains("is not one the sheet takes"));  // the hostile prediction
    CHECK_THAT(html, Contains("Every verdict was graded again by this cxtrace&#39;s sheet."));
}

TEST_CASE("cxtrace class: no folder, a missing folder, nothing usable: a clear message, a non-zero status, nothing "
          "written",
          "[cli][class]") {
    live::TempDir tmp;
    REQUIRE(mkdir((tmp / "empty").c_str(), 0755) == 0);
    write_text(tmp / "bad/a/lab.json", "{\"schema\": \"cxtrace.lab-result/3\"}");
    write_text(tmp / "bad/b/report.json", "not json");
    struct Case {
        const char* what;
        std::vector<std::string> args;
        int status;
        std::vector<std::string> said;
    };
    const Case cases[] = {
        {"no folder", {}, 2, {"folders"}},
        {"a missing folder", {tmp / "empty", tmp / "missing"}, 2, {tmp / "missing: No such file or directory"}},
        {"an empty folder", {tmp / "empty"}, 1, {"nothing usable: 0 files named lab.json or report.json", "Nothing was written"}},
        {"only bad files", {tmp / "bad"}, 1,
         {"every one skipped", tmp / "bad/a/lab.json: was written by a newer cxtrace", tmp / "bad/b/report.json: is not valid JSON"}},
    };
    for (const Case& test : cases) {
        INFO(test.what);
        std::vector<std::string> args = {"class", "-o", tmp / "never"};
        args.insert(args.end(), test.args.begin(), test.args.end());
        const live::Outcome out = live::cxtrace(args);
        INFO(out.out << out.err);
        CHECK(out.status == test.status);
        for (const std::string& said : test.said) CHECK_THAT(out.err, Contains(said));
        CHECK(out.out.empty());
        CHECK_FALSE(std::filesystem::exists(tmp / "never"));
    }
}

TEST_CASE("cxtrace class: without -o a fresh directory under ./cxtrace-reports, and under sudo the files are the user's",
          "[cli][class]") {
    live::TempDir tmp;
    const Pair base = recorded_pair(tmp);
    generate_class(base, tmp.path(), 5);
    const live::Outcome out = live::run({"/usr/bin/env", "-C", tmp.path(), CXTRACE_BINARY, "class", "class"});
    INFO(out.out << out.err);
    REQUIRE(out.status == 0);
    const std::string shown = last_line(out.out);
    REQUIRE_THAT(shown, StartsWith("class: cxtrace-reports/class-") && EndsWith("/class.html"));
    CHECK(live::file_exists(tmp / shown.substr(7)));

    if (!live::is_root()) {
        WARN("skipped: acting as another user needs root");
        return;
    }
    REQUIRE(chmod(tmp.path().c_str(), 0755) == 0);
    REQUIRE(mkdir((tmp / "shared").c_str(), 0777) == 0);
    REQUIRE(chmod((tmp / "shared").c_str(), 0777) == 0);
    const live::Outcome as_user = live::run({"/usr/bin/env", "SUDO_UID=65534", "SUDO_GID=65534", "SUDO_USER=nobody",
                                             CXTRACE_BINARY, "class", "-o", tmp / "shared/out/cls", tmp / "class"});
    INFO(as_user.out << as_user.err);
    REQUIRE(as_user.status == 0);
    for (const char* path : {"shared/out", "shared/out/cls", "shared/out/cls/class.html", "shared/out/cls/class.csv"})
        CHECK(live::owner_uid(tmp / path) == 65534);
}

TEST_CASE("class.html loads in headless Chromium without a console error, hostile names stay text, and it reads at "
          "800 and 1400 px",
          "[cli][class][html]") {
    REQUIRE_CHROMIUM(chromium);
    live::TempDir tmp;
    const Pair base = recorded_pair(tmp);
    generate_class(base, tmp.path(), 30);
    const live::Outcome out = live::cxtrace({"class", "-o", tmp / "out", tmp / "class"});
    INFO(out.out << out.err);
    REQUIRE(out.status == 0);
    const std::string page = tmp / "out/class.html";
    std::error_code error;
    std::filesystem::create_directories(kArtifacts, error);

    const live::PageLoad load = live::load_page(chromium, page, kArtifacts + "/class.png", tmp / "profile", 1280, 3000);
    INFO("console:\n" << load.console_text());
    REQUIRE(load.status == 0);
    CHECK(load.console.empty());
    CHECK_THAT(load.dom, !Contains("<img") && !Contains("<iframe") && !Contains("<script"));
    CHECK_THAT(load.dom, Contains("&lt;script&gt;alert('x')&lt;/script&gt;[U+202E]evil"));
    CHECK_THAT(load.dom, Contains("&lt;img src=x onerror=alert(2)&gt;") || !Contains("onerror"));

    const std::string probed =
        live::with_probe(live::read_file(page), live::read_file(std::string(CXTRACE_TEST_SUPPORT) + "/class_probe.js"));
    REQUIRE(!probed.empty());
    write_text(tmp / "out/probed.html", probed);
    for (int width : {800, 1400}) {
        INFO("window " << width << " px wide");
        const live::PageLoad shown = live::load_page(chromium, tmp / "out/probed.html",
                                                     kArtifacts + "/class-" + std::to_string(width) + ".png",
                                                     tmp / ("profile-" + std::to_string(width)), width, 3000);
        REQUIRE(shown.status == 0);
        const std::optional<std::string> text = live::probe_text(shown.dom, "class-probe");
        REQUIRE(text);
        const json found = json::parse(*text);
        INFO("the probe found:\n" << found.dump(1));
        const double viewport = found.at("viewport").get<double>();
        CHECK(viewport <= width);
        CHECK(viewport >= width - 20);
        CHECK(found.at("scroll_width").get<double>() <= viewport);  // no sideways scrolling
        CHECK(found.at("beyond_window").empty());
        CHECK(found.at("small_text").empty());
        CHECK(found.at("injected") == 0);
        CHECK(found.at("sections") == json({"questions", "lessons", "outliers", "students", "skipped"}));
        CHECK(found.at("student_rows") == 31);
        CHECK(found.at("dots").get<int>() > 31 * 3);
        for (const json& track : found.at("tracks")) CHECK(track.get<double>() >= 200);
    }
    WARN("class.html screenshots in " << kArtifacts);
}
