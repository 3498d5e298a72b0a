// perfetto.pftrace: the native Perfetto trace (TrackEvent protobuf) of the
// run model, read back with the tests' own decoder (tests/support), checked
// on a synthetic stream and on a recorded trace; and, as an independent
// witness, decoded by protoc against a schema subset (tests/support/perfetto_subset.proto).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <cctype>
#include <sys/wait.h>
#include <tuple>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "correlator.h"
#include "event_builder.h"
#include "perfetto_export.h"
#include "perfetto_trace.h"

using namespace cxt;
using namespace cxt::test;
using nlohmann::json;
namespace pft = cxt::pftrace;

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

pft::Trace decode(const std::string& bytes) {
    pft::Trace trace;
    try {
        trace = pft::decode(bytes);
    } catch (const std::exception& e) {
        FAIL(e.what());
    }
    return trace;
}

// The thread track of (tgid, pid) / of a CPU, and the process track of a pid.
const pft::Track& thread_track(const pft::Trace& trace, uint32_t pid, uint32_t tid) {
    const pft::Track* found = nullptr;
    for (const auto& [uuid, t] : trace.tracks)
        if (t.thread && static_cast<uint32_t>(t.pid) == pid && static_cast<uint32_t>(t.tid) == tid) {
            REQUIRE(found == nullptr);
            found = &t;
        }
    INFO("thread track " << pid << "/" << tid);
    REQUIRE(found != nullptr);
    return *found;
}

const pft::Track& process_track(const pft::Trace& trace, uint32_t pid) {
    const pft::Track* found = nullptr;
    for (const auto& [uuid, t] : trace.tracks)
        if (t.process && static_cast<uint32_t>(t.pid) == pid) {
            REQUIRE(found == nullptr);
            found = &t;
        }
    INFO("process track " << pid);
    REQUIRE(found != nullptr);
    return *found;
}

bool has_category(const std::vector<std::string>& categories, const std::string& cat) {
    return std::find(categories.begin(), categories.end(), cat) != categories.end();
}

std::vector<pft::Slice> slices_of(const pft::Trace& trace, const std::string& cat) {
    std::vector<pft::Slice> found;
    for (const pft::Slice& s : trace.slices)
        if (has_category(s.categories, cat)) found.push_back(s);
    return found;
}

// Sum of durations (ns) and count of slices of one category, per (pid, tid) of their track.
std::map<std::pair<uint32_t, uint32_t>, std::pair<uint64_t, uint64_t>> slice_sums(const pft::Trace& trace,
                                                                                  const std::string& cat) {
    std::map<std::pair<uint32_t, uint32_t>, std::pair<uint64_t, uint64_t>> sums;
    for (const pft::Slice& s : slices_of(trace, cat)) {
        const pft::Track& t = trace.track(s.track);
        REQUIRE(t.thread);
        auto& [sum, count] = sums[{static_cast<uint32_t>(t.pid), static_cast<uint32_t>(t.tid)}];
        sum += s.dur;
        ++count;
    }
    return sums;
}

int64_t int_arg(const pft::Args& args, const std::string& name) {
    INFO("arg " << name);
    REQUIRE(args.count(name) == 1);
    REQUIRE(args.at(name).kind == pft::Value::Int);
    return args.at(name).i;
}

std::string string_arg(const pft::Args& args, const std::string& name) {
    INFO("arg " << name);
    REQUIRE(args.count(name) == 1);
    REQUIRE(args.at(name).kind == pft::Value::String);
    return args.at(name).s;
}

// A flow: where it starts (the event carrying it in flow_ids) and ends
// (terminating_flow_ids), as (track pid, track tid, event ts).
struct FlowPoint {
    uint32_t pid, tid;
    uint64_t ts;
    const pft::Event* event;
};

void collect_flows(const pft::Trace& trace, std::map<uint64_t, FlowPoint>& starts, std::map<uint64_t, FlowPoint>& ends) {
    for (const pft::Event& e : trace.events) {
        const pft::Track& t = trace.track(e.track);
        for (uint64_t id : e.flow_ids)
            CHECK(starts.emplace(id, FlowPoint{uint32_t(t.pid), uint32_t(t.tid), e.ts, &e}).second);
        for (uint64_t id : e.terminating_flow_ids)
            CHECK(ends.emplace(id, FlowPoint{uint32_t(t.pid), uint32_t(t.tid), e.ts, &e}).second);
    }
}

}  // namespace

