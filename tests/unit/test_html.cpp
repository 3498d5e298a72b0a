// report.html, server side: one self-contained document with the header
// facts, the findings and the run's data embedded as JSON that cannot break
// out of its <script> element. No browser here (tests/integration/test_html.cpp
// loads real reports in Chromium).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "correlator.h"
#include "event_builder.h"
#include "findings.h"
#include "html_report.h"
#include "json_report.h"
#include "text_summary.h"

using namespace cxt;
using namespace cxt::test;
using nlohmann::json;

namespace {



const std::string kDataOpen = "<script type=\"application/json\" id=\"cxtrace-data\">";
// The one XML namespace name the page script needs for createElementNS: an
// identifier, never fetched.
const std::string kSvgNamespace = "http://www.w3.org/2000/svg";

// Root 100 execs, creates thread 101 (runs on cpu 1, exits), process 102
// (runs on cpu 1, killed by SIGKILL) and process 103 (never runs).
StreamBuilder small_stream() {
    ExecSpec spec;
    spec.comm = "prog";
    spec.filename = "/usr/bin/prog";
    spec.argv = {"prog", "-n", "2"};
    return family_story(spec, "worker");
}

TraceEnd small_end() {
    TraceEnd end = test_end(at(1 * kMs));
    end.exit_code = 0;
    return end;
}

RunModel small_model(const TraceEnd& end = small_end()) { return small_stream().correlate(end); }

RunModel recorded_model() {
    auto result = correlate_trace_file(CXTRACE_TEST_DATA "/process-vs-thread-n5.cxt");
    INFO((result ? std::string("ok") : result.error().message()));
    REQUIRE(result.ok());
    return result.value();
}

size_t count(const std::string& hay, const std::string& needle) {
    size_t n = 0;
    for (size_t at = hay.find(needle); at != std::string::npos; at = hay.find(needle, at + needle.size())) ++n;
    return n;
}

std::string lower(std::string text) {
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
}

// The text between the first `open` and the next `close` after it ("" and a
// failed check when either is missing).
std::string between(const std::string& hay, const std::string& open, const std::string& close) {
    size_t a = hay.find(open);
    INFO("looking for " << open);
    REQUIRE(a != std::string::npos);
    a += open.size();
    size_t b = hay.find(close, a);
    INFO("looking for " << close << " after " << open);
    REQUIRE(b != std::string::npos);
    return hay.substr(a, b - a);
}

// Byte offset of the first invalid UTF-8 sequence, or npos.
size_t invalid_utf8_at(const std::string& s) {
    size_t i = 0;
    while (i < s.size()) {
        const unsigned char c = static_cast<unsigned char>(s[i]);
        size_t len;
        uint32_t cp;
        if (c < 0x80) {
            ++i;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            cp = c & 0x07;
        } else {
            return i;
        }
        if (i + len > s.size()) return i;
        for (size_t k = 1; k < len; ++k) {
            const unsigned char cc = static_cast<unsigned char>(s[i + k]);
            if ((cc & 0xC0) != 0x80) return i;
            cp = (cp << 6) | (cc & 0x3F);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return i;
        i += len;
    }
    return std::string::npos;
}

// The embedded data block, parsed.
json embedded_data(const std::string& page) {
    REQUIRE(count(page, "id=\"cxtrace-data\"") == 1);
    const std::string text = between(page, kDataOpen, "</script>");
    json data;
    try {
        data = json::parse(text);
    } catch (const json::exception& e) {
        FAIL("the #cxtrace-data block is not JSON: " << e.what() << "\n" << text.substr(0, 2000));
    }
    return data;
}

// The page without the contents of <style> and <script> elements: what an
// HTML parser reads as markup and text.
std::string markup_only(const std::string& page) {
    std::string out;
    size_t from = 0;
    while (true) {
        const size_t style = page.find("<style>", from), script = page.find("<script", from);
        const size_t open = std::min(style, script);
        if (open == std::string::npos) break;
        const size_t body = page.find('>', open) + 1;
        const std::string close = open == style ? "</style>" : "</script>";
        const size_t end = page.find(close, body);
        REQUIRE(end != std::string::npos);
        out += page.substr(from, body - from);
        from = end;
    }
    return out + page.substr(from);
}

// Every tag in markup (from '<' + letter to '>'), lower-cased.
std::vector<std::string> tags_of(const std::string& markup) {
    std::vector<std::string> tags;
    for (size_t at = markup.find('<'); at != std::string::npos; at = markup.find('<', at + 1)) {
        if (at + 1 >= markup.size() || !std::isalpha(static_cast<unsigned char>(markup[at + 1]))) continue;
        const size_t end = markup.find('>', at);
        if (end == std::string::npos) break;
        tags.push_back(lower(markup.substr(at, end - at + 1)));
    }
    return tags;
}

// Nothing in the page may be fetched: no URL but the SVG namespace name in
// the script, no external resources, a CSP that forbids any.
void check_self_contained(const std::string& page) {
    const std::string low = lower(page);
    for (const std::string scheme : {"http://", "https://", "ftp://", "ws://", "wss://", "file:"}) {
        for (size_t at = low.find(scheme); at != std::string::npos; at = low.find(scheme, at + 1)) {
            const bool svg_ns = low.compare(at, kSvgNamespace.size(), kSvgNamespace) == 0;
            INFO("URL at byte " << at << ": " << page.substr(at, 80));
            CHECK(svg_ns);
        }
    }
    // The namespace name appears only inside the page script.
    const size_t script_at = page.rfind("<script>");
    REQUIRE(script_at != std::string::npos);
    if (page.find(kSvgNamespace) != std::string::npos) CHECK(page.find(kSvgNamespace) > script_at);
    // Markup: only these elements, no attribute that loads anything.
    const std::set<std::string> allowed = {"html", "head", "meta", "title", "style", "body", "header", "h1", "span",
                                           "div", "strong", "dl", "dt", "dd", "section", "h2", "ul", "li", "main",
                                           "noscript", "script", "p", "h3", "table", "thead", "tbody", "tr",
                                           "th", "td"};
    for (const std::string& tag : tags_of(markup_only(page))) {
        INFO("tag " << tag);
        const std::string name = tag.substr(1, tag.find_first_of(" >") - 1);
        CHECK(allowed.count(name) == 1);
        for (const std::string attr : {" src=", " href=", " srcset=", " action=", " poster=", " data=", " on"})
            CHECK(tag.find(attr) == std::string::npos);
    }
    // Style and script: nothing that fetches.
    const std::string code = lower(between(page, "<style>", "</style>") + page.substr(script_at));
    for (const std::string fetcher : {"@import", "url(", "fetch(", "xmlhttprequest", "import(", "worker(", "eventsource",
                                      "websocket", "sendbeacon", "<link", "<img", "<iframe", ".src", "location"}) {
        INFO(fetcher);
        CHECK(count(code, fetcher) == 0);
    }
    REQUIRE(count(page, "http-equiv=\"Content-Security-Policy\"") == 1);
    const std::string csp = between(page, "http-equiv=\"Content-Security-Policy\" content=\"", "\"");
    CHECK(csp.find("default-src 'none'") != std::string::npos);
    CHECK(csp.find("connect-src") == std::string::npos);  // default-src 'none' covers it; nothing may widen it
    CHECK(csp.find("*") == std::string::npos);
    CHECK(csp.find("http") == std::string::npos);
    // The CSP comes before anything it must govern.
    CHECK(page.find("Content-Security-Policy") < page.find("<style>"));
    CHECK(page.find("Content-Security-Policy") < page.find("<script"));
    const size_t bad = invalid_utf8_at(page);
    INFO("invalid UTF-8 at byte " << bad << ": "
                                  << (bad == std::string::npos ? std::string() : page.substr(bad > 40 ? bad - 40 : 0, 80)));
    CHECK(bad == std::string::npos);
}

// The page's server-side landmarks, each once and in this order.
void check_structure(const std::string& page, bool incomplete) {
    const std::vector<std::string> landmarks = {
        "<!DOCTYPE html>\n",
        "<html lang=\"en\">",
        "<head>",
        "<meta charset=\"utf-8\">",
        "<meta http-equiv=\"Content-Security-Policy\"",
        "<title>cxtrace: ",
        "</title>",
        "<style>",
        "</style>",
        "</head>",
        "<body>",
        "<header>",
        "<h1>",
        "</h1>",
        "<dl class=\"facts\">",
        "</dl>",
        "<section id=\"findings\">",
        "<ul>",
        "</ul>",
        "</section>",
        "</header>",
        "<main id=\"app\">",
        "</main>",
        kDataOpen,
        "</script>",
        "<script>",
        "</script>",
        "</body>",
        "</html>\n",
    };
    size_t from = 0;
    for (const std::string& mark : landmarks) {
        const size_t at = page.find(mark, from);
        INFO("landmark " << mark << " after byte " << from);
        REQUIRE(at != std::string::npos);
        from = at + mark.size();
    }
    CHECK(page.rfind("<!DOCTYPE html>\n", 0) == 0);
    CHECK(from == page.size());  // nothing after </html>
    for (const std::string single : {"<html", "<head>", "</head>", "<title>", "</title>", "<style>", "</style>", "<body",
                                     "</body>", "<header>", "<h1", "</h1>", "<dl class=\"facts\">", "id=\"findings\"",
                                     "<main", "</main>", "id=\"app\"", "id=\"cxtrace-data\"", "</html>"}) {
        INFO(single);
        CHECK(count(page, single) == 1);
    }
    CHECK(count(page, "<script") == 2);
    CHECK(count(page, "</script>") == 2);
    CHECK(count(page, "<!--") == 0);
    // The app is empty but for the no-script note: the page script fills it.
    const std::string app = between(page, "<main id=\"app\">", "</main>");
    CHECK(app.find("<noscript>") == 0);
    // The page script draws the four sections and says when it is done.
    const std::string script = page.substr(page.rfind("<script>"));
    CHECK(script.find("getElementById(\"cxtrace-data\")") != std::string::npos);
    CHECK(script.find("data-rendered") != std::string::npos);
    for (const std::string id : {"\"latency\"", "\"tree\"", "\"ids\"", "\"placement\"", "\"task-table\"", "\"timeline\"",
                                 "\"parallelism\"", "\"residency\""})
        CHECK(script.find(id) != std::string::npos);

    INFO("incomplete run: " << incomplete);
    CHECK(count(page, "id=\"incomplete\"") == (incomplete ? 1u : 0u));
    if (incomplete) {
        const size_t warning = page.find("id=\"incomplete\"");
        CHECK(warning > page.find("</h1>"));
        CHECK(warning < page.find("<dl class=\"facts\">"));
    }
}

// The data block holds what the page script reads, consistent with the model.
void check_data(const json& data, const RunModel& model) {
    for (const char* key : {"run", "summary", "tasks", "anomalies", "timeline", "parallelism_series"}) {
        INFO(key);
        CHECK(data.contains(key));
    }
    REQUIRE(data.at("tasks").is_array());
    REQUIRE(data.at("tasks").size() == model.tasks.size());
    for (size_t i = 0; i < model.tasks.size(); ++i) {
        const json& t = data.at("tasks")[i];
        INFO("task " << i);
        CHECK(t.at("pid") == model.tasks[i].pid);
        CHECK(t.at("tgid") == model.tasks[i].tgid);
        CHECK(t.at("index") == i);
        const int64_t parent = t.at("parent_index").get<int64_t>();
        CHECK(parent >= -1);
        CHECK(parent < static_cast<int64_t>(i));  // creators come first
        if (parent >= 0) CHECK(model.tasks[static_cast<size_t>(parent)].pid == model.tasks[i].parent_pid);
        for (const char* key : {"comm", "kind", "mm", "execs", "latency_ns", "cpus", "oncpu_ns", "migrations"}) {
            INFO(key);
            CHECK(t.contains(key));
        }
    }
    CHECK(data.at("run").at("duration_ns") == model.run.duration_ns);
    CHECK(data.at("run").at("cpus") == model.run.cpus);
    CHECK(data.at("summary").contains("what_this_shows"));
    CHECK(data.at("summary").contains("parallelism_ns"));
    CHECK(data.at("summary").contains("max_parallelism"));

    const json& series = data.at("parallelism_series");
    REQUIRE(series.at("avg").is_array());
    REQUIRE(series.at("max").is_array());
    CHECK(series.at("avg").size() == series.at("max").size());
    CHECK(!series.at("avg").empty());
    CHECK(series.at("bin_ns").get<double>() > 0);
}

// The timeline in "intervals" mode: flat [task, cpu, start, duration] by
// start, exactly the model's intervals.
void check_interval_timeline(const json& data, const RunModel& model) {
    const json& timeline = data.at("timeline");
    REQUIRE(timeline.at("mode") == "intervals");
    const json& flat = timeline.at("intervals");
    REQUIRE(flat.size() == 4 * model.intervals.size());
    std::multiset<std::tuple<uint64_t, uint64_t, uint64_t, uint64_t>> expected, embedded;
    for (const OnCpuInterval& iv : model.intervals) expected.emplace(iv.task, iv.cpu, iv.start_ns, iv.end_ns - iv.start_ns);
    uint64_t previous_start = 0;
    for (size_t i = 0; i + 3 < flat.size(); i += 4) {
        embedded.emplace(flat[i].get<uint64_t>(), flat[i + 1].get<uint64_t>(), flat[i + 2].get<uint64_t>(),
                         flat[i + 3].get<uint64_t>());
        CHECK(flat[i].get<uint64_t>() < model.tasks.size());
        CHECK(flat[i + 2].get<uint64_t>() >= previous_start);
        previous_start = flat[i + 2].get<uint64_t>();
    }
    CHECK(embedded == expected);
}

// The header facts, escaped, in this order.
void check_facts(const std::string& page, const RunModel& model) {
    const RunInfo& run = model.run;
    std::string command;
    for (const std::string& arg : run.command) command += (command.empty() ? "" : " ") + arg;
    const std::string facts = between(page, "<dl class=\"facts\">", "</dl>");
    const std::vector<std::pair<std::string, std::string>> expected = {
        {"command", html_escape(command)},
        {"started", html_escape(run.started_at)},
        {"kernel", html_escape(run.kernel)},
        {"CPUs", std::to_string(run.cpus)},
        {"duration", html_escape(format_duration_ns(run.duration_ns))},
        {"events", std::to_string(run.events)},
        {"lost events", std::to_string(run.lost_events)},
    };
    size_t from = 0;
    for (const auto& [name, value] : expected) {
        const std::string item = "<dt>" + name + "</dt><dd>" + value + "</dd>";
        INFO("fact " << item);
        const size_t at = facts.find(item, from);
        CHECK(at != std::string::npos);
        if (at != std::string::npos) from = at + item.size();
    }
    std::string exit = "unknown";
    if (run.exit_signal) exit = "killed by signal " + std::to_string(*run.exit_signal);
    else if (run.exit_code) exit = "status " + std::to_string(*run.exit_code);
    CHECK(facts.find("<dt>exit</dt><dd>" + exit + "</dd>") != std::string::npos);
    CHECK(count(facts, "<dt>") == 8);
    CHECK(count(facts, "<dd>") == 8);
    CHECK(count(facts, "</dd>") == 8);
    const std::string title = run.workload.empty() ? command : run.workload;
    CHECK(page.find("<title>cxtrace: " + html_escape(title) + "</title>") != std::string::npos);
    CHECK(between(page, "<h1>", "</h1>").find(html_escape(title)) != std::string::npos);
}

// Every finding, escaped, in order, and nothing else: in the findings list,
// but those on waiting, shown in "Where did the time go?" with the states.
void check_findings(const std::string& page, const RunModel& model) {
    const bool time_section = page.find("<section id=\"time\">") != std::string::npos;
    for (const bool waiting : {false, true}) {
        if (waiting && !time_section) continue;
        std::vector<Finding> expected;
        for (const Finding& finding : findings(model))
            if ((time_section && finding.topic == "waiting") == waiting) expected.push_back(finding);
        const std::string list = waiting ? between(between(page, "<section id=\"time\">", "</section>"), "<ul>", "</ul>")
                                         : between(between(page, "<section id=\"findings\">", "</section>"), "<ul>", "</ul>");
        INFO((waiting ? "the time section's sentences" : "the findings list"));
        CHECK(count(list, "<li>") == expected.size());
        CHECK(count(list, "</li>") == expected.size());
        size_t from = 0;
        for (const Finding& finding : expected) {
            const std::string item = "<li>" + html_escape(finding.text) + "</li>";
            INFO("finding " << item);
            const size_t at = list.find(item, from);
            CHECK(at != std::string::npos);
            if (at != std::string::npos) from = at + item.size();
        }
    }
}

void check_page(const std::string& page, const RunModel& model) {
    check_self_contained(page);
    check_structure(page, !model.run.complete);
    check_facts(page, model);
    check_findings(page, model);
    const json data = embedded_data(page);
    check_data(data, model);
}

// What a string becomes after a trip through report JSON: itself when valid
// UTF-8, invalid sequences replaced otherwise.
std::string through_json(const std::string& s) {
    return json::parse(json(s).dump(-1, ' ', false, json::error_handler_t::replace)).get<std::string>();
}

}  // namespace

TEST_CASE("html_escape escapes markup, quotes and control characters", "[html]") {
    CHECK(html_escape("") == "");
    CHECK(html_escape("plain text 123") == "plain text 123");
    CHECK(html_escape("&") == "&amp;");
    CHECK(html_escape("<") == "&lt;");
    CHECK(html_escape(">") == "&gt;");
    CHECK(html_escape("\"") == "&quot;");
    CHECK(html_escape("'") == "&#39;");
    CHECK(html_escape("</script>") == "&lt;/script&gt;");
    CHECK(html_escape("<!--") == "&lt;!--");
    CHECK(html_escape("&amp;") == "&amp;amp;");  // escaped text is escaped again, never trusted
    CHECK(html_escape("<img src=x onerror=alert(1)>") == "&lt;img src=x onerror=alert(1)&gt;");
    CHECK(html_escape("a=\"1\" b='2'") == "a=&quot;1&quot; b=&#39;2&#39;");
    // Newline and tab stay; other control characters become U+FFFD.
    CHECK(html_escape("a\nb\tc") == "a\nb\tc");
    CHECK(html_escape(std::string("a\x01" "b\x1b[31m\x00z", 10)) == "a\xEF\xBF\xBD" "b\xEF\xBF\xBD[31m\xEF\xBF\xBDz");
    // Valid UTF-8 passes through.
    CHECK(html_escape("caf\xC3\xA9 \xE2\x9C\x93 \xF0\x9F\x98\x80") == "caf\xC3\xA9 \xE2\x9C\x93 \xF0\x9F\x98\x80");
    CHECK(html_escape("\xE2\x80\xA8") == "\xE2\x80\xA8");
    // A bidirectional control would show the rest of a command line reversed
    // (a file named "txt.exe" looks like "exe.txt"): it is shown by its code.
    CHECK(html_escape("run \xE2\x80\xAEtxt.exe") == "run [U+202E]txt.exe");
    CHECK(html_escape("\xE2\x81\xA6x\xE2\x81\xA9 \xE2\x80\x8F \xD8\x9C") == "[U+2066]x[U+2069] [U+200F] [U+061C]");
    CHECK(html_escape("\xE2\x80\x94") == "\xE2\x80\x94");  // an em dash is not a control

    SECTION("nothing that could open or close markup survives") {
        const std::string hostile = "</script><img src=x onerror=alert(1)>\"'&<!--";
        const std::string out = html_escape(hostile);
        for (char c : {'<', '>', '"', '\''}) CHECK(out.find(c) == std::string::npos);
        // Every '&' starts one of the five entities.
        for (size_t at = out.find('&'); at != std::string::npos; at = out.find('&', at + 1)) {
            const std::string rest = out.substr(at, 6);
            CHECK((rest.rfind("&amp;", 0) == 0 || rest.rfind("&lt;", 0) == 0 || rest.rfind("&gt;", 0) == 0 ||
                   rest.rfind("&quot;", 0) == 0 || rest.rfind("&#39;", 0) == 0));
        }
    }
}

TEST_CASE("script_safe_json keeps JSON valid and cannot end the script element", "[html]") {
    CHECK(script_safe_json("{}") == "{}");
    CHECK(script_safe_json("[1,2.5,null,true]") == "[1,2.5,null,true]");
    CHECK(script_safe_json("\"</script>\"") == "\"\\u003c/script\\u003e\"");
    CHECK(script_safe_json("\"<!--\"") == "\"\\u003c!--\"");
    CHECK(script_safe_json("\"-->\"") == "\"--\\u003e\"");
    CHECK(script_safe_json("\"a&b\"") == "\"a\\u0026b\"");
    CHECK(script_safe_json("\"\\\"q\\\"\"") == "\"\\\"q\\\"\"");  // escaped quotes stay as they are
    CHECK(script_safe_json("\"'\"") == "\"'\"");
    CHECK(script_safe_json("\"\xE2\x80\xA8\"") == "\"\\u2028\"");
    CHECK(script_safe_json("\"\xE2\x80\xA9\"") == "\"\\u2029\"");
    // Neighbours of U+2028 in UTF-8 are left alone, and a cut sequence is safe.
    CHECK(script_safe_json("\"\xE2\x80\xA6\"") == "\"\xE2\x80\xA6\"");  // U+2026 …
    CHECK(script_safe_json("\"\xE2\x80") == "\"\xE2\x80");
    CHECK(script_safe_json("\xE2") == "\xE2");
    // Control characters are already \u escapes in JSON text; they stay so.
    CHECK(script_safe_json("\"\\u0001\\n\"") == "\"\\u0001\\n\"");

    SECTION("round trip: the escaped text parses back to the same strings") {
        const std::vector<std::string> strings = {
            "</script><script>alert(1)</script>",
            "<!--<script>",
            "</SCRIPT >",
            "a & b && c &amp;",
            "\"quoted\" 'single'",
            "line\xE2\x80\xA8sep\xE2\x80\xA9para",
            std::string("ctl\x01\x02\x1f\x7f\n\t", 10),
            "caf\xC3\xA9 \xF0\x9F\x98\x80",
            "\\back\\slash\\",
        };
        json doc = {{"list", strings}, {"</script>", "key"}, {"nested", {{"x<y", strings}}}};
        const std::string safe = script_safe_json(doc.dump());
        CHECK(safe.find('<') == std::string::npos);
        CHECK(safe.find('>') == std::string::npos);
        CHECK(safe.find('&') == std::string::npos);
        CHECK(safe.find("\xE2\x80\xA8") == std::string::npos);
        CHECK(safe.find("\xE2\x80\xA9") == std::string::npos);
        CHECK(lower(safe).find("</script") == std::string::npos);
        json back;
        REQUIRE_NOTHROW(back = json::parse(safe));
        CHECK(back == doc);
        CHECK(back.at("list").get<std::vector<std::string>>() == strings);
        // Also with pretty printing (newlines and indentation outside strings).
        CHECK(json::parse(script_safe_json(doc.dump(2))) == doc);
    }
}

TEST_CASE("report.html on a synthetic run: self-contained, facts, findings, data", "[html]") {
    const RunModel model = small_model();
    REQUIRE(model.run.complete);
    REQUIRE(model.tasks.size() == 4);
    REQUIRE(!model.intervals.empty());
    const std::string page = render_html_report(model);
    check_page(page, model);
    const json data = embedded_data(page);
    check_interval_timeline(data, model);
    CHECK(data.at("run").at("workload") == "unit-test");
    CHECK(data.at("tasks")[0].at("kind") == "root");
    CHECK(data.at("tasks")[0].at("parent_index") == -1);
    CHECK(data.at("tasks")[1].at("parent_index") == 0);  // the thread, created by the root
    CHECK(data.at("tasks")[2].at("parent_index") == 0);
    // The killed task is a finding, and the exit fact names the status.
    bool killed_finding = false;
    for (const Finding& f : findings(model)) killed_finding |= f.text.find("victim") != std::string::npos;
    CHECK(killed_finding);
    CHECK(page.find("<dt>exit</dt><dd>status 0</dd>") != std::string::npos);
    CHECK(page.find("<dt>kernel</dt><dd>6.1.0-test</dd>") != std::string::npos);
    CHECK(page.find("<dt>CPUs</dt><dd>4</dd>") != std::string::npos);
    CHECK(page.find("<dt>started</dt><dd>2024-01-02T03:04:05Z</dd>") != std::string::npos);
    CHECK(page.find("<dt>command</dt><dd>unit-test -n 2</dd>") != std::string::npos);
    CHECK(page.find("<title>cxtrace: unit-test</title>") != std::string::npos);

    SECTION("rendering is deterministic") { CHECK(render_html_report(model) == page); }
    SECTION("exit by signal") {
        TraceEnd end = small_end();
        end.exit_code = std::nullopt;
        end.exit_signal = 9;
        const RunModel killed = small_model(end);
        const std::string killed_page = render_html_report(killed);
        check_page(killed_page, killed);
        CHECK(killed_page.find("<dt>exit</dt><dd>killed by signal 9</dd>") != std::string::npos);
    }
    SECTION("a command rather than a bundled workload: the title is the command line") {
        TraceMeta meta = test_meta();
        meta.workload = "";
        meta.command = {"/usr/bin/python3", "demo.py", "--x=1"};
        const RunModel command_run = small_stream().correlate(small_end(), meta);
        const std::string command_page = render_html_report(command_run);
        check_page(command_page, command_run);
        CHECK(command_page.find("<title>cxtrace: /usr/bin/python3 demo.py --x=1</title>") != std::string::npos);
    }
}

TEST_CASE("report.html on the recorded process-vs-thread trace", "[html]") {
    const RunModel model = recorded_model();
    REQUIRE(model.tasks.size() == 11);  // root + 5 processes + 5 threads
    const std::string page = render_html_report(model);
    check_page(page, model);
    const json data = embedded_data(page);
    check_interval_timeline(data, model);
    CHECK(data.at("run").at("workload") == "process-vs-thread");
    CHECK(data.at("timeline").at("intervals").size() > 0);
    size_t processes = 0, threads = 0;
    for (const json& t : data.at("tasks")) {
        processes += t.at("kind") == "process";
        threads += t.at("kind") == "thread";
        if (t.at("kind") != "root") CHECK(t.at("parent_index") == 0);  // all created by the root
    }
    CHECK(processes == 5);
    CHECK(threads == 5);
    CHECK(page.find("<title>cxtrace: process-vs-thread</title>") != std::string::npos);
    CHECK(page.size() < 512 * 1024);
}

TEST_CASE("a run a limit stopped says so at the top of the page, in a sentence true of it", "[html]") {
    TraceEnd end = small_end();
    end.limit = TraceLimit{TraceLimitKind::MaxTraceSize, 64u << 20};
    const RunModel model = small_model(end);
    const std::string page = render_html_report(model);
    check_page(page, model);
    REQUIRE(count(page, "id=\"incomplete\"") == 1u);
    const std::string warning = between(page, "id=\"incomplete\">", "</div>");
    CHECK(warning.find("Tracing stopped at the trace size limit (--max-trace-size 64 MiB), " +
                       format_duration_ns(model.run.duration_ns) +
                       " into the run: what the command did after that is not in this report.") != std::string::npos);
    CHECK(warning.find("interrupted") == std::string::npos);
    CHECK(embedded_data(page).at("run").at("limit_reached").at("bytes") == 64u << 20);
}

TEST_CASE("the incomplete warning appears exactly when events were lost or the run was interrupted", "[html]") {
    struct Case {
        const char* name;
        uint64_t lost;
        bool interrupted;
    };
    const Case cases[] = {{"complete", 0, false}, {"lost", 5, false}, {"interrupted", 0, true}, {"both", 7, true}};
    for (const Case& c : cases) {
        INFO("case " << c.name);
        TraceEnd end = small_end();
        end.lost_by_kind[static_cast<size_t>(EventKind::Switch)] = c.lost;
        end.interrupted = c.interrupted;
        const RunModel model = small_model(end);
        const bool incomplete = c.lost > 0 || c.interrupted;
        REQUIRE(model.run.lost_events == c.lost);
        REQUIRE(model.run.interrupted == c.interrupted);
        const std::string page = render_html_report(model);
        check_page(page, model);
        CHECK(count(page, "id=\"incomplete\"") == (incomplete ? 1u : 0u));
        CHECK(page.find("<dt>lost events</dt><dd>" + std::to_string(c.lost) + "</dd>") != std::string::npos);
        if (!incomplete) continue;
        const std::string warning = between(page, "id=\"incomplete\">", "</div>");
        CHECK(warning.find("incomplete") != std::string::npos);
        CHECK((warning.find(std::to_string(c.lost) + " events were lost") != std::string::npos) == (c.lost > 0));
        CHECK((warning.find("interrupted") != std::string::npos) == c.interrupted);
        CHECK(embedded_data(page).at("run").at("complete") == false);
    }
}

TEST_CASE("hostile names from the workload reach the page only escaped", "[html]") {
    const std::string script_img = "</script><img src=x onerror=alert(1)>";
    const std::string comment = "<!--<script>alert(2)</script>-->";
    const std::string quotes = "\"'&amp;&lt;\" onmouseover=\"alert(3)";
    const std::string breakout = "]]></title></dd></li></ul></section><script>alert(4)</script>";
    const std::string separators = "a\xE2\x80\xA8" "b\xE2\x80\xA9" "c";
    const std::string invalid = "bad\xFF\xFE</script>\xC3\x28<b>";
    const std::string control = std::string("ctl\x01\x1b[31m\x7f", 9);
    const std::vector<std::string> hostile = {script_img, comment, quotes, breakout, separators, invalid, control};

    RunModel model = small_model();
    REQUIRE(model.tasks.size() == 4);
    REQUIRE(model.tasks[0].execs.size() == 1);
    // Where the kernel hands over strings: comm, exec filename and argv, and
    // the command line the user typed.
    model.tasks[0].comm = script_img.substr(0, 15);
    model.tasks[0].execs[0].filename = "/tmp/" + script_img + quotes;
    model.tasks[0].execs[0].argv = hostile;
    model.tasks[1].comm = quotes;
    model.tasks[2].comm = script_img;  // the killed one: its comm is in the findings
    model.tasks[3].comm = invalid;
    model.run.workload = "";  // the title is the command line
    model.run.command = {"/bin/sh", "-c", script_img, comment, quotes, breakout, separators, control};
    REQUIRE(model.tasks[2].exit_signal == 9);

    const std::string page = render_html_report(model);
    check_page(page, model);

    SECTION("no hostile string appears raw") {
        const std::string low = lower(page);
        CHECK(count(low, "<img") == 0);
        CHECK(count(low, "<b>") == 0);
        CHECK(count(low, "onmouseover=\"") == 0);
        CHECK(count(low, "alert(2)</script>") == 0);
        CHECK(count(low, "alert(4)</script>") == 0);
        CHECK(count(low, "</title>") == 1);
        // The findings, and where the time went (with its own sentences) when the states are known.
        const bool time_section = page.find("<section id=\"time\">") != std::string::npos;
        const auto all = findings(model);
        const bool waiting = std::any_of(all.begin(), all.end(), [](const Finding& f) { return f.topic == "waiting"; });
        CHECK(count(low, "</section>") == (time_section ? 2u : 1u));
        CHECK(count(low, "</ul>") == (time_section && waiting ? 2u : 1u));
        CHECK(count(low, "</dd>") == 8);
        CHECK(count(low, "</li>") == findings(model).size());
        for (const std::string& s : hostile) {
            if (s.find_first_of("<>&\"'") == std::string::npos) continue;  // U+2028 may stand in HTML text
            INFO("hostile string " << s);
            CHECK(page.find(s) == std::string::npos);
        }
        CHECK(page.find(script_img.substr(0, 15)) == std::string::npos);
    }
    SECTION("server-side text carries the escaped forms") {
        std::string command;
        for (const std::string& arg : model.run.command) command += (command.empty() ? "" : " ") + arg;
        CHECK(page.find("<dt>command</dt><dd>" + html_escape(command) + "</dd>") != std::string::npos);
        CHECK(page.find("<title>cxtrace: " + html_escape(command) + "</title>") != std::string::npos);
        CHECK(page.find("&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;") != std::string::npos);
        CHECK(page.find("&quot;&#39;&amp;amp;&amp;lt;&quot; onmouseover=&quot;alert(3)") != std::string::npos);
        // The killed task's hostile comm, in the findings.
        const std::string list = between(page, "<section id=\"findings\">", "</section>");
        CHECK(list.find("(" + html_escape(script_img) + ")") != std::string::npos);
    }
    SECTION("the embedded JSON parses back to the original strings") {
        const std::string block = between(page, kDataOpen, "</script>");
        for (char c : {'<', '>', '&'}) CHECK(block.find(c) == std::string::npos);
        CHECK(block.find("\xE2\x80\xA8") == std::string::npos);
        CHECK(block.find("\xE2\x80\xA9") == std::string::npos);
        CHECK(invalid_utf8_at(block) == std::string::npos);
        const json data = embedded_data(page);
        const json& root = data.at("tasks")[0];
        CHECK(root.at("comm") == script_img.substr(0, 15));
        CHECK(root.at("execs")[0].at("filename") == "/tmp/" + script_img + quotes);
        REQUIRE(root.at("execs")[0].at("argv").size() == hostile.size());
        for (size_t i = 0; i < hostile.size(); ++i) {
            INFO("argv[" << i << "]");
            const std::string back = root.at("execs")[0].at("argv")[i].get<std::string>();
            CHECK(back == through_json(hostile[i]));
            if (invalid_utf8_at(hostile[i]) == std::string::npos) CHECK(back == hostile[i]);
        }
        CHECK(data.at("tasks")[1].at("comm") == quotes);
        CHECK(data.at("tasks")[2].at("comm") == script_img);
        const std::string replaced = data.at("tasks")[3].at("comm").get<std::string>();
        CHECK(replaced == through_json(invalid));
        CHECK(replaced.find("</script>") != std::string::npos);  // the valid part survives as text
        CHECK(data.at("run").at("command") == json(model.run.command));
    }
}

TEST_CASE("invalid UTF-8 in the command line does not reach the page raw", "[html]") {
    RunModel model = small_model();
    model.run.workload = "";
    model.run.command = {"/tmp/bad\xFF\xFEname", "arg\xC3\x28", "\xE2\x82"};
    const std::string page = render_html_report(model);
    const size_t bad = invalid_utf8_at(page);
    INFO("invalid UTF-8 at byte " << bad << ": "
                                  << (bad == std::string::npos ? std::string() : page.substr(bad > 40 ? bad - 40 : 0, 80)));
    CHECK(bad == std::string::npos);
    const json data = embedded_data(page);
    CHECK(data.at("run").at("command")[0] == through_json(model.run.command[0]));
}

TEST_CASE("a run with more intervals than kHtmlMaxIntervals embeds per-CPU bins and stays small", "[html]") {
    constexpr uint32_t kCpus = 4;
    constexpr size_t kTasks = 64;
    constexpr size_t kIntervals = 200'000;
    static_assert(kIntervals > kHtmlMaxIntervals, "the test must exceed the limit");
    constexpr uint64_t kDuration = 2'000'000'000;                   // 2 s
    constexpr uint64_t kSlot = kDuration / (kIntervals / kCpus);    // 40 us per interval slot on each CPU
    constexpr uint64_t kRun = kSlot * 3 / 4;                        // 30 us on CPU in each slot

    RunModel model;
    model.run.workload = "many-intervals";
    model.run.command = {"many-intervals"};
    model.run.started_at = "2024-01-02T03:04:05Z";
    model.run.cpus = kCpus;
    model.run.kernel = "6.1.0-test";
    model.run.duration_ns = kDuration;
    model.run.events = kIntervals * 2;
    model.run.exit_code = 0;
    model.run.root_pid = 1000;
    for (size_t t = 0; t < kTasks; ++t) {
        TaskRecord task;
        task.pid = 1000 + static_cast<uint32_t>(t);
        task.tgid = 1000;
        task.ppid = t == 0 ? 999 : 1000;
        task.parent_pid = t == 0 ? 999 : 1000;
        task.comm = "worker-" + std::to_string(t);
        task.kind = t == 0 ? TaskKind::Root : TaskKind::Thread;
        task.mm = 1;
        task.created_ns = t * 1000;
        model.tasks.push_back(task);
    }
    model.intervals.reserve(kIntervals);
    for (size_t i = 0; i < kIntervals; ++i) {
        OnCpuInterval iv;
        iv.cpu = static_cast<uint32_t>(i % kCpus);
        iv.task = static_cast<uint32_t>((i * 7) % kTasks);
        iv.start_ns = (i / kCpus) * kSlot;
        iv.end_ns = iv.start_ns + kRun;
        model.intervals.push_back(iv);
        TaskRecord& task = model.tasks[iv.task];
        task.oncpu_ns += kRun;
        task.cpu_ns[iv.cpu] += kRun;
        ++task.switches_in;
    }
    model.summary.tasks = kTasks;
    model.summary.processes = 1;
    model.summary.threads = kTasks - 1;
    model.summary.address_spaces = 1;
    model.summary.max_parallelism = kCpus;
    model.summary.parallelism_ns[kCpus] = kDuration * 3 / 4;
    model.summary.parallelism_ns[0] = kDuration / 4;
    model.summary.context_switches = kIntervals;

    const std::string page = render_html_report(model);
    INFO("page size " << page.size() << " bytes");
    CHECK(page.size() < 5 * 1024 * 1024);
    check_page(page, model);

    const json data = embedded_data(page);
    const json& timeline = data.at("timeline");
    REQUIRE(timeline.at("mode") == "bins");
    CHECK(!timeline.contains("intervals"));
    CHECK(timeline.at("intervals_total") == kIntervals);
    const json& binned = timeline.at("binned");
    REQUIRE(binned.at("bins") == kHtmlTimelineBins);
    const double bin_ns = binned.at("bin_ns").get<double>();
    CHECK(bin_ns == Approx(static_cast<double>(kDuration) / kHtmlTimelineBins));
    REQUIRE(binned.at("lanes").size() == kCpus);
    double busy_ns = 0;
    for (size_t cpu = 0; cpu < kCpus; ++cpu) {
        INFO("cpu " << cpu);
        const json& lane = binned.at("lanes")[cpu];
        REQUIRE(lane.at("task").size() == kHtmlTimelineBins);
        REQUIRE(lane.at("permille").size() == kHtmlTimelineBins);
        size_t out_of_range = 0, idle = 0;
        for (size_t b = 0; b < kHtmlTimelineBins; ++b) {
            const int64_t task = lane.at("task")[b].get<int64_t>();
            const int64_t permille = lane.at("permille")[b].get<int64_t>();
            idle += task < 0;
            // Each bin holds 12.5 slots of 40 us, 30 us busy each: 72..78%.
            out_of_range += task >= static_cast<int64_t>(kTasks) || permille < 700 || permille > 800;
            busy_ns += permille * bin_ns / 1000;
        }
        CHECK(idle == 0);
        CHECK(out_of_range == 0);
    }
    CHECK(busy_ns == Approx(static_cast<double>(kIntervals * kRun)).epsilon(0.01));
    // A lane per task: 64 tasks ran, few enough for the finest lanes. Its
    // digits bound the task's on-CPU time: digit d means more than (d-1)/9
    // of the bin and at most d/9 of it.
    const json& task_lanes = timeline.at("task_lanes");
    REQUIRE(task_lanes.at("bins") == kHtmlMaxTaskLaneBins);
    const double lane_bin_ns = task_lanes.at("bin_ns").get<double>();
    CHECK(lane_bin_ns == Approx(static_cast<double>(kDuration) / kHtmlMaxTaskLaneBins));
    CHECK(task_lanes.at("tasks_covered") == kTasks);
    const json& flat = task_lanes.at("lanes");
    REQUIRE(flat.size() == 3 * kTasks);
    for (size_t i = 0; i < flat.size(); i += 3) {
        const size_t task = flat[i].get<size_t>();
        INFO("lane of task " << task);
        CHECK(task == i / 3);  // in creation order
        uint64_t first_start = UINT64_MAX, last_end = 0;
        for (const OnCpuInterval& iv : model.intervals)
            if (iv.task == task) first_start = std::min(first_start, iv.start_ns), last_end = std::max(last_end, iv.end_ns);
        CHECK(flat[i + 1] == static_cast<uint64_t>(first_start / lane_bin_ns));
        const std::string digits = flat[i + 2].get<std::string>();
        CHECK(digits.size() == static_cast<uint64_t>(last_end / lane_bin_ns) - static_cast<uint64_t>(first_start / lane_bin_ns) + 1);
        double at_least = 0, at_most = 0;
        for (char d : digits) {
            REQUIRE((d >= '0' && d <= '9'));
            if (d > '0') at_least += (d - '1') / 9.0 * lane_bin_ns, at_most += (d - '0') / 9.0 * lane_bin_ns;
        }
        const double oncpu = static_cast<double>(model.tasks[task].oncpu_ns);
        CHECK(at_least <= oncpu);
        CHECK(oncpu <= at_most + 1000);  // each piece rounded down to whole ns
    }
    // The parallelism series sees the same: four tasks on CPU 3/4 of the time.
    const json& series = data.at("parallelism_series");
    double avg = 0;
    for (const json& v : series.at("avg")) avg += v.get<double>();
    avg /= static_cast<double>(series.at("avg").size());
    CHECK(avg == Approx(kCpus * 0.75).epsilon(0.01));
    for (const json& v : series.at("max")) CHECK(v.get<uint32_t>() <= kCpus);

    SECTION("up to kHtmlMaxIntervals, every interval is embedded") {
        RunModel at_limit = model;
        at_limit.intervals.resize(kHtmlMaxIntervals);
        const std::string limit_page = render_html_report(at_limit);
        const json limit_data = embedded_data(limit_page);
        CHECK(limit_data.at("timeline").at("mode") == "intervals");
        CHECK(limit_data.at("timeline").at("intervals").size() == 4 * kHtmlMaxIntervals);
        at_limit.intervals.push_back(model.intervals[kHtmlMaxIntervals]);
        CHECK(embedded_data(render_html_report(at_limit)).at("timeline").at("mode") == "bins");
    }
}

TEST_CASE("the parallelism series does not depend on the order of the intervals", "[html]") {
    // The correlator appends intervals as they end; late events or other
    // renderers' inputs may not be in end (or start) order. Times in ms of
    // a 100 ms run (bins of 0.1 ms): A on cpu0 [0,60), B on cpu1 [10,20),
    // C on cpu1 [30,90), D on cpu2 [40,50).
    constexpr uint64_t kMs = 1'000'000;
    RunModel model = small_model();
    model.run.duration_ns = 100 * kMs;
    model.intervals = {
        {0, 1, 10 * kMs, 20 * kMs},  // end order
        {0, 2, 40 * kMs, 50 * kMs},
        {0, 0, 0 * kMs, 60 * kMs},
        {0, 1, 30 * kMs, 90 * kMs},
    };
    auto series_of = [](const RunModel& m) { return embedded_data(render_html_report(m)).at("parallelism_series"); };
    const json in_end_order = series_of(model);
    const json& avg = in_end_order.at("avg");
    const json& max = in_end_order.at("max");
    REQUIRE(avg.size() == 1000);
    CHECK(avg[50].get<double>() == 1.0);   // 5 ms: A
    CHECK(avg[150].get<double>() == 2.0);  // 15 ms: A, B
    CHECK(avg[250].get<double>() == 1.0);  // 25 ms: A
    CHECK(avg[450].get<double>() == 3.0);  // 45 ms: A, C, D
    CHECK(max[450].get<uint32_t>() == 3);
    CHECK(avg[700].get<double>() == 1.0);  // 70 ms: C
    CHECK(avg[950].get<double>() == 0.0);

    std::sort(model.intervals.begin(), model.intervals.end(),
              [](const OnCpuInterval& a, const OnCpuInterval& b) { return a.start_ns < b.start_ns; });
    CHECK(series_of(model) == in_end_order);  // start order, not end order
    std::reverse(model.intervals.begin(), model.intervals.end());
    CHECK(series_of(model) == in_end_order);  // neither
}

TEST_CASE("binned lanes cover a CPU beyond the trace's CPU count", "[html]") {
    // More intervals than kHtmlMaxIntervals on cpu0, and one on cpu 5 of a
    // run that claims 2 CPUs: the lanes reach cpu 5.
    constexpr uint64_t kUsNs = 1000;
    RunModel model = small_model();
    model.run.cpus = 2;
    model.run.duration_ns = (kHtmlMaxIntervals + 10) * 10 * kUsNs;
    model.intervals.clear();
    for (uint64_t i = 0; i <= kHtmlMaxIntervals; ++i)
        model.intervals.push_back({0, 0, i * 10 * kUsNs, i * 10 * kUsNs + 5 * kUsNs});
    model.intervals.push_back({1, 5, 0, model.run.duration_ns});
    const json data = embedded_data(render_html_report(model));
    REQUIRE(data.at("timeline").at("mode") == "bins");
    const json& lanes = data.at("timeline").at("binned").at("lanes");
    REQUIRE(lanes.size() == 6);
    for (size_t cpu : {1, 2, 3, 4}) CHECK(lanes[cpu].at("task")[0] == -1);
    CHECK(lanes[5].at("task")[0] == 1);
    CHECK(lanes[5].at("permille")[0] == 1000);
    CHECK(lanes[0].at("permille")[0] == 500);
}

TEST_CASE("the task lanes of a binned run stay within their budget, the first tasks first", "[html]") {
    // 3,000 threads, each on a CPU 40 times spread over the whole run: more
    // intervals than are embedded one by one, and more tasks than the
    // lanes' budget holds at their coarsest.
    constexpr size_t kTasks = 3000, kRunsEach = 40;
    constexpr uint64_t kDuration = 1'000'000'000, kRun = 1000;
    static_assert(kTasks * kRunsEach > kHtmlMaxIntervals, "the timeline must be binned");
    static_assert(kTasks * kHtmlMinTaskLaneBins > kHtmlTaskLaneDigits, "the lanes must not all fit");
    RunModel model = small_model();
    model.run.cpus = 2;
    model.run.duration_ns = kDuration;
    model.intervals.clear();
    const TaskRecord thread = model.tasks[1];
    model.tasks.resize(1);
    for (uint32_t t = 1; t <= kTasks; ++t) {
        TaskRecord task = thread;
        task.pid = thread.pid + t;
        task.oncpu_ns = kRunsEach * kRun;
        model.tasks.push_back(task);
    }
    // Round k at k * kSpacing, task t 100 ns after task t - 1: every task's
    // first run in the first bin, its last in the last.
    constexpr uint64_t kSpacing = (kDuration - kRun - kTasks * 100) / (kRunsEach - 1);
    for (size_t k = 0; k < kRunsEach; ++k)
        for (uint32_t t = 1; t <= kTasks; ++t) {
            const uint64_t start = k * kSpacing + t * 100;
            model.intervals.push_back({t, t % 2, start, start + kRun});
        }
    const std::string page = render_html_report(model);
    INFO("page size " << page.size() << " bytes");
    CHECK(page.size() < 3 * 1024 * 1024);
    const json timeline = embedded_data(page).at("timeline");
    REQUIRE(timeline.at("mode") == "bins");
    const json& lanes = timeline.at("task_lanes");
    CHECK(lanes.at("bins") == kHtmlMinTaskLaneBins);
    // Every lane spans the run; the root never ran and needs no digits.
    const size_t covered = 1 + kHtmlTaskLaneDigits / kHtmlMinTaskLaneBins;
    CHECK(lanes.at("tasks_covered") == covered);
    const json& flat = lanes.at("lanes");
    REQUIRE(flat.size() == 3 * (covered - 1));
    size_t digits = 0;
    for (size_t i = 0; i < flat.size(); i += 3) {
        CHECK(flat[i] == 1 + i / 3);
        CHECK(flat[i + 1] == 0);
        digits += flat[i + 2].get<std::string>().size();
    }
    CHECK(digits == kHtmlTaskLaneDigits);
}

TEST_CASE("the page's tasks leave out who woke them, and report.json keeps it", "[html]") {
    RunModel model = small_model();
    model.tasks[1].woken_by[model.tasks[0].pid] = 3;
    const json page_tasks = embedded_data(render_html_report(model)).at("tasks");
    const json report_tasks = report_json(model).at("tasks");
    REQUIRE(page_tasks.size() == report_tasks.size());
    for (size_t i = 0; i < page_tasks.size(); ++i) {
        CHECK(!page_tasks[i].contains("woken_by"));
        CHECK(report_tasks[i].contains("woken_by"));
        CHECK(page_tasks[i].at("wakeups") == report_tasks[i].at("wakeups"));
    }
    CHECK(report_tasks[1].at("woken_by").at(std::to_string(model.tasks[0].pid)) == 3);
}

TEST_CASE("the timeline's data holds each stretch off a CPU with what it waited in and who ended it", "[html]") {
    const RunModel model = thread_story().correlate(test_end(at(300 * kUs)));
    const json timeline = embedded_data(render_html_report(model)).at("timeline");
    REQUIRE(timeline.at("mode") == "intervals");
    const json& labels = timeline.at("off_cpu_labels");
    const json& flat = timeline.at("off_cpu");
    REQUIRE(flat.size() == 6 * model.off_cpu.size());
    // (label, start, waiting, runnable, waker) of the thread's stretches, by start.
    std::vector<std::tuple<std::string, uint64_t, uint64_t, uint64_t, int64_t>> thread;
    uint64_t last_start = 0;
    for (size_t i = 0; i < flat.size(); i += 6) {
        CHECK(flat[i + 2].get<uint64_t>() >= last_start);
        last_start = flat[i + 2].get<uint64_t>();
        REQUIRE(model.tasks.at(flat[i].get<size_t>()).pid == kThread);  // the root never left its CPU
        thread.emplace_back(labels.at(flat[i + 1].get<size_t>()).get<std::string>(), flat[i + 2].get<uint64_t>(),
                            flat[i + 3].get<uint64_t>(), flat[i + 4].get<uint64_t>(), flat[i + 5].get<int64_t>());
    }
    using Row = std::tuple<std::string, uint64_t, uint64_t, uint64_t, int64_t>;
    const std::vector<Row> expected = {
        {"Runnable", 21 * kUs, 0, 9 * kUs, -2},
        {"Sleeping: futex lock1", 50 * kUs, 30 * kUs, 10 * kUs, 0},  // the root, task 0
        {"Runnable", 100 * kUs, 0, 20 * kUs, -2},
        {"Blocked: read", 130 * kUs, 20 * kUs, 10 * kUs, -1},
        {"Sleeping: clock_nanosleep", 170 * kUs, 30 * kUs, 10 * kUs, -1},
    };
    CHECK(thread == expected);
    CHECK(labels.size() == 4);  // each label once

    SECTION("with the on-CPU intervals over the budget, only their count is embedded") {
        RunModel big = model;
        const OnCpuInterval first = big.intervals.front();
        big.intervals.resize(kHtmlMaxIntervals - big.off_cpu.size() + 1, first);
        const json over = embedded_data(render_html_report(big)).at("timeline");
        REQUIRE(over.at("mode") == "intervals");
        CHECK_FALSE(over.contains("off_cpu"));
        CHECK(over.at("off_cpu_total") == big.off_cpu.size());
    }
}
