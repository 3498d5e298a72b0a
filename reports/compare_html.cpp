#include "compare_html.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <vector>

#include "html_report.h"
#include "text_summary.h"

namespace cxt {

namespace html_assets {
extern const char* const report_css;
extern const char* const compare_css;
}  // namespace html_assets

namespace {

// Run colours: report.css's conventions, compare.css's .run-N classes.
std::string run_class(size_t i) { return "run-" + std::to_string(i); }

std::string run_key(const CompareRun& run, size_t i) {
    return "<span class=\"run-key " + run_class(i) + "\" title=\"" + html_escape(run.label) + "\">" +
           std::string(1, run.letter) + "</span>";
}

// An x position or width in an SVG as wide as its box: a percentage, so
// the chart fits any window with its text at its own size.
std::string pct(double x) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f%%", std::clamp(x, 0.0, 100.0));
    return buf;
}

std::vector<std::string> kinds_of(const CompareSection& section) {
    std::vector<std::string> kinds;
    for (const CompareRow& row : section.rows)
        if (!row.kind.empty() && std::find(kinds.begin(), kinds.end(), row.kind) == kinds.end()) kinds.push_back(row.kind);
    return kinds;
}

std::string value_span(const std::string& text, const char* css = "value") {
    return std::string("<span class=\"") + css + "\">" + html_escape(text) + "</span>";
}

// One run's row of a chart: its key, the track (an SVG of `svg_body`), the value.
std::string chart_row(const CompareRun& run, size_t i, const std::string& svg_body, const std::string& value,
                      bool known, const std::string& title) {
    std::string html = "<div class=\"chart-row " + run_class(i) + "\">" + run_key(run, i);
    html += "<svg role=\"img\" aria-label=\"" + html_escape(title) + "\"><title>" + html_escape(title) + "</title>";
    html += "<rect class=\"track\" x=\"0\" y=\"2\" width=\"100%\" height=\"16\"></rect>" + svg_body + "</svg>";
    return html + value_span(value, known ? "value" : "value unknown") + "</div>";
}

// "1 us", "10 us", ...: a decade of nanoseconds.
std::string decade_label(int exponent) {
    static const char* const units[] = {"ns", "us", "ms", "s"};
    exponent = std::max(exponent, 0);
    const int unit = std::min(exponent / 3, 3);
    long long value = 1;
    for (int k = 0; k < exponent - unit * 3; ++k) value *= 10;
    return std::to_string(value) + " " + units[unit];
}

// Creation latency: every run and kind on one logarithmic axis.
std::string creation_chart(const Comparison& c, const CompareSection& section) {
    std::vector<std::string> kinds;
    uint64_t lo = std::numeric_limits<uint64_t>::max(), hi = 0;
    for (const std::string& kind : kinds_of(section))
        for (const CompareRun& run : c.runs)
            if (run.first_run)
                if (auto found = run.first_run->find(kind); found != run.first_run->end()) {
                    lo = std::min(lo, std::max<uint64_t>(found->second.min, 1));
                    hi = std::max(hi, std::max<uint64_t>(found->second.max, 1));
                    if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) kinds.push_back(kind);
                }
    if (kinds.empty())
        return "<p class=\"note\">No run has a measured first run: none created a task that ran, or the reports do not "
               "say.</p>";
    const int first = static_cast<int>(std::floor(std::log10(static_cast<double>(lo))));
    int last = static_cast<int>(std::ceil(std::log10(static_cast<double>(hi))));
    if (last <= first) last = first + 1;
    auto x = [&](uint64_t ns) {
        return (std::log10(static_cast<double>(std::max<uint64_t>(ns, 1))) - first) / (last - first) * 100.0;
    };
    std::string grid;
    for (int e = first + 1; e < last; ++e)
        grid += "<line class=\"grid\" x1=\"" + pct(100.0 * (e - first) / (last - first)) + "\" x2=\"" +
                pct(100.0 * (e - first) / (last - first)) + "\" y1=\"2\" y2=\"18\"></line>";

