#!/bin/bash
# side_by_side.sh - the hub and the peers of ../shared/peers (syslog-ng, Node-RED) on the same
# data and machine, one after the other, every run through the peers' bin/run_peer.py so that
# records/s, CPU, peak RSS and latency are measured the same way. Prints the peers' summary and a
# ratio table (also written to $PEERS_WORK/results/RATIOS.md). See bench/peers/README.md.
#
# Environment (all optional):
#   PEERS       the peers directory            (default: <repo>/../shared/peers)
#   PEERS_WORK  their work directory           (default: /work/peers-work if it exists, else $PEERS/work)
#   HUB         the touchpoint binary          (default: build-rel/core/touchpoint if built, else build-test/...)
#   PLUGIN_DIR  the hub's plugin directory     (default: <HUB's build tree>/lib/plugins)
#   N           records per run                (default 200000)
#   REPS        repetitions per scenario       (default 1; the peers' syslogng-file runs at least 5)
#   SCENARIOS   comma list, in this order      (default: peers,hub-http-store,hub-tcp-store)
#   HUB_TYPE    record type of the hub's source (default profile, see README: an event needs
#               data.event_type, so these records would all become dead letters)
#   HUB_KEY_FIELD  field that becomes the record key and the ext:<pipeline> identity (default id;
#               empty: no key, every record an anonymous profile)
#   HTTP_PORT, TCP_PORT  the hub's listeners (default 17001, 17000)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PEERS=${PEERS:-$ROOT/../shared/peers}
PEERS=$(cd "$PEERS" && pwd)
if [ -z "${PEERS_WORK:-}" ]; then
  if [ -d /work/peers-work ]; then PEERS_WORK=/work/peers-work; else PEERS_WORK=$PEERS/work; fi
fi
PEERS_WORK=$(cd "$PEERS_WORK" && pwd)
export PEERS_WORK
if [ -z "${HUB:-}" ]; then
  if [ -x "$ROOT/build-rel/core/touchpoint" ]; then HUB=$ROOT/build-rel/core/touchpoint
  else HUB=$ROOT/build-test/core/touchpoint; fi
fi
[ -x "$HUB" ] || { echo "side_by_side: no hub binary at $HUB (set HUB)" >&2; exit 1; }
HUB=$(cd "$(dirname "$HUB")" && pwd)/$(basename "$HUB")
PLUGIN_DIR=${PLUGIN_DIR:-$(dirname "$(dirname "$HUB")")/lib/plugins}
[ -d "$PLUGIN_DIR" ] || { echo "side_by_side: no plugin directory $PLUGIN_DIR (set PLUGIN_DIR)" >&2; exit 1; }
PLUGIN_DIR=$(cd "$PLUGIN_DIR" && pwd)
N=${N:-200000}
REPS=${REPS:-1}
SCENARIOS=${SCENARIOS:-peers,hub-http-store,hub-tcp-store}
HUB_TYPE=${HUB_TYPE:-profile}
HUB_KEY_FIELD=${HUB_KEY_FIELD-id}
HTTP_PORT=${HTTP_PORT:-17001}
TCP_PORT=${TCP_PORT:-17000}
R=$PEERS_WORK/results
if [ -z "${DATA:-}" ]; then  # as bin/run_all.sh chooses it
  if [ "$N" -le 20000 ]; then DATA=$PEERS_WORK/data/customers-20k.ndjson
  else DATA=$PEERS_WORK/data/customers-200k.ndjson; fi
fi

log() { echo "=== [side_by_side] $*"; }
want() { [[ ",$SCENARIOS," == *",$1,"* ]]; }
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

[ -s "$DATA" ] || { echo "side_by_side: missing $DATA: run $PEERS/install.sh with PEERS_WORK=$PEERS_WORK" >&2; exit 1; }
[ "$(wc -l < "$DATA")" -ge "$N" ] || { echo "side_by_side: $DATA has fewer than N=$N records" >&2; exit 1; }
command -v sqlite3 >/dev/null || { echo "side_by_side: sqlite3 missing (the peers' install.sh installs it)" >&2; exit 1; }
mkdir -p "$R"

log "hub=$HUB plugins=$PLUGIN_DIR"
log "peers=$PEERS work=$PEERS_WORK data=$DATA N=$N REPS=$REPS scenarios=$SCENARIOS"
log "hub record type=$HUB_TYPE key_field=${HUB_KEY_FIELD:-(none)}; $(nproc) CPUs; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
if awk '{ exit !($1 > 0.5) }' /proc/loadavg; then
  log "WARNING: the machine is not idle (load average above 0.5): figures will be noisy"
fi

# --- a. the peers ------------------------------------------------------------------------------
if want peers; then
  log "peers: syslogng-fsync, syslogng-file, nodered-http"
  ONLY=syslogng-fsync,syslogng-file,nodered-http REPS=$REPS N=$N DATA=$DATA "$PEERS/bin/run_all.sh"
fi

# --- b./c. the hub -------------------------------------------------------------------------------
# fill TEMPLATE OUT NAME=VALUE...: replaces @NAME@ by VALUE (values must not contain '|')
fill() {
  local tpl=$1 out=$2 expr=() kv
  shift 2
  for kv in "$@"; do expr+=(-e "s|@${kv%%=*}@|${kv#*=}|g"); done
  sed "${expr[@]}" "$tpl" > "$out"
  if grep -q '@[A-Z_]*@' "$out"; then echo "side_by_side: unfilled placeholder in $out" >&2; exit 1; fi
}

