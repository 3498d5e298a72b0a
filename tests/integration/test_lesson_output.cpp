// Live tests of --from-exec (a shim's helpers left out of the lesson's
// figures) and --capture-output (what the command printed, kept for the
// report while the terminal still gets all of it).
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <regex>
#include <set>
#include <sstream>

#include "live_run.h"

using nlohmann::json;

namespace {

const std::string kPrograms = CXTRACE_TEST_PROGRAMS;
const std::string kRlo = "\xE2\x80\xAE";  // U+202E RIGHT-TO-LEFT OVERRIDE

std::string html_escaped(const std::string& text) {
    std::string out;
    for (char c : text) {
        if (c == '&') out += "&amp;";
        else if (c == '<') out += "&lt;";
        else if (c == '>') out += "&gt;";
        else if (c == '"') out += "&quot;";
        else if (c == '\'') out += "&#39;";
        else out += c;
    }
    return out;
}

// What `seq 1 n` prints.
std::string seq_output(int n) {
    std::string out;
    for (int i = 1; i <= n; ++i) out += std::to_string(i) + "\n";
    return out;
}

std::string comm_of(const json& task) { return task.at("comm").get<std::string>(); }

}  // namespace

TEST_CASE("with --from-exec, a version-manager shim's helpers are left out of the lesson's figures", "[live][lesson]") {
    REQUIRE_ROOT();
    live::TempDir tmp;
    auto outcome = live::cxtrace({"run", "-o", tmp / "out", "--from-exec", "python3", "--", kPrograms + "/shim.sh"});
    INFO(outcome.out << outcome.err);
    REQUIRE(outcome.status == 0);
    std::smatch main_line;
    REQUIRE(std::regex_search(outcome.out, main_line, std::regex(R"(main: pid=(\d+))")));
    const int python_pid = std::stoi(main_line[1]);
    const std::regex thread_line(R"(thread \d: pid=)");
    const auto printed_threads =
        std::distance(std::sregex_iterator(outcome.out.begin(), outcome.out.end(), thread_line), std::sregex_iterator());
    REQUIRE(printed_threads == 4);

    const json report = live::read_json(tmp / "out/report.json");
    const json& lesson = report.at("run").at("lesson");
    CHECK(lesson.at("from_exec") == "python3");
    REQUIRE(lesson.at("matched") == true);
    const json& first = report.at("tasks").at(lesson.at("task_index").get<size_t>());
    CHECK(first.at("pid") == python_pid);  // the shell exec'd python3: the same task
    CHECK(first.at("launcher") == false);

    // The shim's helpers are listed, and marked as the launcher's.
    uint64_t helpers = 0;
    for (const json& task : report.at("tasks")) {
        const std::string comm = comm_of(task);
        const bool helper = comm == "readlink" || comm == "dirname" || comm == "basename" || comm == "shim.sh";
        if (task.at("pid") == python_pid || task.at("tgid") == python_pid) {
            CHECK(task.at("launcher") == false);
        } else {
            INFO("task " << task.at("pid") << " " << comm);
            CHECK(task.at("launcher") == true);
            CHECK(helper);
        }
        if (helper && task.at("pid") != python_pid) ++helpers;
    }
    CHECK(helpers >= 8);  // readlink and dirname for here, 3 x (readlink, basename), readlink and dirname for prefix
    CHECK(lesson.at("launcher_tasks") == report.at("tasks").size() - 5);

    // The lesson's figures: python3 and its 4 threads, nothing of the shim.
    const json& summary = report.at("summary");
    CHECK(summary.at("tasks") == 5);
    CHECK(summary.at("processes") == 1);
    CHECK(summary.at("threads") == 4);
    CHECK(summary.at("address_spaces") == 1);
    CHECK(summary.at("creation_latency_ns").size() == 1);
    CHECK(summary.at("creation_latency_ns").at("thread").at("count") == 4);
    for (const json& finding : summary.at("what_this_shows")) {
        const std::string text = finding.at("text");
        CHECK(text.find("readlink") == std::string::npos);
        CHECK(text.find("replaced") == std::string::npos);  // the shim's and the helpers' execs are the launcher's
    }
    CHECK(report.at("run").at("scope_note").get<std::string>().find("The figures cover the lesson") == 0);
    CHECK(outcome.out.find("launcher: The figures cover the lesson") != std::string::npos);
    const std::string page = live::read_file(tmp / "out/report.html");
    CHECK(page.find("id=\"scope-note\"") != std::string::npos);

    SECTION("cxtrace report re-renders the same, and --from-exec '' shows the whole run with the hint") {
        auto again = live::cxtrace({"report", "-o", tmp / "again", tmp / "out/trace.cxt"});
        REQUIRE(again.status == 0);
        CHECK(live::read_json(tmp / "again/report.json").at("summary") == summary);

        auto whole = live::cxtrace({"report", "-o", tmp / "whole", "--from-exec", "", tmp / "out/trace.cxt"});
        INFO(whole.out << whole.err);
        REQUIRE(whole.status == 0);
        const json whole_report = live::read_json(tmp / "whole/report.json");
        CHECK(whole_report.at("run").at("lesson").is_null());
        CHECK(whole_report.at("summary").at("tasks") == report.at("tasks").size());
        CHECK(whole_report.at("summary").at("processes") > 1);
        CHECK(whole_report.at("summary").at("creation_latency_ns").contains("process"));
        const json& hint = whole_report.at("run").at("launcher_hint");
        REQUIRE(hint.is_object());
        CHECK(hint.at("program") == "python3");
        CHECK(hint.at("option") == "--from-exec python3");
        CHECK(hint.at("tasks_before") == lesson.at("launcher_tasks"));
        CHECK(whole.out.find("cxtrace report --from-exec python3 trace.cxt") != std::string::npos);
        for (const json& task : whole_report.at("tasks")) CHECK(task.at("launcher") == false);
    }
}

