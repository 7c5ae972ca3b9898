#!/usr/bin/env bash
# The layout's include rules (DESIGN.md, "Layout"): a folder includes only
# folders below it in the table
#   cli > plan > sim, hw > core > models, traces > base
# with sim and hw never including each other, traces and models only base/,
# base/ nothing of the project and only C library headers; core/ has no
# #ifdef for a backend. Every #include "folder/..." of every source file is
# checked. $1 (the dualpath binary) is not used; $2 is the source tree.
set -u
ROOT="$2"
fail=0; pass=0
bad() { echo "FAIL $1"; fail=$((fail+1)); }

# folder -> the project folders its files may include (itself included)
declare -A MAY=(
  [base]="base"
  [models]="models base"
  [traces]="traces base"
  [core]="core models traces base"
  [sim]="sim core models traces base"
  [hw]="hw core models traces base"
  [plan]="plan sim core models traces base"
  [cli]="cli plan sim core models traces base"
)

for dir in "${!MAY[@]}"; do
  [ -d "$ROOT/$dir" ] || continue
  while IFS= read -r hit; do
    file="${hit%%:*}"
    inc="$(sed -E 's/.*#[[:space:]]*include[[:space:]]*"([^"]+)".*/\1/' <<<"$hit")"
    case "$inc" in
      */*) top="${inc%%/*}" ;;
      *) bad "${file#$ROOT/}: #include \"$inc\": name the folder (\"$dir/$inc\")"; continue ;;
    esac
    if [[ " ${MAY[$dir]} " != *" $top "* ]]; then
      bad "${file#$ROOT/}: #include \"$inc\": $dir/ may include only ${MAY[$dir]}"
    else
      pass=$((pass+1))
    fi
  done < <(grep -HnE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' \
             $(find "$ROOT/$dir" -type f \( -name '*.c' -o -name '*.h' -o -name '*.cu' \)) 2>/dev/null)
done

# base/: the C library (and POSIX) only
LIBC='assert|ctype|errno|float|inttypes|limits|math|stdalign|stdarg|stdatomic|stdbool|stddef|stdint|stdio|stdlib|string|time|pthread|unistd'
while IFS= read -r hit; do
  hdr="$(sed -E 's/.*<([^>]+)>.*/\1/' <<<"$hit")"
  if [[ ! "$hdr" =~ ^($LIBC)\.h$ ]]; then
    file="${hit%%:*}"
    bad "${file#$ROOT/}: #include <$hdr>: base/ includes only the C library"
  else
    pass=$((pass+1))
  fi
done < <(grep -HnE '^[[:space:]]*#[[:space:]]*include[[:space:]]*<' "$ROOT"/base/*.[ch])

# core/: no backend #ifdefs (the seam is the only way to a platform)
while IFS= read -r hit; do
  bad "${hit#$ROOT/}: core/ must not depend on a backend at compile time"
done < <(grep -HnE '^[[:space:]]*#[[:space:]]*(if|ifdef|ifndef|elif).*(CUDA|CUDACC|VERBS|DP_HAVE_|DP_WITH_|DP_HW|MPI)' \
           "$ROOT"/core/*.[ch] "$ROOT"/core/*/*.[ch] 2>/dev/null)

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 100 ]
