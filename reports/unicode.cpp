#include "unicode.h"

#include <cstdio>

namespace cxt {

size_t utf8_sequence_length(const std::string& text, size_t i) {
    auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
    unsigned char lead = byte(i);
    size_t length = lead < 0x80 ? 1 : (lead >> 5) == 0x6 ? 2 : (lead >> 4) == 0xe ? 3 : (lead >> 3) == 0x1e ? 4 : 0;
    if (length == 0 || i + length > text.size()) return 0;
    for (size_t k = 1; k < length; ++k)
        if ((byte(i + k) & 0xc0) != 0x80) return 0;
    if (length == 2 && lead < 0xc2) return 0;                          // overlong
    if (length == 3 && lead == 0xe0 && byte(i + 1) < 0xa0) return 0;   // overlong
    if (length == 3 && lead == 0xed && byte(i + 1) >= 0xa0) return 0;  // surrogate
    if (length == 4 && (lead > 0xf4 || (lead == 0xf0 && byte(i + 1) < 0x90) || (lead == 0xf4 && byte(i + 1) >= 0x90)))
        return 0;
    return length;
}

std::pair<uint32_t, size_t> bidi_control_at(const std::string& text, size_t i) {
    auto byte = [&](size_t k) { return k < text.size() ? static_cast<unsigned char>(text[k]) : 0u; };
    if (byte(i) == 0xd8 && byte(i + 1) == 0x9c) return {0x061c, 2};
    if (byte(i) != 0xe2) return {0, 0};
    const uint32_t code = 0x2000 | (byte(i + 1) & 0x3f) << 6 | (byte(i + 2) & 0x3f);
    const bool control = (byte(i + 1) == 0x80 && (byte(i + 2) == 0x8e || byte(i + 2) == 0x8f ||
                                                  (byte(i + 2) >= 0xaa && byte(i + 2) <= 0xae))) ||
                         (byte(i + 1) == 0x81 && byte(i + 2) >= 0xa6 && byte(i + 2) <= 0xa9);
    return control ? std::pair{code, size_t{3}} : std::pair{0u, size_t{0}};
}

std::string terminal_safe(const std::string& text) {
    std::string out;
    for (size_t i = 0; i < text.size();) {
        const unsigned char c = static_cast<unsigned char>(text[i]);
        char buf[16];
        if (auto [code, length] = bidi_control_at(text, i); length > 0) {
            std::snprintf(buf, sizeof buf, "[U+%04X]", code);
            out += buf;
            i += length;
        } else if (c < 0x20 || c == 0x7f) {
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
            ++i;
        } else {
            out += static_cast<char>(c);
            ++i;
        }
    }
    return out;
}

}  // namespace cxt
