// Transparent huge pages for the large arrays a report fills front to back.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

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
    const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
    const auto begin = reinterpret_cast<uintptr_t>(v.data());
    const uintptr_t end = begin + v.capacity() * sizeof(T);
    if (end - begin < 2 * kHugePage) return;  // too small to hold a whole aligned huge page
    const uintptr_t first = (begin + page - 1) & ~(page - 1), last = end & ~(page - 1);
    madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);
}

}  // namespace cxt
