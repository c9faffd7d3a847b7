// Includes the Touchpoint SDK C++ layer.
//
// abi.h's macros (TP_MAKE_VERSION, TP_HAS_FIELD) use C-style casts, which the
// project's -Wold-style-cast -Werror rejects when the SDK headers are included
// with -I (in-tree builds). The SDK is not ours to edit, so the warning is
// silenced for these headers only.
#ifndef TOUCHPOINT_POST_SDK_HPP
#define TOUCHPOINT_POST_SDK_HPP

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
#include <touchpoint/plugin.hpp>
#pragma GCC diagnostic pop

#endif  // TOUCHPOINT_POST_SDK_HPP
