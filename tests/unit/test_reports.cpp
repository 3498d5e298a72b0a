// Renderers: report.json (the contract graders rely on, DESIGN.md) and the
// terminal summary; and the whole pipeline on a recorded trace.
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "correlator.h"
#include "event_builder.h"
#include "json_report.h"
#include "text_summary.h"

using namespace cxt;
using namespace cxt::test;
using Catch::Matchers::Contains;
using nlohmann::json;

namespace {



const std::string kWeirdComm = "we\"ir\\d\x01\xff";           // quote, backslash, control, invalid UTF-8
const std::vector<std::string> kWeirdArgv = {
    "prog",
    "quote\"back\\slash",
    std::string("ctl\x01\x1f\n\t\x7f", 8),
    "bad\xff\xfeutf8",
    "\xc3\x28",        // invalid 2-byte sequence
    "caf\xc3\xa9 \xe2\x9c\x93",  // valid UTF-8 stays as is
};

// Root 100 execs; creates thread 101 (runs on cpu 1, exits), process 102
// (runs on cpu 1, killed by SIGKILL), process 103 (never runs, never exits,
// its creator's syscall not seen).
StreamBuilder sample_stream() {
    ExecSpec spec;
    spec.comm = kWeirdComm;
    spec.filename = "/tmp/we\"ird\xff";
    spec.argv = kWeirdArgv;
    return family_story(spec, kWeirdComm);
}

RunModel sample_model(const TraceEnd& end) { return sample_stream().correlate(end); }

TraceEnd sample_end() {
    TraceEnd end = test_end(at(1 * kMs));
    end.exit_code = 0;
    return end;
}

bool is_int(const json& j) { return j.is_number_integer(); }
bool is_int_or_null(const json& j) { return j.is_null() || j.is_number_integer(); }
bool is_mm(const json& j) {
    static const std::regex mm("mm[1-9][0-9]*");
    return j.is_string() && std::regex_match(j.get<std::string>(), mm);
}
bool all_digits(const std::string& s) {
    return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
}

// The control characters in text other than newlines, as "0x1b at 12, ...";
// empty when there are none.
std::string control_bytes(const std::string& text) {
    std::string found;
    for (size_t i = 0; i < text.size(); ++i) {
        const unsigned char c = static_cast<unsigned char>(text[i]);
        if (c >= 0x20 || c == '\n') continue;
        char buf[32];
        std::snprintf(buf, sizeof buf, "%s0x%02x at %zu", found.empty() ? "" : ", ", c, i);
        found += buf;
    }
    return found;
}

const json& task_by_pid(const json& report, uint32_t pid) {
    const json* found = nullptr;
    for (const json& t : report.at("tasks"))
        if (t.at("pid") == pid) {
            REQUIRE(found == nullptr);
            found = &t;
        }
    INFO("task " << pid << " in report.json");
    REQUIRE(found != nullptr);
    return *found;
}

}  // namespace

