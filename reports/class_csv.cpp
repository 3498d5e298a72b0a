#include "class_csv.h"

#include <cstdio>
#include <set>
#include <vector>

namespace cxt {

namespace {

struct Column {
    std::string sheet, id;
};

// Full precision: the CSV is for scripts.
std::string number_or_empty(const std::optional<double>& value) {
    if (!value) return "";
    char buf[48];
    std::snprintf(buf, sizeof buf, "%.10g", *value);
    return buf;
}

}  // namespace

std::string csv_field(const std::string& text, bool untrusted) {
    std::string value = text;
    if (untrusted && !value.empty() && (value[0] == '=' || value[0] == '+' || value[0] == '-' || value[0] == '@' ||
                                        value[0] == '\t' || value[0] == '\r'))
        value = "'" + value;
    if (value.find_first_of(",\"\r\n") == std::string::npos) return value;
    std::string quoted = "\"";
    for (char c : value) {
        if (c == '"') quoted += '"';
        quoted += c;
    }
    return quoted + "\"";
}

void write_class_csv(const ClassSummary& summary, TextOut& out) {
    // The questions' columns: by id when one sheet, else sheet:id.
    std::vector<Column> columns;
    for (const ClassSheet& sheet : summary.sheets)
        for (const std::string& id : sheet.column_ids) columns.push_back({sheet.name, id});
    const bool one_sheet = summary.sheets.size() <= 1;
    auto put_row = [&](const std::vector<std::pair<std::string, bool>>& fields) {
        std::string line;
        for (size_t i = 0; i < fields.size(); ++i) line += (i ? "," : "") + csv_field(fields[i].first, fields[i].second);
        out.put(line + "\r\n");
    };
    std::vector<std::pair<std::string, bool>> head = {
        {"student", false}, {"sheet", false},         {"sheet_version", false}, {"seed", false},
        {"kernel", false},  {"cpus", false},          {"started_at", false},    {"status", false},
        {"right", false},   {"graded", false},        {"questions", false},     {"report_json", false},
        {"verdicts", false}, {"counted", false},      {"flags", false},         {"lab_json", false},
    };
    for (const Column& c : columns) {
        const std::string name = one_sheet ? c.id : c.sheet + ":" + c.id;
        for (const char* part : {" prediction", " measured", " verdict"}) head.push_back({name + part, true});
    }
    put_row(head);
    for (const ClassSubmission& sub : summary.submissions) {
        std::string flags;
        for (const std::string& f : sub.flags) flags += (flags.empty() ? "" : "; ") + f;
        std::vector<std::pair<std::string, bool>> row = {
            {sub.lab.student, true},
            {sub.lab.sheet, true},
            {sub.lab.sheet_version, true},
            {sub.lab.seed ? std::to_string(*sub.lab.seed) : "", false},
            {sub.lab.kernel, true},
            {sub.lab.cpus ? std::to_string(*sub.lab.cpus) : "", false},
            {sub.lab.started_at, true},
            {sub.lab.status, false},
            {std::to_string(sub.right), false},
            {std::to_string(sub.graded), false},
            {std::to_string(sub.lab.questions.size()), false},
            {report_state_name(sub.report), false},
            {!sub.regraded ? "not-regraded" : sub.verdict_differences.empty() ? "regraded" : "differ", false},
            {sub.counted ? "yes" : "no", false},
            {flags, false},
            {sub.path, true},
        };
        for (const Column& c : columns) {
            auto found = sub.answers.find(c.id);
            if (c.sheet != sub.lab.sheet || found == sub.answers.end()) {
                for (int k = 0; k < 3; ++k) row.push_back({"", false});
                continue;
            }
            const ClassAnswer& a = found->second;
            row.push_back({a.prediction.value_or(""), true});
            row.push_back({a.measured ? number_or_empty(a.measured) : a.measured_text, true});
            row.push_back({a.verdict, false});
        }
        put_row(row);
    }
}

std::string render_class_csv(const ClassSummary& summary) {
    return render_to_string([&](TextOut& out) { write_class_csv(summary, out); });
}

}  // namespace cxt
