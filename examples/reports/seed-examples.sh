#!/usr/bin/env bash
# The two attribution examples of the source document (docs/reports.md), run
# through a hub started by scripts/run.sh with the example pipelines, then its
# reports. docs/reports.md shows this script's output.
#
#   1. Anna gets a credit-card letter, then a call about the card; she buys it.
#   2. Bob is called with a property insurance as his next best offer; at the
#      end of the call he opens a savings account instead.
#
# Usage: examples/reports/seed-examples.sh   (with the hub running; CONFIG, TP and VAR override)
set -euo pipefail
cd "$(dirname "$0")/../.."
CONFIG=${CONFIG:-config/touchpoint.yaml}
TP=${TP:-build/core/touchpoint}
VAR=${VAR:-var}
R=${RECORDS_URL:-http://127.0.0.1:8080/v1/records}

post() { curl -sf "$R" -H 'content-type: application/json' -d "$1" >/dev/null; }
# Waits until a query on the store prints what is expected (the hub applies in the background).
wait_for() {
  for _ in $(seq 1 100); do
    [[ "$(sqlite3 "$VAR/touchpoint.db" "$1")" == "$2" ]] && return 0
    sleep 0.2
  done
  echo "timed out waiting for: $1 = $2" >&2
  exit 1
}

address='{"street":"Hauptstr. 1","zip":"10115","city":"Berlin"}'
post '[{"type":"profile","data":{"customer_id":"C-101","email":"anna@example.de","phone":"+49 30 1111111","first_name":"Anna","last_name":"Schmidt","address":'"$address"'}},
       {"type":"consent","data":{"customer":"anna@example.de","channel":"post","purpose":"marketing","status":"granted"}},
       {"type":"consent","data":{"customer":"anna@example.de","channel":"phone","purpose":"marketing","status":"granted"}},
       {"type":"profile","data":{"customer_id":"C-102","email":"bob@example.de","phone":"+49 30 2222222","first_name":"Bob","last_name":"Meier"}},
       {"type":"consent","data":{"customer":"bob@example.de","channel":"phone","purpose":"marketing","status":"granted"}}]'
wait_for "select count(*) from profiles where attributes like '%C-10%'" 2

# 1. The letter first, then the call (each contact request names its campaign and offer).
post '{"type":"contact_request","id":"card-letter:C-101","data":{"customer":"anna@example.de","channel":"post","campaign":"card-letter","purpose":"marketing","offer":"credit-card","offer_category":"cards"}}'
wait_for "select state from contacts where request_id='card-letter:C-101'" sent
post '{"type":"contact_request","id":"card-call:C-101","data":{"customer":"anna@example.de","channel":"phone","campaign":"card-call","purpose":"marketing","offer":"credit-card","offer_category":"cards"}}'
# 2. The insurance call to Bob.
post '{"type":"contact_request","id":"insurance-call:C-102","data":{"customer":"bob@example.de","channel":"phone","campaign":"insurance-call","purpose":"marketing","offer":"property-insurance","offer_category":"insurance"}}'
wait_for "select count(*) from contacts where request_id in ('card-call:C-101','insurance-call:C-102') and state='sent'" 2

# The call center's dispositions: Anna was reached; Bob bought, but savings.
anna_call=$(sqlite3 "$VAR/touchpoint.db" "select id from contacts where request_id='card-call:C-101'")
bob_call=$(sqlite3 "$VAR/touchpoint.db" "select id from contacts where request_id='insurance-call:C-102'")
mkdir -p "$VAR/inbox/dispositions"
printf 'contact_id,outcome,product,category\n%s,reached,,\n%s,sale,savings-account,savings\n' "$anna_call" "$bob_call" \
  > "$VAR/inbox/dispositions/seed.tmp"
mv "$VAR/inbox/dispositions/seed.tmp" "$VAR/inbox/dispositions/seed.csv"
# Anna orders the card online the next day.
post '{"type":"event","id":"order-C-101-card","data":{"customer":"anna@example.de","event_type":"purchase","product":"credit-card","category":"cards","revenue":29.0,"at":"'"$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%SZ)"'"}}'
wait_for "select count(*) from timeline where event_type='purchase' and profile_id in (select profile_id from identities where value in ('anna@example.de','bob@example.de'))" 2

for model in first_touch last_touch linear position_based time_decay treatment; do
  echo "\$ touchpoint report attribution --model $model"
  "$TP" report attribution --model "$model" --config "$CONFIG" | grep -E '^model|card|insurance|unattributed|total'
done
echo "\$ touchpoint report campaigns"
"$TP" report campaigns --config "$CONFIG" | cut -d' ' -f1-200
