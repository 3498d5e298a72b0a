// cxtrace needs root (or CAP_BPF + CAP_PERFMON) only to load and attach its
// probes. Once they are attached it keeps just what finishing the run needs,
// so a bug in the report writers cannot load programs or reach the kernel.
#pragma once

#include <cstdint>

#include "result.h"

namespace cxt {

// Capabilities kept after attach: writing files the invoking user owns into
// their directory (CAP_DAC_OVERRIDE, CAP_CHOWN) and stopping a command that
// runs as that user (CAP_KILL). As a bit mask of CAP_* numbers.
uint64_t capabilities_kept_after_attach();

// Drops every other capability from the effective, permitted, inheritable,
// ambient and (when allowed) bounding sets, and sets no_new_privs so no later
// exec can regain them. Affects only this process: the traced command was
// forked before and keeps its own credentials.
Status drop_privileges_after_attach();

}  // namespace cxt
