// Reading untrusted text (names and arguments from the traced program)
// byte by byte: what is valid UTF-8, and what is a bidirectional control,
// which would show the rest of a line reversed wherever it is printed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

namespace cxt {

// Length of the valid UTF-8 sequence starting at text[i], or 0 if invalid.
size_t utf8_sequence_length(const std::string& text, size_t i);

// The code point of a bidirectional control at text[i] (ALM, LRM, RLM,
// LRE..RLO, LRI..PDI) and its length in bytes, or {0, 0}.
std::pair<uint32_t, size_t> bidi_control_at(const std::string& text, size_t i);

// Text from the traced program made safe for a terminal: no control
// sequence of its own reaches it (shown as \x1b), and no bidirectional
// control shows the rest of a line reversed (shown as [U+202E], as
// report.html does).
std::string terminal_safe(const std::string& text);

}  // namespace cxt
