/*
 * Compiled as C with ONLY tests/abi/frozen/v1_0 on the include path, so
 * <touchpoint/abi.h> below is the frozen v1.0 header.
 *
 * 1. _Static_assert: every struct of the frozen header has the x86-64 LP64
 *    size and member offsets listed in v1_0_layout_lp64.inc. A compile
 *    failure here means the frozen copy or the list was edited.
 * 2. Exports what it measured (tp_abi_frozen_facts) so abi_layout_test can
 *    compare it with the current header.
 */
#include <touchpoint/abi.h>

#include "abi_layout.h"

_Static_assert(TP_ABI_VERSION_MAJOR == 1 && TP_ABI_VERSION_MINOR == 0, "the frozen header must be ABI 1.0");

#if defined(__x86_64__) && defined(__LP64__)
#define TP_ABI_STRUCT(T, n) _Static_assert(sizeof(T) == (n), "ABI 1.0: sizeof(" #T ") is not " #n);
#define TP_ABI_MEMBER(T, m, off) \
  _Static_assert(offsetof(T, m) == (off), "ABI 1.0: offsetof(" #T ", " #m ") is not " #off);
#include "v1_0_layout_lp64.inc"
#undef TP_ABI_STRUCT
#undef TP_ABI_MEMBER
#endif

#define TP_ABI_STRUCT(T, n) {#T, "", 0, sizeof(T), __alignof__(T), (n)},
#define TP_ABI_MEMBER(T, m, off) \
  {#T, #m, offsetof(T, m), sizeof(((T*)0)->m), __alignof__(__typeof__(((T*)0)->m)), (off)},
static const tp_abi_layout_entry layout[] = {
#include "v1_0_layout_lp64.inc"
};
#undef TP_ABI_STRUCT
#undef TP_ABI_MEMBER

#define TP_ABI_CONSTANT(c) {#c, (unsigned long long)(c)},
static const tp_abi_constant constants[] = {
#include "v1_0_constants.inc"
};
#undef TP_ABI_CONSTANT

const tp_abi_header_facts tp_abi_frozen_facts = {layout,
                                                 sizeof layout / sizeof layout[0],
                                                 constants,
                                                 sizeof constants / sizeof constants[0],
                                                 TP_PLUGIN_ENTRY_SYMBOL,
                                                 TP_ABI_VERSION_MAJOR,
                                                 TP_ABI_VERSION_MINOR};
