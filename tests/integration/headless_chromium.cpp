#include "headless_chromium.h"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <sstream>
#include <utility>

#include "live_run.h"

namespace live {

std::string find_chromium() {
    std::vector<std::string> candidates;
    if (const char* env = std::getenv("CXTRACE_CHROMIUM")) candidates.push_back(env);
    candidates.insert(candidates.end(), {"/usr/bin/chromium", "/usr/bin/chromium-browser"});
    for (const std::string& path : candidates)
        if (!path.empty() && access(path.c_str(), X_OK) == 0) return path;
    return "";
}

PageLoad load_page(const std::string& chromium, const std::string& html, const std::string& screenshot,
                   const std::string& profile, int width, int height) {
    const auto start = std::chrono::steady_clock::now();
    PageLoad load;
    // The timeout only guards against a hung browser: on a busy machine one
    // load can take tens of seconds.
    Outcome outcome = run({"/usr/bin/env", "HOME=" + profile, "XDG_CONFIG_HOME=" + profile + "/config",
                           "XDG_CACHE_HOME=" + profile + "/cache", "/usr/bin/timeout", "120", chromium, "--headless",
                           "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                           "--disable-background-networking", "--disable-component-update", "--disable-sync",
                           "--user-data-dir=" + profile + "/data", "--enable-logging=stderr", "--v=0", "--dump-dom",
                           "--screenshot=" + screenshot,
                           "--window-size=" + std::to_string(width) + "," + std::to_string(height), "file://" + html});
    load.status = outcome.status;
    load.dom = std::move(outcome.out);
    load.log = std::move(outcome.err);
    // Lines like: [pid:tid:time:INFO:CONSOLE:1] "Uncaught ReferenceError: ...", source: file:///... (1)
    std::istringstream lines(load.log);
    std::string line;
    while (std::getline(lines, line))
        if (line.find("CONSOLE") != std::string::npos || line.find("Uncaught") != std::string::npos)
            load.console.push_back(line);
    load.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return load;
}

std::string PageLoad::console_text() const {
    std::string all;
    for (const std::string& line : console) all += line + "\n";
    return all;
}

std::string with_probe(const std::string& page_html, const std::string& probe_js) {
    std::string probed = page_html;
    const size_t csp = probed.find("<meta http-equiv=\"Content-Security-Policy\"");
    const size_t body_end = probed.rfind("</body>");
    if (csp == std::string::npos || body_end == std::string::npos || probe_js.empty()) return "";
    probed.insert(body_end, "<script data-probe>\n" + probe_js + "</script>\n");
    probed.erase(csp, probed.find('>', csp) + 1 - csp);
    return probed;
}

std::optional<std::string> probe_text(const std::string& dom, const std::string& id) {
    const std::string open = "<pre id=\"" + id + "\" hidden=\"\">";
    const size_t a = dom.find(open);
    if (a == std::string::npos) return std::nullopt;
    const size_t b = dom.find("</pre>", a);
    if (b == std::string::npos) return std::nullopt;
    std::string text = dom.substr(a + open.size(), b - a - open.size());
    for (const auto& [entity, c] : std::vector<std::pair<std::string, std::string>>{{"&lt;", "<"}, {"&gt;", ">"}, {"&nbsp;", " "}, {"&amp;", "&"}})
        for (size_t at = text.find(entity); at != std::string::npos; at = text.find(entity, at + c.size()))
            text.replace(at, entity.size(), c);
    return text;
}

}  // namespace live
