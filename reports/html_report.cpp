#include "html_report.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <limits>
#include <set>
#include <string>
#include <utility>
#include <unordered_map>
#include <vector>
#include <nlohmann/json.hpp>

#include "approximations.h"
#include "json_report.h"
#include "time_findings.h"
#include "wait_findings.h"
#include "waits.h"
#include "json_writer.h"
#include "running_count.h"
#include "scope_note.h"
#include "text_summary.h"
#include "unicode.h"

namespace cxt {

namespace html_assets {
extern const char* const report_css;
extern const char* const report_js;
}  // namespace html_assets

namespace {

using nlohmann::json;

// Intervals as flat columns [task, cpu, start, duration, ...] (ns): far
// smaller than one object each.
json interval_columns(const RunModel& model) {
    std::vector<OnCpuInterval> sorted = model.intervals;
    std::sort(sorted.begin(), sorted.end(), [](const OnCpuInterval& a, const OnCpuInterval& b) {
        return a.start_ns < b.start_ns;
    });
    json flat = json::array();
    for (const OnCpuInterval& iv : sorted) {
        flat.push_back(iv.task);
        flat.push_back(iv.cpu);
        flat.push_back(iv.start_ns);
        flat.push_back(iv.end_ns - iv.start_ns);
    }
    return flat;
}

// The stretches off a CPU, by start, as flat columns [task, label, start,
// waiting, runnable, waker, ...] (ns): label indexes `labels` ("Runnable",
// "Sleeping: futex lock1", ...); waiting is the wait's part (0 for a stretch
// runnable throughout), runnable the rest; waker is the index of the traced
// task that ended the wait, -1 for outside the trace, -2 when not known.
json off_cpu_columns(const RunModel& model, json& labels) {
    std::vector<OffCpuInterval> sorted = model.off_cpu;  // in order already from the correlator
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const OffCpuInterval& a, const OffCpuInterval& b) { return a.start_ns < b.start_ns; });
    std::map<std::string, size_t> label_index;
    auto label_of = [&](const OffCpuInterval& off) {
        const std::vector<WaitRecord>& waits = model.tasks[off.task].waits;
        const std::string text = off_cpu_label(off.state, off.wait < waits.size() ? &waits[off.wait] : nullptr);
        auto [it, fresh] = label_index.emplace(text, label_index.size());
        if (fresh) labels.push_back(text);
        return it->second;
    };
    json flat = json::array();
    for (const OffCpuInterval& off : sorted) {
        if (off.task >= model.tasks.size()) continue;
        flat.push_back(off.task);
        flat.push_back(label_of(off));
        flat.push_back(off.start_ns);
        flat.push_back(off.woken_ns - off.start_ns);
        flat.push_back(off.end_ns - off.woken_ns);
        switch (off.waker) {
            case WakerKind::Traced: flat.push_back(off.waker_task); break;
            case WakerKind::Outside: flat.push_back(-1); break;
            case WakerKind::Unknown: flat.push_back(-2); break;
        }
    }
    return flat;
}

// Per CPU and bin: the task with the most on-CPU time in the bin and how
// busy the bin was (0..1000 per mille).
json interval_bins(const RunModel& model, uint64_t duration) {
    uint32_t cpus = static_cast<uint32_t>(std::max(model.run.cpus, 1));
    const size_t bins = kHtmlTimelineBins;
    const double width = std::max<double>(1.0, static_cast<double>(duration) / bins);
    std::vector<std::vector<std::pair<uint32_t, uint64_t>>> best(cpus, std::vector<std::pair<uint32_t, uint64_t>>(bins));
    std::vector<std::vector<uint64_t>> busy(cpus, std::vector<uint64_t>(bins));
    // Dominance is approximated per interval piece, which is exact for the
    // common case of one long runner per bin.
    for (const OnCpuInterval& iv : model.intervals) {
        if (iv.cpu >= cpus) {  // a CPU beyond the trace's count: lanes added here, not in a pass of their own
            cpus = iv.cpu + 1;
            best.resize(cpus, std::vector<std::pair<uint32_t, uint64_t>>(bins));
            busy.resize(cpus, std::vector<uint64_t>(bins));
        }
        size_t first = std::min(bins - 1, static_cast<size_t>(iv.start_ns / width));
        size_t last = std::min(bins - 1, static_cast<size_t>(iv.end_ns / width));
        for (size_t b = first; b <= last; ++b) {
            double lo = std::max<double>(iv.start_ns, b * width), hi = std::min<double>(iv.end_ns, (b + 1) * width);
            if (hi <= lo) continue;
            uint64_t ns = static_cast<uint64_t>(hi - lo);
            busy[iv.cpu][b] += ns;
            if (ns > best[iv.cpu][b].second) best[iv.cpu][b] = {iv.task, ns};
        }
    }
    json lanes = json::array();
    for (uint32_t cpu = 0; cpu < cpus; ++cpu) {
        json task = json::array(), permille = json::array();
        for (size_t b = 0; b < bins; ++b) {
            task.push_back(busy[cpu][b] ? static_cast<int64_t>(best[cpu][b].first) : -1);
            permille.push_back(std::min<uint64_t>(1000, static_cast<uint64_t>(busy[cpu][b] * 1000.0 / width)));
        }
        lanes.push_back({{"task", task}, {"permille", permille}});
    }
    return {{"bin_ns", width}, {"bins", bins}, {"lanes", lanes}};
}