TEST_CASE("report.json has every field DESIGN.md fixes, with its type", "[report]") {
    const RunModel model = sample_model(sample_end());
    const json report = report_json(model);

    REQUIRE(model.anomalies.total() == 0);  // the sample stream is a consistent one
    CHECK(report.at("schema") == "cxtrace.report/1");
    CHECK(std::string(kReportSchema) == "cxtrace.report/1");

    SECTION("run") {
        const json& run = report.at("run");
        CHECK(run.at("workload").is_string());
        CHECK(run.at("workload") == "unit-test");
        REQUIRE(run.at("command").is_array());
        for (const json& arg : run.at("command")) CHECK(arg.is_string());
        CHECK(run.at("command") == json(test_meta().command));
        CHECK(run.at("started_at") == test_meta().started_at);
        CHECK(is_int(run.at("duration_ns")));
        CHECK(run.at("duration_ns") == 1 * kMs);
        CHECK(is_int(run.at("cpus")));
        CHECK(run.at("cpus") == 4);
        CHECK(run.at("kernel") == "6.1.0-test");
        CHECK(is_int(run.at("events")));
        CHECK(run.at("events") == sample_stream().records().size());
        CHECK(is_int(run.at("lost_events")));
        CHECK(run.at("lost_events") == 0);
        CHECK(run.at("complete").is_boolean());
        CHECK(run.at("complete") == true);
        CHECK(run.at("exit_code") == 0);
        CHECK(run.at("exit_signal").is_null());
        CHECK(run.at("pid_namespace") == "initial");
        for (const json& task : report.at("tasks")) CHECK(task.at("pid_namespace").is_null());
    }
    SECTION("run exit by signal") {
        TraceEnd end = sample_end();
        end.exit_code = std::nullopt;
        end.exit_signal = 9;
        const json run = report_json(sample_model(end)).at("run");
        CHECK(run.at("exit_code").is_null());
        CHECK(run.at("exit_signal") == 9);
    }
    SECTION("run stopped at a limit: which, with its value; incomplete") {
        CHECK(report.at("run").at("limit_reached").is_null());
        TraceEnd end = sample_end();
        end.limit = TraceLimit{TraceLimitKind::MaxTraceSize, 1u << 20};
        const json run = report_json(sample_model(end)).at("run");
        CHECK(run.at("limit_reached") == json{{"option", "--max-trace-size"}, {"bytes", 1u << 20}});
        CHECK(run.at("complete") == false);
        CHECK(run.at("interrupted") == false);
        end.limit = TraceLimit{TraceLimitKind::Duration, 3 * kMs};
        CHECK(report_json(sample_model(end)).at("run").at("limit_reached") ==
              json{{"option", "--duration"}, {"ns", 3 * kMs}});
    }
    SECTION("tasks: every field, every task") {
        const json& tasks = report.at("tasks");
        REQUIRE(tasks.is_array());
        REQUIRE(tasks.size() == model.tasks.size());
        const std::set<std::string> kinds{"root", "process", "thread", "vfork", "shared-vm"};
        for (size_t i = 0; i < tasks.size(); ++i) {
            const json& t = tasks[i];
            INFO("task " << i << ": " << t.dump(-1, ' ', false, json::error_handler_t::replace));
            CHECK(is_int(t.at("pid")));
            CHECK(t.at("pid") == model.tasks[i].pid);
            CHECK(is_int(t.at("tgid")));
            CHECK(is_int(t.at("ppid")));
            CHECK(is_int(t.at("parent_pid")));
            CHECK(t.at("comm").is_string());
            CHECK(kinds.count(t.at("kind").get<std::string>()) == 1);
            CHECK(is_mm(t.at("mm")));
            CHECK(is_int_or_null(t.at("created_ns")));
            CHECK(is_int_or_null(t.at("exited_ns")));
            CHECK(is_int_or_null(t.at("exit_code")));
            CHECK(is_int_or_null(t.at("exit_signal")));
            REQUIRE(t.at("latency_ns").is_object());
            CHECK(is_int_or_null(t.at("latency_ns").at("syscall")));
            CHECK(is_int_or_null(t.at("latency_ns").at("first_run")));
            CHECK(is_int_or_null(t.at("wakeup_cpu")));
            CHECK(is_int(t.at("oncpu_ns")));
            REQUIRE(t.at("cpus").is_object());
            uint64_t cpu_total = 0;
            for (const auto& [cpu, ns] : t.at("cpus").items()) {
                CHECK(all_digits(cpu));
                CHECK(is_int(ns));
                cpu_total += ns.get<uint64_t>();
            }
            CHECK(cpu_total == t.at("oncpu_ns").get<uint64_t>());
            CHECK(is_int(t.at("migrations")));
            CHECK(is_int_or_null(t.at("ppid_exited_ns")));
            const json& first_run = t.at("first_run_context");
            CHECK(first_run.at("after").is_string());
            CHECK(is_int_or_null(first_run.at("cpu")));
            CHECK(is_int_or_null(first_run.at("creator_cpu")));
            CHECK(first_run.at("creator_kept_cpu").is_boolean());
            REQUIRE(t.at("execs").is_array());
            for (const json& e : t.at("execs")) {
                CHECK(is_int(e.at("ts_ns")));
                CHECK(e.at("filename").is_string());
                REQUIRE(e.at("argv").is_array());
                for (const json& arg : e.at("argv")) CHECK(arg.is_string());
                CHECK(is_mm(e.at("mm")));
            }
        }
    }
    SECTION("tasks: values, and null exactly where unknown") {
        const json& root = task_by_pid(report, kRoot);
        CHECK(root.at("kind") == "root");
        CHECK(root.at("tgid") == kRoot);
        CHECK(root.at("ppid") == kLauncher);
        CHECK(root.at("parent_pid") == kLauncher);
        CHECK(root.at("mm") == "mm1");
        CHECK(root.at("created_ns").is_null());
        CHECK(root.at("exited_ns").is_null());
        CHECK(root.at("latency_ns").at("syscall").is_null());
        CHECK(root.at("latency_ns").at("first_run").is_null());
        CHECK(root.at("wakeup_cpu").is_null());
        CHECK(root.at("oncpu_ns") == 95 * kUs);
        CHECK(root.at("cpus") == json{{"0", 95 * kUs}});
        REQUIRE(root.at("execs").size() == 1);
        CHECK(root.at("execs")[0].at("mm") == "mm2");
        CHECK(root.at("execs")[0].at("ts_ns") == 20 * kUs);

        const json& thread = task_by_pid(report, 101);
        CHECK(thread.at("kind") == "thread");
        CHECK(thread.at("tgid") == kRoot);
        CHECK(thread.at("ppid") == kLauncher);
        CHECK(thread.at("parent_pid") == kRoot);
        CHECK(thread.at("mm") == "mm2");
        CHECK(thread.at("created_ns") == 31 * kUs);
        CHECK(thread.at("exited_ns") == 50 * kUs);
        CHECK(thread.at("exit_code") == 0);
        CHECK(thread.at("exit_signal").is_null());
        CHECK(thread.at("latency_ns").at("syscall") == 3 * kUs);
        CHECK(thread.at("latency_ns").at("first_run") == 10 * kUs);
        CHECK(thread.at("wakeup_cpu") == 1);
        CHECK(thread.at("oncpu_ns") == 20 * kUs);
        CHECK(thread.at("cpus") == json{{"1", 20 * kUs}});
        CHECK(thread.at("migrations") == 0);
        CHECK(thread.at("execs") == json::array());
        CHECK(thread.at("ppid_exited_ns").is_null());
        // Queued on CPU 1 while its creator went on on CPU 0: it found CPU 1 idle.
        CHECK(thread.at("first_run_context") ==
              json({{"after", "idle"}, {"cpu", 1}, {"creator_cpu", 0}, {"creator_kept_cpu", false}}));

        const json& killed = task_by_pid(report, 102);
        CHECK(killed.at("kind") == "process");
        CHECK(killed.at("mm") == "mm3");
        CHECK(killed.at("exit_code").is_null());
        CHECK(killed.at("exit_signal") == 9);
        CHECK(killed.at("latency_ns").at("syscall") == 3 * kUs);
        CHECK(killed.at("latency_ns").at("first_run") == 5 * kUs);
        CHECK(killed.at("wakeup_cpu").is_null());  // no sched_wakeup_new seen
        CHECK(killed.at("oncpu_ns") == 10 * kUs);
        CHECK(killed.at("cpus") == json{{"1", 10 * kUs}});

        const json& sleeper = task_by_pid(report, 103);
        CHECK(sleeper.at("mm") == "mm4");
        CHECK(sleeper.at("exited_ns").is_null());
        CHECK(sleeper.at("exit_code").is_null());
        CHECK(sleeper.at("exit_signal").is_null());
        CHECK(sleeper.at("latency_ns").at("syscall").is_null());  // its creator's syscall was not seen
        CHECK(sleeper.at("latency_ns").at("first_run").is_null());
        CHECK(sleeper.at("wakeup_cpu").is_null());
        CHECK(sleeper.at("oncpu_ns") == 0);
        CHECK(sleeper.at("cpus") == json::object());
        CHECK(sleeper.at("created_ns") == 90 * kUs);
        CHECK(sleeper.at("first_run_context") ==
              json({{"after", "unknown"}, {"cpu", nullptr}, {"creator_cpu", nullptr}, {"creator_kept_cpu", false}}));
    }
    SECTION("summary") {
        const json& summary = report.at("summary");
        CHECK(summary.at("tasks") == 4);
        CHECK(summary.at("processes") == 3);
        CHECK(summary.at("threads") == 1);
        CHECK(summary.at("address_spaces") == 4);
        const json& latency = summary.at("creation_latency_ns");
        REQUIRE(latency.is_object());
        REQUIRE(latency.contains("thread"));
        for (const auto& [kind, stats] : latency.items()) {
            INFO(kind);
            for (const char* key : {"count", "min", "p50", "p90", "max"}) CHECK(is_int(stats.at(key)));
        }
        CHECK(latency.at("thread") == json{{"count", 1}, {"min", 10 * kUs}, {"p50", 10 * kUs}, {"p90", 10 * kUs},
                                           {"max", 10 * kUs}});
        CHECK(latency.at("process") == json{{"count", 1}, {"min", 5 * kUs}, {"p50", 5 * kUs}, {"p90", 5 * kUs},
                                            {"max", 5 * kUs}});
        CHECK_FALSE(latency.contains("root"));
        CHECK(is_int(summary.at("max_parallelism")));
        CHECK(summary.at("max_parallelism") == 2);
        REQUIRE(summary.at("parallelism_ns").is_object());
        uint64_t total = 0;
        for (const auto& [n, ns] : summary.at("parallelism_ns").items()) {
            CHECK(all_digits(n));
            CHECK(is_int(ns));
            total += ns.get<uint64_t>();
        }
        CHECK(total == report.at("run").at("duration_ns").get<uint64_t>());
    }
}

