#include "privileges.h"

#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <utility>

namespace cxt {

namespace {

constexpr uint64_t bit(int cap) { return uint64_t{1} << cap; }

int last_capability() {
    std::ifstream in("/proc/sys/kernel/cap_last_cap");
    int last = CAP_LAST_CAP;
    in >> last;
    return last;
}

std::optional<unsigned long> parse_id(const char* text) {
    if (!text || *text < '0' || *text > '9') return std::nullopt;
    char* end = nullptr;
    errno = 0;
    unsigned long id = std::strtoul(text, &end, 10);
    if (errno != 0 || *end != '\0' || id >= static_cast<unsigned long>(static_cast<uid_t>(-1))) return std::nullopt;
    return id;
}

struct Capabilities {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2] = {};

    static Result<Capabilities> current() {
        Capabilities caps;
        if (syscall(SYS_capget, &caps.header, caps.data) != 0) return os_error("cannot read cxtrace's capabilities");
        return caps;
    }
    uint64_t permitted() const { return data[0].permitted | (uint64_t{data[1].permitted} << 32); }
    void set_effective(uint64_t mask) {
        for (int i = 0; i < 2; ++i) data[i].effective = static_cast<uint32_t>(mask >> (32 * i));
    }
    Status apply() {
        if (syscall(SYS_capset, &header, data) != 0) return os_error("cannot change cxtrace's capabilities");
        return Status::success();
    }
};

// The effective set follows the permitted one (all) or is empty (none).
Status set_effective_capabilities(bool all) {
    auto caps = Capabilities::current();
    if (!caps) return caps.error();
    caps->set_effective(all ? caps->permitted() : 0);
    return caps->apply();
}

Status become(const InvokingUser& user) {
    // Leaving uid 0 as real, effective and saved id clears every capability.
    if (int err = switch_to_user(user)) return Error{"cannot become " + user.name, err};
    if (geteuid() == 0 || getuid() == 0) return Error{"still root after becoming " + user.name};
    return Status::success();
}

Status keep_only_capabilities(uint64_t wanted) {
    auto caps = Capabilities::current();
    if (!caps) return caps.error();
    const uint64_t permitted = caps->permitted();
    const uint64_t kept = permitted & wanted;

    // The bounding set needs CAP_SETPCAP to shrink: root has it, a binary
    // given only CAP_BPF + CAP_PERFMON does not (and no_new_privs covers it).
    if (permitted & bit(CAP_SETPCAP))
        for (int cap = 0; cap <= last_capability(); ++cap)
            if (!(kept & bit(cap)) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL)
                return os_error("cannot drop capability " + std::to_string(cap) + " from the bounding set");
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);  // EINVAL on kernels without ambient caps

    for (int i = 0; i < 2; ++i) {
        const uint32_t word = static_cast<uint32_t>(kept >> (32 * i));
        caps->data[i].effective = caps->data[i].permitted = word;
        caps->data[i].inheritable = 0;
    }
    return caps->apply();
}

Status set_no_new_privs() {
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return os_error("cannot set no_new_privs");
    return Status::success();
}

}  // namespace

Result<std::optional<InvokingUser>> invoking_user() {
    const std::optional<InvokingUser> none;
    const char* uid_text = std::getenv("SUDO_UID");
    if (getuid() != 0 || !uid_text) return none;
    auto uid = parse_id(uid_text);
    if (!uid) return Error{"SUDO_UID is not a user id: '" + std::string(uid_text) + "'"};
    if (*uid == 0) return none;  // root itself used sudo
    struct passwd* pw = getpwuid(static_cast<uid_t>(*uid));
    if (!pw)
        return Error{"cannot find the user behind sudo (SUDO_UID=" + std::to_string(*uid) +
                     ") in the user database: cxtrace will not act as root for them"};
    const char* gid_text = std::getenv("SUDO_GID");
    auto gid = gid_text ? parse_id(gid_text) : std::optional<unsigned long>(pw->pw_gid);
    if (!gid) return Error{"SUDO_GID is not a group id: '" + std::string(gid_text) + "'"};
    return std::optional<InvokingUser>(
        InvokingUser{static_cast<uid_t>(*uid), static_cast<gid_t>(*gid), pw->pw_name, pw->pw_dir});
}

int switch_to_user(const InvokingUser& user) {
    if (geteuid() != 0 && getuid() == 0 && setresuid(-1, 0, -1) != 0) return errno;  // act_as_invoker's state
    if (initgroups(user.name.c_str(), user.gid) != 0 || setresgid(user.gid, user.gid, user.gid) != 0 ||
        setresuid(user.uid, user.uid, user.uid) != 0)
        return errno;
    return 0;
}

Status act_as_invoker(const std::optional<InvokingUser>& user) {
    if (!user) return getuid() == 0 ? Status::success() : set_effective_capabilities(false);
    // Groups first: changing them needs CAP_SETGID, which the uid change clears.
    if (initgroups(user->name.c_str(), user->gid) != 0 || setresgid(-1, user->gid, -1) != 0 ||
        setresuid(-1, user->uid, -1) != 0)
        return os_error("cannot act as " + user->name);
    if (geteuid() != user->uid) return Error{"cannot act as " + user->name};
    return Status::success();
}

Result<PrivilegedScope> PrivilegedScope::enter(const std::optional<InvokingUser>& user) {
    if (user) {
        // Back to effective uid 0: the kernel copies the permitted
        // capabilities into the effective set.
        if (setresuid(-1, 0, -1) != 0) return os_error("cannot regain root to load the probes");
    } else if (getuid() != 0) {
        if (Status raised = set_effective_capabilities(true); !raised) return raised.error();
    }
    return PrivilegedScope(user);
}

PrivilegedScope::PrivilegedScope(PrivilegedScope&& other) noexcept
    : user_(std::move(other.user_)), active_(std::exchange(other.active_, false)) {}

PrivilegedScope::~PrivilegedScope() {
    if (!active_) return;
    bool back = user_ ? setresuid(-1, user_->uid, -1) == 0
                      : (getuid() == 0 || set_effective_capabilities(false).ok());
    if (!back) {
        // Going on with root's rights where the user's were promised is not an option.
        std::fprintf(stderr, "cxtrace: cannot give up the rights regained to load the probes\n");
        std::abort();
    }
}

Status give_up_privileges(const std::optional<InvokingUser>& user) {
    Status dropped = user ? become(*user) : getuid() == 0 ? Status::success() : keep_only_capabilities(0);
    if (!dropped) return dropped;
    return set_no_new_privs();
}

uint64_t capabilities_kept_after_attach() { return bit(CAP_DAC_OVERRIDE) | bit(CAP_KILL); }

Status drop_privileges_after_attach(const std::optional<InvokingUser>& user) {
    if (Status dropped = user ? become(*user) : keep_only_capabilities(capabilities_kept_after_attach()); !dropped)
        return dropped;
    return set_no_new_privs();
}

Status check_may_run_command_as_root(const std::optional<InvokingUser>& user) {
    if (user)
        return Error{"--as-root is refused under sudo for " + user->name + " (uid " + std::to_string(user->uid) +
                     "): running their command as root would hand them a root shell. Only root may use it, "
                     "from a root login (a root shell opened with sudo still names its user in SUDO_UID)"};
    if (getuid() != 0) return Error{"--as-root needs cxtrace to be started by root"};
    return Status::success();
}

std::string writing_as(const std::optional<InvokingUser>& user) {
    return user ? " (cxtrace writes its files as " + user->name + ", the user behind sudo)" : "";
}

}  // namespace cxt