// The per-task lanes of a binned run: for each task, from its first to its
// last bin on a CPU, one digit per bin: '0' not on a CPU, '1'..'9' on one up
// to that many ninths of the bin. Flat [task, first bin, digits, ...].
json task_lane_bins(const RunModel& model, uint64_t duration) {
    size_t ran = 0;
    for (const TaskRecord& task : model.tasks) ran += task.oncpu_ns > 0;
    const size_t bins =
        std::clamp(kHtmlTaskLaneDigits / std::max<size_t>(1, ran), kHtmlMinTaskLaneBins, kHtmlMaxTaskLaneBins);
    const double width = std::max<double>(1.0, static_cast<double>(duration) / bins);
    auto bin_of = [&](uint64_t ns) { return std::min(bins - 1, static_cast<size_t>(ns / width)); };
    // Each task's first and last bin, then which tasks fit in the budget.
    constexpr size_t kNone = std::numeric_limits<size_t>::max();
    std::vector<size_t> first(model.tasks.size(), kNone), last(model.tasks.size(), 0);
    for (const OnCpuInterval& iv : model.intervals) {
        if (iv.task >= model.tasks.size()) continue;
        first[iv.task] = std::min(first[iv.task], bin_of(iv.start_ns));
        last[iv.task] = std::max(last[iv.task], bin_of(iv.end_ns));
    }
    size_t covered = 0, digits = 0;
    std::vector<size_t> offset(model.tasks.size(), kNone);  // into ns_in_bin
    for (; covered < model.tasks.size(); ++covered) {
        if (first[covered] == kNone) continue;
        const size_t length = last[covered] - first[covered] + 1;
        if (digits + length > kHtmlTaskLaneDigits) break;
        offset[covered] = digits;
        digits += length;
    }
    std::vector<uint64_t> ns_in_bin(digits);
    for (const OnCpuInterval& iv : model.intervals) {
        if (iv.task >= covered || offset[iv.task] == kNone) continue;
        for (size_t b = bin_of(iv.start_ns), end = bin_of(iv.end_ns); b <= end; ++b) {
            const double lo = std::max<double>(iv.start_ns, b * width), hi = std::min<double>(iv.end_ns, (b + 1) * width);
            if (hi > lo) ns_in_bin[offset[iv.task] + b - first[iv.task]] += static_cast<uint64_t>(hi - lo);
        }
    }
    json lanes = json::array();
    for (size_t task = 0; task < covered; ++task) {
        if (offset[task] == kNone) continue;
        std::string levels(last[task] - first[task] + 1, '0');
        for (size_t k = 0; k < levels.size(); ++k) {
            const uint64_t ns = ns_in_bin[offset[task] + k];
            if (ns) levels[k] = static_cast<char>('0' + std::clamp<int>(static_cast<int>(std::ceil(ns * 9.0 / width)), 1, 9));
        }
        lanes.push_back(task);
        lanes.push_back(first[task]);
        lanes.push_back(std::move(levels));
    }
    return {{"bin_ns", width}, {"bins", bins}, {"tasks_covered", covered}, {"lanes", lanes}};
}

