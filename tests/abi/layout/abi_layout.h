/*
 * Layout tables measured from one copy of touchpoint/abi.h. Each table is
 * produced by a translation unit that sees exactly one header: the frozen
 * v1.0 copy (frozen_layout.c, compiled as C) or the current SDK header
 * (current_layout.cpp, compiled as C++). abi_layout_test compares them.
 * This header deliberately does not include abi.h.
 */
#ifndef TOUCHPOINT_TESTS_ABI_LAYOUT_H
#define TOUCHPOINT_TESTS_ABI_LAYOUT_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tp_abi_layout_entry {
  const char* type;
  const char* member; /* "" for the struct itself */
  size_t offset;      /* offsetof(type, member); 0 for the struct */
  size_t size;        /* sizeof the member or the struct */
  size_t align;       /* alignment of the member or the struct */
  size_t expected;    /* the LP64 number from v1_0_layout_lp64.inc (offset or sizeof) */
} tp_abi_layout_entry;

typedef struct tp_abi_constant {
  const char* name;
  unsigned long long value;
} tp_abi_constant;

typedef struct tp_abi_header_facts {
  const tp_abi_layout_entry* layout;
  size_t layout_count;
  const tp_abi_constant* constants;
  size_t constant_count;
  const char* entry_symbol;
  unsigned version_major;
  unsigned version_minor;
} tp_abi_header_facts;

/* frozen_layout.c: the frozen v1.0 header. */
extern const tp_abi_header_facts tp_abi_frozen_facts;
/* current_layout.cpp: sdk/include/touchpoint/abi.h as it is today. */
extern const tp_abi_header_facts tp_abi_current_facts;

#ifdef __cplusplus
}
#endif

#endif