TEST_CASE("with --capture-output, cxtrace keeps a workload's output for the report and still prints it", "[live][output]") {
    REQUIRE_ROOT();
    live::TempDir tmp;
    auto outcome = live::cxtrace({"run", "-o", tmp / "out", "--capture-output", "pid-vs-tid"});
    INFO(outcome.out << outcome.err);
    REQUIRE(outcome.status == 0);
    const json report = live::read_json(tmp / "out/report.json");
    const json& out = report.at("run").at("output").at("stdout");
    const std::string printed = out.at("head");
    CHECK(out.at("tail") == "");
    CHECK(out.at("cut_bytes") == 0);
    CHECK(out.at("bytes") == printed.size());
    REQUIRE(printed.size() > 100);
    // The terminal got it all, before cxtrace's own summary.
    CHECK(outcome.out.compare(0, printed.size(), printed) == 0);
    CHECK(outcome.out.find("cxtrace summary", printed.size()) != std::string::npos);
    CHECK(outcome.out.find("output kept for the report: stdout " + std::to_string(printed.size()) + " bytes") !=
          std::string::npos);
    // Every line the workload printed, with its pids, is in the page.
    const std::string page = live::read_file(tmp / "out/report.html");
    std::istringstream lines(printed);
    std::string line;
    int checked = 0;
    while (std::getline(lines, line))
        if (!line.empty()) {
            INFO(line);
            CHECK(page.find(html_escaped(line)) != std::string::npos);
            ++checked;
        }
    CHECK(checked >= 4);
    CHECK(page.find("<section id=\"output\">") > page.find("<section id=\"findings\">"));

    SECTION("cxtrace report keeps it") {
        auto again = live::cxtrace({"report", "-o", tmp / "again", tmp / "out/trace.cxt"});
        REQUIRE(again.status == 0);
        CHECK(live::read_json(tmp / "again/report.json").at("run").at("output") == report.at("run").at("output"));
    }
}