TEST_CASE("perfetto.pftrace: tracks, slices, instants and flows of a synthetic run", "[perfetto]") {
    const RunModel model = perfetto_model();
    REQUIRE(model.anomalies.total() == 0);
    REQUIRE(model.tasks.size() == 6);
    const std::string bytes = render_perfetto_trace(model);
    const pft::Trace trace = decode(bytes);

    SECTION("the run's facts") {
        const pft::Event* run = nullptr;
        for (const pft::Event& e : trace.instants)
            if (e.name == "cxtrace run") run = &e;
        REQUIRE(run != nullptr);
        CHECK(run->ts == 0);
        CHECK(trace.track(run->track).name == "cxtrace run");
        CHECK(string_arg(run->args, "schema") == kPerfettoSchema);
        CHECK(string_arg(run->args, "tool") == "cxtrace");
        CHECK(int_arg(run->args, "intervals") == static_cast<int64_t>(model.intervals.size()));
        REQUIRE(run->args.at("run").kind == pft::Value::Json);
        const json facts = json::parse(run->args.at("run").s);
        CHECK(facts.at("workload") == "unit-test");
        CHECK(facts.at("root_pid") == kRoot);
        // The first packet clears the incremental state; the file is a Trace
        // (field 1, length-delimited = 0x0a) from its first byte.
        REQUIRE(!bytes.empty());
        CHECK(bytes[0] == '\x0a');
    }

    SECTION("process and thread names, root first") {
        const TaskRecord& root = only_task(model, kRoot);
        CHECK(process_track(trace, kRoot).process_name == as_written(root.comm));
        CHECK(process_track(trace, 102).process_name == "victim");
        CHECK(process_track(trace, kPerfettoCpuPid).process_name == "CPUs");
        for (const TaskRecord& task : model.tasks) {
            INFO("pid " << task.pid);
            const pft::Track& t = thread_track(trace, task.tgid, task.pid);
            CHECK(t.thread_name == as_written(task.comm) + " [" + task_kind_name(task.kind) + "]");
            CHECK(t.sort_index.has_value());
            CHECK(t.parent == process_track(trace, task.tgid).uuid);
        }
        CHECK(thread_track(trace, 102, 102).thread_name == "victim [process]");
        CHECK(thread_track(trace, kRoot, 101).thread_name == "worker [thread]");

        const int root_index = process_track(trace, kRoot).sort_index.value();
        CHECK(root_index == 0);
        for (uint32_t tgid : {102u, 103u, 104u, 106u, kPerfettoCpuPid})
            CHECK(process_track(trace, tgid).sort_index.value() > root_index);
        CHECK(thread_track(trace, kRoot, kRoot).sort_index == 0);
        CHECK(thread_track(trace, kRoot, 101).sort_index.value() > 0);

        for (uint32_t cpu : {0u, 1u, 2u, 3u}) {
            const pft::Track& t = thread_track(trace, kPerfettoCpuPid, perfetto_cpu_tid(cpu));
            CHECK(t.thread_name == "CPU " + std::to_string(cpu));
            CHECK(t.parent == process_track(trace, kPerfettoCpuPid).uuid);
        }
    }

    SECTION("on-CPU slices: one per interval, in nanoseconds, adding up to oncpu_ns") {
        const auto per_task = slice_sums(trace, "oncpu");
        for (const TaskRecord& task : model.tasks) {
            INFO("pid " << task.pid);
            auto found = per_task.find({task.tgid, task.pid});
            if (task.oncpu_ns == 0) {
                CHECK(found == per_task.end());
                continue;
            }
            REQUIRE(found != per_task.end());
            CHECK(found->second.first == task.oncpu_ns);  // exact: no unit conversion any more
        }
        CHECK(per_task.count({103, 103}) == 0);  // never ran
        CHECK(only_task(model, 104).oncpu_ns == (92'000 - 90'007) + (101'234 - 100'001));
        CHECK(per_task.at({104, 104}).second == 2);

        // Every interval of the model exactly once per view, nanoseconds kept.
        std::multiset<std::tuple<uint32_t, uint32_t, uint64_t, uint64_t>> expected, oncpu, by_cpu;
        for (const OnCpuInterval& i : model.intervals)
            expected.emplace(model.tasks[i.task].pid, i.cpu, i.start_ns, i.end_ns - i.start_ns);
        // A task's slices are named after their CPU; a CPU's after the task
        // (its tgid too when it does not lead its group). Neither carries
        // annotations: the names and tracks say it all.
        std::map<std::string, uint32_t> pid_of_cpu_slice;
        for (const TaskRecord& task : model.tasks)
            pid_of_cpu_slice[as_written(task.comm) + " " + std::to_string(task.pid) +
                             (task.pid == task.tgid ? "" : " (tgid " + std::to_string(task.tgid) + ")")] = task.pid;
        CHECK(pid_of_cpu_slice.count("worker 101 (tgid " + std::to_string(kRoot) + ")") == 1);
        CHECK(pid_of_cpu_slice.count("victim 102") == 1);
        for (const pft::Slice& s : slices_of(trace, "oncpu")) {
            const pft::Track& t = trace.track(s.track);
            REQUIRE(s.name.rfind("CPU ", 0) == 0);
            CHECK(s.args.empty());
            oncpu.emplace(uint32_t(t.tid), uint32_t(std::stoul(s.name.substr(4))), s.ts, s.dur);
        }
        for (const pft::Slice& s : slices_of(trace, "cpu")) {
            const pft::Track& t = trace.track(s.track);
            CHECK(uint32_t(t.pid) == kPerfettoCpuPid);
            REQUIRE(uint32_t(t.tid) > kPerfettoCpuPid);
            const uint32_t cpu = uint32_t(t.tid) - perfetto_cpu_tid(0);
            CHECK(t.thread_name == "CPU " + std::to_string(cpu));
            CHECK(s.args.empty());
            INFO("CPU slice " << s.name);
            REQUIRE(pid_of_cpu_slice.count(s.name) == 1);
            by_cpu.emplace(pid_of_cpu_slice.at(s.name), cpu, s.ts, s.dur);
        }
        CHECK(oncpu == expected);
        CHECK(by_cpu == expected);
        CHECK(slices_of(trace, "oncpu").size() + slices_of(trace, "cpu").size() == 2 * model.intervals.size());

        // Units: 102 ran on cpu 1 from 75.001 us for 5.122 us, in ns.
        bool seen = false;
        for (const pft::Slice& s : slices_of(trace, "oncpu"))
            if (trace.track(s.track).tid == 102) {
                seen = true;
                CHECK(s.ts == 75'001);
                CHECK(s.dur == 5'122);
            }
        CHECK(seen);
    }

    SECTION("events are in time order") {
        uint64_t last = 0;
        for (const pft::Event& e : trace.events) {
            CHECK(e.ts >= last);
            last = e.ts;
        }
    }

    SECTION("instants: creation, exec, exit") {
        std::map<std::pair<uint32_t, std::string>, const pft::Event*> instants;  // (tid, name) -> event
        for (const pft::Event& e : trace.instants) {
            if (e.name == "cxtrace run") continue;
            CHECK(has_category(e.categories, "lifecycle"));
            const pft::Track& t = trace.track(e.track);
            CHECK(instants.emplace(std::make_pair(uint32_t(t.tid), e.name), &e).second);
        }
        const pft::Event& created = *instants.at({102, "created (process)"});
        CHECK(trace.track(created.track).pid == 102);
        CHECK(created.ts == 71 * kUs);
        const pft::Args& args = created.args;
        CHECK(string_arg(args, "kind") == "process");
        CHECK(string_arg(args, "mm") == "mm" + std::to_string(only_task(model, 102).mm));
        REQUIRE(args.at("latency_ns").kind == pft::Value::Dict);
        CHECK(args.at("latency_ns").dict.at("syscall").i == 3 * kUs);
        CHECK(args.at("latency_ns").dict.at("first_run").i == 75'001 - 70'000);
        CHECK(string_arg(args, "clone_flags") == "0x1200011");
        CHECK(string_arg(args, "creation_syscall") == "clone");
        CHECK(int_arg(args, "ppid") == kRoot);
        CHECK(int_arg(args, "parent_pid") == kRoot);

        const pft::Event& thread = *instants.at({101, "created (thread)"});
        CHECK(trace.track(thread.track).pid == kRoot);
        CHECK(string_arg(thread.args, "kind") == "thread");
        REQUIRE(instants.count({103, "created (process)"}) == 1);
        // A null (never ran) is left out.
        CHECK(instants.at({103, "created (process)"})->args.at("latency_ns").dict.count("first_run") == 0);
        CHECK(instants.count({kRoot, "created (root)"}) == 0);  // its creation was before tracing

        // Basename: after the last '/', here the one in "</script>".
        const std::string exec_name = "exec " + as_written("script><b>\"x\\y\xff\xfe");
        REQUIRE(instants.count({kRoot, exec_name}) == 1);
        const pft::Event& exec = *instants.at({kRoot, exec_name});
        CHECK(exec.ts == 20 * kUs);
        CHECK(string_arg(exec.args, "filename") == as_written(kHostileFile));
        REQUIRE(exec.args.at("argv").kind == pft::Value::Array);
        const auto& argv = exec.args.at("argv").items;
        REQUIRE(argv.size() == kHostileArgv.size());
        for (size_t i = 0; i < kHostileArgv.size(); ++i) CHECK(argv[i].s == as_written(kHostileArgv[i]));
        CHECK(string_arg(exec.args, "mm") == "mm" + std::to_string(only_task(model, kRoot).execs.at(0).mm));

        const pft::Event& killed = *instants.at({102, "exit (signal 9)"});
        CHECK(killed.ts == 80 * kUs);
        CHECK(int_arg(killed.args, "exit_signal") == 9);
        CHECK(killed.args.count("exit_code") == 0);  // null: left out
        CHECK(int_arg(instants.at({104, "exit (code 3)"})->args, "exit_code") == 3);
        CHECK(instants.count({101, "exit (code 0)"}) == 1);
        CHECK(instants.count({103, "exit (code 0)"}) == 0);  // never exited
    }

    SECTION("flows pair up and point from the creator's slice to the created task's first one") {
        std::map<uint64_t, FlowPoint> starts, ends;
        collect_flows(trace, starts, ends);
        REQUIRE(starts.size() == 5);  // every task but the root
        REQUIRE(ends.size() == starts.size());

        // child tid -> (creator pid, creator tid, flow start ts, flow end ts)
        std::map<uint32_t, std::tuple<uint32_t, uint32_t, uint64_t, uint64_t>> arrows;
        for (const auto& [id, s] : starts) {
            REQUIRE(ends.count(id) == 1);
            const FlowPoint& f = ends.at(id);
            CHECK(s.ts <= f.ts);
            arrows[f.tid] = {s.pid, s.tid, s.ts, f.ts};
            CHECK(f.pid == only_task(model, f.tid).tgid);
            // The start is on the creator's on-CPU slice that encloses the creation.
            CHECK(s.event->type == 1);
            CHECK(has_category(s.event->categories, "oncpu"));
            const TaskRecord& child = only_task(model, f.tid);
            bool encloses = false;
            for (const pft::Slice& x : slices_of(trace, "oncpu"))
                if (x.track == s.event->track && x.ts == s.ts)
                    encloses = x.ts <= *child.created_ns && *child.created_ns <= x.ts + x.dur;
            CHECK(encloses);
        }
        using A = std::tuple<uint32_t, uint32_t, uint64_t, uint64_t>;
        // Creator slices: root [5, 100) us; thread 101 [40, 60) us; 102 [75.001, 80.123) us.
        CHECK(arrows.at(101) == A{kRoot, kRoot, 5 * kUs, 40 * kUs});
        CHECK(arrows.at(106) == A{kRoot, 101, 40 * kUs, 47 * kUs});  // from the thread's own track
        CHECK(arrows.at(102) == A{kRoot, kRoot, 5 * kUs, 75'001});
        CHECK(arrows.at(104) == A{102, 102, 75'001, 90'007});
        CHECK(arrows.at(103) == A{kRoot, kRoot, 5 * kUs, 85 * kUs});  // never ran: to its "created" instant
        CHECK(ends.at(starts.rbegin()->first).event != nullptr);
        for (const auto& [id, f] : ends)
            CHECK(f.event->type == (f.tid == 103 ? 3 : 1));
    }
}

namespace {

std::string run_capture(const std::string& command, int& status) {
    std::string output;
    FILE* pipe = popen(command.c_str(), "r");
    REQUIRE(pipe != nullptr);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) output.append(buf, n);
    status = pclose(pipe);
    return output;
}

// protoc's text decoding of the model's perfetto.pftrace against
// tests/support/perfetto_subset.proto: an independent witness (protoc is
// the Debian package protobuf-compiler, installed by scripts/install-deps;
// missing, the test fails). Checks every field is known to the schema.
std::string protoc_text(const RunModel& model) {
    int status = 0;
    const std::string protoc = run_capture("command -v protoc", status);
    if (status != 0 || protoc.empty())
        FAIL("protoc not found: install the Debian package protobuf-compiler (scripts/install-deps)");
    char path[] = "/tmp/cxtrace-pftrace-XXXXXX";
    const int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    close(fd);
    {
        std::ofstream file(path, std::ios::binary);
        file << render_perfetto_trace(model);
    }
    const std::string dir = CXTRACE_TEST_SUPPORT;
    const std::string text = run_capture("protoc --proto_path='" + dir + "' --decode=perfetto.protos.Trace '" + dir +
                                             "/perfetto_subset.proto' < '" + std::string(path) + "' 2>&1",
                                         status);
    std::remove(path);
    INFO(text.substr(0, 4000));
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    // protoc prints fields the schema does not know by number.
    std::istringstream lines(text);
    std::string line;
    size_t unknown = 0, packets = 0;
    while (std::getline(lines, line)) {
        const size_t first = line.find_first_not_of(' ');
        if (first != std::string::npos && std::isdigit(static_cast<unsigned char>(line[first]))) ++unknown;
        if (line == "packet {") ++packets;
    }
    CHECK(unknown == 0);
    CHECK(packets > 0);
    return text;
}

}  // namespace

TEST_CASE("perfetto.pftrace: a task's time off a CPU is slices on its track, named by what it waited in", "[perfetto]") {
    const RunModel model = thread_story().correlate(test_end(at(300 * kUs)));
    const pft::Trace trace = decode(render_perfetto_trace(model));
    const uint64_t track = thread_track(trace, kRoot, kThread).uuid;
    struct Expected {
        uint64_t ts, dur;
        std::string name, woken_by;
    };
    const std::string root = only_task(model, kRoot).comm + " " + std::to_string(kRoot);
    const std::vector<Expected> expected = {
        {21 * kUs, 9 * kUs, "Runnable", ""},
        {50 * kUs, 30 * kUs, "Sleeping: futex lock1", root},
        {80 * kUs, 10 * kUs, "Runnable", ""},
        {100 * kUs, 20 * kUs, "Runnable", ""},  // preempted
        {130 * kUs, 20 * kUs, "Blocked: read", "outside the trace"},
        {150 * kUs, 10 * kUs, "Runnable", ""},
        {170 * kUs, 30 * kUs, "Sleeping: clock_nanosleep", "outside the trace"},  // a timer, not the root it interrupted
        {200 * kUs, 10 * kUs, "Runnable", ""},
    };
    std::vector<pft::Slice> states;
    for (const pft::Slice& s : slices_of(trace, "state")) {
        if (s.track == track) states.push_back(s);
        else CHECK(trace.track(s.track).tid != kRoot);  // the root never left its CPU
    }
    std::sort(states.begin(), states.end(), [](const pft::Slice& a, const pft::Slice& b) { return a.ts < b.ts; });
    REQUIRE(states.size() == expected.size());
    for (size_t k = 0; k < expected.size(); ++k) {
        INFO("state slice " << k << ": " << states[k].name);
        CHECK(states[k].ts == expected[k].ts);
        CHECK(states[k].dur == expected[k].dur);
        CHECK(states[k].name == expected[k].name);
        if (expected[k].woken_by.empty()) CHECK(states[k].args.empty());
        else CHECK(string_arg(states[k].args, "woken by") == expected[k].woken_by);
    }
    // With the on-CPU slices they tile the thread's traced life: no gap, no overlap.
    std::vector<std::pair<uint64_t, uint64_t>> pieces;
    for (const pft::Slice& s : trace.slices)
        if (s.track == track) pieces.emplace_back(s.ts, s.ts + s.dur);
    std::sort(pieces.begin(), pieces.end());
    REQUIRE(pieces.size() == states.size() + 5);
    CHECK(pieces.front().first == 21 * kUs);
    CHECK(pieces.back().second == 220 * kUs);
    for (size_t k = 1; k < pieces.size(); ++k) CHECK(pieces[k].first == pieces[k - 1].second);

    SECTION("protoc reads the interned waker names with the upstream field numbers") {
        const std::string text = protoc_text(model);
        // Each waker's text is sent once; the slices refer to it by id.
        for (const std::string& waker : {root, std::string("outside the trace")}) {
            const std::string entry = "str: \"" + waker + "\"";
            INFO(entry);
            CHECK(text.find(entry) != std::string::npos);
            CHECK(text.find(entry) == text.rfind(entry));
        }
        CHECK(text.find("string_value_iid: ") != std::string::npos);
    }
}

TEST_CASE("perfetto.pftrace: a creator is the task alive with that pid at the time", "[perfetto]") {
    // Process 102 is created, exits; pid 102 is reused by a second process,
    // which creates 103. The arrow to 103 starts on the second 102's
    // slice, which holds 103's creation.
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

    const pft::Trace trace = decode(render_perfetto_trace(model));
    std::map<uint64_t, FlowPoint> starts, ends;
    collect_flows(trace, starts, ends);
    bool found = false;
    for (const auto& [id, f] : ends)
        if (f.tid == 103) {
            found = true;
            REQUIRE(starts.count(id) == 1);
            const FlowPoint& start = starts.at(id);
            CHECK(start.tid == 102);
            // The second 102's slice [21, 30) us, not the first's [11, 13).
            CHECK(start.ts == 21 * kUs);
            bool enclosed = false;
            for (const pft::Slice& x : slices_of(trace, "oncpu"))
                if (trace.track(x.track).tid == 102 && x.ts == start.ts) {
                    enclosed = x.ts <= 25 * kUs && x.ts + x.dur >= 25 * kUs;
                }
            CHECK(enclosed);
        }
    CHECK(found);
}

TEST_CASE("perfetto.pftrace: hostile strings from the traced program stay valid UTF-8", "[perfetto]") {
    const std::vector<std::string> nasty = {
        "\"",         "\\",        "</script>",  "<!--",           std::string("\0nul", 4), "\x01\x02\x1f\x7f",
        "\n\r\t\b\f", "\xff\xfe",  "\xc3\x28",   "\xe2\x82",       "\xf0\x9f\x98",          "\xed\xa0\x80",
        "ok \xe2\x9c\x93", "{\"traceEvents\":[", "]}", "\xc0\xaf", "\xf4\x90\x80\x80",
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
    for (const std::string& s : nasty) CHECK(valid_utf8(s) == as_written(s));
    // The decoder rejects any string field that is not valid UTF-8.
    const pft::Trace trace = decode(render_perfetto_trace(model));
    const pft::Event* run = nullptr;
    for (const pft::Event& e : trace.instants)
        if (e.name == "cxtrace run") run = &e;
    REQUIRE(run != nullptr);
    const json facts = json::parse(run->args.at("run").s);  // strict: invalid UTF-8 would throw
    CHECK(facts.at("command").size() == nasty.size());
    CHECK(facts.at("workload") == as_written(model.run.workload));
    for (size_t i = 0; i < nasty.size(); ++i) {
        INFO("string " << i);
        const uint32_t pid = static_cast<uint32_t>(200 + i);
        CHECK(process_track(trace, pid).process_name == as_written(nasty[i]));
        const pft::Event* exec = nullptr;
        for (const pft::Event& e : trace.instants)
            if (trace.track(e.track).tid == int32_t(pid) && e.name.rfind("exec ", 0) == 0) exec = &e;
        REQUIRE(exec != nullptr);
        CHECK(exec->args.at("filename").s == as_written("/x/" + nasty[i]));
        REQUIRE(exec->args.at("argv").items.size() == nasty.size());
        for (size_t k = 0; k < nasty.size(); ++k) CHECK(exec->args.at("argv").items[k].s == as_written(nasty[k]));
    }
    CHECK(slices_of(trace, "oncpu").size() == nasty.size());
    CHECK(trace.instants.size() == 1 + 3 * nasty.size() - 1);  // the run; the root: no creation
}

TEST_CASE("perfetto.pftrace of the recorded process-vs-thread -n 5 run", "[perfetto]") {
    auto result = correlate_trace_file(CXTRACE_TEST_DATA "/process-vs-thread-n5.cxt");
    INFO((result ? std::string("ok") : result.error().message()));
    REQUIRE(result.ok());
    const RunModel& model = result.value();
    const pft::Trace trace = decode(render_perfetto_trace(model));

    // Per track (a reused pid shares one): slices add up to the tasks' oncpu_ns, exactly.
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
        CHECK(per_task.at(track).first == ns);
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
    CHECK(total_cpu == total_task);
    CHECK(slices == model.intervals.size());

    // Every created task has an arrow from the root.
    std::map<uint64_t, FlowPoint> starts, ends;
    collect_flows(trace, starts, ends);
    for (const auto& [id, s] : starts) CHECK(s.tid == model.run.root_pid);
    CHECK(starts.size() == model.tasks.size() - 1);
    CHECK(ends.size() == starts.size());
}

TEST_CASE("perfetto.pftrace: protoc decodes it with the upstream field numbers", "[perfetto][protoc]") {
    const RunModel model = perfetto_model();
    const std::string text = protoc_text(model);
    std::string line;
    INFO(text.substr(0, 4000));

    auto has = [&](const std::string& needle) {
        INFO("looking for: " << needle);
        CHECK(text.find(needle) != std::string::npos);
    };
    has("sequence_flags: 1\n");
    has("trusted_packet_sequence_id: 1\n");
    has("interned_data {");
    has("event_names {");
    has("track_descriptor {");
    has("process_name: \"CPUs\"");
    has("process_name: \"victim\"");
    has("thread_name: \"victim [process]\"");
    has("thread_name: \"CPU 3\"");
    has("pid: " + std::to_string(kPerfettoCpuPid));
    has("tid: " + std::to_string(perfetto_cpu_tid(3)));
    has("type: TYPE_SLICE_BEGIN");
    has("type: TYPE_SLICE_END");
    has("type: TYPE_INSTANT");
    // Delta timestamps: the default clock is the sequence's clock 64, incremental from 0.
    has("trace_packet_defaults {\n    timestamp_clock_id: 64\n  }");
    // Summed here from protoc's text, independently of the tests' decoder,
    // the deltas give 102's switch-in at 75.001 us and its switch-out at
    // 80.123 us among the packets' times.
    std::set<uint64_t> times;
    {
        std::istringstream packets(text);
        uint64_t now = 0;
        const std::string key = "  timestamp: ";  // TracePacket.timestamp: two spaces in
        while (std::getline(packets, line))
            if (line.rfind(key, 0) == 0) times.insert(now += std::stoull(line.substr(key.size())));
    }
    CHECK(times.count(75'001) == 1);
    CHECK(times.count(80'123) == 1);
    CHECK(times.count(101'234) == 1);
    // One annotation name is interned, once: the wait slices' "woken by".
    CHECK(text.find("debug_annotation_names") == text.rfind("debug_annotation_names"));
    has("debug_annotation_names {\n      iid: 1\n      name: \"woken by\"\n    }");
    has("clock_id: 64\n      timestamp: 0\n      is_incremental: true");
    has("clock_id: 6\n      timestamp: 0\n");
    has("name: \"created (process)\"");
    has("name: \"exit (signal 9)\"");
    has("flow_ids: ");
    has("terminating_flow_ids: ");
    has("nested_type: ARRAY");
    has("nested_type: DICT");
    has("legacy_json_value: ");
    has("categories: \"lifecycle\"");
    has("category_iids: 1");
}
