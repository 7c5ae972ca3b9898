# Sourced by the e2e scripts that signal or kill the program. With
# DUALPATH_TEST_WAIT=WHERE[=N] (sim/cli.h) the program stops at a chosen
# point, prints "dualpath: test: waiting for a signal at ..." on stderr and
# waits (at most a minute) for SIGINT or SIGTERM; the test sends its signal
# only after reading that line, so no sleep races the program.

# wait_ready PID FILE: until FILE holds that line. Fails if PID ended first
# or after a minute (the program gives up waiting by then too).
wait_ready() {
  local i=0
  until grep -q "dualpath: test: waiting for a signal" "$2" 2>/dev/null; do
    kill -0 "$1" 2>/dev/null || return 1
    [ $i -ge 1200 ] && return 1
    sleep 0.05; i=$((i + 1))
  done
}

# gone PATTERN: until no process's command line matches PATTERN (processes
# killed with their parent take a moment to go); fails after 10 s.
gone() {
  local i=0
  while pgrep -f "$1" >/dev/null; do
    [ $i -ge 200 ] && return 1
    sleep 0.05; i=$((i + 1))
  done
}
