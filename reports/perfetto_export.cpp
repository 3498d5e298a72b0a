#include "perfetto_export.h"

#include "json_report.h"
#include "json_writer.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <string_view>
#include <cstdio>
#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace cxt {

namespace {

// Key order kept as written: name, cat, ph, ts, dur, pid, tid, ... reads well.
using ojson = nlohmann::ordered_json;

template <typename T>
ojson or_null(const std::optional<T>& value) {
    return value ? ojson(*value) : ojson(nullptr);
}

void write_mm(JsonWriter& w, uint32_t mm) {
    if (mm) w.value("mm" + std::to_string(mm));
    else w.null();
}

// Microseconds with a fractional part: ns / 1000 is exact to the nanosecond
// in a double for any trace shorter than ~100 days, and nlohmann prints the
// shortest form that reads back as the same double (at most 3 decimals).
double us(uint64_t ns) { return static_cast<double>(ns) / 1000.0; }

std::string hex(uint64_t value) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(value));
    return buf;
}

std::string basename_of(const std::string& path) {
    auto slash = path.find_last_of('/');
    std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
    return base.empty() ? path : base;
}

// Events with a timestamp, ordered by time. At equal times slices come
// before instants and flow ends, so that an instant or a flow end at a
// slice's start binds to (nests in) that slice, in Perfetto and in
// chrome://tracing alike; longer slices before shorter ones so equal-start
// slices nest.
enum Rank : int { kSlice = 0, kInstant = 1, kFlow = 2 };

struct Timed {
    uint64_t ts_ns;
    int rank;
    uint64_t dur_ns;
    size_t seq;
    int32_t prebuilt;  // index into the prebuilt JSON texts
};

// Microseconds with exactly three decimals: nanosecond precision as text.
char* append_us(char* out, uint64_t ns) {
    out = std::to_chars(out, out + 24, ns / 1000).ptr;
    uint64_t frac = ns % 1000;
    out[0] = '.';
    out[1] = static_cast<char>('0' + frac / 100);
    out[2] = static_cast<char>('0' + frac / 10 % 10);
    out[3] = static_cast<char>('0' + frac % 10);
    return out + 4;
}

char* append_text(char* out, std::string_view text) {
    std::memcpy(out, text.data(), text.size());
    return out + text.size();
}

char* append_uint(char* out, uint64_t value) { return std::to_chars(out, out + 24, value).ptr; }

std::string json_string(const std::string& text) {
    // Invalid UTF-8 from the traced program (comm, argv) is replaced, not fatal.
    return JsonWriter::quoted(text);
}

// Collects the trace's events and writes them sorted by time. On-CPU
// slices, the bulk of any trace, are kept as interval indices and written
// straight to text: a million of them must not become a million JSON objects.
class Events {
public:
    explicit Events(const RunModel& model) : model_(model) {
        for (const TaskRecord& task : model.tasks) {
            comm_json_.push_back(json_string(task.comm));
            cpu_slice_name_json_.push_back(json_string(task.comm + " " + std::to_string(task.pid)));
        }
        make_pieces();
    }

    // A metadata ("M") event whose args hold one value.
    template <typename Value>
    void metadata(const char* name, uint32_t pid, std::optional<uint32_t> tid, const char* arg, const Value& value) {
        metadata_.push_back(build([&](JsonWriter& w) {
            w.begin_object();
            w.key("name"), w.value(name);
            w.key("ph"), w.value("M");
            w.key("pid"), w.value(pid);
            if (tid) w.key("tid"), w.value(*tid);
            w.key("args");
            w.begin_object();
            w.key(arg), w.value(value);
            w.end_object();
            w.end_object();
        }));
    }

    // write_args(w) writes the args object's members.
    template <typename WriteArgs>
    void instant(const std::string& name, uint32_t pid, uint32_t tid, uint64_t ts_ns, WriteArgs write_args) {
        add(ts_ns, kInstant, [&](JsonWriter& w) {
            w.begin_object();
            w.key("name"), w.value(name);
            w.key("cat"), w.value("lifecycle");
            w.key("ph"), w.value("i");
            w.key("s"), w.value("t");
            w.key("ts"), w.value(nlohmann::json(us(ts_ns)));
            w.key("pid"), w.value(pid);
            w.key("tid"), w.value(tid);
            w.key("args");
            w.begin_object();
            write_args(w);
            w.end_object();
            w.end_object();
        });
    }

