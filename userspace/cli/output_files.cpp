#include "output_files.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <future>
#include <string_view>
#include <utility>
#include <vector>

#include "html_report.h"
#include "json_report.h"
#include "perfetto_export.h"
#include "trace_file.h"

namespace cxt {

namespace {

constexpr const char* kTraceFileName = "trace.cxt";
constexpr const char* kJsonFileName = "report.json";
constexpr const char* kHtmlFileName = "report.html";

// "dir/", "dir/." and "dir/./" name dir itself: checked as written, a
// symlink named dir would be followed.
std::string without_trailing_dots(std::string path) {
    for (;;) {
        if (path.size() > 1 && path.back() == '/') path.pop_back();
        else if (path.size() > 2 && path.compare(path.size() - 2, 2, "/.") == 0) path.resize(path.size() - 2);
        else return path;
    }
}

// mkdir that accepts an existing real directory but never a symlink. True
// when it created the directory.
Result<bool> make_directory(const std::string& path, bool existing_is_error) {
    if (mkdir(path.c_str(), 0755) == 0) return true;
    if (errno != EEXIST) return os_error("cannot create directory " + path);
    struct stat st;
    if (lstat(without_trailing_dots(path).c_str(), &st) != 0) return os_error("cannot inspect " + path);
    if (S_ISLNK(st.st_mode)) return Error{"refusing to write through the symbolic link " + path};
    if (!S_ISDIR(st.st_mode)) return Error{path + " exists and is not a directory"};
    if (existing_is_error) return Error{path + " already exists", EEXIST};
    return false;
}

// The missing parents of `path`, created as mkdir -p would (a parent may be
// a symlink to a directory, as there); each one created is added to `created`.
Status make_parents(const std::string& path, std::vector<std::string>& created) {
    for (size_t slash = path.find('/', 1); slash != std::string::npos; slash = path.find('/', slash + 1)) {
        const std::string parent = path.substr(0, slash);
        if (parent.back() == '/') continue;  // "a//b"
        if (mkdir(parent.c_str(), 0755) == 0) {
            created.push_back(parent);
            continue;
        }
        if (errno != EEXIST) return os_error("cannot create directory " + parent);
        struct stat st;
        if (stat(parent.c_str(), &st) != 0) return os_error("cannot inspect " + parent);
        if (!S_ISDIR(st.st_mode)) return Error{parent + " exists and is not a directory"};
    }
    return Status::success();
}

// Two runs' files never share a directory: refused, naming what is there.
Status check_holds_no_run(const std::string& dir) {
    std::string found;
    for (const char* name : {kTraceFileName, kJsonFileName, kHtmlFileName, kPerfettoFileName}) {
        struct stat st;
        if (lstat((dir + "/" + name).c_str(), &st) == 0) found += (found.empty() ? "" : ", ") + std::string(name);
    }
    if (found.empty()) return Status::success();
    return Error{dir + " already holds a run's files (" + found +
                 "): cxtrace does not mix two runs in one directory; choose another -o, or remove them"};
}

// A trace.cxt.partial nobody holds locked was left unfinished by a run that
// was killed: it is kept under a name of its own (the time it was last
// written) so it neither blocks this run nor gets mixed into it. One that
// is locked is being written by another run now: refused.
Result<std::optional<std::string>> keep_unfinished_trace(const std::string& trace) {
    const std::string partial = trace + kPartialSuffix;
    int fd = open(partial.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return std::optional<std::string>();
        return os_error("cannot inspect " + partial);
    }
    struct stat st;
    int err = 0;
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) err = errno;
    else if (fstat(fd, &st) != 0) err = errno;
    if (err != 0) {
        close(fd);
        if (err == EWOULDBLOCK) return Error{"another cxtrace run is writing into this directory now (" + partial +
                                             "): choose another -o"};
        return os_error("cannot inspect " + partial, err);
    }
    std::tm local{};
    localtime_r(&st.st_mtime, &local);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &local);
    const std::string base = trace + ".unfinished-" + stamp;
    for (int attempt = 1; attempt < 100; ++attempt) {
        std::string kept = attempt == 1 ? base : base + "-" + std::to_string(attempt);
        if (renameat2(AT_FDCWD, partial.c_str(), AT_FDCWD, kept.c_str(), RENAME_NOREPLACE) == 0) {
            close(fd);
            return std::optional<std::string>(kept);
        }
        if (errno != EEXIST) break;
    }
    err = errno;
    close(fd);
    return os_error("cannot keep " + partial + ", left by an earlier run, under another name", err);
}

