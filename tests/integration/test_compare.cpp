// `cxtrace compare` as a user runs it, on reports that `cxtrace report`
// makes from tests/data's recorded traces: its table, compare.html and its
// path, its exit statuses and messages for bad input, and the page in
// headless Chromium (no console error, hostile names escaped, no sideways
// scrolling at 800 and 1400 px). None of it needs root.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
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

const std::string kArtifacts = std::string(CXTRACE_ARTIFACTS) + "/compare";

// tests/data/<trace> rendered by `cxtrace report` into dir.
void render_recorded(const std::string& trace, const std::string& dir) {
    const live::Outcome out = live::cxtrace({"report", "-o", dir, std::string(CXTRACE_TEST_DATA) + "/" + trace});
    INFO("cxtrace report " << trace << ": " << out.status << "\n" << out.err);
    REQUIRE(out.status == 0);
    REQUIRE(live::file_exists(dir + "/report.json"));
}

std::string last_line(const std::string& text) {
    std::string trimmed = text;
    while (!trimmed.empty() && trimmed.back() == '\n') trimmed.pop_back();
    const size_t newline = trimmed.rfind('\n');
    return newline == std::string::npos ? trimmed : trimmed.substr(newline + 1);
}

void write_text(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
    REQUIRE(live::read_file(path) == text);
}

bool nothing_left(const std::string& dir) { return !std::filesystem::exists(dir); }

// What the probe found, from the DOM Chromium dumped.
json probe_result(const std::string& dom) {
    const std::optional<std::string> text = live::probe_text(dom, "compare-probe");
    REQUIRE(text);
    return json::parse(*text);
}

}  // namespace

TEST_CASE("cxtrace compare on two recorded runs prints the table and writes compare.html, its path last",
          "[cli][compare]") {
    live::TempDir tmp;
    render_recorded("process-vs-thread-n5.cxt", tmp / "pvt");
    render_recorded("lost-update-t4.cxt", tmp / "lu");

    const live::Outcome out = live::cxtrace({"compare", "-o", tmp / "cmp", tmp / "pvt", tmp / "lu/report.json"});
    INFO(out.out << out.err);
    REQUIRE(out.status == 0);
    CHECK(out.err.empty());
    const std::string page = tmp / "cmp/compare.html";
    CHECK(last_line(out.out) == "compare: " + page);
    CHECK(live::file_exists(page));
    CHECK_FALSE(live::file_exists(page + ".partial"));
    CHECK_THAT(out.out, Contains("cxtrace compare: 2 runs"));
    CHECK_THAT(out.out, Contains("A  process-vs-thread") && Contains("B  lost-update"));
    CHECK_THAT(out.out, Contains("Creation latency") && Contains("address spaces") && Contains("what differs"));
    // The figures are the reports' own, marked when they differ.
    const json pvt = live::read_json(tmp / "pvt/report.json"), lu = live::read_json(tmp / "lu/report.json");
    const std::string a = pvt.at("summary").at("address_spaces").dump(), b = lu.at("summary").at("address_spaces").dump();
    std::string row;
    std::istringstream lines(out.out);
    for (std::string line; std::getline(lines, line);)
        if (line.rfind("    address spaces ", 0) == 0 || line.rfind("  * address spaces ", 0) == 0) row = line;
    INFO("row: " << row);
    REQUIRE(!row.empty());
    CHECK((row.rfind("  * ", 0) == 0) == (a != b));
    CHECK_THAT(row, Contains(" " + a + " ") && EndsWith(" " + b));
    const std::string html = live::read_file(page);
    CHECK_THAT(html, StartsWith("<!DOCTYPE html>") && Contains("process-vs-thread") && Contains("lost-update"));

    SECTION("without -o: a fresh directory under ./cxtrace-reports, as cxtrace run makes") {
        const live::Outcome again = live::run({"/usr/bin/env", "-C", tmp.path(), CXTRACE_BINARY, "compare", "pvt", "lu"});
        INFO(again.out << again.err);
        REQUIRE(again.status == 0);
        const std::string shown = last_line(again.out);
        REQUIRE_THAT(shown, StartsWith("compare: cxtrace-reports/compare-") && EndsWith("/compare.html"));
        CHECK(live::file_exists(tmp / shown.substr(9)));
    }
    SECTION("under sudo, compare.html and its directory belong to the invoking user") {
        if (!live::is_root()) {
            WARN("skipped: acting as another user needs root");
            return;
        }
        REQUIRE(chmod(tmp.path().c_str(), 0755) == 0);  // the runs readable by nobody
        REQUIRE(mkdir((tmp / "shared").c_str(), 0777) == 0);
        REQUIRE(chmod((tmp / "shared").c_str(), 0777) == 0);
        const live::Outcome as_user = live::run({"/usr/bin/env", "SUDO_UID=65534", "SUDO_GID=65534", "SUDO_USER=nobody",
                                                 CXTRACE_BINARY, "compare", "-o", tmp / "shared/out/cmp", tmp / "pvt", tmp / "lu"});
        INFO(as_user.out << as_user.err);
        REQUIRE(as_user.status == 0);
        CHECK(live::owner_uid(tmp / "shared/out") == 65534);
        CHECK(live::owner_uid(tmp / "shared/out/cmp") == 65534);
        CHECK(live::owner_uid(tmp / "shared/out/cmp/compare.html") == 65534);
    }
    SECTION("--label names the runs") {
        const live::Outcome labelled =
            live::cxtrace({"compare", "-o", tmp / "named", "--label", "forks and threads", "--label", "a lock", tmp / "pvt", tmp / "lu"});
        INFO(labelled.out << labelled.err);
        REQUIRE(labelled.status == 0);
        CHECK_THAT(labelled.out, Contains("A  forks and threads") && Contains("B  a lock"));
        CHECK_THAT(live::read_file(tmp / "named/compare.html"), Contains("forks and threads"));
    }
}

