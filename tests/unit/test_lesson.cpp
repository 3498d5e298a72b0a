// --from-exec: a launcher's tasks (a wrapper script's readlink and dirname)
// are left out of the lesson's figures; without it, the launcher is
// detected and the option suggested. On synthetic streams.
#include <catch2/catch.hpp>

#include "event_builder.h"
#include "findings.h"
#include "json_report.h"
#include "lesson.h"
#include "scope_note.h"
#include "text_summary.h"

using namespace cxt;
using namespace cxt::test;
using Catch::Matchers::Contains;
using nlohmann::json;

namespace {

// The creator (on `cpu`) forks `pid` (its own address space mm_id) at t;
// the syscall returns 3 us later.
void fork_process(StreamBuilder& s, uint64_t t, uint32_t creator, uint16_t cpu, uint32_t pid, uint32_t mm_id,
                  uint32_t creator_mm_id, const std::string& comm) {
    NewTask child;
    child.pid = child.tgid = pid;
    child.ppid = creator;
    child.mm_id = mm_id;
    child.creator_mm_id = creator_mm_id;
    child.comm = comm;
    s.add(syscall_enter(at(t), creator, creator, cpu, CXT_SYS_CLONE, creator_mm_id, kForkFlags));
    s.add(task_new(at(t + 1 * kUs), creator, creator, cpu, child));
    s.add(syscall_exit(at(t + 3 * kUs), creator, creator, cpu, CXT_SYS_CLONE, pid));
}

void start_thread(StreamBuilder& s, uint64_t t, uint32_t creator, uint16_t cpu, uint32_t pid, uint32_t mm_id) {
    NewTask child;
    child.pid = pid;
    child.tgid = creator;
    child.ppid = kLauncher;
    child.clone_flags = kPthreadFlags;
    child.mm_id = child.creator_mm_id = mm_id;
    child.comm = "worker";
    s.add(syscall_enter(at(t), creator, creator, cpu, CXT_SYS_CLONE3, mm_id));
    s.add(task_new(at(t + 1 * kUs), creator, creator, cpu, child));
    s.add(syscall_exit(at(t + 3 * kUs), creator, creator, cpu, CXT_SYS_CLONE3, pid));
}

void exec_program(StreamBuilder& s, uint64_t t, uint32_t pid, uint16_t cpu, const std::string& path, uint32_t mm_id) {
    ExecSpec spec;
    spec.filename = path;
    spec.comm = path.substr(path.rfind('/') + 1);
    spec.argv = {spec.comm};
    spec.mm_id = mm_id;
    s.add(exec(at(t), pid, pid, cpu, spec));
}

// A helper process of the wrapper: forked at t, runs on CPU 1 for 10 us,
// execs `path` and exits.
void helper(StreamBuilder& s, uint64_t t, uint32_t pid, uint32_t mm_id, const std::string& path) {
    fork_process(s, t, kRoot, 0, pid, mm_id, 8, "wrapper.sh");
    s.add(switch_in(at(t + 10 * kUs), 1, pid, pid));
    exec_program(s, t + 12 * kUs, pid, 1, path, mm_id + 100);
    s.add(exit(at(t + 18 * kUs), pid, pid, 1, 0));
    s.add(switch_out(at(t + 20 * kUs), 1, pid, pid, kTaskDead));
}

// The root (on CPU 0 from 5 us to 400 us) execs wrapper.sh at 10 us, which
// runs readlink (101) and dirname (102), then execs python3 at 100 us.
// Python starts thread 103 (CPU 1, 120-300 us) and forks 104 (CPU 2,
// 160-200 us). The trace ends at 500 us.
StreamBuilder shim_story() {
    StreamBuilder s;
    s.add(switch_in(at(5 * kUs), 0, kRoot, kRoot));
    s.add(syscall_enter(at(8 * kUs), kRoot, kRoot, 0, CXT_SYS_EXECVE, 7));
    exec_program(s, 10 * kUs, kRoot, 0, "/opt/shims/wrapper.sh", 8);
    helper(s, 20 * kUs, 101, 9, "/usr/bin/readlink");
    helper(s, 50 * kUs, 102, 10, "/usr/bin/dirname");
    exec_program(s, 100 * kUs, kRoot, 0, "/usr/bin/python3", 12);
    start_thread(s, 110 * kUs, kRoot, 0, 103, 12);
    s.add(switch_in(at(120 * kUs), 1, 103, kRoot));
    fork_process(s, 150 * kUs, kRoot, 0, 104, 13, 12, "python3");
    s.add(switch_in(at(160 * kUs), 2, 104, 104));
    s.add(exit(at(199 * kUs), 104, 104, 2, 0));
    s.add(switch_out(at(200 * kUs), 2, 104, 104, kTaskDead));
    s.add(exit(at(299 * kUs), 103, kRoot, 1, 0, false));
    s.add(switch_out(at(300 * kUs), 1, 103, kRoot, kTaskDead));
    s.add(switch_out(at(400 * kUs), 0, kRoot, kRoot));
    return s;
}

RunModel correlate_from(const StreamBuilder& s, const std::string& from_exec) {
    TraceMeta meta = test_meta();
    meta.from_exec = from_exec;
    return s.correlate(test_end(at(500 * kUs)), meta);
}

std::vector<std::string> texts(const RunModel& model) {
    std::vector<std::string> out;
    for (const Finding& finding : findings(model)) out.push_back(finding.text);
    return out;
}

bool any_contains(const std::vector<std::string>& lines, const std::string& needle) {
    for (const std::string& line : lines)
        if (line.find(needle) != std::string::npos) return true;
    return false;
}

}  // namespace

