// `cxtrace compare A B ...`: two to eight runs side by side, in compare.html
// and a terminal table. Every run is read and checked before anything is
// written: a bad one leaves no directory and no page behind.
#include <iostream>

#include "commands.h"
#include "compare.h"
#include "compare_html.h"
#include "compare_text.h"
#include "output_files.h"

namespace cxt {

namespace {

constexpr const char* kCompareFileName = "compare.html";

}  // namespace

int compare_command(const CompareOptions& options, const std::optional<InvokingUser>& user) {
    const size_t given = options.runs.size();
    if (given < kCompareMinRuns || given > kCompareMaxRuns) {
        std::cerr << "cxtrace compare: give " << kCompareMinRuns << " to " << kCompareMaxRuns
                  << " runs (output directories of cxtrace run, or report.json files), not " << given << "\n";
        return kExitUsage;
    }
    if (!options.labels.empty() && options.labels.size() != given) {
        std::cerr << "cxtrace compare: give --label once per run, in the order of the runs (" << given << " runs, "
                  << options.labels.size() << " labels), or not at all\n";
        return kExitUsage;
    }

    // Every argument is looked at, so one run of the command names every bad one.
    std::vector<CompareRun> runs;
    bool not_a_run = false, unreadable = false;
    for (const std::string& path : options.runs) {
        auto report = locate_report_json(path);
        if (!report) {
            std::cerr << "cxtrace compare: " << report.error().message() << "\n";
            not_a_run = true;
            continue;
        }
        auto run = read_compare_run(*report);
        if (!run) {
            std::cerr << "cxtrace compare: " << run.error().message() << "\n";
            unreadable = true;
            continue;
        }
        runs.push_back(std::move(*run));
    }
    if (not_a_run) return kExitUsage;
    if (unreadable) return kExitFailure;

    auto comparison = compare_runs(std::move(runs), options.labels);
    if (!comparison) {
        std::cerr << "cxtrace compare: " << comparison.error().message() << "\n";
        return kExitUsage;
    }
    auto dir = OutputDir::for_compare(options.output_dir);  // kept until the page is in it
    if (!dir) {
        std::cerr << "cxtrace: " << output_error(dir.error(), user) << "\n";
        return kExitFailure;
    }
    const std::string page = dir->path() + "/" + kCompareFileName;
    if (Status written = write_file_atomically(page, [&](TextOut& out) { write_compare_html(*comparison, out); });
        !written) {
        std::cerr << "cxtrace: " << output_error(written.error(), user) << "\n";
        return kExitFailure;
    }
    std::cout << render_compare_text(*comparison) << "compare: " << page << "\n" << std::flush;
    return 0;
}

}  // namespace cxt
