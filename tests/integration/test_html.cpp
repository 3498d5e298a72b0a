// Live tests of report.html: the real tracer on every bundled workload, the
// page loaded in headless Chromium. The page script must run without an
// error and draw the four sections from the embedded data; a screenshot of
// each page is kept in <build>/test-artifacts/html/. And names a traced
// program chooses (argv, comm, file names) must stay text: no markup, no
// script of theirs may run.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "headless_chromium.h"
#include "live_run.h"
#include "perfetto_trace.h"

using live::load_page;
using live::PageLoad;
using nlohmann::json;

namespace {

const std::string kArtifacts = std::string(CXTRACE_ARTIFACTS) + "/html";
// report.js shows at most this many rows in the task table (TABLE_LIMIT)
// and this many tasks in the tree (TREE_LIMIT).
constexpr size_t kTableLimit = 3000;
constexpr size_t kTreeLimit = 600;

std::string join(const std::vector<std::string>& lines) {
    std::string text;
    for (const std::string& line : lines) text += line + "\n";
    return text;
}

std::string lower(std::string text) {
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
}

size_t count(const std::string& hay, const std::string& needle) {
    size_t n = 0;
    for (size_t at = hay.find(needle); at != std::string::npos; at = hay.find(needle, at + needle.size())) ++n;
    return n;
}

// From `open` (a start-tag prefix) to the end of the first `close` after it;
// "" when there is no such element.
std::string element(const std::string& dom, const std::string& open, const std::string& close) {
    const size_t a = dom.find(open);
    if (a == std::string::npos) return "";
    const size_t b = dom.find(close, a);
    if (b == std::string::npos) return "";
    return dom.substr(a, b + close.size() - a);
}

std::string title_of(const std::string& dom) {
    const std::string title = element(dom, "<title>", "</title>");
    return title.size() >= 15 ? title.substr(7, title.size() - 15) : "";
}

bool is_png(const std::string& path) {
    const std::string bytes = live::read_file(path);
    return bytes.size() > 1000 && bytes.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0;
}

void make_artifact_dir() {
    std::error_code error;
    std::filesystem::create_directories(kArtifacts, error);
    INFO("creating " << kArtifacts << ": " << error.message());
    REQUIRE(std::filesystem::is_directory(kArtifacts));
}

// The checks every rendered report must pass, given its report.json.
void check_rendered_page(const PageLoad& load, const json& report) {
    INFO("chromium exit status " << load.status << ", " << load.seconds << " s");
    INFO("console:\n" << join(load.console));
    REQUIRE(load.status == 0);
    CHECK(load.console.empty());
    REQUIRE(!load.dom.empty());
    CHECK(load.dom.find("<body data-rendered=\"yes\">") != std::string::npos);

    for (const std::string id : {"latency", "tree", "ids", "placement"}) {
        INFO("section #" << id);
        CHECK(count(load.dom, "<section id=\"" + id + "\"") == 1);
    }
    // The sections in the order of the four questions.
    CHECK(load.dom.find("<section id=\"latency\"") < load.dom.find("<section id=\"tree\""));
    CHECK(load.dom.find("<section id=\"tree\"") < load.dom.find("<section id=\"ids\""));
    CHECK(load.dom.find("<section id=\"ids\"") < load.dom.find("<section id=\"placement\""));

    const json& tasks = report.at("tasks");
    uint64_t oncpu_ns = 0;
    for (const json& task : tasks) oncpu_ns += task.at("oncpu_ns").get<uint64_t>();
    INFO(tasks.size() << " tasks, " << oncpu_ns << " ns on CPU");

    const std::string placement = element(load.dom, "<section id=\"placement\"", "</section>");
    const std::string timeline = element(placement, "<svg id=\"timeline\"", "</svg>");
    REQUIRE(!timeline.empty());
    if (oncpu_ns > 0) CHECK(count(timeline, "<rect") >= 1);
    // One lane label per CPU.
    CHECK(count(timeline, ">CPU ") == std::max<size_t>(1, report.at("run").at("cpus").get<size_t>()));
    CHECK(!element(placement, "<svg id=\"parallelism\"", "</svg>").empty());
    if (oncpu_ns > 0) CHECK(count(element(placement, "<svg id=\"residency\"", "</svg>"), "<rect") >= 1);

    const std::string table = element(load.dom, "<table id=\"task-table\"", "</table>");
    REQUIRE(!table.empty());
    const std::string body = element(table, "<tbody", "</tbody>");
    REQUIRE(!body.empty());
    const size_t rows = count(body, "<tr ") + count(body, "<tr>");
    CHECK(rows == std::min(tasks.size(), kTableLimit));
    // One tree entry per task (each li starts with the kind badge).
    if (tasks.size() <= kTreeLimit) {
        const std::string tree = element(load.dom, "<section id=\"tree\"", "</section>");
        CHECK(count(tree, "<li><span class=\"kind kind-") == tasks.size());
    }
}

// A copy of the report at copy_path with tests/support/layout_probe.js run
// after the page's own script.
void add_layout_probe(const std::string& html_path, const std::string& copy_path) {
    std::string page = live::read_file(html_path);
    const std::string probe = live::read_file(std::string(CXTRACE_TEST_SUPPORT) + "/layout_probe.js");
    REQUIRE(!probe.empty());
    const size_t body_end = page.rfind("</body>");
    REQUIRE(body_end != std::string::npos);
    page.insert(body_end, "<script>\n" + probe + "</script>\n");
    std::ofstream(copy_path, std::ios::binary) << page;
    REQUIRE(live::read_file(copy_path) == page);
}

// What the probe found, from the DOM Chromium dumped.
json layout_probe_result(const std::string& dom) {
    const std::optional<std::string> text = live::probe_text(dom, "layout-probe");
    REQUIRE(text);
    return json::parse(*text);
}

// "rgb(r, g, b)" as three numbers.
std::array<double, 3> rgb_of(const std::string& css) {
    std::array<double, 3> rgb{-1, -1, -1};
    INFO(css);
    REQUIRE(std::sscanf(css.c_str(), "rgb(%lf, %lf, %lf)", &rgb[0], &rgb[1], &rgb[2]) == 3);
    return rgb;
}

// The layout of one report at one window width, as the probe measured it,
// against report.json.
void check_layout(const json& probe, int width, const json& report) {
    INFO("window " << width << " px wide; the probe found:\n" << probe.dump(1));
    CHECK(probe.at("rendered") == "yes");
    const double viewport = probe.at("viewport").get<double>();
    CHECK(viewport <= width);
    CHECK(viewport >= width - 20);  // the window less a scroll bar
    CHECK(probe.at("scroll_width").get<double>() <= viewport);  // nothing makes the page scroll sideways
    CHECK(probe.at("small_text").empty());   // no text under 11 px
    CHECK(probe.at("scaled_charts").empty());
    CHECK(probe.at("labels").get<int>() >= 10);
    CHECK(probe.at("unchecked_text") == 0);
    CHECK(probe.at("cut_labels").empty());
    CHECK(probe.at("overlapping_labels").empty());
    // The task table's key columns are in view without scrolling.
    for (const std::string column : {"pid", "tgid", "comm", "kind", "mm"}) {
        INFO("column " << column);
        REQUIRE(probe.at("key_columns").contains(column));
        const json& edges = probe.at("key_columns").at(column);
        CHECK(edges.at("right").get<double>() <= edges.at("visible_right").get<double>() + 0.5);
    }

    const json& tasks = report.at("tasks");
    std::set<int64_t> tgids;
    std::map<int64_t, size_t> group_size;
    for (const json& task : tasks) {
        tgids.insert(task.at("tgid").get<int64_t>());
        ++group_size[task.at("tgid").get<int64_t>()];
    }
    // One legend colour per process (up to 30), and up to 20 processes
    // clearly apart: at least 40 apart in RGB (of 441 between black and white).
    const json& colors = probe.at("process_colors");
    CHECK(colors.size() == std::min<size_t>(tgids.size(), 30));
    if (colors.size() <= 20)
        for (size_t i = 0; i < colors.size(); ++i)
            for (size_t j = 0; j < i; ++j) {
                const auto a = rgb_of(colors[i]), b = rgb_of(colors[j]);
                const double distance = std::hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
                INFO("processes " << j << " and " << i << ": " << colors[j] << ", " << colors[i]);
                CHECK(distance >= 40);
            }

    // A row per process (up to 40), a lane per task shown; a lane has bars
    // exactly when its task was on a CPU, and bands for its time off one.
    const json& lanes = probe.at("lanes");
    REQUIRE(lanes.is_object());
    CHECK(lanes.at("groups").get<size_t>() == std::min<size_t>(tgids.size(), 40));
    std::map<size_t, int> lane_count;
    for (const json& lane : lanes.at("tasks")) {
        const size_t task = lane.at(0).get<size_t>();
        REQUIRE(task < tasks.size());
        INFO("task " << task << ": " << tasks[task].dump());
        CHECK(lane.at(1).get<bool>() == (tasks[task].at("oncpu_ns").get<uint64_t>() > 0));
        // Time off a CPU, when the page has it: a band for each state the task was in.
        const json& states = tasks[task].at("states_ns");
        if (lanes.at("off_cpu").get<bool>() && states.is_object()) {
            CHECK(lane.at(2).get<bool>() == (states.at("runnable").get<uint64_t>() > 0));
            CHECK(lane.at(3).get<bool>() == (states.at("sleeping").get<uint64_t>() > 0));
            CHECK(lane.at(4).get<bool>() == (states.at("blocked").get<uint64_t>() > 0));
        }
        ++lane_count[task];
    }
    for (const auto& [task, n] : lane_count) CHECK(n == 1);
    if (tasks.size() <= 32) CHECK(lane_count.size() == tasks.size());  // small runs start with every lane shown
    // The first process with several tasks starts open; a click closes it, another opens it again.
    const bool some_group = std::any_of(group_size.begin(), group_size.end(), [](const auto& g) { return g.second > 1; });
    CHECK(lanes.contains("toggle") == some_group);
    if (lanes.contains("toggle")) {
        const json& toggle = lanes.at("toggle");
        CHECK(toggle.at("open") == "yes");
        CHECK(toggle.at("open_after_click") == "no");
        CHECK(toggle.at("lane_rows_after_click").get<int>() < toggle.at("lane_rows").get<int>());
        CHECK(toggle.at("open_after_second_click") == "yes");
        CHECK(toggle.at("lane_rows_after_second_click") == toggle.at("lane_rows"));
    }
}

struct Workload {
    std::string name;
    std::vector<std::string> args;  // defaults, but for a workload that runs for seconds
};

const std::vector<Workload> kWorkloads = {
    {"process-vs-thread", {}},
    {"creation-methods", {}},
    {"shared-globals", {}},
    {"pid-vs-tid", {}},
    {"worker-pool", {}},
    {"ipc-queue", {}},
    {"io-bound", {}},
    {"cpu-bound", {"--work-ms", "50"}},
    {"lost-update", {}},
    {"ping-pong", {}},
};

}  // namespace

