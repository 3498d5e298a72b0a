#include "trace_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <algorithm>
#include <limits>
#include <type_traits>
#include <utility>
#include <nlohmann/json.hpp>

extern "C" {
#include "cxtrace_events.h"
}

namespace cxt {

namespace {

constexpr char kMagic[8] = {'C', 'X', 'T', 'R', 'A', 'C', 'E', '\0'};
constexpr uint32_t kRecordEvent = 1;
constexpr uint32_t kRecordEnd = 2;
constexpr uint32_t kMaxJsonBytes = 1u << 20;  // bounds what a damaged length can make us allocate
constexpr uint32_t kMaxEventBytes = sizeof(cxt_exec);
// The end record's "output" (--capture-output): its own format number, so
// a later change is refused clearly rather than misread.
constexpr int kOutputFormat = 1;

struct FileHeader {
    char magic[8];
    uint32_t format_version;
    uint32_t abi_version;
    uint32_t meta_len;
};
static_assert(sizeof(FileHeader) == 20);

struct RecordHeader {
    uint32_t type;
    uint32_t len;
};
static_assert(sizeof(RecordHeader) == 8);

const char* file_type_name(mode_t mode) {
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISSOCK(mode)) return "a socket";
    return "not a regular file";
}

nlohmann::json optional_int(const std::optional<int>& value) {
    return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

// An integer field that fits T. nlohmann's get<T>() would convert a float
// or a negative number (undefined behaviour, or a silent wrap): in a
// damaged file that is damage, reported like nlohmann's own type errors.
template <typename T>
T integer_at(const nlohmann::json& j, const char* key) {
    const nlohmann::json& value = j.at(key);
    if (value.is_number_unsigned()) {
        uint64_t u = value.get<uint64_t>();
        if (u <= static_cast<uint64_t>(std::numeric_limits<T>::max())) return static_cast<T>(u);
    } else if (value.is_number_integer() && std::is_signed_v<T>) {
        int64_t i = value.get<int64_t>();
        if (i >= static_cast<int64_t>(std::numeric_limits<T>::min()) &&
            i <= static_cast<int64_t>(std::numeric_limits<T>::max()))
            return static_cast<T>(i);
    }
    throw nlohmann::json::type_error::create(302, std::string("\"") + key + "\" is not an integer in range",
                                             nullptr);
}

std::optional<int> int_or_null(const nlohmann::json& j, const char* key) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return std::nullopt;
    return integer_at<int>(j, key);
}

constexpr char kBase64Digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// Captured output is bytes, not necessarily UTF-8 (which JSON strings must
// be): stored as base64.
std::string base64_encode(const std::string& bytes) {
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    for (size_t i = 0; i < bytes.size(); i += 3) {
        uint32_t group = static_cast<uint8_t>(bytes[i]) << 16;
        if (i + 1 < bytes.size()) group |= static_cast<uint8_t>(bytes[i + 1]) << 8;
        if (i + 2 < bytes.size()) group |= static_cast<uint8_t>(bytes[i + 2]);
        out += kBase64Digits[(group >> 18) & 63];
        out += kBase64Digits[(group >> 12) & 63];
        out += i + 1 < bytes.size() ? kBase64Digits[(group >> 6) & 63] : '=';
        out += i + 2 < bytes.size() ? kBase64Digits[group & 63] : '=';
    }
    return out;
}

std::optional<std::string> base64_decode(const std::string& text) {
    if (text.size() % 4 != 0) return std::nullopt;
    std::string out;
    out.reserve(text.size() / 4 * 3);
    for (size_t i = 0; i < text.size(); i += 4) {
        uint32_t group = 0;
        int padding = 0;
        for (size_t k = 0; k < 4; ++k) {
            const char c = text[i + k];
            const char* digit = c == '\0' ? nullptr : std::strchr(kBase64Digits, c);
            const bool pad = c == '=' && i + 4 == text.size() && k >= 2;
            if (!digit && !pad) return std::nullopt;
            if (pad) ++padding;
            else if (padding) return std::nullopt;  // a digit after '='
            group = group << 6 | (digit ? static_cast<uint32_t>(digit - kBase64Digits) : 0);
        }
        out += static_cast<char>(group >> 16);
        if (padding < 2) out += static_cast<char>(group >> 8 & 0xff);
        if (padding < 1) out += static_cast<char>(group & 0xff);
    }
    return out;
}

nlohmann::json stream_to_json(const CapturedStream& stream) {
    return {{"head", base64_encode(stream.head)}, {"tail", base64_encode(stream.tail)}, {"bytes", stream.total_bytes}};
}

CapturedStream stream_from_json(const nlohmann::json& j) {
    auto bytes_at = [&](const char* key) {
        auto decoded = base64_decode(j.at(key).get<std::string>());
        if (!decoded || decoded->size() > kOutputKeptBytes)
            throw nlohmann::json::other_error::create(501, std::string("output \"") + key + "\" is not valid", nullptr);
        return std::move(*decoded);
    };
    CapturedStream stream;
    stream.head = bytes_at("head");
    stream.tail = bytes_at("tail");
    stream.total_bytes = integer_at<uint64_t>(j, "bytes");
    if (stream.total_bytes < stream.head.size() + stream.tail.size())
        throw nlohmann::json::other_error::create(501, "output \"bytes\" is less than what was kept", nullptr);
    return stream;
}

std::string meta_to_json(const TraceMeta& meta) {
    nlohmann::json j = {
        {"workload", meta.workload},       {"command", meta.command},
        {"started_at", meta.started_at},   {"cpus", meta.cpus},
        {"kernel", meta.kernel},           {"root_pid", meta.root_pid},
        {"launcher_pid", meta.launcher_pid}, {"trace_start_ns", meta.trace_start_ns},
        {"ring_buffer_bytes", meta.ring_buffer_bytes},
    };
    if (!meta.from_exec.empty()) j["from_exec"] = meta.from_exec;
    // argv is bytes, not necessarily UTF-8: invalid sequences are replaced
    // here (the exec events keep the exact bytes).
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string end_to_json(const TraceEnd& end) {
    nlohmann::json lost = nlohmann::json::object();
    for (int kind = 1; kind < kEventKindCount; ++kind)
        lost[event_kind_name(static_cast<EventKind>(kind))] = end.lost_by_kind[kind];
    nlohmann::json j = {
        {"trace_end_ns", end.trace_end_ns}, {"lost_by_kind", lost},
        {"exit_code", optional_int(end.exit_code)}, {"exit_signal", optional_int(end.exit_signal)},
        {"interrupted", end.interrupted},   {"events", end.events},
        {"left_running", end.left_running},
        {"losses_unknown", end.losses_unknown},
    };
    if (end.limit)
        j["limit"] = {{"option", trace_limit_option(end.limit->kind)}, {"value", end.limit->value}};
    if (end.output)
        j["output"] = {{"format", kOutputFormat},
                       {"stdout", stream_to_json(end.output->out)},
                       {"stderr", stream_to_json(end.output->err)}};
    return j.dump();
}

}  // namespace

uint64_t TraceEnd::lost_total() const {
    uint64_t total = 0;
    for (uint64_t lost : lost_by_kind) total += lost;
    return total;
}

Result<TraceWriter> TraceWriter::create(const std::string& path, const TraceMeta& meta) {
    std::string partial = path + kPartialSuffix;
    FilePtr file(std::fopen(partial.c_str(), "wbx"));  // x: never follow or reuse an existing file
    if (!file) return os_error("cannot create " + partial);
    if (flock(fileno(file.get()), LOCK_EX | LOCK_NB) != 0) {
        int err = errno;
        unlink(partial.c_str());
        return os_error("cannot lock " + partial, err);
    }
    std::string meta_json = meta_to_json(meta);
    FileHeader header{};
    std::memcpy(header.magic, kMagic, sizeof kMagic);
    header.format_version = kTraceFormatVersion;
    header.abi_version = CXT_ABI_VERSION;
    header.meta_len = static_cast<uint32_t>(meta_json.size());
    if (std::fwrite(&header, sizeof header, 1, file.get()) != 1 ||
        std::fwrite(meta_json.data(), 1, meta_json.size(), file.get()) != meta_json.size())
        return os_error("cannot write " + partial);
    TraceWriter writer(path, std::move(file));
    writer.bytes_ = sizeof header + meta_json.size();
    return writer;
}

uint64_t TraceWriter::record_bytes(size_t event_size) { return sizeof(RecordHeader) + event_size; }

Status TraceWriter::write_record(uint32_t type, const void* data, uint32_t len) {
    if (!file_) return Error{"trace " + path_ + " is already finished"};
    RecordHeader header{type, len};
    if (std::fwrite(&header, sizeof header, 1, file_.get()) != 1 ||
        std::fwrite(data, 1, len, file_.get()) != len)
        return os_error("cannot write " + path_ + kPartialSuffix);
    bytes_ += sizeof header + len;
    return Status::success();
}

Status TraceWriter::append_raw(const uint8_t* data, size_t size) {
    auto stored = raw_event_size(data, size);
    if (!stored) return stored.error();
    Status written = write_record(kRecordEvent, data, static_cast<uint32_t>(*stored));
    if (written) ++events_;
    return written;
}

Status TraceWriter::flush() {
    if (std::fflush(file_.get()) != 0) return os_error("cannot write " + path_ + kPartialSuffix);
    return Status::success();
}

Status TraceWriter::finish(const TraceEnd& end) {
    TraceEnd counted = end;
    counted.events = events_;
    std::string json = end_to_json(counted);
    Status written = write_record(kRecordEnd, json.data(), static_cast<uint32_t>(json.size()));
    if (!written) return written;
    if (std::fflush(file_.get()) != 0) return os_error("cannot write " + path_ + kPartialSuffix);
    file_.reset();
    if (std::rename((path_ + kPartialSuffix).c_str(), path_.c_str()) != 0)
        return os_error("cannot rename " + path_ + kPartialSuffix);
    return Status::success();
}

Error TraceReader::problem(const std::string& what, uint64_t offset) const {
    return Error{path_ + ": " + what + " (at byte offset " + std::to_string(offset) + ")"};
}

Result<TraceReader> TraceReader::open(const std::string& path) {
    // Non-blocking, so that opening a FIFO does not wait for a writer; only a
    // regular file is read (a FIFO or a device would hang or never end).
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return os_error("cannot open trace " + path);
    FilePtr file(fdopen(fd, "rb"));
    if (!file) {
        int err = errno;
        close(fd);
        return os_error("cannot open trace " + path, err);
    }
    struct stat st;
    if (fstat(fd, &st) != 0) return os_error("cannot inspect trace " + path);
    if (!S_ISREG(st.st_mode))
        return Error{"cannot read " + path + ": it is " + file_type_name(st.st_mode) +
                     ", not a regular file (a trace is the trace.cxt that cxtrace run writes)"};
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0) return os_error("cannot read trace " + path);
    auto reader = open_stream(std::move(file), path);
    // The records are read through mapped windows (read on where the file
    // cannot be mapped). A file cut shorter while being read would then end
    // the process with SIGBUS; a trace is only ever appended to.
    if (reader) reader->file_size_ = static_cast<uint64_t>(st.st_size);
    return reader;
}

