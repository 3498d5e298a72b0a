// A limit the user set on a run (--max-trace-size, --duration) that ended
// the tracing before the command ended: recorded in trace.cxt's end record
// and said in every report.
#pragma once

#include <cstdint>

namespace cxt {

enum class TraceLimitKind { MaxTraceSize, Duration };

struct TraceLimit {
    TraceLimitKind kind = TraceLimitKind::MaxTraceSize;
    uint64_t value = 0;  // bytes (MaxTraceSize) or nanoseconds (Duration)
};

// The option that sets it, as typed: "--max-trace-size", "--duration".
inline const char* trace_limit_option(TraceLimitKind kind) {
    return kind == TraceLimitKind::MaxTraceSize ? "--max-trace-size" : "--duration";
}

}  // namespace cxt
