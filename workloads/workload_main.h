// Shared by the bundled workloads: option parsing with the same behaviour
// everywhere (--help shows the options and defaults; a bad value is a clear
// error and exit status 2) and output that is flushed before every fork.
#pragma once

#include <sys/prctl.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <cstdarg>

namespace workload {

// Parses argv into the options bound on app. Returns -1 to go on, or the
// exit status to return from main (0 after --help, 2 on a bad option).
// The hidden --check-options flag only validates: cxtrace uses it to reject
// bad workload options before it starts tracing.
inline int parse_options(CLI::App& app, int argc, char** argv) {
    bool check_only = false;
    app.add_flag("--check-options", check_only)->group("");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : 2;
    }
    return check_only ? 0 : -1;
}

// printf + fflush: lines must reach the terminal before the next fork, and
// from a child before it _exit()s.
inline void say(const char* format, ...) __attribute__((format(printf, 1, 2)));
inline void say(const char* format, ...) {
    va_list args;
    va_start(args, format);
    std::vprintf(format, args);
    va_end(args);
    std::fflush(stdout);
}

// Marks the start of a phase of the lesson: cxtrace reads a rename of a
// traced task to "@name" as a phase marker (README, "Phases"), and gives
// each phase its own figures. The thread's own name is put back at once.
inline void phase(const char* name) {
    char own[16] = {};
    prctl(PR_GET_NAME, own);
    char marker[16] = {};
    std::snprintf(marker, sizeof marker, "@%s", name);
    prctl(PR_SET_NAME, marker);
    prctl(PR_SET_NAME, own);
}

// Whole milliseconds of wall time since `since`.
inline long elapsed_ms(std::chrono::steady_clock::time_point since) {
    return static_cast<long>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - since).count());
}

}  // namespace workload
