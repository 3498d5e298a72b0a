#include "bpf_tracer.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <thread>
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

// The tracepoint a tp_btf program that will be loaded attaches to
// ("tp_btf/sched_switch" -> "sched_switch").
std::vector<std::string> btf_tracepoints_of(bpf_object* object) {
    std::vector<std::string> names;
    bpf_program* program = nullptr;
    bpf_object__for_each_program(program, object) {
        if (!bpf_program__autoload(program)) continue;
        std::string section = bpf_program__section_name(program);
        const std::string prefix = "tp_btf/";
        if (section.compare(0, prefix.size(), prefix) == 0) names.push_back(section.substr(prefix.size()));
    }
    return names;
}

// The syscalls whose entry and exit are reported (see cxt_syscall_of in
// cxtrace.bpf.c): enter ids first, then exit ids, in this order.
const char* const kSyscalls[] = {"clone", "clone3", "fork", "vfork", "execve", "execveat"};
constexpr size_t kSyscallCount = sizeof kSyscalls / sizeof kSyscalls[0];

constexpr const char* kTracefs = "/sys/kernel/tracing";
constexpr const char* kDebugfsTracing = "/sys/kernel/debug/tracing";

// Reads "<n>\n" with plain system calls: also used in a forked child.
bool read_id(const char* path, uint32_t& id) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    char text[32];
    ssize_t got = read(fd, text, sizeof text - 1);
    close(fd);
    if (got <= 0) return false;
    uint64_t value = 0;
    ssize_t i = 0;
    for (; i < got && text[i] >= '0' && text[i] <= '9'; ++i) value = value * 10 + static_cast<uint64_t>(text[i] - '0');
    if (i == 0 || value == 0 || value > UINT32_MAX) return false;
    id = static_cast<uint32_t>(value);
    return true;
}

std::vector<std::string> id_paths(const std::string& tracing_dir, const std::vector<std::string>& names) {
    std::vector<std::string> paths;
    for (const std::string& name : names) paths.push_back(tracing_dir + "/events/syscalls/" + name + "/id");
    return paths;
}

bool read_ids(const std::vector<std::string>& paths, std::vector<uint32_t>& ids) {
    ids.assign(paths.size(), 0);
    for (size_t i = 0; i < paths.size(); ++i)
        if (!read_id(paths[i].c_str(), ids[i])) return false;
    return true;
}

// tracefs is not mounted: a child mounts it in a mount namespace of its own
// (private, so the mount never propagates to the host's), reads the ids and
// exits, which takes the mount away with its namespace. The ids are the
// kernel's and stay valid without any mount.
Result<std::vector<uint32_t>> ids_from_private_tracefs(const std::vector<std::string>& names) {
    std::vector<std::string> paths = id_paths(kTracefs, names);  // built before fork: no allocation in the child
    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC) != 0) return os_error("cannot create a pipe");
    pid_t child = fork();
    if (child < 0) {
        int err = errno;
        close(pipe_fds[0]);
        close(pipe_fds[1]);
        return os_error("cannot fork", err);
    }
    if (child == 0) {
        close(pipe_fds[0]);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (unshare(CLONE_NEWNS) != 0) _exit(10 + errno % 100);
        if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) _exit(10 + errno % 100);
        if (mount("tracefs", kTracefs, "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
            _exit(10 + errno % 100);
        for (const std::string& path : paths) {
            uint32_t id = 0;
            if (!read_id(path.c_str(), id)) _exit(2);
            if (write(pipe_fds[1], &id, sizeof id) != static_cast<ssize_t>(sizeof id)) _exit(3);
        }
        _exit(0);
    }
    close(pipe_fds[1]);
    std::vector<uint32_t> ids(names.size(), 0);
    size_t want = ids.size() * sizeof(uint32_t), got = 0;
    while (got < want) {
        ssize_t n = read(pipe_fds[0], reinterpret_cast<char*>(ids.data()) + got, want - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += static_cast<size_t>(n);
    }
    close(pipe_fds[0]);
    int status = 0;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    if (got == want && WIFEXITED(status) && WEXITSTATUS(status) == 0) return ids;
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (code >= 10) return Error{"cannot mount tracefs in a private mount namespace", code - 10};
    return Error{"tracefs mounted in a private mount namespace has no syscall tracepoints "
                 "(kernel without CONFIG_FTRACE_SYSCALLS?)"};
}

// One perf event per tracepoint; the program runs for it on every CPU.
int open_tracepoint_event(uint32_t id) {
    perf_event_attr attr{};
    attr.type = PERF_TYPE_TRACEPOINT;
    attr.size = sizeof attr;
    attr.config = id;
    attr.sample_period = 1;
    attr.wakeup_events = 1;
    return static_cast<int>(syscall(SYS_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC));
}

}  // namespace

