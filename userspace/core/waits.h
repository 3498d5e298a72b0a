// What a task waited in: the system call named, and grouped into the few
// reasons a student reads (a lock, a sleep, a pipe, ...).
#pragma once

#include <cstdint>
#include <string>

#include "model.h"

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

// A stretch off a CPU as the timeline and Perfetto name it: "Runnable",
// "Sleeping: futex lock1", "Blocked: read", "Sleeping: not in a system
// call", "Other: wait4". wait is null for a stretch with no wait record.
std::string off_cpu_label(RunState state, const WaitRecord* wait);

}  // namespace cxt