TEST_CASE("exec_matches a file's basename, the comm the kernel cut, or a whole path", "[lesson]") {
    ExecRecord exec;
    exec.filename = "/home/me/.pyenv/versions/3.11.4/bin/python3.11";
    exec.comm = "python3.11";
    CHECK(exec_matches(exec, "python3.11"));
    CHECK(exec_matches(exec, "/home/me/.pyenv/versions/3.11.4/bin/python3.11"));
    CHECK_FALSE(exec_matches(exec, "python3"));  // a name, not a prefix
    CHECK_FALSE(exec_matches(exec, "/usr/bin/python3.11"));
    CHECK_FALSE(exec_matches(exec, ""));

    exec.filename = "/usr/local/bin/a-very-long-program-name";
    exec.comm = "a-very-long-pro";  // TASK_COMM_LEN - 1 bytes
    CHECK(exec_matches(exec, "a-very-long-program-name"));
    exec.filename_truncated = true;  // then only the comm can tell
    exec.filename = "/usr/local/bin/a-very-lo";
    CHECK(exec_matches(exec, "a-very-long-program-name"));
    CHECK_FALSE(exec_matches(exec, "a-very-lo"));
}

TEST_CASE("with --from-exec, a wrapper's helpers are left out of the lesson's figures", "[lesson]") {
    const StreamBuilder story = shim_story();
    const RunModel whole = correlate_from(story, "");
    const RunModel lesson = correlate_from(story, "python3");

    SECTION("the whole run counts the helpers") {
        CHECK(whole.summary.tasks == 5);
        CHECK(whole.summary.processes == 4);
        CHECK(whole.summary.first_run_latency.at("process").count == 3);
        CHECK(whole.summary.context_switches == 5);
        CHECK_FALSE(whole.run.lesson.matched);
        for (const TaskRecord& task : whole.tasks) CHECK_FALSE(task.launcher);
    }
    SECTION("the lesson: python3's tasks from its exec on") {
        REQUIRE(lesson.run.lesson.matched);
        CHECK(lesson.run.lesson.task == 0);
        CHECK(lesson.run.lesson.exec == 1);
        CHECK(lesson.run.lesson.start_ns == 100 * kUs);
        CHECK(lesson.run.lesson.launcher_tasks == 2);
        CHECK(only_task(lesson, 101).launcher);
        CHECK(only_task(lesson, 102).launcher);
        for (uint32_t pid : {kRoot, 103u, 104u}) CHECK_FALSE(only_task(lesson, pid).launcher);
        // Every task stays listed, with its own figures.
        CHECK(lesson.tasks.size() == 5);
        CHECK(only_task(lesson, 101).oncpu_ns == 10 * kUs);

        const Summary& s = lesson.summary;
        CHECK(s.tasks == 3);
        CHECK(s.processes == 2);
        CHECK(s.threads == 1);
        CHECK(s.address_spaces == 2);  // python3's (exec'd) and the forked child's
        CHECK(s.first_run_latency.at("process").count == 1);
        CHECK(s.first_run_latency.at("process").max == 10 * kUs);  // 150 us -> 160 us, not a helper's
        CHECK(s.first_run_latency.at("thread").count == 1);
        CHECK(s.syscall_latency.at("process").count == 1);
        // The root was on CPU 0 since before the lesson: no switch-in of its counts.
        CHECK(s.context_switches == 2);
        CHECK(s.migrations == 0);
        // From 100 us to the end (500 us): root alone, +thread at 120, +child 160-200,
        // thread ends at 300, root at 400.
        const std::map<uint32_t, uint64_t> want{{0, 100 * kUs}, {1, 120 * kUs}, {2, 140 * kUs}, {3, 40 * kUs}};
        CHECK(s.parallelism_ns == want);
        CHECK(s.max_parallelism == 3);
    }
    SECTION("the findings read a view of the lesson's tasks only") {
        const RunModel view = lesson_view(lesson);
        REQUIRE(view.tasks.size() == 3);
        CHECK(view.tasks[0].pid == kRoot);
        CHECK(view.tasks[0].kind == TaskKind::Root);
        CHECK(view.tasks[0].execs.empty());  // wrapper.sh's and python3's execs were the launch
        CHECK(view.tasks[0].mm == lesson.tasks[0].execs[1].mm);
        CHECK(view.tasks[1].pid == 103);
        CHECK(view.tasks[2].pid == 104);
        CHECK(view.run.duration_ns == 400 * kUs);
        // The phases count only the lesson's creations, as the summary does.
        uint64_t created_in_phases = 0, created_in_whole = 0;
        for (const Phase& phase : lesson.phases)
            for (const auto& [kind, n] : phase.created) created_in_phases += n;
        for (const Phase& phase : whole.phases)
            for (const auto& [kind, n] : phase.created) created_in_whole += n;
        CHECK(created_in_phases == 2);  // 103 and 104, not the wrapper's readlink and dirname
        CHECK(created_in_whole == 4);

        const auto whole_lines = texts(whole);
        const auto lesson_lines = texts(lesson);
        CHECK(any_contains(whole_lines, "5 tasks formed 4 thread groups"));
        CHECK(any_contains(lesson_lines, "3 tasks formed 2 thread groups"));
        // python3's and the helpers' execs; the launcher's exec of wrapper.sh is not the program's.
        CHECK(any_contains(whole_lines, "3 execs each replaced"));
        CHECK_FALSE(any_contains(lesson_lines, "replaced"));  // the execs of wrapper.sh, the helpers and python3 were the launch
    }
    SECTION("report.json labels the launcher's tasks and records the scope") {
        const json report = report_json(lesson);
        CHECK(report.at("run").at("lesson").at("from_exec") == "python3");
        CHECK(report.at("run").at("lesson").at("matched") == true);
        CHECK(report.at("run").at("lesson").at("start_ns") == 100 * kUs);
        CHECK(report.at("run").at("lesson").at("launcher_tasks") == 2);
        CHECK(report.at("run").at("launcher_hint").is_null());
        CHECK(report.at("summary").at("tasks") == 3);
        for (const json& task : report.at("tasks"))
            CHECK(task.at("launcher") == (task.at("pid") == 101 || task.at("pid") == 102));
        const std::string note = report.at("run").at("scope_note").get<std::string>();
        CHECK_THAT(note, Contains("from the exec of python3 by task 100 at 100.0 us") &&
                             Contains("2 tasks of the launcher (1 dirname, 1 readlink) are listed"));
        CHECK(report_json(whole).at("run").at("lesson").is_null());
    }
    SECTION("the terminal summary says so") {
        CHECK_THAT(render_text_summary(lesson), Contains("launcher: The figures cover the lesson") &&
                                                    Contains("tasks: 3 (2 processes"));
    }
}

