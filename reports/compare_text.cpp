#include "compare_text.h"

#include <string>

#include "unicode.h"

namespace cxt {

namespace {

constexpr size_t kFigureColumn = 38;
constexpr size_t kRunColumn = 13;
constexpr size_t kWrapAt = 100;

// Characters as a terminal shows them (UTF-8 continuation bytes add none).
size_t shown_width(const std::string& text) {
    size_t width = 0;
    for (unsigned char c : text) width += (c & 0xc0) != 0x80;
    return width;
}

// The first `n` characters of text (never cutting one), or the last `n`.
std::string first_chars(const std::string& text, size_t n) {
    size_t keep = 0;
    for (size_t shown = 0; keep < text.size() && shown < n; ++shown)
        for (++keep; keep < text.size() && (static_cast<unsigned char>(text[keep]) & 0xc0) == 0x80;) ++keep;
    return text.substr(0, keep);
}
std::string last_chars(const std::string& text, size_t n) {
    size_t from = text.size();
    for (size_t shown = 0; from > 0 && shown < n; ++shown)
        while (from > 0 && (static_cast<unsigned char>(text[--from]) & 0xc0) == 0x80) {
        }
    return text.substr(from);
}

// Terminal-safe text in a column of `width`, padded; text too long is cut
// at its end, or in its middle where the end tells values apart (a kernel
// release: 6.1.0-18-amd64), marked by '~'.
std::string cell(const std::string& raw, size_t width, bool cut_middle = false) {
    std::string text = terminal_safe(raw);
    if (shown_width(text) >= width) {
        const size_t room = width - 1;  // characters shown, the ~ included: one space is left
        text = cut_middle ? first_chars(text, room / 2) + "~" + last_chars(text, room - room / 2 - 1)
                          : first_chars(text, room - 1) + "~";
    }
    return text + std::string(width - shown_width(text), ' ');
}

// Words wrapped at kWrapAt: the first line after `first`, the others after `indent`.
std::string wrapped(const std::string& first, const std::string& text, const std::string& indent) {
    std::string out, line = first;
    bool fresh = true;  // nothing on the line yet but its indent
    for (size_t start = 0; start < text.size();) {
        size_t end = text.find(' ', start);
        if (end == std::string::npos) end = text.size();
        const std::string word = text.substr(start, end - start);
        start = end + 1;
        if (word.empty()) continue;
        if (!fresh && shown_width(line) + 1 + shown_width(word) > kWrapAt) {
            out += line + "\n";
            line = indent;
            fresh = true;
        }
        line += (fresh ? "" : " ") + word;
        fresh = false;
    }
    return out + line + "\n";
}

}  // namespace

std::string render_compare_text(const Comparison& c) {
    std::string out = "\ncxtrace compare: " + std::to_string(c.runs.size()) + " runs\n";
    for (const CompareRun& run : c.runs)
        out += "  " + std::string(1, run.letter) + "  " + cell(run.label, kFigureColumn - 2) + " " +
               terminal_safe(run.source) + "\n";
    for (const CompareRun& run : c.runs)
        for (const CompareNote& note : compare_run_notes(run))
            out += wrapped(note.warning ? "  WARNING: " : "  note: ", terminal_safe(note.text), "    ");

    std::string head = "\n" + std::string(kFigureColumn + 2, ' ');
    for (const CompareRun& run : c.runs) head += cell(std::string(1, run.letter), kRunColumn);
    while (!head.empty() && head.back() == ' ') head.pop_back();
    out += head + "\n";
    for (const CompareSection& section : c.sections) {
        out += "  " + section.title + "\n";
        if (section.rows.empty()) out += "    (unknown in every run)\n";
        for (const CompareRow& row : section.rows) {
            std::string line = std::string(row.differs ? "  * " : "    ") + cell(row.label, kFigureColumn - 2);
            for (const CompareValue& value : row.values)
                line += cell(format_compare_value(value, row.unit), kRunColumn, row.unit == CompareUnit::Text);
            while (!line.empty() && line.back() == ' ') line.pop_back();
            out += line + "\n";
        }
    }
    if (c.differences.empty()) {
        out += "  what differs: nothing, by the rule below\n";
    } else {
        out += "  what differs (rows marked *):\n";
        for (const std::string& sentence : c.differences) out += wrapped("    - ", terminal_safe(sentence), "      ");
    }
    out += wrapped("  rule: ", compare_rule_text(), "    ");
    return out;
}

}  // namespace cxt
