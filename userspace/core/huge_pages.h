// Transparent huge pages for the large arrays a report fills front to back.
#pragma once

#include <sys/mman.h>

#include <cstdint>
#include <vector>

namespace cxt {

// Asks the kernel to back a vector's reserved storage with huge pages
// (THP in "madvise" mode, Debian's default). Filling 100 MB of intervals
// then takes ~50 page faults instead of ~25,000, and in a VM a fault costs
// microseconds: a fifth of `cxtrace report`'s time went to them. Advice
// only: where THP is off the call fails and nothing changes.
template <typename T>
void advise_huge_pages(const std::vector<T>& v) {
    constexpr uintptr_t kHugePage = uintptr_t{2} << 20;
    const auto begin = reinterpret_cast<uintptr_t>(v.data());
    const uintptr_t end = begin + v.capacity() * sizeof(T);
    // Only whole aligned huge pages can be backed so: none, nothing to ask.
    const uintptr_t first = (begin + kHugePage - 1) & ~(kHugePage - 1), last = end & ~(kHugePage - 1);
    if (last <= first) return;
    madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);
}

}  // namespace cxt
