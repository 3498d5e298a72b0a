#include "perfetto_export.h"

#include "json_report.h"
#include "paths.h"
#include "proto_encoder.h"
#include "waits.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <queue>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace cxt {

namespace {

// Field numbers, checked against the upstream Perfetto protos
// (github.com/google/perfetto, protos/perfetto/trace/...). Only what we write.
namespace fld {
// trace.proto: message Trace
constexpr uint32_t kTracePacket = 1;  // repeated TracePacket packet
// trace_packet.proto: message TracePacket
constexpr uint32_t kClockSnapshot = 6;              // ClockSnapshot (oneof data)
constexpr uint32_t kTimestamp = 8;                  // optional uint64
constexpr uint32_t kTrustedPacketSequenceId = 10;  // uint32 (oneof)
constexpr uint32_t kTrackEvent = 11;                // TrackEvent (oneof data)
constexpr uint32_t kInternedData = 12;              // optional InternedData
constexpr uint32_t kSequenceFlags = 13;             // optional uint32, SequenceFlags bits
constexpr uint32_t kTracePacketDefaults = 59;       // optional TracePacketDefaults
constexpr uint32_t kTrackDescriptor = 60;           // TrackDescriptor (oneof data)
constexpr uint64_t kSeqIncrementalStateCleared = 1;
// trace_packet_defaults.proto: message TracePacketDefaults
constexpr uint32_t kDefaultTimestampClockId = 58;  // optional uint32
// clock_snapshot.proto: message ClockSnapshot, ClockSnapshot.Clock
constexpr uint32_t kCsClocks = 1;            // repeated Clock
constexpr uint32_t kClockId = 1;             // optional uint32
constexpr uint32_t kClockTimestamp = 2;      // optional uint64
constexpr uint32_t kClockIsIncremental = 3;  // optional bool
constexpr uint32_t kBuiltinClockBoottime = 6;
// track_event/track_descriptor.proto: message TrackDescriptor
constexpr uint32_t kTdUuid = 1;        // optional uint64
constexpr uint32_t kTdName = 2;        // string
constexpr uint32_t kTdProcess = 3;     // ProcessDescriptor
constexpr uint32_t kTdThread = 4;      // ThreadDescriptor
constexpr uint32_t kTdParentUuid = 5;  // optional uint64
// track_event/process_descriptor.proto: message ProcessDescriptor
constexpr uint32_t kPdPid = 1;              // int32
constexpr uint32_t kPdLegacySortIndex = 3;  // int32
constexpr uint32_t kPdProcessName = 6;      // string
// track_event/thread_descriptor.proto: message ThreadDescriptor
constexpr uint32_t kThPid = 1;              // int32
constexpr uint32_t kThTid = 2;              // int32
constexpr uint32_t kThLegacySortIndex = 3;  // int32
constexpr uint32_t kThThreadName = 5;       // string
// track_event/track_event.proto: message TrackEvent
constexpr uint32_t kTeCategoryIids = 3;         // repeated uint64 (interned EventCategory)
constexpr uint32_t kTeDebugAnnotations = 4;     // repeated DebugAnnotation
constexpr uint32_t kTeType = 9;                 // Type enum
constexpr uint32_t kTeNameIid = 10;             // uint64 (interned EventName)
constexpr uint32_t kTeTrackUuid = 11;           // optional uint64
constexpr uint32_t kTeCategories = 22;          // repeated string
constexpr uint32_t kTeName = 23;                // string
constexpr uint32_t kTeFlowIds = 47;             // repeated fixed64
constexpr uint32_t kTeTerminatingFlowIds = 48;  // repeated fixed64
constexpr uint64_t kTypeSliceBegin = 1, kTypeSliceEnd = 2, kTypeInstant = 3;
// track_event/track_event.proto: EventCategory and EventName (interned)
constexpr uint32_t kInternedIid = 1;   // optional uint64 iid
constexpr uint32_t kInternedName = 2;  // optional string name
// interned_data/interned_data.proto: message InternedData
constexpr uint32_t kIdEventCategories = 1;       // repeated EventCategory
constexpr uint32_t kIdEventNames = 2;            // repeated EventName
constexpr uint32_t kIdDebugAnnotationNames = 3;  // repeated DebugAnnotationName
constexpr uint32_t kIdDebugAnnotationStringValues = 29;  // repeated InternedString (iid 1, str 2)
// track_event/debug_annotation.proto: message DebugAnnotation
constexpr uint32_t kDaBoolValue = 2;        // bool
constexpr uint32_t kDaIntValue = 4;         // int64
constexpr uint32_t kDaStringValue = 6;      // string
constexpr uint32_t kDaNestedValue = 8;      // NestedValue
constexpr uint32_t kDaLegacyJsonValue = 9;  // string
constexpr uint32_t kDaName = 10;            // string
constexpr uint32_t kDaNameIid = 1;          // uint64 (interned DebugAnnotationName)
constexpr uint32_t kDaStringValueIid = 17;  // uint64 (interned debug_annotation_string_values)
// debug_annotation.proto: message DebugAnnotation.NestedValue
constexpr uint32_t kNvNestedType = 1;   // NestedType: UNSPECIFIED 0, DICT 1, ARRAY 2
constexpr uint32_t kNvDictKeys = 2;     // repeated string
constexpr uint32_t kNvDictValues = 3;   // repeated NestedValue
constexpr uint32_t kNvArrayValues = 4;  // repeated NestedValue
constexpr uint32_t kNvIntValue = 5;     // int64
constexpr uint32_t kNvStringValue = 8;  // string
constexpr uint64_t kNestedDict = 1, kNestedArray = 2;
}  // namespace fld

constexpr uint64_t kSequenceId = 1;  // the one packet sequence of the file
// The sequence's own clock (ids 64-127 are sequence-scoped), declared
// incremental: a packet's timestamp is the nanoseconds since the previous
// packet's, 1-3 bytes instead of 4-5. At 0 it equals BOOTTIME at 0, so
// trace time stays "ns since the start of tracing".
constexpr uint64_t kDeltaClockId = 64;
// Interned ids: the two categories are fixed; event (slice) names are
// numbered from kFirstNameIid in make_tracks.
constexpr uint64_t kCatOncpu = 1, kCatCpu = 2, kCatState = 3;
constexpr uint64_t kFirstNameIid = 1;
// The one interned debug annotation name: "woken by", on wait slices.
constexpr uint64_t kWokenByIid = 1;

std::string hex(uint64_t value) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(value));
    return buf;
}

