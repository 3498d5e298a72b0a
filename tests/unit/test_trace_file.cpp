// trace.cxt: what TraceWriter writes, TraceReader reads back unchanged; every
// damaged, foreign, truncated or newer file is an error naming the problem.
#include <catch2/catch.hpp>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "event_builder.h"
#include "text_summary.h"
#include "trace_file.h"

using namespace cxt;
using namespace cxt::test;
using Catch::Matchers::Contains;

namespace {

constexpr size_t kFileHeaderBytes = 20;  // magic[8] format_version abi_version meta_len
constexpr size_t kRecordHeaderBytes = 8; // type len

// A small but varied run: every event kind, an exec with argv.
std::vector<Record> sample_records() {
    const uint64_t t = kStart;
    ExecSpec spec;
    spec.mm_id = 2;
    spec.comm = "sample";
    spec.filename = "/usr/bin/sample";
    spec.argv = {"sample", "--flag", "value with spaces"};
    NewTask child;
    child.pid = 101;
    child.tgid = 101;
    child.ppid = kRoot;
    child.mm_id = 3;
    child.creator_mm_id = 2;
    return {
        switch_in(t + 100, 0, kRoot, kRoot),
        syscall_enter(t + 200, kRoot, kRoot, 0, CXT_SYS_EXECVE, 1),
        exec(t + 300, kRoot, kRoot, 0, spec),
        syscall_exit(t + 400, kRoot, kRoot, 0, CXT_SYS_EXECVE, 0),
        syscall_enter(t + 500, kRoot, kRoot, 0, CXT_SYS_CLONE, 2, kForkFlags),
        task_new(t + 600, kRoot, kRoot, 0, child),
        wakeup_new(t + 700, 101, 101, 0, 1),
        syscall_exit(t + 800, kRoot, kRoot, 0, CXT_SYS_CLONE, 101),
        migrate(t + 850, 101, 101, 0, 0, 1),
        switch_in(t + 900, 1, 101, 101),
        exit(t + 1000, 101, 101, 1, 0, true, "sample"),
        switch_out(t + 1100, 1, 101, 101, kTaskDead),
    };
}

TraceMeta sample_meta() {
    TraceMeta meta = test_meta();
    meta.workload = "";
    meta.command = {"./my prog", "--arg=\"quoted\"", "ünïcode"};
    meta.started_at = "2025-03-04T05:06:07.890Z";
    meta.cpus = 8;
    meta.kernel = "6.8.0-31-generic";
    meta.ring_buffer_bytes = 64ull << 20;
    return meta;
}

TraceEnd sample_end() {
    TraceEnd end;
    end.trace_end_ns = kStart + 5'000;
    end.lost_by_kind[static_cast<int>(EventKind::Switch)] = 7;
    end.lost_by_kind[static_cast<int>(EventKind::Exec)] = 1;
    end.exit_code = 3;
    end.exit_signal = std::nullopt;
    end.interrupted = true;
    return end;
}

uint32_t read_u32(const std::vector<uint8_t>& bytes, size_t offset) {
    REQUIRE(offset + 4 <= bytes.size());
    uint32_t value;
    std::memcpy(&value, bytes.data() + offset, 4);
    return value;
}

void write_u32(std::vector<uint8_t>& bytes, size_t offset, uint32_t value) {
    REQUIRE(offset + 4 <= bytes.size());
    std::memcpy(bytes.data() + offset, &value, 4);
}

// Where each record of a valid file starts: the events, then the end record.
struct Layout {
    size_t first_record;
    std::vector<size_t> records;  // offsets of every record, end record last
};

Layout layout_of(const std::vector<uint8_t>& bytes) {
    Layout layout;
    layout.first_record = kFileHeaderBytes + read_u32(bytes, 16);
    size_t offset = layout.first_record;
    while (offset < bytes.size()) {
        layout.records.push_back(offset);
        offset += kRecordHeaderBytes + read_u32(bytes, offset + 4);
    }
    REQUIRE(offset == bytes.size());
    return layout;
}

std::string offset_text(size_t offset) { return "offset " + std::to_string(offset) + ")"; }

// A valid sample file; returns its bytes.
std::vector<uint8_t> make_sample(const TempDir& dir, const std::string& name = "sample.cxt") {
    write_trace(dir.file(name), sample_meta(), sample_records(), sample_end());
    return read_bytes(dir.file(name));
}

// Writes bytes as a file and reads it as a trace; the outcome must be a failure.
ReadOutcome read_damaged(const TempDir& dir, const std::vector<uint8_t>& bytes) {
    const std::string path = dir.file("damaged.cxt");
    write_bytes(path, bytes);
    ReadOutcome outcome = read_trace(path);
    INFO("reader said: " << (outcome.ok ? std::string("ok") : outcome.error));
    CHECK_FALSE(outcome.ok);
    CHECK_THAT(outcome.error, Contains(path));  // the message names the file
    return outcome;
}

}  // namespace

