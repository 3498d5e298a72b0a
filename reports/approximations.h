// What the correlator had to infer or repair in a run, in words a student
// understands, naming the tasks it affected. Shown at the top of every
// report of a run marked approximate.
#pragma once

#include <string>
#include <vector>

#include "model.h"

namespace cxt {

std::vector<std::string> approximation_notes(const RunModel& model);

}  // namespace cxt