// With the effective ids, as writing will be (under sudo: the user's).
Status check_writable(const std::string& dir) {
    if (faccessat(AT_FDCWD, dir.c_str(), W_OK | X_OK, AT_EACCESS) != 0) return os_error("cannot write into " + dir);
    return Status::success();
}

std::string timestamp_now() {
    std::time_t now = std::time(nullptr);
    std::tm local{};
    localtime_r(&now, &local);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", &local);
    return buf;
}

}  // namespace

Result<OutputDir> OutputDir::make(const std::string& requested, const std::string& label) {
    if (!requested.empty()) {
        OutputDir dir(requested);
        if (Status parents = make_parents(requested, dir.created_); !parents) return parents.error();
        auto made = make_directory(requested, false);
        if (!made) return made.error();
        if (*made) dir.created_.push_back(requested);
        if (Status writable = check_writable(requested); !writable) return writable.error();
        return dir;
    }
    const std::string parent = "cxtrace-reports";
    auto made_parent = make_directory(parent, false);
    if (!made_parent) return made_parent.error();
    OutputDir dir("");
    if (*made_parent) dir.created_.push_back(parent);
    std::string base = parent + "/" + label + "-" + timestamp_now();
    for (int attempt = 1; attempt < 100; ++attempt) {
        std::string path = attempt == 1 ? base : base + "-" + std::to_string(attempt);
        auto fresh = make_directory(path, true);
        if (fresh) {
            dir.path_ = path;
            dir.created_.push_back(path);
            return dir;
        }
        if (fresh.error().err != EEXIST) return fresh.error();
    }
    return Error{"cannot find a free output directory name under " + parent};
}

Result<OutputDir> OutputDir::for_run(const std::string& requested, const std::string& label) {
    auto dir = make(requested, label);
    if (!dir) return dir;
    if (Status alone = check_holds_no_run(dir->path_); !alone) return alone.error();
    auto kept = keep_unfinished_trace(dir->trace_path());
    if (!kept) return kept.error();
    dir->kept_unfinished_trace_ = std::move(*kept);
    return dir;
}

Result<OutputDir> OutputDir::for_report(const std::string& requested, const std::string& trace) {
    const size_t slash = trace.rfind('/');
    const std::string trace_dir = slash == std::string::npos ? "." : slash == 0 ? "/" : trace.substr(0, slash);
    auto dir = make(requested.empty() ? trace_dir : requested, "");
    if (!dir) return dir;
    // Rendered again into its own directory, a trace replaces its own reports.
    struct stat own, out;
    const bool own_directory = stat(trace_dir.c_str(), &own) == 0 && stat(dir->path_.c_str(), &out) == 0 &&
                               own.st_dev == out.st_dev && own.st_ino == out.st_ino;
    if (!own_directory)
        if (Status alone = check_holds_no_run(dir->path_); !alone) return alone.error();
    return dir;
}

Result<OutputDir> OutputDir::for_compare(const std::string& requested) { return make(requested, "compare"); }

Result<OutputDir> OutputDir::for_class(const std::string& requested) { return make(requested, "class"); }

std::string OutputDir::trace_path() const { return path_ + "/" + kTraceFileName; }

OutputDir::OutputDir(OutputDir&& other) noexcept
    : path_(std::move(other.path_)),
      created_(std::exchange(other.created_, {})),
      kept_unfinished_trace_(std::move(other.kept_unfinished_trace_)) {}

OutputDir::~OutputDir() {
    // Each fails, as it should, once anything was written into it.
    for (auto dir = created_.rbegin(); dir != created_.rend(); ++dir) rmdir(dir->c_str());
}

