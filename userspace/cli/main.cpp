// cxtrace: see processes and threads being born, share address spaces and
// run on CPUs. main only wires the subcommands, and sets whose rights each
// runs with, in one place, before any of them starts.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include "commands.h"
#include "cxtrace_events.h"
#include "privileges.h"

namespace {

using cxt::InvokingUser;

// The rights a subcommand starts with. Only one that attaches probes keeps
// those act_as_invoker set aside, to regain them while it attaches; every
// other has given them up for good before it starts.
enum class Rights { invoker_only, regained_to_attach_probes };

struct Subcommand {
    CLI::App* app;
    Rights rights;
    std::function<int(const std::optional<InvokingUser>&)> start;
};

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

// trace.cxt's limit: 0 (none) or 64 KiB and more, with K/M/G suffixes.
std::string check_trace_size(std::string& text) {
    try {
        uint64_t bytes = parse_size(text);
        if (bytes != 0 && bytes < (64u << 10))
            return "--max-trace-size must be 0 (no limit) or at least 64K, got " + text;
        text = std::to_string(bytes);
        return "";
    } catch (const std::exception&) {
        return "not a size: " + text + " (examples: 64M, 1G; 0 for no limit)";
    }
}

// Seconds, with decimals, more than 0 and at most a year: into nanoseconds.
constexpr double kMaxDurationSeconds = 365.0 * 24 * 3600;
std::string check_duration(std::string& text) {
    size_t pos = 0;
    double seconds = 0;
    try {
        seconds = std::stod(text, &pos);
    } catch (const std::exception&) {
        pos = 0;
    }
    // !(a > b) also refuses NaN.
    if (pos == 0 || pos != text.size() || !(seconds > 0) || !(seconds <= kMaxDurationSeconds))
        return "--duration takes a number of seconds, more than 0 and at most a year (e.g. 10 or 2.5), got " + text;
    text = std::to_string(static_cast<uint64_t>(seconds * 1e9));
    return "";
}

Subcommand setup_run(CLI::App& app, cxt::RunOptions& options) {
    auto* run = app.add_subcommand("run", "Trace a bundled workload (default: process-vs-thread) or, after --, any command");
    run->add_option("-o,--output", options.output_dir, "Directory for trace.cxt and report.json")
        ->description("Output directory (default: ./cxtrace-reports/<name>-<time>/)");
    run->add_option("--ring-buffer-size", options.ring_buffer_bytes, "BPF ring buffer size, e.g. 256K, 16M")
        ->transform(CLI::Validator(check_ring_size, "SIZE"))
        ->default_str("16M");
    run->add_option("--max-trace-size", options.max_trace_bytes,
                    "Stop tracing when trace.cxt would grow past SIZE (K, M or G suffix; 0: no limit); the command "
                    "is then stopped, as on Ctrl-C (left running with --leave-running), and cxtrace exits 124")
        ->transform(CLI::Validator(check_trace_size, "SIZE"))
        ->default_str("256M");
    run->add_option("--duration", options.duration_ns,
                    "Stop tracing after SECONDS (decimals allowed); the command is then stopped, as on Ctrl-C (left "
                    "running with --leave-running), and cxtrace exits 124")
        ->transform(CLI::Validator(check_duration, "SECONDS"));
    run->add_flag("--as-root", options.as_root, "Under sudo, run the command as root instead of the invoking user");
    auto* leave_running = run->add_flag("--leave-running", options.leave_running,
                  "On Ctrl-C or SIGTERM stop tracing but leave the command running (it gets its own process "
                  "group, so Ctrl-C reaches only cxtrace, and is not killed if cxtrace dies; being in the "
                  "background of the terminal, it cannot read from it)");
    run->add_flag("--syscall-tracepoints", options.syscall_tracepoints,
                  "Watch clone/fork/exec through their own syscall tracepoints (mounting tracefs privately if "
                  "needed): less kernel time per event, but about 0.5 s more to detach");
    run->add_option("--from-exec", options.from_exec,
                    "Leave a launcher out of the figures: the lesson starts at the first exec of NAME (a file name "
                    "such as python3, or a full path) by the command or a task it created; that task and what it "
                    "creates from then on are the lesson. A wrapper script's or version-manager shim's other tasks "
                    "stay listed, marked as the launcher's")
        ->type_name("NAME");
    auto* capture = run->add_flag("--capture-output", options.capture_output,
                                  "Keep what the command writes to stdout and stderr (the first and last 64 KiB of "
                                  "each) for the report, still passing it on to the terminal. The command then "
                                  "writes to pipes, not a terminal: programs may buffer their output (python3 -u, "
                                  "or stdbuf -oL, keeps it line by line)");
    run->add_flag("-v,--verbose", options.verbose, "Show libbpf diagnostics and which syscall probes are used");
    capture->excludes(leave_running);  // nobody would read the pipes once cxtrace is gone
    run->prefix_command();  // WORKLOAD [ARGS...] go through untouched
    run->footer("Examples:\n  sudo cxtrace run\n  sudo cxtrace run process-vs-thread -n 50\n"
                "  sudo cxtrace run -- python3 my_threads.py");
    run->callback([&options, run] {
        options.workload_and_args = run->remaining();
        if (!options.command.empty() && !options.workload_and_args.empty())
            throw CLI::ValidationError("give either a WORKLOAD or -- COMMAND, not both");
    });
    return {run, Rights::regained_to_attach_probes,
            [&options](const std::optional<InvokingUser>& user) { return cxt::run_command(options, user); }};
}

Subcommand setup_report(CLI::App& app, cxt::ReportOptions& options) {
    auto* report = app.add_subcommand("report", "Re-render a saved trace (trace.cxt)");
    report->add_option("trace", options.trace_file, "A trace.cxt written by cxtrace run")->required();
    report->add_option("-o,--output", options.output_dir, "Directory for report.json (default: beside the trace)");
    auto* from_exec = report->add_option("--from-exec", "Start the lesson at the first exec of NAME, instead of where "
                                                        "the run's own --from-exec said ('' for the whole run)")
                          ->type_name("NAME");
    report->callback([&options, from_exec] {
        if (from_exec->count() > 0) options.from_exec = from_exec->as<std::string>();
    });
    return {report, Rights::invoker_only,
            [&options](const std::optional<InvokingUser>& user) { return cxt::report_command(options, user); }};
}

Subcommand setup_lab(CLI::App& app, cxt::LabOptions& options) {
    auto* lab = app.add_subcommand("lab", "Predict, then observe: answer a lab sheet's questions, trace its workload, "
                                          "and see your predictions checked (no SHEET: list the sheets)");
    lab->add_option("sheet", options.sheet, "A bundled lab sheet's name (see `cxtrace lab`) or a sheet file's path")
        ->type_name("SHEET");
    lab->add_option("--answers", options.answers_file,
                    "Read the predictions from FILE (one `id = value` a line) instead of asking on the terminal")
        ->type_name("FILE")
        ->check(CLI::ExistingFile);
    auto* seed = lab->add_option("--seed", "Choose the sheet's parameters with this seed (default: a random one, "
                                           "printed and recorded in lab.json)")
                     ->type_name("N")
                     ->check(CLI::Range(uint64_t{0}, uint64_t{UINT32_MAX}));
    lab->add_option("--student", options.student, "Your name, recorded in lab.json")->type_name("NAME");
    lab->add_option("-o,--output", options.output_dir,
                    "Output directory (default: ./cxtrace-reports/<workload>-<time>/)");
    lab->footer("Examples:\n  cxtrace lab\n  sudo cxtrace lab process-vs-thread --seed $RANDOM --student alice\n"
                "  sudo cxtrace lab cpu-bound --answers my-answers.txt");
    lab->callback([&options, seed] {
        if (seed->count() > 0) options.seed = seed->as<uint64_t>();
    });
    return {lab, Rights::regained_to_attach_probes,
            [&options](const std::optional<InvokingUser>& user) { return cxt::lab_command(options, user); }};
}

Subcommand setup_compare(CLI::App& app, cxt::CompareOptions& options) {
    auto* compare = app.add_subcommand("compare", "Put 2 to 8 runs side by side: compare.html and a table");
    // The number of runs is checked by the command, which says what to give.
    compare->add_option("runs", options.runs, "Runs: output directories of cxtrace run, or report.json files")
        ->required()
        ->type_name("RUN");
    compare->add_option("-o,--output", options.output_dir,
                        "Directory for compare.html (default: ./cxtrace-reports/compare-<time>/)")
        ->type_name("DIR");
    compare->add_option("--label", options.labels, "A name for a run, once per run in the order of the runs")
        ->type_name("NAME")
        ->allow_extra_args(false);  // each --label takes one name: the runs after it stay runs
    compare->footer("Examples:\n  cxtrace compare cxtrace-reports/process-vs-thread-*/\n"
                    "  cxtrace compare --label C --label Python out-c out-py/report.json\n"
                    "A figure that differs enough to matter is marked (see man cxtrace-compare).");
    return {compare, Rights::invoker_only,
            [&options](const std::optional<InvokingUser>& user) { return cxt::compare_command(options, user); }};
}

Subcommand setup_class(CLI::App& app, cxt::ClassOptions& options) {
    auto* class_app = app.add_subcommand("class", "See a class's lab submissions together: class.html, class.csv and a "
                                                  "summary");
    class_app->add_option("folders", options.folders,
                          "Folders searched for the students' lab.json files and the report.json beside each")
        ->required()
        ->type_name("DIR");
    class_app->add_option("-o,--output", options.output_dir,
                          "Directory for class.html and class.csv (default: ./cxtrace-reports/class-<time>/)")
        ->type_name("DIR");
    class_app->footer("Examples:\n  cxtrace class submissions/\n  cxtrace class -o lab1-results room-a/ room-b/\n"
                      "Bad submissions are listed as skipped, with why (see man cxtrace-class).");
    return {class_app, Rights::invoker_only,
            [&options](const std::optional<InvokingUser>& user) { return cxt::class_command(options, user); }};
}

Subcommand setup_list(CLI::App& app) {
    auto* list = app.add_subcommand("list", "List the bundled workloads and the lesson each teaches");
    return {list, Rights::invoker_only, [](const std::optional<InvokingUser>&) { return cxt::list_command(); }};
}

}  // namespace

