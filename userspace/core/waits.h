// What a task waited in: the system call named, and grouped into the few
// reasons a student reads (a lock, a sleep, a pipe, ...).
#pragma once

#include <cstdint>
#include <string>

namespace cxt {

enum class WaitReason { Futex, Sleep, ReadWrite, Poll, Child, OtherSyscall, NoSyscall };

// The group of a system call (x86-64 number; -1: not in one).
WaitReason wait_reason(int32_t syscall);
// Its key in report.json: "futex", "sleep", "read-write", "poll", "child",
// "syscall", "no-syscall".
const char* wait_reason_key(WaitReason reason);
// The system call's name ("futex"), "syscall <number>" when the table does
// not know it, or "" for -1.
std::string syscall_display_name(int32_t syscall);

}  // namespace cxt