    std::string html = "<div class=\"chart\" id=\"creation-chart\">";
    for (const std::string& kind : kinds) {
        html += "<h3>" + html_escape(kind) + ": first run</h3>";
        for (size_t i = 0; i < c.runs.size(); ++i) {
            const CompareRun& run = c.runs[i];
            if (!run.first_run) {
                html += chart_row(run, i, grid, "unknown", false, run.label + ": unknown");
                continue;
            }
            auto found = run.first_run->find(kind);
            if (found == run.first_run->end()) {
                html += chart_row(run, i, grid, "none", false, run.label + ": no " + kind + " measured");
                continue;
            }
            const LatencyStats& s = found->second;
            const double box = x(s.p50), box_end = std::max(x(s.p90), box + 0.4);
            std::string body = grid;
            body += "<line class=\"whisker\" x1=\"" + pct(x(s.min)) + "\" x2=\"" + pct(std::max(x(s.max), x(s.min) + 0.2)) +
                    "\" y1=\"10\" y2=\"10\"></line>";
            body += "<rect class=\"box\" x=\"" + pct(box) + "\" width=\"" + pct(box_end - box) +
                    "\" y=\"4\" height=\"12\"></rect>";
            body += "<line class=\"median\" x1=\"" + pct(box) + "\" x2=\"" + pct(box) + "\" y1=\"1\" y2=\"19\"></line>";
            const std::string title = run.label + ", " + counted(s.count, kind.c_str(), (kind + "s").c_str()) + ": min " +
                                      format_duration_ns(s.min) + ", p50 " + format_duration_ns(s.p50) + ", p90 " +
                                      format_duration_ns(s.p90) + ", max " + format_duration_ns(s.max);
            html += chart_row(run, i, body, "p50 " + format_duration_ns(s.p50) + ", n=" + std::to_string(s.count), true,
                              title);
        }
    }
    // The axis: a label per decade (every other one when there are many).
    const int step = last - first > 6 ? 2 : 1;
    std::string axis;
    for (int e = first; e <= last; e += step) {
        const double at = 100.0 * (e - first) / (last - first);
        const char* anchor = e == first ? "start" : e + step > last && e == last ? "end" : "middle";
        axis += "<line class=\"grid\" x1=\"" + pct(at) + "\" x2=\"" + pct(at) + "\" y1=\"0\" y2=\"5\"></line>";
        axis += "<text x=\"" + pct(at) + "\" y=\"18\" text-anchor=\"" + anchor + "\">" + decade_label(e) + "</text>";
    }
    html += "<div class=\"chart-row axis\"><span></span><svg role=\"img\" aria-label=\"logarithmic axis, " +
            decade_label(first) + " to " + decade_label(last) + "\">" + axis + "</svg><span></span></div>";
    return html + "<p class=\"note\">Line: fastest to slowest; box: p50 to p90; dark tick: p50. Logarithmic axis.</p></div>";
}

// Parallelism: each run's time with a task on a CPU, split by how many were.
std::string parallelism_chart(const Comparison& c) {
    constexpr uint32_t kShades = 5;  // par-1 .. par-5 (5 or more)
    uint32_t most = 0;
    std::string html = "<div class=\"chart\" id=\"parallelism-chart\"><h3>time with a traced task on a CPU, by how many "
                       "were</h3>";
    for (size_t i = 0; i < c.runs.size(); ++i) {
        const CompareRun& run = c.runs[i];
        if (!run.parallelism_ns) {
            html += chart_row(run, i, "", "unknown", false, run.label + ": unknown");
            continue;
        }
        uint64_t busy = 0;
        double weighted = 0;
        for (const auto& [n, ns] : *run.parallelism_ns)
            if (n >= 1) busy += ns, weighted += static_cast<double>(n) * static_cast<double>(ns);
        if (busy == 0) {
            html += chart_row(run, i, "", "none", false, run.label + ": no traced task on a CPU");
            continue;
        }
        std::string body, title = run.label + ":";
        double at = 0;
        for (const auto& [n, ns] : *run.parallelism_ns) {
            if (n == 0 || ns == 0) continue;
            most = std::max(most, n);
            const double width = 100.0 * static_cast<double>(ns) / static_cast<double>(busy);
            body += "<rect class=\"par-" + std::to_string(std::min(n, kShades)) + "\" x=\"" + pct(at) + "\" width=\"" +
                    pct(width) + "\" y=\"2\" height=\"16\"></rect>";
            title += " " + std::to_string(n) + " at once " + percent(width / 100.0) + ";";
            at += width;
        }
        char average[32];
        std::snprintf(average, sizeof average, "%.2f", weighted / static_cast<double>(busy));
        html += chart_row(run, i, body, std::string("average ") + average, true, title);
    }
    html += "<div class=\"legend\">";
    for (uint32_t n = 1; n <= std::min(std::max(most, 1u), kShades); ++n)
        html += "<span><span class=\"swatch par-" + std::to_string(n) + "\"></span>" + std::to_string(n) +
                (n == kShades ? " or more" : "") + " at once</span>";
    return html + "</div></div>";
}

