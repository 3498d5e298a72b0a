// A minimal protobuf wire-format encoder (no protobuf library): varints,
// fixed64 and length-delimited fields, enough to write a Perfetto trace.
//
// Wire format (protobuf "Encoding" spec): a field is a tag varint
// (field_number << 3 | wire_type) followed by its value; wire type 0 is a
// varint, 1 eight little-endian bytes, 2 a varint length then the bytes.
// int32/int64 values are varints of their two's complement (a negative one
// takes ten bytes); bool is a varint 0/1; strings must be valid UTF-8.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace cxt::pb {

enum Wire : uint32_t { kVarint = 0, kFixed64 = 1, kLen = 2 };

constexpr size_t kMaxVarint = 10;

inline char* put_varint(char* p, uint64_t value) {
    while (value >= 0x80) {
        *p++ = static_cast<char>(static_cast<uint8_t>(value) | 0x80);
        value >>= 7;
    }
    *p++ = static_cast<char>(value);
    return p;
}

inline size_t varint_size(uint64_t value) {
    size_t n = 1;
    while (value >= 0x80) value >>= 7, ++n;
    return n;
}

inline char* put_tag(char* p, uint32_t field, Wire wire) {
    return put_varint(p, (static_cast<uint64_t>(field) << 3) | wire);
}

inline char* put_uint(char* p, uint32_t field, uint64_t value) { return put_varint(put_tag(p, field, kVarint), value); }

inline char* put_fixed64(char* p, uint32_t field, uint64_t value) {
    p = put_tag(p, field, kFixed64);
    for (int i = 0; i < 8; ++i) *p++ = static_cast<char>(static_cast<uint8_t>(value >> (8 * i)));
    return p;
}

// Tag and length of a length-delimited field; the caller writes `size` bytes after.
inline char* put_len(char* p, uint32_t field, size_t size) { return put_varint(put_tag(p, field, kLen), size); }

inline char* put_bytes(char* p, uint32_t field, std::string_view bytes) {
    p = put_len(p, field, bytes.size());
    std::memcpy(p, bytes.data(), bytes.size());
    return p + bytes.size();
}

// A message built in memory (descriptors, instants, interned data: the
// small and rare parts of a trace; hot paths write into stack buffers).
class Message {
public:
    Message& uint(uint32_t field, uint64_t value) {
        char tmp[2 * kMaxVarint];
        return raw(tmp, put_uint(tmp, field, value));
    }
    // int32 / int64: the two's complement as a varint.
    Message& sint(uint32_t field, int64_t value) { return uint(field, static_cast<uint64_t>(value)); }
    Message& boolean(uint32_t field, bool value) { return uint(field, value ? 1 : 0); }
    Message& fixed64(uint32_t field, uint64_t value) {
        char tmp[kMaxVarint + 8];
        return raw(tmp, put_fixed64(tmp, field, value));
    }
    // string (valid UTF-8: the caller's duty) or bytes.
    Message& bytes(uint32_t field, std::string_view value) {
        char tmp[2 * kMaxVarint];
        raw(tmp, put_len(tmp, field, value.size()));
        buf_.append(value.data(), value.size());
        return *this;
    }
    Message& message(uint32_t field, const Message& sub) { return bytes(field, sub.data()); }
    // Fields encoded before (a message's bytes), appended as they are.
    Message& fields(std::string_view encoded) {
        buf_.append(encoded.data(), encoded.size());
        return *this;
    }

    const std::string& data() const { return buf_; }
    size_t size() const { return buf_.size(); }
    bool empty() const { return buf_.empty(); }
    void clear() { buf_.clear(); }

private:
    Message& raw(const char* begin, const char* end) {
        buf_.append(begin, static_cast<size_t>(end - begin));
        return *this;
    }
    std::string buf_;
};

}  // namespace cxt::pb
