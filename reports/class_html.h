// class.html: a class's lab submissions in one self-contained page (inline
// CSS and SVG, no script, nothing from the network): per question who
// predicted right and how the predictions spread against the measured
// values, per lesson the figures across machines, the outliers, a row per
// student, and every file skipped with why. Every string a submission holds
// is escaped; bidirectional controls are shown by their code.
#pragma once

#include <string>

#include "class.h"
#include "text_out.h"

namespace cxt {

void write_class_html(const ClassSummary& summary, TextOut& out);
std::string render_class_html(const ClassSummary& summary);

}  // namespace cxt