TEST_CASE("without --from-exec, a command that execs after running helpers gets the option suggested", "[lesson]") {
    const RunModel model = correlate_from(shim_story(), "");
    REQUIRE(model.run.launcher_hint);
    CHECK(model.run.launcher_hint->program == "python3");
    CHECK(model.run.launcher_hint->tasks_before == 2);
    CHECK(model.run.launcher_hint->comms == std::map<std::string, uint64_t>{{"dirname", 1}, {"readlink", 1}});
    auto note = scope_note(model);
    REQUIRE(note);
    CHECK_THAT(*note, Contains("Before it exec'd python3, the command ran 2 other tasks (1 dirname, 1 readlink)") &&
                          Contains("cxtrace report --from-exec python3 trace.cxt"));
    CHECK(report_json(model).at("run").at("launcher_hint").at("option") == "--from-exec python3");

    SECTION("not for a command that execs nothing else, or execs without running anything first") {
        StreamBuilder plain;
        plain.add(switch_in(at(5 * kUs), 0, kRoot, kRoot));
        exec_program(plain, 10 * kUs, kRoot, 0, "/usr/bin/python3", 8);
        fork_process(plain, 20 * kUs, kRoot, 0, 101, 9, 8, "python3");
        CHECK_FALSE(correlate_from(plain, "").run.launcher_hint);
        exec_program(plain, 40 * kUs, kRoot, 0, "/usr/bin/env", 10);  // after a child: suggested
        CHECK(correlate_from(plain, "").run.launcher_hint);

        StreamBuilder wrapper_only;
        wrapper_only.add(switch_in(at(5 * kUs), 0, kRoot, kRoot));
        exec_program(wrapper_only, 10 * kUs, kRoot, 0, "/bin/wrapper.sh", 8);
        exec_program(wrapper_only, 20 * kUs, kRoot, 0, "/usr/bin/python3", 9);
        CHECK_FALSE(correlate_from(wrapper_only, "").run.launcher_hint);
        CHECK_FALSE(scope_note(correlate_from(wrapper_only, "")));
    }
    SECTION("a name a shell would split is quoted") {
        CHECK(from_exec_option("my prog") == "--from-exec 'my prog'");
        CHECK(from_exec_option("it's") == "--from-exec 'it'\\''s'");
        CHECK(from_exec_option("python3.11") == "--from-exec python3.11");
    }
}

