// compare.html: two to eight runs side by side in one self-contained page
// (inline CSS and SVG, no script, nothing from the network): what differs,
// then each figure aligned in a column per run, with charts on shared axes.
#pragma once

#include <string>

#include "compare.h"
#include "text_out.h"

namespace cxt {

// The start of a page that runs no script (compare.html, class.html), up
// to its <body>: its policy lets nothing be fetched and nothing run; the
// title (escaped here), report.css, compare.css and `more_css` inline.
std::string scriptless_page_start(const std::string& title, const char* more_css, const char* body_class);

void write_compare_html(const Comparison& comparison, TextOut& out);
std::string render_compare_html(const Comparison& comparison);

}  // namespace cxt