// How many traced tasks were on a CPU, averaged per bin, for the chart.
json parallelism_series(const std::vector<OnCpuInterval>& intervals, uint64_t duration) {
    const size_t bins = 1000;
    const double width = std::max<double>(1.0, static_cast<double>(duration) / bins);
    std::vector<double> load(bins);
    std::vector<uint32_t> peak(bins);
    auto spread = [&](uint64_t from, uint64_t to, uint32_t n) {
        for (double t = from; t < to;) {
            size_t b = std::min(bins - 1, static_cast<size_t>(t / width));
            double end = std::min<double>(to, (b + 1) * width);
            if (end <= t) end = to;
            load[b] += n * (end - t) / width;
            peak[b] = std::max(peak[b], n);
            t = end;
        }
    };
    for_each_running_count(intervals, 0, [&](uint64_t from, uint64_t to, uint32_t running) {
        if (running > 0) spread(from, to, running);
    });
    json avg = json::array(), max = json::array();
    for (size_t b = 0; b < bins; ++b) {
        avg.push_back(std::round(load[b] * 1000.0) / 1000.0);
        max.push_back(peak[b]);
    }
    return {{"bin_ns", width}, {"avg", avg}, {"max", max}};
}

// With --from-exec: the lesson's intervals, from the lesson's start.
std::vector<OnCpuInterval> lesson_intervals(const RunModel& model) {
    std::vector<OnCpuInterval> lesson;
    for (OnCpuInterval iv : model.intervals) {
        iv.start_ns = std::max(iv.start_ns, model.run.lesson.start_ns);
        if (!model.tasks[iv.task].launcher && iv.end_ns > iv.start_ns) lesson.push_back(iv);
    }
    return lesson;
}

// The page's data, as view_data.dump() of a DOM would write it (keys
// sorted), with the tasks written straight from the model.
void write_view_data(const RunModel& model, const json& report, TextOut& out) {
    uint64_t duration = model.run.duration_ns;
    json timeline;
    if (model.intervals.size() <= kHtmlMaxIntervals) {
        timeline = {{"mode", "intervals"}, {"intervals", interval_columns(model)}};
        // Time off a CPU too, when the two fit the budget together.
        if (!model.off_cpu.empty() && model.intervals.size() + model.off_cpu.size() <= kHtmlMaxIntervals) {
            json labels = json::array();
            timeline["off_cpu"] = off_cpu_columns(model, labels);
            timeline["off_cpu_labels"] = std::move(labels);
        } else if (!model.off_cpu.empty()) {
            timeline["off_cpu_total"] = model.off_cpu.size();
        }
    } else
        timeline = {{"mode", "bins"}, {"intervals_total", model.intervals.size()},
                    {"binned", interval_bins(model, duration)}, {"task_lanes", task_lane_bins(model, duration)}};
    {
        JsonWriter w(out, -1);
        w.begin_object();
        w.key("anomalies"), w.value(report.at("anomalies"));
        // Not `matched ? lesson_intervals(model) : model.intervals`: that
        // conditional is a prvalue, a copy of every interval.
        w.key("parallelism_series"),
            w.value(model.run.lesson.matched ? parallelism_series(lesson_intervals(model), duration)
                                             : parallelism_series(model.intervals, duration));
        json run = report.at("run");
        run.erase("output");  // shown in the page itself: not twice
        w.key("run"), w.value(run);
        w.key("summary"), w.value(report.at("summary"));
        w.key("tasks");
        w.begin_array();
        // Each task's creator, as an index for the tree: tasks are in
        // creation order, so the creator is the latest task seen with that pid.
        std::unordered_map<uint32_t, size_t> latest_with_pid;
        for (size_t i = 0; i < model.tasks.size(); ++i) {
            const TaskRecord& task = model.tasks[i];
            auto creator = latest_with_pid.find(task.parent_pid);
            bool has_creator = task.kind != TaskKind::Root && !task.inferred && creator != latest_with_pid.end();
            TaskIndex index{i, has_creator ? static_cast<int64_t>(creator->second) : -1};
            write_task_json(w, task, &index);
            latest_with_pid[task.pid] = i;
        }
        w.end_array();
        w.key("timeline"), w.value(timeline);
        w.end_object();
    }
}

}  // namespace

