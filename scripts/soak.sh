#!/usr/bin/env bash
# Soak test: sustained load on every shipped pipeline (pipelines/*.yaml:
# webhook posts and CSV files dropped into the inbox) while the hub is killed
# with SIGKILL at random points and restarted, N times. Then the hub drains,
# stops, and the store is checked: every acknowledged record (every record of
# a webhook request answered 202, every row of every CSV file the hub moved to
# done/) must be in the store exactly once.
#
#   scripts/soak.sh [--kills N] [--seconds-between S] [--clients N] [--batch N]
#                   [--csv-rows N] [--csv-every S] [--build-dir DIR] [--keep]
#
#   --kills N            SIGKILLs (default 100)
#   --seconds-between S  mean time the hub runs between kills, after it is
#                        ready; each interval is random in [0.1 S, 1.9 S]
#                        (default 1.0)
#   --clients N          concurrent webhook clients per webhook pipeline (default 3)
#   --batch N            records per webhook request (default 50)
#   --csv-rows N         rows per CSV file (default 1500)
#   --csv-every S        seconds between two CSV files per inbox (default 1.0)
#   --build-dir DIR      Release build of the hub (default build-soak; built
#                        here with -DTOUCHPOINT_BUILD_TESTS=OFF if needed)
#   --keep               keep the work directory (always kept on failure)
#
# Prints the figures and exits 1 on any loss or duplicate (2 on a usage or
# set-up error). Needs bash, curl, sqlite3, awk.
set -euo pipefail

kills=100
mean=1.0
clients=3
batch=50
csv_rows=1500
csv_every=1.0
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build="$root/build-soak"
keep=0
while (($#)); do
  case "$1" in
    --kills) kills=$2; shift 2 ;;
    --seconds-between) mean=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    --batch) batch=$2; shift 2 ;;
    --csv-rows) csv_rows=$2; shift 2 ;;
    --csv-every) csv_every=$2; shift 2 ;;
    --build-dir) build=$(realpath -m "$2"); shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
    *) echo "soak.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
for tool in curl sqlite3 awk; do
  command -v "$tool" >/dev/null || { echo "soak.sh: needs $tool" >&2; exit 2; }
done

log() { printf '[soak %s] %s\n' "$(date +%T)" "$*"; }

# ---- build ---------------------------------------------------------------------
if [[ ! -f "$build/build.ninja" ]]; then
  log "configuring a Release build in $build"
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTOUCHPOINT_BUILD_TESTS=OFF \
    -DTOUCHPOINT_BUILD_BENCH=OFF >/dev/null
fi
log "building touchpoint, tp_webhook, tp_csv in $build"
cmake --build "$build" --parallel 2 --target touchpoint tp_webhook tp_csv >/dev/null
bin="$build/core/touchpoint"
plugins="$build/lib/plugins"

# ---- layout ----------------------------------------------------------------------
work=$(mktemp -d /tmp/tp-soak-XXXXXX)
data="$work/data"
mkdir -p "$work/pipelines" "$data" "$work/acked" "$work/posted" "$work/csv"
cat >"$work/touchpoint.yaml" <<EOF
data_dir: data
plugin_dir: $plugins
pipelines_dir: pipelines
log_level: info
journal: { segment_size: 8MiB, max_size: 1GiB }
apply: { batch_records: 4096, poll_interval_ms: 200, shutdown_timeout_ms: 60000 }
admin: { listen: "127.0.0.1:0" }
EOF

