#include "waits.h"

#include <algorithm>
#include <cstring>
#include <iterator>

namespace cxt {

namespace {

struct SyscallName {
    int32_t number;
    const char* name;
};
// In the header's order, which is by number.
constexpr SyscallName kSyscalls[] = {
#include "syscall_names.inc"
};

const char* known_name(int32_t syscall) {
    auto found = std::lower_bound(std::begin(kSyscalls), std::end(kSyscalls), syscall,
                                  [](const SyscallName& entry, int32_t number) { return entry.number < number; });
    return found != std::end(kSyscalls) && found->number == syscall ? found->name : nullptr;
}

bool named_one_of(const char* name, std::initializer_list<const char*> names) {
    return name && std::any_of(names.begin(), names.end(), [&](const char* n) { return std::strcmp(name, n) == 0; });
}

}  // namespace

WaitReason wait_reason(int32_t syscall) {
    if (syscall < 0) return WaitReason::NoSyscall;
    const char* name = known_name(syscall);
    if (named_one_of(name, {"futex", "futex_waitv"})) return WaitReason::Futex;
    if (named_one_of(name, {"nanosleep", "clock_nanosleep"})) return WaitReason::Sleep;
    if (named_one_of(name, {"read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev", "preadv2",
                            "pwritev2", "recvfrom", "sendto", "recvmsg", "sendmsg", "recvmmsg", "sendmmsg", "accept",
                            "accept4", "connect", "splice", "tee", "sendfile"}))
        return WaitReason::ReadWrite;
    if (named_one_of(name, {"poll", "select", "pselect6", "ppoll", "epoll_wait", "epoll_pwait", "epoll_pwait2"}))
        return WaitReason::Poll;
    if (named_one_of(name, {"wait4", "waitid"})) return WaitReason::Child;
    return WaitReason::OtherSyscall;
}

const char* wait_reason_key(WaitReason reason) {
    switch (reason) {
        case WaitReason::Futex: return "futex";
        case WaitReason::Sleep: return "sleep";
        case WaitReason::ReadWrite: return "read-write";
        case WaitReason::Poll: return "poll";
        case WaitReason::Child: return "child";
        case WaitReason::OtherSyscall: return "syscall";
        case WaitReason::NoSyscall: return "no-syscall";
    }
    return "syscall";
}

std::string off_cpu_label(RunState state, const WaitRecord* wait) {
    std::string label = run_state_name(state);
    label[0] = static_cast<char>(label[0] - 'a' + 'A');
    if (state == RunState::Running || state == RunState::Runnable || !wait) return label;
    label += ": ";
    label += wait->syscall < 0 ? "not in a system call" : syscall_display_name(wait->syscall);
    if (wait->lock) label += " lock" + std::to_string(wait->lock);
    return label;
}

std::string syscall_display_name(int32_t syscall) {
    if (syscall < 0) return "";
    if (const char* name = known_name(syscall)) return name;
    return "syscall " + std::to_string(syscall);
}

}  // namespace cxt
