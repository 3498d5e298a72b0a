// cxtrace: see processes and threads being born, share address spaces and
// run on CPUs. main only wires the subcommands.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

#include "commands.h"

namespace {

uint64_t parse_size(const std::string& text) {
    size_t pos = 0;
    uint64_t value = std::stoull(text, &pos);
    if (text.find('-') != std::string::npos) throw std::invalid_argument("negative");  // stoull accepts "-1"
    std::string unit = text.substr(pos);
    int shift = 0;
    if (unit == "K" || unit == "k" || unit == "KiB") shift = 10;
    else if (unit == "M" || unit == "m" || unit == "MiB") shift = 20;
    else if (unit == "G" || unit == "g" || unit == "GiB") shift = 30;
    else if (!unit.empty()) throw std::invalid_argument("unit");
    if (value > (UINT64_MAX >> shift)) throw std::out_of_range("size");  // would wrap into range
    return value << shift;
}

// Ring buffer sizes: a power of two, 64 KiB .. 1 GiB, with K/M/G suffixes.
std::string check_ring_size(std::string& text) {
    try {
        uint64_t bytes = parse_size(text);
        if (bytes < (64u << 10) || bytes > (1ull << 30) || (bytes & (bytes - 1)) != 0)
            return "ring buffer size must be a power of two between 64K and 1G, got " + text;
        text = std::to_string(bytes);
        return "";
    } catch (const std::exception&) {
        return "not a size: " + text + " (examples: 256K, 16M)";
    }
}

void setup_run(CLI::App& app, cxt::RunOptions& options, int& status) {
    auto* run = app.add_subcommand("run", "Trace a bundled workload (default: process-vs-thread) or, after --, any command");
    run->add_option("-o,--output", options.output_dir, "Directory for trace.cxt and report.json")
        ->description("Output directory (default: ./cxtrace-reports/<name>-<time>/)");
    run->add_option("--ring-buffer-size", options.ring_buffer_bytes, "BPF ring buffer size, e.g. 256K, 16M")
        ->transform(CLI::Validator(check_ring_size, "SIZE"))
        ->default_str("16M");
    run->add_flag("--as-root", options.as_root, "Under sudo, run the command as root instead of the invoking user");
    run->add_flag("--leave-running", options.leave_running,
                  "On Ctrl-C or SIGTERM stop tracing but leave the command running (it gets its own process "
                  "group, so Ctrl-C reaches only cxtrace, and is not killed if cxtrace dies; being in the "
                  "background of the terminal, it cannot read from it)");
    run->add_flag("--syscall-tracepoints", options.syscall_tracepoints,
                  "Watch clone/fork/exec through their own syscall tracepoints (mounting tracefs privately if "
                  "needed): less kernel time per event, but about 0.5 s more to detach");
    run->add_flag("-v,--verbose", options.verbose, "Show libbpf diagnostics and which syscall probes are used");
    run->prefix_command();  // WORKLOAD [ARGS...] go through untouched
    run->footer("Examples:\n  sudo cxtrace run\n  sudo cxtrace run process-vs-thread -n 50\n"
                "  sudo cxtrace run -- python3 my_threads.py");
    run->callback([&options, &status, run] {
        options.workload_and_args = run->remaining();
        if (!options.command.empty() && !options.workload_and_args.empty())
            throw CLI::ValidationError("give either a WORKLOAD or -- COMMAND, not both");
        status = cxt::run_command(options);
    });
}

void setup_report(CLI::App& app, cxt::ReportOptions& options, int& status) {
    auto* report = app.add_subcommand("report", "Re-render a saved trace (trace.cxt)");
    report->add_option("trace", options.trace_file, "A trace.cxt written by cxtrace run")->required();
    report->add_option("-o,--output", options.output_dir, "Directory for report.json (default: beside the trace)");
    report->callback([&options, &status] { status = cxt::report_command(options); });
}

void setup_list(CLI::App& app, int& status) {
    auto* list = app.add_subcommand("list", "List the bundled workloads and the lesson each teaches");
    list->callback([&status] { status = cxt::list_command(); });
}

}  // namespace

int main(int argc, char** argv) {
    // Everything after the first "--" is the traced command, untouched.
    std::vector<std::string> args(argv + 1, argv + argc);
    cxt::RunOptions run_options;
    auto dashdash = std::find(args.begin(), args.end(), "--");
    if (dashdash != args.end()) {
        run_options.command.assign(dashdash + 1, args.end());
        if (run_options.command.empty()) {
            std::fprintf(stderr, "cxtrace: nothing after --: give the command to trace\n");
            return cxt::kExitUsage;
        }
        args.erase(dashdash, args.end());
    }

    CLI::App app{"cxtrace: watch the kernel create processes and threads"};
    app.name("cxtrace");  // parse() gets a vector without argv[0]
    app.require_subcommand(1);
    app.footer("Start with: sudo cxtrace run   (then open the report.html it prints)");
    int status = 0;
    cxt::ReportOptions report_options;
    setup_run(app, run_options, status);
    setup_report(app, report_options, status);
    setup_list(app, status);

    if (args.empty() && run_options.command.empty()) {
        std::cout << app.help();
        return cxt::kExitUsage;
    }
    std::reverse(args.begin(), args.end());  // CLI11 parses a reversed vector
    try {
        app.parse(args);
    } catch (const CLI::ParseError& e) {
        int code = app.exit(e);
        return code == 0 ? 0 : cxt::kExitUsage;
    } catch (const std::bad_alloc&) {
        // A saved trace.cxt is complete before any report is built: say so.
        std::fprintf(stderr, "cxtrace: out of memory while building the report (any trace.cxt already written "
                             "is complete: run `cxtrace report` on it on a machine with more memory)\n");
        return cxt::kExitFailure;
    }
    if (!run_options.command.empty() && !app.got_subcommand("run")) {
        std::fprintf(stderr, "cxtrace: '-- COMMAND' belongs to 'cxtrace run'\n");
        return cxt::kExitUsage;
    }
    return status;
}