# hub_scenario NAME PLUGIN MODE PORT TEMPLATE
hub_scenario() {
  local name=$1 plugin=$2 mode=$3 port=$4 tpl=$5
  local dir=$PEERS_WORK/hub/$name key_opt="" k db rc bad=0 rows n_rec n_ids n_prof n_dead n_view
  if [ ! -f "$PLUGIN_DIR/libtp_$plugin.so" ]; then
    log "SKIP $name: plugin '$plugin' is not built ($PLUGIN_DIR/libtp_$plugin.so missing)"
    return 0
  fi
  [ -z "$HUB_KEY_FIELD" ] || key_opt=", key_field: $HUB_KEY_FIELD"
  rm -rf "$dir"
  mkdir -p "$dir/pipelines"
  fill "$HERE/hub.yaml.in" "$dir/hub.yaml" DATA_DIR="$dir/data" PLUGIN_DIR="$PLUGIN_DIR" \
    PIPELINES_DIR="$dir/pipelines" TOKEN_FILE="$dir/admin.token"
  fill "$HERE/$tpl" "$dir/pipelines/$name.yaml" NAME="$name" PORT="$port" TYPE="$HUB_TYPE" KEY_FIELD_OPT="$key_opt"
  "$HUB" validate --config "$dir/hub.yaml" --quiet || { log "FAIL $name: touchpoint validate refused the config in $dir"; return 1; }
  rm -f "$R/$name"-r[0-9]*.json "$R/$name"-r[0-9]*.json.*  # a scenario's results are replaced, as run_all.sh does
  for k in $(seq 1 "$REPS"); do
    log "$name rep $k $(date +%T)"
    rm -rf "$dir/data"
    db=$dir/data/touchpoint.db
    # Create the store's schema without starting the hub: every command that opens the store
    # applies the migrations (core/store/sqlite_store.cpp); `dlq list` opens it, binds no port
    # and starts no pipeline. Then the view run_peer.py counts: max(rowid), doc of the last row.
    "$HUB" dlq list --config "$dir/hub.yaml" > /dev/null || { log "FAIL $name: could not create the store"; return 1; }
    sqlite3 "$db" "CREATE VIEW customers AS SELECT seq AS rowid, data AS doc FROM records;" \
      || { log "FAIL $name: could not create the view customers in $db"; return 1; }
    if port_busy "$port"; then log "FAIL $name: 127.0.0.1:$port is already in use"; return 1; fi
    local args=(--name "$name" --mode "$mode" --port "$port" --data "$DATA" --n "$N" --out "$db" --sink sqlite
                --result "$R/$name-r$k.json")
    if [ "$mode" = http ]; then args+=(--url /ingest --wrk-threads 1 --wrk-conns 16 --timeout 300)
    else args+=(--timeout 240); fi
    rc=0
    python3 "$PEERS/bin/run_peer.py" "${args[@]}" -- "$HUB" run --config "$dir/hub.yaml" || rc=$?
    # What the store holds after the hub stopped: every record one row, none dead-lettered.
    rows=$(sqlite3 -separator ' ' "$db" "SELECT count(*), count(DISTINCT id), (SELECT count(*) FROM profiles),
      (SELECT count(*) FROM dead_letters), (SELECT count(*) FROM sqlite_master WHERE type='view' AND name='customers')
      FROM records;") || rows="? ? ? ? ?"
    read -r n_rec n_ids n_prof n_dead n_view <<< "$rows"
    {
      echo "records=$n_rec distinct_ids=$n_ids profiles=$n_prof dead_letters=$n_dead view_customers=$n_view"
      if grep -q 'stopped cleanly' "$R/$name-r$k.json.log"; then echo "hub stopped cleanly"
      else echo "hub did NOT log 'stopped cleanly' (see $R/$name-r$k.json.log)"; fi
    } | tee "$R/$name-r$k.json.store"
    if [ "$rc" != 0 ]; then log "$name rep $k: run_peer.py reported a problem (exit $rc), see $R/$name-r$k.json"; bad=1; fi
    if [ "$n_rec" != "$N" ] || [ "$n_ids" != "$N" ] || [ "$n_dead" != 0 ] || [ "$n_view" != 1 ]; then
      log "$name rep $k: the store does not hold exactly N=$N distinct records without dead letters"; bad=1
    fi
    sleep 3
  done
  return "$bad"
}

failed=0
if want hub-http-store; then hub_scenario hub-http-store webhook http "$HTTP_PORT" pipeline-http.yaml.in || failed=1; fi
if want hub-tcp-store; then hub_scenario hub-tcp-store tcp tcp "$TCP_PORT" pipeline-tcp.yaml.in || failed=1; fi

# --- output ----------------------------------------------------------------------------------------
log "summary (peers' bin/summarize.py over $R)"
python3 "$PEERS/bin/summarize.py" "$R" > "$R/SUMMARY.md"
cat "$R/SUMMARY.md"
echo
python3 "$HERE/ratios.py" "$R" --hub "$HUB" --n "$N" > "$R/RATIOS.md"
cat "$R/RATIOS.md"
log "written: $R/SUMMARY.md $R/RATIOS.md"
exit "$failed"
