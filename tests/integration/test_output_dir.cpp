// Live tests of where a run's files go: -o is created as mkdir -p would.
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