uint64_t duration(const OnCpuInterval& iv) { return iv.end_ns > iv.start_ns ? iv.end_ns - iv.start_ns : 0; }

// Debug annotations of an instant, with names not interned.
class Annotations {
public:
    void add_int(const std::string& name, int64_t value) { annotation(name).sint(fld::kDaIntValue, value); }
    void add_bool(const std::string& name, bool value) { annotation(name).boolean(fld::kDaBoolValue, value); }
    void add_string(const std::string& name, const std::string& value) {
        annotation(name).bytes(fld::kDaStringValue, valid_utf8(value));
    }
    template <typename T>
    void add_int(const std::string& name, const std::optional<T>& value) {  // null: left out
        if (value) add_int(name, static_cast<int64_t>(*value));
    }
    void add_strings(const std::string& name, const std::vector<std::string>& values) {
        pb::Message nested;
        nested.uint(fld::kNvNestedType, fld::kNestedArray);
        for (const std::string& v : values) {
            pb::Message item;
            item.bytes(fld::kNvStringValue, valid_utf8(v));
            nested.message(fld::kNvArrayValues, item);
        }
        annotation(name).message(fld::kDaNestedValue, nested);
    }
    // A dictionary of integers; a null member is left out.
    void add_int_dict(const std::string& name, const std::vector<std::pair<std::string, std::optional<uint64_t>>>& members) {
        pb::Message nested;
        nested.uint(fld::kNvNestedType, fld::kNestedDict);
        for (const auto& [key, value] : members)
            if (value) nested.bytes(fld::kNvDictKeys, key);
        for (const auto& [key, value] : members)
            if (value) {
                pb::Message item;
                item.sint(fld::kNvIntValue, static_cast<int64_t>(*value));
                nested.message(fld::kNvDictValues, item);
            }
        annotation(name).message(fld::kDaNestedValue, nested);
    }
    void add_json(const std::string& name, const std::string& json_text) {
        annotation(name).bytes(fld::kDaLegacyJsonValue, json_text);
    }
    // Appends the last one to the TrackEvent.
    void finish() { flush(); }

    // Each annotation is built in one reused buffer, then appended to `event`.
    explicit Annotations(pb::Message& event) : event_(event) {}

private:
    pb::Message& annotation(const std::string& name) {
        flush();
        current_.bytes(fld::kDaName, name);
        open_ = true;
        return current_;
    }
    void flush() {
        if (open_) event_.message(fld::kTeDebugAnnotations, current_);
        current_.clear();
        open_ = false;
    }
    pb::Message& event_;
    pb::Message current_;
    bool open_ = false;
};

// Writes the packets of the trace to `out`.
class TraceWriter {
public:
    explicit TraceWriter(TextOut& out) : out_(out) {}

    // One TracePacket with the given body (its fields), as Trace.packet.
    void packet(std::string_view body) {
        char head[2 * pb::kMaxVarint];
        out_.put(std::string_view(head, static_cast<size_t>(pb::put_len(head, fld::kTracePacket, body.size()) - head)));
        out_.put(body);
    }

    // A packet holding a TrackEvent (already encoded) at ts.
    void event(uint64_t ts, std::string_view track_event) {
        char head[3 * pb::kMaxVarint];
        char* p = packet_head(head, ts);
        p = pb::put_len(p, fld::kTrackEvent, track_event.size());
        const size_t head_size = static_cast<size_t>(p - head);
        char trace_head[2 * pb::kMaxVarint];
        out_.put(std::string_view(trace_head, static_cast<size_t>(pb::put_len(trace_head, fld::kTracePacket,
                                                                              head_size + track_event.size()) -
                                                                  trace_head)));
        out_.put(std::string_view(head, head_size));
        out_.put(track_event);
    }

    // A packet holding interned data (new names its TrackEvent uses) and a TrackEvent at ts.
    void event(uint64_t ts, std::string_view interned_data, std::string_view track_event) {
        if (interned_data.empty()) return event(ts, track_event);
        pb::Message body;
        char head[3 * pb::kMaxVarint];
        body.fields(std::string_view(head, static_cast<size_t>(packet_head(head, ts) - head)))
            .bytes(fld::kInternedData, interned_data)
            .bytes(fld::kTrackEvent, track_event);
        packet(body.data());
    }