webhooks=()   # pipeline names
csvs=()       # "name|inbox|done|delimiter|key_column|col=field,col=field"
for f in "$root"/pipelines/*.yaml; do
  name=$(sed -n 's/^name:[[:space:]]*\([^[:space:]#]*\).*/\1/p' "$f" | head -1)
  [[ -n "$name" ]] || name=$(basename "$f" .yaml)
  if grep -q '^[[:space:]]*plugin:[[:space:]]*webhook' "$f"; then
    # Port 0 and a port file, so the soak never collides with a running hub.
    awk -v pf="$data/$name.port" '
      /^[[:space:]]+listen:/ { ind = substr($0, 1, match($0, /[^ ]/) - 1)
                               print ind "listen: \"127.0.0.1:0\""; print ind "port_file: " pf; next }
      { print }' "$f" >"$work/pipelines/$(basename "$f")"
    webhooks+=("$name")
  elif grep -q '^[[:space:]]*plugin:[[:space:]]*csv' "$f"; then
    cp "$f" "$work/pipelines/"
    inbox=$(sed -n 's/^[[:space:]]*inbox:[[:space:]]*\([^[:space:]#]*\).*/\1/p' "$f" | head -1)
    inbox=${inbox//\$\{data_dir\}/$data}
    done_dir=$(sed -n 's/^[[:space:]]*done_dir:[[:space:]]*\([^[:space:]#]*\).*/\1/p' "$f" | head -1)
    done_dir=${done_dir//\$\{data_dir\}/$data}
    [[ -n "$done_dir" ]] || done_dir="$inbox/done"
    delim=$(sed -n 's/^[[:space:]]*delimiter:[[:space:]]*"\(.*\)".*/\1/p' "$f" | head -1)
    [[ -n "$delim" && "$delim" != auto ]] || delim=","
    keycol=$(sed -n 's/^[[:space:]]*key_column:[[:space:]]*\([^[:space:]#]*\).*/\1/p' "$f" | head -1)
    cols=$(sed -n 's/^[[:space:]]*columns:[[:space:]]*{\(.*\)}.*/\1/p' "$f" | head -1 | tr -d ' ' | tr ',' '\n' |
      sed 's/:/=/' | paste -sd, -)
    [[ -n "$keycol" && -n "$cols" ]] || { echo "soak.sh: $f: needs key_column and a columns: {...} map" >&2; exit 2; }
    mkdir -p "$inbox"
    csvs+=("$name|$inbox|$done_dir|$delim|$keycol|$cols")
  else
    echo "soak.sh: $f uses a source plugin this script does not know how to load (webhook, csv)" >&2
    exit 2
  fi
done
log "work dir $work; pipelines: webhook ${webhooks[*]:-none}; csv $(for c in "${csvs[@]}"; do printf '%s ' "${c%%|*}"; done)"

# ---- load ------------------------------------------------------------------------
webhook_client() {  # <pipeline> <client>
  local pipe=$1 c=$2 i=0 port code tmp="$work/tmp.$1.$2"
  while [[ ! -e "$work/stop" ]]; do
    port=$(cat "$data/$pipe.port" 2>/dev/null || true)
    if [[ -z "$port" ]]; then sleep 0.05; continue; fi
    awk -v pipe="$pipe" -v p="$pipe-$c-$i" -v n="$batch" -v body="$tmp.body" -v ids="$tmp.ids" 'BEGIN {
      printf "[" >body
      for (j = 0; j < n; j++) {
        id = p "-" j
        printf "%s{\"id\":\"%s\",\"customer_id\":\"%s\",\"email\":\"%s@soak.example.com\",\"first_name\":\"Soak\"}",
               (j ? "," : ""), id, id, id >body
        print pipe "," id >ids
      }
      printf "]" >body }'
    cat "$tmp.ids" >>"$work/posted/$pipe.$c"
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H 'content-type: application/json' \
      --data-binary "@$tmp.body" "http://127.0.0.1:$port/ingest" || true)
    echo "$code" >>"$work/status.$pipe.$c"
    if [[ "$code" == 202 ]]; then cat "$tmp.ids" >>"$work/acked/$pipe.$c"; else sleep 0.02; fi
    i=$((i + 1))
  done
}

csv_dropper() {  # <spec>
  local spec=$1 name inbox done_dir delim keycol cols n=0 fname
  IFS='|' read -r name inbox done_dir delim keycol cols <<<"$spec"
  while [[ ! -e "$work/stop" ]]; do
    fname="soak-$(printf '%06d' $n).csv"
    # Unique keys K<file>-<row>; e-mail and phone columns get valid values.
    awk -v n="$n" -v rows="$csv_rows" -v d="$delim" -v keycol="$keycol" -v cols="$cols" -v name="$name" \
        -v keys="$work/csv/$fname.keys" 'BEGIN {
      nc = split(cols, spec, ",")
      for (k = 1; k <= nc; k++) { split(spec[k], kv, "="); col[k] = kv[1]; field[k] = kv[2]
                                  printf "%s%s", (k > 1 ? d : ""), col[k] }
      print ""
      for (r = 0; r < rows; r++) {
        key = "K" n "-" r
        for (k = 1; k <= nc; k++) {
          if (col[k] == keycol) v = key
          else if (field[k] == "email") v = "k" n "." r "@soak-csv.example.com"
          else if (field[k] == "phone") v = sprintf("030 %d", 1000000 + (n * rows + r) % 8999999)
          else if (field[k] ~ /zip/) v = "10115"
          else v = "v" r
          printf "%s%s", (k > 1 ? d : ""), v
        }
        print ""
        print name "," key >keys
      } }' >"$inbox/.$fname.part"
    mv "$inbox/.$fname.part" "$inbox/$fname"
    echo "$name|$fname" >>"$work/csv/files"
    n=$((n + 1))
    sleep "$csv_every"
  done
}