namespace {

constexpr const char* kReplacementCharacter = "\xEF\xBF\xBD";  // U+FFFD

// The phases side by side, one column each: the figures a lesson compares.
std::string phase_table_html(const std::vector<Phase>& phases) {
    std::string html = "<section id=\"phases\"><h2>Phases side by side</h2><div class=\"table-scroll\"><table "
                       "class=\"phases\"><thead><tr><th>figure</th>";
    for (const Phase& phase : phases) html += "<th>" + html_escape(phase.name) + "</th>";
    html += "</tr></thead><tbody>";
    auto row = [&](const std::string& figure, auto cell) {
        html += "<tr><th>" + figure + "</th>";
        for (const Phase& phase : phases) html += "<td>" + cell(phase) + "</td>";
        html += "</tr>";
    };
    std::set<std::string> kinds;
    for (const Phase& phase : phases)
        for (const auto& [kind, n] : phase.created) kinds.insert(kind);
    row("wall time", [](const Phase& p) { return format_duration_ns(p.end_ns - p.start_ns); });
    for (const std::string& kind : kinds)
        row("created: " + html_escape(kind), [&](const Phase& p) {
                auto it = p.created.find(kind);
                return std::to_string(it == p.created.end() ? 0 : it->second);
            });
    for (const std::string& kind : kinds)
        row(html_escape(kind) + " first run p50 (syscall p50)", [&](const Phase& p) {
            auto first = p.first_run_latency.find(kind);
            auto call = p.syscall_latency.find(kind);
            if (first == p.first_run_latency.end()) return std::string("-");
            return format_duration_ns(first->second.p50) +
                   (call == p.syscall_latency.end() ? "" : " (" + format_duration_ns(call->second.p50) + ")");
        });
    row("on-CPU time", [](const Phase& p) { return format_duration_ns(p.oncpu_ns); });
    row("CPU time (kernel clock)",
        [](const Phase& p) { return p.cpu_time_ns ? format_duration_ns(*p.cpu_time_ns) : std::string("unknown"); });
    if (phases.front().states)
        row("running / waiting for a CPU / sleeping / blocked", [](const Phase& p) {
            if (!p.states || p.states->total() == 0) return std::string("-");
            const double total = static_cast<double>(p.states->total());
            std::string cell;
            for (RunState state : {RunState::Running, RunState::Runnable, RunState::Sleeping, RunState::Blocked})
                cell += (cell.empty() ? "" : " / ") + percent(static_cast<double>((*p.states)[state]) / total);
            return cell;
        });
    row("most tasks on CPUs at once", [](const Phase& p) { return std::to_string(p.max_parallelism); });
    row("busy time with 2+ on CPUs", [](const Phase& p) {
        char buf[16];
        std::snprintf(buf, sizeof buf, "%.0f%%", parallel_share(p.parallelism_ns) * 100.0);
        return std::string(buf);
    });
    html += "</tbody></table></div></section>\n";
    return html;
}

// "Where did the time go?": each task's states as a stacked bar (its width
// its share of the run), grouped by process, longest-lived first; the
// waits' wakers as a table; and the sentences written from them.
constexpr size_t kTimeBarsShown = 300;
constexpr size_t kWakePairsShown = 20;

std::string state_bar(const StateTimes& states, uint64_t width_of, const std::string& title_prefix,
                      const std::map<RunState, std::string>& details) {
    const double total = static_cast<double>(states.total());
    std::string html = "<div class=\"state-bar\" style=\"width:" +
                       std::to_string(width_of ? std::max(0.5, 100.0 * total / static_cast<double>(width_of)) : 100.0) +
                       "%\">";
    for (size_t i = 0; i < kRunStateCount; ++i) {
        const RunState state = static_cast<RunState>(i);
        if (states.ns[i] == 0) continue;
        auto detail = details.find(state);
        const std::string title = title_prefix + run_state_name(state) + " " + format_duration_ns(states.ns[i]) +
                                  (detail == details.end() ? "" : ": " + detail->second);
        html += "<span class=\"st-" + std::string(run_state_name(state)) + "\" style=\"flex-grow:" +
                std::to_string(static_cast<double>(states.ns[i]) / total) + "\" title=\"" + html_escape(title) +
                "\"></span>";
    }
    return html + "</div>";
}

// What a task's waits in one state were, for a bar's hover text.
std::string waits_detail(const TaskRecord& task, RunState state) {
    std::vector<const WaitRecord*> waits;
    for (const WaitRecord& wait : task.waits)
        if (wait.state == state) waits.push_back(&wait);
    std::sort(waits.begin(), waits.end(), [](const WaitRecord* a, const WaitRecord* b) { return a->ns > b->ns; });
    std::string text;
    for (const WaitRecord* wait : waits) {
        text += (text.empty() ? "" : "; ") +
                (wait->syscall >= 0 ? syscall_display_name(wait->syscall) : std::string("no system call"));
        if (wait->lock) text += " lock" + std::to_string(wait->lock);
        text += " " + format_duration_ns(wait->ns) + " x" + std::to_string(wait->count);
        std::string wakers;
        for (const auto& [pid, tally] : wait->woken_by) wakers += (wakers.empty() ? "" : ", ") + std::to_string(pid) + " x" + std::to_string(tally.count);
        if (wait->outside.count) wakers += (wakers.empty() ? "" : ", ") + std::string("outside x") + std::to_string(wait->outside.count);
        if (wait->unknown.count) wakers += (wakers.empty() ? "" : ", ") + std::string("unknown x") + std::to_string(wait->unknown.count);
        if (!wakers.empty()) text += " (woken by " + wakers + ")";
    }
    return text;
}

std::string time_section_html(const RunModel& model, const std::vector<Finding>& waiting) {
    std::vector<const TaskRecord*> tasks;
    for (const TaskRecord& task : model.tasks)
        if (has_lesson_life(task)) tasks.push_back(&task);
    if (tasks.empty()) return "";
    std::string html =
        "<section id=\"time\"><h2>Where did the time go?</h2><p class=\"note\">Each task from when it was first made "
        "runnable (or first seen) to its last switch-out: <span class=\"key st-running\"></span>running on a CPU, "
        "<span class=\"key st-runnable\"></span>runnable (ready, waiting for a CPU), <span class=\"key "
        "st-sleeping\"></span>sleeping in a system call (named on hover), <span class=\"key st-blocked\"></span>blocked "
        "(uninterruptible: disk, page faults), <span class=\"key st-other\"></span>other (stopped, or not known). A "
        "bar's length is the task's share of the run.</p>";
    if (!waiting.empty()) {
        html += "<div class=\"explain\"><ul>";
        for (const Finding& finding : waiting) html += "<li>" + html_escape(finding.text) + "</li>";
        html += "</ul></div>";
    }
    html += "<table class=\"time-bars\"><tbody>";
    for (const auto& [kind, states] : model.summary.states_by_kind)
        html += "<tr><th>all " + html_escape(kind) + "</th><td>" + state_bar(states, 0, kind + ": ", {}) + "</td></tr>";
    html += "</tbody></table>";

    // Processes by their tasks' summed lifetimes, tasks by their own.
    std::map<uint32_t, uint64_t> process_life;
    for (const TaskRecord* task : tasks) process_life[task->tgid] += task->states->total();
    std::stable_sort(tasks.begin(), tasks.end(), [&](const TaskRecord* a, const TaskRecord* b) {
        if (a->tgid != b->tgid) {
            const uint64_t la = process_life[a->tgid], lb = process_life[b->tgid];
            return la != lb ? la > lb : a->tgid < b->tgid;
        }
        return a->states->total() > b->states->total();
    });
    html += "<div class=\"tablewrap\"><table class=\"time-bars\"><thead><tr><th>task</th><th>states over its life"
            "</th></tr></thead><tbody>";
    uint32_t shown_tgid = 0;
    for (size_t i = 0; i < tasks.size() && i < kTimeBarsShown; ++i) {
        const TaskRecord& task = *tasks[i];
        if (i == 0 || task.tgid != shown_tgid)
            html += "<tr class=\"process-row\"><th colspan=\"2\">process " + std::to_string(task.tgid) + "</th></tr>";
        shown_tgid = task.tgid;
        std::map<RunState, std::string> details;
        for (RunState state : {RunState::Sleeping, RunState::Blocked, RunState::Other})
            if (std::string detail = waits_detail(task, state); !detail.empty()) details[state] = detail;
        html += "<tr><th class=\"mono\">" + std::to_string(task.pid) + " " + html_escape(task.comm) + "</th><td>" +
                state_bar(*task.states, model.run.duration_ns, std::to_string(task.pid) + ": ", details) + "</td></tr>";
    }
    html += "</tbody></table></div>";
    if (tasks.size() > kTimeBarsShown)
        html += "<p class=\"note\">" + std::to_string(tasks.size() - kTimeBarsShown) +
                " more tasks are in report.json (tasks[].states_ns and waits).</p>";

    // Who ended whose waits, and how long those waits had lasted.
    std::map<uint32_t, const TaskRecord*> by_pid;
    for (const TaskRecord& task : model.tasks) by_pid[task.pid] = &task;
    struct Pair {
        std::string waker;
        const TaskRecord* woken;
        WakerTally tally;
    };
    std::map<std::pair<std::string, uint32_t>, Pair> pairs;
    auto name_of = [&](uint32_t pid) {
        auto found = by_pid.find(pid);
        return std::to_string(pid) + (found == by_pid.end() ? "" : " " + found->second->comm);
    };
    for (const TaskRecord* task : tasks)
        for (const WaitRecord& wait : task->waits) {
            auto add = [&](const std::string& waker, const WakerTally& tally) {
                if (tally.count == 0) return;
                Pair& pair = pairs[{waker, task->pid}];
                pair.waker = waker;
                pair.woken = task;
                pair.tally.count += tally.count;
                pair.tally.ns += tally.ns;
            };
            for (const auto& [pid, tally] : wait.woken_by) add(name_of(pid), tally);
            add("outside the trace", wait.outside);
            add("unknown", wait.unknown);
        }
    std::vector<const Pair*> sorted;
    for (const auto& [key, pair] : pairs) sorted.push_back(&pair);
    std::sort(sorted.begin(), sorted.end(), [](const Pair* a, const Pair* b) { return a->tally.ns > b->tally.ns; });
    if (!sorted.empty()) {
        html += "<h3>Who ended the waits</h3><div class=\"tablewrap\"><table class=\"wakers\"><thead><tr><th>woken by"
                "</th><th>woken task</th><th>waits</th><th>waited in all</th></tr></thead><tbody>";
        for (size_t i = 0; i < sorted.size() && i < kWakePairsShown; ++i)
            html += "<tr><td class=\"mono\">" + html_escape(sorted[i]->waker) + "</td><td class=\"mono\">" +
                    html_escape(name_of(sorted[i]->woken->pid)) + "</td><td>" + std::to_string(sorted[i]->tally.count) +
                    "</td><td>" + format_duration_ns(sorted[i]->tally.ns) + "</td></tr>";
        html += "</tbody></table></div>";
        if (sorted.size() > kWakePairsShown)
            html += "<p class=\"note\">" + std::to_string(sorted.size() - kWakePairsShown) +
                    " more pairs are in report.json (tasks[].waits[].woken_by).</p>";
    }
    return html + "</section>\n";
}

// Escaped text with each bidirectional control (U+202E would show the rest
// of its line reversed) shown by its code instead of acting: as a styled
// span where markup is allowed, else as plain "[U+202E]".
std::string escape_text(const std::string& text, bool control_as_span);

// What the program printed, for a <pre>.
std::string output_html(const std::string& text) { return escape_text(text, true); }

std::string bytes_text(uint64_t bytes) { return std::to_string(bytes) + (bytes == 1 ? " byte" : " bytes"); }

// --capture-output: the command's stdout and stderr, beside the findings.
std::string output_section(const CapturedOutput& output) {
    std::string html = "<section id=\"output\"><h2>What the program printed</h2><p class=\"note\">Kept by "
                       "--capture-output: the first and last " + std::to_string(kOutputKeptBytes / 1024) +
                       " KiB of each stream. The program wrote to pipes, not a terminal.</p>";
    for (const auto& [name, stream] : {std::pair{"stdout", &output.out}, std::pair{"stderr", &output.err}}) {
        html += std::string("<details open id=\"output-") + name + "\"><summary>" + name + ": " +
                bytes_text(stream->total_bytes) + "</summary>";
        if (stream->total_bytes == 0) {
            html += "<p class=\"note\">nothing</p></details>";
            continue;
        }
        html += "<pre>" + output_html(stream->head) + "</pre>";
        if (stream->cut_bytes() > 0)
            html += "<p class=\"cut\">... " + bytes_text(stream->cut_bytes()) + " cut here: only the first and last " +
                    std::to_string(kOutputKeptBytes / 1024) + " KiB are kept ...</p>";
        if (!stream->tail.empty()) html += "<pre>" + output_html(stream->tail) + "</pre>";
        html += "</details>";
    }
    return html + "</section>\n";
}

}  // namespace