TEST_CASE("report.json stays valid JSON whatever the workload's names contain", "[report]") {
    const RunModel model = sample_model(sample_end());
    const std::string text = render_json_report(model);

    // No raw control characters: the only ones in the text are the layout's newlines.
    CHECK(control_bytes(text) == "");
    json parsed;
    REQUIRE_NOTHROW(parsed = json::parse(text));  // parse() rejects invalid UTF-8
    CHECK(parsed.at("schema") == "cxtrace.report/1");

    const json& root = task_by_pid(parsed, kRoot);
    const json& argv = root.at("execs").at(0).at("argv");
    REQUIRE(argv.size() == kWeirdArgv.size());
    CHECK(argv[0] == "prog");
    CHECK(argv[1] == "quote\"back\\slash");
    CHECK(argv[2] == std::string("ctl\x01\x1f\n\t\x7f", 8));
    const std::string replacement = "\xef\xbf\xbd";  // U+FFFD
    CHECK_THAT(argv[3].get<std::string>(), Contains("bad") && Contains(replacement) && Contains("utf8"));
    CHECK_THAT(argv[4].get<std::string>(), Contains(replacement));
    CHECK(argv[5] == "caf\xc3\xa9 \xe2\x9c\x93");
    CHECK_THAT(root.at("comm").get<std::string>(), Contains("we\"ir\\d\x01") && Contains(replacement));
    CHECK_THAT(root.at("execs").at(0).at("filename").get<std::string>(), Contains("/tmp/we\"ird"));
    CHECK_THAT(task_by_pid(parsed, 101).at("comm").get<std::string>(), Contains("we\"ir\\d"));
}