TraceReader::Mapping& TraceReader::Mapping::operator=(Mapping&& other) noexcept {
    if (this != &other) {
        reset();
        data_ = std::exchange(other.data_, nullptr);
        size_ = std::exchange(other.size_, 0);
    }
    return *this;
}

bool TraceReader::Mapping::map(int fd, uint64_t offset, size_t length) {
    reset();
    // Populated at once: one call maps the window's pages, not a fault each.
    void* at = mmap(nullptr, length, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, static_cast<off_t>(offset));
    if (at == MAP_FAILED) return false;
    data_ = static_cast<const uint8_t*>(at);
    size_ = length;
    return true;
}

void TraceReader::Mapping::reset() {
    if (data_) munmap(const_cast<uint8_t*>(data_), size_);
    data_ = nullptr;
    size_ = 0;
}

Result<TraceReader> TraceReader::open_stream(FilePtr file, const std::string& name) {
    TraceReader reader(name, std::move(file));

    FileHeader header;
    size_t got = std::fread(&header, 1, sizeof header, reader.file_.get());
    if (got == 0) return reader.problem("not a cxtrace trace file: the file is empty", 0);
    if (got < sizeof(kMagic) || std::memcmp(header.magic, kMagic, sizeof kMagic) != 0)
        return reader.problem("not a cxtrace trace file (bad magic)", 0);
    if (got != sizeof header) return reader.problem("truncated file header", got);
    if (header.format_version > kTraceFormatVersion)
        return reader.problem("written by a newer cxtrace (trace format " + std::to_string(header.format_version) +
                                  ", this cxtrace reads up to " + std::to_string(kTraceFormatVersion) +
                                  "): upgrade cxtrace",
                              8);
    if (header.format_version == 0) return reader.problem("invalid trace format version 0", 8);
    // Each ABI version only adds event kinds, so older traces read as they are.
    if (header.abi_version > CXT_ABI_VERSION)
        return reader.problem("written by a newer cxtrace (event ABI " + std::to_string(header.abi_version) +
                                  ", this cxtrace reads up to " + std::to_string(CXT_ABI_VERSION) + "): upgrade cxtrace",
                              12);
    if (header.abi_version == 0) return reader.problem("invalid event ABI version 0", 12);
    if (header.meta_len > kMaxJsonBytes)
        return reader.problem("metadata length " + std::to_string(header.meta_len) + " is implausible", 16);
    std::string meta_json(header.meta_len, '\0');
    if (std::fread(meta_json.data(), 1, meta_json.size(), reader.file_.get()) != meta_json.size())
        return reader.problem("truncated metadata", sizeof header);
    try {
        auto j = nlohmann::json::parse(meta_json);
        TraceMeta& m = reader.meta_;
        m.workload = j.at("workload").get<std::string>();
        m.command = j.at("command").get<std::vector<std::string>>();
        m.started_at = j.at("started_at").get<std::string>();
        m.cpus = integer_at<int>(j, "cpus");
        m.kernel = j.at("kernel").get<std::string>();
        m.root_pid = integer_at<uint32_t>(j, "root_pid");
        m.launcher_pid = integer_at<uint32_t>(j, "launcher_pid");
        m.trace_start_ns = integer_at<uint64_t>(j, "trace_start_ns");
        m.ring_buffer_bytes = integer_at<uint64_t>(j, "ring_buffer_bytes");
        m.from_exec = j.value("from_exec", std::string());  // absent in older traces and plain runs
    } catch (const nlohmann::json::exception& e) {
        return reader.problem(std::string("damaged metadata: ") + e.what(), sizeof header);
    }
    if (reader.meta_.cpus <= 0 || reader.meta_.cpus > 65536)
        return reader.problem("metadata has an implausible CPU count", sizeof header);
    reader.offset_ = sizeof header + header.meta_len;
    struct stat st;
    if (fstat(fileno(reader.file_.get()), &st) == 0 && S_ISREG(st.st_mode) &&
        static_cast<uint64_t>(st.st_size) > reader.offset_)
        reader.max_events_ = (static_cast<uint64_t>(st.st_size) - reader.offset_) /
                             (sizeof(RecordHeader) + sizeof(cxt_header) + 8);  // the smallest record
    return reader;
}

