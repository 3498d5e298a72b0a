#include "bpf_tracer.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/capability.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "cxtrace.skel.h"

namespace cxt {

namespace {

constexpr const char* kKernelBtf = "/sys/kernel/btf/vmlinux";
constexpr ino_t kInitialPidNamespaceInode = 0xEFFFFFFCU;  // PROC_PID_INIT_INO, fixed in the kernel

int quiet_libbpf_print(enum libbpf_print_level, const char*, va_list) { return 0; }
int warning_libbpf_print(enum libbpf_print_level level, const char* format, va_list args) {
    if (level == LIBBPF_DEBUG) return 0;
    return std::vfprintf(stderr, format, args);
}

bool has_capability(int cap) {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2] = {};
    if (syscall(SYS_capget, &header, data) != 0) return false;
    return (data[cap / 32].effective & (1u << (cap % 32))) != 0;
}

std::string lockdown_mode() {
    std::ifstream in("/sys/kernel/security/lockdown");
    std::string line;
    std::getline(in, line);
    auto open = line.find('['), close = line.find(']');
    if (open == std::string::npos || close == std::string::npos) return "";
    return line.substr(open + 1, close - open - 1);
}

Error load_error(const std::string& step, int err) {
    return Error{"cannot " + step + load_failure_hint(err, lockdown_mode()), err};
}

// The tracepoint a tp_btf program attaches to ("tp_btf/sched_switch" -> "sched_switch").
std::vector<std::string> btf_tracepoints_of(bpf_object* object) {
    std::vector<std::string> names;
    bpf_program* program = nullptr;
    bpf_object__for_each_program(program, object) {
        std::string section = bpf_program__section_name(program);
        const std::string prefix = "tp_btf/";
        if (section.compare(0, prefix.size(), prefix) == 0) names.push_back(section.substr(prefix.size()));
    }
    return names;
}

}  // namespace

Status check_kernel_btf(const std::string& path) {
    if (access(path.c_str(), R_OK) != 0)
        return Error{"this kernel exposes no BTF type information (" + path +
                         " is missing): cxtrace needs a kernel built with CONFIG_DEBUG_INFO_BTF=y",
                     errno};
    return Status::success();
}

std::string load_failure_hint(int err, const std::string& lockdown) {
    // Confidentiality lockdown forbids BPF reads of kernel memory, which
    // every cxtrace program does; the verifier then rejects them.
    if (lockdown == "confidentiality")
        return " (kernel lockdown is 'confidentiality', which forbids BPF tracing programs from reading kernel "
               "memory: boot with lockdown=integrity or lockdown=none, or turn off Secure Boot's lockdown)";
    if (err == EPERM || err == EACCES)
        return " (run cxtrace with sudo, or grant it CAP_BPF and CAP_PERFMON)";
    if (err == ENOENT || err == EINVAL || err == ESRCH)
        return " (this kernel may lack a tracepoint cxtrace needs; Linux 5.18 or newer is required; "
               "run with --verbose to see libbpf's reason)";
    return "";
}

Status check_btf_tracepoints(const btf* kernel_btf, const std::vector<std::string>& tracepoints) {
    std::string missing;
    for (const std::string& name : tracepoints)
        if (btf__find_by_name_kind(kernel_btf, ("btf_trace_" + name).c_str(), BTF_KIND_TYPEDEF) < 0)
            missing += (missing.empty() ? "" : ", ") + name;
    if (missing.empty()) return Status::success();
    return Error{"this kernel lacks the tracepoints " + missing +
                     " that cxtrace attaches to (BTF tracepoints; Linux 5.18 or newer has them all)",
                 ENOENT};
}

void BpfTracer::SkeletonDeleter::operator()(cxtrace_bpf* skel) const { cxtrace_bpf__destroy(skel); }
void BpfTracer::RingBufferDeleter::operator()(ring_buffer* rb) const { ring_buffer__free(rb); }

