// The terminal's short summary of `cxtrace class`: what was read, each
// question's right count, each lesson's key figure, and the outliers and
// skipped files in brief (class.html has them in full).
#pragma once

#include <string>

#include "class.h"

namespace cxt {

std::string render_class_text(const ClassSummary& summary);

}  // namespace cxt
