// The kernel side of a run: loads and attaches the cxtrace BPF programs,
// follows one command's task tree, and hands raw event records to a sink.
// Owns every libbpf object; nothing is pinned, so when this object (or the
// whole process) goes away, the programs are detached and unloaded.
#pragma once

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "event.h"
#include "result.h"

struct bpf_link;
struct btf;
struct cxtrace_bpf;
struct ring_buffer;

namespace cxt {

struct TracerOptions {
    uint64_t ring_buffer_bytes = 16u << 20;  // power of two, multiple of the page size
    bool verbose = false;                    // show libbpf's own diagnostics
    // Syscall entry/exit on the six per-syscall classic tracepoints instead
    // of the global tp_btf pair (cheaper per event, slower to detach).
    bool per_syscall_tracepoints = false;
};

// Receives each raw event record exactly as the kernel wrote it.
using RawEventSink = std::function<void(const uint8_t* data, size_t size)>;

class BpfTracer {
public:
    static Result<std::unique_ptr<BpfTracer>> start(const TracerOptions& options, RawEventSink sink);
    ~BpfTracer();
    BpfTracer(const BpfTracer&) = delete;
    BpfTracer& operator=(const BpfTracer&) = delete;

    // Follow this task and everything it creates from now on.
    Status track(pid_t pid);
    // Readable when the kernel side asks the reader to wake up.
    int ready_fd() const;
    // Consumes everything buffered without waiting.
    Result<int> drain();
    // Detaches every program: nothing more is submitted, so after one last
    // drain() the counters below are final. Maps and the buffer stay readable.
    void stop_probes();
    // Failed reservations so far, by event kind (summed over CPUs).
    Result<std::array<uint64_t, kEventKindCount>> lost_by_kind() const;
    // Events the kernel side submitted, by kind: what the reader must have got.
    Result<std::array<uint64_t, kEventKindCount>> submitted_by_kind() const;
    // The pids of the tasks followed now: the command's tasks still alive
    // (a task's bit is cleared as it leaves a CPU for the last time).
    Result<std::vector<pid_t>> followed_pids() const;
    // Sends sig to every task followed now; the pids it signalled. A process
    // forked from cxtrace (TaskTreeGuard) calls it on its copy.
    Result<std::vector<pid_t>> signal_followed_tasks(int sig) const;
    // The descriptors that keep the probes attached and the followed tasks
    // readable: a process holding copies of them goes on following the
    // command's new tasks after cxtrace itself is gone.
    std::vector<int> descriptors_that_keep_following() const;
    // How syscall entry/exit is watched, for --verbose.
    const std::string& syscall_probes() const { return syscall_probes_; }

private:
    BpfTracer() = default;
    static int on_sample(void* ctx, void* data, size_t size);

    struct SkeletonDeleter {
        void operator()(cxtrace_bpf* skel) const;
    };
    struct RingBufferDeleter {
        void operator()(ring_buffer* rb) const;
    };
    struct LinkDeleter {
        void operator()(bpf_link* link) const;
    };
    std::unique_ptr<cxtrace_bpf, SkeletonDeleter> skel_;
    std::vector<std::unique_ptr<bpf_link, LinkDeleter>> syscall_links_;  // freed before skel_
    std::string syscall_probes_;
    std::unique_ptr<ring_buffer, RingBufferDeleter> ring_;  // declared last: freed first
    RawEventSink sink_;
};

// Checks what loading needs before trying: privileges, kernel BTF, the
// initial PID namespace. The error says what to do.
Status check_tracing_prerequisites();

// The kernel's BTF (normally /sys/kernel/btf/vmlinux) is readable; else what to do.
Status check_kernel_btf(const std::string& path);

// What to do about a failed load or attach with this errno, given the
// kernel's lockdown mode ("none", "integrity", "confidentiality" or "").
std::string load_failure_hint(int err, const std::string& lockdown);

// Whether /proc/self/mountinfo's text has a tracefs mounted at dir (a
// mount point with a space or other escaped character never matches).
bool tracefs_mounted_at(std::string_view mountinfo, std::string_view dir);

// The ids of the classic tracepoints syscalls:<name> (e.g. "sys_enter_clone"),
// read from a mounted tracefs. When tracefs is not mounted, a short-lived child
// process mounts it in its own private mount namespace and reads them there,
// so nothing is ever mounted on the machine. Fails when neither works.
// `how` says where the ids came from.
Result<std::vector<uint32_t>> syscall_tracepoint_ids(const std::vector<std::string>& names, std::string& how);

// Fails naming every tracepoint (e.g. "sched_switch") the kernel's BTF does
// not describe: an older kernel, or one built without it.
Status check_btf_tracepoints(const btf* kernel_btf, const std::vector<std::string>& tracepoints);

}  // namespace cxt
