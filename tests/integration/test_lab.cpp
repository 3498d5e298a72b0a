// Live tests of `cxtrace lab`: every bundled sheet run with --answers, one
// prediction right and the next wrong in turn, so each run checks both
// verdicts, and the sheet's answers hold on this machine; lab.json and the
// page's "Your predictions" (and in headless Chromium); no terminal, end of
// input on a terminal, bad sheets and answers, skipping.
#include <catch2/catch.hpp>

#include <poll.h>
#include <pty.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>

#include "headless_chromium.h"
#include "live_run.h"
#include "sheet.h"

using nlohmann::json;

namespace {

const std::string kSheets = CXTRACE_LAB_SHEETS;
constexpr uint64_t kSeed = 4242;

using Params = std::map<std::string, int64_t>;
// Per question id: the right prediction and a wrong one, from the parameters.
// A right prediction "~": the answer depends on how busy the machine is (CPU
// time ratios: on a loaded VM a thread's loop runs slower than a process's
// did a moment before; first-run waits: during a build a new thread waited
// 3.9 ms for a CPU), so the second value is predicted and its verdict
// checked against the answer the run measured.
using Answers = std::map<std::string, std::pair<std::string, std::string>>;
using AnswerFn = std::function<Answers(const Params&)>;

std::string n(int64_t value) { return std::to_string(value); }

const std::map<std::string, AnswerFn>& expected_answers() {
    static const std::map<std::string, AnswerFn> answers = {
        {"process-vs-thread",
         [](const Params& p) {
             // "": no right answer known before the run (it varies): always predicted wrong.
             return Answers{{"thread-cost", {"~", "b"}},
                            {"ratio", {"", "1000"}},
                            {"spaces", {n(p.at("count") + 1), n(2 * p.at("count") + 1)}},
                            {"getpids", {n(p.at("count") + 1), "1"}}};
         }},
        {"creation-methods",
         [](const Params& p) {
             return Answers{{"clone-vm-process", {"b", "a"}},
                            {"vfork-memory", {"a", "b"}},
                            {"spaces", {n(5 * p.at("count") + 1), n(7 * p.at("count") + 1)}},
                            {"threads", {n(p.at("count")), n(2 * p.at("count"))}}};
         }},
        {"shared-globals",
         [](const Params&) {
             return Answers{{"child-shares", {"b", "a"}}, {"thread-shares", {"a", "b"}}, {"spaces", {"2", "1"}}};
         }},
        {"pid-vs-tid",
         [](const Params& p) {
             return Answers{{"thread-getpid", {"a", "b"}},
                            {"thread-getppid", {"b", "a"}},
                            {"leader", {"b", "a"}},
                            {"getpids", {n(p.at("processes") + 1), n(p.at("processes") + p.at("threads") + 1)}}};
         }},
        {"worker-pool",
         [](const Params& p) {
             return Answers{{"kernel-tasks", {n(2 * p.at("workers") + 1), n(2 * p.at("jobs") + 1)}},
                            {"processes", {n(p.at("workers") + 1), n(2 * p.at("workers") + 1)}},
                            {"thread-memory", {"a", "b"}},
                            {"busy", {"a", "c"}}};
         }},
        {"ipc-queue",
         [](const Params&) {
             return Answers{{"spaces", {"3", "1"}}, {"reader-end", {"b", "a"}}, {"reader-asleep", {"a", "c"}},
                            {"processes", {"3", "2"}}};
         }},
        {"io-bound",
         [](const Params& p) {
             return Answers{{"threads-time", {n(p.at("ms") * 11 / 10), n(p.at("downloads") * p.at("ms") * 2)}},
                            {"ranking", {"a c b", "c b a"}},
                            {"oncpu", {"a", "c"}},
                            {"threads", {n(p.at("downloads")), n(p.at("downloads") * 2 + 1)}}};
         }},
        {"cpu-bound",
         [](const Params&) {
             const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
             return Answers{{"threads-cpu", {"~", "b"}},
                            {"locked-parallel", {"a", "b"}},
                            {"lock-cpu", {"~", "b"}},
                            {"cpus", {n(cpus), n(cpus + 1)}}};
         }},
        {"lost-update",
         [](const Params& p) {
             return Answers{{"spaces", {"1", n(p.at("threads") + 1)}},
                            {"threads", {n(p.at("threads")), n(2 * p.at("threads"))}},
                            {"group", {"a", "b"}},
                            {"processes", {"1", n(2 * p.at("threads") + 1)}}};
         }},
        {"ping-pong",
         [](const Params&) {
             return Answers{{"spaces", {"3", "1"}}, {"processes-share", {"b", "a"}}, {"threads-share", {"a", "b"}},
                            {"tasks", {"5", "3"}}};
         }},
        {"python-threads-vs-processes",
         [](const Params& p) {
             return Answers{{"threads-parallel", {"a", "b"}},
                            {"processes-cpu", {"~", "b"}},
                            {"threads", {n(p.at("workers")), "0"}},
                            {"spaces", {n(p.at("workers") + 1), "1"}}};
         }},
        {"python-pool",
         [](const Params& p) {
             return Answers{{"processes", {n(p.at("workers") + 1), n(p.at("jobs") + 1)}},
                            {"threads", {"3", "0"}},
                            {"worker-memory", {"b", "a"}}};
         }},
    };
    return answers;
}

struct TerminalSession {
    int status = -1;
    std::string screen;  // everything cxtrace wrote to the terminal
};

// cxtrace with `args` on a pseudo-terminal of its own, as a student runs it
// (it asks its questions only on a terminal). Each time a new prediction
// prompt is on the screen, the next of `typed` is typed.
TerminalSession on_terminal(const std::vector<std::string>& args, const std::vector<std::string>& typed) {
    int master = -1, slave = -1;
    REQUIRE(openpty(&master, &slave, nullptr, nullptr, nullptr) == 0);
    std::vector<std::string> words = {CXTRACE_BINARY};
    words.insert(words.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& word : words) argv.push_back(word.data());
    argv.push_back(nullptr);
    const pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        setsid();
        ioctl(slave, TIOCSCTTY, 0);
        for (int fd = 0; fd < 3; ++fd) dup2(slave, fd);
        close(master);
        close(slave);
        execv(argv[0], argv.data());
        _exit(127);
    }
    close(slave);
    TerminalSession session;
    size_t sent = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (std::chrono::steady_clock::now() < deadline) {
        pollfd pfd{master, POLLIN, 0};
        if (poll(&pfd, 1, 1000) <= 0) continue;
        char buf[4096];
        const ssize_t got = read(master, buf, sizeof buf);
        if (got <= 0) break;  // EIO: cxtrace and its children closed the terminal
        session.screen.append(buf, static_cast<size_t>(got));
        size_t prompts = 0;
        for (size_t at = session.screen.find("your prediction ("); at != std::string::npos;
             at = session.screen.find("your prediction (", at + 1))
            ++prompts;
        if (sent < typed.size() && prompts > sent) {
            REQUIRE(write(master, typed[sent].data(), typed[sent].size()) == static_cast<ssize_t>(typed[sent].size()));
            ++sent;
        }
    }
    close(master);
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    session.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return session;
}

}  // namespace