TEST_CASE("a task in a child PID namespace shows the ids it saw, beside the kernel's", "[report]") {
    StreamBuilder s = sample_stream();
    s.add(pid_ns(at(71 * kUs + 1), 102, 102, 0, NamespaceIds{1, 1, 0, 1, 4026532177u}));
    const RunModel model = s.correlate(sample_end());
    const json report = report_json(model);
    const json* victim = nullptr;
    for (const json& task : report.at("tasks"))
        if (task.at("pid") == 102) victim = &task;
    REQUIRE(victim != nullptr);
    CHECK(victim->at("pid_namespace") ==
          json({{"pid", 1}, {"tgid", 1}, {"ppid", 0}, {"level", 1}, {"inode", 4026532177u}}));
    std::string findings = report.at("summary").at("what_this_shows").dump();
    CHECK(findings.find("1 task ran in 1 child PID namespace") != std::string::npos);
    CHECK(findings.find("pid 102 calls itself 1") != std::string::npos);
}

TEST_CASE("report.json written task by task is formatted exactly as nlohmann dumps it", "[report]") {
    RunModel model = sample_model(sample_end());
    // Numeric keys sort as strings in JSON objects ("10" < "2"), optional
    // fields both set and unset, a non-leader exec, renames.
    TaskRecord& task = model.tasks.at(1);
    task.cpu_ns = {{2, 5}, {10, 7}, {1, 3}};
    task.woken_by = {{9, 1}, {100, 2}, {42, 3}};
    task.renames.push_back(CommChange{12, kWeirdComm});
    task.exit_signal = 9;
    task.wakeup_cpu = 11;
    ExecRecord exec;
    exec.filename = "/bin/back\\slash";
    exec.argv = kWeirdArgv;
    exec.pid_before = task.pid + 1;
    task.execs.push_back(exec);
    task.pid_ns = NamespaceIds{3, 1, 0, 2, 4026532177u};
    CHECK(render_json_report(model) == render_json_report(report_json(model)));
}

