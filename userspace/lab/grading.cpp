#include "grading.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <functional>

namespace cxt::lab {

namespace {

std::string trim(const std::string& text) {
    size_t b = text.find_first_not_of(" \t\r\n"), e = text.find_last_not_of(" \t\r\n");
    return b == std::string::npos ? "" : text.substr(b, e - b + 1);
}

std::string lower(std::string text) {
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
}

std::string letter(size_t index) { return std::string(1, static_cast<char>('a' + index)); }

// "a" / "A" / "1" / "a)" -> index, for n options.
std::optional<size_t> option_index(std::string token, size_t n) {
    token = lower(trim(token));
    if (!token.empty() && (token.back() == ')' || token.back() == '.')) token.pop_back();
    if (token.size() == 1 && token[0] >= 'a' && static_cast<size_t>(token[0] - 'a') < n)
        return static_cast<size_t>(token[0] - 'a');
    if (!token.empty() && std::all_of(token.begin(), token.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
        token.size() < 3) {
        size_t v = std::stoul(token);
        if (v >= 1 && v <= n) return v - 1;
    }
    return std::nullopt;
}

double tolerance_of(const Tolerance& tolerance, double measured) {
    return std::max(tolerance.absolute.value_or(0), tolerance.relative.value_or(0) * std::fabs(measured));
}

// Which choice the measured value makes right, if any.
// Whether a known measured value equals `word`, or lies in [min, max).
bool matches(const Measured& measured, const std::optional<std::string>& word, const std::optional<double>& min,
             const std::optional<double>& max) {
    if (!measured.known) return false;
    if (word) return lower(*word) == lower(measured.is_number ? format_number(measured.number) : measured.word);
    return measured.is_number && (!min || measured.number >= *min) && (!max || measured.number < *max);
}

std::optional<size_t> matching_choice(const Question& question, const Measured& measured) {
    for (size_t i = 0; i < question.choices.size(); ++i) {
        const Choice& c = question.choices[i];
        if (matches(measured, c.word, c.min, c.max)) return i;
    }
    return std::nullopt;
}

// Whether `order` (item indexes) lists the values from largest (or
// smallest) down, items within `ties` of each other in either order.
bool order_holds(const std::vector<size_t>& order, const std::vector<double>& values, bool largest_first,
                 double ties) {
    for (size_t i = 0; i + 1 < order.size(); ++i)
        for (size_t j = i + 1; j < order.size(); ++j) {
            double a = values[order[i]], b = values[order[j]];
            double gap = ties * std::max(std::fabs(a), std::fabs(b));
            if (largest_first ? a + gap < b : a - gap > b) return false;
        }
    return true;
}

std::string unit_suffix(const Measured& m) {
    if (m.unit.empty()) return "";
    return m.unit == "%" || m.unit == "×" ? m.unit : " " + m.unit;
}

}  // namespace

const char* verdict_name(Verdict verdict) {
    switch (verdict) {
        case Verdict::Right: return "right";
        case Verdict::Wrong: return "wrong";
        case Verdict::Unanswered: return "unanswered";
        case Verdict::NotMeasured: return "not-measured";
    }
    return "unanswered";
}

std::string answer_hint(const Question& question) {
    switch (question.kind) {
        case QuestionKind::Number: return "a number";
        case QuestionKind::Choice: return "a letter, a to " + letter(question.choices.size() - 1);
        case QuestionKind::Ranking:
            return "the letters a to " + letter(question.items.size() - 1) + " in order, " +
                   (question.largest_first ? "largest" : "smallest") + " first (e.g. \"" +
                   (question.items.size() > 2 ? "b a c" : "b a") + "\")";
    }
    return "";
}

Result<Prediction> parse_prediction(const Question& question, const std::string& given) {
    Prediction p;
    p.text = trim(given);
    if (p.text.empty()) return Error{"no answer given: expected " + answer_hint(question)};
    switch (question.kind) {
        case QuestionKind::Number: {
            std::string text = p.text;
            if (!text.empty() && text.back() == '%') text.pop_back();
            char* end = nullptr;
            errno = 0;
            double value = std::strtod(text.c_str(), &end);
            if (end == text.c_str() || trim(end).size() > 0 || errno == ERANGE || !std::isfinite(value))
                return Error{"'" + p.text + "' is not a number"};
            p.number = value;
            return p;
        }
        case QuestionKind::Choice: {
            auto index = option_index(p.text, question.choices.size());
            if (!index) {
                for (size_t i = 0; i < question.choices.size(); ++i)  // the choice's own words are fine too
                    if (lower(p.text) == lower(question.choices[i].text)) index = i;
            }
            if (!index) return Error{"'" + p.text + "' is not one of the choices: expected " + answer_hint(question)};
            p.choice = *index;
            return p;
        }
        case QuestionKind::Ranking: {
            std::string token;
            std::vector<std::string> tokens;
            for (char c : p.text + " ") {
                if (c == ' ' || c == ',' || c == '>' || c == '\t') {
                    if (!token.empty()) tokens.push_back(token);
                    token.clear();
                } else {
                    token += c;
                }
            }
            // "bac" is fine too.
            if (tokens.size() == 1 && tokens[0].size() == question.items.size() && tokens[0].size() > 1) {
                std::string joined = tokens[0];
                tokens.clear();
                for (char c : joined) tokens.emplace_back(1, c);
            }
            std::vector<bool> seen(question.items.size(), false);
            for (const std::string& t : tokens) {
                auto index = option_index(t, question.items.size());
                if (!index) return Error{"'" + t + "' is not an item: expected " + answer_hint(question)};
                if (seen[*index]) return Error{"item " + letter(*index) + " is listed twice"};
                seen[*index] = true;
                p.order.push_back(*index);
            }
            if (p.order.size() != question.items.size())
                return Error{"rank all " + std::to_string(question.items.size()) + " items: expected " +
                             answer_hint(question)};
            return p;
        }
    }
    return p;
}

std::string describe_prediction(const Question& question, const Prediction& prediction) {
    switch (question.kind) {
        case QuestionKind::Number: return format_number(prediction.number);
        case QuestionKind::Choice: return letter(prediction.choice) + ") " + question.choices[prediction.choice].text;
        case QuestionKind::Ranking: {
            std::string text;
            for (size_t index : prediction.order) text += (text.empty() ? "" : " > ") + letter(index);
            return text;
        }
    }
    return prediction.text;
}

Graded grade(const Question& question, const std::optional<Prediction>& prediction, const MeasureFn& measure,
             const Sheet& sheet, const Variant& variant) {
    Graded g;
    g.question = &question;
    g.prediction = prediction;
    bool measured_all = true;
    std::optional<bool> right;
    if (question.kind == QuestionKind::Ranking) {
        std::vector<double> values;
        for (const RankItem& item : question.items) {
            g.measured.push_back(measure(item.metric));
            const Measured& m = g.measured.back();
            measured_all = measured_all && m.known && m.is_number;
            values.push_back(m.known && m.is_number ? m.number : 0);
        }
        std::vector<size_t> truth(question.items.size());
        for (size_t i = 0; i < truth.size(); ++i) truth[i] = i;
        std::stable_sort(truth.begin(), truth.end(), [&](size_t a, size_t b) {
            return question.largest_first ? values[a] > values[b] : values[a] < values[b];
        });
        for (size_t index : truth) {
            g.measured_text += (g.measured_text.empty() ? "" : " > ") + letter(index) + " " + format_measured(g.measured[index]);
            g.answer += (g.answer.empty() ? "" : " > ") + letter(index);
        }
        if (question.ties > 0) g.answer += " (within " + format_number(question.ties * 100) + "% either way)";
        if (measured_all && prediction) right = order_holds(prediction->order, values, question.largest_first, question.ties);
    } else {
        g.measured.push_back(measure(question.metric));
        const Measured& m = g.measured.front();
        g.measured_text = format_measured(m);
        measured_all = m.known;
        if (question.kind == QuestionKind::Number) {
            if (m.known && m.is_number) {
                double tolerance = tolerance_of(question.tolerance, m.number);
                g.answer = format_measured(m) + " (within ±" + format_number(tolerance) + unit_suffix(m) + ": " +
                           format_number(m.number - tolerance) + " to " + format_number(m.number + tolerance) + ")";
                if (prediction) right = std::fabs(prediction->number - m.number) <= tolerance + 1e-9;
            } else {
                measured_all = false;
            }
        } else {
            auto match = matching_choice(question, m);
            if (match) {
                g.answer = letter(*match) + ") " + substitute_parameters(question.choices[*match].text, sheet, variant);
                if (prediction) right = prediction->choice == *match;
            } else {
                measured_all = false;
                if (m.known) g.measured_text += " (no choice matches it)";
            }
        }
    }
    if (!measured_all) g.verdict = Verdict::NotMeasured;
    else if (!prediction) g.verdict = Verdict::Unanswered;
    else g.verdict = *right ? Verdict::Right : Verdict::Wrong;

    const std::string prediction_text = prediction ? describe_prediction(question, *prediction) : "no prediction";
    auto fill = [&](const std::string& text) {
        return fill_template(text, [&](const std::string& name) -> std::optional<std::string> {
            if (name == "measured") return g.measured_text;
            if (name == "prediction") return prediction_text;
            if (name == "answer") return g.answer.empty() ? std::string("unknown") : g.answer;
            if (name.rfind("metric:", 0) == 0) {
                auto metric = parse_metric(name.substr(7));
                return metric ? format_measured(measure(*metric)) : "?";
            }
            return parameter_value(name, sheet, variant);
        });
    };
    g.explanation = fill(question.explanation);
    for (const WhenSentence& when : question.when) {
        const Measured value = when.metric ? measure(*when.metric) : g.measured.front();
        if (matches(value, when.word, when.min, when.max)) g.explanation += " " + fill(when.text);
    }
    return g;
}

std::vector<Graded> grade_all(const Sheet& sheet, const Variant& variant,
                              const std::map<std::string, Prediction>& predictions, const RunModel& model) {
    const Measurer measure(model);
    std::vector<Graded> out;
    for (const Question& question : sheet.questions) {
        auto found = predictions.find(question.id);
        out.push_back(grade(question, found == predictions.end() ? std::nullopt : std::optional<Prediction>(found->second),
                            std::cref(measure), sheet, variant));
    }
    return out;
}

}  // namespace cxt::lab