Status check_tracing_prerequisites() {
    if (geteuid() != 0 && !(has_capability(CAP_BPF) && has_capability(CAP_PERFMON)))
        return Error{"cxtrace needs root to load its eBPF programs: run it with sudo (or grant CAP_BPF and CAP_PERFMON)"};
    if (Status btf = check_kernel_btf(kKernelBtf); !btf) return btf;
    // Pids in events are the initial namespace's; the held command's pid as
    // fork() returns it is only the same number when cxtrace runs there too.
    struct stat ns;
    if (stat("/proc/self/ns/pid", &ns) == 0 && ns.st_ino != kInitialPidNamespaceInode)
        return Error{"cxtrace runs inside a PID namespace (a container?): run it in the host's initial PID "
                     "namespace, where the kernel's task ids are the ones it sees (e.g. docker run --pid=host)"};
    return Status::success();
}

Result<std::unique_ptr<BpfTracer>> BpfTracer::start(const TracerOptions& options, RawEventSink sink) {
    libbpf_set_print(options.verbose ? warning_libbpf_print : quiet_libbpf_print);

    std::unique_ptr<BpfTracer> tracer(new BpfTracer());
    tracer->sink_ = std::move(sink);
    tracer->skel_.reset(cxtrace_bpf__open());
    if (!tracer->skel_) return load_error("open the BPF object", errno);
    cxtrace_bpf* skel = tracer->skel_.get();

    // Wake the reader once a sixteenth of the buffer is pending; it also
    // drains on its own timer.
    skel->rodata->wakeup_bytes = options.ring_buffer_bytes / 16;
    if (int err = bpf_map__set_max_entries(skel->maps.events, static_cast<uint32_t>(options.ring_buffer_bytes)))
        return load_error("size the ring buffer", -err);
    if (int err = bpf_map__set_max_entries(skel->maps.tracked, options.max_tasks))
        return load_error("size the task map", -err);

    // Name a missing tracepoint before the verifier gives a vaguer error.
    if (btf* kernel_btf = btf__load_vmlinux_btf()) {
        Status present = check_btf_tracepoints(kernel_btf, btf_tracepoints_of(skel->obj));
        btf__free(kernel_btf);
        if (!present) return present.error();
    }
    if (int err = cxtrace_bpf__load(skel)) return load_error("load the BPF programs", -err);
    if (int err = cxtrace_bpf__attach(skel)) return load_error("attach the BPF programs", -err);

    tracer->ring_.reset(ring_buffer__new(bpf_map__fd(skel->maps.events), &BpfTracer::on_sample, tracer.get(), nullptr));
    if (!tracer->ring_) return load_error("set up the ring buffer reader", errno);
    return tracer;
}

BpfTracer::~BpfTracer() = default;

int BpfTracer::on_sample(void* ctx, void* data, size_t size) {
    static_cast<BpfTracer*>(ctx)->sink_(static_cast<const uint8_t*>(data), size);
    return 0;
}

Status BpfTracer::track(pid_t pid) {
    uint32_t key = static_cast<uint32_t>(pid);
    uint8_t one = 1;
    if (bpf_map__update_elem(skel_->maps.tracked, &key, sizeof key, &one, sizeof one, BPF_ANY) != 0)
        return os_error("cannot follow pid " + std::to_string(pid));
    return Status::success();
}

int BpfTracer::ready_fd() const { return ring_buffer__epoll_fd(ring_.get()); }

Result<int> BpfTracer::drain() {
    int consumed = ring_buffer__consume(ring_.get());
    if (consumed < 0) return Error{"ring buffer read failed", -consumed};
    return consumed;
}

namespace {
std::array<uint64_t, kEventKindCount> sum_per_kind(const bpf_map* map) {
    std::array<uint64_t, kEventKindCount> sums{};
    int cpus = libbpf_num_possible_cpus();
    if (cpus <= 0) return sums;
    std::vector<uint64_t> per_cpu(static_cast<size_t>(cpus));
    for (uint32_t kind = 1; kind < kEventKindCount; ++kind) {
        if (bpf_map__lookup_elem(map, &kind, sizeof kind, per_cpu.data(), per_cpu.size() * sizeof(uint64_t), 0) != 0)
            continue;
        for (uint64_t n : per_cpu) sums[kind] += n;
    }
    return sums;
}
}  // namespace

std::array<uint64_t, kEventKindCount> BpfTracer::lost_by_kind() const { return sum_per_kind(skel_->maps.drops); }

std::array<uint64_t, kEventKindCount> BpfTracer::submitted_by_kind() const {
    return sum_per_kind(skel_->maps.submitted);
}

}  // namespace cxt
