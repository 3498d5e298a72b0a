// --capture-output: what the command printed, kept (first and last 64 KiB
// of each stream), stored in trace.cxt's end record, and shown in
// report.json, report.html (escaped) and the terminal summary.
#include <catch2/catch.hpp>

#include <cstring>
#include <functional>

#include "captured_output.h"
#include "event_builder.h"
#include "html_report.h"
#include "json_report.h"
#include "text_summary.h"

using namespace cxt;
using namespace cxt::test;
using Catch::Matchers::Contains;
using nlohmann::json;

namespace {

// n bytes of every value, in a pattern that does not repeat every 64 KiB.
std::string pattern_bytes(size_t n) {
    std::string bytes(n, '\0');
    for (size_t i = 0; i < n; ++i) bytes[i] = static_cast<char>((i * 31 + i / 251) & 0xff);
    return bytes;
}

CapturedStream keep(const std::string& bytes, size_t chunk) {
    OutputKeeper keeper;
    for (size_t at = 0; at < bytes.size(); at += chunk) keeper.append(std::string_view(bytes).substr(at, chunk));
    return keeper.take();
}

const std::string kHostile = "<script>alert(1)</script> & \"quoted\" \xE2\x80\xAE" "evil\xE2\x80\xAC\n";

// The family story's run, with what it printed.
RunModel model_with_output(const CapturedOutput& output) {
    TraceEnd end = test_end(at(1 * kMs));
    end.output = output;
    return family_story(ExecSpec{}, "worker").correlate(end);
}

// Byte offset of the end record in a trace file.
size_t end_record_offset(const std::vector<uint8_t>& bytes) {
    uint32_t meta_len, len;
    std::memcpy(&meta_len, bytes.data() + 16, 4);
    size_t offset = 20 + meta_len, last = offset;
    while (offset < bytes.size()) {
        last = offset;
        std::memcpy(&len, bytes.data() + offset + 4, 4);
        offset += 8 + len;
    }
    return last;
}

// The trace at path with its end record's JSON changed by `edit`.
void edit_end_record(const std::string& path, const std::function<void(json&)>& edit) {
    std::vector<uint8_t> bytes = read_bytes(path);
    const size_t at_end = end_record_offset(bytes);
    json end = json::parse(bytes.begin() + at_end + 8, bytes.end());
    edit(end);
    const std::string text = end.dump();
    const uint32_t len = static_cast<uint32_t>(text.size());
    bytes.resize(at_end + 8);  // the record's type stays
    std::memcpy(bytes.data() + at_end + 4, &len, 4);
    bytes.insert(bytes.end(), text.begin(), text.end());
    write_bytes(path, bytes);
}

}  // namespace

