#include "output_tee.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <string_view>
#include <system_error>
#include <tuple>

namespace cxt {

namespace {

constexpr size_t kReadChunk = 64 * 1024;

// All of data to fd; false when fd takes no more.
bool write_all(int fd, const char* data, size_t size) {
    while (size > 0) {
        ssize_t wrote = write(fd, data, size);
        if (wrote < 0 && errno == EINTR) continue;
        if (wrote <= 0) return false;
        data += wrote;
        size -= static_cast<size_t>(wrote);
    }
    return true;
}

}  // namespace

OwnedFd& OwnedFd::operator=(OwnedFd&& other) noexcept {
    if (this != &other) {
        reset();
        fd_ = other.release();
    }
    return *this;
}

void OwnedFd::reset() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
}

Result<std::unique_ptr<OutputTee>> OutputTee::create() {
    std::unique_ptr<OutputTee> tee(new OutputTee());
    for (auto [stream, write_end, forward_to] : {std::tuple{&tee->out_, &tee->out_write_, STDOUT_FILENO},
                                                 std::tuple{&tee->err_, &tee->err_write_, STDERR_FILENO}}) {
        int ends[2];
        // The read end does not block: finish() takes only what is there.
        if (pipe2(ends, O_CLOEXEC) != 0) return os_error("cannot create a pipe for the command's output");
        stream->read_end = OwnedFd(ends[0]);
        *write_end = OwnedFd(ends[1]);
        stream->forward_to = forward_to;
        if (fcntl(ends[0], F_SETFL, O_NONBLOCK) != 0) return os_error("cannot set up the command's output pipe");
    }
    tee->wake_ = OwnedFd(eventfd(0, EFD_CLOEXEC));
    if (tee->wake_.get() < 0) return os_error("cannot create an eventfd");
    return tee;
}

OutputTee::~OutputTee() { stop(); }

Status OutputTee::start() {
    out_write_.reset();
    err_write_.reset();
    // cxtrace takes SIGINT/SIGTERM through a signalfd, which needs them
    // blocked in every thread: the tee starts with all signals blocked (it
    // inherits the mask), so none is delivered to it. SIGPIPE too: a closed
    // stdout fails the write (EPIPE) instead of killing cxtrace.
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    try {
        thread_ = std::thread([this] { run(); });
    } catch (const std::system_error& e) {
        pthread_sigmask(SIG_SETMASK, &previous, nullptr);
        return Error{std::string("cannot start reading the command's output: ") + e.what()};
    }
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    return Status::success();
}

bool OutputTee::pass_on(Stream& stream, size_t limit) {
    std::array<char, kReadChunk> buffer;
    while (limit > 0) {
        ssize_t got = read(stream.read_end.get(), buffer.data(), std::min(limit, buffer.size()));
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) return errno == EAGAIN;  // drained for now; any other error ends the stream
        if (got == 0) return false;
        limit -= static_cast<size_t>(got);
        stream.keeper.append(std::string_view(buffer.data(), static_cast<size_t>(got)));
        if (stream.forwarding) stream.forwarding = write_all(stream.forward_to, buffer.data(), static_cast<size_t>(got));
    }
    return true;
}

void OutputTee::run() {
    std::array<pollfd, 3> watched{pollfd{out_.read_end.get(), POLLIN, 0}, pollfd{err_.read_end.get(), POLLIN, 0},
                                  pollfd{wake_.get(), POLLIN, 0}};
    std::array<Stream*, 2> streams{&out_, &err_};
    while (watched[0].fd >= 0 || watched[1].fd >= 0) {
        if (poll(watched.data(), watched.size(), -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        const bool stopping = watched[2].revents != 0;
        for (size_t i = 0; i < streams.size(); ++i) {
            if (watched[i].fd < 0) continue;
            // When stopping: only what the pipe holds now, so a writer that
            // lives on cannot keep the tee going.
            int held = 0;
            if (stopping && ioctl(watched[i].fd, FIONREAD, &held) != 0) held = 0;
            if (!stopping && watched[i].revents == 0) continue;
            if (!pass_on(*streams[i], stopping ? static_cast<size_t>(held) : SIZE_MAX)) watched[i].fd = -1;
        }
        if (stopping) break;
    }
}

void OutputTee::stop() {
    if (!thread_.joinable()) return;
    const uint64_t one = 1;
    ssize_t woken = write(wake_.get(), &one, sizeof one);  // an eventfd's counter cannot overflow from here
    (void)woken;
    thread_.join();
}

CapturedOutput OutputTee::finish() {
    stop();
    out_.read_end.reset();
    err_.read_end.reset();
    return CapturedOutput{out_.keeper.take(), err_.keeper.take()};
}

}  // namespace cxt
