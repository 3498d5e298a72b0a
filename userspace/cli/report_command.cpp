// `cxtrace report FILE.cxt`: re-render a saved trace, and `cxtrace list`.
#include <cstdio>
#include <iostream>

#include "commands.h"
#include "correlator.h"
#include "output_files.h"
#include "text_summary.h"
#include "workloads.h"

namespace cxt {

int report_command(const ReportOptions& options, const std::optional<InvokingUser>& user) {
    auto model = correlate_trace_file(options.trace_file, options.from_exec);
    if (!model) {
        std::cerr << "cxtrace: " << model.error().message() << "\n";
        return kExitFailure;
    }
    auto dir = OutputDir::for_report(options.output_dir, options.trace_file);  // kept until the reports are in it
    if (!dir) {
        std::cerr << "cxtrace: " << output_error(dir.error(), user) << "\n";
        return kExitFailure;
    }
    auto reports = write_reports(*model, dir->path());
    if (!reports) {
        std::cerr << "cxtrace: " << output_error(reports.error(), user) << "\n";
        return kExitFailure;
    }
    std::cout << render_text_summary(*model) << report_locations(*reports, options.trace_file) << std::flush;
    if (model->run.cut_off) {
        // Salvaged: the reports hold what the file had, and the exit says it was not all.
        std::cerr << "cxtrace: " << *model->run.cut_off << ": the reports cover the " << model->run.events
                  << " whole events before the cut\n";
        return kExitFailure;
    }
    return 0;
}

int list_command() {
    for (const WorkloadInfo& w : bundled_workloads()) {
        bool is_default = std::string(w.name) == default_workload();
        std::printf("%-20s %s%s\n", w.name, w.lesson, is_default ? " (default)" : "");
    }
    return 0;
}

}  // namespace cxt