TEST_CASE("with --from-exec of a program that never ran, the whole run, and a note saying so", "[lesson]") {
    const StreamBuilder story = shim_story();
    const RunModel whole = correlate_from(story, "");
    const RunModel missed = correlate_from(story, "ruby");
    CHECK_FALSE(missed.run.lesson.matched);
    CHECK(missed.run.lesson.from_exec == "ruby");
    CHECK(report_json(missed).at("summary") == report_json(whole).at("summary"));
    auto note = scope_note(missed);
    REQUIRE(note);
    CHECK_THAT(*note, Contains("No exec of ruby was seen (--from-exec ruby): the figures cover the whole run.") &&
                          Contains("--from-exec python3"));
    CHECK(report_json(missed).at("run").at("lesson").at("matched") == false);
}

TEST_CASE("a lesson that starts in a child of the launcher", "[lesson]") {
    // A shell that runs readlink (101), then python3 as a child (102, which
    // starts thread 103) and waits for it; after python3 began, it forks
    // another helper (104): still the launcher's.
    StreamBuilder s;
    s.add(switch_in(at(5 * kUs), 0, kRoot, kRoot));
    exec_program(s, 10 * kUs, kRoot, 0, "/bin/bash", 8);
    helper(s, 20 * kUs, 101, 9, "/usr/bin/readlink");
    fork_process(s, 50 * kUs, kRoot, 0, 102, 10, 8, "bash");
    s.add(switch_out(at(55 * kUs), 0, kRoot, kRoot, 1));
    s.add(switch_in(at(60 * kUs), 0, 102, 102));
    exec_program(s, 70 * kUs, 102, 0, "/usr/bin/python3", 11);
    start_thread(s, 80 * kUs, 102, 0, 103, 11);
    s.add(switch_in(at(90 * kUs), 1, 103, 102));
    s.add(exit(at(99 * kUs), 103, 102, 1, 0, false));
    s.add(switch_out(at(100 * kUs), 1, 103, 102, kTaskDead));
    s.add(exit(at(110 * kUs), 102, 102, 0, 0));
    s.add(switch_between(at(120 * kUs), 0, 102, 102, kRoot, kRoot));
    fork_process(s, 130 * kUs, kRoot, 0, 104, 12, 8, "bash");

    const RunModel model = correlate_from(s, "python3");
    REQUIRE(model.run.lesson.matched);
    CHECK(model.tasks[model.run.lesson.task].pid == 102);
    CHECK(model.run.lesson.start_ns == 70 * kUs);
    for (uint32_t pid : {kRoot, 101u, 104u}) CHECK(only_task(model, pid).launcher);
    for (uint32_t pid : {102u, 103u}) CHECK_FALSE(only_task(model, pid).launcher);
    const Summary& summary = model.summary;
    CHECK(summary.tasks == 2);
    CHECK(summary.processes == 1);
    CHECK(summary.threads == 1);
    CHECK(summary.address_spaces == 1);
    // python3's own creation (a fork of the shell) was the launcher's.
    CHECK(summary.first_run_latency.count("process") == 0);
    CHECK(summary.first_run_latency.at("thread").count == 1);
    // 102 was switched in at 60 us, before its exec: only the thread's switch-in counts.
    CHECK(summary.context_switches == 1);
    const auto lines = texts(model);
    CHECK(any_contains(lines, "2 tasks formed 1 thread group (process)"));
}

