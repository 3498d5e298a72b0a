// trace.cxt: the raw events of one run, as the kernel wrote them, framed in
// a versioned file so a run can be re-rendered later (`cxtrace report`).
//
// Layout (little-endian):
//   "CXTRACE\0"  u32 format_version  u32 abi_version  u32 meta_len  meta (JSON)
//   records: u32 type  u32 len  payload[len]
//     type 1: one raw event (bpf/cxtrace_events.h layout)
//     type 2: the end record (JSON), always last
// Keys added to the JSON records later are optional: older traces read as
// they are, and older readers skip what they do not know.
// Raw events hold no kernel addresses (mm ids only), so neither does the file.
#pragma once

#include <array>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "captured_output.h"
#include "event.h"
#include "result.h"
#include "trace_limit.h"

namespace cxt {

constexpr uint32_t kTraceFormatVersion = 1;

struct TraceMeta {
    std::string workload;               // bundled workload name, or "" for a command
    std::vector<std::string> command;   // argv as launched
    std::string started_at;             // ISO-8601 wall-clock time tracing began
    int cpus = 0;
    std::string kernel;                 // uname -r
    uint32_t root_pid = 0;              // the traced command
    uint32_t launcher_pid = 0;          // cxtrace itself: the root's parent
    uint64_t trace_start_ns = 0;        // CLOCK_MONOTONIC when probes were live
    uint64_t ring_buffer_bytes = 0;
    std::string from_exec;              // --from-exec NAME: where the lesson starts ("" = whole run)
};

struct TraceEnd {
    uint64_t trace_end_ns = 0;
    std::array<uint64_t, kEventKindCount> lost_by_kind{};  // indexed by EventKind
    std::optional<int> exit_code;    // of the root command
    std::optional<int> exit_signal;
    bool interrupted = false;        // stopped by Ctrl-C / SIGTERM
    bool left_running = false;       // ... and the command was left running (--leave-running)
    bool losses_unknown = false;     // the kernel's loss counters could not be read
    // The limit that ended the tracing: events after it are not in the file.
    std::optional<TraceLimit> limit;
    uint64_t events = 0;             // event records in the file
    std::optional<CapturedOutput> output;  // --capture-output: what the command wrote

    uint64_t lost_total() const;
};

struct FileCloser {
    void operator()(std::FILE* file) const { std::fclose(file); }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

// Where a trace is written until it is finished: PATH + kPartialSuffix.
constexpr const char* kPartialSuffix = ".partial";

// Writes to PATH.partial and renames it into place on finish(), so a reader
// never sees a half-written trace under the final name. While it writes it
// holds an exclusive flock on PATH.partial: one left by a run that was
// killed is not locked, one another run is writing is.
class TraceWriter {
public:
    static Result<TraceWriter> create(const std::string& path, const TraceMeta& meta);

    // Appends one raw event record (validated by its header's size).
    Status append_raw(const uint8_t* data, size_t size);
    Status finish(const TraceEnd& end);
    // Hands what is buffered to the kernel: a run killed later keeps it.
    Status flush();
    uint64_t events_written() const { return events_; }
    // The file's size so far (what is still buffered included).
    uint64_t bytes_written() const { return bytes_; }
    // What appending this raw event would add to bytes_written().
    static uint64_t record_bytes(size_t event_size);

private:
    TraceWriter(std::string path, FilePtr file) : path_(std::move(path)), file_(std::move(file)) {}
    Status write_record(uint32_t type, const void* data, uint32_t len);

    std::string path_;
    FilePtr file_;
    uint64_t events_ = 0;
    uint64_t bytes_ = 0;
};

class TraceReader {
public:
    static Result<TraceReader> open(const std::string& path);
    // Reads an already open stream (e.g. fmemopen'd bytes in the fuzzer);
    // `name` stands for it in error messages.
    static Result<TraceReader> open_stream(FilePtr file, const std::string& name);

    const TraceMeta& meta() const { return meta_; }
    // The most events the file can hold, from its size (0 when unknown).
    uint64_t max_events() const { return max_events_; }
    // The last next() failed because the file ends early (a run cut off):
    // the events before it are whole and usable.
    bool cut_off() const { return cut_off_; }
    uint64_t events_read() const { return events_; }
    // The next event, std::nullopt after the end record, or an error naming
    // the byte offset of the problem.
    Result<std::optional<Event>> next();
    // The same into `event` (its storage reused): true for an event, false
    // after the end record.
    Result<bool> next(Event& event);
    // Valid once next() returned std::nullopt.
    const TraceEnd& end() const { return end_; }

private:
    TraceReader(std::string path, FilePtr file) : path_(std::move(path)), file_(std::move(file)) {}
    Error problem(const std::string& what, uint64_t offset) const;
    // Makes up to `wanted` bytes available at chunk_pos_; returns how many.
    size_t fill(size_t wanted);
    size_t fill_from_stream(size_t wanted);
    size_t fill_from_mapping(size_t wanted);
    static constexpr size_t kReadChunk = 1 << 20;  // records are read in chunks, not one fread each
    // A regular file is read through a window of it mapped at a time: no
    // copy of every byte into a buffer (a tenth of a report's system time),
    // and only the window counts in the resident memory.
    static constexpr size_t kMapWindow = 16 << 20;

    // One mapped window of the file, unmapped when replaced or destroyed.
    class Mapping {
    public:
        Mapping() = default;
        Mapping(Mapping&& other) noexcept { *this = std::move(other); }
        Mapping& operator=(Mapping&& other) noexcept;
        ~Mapping() { reset(); }
        // Maps [offset, offset + length) of fd (offset page-aligned, length > 0); false when it cannot.
        bool map(int fd, uint64_t offset, size_t length);
        void reset();
        const uint8_t* data() const { return data_; }
        size_t size() const { return size_; }

    private:
        const uint8_t* data_ = nullptr;
        size_t size_ = 0;
    };

    std::string path_;
    FilePtr file_;
    uint64_t offset_ = 0;
    uint64_t events_ = 0;
    TraceMeta meta_;
    TraceEnd end_;
    bool ended_ = false;
    bool cut_off_ = false;
    // The bytes at hand: [bytes_ + chunk_pos_, bytes_ + chunk_end_) is the
    // file from offset_ on, in chunk_ (read) or in mapping_ (mapped).
    const uint8_t* bytes_ = nullptr;
    std::vector<uint8_t> chunk_;
    Mapping mapping_;
    uint64_t file_size_ = 0;  // a regular file's size, from fstat at open; 0 when read as a stream
    size_t chunk_pos_ = 0, chunk_end_ = 0;
    uint64_t max_events_ = 0;
};

}  // namespace cxt