// CPU time per kind: one linear axis for every run and kind.
std::string cpu_chart(const Comparison& c, const CompareSection& section) {
    double most = 0;
    for (const CompareRow& row : section.rows)
        if (!row.kind.empty())
            for (const CompareValue& value : row.values)
                if (value.is_known()) most = std::max(most, value.number);
    if (most <= 0) return "";
    std::string html = "<div class=\"chart\" id=\"cpu-chart\">";
    for (const CompareRow& row : section.rows) {
        if (row.kind.empty()) continue;
        html += "<h3>" + html_escape(row.label) + "</h3>";
        for (size_t i = 0; i < c.runs.size(); ++i) {
            const CompareValue& value = row.values[i];
            const std::string text = format_compare_value(value, row.unit);
            std::string body;
            if (value.is_known() && value.number > 0)
                body = "<rect class=\"bar\" x=\"0\" y=\"4\" width=\"" + pct(std::max(0.3, 100.0 * value.number / most)) +
                       "\" height=\"12\"></rect>";
            html += chart_row(c.runs[i], i, body, text, value.is_known(), c.runs[i].label + ", " + row.kind + ": " + text);
        }
    }
    return html + "<p class=\"note\">One linear axis for every run and kind: the longest bar is " +
           format_compare_value(CompareValue::known(most), CompareUnit::Duration) + ".</p></div>";
}

// Where the time went, per kind: a stacked bar per run (report.html's colours).
std::string states_chart(const Comparison& c, const CompareSection& section) {
    const std::vector<std::string> kinds = kinds_of(section);
    if (kinds.empty()) return "";
    std::string html = "<div class=\"chart\" id=\"states-chart\"><div class=\"legend\">";
    for (size_t s = 0; s < kRunStateCount; ++s) {
        const char* name = run_state_name(static_cast<RunState>(s));
        html += "<span><span class=\"swatch st-" + std::string(name) + "\"></span>" + name + "</span>";
    }
    html += "</div>";
    for (const std::string& kind : kinds) {
        html += "<h3>" + html_escape(kind) + "</h3>";
        for (size_t i = 0; i < c.runs.size(); ++i) {
            const CompareRun& run = c.runs[i];
            html += "<div class=\"chart-row " + run_class(i) + "\">" + run_key(run, i);
            const StateTimes* states = nullptr;
            if (run.states_by_kind)
                if (auto found = run.states_by_kind->find(kind); found != run.states_by_kind->end() && found->second.total() > 0)
                    states = &found->second;
            if (!states) {
                const std::string text = run.states_by_kind ? "none" : "unknown";
                html += "<div class=\"state-bar unknown\" title=\"" + html_escape(run.label + ": " + text) + "\"></div>" +
                        value_span(text, "value unknown") + "</div>";
                continue;
            }
            const double total = static_cast<double>(states->total());
            html += "<div class=\"state-bar\">";
            size_t largest = 0;
            for (size_t s = 0; s < kRunStateCount; ++s) {
                if (states->ns[s] > states->ns[largest]) largest = s;
                if (states->ns[s] == 0) continue;
                const std::string name = run_state_name(static_cast<RunState>(s));
                html += "<span class=\"st-" + name + "\" style=\"flex-grow:" + std::to_string(states->ns[s] / total) +
                        "\" title=\"" +
                        html_escape(run.label + ", " + kind + ": " + name + " " + percent(states->ns[s] / total) + " (" +
                                    format_duration_ns(states->ns[s]) + ")") +
                        "\"></span>";
            }
            html += "</div>" +
                    value_span(std::string(run_state_name(static_cast<RunState>(largest))) + " " +
                               percent(states->ns[largest] / total)) +
                    "</div>";
        }
    }
    return html + "</div>";
}

std::string table(const Comparison& c, const CompareSection& section) {
    if (section.rows.empty()) {
        if (section.id == "states")
            return "<p class=\"note\">Unknown in every run: no report.json here has the states "
                   "(summary.states_ns_by_kind; traces before event ABI 4 cannot tell them).</p>";
        return "<p class=\"note\">Nothing to compare: no run has these figures.</p>";
    }
    std::string html = "<div class=\"table-scroll\"><table class=\"cmp-table\" id=\"table-" + section.id +
                       "\"><thead><tr><th>figure</th>";
    for (size_t i = 0; i < c.runs.size(); ++i) html += "<th>" + run_key(c.runs[i], i) + " " + html_escape(c.runs[i].label) + "</th>";
    html += "</tr></thead><tbody>";
    for (const CompareRow& row : section.rows) {
        html += "<tr data-key=\"" + html_escape(row.key) + "\"";
        if (row.differs) html += " class=\"differs\" title=\"" + html_escape(row.difference) + "\"";
        html += "><th>" + html_escape(row.label) + "</th>";
        for (size_t i = 0; i < row.values.size(); ++i) {
            const CompareValue& value = row.values[i];
            std::string css = row.unit == CompareUnit::Text ? "" : "num";
            if (value.state == CompareValue::State::Unknown) css += " unknown";
            if (value.state == CompareValue::State::None) css += " none";
            // Every run at the highest (lowest) value, when several are.
            if (row.highest && value.is_known() && value.number == row.values[*row.highest].number) css += " high";
            if (row.lowest && value.is_known() && value.number == row.values[*row.lowest].number) css += " low";
            html += "<td class=\"" + css + "\">" + html_escape(format_compare_value(value, row.unit)) + "</td>";
        }
        html += "</tr>";
    }
    return html + "</tbody></table></div>";
}

