#include "sheet.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

// toml++ (Debian's libtomlplusplus-dev), used header-only: nothing to link,
// no run-time library for the package to depend on.
#define TOML_HEADER_ONLY 1
#define TOML_EXCEPTIONS 1
#include <toml++/toml.h>

namespace cxt::lab {

namespace {

// A sheet error: where (file:line:column) and which field.
struct SheetError {
    std::string message;
};

class Reader {
public:
    explicit Reader(std::string path) : path_(std::move(path)) {}

    [[noreturn]] void fail(const toml::node* node, const std::string& field, const std::string& what) const {
        std::string where = path_;
        if (node && node->source().begin) {
            where += ":" + std::to_string(node->source().begin.line) + ":" + std::to_string(node->source().begin.column);
        }
        throw SheetError{where + ": " + field + ": " + what};
    }
    [[noreturn]] void fail_missing(const toml::table& table, const std::string& field, const std::string& what) const {
        fail(&table, field, "missing: " + what);
    }

    // Every key of `table` must be one of `allowed`.
    void only(const toml::table& table, const std::string& prefix, std::initializer_list<const char*> allowed) const {
        for (auto it = table.begin(); it != table.end(); ++it) {
            const std::string key(it->first.str());
            bool known = false;
            for (const char* a : allowed) known = known || key == a;
            if (!known) {
                std::string list;
                for (const char* a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
                fail(&it->second, prefix + key, "unknown field (expected one of: " + list + ")");
            }
        }
    }

    std::string string(const toml::table& table, const std::string& key, const std::string& field, bool required,
                       const std::string& fallback = "") const {
        const toml::node* node = table.get(key);
        if (!node) {
            if (required) fail_missing(table, field, "a string");
            return fallback;
        }
        if (!node->is_string()) fail(node, field, "must be a string");
        return node->as_string()->get();
    }

    std::vector<std::string> strings(const toml::table& table, const std::string& key, const std::string& field) const {
        std::vector<std::string> out;
        const toml::node* node = table.get(key);
        if (!node) return out;
        const toml::array* array = node->as_array();
        if (!array) fail(node, field, "must be an array of strings, e.g. [\"-n\", \"{count}\"]");
        for (const toml::node& item : *array) {
            if (!item.is_string()) fail(&item, field, "must be an array of strings");
            out.push_back(item.as_string()->get());
        }
        return out;
    }

    std::optional<double> number(const toml::table& table, const std::string& key, const std::string& field) const {
        const toml::node* node = table.get(key);
        if (!node) return std::nullopt;
        if (node->is_integer()) return static_cast<double>(node->as_integer()->get());
        if (node->is_floating_point()) {
            double value = node->as_floating_point()->get();
            if (!std::isfinite(value)) fail(node, field, "must be a finite number");
            return value;
        }
        fail(node, field, "must be a number");
    }

    const toml::table& table(const toml::table& parent, const std::string& key, const std::string& field) const {
        const toml::node* node = parent.get(key);
        if (!node) fail_missing(parent, field, "a table [" + key + "]");
        if (!node->is_table()) fail(node, field, "must be a table");
        return *node->as_table();
    }

    const std::string& path() const { return path_; }

private:
    std::string path_;
};

bool valid_id(const std::string& id) {
    if (id.empty() || id.size() > 64) return false;
    for (char c : id)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) return false;
    return true;
}

// Checks a template's placeholders: {name} (a parameter), {sheet_dir}, and
// in explanations {measured}, {prediction}, {answer}, {metric:EXPR}.
void check_template(const Reader& r, const toml::node* node, const std::string& field, const std::string& text,
                    const std::set<std::string>& parameters, bool explanation) {
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '}') {
            if (i + 1 < text.size() && text[i + 1] == '}') {
                ++i;
                continue;
            }
            r.fail(node, field, "a lone '}' (write '}}' for a brace)");
        }
        if (text[i] != '{') continue;
        if (i + 1 < text.size() && text[i + 1] == '{') {
            ++i;
            continue;
        }
        size_t close = text.find('}', i);
        if (close == std::string::npos) r.fail(node, field, "a '{' without its '}' (write '{{' for a brace)");
        std::string name = text.substr(i + 1, close - i - 1);
        i = close;
        if (parameters.count(name) || name == "sheet_dir") continue;
        if (name.rfind("param:", 0) == 0 && parameters.count(name.substr(6))) continue;
        if (explanation && (name == "measured" || name == "prediction" || name == "answer")) continue;
        if (explanation && name.rfind("metric:", 0) == 0) {
            auto metric = parse_metric(name.substr(7));
            if (!metric) r.fail(node, field, "placeholder {" + name + "}: " + metric.error().what);
            continue;
        }
        r.fail(node, field,
               "unknown placeholder {" + name + "} (" +
                   (explanation ? "{measured}, {prediction}, {answer}, {metric:EXPR}, or a parameter"
                                : "a parameter, or {sheet_dir}") +
                   ")");
    }
}