    // The hot path, two packets per on-CPU interval and view: encoded in
    // place. Both lengths fit one byte (kSmallPacket bounds a packet), so
    // each gets a one-byte slot, filled in once the body is written.
    void slice_begin(uint64_t ts, uint64_t track, uint64_t category_iid, uint64_t name_iid) {
        char* te = open_track_event(ts);
        char* p = pb::put_uint(te, fld::kTeType, fld::kTypeSliceBegin);
        p = pb::put_uint(p, fld::kTeTrackUuid, track);
        p = pb::put_uint(p, fld::kTeCategoryIids, category_iid);
        p = pb::put_uint(p, fld::kTeNameIid, name_iid);
        close_track_event(te, p);
    }
    // The same, with one debug annotation whose name and string value are interned.
    void slice_begin(uint64_t ts, uint64_t track, uint64_t category_iid, uint64_t name_iid, uint64_t annotation_name_iid,
                     uint64_t annotation_value_iid) {
        char* te = open_track_event(ts);
        char* p = pb::put_uint(te, fld::kTeType, fld::kTypeSliceBegin);
        p = pb::put_uint(p, fld::kTeTrackUuid, track);
        p = pb::put_uint(p, fld::kTeCategoryIids, category_iid);
        p = pb::put_uint(p, fld::kTeNameIid, name_iid);
        p = pb::put_tag(p, fld::kTeDebugAnnotations, pb::kLen) + 1;  // + the length slot
        char* annotation = p;
        p = pb::put_uint(p, fld::kDaNameIid, annotation_name_iid);
        p = pb::put_uint(p, fld::kDaStringValueIid, annotation_value_iid);
        annotation[-1] = static_cast<char>(p - annotation);
        close_track_event(te, p);
    }
    void slice_end(uint64_t ts, uint64_t track) {
        char* te = open_track_event(ts);
        char* p = pb::put_uint(te, fld::kTeType, fld::kTypeSliceEnd);
        p = pb::put_uint(p, fld::kTeTrackUuid, track);
        close_track_event(te, p);
    }

private:
    // Timestamps are deltas on the incremental clock kDeltaClockId; the
    // packets come in time order (Exporter::write_events).
    char* packet_head(char* p, uint64_t ts) {
        p = pb::put_uint(p, fld::kTimestamp, ts - last_ts_);
        last_ts_ = ts;
        return pb::put_uint(p, fld::kTrustedPacketSequenceId, kSequenceId);
    }
    // The largest slice_begin: tag and length slot 2, timestamp 1 + 10, sequence
    // id 2, TrackEvent tag and length slot 2, type 2, track 1 + 10, category
    // 1 + 10, name 1 + 10 bytes, an annotation's tag and length slot 2 and
    // its two ids (tags of up to 2 bytes) 2 + 10 each (slice_end is smaller).
    static constexpr size_t kSmallPacket =
        2 + (1 + pb::kMaxVarint) + 2 + 2 + 2 + 3 * (1 + pb::kMaxVarint) + 2 + 2 * (2 + pb::kMaxVarint);
    static_assert(kSmallPacket - 2 <= 127, "a small packet's lengths fit their one-byte slots");
    static_assert(fld::kTracePacket < 16 && fld::kTrackEvent < 16, "one-byte tags before the length slots");
    char* open_track_event(uint64_t ts) {
        packet_ = out_.room(kSmallPacket);
        char* p = pb::put_tag(packet_, fld::kTracePacket, pb::kLen) + 1;  // + the length slot
        p = packet_head(p, ts);
        return pb::put_tag(p, fld::kTrackEvent, pb::kLen) + 1;
    }
    void close_track_event(char* te, char* end) {
        te[-1] = static_cast<char>(end - te);
        packet_[1] = static_cast<char>(end - (packet_ + 2));
        out_.wrote(end);
    }

    TextOut& out_;
    char* packet_ = nullptr;
    uint64_t last_ts_ = 0;  // of the last packet written, on kDeltaClockId
};

// The task that created tasks[child]: the latest task with pid ==
// parent_pid created at or before the child (the root and inferred tasks
// count as there from the start) and not gone before it.
std::optional<size_t> creator_of(const RunModel& model, const std::vector<size_t>& same_pid, size_t child) {
    const TaskRecord& task = model.tasks[child];
    if (!task.created_ns) return std::nullopt;
    const uint64_t created = *task.created_ns;
    std::optional<size_t> best;
    for (size_t j : same_pid) {
        if (j == child) continue;
        const TaskRecord& c = model.tasks[j];
        if (c.created_ns.value_or(0) > created) continue;
        if (c.exited_ns && *c.exited_ns < created) continue;
        if (!best || std::make_pair(c.created_ns.value_or(0), j) >=
                         std::make_pair(model.tasks[*best].created_ns.value_or(0), *best))
            best = j;
    }
    return best;
}

std::string thread_name(const TaskRecord& task) {
    return task.comm + " [" + task_kind_name(task.kind) + (task.inferred ? ", inferred" : "") + "]";
}

std::string exit_name(const TaskRecord& task) {
    if (task.exit_signal) return "exit (signal " + std::to_string(*task.exit_signal) + ")";
    if (task.exit_code) return "exit (code " + std::to_string(*task.exit_code) + ")";
    return "exit";
}

std::string cpu_slice_name(const TaskRecord& task) {
    std::string name = task.comm + " " + std::to_string(task.pid);
    if (task.pid != task.tgid) name += " (tgid " + std::to_string(task.tgid) + ")";
    return name;
}

std::string mm_name(uint32_t mm) { return "mm" + std::to_string(mm); }

// An event other than an on-CPU slice: an instant, with its TrackEvent
// encoded when collected. Written in time order, at equal times in the
// order collected.
struct Timed {
    uint64_t ts_ns;
    size_t offset, size;  // its TrackEvent in Exporter::instant_bytes_
};

class Exporter {
public:
    Exporter(const RunModel& model, TextOut& out) : model_(model), writer_(out) {}