namespace {

std::string escape_text(const std::string& text, bool control_as_span) {
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size();) {
        char c = text[i];
        size_t length = utf8_sequence_length(text, i);
        if (length == 0) {  // not UTF-8: the page must stay valid
            out += kReplacementCharacter;
            ++i;
            continue;
        }
        if (length > 1) {
            if (auto [code, control_length] = bidi_control_at(text, i); control_length == length) {
                char name[48];
                std::snprintf(name, sizeof name, control_as_span ? "<span class=\"ctl\">U+%04X</span>" : "[U+%04X]",
                              code);
                out += name;
            } else {
                out.append(text, i, length);
            }
            i += length;
            continue;
        }
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&#39;"; break;
            default:
                if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t') out += kReplacementCharacter;
                else out += c;
        }
        ++i;
    }
    return out;
}

}  // namespace

std::string html_escape(const std::string& text) { return escape_text(text, false); }

namespace {

// "Your predictions" (cxtrace lab): each question, the student's prediction
// beside what was measured, the verdict and the sheet's explanation.
std::string predictions_section_html(const LabPredictions& lab) {
    std::string html = "<section id=\"predictions\" class=\"predictions\"><h2>Your predictions</h2>\n<p>Lab sheet <span "
                       "class=\"mono\">" +
                       html_escape(lab.sheet) + "</span> (" + html_escape(lab.sheet_version) + "), seed " +
                       html_escape(lab.seed);
    if (!lab.student.empty()) html += ", student " + html_escape(lab.student);
    if (!lab.parameters.empty()) html += "; parameters: <span class=\"mono\">" + html_escape(lab.parameters) + "</span>";
    size_t right = 0;
    for (const PredictionRow& row : lab.rows) right += row.verdict == "right";
    html += ". " + std::to_string(right) + " of " + std::to_string(lab.rows.size()) + " predicted right.</p>\n";
    html += "<table class=\"predictions\"><thead><tr><th>question</th><th>you predicted</th><th>measured</th>"
            "<th>verdict</th></tr></thead><tbody>\n";
    for (const PredictionRow& row : lab.rows) {
        html += "<tr class=\"verdict-" + html_escape(row.verdict) + "\"><td><span class=\"mono\">" + html_escape(row.id) +
                "</span>: " + html_escape(row.prompt) + "</td><td>" + html_escape(row.prediction) + "</td><td>" +
                html_escape(row.measured) + "</td><td class=\"verdict\">" + html_escape(row.verdict) + "</td></tr>\n";
        if (!row.explanation.empty())
            html += "<tr class=\"explanation\"><td colspan=\"4\">" + html_escape(row.explanation) + "</td></tr>\n";
    }
    return html + "</tbody></table></section>\n";
}

}  // namespace