TEST_CASE("every bundled workload's report renders in headless Chromium", "[live][html]") {
    REQUIRE_ROOT();
    REQUIRE_CHROMIUM(chromium);
    make_artifact_dir();
    live::TempDir tmp;
    const auto start = std::chrono::steady_clock::now();

    // Trace the workloads one at a time (nothing else running), then load
    // the pages in a few browsers at once.
    std::vector<json> reports(kWorkloads.size());
    for (size_t i = 0; i < kWorkloads.size(); ++i) {
        const Workload& w = kWorkloads[i];
        std::vector<std::string> args{"run", "-o", tmp / w.name, w.name};
        args.insert(args.end(), w.args.begin(), w.args.end());
        live::Outcome outcome = live::cxtrace(args);
        INFO("workload " << w.name << "\nstdout:\n" << outcome.out << "\nstderr:\n" << outcome.err);
        REQUIRE(outcome.status == 0);
        REQUIRE(live::file_exists(tmp / (w.name + "/report.html")));
        REQUIRE_NOTHROW(reports[i] = live::read_json(tmp / (w.name + "/report.json")));
        REQUIRE_NOTHROW(cxt::pftrace::decode(live::read_file(tmp / (w.name + "/perfetto.pftrace"))));
    }
    const double traced = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    std::vector<PageLoad> loads(kWorkloads.size());
    std::vector<std::string> profiles, shots;
    for (const Workload& w : kWorkloads) {
        profiles.push_back(tmp / ("profile-" + w.name));
        REQUIRE(mkdir(profiles.back().c_str(), 0700) == 0);
        shots.push_back(kArtifacts + "/" + w.name + ".png");
        std::remove(shots.back().c_str());  // a stale screenshot must not pass for a new one
    }
    std::atomic<size_t> next{0};
    std::vector<std::thread> browsers;
    for (int b = 0; b < 4; ++b)
        browsers.emplace_back([&] {
            for (size_t i; (i = next++) < kWorkloads.size();)
                loads[i] = load_page(chromium, tmp / (kWorkloads[i].name + "/report.html"), shots[i], profiles[i]);
        });
    for (std::thread& browser : browsers) browser.join();
    const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    for (size_t i = 0; i < kWorkloads.size(); ++i) {
        const Workload& w = kWorkloads[i];
        INFO("workload " << w.name << " (" << tmp / (w.name + "/report.html") << ")");
        check_rendered_page(loads[i], reports[i]);
        CHECK(title_of(loads[i].dom) == "cxtrace: " + w.name);
        INFO("screenshot " << shots[i]);
        CHECK(is_png(shots[i]));
    }
    WARN("html: traced " << kWorkloads.size() << " workloads in " << traced << " s; traced and rendered in " << total
                         << " s; screenshots in " << kArtifacts);
}

