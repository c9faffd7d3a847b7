#!/usr/bin/env bash
# ABI check of the plugin C header with abidiff (Debian: abigail-tools).
#
#   scripts/abi-check.sh              frozen ABI 1.0 header vs the current one
#   scripts/abi-check.sh --self-test  the same, then proves the check catches
#                                     breaking edits and accepts an append
#
# A tiny shared object is built twice, against tests/abi/frozen/v1_0 and
# against sdk/include, with debug info. It defines one probe function per
# public struct (taking T*) and one per ABI 1.0 member (taking a pointer to
# the member's type, from tests/abi/layout/v1_0_layout_lp64.inc), so a changed
# member type or function-pointer signature shows up as a changed function,
# not only as a changed struct.
#
# Allowed: members appended at the end of size-prefixed structs that are only
# passed by pointer. Not allowed (no suppression): anything in tp_str (not
# size-prefixed, embedded by value) and in tp_record / tp_reject (passed as
# arrays, so growing them changes the stride a 1.0 plugin indexes with).
#
# Exit status: 0 no ABI change, 1 ABI change or self-test failure,
# 77 abidiff missing (ctest SKIP_RETURN_CODE).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
frozen_inc=$root/tests/abi/frozen/v1_0
current_inc=$root/sdk/include
layout_dir=$root/tests/abi/layout
cc=${CC:-cc}

if ! command -v abidiff >/dev/null 2>&1; then
  echo "abi-check: abidiff not found (apt-get install abigail-tools)" >&2
  exit 77
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cat >"$work/probe.c" <<'C'
#include <touchpoint/abi.h>
#define TP_ABI_STRUCT(T, n) \
  void tp_abi_probe_##T(T* p);  \
  void tp_abi_probe_##T(T* p) { (void)p; }
#define TP_ABI_MEMBER(T, m, off)                                   \
  void tp_abi_probe_##T##__##m(__typeof__(((T*)0)->m)* p);         \
  void tp_abi_probe_##T##__##m(__typeof__(((T*)0)->m)* p) { (void)p; }
#include "v1_0_layout_lp64.inc"
C

cat >"$work/suppressions" <<'SUPP'
[suppress_type]
  type_kind = struct
  name_regexp = ^tp_(error|batch|emit|outcome_sink|host_api|plugin_vtable|plugin_info|negotiation)$
  has_data_member_inserted_at = end
SUPP

build() {  # build <include dir> <output .so>
  "$cc" -std=gnu11 -g -O0 -shared -fPIC -I"$1" -I"$layout_dir" -o "$2" "$work/probe.c"
}

# compare <label> <include dir>: 0 when abidiff sees no ABI change against 1.0.
compare() {
  local label=$1 inc=$2 rc=0
  build "$inc" "$work/$label.so"
  abidiff --suppressions "$work/suppressions" "$work/v1_0.so" "$work/$label.so" >"$work/$label.report" 2>&1 || rc=$?
  return $rc
}

build "$frozen_inc" "$work/v1_0.so"

status=0
if compare current "$current_inc"; then
  echo "abi-check: sdk/include/touchpoint/abi.h is ABI-compatible with the frozen 1.0 header"
else
  echo "abi-check: sdk/include/touchpoint/abi.h BREAKS ABI 1.0:" >&2
  cat "$work/current.report" >&2
  status=1
fi

if [[ "${1:-}" == "--self-test" ]]; then
  # mutate <name> <sed expression>: a copy of the frozen header with one edit.
  mutate() {
    mkdir -p "$work/$1/touchpoint"
    sed "$2" "$frozen_inc/touchpoint/abi.h" >"$work/$1/touchpoint/abi.h"
    if cmp -s "$frozen_inc/touchpoint/abi.h" "$work/$1/touchpoint/abi.h"; then
      echo "abi-check self-test: mutation '$1' did not apply" >&2
      status=1
    fi
  }
  expect() {  # expect <accepted|rejected> <name>
    local want=$1 name=$2 got=accepted
    compare "$name" "$work/$name" || got=rejected
    if [[ $got == "$want" ]]; then
      echo "abi-check self-test: $name -> $got (ok)"
    else
      echo "abi-check self-test: $name -> $got, expected $want" >&2
      cat "$work/$name.report" >&2
      status=1
    fi
  }
  mutate append_to_host_api 's|^\(  tp_status (\*post)(tp_host_ctx\* ctx, tp_task_fn fn, void\* user);\)$|\1\n  void (*flush)(tp_host_ctx* ctx); /* v1.1 */|'
  mutate insert_into_host_api 's|^\(  uint32_t abi_version; /\* v1.0 version the host implements.*\)$|\1\n  uint32_t inserted;|'
  mutate append_to_record 's|^} tp_record;$|  uint64_t appended; /* v1.1 */\n} tp_record;|'
  mutate log_signature 's|void (\*log)(tp_host_ctx\* ctx, int32_t level, tp_str message);|void (*log)(tp_host_ctx* ctx, int64_t level, tp_str message);|'
  mutate member_type 's|^  uint32_t host_max_version; /\* v1.0|  int64_t host_max_version; /* v1.0|'
  expect accepted append_to_host_api
  expect rejected insert_into_host_api
  expect rejected append_to_record
  expect rejected log_signature
  expect rejected member_type
fi
exit $status