// script_safe_json, appended to out. Used on chunks of a TextOut, which
// never splits one put() (a whole JSON string): U+2028's three bytes stay
// in one chunk.
void put_script_safe(std::string_view json_text, TextOut& out) {
    size_t copied = 0;  // json_text[copied, i) still to be appended as is
    for (size_t i = 0; i < json_text.size(); ++i) {
        char c = json_text[i];
        if (c != '<' && c != '>' && c != '&' && c != '\xE2') continue;
        // '<', '>' and '&' only occur inside JSON strings, where \u escapes
        // mean the same; U+2028/2029 are line breaks to old JS parsers.
        const char* replacement = nullptr;
        if (c == '<') replacement = "\\u003c";
        else if (c == '>') replacement = "\\u003e";
        else if (c == '&') replacement = "\\u0026";
        else if (i + 2 < json_text.size() && json_text[i + 1] == '\x80' &&
                 (json_text[i + 2] == '\xA8' || json_text[i + 2] == '\xA9'))
            replacement = json_text[i + 2] == '\xA8' ? "\\u2028" : "\\u2029";
        if (!replacement) continue;
        out.put(json_text.substr(copied, i - copied));
        out.put(replacement);
        if (c == '\xE2') i += 2;
        copied = i + 1;
    }
    out.put(json_text.substr(copied));
}