# ---- the hub ---------------------------------------------------------------------
hub_pid=""
start_hub() {
  rm -f "$data/admin.addr" "$data"/*.port
  "$bin" run --config "$work/touchpoint.yaml" >>"$work/hub.log" 2>&1 &
  hub_pid=$!
  local deadline=$((SECONDS + 120)) addr
  while ((SECONDS < deadline)); do
    if ! kill -0 "$hub_pid" 2>/dev/null; then
      wait "$hub_pid" && rc=0 || rc=$?
      log "the hub exited with $rc during start-up; see $work/hub.log"; return 1
    fi
    addr=$(cat "$data/admin.addr" 2>/dev/null || true)
    if [[ -n "$addr" ]] && [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://$addr/ready") == 200 ]]; then
      return 0
    fi
    sleep 0.02
  done
  log "the hub did not become ready within 120 s"; return 1
}
status_json() {
  curl -s --max-time 5 -H "Authorization: Bearer $(cat "$data/admin.token")" "http://$(cat "$data/admin.addr")/status"
}
fail() {
  log "FAILED: $*"
  [[ -n "$hub_pid" ]] && kill -9 "$hub_pid" 2>/dev/null || true
  touch "$work/stop"; wait 2>/dev/null || true
  log "work dir kept: $work"
  exit 1
}

t0=$SECONDS
start_hub || fail "hub start"
loaders=()
for w in "${webhooks[@]}"; do
  for ((c = 0; c < clients; c++)); do webhook_client "$w" "$c" & loaders+=($!); done
done
for c in "${csvs[@]}"; do csv_dropper "$c" & loaders+=($!); done

for ((k = 1; k <= kills; k++)); do
  sleep "$(awk -v s="$mean" -v r="$RANDOM" 'BEGIN { printf "%.3f", s * (0.1 + 1.8 * r / 32767) }')"
  if ! kill -0 "$hub_pid" 2>/dev/null; then
    wait "$hub_pid" && rc=0 || rc=$?
    fail "the hub died on its own (exit status $rc) before kill $k; see $work/hub.log"
  fi
  kill -9 "$hub_pid"
  wait "$hub_pid" 2>/dev/null || true
  ((k % 10 == 0)) && log "kill $k/$kills"
  start_hub || fail "restart after kill $k"
done

# ---- drain and stop ----------------------------------------------------------------
touch "$work/stop"
for p in "${loaders[@]}"; do wait "$p" || true; done
log "load stopped; waiting for the inboxes to empty and the applier to catch up"
deadline=$((SECONDS + 300))
for c in "${csvs[@]}"; do
  IFS='|' read -r name inbox _ <<<"$c"
  while compgen -G "$inbox/*.csv" >/dev/null; do
    ((SECONDS < deadline)) || fail "CSV files still in $inbox after 300 s"
    sleep 0.2
  done
done
while :; do
  s=$(status_json || true)
  applied=$(sed -n 's/.*"applier":{"applied_seq":\([0-9]*\).*/\1/p' <<<"$s")
  durable=$(sed -n 's/.*"durable_seq":\([0-9]*\).*/\1/p' <<<"$s")
  [[ -n "$applied" && "$applied" == "$durable" ]] && break
  ((SECONDS < deadline)) || fail "the applier did not catch up (applied $applied, durable $durable)"
  sleep 0.2
done
kill -TERM "$hub_pid"
wait "$hub_pid" && rc=0 || rc=$?
hub_pid=""
((rc == 0)) || fail "the hub exited with $rc on SIGTERM"
wall=$((SECONDS - t0))

# ---- check ---------------------------------------------------------------------------
check="$work/check.db"
cat "$work"/acked/* 2>/dev/null | sort -u >"$work/acked.csv" || true
cat "$work"/posted/* 2>/dev/null | sort -u >"$work/posted.csv" || true
: >"$work/csv-acked.csv"
files_done=0 files_dropped=0 files_missing=0
while IFS='|' read -r name fname; do
  files_dropped=$((files_dropped + 1))
  done_dir=""
  for c in "${csvs[@]}"; do [[ "${c%%|*}" == "$name" ]] && { IFS='|' read -r _ _ done_dir _ <<<"$c"; }; done
  if [[ -e "$done_dir/$fname" ]]; then
    files_done=$((files_done + 1))
    cat "$work/csv/$fname.keys" >>"$work/csv-acked.csv"
  else
    files_missing=$((files_missing + 1))
  fi
done <"$work/csv/files"

sqlite3 "$check" <<EOF
CREATE TABLE acked(pipeline TEXT, id TEXT);
CREATE TABLE posted(pipeline TEXT, id TEXT);
CREATE TABLE csv_acked(pipeline TEXT, key TEXT);
.mode csv
.import $work/acked.csv acked
.import $work/posted.csv posted
.import $work/csv-acked.csv csv_acked
CREATE INDEX a ON acked(pipeline, id);
CREATE INDEX p ON posted(pipeline, id);
CREATE INDEX c ON csv_acked(pipeline, key);
EOF
# A copy of the store's records with the indexes the checks need.
sqlite3 "$check" <<EOF
ATTACH '$data/touchpoint.db' AS s;
CREATE TABLE rec AS SELECT source, pipeline, id, key FROM s.records;
CREATE INDEX rec_id ON rec(pipeline, id);
CREATE INDEX rec_key ON rec(pipeline, key);
EOF
q() { sqlite3 "$check" "ATTACH '$data/touchpoint.db' AS s; $1"; }  # the hub has stopped
web_acked=$(q "SELECT COUNT(*) FROM acked")
csv_acked=$(q "SELECT COUNT(*) FROM csv_acked")
missing_web=$(q "SELECT COUNT(*) FROM acked a WHERE NOT EXISTS (SELECT 1 FROM rec r WHERE r.pipeline=a.pipeline AND r.id=a.id)")
missing_csv=$(q "SELECT COUNT(*) FROM csv_acked a WHERE NOT EXISTS (SELECT 1 FROM rec r WHERE r.pipeline=a.pipeline AND r.key=a.key)")
# Every generated record has its own key: two rows with one key are one record stored twice.
dup_keys=$(q "SELECT COALESCE(SUM(n - 1), 0) FROM (SELECT COUNT(*) AS n FROM rec GROUP BY pipeline, key HAVING n > 1)")
dup_ids=$(q "SELECT COALESCE(SUM(n - 1), 0) FROM (SELECT COUNT(*) AS n FROM rec GROUP BY source, id HAVING n > 1)")
stored=$(q "SELECT COUNT(*) FROM rec")
phantom=0
for w in "${webhooks[@]}"; do
  phantom=$((phantom + $(q "SELECT COUNT(*) FROM rec r WHERE r.pipeline='$w' AND NOT EXISTS (SELECT 1 FROM posted p WHERE p.pipeline=r.pipeline AND p.id=r.id)")))
done
unacked_stored=$(q "SELECT COUNT(*) FROM rec r JOIN posted p ON p.pipeline=r.pipeline AND p.id=r.id WHERE NOT EXISTS (SELECT 1 FROM acked a WHERE a.pipeline=r.pipeline AND a.id=r.id)")
dead=$(q "SELECT COUNT(*) FROM s.dead_letters")
requests=$(cat "$work"/status.* 2>/dev/null | wc -l)
not_202=$(cat "$work"/status.* 2>/dev/null | grep -vc '^202$' || true)
quarantined=$(grep -c 'quarantined' "$work/hub.log" || true)

missing=$((missing_web + missing_csv))
duplicates=$((dup_keys + dup_ids))
cat <<EOF

==== soak figures ====
kills (SIGKILL + restart)      $kills
wall time                      ${wall} s
records acknowledged           $((web_acked + csv_acked))  (webhook 202: $web_acked, CSV rows in done/: $csv_acked)
webhook requests               $requests  ($not_202 without a 202: refused or cut off by a kill)
CSV files                      $files_dropped dropped, $files_done moved to done/, $files_missing not finished
records in the store           $stored  ($unacked_stored posted but never acknowledged, allowed)
missing (acknowledged, lost)   $missing  (webhook $missing_web, csv $missing_csv)
duplicates                     $duplicates  (by key $dup_keys, by id $dup_ids)
records nobody posted          $phantom
dead letters                   $dead
journal tails quarantined      $quarantined
EOF

if ((missing > 0 || duplicates > 0 || phantom > 0 || files_missing > 0 || dead > 0)); then
  fail "loss, duplicates, unknown records, unfinished files or dead letters (see above)"
fi
log "OK: every acknowledged record is in the store exactly once"
if ((keep)); then log "work dir kept: $work"; else rm -rf "$work"; fi