TEST_CASE("hostile names in argv, comm and file name stay text in report.html", "[live][html]") {
    REQUIRE_ROOT();
    REQUIRE_CHROMIUM(chromium);
    make_artifact_dir();
    live::TempDir tmp;
    // Readable by the command even when cxtrace runs it as the sudo user.
    REQUIRE(chmod(tmp.path().c_str(), 0755) == 0);

    // A copy of /bin/true whose name is markup: its first 15 bytes become
    // the comm after exec.
    const std::string exe_name = "<img src=x>&'\" <img src=x onerror=alert(1)>";
    const std::string exe = tmp / exe_name;
    {
        std::error_code error;
        std::filesystem::copy_file("/bin/true", exe, error);
        INFO("copying /bin/true to " << exe << ": " << error.message());
        REQUIRE(!error);
        REQUIRE(chmod(exe.c_str(), 0755) == 0);
    }
    const std::string comm = exe_name.substr(0, 15);
    const std::string argv0 = "<img src=x onerror=alert(1)>";
    const std::vector<std::string> args = {"</script><script>document.title=1</script>",
                                           "</script><img src=x onerror=alert(1)>", "&amp;\"'"};
    // bash -c SCRIPT $0 $1...: exec -a sets the program's argv[0]; no quoting
    // is needed since every string is its own argument.
    std::vector<std::string> command = {"/bin/bash", "-c", "exec -a \"$0\" \"$@\"", argv0, exe};
    command.insert(command.end(), args.begin(), args.end());
    std::vector<std::string> run_args = {"run", "-o", tmp / "out", "--"};
    run_args.insert(run_args.end(), command.begin(), command.end());
    live::Outcome outcome = live::cxtrace(run_args);
    INFO("stdout:\n" << outcome.out << "\nstderr:\n" << outcome.err);
    REQUIRE(outcome.status == 0);

    json report;
    cxt::pftrace::Trace perfetto;  // decoding checks every string is valid UTF-8
    REQUIRE_NOTHROW(report = live::read_json(tmp / "out/report.json"));
    REQUIRE_NOTHROW(perfetto = cxt::pftrace::decode(live::read_file(tmp / "out/perfetto.pftrace")));
    CHECK(report.at("run").at("command") == json(command));

    // report.json holds the strings exactly: the exec with the hostile argv.
    const json* hostile_exec = nullptr;
    const json* hostile_task = nullptr;
    for (const json& task : report.at("tasks"))
        for (const json& exec : task.at("execs"))
            if (exec.at("argv").size() > 0 && exec.at("argv")[0] == argv0) {
                hostile_exec = &exec;
                hostile_task = &task;
            }
    INFO(report.at("tasks").dump(1));
    REQUIRE(hostile_exec != nullptr);
    CHECK(hostile_exec->at("filename") == exe);
    std::vector<std::string> expected_argv{argv0};
    expected_argv.insert(expected_argv.end(), args.begin(), args.end());
    CHECK(hostile_exec->at("argv") == json(expected_argv));
    CHECK(hostile_task->at("comm") == comm);

    const std::string html = live::read_file(tmp / "out/report.html");
    REQUIRE(!html.empty());
    SECTION("report.html holds them only escaped") {
        const std::string low = lower(html);
        CHECK(count(low, "<img") == 0);
        CHECK(count(low, "<script") == 2);   // the data block and the page script
        CHECK(count(low, "</script>") == 2);
        CHECK(count(low, "</script><script>") == 0);
        CHECK(count(low, "<script>document.title") == 0);
        CHECK(count(html, "&'\"") == 0);
        // The header shows the command line, escaped.
        CHECK(html.find("&lt;img src=x onerror=alert(1)&gt;") != std::string::npos);
        CHECK(html.find("&lt;/script&gt;&lt;script&gt;document.title=1&lt;/script&gt;") != std::string::npos);
        CHECK(html.find("&amp;amp;&quot;&#39;") != std::string::npos);
        CHECK(html.find("&lt;img src=x&gt;&amp;&#39;&quot; &lt;img src=x onerror=alert(1)&gt;") != std::string::npos);
        // The embedded data parses back to the same strings.
        const std::string open = "<script type=\"application/json\" id=\"cxtrace-data\">";
        const size_t a = html.find(open);
        REQUIRE(a != std::string::npos);
        const size_t b = html.find("</script>", a);
        REQUIRE(b != std::string::npos);
        const std::string block = html.substr(a + open.size(), b - a - open.size());
        CHECK(block.find('<') == std::string::npos);
        json data;
        REQUIRE_NOTHROW(data = json::parse(block));
        bool found = false;
        for (const json& task : data.at("tasks"))
            for (const json& exec : task.at("execs"))
                if (exec.at("argv") == json(expected_argv)) {
                    found = true;
                    CHECK(exec.at("filename") == exe);
                    CHECK(task.at("comm") == comm);
                }
        CHECK(found);
        CHECK(data.at("run").at("command") == json(command));
    }
    SECTION("the browser runs none of it and still draws the page") {
        const std::string shot = kArtifacts + "/hostile-names.png";
        std::remove(shot.c_str());
        const std::string profile = tmp / "profile";
        REQUIRE(mkdir(profile.c_str(), 0700) == 0);
        const PageLoad load = load_page(chromium, tmp / "out/report.html", shot, profile);
        check_rendered_page(load, report);
        CHECK(is_png(shot));
        const std::string dom = lower(load.dom);
        CHECK(count(dom, "<img") == 0);     // no element made from a name
        CHECK(count(dom, "<script") == 2);  // no script either
        const std::string title = title_of(load.dom);
        CHECK(title.rfind("cxtrace: ", 0) == 0);  // document.title=1 never ran
        CHECK(title.find("&lt;img src=x onerror=alert(1)&gt;") != std::string::npos);
        // The names are on the page as text: in the header, the tree and the table.
        CHECK(load.dom.find("&lt;/script&gt;&lt;script&gt;document.title=1&lt;/script&gt;") != std::string::npos);
        const std::string table = element(load.dom, "<table id=\"task-table\"", "</table>");
        CHECK(table.find(">&lt;img src=x&gt;&amp;'\" <") != std::string::npos);  // the comm, as a text node
        const std::string tree = element(load.dom, "<section id=\"tree\"", "</section>");
        CHECK(tree.find("&lt;img src=x&gt;&amp;'\" &lt;img src=x onerror=alert(1)&gt;") !=
              std::string::npos);  // the exec'd file name
    }
}