TEST_CASE("with --capture-output, cxtrace cuts a long output to its first and last 64 KiB, and says so", "[live][output]") {
    REQUIRE_ROOT();
    live::TempDir tmp;
    auto outcome = live::cxtrace(
        {"run", "-o", tmp / "out", "--capture-output", "--", "/bin/sh", "-c", "seq 1 40000; seq 1 3000 >&2"});
    INFO(outcome.err);
    REQUIRE(outcome.status == 0);
    const std::string expected_out = seq_output(40000), expected_err = seq_output(3000);
    REQUIRE(expected_out.size() > 2 * 65536);
    CHECK(outcome.out.compare(0, expected_out.size(), expected_out) == 0);  // every byte reached the terminal
    CHECK(outcome.err.compare(0, expected_err.size(), expected_err) == 0);

    const json output = live::read_json(tmp / "out/report.json").at("run").at("output");
    const json& out = output.at("stdout");
    CHECK(out.at("bytes") == expected_out.size());
    CHECK(out.at("cut_bytes") == expected_out.size() - 2 * 65536);
    CHECK(out.at("head") == expected_out.substr(0, 65536));
    CHECK(out.at("tail") == expected_out.substr(expected_out.size() - 65536));
    CHECK(output.at("stderr").at("head") == expected_err);
    CHECK(output.at("stderr").at("cut_bytes") == 0);
    const std::string page = live::read_file(tmp / "out/report.html");
    CHECK(page.find("... " + std::to_string(expected_out.size() - 2 * 65536) + " bytes cut here") != std::string::npos);
    CHECK(page.find("<summary>stdout: " + std::to_string(expected_out.size()) + " bytes</summary>") !=
          std::string::npos);
}

TEST_CASE("with --capture-output, markup and a direction override are shown escaped, and the command writes to a pipe",
          "[live][output]") {
    REQUIRE_ROOT();
    live::TempDir tmp;
    // dash's printf turns the octal escapes into U+202E's bytes.
    auto outcome = live::cxtrace({"run", "-o", tmp / "out", "--capture-output", "--", "/bin/sh", "-c",
                                  "printf '<img src=x onerror=alert(1)> \\342\\200\\256evil\\n'; "
                                  "if [ -t 1 ]; then echo terminal; else echo pipe; fi"});
    INFO(outcome.out << outcome.err);
    REQUIRE(outcome.status == 0);
    const std::string printed = "<img src=x onerror=alert(1)> " + kRlo + "evil\npipe\n";
    CHECK(outcome.out.compare(0, printed.size(), printed) == 0);
    CHECK(live::read_json(tmp / "out/report.json").at("run").at("output").at("stdout").at("head") == printed);
    const std::string page = live::read_file(tmp / "out/report.html");
    CHECK(page.find("&lt;img src=x onerror=alert(1)&gt; <span class=\"ctl\">U+202E</span>evil\npipe\n") !=
          std::string::npos);
    CHECK(page.find("<img src=x") == std::string::npos);
    CHECK(page.find(kRlo) == std::string::npos);
}

TEST_CASE("with --capture-output under sudo, the command runs as the user, the trace is theirs", "[live][output][sudo]") {
    REQUIRE_ROOT();
    live::TempDir tmp;
    REQUIRE(chmod(tmp.path().c_str(), 0777) == 0);  // cxtrace writes as the user
    auto outcome = live::run({"/usr/bin/env", "SUDO_UID=65534", "SUDO_GID=65534", "SUDO_USER=nobody", CXTRACE_BINARY,
                              "run", "-o", tmp / "out", "--capture-output", "--", "/usr/bin/id", "-u"});
    INFO(outcome.out << outcome.err);
    REQUIRE(outcome.status == 0);
    CHECK(outcome.out.rfind("65534\n", 0) == 0);
    CHECK(live::owner_uid(tmp / "out/trace.cxt") == 65534);
    CHECK(live::read_json(tmp / "out/report.json").at("run").at("output").at("stdout").at("head") == "65534\n");
}

TEST_CASE("the options --capture-output and --leave-running exclude each other", "[live][output]") {
    auto outcome = live::cxtrace({"run", "--capture-output", "--leave-running", "--", "/bin/true"});
    CHECK(outcome.status == 2);
    CHECK(outcome.err.find("excludes") != std::string::npos);
}