TEST_CASE("the text summary reports tasks, losses and completeness", "[report]") {
    SECTION("a complete run") {
        const std::string text = render_text_summary(sample_model(sample_end()));
        CHECK_THAT(text, Contains("unit-test"));
        CHECK_THAT(text, Contains("tasks: 4 (3 processes, 1 thread)"));
        CHECK_THAT(text, Contains("4 address spaces"));
        CHECK_THAT(text, Contains("lost: 0"));
        CHECK_THAT(text, Contains("events: " + std::to_string(sample_stream().records().size())));
        CHECK_THAT(text, Contains("thread"));  // the latency table row
        CHECK_THAT(text, Contains("exited with status 0"));
        CHECK_THAT(text, !Contains("WARNING"));
        CHECK_THAT(text, !Contains("incomplete"));
    }
    SECTION("lost events: a warning that the report is incomplete") {
        TraceEnd end = sample_end();
        end.lost_by_kind[static_cast<int>(EventKind::Switch)] = 6;
        end.lost_by_kind[static_cast<int>(EventKind::TaskNew)] = 1;
        const std::string text = render_text_summary(sample_model(end));
        CHECK_THAT(text, Contains("WARNING"));
        CHECK_THAT(text, Contains("incomplete"));
        CHECK_THAT(text, Contains("7 events were lost"));
        CHECK_THAT(text, Contains("lost: 7"));
        // The warning comes before the numbers.
        CHECK(text.find("incomplete") < text.find("tasks:"));
    }
    SECTION("interrupted") {
        TraceEnd end = sample_end();
        end.interrupted = true;
        const std::string text = render_text_summary(sample_model(end));
        CHECK_THAT(text, Contains("incomplete") && Contains("interrupted"));
    }
    SECTION("stopped at a limit: which, and that what came after is missing") {
        TraceEnd end = sample_end();
        end.limit = TraceLimit{TraceLimitKind::MaxTraceSize, 256u << 20};
        std::string text = render_text_summary(sample_model(end));
        CHECK_THAT(text, Contains("incomplete: tracing stopped at the trace size limit (--max-trace-size 256 MiB), "
                                  "1.00 ms into the run: what the command did after that is not in this report"));
        CHECK_THAT(text, !Contains("interrupted"));
        end.limit = TraceLimit{TraceLimitKind::Duration, 1 * kMs};
        text = render_text_summary(sample_model(end));
        CHECK_THAT(text, Contains("tracing stopped at the time limit (--duration 1.00 ms), 1.00 ms into the run"));
    }
    SECTION("killed by a signal") {
        TraceEnd end = sample_end();
        end.exit_code = std::nullopt;
        end.exit_signal = 15;
        CHECK_THAT(render_text_summary(sample_model(end)), Contains("killed by signal 15"));
    }
}

