// Whose rights cxtrace uses. It needs root (or CAP_BPF + CAP_PERFMON) only
// to load and attach its probes; everything else, every path it touches
// included, it does with the rights of whoever invoked it: under sudo the
// user behind it, never root on their behalf.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

#include "result.h"

namespace cxt {

struct InvokingUser {
    uid_t uid;
    gid_t gid;
    std::string name;
    std::string home;
};
// The user behind sudo (SUDO_UID, SUDO_GID; not root) when cxtrace runs as
// root, else none. An error when SUDO_UID is set but names no user that can
// be found: cxtrace then refuses rather than act as root for them.
Result<std::optional<InvokingUser>> invoking_user();

// Takes the user's groups, gid and uid (real, effective, saved), leaving
// root and every capability behind; regains root's effective id first when
// the process holds it only as its real and saved id (act_as_invoker).
// 0 or the errno of the step that failed; allocates nothing itself, so a
// forked child may call it.
int switch_to_user(const InvokingUser& user);

// main calls this first, for every subcommand, before anything touches a
// path. Under sudo cxtrace takes the user's groups, gid and uid as its
// effective ids (files are opened and created with their rights; root stays
// only its real and saved id); run by a user holding capabilities, it empties
// its effective set. Plain root keeps its rights: it is the invoker.
Status act_as_invoker(const std::optional<InvokingUser>& user);

// For its lifetime, the rights act_as_invoker set aside are effective again:
// only around checking for and loading and attaching the probes.
class PrivilegedScope {
public:
    static Result<PrivilegedScope> enter(const std::optional<InvokingUser>& user);
    PrivilegedScope(PrivilegedScope&& other) noexcept;
    PrivilegedScope& operator=(PrivilegedScope&&) = delete;
    ~PrivilegedScope();

private:
    explicit PrivilegedScope(std::optional<InvokingUser> user) : user_(std::move(user)), active_(true) {}
    std::optional<InvokingUser> user_;
    bool active_;
};

// For subcommands that attach nothing (everything but run), right after
// parsing: the rights act_as_invoker set aside are given up for good. Under
// sudo cxtrace becomes the user (uid, gid, groups; no capabilities), run by
// a user holding capabilities it drops them all; no_new_privs in every case.
Status give_up_privileges(const std::optional<InvokingUser>& user);

// Capabilities plain root keeps after attach: writing into any directory
// root names (CAP_DAC_OVERRIDE) and stopping a command that changed its
// uid (CAP_KILL). As a bit mask of CAP_* numbers.
uint64_t capabilities_kept_after_attach();

// run, once its probes are attached: under sudo cxtrace becomes the user
// for good (as give_up_privileges). Otherwise (plain root, or a user holding
// capabilities) it keeps only the capabilities above from the effective,
// permitted, inheritable, ambient and (when it may) bounding sets. Either
// way no_new_privs is set, so no later exec regains anything. Affects only
// this process: the traced command was forked before and keeps its own.
Status drop_privileges_after_attach(const std::optional<InvokingUser>& user);

// --as-root runs the traced command as root: only root itself may ask. Under
// sudo for another user it would turn "may sudo cxtrace" into a root shell.
Status check_may_run_command_as_root(const std::optional<InvokingUser>& user);

// How files are written, for messages: " (as nobody, the user behind sudo)".
std::string writing_as(const std::optional<InvokingUser>& user);

}  // namespace cxt
