#!/usr/bin/env bash
# Trace formats end to end: a file of each format (Mooncake, agent
# sessions, Qwen-Bailian, Dynamo agentic) replays closed and open loop;
# trace stats reads each; trace convert writes files that read back and
# replay; --time-scale / --rate compress arrivals; bad files and bad block
# sizes fail with FILE:LINE: field; an unusable output fails before work.
set -u
DP="$1"; ROOT="$2"
T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT
fail=0; pass=0
ok() { pass=$((pass+1)); }
bad() { echo "FAIL $1"; fail=$((fail+1)); }
D="$ROOT/tests/data"
S="$D/small.yaml"

# each format, each replay mode: every request done
for f in mooncake_mixed.jsonl sessions_toy.jsonl bailian_toy.jsonl agentic_toy.jsonl; do
  for mode in closed open; do
    "$DP" run "$S" --trace "$D/$f" --replay $mode -q -o "$T/r.h5" >"$T/out" 2>&1 \
      && grep -qE "workload .*: [0-9]+ requests done, 0 failed" "$T/out" && ok \
      || { bad "replay $f $mode"; cat "$T/out"; }
  done
done
# counts: Bailian 6 requests, Dynamo 6, sessions toy 6
"$DP" run "$S" --trace "$D/bailian_toy.jsonl" -q -o "$T/b.h5" | grep -q "6 requests done" && ok || bad "bailian count"
"$DP" run "$S" --trace "$D/agentic_toy.jsonl" --replay open -q -o "$T/a.h5" | grep -q "6 requests done" && ok || bad "agentic open count"
# same trace, same seed: same bytes (closed-loop DAG)
"$DP" run "$S" --trace "$D/agentic_toy.jsonl" -q -o "$T/a1.h5" >/dev/null
"$DP" run "$S" --trace "$D/agentic_toy.jsonl" -q -o "$T/a2.h5" >/dev/null
cmp -s "$T/a1.h5" "$T/a2.h5" && ok || bad "DAG replay not byte-identical"

# trace stats on each format
"$DP" trace stats "$D/bailian_toy.jsonl" --block-tokens 64 >"$T/out" 2>&1
grep -q "^prefix reuse   72.5% of input tokens (16-token hash blocks)" "$T/out" && ok || { bad "bailian stats"; cat "$T/out"; }
grep -q "^at 64 tokens   prefix reuse 36.3% (loss 36.3 points from 16-token blocks)" "$T/out" && ok || bad "bailian loss"
"$DP" trace stats "$D/agentic_toy.jsonl" >"$T/out" 2>&1
grep -q "^sessions       2 (1 with branches or joins)" "$T/out" && ok || { bad "agentic stats"; cat "$T/out"; }
grep -q "74.8% in tools" "$T/out" && ok || bad "agentic tool share"
"$DP" trace stats "$D/mooncake_mixed.jsonl" | grep -q "^requests       4" && ok || bad "mooncake stats"
"$DP" trace stats "$D/sessions_toy.jsonl" | grep -q "^turns/session  mean 2.0" && ok || bad "sessions stats"
"$DP" trace stats "$D/bailian_toy.jsonl" --format agentic >"$T/out" 2>&1 && bad "wrong --format accepted" || ok
grep -q "bailian_toy.jsonl:1: field 'request_id': missing" "$T/out" && ok || { bad "wrong --format message"; cat "$T/out"; }
if /usr/bin/python3 -c "import matplotlib" 2>/dev/null; then
  "$DP" trace stats "$D/agentic_toy.jsonl" --plot "$T/p.png" >/dev/null 2>&1 && [ -s "$T/p.png" ] && [ -s "$T/p.png.tsv" ] && ok || bad "stats plot"
fi

