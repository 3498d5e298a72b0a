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

// One field of every interval (start_ns or end_ns), in ascending order:
// read from the intervals themselves when they are in that order already,
// else from a sorted copy (8 bytes an interval, freshly touched memory).
// The field is a template argument: read at a fixed offset in the sweep.
template <uint64_t OnCpuInterval::*Field>
class TimesInOrder {
public:
    explicit TimesInOrder(const std::vector<OnCpuInterval>& intervals) : intervals_(intervals) {
        in_place_ = std::is_sorted(intervals.begin(), intervals.end(),
                                   [](const OnCpuInterval& a, const OnCpuInterval& b) { return a.*Field < b.*Field; });
        if (in_place_) return;
        copy_.reserve(intervals.size());
        for (const OnCpuInterval& interval : intervals) copy_.push_back(interval.*Field);
        sort_mostly_sorted(copy_);
    }
    uint64_t operator[](size_t k) const { return in_place_ ? intervals_[k].*Field : copy_[k]; }

private:
    const std::vector<OnCpuInterval>& intervals_;
    bool in_place_ = false;
    std::vector<uint64_t> copy_;
};

// Calls fn(from, to, running) for each stretch from `start` on over which
// the number of intervals running is `running`, in time order, up to the
// last start or end; returns that last time (`start` when none is later).
// At equal times ends count before starts: an interval ending where
// another begins is not counted running beside it. The intervals come in
// the order they end (the correlator's order), so their ends are usually
// read in place, and their starts when no interval began before an earlier one.
template <typename Fn>
uint64_t for_each_running_count(const std::vector<OnCpuInterval>& intervals, uint64_t start, Fn fn) {
    const TimesInOrder<&OnCpuInterval::start_ns> starts(intervals);
    const TimesInOrder<&OnCpuInterval::end_ns> ends(intervals);
    uint64_t since = start;
    uint32_t running = 0;
    const size_t n = intervals.size();
    for (size_t next_start = 0, next_end = 0; next_start < n || next_end < n;) {
        const bool is_end = next_start == n || (next_end < n && ends[next_end] <= starts[next_start]);
        const uint64_t at = is_end ? ends[next_end++] : starts[next_start++];
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