int main(int argc, char** argv) {
    // First, for every subcommand: under sudo, act with the invoking user's
    // rights (root only as real and saved id), so nothing below touches a
    // path as root on their behalf.
    auto user = cxt::invoking_user();
    if (!user) {
        std::fprintf(stderr, "cxtrace: %s\n", user.error().message().c_str());
        return cxt::kExitFailure;
    }
    if (cxt::Status acting = cxt::act_as_invoker(*user); !acting) {
        std::fprintf(stderr, "cxtrace: %s\n", acting.error().message().c_str());
        return cxt::kExitFailure;
    }

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
    // The event ABI is also what trace.cxt files carry: newer ones are refused.
    app.set_version_flag("--version", "cxtrace " CXTRACE_VERSION "\nBPF event ABI " + std::to_string(CXT_ABI_VERSION) +
                                          " (reads trace.cxt files of event ABI " + std::to_string(CXT_ABI_VERSION) +
                                          " and older)",
                         "Print cxtrace's version and its BPF event ABI version, and exit");
    cxt::ReportOptions report_options;
    cxt::LabOptions lab_options;
    cxt::CompareOptions compare_options;
    cxt::ClassOptions class_options;
    const Subcommand subcommands[] = {
        setup_run(app, run_options),
        setup_report(app, report_options),
        setup_compare(app, compare_options),
        setup_class(app, class_options),
        setup_list(app),
        setup_lab(app, lab_options),
    };

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
    }
    if (!run_options.command.empty() && !app.got_subcommand("run")) {
        std::fprintf(stderr, "cxtrace: '-- COMMAND' belongs to 'cxtrace run'\n");
        return cxt::kExitUsage;
    }
    auto chosen = std::find_if(std::begin(subcommands), std::end(subcommands),
                               [](const Subcommand& sub) { return sub.app->parsed(); });
    if (chosen == std::end(subcommands)) {  // parsed, but not wired here
        std::fprintf(stderr, "cxtrace: no such subcommand\n");
        return cxt::kExitUsage;
    }
    if (chosen->rights == Rights::invoker_only)
        if (cxt::Status given_up = cxt::give_up_privileges(*user); !given_up) {
            std::fprintf(stderr, "cxtrace: %s\n", given_up.error().message().c_str());
            return cxt::kExitFailure;
        }
    try {
        return chosen->start(*user);
    } catch (const std::bad_alloc&) {
        // A saved trace.cxt is complete before any report is built: say so.
        std::fprintf(stderr, "cxtrace: out of memory while building the report (any trace.cxt already written "
                             "is complete: run `cxtrace report` on it on a machine with more memory)\n");
        return cxt::kExitFailure;
    }
}
