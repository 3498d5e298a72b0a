// JsonWriter: JSON text written straight to a TextOut, formatted exactly as
// nlohmann::json::dump formats it (compact, or indented), so a report
// written this way is byte for byte the one a DOM would give, without
// building the DOM: with thousands of tasks the DOM was most of the work.
// The caller writes object keys in nlohmann's order (sorted).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "text_out.h"

namespace cxt {

class JsonWriter {
public:
    // indent < 0: compact, as dump(); else as dump(indent). `level` is the
    // nesting depth the first value is written at (indented output only).
    JsonWriter(TextOut& out, int indent, int level = 0) : out_(out), indent_(indent), base_level_(level) {}

    void begin_object() { open('{'); }
    void end_object() { close('}'); }
    void begin_array() { open('['); }
    void end_array() { close(']'); }
    void key(std::string_view name);

    void value(uint64_t number) { before_value(), out_.put_int(number); }
    void value(uint32_t number) { value(static_cast<uint64_t>(number)); }
    void value(int64_t number) { before_value(), out_.put_int(number); }
    void value(int number) { value(static_cast<int64_t>(number)); }
    void value(bool flag) { before_value(), out_.put(flag ? "true" : "false"); }
    void value(std::string_view text) { before_value(), string(text); }
    void value(const std::string& text) { value(std::string_view(text)); }
    void value(const char* text) { value(std::string_view(text)); }
    void null() { before_value(), out_.put("null"); }
    template <typename T>
    void value(const std::optional<T>& maybe) {
        if (maybe) value(*maybe);
        else null();
    }
    // text as a JSON string literal, quotes included.
    static std::string quoted(std::string_view text);
    // Any nlohmann value, dumped in place (with invalid UTF-8 replaced).
    void value(const nlohmann::json& j);

private:
    struct Level {
        bool object;
        size_t count = 0;
    };
    void open(char bracket);
    void close(char bracket);
    void before_value();
    void newline_indent(size_t depth);
    void string(std::string_view text);

    TextOut& out_;
    int indent_;
    int base_level_;
    std::vector<Level> stack_;
    bool after_key_ = false;
};

}  // namespace cxt