Metric metric_field(const Reader& r, const toml::table& table, const std::string& field) {
    const toml::node* node = table.get("metric");
    if (!node) r.fail_missing(table, field + "metric", "the measured quantity, e.g. \"threads\"");
    if (!node->is_string()) r.fail(node, field + "metric", "must be a string");
    auto metric = parse_metric(node->as_string()->get());
    if (!metric) r.fail(node, field + "metric", metric.error().what);
    return *metric;
}

// What a choice or a when sentence matches: the measured `word`, or the
// range [min, max); exactly one of the two forms.
template <typename Matcher>
void read_word_or_range(const Reader& r, const toml::table& table, const std::string& field, Matcher& out) {
    if (table.get("word")) out.word = r.string(table, "word", field + ".word", true);
    out.min = r.number(table, "min", field + ".min");
    out.max = r.number(table, "max", field + ".max");
    if (out.word && (out.min || out.max)) r.fail(&table, field, "either word or min/max, not both");
    if (!out.word && !out.min && !out.max)
        r.fail(&table, field, "needs word (the measured word) or min and/or max (the measured range)");
}

Question read_question(const Reader& r, const toml::table& q, const std::string& at,
                       const std::set<std::string>& parameters) {
    r.only(q, at + ".", {"id", "kind", "prompt", "metric", "tolerance", "choices", "items", "order", "ties",
                         "explanation", "when"});
    Question question;
    question.id = r.string(q, "id", at + ".id", true);
    if (!valid_id(question.id)) r.fail(q.get("id"), at + ".id", "letters, digits, - and _ only (1 to 64)");
    const std::string field = at + " (" + question.id + ").";
    std::string kind = r.string(q, "kind", field + "kind", true);
    if (kind == "number") question.kind = QuestionKind::Number;
    else if (kind == "choice") question.kind = QuestionKind::Choice;
    else if (kind == "ranking") question.kind = QuestionKind::Ranking;
    else r.fail(q.get("kind"), field + "kind", "must be number, choice or ranking, not '" + kind + "'");
    question.prompt = r.string(q, "prompt", field + "prompt", true);
    check_template(r, q.get("prompt"), field + "prompt", question.prompt, parameters, false);
    question.explanation = r.string(q, "explanation", field + "explanation", true);
    check_template(r, q.get("explanation"), field + "explanation", question.explanation, parameters, true);

    auto forbid = [&](const char* key, const char* why) {
        if (const toml::node* node = q.get(key)) r.fail(node, field + key, why);
    };
    if (question.kind != QuestionKind::Ranking) {
        question.metric = metric_field(r, q, field);
        forbid("items", "only ranking questions have items");
        forbid("order", "only ranking questions have an order");
        forbid("ties", "only ranking questions have ties");
    } else {
        forbid("metric", "a ranking question names a metric per item");
    }
    if (question.kind == QuestionKind::Number) {
        forbid("choices", "only choice questions have choices");
        const toml::node* node = q.get("tolerance");
        if (!node) r.fail_missing(q, field + "tolerance", "{ absolute = N } and/or { relative = R }");
        const toml::table* tolerance = node->as_table();
        if (!tolerance) r.fail(node, field + "tolerance", "must be a table { absolute = N, relative = R }");
        r.only(*tolerance, field + "tolerance.", {"absolute", "relative"});
        question.tolerance.absolute = r.number(*tolerance, "absolute", field + "tolerance.absolute");
        question.tolerance.relative = r.number(*tolerance, "relative", field + "tolerance.relative");
        if (!question.tolerance.absolute && !question.tolerance.relative)
            r.fail(node, field + "tolerance", "give absolute and/or relative");
        if (question.tolerance.absolute.value_or(0) < 0 || question.tolerance.relative.value_or(0) < 0)
            r.fail(node, field + "tolerance", "must not be negative");
    } else {
        forbid("tolerance", "only number questions have a tolerance");
    }
    if (question.kind == QuestionKind::Choice) {
        const toml::node* node = q.get("choices");
        if (!node) r.fail_missing(q, field + "choices", "an array of { text = ..., word = ... | min/max = ... }");
        const toml::array* choices = node->as_array();
        if (!choices || choices->size() < 2 || choices->size() > 9)
            r.fail(node, field + "choices", "must be an array of 2 to 9 tables");
        for (size_t i = 0; i < choices->size(); ++i) {
            const std::string cf = field + "choices[" + std::to_string(i + 1) + "]";
            const toml::table* c = (*choices)[i].as_table();
            if (!c) r.fail(&(*choices)[i], cf, "must be a table { text = ..., word = ... } or { text, min, max }");
            r.only(*c, cf + ".", {"text", "word", "min", "max"});
            Choice choice;
            choice.text = r.string(*c, "text", cf + ".text", true);
            check_template(r, c->get("text"), cf + ".text", choice.text, parameters, false);
            read_word_or_range(r, *c, cf, choice);
            question.choices.push_back(std::move(choice));
        }
    } else if (question.kind == QuestionKind::Ranking) {
        const toml::node* node = q.get("items");
        if (!node) r.fail_missing(q, field + "items", "an array of { text = ..., metric = ... }");
        const toml::array* items = node->as_array();
        if (!items || items->size() < 2 || items->size() > 9)
            r.fail(node, field + "items", "must be an array of 2 to 9 tables");
        for (size_t i = 0; i < items->size(); ++i) {
            const std::string itf = field + "items[" + std::to_string(i + 1) + "]";
            const toml::table* item = (*items)[i].as_table();
            if (!item) r.fail(&(*items)[i], itf, "must be a table { text = ..., metric = ... }");
            r.only(*item, itf + ".", {"text", "metric"});
            RankItem rank;
            rank.text = r.string(*item, "text", itf + ".text", true);
            check_template(r, item->get("text"), itf + ".text", rank.text, parameters, false);
            rank.metric = metric_field(r, *item, itf + ".");
            question.items.push_back(std::move(rank));
        }
        std::string order = r.string(q, "order", field + "order", false, "largest-first");
        if (order != "largest-first" && order != "smallest-first")
            r.fail(q.get("order"), field + "order", "must be largest-first or smallest-first");
        question.largest_first = order == "largest-first";
        question.ties = r.number(q, "ties", field + "ties").value_or(0);
        if (question.ties < 0 || question.ties >= 1) r.fail(q.get("ties"), field + "ties", "must be in [0, 1)");
    }
    if (const toml::node* node = q.get("when")) {
        const toml::array* list = node->as_array();
        if (!list || list->empty())
            r.fail(node, field + "when", "must be an array of tables { text = ..., word = ... | min/max = ... }");
        for (size_t i = 0; i < list->size(); ++i) {
            const std::string wf = field + "when[" + std::to_string(i + 1) + "]";
            const toml::table* w = (*list)[i].as_table();
            if (!w) r.fail(&(*list)[i], wf, "must be a table { text = ..., word = ... } or { text, min, max }");
            r.only(*w, wf + ".", {"text", "metric", "word", "min", "max"});
            WhenSentence when;
            when.text = r.string(*w, "text", wf + ".text", true);
            check_template(r, w->get("text"), wf + ".text", when.text, parameters, true);
            if (w->get("metric")) when.metric = metric_field(r, *w, wf + ".");
            else if (question.kind == QuestionKind::Ranking)
                r.fail_missing(*w, wf + ".metric", "a ranking question has no metric of its own to test");
            read_word_or_range(r, *w, wf, when);
            question.when.push_back(std::move(when));
        }
    }
    return question;
}

