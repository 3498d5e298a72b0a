#include "class_html.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <set>
#include <vector>

#include "compare_html.h"
#include "html_report.h"
#include "text_summary.h"

namespace cxt {

namespace html_assets {
extern const char* const class_css;
}  // namespace html_assets

namespace {

std::string esc(const std::string& text) { return html_escape(text); }

std::string pct(double x) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f%%", std::clamp(x, 0.0, 100.0));
    return buf;
}

// An id for an element, from names a submission chose: letters, digits, - and _ only.
std::string anchor(const std::string& text) {
    std::string out;
    for (char c : text) {
        const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
        out += plain ? c : '_';
    }
    return out.substr(0, 60);
}

// --- strip charts ------------------------------------------------------------
// A row per series on one shared axis: every value a dot (its title says
// whose it is), the middle half a box, the median a tick.

struct Dot {
    double value = 0;
    std::string css;    // right, wrong, other, outlier, plain
    std::string title;  // whose, and the value
};

struct Series {
    std::string label;
    std::vector<Dot> dots;
    std::string value_text;  // beside the track
};

struct Axis {
    bool log = false;
    double lo = 0, hi = 1;
    std::function<std::string(double)> label;
    std::string suffix;  // after a plain number, when label() cannot tell close ticks apart
    double x(double v) const {
        if (log) return (std::log10(std::max(v, 1e-300)) - lo) / (hi - lo) * 100.0;
        return (v - lo) / (hi - lo) * 100.0;
    }
};

// A logarithmic axis over positive values spread widely, else a linear one.
Axis axis_for(const std::vector<double>& values, std::function<std::string(double)> label, std::string suffix,
              bool ratio = false) {
    Axis axis;
    axis.label = std::move(label);
    axis.suffix = std::move(suffix);
    double lo = INFINITY, hi = -INFINITY, positive_lo = INFINITY;
    for (double v : values) {
        lo = std::min(lo, v), hi = std::max(hi, v);
        if (v > 0) positive_lo = std::min(positive_lo, v);
    }
    if (values.empty()) lo = 0, hi = 1;
    if (ratio || (lo > 0 && hi / lo >= 20)) {
        axis.log = true;
        const double from = std::isfinite(positive_lo) ? positive_lo : 1, to = std::max(hi, from);
        axis.lo = std::floor(std::log10(from));
        axis.hi = std::ceil(std::log10(to));
        if (axis.hi <= axis.lo) axis.hi = axis.lo + 1;
        return axis;
    }
    if (lo == hi) lo -= std::max(1.0, std::fabs(lo) * 0.1), hi += std::max(1.0, std::fabs(hi) * 0.1);
    const double pad = (hi - lo) * 0.05;
    axis.lo = lo >= 0 && lo - pad < 0 ? 0 : lo - pad;
    axis.hi = hi + pad;
    return axis;
}

std::string axis_row(const Axis& axis) {
    std::string ticks;
    auto tick = [&](double at, const std::string& text, const char* anchor_side) {
        ticks += "<line class=\"grid\" x1=\"" + pct(at) + "\" x2=\"" + pct(at) + "\" y1=\"0\" y2=\"5\"></line>";
        ticks += "<text x=\"" + pct(at) + "\" y=\"18\" text-anchor=\"" + anchor_side + "\">" + esc(text) + "</text>";
    };
    if (axis.log) {
        const int first = static_cast<int>(axis.lo), last = static_cast<int>(axis.hi);
        const int step = last - first > 6 ? 2 : 1;
        for (int e = first; e <= last; e += step)
            tick(axis.x(std::pow(10.0, e)), axis.label(std::pow(10.0, e)), e == first ? "start" : e + step > last ? "end" : "middle");
    } else {
        const double range = axis.hi - axis.lo, raw = range / 4;
        const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
        const double step = raw / magnitude >= 5 ? 5 * magnitude : raw / magnitude >= 2 ? 2 * magnitude : magnitude;
        std::vector<double> at_values;
        std::vector<std::string> labels;
        bool apart = true;
        for (double v = std::ceil(axis.lo / step) * step; v <= axis.hi + step * 1e-9; v += step) {
            at_values.push_back(std::fabs(v) < step * 1e-9 ? 0 : v);
            labels.push_back(axis.label(at_values.back()));
            apart = apart && (labels.size() < 2 || labels[labels.size() - 2] != labels.back());
        }
        // Ticks the unit's own format rounds alike: plain numbers, as many decimals as the step needs.
        const int decimals = std::clamp(static_cast<int>(-std::floor(std::log10(step))), 0, 6);
        for (size_t i = 0; i < at_values.size(); ++i) {
            char plain[48];
            std::snprintf(plain, sizeof plain, "%.*f", decimals, at_values[i]);
            const double at = axis.x(at_values[i]);
            tick(at, apart ? labels[i] : plain + axis.suffix, at < 4 ? "start" : at > 96 ? "end" : "middle");
        }
    }
    return "<div class=\"strip-row axis\"><span></span><svg role=\"img\" aria-label=\"" +
           std::string(axis.log ? "logarithmic axis" : "linear axis") + "\">" + ticks + "</svg><span></span></div>";
}

// A deterministic vertical spread for the dots, so equal values stay visible.
double jitter(size_t i) {
    uint32_t h = static_cast<uint32_t>(i) * 2654435761u;
    h ^= h >> 15;
    return 6.0 + static_cast<double>(h % 1600) / 100.0;  // 6 .. 22 px
}

std::string strip_chart(const std::vector<Series>& series, const Axis& axis, const std::string& id) {
    std::string html = "<div class=\"strip\" id=\"" + id + "\">";
    size_t hidden = 0;
    for (const Series& s : series) {
        std::string body = "<rect class=\"track\" x=\"0\" y=\"2\" width=\"100%\" height=\"24\"></rect>";
        std::vector<double> values;
        for (const Dot& d : s.dots)
            if (!axis.log || d.value > 0) values.push_back(d.value);
        const Spread spread = spread_of(values);
        if (spread.n >= 2) {
            const double a = axis.x(spread.p25), b = std::max(axis.x(spread.p75), a + 0.3);
            body += "<rect class=\"box\" x=\"" + pct(a) + "\" width=\"" + pct(b - a) + "\" y=\"4\" height=\"20\"></rect>";
        }
        if (spread.n >= 1)
            body += "<line class=\"median\" x1=\"" + pct(axis.x(spread.p50)) + "\" x2=\"" + pct(axis.x(spread.p50)) +
                    "\" y1=\"2\" y2=\"26\"></line>";
        for (size_t i = 0; i < s.dots.size(); ++i) {
            const Dot& d = s.dots[i];
            if (axis.log && d.value <= 0) {
                ++hidden;
                continue;
            }
            char cy[16];
            std::snprintf(cy, sizeof cy, "%.1f", jitter(i));
            body += "<circle class=\"dot " + d.css + "\" cx=\"" + pct(axis.x(d.value)) + "\" cy=\"" + cy +
                    "\" r=\"3.5\"><title>" + esc(d.title) + "</title></circle>";
        }
        html += "<div class=\"strip-row\"><span class=\"series\">" + esc(s.label) + "</span><svg role=\"img\" aria-label=\"" +
                esc(s.label + ": " + s.value_text) + "\">" + body + "</svg><span class=\"value\">" + esc(s.value_text) +
                "</span></div>";
    }
    html += axis_row(axis);
    if (hidden > 0)
        html += "<p class=\"note\">" + counted(hidden, "value of 0 or less is", "values of 0 or less are") +
                " not drawn on the logarithmic axis.</p>";
    return html + "</div>";
}

std::string spread_text(const Spread& s, const std::function<std::string(double)>& format) {
    if (s.n == 0) return "none";
    return "median " + format(s.p50) + " (" + format(s.min) + " to " + format(s.max) + "), n=" + std::to_string(s.n);
}

// --- questions ---------------------------------------------------------------

std::string score_bar(const ClassQuestion& q) {
    const size_t total = q.right + q.wrong + q.unanswered + q.not_measured;
    if (total == 0) return "<p class=\"note\">No counted submission answered it.</p>";
    std::string html = "<div class=\"score-bar\" role=\"img\" aria-label=\"" +
                       esc(std::to_string(q.right) + " right, " + std::to_string(q.wrong) + " wrong, " +
                           std::to_string(q.unanswered) + " unanswered, " + std::to_string(q.not_measured) +
                           " not measured") +
                       "\">";
    for (const auto& [n, css] : {std::pair{q.right, "right"}, std::pair{q.wrong, "wrong"},
                                 std::pair{q.unanswered, "unanswered"}, std::pair{q.not_measured, "not-measured"}})
        if (n > 0)
            html += std::string("<span class=\"") + css + "\" style=\"flex-grow:" + std::to_string(n) + "\" title=\"" +
                    std::to_string(n) + " " + css + "\"></span>";
    return html + "</div>";
}

std::string verdict_css(const std::string& verdict) {
    return verdict == "right" ? "right" : verdict == "wrong" ? "wrong" : "other";
}

std::string number_question(const ClassSummary& s, const ClassQuestion& q, const std::string& id) {
    if (q.points.empty()) return "";
    const std::string unit = q.unit;
    auto with_unit = [unit](double v) {
        const std::string n = format_class_number(v);
        if (unit.empty()) return n;
        return unit == "%" || unit == "\xC3\x97" ? n + unit : n + " " + unit;
    };
    Series predicted{"predicted", {}, ""}, measured{"measured", {}, ""}, ratio{"predicted / measured", {}, ""};
    std::vector<double> all;
    for (const ClassPoint& p : q.points) {
        const std::string& who = s.submissions[p.submission].who;
        const std::string pair = (p.predicted ? with_unit(*p.predicted) : std::string("no prediction")) + " against " +
                                 (p.measured ? with_unit(*p.measured) : std::string("not measured"));
        if (p.predicted) predicted.dots.push_back({*p.predicted, verdict_css(p.verdict), who + " predicted " + pair + " (" + p.verdict + ")"}), all.push_back(*p.predicted);
        if (p.measured) measured.dots.push_back({*p.measured, "plain", who + "'s run measured " + with_unit(*p.measured)}), all.push_back(*p.measured);
        if (p.predicted && p.measured && *p.predicted > 0 && *p.measured > 0)
            ratio.dots.push_back({std::clamp(*p.predicted / *p.measured, 1e-3, 1e3), verdict_css(p.verdict),
                                  who + ": " + pair + ", " + format_class_number(*p.predicted / *p.measured) + "x"});
    }
    predicted.value_text = spread_text(q.predicted, with_unit);
    measured.value_text = spread_text(q.measured, with_unit);
    const std::string suffix = unit.empty() ? "" : unit == "%" || unit == "\xC3\x97" ? unit : " " + unit;
    std::string html = strip_chart({predicted, measured}, axis_for(all, with_unit, suffix), id + "-values");
    if (!ratio.dots.empty()) {
        ratio.value_text = spread_text(q.ratio, [](double v) { return format_class_number(v) + "x"; });
        std::vector<double> ratios;
        for (const Dot& d : ratio.dots) ratios.push_back(d.value);
        ratios.push_back(1);
        html += strip_chart({ratio}, axis_for(ratios, [](double v) { return format_class_number(v) + "x"; }, "x", true),
                            id + "-ratio");
        html += "<p class=\"note\">Each dot is one student: above, their prediction and what their own run measured "
                "(parameters differ with the seed); below, the one divided by the other (1x: exact). Green: right, "
                "red: wrong, as graded with the sheet's tolerance; the box holds the middle half, the tick is the "
                "median.</p>";
    }
    return html;
}

std::string keys_table(const ClassQuestion& q) {
    std::set<std::string> keys;
    for (const auto& entry : q.predicted_keys) keys.insert(entry.first);
    for (const auto& entry : q.right_keys) keys.insert(entry.first);
    if (keys.empty()) return "";
    size_t most = 1;
    for (const auto& entry : q.predicted_keys) most = std::max(most, entry.second);
    for (const auto& entry : q.right_keys) most = std::max(most, entry.second);
    std::string html = "<div class=\"table-scroll\"><table class=\"keys\"><thead><tr><th>" +
                       std::string(q.kind == "choice" ? "choice" : "order") +
                       "</th><th>predicted by</th><th>right on (runs)</th></tr></thead><tbody>";
    for (const std::string& key : keys) {
        auto count = [](const std::map<std::string, size_t>& m, const std::string& k) {
            auto found = m.find(k);
            return found == m.end() ? size_t{0} : found->second;
        };
        const size_t predicted = count(q.predicted_keys, key), right = count(q.right_keys, key);
        std::string label = key + (q.kind == "choice" ? ")" : "");
        if (auto text = q.key_text.find(key); text != q.key_text.end()) label += " " + text->second;
        auto bar = [&](size_t n, const char* css) {
            return "<td class=\"num\"><span class=\"count-bar " + std::string(css) + "\" style=\"width:" +
                   pct(100.0 * static_cast<double>(n) / static_cast<double>(most)) + "\"></span> " + std::to_string(n) + "</td>";
        };
        html += "<tr><th>" + esc(label) + "</th>" + bar(predicted, "predicted") + bar(right, "right") + "</tr>";
    }
    return html + "</tbody></table></div>";
}

std::string questions_section(const ClassSummary& s) {
    std::string html = "<section id=\"questions\"><h2>Questions: who predicted right</h2><p class=\"explain\">Per "
                       "question of each lab sheet: how many of the counted submissions predicted right, and how the "
                       "predictions spread against the values measured on each student's own run. A submission whose "
                       "lab.json does not match its report.json is not counted (see Outliers).</p>";
    if (s.sheets.empty()) html += "<p class=\"note\">No lab.json was usable: only runs.</p>";
    for (const ClassSheet& sheet : s.sheets) {
        std::string versions;
        for (const std::string& v : sheet.versions) versions += (versions.empty() ? "" : ", ") + v;
        html += "<h3 class=\"sheet\" id=\"sheet-" + anchor(sheet.name) + "\">Sheet <span class=\"mono\">" + esc(sheet.name) +
                "</span> (version " + esc(versions) + ")" + (sheet.titles.empty() ? "" : ": " + esc(sheet.titles.front())) +
                "</h3><p>" + esc(counted(sheet.submissions, "submission", "submissions") + ", " +
                                  std::to_string(sheet.counted) + " counted. " +
                                  (sheet.regraded == sheet.submissions
                                       ? std::string("Every verdict was graded again by this cxtrace's sheet.")
                                       : std::to_string(sheet.submissions - sheet.regraded) +
                                             " of them name a version of the sheet this cxtrace does not have: their "
                                             "verdicts are lab.json's own.")) +
                "</p>";
        for (const ClassQuestion& q : sheet.questions) {
            const std::string id = "q-" + anchor(sheet.name) + "-" + anchor(q.id);
            html += "<div class=\"question\" id=\"" + id + "\"><h4><span class=\"mono\">" + esc(q.id) + "</span> (" + esc(q.kind) +
                    ")</h4>";
            if (!q.prompt.empty()) html += "<p class=\"prompt\">" + esc(q.prompt) + "</p>";
            html += score_bar(q) + "<p class=\"summary\">" + esc(q.summary) + "</p>";
            html += q.kind == "number" ? number_question(s, q, id) : keys_table(q);
            html += "</div>";
        }
    }
    return html + "</section>\n";
}

// --- lessons -------------------------------------------------------------------

std::string lessons_section(const ClassSummary& s) {
    std::string html = "<section id=\"lessons\"><h2>Lessons: the measured figures across machines</h2><p "
                       "class=\"explain\">Every run read (each submission's report.json, and each report.json without "
                       "a lab.json), grouped by what it ran: one dot per run, so each student's machine is a dot. A red "
                       "dot is a machine at least " +
                       format_class_number(kClassSlowFactor) + "x slower than the median of its lesson's runs (once " +
                       std::to_string(kClassMinRunsForMedian) + " runs or more have the figure).</p>";
    if (s.lessons.empty()) html += "<p class=\"note\">No report.json was usable: the lessons need the runs.</p>";
    for (const ClassLesson& lesson : s.lessons) {
        std::string kernels;
        for (const auto& [kernel, n] : lesson.kernels) kernels += (kernels.empty() ? "" : ", ") + kernel + " (" + std::to_string(n) + ")";
        html += "<h3 id=\"lesson-" + anchor(lesson.name) + "\"><span class=\"mono\">" + esc(lesson.name) + "</span>: " +
                esc(counted(lesson.runs.size(), "run", "runs")) + "</h3><p class=\"note\">kernels: " + esc(kernels) + "</p>";
        for (const LessonQuantity& q : lesson.quantities) {
            const LessonUnit unit = q.unit;
            auto format = [unit](double v) { return format_lesson_value(v, unit); };
            Series series{q.label, {}, spread_text(q.spread, format)};
            std::vector<double> values;
            for (const LessonValue& v : q.values) {
                const ClassRun& run = s.runs[v.run];
                series.dots.push_back({v.value, v.outlier ? "outlier" : "plain",
                                       run.who + " (" + run.data.kernel.value_or("kernel unknown") + "): " + format(v.value)});
                values.push_back(v.value);
            }
            const char* suffix = unit == LessonUnit::Duration ? " ns" : unit == LessonUnit::Ratio ? "x" : "";
            html += strip_chart({series}, axis_for(values, format, suffix), "lesson-" + anchor(lesson.name) + "-" + anchor(q.key));
        }
    }
    return html + "</section>\n";
}

// --- outliers, students, skipped -------------------------------------------------

std::string outliers_section(const ClassSummary& s) {
    std::string html = "<section id=\"outliers\"><h2>Outliers</h2><p class=\"explain\">What to look at before "
                       "trusting the figures: a machine " +
                       format_class_number(kClassSlowFactor) +
                       "x slower than its lesson's median, a run with lost events or cut short, a lab.json whose "
                       "report.json does not match it or whose verdicts are not its sheet's (those two not counted).</p>";
    if (s.outliers.empty()) return html + "<p>None.</p></section>\n";
    html += "<div class=\"table-scroll\"><table class=\"outliers\"><thead><tr><th>what</th><th>who</th><th>what was "
            "found</th><th>file</th></tr></thead><tbody>";
    for (const ClassOutlier& o : s.outliers)
        html += "<tr class=\"outlier-" + anchor(o.kind) + "\"><td>" + esc(o.kind) + "</td><td>" + esc(o.who) + "</td><td>" +
                esc(o.text) + "</td><td class=\"mono\">" + esc(o.path) + "</td></tr>";
    return html + "</tbody></table></div></section>\n";
}

std::string verdict_cell(const ClassSubmission& sub, const std::string& id) {
    auto found = sub.answers.find(id);
    if (found == sub.answers.end()) return "<td class=\"verdict none\">-</td>";
    const ClassAnswer& a = found->second;
    const char* mark = a.verdict == "right" ? "\xE2\x9C\x93" : a.verdict == "wrong" ? "\xE2\x9C\x97" : a.verdict == "unanswered" ? "-" : "?";
    const std::string title = "predicted " + a.prediction.value_or("nothing") + "; measured " +
                              (a.measured_text.empty() ? std::string("nothing") : a.measured_text) + " (" + a.verdict + ")";
    return "<td class=\"verdict " + esc(a.verdict) + "\" title=\"" + esc(title) + "\">" + mark + "</td>";
}

std::string students_section(const ClassSummary& s) {
    std::string html = "<section id=\"students\"><h2>Students</h2><p class=\"explain\">One row per submission, by "
                       "student: the score, each question's verdict (hover for the prediction and the measured value), "
                       "whether report.json matches lab.json, and what was flagged. class.csv has the same rows with "
                       "every prediction and measured value.</p>";
    if (s.submissions.empty()) return html + "<p class=\"note\">No usable lab.json.</p></section>\n";
    for (const ClassSheet& sheet : s.sheets) {
        html += "<h3>Sheet <span class=\"mono\">" + esc(sheet.name) + "</span></h3><div class=\"table-scroll\"><table "
                "class=\"students\" id=\"students-" + anchor(sheet.name) + "\"><thead><tr><th>student</th><th>seed</th>"
                "<th>machine</th><th>right</th>";
        for (const std::string& id : sheet.column_ids) html += "<th class=\"mono\">" + esc(id) + "</th>";
        html += "<th>report.json</th><th>verdicts</th><th>flags</th><th>lab.json</th></tr></thead><tbody>";
        for (const ClassSubmission& sub : s.submissions) {
            if (sub.lab.sheet != sheet.name) continue;
            std::string machine = (sub.lab.kernel.empty() ? std::string("kernel unknown") : sub.lab.kernel) + ", " +
                                  (sub.lab.cpus ? counted(*sub.lab.cpus, "CPU", "CPUs") : std::string("CPUs unknown"));
            std::string flags;
            for (const std::string& f : sub.flags) flags += (flags.empty() ? "" : ", ") + f;
            html += std::string("<tr") + (sub.counted ? "" : " class=\"not-counted\"") + "><td>" + esc(sub.who) + "</td><td class=\"num\">" +
                    (sub.lab.seed ? std::to_string(*sub.lab.seed) : std::string()) + "</td><td>" + esc(machine) +
                    "</td><td class=\"num\">" + std::to_string(sub.right) + "/" + std::to_string(sub.graded) + "</td>";
            for (const std::string& id : sheet.column_ids) html += verdict_cell(sub, id);
            std::string check = report_state_name(sub.report);
            if (!sub.report_problem.empty()) check += ": " + sub.report_problem;
            if (sub.report == ReportState::Matches)
                check += " (" + std::to_string(sub.check.values_checked) + " of " +
                         std::to_string(sub.check.values_checked + sub.check.values_uncheckable) + " values recomputed)";
            const std::string verdicts = !sub.regraded ? "not graded again (no sheet of this version here)"
                                         : sub.verdict_differences.empty() ? "graded again: the same"
                                                                           : "graded again: they differ";
            html += "<td class=\"check " + std::string(report_state_name(sub.report)) + "\">" + esc(check) + "</td><td class=\"" +
                    (sub.verdict_differences.empty() ? "verdicts" : "verdicts differs") + "\">" + esc(verdicts) +
                    "</td><td class=\"flags\">" +
                    esc(flags) + "</td><td class=\"mono path\">" + esc(sub.path) + "</td></tr>";
        }
        html += "</tbody></table></div>";
    }
    return html + "</section>\n";
}

std::string skipped_section(const ClassSummary& s) {
    std::string html = "<section id=\"skipped\"><h2>Skipped files</h2><p class=\"explain\">Every lab.json and "
                       "report.json found but not used, and why: unreadable, not JSON, another program's, a newer "
                       "schema than this cxtrace reads, a duplicate, or never run.</p>";
    if (s.skipped.empty()) return html + "<p>None.</p></section>\n";
    html += "<div class=\"table-scroll\"><table class=\"skipped\"><thead><tr><th>file</th><th>why</th></tr></thead><tbody>";
    for (const ClassSkip& skip : s.skipped)
        html += "<tr><td class=\"mono path\">" + esc(skip.path) + "</td><td>" + esc(skip.reason) + "</td></tr>";
    return html + "</tbody></table></div></section>\n";
}

}  // namespace