std::string runs_list(const Comparison& c) {
    std::string html = "<ul class=\"runs\" id=\"run-list\">";
    for (size_t i = 0; i < c.runs.size(); ++i) {
        const CompareRun& run = c.runs[i];
        html += "<li class=\"" + run_class(i) + "\">" + run_key(run, i) + " <span class=\"run-label mono\">" +
                html_escape(run.label) + "</span>";
        html += "<div class=\"run-facts\">command <code>" +
                html_escape(run.command.empty() ? std::string("unknown") : command_line(run.command)) + "</code></div>";
        std::string facts = "started " + (run.started_at.empty() ? std::string("unknown") : run.started_at) + ", kernel " +
                            run.kernel.value_or("unknown") + ", " +
                            (run.cpus ? counted(*run.cpus, "CPU", "CPUs") : std::string("CPUs unknown")) + ", traced for " +
                            (run.duration_ns ? format_duration_ns(*run.duration_ns) : std::string("unknown")) + ", " +
                            (run.events ? counted(*run.events, "event", "events") : std::string("events unknown")) +
                            (run.lost_events ? " (" + std::to_string(*run.lost_events) + " lost)" : std::string());
        html += "<div class=\"run-facts\">" + html_escape(facts) + "</div>";
        html += "<div class=\"run-facts mono\">" + html_escape(run.source) + "</div></li>";
    }
    return html + "</ul>\n";
}

}  // namespace

std::string scriptless_page_start(const std::string& title, const char* more_css, const char* body_class) {
    std::string page = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
    page += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
    // Nothing may be fetched and nothing runs: the page is HTML, CSS and SVG only.
    page += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
            "img-src data:\">\n";
    page += "<title>" + html_escape(title) + "</title>\n<style>\n";
    page += html_assets::report_css;
    page += html_assets::compare_css;
    page += more_css;
    return page + "</style>\n</head>\n<body class=\"" + body_class + "\">\n";
}

void write_compare_html(const Comparison& c, TextOut& out) {
    std::string title;
    if (c.runs.size() <= 3)
        for (const CompareRun& run : c.runs) title += (title.empty() ? "" : " vs ") + run.label;
    else
        title = std::to_string(c.runs.size()) + " runs";
    std::string page = scriptless_page_start("cxtrace compare: " + title, "", "compare");
    page += "<header>\n<h1>cxtrace compare: <span class=\"mono\">" + html_escape(title) + "</span></h1>\n";
    page += runs_list(c);
    for (const CompareRun& run : c.runs)
        for (const CompareNote& note : compare_run_notes(run))
            page += std::string("<div class=\"") + (note.warning ? "warning" : "scope-note") + "\">" +
                    html_escape(note.text) + "</div>\n";
    page += "</header>\n<main>\n<section id=\"differences\"><h2>What differs</h2>";
    if (c.differences.empty()) {
        page += "<p>No figure differs by the rule below.</p>";
    } else {
        page += "<ul>";
        for (const std::string& sentence : c.differences) page += "<li>" + html_escape(sentence) + "</li>";
        page += "</ul>";
    }
    page += "<p class=\"note\">" + html_escape(compare_rule_text()) + " Marked rows below are those; in them the highest "
            "value is bold and the lowest underlined.</p></section>\n";
    for (const CompareSection& section : c.sections) {
        page += "<section id=\"" + section.id + "\"><h2>" + html_escape(section.title) + "</h2><p class=\"explain\">" +
                html_escape(section.explain) + "</p>";
        if (section.id == "creation") page += creation_chart(c, section);
        if (section.id == "parallelism") page += parallelism_chart(c);
        if (section.id == "cpu") page += cpu_chart(c, section);
        if (section.id == "states") page += states_chart(c, section);
        page += table(c, section) + "</section>\n";
    }
    page += "</main>\n</body>\n</html>\n";
    out.put(page);
}

std::string render_compare_html(const Comparison& comparison) {
    return render_to_string([&](TextOut& out) { write_compare_html(comparison, out); });
}

}  // namespace cxt
