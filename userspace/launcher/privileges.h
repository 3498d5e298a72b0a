// cxtrace needs root (or CAP_BPF + CAP_PERFMON) only to load and attach its
// probes. Once they are attached it keeps just what finishing the run needs,
// so a bug in the report writers cannot load programs or reach the kernel.
#pragma once

#include <cstdint>
#include <optional>

#include "held_command.h"
#include "result.h"

namespace cxt {

// Capabilities kept after attach: writing files the invoking user owns into
// their directory (CAP_DAC_OVERRIDE, CAP_CHOWN) and stopping a command that
// runs as that user (CAP_KILL). As a bit mask of CAP_* numbers.
uint64_t capabilities_kept_after_attach();

// Under sudo (`user` set) cxtrace becomes that user: their uid, gid and
// groups, no capabilities left, so it writes its files with their rights.
// Otherwise (plain root, or --as-root with a root command to stop) it stays
// uid 0 but drops every capability but those above from the effective,
// permitted, inheritable, ambient and (when it may) bounding sets. Either
// way no_new_privs is set, so no later exec regains anything. Affects only
// this process: the traced command was forked before and keeps its own.
Status drop_privileges_after_attach(const std::optional<InvokingUser>& user);

// --as-root runs the traced command as root: only root itself may ask. Under
// sudo for another user it would turn "may sudo cxtrace" into a root shell.
Status check_may_run_command_as_root(const std::optional<InvokingUser>& user);

}  // namespace cxt