bool tracefs_mounted_at(std::string_view mountinfo, std::string_view dir) {
    // Each line: id parent major:minor root mount-point options [optional
    // fields...] - fstype source super-options (proc(5)).
    while (!mountinfo.empty()) {
        const size_t end = mountinfo.find('\n');
        std::string_view line = mountinfo.substr(0, end);
        mountinfo = end == std::string_view::npos ? std::string_view() : mountinfo.substr(end + 1);
        std::string_view fields[5];
        size_t count = 0, at = 0;
        while (count < 5 && at < line.size()) {
            const size_t space = line.find(' ', at);
            fields[count++] = line.substr(at, space == std::string_view::npos ? std::string_view::npos : space - at);
            at = space == std::string_view::npos ? line.size() : space + 1;
        }
        const size_t separator = line.find(" - ");
        if (count < 5 || fields[4] != dir || separator == std::string_view::npos) continue;
        std::string_view fstype = line.substr(separator + 3);
        fstype = fstype.substr(0, fstype.find(' '));
        if (fstype == "tracefs") return true;
    }
    return false;
}

Result<std::vector<uint32_t>> syscall_tracepoint_ids(const std::vector<std::string>& names, std::string& how) {
    std::vector<uint32_t> ids;
    std::ifstream mountinfo_file("/proc/self/mountinfo");
    const std::string mountinfo((std::istreambuf_iterator<char>(mountinfo_file)), std::istreambuf_iterator<char>());
    for (const char* dir : {kTracefs, kDebugfsTracing}) {
        // Only a tracefs already mounted there: with debugfs mounted (as
        // systemd does), reading debug/tracing would mount tracefs on it
        // (an automount), and that mount would stay.
        if (tracefs_mounted_at(mountinfo, dir) && read_ids(id_paths(dir, names), ids)) {
            how = std::string("ids read from ") + dir;
            return ids;
        }
    }
    auto from_private = ids_from_private_tracefs(names);
    if (from_private) how = "tracefs not mounted: ids read from a tracefs mounted in a private mount namespace";
    return from_private;
}

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

// The distance from one per-CPU variable to another (the same on every
// CPU), from their offsets in the kernel BTF's .data..percpu section.
std::optional<int64_t> percpu_distance(const btf* kernel_btf, const char* from, const char* to) {
    const int section = btf__find_by_name_kind(kernel_btf, ".data..percpu", BTF_KIND_DATASEC);
    if (section < 0) return std::nullopt;
    const btf_type* type = btf__type_by_id(kernel_btf, section);
    std::optional<int64_t> from_offset, to_offset;
    const btf_var_secinfo* var = btf_var_secinfos(type);
    for (uint16_t i = 0; i < btf_vlen(type); ++i, ++var) {
        const char* name = btf__name_by_offset(kernel_btf, btf__type_by_id(kernel_btf, var->type)->name_off);
        if (!name) continue;
        if (std::strcmp(name, from) == 0) from_offset = var->offset;
        if (std::strcmp(name, to) == 0) to_offset = var->offset;
    }
    if (!from_offset || !to_offset) return std::nullopt;
    return *to_offset - *from_offset;
}

