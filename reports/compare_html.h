// compare.html: two to eight runs side by side in one self-contained page
// (inline CSS and SVG, no script, nothing from the network): what differs,
// then each figure aligned in a column per run, with charts on shared axes.
#pragma once

#include <string>

#include "compare.h"
#include "text_out.h"

namespace cxt {

void write_compare_html(const Comparison& comparison, TextOut& out);
std::string render_compare_html(const Comparison& comparison);

}  // namespace cxt
