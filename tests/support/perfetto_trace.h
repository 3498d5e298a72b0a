// A small, strict reader of the perfetto.pftrace files cxtrace writes, for
// the unit and live tests: a protobuf wire-format decoder plus just enough
// of the Perfetto Trace/TracePacket/TrackEvent schema to get tracks, slices
// (BEGIN/END pairs matched per track), instants, flows and debug annotations
// back. Independent of the writer (reports/proto_encoder.h): the field
// numbers below were taken from the upstream protos (google/perfetto,
// protos/perfetto/trace/...: trace.proto, trace_packet.proto,
// track_event/{track_event,track_descriptor,process_descriptor,
// thread_descriptor,debug_annotation}.proto, interned_data/interned_data.proto).
//
// Timestamps are resolved as trace_processor does: on the packet's clock
// (timestamp_clock_id, else the sequence's TracePacketDefaults), where a
// clock a ClockSnapshot declared incremental adds each delta to the last.
//
// Anything malformed throws std::runtime_error: a truncated varint or field,
// an unknown wire type, a string that is not valid UTF-8, a reference to an
// interned name never defined (or used before the state was cleared),
// an END without a BEGIN, a slice left open, time going backwards.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace cxt::pftrace {

struct Field {
    uint32_t number = 0;
    uint32_t wire = 0;        // 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32
    uint64_t value = 0;       // varint / fixed
    std::string_view bytes;   // length-delimited
};

inline std::runtime_error error(const std::string& what) { return std::runtime_error("pftrace: " + what); }

inline uint64_t read_varint(std::string_view data, size_t& pos) {
    uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (pos >= data.size()) throw error("truncated varint");
        const auto byte = static_cast<uint8_t>(data[pos++]);
        value |= static_cast<uint64_t>(byte & 0x7F) << shift;
        if (!(byte & 0x80)) return value;
    }
    throw error("varint longer than 10 bytes");
}

inline std::vector<Field> fields(std::string_view message) {
    std::vector<Field> out;
    size_t pos = 0;
    while (pos < message.size()) {
        const uint64_t key = read_varint(message, pos);
        Field f;
        f.number = static_cast<uint32_t>(key >> 3);
        f.wire = static_cast<uint32_t>(key & 7);
        if (f.number == 0) throw error("field number 0");
        switch (f.wire) {
        case 0:
            f.value = read_varint(message, pos);
            break;
        case 1:
        case 5: {
            const size_t n = f.wire == 1 ? 8 : 4;
            if (pos + n > message.size()) throw error("truncated fixed field");
            for (size_t i = 0; i < n; ++i) f.value |= static_cast<uint64_t>(static_cast<uint8_t>(message[pos + i])) << (8 * i);
            pos += n;
            break;
        }
        case 2: {
            const uint64_t size = read_varint(message, pos);
            if (size > message.size() - pos) throw error("truncated length-delimited field " + std::to_string(f.number));
            f.bytes = message.substr(pos, size);
            pos += size;
            break;
        }
        default:
            throw error("unsupported wire type " + std::to_string(f.wire));
        }
        out.push_back(f);
    }
    return out;
}

