// `cxtrace run`: the traced session (traced_session.h) with nothing around it.
#include <memory>
#include <variant>

#include "commands.h"
#include "stop_signals.h"
#include "traced_session.h"

namespace cxt {

int run_command(const RunOptions& options, const std::optional<InvokingUser>& user) {
    // Read from the start: a Ctrl-C while the run is prepared is answered
    // by the session, saying nothing was traced, rather than leave an empty
    // output directory behind.
    StopSignals early_signals;
    auto prepared = TracedSession::prepare(options, user);
    if (const int* status = std::get_if<int>(&prepared)) return *status;
    const int status = std::get<std::unique_ptr<TracedSession>>(prepared)->run(SessionHooks{});
    // The run's files and its exit status agree; a signal from now on
    // must not make cxtrace die by it instead.
    early_signals.stay_blocked();
    return status;
}

}  // namespace cxt
