// --capture-output: the traced command writes its stdout and stderr into
// pipes that cxtrace reads. A thread passes every byte on to cxtrace's own
// stdout and stderr as it comes (a tee) and keeps the first and last
// kOutputKeptBytes of each for the report. The command then writes to a
// pipe, not a terminal (isatty() is false; stdio buffers whole blocks).
#pragma once

#include <memory>
#include <thread>

#include "captured_output.h"
#include "result.h"

namespace cxt {

// One file descriptor, closed with its owner.
class OwnedFd {
public:
    OwnedFd() = default;
    explicit OwnedFd(int fd) : fd_(fd) {}
    OwnedFd(OwnedFd&& other) noexcept : fd_(other.release()) {}
    OwnedFd& operator=(OwnedFd&& other) noexcept;
    ~OwnedFd() { reset(); }
    OwnedFd(const OwnedFd&) = delete;
    OwnedFd& operator=(const OwnedFd&) = delete;

    int get() const { return fd_; }
    int release() {
        int fd = fd_;
        fd_ = -1;
        return fd;
    }
    void reset();

private:
    int fd_ = -1;
};

class OutputTee {
public:
    // The pipes, not yet read.
    static Result<std::unique_ptr<OutputTee>> create();
    ~OutputTee();  // stops the thread, as finish() would
    OutputTee(const OutputTee&) = delete;
    OutputTee& operator=(const OutputTee&) = delete;

    // The pipes' write ends, to become the command's fds 1 and 2 (they are
    // close-on-exec here: nothing else that cxtrace runs inherits them).
    int command_stdout() const { return out_write_.get(); }
    int command_stderr() const { return err_write_.get(); }
    // Once the command holds the write ends: closes cxtrace's copies (so the
    // pipes end when the command's tasks are gone) and starts the tee.
    Status start();
    // Takes what is in the pipes now and stops. A task that outlives the
    // command and writes later gets EPIPE (or SIGPIPE).
    CapturedOutput finish();

private:
    struct Stream {
        OwnedFd read_end;
        int forward_to;             // cxtrace's own stdout or stderr
        bool forwarding = true;     // until writing there fails (e.g. a closed pipe)
        OutputKeeper keeper;
    };
    OutputTee() = default;
    void run();
    // Reads what the pipe holds (at most `limit` bytes); false at its end.
    bool pass_on(Stream& stream, size_t limit);
    void stop();

    Stream out_, err_;
    OwnedFd out_write_, err_write_;
    OwnedFd wake_;  // an eventfd: written to stop the thread
    std::thread thread_;
};

}  // namespace cxt
