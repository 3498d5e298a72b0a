// `cxtrace run`: the traced session (traced_session.h) with nothing around it.
#include <memory>
#include <variant>

#include "commands.h"
#include "traced_session.h"

namespace cxt {

int run_command(const RunOptions& options, const std::optional<InvokingUser>& user) {
    auto prepared = TracedSession::prepare(options, user);
    if (const int* status = std::get_if<int>(&prepared)) return *status;
    return std::get<std::unique_ptr<TracedSession>>(prepared)->run(SessionHooks{});
}

}  // namespace cxt