Sheet read_sheet(const Reader& r, const toml::table& root, const std::string& path) {
    r.only(root, "", {"format", "version", "title", "workload", "parameters", "question"});
    const std::string format = r.string(root, "format", "format", true);
    if (format != kSheetFormat)
        r.fail(root.get("format"), "format",
               "this cxtrace reads \"" + std::string(kSheetFormat) + "\" sheets, not \"" + format + "\"");
    Sheet sheet;
    sheet.path = path;
    std::string base = path.substr(path.rfind('/') + 1);
    sheet.name = base.size() > 5 && base.compare(base.size() - 5, 5, ".toml") == 0 ? base.substr(0, base.size() - 5) : base;
    sheet.version = r.string(root, "version", "version", true);
    sheet.title = r.string(root, "title", "title", true);

    std::set<std::string> names;
    if (const toml::node* node = root.get("parameters")) {
        const toml::table* parameters = node->as_table();
        if (!parameters) r.fail(node, "parameters", "must be a table: name = { min = A, max = B } or { values = [...] }");
        for (auto it = parameters->begin(); it != parameters->end(); ++it) {
            Parameter p;
            p.name = std::string(it->first.str());
            const std::string pf = "parameters." + p.name;
            if (!valid_id(p.name) || p.name == "sheet_dir" || p.name == "measured" || p.name == "prediction" ||
                p.name == "answer")
                r.fail(&it->second, pf, "a parameter name: letters, digits, - and _ (and not a placeholder's name)");
            const toml::table* spec = it->second.as_table();
            if (!spec) r.fail(&it->second, pf, "must be { min = A, max = B } or { values = [A, B, ...] }");
            r.only(*spec, pf + ".", {"min", "max", "values"});
            if (const toml::node* values = spec->get("values")) {
                const toml::array* array = values->as_array();
                if (!array || array->empty()) r.fail(values, pf + ".values", "must be a non-empty array of integers");
                for (const toml::node& v : *array) {
                    if (!v.is_integer()) r.fail(&v, pf + ".values", "must be integers");
                    p.values.push_back(v.as_integer()->get());
                }
                if (spec->get("min") || spec->get("max")) r.fail(spec, pf, "either values or min/max, not both");
            } else {
                const toml::node* min = spec->get("min");
                const toml::node* max = spec->get("max");
                if (!min || !max) r.fail(spec, pf, "needs min and max (integers), or values");
                if (!min->is_integer()) r.fail(min, pf + ".min", "must be an integer");
                if (!max->is_integer()) r.fail(max, pf + ".max", "must be an integer");
                p.min = min->as_integer()->get();
                p.max = max->as_integer()->get();
                if (p.min > p.max) r.fail(spec, pf, "min must not exceed max");
            }
            names.insert(p.name);
            sheet.parameters.push_back(std::move(p));
        }
        // toml++ keeps tables sorted by key; the sheet's order is the source's.
        std::sort(sheet.parameters.begin(), sheet.parameters.end(), [&](const Parameter& a, const Parameter& b) {
            auto pos = [&](const Parameter& p) { return parameters->get(p.name)->source().begin.line; };
            return pos(a) < pos(b);
        });
    }

    const toml::table& workload = r.table(root, "workload", "workload");
    r.only(workload, "workload.", {"name", "args", "command", "needs", "from_exec"});
    sheet.workload.workload = r.string(workload, "name", "workload.name", false);
    sheet.workload.args = r.strings(workload, "args", "workload.args");
    sheet.workload.command = r.strings(workload, "command", "workload.command");
    sheet.workload.needs = r.strings(workload, "needs", "workload.needs");
    sheet.workload.from_exec = r.string(workload, "from_exec", "workload.from_exec", false);
    if (sheet.workload.workload.empty() == sheet.workload.command.empty())
        r.fail(&workload, "workload", "give name (a bundled workload) or command (any program), one of them");
    if (!sheet.workload.command.empty() && workload.get("args"))
        r.fail(workload.get("args"), "workload.args", "only with name: a command carries its own arguments");
    for (const char* key : {"args", "command"}) {
        const toml::array* array = workload.get(key) ? workload.get(key)->as_array() : nullptr;
        if (!array) continue;
        for (const toml::node& item : *array)
            check_template(r, &item, std::string("workload.") + key, item.as_string()->get(), names, false);
    }

    const toml::node* node = root.get("question");
    if (!node) r.fail_missing(root, "question", "3 to 5 [[question]] tables");
    const toml::array* questions = node->as_array();
    if (!questions || !questions->is_array_of_tables())
        r.fail(node, "question", "must be [[question]] tables");
    if (questions->size() < 1 || questions->size() > 9) r.fail(node, "question", "a sheet has 1 to 9 questions");
    std::set<std::string> ids;
    for (size_t i = 0; i < questions->size(); ++i) {
        const toml::table& q = *(*questions)[i].as_table();
        Question question = read_question(r, q, "question[" + std::to_string(i + 1) + "]", names);
        if (!ids.insert(question.id).second)
            r.fail(q.get("id"), "question[" + std::to_string(i + 1) + "].id", "'" + question.id + "' is used twice");
        sheet.questions.push_back(std::move(question));
    }
    return sheet;
}