    // ph "s" (creator side) or "f" (created side, bound to the enclosing slice).
    void flow(const char* phase, uint64_t id, uint32_t pid, uint32_t tid, uint64_t ts_ns) {
        add(ts_ns, kFlow, [&](JsonWriter& w) {
            w.begin_object();
            w.key("name"), w.value("creation");
            w.key("cat"), w.value("creation");
            w.key("ph"), w.value(phase);
            w.key("id"), w.value(id);
            w.key("ts"), w.value(nlohmann::json(us(ts_ns)));
            w.key("pid"), w.value(pid);
            w.key("tid"), w.value(tid);
            if (phase[0] == 'f') w.key("bp"), w.value("e");
            w.end_object();
        });
    }

    void render(const ojson& meta, TextOut& out) {
        std::sort(timed_.begin(), timed_.end(), [](const Timed& a, const Timed& b) {
            return std::make_tuple(a.ts_ns, a.rank, ~a.dur_ns, a.seq) <
                   std::make_tuple(b.ts_ns, b.rank, ~b.dur_ns, b.seq);
        });
        // On-CPU slices by (start, longest first, index): the order they
        // had when each was a Timed entry; they are usually already in it.
        const std::vector<OnCpuInterval>& intervals = model_.intervals;
        auto slice_before = [&](uint32_t a, uint32_t b) {
            const OnCpuInterval &x = intervals[a], &y = intervals[b];
            if (x.start_ns != y.start_ns) return x.start_ns < y.start_ns;
            uint64_t dx = duration(x), dy = duration(y);
            if (dx != dy) return dx > dy;
            return a < b;
        };
        std::vector<uint32_t> order;  // stays empty when the intervals are in order already
        for (uint32_t i = 1; i < intervals.size(); ++i)
            if (slice_before(i, i - 1)) {
                order.resize(intervals.size());
                for (uint32_t k = 0; k < order.size(); ++k) order[k] = k;
                std::sort(order.begin(), order.end(), slice_before);
                break;
            }

        out.put("{\"traceEvents\":[");
        bool first = true;
        auto next = [&] {
            out.put(first ? "\n" : ",\n");
            first = false;
        };
        for (const std::string& e : metadata_) next(), out.put(e);
        size_t slice = 0, other = 0;
        while (slice < intervals.size() || other < timed_.size()) {
            uint32_t interval = 0;
            if (slice < intervals.size()) interval = order.empty() ? static_cast<uint32_t>(slice) : order[slice];
            // A slice goes first at equal times: it ranks before instants and flows.
            bool take_slice = slice < intervals.size() &&
                              (other == timed_.size() || intervals[interval].start_ns <= timed_[other].ts_ns);
            if (!take_slice) {
                next();
                out.put(prebuilt_[static_cast<size_t>(timed_[other++].prebuilt)]);
                continue;
            }
            ++slice;
            const OnCpuInterval& iv = intervals[interval];
            if (iv.task >= model_.tasks.size()) continue;
            next();
            write_slices(out, iv);
        }
        // displayTimeUnit after traceEvents: some older Perfetto versions
        // read timestamps as ns when it came first; current ones ignore it.
        out.put("\n],\n\"displayTimeUnit\":\"ns\",\n\"metadata\":");
        out.put(dump(meta));
        out.put("}\n");
    }

private:
    static std::string dump(const ojson& j) { return j.dump(-1, ' ', false, ojson::error_handler_t::replace); }

    static uint64_t duration(const OnCpuInterval& iv) { return iv.end_ns > iv.start_ns ? iv.end_ns - iv.start_ns : 0; }