TEST_CASE("cxtrace compare refuses what is not two to eight runs, naming each, and writes nothing",
          "[cli][compare]") {
    live::TempDir tmp;
    render_recorded("process-vs-thread-n5.cxt", tmp / "good");
    const std::string good = tmp / "good";
    REQUIRE(mkdir((tmp / "empty").c_str(), 0755) == 0);
    REQUIRE(mkdir((tmp / "broken").c_str(), 0755) == 0);
    write_text(tmp / "broken/report.json", "{\"schema\": \"cxtrace.report/1\", \"run\": {");
    json newer = live::read_json(good + "/report.json");
    newer["schema"] = "cxtrace.report/9";
    REQUIRE(mkdir((tmp / "newer").c_str(), 0755) == 0);
    write_text(tmp / "newer/report.json", newer.dump());
    const std::string out_dir = tmp / "never";

    struct Case {
        const char* what;
        std::vector<std::string> args;
        int status;
        std::vector<std::string> said;
    };
    const std::string trace = std::string(CXTRACE_TEST_DATA) + "/process-vs-thread-n5.cxt";
    const Case cases[] = {
        {"one run", {good}, 2, {"give 2 to 8 runs", "not 1"}},
        {"nine runs", std::vector<std::string>(9, good), 2, {"give 2 to 8 runs", "not 9"}},
        {"a missing path", {good, tmp / "missing"}, 2, {tmp / "missing", "no such file or directory"}},
        {"a directory without report.json", {good, tmp / "empty"}, 2, {tmp / "empty", "holds no report.json"}},
        {"a trace", {good, trace}, 2, {trace, "is a trace, not a report", "cxtrace report"}},
        {"JSON cut short", {good, tmp / "broken"}, 1, {tmp / "broken/report.json", "not valid JSON"}},
        {"a newer schema", {tmp / "newer", good}, 1, {tmp / "newer/report.json", "newer cxtrace", "cxtrace.report/9"}},
        {"two bad ones: both named", {tmp / "empty", tmp / "missing"}, 2, {tmp / "empty", tmp / "missing"}},
        {"labels not one per run", {"--label", "x", good, good}, 2, {"--label once per run", "2 runs, 1 labels"}},
    };
    for (const Case& test : cases) {
        INFO(test.what);
        std::vector<std::string> args = {"compare", "-o", out_dir};
        args.insert(args.end(), test.args.begin(), test.args.end());
        const live::Outcome out = live::cxtrace(args);
        INFO(out.out << out.err);
        CHECK(out.status == test.status);
        for (const std::string& said : test.said) CHECK_THAT(out.err, Contains(said));
        CHECK_THAT(out.out, !Contains("compare: "));
        CHECK(nothing_left(out_dir));
    }
    const live::Outcome bare = live::cxtrace({"compare"});
    CHECK(bare.status == 2);
    CHECK_THAT(bare.err, Contains("runs"));
}

