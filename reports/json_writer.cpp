#include "json_writer.h"

#include <cstring>

namespace cxt {

void JsonWriter::newline_indent(size_t depth) {
    static const std::string spaces(256, ' ');
    out_.put('\n');
    size_t n = static_cast<size_t>(indent_) * depth;
    while (n > 0) {
        size_t now = std::min(n, spaces.size());
        out_.put(std::string_view(spaces.data(), now));
        n -= now;
    }
}

// Where a value starts: after "key": in an object, after a comma (and the
// line break) in an array.
void JsonWriter::before_value() {
    if (after_key_) {
        after_key_ = false;
        return;
    }
    if (stack_.empty()) return;
    Level& level = stack_.back();
    if (level.count++ > 0) out_.put(',');
    if (indent_ >= 0) newline_indent(base_level_ + stack_.size());
}

void JsonWriter::key(std::string_view name) {
    Level& level = stack_.back();
    if (level.count++ > 0) out_.put(',');
    if (indent_ >= 0) newline_indent(base_level_ + stack_.size());
    string(name);
    out_.put(indent_ >= 0 ? ": " : ":");
    after_key_ = true;
}

void JsonWriter::open(char bracket) {
    before_value();
    out_.put(bracket);
    stack_.push_back(Level{bracket == '{'});
}

void JsonWriter::close(char bracket) {
    bool empty = stack_.back().count == 0;
    stack_.pop_back();
    if (!empty && indent_ >= 0) newline_indent(base_level_ + stack_.size());
    out_.put(bracket);
}

namespace {
// Plain printable ASCII needs no escaping: by far the common case.
bool plain_ascii(std::string_view text) {
    for (char c : text) {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u >= 0x7f || c == '"' || c == '\\') return false;
    }
    return true;
}
// Anything else exactly as nlohmann escapes it (and replaces bad UTF-8).
std::string escaped(std::string_view text) {
    return nlohmann::json(std::string(text)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}
}  // namespace

std::string JsonWriter::quoted(std::string_view text) {
    if (!plain_ascii(text)) return escaped(text);
    std::string out;
    out.reserve(text.size() + 2);
    out += '"';
    out.append(text.data(), text.size());
    out += '"';
    return out;
}

void JsonWriter::string(std::string_view text) {
    if (!plain_ascii(text)) return out_.put(escaped(text));
    if (text.size() + 2 > TextOut::kChunk) {
        out_.put('"'), out_.put(text), out_.put('"');
        return;
    }
    char* p = out_.room(text.size() + 2);
    *p++ = '"';
    std::memcpy(p, text.data(), text.size());
    p += text.size();
    *p++ = '"';
    out_.wrote(p);
}

void JsonWriter::value(const nlohmann::json& j) {
    before_value();
    std::string text = j.dump(indent_, ' ', false, nlohmann::json::error_handler_t::replace);
    size_t depth = base_level_ + stack_.size();
    if (indent_ <= 0 || depth == 0) return out_.put(text);
    // dump() indents from level 0; line breaks occur only between tokens
    // (never inside a string), so each gets this level's indentation added.
    size_t from = 0;
    for (size_t nl = text.find('\n'); nl != std::string::npos; nl = text.find('\n', from)) {
        out_.put(std::string_view(text).substr(from, nl - from));
        newline_indent(depth);
        from = nl + 1;
    }
    out_.put(std::string_view(text).substr(from));
}

}  // namespace cxt