void BpfTracer::SkeletonDeleter::operator()(cxtrace_bpf* skel) const { cxtrace_bpf__destroy(skel); }
void BpfTracer::RingBufferDeleter::operator()(ring_buffer* rb) const { ring_buffer__free(rb); }
void BpfTracer::LinkDeleter::operator()(bpf_link* link) const { bpf_link__destroy(link); }

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
    // Whether a wakeup came from an interrupt is read from the CPU's preempt
    // count, found from its runqueue; without the distance, wakeups by
    // traced tasks are marked as of unknown context.
    if (btf* kernel_btf = btf__load_vmlinux_btf()) {
        if (auto distance = percpu_distance(kernel_btf, "runqueues", "__preempt_count"))
            skel->rodata->preempt_count_from_rq = *distance;
        btf__free(kernel_btf);
    }
    if (int err = bpf_map__set_max_entries(skel->maps.events, static_cast<uint32_t>(options.ring_buffer_bytes)))
        return load_error("size the ring buffer", -err);
    // Syscall entry/exit: by default the global tp_btf sys_enter/sys_exit,
    // filtered by syscall number. --syscall-tracepoints asks for the
    // six per-syscall classic tracepoints instead (no program runs for other
    // syscalls: about half the BPF time per recorded event in bench/run d),
    // falling back when their ids cannot be found. Not the default: closing
    // a syscall tracepoint's perf event waits for a tracepoint grace period
    // under the kernel's event_mutex, ~70 ms each here, so the twelve add
    // about 0.5 s to every run's exit, even detached side by side.
    std::vector<std::string> names;
    for (const char* prefix : {"sys_enter_", "sys_exit_"})
        for (const char* syscall_name : kSyscalls) names.push_back(prefix + std::string(syscall_name));
    std::string how;
    Result<std::vector<uint32_t>> ids =
        options.per_syscall_tracepoints
            ? syscall_tracepoint_ids(names, how)
            : Result<std::vector<uint32_t>>(Error{"the default; --syscall-tracepoints asks for them"});
    const bool per_syscall = ids.ok();
    bpf_program__set_autoload(skel->progs.on_sys_enter_clone_tp, per_syscall);
    bpf_program__set_autoload(skel->progs.on_sys_enter_tp, per_syscall);
    bpf_program__set_autoload(skel->progs.on_sys_exit_tp, per_syscall);
    bpf_program__set_autoload(skel->progs.on_sys_enter, !per_syscall);
    bpf_program__set_autoload(skel->progs.on_sys_exit, !per_syscall);
    tracer->syscall_probes_ =
        per_syscall ? "syscall entry/exit: per-syscall tracepoints syscalls:sys_{enter,exit}_{clone,clone3,fork,vfork,"
                      "execve,execveat} (" + how + ")"
                    : "syscall entry/exit: tp_btf sys_enter/sys_exit, filtered by syscall number (per-syscall "
                      "tracepoints not used: " + ids.error().message() + ")";
    if (options.verbose) std::fprintf(stderr, "cxtrace: %s\n", tracer->syscall_probes_.c_str());

    if (int err = cxtrace_bpf__load(skel)) {
        // Name a missing tracepoint rather than pass on libbpf's vaguer
        // error. Only now: parsing the kernel's BTF again costs ~11 ms.
        if (btf* kernel_btf = btf__load_vmlinux_btf()) {
            Status present = check_btf_tracepoints(kernel_btf, btf_tracepoints_of(skel->obj));
            btf__free(kernel_btf);
            if (!present) return present.error();
        }
        return load_error("load the BPF programs", -err);
    }
    if (int err = cxtrace_bpf__attach(skel)) return load_error("attach the BPF programs", -err);
    if (per_syscall) {
        for (size_t i = 0; i < names.size(); ++i) {
            bpf_program* program = i == 0                ? skel->progs.on_sys_enter_clone_tp  // reads an argument
                                   : i < kSyscallCount ? skel->progs.on_sys_enter_tp
                                                       : skel->progs.on_sys_exit_tp;
            int event = open_tracepoint_event((*ids)[i]);
            if (event < 0) return load_error("open the tracepoint syscalls:" + names[i], errno);
            bpf_link* link = bpf_program__attach_perf_event(program, event);
            if (!link) {
                int err = errno;
                close(event);  // a link owns it only once made
                return load_error("attach to the tracepoint syscalls:" + names[i], err);
            }
            tracer->syscall_links_.emplace_back(link);
        }
    }

    tracer->ring_.reset(ring_buffer__new(bpf_map__fd(skel->maps.events), &BpfTracer::on_sample, tracer.get(), nullptr));
    if (!tracer->ring_) return load_error("set up the ring buffer reader", errno);
    return tracer;
}

BpfTracer::~BpfTracer() { stop_probes(); }

void BpfTracer::stop_probes() {
    if (skel_) cxtrace_bpf__detach(skel_.get());
    // Detaching a syscall tracepoint's last perf event waits for a tracepoint
    // grace period (tracepoint_synchronize_unregister, ~70 ms on the test
    // VM); one after the other the twelve cost most of a second. Detached
    // side by side they share the grace periods.
    std::vector<std::thread> detachers;
    for (auto& link : syscall_links_) detachers.emplace_back([l = link.release()] { bpf_link__destroy(l); });
    for (std::thread& detacher : detachers) detacher.join();
    syscall_links_.clear();
}

int BpfTracer::on_sample(void* ctx, void* data, size_t size) {
    static_cast<BpfTracer*>(ctx)->sink_(static_cast<const uint8_t*>(data), size);
    return 0;
}

Status BpfTracer::track(pid_t pid) {
    // One bit per pid, 64 to a word. Only the held command is seeded, before
    // it runs, so nothing else writes this word meanwhile.
    uint32_t word = static_cast<uint32_t>(pid) / 64;
    uint64_t bits = 0;
    if (pid <= 0 || bpf_map__lookup_elem(skel_->maps.tracked, &word, sizeof word, &bits, sizeof bits, 0) != 0)
        return os_error("cannot follow pid " + std::to_string(pid), pid <= 0 ? EINVAL : errno);
    bits |= uint64_t{1} << (static_cast<uint32_t>(pid) % 64);
    if (bpf_map__update_elem(skel_->maps.tracked, &word, sizeof word, &bits, sizeof bits, BPF_ANY) != 0)
        return os_error("cannot follow pid " + std::to_string(pid));
    return Status::success();
}

