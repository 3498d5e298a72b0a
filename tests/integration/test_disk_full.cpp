// Live tests: the disk fills while cxtrace writes (a tiny tmpfs, mounted in
// a private mount namespace so the machine never sees it). trace.cxt is kept
// whenever it was complete, the error names the file, the exit is non-zero,
// and the command's own exit status is still said.
#include <catch2/catch.hpp>

#include <string>

#include "live_run.h"

using nlohmann::json;

namespace {

// Runs `cxtrace run -o <tmpfs>/out -- command` on a 1 MiB tmpfs with only
// `free_kib` KiB left free, then copies what it wrote to `copy` (outside the
// tmpfs, which goes with the namespace). cxtrace's stdout, stderr and exit
// status are what it gave.
live::Outcome run_on_a_full_disk(const live::TempDir& tmp, int free_kib, const std::string& command,
                                 const std::string& copy) {
    const std::string disk = tmp / "disk";
    const std::string script =
        "mkdir -p '" + disk + "' && mount -t tmpfs -o size=1m,mode=0755 cxtrace-test '" + disk + "' || exit 90; "
        "head -c " + std::to_string(1024 - free_kib) + "K /dev/zero > '" + disk + "/filler' || exit 91; " +
        CXTRACE_BINARY + " run -o '" + disk + "/out' -- /bin/sh -c '" + command + "' >'" + (tmp / "out.txt") +
        "' 2>'" + (tmp / "err.txt") + "'; status=$?; cp -a '" + disk + "/out' '" + copy + "'; exit $status";
    auto ran = live::run({"/usr/bin/unshare", "--mount", "--propagation", "private", "/bin/sh", "-c", script});
    INFO(ran.out << ran.err);
    REQUIRE(ran.status != 90);  // the tmpfs could be mounted
    REQUIRE(ran.status != 91);
    return {ran.status, live::read_file(tmp / "out.txt"), live::read_file(tmp / "err.txt")};
}

}  // namespace

TEST_CASE("the disk fills while the reports are written: trace.cxt is kept whole, the error names the file",
          "[live][faults][disk]") {
    REQUIRE_ROOT();
    live::TempDir tmp;
    // 32 KiB: room for the trace of a command this small, not for report.html.
    const live::Outcome outcome = run_on_a_full_disk(tmp, 32, "exit 7", tmp / "copy");
    INFO(outcome.out << outcome.err);
    CHECK(outcome.status == 1);
    CHECK(outcome.err.find("No space left on device") != std::string::npos);
    // Which report file: the three are written at once, so any may meet the full disk first.
    const std::string out = tmp / "disk/out/";
    CHECK((outcome.err.find(out + "report.html:") != std::string::npos ||
           outcome.err.find(out + "report.json:") != std::string::npos ||
           outcome.err.find(out + "perfetto.pftrace:") != std::string::npos));
    CHECK(outcome.err.find(tmp / "disk/out/trace.cxt is complete: `cxtrace report") != std::string::npos);
    CHECK(outcome.err.find("the command exited with status 7") != std::string::npos);
    for (const char* partial : {"report.html.partial", "report.json.partial", "perfetto.pftrace.partial"})
        CHECK_FALSE(live::file_exists(tmp / (std::string("copy/") + partial)));  // no half-written file left behind
    // The trace is whole: it renders elsewhere, complete, with the command's status.
    REQUIRE(live::file_exists(tmp / "copy/trace.cxt"));
    auto again = live::cxtrace({"report", "-o", tmp / "again", tmp / "copy/trace.cxt"});
    INFO(again.err);
    CHECK(again.status == 0);
    const json run = live::read_json(tmp / "again/report.json").at("run");
    CHECK(run.at("complete") == true);
    CHECK(run.at("exit_code") == 7);
}

TEST_CASE("the disk fills while the trace is written: what fit is kept, the command's status is still said",
          "[live][faults][disk]") {
    REQUIRE_ROOT();
    live::TempDir tmp;
    // 8 KiB: not enough for the events of a hundred execs.
    const live::Outcome outcome =
        run_on_a_full_disk(tmp, 8, "for i in $(seq 100); do /bin/true; done; exit 7", tmp / "copy");
    INFO(outcome.out << outcome.err);
    CHECK(outcome.status == 1);
    const std::string partial = tmp / "disk/out/trace.cxt.partial";
    CHECK(outcome.err.find("cannot write " + partial + ": No space left on device: nothing more is recorded") !=
          std::string::npos);
    CHECK(outcome.err.find("the trace is incomplete: the whole events written before the failure are kept in " +
                           partial) != std::string::npos);
    CHECK(outcome.err.find("the command exited with status 7") != std::string::npos);
    CHECK_FALSE(live::file_exists(tmp / "copy/trace.cxt"));  // never a trace that looks whole but is not
    CHECK_FALSE(live::file_exists(tmp / "copy/report.json"));
    REQUIRE(live::file_exists(tmp / "copy/trace.cxt.partial"));
    auto salvaged = live::cxtrace({"report", "-o", tmp / "salvaged", tmp / "copy/trace.cxt.partial"});
    INFO(salvaged.err);
    CHECK(salvaged.status != 0);
    CHECK(salvaged.err.find("whole events before the cut") != std::string::npos);
    const json run = live::read_json(tmp / "salvaged/report.json").at("run");
    CHECK(run.at("complete") == false);
    CHECK(run.at("events").get<uint64_t>() > 0);
}