    void run() {
        make_tracks();
        make_flows();
        make_instants();
        write_header();
        write_events();
    }

private:
    // --- tracks -------------------------------------------------------------
    void make_tracks() {
        const std::vector<TaskRecord>& tasks = model_.tasks;
        std::map<uint32_t, size_t> process_order;  // tgid -> first task of that group
        for (size_t i = 0; i < tasks.size(); ++i) process_order.emplace(tasks[i].tgid, i);
        std::vector<std::pair<size_t, uint32_t>> processes;  // (first task, tgid), in creation order
        for (const auto& [tgid, first] : process_order) processes.emplace_back(first, tgid);
        std::sort(processes.begin(), processes.end());
        std::map<uint32_t, size_t> leaders;  // tgid -> its first traced leader (pid == tgid)
        for (size_t i = 0; i < tasks.size(); ++i)
            if (tasks[i].pid == tasks[i].tgid) leaders.emplace(tasks[i].tgid, i);

        // The CPUs' tracks take the first uuids: every interval has an event
        // on its CPU's track, and these stay one-byte varints. Listed after
        // the processes all the same.
        const int cpu_sort_index = static_cast<int>(processes.size());
        // The run's CPUs and any other an interval was on (a flag each, not a set insert per interval).
        std::vector<bool> cpus(static_cast<size_t>(std::max(model_.run.cpus, 0)), true);
        for (const OnCpuInterval& interval : model_.intervals) {
            if (interval.cpu >= cpus.size()) cpus.resize(interval.cpu + size_t{1});
            cpus[interval.cpu] = true;
        }
        if (!cpus.empty()) {
            const uint64_t cpus_uuid = next_uuid_++;
            descriptors_.push_back(process_track(cpus_uuid, kPerfettoCpuPid, "CPUs", cpu_sort_index));
            cpu_track_.assign(cpus.size(), 0);
            for (uint32_t cpu = 0; cpu < cpus.size(); ++cpu) {
                if (!cpus[cpu]) continue;
                cpu_track_[cpu] = next_uuid_++;
                descriptors_.push_back(thread_track(cpu_track_[cpu], cpus_uuid, kPerfettoCpuPid,
                                                    perfetto_cpu_tid(cpu), "CPU " + std::to_string(cpu),
                                                    static_cast<int>(cpu)));
            }
        }
        int sort_index = 0;
        std::map<uint32_t, uint64_t> process_uuid;
        for (const auto& [first, tgid] : processes) {
            // The group is named after its leader when traced.
            auto leader_index = leaders.find(tgid);
            const TaskRecord* leader = &tasks[leader_index != leaders.end() ? leader_index->second : first];
            const uint64_t uuid = next_uuid_++;
            process_uuid[tgid] = uuid;
            descriptors_.push_back(process_track(uuid, tgid, valid_utf8(leader->comm), sort_index++));
        }
        // One thread track per (tgid, pid): a reused pid keeps its first name.
        std::map<std::pair<uint32_t, uint32_t>, uint64_t> thread_uuid;
        task_track_.resize(tasks.size());
        for (size_t i = 0; i < tasks.size(); ++i) {
            const TaskRecord& task = tasks[i];
            auto [it, fresh] = thread_uuid.emplace(std::make_pair(task.tgid, task.pid), 0);
            if (fresh) {
                it->second = next_uuid_++;
                descriptors_.push_back(thread_track(it->second, process_uuid.at(task.tgid), task.tgid, task.pid,
                                                    valid_utf8(thread_name(task)), static_cast<int>(i)));
            }
            task_track_[i] = it->second;
        }

        run_track_ = next_uuid_++;
        pb::Message run;
        run.uint(fld::kTdUuid, run_track_).bytes(fld::kTdName, "cxtrace run");
        descriptors_.push_back(run);

        // Slice names, interned: "CPU <n>" on a task's track, "<comm> <pid>"
        // (and " (tgid <tgid>)" for a thread that does not lead its group) on a CPU's.
        std::unordered_map<std::string, uint64_t> iids;
        auto intern = [&](std::string name) {
            auto [it, fresh] = iids.emplace(std::move(name), 0);
            if (fresh) {
                it->second = kFirstNameIid + names_.size();
                names_.push_back(it->first);
            }
            return it->second;
        };
        cpu_slice_iid_.resize(cpu_track_.size());
        for (uint32_t cpu = 0; cpu < cpu_track_.size(); ++cpu) cpu_slice_iid_[cpu] = intern("CPU " + std::to_string(cpu));
        task_slice_iid_.resize(tasks.size());
        for (size_t i = 0; i < tasks.size(); ++i)
            task_slice_iid_[i] = intern(valid_utf8(cpu_slice_name(tasks[i])));
        runnable_iid_ = intern(off_cpu_label(RunState::Runnable, nullptr));
        // Off a CPU, on a task's track: "Runnable", and each wait by its
        // state, system call and lock ("Sleeping: futex lock1").
        wait_iids_.resize(tasks.size());
        for (size_t i = 0; i < tasks.size(); ++i)
            for (const WaitRecord& wait : tasks[i].waits) wait_iids_[i].push_back(intern(off_cpu_label(wait.state, &wait)));
        for (const OffCpuInterval& off : model_.off_cpu)
            if (off.wait == OffCpuInterval::kNoWait && !state_iid_[static_cast<size_t>(off.state)])
                state_iid_[static_cast<size_t>(off.state)] = intern(off_cpu_label(off.state, nullptr));
        for (size_t i = 0; i < tasks.size(); ++i) tasks_with_pid_[tasks[i].pid].push_back(i);
    }

    static pb::Message process_track(uint64_t uuid, uint32_t pid, const std::string& name, int sort_index) {
        pb::Message process;
        process.sint(fld::kPdPid, static_cast<int32_t>(pid))
            .bytes(fld::kPdProcessName, name)
            .sint(fld::kPdLegacySortIndex, sort_index);
        pb::Message track;
        track.uint(fld::kTdUuid, uuid).message(fld::kTdProcess, process);
        return track;
    }

    static pb::Message thread_track(uint64_t uuid, uint64_t parent, uint32_t pid, uint32_t tid,
                                    const std::string& name, int sort_index) {
        pb::Message thread;
        thread.sint(fld::kThPid, static_cast<int32_t>(pid))
            .sint(fld::kThTid, static_cast<int32_t>(tid))
            .bytes(fld::kThThreadName, name)
            .sint(fld::kThLegacySortIndex, sort_index);
        pb::Message track;
        track.uint(fld::kTdUuid, uuid).uint(fld::kTdParentUuid, parent).message(fld::kTdThread, thread);
        return track;
    }

