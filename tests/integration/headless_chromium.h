// Headless Chromium for the tests that load a page cxtrace wrote:
// report.html (live tests), compare.html and class.html (cli tests).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace live {

// $CXTRACE_CHROMIUM, else the Debian package's binary; "" when there is none.
std::string find_chromium();

struct PageLoad {
    int status = -1;
    std::string dom;                   // --dump-dom: the document after the page script ran
    std::string log;                   // Chromium's stderr
    std::vector<std::string> console;  // console messages and uncaught exceptions
    double seconds = 0;
    std::string console_text() const;  // the console lines, one a line
};

// Loads a page in a fresh headless Chromium profile and a window of
// width x height: the DOM after load and a screenshot of the window in one
// run. Safe to call from several threads.
PageLoad load_page(const std::string& chromium, const std::string& html, const std::string& screenshot,
                   const std::string& profile, int width = 1280, int height = 4000);

// The text of a page cxtrace wrote without its Content-Security-Policy
// (which lets no script run) and with `probe_js` run after its body: for a
// probe that measures the page as drawn. "" when the page has no policy.
std::string with_probe(const std::string& page_html, const std::string& probe_js);

// The text a probe script left in <pre id="ID" hidden> of a dumped DOM,
// its entities decoded; nullopt when there is none.
std::optional<std::string> probe_text(const std::string& dom, const std::string& id);

}  // namespace live

// Tests that need Chromium say so and stop when it is missing (Catch2 v2 has no skip).
#define REQUIRE_CHROMIUM(var)                                                                                   \
    const std::string var = live::find_chromium();                                                              \
    do {                                                                                                        \
        if (var.empty()) {                                                                                      \
            WARN("skipped: headless Chromium not found at /usr/bin/chromium (scripts/install-deps installs it; " \
                 "or set CXTRACE_CHROMIUM)");                                                                   \
            return;                                                                                             \
        }                                                                                                       \
    } while (0)