Result<std::vector<pid_t>> BpfTracer::followed_pids() const {
    const bpf_map* map = skel_->maps.tracked;
    const int fd = bpf_map__fd(map);
    // Only the words of pids the kernel hands out now (pid_max), not all 4 Mi.
    uint32_t words = bpf_map__max_entries(map);
    {
        std::ifstream pid_max_file("/proc/sys/kernel/pid_max");
        uint64_t pid_max = 0;
        if (pid_max_file >> pid_max && pid_max > 0 && pid_max / 64 + 1 < words)
            words = static_cast<uint32_t>(pid_max / 64 + 1);
    }
    std::vector<uint32_t> keys(words);
    std::vector<uint64_t> bits(words);
    uint32_t count = words, next_key = 0;
    LIBBPF_OPTS(bpf_map_batch_opts, batch_options);
    // One system call for the lot; ENOENT says it reached the map's end.
    int err = bpf_map_lookup_batch(fd, nullptr, &next_key, keys.data(), bits.data(), &count, &batch_options);
    if (err != 0 && errno != ENOENT) {
        // A kernel without batch lookups (before 5.6): word by word.
        count = 0;
        for (uint32_t word = 0; word < words; ++word) {
            if (bpf_map_lookup_elem(fd, &word, &bits[count]) != 0)
                return os_error("cannot read the command's tasks from the kernel");
            keys[count++] = word;
        }
    }
    std::vector<pid_t> pids;
    for (uint32_t i = 0; i < count; ++i)
        for (uint64_t word_bits = bits[i]; word_bits != 0; word_bits &= word_bits - 1)
            pids.push_back(static_cast<pid_t>(keys[i] * 64 + static_cast<uint32_t>(__builtin_ctzll(word_bits))));
    return pids;
}

Result<std::vector<pid_t>> BpfTracer::signal_followed_tasks(int sig) const {
    auto pids = followed_pids();
    if (!pids) return pids.error();
    const pid_t self = getpid();
    // Never init, nor the caller: neither can be followed.
    pids->erase(std::remove_if(pids->begin(), pids->end(), [self](pid_t pid) { return pid <= 1 || pid == self; }),
                pids->end());
    for (pid_t pid : *pids) kill(pid, sig);  // ESRCH: it died meanwhile; EPERM: a set-user-id task it may not signal
    return pids;
}

std::vector<int> BpfTracer::descriptors_that_keep_following() const {
    std::vector<int> fds{bpf_map__fd(skel_->maps.tracked)};
    const bpf_object_skeleton* skeleton = skel_->skeleton;
    for (int i = 0; i < skeleton->prog_cnt; ++i) {
        // Entries are prog_skel_sz apart: the size the skeleton was generated with.
        const auto* program = reinterpret_cast<const bpf_prog_skeleton*>(
            reinterpret_cast<const char*>(skeleton->progs) + static_cast<size_t>(i) * skeleton->prog_skel_sz);
        if (const bpf_link* link = *program->link) fds.push_back(bpf_link__fd(link));
    }
    for (const auto& link : syscall_links_) fds.push_back(bpf_link__fd(link.get()));
    return fds;
}

int BpfTracer::ready_fd() const { return ring_buffer__epoll_fd(ring_.get()); }

Result<int> BpfTracer::drain() {
    int consumed = ring_buffer__consume(ring_.get());
    if (consumed < 0) return Error{"ring buffer read failed", -consumed};
    return consumed;
}

namespace {
Result<std::array<uint64_t, kEventKindCount>> sum_per_kind(const bpf_map* map, const char* what) {
    std::array<uint64_t, kEventKindCount> sums{};
    int cpus = libbpf_num_possible_cpus();
    if (cpus <= 0) return Error{std::string("cannot read the kernel's ") + what + " counters", -cpus};
    std::vector<uint64_t> per_cpu(static_cast<size_t>(cpus));
    for (uint32_t kind = 1; kind < kEventKindCount; ++kind) {
        if (int err = bpf_map__lookup_elem(map, &kind, sizeof kind, per_cpu.data(), per_cpu.size() * sizeof(uint64_t), 0))
            return Error{std::string("cannot read the kernel's ") + what + " counters", -err};
        for (uint64_t n : per_cpu) sums[kind] += n;
    }
    return sums;
}
}  // namespace

Result<std::array<uint64_t, kEventKindCount>> BpfTracer::lost_by_kind() const {
    return sum_per_kind(skel_->maps.drops, "lost-event");
}

Result<std::array<uint64_t, kEventKindCount>> BpfTracer::submitted_by_kind() const {
    return sum_per_kind(skel_->maps.submitted, "submitted-event");
}

}  // namespace cxt
