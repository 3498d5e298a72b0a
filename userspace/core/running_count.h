// How many on-CPU intervals run at each moment: the sweep behind the
// parallelism figures (the correlator's) and the chart (report.html's).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "model.h"

namespace cxt {

// Sorts times that are mostly in order already (the starts of intervals
// listed in the order they end: out of order only where one overlaps a
// later-starting one). The in-order run is kept in place; the rest is
// sorted apart and merged in from the back.
inline void sort_mostly_sorted(std::vector<uint64_t>& times) {
    std::vector<uint64_t> rest;
    size_t kept = 0;
    for (uint64_t t : times) {
        if (kept == 0 || t >= times[kept - 1]) times[kept++] = t;
        else rest.push_back(t);
    }
    if (rest.empty()) return;
    std::sort(rest.begin(), rest.end());
    size_t out = times.size(), left = kept, right = rest.size();
    while (right > 0) {
        if (left > 0 && times[left - 1] > rest[right - 1]) times[--out] = times[--left];
        else times[--out] = rest[--right];
    }
}

// Calls fn(from, to, running) for each stretch from `start` on over which
// the number of intervals running is `running`, in time order, up to the
// last start or end; returns that last time (`start` when none is later).
// At equal times ends count before starts: an interval ending where
// another begins is not counted running beside it. The intervals come in
// the order they end (the correlator's order), so only their starts are
// sorted (8 bytes a time) when they are not in order; ends likewise.
template <typename Fn>
uint64_t for_each_running_count(const std::vector<OnCpuInterval>& intervals, uint64_t start, Fn fn) {
    // A sorted copy of the starts or ends only when they are not in order
    // already (each is 8 bytes an interval, freshly touched memory).
    std::vector<uint64_t> starts, ends;
    const bool starts_in_order =
        std::is_sorted(intervals.begin(), intervals.end(),
                       [](const OnCpuInterval& a, const OnCpuInterval& b) { return a.start_ns < b.start_ns; });
    if (!starts_in_order) {
        starts.reserve(intervals.size());
        for (const OnCpuInterval& interval : intervals) starts.push_back(interval.start_ns);
        sort_mostly_sorted(starts);
    }
    const bool ends_in_order =
        std::is_sorted(intervals.begin(), intervals.end(),
                       [](const OnCpuInterval& a, const OnCpuInterval& b) { return a.end_ns < b.end_ns; });
    if (!ends_in_order) {
        ends.reserve(intervals.size());
        for (const OnCpuInterval& interval : intervals) ends.push_back(interval.end_ns);
        sort_mostly_sorted(ends);
    }
    auto start_at = [&](size_t k) { return starts_in_order ? intervals[k].start_ns : starts[k]; };
    auto end_at = [&](size_t k) { return ends_in_order ? intervals[k].end_ns : ends[k]; };
    uint64_t since = start;
    uint32_t running = 0;
    const size_t n = intervals.size();
    for (size_t next_start = 0, next_end = 0; next_start < n || next_end < n;) {
        const bool is_end = next_start == n || (next_end < n && end_at(next_end) <= start_at(next_start));
        const uint64_t at = is_end ? end_at(next_end++) : start_at(next_start++);
        if (at > since) {
            fn(since, at, running);
            since = at;
        }
        if (is_end) --running;
        else ++running;
    }
    return since;
}

}  // namespace cxt