    // --- flows: creator's slice around the creation -> created's first slice
    struct FlowEnd {
        uint64_t id;
        bool terminating;
    };
    struct Request {  // a flow to start on the creator's track
        size_t creator;
        uint64_t ts;
        uint64_t id;
        bool bound;
    };
    struct CreatorInstant {
        size_t creator;
        uint64_t ts;
        uint64_t flow;
    };
    static constexpr uint32_t kNone = ~uint32_t{0};

    void add_slice_flow(uint32_t interval, FlowEnd flow) {
        if (has_flows_.empty()) has_flows_.resize(model_.intervals.size());
        has_flows_[interval] = true;
        slice_flows_[interval].push_back(flow);
    }

    void make_flows() {
        const std::vector<TaskRecord>& tasks = model_.tasks;
        const std::vector<OnCpuInterval>& intervals = model_.intervals;
        first_interval_.assign(tasks.size(), kNone);
        for (uint32_t i = 0; i < intervals.size(); ++i) {
            const OnCpuInterval& iv = intervals[i];
            if (iv.task >= tasks.size()) continue;
            uint32_t& first = first_interval_[iv.task];
            if (first == kNone || iv.start_ns < intervals[first].start_ns) first = i;
        }

        std::vector<Request> requests;
        uint64_t flow_id = 0;
        for (size_t i = 0; i < tasks.size(); ++i) {
            const TaskRecord& task = tasks[i];
            if (!task.created_ns) continue;
            auto creator = creator_of(model_, tasks_with_pid_[task.parent_pid], i);
            if (!creator) continue;
            ++flow_id;
            requests.push_back(Request{*creator, *task.created_ns, flow_id, false});
            if (first_interval_[i] != kNone) add_slice_flow(first_interval_[i], FlowEnd{flow_id, true});
            else created_flow_[i] = flow_id;  // on its "created" instant
        }
        if (requests.empty()) return;
        std::sort(requests.begin(), requests.end(),
                  [](const Request& a, const Request& b) { return std::tie(a.creator, a.ts) < std::tie(b.creator, b.ts); });
        // Per creator task: its requests, [begin, end) in requests (empty for the others).
        std::vector<std::pair<size_t, size_t>> by_creator(tasks.size());
        for (size_t k = requests.size(); k-- > 0;) {
            auto& range = by_creator[requests[k].creator];
            if (range.first == range.second) range.second = k + 1;
            range.first = k;
        }
        // The creator's on-CPU slice enclosing the creation carries the flow's start.
        for (uint32_t i = 0; i < intervals.size(); ++i) {
            const OnCpuInterval& iv = intervals[i];
            if (iv.task >= by_creator.size()) continue;
            const auto [first, last] = by_creator[iv.task];
            if (first == last) continue;
            auto begin = requests.begin() + static_cast<ptrdiff_t>(first);
            auto end = requests.begin() + static_cast<ptrdiff_t>(last);
            auto k = std::lower_bound(begin, end, iv.start_ns, [](const Request& r, uint64_t ts) { return r.ts < ts; });
            for (; k != end && k->ts <= iv.start_ns + duration(iv); ++k)
                if (!k->bound) {
                    k->bound = true;
                    add_slice_flow(i, FlowEnd{k->id, false});
                }
        }
        // Not on CPU at its creation (as far as the trace shows): an instant
        // on the creator's track at the creation carries it.
        for (const Request& r : requests)
            if (!r.bound) creator_instants_.push_back({r.creator, r.ts, r.id});
    }

    // --- instants --------------------------------------------------------------
    template <typename Fill>
    void instant(uint64_t track, const std::string& name, uint64_t ts, std::optional<uint64_t> flow, bool terminating,
                 Fill fill) {
        pb::Message& event = instant_scratch_;
        event.clear();
        event.uint(fld::kTeType, fld::kTypeInstant)
            .uint(fld::kTeTrackUuid, track)
            .bytes(fld::kTeCategories, "lifecycle")
            .bytes(fld::kTeName, valid_utf8(name));
        Annotations annotations(event);
        fill(annotations);
        annotations.finish();
        if (flow) event.fixed64(terminating ? fld::kTeTerminatingFlowIds : fld::kTeFlowIds, *flow);
        timed_.push_back(Timed{ts, instant_bytes_.size(), event.size()});
        instant_bytes_ += event.data();
    }