TEST_CASE("a trace file round-trips meta, events and the end record", "[trace]") {
    TempDir dir;
    const std::string path = dir.file("run.cxt");
    const std::vector<Record> records = sample_records();
    write_trace(path, sample_meta(), records, sample_end());

    ReadOutcome read = read_trace(path);
    INFO(read.error);
    REQUIRE(read.ok);

    SECTION("meta") {
        const TraceMeta want = sample_meta();
        CHECK(read.meta.workload == want.workload);
        CHECK(read.meta.command == want.command);
        CHECK(read.meta.started_at == want.started_at);
        CHECK(read.meta.cpus == want.cpus);
        CHECK(read.meta.kernel == want.kernel);
        CHECK(read.meta.root_pid == want.root_pid);
        CHECK(read.meta.launcher_pid == want.launcher_pid);
        CHECK(read.meta.trace_start_ns == want.trace_start_ns);
        CHECK(read.meta.ring_buffer_bytes == want.ring_buffer_bytes);
    }
    SECTION("events, in order, field for field") {
        REQUIRE(read.events.size() == records.size());
        for (size_t i = 0; i < records.size(); ++i) {
            INFO("event " << i);
            CHECK(describe(read.events[i]) == describe(decode(records[i])));
        }
    }
    SECTION("end record") {
        const TraceEnd want = sample_end();
        CHECK(read.end.trace_end_ns == want.trace_end_ns);
        CHECK(read.end.lost_by_kind == want.lost_by_kind);
        CHECK(read.end.lost_total() == 8);
        CHECK(read.end.exit_code == std::optional<int>(3));
        CHECK_FALSE(read.end.exit_signal.has_value());
        CHECK(read.end.interrupted);
        CHECK(read.end.events == records.size());  // counted by the writer, not taken from the caller
    }
    SECTION("exit by signal, nothing lost, not interrupted") {
        TraceEnd end;
        end.trace_end_ns = kStart + 1;
        end.exit_signal = 9;
        end.events = 12345;  // ignored: the writer counts
        write_trace(dir.file("signal.cxt"), test_meta(), {}, end);
        ReadOutcome again = read_trace(dir.file("signal.cxt"));
        INFO(again.error);
        REQUIRE(again.ok);
        CHECK(again.events.empty());
        CHECK(again.end.events == 0);
        CHECK_FALSE(again.end.exit_code.has_value());
        CHECK(again.end.exit_signal == std::optional<int>(9));
        CHECK_FALSE(again.end.interrupted);
        CHECK(again.end.lost_total() == 0);
    }
    SECTION("a limit that ended the tracing, each kind with its value") {
        for (const TraceLimit& limit : {TraceLimit{TraceLimitKind::MaxTraceSize, 64u << 20},
                                        TraceLimit{TraceLimitKind::Duration, 2'500'000'000}}) {
            INFO(trace_limit_option(limit.kind));
            TraceEnd end = sample_end();
            end.limit = limit;
            write_trace(dir.file("limited.cxt"), test_meta(), {}, end);
            ReadOutcome again = read_trace(dir.file("limited.cxt"));
            INFO(again.error);
            REQUIRE(again.ok);
            REQUIRE(again.end.limit.has_value());
            CHECK(again.end.limit->kind == limit.kind);
            CHECK(again.end.limit->value == limit.value);
            std::remove(dir.file("limited.cxt").c_str());
        }
        CHECK_FALSE(read.end.limit.has_value());  // none set: none read
    }
    SECTION("next() keeps returning the end after the end") {
        auto reader = TraceReader::open(path);
        REQUIRE(reader.ok());
        size_t events = 0;
        for (;;) {
            auto next = reader->next();
            REQUIRE(next.ok());
            if (!*next) break;
            ++events;
        }
        CHECK(events == records.size());
        auto after = reader->next();
        REQUIRE(after.ok());
        CHECK_FALSE(after->has_value());
    }
}

TEST_CASE("a trace larger than the reader's mapped window reads whole, as it reads from a stream", "[trace]") {
    // About 40 MB of the sample's records: the reader maps the file 16 MB
    // at a time, so records are cut by a window's end (their sizes vary)
    // and must come whole from the next window.
    TempDir dir;
    const std::string path = dir.file("big.cxt");
    const std::vector<Record> sample = sample_records();
    std::vector<Record> records;
    for (size_t bytes = 0; bytes < (40u << 20);)
        for (const Record& record : sample) {
            records.push_back(record);
            bytes += kRecordHeaderBytes + record.size();
        }
    write_trace(path, sample_meta(), records, sample_end());

    auto mapped = TraceReader::open(path);
    REQUIRE(mapped.ok());
    FilePtr file(std::fopen(path.c_str(), "rb"));
    REQUIRE(file);
    auto streamed = TraceReader::open_stream(std::move(file), path);
    REQUIRE(streamed.ok());
    std::vector<std::string> expected;
    for (const Record& record : sample) expected.push_back(describe(decode(record)));
    size_t events = 0, differ_from_records = 0, differ_from_stream = 0;
    Event from_map, from_stream;
    for (;;) {
        auto a = mapped->next(from_map);
        auto b = streamed->next(from_stream);
        REQUIRE(a.ok());
        REQUIRE(b.ok());
        REQUIRE(*a == *b);
        if (!*a) break;
        const std::string text = describe(from_map);
        differ_from_records += text != expected[events % expected.size()];
        differ_from_stream += text != describe(from_stream);
        ++events;
    }
    CHECK(events == records.size());
    CHECK(differ_from_records == 0);
    CHECK(differ_from_stream == 0);
    CHECK(mapped->end().events == records.size());
    CHECK(mapped->end().exit_code == std::optional<int>(3));
}

TEST_CASE("the writer stores what the ring buffer hands over", "[trace]") {
    TempDir dir;
    const std::string path = dir.file("ring.cxt");
    ExecSpec spec;
    spec.argv = {"a", "bb", "ccc"};

    SECTION("an exec sample the size of the whole struct keeps only the used bytes") {
        Record reserved = exec_as_reserved(kStart + 10, kRoot, kRoot, 0, spec);
        auto writer = TraceWriter::create(path, test_meta());
        REQUIRE(writer.ok());
        REQUIRE(writer->append_raw(reserved.data(), reserved.size()).ok());
        CHECK(writer->events_written() == 1);
        REQUIRE(writer->finish(test_end(kStart + 20)).ok());

        const auto bytes = read_bytes(path);
        Layout layout = layout_of(bytes);
        REQUIRE(layout.records.size() == 2);
        CHECK(read_u32(bytes, layout.records[0] + 4) == CXT_EXEC_FIXED_SIZE + 9);

        ReadOutcome read = read_trace(path);
        INFO(read.error);
        REQUIRE(read.ok);
        REQUIRE(read.events.size() == 1);
        CHECK(std::get<Exec>(read.events[0].body).argv == spec.argv);
    }
    SECTION("a sample shorter than its header claims is refused") {
        Record record = syscall_enter(kStart, kRoot, kRoot, 0, CXT_SYS_CLONE, 1);
        set_header_size(record, 64);
        auto writer = TraceWriter::create(path, test_meta());
        REQUIRE(writer.ok());
        Status appended = writer->append_raw(record.data(), record.size());
        CHECK_FALSE(appended.ok());
        CHECK(writer->events_written() == 0);
        Status tiny = writer->append_raw(record.data(), 10);
        CHECK_FALSE(tiny.ok());
        REQUIRE(writer->finish(test_end(kStart + 1)).ok());
        ReadOutcome read = read_trace(path);
        REQUIRE(read.ok);
        CHECK(read.events.empty());
    }
}

TEST_CASE("the writer counts the bytes of the file it writes", "[trace]") {
    TempDir dir;
    const std::string path = dir.file("counted.cxt");
    auto writer = TraceWriter::create(path, test_meta());
    REQUIRE(writer.ok());
    for (const Record& record : sample_records()) {
        const uint64_t before = writer->bytes_written();
        REQUIRE(writer->append_raw(record.data(), record.size()).ok());
        CHECK(writer->bytes_written() - before == TraceWriter::record_bytes(record.size()));
    }
    REQUIRE(writer->flush().ok());
    CHECK(read_bytes(path + ".partial").size() == writer->bytes_written());
}

TEST_CASE("the writer publishes the file only on finish and never reuses a .partial", "[trace]") {
    TempDir dir;
    const std::string path = dir.file("run.cxt");
    const std::string partial = path + ".partial";

    SECTION("before finish only the .partial exists; after it only the final file") {
        auto writer = TraceWriter::create(path, test_meta());
        REQUIRE(writer.ok());
        CHECK(file_exists(partial));
        CHECK_FALSE(file_exists(path));
        for (const Record& record : sample_records()) REQUIRE(writer->append_raw(record.data(), record.size()).ok());
        REQUIRE(writer->finish(test_end(kStart + 5'000)).ok());
        CHECK(file_exists(path));
        CHECK_FALSE(file_exists(partial));
    }
    SECTION("the .partial is locked while it is written, so a stale one can be told from a live one") {
        auto writer = TraceWriter::create(path, test_meta());
        REQUIRE(writer.ok());
        int fd = ::open(partial.c_str(), O_RDONLY | O_CLOEXEC);
        REQUIRE(fd >= 0);
        CHECK(flock(fd, LOCK_EX | LOCK_NB) != 0);
        CHECK(errno == EWOULDBLOCK);
        ::close(fd);
    }
    SECTION("an existing .partial is not overwritten") {
        write_bytes(partial, {'k', 'e', 'e', 'p'});
        auto writer = TraceWriter::create(path, test_meta());
        REQUIRE_FALSE(writer.ok());
        CHECK(writer.error().err == EEXIST);
        CHECK_THAT(writer.error().message(), Contains(partial));
        CHECK(read_bytes(partial) == std::vector<uint8_t>{'k', 'e', 'e', 'p'});
        CHECK_FALSE(file_exists(path));
    }
    SECTION("a .partial that is a symlink is not followed") {
        const std::string target = dir.file("victim");
        write_bytes(target, {'v'});
        REQUIRE(::symlink(target.c_str(), partial.c_str()) == 0);
        auto writer = TraceWriter::create(path, test_meta());
        REQUIRE_FALSE(writer.ok());
        CHECK(read_bytes(target) == std::vector<uint8_t>{'v'});
    }
    SECTION("a directory that does not exist is an OS error naming the path") {
        auto writer = TraceWriter::create(dir.file("missing/run.cxt"), test_meta());
        REQUIRE_FALSE(writer.ok());
        CHECK(writer.error().err == ENOENT);
        CHECK_THAT(writer.error().message(), Contains("missing/run.cxt.partial"));
    }
}

TEST_CASE("command lines that are not valid UTF-8 can be recorded", "[trace]") {
    // argv is bytes, not text: `cxtrace run -- printf '\xff'` is a legal command.
    TempDir dir;
    TraceMeta meta = test_meta();
    meta.command = {"printf", "\xff\xfe", "ok"};
    const std::string path = dir.file("bytes.cxt");
    std::optional<Result<TraceWriter>> writer;
    REQUIRE_NOTHROW(writer.emplace(TraceWriter::create(path, meta)));
    REQUIRE(writer->ok());
    REQUIRE((*writer)->finish(test_end(kStart + 1)).ok());
    ReadOutcome read = read_trace(path);
    INFO(read.error);
    REQUIRE(read.ok);
    REQUIRE(read.meta.command.size() == 3);
    CHECK(read.meta.command[0] == "printf");
    CHECK(read.meta.command[2] == "ok");
}

TEST_CASE("damaged, foreign and newer trace files give a clear error", "[trace]") {
    TempDir dir;
    const std::vector<uint8_t> good = make_sample(dir);
    const Layout layout = layout_of(good);
    const size_t end_record = layout.records.back();
    REQUIRE(layout.records.size() == sample_records().size() + 1);

    SECTION("missing file") {
        ReadOutcome read = read_trace(dir.file("nope.cxt"));
        CHECK_FALSE(read.ok);
        CHECK(read.failed_at_open);
        CHECK_THAT(read.error, Contains("nope.cxt") && Contains("No such file"));
    }
    SECTION("a directory") {
        ReadOutcome read = read_trace(dir.path());
        CHECK_FALSE(read.ok);
        CHECK_THAT(read.error, Contains(dir.path()));
    }
    SECTION("empty file") {
        ReadOutcome read = read_damaged(dir, {});
        CHECK(read.failed_at_open);
        CHECK_THAT(read.error, Contains("not a cxtrace trace file") && Contains(offset_text(0)));
    }
    SECTION("wrong magic") {
        auto bytes = good;
        bytes[0] = 'X';
        ReadOutcome read = read_damaged(dir, bytes);
        CHECK(read.failed_at_open);
        CHECK_THAT(read.error, Contains("bad magic") && Contains(offset_text(0)));
    }
    SECTION("some other file type") {
        std::string text = "{\"schema\": \"cxtrace.report/1\"}\n";
        ReadOutcome read = read_damaged(dir, std::vector<uint8_t>(text.begin(), text.end()));
        CHECK_THAT(read.error, Contains("not a cxtrace trace file"));
    }
    SECTION("newer format version") {
        auto bytes = good;
        write_u32(bytes, 8, kTraceFormatVersion + 1);
        ReadOutcome read = read_damaged(dir, bytes);
        CHECK(read.failed_at_open);
        CHECK_THAT(read.error, Contains("newer") && Contains(std::to_string(kTraceFormatVersion + 1)) &&
                                   Contains(offset_text(8)));
    }
    SECTION("format version 0") {
        auto bytes = good;
        write_u32(bytes, 8, 0);
        CHECK_THAT(read_damaged(dir, bytes).error, Contains("version 0") && Contains(offset_text(8)));
    }
    SECTION("another event ABI") {
        auto bytes = good;
        write_u32(bytes, 12, CXT_ABI_VERSION + 1);
        CHECK_THAT(read_damaged(dir, bytes).error,
                   Contains("newer") && Contains("ABI " + std::to_string(CXT_ABI_VERSION + 1)) &&
                       Contains(offset_text(12)));
    }
    SECTION("event ABI 0") {
        auto bytes = good;
        write_u32(bytes, 12, 0);
        CHECK_THAT(read_damaged(dir, bytes).error, Contains("ABI version 0") && Contains(offset_text(12)));
    }
    SECTION("truncated file header") {
        std::vector<uint8_t> bytes(good.begin(), good.begin() + 12);
        ReadOutcome read = read_damaged(dir, bytes);
        CHECK(read.failed_at_open);
        CHECK_THAT(read.error, Contains("truncated file header") && Contains(offset_text(12)));
    }
    SECTION("truncated metadata") {
        std::vector<uint8_t> bytes(good.begin(), good.begin() + kFileHeaderBytes + 5);
        ReadOutcome read = read_damaged(dir, bytes);
        CHECK(read.failed_at_open);
        CHECK_THAT(read.error, Contains("truncated metadata") && Contains(offset_text(kFileHeaderBytes)));
    }
    SECTION("implausible metadata length") {
        auto bytes = good;
        write_u32(bytes, 16, 0xfffffff0u);
        CHECK_THAT(read_damaged(dir, bytes).error, Contains("metadata length") && Contains(offset_text(16)));
    }
    SECTION("damaged metadata JSON") {
        auto bytes = good;
        bytes[kFileHeaderBytes] = '[';
        CHECK_THAT(read_damaged(dir, bytes).error, Contains("damaged metadata") && Contains(offset_text(20)));
    }
    SECTION("truncated mid-record") {
        const size_t second = layout.records[1];
        const size_t payload = read_u32(good, second + 4);
        SECTION("in the payload") {
            std::vector<uint8_t> bytes(good.begin(), good.begin() + second + kRecordHeaderBytes + payload / 2);
            ReadOutcome read = read_damaged(dir, bytes);
            CHECK_FALSE(read.failed_at_open);
            CHECK(read.events.size() == 1);
            CHECK_THAT(read.error, Contains("truncated event record") && Contains(offset_text(second)));
        }
        SECTION("in the record header") {
            std::vector<uint8_t> bytes(good.begin(), good.begin() + second + 3);
            ReadOutcome read = read_damaged(dir, bytes);
            CHECK(read.events.size() == 1);
            CHECK_THAT(read.error, Contains("truncated record header") && Contains(offset_text(second)));
        }
    }
    SECTION("missing end record") {
        std::vector<uint8_t> bytes(good.begin(), good.begin() + end_record);
        ReadOutcome read = read_damaged(dir, bytes);
        CHECK(read.events.size() == sample_records().size());
        CHECK_THAT(read.error, Contains("truncated") && Contains("end record") &&
                                   Contains(std::to_string(sample_records().size()) + " events") &&
                                   Contains(offset_text(end_record)));
    }
    SECTION("truncated end record") {
        std::vector<uint8_t> bytes(good.begin(), good.end() - 1);
        CHECK_THAT(read_damaged(dir, bytes).error, Contains("truncated end record") && Contains(offset_text(end_record)));
    }
    SECTION("bit-flipped record length") {
        const size_t third = layout.records[2];
        auto bit = GENERATE(as<uint32_t>{}, 31, 24, 16, 13);
        auto bytes = good;
        write_u32(bytes, third + 4, read_u32(bytes, third + 4) ^ (1u << bit));
        ReadOutcome read = read_damaged(dir, bytes);
        CHECK(read.events.size() == 2);
        CHECK_THAT(read.error, Contains("out of range") && Contains(offset_text(third)));
    }
    SECTION("record length too small for an event header") {
        const size_t third = layout.records[2];
        auto bytes = good;
        write_u32(bytes, third + 4, 4);
        CHECK_THAT(read_damaged(dir, bytes).error, Contains("out of range") && Contains(offset_text(third)));
    }
    SECTION("record length off by a few bytes") {
        const size_t third = layout.records[2];
        auto bytes = good;
        write_u32(bytes, third + 4, read_u32(bytes, third + 4) + 8);
        CHECK_THAT(read_damaged(dir, bytes).error, Contains("bad event") && Contains(offset_text(third)));
    }
    SECTION("huge end record length") {
        auto bytes = good;
        write_u32(bytes, end_record + 4, 0xffffffffu);
        CHECK_THAT(read_damaged(dir, bytes).error, Contains("end record") && Contains(offset_text(end_record)));
    }
    SECTION("unknown record type") {
        const size_t third = layout.records[2];
        auto bytes = good;
        write_u32(bytes, third, 7);
        ReadOutcome read = read_damaged(dir, bytes);
        CHECK(read.events.size() == 2);
        CHECK_THAT(read.error, Contains("unknown record type 7") && Contains(offset_text(third)));
    }
    SECTION("an event record holding an unknown event kind") {
        const size_t third = layout.records[2];
        auto bytes = good;
        uint16_t kind = 42;
        std::memcpy(bytes.data() + third + kRecordHeaderBytes + offsetof(cxt_header, kind), &kind, sizeof kind);
        CHECK_THAT(read_damaged(dir, bytes).error,
                   Contains("bad event") && Contains("unknown event kind 42") && Contains(offset_text(third)));
    }
    SECTION("end record event count mismatch") {
        // Drop the second event record: the end record still counts them all.
        const size_t second = layout.records[1], third = layout.records[2];
        auto bytes = good;
        bytes.erase(bytes.begin() + second, bytes.begin() + third);
        const size_t moved_end = end_record - (third - second);
        ReadOutcome read = read_damaged(dir, bytes);
        const size_t n = sample_records().size();
        CHECK(read.events.size() == n - 1);
        CHECK_THAT(read.error, Contains("counts " + std::to_string(n) + " events") &&
                                   Contains("holds " + std::to_string(n - 1)) && Contains(offset_text(moved_end)));
    }
    SECTION("damaged end record JSON") {
        auto bytes = good;
        bytes[end_record + kRecordHeaderBytes] = 'x';
        CHECK_THAT(read_damaged(dir, bytes).error, Contains("damaged end record") && Contains(offset_text(end_record)));
    }
    SECTION("data after the end record") {
        auto extra = GENERATE(as<size_t>{}, 1, 8, 100);
        auto bytes = good;
        bytes.insert(bytes.end(), extra, 0);
        CHECK_THAT(read_damaged(dir, bytes).error,
                   Contains("after the end record") && Contains(offset_text(good.size())));
    }
    SECTION("a second end record") {
        auto bytes = good;
        bytes.insert(bytes.end(), good.begin() + end_record, good.end());
        CHECK_THAT(read_damaged(dir, bytes).error, Contains("after the end record"));
    }
}

TEST_CASE("a trace cut at any byte fails cleanly", "[trace]") {
    static TempDir dir;  // one for all generated cases: each rewrites its file
    static const std::vector<uint8_t> good = [] {
        TempDir once;
        return make_sample(once);
    }();
    auto cut = GENERATE(range(size_t{0}, good.size()));
    INFO("cut at " << cut << " of " << good.size() << " bytes");

    ReadOutcome read = read_damaged(dir, std::vector<uint8_t>(good.begin(), good.begin() + cut));
    CHECK_THAT(read.error, Contains("offset"));
    CHECK(read.events.size() < sample_records().size() + 1);
    // Never more events than fully stored before the cut.
    const Layout layout = layout_of(good);
    size_t whole = 0;
    for (size_t i = 0; i + 1 < layout.records.size(); ++i)
        if (layout.records[i + 1] <= cut) ++whole;
    CHECK(read.events.size() <= whole);
}

TEST_CASE("a trace with any byte flipped never crashes the reader", "[trace]") {
    static TempDir dir;  // one for all generated cases: each rewrites its file
    static const std::vector<uint8_t> good = [] {
        TempDir once;
        return make_sample(once);
    }();
    auto at = GENERATE(range(size_t{0}, good.size()));
    INFO("byte " << at << " flipped");
    auto bytes = good;
    bytes[at] ^= 0xff;
    write_bytes(dir.file("flipped.cxt"), bytes);
    ReadOutcome read;
    REQUIRE_NOTHROW(read = read_trace(dir.file("flipped.cxt")));
    if (read.ok) {
        // Only a timestamp, pid or similar payload byte can change without the
        // file becoming invalid; the framing and the count still hold.
        CHECK(read.events.size() == sample_records().size());
    } else {
        CHECK_THAT(read.error, Contains("offset"));
    }
}

TEST_CASE("metadata numbers that are not integers in range are damage, not conversions", "[trace]") {
    // Found by the fuzzer: "root_pid": 2E22 made nlohmann convert a float
    // out of range (undefined behaviour).
    TempDir dir;
    const std::vector<uint8_t> good = make_sample(dir);
    const uint32_t meta_len = read_u32(good, 16);
    auto meta = nlohmann::json::parse(good.begin() + kFileHeaderBytes, good.begin() + kFileHeaderBytes + meta_len);
    auto [field, value] = GENERATE(table<std::string, nlohmann::json>({
        {"root_pid", 2e22},
        {"root_pid", -1},
        {"root_pid", 1.5},
        {"root_pid", 5000000000ULL},
        {"cpus", "2"},
        {"trace_start_ns", -7},
    }));
    meta[field] = value;
    const std::string text = meta.dump();
    std::vector<uint8_t> bytes(good.begin(), good.begin() + kFileHeaderBytes);
    write_u32(bytes, 16, static_cast<uint32_t>(text.size()));
    bytes.insert(bytes.end(), text.begin(), text.end());
    bytes.insert(bytes.end(), good.begin() + kFileHeaderBytes + meta_len, good.end());
    ReadOutcome read = read_damaged(dir, bytes);
    INFO(field << " = " << value.dump());
    CHECK(read.failed_at_open);
    CHECK_THAT(read.error, Contains("damaged metadata") && Contains(offset_text(20)));
}

TEST_CASE("a huge sparse file is refused without allocating for its size", "[trace]") {
    TempDir dir;
    make_sample(dir);
    const std::string path = dir.file("sample.cxt");
    // A valid trace followed by a terabyte of holes: the size hints at
    // billions of events, the content holds a few.
    REQUIRE(truncate(path.c_str(), off_t{1} << 40) == 0);
    auto model = correlate_trace_file(path);  // must not throw std::bad_alloc
    REQUIRE_FALSE(model.ok());
    CHECK_THAT(model.error().message(), Contains("after the end record"));
}

TEST_CASE("only a regular file is read as a trace: a FIFO, a directory or a device is refused at once", "[trace]") {
    TempDir dir;
    const std::string fifo = dir.file("trace.cxt");
    REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
    struct Case {
        std::string path, kind;
    };
    alarm(30);  // were a FIFO opened for reading as a file, it would wait for a writer forever
    for (const Case& c : {Case{fifo, "a FIFO (named pipe)"}, Case{dir.path(), "a directory"},
                          Case{"/dev/null", "a character device"}}) {
        INFO(c.path);
        auto reader = TraceReader::open(c.path);
        REQUIRE_FALSE(reader.ok());
        CHECK_THAT(reader.error().message(), Contains(c.path + ": it is " + c.kind + ", not a regular file"));
    }
    alarm(0);
}

TEST_CASE("a trace cut off mid-run is salvaged: its whole records, and a run that says it was cut", "[trace]") {
    const std::string data = [] {
        std::ifstream in(CXTRACE_TEST_DATA "/process-vs-thread-n5.cxt", std::ios::binary);
        return std::string(std::istreambuf_iterator<char>(in), {});
    }();
    REQUIRE(data.size() > 1000);
    TempDir dir;
    auto whole = correlate_trace_file(CXTRACE_TEST_DATA "/process-vs-thread-n5.cxt");
    REQUIRE(whole.ok());
    for (size_t keep : {data.size() / 2, data.size() - 3}) {
        INFO("kept " << keep << " of " << data.size() << " bytes");
        const std::string path = dir.file("cut.cxt");
        std::ofstream(path, std::ios::binary) << data.substr(0, keep);
        auto cut = correlate_trace_file(path);
        REQUIRE(cut.ok());
        REQUIRE(cut->run.cut_off);
        CHECK_THAT(*cut->run.cut_off, Contains("truncated"));
        CHECK_FALSE(cut->run.complete);
        CHECK(cut->run.interrupted);
        CHECK_FALSE(cut->run.exit_code);
        CHECK(cut->run.events > 0);
        CHECK(cut->run.events <= whole->run.events);
        CHECK(cut->tasks.size() <= whole->tasks.size());
        CHECK_THAT(render_text_summary(*cut), Contains("the trace file was cut off"));
    }
}
