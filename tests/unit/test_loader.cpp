// The loader's diagnostics, without loading anything: the message for each
// way loading can fail, and the check that names missing tracepoints.
#include <catch2/catch.hpp>

#include <bpf/btf.h>

#include <cerrno>
#include <memory>

#include "bpf_tracer.h"

using namespace cxt;
using Catch::Matchers::Contains;

TEST_CASE("a failed load says what to do about it", "[loader]") {
    CHECK_THAT(load_failure_hint(EPERM, "none"), Contains("sudo") && Contains("CAP_BPF"));
    CHECK_THAT(load_failure_hint(EACCES, ""), Contains("sudo"));
    // Confidentiality lockdown rejects the programs whatever the errno.
    for (int err : {EPERM, EINVAL, EACCES})
        CHECK_THAT(load_failure_hint(err, "confidentiality"), Contains("lockdown") && Contains("lockdown=integrity"));
    // Integrity lockdown allows what cxtrace does: it is not blamed.
    CHECK_THAT(load_failure_hint(EPERM, "integrity"), !Contains("lockdown") && Contains("sudo"));
    for (int err : {ENOENT, EINVAL, ESRCH}) CHECK_THAT(load_failure_hint(err, "none"), Contains("tracepoint"));
    CHECK(load_failure_hint(ENOMEM, "none").empty());
}

TEST_CASE("a kernel without BTF is named, with the option it needs", "[loader]") {
    Status missing = check_kernel_btf("/nonexistent/btf/vmlinux");
    REQUIRE_FALSE(missing.ok());
    CHECK_THAT(missing.error().what, Contains("/nonexistent/btf/vmlinux") && Contains("CONFIG_DEBUG_INFO_BTF=y"));
}

TEST_CASE("tracepoints the kernel's BTF lacks are named", "[loader]") {
    std::unique_ptr<btf, void (*)(btf*)> kernel(btf__new_empty(), btf__free);
    REQUIRE(kernel);
    int int_type = btf__add_int(kernel.get(), "int", 4, BTF_INT_SIGNED);
    REQUIRE(int_type > 0);
    REQUIRE(btf__add_typedef(kernel.get(), "btf_trace_sched_switch", int_type) > 0);
    REQUIRE(btf__add_typedef(kernel.get(), "btf_trace_task_newtask", int_type) > 0);
    REQUIRE(btf__add_struct(kernel.get(), "btf_trace_sched_process_exit", 0) > 0);  // not a typedef

    CHECK(check_btf_tracepoints(kernel.get(), {"sched_switch", "task_newtask"}).ok());
    Status missing = check_btf_tracepoints(kernel.get(), {"sched_switch", "sched_migrate_task", "sched_process_exit"});
    REQUIRE_FALSE(missing.ok());
    CHECK_THAT(missing.error().what, Contains("sched_migrate_task, sched_process_exit") && Contains("5.18"));
    CHECK_THAT(missing.error().what, !Contains("sched_switch,"));
}

TEST_CASE("a tracefs is used only where one is mounted, never through debugfs's automount", "[loader]") {
    // Lines as /proc/self/mountinfo gives them (proc(5)).
    const std::string debugfs_only =
        "22 25 0:20 / /sys/kernel/debug rw,relatime shared:7 - debugfs none rw\n"
        "25 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda rw\n";
    CHECK_FALSE(tracefs_mounted_at(debugfs_only, "/sys/kernel/debug/tracing"));
    CHECK_FALSE(tracefs_mounted_at(debugfs_only, "/sys/kernel/tracing"));
    const std::string both = debugfs_only +
                             "40 22 0:12 / /sys/kernel/debug/tracing rw,relatime shared:9 - tracefs tracefs rw\n"
                             "41 23 0:12 / /sys/kernel/tracing rw,nosuid,nodev,noexec - tracefs tracefs rw";  // no newline
    CHECK(tracefs_mounted_at(both, "/sys/kernel/debug/tracing"));
    CHECK(tracefs_mounted_at(both, "/sys/kernel/tracing"));
    CHECK_FALSE(tracefs_mounted_at(both, "/sys/kernel"));
    // Another file system at that path, and damaged lines, are not tracefs.
    CHECK_FALSE(tracefs_mounted_at("50 1 0:30 / /sys/kernel/tracing rw - tmpfs tmpfs rw\n", "/sys/kernel/tracing"));
    CHECK_FALSE(tracefs_mounted_at("50 1 0:30 / /sys/kernel/tracing tracefs\n", "/sys/kernel/tracing"));
    CHECK_FALSE(tracefs_mounted_at("", "/sys/kernel/tracing"));
}
