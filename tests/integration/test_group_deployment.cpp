// Live test of the deployment that needs no sudo, as the Debian package sets
// it up (cmake/debian/postinst): a cxtrace group, and the binary root:<group>
// 0750 holding CAP_BPF and CAP_PERFMON as permitted file capabilities. Done
// here on a copy of the built binary, with a temporary group, and nobody
// (65534) as the student.
#include <catch2/catch.hpp>

#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <sstream>
#include <stdexcept>

#include "live_run.h"

namespace {

using nlohmann::json;

// A system group that exists for the test's lifetime, removed even when a
// check fails (the destructor runs as the test case unwinds).
class TemporaryGroup {
public:
    TemporaryGroup() : name_("cxt-test-" + std::to_string(getpid())) {
        auto added = live::run({"/usr/sbin/groupadd", "--system", name_});
        if (added.status != 0) throw std::runtime_error("groupadd " + name_ + ": " + added.err);
        struct group* entry = getgrnam(name_.c_str());
        if (!entry) {
            live::run({"/usr/sbin/groupdel", name_});
            throw std::runtime_error("groupadd made no group " + name_);
        }
        gid_ = entry->gr_gid;
    }
    ~TemporaryGroup() { live::run({"/usr/sbin/groupdel", name_}); }
    TemporaryGroup(const TemporaryGroup&) = delete;
    TemporaryGroup& operator=(const TemporaryGroup&) = delete;
    const std::string& name() const { return name_; }
    gid_t gid() const { return gid_; }

private:
    std::string name_;
    gid_t gid_ = 0;
};

// "Key:\tvalue" lines of /proc/PID/status, as printed by grep, in order:
// a key seen twice (two processes' status) keeps both values.
std::multimap<std::string, std::string> status_fields(const std::string& text) {
    std::multimap<std::string, std::string> fields;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        auto colon = line.find(":\t");
        if (colon != std::string::npos) fields.emplace(line.substr(0, colon), line.substr(colon + 2));
    }
    return fields;
}

std::string first(const std::multimap<std::string, std::string>& fields, const std::string& key) {
    auto found = fields.find(key);
    return found == fields.end() ? "" : found->second;
}

std::string second(const std::multimap<std::string, std::string>& fields, const std::string& key) {
    auto found = fields.find(key);
    if (found == fields.end() || ++found == fields.end() || found->first != key) return "";
    return found->second;
}

}  // namespace

