// class.csv: a row per submission (cxtrace class), for a spreadsheet or a
// grading script. RFC 4180: comma-separated, CRLF line ends, a field with a
// comma, a quote or a line break in double quotes (a quote doubled). A text
// the students wrote (names, predictions) that begins with = + - @, a tab
// or a carriage return gets a leading ' so that no spreadsheet runs it as a
// formula.
#pragma once

#include <string>

#include "class.h"
#include "text_out.h"

namespace cxt {

// One CSV field. `untrusted`: text from a submission (formula guard).
std::string csv_field(const std::string& text, bool untrusted);

void write_class_csv(const ClassSummary& summary, TextOut& out);
std::string render_class_csv(const ClassSummary& summary);

}  // namespace cxt