void write_class_html(const ClassSummary& s, TextOut& out) {
    std::set<std::string> students;
    for (const ClassSubmission& sub : s.submissions) students.insert(sub.who);
    std::string folders;
    for (const std::string& f : s.folders) folders += (folders.empty() ? "" : ", ") + f;
    const std::string title = counted(s.submissions.size(), "submission", "submissions");
    std::string page = scriptless_page_start("cxtrace class: " + title, html_assets::class_css, "class");
    page += "<header>\n<h1>cxtrace class: " + esc(title) + "</h1>\n";
    page += "<p class=\"lead\">" +
            esc("From " + folders + ": " + counted(s.submissions.size(), "submission", "submissions") + " (" +
                counted(students.size(), "student", "students") + ", " + counted(s.sheets.size(), "lab sheet", "lab sheets") +
                ") and " + counted(s.runs_alone(), "run", "runs") + " without a lab.json, out of " +
                counted(s.files_found, "file", "files") + " found in " + counted(s.directories, "directory", "directories") +
                "; " + std::to_string(s.skipped.size()) + " skipped, " +
                counted(s.outliers.size(), "outlier", "outliers") + ".") +
            "</p>\n<nav><a href=\"#questions\">Questions</a> <a href=\"#lessons\">Lessons</a> <a href=\"#outliers\">Outliers</a> "
            "<a href=\"#students\">Students</a> <a href=\"#skipped\">Skipped</a></nav>\n";
    for (const std::string& note : s.notes) page += "<div class=\"scope-note\">" + esc(note) + "</div>\n";
    page += "</header>\n<main>\n";
    out.put(page);
    out.put(questions_section(s));
    out.put(lessons_section(s));
    out.put(outliers_section(s));
    out.put(students_section(s));
    out.put(skipped_section(s));
    out.put("</main>\n</body>\n</html>\n");
}

std::string render_class_html(const ClassSummary& summary) {
    return render_to_string([&](TextOut& out) { write_class_html(summary, out); });
}

}  // namespace cxt
