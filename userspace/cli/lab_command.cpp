// `cxtrace lab [SHEET]`: predict, observe, check. Lists the lab sheets, or
// asks a sheet's questions, runs its workload in the traced session that
// `cxtrace run` uses (traced_session.h), grades the predictions against
// the run (userspace/lab/) and writes lab.json beside the reports.
#include <signal.h>
#include <sys/random.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <iostream>
#include <variant>

#include "answers.h"
#include "commands.h"
#include "grading.h"
#include "held_command.h"
#include "lab_result.h"
#include "output_files.h"
#include "sheet.h"
#include "traced_session.h"
#include "workloads.h"

namespace cxt {

namespace {

using namespace cxt::lab;

constexpr const char* kLabFileName = "lab.json";
constexpr const char* kAnswersFileName = "answers.txt";

void print_error(const std::string& message) { std::cerr << "cxtrace: " << message << "\n"; }

bool ends_with(const std::string& text, const std::string& tail) {
    return text.size() >= tail.size() && text.compare(text.size() - tail.size(), tail.size(), tail) == 0;
}

int list_sheets() {
    auto dir = lab_sheets_dir();
    if (!dir) {
        print_error(dir.error().what);
        return kExitFailure;
    }
    for (const std::string& file : bundled_sheet_files(*dir)) {
        auto sheet = load_sheet(*dir + "/" + file);
        std::string name = file.substr(0, file.size() - 5);
        if (!sheet) {
            std::printf("%-28s (cannot be used: %s)\n", name.c_str(), sheet.error().message().c_str());
            continue;
        }
        std::string runs = sheet->workload.workload.empty() ? sheet->workload.command.front() : sheet->workload.workload;
        std::printf("%-28s %s (%zu questions; %s)\n", name.c_str(), sheet->title.c_str(), sheet->questions.size(),
                    runs.c_str());
    }
    return 0;
}

// SHEET: a path (with a '/' or ending in .toml), else a bundled sheet's name.
Result<std::string> sheet_path(const std::string& sheet) {
    if (sheet.find('/') != std::string::npos || ends_with(sheet, ".toml")) return sheet;
    auto dir = lab_sheets_dir();
    if (!dir) return dir.error();
    std::string names;
    for (const std::string& file : bundled_sheet_files(*dir)) {
        std::string name = file.substr(0, file.size() - 5);
        if (name == sheet) return *dir + "/" + file;
        names += (names.empty() ? "" : ", ") + name;
    }
    return Error{"no lab sheet named '" + sheet + "'; bundled sheets: " + names +
                 " (or give a sheet's path; `cxtrace lab` lists them)"};
}

uint64_t random_seed() {
    uint16_t value = 0;
    if (getrandom(&value, sizeof value, 0) != sizeof value) value = static_cast<uint16_t>(getpid());
    return value & 0x7fff;  // as bash's $RANDOM: 0..32767
}

std::string kernel_release() {
    utsname u{};
    return uname(&u) == 0 ? u.release : "unknown";
}

// Ctrl-C while the questions are asked: the read returns, the flag says why.
volatile sig_atomic_t interrupted_by = 0;
void on_interrupt(int sig) { interrupted_by = sig; }

class InterruptibleInput {
public:
    InterruptibleInput() {
        struct sigaction action {};
        action.sa_handler = on_interrupt;  // no SA_RESTART: read() returns EINTR
        sigemptyset(&action.sa_mask);
        for (int i = 0; i < 3; ++i) sigaction(kSignals[i], &action, &previous_[i]);
    }
    ~InterruptibleInput() {
        for (int i = 0; i < 3; ++i) sigaction(kSignals[i], &previous_[i], nullptr);
    }
    InterruptibleInput(const InterruptibleInput&) = delete;
    InterruptibleInput& operator=(const InterruptibleInput&) = delete;