TEST_CASE("the text summary does not pass the workload's control characters to the terminal", "[report]") {
    // comm is set by the traced program (prctl(PR_SET_NAME)); an escape
    // sequence in it must not reach the instructor's terminal raw.
    StreamBuilder s;
    s.add(switch_in(at(1 * kUs), 0, kRoot, kRoot));
    NewTask child;
    child.pid = 101;
    child.tgid = 101;
    child.ppid = kRoot;
    child.mm_id = 2;
    child.creator_mm_id = 1;
    s.add(syscall_enter(at(10 * kUs), kRoot, kRoot, 0, CXT_SYS_CLONE, 1, kForkFlags));
    s.add(task_new(at(11 * kUs), kRoot, kRoot, 0, child));
    s.add(syscall_exit(at(12 * kUs), kRoot, kRoot, 0, CXT_SYS_CLONE, 101));
    s.add(switch_in(at(20 * kUs), 1, 101, 101));
    s.add(exit(at(30 * kUs), 101, 101, 1, 9, true, "\x1b]0;pwned\x07\x1b[2J"));
    s.add(switch_out(at(31 * kUs), 1, 101, 101, kTaskDead));
    const std::string text = render_text_summary(s.correlate(sample_end()));
    CHECK_THAT(text, Contains("killed by signal 9"));
    CHECK(control_bytes(text) == "");
}

TEST_CASE("the text summary shows a direction override by its code, and cuts a huge command line", "[report]") {
    StreamBuilder s;
    s.add(switch_in(at(1 * kUs), 0, kRoot, kRoot));
    TraceMeta meta = test_meta();
    const std::string huge(5000, 'a');
    meta.command = {"cat", "invoice\xE2\x80\xAE" "fdp.exe", huge};
    const std::string text = render_text_summary(s.correlate(sample_end(), meta));
    CHECK_THAT(text, Contains("invoice[U+202E]fdp.exe"));
    CHECK(text.find("\xE2\x80\xAE") == std::string::npos);
    CHECK(text.find(huge) == std::string::npos);
    // The line is 3 + 1 + 17 + 1 + 5000 bytes; the first 160 are shown.
    CHECK_THAT(text, Contains(" ... (" + std::to_string(5022 - 160) + " more bytes; report.json has it all)"));
}

TEST_CASE("sizes are printed in binary units, whole ones as typed", "[report]") {
    CHECK(format_bytes(0) == "0 bytes");
    CHECK(format_bytes(1) == "1 byte");
    CHECK(format_bytes(1023) == "1023 bytes");
    CHECK(format_bytes(64u << 10) == "64 KiB");
    CHECK(format_bytes(1536) == "1.5 KiB");
    CHECK(format_bytes(256u << 20) == "256 MiB");
    CHECK(format_bytes(uint64_t{3} << 30) == "3 GiB");
    CHECK(format_bytes(uint64_t{1} << 40) == "1 TiB");
    CHECK(format_bytes(uint64_t{5} << 50) == "5120 TiB");
}

