// PidIndex, the correlator's pid -> task lookup, against std::unordered_map.
#include <catch2/catch.hpp>

#include <random>
#include <unordered_map>

#include "pid_index.h"

using namespace cxt;

namespace {

void check_same(const PidIndex& index, const std::unordered_map<uint32_t, uint32_t>& expected,
                uint32_t highest_pid) {
    REQUIRE(index.size() == expected.size());
    for (uint32_t pid = 0; pid <= highest_pid; ++pid) {
        auto it = expected.find(pid);
        const uint32_t* found = index.find(pid);
        INFO("pid " << pid);
        REQUIRE((found != nullptr) == (it != expected.end()));
        if (found) CHECK(*found == it->second);
    }
}

}  // namespace

TEST_CASE("PidIndex finds, replaces and forgets pids", "[model]") {
    PidIndex index;
    CHECK(index.find(0) == nullptr);
    index.set(0, 7);  // pid 0 is a key like any other
    index.set(4242, 1);
    index.set(4242, 2);
    REQUIRE(index.find(0));
    CHECK(*index.find(0) == 7);
    CHECK(*index.find(4242) == 2);
    CHECK(index.size() == 2);
    index.erase(4242);
    index.erase(4242);  // erasing an absent pid changes nothing
    CHECK_FALSE(index.contains(4242));
    CHECK(index.contains(0));
    CHECK(index.size() == 1);
}

TEST_CASE("PidIndex matches std::unordered_map under random sets and erases", "[model]") {
    // Few distinct pids in a small table: long probe runs, and erases in
    // the middle of them, which must not hide the pids after the hole.
    auto seed = GENERATE(1u, 7u, 99u);
    const uint32_t highest_pid = GENERATE(40u, 5000u);
    std::mt19937 rng(seed);
    std::uniform_int_distribution<uint32_t> pid(0, highest_pid);
    PidIndex index;
    std::unordered_map<uint32_t, uint32_t> expected;
    for (uint32_t step = 0; step < 20000; ++step) {
        uint32_t p = pid(rng);
        if (rng() % 3 == 0) {
            index.erase(p);
            expected.erase(p);
        } else {
            index.set(p, step);
            expected[p] = step;
        }
        if (step % 997 == 0) check_same(index, expected, highest_pid);
    }
    check_same(index, expected, highest_pid);
}
