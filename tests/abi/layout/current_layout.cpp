// Compiled as C++ against the CURRENT sdk/include/touchpoint/abi.h.
//
// 1. static_assert: every member that existed in ABI 1.0 still has its 1.0
//    offset (x86-64 LP64 numbers from v1_0_layout_lp64.inc); structs may only
//    have grown.
// 2. Exports what it measured (tp_abi_current_facts) so abi_layout_test can
//    compare it, member by member, with the frozen header's table.
#include <touchpoint/abi.h>

#include <cstddef>
#include <iterator>

#include "abi_layout.h"

static_assert(TP_ABI_VERSION_MAJOR == 1, "ABI major changed: v1 plugins can no longer load; see tests/abi/README.md");

#if defined(__x86_64__) && defined(__LP64__)
#define TP_ABI_STRUCT(T, n) static_assert(sizeof(T) >= (n), "current " #T " is smaller than in ABI 1.0");
#define TP_ABI_MEMBER(T, m, off) \
  static_assert(offsetof(T, m) == (off), "current " #T "::" #m " moved away from its ABI 1.0 offset " #off);
#include "v1_0_layout_lp64.inc"
#undef TP_ABI_STRUCT
#undef TP_ABI_MEMBER
#endif

namespace {

#define TP_ABI_STRUCT(T, n) {#T, "", 0, sizeof(T), alignof(T), (n)},
#define TP_ABI_MEMBER(T, m, off) {#T, #m, offsetof(T, m), sizeof(T::m), alignof(decltype(T::m)), (off)},
const tp_abi_layout_entry layout[] = {
#include "v1_0_layout_lp64.inc"
};
#undef TP_ABI_STRUCT
#undef TP_ABI_MEMBER

#define TP_ABI_CONSTANT(c) {#c, static_cast<unsigned long long>(c)},
const tp_abi_constant constants[] = {
#include "v1_0_constants.inc"
};
#undef TP_ABI_CONSTANT

}  // namespace

extern "C" const tp_abi_header_facts tp_abi_current_facts = {layout,
                                                             std::size(layout),
                                                             constants,
                                                             std::size(constants),
                                                             TP_PLUGIN_ENTRY_SYMBOL,
                                                             TP_ABI_VERSION_MAJOR,
                                                             TP_ABI_VERSION_MINOR};
