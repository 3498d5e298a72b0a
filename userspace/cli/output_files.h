// Where a run's files go, written safely: atomically (temp + rename), never
// through a planted symlink. They are written with cxtrace's rights at the
// time: under sudo the invoking user's (see privileges.h), so they are theirs.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "html_report.h"
#include "model.h"
#include "privileges.h"
#include "result.h"
#include "text_out.h"

namespace cxt {

// The run's output directory. It never mixes two runs' files. Directories
// this run created are removed again when nothing was written into them (the
// run failed before it wrote anything).
class OutputDir {
public:
    // For cxtrace run: `requested` if given (with any missing parents, as
    // mkdir -p), else ./cxtrace-reports/<label>-<YYYYmmdd-HHMMSS>/. Fails
    // unless cxtrace may create files in it, and when it holds another run's
    // report or trace, or a trace another run is writing now. An unfinished
    // trace.cxt.partial left by a run that was killed is kept, renamed
    // (kept_unfinished_trace()), and does not stop this run.
    static Result<OutputDir> for_run(const std::string& requested, const std::string& label);
    // For cxtrace report: `requested` if given, else the trace's own directory.
    // Fails when it holds the report or trace of another run than this trace's.
    static Result<OutputDir> for_report(const std::string& requested, const std::string& trace);
    // For cxtrace compare: `requested` if given (as mkdir -p; a compare.html
    // in it is replaced), else ./cxtrace-reports/compare-<YYYYmmdd-HHMMSS>/.
    static Result<OutputDir> for_compare(const std::string& requested);
    // For cxtrace class: `requested` if given (as mkdir -p; class.html and
    // class.csv in it are replaced), else ./cxtrace-reports/class-<YYYYmmdd-HHMMSS>/.
    static Result<OutputDir> for_class(const std::string& requested);
    OutputDir(OutputDir&& other) noexcept;
    OutputDir& operator=(OutputDir&&) = delete;
    ~OutputDir();
    const std::string& path() const { return path_; }
    std::string trace_path() const;
    // Where an earlier run's unfinished trace found here was kept, if any.
    const std::optional<std::string>& kept_unfinished_trace() const { return kept_unfinished_trace_; }

private:
    explicit OutputDir(std::string path) : path_(std::move(path)) {}
    static Result<OutputDir> make(const std::string& requested, const std::string& label);
    std::string path_;
    std::vector<std::string> created_;  // outermost first
    std::optional<std::string> kept_unfinished_trace_;
};

// The message for a failure to create or write output; when it was refused
// permission, it says whose rights files are written with.
std::string output_error(const Error& error, const std::optional<InvokingUser>& user);

// Text produced piece by piece (written as it comes) to path, which only
// appears, whole, once written: a temporary name, renamed into place.
Status write_file_atomically(const std::string& path, const std::function<void(TextOut&)>& produce);

struct ReportPaths {
    std::string json, html, perfetto;
};
// Writes report.json, perfetto.pftrace and report.html into dir (the page
// with the extras: a lab's predictions).
Result<ReportPaths> write_reports(const RunModel& model, const std::string& dir, const ReportExtras& extras = {});
// The temporary names write_reports writes dir's report files under until
// each is whole.
std::vector<std::string> report_temporaries(const std::string& dir);
// The lines that tell the user where everything is; the HTML report last.
std::string report_locations(const ReportPaths& paths, const std::string& trace_path);

}  // namespace cxt
