#include "output_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <future>
#include <string_view>
#include <utility>

#include "html_report.h"
#include "json_report.h"
#include "perfetto_export.h"

namespace cxt {

namespace {

// mkdir that accepts an existing real directory but never a symlink.
Status make_directory(const std::string& path, const OutputOwner& owner, bool created_is_error) {
    if (mkdir(path.c_str(), 0755) == 0) {
        give_to_owner(path, owner);
        return Status::success();
    }
    if (errno != EEXIST) return os_error("cannot create directory " + path);
    struct stat st;
    if (lstat(path.c_str(), &st) != 0) return os_error("cannot inspect " + path);
    if (S_ISLNK(st.st_mode)) return Error{"refusing to write through the symbolic link " + path};
    if (!S_ISDIR(st.st_mode)) return Error{path + " exists and is not a directory"};
    if (created_is_error) return Error{path + " already exists", EEXIST};
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

void give_to_owner(const std::string& path, const OutputOwner& owner) {
    if (owner.user && lchown(path.c_str(), owner.user->uid, owner.user->gid) != 0) {
        // Ownership is a courtesy; the file is still usable by root.
    }
}

Result<std::string> create_output_dir(const std::string& requested, const std::string& label,
                                      const OutputOwner& owner) {
    if (!requested.empty()) {
        Status made = make_directory(requested, owner, false);
        if (!made) return made.error();
        return requested;
    }
    const std::string parent = "cxtrace-reports";
    Status made = make_directory(parent, owner, false);
    if (!made) return made.error();
    std::string base = parent + "/" + label + "-" + timestamp_now();
    for (int attempt = 1; attempt < 100; ++attempt) {
        std::string dir = attempt == 1 ? base : base + "-" + std::to_string(attempt);
        Status fresh = make_directory(dir, owner, true);
        if (fresh) return dir;
        if (fresh.error().err != EEXIST) return fresh.error();
    }
    return Error{"cannot find a free output directory name under " + parent};
}

namespace {

// A file written as PATH.partial and renamed into place by commit(); one
// never committed is removed. The first write error is kept for commit().
class AtomicFile {
public:
    static Result<AtomicFile> create(const std::string& path) {
        std::string temp = path + ".partial";
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
        unlink((path_ + ".partial").c_str());
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
    Status commit(const OutputOwner& owner) {
        std::string temp = path_ + ".partial";
        int fd = std::exchange(fd_, -1);
        if (error_ != 0 || close(fd) != 0) {
            int err = error_ != 0 ? error_ : errno;
            unlink(temp.c_str());
            return os_error("cannot write " + temp, err);
        }
        give_to_owner(temp, owner);
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

Status write_file_atomically(const std::string& path, const OutputOwner& owner,
                             const std::function<void(TextOut&)>& produce) {
    auto file = AtomicFile::create(path);
    if (!file) return file.error();
    {
        TextOut out([&](std::string_view chunk) { file->write(chunk); });
        produce(out);
    }
    return file->commit(owner);
}

Result<ReportPaths> write_reports(const RunModel& model, const std::string& dir, const OutputOwner& owner) {
    ReportPaths paths{dir + "/report.json", dir + "/report.html", dir + "/" + kPerfettoFileName};
    // Built once for report.json and the page's data; the tasks, the bulk,
    // are written straight from the model.
    const nlohmann::json report = report_json_without_tasks(model);
    // The three files only read the model: written side by side, the run
    // ends when the longest is done rather than after all three in turn.
    auto perfetto = std::async(std::launch::async, [&] {
        return write_file_atomically(paths.perfetto, owner, [&](TextOut& out) { write_perfetto_trace(model, out); });
    });
    auto html = std::async(std::launch::async, [&] {
        return write_file_atomically(paths.html, owner, [&](TextOut& out) { write_html_report(model, report, out); });
    });
    Status written[] = {
        write_file_atomically(paths.json, owner, [&](TextOut& out) { write_json_report(model, report, out); }),
        perfetto.get(),
        html.get(),
    };
    for (const Status& status : written)
        if (!status) return status.error();
    return paths;
}

std::string report_locations(const ReportPaths& paths, const std::string& trace_path) {
    return "  trace:    " + trace_path + "\n  json:     " + paths.json + "\n  perfetto: " + paths.perfetto +
           " (open it at https://ui.perfetto.dev)\nreport: " + paths.html + "\n";
}

}  // namespace cxt