    // One interval as two complete ("X") events: on its task's track and on
    // its CPU's. Formatted by hand from per-task and per-CPU pieces made
    // once: these lines are nearly all of a big file.
    void write_slices(TextOut& out, const OnCpuInterval& iv) {
        const SlicePieces& task = pieces_[iv.task];
        const std::string& cpu = cpu_piece(iv.cpu);
        char times[64];
        char* t = append_us(times, iv.start_ns);
        t = append_text(t, ",\"dur\":");
        t = append_us(t, duration(iv));
        std::string_view ts_dur(times, static_cast<size_t>(t - times));

        char* start = out.room(task.size() + cpu.size() * 2 + ts_dur.size() * 2 + 32);
        char* p = append_text(start, task.task_head);
        p = append_text(p, ts_dur);
        p = append_text(p, task.task_mid);
        p = append_uint(p, iv.cpu);
        p = append_text(p, task.cpu_head);
        p = append_text(p, ts_dur);
        p = append_text(p, cpu);
        p = append_text(p, task.cpu_tail);
        out.wrote(p);
    }

    // The fixed text around a slice's times, per task.
    struct SlicePieces {
        std::string task_head, task_mid, cpu_head, cpu_tail;
        size_t size() const { return task_head.size() + task_mid.size() + cpu_head.size() + cpu_tail.size(); }
    };
    void make_pieces() {
        for (size_t i = 0; i < model_.tasks.size(); ++i) {
            const TaskRecord& task = model_.tasks[i];
            std::string tgid = std::to_string(task.tgid), pid = std::to_string(task.pid);
            pieces_.push_back(SlicePieces{
                "{\"name\":" + comm_json_[i] + ",\"cat\":\"oncpu\",\"ph\":\"X\",\"ts\":",
                ",\"pid\":" + tgid + ",\"tid\":" + pid + ",\"args\":{\"cpu\":",
                "}},\n{\"name\":" + cpu_slice_name_json_[i] + ",\"cat\":\"cpu\",\"ph\":\"X\",\"ts\":",
                ",\"pid\":" + pid + ",\"tgid\":" + tgid + "}}",  // the name says the comm
            });
        }
    }
    // ,"pid":<CPUs>,"tid":<cpu's track>,"args":{"cpu":<cpu>
    const std::string& cpu_piece(uint32_t cpu) {
        if (cpu >= cpu_pieces_.size()) cpu_pieces_.resize(cpu + 1);
        std::string& piece = cpu_pieces_[cpu];
        if (piece.empty())
            piece = ",\"pid\":" + std::to_string(kPerfettoCpuPid) + ",\"tid\":" +
                    std::to_string(perfetto_cpu_tid(cpu)) + ",\"args\":{\"cpu\":" + std::to_string(cpu);
        return piece;
    }

    template <typename Write>
    void add(uint64_t ts_ns, int rank, Write write) {
        timed_.push_back(Timed{ts_ns, rank, 0, timed_.size(), static_cast<int32_t>(prebuilt_.size())});
        prebuilt_.push_back(build(write));
    }

    // One event's compact JSON text (as ordered_json would dump it: keys in
    // the order written), through one reused buffer.
    template <typename Write>
    std::string build(Write write) {
        {
            JsonWriter w(scratch_out_, -1);
            write(w);
        }
        scratch_out_.flush();
        std::string text = scratch_;  // exact size; scratch_ keeps its capacity
        scratch_.clear();
        return text;
    }

    const RunModel& model_;
    std::vector<std::string> comm_json_, cpu_slice_name_json_;  // per task, JSON-quoted
    std::vector<std::string> metadata_;
    std::vector<std::string> prebuilt_;
    std::vector<Timed> timed_;   // everything but the on-CPU slices
    std::vector<SlicePieces> pieces_;     // per task
    std::vector<std::string> cpu_pieces_;  // per CPU, made when first needed
    std::string scratch_;
    TextOut scratch_out_{[this](std::string_view text) { scratch_.append(text.data(), text.size()); }};
};

