#include "lab_result.h"

namespace cxt::lab {

using nlohmann::json;

const char* lab_status_name(LabStatus status) {
    switch (status) {
        case LabStatus::Graded: return "graded";
        case LabStatus::RunInterrupted: return "run-interrupted";
        case LabStatus::RunFailed: return "run-failed";
        case LabStatus::QuestionsInterrupted: return "questions-interrupted";
    }
    return "graded";
}

namespace {

json measured_json(const Measured& m) {
    if (!m.known) return nullptr;
    if (!m.is_number) return m.word;
    return m.number;
}

}  // namespace

json lab_json(const LabRecord& record) {
    const Sheet& sheet = *record.sheet;
    json parameters = json::object();
    for (const auto& [name, value] : record.variant.values) parameters[name] = value;
    json questions = json::array();
    size_t right = 0, graded_count = 0;
    for (size_t i = 0; i < sheet.questions.size(); ++i) {
        const Question& q = sheet.questions[i];
        json entry = {{"id", q.id},
                      {"kind", question_kind_name(q.kind)},
                      {"prompt", substitute_parameters(q.prompt, sheet, record.variant)}};
        if (q.kind == QuestionKind::Ranking) {
            json items = json::array();
            for (const RankItem& item : q.items)
                items.push_back({{"text", substitute_parameters(item.text, sheet, record.variant)}, {"metric", item.metric.text}});
            entry["items"] = items;
        } else {
            entry["metric"] = q.metric.text;
        }
        auto predicted = record.predictions.find(q.id);
        if (predicted != record.predictions.end()) {
            const Prediction& p = predicted->second;
            entry["prediction"] = p.text;
            if (q.kind == QuestionKind::Number) entry["prediction_value"] = p.number;
            else if (q.kind == QuestionKind::Choice) entry["prediction_value"] = std::string(1, static_cast<char>('a' + p.choice));
            else {
                json order = json::array();
                for (size_t index : p.order) order.push_back(std::string(1, static_cast<char>('a' + index)));
                entry["prediction_value"] = order;
            }
        } else {
            entry["prediction"] = nullptr;
            entry["prediction_value"] = nullptr;
        }
        if (i < record.graded.size()) {
            const Graded& g = record.graded[i];
            if (q.kind == QuestionKind::Ranking) {
                json values = json::array();
                for (const Measured& m : g.measured) values.push_back(measured_json(m));
                entry["measured"] = values;
            } else {
                entry["measured"] = measured_json(g.measured.front());
                if (!g.measured.front().unit.empty()) entry["unit"] = g.measured.front().unit;
            }
            entry["measured_text"] = g.measured_text;
            entry["answer"] = g.answer.empty() ? json(nullptr) : json(g.answer);
            entry["verdict"] = verdict_name(g.verdict);
            entry["explanation"] = g.explanation;
            right += g.verdict == Verdict::Right;
            graded_count += g.verdict == Verdict::Right || g.verdict == Verdict::Wrong;
        } else {
            entry["measured"] = nullptr;
            entry["measured_text"] = nullptr;
            entry["answer"] = nullptr;
            entry["verdict"] = "not-measured";
            entry["explanation"] = nullptr;
        }
        questions.push_back(entry);
    }
    return {
        {"schema", kLabResultSchema},
        {"sheet", {{"name", sheet.name}, {"version", sheet.version}, {"format", kSheetFormat}, {"title", sheet.title}}},
        {"seed", record.variant.seed},
        {"parameters", parameters},
        {"student", record.student.empty() ? json(nullptr) : json(record.student)},
        {"status", lab_status_name(record.status)},
        {"command", record.command},
        {"started_at", record.started_at.empty() ? json(nullptr) : json(record.started_at)},
        {"machine", {{"kernel", record.kernel}, {"cpus", record.cpus}}},
        {"report", record.report ? json(*record.report) : json(nullptr)},
        {"run_complete", record.run_complete ? json(*record.run_complete) : json(nullptr)},
        {"score", {{"right", right}, {"graded", graded_count}, {"questions", sheet.questions.size()}}},
        {"questions", questions},
    };
}

}  // namespace cxt::lab
