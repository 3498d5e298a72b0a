// libFuzzer target: any bytes given to the trace reader and the correlator
// must end in a clean error or a model, never a crash, a sanitizer report
// or an unbounded allocation.
#include <cstdint>
#include <cstdio>

#include "correlator.h"
#include "trace_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    cxt::FilePtr file(fmemopen(const_cast<uint8_t*>(data), size, "rb"));
    if (!file) return 0;
    auto reader = cxt::TraceReader::open_stream(std::move(file), "fuzz input");
    if (!reader) return 0;
    cxt::Correlator correlator(reader->meta());
    for (;;) {
        auto event = reader->next();
        if (!event || !*event) break;
        correlator.add(std::move(**event));
    }
    cxt::RunModel model = correlator.finish(reader->end());
    (void)model;
    return 0;
}