TEST_CASE("cxtrace lab: end of input while the questions are asked keeps what was answered, traces nothing, exits 2",
          "[live][lab]") {
    REQUIRE_ROOT();
    live::TempDir dir;
    // The first question answered, then Ctrl-D (end of input) at the second.
    const TerminalSession session =
        on_terminal({"lab", "process-vs-thread", "--seed", "7", "-o", dir / "out"}, {"b\n", "\x04"});
    INFO(session.screen);
    CHECK(session.status == 2);
    CHECK(session.screen.find("end of input before the run: nothing was traced. Your 1 predictions are in " +
                              dir / "out/answers.txt") != std::string::npos);
    CHECK(session.screen.find("go on with: cxtrace lab process-vs-thread --seed 7 --answers " + dir / "out/answers.txt") !=
          std::string::npos);
    const json lab = live::read_json(dir / "out/lab.json");
    CHECK(lab.at("status") == "questions-interrupted");
    CHECK(lab.at("report").is_null());
    CHECK(lab.at("questions").at(0).at("prediction") == "b");
    CHECK(lab.at("questions").at(1).at("prediction").is_null());
    CHECK(live::read_file(dir / "out/answers.txt").find("thread-cost = \"b\"\n") != std::string::npos);
    CHECK_FALSE(live::file_exists(dir / "out/trace.cxt"));
    CHECK_FALSE(live::file_exists(dir / "out/report.json"));
}

TEST_CASE("cxtrace lab: Ctrl-C while the questions are asked keeps what was answered, traces nothing, exits 130",
          "[live][lab]") {
    REQUIRE_ROOT();
    live::TempDir dir;
    // Two questions answered, then Ctrl-C (the terminal's SIGINT) at the third.
    const TerminalSession session =
        on_terminal({"lab", "process-vs-thread", "--seed", "7", "-o", dir / "out"}, {"b\n", "9\n", "\x03"});
    INFO(session.screen);
    CHECK(session.status == 128 + SIGINT);
    CHECK(session.screen.find("interrupted before the run: nothing was traced. Your 2 predictions are in " +
                              dir / "out/answers.txt") != std::string::npos);
    const json lab = live::read_json(dir / "out/lab.json");
    CHECK(lab.at("status") == "questions-interrupted");
    CHECK(lab.at("questions").at(0).at("prediction") == "b");
    CHECK(lab.at("questions").at(1).at("prediction") == "9");
    CHECK(lab.at("questions").at(2).at("prediction").is_null());
    const std::string answers = live::read_file(dir / "out/answers.txt");
    CHECK(answers.find("thread-cost = \"b\"\n") != std::string::npos);
    CHECK(answers.find("ratio = \"9\"\n") != std::string::npos);
    CHECK_FALSE(live::file_exists(dir / "out/trace.cxt"));
}

