// PidIndex: pid -> task index, the lookup the correlator does for nearly
// every event. Open addressing in one flat array: a lookup is a multiply
// and, almost always, one cache line (std::unordered_map divides by a prime
// and follows a node pointer per lookup).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace cxt {

class PidIndex {
public:
    // The index stored for pid, or nullptr. The pointer is into the table:
    // read it before the next set() or erase().
    const uint32_t* find(uint32_t pid) const {
        for (size_t at = home(pid);; at = next(at)) {
            const Slot& slot = slots_[at];
            if (slot.index == kEmpty) return nullptr;
            if (slot.pid == pid) return &slot.index;
        }
    }
    bool contains(uint32_t pid) const { return find(pid) != nullptr; }

    void set(uint32_t pid, uint32_t index) {
        if ((used_ + 1) * 2 > slots_.size()) grow();  // at most half full: short probe runs
        size_t at = home(pid);
        while (slots_[at].index != kEmpty && slots_[at].pid != pid) at = next(at);
        if (slots_[at].index == kEmpty) ++used_;
        slots_[at] = Slot{pid, index};
    }

    void erase(uint32_t pid) {
        size_t hole = home(pid);
        while (slots_[hole].index != kEmpty && slots_[hole].pid != pid) hole = next(hole);
        if (slots_[hole].index == kEmpty) return;
        // Move later entries of the run back into the hole when their home
        // allows, so no lookup meets an empty slot before its pid.
        for (size_t at = next(hole); slots_[at].index != kEmpty; at = next(at)) {
            size_t from_home = (at - home(slots_[at].pid)) & mask();
            if (from_home >= ((at - hole) & mask())) {
                slots_[hole] = slots_[at];
                hole = at;
            }
        }
        slots_[hole].index = kEmpty;
        --used_;
    }

    size_t size() const { return used_; }

private:
    static constexpr uint32_t kEmpty = std::numeric_limits<uint32_t>::max();  // no task has this index
    struct Slot {
        uint32_t pid = 0;
        uint32_t index = kEmpty;
    };

    size_t mask() const { return slots_.size() - 1; }
    size_t next(size_t at) const { return (at + 1) & mask(); }
    // Fibonacci hashing: consecutive pids land far apart.
    size_t home(uint32_t pid) const { return (pid * 0x9E3779B1u >> (32 - bits_)) & mask(); }

    void grow() {
        std::vector<Slot> old = std::move(slots_);
        ++bits_;
        slots_.assign(size_t{1} << bits_, Slot{});
        used_ = 0;
        for (const Slot& slot : old)
            if (slot.index != kEmpty) set(slot.pid, slot.index);
    }

    unsigned bits_ = 4;
    std::vector<Slot> slots_ = std::vector<Slot>(size_t{1} << 4);
    size_t used_ = 0;
};

}  // namespace cxt
