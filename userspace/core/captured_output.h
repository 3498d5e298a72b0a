// What the traced command wrote to stdout or stderr (--capture-output):
// its first and last kOutputKeptBytes, and how much was cut between them.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace cxt {

constexpr size_t kOutputKeptBytes = 64 * 1024;  // kept at each end of a stream

// The stream was head + (cut_bytes() bytes not kept) + tail.
struct CapturedStream {
    std::string head;  // the first bytes written, up to kOutputKeptBytes
    std::string tail;  // the last bytes after the head, up to kOutputKeptBytes
    uint64_t total_bytes = 0;

    uint64_t cut_bytes() const { return total_bytes - head.size() - tail.size(); }
};

struct CapturedOutput {
    CapturedStream out, err;
};

// Builds a CapturedStream from the bytes of a stream as they come, in
// bounded memory.
class OutputKeeper {
public:
    void append(std::string_view bytes) {
        stream_.total_bytes += bytes.size();
        const size_t to_head = std::min(bytes.size(), kOutputKeptBytes - stream_.head.size());
        stream_.head.append(bytes.substr(0, to_head));
        bytes.remove_prefix(to_head);
        if (bytes.empty()) return;
        if (bytes.size() >= kOutputKeptBytes) {
            stream_.tail.assign(bytes.substr(bytes.size() - kOutputKeptBytes));
            return;
        }
        stream_.tail.append(bytes);
        // Trimmed once it holds twice what is kept: the erase is amortized.
        if (stream_.tail.size() >= 2 * kOutputKeptBytes)
            stream_.tail.erase(0, stream_.tail.size() - kOutputKeptBytes);
    }
    CapturedStream take() {
        if (stream_.tail.size() > kOutputKeptBytes) stream_.tail.erase(0, stream_.tail.size() - kOutputKeptBytes);
        return std::move(stream_);
    }

private:
    CapturedStream stream_;
};

}  // namespace cxt
