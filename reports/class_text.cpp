#include "class_text.h"

#include <algorithm>
#include <map>
#include <set>

#include "text_summary.h"
#include "unicode.h"

namespace cxt {

namespace {

constexpr size_t kShownSkips = 5;

std::string padded(const std::string& text, size_t width) {
    return text.size() >= width ? text : text + std::string(width - text.size(), ' ');
}

}  // namespace

std::string render_class_text(const ClassSummary& s) {
    std::set<std::string> students;
    for (const ClassSubmission& sub : s.submissions) students.insert(sub.who);
    std::string text = "cxtrace class: " + counted(s.submissions.size(), "submission", "submissions") + " (" +
                       counted(students.size(), "student", "students") + ", " + counted(s.sheets.size(), "sheet", "sheets") +
                       ") and " + counted(s.runs_alone(), "run", "runs") + " without a lab.json, from " +
                       counted(s.files_found, "file", "files") + "; " + std::to_string(s.skipped.size()) + " skipped\n";
    for (const ClassSheet& sheet : s.sheets) {
        std::string versions;
        for (const std::string& v : sheet.versions) versions += (versions.empty() ? "" : ", ") + v;
        text += "  " + terminal_safe(sheet.name) + " (version " + terminal_safe(versions) + "): " +
                counted(sheet.submissions, "submission", "submissions") + ", " + std::to_string(sheet.counted) + " counted\n";
        size_t width = 0;
        for (const ClassQuestion& q : sheet.questions) width = std::max(width, std::min<size_t>(q.id.size(), 24));
        for (const ClassQuestion& q : sheet.questions) {
            const size_t graded = q.graded();
            text += "    " + padded(terminal_safe(q.id), width) + "  " +
                    (graded ? std::to_string(q.right) + " of " + std::to_string(graded) + " right (" +
                                  percent(static_cast<double>(q.right) / static_cast<double>(graded)) + ")"
                            : std::string("not graded on any counted submission")) +
                    "\n";
        }
    }
    for (const ClassLesson& lesson : s.lessons) {
        text += "  " + terminal_safe(lesson.name) + ": " + counted(lesson.runs.size(), "run", "runs");
        for (const LessonQuantity& q : lesson.quantities)
            if (q.key == "first_run.process" || q.key == "first_run.thread")
                text += "; " + q.key.substr(10) + " first run p50 " + format_lesson_value(q.spread.p50, q.unit) + " (" +
                        format_lesson_value(q.spread.min, q.unit) + " to " + format_lesson_value(q.spread.max, q.unit) + ")";
        text += "\n";
    }
    if (!s.outliers.empty()) {
        std::map<std::string, size_t> kinds;
        for (const ClassOutlier& o : s.outliers) ++kinds[o.kind];
        text += "  outliers: " + std::to_string(s.outliers.size());
        std::string parts;
        for (const auto& [kind, n] : kinds) parts += (parts.empty() ? "" : ", ") + std::to_string(n) + " " + kind;
        text += " (" + parts + "; class.html names them)\n";
    }
    if (!s.skipped.empty()) {
        text += "  skipped: " + std::to_string(s.skipped.size()) + "\n";
        for (size_t i = 0; i < s.skipped.size() && i < kShownSkips; ++i)
            text += "    " + terminal_safe(s.skipped[i].path) + ": " + terminal_safe(s.skipped[i].reason) + "\n";
        if (s.skipped.size() > kShownSkips) text += "    and " + std::to_string(s.skipped.size() - kShownSkips) + " more (class.html lists them all)\n";
    }
    for (const std::string& note : s.notes) text += "  note: " + terminal_safe(note) + "\n";
    return text;
}

}  // namespace cxt
