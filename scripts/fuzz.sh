#!/usr/bin/env bash
# Builds the libFuzzer harnesses of tests/fuzz (clang, ASan + UBSan) in their
# own build directory and runs them. Installs nothing: scripts/install-deps.sh
# lists clang and libclang-rt-14-dev.
#
#   scripts/fuzz.sh                       every target for 60 s, one at a time
#   scripts/fuzz.sh --short               CI: every target for 25 s, nproc at a time
#   scripts/fuzz.sh --target fuzz_transforms --seconds 600
#   scripts/fuzz.sh --merge ...           afterwards, add inputs that found new
#                                         coverage to tests/fuzz/corpus/<target>
#
# Each target first replays tests/fuzz/regressions/<target>/* (whole inputs),
# then fuzzes a scratch corpus (<build>/fuzz-runs/<target>/corpus) seeded from
# tests/fuzz/corpus/<target>, which libFuzzer only reads, so the committed
# corpus stays small unless --merge is given. The scratch corpus is kept
# between runs (--fresh drops it).
# Exits non-zero when any target crashed, timed out, leaked or ran out of
# memory, and prints where the reproducer is and how to replay it.
set -euo pipefail
cd "$(dirname "$0")/.."

all_targets=(fuzz_journal_frame fuzz_unit_codec fuzz_segment_scanner fuzz_webhook_body fuzz_segment_api
             fuzz_json_diagnostics fuzz_csv_reader fuzz_csv_encoding fuzz_hub_config fuzz_pipeline_config
             fuzz_transforms fuzz_json_text)

usage() {
  cat <<EOF
usage: scripts/fuzz.sh [options]
  --seconds N      run each target N seconds (default 60; --short: 25)
  --target NAME    only this target (repeatable, or comma-separated); default: all
  --jobs N         run N targets at the same time (default 1; --short: nproc)
  --short          CI mode: all targets, 25 s each, nproc at a time
  --merge          add coverage-increasing inputs to tests/fuzz/corpus/<target>
  --fresh          start from the committed corpus (drop the scratch corpus)
  --build-dir DIR  build directory (default build-fuzz)
  --build-jobs N   build parallelism (default nproc)
  --no-build       use the fuzzers already built
  --list           print the targets and exit
targets: ${all_targets[*]}
EOF
}

seconds="" jobs="" short=0 merge=0 fresh=0 build=1
build_dir=build-fuzz build_jobs=$(nproc)
targets=()
while (($#)); do
  case $1 in
    --seconds) seconds=$2; shift ;;
    --target) IFS=, read -r -a more <<<"$2"; targets+=("${more[@]}"); shift ;;
    --jobs) jobs=$2; shift ;;
    --short) short=1 ;;
    --merge) merge=1 ;;
    --fresh) fresh=1 ;;
    --build-dir) build_dir=$2; shift ;;
    --build-jobs) build_jobs=$2; shift ;;
    --no-build) build=0 ;;
    --list) printf '%s\n' "${all_targets[@]}"; exit 0 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "fuzz.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
if ((short)); then
  seconds=${seconds:-25}
  jobs=${jobs:-$(nproc)}
