// Live tests of where a run's files go: -o is created as mkdir -p would, and
// two runs' files never share a directory.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <fstream>

#include "live_run.h"

TEST_CASE("-o with missing parent directories creates them, as the invoking user", "[live][output]") {
    REQUIRE_ROOT();
    live::TempDir tmp;
    REQUIRE(chmod(tmp.path().c_str(), 0777) == 0);
    SECTION("under sudo") {
        auto outcome = live::run({"/usr/bin/env", "SUDO_UID=65534", "SUDO_GID=65534", "SUDO_USER=nobody",
                                  CXTRACE_BINARY, "run", "-o", tmp / "a/b/c", "--", "/bin/true"});
        INFO(outcome.err);
        REQUIRE(outcome.status == 0);
        for (const char* dir : {"a", "a/b", "a/b/c", "a/b/c/report.json"}) {
            INFO(dir);
            CHECK(live::owner_uid(tmp / dir) == 65534);
        }
    }
    SECTION("a parent that is a file is refused") {
        std::ofstream(tmp / "file") << "not a directory";
        auto outcome = live::cxtrace({"run", "-o", tmp / "file/out", "--", "/bin/true"});
        CHECK(outcome.status == 1);
        CHECK(outcome.err.find(tmp / "file exists and is not a directory") != std::string::npos);
    }
    SECTION("directories created for a run that then failed are removed again") {
        // Passes the early check (an executable file), fails at exec: its interpreter is missing.
        const std::string script = tmp / "bad-interpreter.sh";
        std::ofstream(script) << "#!/nonexistent/interpreter\n";
        REQUIRE(chmod(script.c_str(), 0755) == 0);
        auto outcome = live::cxtrace({"run", "-o", tmp / "new/out", "--", script});
        CHECK(outcome.status == 127);
        CHECK_FALSE(live::file_exists(tmp / "new"));
    }
}

TEST_CASE("an -o directory that holds another run's files is refused before anything is attached",
          "[live][output]") {
    REQUIRE_ROOT();
    live::TempDir tmp;
    for (const char* name : {"report.json", "trace.cxt"}) {
        INFO(name);
        const std::string dir = tmp / (std::string("holds-") + name);
        REQUIRE(mkdir(dir.c_str(), 0755) == 0);
        std::ofstream(dir + "/" + name) << "an earlier run's";
        // --verbose names the syscall probes as they are loaded: never, here.
        auto outcome = live::cxtrace({"run", "--verbose", "-o", dir, "--", "/bin/echo", "command-ran"});
        CHECK(outcome.status == 1);
        CHECK(outcome.err.find(dir + " already holds a run's files (" + name + ")") != std::string::npos);
        CHECK(outcome.err.find("syscall entry/exit") == std::string::npos);
        CHECK(outcome.out.find("command-ran") == std::string::npos);
        CHECK(live::read_file(dir + "/" + name) == "an earlier run's");
    }

    SECTION("cxtrace report too, but a trace rendered again into its own directory replaces its own reports") {
        auto first = live::cxtrace({"run", "-o", tmp / "first", "--", "/bin/true"});
        REQUIRE(first.status == 0);
        auto second = live::cxtrace({"run", "-o", tmp / "second", "--", "/bin/true"});
        REQUIRE(second.status == 0);
        const std::string second_report = live::read_file(tmp / "second/report.json");
        auto mixed = live::cxtrace({"report", "-o", tmp / "second", tmp / "first/trace.cxt"});
        CHECK(mixed.status == 1);
        CHECK(mixed.err.find("already holds a run's files (trace.cxt, report.json, report.html, perfetto.pftrace)") !=
              std::string::npos);
        CHECK(live::read_file(tmp / "second/report.json") == second_report);
        auto again = live::cxtrace({"report", tmp / "first/trace.cxt"});
        INFO(again.err);
        CHECK(again.status == 0);
        auto again_by_name = live::cxtrace({"report", "-o", tmp / "first/.", tmp / "first/trace.cxt"});
        CHECK(again_by_name.status == 0);
    }
}
