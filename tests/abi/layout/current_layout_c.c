/*
 * Compiled as C (-std=c11 -Wpedantic) against the CURRENT SDK header: the
 * header must stay plain C, and every ABI 1.0 member must keep its offset in
 * C as well as in C++.
 */
#include <touchpoint/abi.h>

_Static_assert(TP_ABI_VERSION_MAJOR == 1, "ABI major changed: v1 plugins can no longer load");

#if defined(__x86_64__) && defined(__LP64__)
#define TP_ABI_STRUCT(T, n) _Static_assert(sizeof(T) >= (n), "current " #T " is smaller than in ABI 1.0");
#define TP_ABI_MEMBER(T, m, off) \
  _Static_assert(offsetof(T, m) == (off), "current " #T "." #m " moved away from its ABI 1.0 offset " #off);
#include "v1_0_layout_lp64.inc"
#undef TP_ABI_STRUCT
#undef TP_ABI_MEMBER
#endif

/* ISO C forbids an empty translation unit. */
int tp_abi_current_header_compiles_as_c(void);
int tp_abi_current_header_compiles_as_c(void) { return TP_ABI_VERSION_MAJOR; }