    void make_instants() {
        // The run's facts, as report.json's "run", and what is particular to this file.
        instant(run_track_, "cxtrace run", 0, std::nullopt, false, [&](Annotations& a) {
            a.add_string("tool", "cxtrace");
            a.add_string("schema", kPerfettoSchema);
            a.add_json("run", run_json(model_.run).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
            a.add_string("time_unit", "ns since the start of tracing (TracePacket.timestamp: deltas on incremental clock 64)");
            a.add_int("tasks", static_cast<int64_t>(model_.tasks.size()));
            a.add_int("intervals", static_cast<int64_t>(model_.intervals.size()));
            a.add_int("anomalies", static_cast<int64_t>(model_.anomalies.total()));
            a.add_string("cpu_tracks", "pid " + std::to_string(kPerfettoCpuPid) + " (\"CPUs\"): one thread track per CPU, tid " +
                                           std::to_string(kPerfettoCpuPid) + " + 1 + cpu");
        });
        const std::vector<TaskRecord>& tasks = model_.tasks;
        for (size_t i = 0; i < tasks.size(); ++i) {
            const TaskRecord& task = tasks[i];
            const uint64_t track = task_track_[i];
            if (task.created_ns) {
                std::optional<uint64_t> flow;
                if (auto it = created_flow_.find(i); it != created_flow_.end()) flow = it->second;
                instant(track, std::string("created (") + task_kind_name(task.kind) + ")", *task.created_ns, flow, true,
                        [&](Annotations& a) {
                            a.add_string("kind", task_kind_name(task.kind));
                            if (task.mm) a.add_string("mm", mm_name(task.mm));
                            a.add_int_dict("latency_ns", {{"syscall", task.latency.syscall},
                                                          {"first_run", task.latency.first_run}});
                            a.add_string("clone_flags", hex(task.clone_flags));
                            if (!task.creation_syscall.empty()) a.add_string("creation_syscall", task.creation_syscall);
                            a.add_int("pid", task.pid);
                            a.add_int("tgid", task.tgid);
                            a.add_int("ppid", task.ppid);
                            a.add_int("parent_pid", task.parent_pid);
                            a.add_int("wakeup_cpu", task.wakeup_cpu);
                        });
            }
            for (const ExecRecord& exec : task.execs)
                instant(track, "exec " + basename_of(exec.filename), exec.ts_ns, std::nullopt, false, [&](Annotations& a) {
                    a.add_string("filename", exec.filename);
                    a.add_strings("argv", exec.argv);
                    a.add_int("argc", exec.argc);
                    a.add_bool("argv_truncated", exec.argv_truncated);
                    if (exec.mm) a.add_string("mm", mm_name(exec.mm));
                    if (exec.pid_before != 0 && exec.pid_before != task.pid) a.add_int("pid_before", exec.pid_before);
                });
            if (task.exited_ns)
                instant(track, exit_name(task), *task.exited_ns, std::nullopt, false, [&](Annotations& a) {
                    a.add_int("exit_code", task.exit_code);
                    a.add_int("exit_signal", task.exit_signal);
                    a.add_bool("core_dumped", task.core_dumped);
                });
        }
        for (const CreatorInstant& c : creator_instants_)
            instant(task_track_[c.creator], "creates " + std::to_string(model_.tasks[c.creator].pid), c.ts, c.flow, false,
                    [](Annotations&) {});
        std::stable_sort(timed_.begin(), timed_.end(), [](const Timed& a, const Timed& b) { return a.ts_ns < b.ts_ns; });
    }

    // --- the file ----------------------------------------------------------------
    void write_header() {
        // First packet: clears the sequence's incremental state, makes the
        // delta clock the sequence's default and interns the names the slices
        // use. No timestamp: the delta clock starts at the next packet.
        pb::Message interned;
        auto entry = [](uint64_t iid, const std::string& name) {
            pb::Message m;
            m.uint(fld::kInternedIid, iid).bytes(fld::kInternedName, name);
            return m;
        };
        interned.message(fld::kIdEventCategories, entry(kCatOncpu, "oncpu"));
        interned.message(fld::kIdEventCategories, entry(kCatCpu, "cpu"));
        interned.message(fld::kIdEventCategories, entry(kCatState, "state"));
        for (size_t k = 0; k < names_.size(); ++k) interned.message(fld::kIdEventNames, entry(kFirstNameIid + k, names_[k]));
        interned.message(fld::kIdDebugAnnotationNames, entry(kWokenByIid, "woken by"));
        pb::Message defaults;
        defaults.uint(fld::kDefaultTimestampClockId, kDeltaClockId);
        pb::Message first;
        first.uint(fld::kTrustedPacketSequenceId, kSequenceId)
            .uint(fld::kSequenceFlags, fld::kSeqIncrementalStateCleared)
            .message(fld::kTracePacketDefaults, defaults)
            .message(fld::kInternedData, interned);
        writer_.packet(first.data());
        // Second: the delta clock and BOOTTIME both read 0 here, which ties
        // the deltas to trace time (the first delta counts from this 0).
        pb::Message boottime, delta, snapshot, clocks;
        boottime.uint(fld::kClockId, fld::kBuiltinClockBoottime).uint(fld::kClockTimestamp, 0);
        delta.uint(fld::kClockId, kDeltaClockId).uint(fld::kClockTimestamp, 0).boolean(fld::kClockIsIncremental, true);
        snapshot.message(fld::kCsClocks, boottime).message(fld::kCsClocks, delta);
        clocks.uint(fld::kTrustedPacketSequenceId, kSequenceId).message(fld::kClockSnapshot, snapshot);
        writer_.packet(clocks.data());
        // Then every track, before any event on it (at delta 0: still time 0).
        for (const pb::Message& track : descriptors_) {
            pb::Message packet;
            packet.uint(fld::kTimestamp, 0)
                .uint(fld::kTrustedPacketSequenceId, kSequenceId)
                .message(fld::kTrackDescriptor, track);
            writer_.packet(packet.data());
        }
    }

    // BEGIN of interval i on its task's track ("CPU <n>") and on its CPU's
    // ("<comm> <pid>").
    void write_begins(uint32_t i) {
        const OnCpuInterval& iv = model_.intervals[i];
        if (has_flows_.empty() || !has_flows_[i]) {
            writer_.slice_begin(iv.start_ns, task_track_[iv.task], kCatOncpu, cpu_slice_iid_[iv.cpu]);
        } else {  // rare: a creator's slice, or a created task's first
            pb::Message event;
            event.uint(fld::kTeType, fld::kTypeSliceBegin)
                .uint(fld::kTeTrackUuid, task_track_[iv.task])
                .uint(fld::kTeCategoryIids, kCatOncpu)
                .uint(fld::kTeNameIid, cpu_slice_iid_[iv.cpu]);
            for (const FlowEnd& f : slice_flows_.at(i))
                event.fixed64(f.terminating ? fld::kTeTerminatingFlowIds : fld::kTeFlowIds, f.id);
            writer_.event(iv.start_ns, event.data());
        }
        writer_.slice_begin(iv.start_ns, cpu_track_[iv.cpu], kCatCpu, task_slice_iid_[iv.task]);
    }

    void write_ends(uint32_t i) {
        const OnCpuInterval& iv = model_.intervals[i];
        const uint64_t end = iv.start_ns + duration(iv);
        writer_.slice_end(end, task_track_[iv.task]);
        writer_.slice_end(end, cpu_track_[iv.cpu]);
    }

    // --- stretches off a CPU: a wait's slice, then the runnable one --------------
    // In the heap of open slices: what ends (the code's high half) and which
    // interval or stretch (its low half).
    enum Ending : uint64_t { kOnCpuEnds = 0, kWaitEnds = 1, kRunnableEnds = 2 };
    static uint64_t ending(Ending what, uint32_t index) { return (uint64_t{what} << 32) | index; }

    uint64_t wait_iid(const OffCpuInterval& off) const {
        const std::vector<uint64_t>& waits = wait_iids_[off.task];
        return off.wait < waits.size() ? waits[off.wait] : state_iid_[static_cast<size_t>(off.state)];
    }

    // Who ended the wait, as the wait slice's debug annotation "woken by":
    // the traced task, or "outside the trace"; none when not known. Name
    // and value are interned: a wait slice carries two small ids, and a
    // value's text is sent once, in the packet of the first slice that uses
    // it (`interned` is then set to that InternedData).
    uint64_t waker_iid(const OffCpuInterval& off, std::string& interned) {
        const size_t outside = model_.tasks.size();
        const size_t waker = off.waker == WakerKind::Traced && off.waker_task < outside ? off.waker_task : outside;
        if (waker_iids_.empty()) waker_iids_.resize(outside + 1);
        uint64_t& iid = waker_iids_[waker];
        if (iid == 0) {
            iid = ++waker_texts_;
            pb::Message value;
            value.uint(fld::kInternedIid, iid)
                .bytes(fld::kInternedName, waker < outside ? valid_utf8(cpu_slice_name(model_.tasks[waker]))
                                                           : std::string("outside the trace"));
            pb::Message data;
            data.message(fld::kIdDebugAnnotationStringValues, value);
            interned = data.data();
        }
        return iid;
    }

    template <typename Heap>
    void begin_off_cpu(uint32_t k, Heap& open) {
        const OffCpuInterval& off = model_.off_cpu[k];
        if (off.state == RunState::Runnable || off.woken_ns <= off.start_ns) return begin_runnable(k, off.start_ns, open);
        const uint64_t track = task_track_[off.task];
        if (off.waker == WakerKind::Unknown) {
            writer_.slice_begin(off.start_ns, track, kCatState, wait_iid(off));
        } else {
            std::string interned;
            const uint64_t waker = waker_iid(off, interned);
            if (interned.empty()) {
                writer_.slice_begin(off.start_ns, track, kCatState, wait_iid(off), kWokenByIid, waker);
            } else {  // the first slice this waker ended: its text goes with it
                pb::Message annotation;
                annotation.uint(fld::kDaNameIid, kWokenByIid).uint(fld::kDaStringValueIid, waker);
                pb::Message event;
                event.uint(fld::kTeType, fld::kTypeSliceBegin)
                    .uint(fld::kTeTrackUuid, track)
                    .uint(fld::kTeCategoryIids, kCatState)
                    .uint(fld::kTeNameIid, wait_iid(off))
                    .message(fld::kTeDebugAnnotations, annotation);
                writer_.event(off.start_ns, interned, event.data());
            }
        }
        open.emplace(off.woken_ns, ending(kWaitEnds, k));
    }

    template <typename Heap>
    void begin_runnable(uint32_t k, uint64_t from, Heap& open) {
        const OffCpuInterval& off = model_.off_cpu[k];
        if (off.end_ns <= from) return;
        writer_.slice_begin(from, task_track_[off.task], kCatState, runnable_iid_);
        open.emplace(off.end_ns, ending(kRunnableEnds, k));
    }

    // Everything in time order; at equal times slice ends first (a slice
    // ending where the next begins), then begins (longest first), then
    // instants (which so nest in a slice that begins with them).
    void write_events() {
        const std::vector<OnCpuInterval>& intervals = model_.intervals;
        auto slice_before = [&](uint32_t a, uint32_t b) {
            const OnCpuInterval &x = intervals[a], &y = intervals[b];
            if (x.start_ns != y.start_ns) return x.start_ns < y.start_ns;
            uint64_t dx = duration(x), dy = duration(y);
            if (dx != dy) return dx > dy;
            return a < b;
        };
        std::vector<uint32_t> order;  // stays empty when the intervals are in order already
        for (uint32_t i = 1; i < intervals.size(); ++i)
            if (slice_before(i, i - 1)) {
                order.resize(intervals.size());
                for (uint32_t k = 0; k < order.size(); ++k) order[k] = k;
                std::sort(order.begin(), order.end(), slice_before);
                break;
            }
        // The correlator gives the stretches off a CPU in order of their
        // starts; another model's are put in that order here.
        const std::vector<OffCpuInterval>& offs = model_.off_cpu;
        std::vector<uint32_t> off_order;  // stays empty when they are in order already
        for (uint32_t k = 1; k < offs.size(); ++k)
            if (offs[k].start_ns < offs[k - 1].start_ns) {
                off_order.resize(offs.size());
                for (uint32_t i = 0; i < off_order.size(); ++i) off_order[i] = i;
                std::stable_sort(off_order.begin(), off_order.end(),
                                 [&](uint32_t a, uint32_t b) { return offs[a].start_ns < offs[b].start_ns; });
                break;
            }
        auto off_at = [&](size_t k) { return off_order.empty() ? static_cast<uint32_t>(k) : off_order[k]; };
        // Each source's next time is found again only when that source moves
        // on: four comparisons per packet, not four scans.
        const size_t task_count = model_.tasks.size(), interval_count = intervals.size(), off_count = offs.size(),
                     timed_count = timed_.size();
        const uint64_t kNever = ~uint64_t{0};
        size_t slice = 0, off = 0, other = 0;
        uint32_t next = 0;  // the interval at `slice`
        auto find_begin = [&] {  // skips intervals of no task of the model
            for (; slice < interval_count; ++slice) {
                next = order.empty() ? static_cast<uint32_t>(slice) : order[slice];
                if (intervals[next].task < task_count) return intervals[next].start_ns;
            }
            return kNever;
        };
        auto find_off = [&] {
            for (; off < off_count; ++off)
                if (offs[off_at(off)].task < task_count) return offs[off_at(off)].start_ns;
            return kNever;
        };
        auto other_at = [&] { return other < timed_count ? timed_[other].ts_ns : kNever; };
        using End = std::pair<uint64_t, uint64_t>;  // (end ns, ending())
        std::priority_queue<End, std::vector<End>, std::greater<End>> open;
        uint64_t begin_ts = find_begin(), off_ts = find_off(), other_ts = other_at();
        for (;;) {
            const uint64_t end_ts = open.empty() ? kNever : open.top().first;
            if (end_ts <= begin_ts && end_ts <= off_ts && end_ts <= other_ts) {
                if (end_ts == kNever) break;  // all four sources are done
                const auto [ts, code] = open.top();
                open.pop();
                const uint32_t index = static_cast<uint32_t>(code);
                switch (static_cast<Ending>(code >> 32)) {
                    case kOnCpuEnds: write_ends(index); break;
                    case kWaitEnds:
                        writer_.slice_end(ts, task_track_[offs[index].task]);
                        begin_runnable(index, ts, open);
                        break;
                    case kRunnableEnds: writer_.slice_end(ts, task_track_[offs[index].task]); break;
                }
            } else if (begin_ts <= off_ts && begin_ts <= other_ts) {
                const uint32_t begun = next;
                ++slice;
                begin_ts = find_begin();
                write_begins(begun);
                if (duration(intervals[begun]) == 0) write_ends(begun);
                else open.emplace(intervals[begun].start_ns + duration(intervals[begun]), ending(kOnCpuEnds, begun));
            } else if (off_ts <= other_ts) {
                begin_off_cpu(off_at(off++), open);
                off_ts = find_off();
            } else {
                writer_.event(timed_[other].ts_ns,
                              std::string_view(instant_bytes_).substr(timed_[other].offset, timed_[other].size));
                ++other;
                other_ts = other_at();
            }
        }
    }


    const RunModel& model_;
    TraceWriter writer_;
    uint64_t next_uuid_ = 1;
    std::vector<pb::Message> descriptors_;
    std::vector<uint64_t> task_track_;  // per task: its thread track
    std::vector<uint64_t> cpu_track_;   // per cpu
    uint64_t run_track_ = 0;
    std::vector<std::string> names_;  // interned event names, iid kFirstNameIid + index
    std::vector<uint64_t> cpu_slice_iid_;   // per cpu: "CPU <n>", the name of its slices on task tracks
    std::vector<uint64_t> task_slice_iid_;  // per task: the name of its slices on CPU tracks
    std::vector<std::vector<uint64_t>> wait_iids_;        // per task and wait: its slices' name
    std::array<uint64_t, kRunStateCount> state_iid_{};    // per state: a stretch's name with no wait record
    uint64_t runnable_iid_ = 0;
    std::unordered_map<uint32_t, std::vector<size_t>> tasks_with_pid_;
    std::vector<uint64_t> waker_iids_;  // per waker task (tasks.size(): outside): its text's iid, 0 until sent
    uint64_t waker_texts_ = 0;          // the waker texts interned so far
    std::vector<uint32_t> first_interval_;
    std::unordered_map<uint32_t, std::vector<FlowEnd>> slice_flows_;  // interval -> flows on its task-track BEGIN
    std::vector<bool> has_flows_;  // per interval: in slice_flows_ (a bit test, not a hash, per interval)
    std::unordered_map<size_t, uint64_t> created_flow_;               // task that never ran -> flow to its instant
    std::vector<CreatorInstant> creator_instants_;
    std::vector<Timed> timed_;
    std::string instant_bytes_;     // the instants' TrackEvents, one after the other
    pb::Message instant_scratch_;  // one instant's, while it is encoded
};

bool is_valid_utf8(std::string_view s) {
    size_t i = 0;
    const size_t n = s.size();
    while (i < n) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            ++i;
            continue;
        }
        size_t len;
        uint32_t cp;
        if (c >= 0xC2 && c <= 0xDF) len = 2, cp = c & 0x1F;
        else if (c >= 0xE0 && c <= 0xEF) len = 3, cp = c & 0x0F;
        else if (c >= 0xF0 && c <= 0xF4) len = 4, cp = c & 0x07;
        else return false;
        if (i + len > n) return false;
        for (size_t k = 1; k < len; ++k) {
            const auto cc = static_cast<unsigned char>(s[i + k]);
            if ((cc & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (cc & 0x3F);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += len;
    }
    return true;
}

}  // namespace

std::string valid_utf8(const std::string& text) {
    if (is_valid_utf8(text)) return text;
    // The same replacement as report.json's: through nlohmann's dump.
    const std::string quoted = nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return nlohmann::json::parse(quoted).get<std::string>();
}

std::string render_perfetto_trace(const RunModel& model) {
    return render_to_string([&](TextOut& out) { write_perfetto_trace(model, out); });
}

void write_perfetto_trace(const RunModel& model, TextOut& out) { Exporter(model, out).run(); }

}  // namespace cxt
