#!/usr/bin/env bash
# Proves that an integrator can build a plugin out of tree and the hub loads it:
#   1. installs the hub + SDK (headers, CMake package, binary) into a temp prefix;
#   2. copies examples/plugin-template to a temp dir, configures it with only
#      CMAKE_PREFIX_PATH=<prefix>, builds it and runs its ctest suite;
#   3. `touchpoint plugins inspect`s the built plugin with the installed hub;
#   4. runs the installed hub on a temp config whose plugin_dir holds the
#      template plugin and checks a record moves source -> store -> sink.
# Exits non-zero on the first failure. Needs what scripts/install-deps.sh installs.
#
# usage: scripts/check-plugin-template.sh [--build-dir DIR] [--keep]
#   --build-dir DIR  install from an existing hub build directory instead of
#                    configuring a fresh one (saves a full build in scripts/test.sh)
#   --keep           keep the temp directory for inspection
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build_dir=""
keep=0
while (($#)); do
  case $1 in
    --build-dir) build_dir=$(cd "$2" && pwd); shift 2 ;;
    --keep) keep=1; shift ;;
    -h | --help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

work=$(mktemp -d "${TMPDIR:-/tmp}/tp-template-check.XXXXXX")
hub_pid=""
cleanup() {
  if [[ -n $hub_pid ]] && kill -0 "$hub_pid" 2>/dev/null; then
    kill -TERM "$hub_pid" 2>/dev/null || true
    wait "$hub_pid" 2>/dev/null || true
  fi
  if ((keep)); then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
fail() {
  echo "check-plugin-template: FAILED: $*" >&2
  [[ -f $work/hub.log ]] && { echo "--- hub log (last 40 lines)" >&2; tail -40 "$work/hub.log" >&2; }
  exit 1
}

generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
jobs=$(nproc 2>/dev/null || echo 2)
prefix=$work/prefix

echo "== 1. install hub + SDK into $prefix"
if [[ -z $build_dir ]]; then
  build_dir=$work/hub-build
  cmake -S "$repo" -B "$build_dir" "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DTOUCHPOINT_BUILD_TESTS=OFF -DTOUCHPOINT_BUILD_BENCH=OFF -DCMAKE_INSTALL_PREFIX="$prefix" >/dev/null
fi
cmake --build "$build_dir" --parallel "$jobs" >/dev/null || fail "building the hub in $build_dir"
cmake --install "$build_dir" --prefix "$prefix" >/dev/null || fail "cmake --install"
libdir=$(sed -n 's/^CMAKE_INSTALL_LIBDIR:[A-Z]*=//p' "$build_dir/CMakeCache.txt")
libdir=${libdir:-lib}
touchpoint=$prefix/bin/touchpoint
for f in "$prefix/include/touchpoint/abi.h" "$prefix/include/touchpoint/plugin.hpp" \
  "$prefix/include/touchpoint/testing.hpp" "$prefix/$libdir/cmake/Touchpoint/TouchpointConfig.cmake" "$touchpoint"; do
  [[ -e $f ]] || fail "not installed: $f"
done
# The hub's config and unit follow the install-time prefix (build-test was
# configured for /usr/local): everything under $prefix, pointing into $prefix.
conf=$prefix/etc/touchpoint/touchpoint.yaml
unit=$prefix/lib/systemd/system/touchpoint.service
[[ -f $conf && -f $unit ]] || fail "config or unit not under $prefix"
grep -q "^plugin_dir: $prefix/$libdir/touchpoint/plugins" "$conf" || fail "$conf: plugin_dir not under $prefix"
grep -q "^ExecStart=$prefix/bin/touchpoint run --config $conf" "$unit" || fail "$unit: ExecStart not under $prefix"
"$prefix/bin/touchpoint" test --config "$conf" >/dev/null || fail "the installed pipelines' own tests"

echo "== 2. build + test the template out of tree"
src=$work/plugin-template
cp -r "$repo/examples/plugin-template" "$src"
rm -rf "$src/build"
# Only the installed prefix is visible: no path into the hub's source tree.
cmake -S "$src" -B "$src/build" "${generator[@]}" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null ||
  fail "configuring the template against $prefix"
cmake --build "$src/build" --parallel "$jobs" || fail "building the template"
ctest --test-dir "$src/build" --output-on-failure --timeout 120 || fail "template tests"
plugin=$src/build/libtp_jsonl.so
[[ -f $plugin ]] || fail "no $plugin"
# Its `cmake --install` puts the plugin where the installed hub loads plugins from.
cmake --install "$src/build" >/dev/null || fail "cmake --install of the template"
[[ -f $prefix/$libdir/touchpoint/plugins/libtp_jsonl.so ]] ||
  fail "cmake --install of the template did not put libtp_jsonl.so into Touchpoint_PLUGIN_DIR ($prefix/$libdir/touchpoint/plugins)"
if grep -rq "$repo/sdk" "$src/build/build.ninja" "$src/build/CMakeCache.txt" 2>/dev/null; then
  fail "the template build refers to the hub's source tree"
fi

echo "== 3. touchpoint plugins inspect"
plugin_dir=$work/plugins
mkdir -p "$plugin_dir"
chmod 0755 "$plugin_dir"
install -m 0644 "$plugin" "$plugin_dir/"
inspect=$("$touchpoint" plugins inspect "$plugin_dir/libtp_jsonl.so") || fail "plugins inspect: $inspect"
echo "$inspect"
grep -q '^name: *jsonl$' <<<"$inspect" || fail "inspect does not report name jsonl"
grep -q '^capabilities: *source sink$' <<<"$inspect" || fail "inspect does not report source + sink"

echo "== 4. run the hub with the template plugin"
data=$work/data
mkdir -p "$data/jsonl" "$work/pipelines"
cp "$src/pipelines/jsonl-example.yaml" "$work/pipelines/"
cat >"$work/hub.yaml" <<EOF
data_dir: $data
plugin_dir: $plugin_dir
pipelines_dir: $work/pipelines
log_level: info
admin:
  listen: 127.0.0.1:0
EOF
"$touchpoint" validate --config "$work/hub.yaml" || fail "touchpoint validate"
printf '%s\n' '{"id":"tpl-1","customer_id":"C-1","email":" Anna@Example.COM "}' \
  '{"id":"tpl-2","customer_id":"C-2","email":"bob@example.com"}' 'not json' >"$data/jsonl/in.jsonl"
"$touchpoint" run --config "$work/hub.yaml" >"$work/hub.log" 2>&1 &
hub_pid=$!
out=$data/jsonl/out.jsonl
for _ in $(seq 1 150); do
  [[ -f $out ]] && (($(wc -l <"$out") >= 2)) && break
  kill -0 "$hub_pid" 2>/dev/null || fail "the hub exited early"
  sleep 0.2
done
[[ -f $out ]] && (($(wc -l <"$out") >= 2)) || fail "no records reached the sink file $out"
grep -q '"id":"tpl-1"' "$out" || fail "record tpl-1 missing from $out"
grep -q '"email":"anna@example.com"' "$out" || fail "the pipeline's normalize_email did not run: $(cat "$out")"
grep -q '"source":"jsonl-example"' "$out" || fail "sink records lack the source instance"
kill -TERM "$hub_pid"
wait "$hub_pid" || fail "the hub did not stop cleanly (exit $?)"
hub_pid=""
"$touchpoint" dlq list --config "$work/hub.yaml" | grep -q 'in.jsonl:3' ||
  fail "the malformed line is not in the dead-letter store"
echo "sink output:"
cat "$out"
echo "check-plugin-template: OK"
