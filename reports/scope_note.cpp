#include "scope_note.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <vector>

#include "text_summary.h"

namespace cxt {

namespace {

constexpr size_t kNamesShown = 5;

std::string plural(uint64_t n, const char* one, const char* many) {
    return std::to_string(n) + " " + (n == 1 ? one : many);
}

// "3 readlink, 2 dirname, 1 bash": the commonest names first.
std::string names_by_count(const std::map<std::string, uint64_t>& comms) {
    std::vector<std::pair<std::string, uint64_t>> ranked(comms.begin(), comms.end());
    std::stable_sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    std::string text;
    for (size_t i = 0; i < ranked.size() && i < kNamesShown; ++i)
        text += (i ? ", " : "") + std::to_string(ranked[i].second) + " " + ranked[i].first;
    if (ranked.size() > kNamesShown) text += ", ...";
    return text;
}

std::string hint_sentence(const LauncherHint& hint) {
    return "Before it exec'd " + hint.program + ", the command ran " +
           plural(hint.tasks_before, "other task", "other tasks") + " (" + names_by_count(hint.comms) +
           "): they are counted in every figure of this report. If they were a launcher's (a wrapper script, a "
           "version-manager shim), leave them out with: cxtrace report " + from_exec_option(hint.program) +
           " trace.cxt (or cxtrace run " + from_exec_option(hint.program) + " ...).";
}

}  // namespace

std::string from_exec_option(const std::string& name) {
    const bool plain = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-' || c == '+' || c == '/';
    });
    if (plain) return "--from-exec " + name;
    std::string quoted = "'";
    for (char c : name) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return "--from-exec " + quoted + "'";
}

std::optional<std::string> scope_note(const RunModel& model) {
    const Lesson& lesson = model.run.lesson;
    if (lesson.matched) {
        const TaskRecord& first = model.tasks[lesson.task];
        std::string text = "The figures cover the lesson: from the exec of " + lesson.from_exec + " by task " +
                           std::to_string(first.pid) + " at " + format_duration_ns(lesson.start_ns) +
                           " on: that task and its descendants created since (" +
                           from_exec_option(lesson.from_exec) + ").";
        if (lesson.launcher_tasks == 0) return text + " No other task ran.";
        std::map<std::string, uint64_t> comms;
        for (const TaskRecord& task : model.tasks)
            if (task.launcher) ++comms[task.comm];
        return text + " " + plural(lesson.launcher_tasks, "task", "tasks") + " of the launcher (" +
               names_by_count(comms) + (lesson.launcher_tasks == 1 ? ") is" : ") are") +
               " listed, marked as the launcher's, but left out of the figures.";
    }
    std::string text;
    if (!lesson.from_exec.empty())
        text = "No exec of " + lesson.from_exec + " was seen (" + from_exec_option(lesson.from_exec) +
               "): the figures cover the whole run.";
    if (model.run.launcher_hint) text += (text.empty() ? "" : " ") + hint_sentence(*model.run.launcher_hint);
    if (text.empty()) return std::nullopt;
    return text;
}

}  // namespace cxt