size_t TraceReader::fill(size_t wanted) {
    if (chunk_end_ - chunk_pos_ >= wanted) return wanted;
    return file_size_ ? fill_from_mapping(wanted) : fill_from_stream(wanted);
}

size_t TraceReader::fill_from_stream(size_t wanted) {
    size_t available = chunk_end_ - chunk_pos_;
    // Keep the partial record at the front, read the next chunk after it.
    if (available > 0) std::memmove(chunk_.data(), chunk_.data() + chunk_pos_, available);
    chunk_pos_ = 0;
    chunk_end_ = available;
    if (chunk_.size() < std::max(wanted, kReadChunk)) chunk_.resize(std::max(wanted, kReadChunk));
    bytes_ = chunk_.data();
    while (chunk_end_ < wanted) {
        size_t got = std::fread(chunk_.data() + chunk_end_, 1, chunk_.size() - chunk_end_, file_.get());
        if (got == 0) break;
        chunk_end_ += got;
    }
    return std::min(wanted, chunk_end_);
}

// The next window starts at the page holding offset_, so a record cut by
// the last window's end is whole in this one.
size_t TraceReader::fill_from_mapping(size_t wanted) {
    const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
    const uint64_t start = offset_ & ~(page - 1);
    const uint64_t length = std::min<uint64_t>(file_size_ - start, std::max<uint64_t>(kMapWindow, offset_ - start + wanted));
    chunk_pos_ = chunk_end_ = 0;
    bytes_ = nullptr;
    if (offset_ >= file_size_) return 0;
    if (!mapping_.map(fileno(file_.get()), start, static_cast<size_t>(length))) {
        // Not a file that maps (or out of address space): read on instead.
        file_size_ = 0;
        if (std::fseek(file_.get(), static_cast<long>(offset_), SEEK_SET) != 0) return 0;
        return fill_from_stream(wanted);
    }
    bytes_ = mapping_.data() + (offset_ - start);
    chunk_end_ = static_cast<size_t>(length - (offset_ - start));
    return std::min(wanted, chunk_end_);
}