TEST_CASE("compare.html loads in headless Chromium without a console error, hostile names stay text, and it reads "
          "at 800 and 1400 px",
          "[cli][compare][html]") {
    REQUIRE_CHROMIUM(chromium);
    live::TempDir tmp;
    render_recorded("process-vs-thread-n5.cxt", tmp / "pvt");
    render_recorded("creation-methods.cxt", tmp / "methods");
    // A run whose names a hostile program chose.
    json hostile = live::read_json(tmp / "pvt/report.json");
    const std::string markup = "<img src=x onerror=alert(1)>";
    hostile["run"]["workload"] = markup;
    hostile["run"]["command"] = {"</script><script>alert(2)</script>", "\xE2\x80\xAE" "evil"};
    hostile["run"]["kernel"] = "<iframe src=x>";
    hostile["summary"]["creation_latency_ns"]["<object data=x>"] = {{"count", 1}, {"min", 9}, {"p50", 9}, {"p90", 9}, {"max", 9}};
    REQUIRE(mkdir((tmp / "hostile").c_str(), 0755) == 0);
    write_text(tmp / "hostile/report.json", hostile.dump());

    const live::Outcome out = live::cxtrace({"compare", "-o", tmp / "cmp", tmp / "pvt", tmp / "methods", tmp / "hostile"});
    INFO(out.out << out.err);
    REQUIRE(out.status == 0);
    const std::string page = tmp / "cmp/compare.html";
    std::error_code error;
    std::filesystem::create_directories(kArtifacts, error);

    // The page as written: nothing it asks for is refused (its CSP would say so on the console).
    const live::PageLoad load = live::load_page(chromium, page, kArtifacts + "/compare.png", tmp / "profile", 1280, 3000);
    INFO("console:\n" << load.console_text());
    REQUIRE(load.status == 0);
    CHECK(load.console.empty());
    CHECK_THAT(load.dom, !Contains("<img") && !Contains("<iframe") && !Contains("<object") && !Contains("<script"));
    CHECK_THAT(load.dom, Contains("&lt;img src=x onerror=alert(1)&gt;") && Contains("&lt;iframe src=x&gt;") &&
                             Contains("&lt;object data=x&gt;"));
    CHECK_THAT(load.dom, Contains("[U+202E]evil"));

    // A copy with the probe (the page's own policy lets no script run).
    const std::string probed =
        live::with_probe(live::read_file(page), live::read_file(std::string(CXTRACE_TEST_SUPPORT) + "/compare_probe.js"));
    REQUIRE(!probed.empty());
    write_text(tmp / "cmp/probed.html", probed);
    for (int width : {800, 1400}) {
        INFO("window " << width << " px wide");
        const live::PageLoad shown = live::load_page(chromium, tmp / "cmp/probed.html",
                                                     kArtifacts + "/compare-" + std::to_string(width) + ".png",
                                                     tmp / ("profile-" + std::to_string(width)), width, 3000);
        REQUIRE(shown.status == 0);
        const json found = probe_result(shown.dom);
        INFO("the probe found:\n" << found.dump(1));
        const double viewport = found.at("viewport").get<double>();
        CHECK(viewport <= width);
        CHECK(viewport >= width - 20);  // the window less a scroll bar
        CHECK(found.at("scroll_width").get<double>() <= viewport);  // no sideways scrolling
        CHECK(found.at("beyond_window").empty());
        CHECK(found.at("small_text").empty());
        CHECK(found.at("injected") == 0);
        CHECK(found.at("sections") ==
              json({"differences", "runs", "creation", "tasks", "parallelism", "cpu", "states"}));
        for (const json& columns : found.at("columns")) CHECK(columns == "ABC");
        REQUIRE(!found.at("tracks").empty());
        for (const json& track : found.at("tracks")) CHECK(track.get<double>() >= 200);  // the charts keep their room
    }
    WARN("compare.html screenshots in " << kArtifacts);
}
