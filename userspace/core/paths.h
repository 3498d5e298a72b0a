// The last component of a path, as basename(1) gives it: "/usr/bin/python3"
// -> "python3", "runs/a/" -> "a", "/" -> "/", "" -> "".
#pragma once

#include <string>
#include <string_view>

namespace cxt {

inline std::string basename_of(std::string_view path) {
    while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
    const size_t slash = path.rfind('/');
    if (slash != std::string_view::npos && path.size() > 1) path.remove_prefix(slash + 1);
    return std::string(path);
}

}  // namespace cxt
