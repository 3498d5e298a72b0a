#include "time_findings.h"

#include <cstdio>

#include "text_summary.h"

namespace cxt {

namespace {


uint64_t busy_ns(const Phase& phase) {
    uint64_t busy = 0;
    for (const auto& [n, ns] : phase.parallelism_ns)
        if (n >= 1) busy += ns;
    return busy;
}

std::string quoted(const Phase& phase) { return "\"" + phase.name + "\""; }

}  // namespace

double parallel_share(const std::map<uint32_t, uint64_t>& parallelism_ns) {
    uint64_t busy = 0, parallel = 0;
    for (const auto& [n, ns] : parallelism_ns) {
        if (n >= 1) busy += ns;
        if (n >= 2) parallel += ns;
    }
    return busy ? static_cast<double>(parallel) / static_cast<double>(busy) : 0.0;
}

std::vector<Finding> phase_findings(const RunModel& model) {
    std::vector<Finding> out;
    if (model.phases.size() < 2) return out;

    // Parallelism, phase by phase: the lesson is usually the contrast.
    std::string parallel = "Phase by phase, the share of the time with a traced task on a CPU that had two or more "
                           "on CPUs at once:";
    bool any = false;
    for (const Phase& phase : model.phases) {
        if (busy_ns(phase) == 0) continue;
        const double share = parallel_share(phase.parallelism_ns);
        parallel += std::string(any ? ";" : "") + " " + quoted(phase) + " " + percent(share) + " (at most " +
                    std::to_string(phase.max_parallelism) + " at once" +
                    (share >= 0.5 ? ", true parallelism" : share < 0.1 ? ", nearly always one at a time" : "") + ")";
        any = true;
    }
    if (any) out.push_back({"placement", parallel + "."});

    // CPU time against wall time: work that ran in parallel takes less
    // wall time than CPU time; serialized work takes at least as much.
    std::string cpu = "CPU time against wall time:";
    any = false;
    for (const Phase& phase : model.phases) {
        const uint64_t wall = phase.end_ns - phase.start_ns;
        const uint64_t used = phase.cpu_time_ns.value_or(phase.oncpu_ns);
        if (wall == 0 || used < wall / 10) continue;  // mostly waiting: nothing to compare
        char ratio[32];
        std::snprintf(ratio, sizeof ratio, "%.2f", static_cast<double>(used) / static_cast<double>(wall));
        cpu += std::string(any ? ";" : "") + " " + quoted(phase) + " used " + format_duration_ns(used) + " of CPU in " +
               format_duration_ns(wall) + " (" + ratio + " CPUs busy on average)";
        any = true;
    }
    if (any)
        out.push_back({"placement", cpu + (model.phases[0].cpu_time_ns ? "." : " (on-CPU time: this trace has no "
                                                                              "CPU clock readings).")});
    return out;
}

std::vector<Finding> clock_findings(const RunModel& model) {
    // Both over the traced time only (the phases' sums): a task's cpu_time_ns
    // also holds what it ran before tracing began (the root, in cxtrace).
    uint64_t oncpu = 0, clock = 0, unplaced = 0;
    for (const Phase& phase : model.phases) {
        if (!phase.cpu_time_ns) return {};  // no clock readings in this trace
        oncpu += phase.oncpu_ns;
        clock += *phase.cpu_time_ns;
    }
    for (const TaskRecord& task : model.tasks) unplaced += task.unplaced_cpu_ns;
    if (clock == 0 || oncpu == 0) return {};
    const uint64_t gap = oncpu > clock ? oncpu - clock : clock - oncpu;
    if (gap * 50 <= clock || gap <= 1'000'000) return {};  // within 2% or 1 ms: they agree
    const std::string share = percent(static_cast<double>(gap) / static_cast<double>(oncpu));  // of the first figure
    std::string text = "Switch events put the traced tasks on CPUs for " + format_duration_ns(oncpu) +
                       "; the kernel's own CPU clock for them (cpu_time_ns) counted " + format_duration_ns(clock) + ", ";
    if (oncpu > clock)
        text += share + " less: that clock leaves out time a CPU spent handling interrupts and, in a virtual machine, "
                        "time the host took the CPU away (steal), which wall time between switch events includes.";
    else if (unplaced > 0)
        text += share + " more: " + format_duration_ns(unplaced) +
                " of their running was never shown by switch events (see the note on approximate figures).";
    else
        text += share + " more than the switch events show: the two are read at different moments of each switch.";
    return {{"placement", text}};
}

}  // namespace cxt
