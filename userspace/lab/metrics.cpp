#include "metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

#include "lesson.h"

namespace cxt::lab {

namespace {

enum class Arg { Kind, Stat, State, Task };

struct Entry {
    MetricInfo info;
    size_t min_args, max_args;
    std::vector<Arg> arg_types;  // by position
};

const char* const kKinds[] = {"root", "process", "thread", "vfork", "shared-vm"};
const char* const kStats[] = {"p50", "min", "p90", "max", "count"};
const char* const kStates[] = {"running", "runnable", "sleeping", "blocked", "other"};

const std::vector<Entry>& entries() {
    static const std::vector<Entry> table = {
        {{"tasks", "", "", true, "tasks in the lesson (with @phase: created in the phase)"}, 0, 0, {}},
        {{"processes", "", "", false, "processes: distinct thread groups (tgids)"}, 0, 0, {}},
        {{"threads", "", "", false, "tasks created as threads (CLONE_THREAD)"}, 0, 0, {}},
        {{"address_spaces", "", "", false,
          "distinct address spaces the programs ran in: each created task's, each exec's, and the root's own "
          "only when it never exec'd"},
         0, 0, {}},
        {{"created", "KIND", "", true, "tasks created of KIND (process, thread, vfork, shared-vm)"}, 1, 1, {Arg::Kind}},
        {{"first_run_us", "KIND[:STAT]", "µs", true,
          "creation latency to first run of tasks of KIND: STAT p50 (default), min, p90, max or count"},
         1, 2, {Arg::Kind, Arg::Stat}},
        {{"syscall_us", "KIND[:STAT]", "µs", true, "creation syscall latency (what the creator pays) of KIND"},
         1, 2, {Arg::Kind, Arg::Stat}},
        {{"max_parallelism", "", "", true, "the most traced tasks on CPUs at one instant"}, 0, 0, {}},
        {{"avg_parallelism", "", "", true,
          "average number of traced tasks on CPUs while at least one was (time-weighted)"}, 0, 0, {}},
        {{"parallel_share", "", "%", true, "share of the busy time with two or more traced tasks on CPUs"}, 0, 0, {}},
        {{"cpus_used", "", "", false, "distinct CPUs the lesson's tasks ran on"}, 0, 0, {}},
        {{"migrations", "", "", false, "times a task resumed on another CPU than where it last ran"}, 0, 0, {}},
        {{"duration_ms", "", "ms", true, "length of the lesson (with @phase: of the phase)"}, 0, 0, {}},
        {{"oncpu_ms", "[KIND]", "ms", true, "on-CPU time of the lesson's tasks (of KIND; @phase: all kinds)"},
         0, 1, {Arg::Kind}},
        {{"cpu_time_ms", "[KIND]", "ms", true, "CPU time (the kernel's clock) of the lesson's tasks (of KIND)"},
         0, 1, {Arg::Kind}},
        {{"state_share", "STATE[:KIND]", "%", true,
          "share of the tasks' lives (of KIND) spent in STATE: running, runnable, sleeping, blocked, other"},
         1, 2, {Arg::State, Arg::Kind}},
        {{"state_ms", "STATE[:KIND]", "ms", true, "time the tasks (of KIND) spent in STATE, summed over tasks"},
         1, 2, {Arg::State, Arg::Kind}},
        {{"locks", "", "", false, "futex words traced tasks waited on (locks, conditions, joins)"}, 0, 0, {}},
        {{"lock_waits", "", "", false, "waits on those futex words"}, 0, 0, {}},
        {{"lock_handovers", "", "", false, "lock waits ended by another traced task's wakeup"}, 0, 0, {}},
        {{"lock_wait_ms", "", "ms", false, "time spent waiting on those futex words"}, 0, 0, {}},
        {{"pid", "TASK", "", false, "the task's pid: what gettid() returns in it"}, 1, 1, {Arg::Task}},
        {{"tid", "TASK", "", false, "the same as pid"}, 1, 1, {Arg::Task}},
        {{"tgid", "TASK", "", false, "the task's thread group id: what getpid() returns in it"}, 1, 1, {Arg::Task}},
        {{"ppid", "TASK", "", false, "what getppid() returns in the task"}, 1, 1, {Arg::Task}},
        {{"mm", "TASK", "", false, "N of the address space mmN the task was created with"}, 1, 1, {Arg::Task}},
        {{"kind", "TASK", "", false, "the task's kind (word): root, process, thread, vfork, shared-vm"}, 1, 1,
         {Arg::Task}},
        {{"exit_code", "TASK", "", false, "the task's exit status (unknown when killed)"}, 1, 1, {Arg::Task}},
        {{"exit_signal", "TASK", "", false, "the signal that killed the task, 0 when it exited"}, 1, 1, {Arg::Task}},
        {{"task_migrations", "TASK", "", false, "the task's migrations"}, 1, 1, {Arg::Task}},
        {{"task_cpus", "TASK", "", false, "distinct CPUs the task ran on"}, 1, 1, {Arg::Task}},
        {{"shares_mm", "TASK:TASK", "", false,
          "yes when both ran in one address space when the later of the two was created, else no"},
         2, 2,
         {Arg::Task, Arg::Task}},
        {{"same_process", "TASK:TASK", "", false, "yes when getpid() is the same in both (one tgid), else no"}, 2, 2,
         {Arg::Task, Arg::Task}},
        {{"parent_is", "TASK:TASK", "", false, "yes when getppid() in the first is getpid() of the second"}, 2, 2,
         {Arg::Task, Arg::Task}},
        {{"is_leader", "TASK", "", false, "yes when gettid() == getpid() in the task (a thread group's leader)"}, 1,
         1, {Arg::Task}},
    };
    return table;
}

const Entry* find_entry(const std::string& name) {
    for (const Entry& e : entries())
        if (name == e.info.name) return &e;
    return nullptr;
}

template <size_t N>
bool one_of(const std::string& word, const char* const (&words)[N]) {
    return std::find_if(std::begin(words), std::end(words), [&](const char* w) { return word == w; }) !=
           std::end(words);
}

std::string trim(const std::string& text) {
    size_t b = text.find_first_not_of(" \t"), e = text.find_last_not_of(" \t");
    return b == std::string::npos ? "" : text.substr(b, e - b + 1);
}

// TASK: root, or KIND#N (the Nth task of that kind, in creation order, from 1).
bool valid_task(const std::string& arg) {
    if (arg == "root") return true;
    size_t hash = arg.find('#');
    if (hash == std::string::npos || hash + 1 >= arg.size() || arg.size() - hash > 7) return false;
    if (!one_of(arg.substr(0, hash), kKinds)) return false;
    return std::all_of(arg.begin() + static_cast<long>(hash) + 1, arg.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
           std::stoul(arg.substr(hash + 1)) >= 1;
}

Result<MetricTerm> parse_term(const std::string& text) {
    MetricTerm term;
    std::string rest = trim(text);
    if (size_t at = rest.find('@'); at != std::string::npos) {
        term.phase = rest.substr(at + 1);
        rest = rest.substr(0, at);
        if (term.phase.empty()) return Error{"'" + text + "': a phase name after @"};
    }
    size_t colon = rest.find(':');
    term.name = rest.substr(0, colon);
    while (colon != std::string::npos) {
        size_t next = rest.find(':', colon + 1);
        term.args.push_back(rest.substr(colon + 1, next == std::string::npos ? std::string::npos : next - colon - 1));
        colon = next;
    }
    const Entry* entry = find_entry(term.name);
    if (!entry) return Error{"unknown metric '" + term.name + "' (the vocabulary is in README, \"Lab sheets\")"};
    if (term.args.size() < entry->min_args || term.args.size() > entry->max_args)
        return Error{"metric '" + term.name + "' takes " +
                     (entry->max_args == 0 ? std::string("no arguments") : std::string(entry->info.args)) + ", in '" +
                     text + "'"};
    if (!term.phase.empty() && !entry->info.phase) return Error{"metric '" + term.name + "' has no @phase form"};
    for (size_t i = 0; i < term.args.size(); ++i) {
        const std::string& arg = term.args[i];
        bool ok = true;
        switch (entry->arg_types[i]) {
            case Arg::Kind: ok = one_of(arg, kKinds); break;
            case Arg::Stat: ok = one_of(arg, kStats); break;
            case Arg::State: ok = one_of(arg, kStates); break;
            case Arg::Task: ok = valid_task(arg); break;
        }
        if (!ok)
            return Error{"'" + arg + "' is not a valid argument of metric '" + term.name + "' (" + entry->info.args +
                         "; KIND: root, process, thread, vfork, shared-vm; TASK: root or KIND#N; STATE: running, "
                         "runnable, sleeping, blocked, other; STAT: p50, min, p90, max, count)"};
    }
    if (!term.phase.empty() && term.name == "oncpu_ms" && !term.args.empty())
        return Error{"metric 'oncpu_ms' with @phase takes no KIND"};
    if (!term.phase.empty() && term.name.rfind("state_", 0) == 0 && term.args.size() == 2)
        return Error{"metric '" + term.name + "' with @phase takes no KIND"};
    return term;
}

Measured unknown(std::string why) {
    Measured m;
    m.why = std::move(why);
    return m;
}
Measured number(double value, std::string unit = "") {
    Measured m;
    m.known = true;
    m.number = value;
    m.unit = std::move(unit);
    return m;
}
Measured word(std::string text) {
    Measured m;
    m.known = true;
    m.is_number = false;
    m.word = std::move(text);
    return m;
}
Measured yes_no(bool yes) { return word(yes ? "yes" : "no"); }

const Phase* find_phase(const RunModel& model, const std::string& name) {
    for (const Phase& p : model.phases)
        if (p.name == name) return &p;
    return nullptr;
}

const TaskRecord* find_task(const RunModel& view, const std::string& selector) {
    if (view.tasks.empty()) return nullptr;
    if (selector == "root") return &view.tasks.front();
    size_t hash = selector.find('#');
    std::string kind = selector.substr(0, hash);
    unsigned long n = std::stoul(selector.substr(hash + 1));
    for (const TaskRecord& task : view.tasks)
        if (kind == task_kind_name(task.kind) && --n == 0) return &task;
    return nullptr;
}

// The address spaces the lesson's programs ran in: each created task's, each
// exec's, and the root's own only when it never exec'd (a root that exec'd
// at once was the launcher's copy, held before the program started).
uint64_t program_address_spaces(const RunModel& view) {
    std::set<uint32_t> spaces;
    for (size_t i = 0; i < view.tasks.size(); ++i) {
        const TaskRecord& task = view.tasks[i];
        if (task.mm && !(i == 0 && !task.execs.empty())) spaces.insert(task.mm);
        for (const ExecRecord& exec : task.execs)
            if (exec.mm) spaces.insert(exec.mm);
    }
    return spaces.size();
}

Measured latency(const std::map<std::string, LatencyStats>& by_kind, const MetricTerm& term) {
    auto found = by_kind.find(term.args[0]);
    std::string stat = term.args.size() > 1 ? term.args[1] : "p50";
    if (stat == "count") return number(found == by_kind.end() ? 0 : static_cast<double>(found->second.count));
    if (found == by_kind.end() || found->second.count == 0)
        return unknown("no " + term.args[0] + " was created" + (term.phase.empty() ? "" : " in phase " + term.phase));
    const LatencyStats& s = found->second;
    uint64_t ns = stat == "min" ? s.min : stat == "p90" ? s.p90 : stat == "max" ? s.max : s.p50;
    return number(static_cast<double>(ns) / 1e3, "µs");
}

Measured parallelism(const std::map<uint32_t, uint64_t>& parallelism_ns, uint32_t max, const std::string& name) {
    if (name == "max_parallelism") return number(max);
    uint64_t busy = 0, weighted = 0, parallel = 0;
    for (const auto& entry : parallelism_ns) {
        if (entry.first >= 1) busy += entry.second, weighted += entry.first * entry.second;
        if (entry.first >= 2) parallel += entry.second;
    }
    if (busy == 0) return unknown("no traced task was on a CPU");
    if (name == "avg_parallelism") return number(static_cast<double>(weighted) / static_cast<double>(busy));
    return number(100.0 * static_cast<double>(parallel) / static_cast<double>(busy), "%");
}

RunState state_of(const std::string& name) {
    for (size_t i = 0; i < kRunStateCount; ++i)
        if (name == kStates[i]) return static_cast<RunState>(i);
    return RunState::Other;
}

Measured states(const StateTimes& times, const MetricTerm& term) {
    uint64_t in = times[state_of(term.args[0])];
    if (term.name == "state_ms") return number(static_cast<double>(in) / 1e6, "ms");
    if (times.total() == 0) return unknown("no traced time");
    return number(100.0 * static_cast<double>(in) / static_cast<double>(times.total()), "%");
}

Measured measure_term(const RunModel& model, const RunModel& view, const MetricTerm& term) {
    const std::string& name = term.name;
    const Phase* phase = nullptr;
    if (!term.phase.empty()) {
        phase = find_phase(model, term.phase);
        if (!phase) return unknown("the run has no phase named " + term.phase);
    }
    const Summary& s = view.summary;
    auto task_arg = [&](size_t i) { return find_task(view, term.args[i]); };
    if (name == "tasks") {
        if (!phase) return number(static_cast<double>(s.tasks));
        uint64_t n = 0;
        for (const auto& entry : phase->created) n += entry.second;
        return number(static_cast<double>(n));
    }
    if (name == "processes") return number(static_cast<double>(s.processes));
    if (name == "threads") return number(static_cast<double>(s.threads));
    if (name == "address_spaces") return number(static_cast<double>(program_address_spaces(view)));
    if (name == "created") {
        if (phase) {
            auto found = phase->created.find(term.args[0]);
            return number(found == phase->created.end() ? 0 : static_cast<double>(found->second));
        }
        uint64_t n = 0;
        for (const TaskRecord& task : view.tasks)
            if (task.kind != TaskKind::Root && term.args[0] == task_kind_name(task.kind)) ++n;
        return number(static_cast<double>(n));
    }
    if (name == "first_run_us") return latency(phase ? phase->first_run_latency : s.first_run_latency, term);
    if (name == "syscall_us") return latency(phase ? phase->syscall_latency : s.syscall_latency, term);
    if (name == "max_parallelism" || name == "avg_parallelism" || name == "parallel_share")
        return phase ? parallelism(phase->parallelism_ns, phase->max_parallelism, name)
                     : parallelism(s.parallelism_ns, s.max_parallelism, name);
    if (name == "cpus_used") {
        std::set<uint32_t> cpus;
        for (const TaskRecord& task : view.tasks)
            for (const auto& entry : task.cpu_ns) cpus.insert(entry.first);
        return number(static_cast<double>(cpus.size()));
    }
    if (name == "migrations") return number(static_cast<double>(s.migrations));
    if (name == "duration_ms")
        return number(static_cast<double>(phase ? phase->end_ns - phase->start_ns : view.run.duration_ns) / 1e6, "ms");
    if (name == "oncpu_ms" || name == "cpu_time_ms") {
        const bool clock = name == "cpu_time_ms";
        if (phase) {
            if (!clock) return number(static_cast<double>(phase->oncpu_ns) / 1e6, "ms");
            if (!phase->cpu_time_ns) return unknown("the trace has no CPU clock (event ABI before 3)");
            if (term.args.empty()) return number(static_cast<double>(*phase->cpu_time_ns) / 1e6, "ms");
            auto found = phase->cpu_time_by_kind.find(term.args[0]);
            return number(found == phase->cpu_time_by_kind.end() ? 0 : static_cast<double>(found->second) / 1e6, "ms");
        }
        uint64_t ns = 0;
        for (const TaskRecord& task : view.tasks) {
            if (!term.args.empty() && term.args[0] != task_kind_name(task.kind)) continue;
            if (clock && !task.cpu_time_ns) return unknown("the trace has no CPU clock (event ABI before 3)");
            ns += clock ? *task.cpu_time_ns : task.oncpu_ns;
        }
        return number(static_cast<double>(ns) / 1e6, "ms");
    }
    if (name == "state_share" || name == "state_ms") {
        if (phase) {
            if (!phase->states) return unknown("the trace has no task states (event ABI before 4)");
            return states(*phase->states, term);
        }
        if (s.states_by_kind.empty()) return unknown("the trace has no task states (event ABI before 4)");
        StateTimes times;
        for (const auto& entry : s.states_by_kind)
            if (term.args.size() < 2 || entry.first == term.args[1]) times += entry.second;
        return states(times, term);
    }
    if (name == "locks" || name == "lock_waits" || name == "lock_handovers" || name == "lock_wait_ms") {
        uint64_t waits = 0, handovers = 0, ns = 0;
        for (const LockRecord& lock : s.locks) waits += lock.waits, handovers += lock.handovers, ns += lock.ns;
        if (name == "locks") return number(static_cast<double>(s.locks.size()));
        if (name == "lock_waits") return number(static_cast<double>(waits));
        if (name == "lock_handovers") return number(static_cast<double>(handovers));
        return number(static_cast<double>(ns) / 1e6, "ms");
    }
    // Per task.
    const TaskRecord* a = task_arg(0);
    if (!a) return unknown("the run has no task " + term.args[0]);
    if (name == "pid" || name == "tid") return number(a->pid);
    if (name == "tgid") return number(a->tgid);
    if (name == "ppid") return number(a->ppid);
    if (name == "mm") return a->mm ? number(a->mm) : unknown("the address space of " + term.args[0] + " is not known");
    if (name == "kind") return word(task_kind_name(a->kind));
    if (name == "exit_code")
        return a->exit_code ? number(*a->exit_code) : unknown(term.args[0] + " has no exit status (killed, or still running)");
    if (name == "exit_signal") {
        if (a->exit_signal) return number(*a->exit_signal);
        return a->exit_code ? number(0) : unknown(term.args[0] + "'s exit was not traced");
    }
    if (name == "task_migrations") return number(a->migrations);
    if (name == "task_cpus") return number(static_cast<double>(a->cpu_ns.size()));
    if (name == "is_leader") return yes_no(a->pid == a->tgid);
    const TaskRecord* b = task_arg(1);
    if (!b) return unknown("the run has no task " + term.args[1]);
    if (name == "shares_mm") {
        // When the later of the two was created: what each ran in then.
        const uint64_t at = std::max(a->created_ns.value_or(0), b->created_ns.value_or(0));
        const uint32_t mm_a = mm_at(*a, at), mm_b = mm_at(*b, at);
        if (!mm_a || !mm_b) return unknown("an address space is not known");
        return yes_no(mm_a == mm_b);
    }
    if (name == "same_process") return yes_no(a->tgid == b->tgid);
    if (name == "parent_is") return yes_no(a->ppid == b->tgid);
    return unknown("metric " + name + " is not measured");  // not reached: parse_metric checked the name
}

}  // namespace

Result<Metric> parse_metric(const std::string& text) {
    Metric metric;
    metric.text = trim(text);
    size_t slash = metric.text.find('/');
    std::vector<std::string> parts{metric.text.substr(0, slash)};
    if (slash != std::string::npos) parts.push_back(metric.text.substr(slash + 1));
    if (parts.size() == 2 && parts[1].find('/') != std::string::npos)
        return Error{"'" + text + "': a ratio has one '/' (A / B)"};
    for (const std::string& part : parts) {
        if (trim(part).empty()) return Error{"'" + text + "': a metric on each side of '/'"};
        auto term = parse_term(part);
        if (!term) return term.error();
        metric.terms.push_back(std::move(*term));
    }
    return metric;
}

Measurer::Measurer(const RunModel& model) : model_(model), view_(lesson_view(model)) {}

Measured Measurer::operator()(const Metric& metric) const {
    std::vector<Measured> values;
    for (const MetricTerm& term : metric.terms) values.push_back(measure_term(model_, view_, term));
    if (values.size() == 1) return values.front();
    for (const Measured& v : values)
        if (!v.known) return v;
    if (!values[0].is_number || !values[1].is_number) return unknown("a ratio of words");
    if (values[1].number == 0) return unknown("the divisor (" + metric.terms[1].name + ") is 0");
    return number(values[0].number / values[1].number, "×");
}

std::string format_number(double value) {
    char buf[64];
    double magnitude = std::fabs(value);
    if (value == std::floor(value) && magnitude < 1e15) std::snprintf(buf, sizeof buf, "%.0f", value);
    else if (magnitude >= 100) std::snprintf(buf, sizeof buf, "%.0f", value);
    else if (magnitude >= 10) std::snprintf(buf, sizeof buf, "%.1f", value);
    else std::snprintf(buf, sizeof buf, "%.2f", value);
    return buf;
}

std::string format_measured(const Measured& measured) {
    if (!measured.known) return "unknown (" + measured.why + ")";
    if (!measured.is_number) return measured.word;
    std::string text = format_number(measured.number);
    if (measured.unit == "%" || measured.unit == "×") return text + measured.unit;
    return measured.unit.empty() ? text : text + " " + measured.unit;
}

const std::vector<MetricInfo>& metric_vocabulary() {
    static const std::vector<MetricInfo> infos = [] {
        std::vector<MetricInfo> out;
        for (const Entry& e : entries()) out.push_back(e.info);
        return out;
    }();
    return infos;
}

}  // namespace cxt::lab