// splitmix64: a small, well-mixed, deterministic generator.
uint64_t splitmix64(uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

uint64_t fnv1a(const std::string& text) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (unsigned char c : text) h = (h ^ c) * 0x100000001b3ULL;
    return h;
}

}  // namespace

const char* question_kind_name(QuestionKind kind) {
    switch (kind) {
        case QuestionKind::Number: return "number";
        case QuestionKind::Choice: return "choice";
        case QuestionKind::Ranking: return "ranking";
    }
    return "number";
}

Result<Sheet> parse_sheet(const std::string& text, const std::string& path) {
    Reader reader(path);
    try {
        toml::table root = toml::parse(text, path);
        return read_sheet(reader, root, path);
    } catch (const toml::parse_error& e) {
        const auto& at = e.source().begin;
        return Error{path + ":" + std::to_string(at.line) + ":" + std::to_string(at.column) +
                     ": not valid TOML: " + std::string(e.description())};
    } catch (const SheetError& e) {
        return Error{e.message};
    }
}

Result<Sheet> load_sheet(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return os_error("cannot read the lab sheet " + path);
    std::ostringstream text;
    text << in.rdbuf();
    if (text.str().size() > (1u << 20)) return Error{path + ": a lab sheet is at most 1 MiB"};
    return parse_sheet(text.str(), path);
}