TEST_CASE("the output keeper keeps the first and last 64 KiB and counts the cut", "[output]") {
    const size_t total = GENERATE(size_t{0}, size_t{10}, kOutputKeptBytes, 2 * kOutputKeptBytes,
                                  2 * kOutputKeptBytes + 1, 300'000, 1'000'000);
    const size_t chunk = GENERATE(size_t{1}, size_t{4096}, size_t{65536}, size_t{200'000});
    if (chunk == 1 && total > 300'000) return;  // slow and adds nothing
    const std::string bytes = pattern_bytes(total);
    const CapturedStream kept = keep(bytes, chunk);
    INFO("total " << total << ", written " << chunk << " bytes at a time");
    CHECK(kept.total_bytes == total);
    const size_t head = std::min(total, kOutputKeptBytes);
    CHECK(kept.head == bytes.substr(0, head));
    const size_t tail_from = std::max(head, total > kOutputKeptBytes ? total - kOutputKeptBytes : 0);
    CHECK(kept.tail == bytes.substr(tail_from));
    CHECK(kept.cut_bytes() == (total > 2 * kOutputKeptBytes ? total - 2 * kOutputKeptBytes : 0));
}

TEST_CASE("captured output is stored in trace.cxt's end record, byte for byte", "[output][trace]") {
    TempDir dir;
    const std::string path = dir.file("run.cxt");
    TraceEnd end = test_end(at(1 * kMs));
    CapturedOutput output;
    output.out = keep(pattern_bytes(300'000), 4096);  // every byte value, cut
    output.err = keep(kHostile, 64);
    end.output = output;
    write_trace(path, test_meta(), family_story(ExecSpec{}, "worker").records(), end);

    ReadOutcome read = read_trace(path);
    REQUIRE(read.ok);
    REQUIRE(read.end.output);
    CHECK(read.end.output->out.head == output.out.head);
    CHECK(read.end.output->out.tail == output.out.tail);
    CHECK(read.end.output->out.total_bytes == 300'000);
    CHECK(read.end.output->err.head == kHostile);
    CHECK(read.end.output->err.tail.empty());
    auto model = correlate_trace_file(path);
    REQUIRE(model.ok());
    REQUIRE(model->run.output);
    CHECK(model->run.output->out.cut_bytes() == 300'000 - 2 * kOutputKeptBytes);

    SECTION("a trace without it (older, or no --capture-output) has none") {
        write_trace(dir.file("plain.cxt"), test_meta(), family_story(ExecSpec{}, "worker").records(),
                    test_end(at(1 * kMs)));
        ReadOutcome plain = read_trace(dir.file("plain.cxt"));
        REQUIRE(plain.ok);
        CHECK_FALSE(plain.end.output);
        auto plain_model = correlate_trace_file(dir.file("plain.cxt"));
        REQUIRE(plain_model.ok());
        CHECK(report_json(*plain_model).at("run").at("output").is_null());
    }
    SECTION("stored by a newer cxtrace: refused, saying so") {
        edit_end_record(path, [](json& j) { j["output"]["format"] = 2; });
        ReadOutcome newer = read_trace(path);
        CHECK_FALSE(newer.ok);
        CHECK_THAT(newer.error, Contains("newer cxtrace") && Contains("captured output"));
    }
    SECTION("damaged: refused as damage") {
        const auto damage = GENERATE(table<std::string, json>({
            {"head", "not base64!"},
            {"head", "QUJD="},       // a length that is no multiple of 4
            {"tail", "=QUJD"},       // padding first
            {"bytes", 3},            // less than what was kept
            {"bytes", -1},
        }));
        const auto& [key, value] = damage;
        edit_end_record(path, [&damage](json& j) { j["output"]["stderr"][std::get<0>(damage)] = std::get<1>(damage); });
        ReadOutcome damaged = read_trace(path);
        INFO(key << " = " << value.dump());
        CHECK_FALSE(damaged.ok);
        CHECK_THAT(damaged.error, Contains("damaged end record"));
    }
}

TEST_CASE("report.json and the terminal summary carry what the command printed", "[output][report]") {
    CapturedOutput output;
    output.out = keep(pattern_bytes(200'000), 1000);
    output.err = keep("warning: low fuel\n", 5);
    const RunModel model = model_with_output(output);
    const json report = report_json(model);
    const json& out = report.at("run").at("output").at("stdout");
    CHECK(out.at("bytes") == 200'000);
    CHECK(out.at("cut_bytes") == 200'000 - 2 * kOutputKeptBytes);
    CHECK(out.at("head").is_string());  // bytes that are not UTF-8 are replaced, the text stays valid JSON
    const json& err = report.at("run").at("output").at("stderr");
    CHECK(err.at("head") == "warning: low fuel\n");
    CHECK(err.at("tail") == "");
    CHECK(err.at("cut_bytes") == 0);
    CHECK_THAT(render_text_summary(model), Contains("output kept for the report: stdout 200000 bytes (" +
                                                    std::to_string(200'000 - 2 * kOutputKeptBytes) +
                                                    " cut from the middle), stderr 18 bytes"));
    CHECK(report_json(model_with_output(CapturedOutput{})).at("run").at("output").at("stdout").at("bytes") == 0);
    CHECK(report_json(family_story(ExecSpec{}, "worker").correlate(test_end(at(1 * kMs))))
              .at("run").at("output").is_null());
}

TEST_CASE("report.html shows what the command printed, escaped, beside the findings", "[output][html]") {
    CapturedOutput output;
    output.out = keep(std::string("line one\n") + kHostile + std::string(200'000, 'x') + "\nlast line\n", 4096);
    output.err = keep("", 1);
    const RunModel model = model_with_output(output);
    const std::string page = render_html_report(model);

    const size_t findings = page.find("<section id=\"findings\">");
    const size_t section = page.find("<section id=\"output\">");
    REQUIRE(findings != std::string::npos);
    REQUIRE(section != std::string::npos);
    CHECK(section > findings);
    CHECK(section < page.find("<main"));
    CHECK(page.find("<summary>stdout: " + std::to_string(output.out.total_bytes) + " bytes</summary>") !=
          std::string::npos);
    CHECK(page.find("<pre>line one\n&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quoted&quot; "
                    "<span class=\"ctl\">U+202E</span>evil<span class=\"ctl\">U+202C</span>\n") != std::string::npos);
    CHECK(page.find("last line\n</pre>") != std::string::npos);
    CHECK(page.find("... " + std::to_string(output.out.cut_bytes()) + " bytes cut here") != std::string::npos);
    CHECK(page.find("<summary>stderr: 0 bytes</summary><p class=\"note\">nothing</p>") != std::string::npos);
    // Nowhere raw: not the markup, not the override (which would reverse what follows it).
    CHECK(page.find("<script>alert") == std::string::npos);
    CHECK(page.find("\xE2\x80\xAE") == std::string::npos);
    // Shown once: the page's embedded data leaves it out.
    CHECK(page.find("line one", section + 1) == page.rfind("line one"));

    SECTION("without --capture-output there is no such section") {
        const RunModel plain = family_story(ExecSpec{}, "worker").correlate(test_end(at(1 * kMs)));
        CHECK(render_html_report(plain).find("id=\"output\"") == std::string::npos);
    }
}