// The task that created tasks[child]: the latest task with pid ==
// parent_pid created at or before the child (the root and inferred tasks
// count as there from the start) and not gone before it.
std::optional<size_t> creator_of(const RunModel& model, const std::vector<size_t>& same_pid, size_t child) {
    const TaskRecord& task = model.tasks[child];
    if (!task.created_ns) return std::nullopt;
    const uint64_t created = *task.created_ns;
    std::optional<size_t> best;
    for (size_t j : same_pid) {
        if (j == child) continue;
        const TaskRecord& c = model.tasks[j];
        if (c.created_ns.value_or(0) > created) continue;
        if (c.exited_ns && *c.exited_ns < created) continue;
        if (!best || std::make_pair(c.created_ns.value_or(0), j) >=
                         std::make_pair(model.tasks[*best].created_ns.value_or(0), *best))
            best = j;
    }
    return best;
}

std::string thread_name(const TaskRecord& task) {
    return task.comm + " [" + task_kind_name(task.kind) + (task.inferred ? ", inferred" : "") + "]";
}

std::string exit_name(const TaskRecord& task) {
    if (task.exit_signal) return "exit (signal " + std::to_string(*task.exit_signal) + ")";
    if (task.exit_code) return "exit (code " + std::to_string(*task.exit_code) + ")";
    return "exit";
}

ojson metadata_json(const RunModel& model) {
    // The run's facts as in report.json, then what is particular to this file.
    ojson metadata = ojson::parse(run_json(model.run).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    metadata.update(ojson{
        {"tool", "cxtrace"},
        {"schema", kPerfettoSchema},
        {"time_unit", "ts and dur in microseconds (3 decimals: ns precision) since the start of tracing"},
        {"tasks", model.tasks.size()},
        {"intervals", model.intervals.size()},
        {"anomalies", model.anomalies.total()},
        {"cpu_tracks",
         "pid " + std::to_string(kPerfettoCpuPid) + " (\"CPUs\"): one track per CPU, tid " +
             std::to_string(kPerfettoCpuPid) + " + 1 + cpu"},
    });
    return metadata;
}

}  // namespace

std::string render_perfetto_json(const RunModel& model) {
    return render_to_string([&](TextOut& out) { write_perfetto_json(model, out); });
}