TEST_CASE("durations are printed with a unit that fits", "[report]") {
    // The exact layout is the renderer's choice; the value and unit must agree.
    auto ns = GENERATE(as<uint64_t>{}, 0, 7, 999, 1'000, 9'999, 10'000, 12'345, 999'999, 1'000'000, 12'345'678,
                       999'999'999, 1'500'000'000, 12'345'678'901, 3'600'000'000'000);
    const std::string text = format_duration_ns(ns);
    INFO(ns << " ns printed as \"" << text << "\"");
    static const std::regex shape(R"(([0-9]+(\.[0-9]+)?) (ns|us|ms|s))");
    std::smatch m;
    REQUIRE(std::regex_match(text, m, shape));
    const double value = std::stod(m[1].str());
    const std::string unit = m[3].str();
    const double scale = unit == "ns" ? 1 : unit == "us" ? 1e3 : unit == "ms" ? 1e6 : 1e9;
    const double printed = value * scale;
    CHECK(printed == Approx(static_cast<double>(ns)).epsilon(0.01).margin(0.5));
    if (ns >= 1'000'000'000'000) CHECK(unit == "s");
    if (ns < 1'000) CHECK(unit == "ns");
    CHECK(value < 100'000);  // a unit that fits: never a long run of digits
}

namespace {

struct PrintedRun {
    uint32_t main_pid = 0, main_tid = 0;
    std::vector<std::pair<uint32_t, uint32_t>> processes;  // getpid, getppid
    std::vector<std::pair<uint32_t, uint32_t>> threads;    // gettid, getpid
};

PrintedRun parse_stdout(const std::string& path) {
    std::ifstream in(path);
    REQUIRE(in.good());
    PrintedRun run;
    static const std::regex main_line(R"(main: getpid\(\)=(\d+) gettid\(\)=(\d+))");
    static const std::regex process_line(R"(\s*process \d+: getpid\(\)=(\d+) getppid\(\)=(\d+))");
    static const std::regex thread_line(R"(\s*thread \d+: gettid\(\)=(\d+) getpid\(\)=(\d+))");
    std::string line;
    std::smatch m;
    while (std::getline(in, line)) {
        auto num = [&](int i) { return static_cast<uint32_t>(std::stoul(m[i].str())); };
        if (std::regex_match(line, m, main_line)) {
            run.main_pid = num(1);
            run.main_tid = num(2);
        } else if (std::regex_match(line, m, process_line)) {
            run.processes.emplace_back(num(1), num(2));
        } else if (std::regex_match(line, m, thread_line)) {
            run.threads.emplace_back(num(1), num(2));
        }
    }
    return run;
}

}  // namespace

TEST_CASE("a recorded process-vs-thread -n 5 run agrees with what the workload printed", "[report]") {
    const PrintedRun printed = parse_stdout(CXTRACE_TEST_DATA "/process-vs-thread-n5.stdout");
    REQUIRE(printed.main_pid != 0);
    REQUIRE(printed.processes.size() == 5);
    REQUIRE(printed.threads.size() == 5);

    auto result = correlate_trace_file(CXTRACE_TEST_DATA "/process-vs-thread-n5.cxt");
    INFO((result ? std::string("ok") : result.error().message()));
    REQUIRE(result.ok());
    const RunModel& model = result.value();

    const uint32_t root_pid = printed.main_pid;
    CHECK(printed.main_tid == root_pid);
    CHECK(model.run.root_pid == root_pid);
    const TaskRecord& root = only_task(model, root_pid);
    CHECK(root.kind == TaskKind::Root);
    CHECK(&root == &model.tasks.front());
    REQUIRE_FALSE(root.execs.empty());
    const uint32_t workload_mm = root.execs.back().mm;
    CHECK(workload_mm != 0);
    CHECK_THAT(root.execs.back().filename, Contains("process-vs-thread"));
    CHECK(root.execs.back().argv.size() == 3);

    SECTION("the run") {
        CHECK(model.run.lost_events == 0);
        CHECK(model.run.complete);
        CHECK(model.run.exit_code == std::optional<int>(0));
        CHECK(model.run.workload == "process-vs-thread");
        CHECK(model.summary.tasks == 11);
        CHECK(model.summary.threads == 5);
        CHECK(model.summary.processes == 6);
        CHECK(model.anomalies.unknown_tasks == 0);
        CHECK(model.anomalies.pid_reused_before_exit == 0);
    }
    SECTION("processes: pid/tgid = printed getpid(), ppid = printed getppid() = root") {
        std::set<uint32_t> mms;
        for (const auto& [pid, ppid] : printed.processes) {
            INFO("printed process " << pid);
            CHECK(ppid == root_pid);
            const TaskRecord& t = only_task(model, pid);
            CHECK(t.kind == TaskKind::Process);
            CHECK(t.tgid == pid);
            CHECK(t.ppid == ppid);
            CHECK(t.parent_pid == root_pid);
            CHECK(t.mm != 0);
            CHECK(t.mm != workload_mm);
            CHECK(t.mm != root.mm);
            mms.insert(t.mm);
        }
        CHECK(mms.size() == 5);
    }
    SECTION("threads: pid = printed gettid(), tgid = printed getpid() = root, the workload's mm") {
        std::set<uint32_t> tids;
        for (const auto& [tid, pid] : printed.threads) {
            INFO("printed thread " << tid);
            CHECK(pid == root_pid);
            const TaskRecord& t = only_task(model, tid);
            CHECK(t.kind == TaskKind::Thread);
            CHECK(t.tgid == pid);
            CHECK(t.parent_pid == root_pid);
            CHECK(t.ppid == root.ppid);  // a thread's getppid() is its group's
            CHECK(t.mm == workload_mm);
            tids.insert(tid);
        }
        CHECK(tids.size() == 5);
        CHECK(tids.count(root_pid) == 0);
    }
    SECTION("tasks appear in the order they were printed") {
        std::vector<uint32_t> expected{root_pid};
        for (const auto& p : printed.processes) expected.push_back(p.first);
        for (const auto& t : printed.threads) expected.push_back(t.first);
        std::vector<uint32_t> actual;
        for (const TaskRecord& t : model.tasks) actual.push_back(t.pid);
        CHECK(actual == expected);
    }
    SECTION("every created task has both latencies, a wakeup CPU and CPU time") {
        for (const TaskRecord& t : model.tasks) {
            if (t.kind == TaskKind::Root) continue;
            INFO("pid " << t.pid);
            REQUIRE(t.latency.syscall.has_value());
            REQUIRE(t.latency.first_run.has_value());
            CHECK(*t.latency.syscall > 0);
            CHECK(*t.latency.first_run > 0);
            CHECK(*t.latency.first_run < 100 * kMs);  // sanity: a creation, not the whole run
            CHECK(t.wakeup_cpu.has_value());
            CHECK(t.oncpu_ns > 0);
            CHECK(t.exited_ns.has_value());
            CHECK(t.exit_code == std::optional<int>(0));
            REQUIRE(t.created_ns.has_value());
            CHECK(*t.created_ns < *t.exited_ns);
        }
        CHECK(model.summary.first_run_latency.at("process").count == 5);
        CHECK(model.summary.first_run_latency.at("thread").count == 5);
        CHECK(model.summary.syscall_latency.at("process").count == 5);
        CHECK(model.summary.syscall_latency.at("thread").count == 5);
    }
    SECTION("report.json of the recorded run") {
        const json report = json::parse(render_json_report(model));
        CHECK(report.at("schema") == "cxtrace.report/1");
        CHECK(report.at("run").at("complete") == true);
        CHECK(report.at("run").at("lost_events") == 0);
        CHECK(report.at("summary").at("address_spaces") == 7);  // pre-exec, workload, 5 children
        for (const auto& [tid, pid] : printed.threads)
            CHECK(task_by_pid(report, tid).at("mm") == "mm" + std::to_string(workload_mm));
        const std::string text = render_text_summary(model);
        CHECK_THAT(text, Contains("tasks: 11") && Contains("lost: 0"));
        CHECK_THAT(text, !Contains("WARNING"));
    }
}