std::string script_safe_json(const std::string& json_text) {
    return render_to_string([&](TextOut& out) { put_script_safe(json_text, out); });
}

std::string render_html_report(const RunModel& model) { return render_html_report(model, report_json(model)); }

std::string render_html_report(const RunModel& model, const json& report) {
    return render_to_string([&](TextOut& out) { write_html_report(model, report, out); });
}

std::string render_html_report(const RunModel& model, const ReportExtras& extras) {
    const json report = report_json(model);
    return render_to_string([&](TextOut& out) { write_html_report(model, report, out, extras); });
}

void write_html_report(const RunModel& model, const nlohmann::json& report, TextOut& out, const ReportExtras& extras) {
    const RunInfo& run = model.run;
    std::string title = run.workload.empty() ? command_line(run.command) : run.workload;
    std::string page;  // the page around the data
    page.reserve(64 * 1024);
    page += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
    page += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
    // Nothing may be fetched: the report opens offline from file://.
    page += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
            "script-src 'unsafe-inline'; img-src data:\">\n";
    page += "<title>cxtrace: " + html_escape(title) + "</title>\n<style>\n";
    page += html_assets::report_css;
    page += "</style>\n</head>\n<body>\n<header>\n<h1>cxtrace report: <span class=\"mono\">" + html_escape(title) +
            "</span></h1>\n";
    if (!run.complete) {
        page += "<div class=\"warning\" id=\"incomplete\"><strong>This report is incomplete.</strong> ";
        if (run.lost_events)
            page += std::to_string(run.lost_events) +
                    " events were lost (the ring buffer was full: rerun with a larger --ring-buffer-size). ";
        if (run.cut_off)
            page += "The trace file was cut off (" + html_escape(*run.cut_off) + "): this report covers the " +
                    std::to_string(run.events) +
                    " events before the cut; how the run ended, the command's exit status and any losses are not "
                    "known. ";
        else if (run.interrupted)
            page += "The run was interrupted before the command finished. ";
        if (run.limit) {
            std::string sentence = limit_reached_sentence(run);
            sentence[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(sentence[0])));
            page += html_escape(sentence) + ". ";
        }
        if (run.losses_unknown) page += "The kernel's loss counters could not be read: events may be missing. ";
        if (run.left_running)
            page += "The command was left running (pid " + std::to_string(run.root_pid) + "), no longer traced. ";
        page += "Numbers below cover only what was captured.</div>\n";
    }
    if (run.approximate) {
        page += "<div class=\"warning\" id=\"approximate\"><strong>Some figures in this report are approximate."
                "</strong> cxtrace had to infer or repair part of what the kernel reported:<ul>";
        for (const std::string& note : approximation_notes(model)) page += "<li>" + html_escape(note) + "</li>";
        page += "</ul></div>\n";
    }
    if (auto note = scope_note(model)) page += "<div class=\"scope-note\" id=\"scope-note\">" + html_escape(*note) + "</div>\n";
    if (extras.predictions) page += predictions_section_html(*extras.predictions);
    page += "<dl class=\"facts\">";
    auto fact = [&](const std::string& name, const std::string& value) {
        page += "<div><dt>" + name + "</dt><dd>" + html_escape(value) + "</dd></div>";
    };
    fact("command", command_line(run.command));
    fact("started", run.started_at);
    fact("kernel", run.kernel);
    fact("CPUs", std::to_string(run.cpus));
    fact("duration", format_duration_ns(run.duration_ns));
    fact("events", std::to_string(run.events));
    fact("lost events", std::to_string(run.lost_events));
    fact("exit", run.exit_signal ? "killed by signal " + std::to_string(*run.exit_signal)
                                 : run.exit_code ? "status " + std::to_string(*run.exit_code) : "unknown");
    page += "</dl>\n<section id=\"findings\"><h2>What this run shows</h2><ul>";
    // The sentences on waiting are shown with the states they are about.
    std::vector<Finding> waiting;
    const std::string time_section = [&] {
        for (const json& finding : report.at("summary").at("what_this_shows"))
            if (finding.at("topic") == "waiting") waiting.push_back({"waiting", finding.at("text").get<std::string>()});
        return time_section_html(model, waiting);
    }();
    for (const json& finding : report.at("summary").at("what_this_shows"))
        if (time_section.empty() || finding.at("topic") != "waiting")
            page += "<li>" + html_escape(finding.at("text").get<std::string>()) + "</li>";
    page += "</ul></section>\n";
    if (run.output) page += output_section(*run.output);
    if (model.phases.size() > 1) page += phase_table_html(model.phases);
    page += time_section;
    page += "</header>\n<main id=\"app\"><noscript>The charts need JavaScript; the numbers are "
            "also in report.json.</noscript></main>\n";
    page += "<script type=\"application/json\" id=\"cxtrace-data\">";
    out.put(page);
    {
        // The data, the bulk of a page with many tasks, made script-safe as it is written.
        TextOut data([&](std::string_view chunk) { put_script_safe(chunk, out); });
        write_view_data(model, report, data);
    }
    out.put("</script>\n<script>\n");
    out.put(html_assets::report_js);
    out.put("</script>\n</body>\n</html>\n");
}

}  // namespace cxt