TEST_CASE("the --from-exec choice is kept in trace.cxt, and cxtrace report can replace it", "[lesson][trace]") {
    TempDir dir;
    const std::string path = dir.file("run.cxt");
    TraceMeta meta = test_meta();
    meta.from_exec = "python3";
    write_trace(path, meta, shim_story().records(), test_end(at(500 * kUs)));

    auto recorded = correlate_trace_file(path);
    REQUIRE(recorded.ok());
    CHECK(recorded->run.lesson.matched);
    CHECK(recorded->summary.tasks == 3);

    auto whole = correlate_trace_file(path, std::string());
    REQUIRE(whole.ok());
    CHECK(whole->run.lesson.from_exec.empty());
    CHECK(whole->summary.tasks == 5);
    CHECK(whole->run.launcher_hint);

    auto other = correlate_trace_file(path, std::string("readlink"));
    REQUIRE(other.ok());
    CHECK(other->run.lesson.matched);
    CHECK(other->tasks[other->run.lesson.task].pid == 101);
    CHECK(other->summary.tasks == 1);

    // A trace without the key (older, or a plain run) is the whole run.
    write_trace(dir.file("plain.cxt"), test_meta(), shim_story().records(), test_end(at(500 * kUs)));
    auto plain = correlate_trace_file(dir.file("plain.cxt"));
    REQUIRE(plain.ok());
    CHECK(plain->run.lesson.from_exec.empty());
    CHECK(plain->summary.tasks == 5);
}