    // A line from stdin, or nothing at its end or on a signal (interrupted_by).
    std::optional<std::string> line() {
        std::string text;
        char c;
        while (!interrupted_by) {
            ssize_t n = read(STDIN_FILENO, &c, 1);
            if (n == 1) {
                if (c == '\n') return text;
                text += c;
                if (text.size() > 4096) return text;
            } else if (n == 0 || errno != EINTR) {
                return std::nullopt;
            }
        }
        return std::nullopt;
    }

private:
    static constexpr int kSignals[3] = {SIGINT, SIGTERM, SIGHUP};
    struct sigaction previous_[3];
};

std::string letter(size_t index) { return std::string(1, static_cast<char>('a' + index)); }

void show_question(const Sheet& sheet, const Variant& variant, size_t number, const Question& q) {
    std::cout << "\n" << number << ". [" << q.id << "] " << substitute_parameters(q.prompt, sheet, variant) << "\n";
    if (q.kind == QuestionKind::Choice)
        for (size_t i = 0; i < q.choices.size(); ++i)
            std::cout << "   " << letter(i) << ") " << substitute_parameters(q.choices[i].text, sheet, variant) << "\n";
    if (q.kind == QuestionKind::Ranking)
        for (size_t i = 0; i < q.items.size(); ++i)
            std::cout << "   " << letter(i) << ") " << substitute_parameters(q.items[i].text, sheet, variant) << "\n";
}

LabPredictions report_predictions(const LabRecord& record, const std::vector<Graded>& graded) {
    const Sheet& sheet = *record.sheet;
    LabPredictions out;
    out.sheet = sheet.name;
    out.sheet_version = sheet.version;
    out.student = record.student;
    out.seed = std::to_string(record.variant.seed);
    out.parameters = describe_variant(sheet, record.variant);
    for (const Graded& g : graded) {
        const Question& q = *g.question;
        out.rows.push_back({q.id, substitute_parameters(q.prompt, sheet, record.variant),
                            g.prediction ? describe_prediction(q, *g.prediction) : "(no prediction)", g.measured_text,
                            verdict_name(g.verdict), g.explanation});
    }
    return out;
}

std::string graded_text(const LabRecord& record, const std::string& lab_path) {
    std::string text = "\nYour predictions (lab sheet " + record.sheet->name + ", seed " +
                       std::to_string(record.variant.seed) + "):\n";
    size_t right = 0;
    for (size_t i = 0; i < record.graded.size(); ++i) {
        const Graded& g = record.graded[i];
        const Question& q = *g.question;
        right += g.verdict == Verdict::Right;
        text += "\n" + std::to_string(i + 1) + ". [" + q.id + "] " + verdict_name(g.verdict) + "\n";
        text += "   you predicted: " + (g.prediction ? describe_prediction(q, *g.prediction) : "nothing") + "\n";
        text += "   measured:      " + g.measured_text + "\n";
        if (g.verdict == Verdict::Wrong && !g.answer.empty()) text += "   right answer:  " + g.answer + "\n";
        text += "   " + g.explanation + "\n";
    }
    text += "\n" + std::to_string(right) + " of " + std::to_string(record.graded.size()) + " predicted right.\n";
    text += "  lab:      " + lab_path + "\n";
    return text;
}

Status write_lab_files(const std::string& dir, const LabRecord& record, bool with_answers) {
    if (with_answers) {
        if (Status written = write_file_atomically(
                dir + "/" + kAnswersFileName,
                [&](TextOut& out) { out.put(format_answers(*record.sheet, record.predictions)); });
            !written)
            return written;
    }
    return write_file_atomically(dir + "/" + kLabFileName,
                                 [&](TextOut& out) { out.put(lab_json(record).dump(2) + "\n"); });
}

}  // namespace

int lab_command(const LabOptions& options, const std::optional<InvokingUser>& user) {
    if (options.sheet.empty()) return list_sheets();
    auto path = sheet_path(options.sheet);
    if (!path) {
        print_error(path.error().message());
        return path.error().err == ENOENT ? kExitFailure : kExitUsage;
    }
    auto sheet = load_sheet(*path);
    if (!sheet) {
        print_error(sheet.error().message() + "; nothing was run");
        return kExitUsage;
    }
    for (const std::string& program : sheet->workload.needs)
        if (!check_command_exists(program)) {
            print_error("skipped: the lab sheet " + sheet->name + " needs " + program +
                        ", which is not installed here (on Debian: sudo apt install " +
                        program.substr(program.rfind('/') + 1) + ")");
            return kExitFailure;
        }

    LabRecord record;
    record.sheet = &*sheet;
    record.variant = choose_variant(*sheet, options.seed ? *options.seed : random_seed());
    record.student = options.student;
    record.kernel = kernel_release();
    record.cpus = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
    if (!options.answers_file.empty()) {
        auto answers = load_answers(options.answers_file, *sheet);
        if (!answers) {
            print_error(answers.error().message() + "; nothing was run");
            return kExitUsage;
        }
        record.predictions = std::move(*answers);
    }
    const bool terminal = isatty(STDIN_FILENO) == 1;
    if (options.answers_file.empty() && !terminal) {
        print_error("cxtrace lab asks for your predictions on a terminal, and stdin is not one: give them in a file "
                    "with --answers FILE (one `id = value` a line; see cxtrace-lab(1)). Nothing was run");
        return kExitUsage;
    }

    RunOptions run;
    run.output_dir = options.output_dir;
    run.from_exec = sheet->workload.from_exec;
    if (sheet->workload.workload.empty()) run.command = workload_arguments(*sheet, record.variant);
    else run.workload_and_args = workload_arguments(*sheet, record.variant);
    record.command = workload_arguments(*sheet, record.variant);

    // Checked before any question: a student does not answer for nothing.
    auto prepared = TracedSession::prepare(run, user);
    if (const int* status = std::get_if<int>(&prepared)) return *status;
    TracedSession& session = *std::get<std::unique_ptr<TracedSession>>(prepared);
    const std::string dir = session.dir().path();

    std::cout << "Lab: " << sheet->title << " (sheet " << sheet->name << ", version " << sheet->version << ")\n"
              << "seed " << record.variant.seed;
    if (!sheet->parameters.empty()) std::cout << ": " << describe_variant(*sheet, record.variant);
    std::cout << "   (the same variant again: --seed " << record.variant.seed << ")\n";
    bool asked = false;
    {
        InterruptibleInput input;
        interrupted_by = 0;
        for (size_t i = 0; i < sheet->questions.size(); ++i) {
            const Question& q = sheet->questions[i];
            if (record.predictions.count(q.id)) continue;
            if (!terminal) continue;  // --answers without this one, and no one to ask: unanswered
            if (!asked) std::cout << "\nPredict first: type your answer after each question (\"skip\" to leave one).\n";
            asked = true;
            show_question(*sheet, record.variant, i + 1, q);
            while (true) {
                std::cout << "   your prediction (" << answer_hint(q) << "): " << std::flush;
                auto line = input.line();
                if (!line) {
                    std::cout << "\n";
                    record.status = LabStatus::QuestionsInterrupted;
                    std::string where = dir + "/" + kLabFileName;
                    if (Status written = write_lab_files(dir, record, true); !written) {
                        print_error(output_error(written.error(), user));
                        return kExitFailure;
                    }
                    print_error(std::string(interrupted_by ? "interrupted" : "end of input") +
                                " before the run: nothing was traced. Your " + std::to_string(record.predictions.size()) +
                                " predictions are in " + dir + "/" + kAnswersFileName + " and " + where +
                                "; go on with: cxtrace lab " + options.sheet + " --seed " +
                                std::to_string(record.variant.seed) + " --answers " + dir + "/" + kAnswersFileName);
                    return interrupted_by ? 128 + interrupted_by : kExitUsage;
                }
                std::string text = *line;
                if (text == "skip") break;
                auto prediction = parse_prediction(q, text);
                if (prediction) {
                    record.predictions.emplace(q.id, std::move(*prediction));
                    break;
                }
                std::cout << "   " << prediction.error().what << "\n";
            }
        }
    }
    if (asked) std::cout << "\nNow the run: cxtrace traces it and checks your predictions.\n\n" << std::flush;

    SessionHooks hooks;
    std::string lab_written;
    hooks.before_reports = [&](const RunModel& model, const std::string& out_dir) {
        record.graded = grade_all(*sheet, record.variant, record.predictions, model);
        record.status = model.run.interrupted || model.run.cut_off || model.run.limit ? LabStatus::RunInterrupted
                                                                                  : LabStatus::Graded;
        record.kernel = model.run.kernel;
        record.cpus = model.run.cpus;
        record.started_at = model.run.started_at;
        record.report = "report.json";
        record.run_complete = model.run.complete;
        if (Status written = write_lab_files(out_dir, record, false); !written)
            print_error(output_error(written.error(), user));
        else
            lab_written = out_dir + "/" + kLabFileName;
        ReportExtras extras;
        extras.predictions = report_predictions(record, record.graded);
        return extras;
    };
    hooks.after_reports = [&](const RunModel&, const ReportPaths&) {
        std::cout << graded_text(record, lab_written.empty() ? "(not written)" : lab_written) << std::flush;
    };
    bool traced = false;
    int status = session.run(hooks, &traced);
    if (!traced) {
        record.status = LabStatus::RunFailed;
        record.graded.clear();
        if (Status written = write_lab_files(dir, record, true); written)
            print_error("the run failed: nothing to grade; your predictions are in " + dir + "/" + kLabFileName);
        return status == 0 ? kExitFailure : status;
    }
    if (lab_written.empty()) return kExitFailure;
    return status;
}

}  // namespace cxt
