// TextOut: where a renderer writes its text. Text collects in a buffer that
// is handed on in large chunks (to a file, or to a string), so a report of
// any size is written without ever holding it whole in memory.
#pragma once

#include <charconv>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

namespace cxt {

class TextOut {
public:
    using Consumer = std::function<void(std::string_view)>;
    static constexpr size_t kChunk = 1 << 20;

    explicit TextOut(Consumer consumer) : consumer_(std::move(consumer)) { buffer_.reserve(kChunk + 4096); }
    ~TextOut() { flush(); }
    TextOut(const TextOut&) = delete;
    TextOut& operator=(const TextOut&) = delete;

    void put(std::string_view text) {
        buffer_.append(text.data(), text.size());
        if (buffer_.size() >= kChunk) flush();
    }
    void put(char c) {
        buffer_.push_back(c);
        if (buffer_.size() >= kChunk) flush();
    }
    template <typename Int>
    void put_int(Int value) {
        char digits[24];
        auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
        put(std::string_view(digits, static_cast<size_t>(end - digits)));
    }
    void flush() {
        if (buffer_.empty()) return;
        consumer_(buffer_);
        buffer_.clear();
    }

private:
    Consumer consumer_;
    std::string buffer_;
};

// Runs write(out) and returns everything it wrote as one string (tests,
// small outputs).
template <typename Write>
std::string render_to_string(Write&& write) {
    std::string text;
    {
        TextOut out([&](std::string_view chunk) { text.append(chunk.data(), chunk.size()); });
        write(out);
    }
    return text;
}

}  // namespace cxt