void write_perfetto_json(const RunModel& model, TextOut& out) {
    Events events(model);
    const std::vector<TaskRecord>& tasks = model.tasks;

    // --- names and order of the tracks -----------------------------------
    std::map<uint32_t, size_t> process_order;  // tgid -> first task of that group
    for (size_t i = 0; i < tasks.size(); ++i) process_order.emplace(tasks[i].tgid, i);
    std::vector<std::pair<size_t, uint32_t>> processes;  // (first task, tgid), in creation order
    for (const auto& [tgid, first] : process_order) processes.emplace_back(first, tgid);
    std::sort(processes.begin(), processes.end());
    std::map<uint32_t, size_t> leaders;  // tgid -> its first traced leader (pid == tgid)
    for (size_t i = 0; i < tasks.size(); ++i)
        if (tasks[i].pid == tasks[i].tgid) leaders.emplace(tasks[i].tgid, i);
    int sort_index = 0;
    for (const auto& [first, tgid] : processes) {
        // The group is named after its leader when traced.
        auto leader_index = leaders.find(tgid);
        const TaskRecord* leader = &tasks[leader_index != leaders.end() ? leader_index->second : first];
        events.metadata("process_name", tgid, std::nullopt, "name", leader->comm);
        events.metadata("process_sort_index", tgid, std::nullopt, "sort_index", sort_index++);
    }
    std::set<std::pair<uint32_t, uint32_t>> named;  // (pid, tid): a reused pid keeps its first name
    for (size_t i = 0; i < tasks.size(); ++i) {
        const TaskRecord& task = tasks[i];
        if (!named.emplace(task.tgid, task.pid).second) continue;
        events.metadata("thread_name", task.tgid, task.pid, "name", thread_name(task));
        events.metadata("thread_sort_index", task.tgid, task.pid, "sort_index", static_cast<int>(i));
    }

    std::set<uint32_t> cpus;
    for (int cpu = 0; cpu < model.run.cpus; ++cpu) cpus.insert(static_cast<uint32_t>(cpu));
    for (const OnCpuInterval& interval : model.intervals) cpus.insert(interval.cpu);
    if (!cpus.empty()) {
        events.metadata("process_name", kPerfettoCpuPid, std::nullopt, "name", "CPUs");
        events.metadata("process_sort_index", kPerfettoCpuPid, std::nullopt, "sort_index", sort_index++);
        for (uint32_t cpu : cpus) {
            events.metadata("thread_name", kPerfettoCpuPid, perfetto_cpu_tid(cpu), "name",
                            "CPU " + std::to_string(cpu));
            events.metadata("thread_sort_index", kPerfettoCpuPid, perfetto_cpu_tid(cpu), "sort_index",
                            static_cast<int>(cpu));
        }
    }

    // --- on-CPU intervals: per task and per CPU ---------------------------
    std::vector<std::optional<uint64_t>> first_run(tasks.size());
    for (uint32_t i = 0; i < model.intervals.size(); ++i) {
        const OnCpuInterval& interval = model.intervals[i];
        if (interval.task >= tasks.size()) continue;
        auto& first = first_run[interval.task];
        if (!first || interval.start_ns < *first) first = interval.start_ns;
    }

    // --- lifecycle: creation, execs, exit; creator -> created flows --------
    std::unordered_map<uint32_t, std::vector<size_t>> tasks_with_pid;
    for (size_t i = 0; i < tasks.size(); ++i) tasks_with_pid[tasks[i].pid].push_back(i);
    uint64_t flow_id = 0;
    for (size_t i = 0; i < tasks.size(); ++i) {
        const TaskRecord& task = tasks[i];
        if (task.created_ns) {
            events.instant(std::string("created (") + task_kind_name(task.kind) + ")", task.tgid, task.pid,
                           *task.created_ns, [&](JsonWriter& w) {
                               w.key("kind"), w.value(task_kind_name(task.kind));
                               w.key("mm"), write_mm(w, task.mm);
                               w.key("latency_ns");
                               w.begin_object();
                               w.key("syscall"), w.value(task.latency.syscall);
                               w.key("first_run"), w.value(task.latency.first_run);
                               w.end_object();
                               w.key("clone_flags"), w.value(hex(task.clone_flags));
                               w.key("creation_syscall");
                               if (task.creation_syscall.empty()) w.null();
                               else w.value(task.creation_syscall);
                               w.key("pid"), w.value(task.pid);
                               w.key("tgid"), w.value(task.tgid);
                               w.key("ppid"), w.value(task.ppid);
                               w.key("parent_pid"), w.value(task.parent_pid);
                               w.key("wakeup_cpu"), w.value(task.wakeup_cpu);
                           });
            if (auto creator = creator_of(model, tasks_with_pid[task.parent_pid], i)) {
                const TaskRecord& c = tasks[*creator];
                ++flow_id;
                events.flow("s", flow_id, c.tgid, c.pid, *task.created_ns);
                events.flow("f", flow_id, task.tgid, task.pid, first_run[i].value_or(*task.created_ns));
            }
        }
        for (const ExecRecord& exec : task.execs)
            events.instant("exec " + basename_of(exec.filename), task.tgid, task.pid, exec.ts_ns, [&](JsonWriter& w) {
                w.key("filename"), w.value(exec.filename);
                w.key("argv");
                w.begin_array();
                for (const std::string& arg : exec.argv) w.value(arg);
                w.end_array();
                w.key("argc"), w.value(exec.argc);
                w.key("argv_truncated"), w.value(exec.argv_truncated);
                w.key("mm"), write_mm(w, exec.mm);
                if (exec.pid_before != 0 && exec.pid_before != task.pid) w.key("pid_before"), w.value(exec.pid_before);
            });
        if (task.exited_ns)
            events.instant(exit_name(task), task.tgid, task.pid, *task.exited_ns, [&](JsonWriter& w) {
                w.key("exit_code"), w.value(task.exit_code);
                w.key("exit_signal"), w.value(task.exit_signal);
                w.key("core_dumped"), w.value(task.core_dumped);
            });
    }

    events.render(metadata_json(model), out);
}

}  // namespace cxt
