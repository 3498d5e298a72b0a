// "What this shows": short sentences written from the measured numbers of a
// run, one per lesson the run has evidence for. Shared by every renderer.
#pragma once

#include <string>
#include <vector>

#include "model.h"

namespace cxt {

struct Finding {
    std::string topic;  // "creation", "address-space", "ids", "placement", "ipc", "exit", "phases", "waiting", ...
    std::string text;
};

std::vector<Finding> findings(const RunModel& model);

}  // namespace cxt
