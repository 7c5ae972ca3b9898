#!/usr/bin/env bash
# An unusable output path fails before any simulation, with one line saying
# why, a non-zero exit, nothing on stdout (no summary: nothing was run) and
# nothing left behind: a missing folder, a folder given as a file, a path
# ending in '/', a folder that takes no new files, for run, compare and
# sweep. A prefix ending in '/' used to write hidden files (DIR/-basic.h5).
set -u
DP="$1"; ROOT="$2"
T="$(mktemp -d)"; trap 'chmod -R u+w "$T"; rm -rf "$T"' EXIT
fail=0; pass=0
ok() { pass=$((pass+1)); }
bad() { echo "FAIL $1"; fail=$((fail+1)); }
SCEN="$ROOT/tests/data/small.yaml"
SWEEP="$ROOT/tests/data/sweep_max_rate.yaml"
mkdir -p "$T/dir" "$T/ro"
chmod 555 "$T/ro"
# root writes into a mode 555 folder anyway: then use one no one may write in
RO="$T/ro"
[ "$(id -u)" -eq 0 ] && RO=/sys

expect() {  # NAME PATTERN COMMAND...
  local name="$1" pat="$2"; shift 2
  local before; before="$(find "$T" | sort)"
  "$DP" "$@" >"$T/out" 2>"$T/err"; local rc=$?
  [ $rc -ne 0 ] && ok || bad "$name: exit 0"
  grep -qF -- "$pat" "$T/err" && ok || { bad "$name: stderr lacks '$pat':"; cat "$T/err"; }
  [ "$(wc -l <"$T/err")" -eq 1 ] && ok || { bad "$name: not one line:"; cat "$T/err"; }
  [ ! -s "$T/out" ] && ok || { bad "$name: something ran (stdout not empty):"; head -3 "$T/out"; }
  rm -f "$T/out" "$T/err"
  [ "$(find "$T" | sort)" = "$before" ] && ok || bad "$name: files were left: $(find "$T" -newer "$SCEN" -type f)"
}

for cmd in run compare sweep; do
  s="$SCEN"; [ $cmd = sweep ] && s="$SWEEP"
  expect "$cmd trailing /" "names a folder, not a name for the results" $cmd "$s" -q -o "$T/dir/"
  expect "$cmd missing folder" "the folder $T/nodir does not exist" $cmd "$s" -q -o "$T/nodir/x"
  expect "$cmd read-only folder" "cannot create files in the folder $RO" $cmd "$s" -q -o "$RO/x"
done
expect "run: a folder as the file" "$T/dir: is a folder; name a file inside it, e.g. $T/dir/small.h5" run "$SCEN" -q -o "$T/dir"
expect "run: -o ." "names a folder" run "$SCEN" -q -o .
expect "run: not a regular file" "/dev/null: exists and is not a regular file" run "$SCEN" -q -o /dev/null
# compare and sweep: a file under one of the names they will write is checked too
mkdir "$T/c-dualpath.h5"
expect "compare: one of its files is a folder" "$T/c-dualpath.h5: is a folder" compare "$SCEN" -q -o "$T/c"
rmdir "$T/c-dualpath.h5"
mkdir "$T/s.csv"
expect "sweep: one of its files is a folder" "$T/s.csv: is a folder" sweep "$SWEEP" -q -o "$T/s"
rmdir "$T/s.csv"

# a good prefix in an existing folder still works, and nothing hidden is written
"$DP" compare "$SCEN" -q --no-plot -o "$T/dir/c" >/dev/null 2>&1 && ok || bad "compare into a folder"
[ "$(ls -A "$T/dir")" = "$(printf 'c-basic.h5\nc-dualpath.h5\nc-oracle.h5')" ] && ok || bad "compare wrote: $(ls -A "$T/dir")"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