TEST_CASE("report.html finds a thread that exec'd under its old tid, and labels the ppid as at creation",
          "[live][html]") {
    REQUIRE_ROOT();
    REQUIRE_CHROMIUM(chromium);
    make_artifact_dir();
    live::TempDir tmp;
    const std::string programs = CXTRACE_TEST_PROGRAMS;
    live::Outcome outcome = live::cxtrace({"run", "-o", tmp / "exec", "--", "/usr/bin/python3",
                                           programs + "/thread_exec.py"});
    INFO("stdout:\n" << outcome.out << "\nstderr:\n" << outcome.err);
    REQUIRE(outcome.status == 0);
    const std::regex thread_line(R"(thread: tid=(\d+) pid=(\d+))");
    std::smatch m;
    REQUIRE(std::regex_search(outcome.out, m, thread_line));
    const std::string tid = m[1], pid = m[2];

    const json report = live::read_json(tmp / "exec/report.json");
    const std::string shot = kArtifacts + "/thread-exec.png";
    std::remove(shot.c_str());
    const std::string profile = tmp / "profile";
    REQUIRE(mkdir(profile.c_str(), 0700) == 0);
    const PageLoad load = load_page(chromium, tmp / "exec/report.html", shot, profile);
    check_rendered_page(load, report);
    const std::string table = element(load.dom, "<table id=\"task-table\"", "</table>");
    CHECK(table.find(">ppid at creation<") != std::string::npos);
    CHECK(table.find(pid + " (was tid " + tid + " before exec)</td>") != std::string::npos);
    const std::string tree = element(load.dom, "<section id=\"tree\"", "</section>");
    CHECK(tree.find("pid " + pid + " (was tid " + tid + " before exec)") != std::string::npos);
}