namespace {

// A file written as PATH.partial and renamed into place by commit(); one
// never committed is removed. The first write error is kept for commit().
class AtomicFile {
public:
    static Result<AtomicFile> create(const std::string& path) {
        std::string temp = path + kPartialSuffix;
        unlink(temp.c_str());
        int fd = open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0) return os_error("cannot create " + temp);
        return AtomicFile(path, fd);
    }
    AtomicFile(AtomicFile&& other) noexcept
        : path_(std::move(other.path_)), fd_(std::exchange(other.fd_, -1)), error_(other.error_) {}
    AtomicFile& operator=(AtomicFile&&) = delete;
    ~AtomicFile() {
        if (fd_ < 0) return;
        close(fd_);
        unlink((path_ + kPartialSuffix).c_str());
    }

    void write(std::string_view data) {
        while (error_ == 0 && !data.empty()) {
            ssize_t wrote = ::write(fd_, data.data(), data.size());
            if (wrote < 0 && errno == EINTR) continue;
            if (wrote <= 0) {
                error_ = wrote < 0 ? errno : EIO;
                break;
            }
            data.remove_prefix(static_cast<size_t>(wrote));
        }
    }

    // No fsync: reports are derived from trace.cxt (itself not synced) and
    // can be rendered again with `cxtrace report`; syncing a 1 GB
    // perfetto.json (the former JSON export) took longer than all the rest
    // of the work. The rename alone means no reader ever sees a half-written file.
    Status commit() {
        std::string temp = path_ + kPartialSuffix;
        int fd = std::exchange(fd_, -1);
        if (error_ != 0 || close(fd) != 0) {
            int err = error_ != 0 ? error_ : errno;
            unlink(temp.c_str());
            return os_error("cannot write " + path_, err);  // the name the user knows, not the temporary one
        }
        if (rename(temp.c_str(), path_.c_str()) != 0) return os_error("cannot rename " + temp + " to " + path_);
        return Status::success();
    }

private:
    AtomicFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
    std::string path_;
    int fd_;
    int error_ = 0;
};

}  // namespace

Status write_file_atomically(const std::string& path, const std::function<void(TextOut&)>& produce) {
    auto file = AtomicFile::create(path);
    if (!file) return file.error();
    {
        TextOut out([&](std::string_view chunk) { file->write(chunk); });
        produce(out);
    }
    return file->commit();
}

Result<ReportPaths> write_reports(const RunModel& model, const std::string& dir, const ReportExtras& extras) {
    ReportPaths paths{dir + "/" + kJsonFileName, dir + "/" + kHtmlFileName, dir + "/" + kPerfettoFileName};
    // Built once for report.json and the page's data; the tasks, the bulk,
    // are written straight from the model.
    const nlohmann::json report = report_json_without_tasks(model);
    // The three files only read the model: written side by side, the run
    // ends when the longest is done rather than after all three in turn.
    auto perfetto = std::async(std::launch::async, [&] {
        return write_file_atomically(paths.perfetto, [&](TextOut& out) { write_perfetto_trace(model, out); });
    });
    auto html = std::async(std::launch::async, [&] {
        return write_file_atomically(paths.html, [&](TextOut& out) { write_html_report(model, report, out, extras); });
    });
    Status written[] = {
        write_file_atomically(paths.json, [&](TextOut& out) { write_json_report(model, report, out); }),
        perfetto.get(),
        html.get(),
    };
    for (const Status& status : written)
        if (!status) return status.error();
    return paths;
}

std::vector<std::string> report_temporaries(const std::string& dir) {
    std::vector<std::string> names;
    for (const char* name : {kJsonFileName, kHtmlFileName, kPerfettoFileName})
        names.push_back(dir + "/" + name + kPartialSuffix);
    return names;
}

std::string output_error(const Error& error, const std::optional<InvokingUser>& user) {
    bool refused = error.err == EACCES || error.err == EPERM;
    return error.message() + (refused ? writing_as(user) : "");
}

std::string report_locations(const ReportPaths& paths, const std::string& trace_path) {
    return "  trace:    " + trace_path + "\n  json:     " + paths.json + "\n  perfetto: " + paths.perfetto +
           " (open it at https://ui.perfetto.dev)\nreport: " + paths.html + "\n";
}

}  // namespace cxt
