// Predictions from a file (cxtrace lab --answers FILE), one per line:
//     id = value        # a comment
// value as typed at the prompt (a number; a choice's letter or number; a
// ranking's letters in order), optionally in double quotes. Blank lines and
// lines starting with # are skipped. The same format is what an
// interrupted lab leaves in answers.txt.
#pragma once

#include <map>
#include <string>

#include "grading.h"
#include "result.h"
#include "sheet.h"

namespace cxt::lab {

// Each line checked against the sheet: a question it has, a prediction of
// its kind, not given twice. Errors say FILE:LINE and the question id.
Result<std::map<std::string, Prediction>> parse_answers(const std::string& text, const std::string& path,
                                                        const Sheet& sheet);
Result<std::map<std::string, Prediction>> load_answers(const std::string& path, const Sheet& sheet);
// The predictions given so far, in that format (the sheet's order).
std::string format_answers(const Sheet& sheet, const std::map<std::string, Prediction>& predictions);

}  // namespace cxt::lab