inline bool valid_utf8(std::string_view s) {
    size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<uint8_t>(s[i]);
        size_t len = 0;
        uint32_t cp = 0;
        if (c < 0x80) len = 1, cp = c;
        else if (c >= 0xC2 && c <= 0xDF) len = 2, cp = c & 0x1F;
        else if (c >= 0xE0 && c <= 0xEF) len = 3, cp = c & 0x0F;
        else if (c >= 0xF0 && c <= 0xF4) len = 4, cp = c & 0x07;
        else return false;
        if (i + len > s.size()) return false;
        for (size_t k = 1; k < len; ++k) {
            const auto cc = static_cast<uint8_t>(s[i + k]);
            if ((cc & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (cc & 0x3F);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += len;
    }
    return true;
}

inline std::string text(const Field& f, const char* what) {
    if (f.wire != 2) throw error(std::string(what) + ": not length-delimited");
    if (!valid_utf8(f.bytes)) throw error(std::string(what) + ": invalid UTF-8");
    return std::string(f.bytes);
}

inline uint64_t varint(const Field& f, const char* what) {
    if (f.wire != 0) throw error(std::string(what) + ": not a varint");
    return f.value;
}

// A debug annotation's value.
struct Value {
    enum Kind { Int, Bool, String, Array, Dict, Json } kind = Int;
    int64_t i = 0;
    bool b = false;
    std::string s;  // String, Json
    std::vector<Value> items;
    std::map<std::string, Value> dict;
};

using Args = std::map<std::string, Value>;

struct Event {
    uint64_t ts = 0;
    uint64_t track = 0;
    int type = 0;  // 1 SLICE_BEGIN, 2 SLICE_END, 3 INSTANT
    std::string name;
    std::vector<std::string> categories;
    Args args;
    std::vector<uint64_t> flow_ids, terminating_flow_ids;
};

struct Track {
    uint64_t uuid = 0, parent = 0;
    std::string name;
    bool process = false, thread = false;
    int32_t pid = 0, tid = 0;
    std::string process_name, thread_name;
    std::optional<int32_t> sort_index;
};

struct Slice {
    uint64_t track = 0;
    std::string name;
    std::vector<std::string> categories;
    uint64_t ts = 0, dur = 0;
    Args args;
    std::vector<uint64_t> flow_ids, terminating_flow_ids;
};

struct Trace {
    size_t packets = 0;
    std::map<uint64_t, Track> tracks;
    std::vector<Event> events;    // TrackEvents in file order
    std::vector<Slice> slices;    // ordered by END
    std::vector<Event> instants;  // in file order

    const Track& track(uint64_t uuid) const {
        auto it = tracks.find(uuid);
        if (it == tracks.end()) throw error("no track " + std::to_string(uuid));
        return it->second;
    }
};

namespace detail {

// Field numbers (see the file comment for their sources).
enum : uint32_t {
    kTracePacket = 1,                                                     // Trace
    kClockSnapshot = 6, kTimestamp = 8, kSeqId = 10, kTrackEvent = 11,    // TracePacket
    kInterned = 12, kSeqFlags = 13, kClockIdField = 58, kDefaults = 59, kTrackDescriptor = 60,
    kDefaultClockId = 58,                                                 // TracePacketDefaults
    kCsClocks = 1, kClkId = 1, kClkTimestamp = 2, kClkIncremental = 3,    // ClockSnapshot(.Clock)
    kTdUuid = 1, kTdName = 2, kTdProcess = 3, kTdThread = 4, kTdParent = 5,  // TrackDescriptor
    kPdPid = 1, kPdSort = 3, kPdName = 6,                                 // ProcessDescriptor
    kThPid = 1, kThTid = 2, kThSort = 3, kThName = 5,                     // ThreadDescriptor
    kTeCategoryIids = 3, kTeAnnotations = 4, kTeType = 9, kTeNameIid = 10,  // TrackEvent
    kTeTrack = 11, kTeCategories = 22, kTeName = 23, kTeFlowIds = 47, kTeTermFlowIds = 48,
    kIdCategories = 1, kIdNames = 2, kIdAnnotationNames = 3, kIdAnnotationStrings = 29,  // InternedData
    kDaNameIid = 1, kDaBool = 2, kDaUint = 3, kDaInt = 4, kDaString = 6,  // DebugAnnotation
    kDaNested = 8, kDaJson = 9, kDaName = 10, kDaStringIid = 17,
    kNvType = 1, kNvKeys = 2, kNvValues = 3, kNvArray = 4, kNvInt = 5, kNvBool = 7, kNvString = 8,  // NestedValue
};

inline Value nested(std::string_view message) {
    Value v;
    uint64_t type = 0;
    std::vector<std::string> keys;
    std::vector<Value> values;
    bool leaf = false;
    for (const Field& f : fields(message)) {
        switch (f.number) {
        case kNvType: type = varint(f, "nested_type"); break;
        case kNvKeys: keys.push_back(text(f, "dict_keys")); break;
        case kNvValues: values.push_back(nested(f.bytes)); break;
        case kNvArray: v.items.push_back(nested(f.bytes)); break;
        case kNvInt: v.kind = Value::Int, v.i = static_cast<int64_t>(varint(f, "int_value")), leaf = true; break;
        case kNvBool: v.kind = Value::Bool, v.b = varint(f, "bool_value") != 0, leaf = true; break;
        case kNvString: v.kind = Value::String, v.s = text(f, "string_value"), leaf = true; break;
        default: throw error("unexpected NestedValue field " + std::to_string(f.number));
        }
    }
    if (type == 1) {
        if (keys.size() != values.size()) throw error("dict keys and values differ in number");
        v.kind = Value::Dict;
        for (size_t k = 0; k < keys.size(); ++k) v.dict[keys[k]] = values[k];
    } else if (type == 2) {
        v.kind = Value::Array;
    } else if (!leaf) {
        throw error("NestedValue without a value");
    }
    return v;
}

}  // namespace detail

// Decodes a whole file.
inline Trace decode(std::string_view file) {
    using namespace detail;
    Trace trace;
    std::map<uint64_t, std::string> categories, names, annotation_names, annotation_strings;
    bool state_valid = false;
    uint64_t last_ts = 0;
    uint64_t default_clock = 0;                   // TracePacketDefaults.timestamp_clock_id
    std::map<uint64_t, uint64_t> incremental;     // incremental clock -> its last value
    std::map<uint64_t, std::vector<Event>> open;  // per track: BEGINs not yet ended
    for (const Field& outer : fields(file)) {
        if (outer.number != kTracePacket || outer.wire != 2) throw error("not a Trace: field " + std::to_string(outer.number));
        ++trace.packets;
        std::optional<uint64_t> ts, seq, clock;
        uint64_t flags = 0;
        std::optional<std::string_view> event, descriptor, interned, defaults, snapshot;
        for (const Field& f : fields(outer.bytes)) {
            switch (f.number) {
            case kTimestamp: ts = varint(f, "timestamp"); break;
            case kClockIdField: clock = varint(f, "timestamp_clock_id"); break;
            case kDefaults: defaults = f.bytes; break;
            case kClockSnapshot: snapshot = f.bytes; break;
            case kSeqId: seq = varint(f, "trusted_packet_sequence_id"); break;
            case kSeqFlags: flags = varint(f, "sequence_flags"); break;
            case kTrackEvent: event = f.bytes; break;
            case kTrackDescriptor: descriptor = f.bytes; break;
            case kInterned: interned = f.bytes; break;
            default: throw error("unexpected TracePacket field " + std::to_string(f.number));
            }
        }
        if (seq != 1u) throw error("packet not on sequence 1");
        if (flags & 1) {
            state_valid = true;
            categories.clear(), names.clear(), annotation_names.clear(), annotation_strings.clear();
            default_clock = 0;
        }
        if (defaults) {
            if (!state_valid) throw error("TracePacketDefaults before the incremental state was cleared");
            for (const Field& f : fields(*defaults)) {
                if (f.number != kDefaultClockId) throw error("unexpected TracePacketDefaults field");
                default_clock = varint(f, "default timestamp_clock_id");
            }
        }
        if (snapshot) {
            bool boottime = false, declares_incremental = false;
            for (const Field& c : fields(*snapshot)) {
                if (c.number != kCsClocks) throw error("unexpected ClockSnapshot field");
                uint64_t id = 0, value = 0;
                bool is_incremental = false;
                for (const Field& f : fields(c.bytes)) {
                    if (f.number == kClkId) id = varint(f, "clock_id");
                    else if (f.number == kClkTimestamp) value = varint(f, "clock timestamp");
                    else if (f.number == kClkIncremental) is_incremental = varint(f, "is_incremental") != 0;
                    else throw error("unexpected Clock field");
                }
                if (is_incremental && (id < 64 || id > 127)) throw error("a builtin clock declared incremental");
                if (is_incremental) incremental[id] = value, declares_incremental = true;
                boottime = boottime || id == 6;
                // Only clocks at the same value as BOOTTIME are supported: no conversion here.
                if (value != 0) throw error("clock snapshot not at 0");
            }
            // Without a builtin clock beside it, trace_processor has no way
            // from the sequence's clock to trace time and drops the packets.
            if (declares_incremental && !boottime) throw error("incremental clock without BOOTTIME in its snapshot");
        }
        if (ts) {
            const uint64_t on = clock.value_or(default_clock);
            if (on != 0 && on != 6 && !incremental.count(on))
                throw error("timestamp on clock " + std::to_string(on) + ", which no snapshot declared");
            if (incremental.count(on)) ts = incremental[on] += *ts;
        }
        // As trace_processor: a packet may use interned names without
        // SEQ_NEEDS_INCREMENTAL_STATE (the flag only marks what to skip after
        // a data loss), but never before the state was first cleared.
        if ((flags & 2) != 0 && !state_valid) throw error("SEQ_NEEDS_INCREMENTAL_STATE before the state was cleared");
        if (interned) {
            if (!state_valid) throw error("interned data before the incremental state was cleared");
            for (const Field& f : fields(*interned)) {
                std::map<uint64_t, std::string>* index = f.number == kIdCategories ? &categories
                                                       : f.number == kIdNames       ? &names
                                                       : f.number == kIdAnnotationNames ? &annotation_names
                                                       : f.number == kIdAnnotationStrings ? &annotation_strings
                                                                                          : nullptr;
                if (!index) throw error("unexpected InternedData field " + std::to_string(f.number));
                uint64_t iid = 0;
                std::string name;
                for (const Field& e : fields(f.bytes)) {
                    if (e.number == 1) iid = varint(e, "iid");
                    else if (e.number == 2) name = text(e, "interned name");
                    else throw error("unexpected interned entry field");
                }
                if (iid == 0 || !index->emplace(iid, name).second) throw error("bad or repeated iid");
            }
        }
        auto lookup = [&](const std::map<uint64_t, std::string>& index, uint64_t iid, const char* what) {
            if (!state_valid) throw error(std::string(what) + " interned before the incremental state was cleared");
            auto it = index.find(iid);
            if (it == index.end()) throw error(std::string(what) + " iid " + std::to_string(iid) + " not interned");
            return it->second;
        };
        if (descriptor) {
            Track t;
            for (const Field& f : fields(*descriptor)) {
                switch (f.number) {
                case kTdUuid: t.uuid = varint(f, "uuid"); break;
                case kTdParent: t.parent = varint(f, "parent_uuid"); break;
                case kTdName: t.name = text(f, "track name"); break;
                case kTdProcess:
                    t.process = true;
                    for (const Field& p : fields(f.bytes)) {
                        if (p.number == kPdPid) t.pid = static_cast<int32_t>(varint(p, "pid"));
                        else if (p.number == kPdName) t.process_name = text(p, "process_name");
                        else if (p.number == kPdSort) t.sort_index = static_cast<int32_t>(varint(p, "legacy_sort_index"));
                        else throw error("unexpected ProcessDescriptor field");
                    }
                    break;
                case kTdThread:
                    t.thread = true;
                    for (const Field& p : fields(f.bytes)) {
                        if (p.number == kThPid) t.pid = static_cast<int32_t>(varint(p, "pid"));
                        else if (p.number == kThTid) t.tid = static_cast<int32_t>(varint(p, "tid"));
                        else if (p.number == kThName) t.thread_name = text(p, "thread_name");
                        else if (p.number == kThSort) t.sort_index = static_cast<int32_t>(varint(p, "legacy_sort_index"));
                        else throw error("unexpected ThreadDescriptor field");
                    }
                    break;
                default: throw error("unexpected TrackDescriptor field " + std::to_string(f.number));
                }
            }
            if (t.uuid == 0 || !trace.tracks.emplace(t.uuid, t).second) throw error("bad or repeated track uuid");
        }
        if (event) {
            if (!ts) throw error("TrackEvent without a timestamp");
            if (*ts < last_ts) throw error("time goes backwards at " + std::to_string(*ts));
            last_ts = *ts;
            Event e;
            e.ts = *ts;
            for (const Field& f : fields(*event)) {
                switch (f.number) {
                case kTeType: e.type = static_cast<int>(varint(f, "type")); break;
                case kTeTrack: e.track = varint(f, "track_uuid"); break;
                case kTeName: e.name = text(f, "name"); break;
                case kTeNameIid: e.name = lookup(names, varint(f, "name_iid"), "event name"); break;
                case kTeCategories: e.categories.push_back(text(f, "category")); break;
                case kTeCategoryIids: e.categories.push_back(lookup(categories, varint(f, "category_iid"), "category")); break;
                case kTeFlowIds:
                    if (f.wire != 1) throw error("flow_ids not fixed64");
                    e.flow_ids.push_back(f.value);
                    break;
                case kTeTermFlowIds:
                    if (f.wire != 1) throw error("terminating_flow_ids not fixed64");
                    e.terminating_flow_ids.push_back(f.value);
                    break;
                case kTeAnnotations: {
                    std::string name;
                    std::optional<Value> value;
                    for (const Field& a : fields(f.bytes)) {
                        Value v;
                        switch (a.number) {
                        case kDaName: name = text(a, "annotation name"); continue;
                        case kDaNameIid: name = lookup(annotation_names, varint(a, "name_iid"), "annotation name"); continue;
                        case kDaBool: v.kind = Value::Bool, v.b = varint(a, "bool_value") != 0; break;
                        case kDaUint:
                        case kDaInt: v.kind = Value::Int, v.i = static_cast<int64_t>(varint(a, "int_value")); break;
                        case kDaString: v.kind = Value::String, v.s = text(a, "string_value"); break;
                        case kDaStringIid:
                            v.kind = Value::String;
                            v.s = lookup(annotation_strings, varint(a, "string_value_iid"), "annotation string value");
                            break;
                        case kDaJson: v.kind = Value::Json, v.s = text(a, "legacy_json_value"); break;
                        case kDaNested: v = nested(a.bytes); break;
                        default: throw error("unexpected DebugAnnotation field " + std::to_string(a.number));
                        }
                        if (value) throw error("annotation with two values");
                        value = v;
                    }
                    if (name.empty() || !value) throw error("annotation without a name or a value");
                    if (!e.args.emplace(name, *value).second) throw error("annotation " + name + " repeated");
                    break;
                }
                default: throw error("unexpected TrackEvent field " + std::to_string(f.number));
                }
            }
            if (!trace.tracks.count(e.track)) throw error("event on an undeclared track");
            trace.events.push_back(e);
            if (e.type == 1) {
                open[e.track].push_back(e);
            } else if (e.type == 2) {
                auto& stack = open[e.track];
                if (stack.empty()) throw error("SLICE_END without a BEGIN at " + std::to_string(e.ts));
                const Event& b = stack.back();
                trace.slices.push_back(Slice{b.track, b.name, b.categories, b.ts, e.ts - b.ts, b.args, b.flow_ids,
                                             b.terminating_flow_ids});
                stack.pop_back();
            } else if (e.type == 3) {
                trace.instants.push_back(e);
            } else {
                throw error("unexpected event type " + std::to_string(e.type));
            }
        }
    }
    for (const auto& [track, stack] : open)
        if (!stack.empty()) throw error("slice left open on track " + std::to_string(track));
    return trace;
}

}  // namespace cxt::pftrace
