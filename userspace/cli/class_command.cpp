// `cxtrace class DIR...`: a class's lab submissions together. The folders
// are searched and every lab.json and report.json read before anything is
// written (reports/class.h); class.html and class.csv then go into the
// output directory, and the terminal gets a short summary, the paths last.
#include <chrono>
#include <cstdio>
#include <functional>
#include <iostream>
#include <utility>

#include "class.h"
#include "class_csv.h"
#include "class_html.h"
#include "class_text.h"
#include "commands.h"
#include "output_files.h"
#include "sheet.h"
#include "text_summary.h"
#include "unicode.h"
#include "workloads.h"

namespace cxt {

namespace {

constexpr const char* kClassPageName = "class.html";
constexpr const char* kClassCsvName = "class.csv";
constexpr size_t kShownSkipsWhenNothing = 10;

// The bundled lab sheets, to grade each submission again; none when they
// cannot be found (the verdicts are then lab.json's own, as the page says).
std::vector<lab::Sheet> bundled_sheets() {
    std::vector<lab::Sheet> sheets;
    auto dir = lab_sheets_dir();
    if (!dir) return sheets;
    for (const std::string& file : bundled_sheet_files(*dir))
        if (auto sheet = lab::load_sheet(*dir + "/" + file)) sheets.push_back(std::move(*sheet));
    return sheets;
}

}  // namespace

int class_command(const ClassOptions& options, const std::optional<InvokingUser>& user) {
    if (options.folders.empty()) {
        std::cerr << "cxtrace class: give the folders holding the students' lab.json files (with their report.json)\n";
        return kExitUsage;
    }
    const auto start = std::chrono::steady_clock::now();
    auto found = find_class_files(options.folders);
    if (!found) {
        std::cerr << "cxtrace class: " << terminal_safe(found.error().message()) << "\n";
        return kExitUsage;
    }
    const ClassSummary summary = aggregate_class(*found, options.folders, bundled_sheets());
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (summary.usable() == 0) {
        std::cerr << "cxtrace class: nothing usable: " << counted(summary.files_found, "file", "files")
                  << " named lab.json or report.json found in " << counted(summary.directories, "directory", "directories");
        if (summary.skipped.empty()) {
            std::cerr << "; give the folders where the students' cxtrace lab runs wrote them\n";
        } else {
            std::cerr << ", every one skipped:\n";
            for (size_t i = 0; i < summary.skipped.size() && i < kShownSkipsWhenNothing; ++i)
                std::cerr << "  " << terminal_safe(summary.skipped[i].path) << ": " << terminal_safe(summary.skipped[i].reason) << "\n";
            if (summary.skipped.size() > kShownSkipsWhenNothing)
                std::cerr << "  and " << summary.skipped.size() - kShownSkipsWhenNothing << " more\n";
        }
        for (const std::string& note : summary.notes) std::cerr << "  note: " << terminal_safe(note) << "\n";
        std::cerr << "Nothing was written.\n";
        return kExitFailure;
    }

    auto dir = OutputDir::for_class(options.output_dir);  // kept until the files are in it
    if (!dir) {
        std::cerr << "cxtrace: " << output_error(dir.error(), user) << "\n";
        return kExitFailure;
    }
    const std::string page = dir->path() + "/" + kClassPageName, csv = dir->path() + "/" + kClassCsvName;
    for (const auto& [path, write] :
         {std::pair<std::string, std::function<void(TextOut&)>>{csv, [&](TextOut& out) { write_class_csv(summary, out); }},
          std::pair<std::string, std::function<void(TextOut&)>>{page, [&](TextOut& out) { write_class_html(summary, out); }}})
        if (Status written = write_file_atomically(path, write); !written) {
            std::cerr << "cxtrace: " << output_error(written.error(), user) << "\n";
            return kExitFailure;
        }
    char took[32];
    std::snprintf(took, sizeof took, "%.2f s", seconds);
    std::cout << render_class_text(summary) << "  read and aggregated in " << took << "\n  csv:   " << csv
              << "\nclass: " << page << "\n"
              << std::flush;
    return 0;
}

}  // namespace cxt
