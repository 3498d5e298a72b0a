// perfetto.json: Chrome trace-event JSON of the run model, checked on a
// synthetic stream and on a recorded trace.
#include <catch2/catch.hpp>

#include <cmath>
#include <map>
#include <set>
#include <tuple>

#include <nlohmann/json.hpp>

#include "correlator.h"
#include "event_builder.h"
#include "perfetto_export.h"

using namespace cxt;
using namespace cxt::test;
using nlohmann::json;

namespace {



const std::string kHostileComm = std::string("a\"</script>\x01\xff", 14);  // fits the 16-byte comm
const std::string kHostileFile = "/tmp/</script><b>\"x\\y\xff\xfe";
const std::vector<std::string> kHostileArgv = {
    "prog", "</script><script>alert(1)</script>", std::string("ctl\x01\x1f\n\t\x7f", 8), "bad\xff\xfeutf8",
    "\xc3\x28", "caf\xc3\xa9 \xe2\x9c\x93",
};

// A string as it reads back from the file: invalid UTF-8 replaced.
std::string as_written(const std::string& s) {
    return json::parse(json(s).dump(-1, ' ', false, json::error_handler_t::replace)).get<std::string>();
}

// Root 100 (cpu 0, 5..100 us) execs a hostile program; creates thread 101
// (cpu 1); thread 101 forks process 106 (cpu 3); root forks process 102
// (cpu 1, odd nanoseconds, killed by SIGKILL), which forks 104 (runs on
// cpu 2 then cpu 0, exits 3); root forks 103, which never runs.
StreamBuilder perfetto_stream() {
    StreamBuilder s;
    ExecSpec spec;
    spec.comm = kHostileComm;
    spec.filename = kHostileFile;
    spec.argv = kHostileArgv;
    add_exec_and_thread(s, spec, "worker");

    NewTask from_thread;
    from_thread.pid = 106;
    from_thread.tgid = 106;
    from_thread.ppid = kRoot;
    from_thread.mm_id = 11;
    from_thread.creator_mm_id = 8;
    from_thread.comm = "grandkid";
    s.add(syscall_enter(at(44 * kUs), 101, kRoot, 1, CXT_SYS_CLONE, 8, kForkFlags));
    s.add(task_new(at(45 * kUs), 101, kRoot, 1, from_thread));
    s.add(syscall_exit(at(46 * kUs), 101, kRoot, 1, CXT_SYS_CLONE, 106));
    s.add(switch_in(at(47 * kUs), 3, 106, 106));
    s.add(exit(at(48'500), 106, 106, 3, 0, true, "grandkid"));
    s.add(switch_out(at(49 * kUs), 3, 106, 106, kTaskDead));
    s.add(exit(at(50 * kUs), 101, kRoot, 1, 0, false, "worker"));
    s.add(switch_out(at(60 * kUs), 1, 101, kRoot, kTaskDead));

    NewTask proc;
    proc.pid = 102;
    proc.tgid = 102;
    proc.ppid = kRoot;
    proc.mm_id = 9;
    proc.creator_mm_id = 8;
    proc.comm = "victim";
    s.add(syscall_enter(at(70 * kUs), kRoot, kRoot, 0, CXT_SYS_CLONE, 8, kForkFlags));
    s.add(task_new(at(71 * kUs), kRoot, kRoot, 0, proc));
    s.add(syscall_exit(at(73 * kUs), kRoot, kRoot, 0, CXT_SYS_CLONE, 102));
    s.add(switch_in(at(75'001), 1, 102, 102));

    NewTask grandchild;
    grandchild.pid = 104;
    grandchild.tgid = 104;
    grandchild.ppid = 102;
    grandchild.mm_id = 12;
    grandchild.creator_mm_id = 9;
    grandchild.comm = "child-of-102";
    s.add(syscall_enter(at(77 * kUs), 102, 102, 1, CXT_SYS_CLONE, 9, kForkFlags));
    s.add(task_new(at(78'500), 102, 102, 1, grandchild));
    s.add(syscall_exit(at(79 * kUs), 102, 102, 1, CXT_SYS_CLONE, 104));
    s.add(exit(at(80 * kUs), 102, 102, 1, 9, true, "victim"));
    s.add(switch_out(at(80'123), 1, 102, 102, kTaskDead));

    proc.pid = 103;
    proc.tgid = 103;
    proc.mm_id = 10;
    proc.comm = "sleeper";
    s.add(task_new(at(85 * kUs), kRoot, kRoot, 0, proc));

    s.add(switch_in(at(90'007), 2, 104, 104));
    s.add(switch_out(at(92 * kUs), 2, 104, 104));
    s.add(switch_out(at(100 * kUs), 0, kRoot, kRoot));
    s.add(switch_in(at(100'001), 0, 104, 104));
    s.add(exit(at(101 * kUs), 104, 104, 0, 3 << 8, true, "child-of-102"));
    s.add(switch_out(at(101'234), 0, 104, 104, kTaskDead));
    return s;
}

RunModel perfetto_model() {
    TraceEnd end = test_end(at(1 * kMs));
    end.exit_code = 0;
    return perfetto_stream().correlate(end);
}

// Microseconds (a JSON float) back to nanoseconds.
uint64_t ns_of(const json& us) {
    REQUIRE(us.is_number());
    return static_cast<uint64_t>(std::llround(us.get<double>() * 1000.0));
}

std::vector<json> events_where(const json& trace, const std::string& ph, const std::string& cat = "") {
    std::vector<json> found;
    for (const json& e : trace.at("traceEvents"))
        if (e.at("ph") == ph && (cat.empty() || e.value("cat", "") == cat)) found.push_back(e);
    return found;
}

const json& metadata_event(const json& trace, const std::string& name, uint32_t pid,
                           std::optional<uint32_t> tid = std::nullopt) {
    const json* found = nullptr;
    for (const json& e : trace.at("traceEvents"))
        if (e.at("ph") == "M" && e.at("name") == name && e.at("pid") == pid &&
            (!tid || (e.contains("tid") && e.at("tid") == *tid))) {
            REQUIRE(found == nullptr);
            found = &e;
        }
    INFO(name << " for pid " << pid << " tid " << (tid ? std::to_string(*tid) : "-"));
    REQUIRE(found != nullptr);
    return *found;
}

// Sum of "dur" (ns) and count of "X" slices of one category, per (pid, tid).
std::map<std::pair<uint32_t, uint32_t>, std::pair<uint64_t, uint64_t>> slice_sums(const json& trace,
                                                                                  const std::string& cat) {
    std::map<std::pair<uint32_t, uint32_t>, std::pair<uint64_t, uint64_t>> sums;
    for (const json& e : events_where(trace, "X", cat)) {
        auto& [sum, count] = sums[{e.at("pid").get<uint32_t>(), e.at("tid").get<uint32_t>()}];
        sum += ns_of(e.at("dur"));
        ++count;
    }
    return sums;
}

bool differs_by_at_most(uint64_t a, uint64_t b, uint64_t tolerance) {
    return (a > b ? a - b : b - a) <= tolerance;
}

}  // namespace

TEST_CASE("perfetto.json: tracks, slices, instants and flows of a synthetic run", "[perfetto]") {
    const RunModel model = perfetto_model();
    REQUIRE(model.anomalies.total() == 0);
    REQUIRE(model.tasks.size() == 6);
    const std::string text = render_perfetto_json(model);
    json trace;
    REQUIRE_NOTHROW(trace = json::parse(text));

    SECTION("the outer object") {
        REQUIRE(trace.at("traceEvents").is_array());
        CHECK(trace.at("displayTimeUnit") == "ns");
        CHECK(trace.at("metadata").at("schema") == kPerfettoSchema);
        CHECK(trace.at("metadata").at("workload") == "unit-test");
        CHECK(trace.at("metadata").at("root_pid") == kRoot);
        // traceEvents first: older Perfetto versions honoured displayTimeUnit
        // (as the unit of ts) only when it came before the events.
        CHECK(text.rfind("{\"traceEvents\":[", 0) == 0);
        for (const json& e : trace.at("traceEvents")) {
            CHECK(e.at("ph").is_string());
            CHECK(e.at("pid").is_number_integer());
            if (e.at("ph") != "M") {
                CHECK(e.at("ts").is_number_float());
                CHECK(e.at("tid").is_number_integer());
                CHECK(e.at("cat").is_string());
            }
        }
    }

    SECTION("process and thread names, root first") {
        const TaskRecord& root = only_task(model, kRoot);
        CHECK(metadata_event(trace, "process_name", kRoot).at("args").at("name") == as_written(root.comm));
        CHECK(metadata_event(trace, "process_name", 102).at("args").at("name") == "victim");
        CHECK(metadata_event(trace, "process_name", kPerfettoCpuPid).at("args").at("name") == "CPUs");
        for (const TaskRecord& task : model.tasks) {
            INFO("pid " << task.pid);
            const json& name = metadata_event(trace, "thread_name", task.tgid, task.pid);
            CHECK(name.at("args").at("name") ==
                  as_written(task.comm) + " [" + task_kind_name(task.kind) + "]");
            CHECK(metadata_event(trace, "thread_sort_index", task.tgid, task.pid).at("args").contains("sort_index"));
        }
        CHECK(metadata_event(trace, "thread_name", 102, 102).at("args").at("name") == "victim [process]");
        CHECK(metadata_event(trace, "thread_name", kRoot, 101).at("args").at("name") == "worker [thread]");

        int root_index = metadata_event(trace, "process_sort_index", kRoot).at("args").at("sort_index");
        CHECK(root_index == 0);
        for (uint32_t tgid : {102u, 103u, 104u, 106u, kPerfettoCpuPid})
            CHECK(metadata_event(trace, "process_sort_index", tgid).at("args").at("sort_index").get<int>() >
                  root_index);
        CHECK(metadata_event(trace, "thread_sort_index", kRoot, kRoot).at("args").at("sort_index") == 0);
        CHECK(metadata_event(trace, "thread_sort_index", kRoot, 101).at("args").at("sort_index").get<int>() > 0);

        for (uint32_t cpu : {0u, 1u, 2u, 3u})
            CHECK(metadata_event(trace, "thread_name", kPerfettoCpuPid, perfetto_cpu_tid(cpu)).at("args").at("name") ==
                  "CPU " + std::to_string(cpu));
    }

    SECTION("on-CPU slices: one per interval, in microseconds, adding up to oncpu_ns") {
        const auto per_task = slice_sums(trace, "oncpu");
        for (const TaskRecord& task : model.tasks) {
            INFO("pid " << task.pid);
            auto found = per_task.find({task.tgid, task.pid});
            if (task.oncpu_ns == 0) {
                CHECK(found == per_task.end());
                continue;
            }
            REQUIRE(found != per_task.end());
            CHECK(differs_by_at_most(found->second.first, task.oncpu_ns, found->second.second));
        }
        CHECK(per_task.count({103, 103}) == 0);  // never ran
        CHECK(only_task(model, 104).oncpu_ns == (92'000 - 90'007) + (101'234 - 100'001));
        CHECK(per_task.at({104, 104}).second == 2);

        // Every interval of the model exactly once per view, nanoseconds kept.
        std::multiset<std::tuple<uint32_t, uint32_t, uint64_t, uint64_t>> expected, oncpu, by_cpu;
        for (const OnCpuInterval& i : model.intervals)
            expected.emplace(model.tasks[i.task].pid, i.cpu, i.start_ns, i.end_ns - i.start_ns);
        for (const json& e : events_where(trace, "X", "oncpu")) {
            CHECK(e.at("name") == as_written(only_task(model, e.at("tid").get<uint32_t>()).comm));
            oncpu.emplace(e.at("tid").get<uint32_t>(), e.at("args").at("cpu").get<uint32_t>(), ns_of(e.at("ts")),
                          ns_of(e.at("dur")));
        }
        for (const json& e : events_where(trace, "X", "cpu")) {
            const uint32_t cpu = e.at("args").at("cpu");
            CHECK(e.at("pid") == kPerfettoCpuPid);
            CHECK(e.at("tid") == perfetto_cpu_tid(cpu));
            const uint32_t pid = e.at("args").at("pid");
            CHECK(e.at("name") == as_written(only_task(model, pid).comm) + " " + std::to_string(pid));
            by_cpu.emplace(pid, cpu, ns_of(e.at("ts")), ns_of(e.at("dur")));
        }
        CHECK(oncpu == expected);
        CHECK(by_cpu == expected);
        CHECK(events_where(trace, "X").size() == 2 * model.intervals.size());

        // Units: 102 ran on cpu 1 from 75.001 us for 5.122 us.
        bool seen = false;
        for (const json& e : events_where(trace, "X", "oncpu"))
            if (e.at("tid") == 102) {
                seen = true;
                CHECK(e.at("ts").get<double>() == Approx(75.001).margin(1e-9));
                CHECK(e.at("dur").get<double>() == Approx(5.122).margin(1e-9));
            }
        CHECK(seen);
        CHECK(text.find("\"ts\":75.001") != std::string::npos);
        CHECK(text.find("\"dur\":5.122") != std::string::npos);
    }

    SECTION("timed events are in time order") {
        double last = -1;
        for (const json& e : trace.at("traceEvents")) {
            if (e.at("ph") == "M") continue;
            CHECK(e.at("ts").get<double>() >= last);
            last = e.at("ts").get<double>();
        }
    }

    SECTION("instants: creation, exec, exit") {
        std::map<std::pair<uint32_t, std::string>, json> instants;  // (tid, name) -> event
        for (const json& e : events_where(trace, "i", "lifecycle")) {
            CHECK(e.at("s") == "t");
            CHECK(instants.emplace(std::make_pair(e.at("tid").get<uint32_t>(), e.at("name").get<std::string>()), e)
                      .second);
        }
        const json& created = instants.at({102, "created (process)"});
        CHECK(created.at("pid") == 102);
        CHECK(ns_of(created.at("ts")) == 71 * kUs);
        const json& args = created.at("args");
        CHECK(args.at("kind") == "process");
        CHECK(args.at("mm") == "mm" + std::to_string(only_task(model, 102).mm));
        CHECK(args.at("latency_ns").at("syscall") == 3 * kUs);
        CHECK(args.at("latency_ns").at("first_run") == 75'001 - 70'000);
        CHECK(args.at("clone_flags") == "0x1200011");
        CHECK(args.at("creation_syscall") == "clone");

        const json& thread = instants.at({101, "created (thread)"});
        CHECK(thread.at("pid") == kRoot);
        CHECK(thread.at("args").at("kind") == "thread");
        CHECK(instants.count({103, "created (process)"}) == 1);
        CHECK(instants.at({103, "created (process)"}).at("args").at("latency_ns").at("first_run").is_null());
        CHECK(instants.count({kRoot, "created (root)"}) == 0);  // its creation was before tracing

        // Basename: after the last '/', here the one in "</script>".
        const std::string exec_name = "exec " + as_written("script><b>\"x\\y\xff\xfe");
        REQUIRE(instants.count({kRoot, exec_name}) == 1);
        const json& exec = instants.at({kRoot, exec_name});
        CHECK(ns_of(exec.at("ts")) == 20 * kUs);
        CHECK(exec.at("args").at("filename") == as_written(kHostileFile));
        REQUIRE(exec.at("args").at("argv").size() == kHostileArgv.size());
        for (size_t i = 0; i < kHostileArgv.size(); ++i)
            CHECK(exec.at("args").at("argv")[i] == as_written(kHostileArgv[i]));
        CHECK(exec.at("args").at("mm") == "mm" + std::to_string(only_task(model, kRoot).execs.at(0).mm));

        const json& killed = instants.at({102, "exit (signal 9)"});
        CHECK(ns_of(killed.at("ts")) == 80 * kUs);
        CHECK(killed.at("args").at("exit_signal") == 9);
        CHECK(killed.at("args").at("exit_code").is_null());
        CHECK(instants.at({104, "exit (code 3)"}).at("args").at("exit_code") == 3);
        CHECK(instants.count({101, "exit (code 0)"}) == 1);
        CHECK(instants.count({103, "exit (code 0)"}) == 0);  // never exited
    }

    SECTION("flows pair up and point from creator to created") {
        std::map<uint64_t, json> starts, finishes;
        for (const json& e : events_where(trace, "s", "creation")) CHECK(starts.emplace(e.at("id").get<uint64_t>(), e).second);
        for (const json& e : events_where(trace, "f", "creation")) CHECK(finishes.emplace(e.at("id").get<uint64_t>(), e).second);
        REQUIRE(starts.size() == 5);  // every task but the root
        REQUIRE(finishes.size() == starts.size());

        // child tid -> (creator pid, creator tid, flow start ns, flow end ns)
        std::map<uint32_t, std::tuple<uint32_t, uint32_t, uint64_t, uint64_t>> arrows;
        for (const auto& [id, s] : starts) {
            REQUIRE(finishes.count(id) == 1);
            const json& f = finishes.at(id);
            CHECK(f.at("bp") == "e");
            CHECK(f.at("name") == s.at("name"));  // Perfetto pairs v1 flows by (id, cat, name)
            CHECK(ns_of(s.at("ts")) <= ns_of(f.at("ts")));
            arrows[f.at("tid").get<uint32_t>()] = {s.at("pid").get<uint32_t>(), s.at("tid").get<uint32_t>(),
                                                  ns_of(s.at("ts")), ns_of(f.at("ts"))};
            CHECK(f.at("pid") == only_task(model, f.at("tid").get<uint32_t>()).tgid);
        }
        using A = std::tuple<uint32_t, uint32_t, uint64_t, uint64_t>;
        CHECK(arrows.at(101) == A{kRoot, kRoot, 31 * kUs, 40 * kUs});
        CHECK(arrows.at(106) == A{kRoot, 101, 45 * kUs, 47 * kUs});  // from the thread's own track
        CHECK(arrows.at(102) == A{kRoot, kRoot, 71 * kUs, 75'001});
        CHECK(arrows.at(104) == A{102, 102, 78'500, 90'007});
        CHECK(arrows.at(103) == A{kRoot, kRoot, 85 * kUs, 85 * kUs});  // never ran: at its creation
    }
}

TEST_CASE("perfetto.json: a creator is the task alive with that pid at the time", "[perfetto]") {
    // Process 102 is created, exits; pid 102 is reused by a second process,
    // which creates 103. The arrow to 103 starts on the second 102's
    // slice, at 103's creation.
    StreamBuilder s;
    s.add(switch_in(at(1 * kUs), 0, kRoot, kRoot));
    NewTask proc;
    proc.pid = 102;
    proc.tgid = 102;
    proc.ppid = kRoot;
    proc.mm_id = 9;
    proc.comm = "first";
    s.add(task_new(at(10 * kUs), kRoot, kRoot, 0, proc));
    s.add(switch_in(at(11 * kUs), 1, 102, 102));
    s.add(exit(at(12 * kUs), 102, 102, 1, 0, true, "first"));
    s.add(switch_out(at(13 * kUs), 1, 102, 102, kTaskDead));
    proc.comm = "second";
    proc.mm_id = 10;
    s.add(task_new(at(20 * kUs), kRoot, kRoot, 0, proc));
    s.add(switch_in(at(21 * kUs), 1, 102, 102));
    NewTask child;
    child.pid = 103;
    child.tgid = 103;
    child.ppid = 102;
    child.mm_id = 11;
    s.add(task_new(at(25 * kUs), 102, 102, 1, child));
    s.add(switch_out(at(30 * kUs), 1, 102, 102));
    s.add(switch_out(at(40 * kUs), 0, kRoot, kRoot));
    const RunModel model = s.correlate(test_end(at(1 * kMs)));
    REQUIRE(tasks_with_pid(model, 102).size() == 2);

    const json trace = json::parse(render_perfetto_json(model));
    std::map<uint64_t, json> starts;
    for (const json& e : events_where(trace, "s", "creation")) starts.emplace(e.at("id").get<uint64_t>(), e);
    bool found = false;
    for (const json& f : events_where(trace, "f", "creation"))
        if (f.at("tid") == 103) {
            found = true;
            const json& start = starts.at(f.at("id").get<uint64_t>());
            CHECK(start.at("tid") == 102);
            CHECK(ns_of(start.at("ts")) == 25 * kUs);
            // Inside the second 102's slice [21, 30) us, not the first's.
            bool enclosed = false;
            for (const json& x : events_where(trace, "X", "oncpu"))
                if (x.at("tid") == 102 && ns_of(x.at("ts")) <= 25 * kUs &&
                    ns_of(x.at("ts")) + ns_of(x.at("dur")) >= 25 * kUs) {
                    enclosed = true;
                    CHECK(ns_of(x.at("ts")) == 21 * kUs);
                }
            CHECK(enclosed);
        }
    CHECK(found);
}

TEST_CASE("perfetto.json: hostile strings from the traced program stay valid JSON", "[perfetto]") {
    const std::vector<std::string> nasty = {
        "\"",         "\\",        "</script>",  "<!--",           std::string("\0nul", 4), "\x01\x02\x1f\x7f",
        "\n\r\t\b\f", "\xff\xfe",  "\xc3\x28",   "\xe2\x82",       "\xf0\x9f\x98",          "\xed\xa0\x80",
        "ok \xe2\x9c\x93", "{\"traceEvents\":[", "]}",
    };
    RunModel model;
    model.run.workload = "w\"</script>\xff";
    model.run.command = nasty;
    model.run.kernel = "k\x01";
    model.run.cpus = 2;
    for (size_t i = 0; i < nasty.size(); ++i) {
        TaskRecord task;
        task.pid = task.tgid = static_cast<uint32_t>(200 + i);
        task.parent_pid = 199;
        task.comm = nasty[i];
        task.kind = i == 0 ? TaskKind::Root : TaskKind::Process;
        if (i) task.created_ns = 10 * i;
        task.exited_ns = 1000 + i;
        task.exit_code = 0;
        task.oncpu_ns = 7;
        task.cpu_ns[static_cast<uint32_t>(i % 2)] = 7;
        ExecRecord exec;
        exec.ts_ns = 20 * i + 1;
        exec.filename = "/x/" + nasty[i];
        exec.argv = nasty;
        exec.mm = 1;
        task.execs.push_back(exec);
        model.tasks.push_back(task);
        model.intervals.push_back(
            OnCpuInterval{static_cast<uint32_t>(i), static_cast<uint32_t>(i % 2), 100 * i + 3, 100 * i + 10});
    }
    const std::string text = render_perfetto_json(model);
    json trace;
    REQUIRE_NOTHROW(trace = json::parse(text));  // strict: invalid UTF-8 would throw
    bool raw_control = false;  // control characters are escaped
    for (unsigned char c : text) raw_control |= c < 0x20 && c != '\n';
    CHECK_FALSE(raw_control);
    CHECK(trace.at("metadata").at("command").size() == nasty.size());
    CHECK(trace.at("metadata").at("workload") == as_written(model.run.workload));
    for (size_t i = 0; i < nasty.size(); ++i) {
        INFO("string " << i);
        const uint32_t pid = static_cast<uint32_t>(200 + i);
        CHECK(metadata_event(trace, "process_name", pid).at("args").at("name") == as_written(nasty[i]));
    }
    CHECK(events_where(trace, "X", "oncpu").size() == nasty.size());
    CHECK(events_where(trace, "i", "lifecycle").size() == 3 * nasty.size() - 1);  // the root: no creation
}

TEST_CASE("perfetto.json of the recorded process-vs-thread -n 5 run", "[perfetto]") {
    auto result = correlate_trace_file(CXTRACE_TEST_DATA "/process-vs-thread-n5.cxt");
    INFO((result ? std::string("ok") : result.error().message()));
    REQUIRE(result.ok());
    const RunModel& model = result.value();
    const json trace = json::parse(render_perfetto_json(model));

    // Per track (a reused pid shares one): slices add up to the tasks' oncpu_ns.
    std::map<std::pair<uint32_t, uint32_t>, uint64_t> oncpu;
    for (const TaskRecord& task : model.tasks) oncpu[{task.tgid, task.pid}] += task.oncpu_ns;
    const auto per_task = slice_sums(trace, "oncpu");
    for (const auto& [track, ns] : oncpu) {
        INFO("tgid " << track.first << " pid " << track.second << " oncpu_ns " << ns);
        if (ns == 0) {
            CHECK(per_task.count(track) == 0);
            continue;
        }
        REQUIRE(per_task.count(track) == 1);
        CHECK(differs_by_at_most(per_task.at(track).first, ns, per_task.at(track).second));
    }
    CHECK(per_task.size() <= oncpu.size());

    // The per-CPU view holds the same time.
    uint64_t total_task = 0, total_cpu = 0, slices = 0;
    for (const auto& [track, sum] : per_task) total_task += sum.first;
    for (const auto& [track, sum] : slice_sums(trace, "cpu")) {
        CHECK(track.first == kPerfettoCpuPid);
        total_cpu += sum.first;
        slices += sum.second;
    }
    CHECK(differs_by_at_most(total_cpu, total_task, slices));
    CHECK(slices == model.intervals.size());

    // Every created task has an arrow from the root.
    size_t arrows = 0;
    for (const json& s : events_where(trace, "s", "creation")) {
        CHECK(s.at("tid") == model.run.root_pid);
        ++arrows;
    }
    CHECK(arrows == model.tasks.size() - 1);
}