Variant choose_variant(const Sheet& sheet, uint64_t seed) {
    Variant variant;
    variant.seed = seed;
    for (const Parameter& p : sheet.parameters) {
        uint64_t r = splitmix64(splitmix64(seed) ^ fnv1a(p.name));
        if (!p.values.empty()) {
            variant.values[p.name] = p.values[r % p.values.size()];
        } else {
            uint64_t span = static_cast<uint64_t>(p.max - p.min) + 1;
            variant.values[p.name] = p.min + static_cast<int64_t>(span == 0 ? r : r % span);
        }
    }
    return variant;
}

std::string describe_variant(const Sheet& sheet, const Variant& variant) {
    std::string text;
    for (const Parameter& p : sheet.parameters) {
        auto found = variant.values.find(p.name);
        if (found == variant.values.end()) continue;
        text += (text.empty() ? "" : " ") + p.name + "=" + std::to_string(found->second);
    }
    return text;
}

std::string fill_template(const std::string& text,
                          const std::function<std::optional<std::string>(const std::string&)>& value) {
    std::string out;
    for (size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if ((c == '{' || c == '}') && i + 1 < text.size() && text[i + 1] == c) {
            out += c;
            ++i;
            continue;
        }
        size_t close = c == '{' ? text.find('}', i) : std::string::npos;
        if (close == std::string::npos) {
            out += c;
            continue;
        }
        const std::string name = text.substr(i + 1, close - i - 1);
        if (auto filled = value(name)) out += *filled;
        else out += text.substr(i, close - i + 1);
        i = close;
    }
    return out;
}

std::optional<std::string> parameter_value(const std::string& placeholder, const Sheet& sheet, const Variant& variant) {
    std::string name = placeholder.rfind("param:", 0) == 0 ? placeholder.substr(6) : placeholder;
    if (auto found = variant.values.find(name); found != variant.values.end()) return std::to_string(found->second);
    if (name == "sheet_dir") {
        size_t slash = sheet.path.rfind('/');
        return slash == std::string::npos ? std::string(".") : sheet.path.substr(0, slash);
    }
    return std::nullopt;
}

std::string substitute_parameters(const std::string& text, const Sheet& sheet, const Variant& variant) {
    return fill_template(text, [&](const std::string& name) { return parameter_value(name, sheet, variant); });
}

std::vector<std::string> workload_arguments(const Sheet& sheet, const Variant& variant) {
    std::vector<std::string> argv;
    if (!sheet.workload.workload.empty()) argv.push_back(sheet.workload.workload);
    for (const std::string& arg : sheet.workload.workload.empty() ? sheet.workload.command : sheet.workload.args)
        argv.push_back(substitute_parameters(arg, sheet, variant));
    return argv;
}

}  // namespace cxt::lab