# convert, read back, replay
"$DP" trace convert "$D/agentic_toy.jsonl" -o "$T/m.jsonl" --to mooncake >/dev/null && ok || bad "convert to mooncake"
"$DP" trace stats "$T/m.jsonl" | grep -q "^requests       6" && ok || bad "converted mooncake"
"$DP" trace convert "$D/bailian_toy.jsonl" -o "$T/s.jsonl" --to sessions >"$T/out" && ok || bad "convert to sessions"
grep -q "1 sessions with branches, joins or context resets written as chains" "$T/out" && ok || { bad "convert note"; cat "$T/out"; }
"$DP" run "$S" --trace "$T/s.jsonl" -q -o "$T/s.h5" | grep -q "6 requests done" && ok || bad "replay converted sessions"
"$DP" trace convert "$D/sessions_toy.jsonl" -o "$T/m2.jsonl" --to mooncake >/dev/null && \
  "$DP" trace stats "$T/m2.jsonl" | grep -q "^requests       6" && ok || bad "sessions to mooncake"
"$DP" trace convert "$D/agentic_toy.jsonl" -o "$T/nodir/x.jsonl" --to mooncake >"$T/out" 2>&1 && bad "unwritable output accepted" || ok
grep -q "x.jsonl: cannot write" "$T/out" && ok || { bad "unwritable output message"; cat "$T/out"; }

# time scale and rate: arrivals compressed, the trace's span shrinks
"$DP" run "$S" --trace "$D/mooncake_head.jsonl" --time-scale 0.5 -q -o "$T/h.h5" | grep -q "200 requests done" && ok || bad "time-scale"
"$DP" run "$S" --trace "$D/mooncake_head.jsonl" --rate 10 -q -o "$T/h.h5" | grep -q "200 requests done" && ok || bad "rate"
"$DP" run "$S" --trace "$D/mooncake_head.jsonl" --rate 10 --time-scale 0.5 -q -o "$T/h.h5" >"$T/out" 2>&1 && bad "rate and time-scale" || ok
grep -q "field 'workload.rate': give workload.rate or workload.time_scale, not both" "$T/out" && ok || { bad "rate+scale message"; cat "$T/out"; }

# the quick-start cluster under 20x the recorded arrival rate: the 200
# requests arrive within 3 s instead of 58 s and queue (TTFT p50 grows)
Q="$ROOT/scenarios/quickstart.yaml"
"$DP" run "$Q" --trace "$D/mooncake_head.jsonl" -q -o "$T/q1.h5" >"$T/q1" 2>&1
"$DP" run "$Q" --trace "$D/mooncake_head.jsonl" --time-scale 0.05 -q -o "$T/q2.h5" >"$T/q2" 2>&1
p50() { awk '/TTFT  p50/ {print $4}' "$1"; }
jct() { awk '/job completion time/ {print $4}' "$1"; }
awk -v a="$(p50 "$T/q1")" -v b="$(p50 "$T/q2")" 'BEGIN { exit !(b > 10 * a) }' && ok || bad "time-scale 0.05 does not load the cluster"
awk -v a="$(jct "$T/q1")" -v b="$(jct "$T/q2")" 'BEGIN { exit !(b < a / 4) }' && ok || bad "time-scale 0.05 does not compress the run"

# block sizes that do not map; bad files name file:line:field
"$DP" run "$S" --trace "$D/bailian_toy.jsonl" --set workload.block_tokens=24 -q -o "$T/x.h5" >"$T/out" 2>&1 && bad "block 24 accepted" || ok
grep -q "16-token blocks and the scenario's workload.block_tokens is 24" "$T/out" && ok || { bad "block message"; cat "$T/out"; }
"$DP" run "$S" --trace "$D/bad/agentic_cycle.jsonl" -q -o "$T/x.h5" >"$T/out" 2>&1 && bad "cycle accepted" || ok
grep -q "agentic_cycle.jsonl:1: field 'wait_for': cycle:" "$T/out" && ok || { bad "cycle message"; cat "$T/out"; }
[ ! -e "$T/x.h5" ] && ok || bad "results written on a bad trace"
"$DP" run "$S" --trace "$D/bailian_toy.jsonl" --replay sometimes -q -o "$T/x.h5" >"$T/out" 2>&1 && bad "bad --replay accepted" || ok
grep -q "workload.replay" "$T/out" && ok || { bad "bad --replay message"; cat "$T/out"; }
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
