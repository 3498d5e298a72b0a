#include "answers.h"

#include <fstream>
#include <sstream>

namespace cxt::lab {

namespace {

std::string trim(const std::string& text) {
    size_t b = text.find_first_not_of(" \t\r"), e = text.find_last_not_of(" \t\r");
    return b == std::string::npos ? "" : text.substr(b, e - b + 1);
}

}  // namespace

Result<std::map<std::string, Prediction>> parse_answers(const std::string& text, const std::string& path,
                                                        const Sheet& sheet) {
    std::map<std::string, Prediction> predictions;
    std::istringstream in(text);
    std::string line;
    for (int number = 1; std::getline(in, line); ++number) {
        const std::string where = path + ":" + std::to_string(number) + ": ";
        std::string content = trim(line);
        if (content.empty() || content[0] == '#') continue;
        size_t eq = content.find('=');
        if (eq == std::string::npos) return Error{where + "expected id = value"};
        std::string id = trim(content.substr(0, eq));
        std::string value = trim(content.substr(eq + 1));
        if (value.size() >= 2 && value.front() == '"') {
            size_t close = value.find('"', 1);
            if (close == std::string::npos) return Error{where + id + ": a value without its closing quote"};
            value = value.substr(1, close - 1);
        } else if (size_t hash = value.find('#'); hash != std::string::npos) {
            value = trim(value.substr(0, hash));
        }
        const Question* question = nullptr;
        for (const Question& q : sheet.questions)
            if (q.id == id) question = &q;
        if (!question) {
            std::string ids;
            for (const Question& q : sheet.questions) ids += (ids.empty() ? "" : ", ") + q.id;
            return Error{where + id + ": the sheet " + sheet.name + " has no such question (it has: " + ids + ")"};
        }
        if (predictions.count(id)) return Error{where + id + ": answered twice"};
        auto prediction = parse_prediction(*question, value);
        if (!prediction) return Error{where + id + ": " + prediction.error().what};
        predictions.emplace(id, std::move(*prediction));
    }
    return predictions;
}

Result<std::map<std::string, Prediction>> load_answers(const std::string& path, const Sheet& sheet) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return os_error("cannot read the answers file " + path);
    std::ostringstream text;
    text << in.rdbuf();
    if (text.str().size() > (1u << 20)) return Error{path + ": an answers file is at most 1 MiB"};
    return parse_answers(text.str(), path, sheet);
}

std::string format_answers(const Sheet& sheet, const std::map<std::string, Prediction>& predictions) {
    std::string text = "# predictions for the lab sheet " + sheet.name + " (cxtrace lab --answers FILE)\n";
    for (const Question& q : sheet.questions) {
        auto found = predictions.find(q.id);
        if (found == predictions.end()) continue;
        std::string value;
        for (char c : found->second.text)
            if (c != '"' && c != '\n' && c != '\r') value += c;
        text += q.id + " = \"" + value + "\"\n";
    }
    return text;
}

}  // namespace cxt::lab