TEST_CASE("a member of the cxtrace group traces as themselves with the binary's file capabilities",
          "[live][security]") {
    REQUIRE_ROOT();
    for (const char* tool : {"/usr/sbin/setcap", "/usr/sbin/groupadd", "/usr/sbin/groupdel", "/usr/bin/setpriv",
                             "/usr/bin/prlimit"})
        if (!live::file_exists(tool)) {
            WARN(std::string("skipped: ") + tool + " is not installed (scripts/install-deps test installs it)");
            return;
        }
    live::TempDir tmp;
    REQUIRE(chmod(tmp.path().c_str(), 0755) == 0);
    TemporaryGroup group;

    // The installed layout in miniature: the binary, and a workload where
    // a build tree keeps them (beside it in workloads/).
    const std::string built = CXTRACE_BINARY;
    const std::string bin = tmp / "bin";
    const std::string cxtrace = bin + "/cxtrace";
    REQUIRE(mkdir(bin.c_str(), 0755) == 0);
    REQUIRE(mkdir((bin + "/workloads").c_str(), 0755) == 0);
    REQUIRE(live::run({"/bin/cp", built, cxtrace}).status == 0);
    REQUIRE(live::run({"/bin/cp", built.substr(0, built.rfind('/')) + "/workloads/pid-vs-tid",
                       bin + "/workloads/pid-vs-tid"}).status == 0);
    REQUIRE(chown(cxtrace.c_str(), 0, group.gid()) == 0);
    REQUIRE(chmod(cxtrace.c_str(), 0750) == 0);
    // As the postinst does: after chown, which clears file capabilities.
    auto capped = live::run({"/usr/sbin/setcap", "cap_bpf,cap_perfmon=p", cxtrace});
    REQUIRE(capped.status == 0);
    const std::string out = tmp / "out";
    REQUIRE(mkdir(out.c_str(), 0755) == 0);
    REQUIRE(chown(out.c_str(), 65534, 65534) == 0);

    // nobody, with the group as a supplementary one, as after `adduser nobody <group>`.
    // setpriv keeps root's capabilities until it execs, which would pass
    // any permission check on that exec: a shell it starts execs cxtrace,
    // as a user's login shell would.
    auto as_user = [&](const std::string& groups, const std::vector<std::string>& args) {
        std::vector<std::string> argv{"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", groups,
                                      "/bin/sh", "-c", "exec \"$0\" \"$@\"", cxtrace};
        argv.insert(argv.end(), args.begin(), args.end());
        return argv;
    };
    auto as_member = [&](const std::vector<std::string>& args) {
        return as_user("--groups=" + std::to_string(group.gid()), args);
    };

    SECTION("a workload: found beside the binary, traced, its report belongs to the user") {
        // RLIMIT_MEMLOCK at 64 KiB for a 16 MiB ring buffer: the kernel
        // charges BPF memory to the cgroup, so CAP_SYS_RESOURCE is not needed.
        std::vector<std::string> argv{"/usr/bin/prlimit", "--memlock=65536:65536"};
        for (const std::string& arg :
             as_member({"run", "--ring-buffer-size", "16M", "-o", out + "/workload", "pid-vs-tid", "--threads", "1",
                        "--processes", "1"}))
            argv.push_back(arg);
        auto outcome = live::run(argv);
        INFO(outcome.out << outcome.err);
        REQUIRE(outcome.status == 0);
        json report = live::read_json(out + "/workload/report.json");
        CHECK(report.at("run").at("complete") == true);
        CHECK(report.at("summary").at("threads") == 1);
        const json& root = *live::tasks_with_pid(report, report.at("run").at("root_pid").get<long>()).at(0);
        CHECK(root.at("execs").at(0).at("filename") == bin + "/workloads/pid-vs-tid");
        for (const char* file : {"report.json", "report.html", "trace.cxt", "perfetto.pftrace"})
            CHECK(live::owner_uid(out + "/workload/" + file) == 65534);
        CHECK(live::owner_uid(out + "/workload") == 65534);
    }
    SECTION("the traced command holds no capability, and cxtrace gives its own up once attached") {
        // The command prints its own status, then its parent's: cxtrace's.
        auto outcome = live::run(as_member(
            {"run", "-o", out + "/caps", "--", "/bin/sh", "-c",
             "grep -E '^(Uid|Gid|Groups|CapInh|CapPrm|CapEff|CapAmb|NoNewPrivs):' /proc/self/status /proc/$PPID/status "
             "| cut -d: -f2-"}));
        INFO(outcome.out << outcome.err);
        REQUIRE(outcome.status == 0);
        auto fields = status_fields(outcome.out);
        const std::string uid = "65534\t65534\t65534\t65534";
        const std::string none = "0000000000000000";
        // The command: nobody, in the group, without capabilities.
        CHECK(first(fields, "Uid") == uid);
        CHECK(first(fields, "Groups").find(std::to_string(group.gid())) != std::string::npos);
        for (const char* set : {"CapInh", "CapPrm", "CapEff", "CapAmb"}) {
            INFO(set);
            CHECK(first(fields, set) == none);
        }
        // cxtrace, still running while the command does: the same user, and
        // CAP_BPF and CAP_PERFMON gone from every set, for good.
        CHECK(second(fields, "Uid") == uid);
        for (const char* set : {"CapInh", "CapPrm", "CapEff", "CapAmb"}) {
            INFO(set);
            CHECK(second(fields, set) == none);
        }
        CHECK(second(fields, "NoNewPrivs") == "1");
        CHECK(live::owner_uid(out + "/caps/report.json") == 65534);
    }
    SECTION("outside the group the binary cannot even be run") {
        auto outcome = live::run(as_user("--clear-groups", {"--version"}));
        CHECK(outcome.status != 0);
        CHECK(outcome.err.find("Permission denied") != std::string::npos);
        CHECK(outcome.out.empty());
    }
}