Result<std::optional<Event>> TraceReader::next() {
    Event event;
    auto more = next(event);
    if (!more) return more.error();
    if (!*more) return std::optional<Event>();
    return std::optional<Event>(std::move(event));
}

Result<bool> TraceReader::next(Event& event) {
    if (ended_) return false;
    const uint64_t record_offset = offset_;
    RecordHeader header;
    // fill() only when the chunk runs out: not a call per header and per record.
    size_t got = chunk_end_ - chunk_pos_ >= sizeof header ? sizeof header : fill(sizeof header);
    cut_off_ = got < sizeof header;
    if (got == 0)
        return problem("truncated: the file ends after " + std::to_string(events_) +
                           " events without its end record (was the run cut off?)",
                       record_offset);
    if (got != sizeof header) return problem("truncated record header", record_offset);
    std::memcpy(&header, bytes_ + chunk_pos_, sizeof header);
    chunk_pos_ += sizeof header;
    offset_ += sizeof header;

    if (header.type == kRecordEvent) {
        if (header.len > kMaxEventBytes || header.len < sizeof(cxt_header))
            return problem("event record length " + std::to_string(header.len) + " is out of range", record_offset);
        if (chunk_end_ - chunk_pos_ < header.len && fill(header.len) != header.len) {
            cut_off_ = true;
            return problem("truncated event record (" + std::to_string(header.len) + " bytes expected)", record_offset);
        }
        const uint8_t* record = bytes_ + chunk_pos_;
        chunk_pos_ += header.len;
        offset_ += header.len;
        if (Status decoded = decode_event_into(record, header.len, event); !decoded)
            return problem("bad event: " + decoded.error().what, record_offset);
        ++events_;
        return true;
    }
    if (header.type != kRecordEnd)
        return problem("unknown record type " + std::to_string(header.type), record_offset);
    if (header.len > kMaxJsonBytes) return problem("end record length is implausible", record_offset);
    if (fill(header.len) != header.len) {
        cut_off_ = true;
        return problem("truncated end record", record_offset);
    }
    std::string json(reinterpret_cast<const char*>(bytes_ + chunk_pos_), header.len);
    chunk_pos_ += header.len;
    offset_ += header.len;
    try {
        auto j = nlohmann::json::parse(json);
        end_.trace_end_ns = integer_at<uint64_t>(j, "trace_end_ns");
        const auto& lost = j.at("lost_by_kind");
        for (int kind = 1; kind < kEventKindCount; ++kind) {
            const char* name = event_kind_name(static_cast<EventKind>(kind));
            end_.lost_by_kind[kind] = lost.contains(name) ? integer_at<uint64_t>(lost, name) : 0;
        }
        end_.exit_code = int_or_null(j, "exit_code");
        end_.exit_signal = int_or_null(j, "exit_signal");
        end_.interrupted = j.at("interrupted").get<bool>();
        end_.left_running = j.value("left_running", false);  // absent in older traces
        end_.losses_unknown = j.value("losses_unknown", false);
        end_.events = integer_at<uint64_t>(j, "events");
        if (auto limit = j.find("limit"); limit != j.end()) {  // absent when no limit ended the tracing
            const std::string option = limit->at("option").get<std::string>();
            TraceLimit read;
            if (option == trace_limit_option(TraceLimitKind::MaxTraceSize)) read.kind = TraceLimitKind::MaxTraceSize;
            else if (option == trace_limit_option(TraceLimitKind::Duration)) read.kind = TraceLimitKind::Duration;
            else return problem("damaged end record: unknown limit " + option, record_offset);
            read.value = integer_at<uint64_t>(*limit, "value");
            end_.limit = read;
        }
        if (auto output = j.find("output"); output != j.end()) {  // absent in older traces
            const int format = integer_at<int>(*output, "format");
            if (format > kOutputFormat)
                return problem("the captured output was stored by a newer cxtrace (format " + std::to_string(format) +
                                   ", this cxtrace reads up to " + std::to_string(kOutputFormat) + "): upgrade cxtrace",
                               record_offset);
            if (format < 1) return problem("damaged end record: invalid output format", record_offset);
            end_.output = CapturedOutput{stream_from_json(output->at("stdout")), stream_from_json(output->at("stderr"))};
        }
    } catch (const nlohmann::json::exception& e) {
        return problem(std::string("damaged end record: ") + e.what(), record_offset);
    }
    if (end_.events != events_)
        return problem("end record counts " + std::to_string(end_.events) + " events but the file holds " +
                           std::to_string(events_),
                       record_offset);
    const bool more = file_size_ ? offset_ < file_size_ : chunk_pos_ != chunk_end_ || std::fgetc(file_.get()) != EOF;
    if (more)
        return problem("unexpected data after the end record", offset_);
    ended_ = true;
    return false;
}

}  // namespace cxt
