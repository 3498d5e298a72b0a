#include "privileges.h"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fstream>

namespace cxt {

namespace {

constexpr uint64_t bit(int cap) { return uint64_t{1} << cap; }

int last_capability() {
    std::ifstream in("/proc/sys/kernel/cap_last_cap");
    int last = CAP_LAST_CAP;
    in >> last;
    return last;
}

}  // namespace

uint64_t capabilities_kept_after_attach() { return bit(CAP_CHOWN) | bit(CAP_DAC_OVERRIDE) | bit(CAP_KILL); }

namespace {

Status become(const InvokingUser& user) {
    // Leaving uid 0 clears every capability, permitted ones included.
    if (int err = switch_to_user(user)) return Error{"cannot become " + user.name, err};
    if (geteuid() == 0 || getuid() == 0) return Error{"still root after becoming " + user.name};
    return Status::success();
}

Status keep_only_needed_capabilities() {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2] = {};
    if (syscall(SYS_capget, &header, data) != 0) return os_error("cannot read cxtrace's capabilities");
    const uint64_t permitted = data[0].permitted | (uint64_t{data[1].permitted} << 32);
    const uint64_t kept = permitted & capabilities_kept_after_attach();

    // The bounding set needs CAP_SETPCAP to shrink: root has it, a binary
    // given only CAP_BPF + CAP_PERFMON does not (and no_new_privs covers it).
    if (permitted & bit(CAP_SETPCAP))
        for (int cap = 0; cap <= last_capability(); ++cap)
            if (!(kept & bit(cap)) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL)
                return os_error("cannot drop capability " + std::to_string(cap) + " from the bounding set");
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);  // EINVAL on kernels without ambient caps

    for (int i = 0; i < 2; ++i) {
        const uint32_t word = static_cast<uint32_t>(kept >> (32 * i));
        data[i].effective = data[i].permitted = word;
        data[i].inheritable = 0;
    }
    if (syscall(SYS_capset, &header, data) != 0) return os_error("cannot drop cxtrace's capabilities");
    return Status::success();
}

}  // namespace

Status drop_privileges_after_attach(const std::optional<InvokingUser>& user) {
    if (Status dropped = user ? become(*user) : keep_only_needed_capabilities(); !dropped) return dropped;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return os_error("cannot set no_new_privs");
    return Status::success();
}

Status check_may_run_command_as_root(const std::optional<InvokingUser>& user) {
    if (user)
        return Error{"--as-root is refused under sudo for " + user->name + " (uid " + std::to_string(user->uid) +
                     "): running their command as root would hand them a root shell. Only root may use it, "
                     "from a root login (a root shell opened with sudo still names its user in SUDO_UID)"};
    if (getuid() != 0) return Error{"--as-root needs cxtrace to be started by root"};
    return Status::success();
}

}  // namespace cxt