TEST_CASE("report.html reads at 800 and 1400 px: text whole and legible, key columns in view, processes apart, task lanes",
          "[live][html][layout]") {
    REQUIRE_ROOT();
    REQUIRE_CHROMIUM(chromium);
    make_artifact_dir();
    live::TempDir tmp;

    // Workloads with many threads in one process (lost-update), several
    // processes (worker-pool, cpu-bound, process-vs-thread), and a run with
    // too many intervals to embed (the yield storm: its timeline is binned).
    struct Page {
        std::string name;
        std::vector<std::string> command;
        json report;
    };
    std::vector<Page> pages = {
        {"lost-update", {"lost-update"}, {}},
        {"worker-pool", {"worker-pool"}, {}},
        {"cpu-bound", {"cpu-bound", "--work-ms", "50"}, {}},
        {"process-vs-thread", {"process-vs-thread", "-n", "12"}, {}},
        {"yield-storm", {"--", "/usr/bin/python3", std::string(CXTRACE_TEST_PROGRAMS) + "/yield_storm.py"}, {}},
    };
    for (Page& page : pages) {
        std::vector<std::string> args{"run", "-o", tmp / page.name};
        args.insert(args.end(), page.command.begin(), page.command.end());
        live::Outcome outcome = live::cxtrace(args);
        INFO(page.name << "\nstdout:\n" << outcome.out << "\nstderr:\n" << outcome.err);
        REQUIRE(outcome.status == 0);
        REQUIRE_NOTHROW(page.report = live::read_json(tmp / (page.name + "/report.json")));
        add_layout_probe(tmp / (page.name + "/report.html"), tmp / (page.name + "/probed.html"));
    }
    const Page& storm = pages.back();
    INFO("the yield storm's context switches: " << storm.report.at("summary").at("context_switches"));
    REQUIRE(storm.report.at("summary").at("context_switches").get<size_t>() > 100'000);  // report.html's kHtmlMaxIntervals

    struct Load {
        size_t page;
        int width;
        std::string shot;
        PageLoad result;
    };
    std::vector<Load> loads;
    for (size_t i = 0; i < pages.size(); ++i)
        for (int width : {800, 1400}) {
            const std::string shot = kArtifacts + "/" + pages[i].name + "-" + std::to_string(width) + ".png";
            std::remove(shot.c_str());  // a stale screenshot must not pass for a new one
            loads.push_back({i, width, shot, {}});
        }
    std::atomic<size_t> next{0};
    std::vector<std::thread> browsers;
    for (int b = 0; b < 4; ++b)
        browsers.emplace_back([&] {
            for (size_t k; (k = next++) < loads.size();) {
                Load& load = loads[k];
                const std::string profile = tmp / ("profile-" + std::to_string(k));
                if (mkdir(profile.c_str(), 0700) != 0) continue;  // result stays empty: fails below
                load.result =
                    load_page(chromium, tmp / (pages[load.page].name + "/probed.html"), load.shot, profile, load.width);
            }
        });
    for (std::thread& browser : browsers) browser.join();

    for (const Load& load : loads) {
        const Page& page = pages[load.page];
        INFO(page.name << " at " << load.width << " px (" << tmp / (page.name + "/report.html") << "), screenshot "
                       << load.shot);
        INFO("console:\n" << join(load.result.console));
        REQUIRE(load.result.status == 0);
        CHECK(load.result.console.empty());
        CHECK(is_png(load.shot));
        const json probe = layout_probe_result(load.result.dom);
        check_layout(probe, load.width, page.report);
        const bool binned = &page == &storm;
        CHECK(probe.at("mode") == (binned ? "bins" : "intervals"));
        // A binned page says what it aggregated.
        CHECK(probe.at("aggregated").size() == (binned ? 1u : 0u));
        if (binned) CHECK(probe.at("aggregated")[0].get<std::string>().find("too many to embed one by one") != std::string::npos);
    }
    WARN("layout: screenshots at 800 and 1400 px in " << kArtifacts);
}

TEST_CASE("what the program printed, and a launcher's tasks, in headless Chromium", "[live][html][output]") {
    REQUIRE_ROOT();
    REQUIRE_CHROMIUM(chromium);
    make_artifact_dir();
    live::TempDir tmp;
    // A wrapper: runs readlink (the launcher's task), prints markup and a
    // direction override, then execs python3 (the lesson), which prints too.
    const std::string hostile = "</script><img src=x onerror=alert(1)> \xE2\x80\xAE" "evil";
    auto outcome = live::cxtrace({"run", "-o", tmp / "out", "--capture-output", "--from-exec", "python3", "--",
                                  "/bin/bash", "-c",
                                  "readlink -f /bin >/dev/null; printf '%s\\n' \"$0\"; "
                                  "exec /usr/bin/python3 -c 'print(\"python3 printed this\")'",
                                  hostile});
    INFO("stdout:\n" << outcome.out << "\nstderr:\n" << outcome.err);
    REQUIRE(outcome.status == 0);
    const json report = live::read_json(tmp / "out/report.json");
    CHECK(report.at("run").at("output").at("stdout").at("head") == hostile + "\npython3 printed this\n");
    CHECK(report.at("run").at("lesson").at("launcher_tasks") == 1);
    CHECK(report.at("run").at("scope_note").get<std::string>().find("1 task of the launcher (1 readlink) is listed") !=
          std::string::npos);

    const std::string shot = kArtifacts + "/output-and-launcher.png";
    std::remove(shot.c_str());
    const std::string profile = tmp / "profile";
    REQUIRE(mkdir(profile.c_str(), 0700) == 0);
    const PageLoad load = load_page(chromium, tmp / "out/report.html", shot, profile);
    check_rendered_page(load, report);
    CHECK(is_png(shot));
    const std::string dom = lower(load.dom);
    CHECK(count(dom, "<img") == 0);
    CHECK(count(dom, "<script") == 2);
    CHECK(title_of(load.dom).rfind("cxtrace: ", 0) == 0);
    const std::string output = element(load.dom, "<section id=\"output\"", "</section>");
    CHECK(output.find("&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt; <span class=\"ctl\">U+202E</span>evil\n"
                      "python3 printed this\n") != std::string::npos);
    CHECK(output.find("\xE2\x80\xAE") == std::string::npos);  // (the command line in the header holds it as given)
    CHECK(!element(load.dom, "<div class=\"scope-note\"", "</div>").empty());
    const std::string table = element(load.dom, "<table id=\"task-table\"", "</table>");
    CHECK(count(table, "kind-launcher") == report.at("run").at("lesson").at("launcher_tasks").get<size_t>());
}
