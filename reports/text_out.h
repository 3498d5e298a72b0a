// TextOut: where a renderer writes its text. Text collects in a buffer that
// is handed on in large chunks (to a file, or to a string), so a report of
// any size is written without ever holding it whole in memory.
#pragma once

#include <charconv>
#include <cstring>
#include <memory>
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

    explicit TextOut(Consumer consumer)
        : consumer_(std::move(consumer)), buffer_(new char[kChunk]) {}
    ~TextOut() { flush(); }
    TextOut(const TextOut&) = delete;
    TextOut& operator=(const TextOut&) = delete;

    void put(std::string_view text) {
        if (used_ + text.size() > kChunk) {
            flush();
            if (text.size() > kChunk) return consumer_(text);  // too big to buffer: pass it on
        }
        std::memcpy(buffer_.get() + used_, text.data(), text.size());
        used_ += text.size();
    }
    void put(char c) { put(std::string_view(&c, 1)); }
    template <typename Int>
    void put_int(Int value) {
        char digits[24];
        auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
        put(std::string_view(digits, static_cast<size_t>(end - digits)));
    }
    // Room for up to `bytes` (<= kChunk) written in place; then wrote(end).
    char* room(size_t bytes) {
        if (used_ + bytes > kChunk) flush();
        return buffer_.get() + used_;
    }
    void wrote(const char* end) { used_ = static_cast<size_t>(end - buffer_.get()); }
    void flush() {
        if (used_ == 0) return;
        consumer_(std::string_view(buffer_.get(), used_));
        used_ = 0;
    }

private:
    Consumer consumer_;
    std::unique_ptr<char[]> buffer_;
    size_t used_ = 0;
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