fi
seconds=${seconds:-60}
jobs=${jobs:-1}
((${#targets[@]})) || targets=("${all_targets[@]}")
for t in "${targets[@]}"; do
  [[ " ${all_targets[*]} " == *" $t "* ]] || { echo "fuzz.sh: unknown target '$t' (see --list)" >&2; exit 2; }
done

# Per target: max input length, per-input timeout (s), dictionary.
declare -A max_len=(
  [fuzz_journal_frame]=4096 [fuzz_unit_codec]=4096 [fuzz_segment_scanner]=4096
  [fuzz_webhook_body]=16384 [fuzz_segment_api]=16384 [fuzz_json_diagnostics]=8192 [fuzz_csv_reader]=8192 [fuzz_csv_encoding]=4096
  [fuzz_hub_config]=4096 [fuzz_pipeline_config]=8192 [fuzz_transforms]=8192 [fuzz_json_text]=8192)
declare -A timeout=(
  [fuzz_journal_frame]=5 [fuzz_unit_codec]=5 [fuzz_segment_scanner]=20
  [fuzz_webhook_body]=10 [fuzz_segment_api]=10 [fuzz_json_diagnostics]=10 [fuzz_csv_reader]=10 [fuzz_csv_encoding]=10
  [fuzz_hub_config]=10 [fuzz_pipeline_config]=10 [fuzz_transforms]=10 [fuzz_json_text]=10)
declare -A dict=(
  [fuzz_webhook_body]=json [fuzz_segment_api]=segment [fuzz_json_diagnostics]=json [fuzz_transforms]=json [fuzz_json_text]=json [fuzz_csv_reader]=csv
  [fuzz_csv_encoding]=csv [fuzz_hub_config]=yaml [fuzz_pipeline_config]=pipeline)

if ((build)); then
  command -v clang++ >/dev/null || { echo "fuzz.sh: clang++ not found (scripts/install-deps.sh installs it)" >&2; exit 1; }
  # Developer mode off: clang may warn where GCC 12 (the project's compiler) does
  # not; the harnesses themselves are always built with -Werror.
  echo "== building fuzzers in $build_dir"
  gen=()
  [[ -f $build_dir/CMakeCache.txt ]] || gen=(-G "${CMAKE_GENERATOR:-Ninja}")
  CC=clang CXX=clang++ cmake -S . -B "$build_dir" "${gen[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DTOUCHPOINT_FUZZ=ON -DTOUCHPOINT_BUILD_TESTS=ON -DTOUCHPOINT_BUILD_BENCH=OFF -DTOUCHPOINT_DEVELOPER_MODE=OFF \
    -DTOUCHPOINT_DEBUG_INFO=lines >/dev/null
  cmake --build "$build_dir" --target fuzzers --parallel "$build_jobs"
fi

bin_dir=$build_dir/tests/fuzz
runs_dir=$build_dir/fuzz-runs
stamp=$(date +%Y%m%d-%H%M%S)
# leaks are findings; UB already aborts (-fno-sanitize-recover=all).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# Known findings not fixed yet: regression files named <id> or <id>.<ext> are
# skipped, and FUZZ_CHECK_KNOWN(<id>, ...) checks are off, for the ids in
# TOUCHPOINT_FUZZ_IGNORE (comma-separated). See tests/fuzz/regressions/README.md.
ignored() { [[ ",${TOUCHPOINT_FUZZ_IGNORE:-}," == *",$1,"* ]]; }

run_target() {  # <target>: replays its regressions, fuzzes it, leaves <work>/result
  local t=$1 work=$runs_dir/$1
  local bin=$bin_dir/$t art=$work/artifacts/$stamp log=$work/$stamp.log
  [[ -x $bin ]] || { echo "fuzz.sh: $bin is missing (build first)" >&2; echo "missing 0 0 0" >"$work/result"; return; }
  ((fresh)) && rm -rf "$work/corpus"
  mkdir -p "$work/corpus" "$art"
  local rc=0 common=(-timeout="${timeout[$t]}" -rss_limit_mb=2560 -artifact_prefix="$art/")

  # 1. Every regression input, whole (fuzzing would cut them to -max_len).
  local regressions=() f id
  for f in tests/fuzz/regressions/"$t"/*; do
    [[ -f $f ]] || continue
    id=$(basename "$f")
    id=${id%%.*}
    if ignored "$id"; then echo "$t: skipping known regression $f (TOUCHPOINT_FUZZ_IGNORE)" >>"$log"; continue; fi
    regressions+=("$f")
  done
  if ((${#regressions[@]})); then
    "$bin" "${common[@]}" "${regressions[@]}" >>"$log" 2>&1 || rc=$?
    if ((rc != 0)); then
      echo "$rc 0 0 0 regression" >"$work/result"
      return
    fi
  fi

  # 2. Fuzzing on the scratch corpus, seeded from the committed one.
  local args=("${common[@]}" -max_total_time="$seconds" -max_len="${max_len[$t]}" -print_final_stats=1)
  [[ -n ${dict[$t]:-} ]] && args+=(-dict=tests/fuzz/dict/"${dict[$t]}".dict)
  "$bin" "${args[@]}" "$work/corpus" tests/fuzz/corpus/"$t" >>"$log" 2>&1 || rc=$?
  local execs cov ft
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2 || true)
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2 || true)
  if ((rc == 0 && merge)); then
    "$bin" -merge=1 -max_len="${max_len[$t]}" -timeout="${timeout[$t]}" tests/fuzz/corpus/"$t" "$work/corpus" \
      >"$work/$stamp.merge.log" 2>&1 || rc=$?
  fi
  echo "$rc ${execs:-0} ${cov:-0} ${ft:-0} fuzz" >"$work/result"
}

echo "== fuzzing ${#targets[@]} target(s), ${seconds} s each, $jobs at a time (logs: $runs_dir/<target>/$stamp.log)"
start=$SECONDS
running=0
for t in "${targets[@]}"; do
  mkdir -p "$runs_dir/$t"
  rm -f "$runs_dir/$t/result"
  run_target "$t" &
  running=$((running + 1))
  if ((running >= jobs)); then
    wait -n || true
    running=$((running - 1))
  fi
done
wait || true

failed=0
printf '\n%-24s %-8s %12s %7s %8s %7s\n' target result execs cov ft corpus
for t in "${targets[@]}"; do
  work=$runs_dir/$t
  read -r rc execs cov ft _ <"$work/result" || { rc=1 execs=0 cov=0 ft=0; }
  n=$(find "$work/corpus" -type f 2>/dev/null | wc -l)
  read -r _ _ _ _ phase <"$work/result" || phase=fuzz
  # CI (--short) must be deterministic: a committed regression that fails is
  # fatal; a new finding of the random exploration is reported loudly below
  # (keep its reproducer as a regression) but does not fail the run.
  if [[ $rc == 0 ]]; then res=ok; elif ((short)) && [[ $phase == fuzz ]]; then res=FINDING; else res=FAIL; failed=1; fi
  printf '%-24s %-8s %12s %7s %8s %7s\n' "$t" "$res" "$execs" "$cov" "$ft" "$n"
done
for t in "${targets[@]}"; do
  work=$runs_dir/$t
  read -r rc _ _ _ phase <"$work/result" || { rc=1 phase=fuzz; }
  [[ $rc == 0 ]] && continue
  echo
  if [[ $phase == regression ]]; then
    echo "== $t FAILED on a committed regression input (exit $rc); log: $work/$stamp.log"
    f=$(sed -n 's/^Running: //p' "$work/$stamp.log" | tail -1)
    echo "reproducer: $f"
    echo "  replay:   $bin_dir/$t $f"
  else
    echo "== $t FAILED (exit $rc); log: $work/$stamp.log"
  fi
  grep -E '^(==[0-9]+==ERROR|SUMMARY|FUZZ_CHECK|known issue|  )|ALARM|Running: |Test unit written|leak' "$work/$stamp.log" \
    | grep -v '^    #' | tail -30 || true
  for a in "$work/artifacts/$stamp"/*; do
    [[ -e $a ]] || continue
    echo "reproducer: $a"
    echo "  replay:   $bin_dir/$t $a"
    echo "  keep it:  mkdir -p tests/fuzz/regressions/$t && cp $a tests/fuzz/regressions/$t/<issue-id>"
  done
done
echo
echo "fuzzing took $((SECONDS - start)) s"
exit "$failed"