TEST_CASE("cxtrace lab: report.html opens with \"Your predictions\" in headless Chromium, without a console error",
          "[live][lab][html]") {
    REQUIRE_ROOT();
    REQUIRE_CHROMIUM(chromium);
    live::TempDir dir;
    std::ofstream(dir / "answers.txt") << "thread-cost = b\nratio = 1000\nspaces = 3\n";
    const live::Outcome outcome = live::cxtrace({"lab", "process-vs-thread", "--answers", dir / "answers.txt", "--seed",
                                                 "11", "--student", "<script>alert(1)</script>", "-o", dir / "out"});
    INFO(outcome.out << outcome.err);
    REQUIRE(outcome.status == 0);
    const std::string shots = std::string(CXTRACE_ARTIFACTS) + "/lab";
    std::error_code error;
    std::filesystem::create_directories(shots, error);
    const live::PageLoad load = live::load_page(chromium, dir / "out/report.html", shots + "/predictions.png", dir / "profile");
    INFO("console:\n" << load.console_text());
    REQUIRE(load.status == 0);
    CHECK(load.console.empty());
    // The section comes first, holds a row per question, and the name stays text.
    const size_t section = load.dom.find("<section id=\"predictions\"");
    REQUIRE(section != std::string::npos);
    CHECK(section < load.dom.find("<section id=\"findings\""));
    const std::string predictions = load.dom.substr(section, load.dom.find("</section>", section) - section);
    CHECK(predictions.find("Your predictions") != std::string::npos);
    CHECK(predictions.find("&lt;script&gt;alert(1)&lt;/script&gt;") != std::string::npos);
    size_t rows = 0;
    for (size_t at = predictions.find("<tr class=\"verdict-"); at != std::string::npos;
         at = predictions.find("<tr class=\"verdict-", at + 1))
        ++rows;
    CHECK(rows == 4);
    CHECK(predictions.find("verdict-unanswered") != std::string::npos);  // getpids was not in the file
    CHECK(load.dom.find("<script>alert(1)") == std::string::npos);
    WARN("the lab's report.html: " << shots << "/predictions.png");
}

TEST_CASE("cxtrace lab: every bundled sheet's answers hold, right and wrong predictions get their verdicts",
          "[live][lab]") {
    REQUIRE_ROOT();
    for (const auto& [sheet_name, answers_for] : expected_answers()) {
        DYNAMIC_SECTION(sheet_name) {
            auto sheet = cxt::lab::load_sheet(kSheets + "/" + sheet_name + ".toml");
            REQUIRE(sheet);
            if (!sheet->workload.needs.empty() && access(sheet->workload.needs.front().c_str(), X_OK) != 0) {
                WARN("skipped: " << sheet_name << " needs python3");
                continue;
            }
            const cxt::lab::Variant variant = cxt::lab::choose_variant(*sheet, kSeed);
            const Answers answers = answers_for(variant.values);
            REQUIRE(answers.size() == sheet->questions.size());
            live::TempDir dir;
            // Right, wrong, right, ... in the sheet's order; each verdict checked.
            std::map<std::string, std::string> expected_verdict;
            std::ofstream file(dir / "answers.txt");
            for (size_t i = 0; i < sheet->questions.size(); ++i) {
                const std::string& id = sheet->questions[i].id;
                const std::string& right_answer = answers.at(id).first;
                const bool load_dependent = right_answer == "~";
                const bool right = i % 2 == 0 && !right_answer.empty() && !load_dependent;
                file << id << " = \"" << (right ? right_answer : answers.at(id).second) << "\"\n";
                expected_verdict[id] = load_dependent ? "" : right ? "right" : "wrong";
            }
            file.close();
            auto outcome = live::cxtrace({"lab", sheet_name, "--answers", dir / "answers.txt", "--seed",
                                          std::to_string(kSeed), "--student", "<i>ada</i>", "-o", dir / "out"});
            INFO(outcome.out << outcome.err);
            REQUIRE(outcome.status == 0);
            const json lab = live::read_json(dir / "out/lab.json");
            CHECK(lab.at("schema") == "cxtrace.lab-result/1");
            CHECK(lab.at("sheet").at("name") == sheet_name);
            CHECK(lab.at("sheet").at("version") == sheet->version);
            CHECK(lab.at("seed") == kSeed);
            CHECK(lab.at("student") == "<i>ada</i>");
            CHECK(lab.at("status") == "graded");
            CHECK(lab.at("report") == "report.json");
            CHECK(lab.at("machine").at("cpus") == sysconf(_SC_NPROCESSORS_ONLN));
            for (const auto& [name, value] : variant.values) CHECK(lab.at("parameters").at(name) == value);
            for (const json& q : lab.at("questions")) {
                INFO(sheet_name << " " << q.dump());
                const std::string expected = expected_verdict.at(q.at("id"));
                if (expected.empty()) {  // "~": right exactly when the measured answer is the predicted choice
                    const std::string answer = q.at("answer");
                    CHECK(q.at("verdict") == (answer.substr(0, 1) == q.at("prediction") ? "right" : "wrong"));
                } else {
                    CHECK(q.at("verdict") == expected);
                }
                CHECK_FALSE(q.at("explanation").get<std::string>().empty());
                CHECK(q.at("explanation").get<std::string>().find('{') == std::string::npos);
            }
            CHECK(live::file_exists(dir / "out/report.json"));
            const std::string page = live::read_file(dir / "out/report.html");
            CHECK(page.find("Your predictions") != std::string::npos);
            CHECK(page.find("&lt;i&gt;ada&lt;/i&gt;") != std::string::npos);
            CHECK(outcome.out.find("Your predictions") != std::string::npos);
        }
    }
}

