// The terminal table of cxtrace compare: the runs, a column each, every
// figure aligned, the differing rows marked, then what differs in words.
#pragma once

#include <string>

#include "compare.h"

namespace cxt {

std::string render_compare_text(const Comparison& comparison);

}  // namespace cxt
