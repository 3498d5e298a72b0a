#include "class.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <set>
#include <thread>
#include <unordered_map>
#include <utility>

#include "text_summary.h"

namespace cxt {

namespace {

using nlohmann::json;

constexpr const char* kLabFileName = "lab.json";
constexpr const char* kReportFileName = "report.json";

// --- finding the files -------------------------------------------------------

bool ends_with(const std::string& text, const std::string& tail) {
    return text.size() >= tail.size() && text.compare(text.size() - tail.size(), tail.size(), tail) == 0;
}

std::string joined_path(const std::string& dir, const std::string& name) {
    return dir == "/" ? "/" + name : dir + "/" + name;
}

std::string reason_of(const std::string& message, const std::string& path);

struct FileId {
    dev_t dev;
    ino_t ino;
    bool operator<(const FileId& o) const { return dev != o.dev ? dev < o.dev : ino < o.ino; }
};

class Walker {
public:
    explicit Walker(ClassFiles& out) : out_(out) {}

    void add_file(const std::string& path, const struct stat& st, ClassFileKind kind) {
        ClassFile file;
        file.path = path;
        file.kind = kind;
        auto [seen, fresh] = files_.emplace(FileId{st.st_dev, st.st_ino}, path);
        if (!fresh) file.same_file_as = seen->second;
        else if (auto text = read_regular_file(path, kind == ClassFileKind::Lab ? kClassMaxLabBytes : kClassMaxReportBytes))
            file.text = std::move(*text);
        else
            file.unreadable = reason_of(text.error().message(), path);
        out_.files.push_back(std::move(file));
    }

    void walk(const std::string& dir, int depth) {
        struct stat st;
        if (stat(dir.c_str(), &st) != 0) return;
        if (!directories_.insert(FileId{st.st_dev, st.st_ino}).second) {
            ++reached_twice_;
            return;
        }
        ++out_.directories;
        DIR* d = opendir(dir.c_str());
        if (!d) {
            out_.notes.push_back(dir + ": not searched (" + std::strerror(errno) + ")");
            return;
        }
        std::vector<std::string> names;
        while (dirent* entry = readdir(d)) {
            const std::string name = entry->d_name;
            if (name != "." && name != "..") names.push_back(name);
        }
        closedir(d);
        std::sort(names.begin(), names.end());  // the same folders give the same page
        for (const std::string& name : names) {
            const std::string path = joined_path(dir, name);
            struct stat entry;
            if (stat(path.c_str(), &entry) != 0) continue;  // a dangling link, or gone
            if (S_ISDIR(entry.st_mode)) {
                if (depth >= kClassMaxDepth) {
                    out_.notes.push_back(path + ": not searched (more than " + std::to_string(kClassMaxDepth) +
                                         " levels below the folder given)");
                    continue;
                }
                walk(path, depth + 1);
            } else if (name == kLabFileName) {
                add_file(path, entry, ClassFileKind::Lab);
            } else if (name == kReportFileName) {
                add_file(path, entry, ClassFileKind::Report);
            }
        }
    }