TEST_CASE("cxtrace lab: no terminal and no --answers, bad sheets and answers stop before anything runs",
          "[live][lab]") {
    live::TempDir dir;
    SECTION("no terminal") {
        auto outcome = live::run({"/bin/sh", "-c", "exec \"$0\" lab shared-globals -o \"$1\" </dev/null",
                                  CXTRACE_BINARY, dir / "out"});
        CHECK(outcome.status == 2);
        CHECK(outcome.err.find("--answers") != std::string::npos);
        CHECK_FALSE(live::file_exists(dir / "out"));
    }
    SECTION("a malformed sheet: file, line and field") {
        std::ofstream(dir / "bad.toml") << "format = \"cxtrace.lab/1\"\nversion = \"1\"\ntitle = \"t\"\n"
                                           "[workload]\nname = \"shared-globals\"\n[[question]]\nid = \"q\"\n"
                                           "kind = \"number\"\nprompt = \"p\"\nmetric = \"nope\"\nexplanation = \"e\"\n";
        auto outcome = live::cxtrace({"lab", dir / "bad.toml", "--answers", "/dev/null", "-o", dir / "out"});
        CHECK(outcome.status == 2);
        CHECK(outcome.err.find(dir / "bad.toml:10:10: question[1] (q).metric: unknown metric 'nope'") !=
              std::string::npos);
        CHECK_FALSE(live::file_exists(dir / "out"));
    }
    SECTION("an answers file naming no question of the sheet") {
        std::ofstream(dir / "answers.txt") << "spaces = 2\nnope = 1\n";
        auto outcome = live::cxtrace({"lab", "shared-globals", "--answers", dir / "answers.txt", "-o", dir / "out"});
        CHECK(outcome.status == 2);
        CHECK(outcome.err.find(dir / "answers.txt:2: nope") != std::string::npos);
        CHECK_FALSE(live::file_exists(dir / "out"));
    }
    SECTION("an unknown sheet") {
        auto outcome = live::cxtrace({"lab", "no-such-sheet", "--answers", "/dev/null"});
        CHECK(outcome.status == 2);
        CHECK(outcome.err.find("bundled sheets: ") != std::string::npos);
    }
    SECTION("a sheet needing a program that is not installed is skipped") {
        std::ofstream(dir / "needs.toml") << "format = \"cxtrace.lab/1\"\nversion = \"1\"\ntitle = \"t\"\n"
                                             "[workload]\ncommand = [\"no-such-interpreter-x\"]\n"
                                             "needs = [\"no-such-interpreter-x\"]\n[[question]]\nid = \"q\"\n"
                                             "kind = \"number\"\nprompt = \"p\"\nmetric = \"tasks\"\n"
                                             "tolerance = { absolute = 0 }\nexplanation = \"e\"\n";
        auto outcome = live::cxtrace({"lab", dir / "needs.toml", "--answers", "/dev/null", "-o", dir / "out"});
        CHECK(outcome.status == 1);
        CHECK(outcome.err.find("skipped: the lab sheet needs needs no-such-interpreter-x, which is not installed here") !=
              std::string::npos);
    }
    SECTION("the list of sheets") {
        auto outcome = live::cxtrace({"lab"});
        CHECK(outcome.status == 0);
        for (const auto& [name, unused] : expected_answers()) CHECK(outcome.out.find(name + " ") != std::string::npos);
    }
}
