#!/usr/bin/env bash
# The documentation quotes what the code prints, and nothing else: every
# marked output block of every *.md (scripts/doc_outputs.py; the README's
# quick start and capacity-planning answer, scenarios/planning/README.md)
# equals, line for line, a fresh run of its command; the README's package
# list is scripts/setup.sh's; DUALPATH_CHECK=1 says that the checks ran.
set -u
DP="$1"; ROOT="$2"
T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT
fail=0; pass=0
ok() { pass=$((pass+1)); }
bad() { echo "FAIL $1"; fail=$((fail+1)); }

/usr/bin/python3 "$ROOT/scripts/doc_outputs.py" --check --dualpath "$DP" >"$T/out" 2>&1 && ok ||
  { bad "quoted outputs differ from the code's (scripts/doc_outputs.py --update rewrites them):"; cat "$T/out"; }
n="$(sed -nE 's/^doc_outputs.py: ([0-9]+) quoted outputs checked.*/\1/p' "$T/out")"
[ "${n:-0}" -ge 4 ] && ok || bad "only ${n:-0} quoted outputs found (README: 2, scenarios/planning/README.md: 2)"
grep -q "<!-- output of: dualpath run scenarios/quickstart.yaml" "$ROOT/README.md" && ok || bad "README quick start not marked"
grep -q "<!-- output of: dualpath sweep scenarios/planning/least-gpus.yaml" "$ROOT/README.md" && ok || bad "README planning answer not marked"

# the README's package list is setup.sh's
readme="$(tr '\n' ' ' <"$ROOT/README.md" | sed -nE 's/.*Packages it installs \(`scripts\/setup.sh`\): `([^`]*)`.*/\1/p' | tr -s ' ' '\n' | sort)"
setup="$(sed -n '/^PKGS=(/,/)/p' "$ROOT/scripts/setup.sh" | tr -d '()' | sed 's/PKGS=//' | tr -s ' \n' '\n' | grep -v '^$' | sort)"
[ -n "$setup" ] && [ "$readme" = "$setup" ] && ok || { bad "README package list differs from scripts/setup.sh:"; diff <(echo "$readme") <(echo "$setup"); }

# DUALPATH_CHECK=1 shows that the checks ran; without it, nothing
DUALPATH_CHECK=1 "$DP" run "$ROOT/tests/data/small.yaml" -q -o "$T/c.h5" >"$T/c.out" 2>&1
grep -qE "^checks     DUALPATH_CHECK: 2845 events, [0-9]+ link settles, 2845 engine states within bounds; end of run: every request completed once" "$T/c.out" && ok || { bad "DUALPATH_CHECK=1 says nothing"; cat "$T/c.out"; }
DUALPATH_CHECK=0 "$DP" run "$ROOT/tests/data/small.yaml" -q -o "$T/c.h5" >"$T/c.out" 2>&1
grep -q "^checks" "$T/c.out" && bad "DUALPATH_CHECK=0 prints a checks line" || ok
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