    void finish() {
        if (reached_twice_ > 0)
            out_.notes.push_back(counted(reached_twice_, "directory was", "directories were") +
                                 " reached a second time (a symbolic link loop, or a second path to it) and read once");
    }

private:
    ClassFiles& out_;
    std::set<FileId> directories_;
    std::map<FileId, std::string> files_;
    size_t reached_twice_ = 0;
};

// --- reading -----------------------------------------------------------------

// work(0) .. work(n - 1), spread over the CPUs; each call touches only its own item.
template <typename Work>
void in_parallel(size_t n, Work&& work) {
    const size_t threads = std::min<size_t>(std::max(1u, std::thread::hardware_concurrency()), 8);
    if (threads <= 1 || n < 8) {
        for (size_t i = 0; i < n; ++i) work(i);
        return;
    }
    std::atomic<size_t> next{0};
    auto worker = [&] {
        for (size_t i = next++; i < n; i = next++) work(i);
    };
    std::vector<std::thread> pool;
    for (size_t t = 1; t < threads; ++t) pool.emplace_back(worker);
    worker();
    for (std::thread& thread : pool) thread.join();
}

std::string dir_of(const std::string& path) {
    const size_t slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

std::string base_of(const std::string& path) {
    std::string trimmed = path;
    while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.pop_back();
    const size_t slash = trimmed.rfind('/');
    return slash == std::string::npos ? trimmed : trimmed.substr(slash + 1);
}

std::string lower_trimmed(const std::string& text) {
    const size_t b = text.find_first_not_of(" \t\r\n"), e = text.find_last_not_of(" \t\r\n");
    std::string out = b == std::string::npos ? "" : text.substr(b, e - b + 1);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string json_problem(const json::exception& e) {
    std::string what = e.what();
    if (const size_t end = what.find("] "); what.compare(0, 16, "[json.exception.") == 0 && end != std::string::npos)
        what = what.substr(end + 2);
    return what.size() > 160 ? what.substr(0, 160) + "..." : what;
}

// report.json without its tasks (the bulk of it, which class never reads).
Result<json> parse_report(const std::string& text, const std::string& source) {
    if (text.empty()) return Error{source + " is empty"};
    try {
        return json::parse(text, [](int depth, json::parse_event_t event, json& parsed) {
            return !(depth == 1 && event == json::parse_event_t::key && parsed == "tasks");
        });
    } catch (const json::exception& e) {
        return Error{source + " is not valid JSON (" + json_problem(e) + ")"};
    }
}

// A message about `path` without the path it starts with (the page lists
// the path beside it).
std::string reason_of(const std::string& message, const std::string& path) {
    if (message.compare(0, path.size(), path) != 0) return message;
    std::string rest = message.substr(path.size());
    if (rest.compare(0, 2, ": ") == 0) rest = rest.substr(2);
    else if (!rest.empty() && rest[0] == ' ') rest = rest.substr(1);
    return rest;
}

std::string lesson_name(const CompareRun& run) {
    if (!run.workload.empty()) return run.workload;
    if (run.command.empty()) return "command";
    std::string name = base_of(run.command[0]);
    if (run.command.size() > 1 && !run.command[1].empty() && run.command[1][0] != '-') name += " " + base_of(run.command[1]);
    return name;
}

std::string joined(const std::vector<std::string>& words, const char* between = " ") {
    std::string text;
    for (const std::string& w : words) text += (text.empty() ? "" : between) + w;
    return text;
}

// One run, as a key: two reports with the same key are the same run.
std::string run_key(const CompareRun& run) {
    if (run.started_at.empty()) return "";
    return run.started_at + "\n" + run.kernel.value_or("") + "\n" + joined(run.command, "\x1f") + "\n" +
           std::to_string(run.duration_ns.value_or(0)) + "\n" + std::to_string(run.events.value_or(0));
}

// A lab.json's run, as a key from what lab.json itself says.
std::string lab_run_key(const lab::Submission& lab) {
    if (lab.started_at.empty()) return "";
    return lab.started_at + "\n" + lab.kernel + "\n" + std::to_string(lab.cpus.value_or(0)) + "\n" +
           joined(lab.command, "\x1f");
}

// lab.json's "report", resolved beside it; "" and why when it is not a
// plain relative path (a hostile file could point anywhere).
std::string report_beside(const std::string& lab_path, const std::string& pointer, std::string& problem) {
    std::string rel = pointer;
    while (rel.compare(0, 2, "./") == 0) rel = rel.substr(2);
    bool parent = false;
    for (size_t start = 0; start <= rel.size();) {
        const size_t slash = rel.find('/', start);
        const std::string part = rel.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
        parent = parent || part == "..";
        if (slash == std::string::npos) break;
        start = slash + 1;
    }
    if (rel.empty() || rel[0] == '/' || parent || rel.find('\0') != std::string::npos) {
        problem = "its \"report\" (\"" + pointer + "\") is not a path beside it; it is not read";
        return "";
    }
    return joined_path(dir_of(lab_path), rel);
}

std::string who_of(const lab::Submission& lab, const std::string& path) {
    const size_t b = lab.student.find_first_not_of(" \t\r\n");
    if (b != std::string::npos) return lab.student;
    return "(no name: " + dir_of(path) + ")";
}

// --- questions -----------------------------------------------------------------

std::optional<double> number_in(const json& value) {
    if (value.is_number()) {
        const double v = value.get<double>();
        if (std::isfinite(v)) return v;
    }
    return std::nullopt;
}

// "b) yes" -> "b"; the text after it goes to `text`.
std::string choice_letter(const std::string& answer, std::string* text) {
    if (answer.size() >= 2 && answer[0] >= 'a' && answer[0] <= 'z' && answer[1] == ')') {
        if (text) *text = answer.size() > 3 ? answer.substr(3) : "";
        return answer.substr(0, 1);
    }
    return "";
}

ClassAnswer answer_of(const lab::SubmittedQuestion& q) {
    ClassAnswer a;
    a.verdict = q.verdict;
    a.prediction = q.prediction;
    a.measured_text = q.measured_text;
    a.unit = q.unit;
    if (q.kind == "number") {
        a.predicted = number_in(q.prediction_value);
        a.measured = number_in(q.measured);
    } else if (q.kind == "choice") {
        if (q.prediction_value.is_string() && q.prediction_value.get<std::string>().size() == 1)
            a.predicted_key = q.prediction_value.get<std::string>();
        a.right_key = choice_letter(q.answer, nullptr);
        a.measured = number_in(q.measured);
    } else {
        if (q.prediction_value.is_array()) {
            std::vector<std::string> letters;
            for (const json& letter : q.prediction_value)
                if (letter.is_string() && letter.get<std::string>().size() == 1) letters.push_back(letter.get<std::string>());
            if (letters.size() == q.prediction_value.size() && !letters.empty()) a.predicted_key = joined(letters, " > ");
        }
        a.right_key = q.answer.substr(0, q.answer.find(" ("));
    }
    return a;
}

std::string ratio_text(double ratio) {
    char buf[32];
    std::snprintf(buf, sizeof buf, ratio >= 100 ? "%.0fx" : ratio >= 1 ? "%.1fx" : "%.2fx", ratio);
    return buf;
}

void summarize_question(ClassQuestion& q) {
    const size_t graded = q.graded();
    std::string text = graded == 0 ? "No counted submission could be graded on this question"
                                   : std::to_string(q.right) + " of " + std::to_string(graded) + " predicted right (" +
                                         percent(static_cast<double>(q.right) / static_cast<double>(graded)) + ")";
    if (q.unanswered || q.not_measured)
        text += "; " + std::to_string(q.unanswered) + " unanswered, " + std::to_string(q.not_measured) + " not measured";
    text += ".";
    if (q.kind == "number" && q.ratio.n > 0) {
        text += " The median prediction was " + ratio_text(q.ratio.p50) + " the value measured on the student's own run";
        if (q.ratio.n >= 4) text += " (half of them between " + ratio_text(q.ratio.p25) + " and " + ratio_text(q.ratio.p75) + ")";
        text += ".";
        if (q.wrong > 0)
            text += " Of the " + std::to_string(q.wrong) + " wrong, " + std::to_string(q.too_low) + " predicted too low and " +
                    std::to_string(q.too_high) + " too high.";
    } else if (!q.predicted_keys.empty()) {
        auto most = std::max_element(q.predicted_keys.begin(), q.predicted_keys.end(),
                                     [](const auto& a, const auto& b) { return a.second < b.second; });
        text += " Most predicted " + most->first + (q.kind == "choice" ? ")" : "") + " (" + std::to_string(most->second) + ")";
        if (!q.right_keys.empty()) {
            auto right = std::max_element(q.right_keys.begin(), q.right_keys.end(),
                                          [](const auto& a, const auto& b) { return a.second < b.second; });
            size_t runs = 0;
            for (const auto& entry : q.right_keys) runs += entry.second;
            text += "; the runs made " + right->first + (q.kind == "choice" ? ")" : "") + " right on " +
                    std::to_string(right->second) + " of " + std::to_string(runs);
        }
        text += ".";
    }
    q.summary = text;
}

// --- lessons -----------------------------------------------------------------

const char* const kKinds[] = {"process", "thread", "vfork", "shared-vm"};

std::optional<double> average_parallelism(const CompareRun& run) {
    if (!run.parallelism_ns) return std::nullopt;
    double busy = 0, weighted = 0;
    for (const auto& [n, ns] : *run.parallelism_ns)
        if (n >= 1) busy += static_cast<double>(ns), weighted += static_cast<double>(n) * static_cast<double>(ns);
    if (busy <= 0) return std::nullopt;
    return weighted / busy;
}

std::optional<double> p50_of(const std::optional<std::map<std::string, LatencyStats>>& by_kind, const std::string& kind) {
    if (!by_kind) return std::nullopt;
    auto found = by_kind->find(kind);
    if (found == by_kind->end() || found->second.count == 0) return std::nullopt;
    return static_cast<double>(found->second.p50);
}

std::vector<LessonQuantity> lesson_quantities(const std::vector<ClassRun>& runs, const std::vector<size_t>& members) {
    std::vector<LessonQuantity> out;
    auto add = [&](std::string key, std::string label, LessonUnit unit, bool slow,
                   const std::function<std::optional<double>(const CompareRun&)>& value_of) {
        LessonQuantity q{std::move(key), std::move(label), unit, slow, {}, {}};
        for (size_t index : members)
            if (auto value = value_of(runs[index].data); value && std::isfinite(*value)) q.values.push_back({index, *value, false});
        if (q.values.empty()) return;
        std::vector<double> values;
        for (const LessonValue& v : q.values) values.push_back(v.value);
        q.spread = spread_of(values);
        if (slow && q.values.size() >= kClassMinRunsForMedian && q.spread.p50 > 0)
            for (LessonValue& v : q.values) v.outlier = v.value >= kClassSlowFactor * q.spread.p50;
        out.push_back(std::move(q));
    };
    for (const char* kind : kKinds)
        add(std::string("first_run.") + kind, std::string(kind) + ": creation to first run, p50", LessonUnit::Duration, true,
            [kind](const CompareRun& run) { return p50_of(run.first_run, kind); });
    add("ratio.process_thread", "process / thread: first run p50, the ratio", LessonUnit::Ratio, false,
        [](const CompareRun& run) -> std::optional<double> {
            auto process = p50_of(run.first_run, "process"), thread = p50_of(run.first_run, "thread");
            if (!process || !thread || *thread <= 0) return std::nullopt;
            return *process / *thread;
        });
    for (const char* kind : kKinds)
        add(std::string("syscall.") + kind, std::string(kind) + ": creation syscall, p50", LessonUnit::Duration, true,
            [kind](const CompareRun& run) { return p50_of(run.syscall, kind); });
    add("parallelism.average", "tasks on CPUs at once, on average while any was", LessonUnit::Average, false,
        average_parallelism);
    add("cpus", "CPUs", LessonUnit::Count, false, [](const CompareRun& run) -> std::optional<double> {
        if (!run.cpus) return std::nullopt;
        return static_cast<double>(*run.cpus);
    });
    return out;
}

std::string machine_text(const CompareRun& run) {
    return run.kernel.value_or("kernel unknown") + ", " + (run.cpus ? counted(*run.cpus, "CPU", "CPUs") : "CPUs unknown");
}

}  // namespace

const char* report_state_name(ReportState state) {
    switch (state) {
        case ReportState::Matches: return "matches";
        case ReportState::Differs: return "differs";
        case ReportState::Missing: return "missing";
        case ReportState::Unreadable: return "unreadable";
    }
    return "missing";
}

size_t ClassSummary::runs_alone() const {
    size_t n = 0;
    for (const ClassRun& run : runs) n += !run.submission;
    return n;
}

Spread spread_of(std::vector<double> values) {
    Spread s;
    s.n = values.size();
    if (values.empty()) return s;
    std::sort(values.begin(), values.end());
    auto at = [&](double q) {
        const double pos = q * static_cast<double>(values.size() - 1);
        const size_t lo = static_cast<size_t>(std::floor(pos));
        const size_t hi = std::min(lo + 1, values.size() - 1);
        return values[lo] + (values[hi] - values[lo]) * (pos - static_cast<double>(lo));
    };
    s.min = values.front();
    s.p25 = at(0.25);
    s.p50 = at(0.5);
    s.p75 = at(0.75);
    s.max = values.back();
    return s;
}

std::string format_class_number(double value) {
    char buf[48];
    const double magnitude = std::fabs(value);
    if (value == std::floor(value) && magnitude < 1e15) std::snprintf(buf, sizeof buf, "%.0f", value);
    else if (magnitude >= 100) std::snprintf(buf, sizeof buf, "%.0f", value);
    else if (magnitude >= 10) std::snprintf(buf, sizeof buf, "%.1f", value);
    else if (magnitude >= 0.01) std::snprintf(buf, sizeof buf, "%.2f", value);
    else std::snprintf(buf, sizeof buf, "%.2g", value);
    return buf;
}

std::string format_lesson_value(double value, LessonUnit unit) {
    switch (unit) {
        case LessonUnit::Duration:
            return format_duration_ns(value <= 0 ? 0 : value >= 1.8e19 ? UINT64_MAX : static_cast<uint64_t>(std::round(value)));
        case LessonUnit::Ratio: return ratio_text(value);
        case LessonUnit::Average: {
            char buf[32];
            std::snprintf(buf, sizeof buf, "%.2f", value);
            return buf;
        }
        case LessonUnit::Count: return format_class_number(value);
    }
    return "";
}

Result<ClassFiles> find_class_files(const std::vector<std::string>& folders) {
    ClassFiles out;
    Walker walker(out);
    std::vector<std::string> missing;
    for (const std::string& folder : folders) {
        struct stat st;
        if (stat(folder.c_str(), &st) != 0) {
            missing.push_back(folder + ": " + std::strerror(errno));
            continue;
        }
        std::string path = folder;
        while (path.size() > 1 && path.back() == '/') path.pop_back();
        if (S_ISDIR(st.st_mode)) walker.walk(path, 0);
        else if (S_ISREG(st.st_mode) && ends_with(path, kReportFileName)) walker.add_file(path, st, ClassFileKind::Report);
        else if (S_ISREG(st.st_mode)) {
            walker.add_file(path, st, ClassFileKind::Lab);
            // A lab.json given by name brings the report.json beside it.
            const std::string report = joined_path(dir_of(path), kReportFileName);
            struct stat beside;
            if (stat(report.c_str(), &beside) == 0 && S_ISREG(beside.st_mode)) walker.add_file(report, beside, ClassFileKind::Report);
        }
        else missing.push_back(folder + ": not a folder or a file");
    }
    if (!missing.empty())
        return Error{joined(missing, "; ") + ": give folders holding the students' lab.json files (with their report.json)"};
    walker.finish();
    return out;
}

ClassSummary aggregate_class(const ClassFiles& found, const std::vector<std::string>& folders,
                             const std::vector<lab::Sheet>& sheets) {
    ClassSummary summary;
    summary.folders = folders;
    summary.files_found = found.files.size();
    summary.directories = found.directories;
    summary.notes = found.notes;
    auto skip = [&](const std::string& path, std::string reason) { summary.skipped.push_back({path, std::move(reason)}); };

    // Byte-identical files: the first of each kind is read, the others are duplicates.
    std::unordered_map<size_t, std::vector<const ClassFile*>> by_hash[2];
    auto identical_to = [&](const ClassFile& file) -> std::string {
        std::vector<const ClassFile*>& same_hash = by_hash[file.kind == ClassFileKind::Lab][std::hash<std::string>{}(file.text)];
        for (const ClassFile* earlier : same_hash)
            if (earlier->text == file.text) return earlier->path;
        same_hash.push_back(&file);
        return "";
    };

    // Reports, by path: read, or why not.
    struct ReadReport {
        const ClassFile* file = nullptr;
        std::optional<CompareRun> run;
        json dom;
        std::string problem;
        bool claimed = false, used = false, listed = false;
        std::string duplicate_of;  // an earlier report.json with the same bytes
    };
    std::map<std::string, ReadReport> reports;
    std::vector<const ClassFile*> report_files;
    for (const ClassFile& file : found.files)
        if (file.kind == ClassFileKind::Report) report_files.push_back(&file);
    // Parsing is most of the work: on every CPU, each report.json on its own.
    std::vector<ReadReport> parsed(report_files.size());
    in_parallel(report_files.size(), [&](size_t i) {
        const ClassFile& file = *report_files[i];
        ReadReport& r = parsed[i];
        r.file = &file;
        if (!file.same_file_as.empty()) r.problem = "the same file as " + file.same_file_as + ", reached a second time";
        else if (!file.unreadable.empty()) r.problem = file.unreadable;
        if (!r.problem.empty()) return;
        auto dom = parse_report(file.text, file.path);
        if (!dom) {
            r.problem = reason_of(dom.error().message(), file.path);
            return;
        }
        auto run = compare_run_from_report(*dom, file.path);
        if (!run) {
            r.problem = reason_of(run.error().message(), file.path);
            return;
        }
        r.run = std::move(*run);
        r.dom = std::move(*dom);
    });
    for (ReadReport& r : parsed) {
        if (r.problem.empty()) r.duplicate_of = identical_to(*r.file);
        const std::string path = r.file->path;
        reports.emplace(path, std::move(r));
    }

    // Lab files: read, then the ones that were run, earliest run first.
    struct ReadLab {
        const ClassFile* file;
        lab::Submission lab;
    };
    std::vector<ReadLab> labs;
    for (const ClassFile& file : found.files) {
        if (file.kind != ClassFileKind::Lab) continue;
        if (!file.same_file_as.empty()) {
            skip(file.path, "the same file as " + file.same_file_as + ", reached a second time");
            continue;
        }
        if (!file.unreadable.empty()) {
            skip(file.path, file.unreadable);
            continue;
        }
        auto lab = lab::read_submission(file.text, file.path);
        if (!lab) {
            skip(file.path, reason_of(lab.error().message(), file.path));
            continue;
        }
        if (!lab::submission_was_run(*lab)) {
            skip(file.path, "not run (status " + lab->status + "): " +
                                (lab->status == "run-failed" ? "the run failed" : "the questions were interrupted") +
                                ", so nothing was measured or graded");
            continue;
        }
        labs.push_back({&file, std::move(*lab)});
    }
    std::stable_sort(labs.begin(), labs.end(), [](const ReadLab& a, const ReadLab& b) {
        if (a.lab.started_at != b.lab.started_at) return a.lab.started_at < b.lab.started_at;
        return a.file->path < b.file->path;
    });

    // Duplicates, then each kept lab.json with its report.json.
    std::map<std::string, size_t> by_student_sheet, by_run;  // -> index into kept
    std::vector<ReadLab*> kept;
    for (ReadLab& entry : labs) {
        const std::string& path = entry.file->path;
        std::string duplicate, original;  // why it is a duplicate, and of which lab.json
        if (std::string earlier = identical_to(*entry.file); !earlier.empty()) {
            original = earlier;
            duplicate = "duplicate of " + earlier + " (the same file content)";
        } else if (const std::string student = lower_trimmed(entry.lab.student);
                   !student.empty() && by_student_sheet.count(student + "\n" + entry.lab.sheet)) {
            const ReadLab& first = *kept[by_student_sheet[student + "\n" + entry.lab.sheet]];
            original = first.file->path;
            duplicate = "duplicate of " + first.file->path + ": a second submission of " + entry.lab.sheet + " by " +
                        entry.lab.student + "; the run that started first (" +
                        (first.lab.started_at.empty() ? std::string("unknown") : first.lab.started_at) +
                        ") is kept, its predictions made before any result";
        } else if (const std::string key = lab_run_key(entry.lab); !key.empty() && by_run.count(key)) {
            const ReadLab& first = *kept[by_run[key]];
            original = first.file->path;
            duplicate = "duplicate of " + first.file->path + ": the same run (started " + entry.lab.started_at + ", kernel " +
                        entry.lab.kernel + ") as " + who_of(first.lab, first.file->path) + "'s: one run handed in twice";
        }
        std::string problem;
        const std::string report_path = entry.lab.report ? report_beside(path, *entry.lab.report, problem) : "";
        if (!duplicate.empty()) {
            skip(path, duplicate);
            if (auto r = reports.find(report_path); r != reports.end() && !r->second.claimed) {
                r->second.claimed = r->second.listed = true;
                skip(r->first, "belongs to " + path + ", which is skipped as a duplicate of " + original);
            }
            continue;
        }
        if (const std::string student = lower_trimmed(entry.lab.student); !student.empty())
            by_student_sheet[student + "\n" + entry.lab.sheet] = kept.size();
        if (const std::string key = lab_run_key(entry.lab); !key.empty()) by_run[key] = kept.size();
        kept.push_back(&entry);
    }

    // Submissions in the order the tables show them: by student, sheet, start.
    std::stable_sort(kept.begin(), kept.end(), [](const ReadLab* a, const ReadLab* b) {
        const std::string sa = lower_trimmed(a->lab.student), sb = lower_trimmed(b->lab.student);
        if (sa.empty() != sb.empty()) return sb.empty();
        if (sa != sb) return sa < sb;
        if (a->lab.sheet != b->lab.sheet) return a->lab.sheet < b->lab.sheet;
        return a->file->path < b->file->path;
    });
    std::map<std::string, size_t> run_of_key;  // run key -> index into summary.runs
    auto add_run = [&](const std::string& path, ReadReport& r, std::optional<size_t> submission, const std::string& who) {
        r.used = true;
        ClassRun run;
        run.path = path;
        run.data = *r.run;
        run.lesson = lesson_name(run.data);
        run.submission = submission;
        run.who = who;
        run.report = std::move(r.dom);
        if (const std::string key = run_key(run.data); !key.empty()) run_of_key.emplace(key, summary.runs.size());
        summary.runs.push_back(std::move(run));
        return summary.runs.size() - 1;
    };
    for (ReadLab* entry : kept) {
        ClassSubmission sub;
        sub.path = entry->file->path;
        sub.lab = std::move(entry->lab);
        sub.who = who_of(sub.lab, sub.path);
        const size_t index = summary.submissions.size();
        if (!sub.lab.report) {
            sub.report_problem = "lab.json names no report.json";
        } else {
            const std::string report_path = report_beside(sub.path, *sub.lab.report, sub.report_problem);
            auto r = reports.find(report_path);
            if (report_path.empty()) {
                // sub.report_problem says why
            } else if (r == reports.end()) {
                sub.report_problem = "no " + *sub.lab.report + " beside it";
            } else if (r->second.claimed) {
                sub.report_problem = r->first + " is another submission's";
            } else {
                r->second.claimed = true;
                sub.report_path = r->first;
                if (!r->second.run) {
                    sub.report = ReportState::Unreadable;
                    sub.report_problem = r->second.problem;
                } else {
                    sub.check = lab::check_submission_against_report(sub.lab, r->second.dom);
                    // Another submission's run, copied: it differs, and is drawn once.
                    const std::string key = run_key(*r->second.run);
                    const auto same = key.empty() ? run_of_key.end() : run_of_key.find(key);
                    if (same != run_of_key.end())
                        sub.check.differences.push_back("report.json is the same run as " + summary.runs[same->second].path +
                                                        " (" + summary.runs[same->second].who + "'s)");
                    sub.report = sub.check.matches() ? ReportState::Matches : ReportState::Differs;
                    sub.counted = sub.check.matches();
                    if (same == run_of_key.end()) sub.run = add_run(r->first, r->second, index, sub.who);
                }
            }
        }
        for (const lab::Sheet& sheet : sheets)
            if (sheet.name == sub.lab.sheet && sheet.version == sub.lab.sheet_version) {
                sub.regraded = true;
                sub.verdict_differences = lab::regrade_differences(sub.lab, sheet);
                sub.counted = sub.counted && sub.verdict_differences.empty();
            }
        for (const lab::SubmittedQuestion& q : sub.lab.questions) {
            sub.answers[q.id] = answer_of(q);
            sub.right += q.verdict == "right";
            sub.graded += q.verdict == "right" || q.verdict == "wrong";
        }
        summary.submissions.push_back(std::move(sub));
    }

    // Reports no kept lab.json claimed: runs alone, once per run.
    for (auto& [path, r] : reports) {
        if (r.claimed) {
            if (!r.listed && !r.problem.empty()) skip(path, r.problem);
            continue;
        }
        if (!r.problem.empty()) {
            skip(path, r.problem);
            continue;
        }
        if (!r.duplicate_of.empty()) {
            skip(path, "duplicate of " + r.duplicate_of + " (the same file content)");
            continue;
        }
        if (auto same = run_of_key.find(run_key(*r.run)); same != run_of_key.end() && !run_key(*r.run).empty()) {
            skip(path, "duplicate of " + summary.runs[same->second].path + ": the same run (started " + r.run->started_at + ")");
            continue;
        }
        add_run(path, r, std::nullopt, dir_of(path));
    }
    std::sort(summary.skipped.begin(), summary.skipped.end(),
              [](const ClassSkip& a, const ClassSkip& b) { return a.path < b.path; });

    // Outliers about a submission or a run on its own.
    auto flag = [&](std::optional<size_t> submission, const std::string& flag_text) {
        if (submission) summary.submissions[*submission].flags.push_back(flag_text);
    };
    for (size_t i = 0; i < summary.submissions.size(); ++i) {
        const ClassSubmission& sub = summary.submissions[i];
        if (sub.report == ReportState::Differs) {
            std::string text = "lab.json does not match its report.json, so it is not counted: ";
            for (size_t k = 0; k < sub.check.differences.size() && k < 3; ++k) text += (k ? "; " : "") + sub.check.differences[k];
            if (sub.check.differences.size() > 3) text += "; and " + std::to_string(sub.check.differences.size() - 3) + " more";
            summary.outliers.push_back({"report-differs", sub.path, sub.who, text + "."});
            flag(i, "report.json differs");
        }
        if (!sub.verdict_differences.empty()) {
            std::string text = "lab.json's verdicts are not what its sheet gives, so it is not counted: ";
            for (size_t k = 0; k < sub.verdict_differences.size() && k < 3; ++k)
                text += (k ? "; " : "") + sub.verdict_differences[k];
            if (sub.verdict_differences.size() > 3)
                text += "; and " + std::to_string(sub.verdict_differences.size() - 3) + " more";
            summary.outliers.push_back({"verdicts-differ", sub.path, sub.who, text + "."});
            flag(i, "verdicts differ");
        }
        const bool interrupted = sub.lab.status == "run-interrupted";
        const bool report_says = sub.run && (!summary.runs[*sub.run].data.complete);
        if ((interrupted || sub.lab.run_complete == false) && !report_says) {
            summary.outliers.push_back({"incomplete", sub.path, sub.who,
                                        std::string("an incomplete run (") +
                                            (interrupted ? "interrupted" : "lab.json says so") +
                                            "): its measured values cover only what was captured."});
            flag(i, "incomplete run");
        }
    }
    for (const ClassRun& run : summary.runs) {
        const CompareRun& d = run.data;
        const bool lost = d.lost_events && *d.lost_events > 0;
        if (!lost && d.complete) continue;
        std::string text = lost ? "lost " + counted(*d.lost_events, "event", "events") + " (the ring buffer was full)"
                                : std::string("an incomplete run");
        if (d.cut_off) text += ", its trace was cut off";
        else if (d.interrupted) text += ", interrupted";
        summary.outliers.push_back({lost ? "lost-events" : "incomplete", run.path, run.who,
                                    text + ": its figures cover only what was captured (" + run.lesson + ")."});
        flag(run.submission, lost ? "lost events" : "incomplete run");
    }

    // Lessons: every run, grouped by what it ran.
    std::map<std::string, std::vector<size_t>> by_lesson;
    for (size_t i = 0; i < summary.runs.size(); ++i) by_lesson[summary.runs[i].lesson].push_back(i);
    for (auto& [name, members] : by_lesson) {
        ClassLesson lesson;
        lesson.name = name;
        lesson.runs = members;
        for (size_t i : members) ++lesson.kernels[summary.runs[i].data.kernel.value_or("unknown")];
        lesson.quantities = lesson_quantities(summary.runs, members);
        // A slow machine: one outlier per run, naming each figure.
        std::map<size_t, std::string> slow;
        for (const LessonQuantity& q : lesson.quantities)
            for (const LessonValue& v : q.values)
                if (v.outlier)
                    slow[v.run] += (slow[v.run].empty() ? "" : "; ") + q.label + " " + format_lesson_value(v.value, q.unit) + ", " +
                                   ratio_text(v.value / q.spread.p50) + " the median of " + std::to_string(q.spread.n) +
                                   " runs (" + format_lesson_value(q.spread.p50, q.unit) + ")";
        for (const auto& [run, text] : slow) {
            const ClassRun& r = summary.runs[run];
            summary.outliers.push_back({"slow", r.path, r.who,
                                        "a machine " + format_class_number(kClassSlowFactor) + "x slower or more than the class on " +
                                            name + " (" + machine_text(r.data) + "): " + text + "."});
            flag(r.submission, "slow machine");
        }
        summary.lessons.push_back(std::move(lesson));
    }

    // Sheets and their questions: the counted submissions.
    std::map<std::string, size_t> sheet_index, title_count;
    for (size_t i = 0; i < summary.submissions.size(); ++i) {
        const ClassSubmission& sub = summary.submissions[i];
        auto [at, fresh] = sheet_index.emplace(sub.lab.sheet, summary.sheets.size());
        if (fresh) {
            summary.sheets.emplace_back();
            summary.sheets.back().name = sub.lab.sheet;
        }
        ClassSheet& sheet = summary.sheets[at->second];
        ++sheet.submissions;
        sheet.regraded += sub.regraded;
        if (std::find(sheet.versions.begin(), sheet.versions.end(), sub.lab.sheet_version) == sheet.versions.end())
            sheet.versions.push_back(sub.lab.sheet_version);
        if (std::find(sheet.titles.begin(), sheet.titles.end(), sub.lab.sheet_title) == sheet.titles.end())
            sheet.titles.push_back(sub.lab.sheet_title);
        ++title_count[sheet.name + "\n" + sub.lab.sheet_title];
        for (const lab::SubmittedQuestion& q : sub.lab.questions) {
            auto existing = std::find_if(sheet.questions.begin(), sheet.questions.end(),
                                         [&](const ClassQuestion& c) { return c.id == q.id; });
            if (existing == sheet.questions.end()) {
                ClassQuestion question;
                question.sheet = sheet.name;
                question.id = q.id;
                question.kind = q.kind;
                question.prompt = q.prompt;
                question.unit = q.unit;
                question.metrics = q.metrics;
                sheet.questions.push_back(std::move(question));
                sheet.column_ids.push_back(q.id);
                existing = sheet.questions.end() - 1;
            }
            // The prompt shown is one a report.json vouches for, when any does.
            if (!existing->prompt_checked && sub.report == ReportState::Matches) {
                existing->prompt = q.prompt;
                existing->prompt_checked = true;
            }
            if (!sub.counted) continue;
            ClassQuestion& question = *existing;
            const ClassAnswer& a = sub.answers.at(q.id);
            if (question.unit.empty()) question.unit = a.unit;
            question.right += a.verdict == "right";
            question.wrong += a.verdict == "wrong";
            question.unanswered += a.verdict == "unanswered";
            question.not_measured += a.verdict == "not-measured";
            if (question.kind == "number" && question.kind == q.kind) {
                question.points.push_back({i, a.predicted, a.measured, a.verdict});
                if (a.verdict == "wrong" && a.predicted && a.measured)
                    (*a.predicted < *a.measured ? question.too_low : question.too_high) += 1;
            } else if (question.kind == q.kind) {
                if (!a.predicted_key.empty()) ++question.predicted_keys[a.predicted_key];
                if (!a.right_key.empty() && a.verdict != "not-measured") ++question.right_keys[a.right_key];
                if (question.kind == "choice") {
                    std::string text;
                    if (const std::string letter = choice_letter(q.answer, &text); !letter.empty() && !question.key_text.count(letter))
                        question.key_text[letter] = text;
                }
            }
        }
        sheet.counted += sub.counted;
    }
    // The title most submissions give first: one hostile file cannot name the sheet.
    for (ClassSheet& sheet : summary.sheets)
        std::stable_sort(sheet.titles.begin(), sheet.titles.end(), [&](const std::string& a, const std::string& b) {
            return title_count[sheet.name + "\n" + a] > title_count[sheet.name + "\n" + b];
        });
    for (ClassSheet& sheet : summary.sheets)
        for (ClassQuestion& q : sheet.questions) {
            std::vector<double> predicted, measured, ratio;
            for (const ClassPoint& p : q.points) {
                if (p.predicted) predicted.push_back(*p.predicted);
                if (p.measured) measured.push_back(*p.measured);
                if (p.predicted && p.measured && *p.predicted > 0 && *p.measured > 0) ratio.push_back(*p.predicted / *p.measured);
            }
            q.predicted = spread_of(predicted);
            q.measured = spread_of(measured);
            q.ratio = spread_of(ratio);
            summarize_question(q);
        }
    std::stable_sort(summary.outliers.begin(), summary.outliers.end(),
                     [](const ClassOutlier& a, const ClassOutlier& b) { return a.path < b.path; });
    return summary;
}

}  // namespace cxt
