/* Front-end helpers shared by the dualpath subcommands. */
#ifndef DP_CLI_H
#define DP_CLI_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "core/scenario.h"

#include "sim/run.h"

/* Set by the SIGINT/SIGTERM handler to the signal's number. */
extern volatile sig_atomic_t dp_interrupted;
/* Install the handlers: the first thing every command that simulates does. */
void dp_cli_install_signals(void);
/* dp_cli_install_signals, then the "start" test hook. */
void dp_cli_start(void);
/* The exit status of an interrupted command: 128 + the signal, as a shell
 * reports a process it killed. */
int dp_cli_interrupted_status(void);
/* Simulation options of a front-end command: progress when stderr is a
 * terminal and not quiet, the interrupt flag, the "event" test hook. */
struct dp_sim_opts dp_cli_sim_opts(int quiet, const char *label);

/* Test hooks, so that no test races a sleep against the program: with
 * DUALPATH_TEST_WAIT=WHERE[=N] in the environment, the program prints
 * "dualpath: test: waiting for a signal at WHERE N" on stderr when it
 * reaches that point and waits (at most a minute) for SIGINT or SIGTERM.
 * WHERE: start (signals handled, nothing loaded yet), event (the Nth
 * simulated event), point (the Nth sweep point journaled).
 * dp_cli_test_at returns N when WHERE is asked for (1 without =N), else 0. */
uint64_t dp_cli_test_at(const char *where);
void dp_cli_test_wait(const char *where, uint64_t n);
/* The options run, compare and sweep share. */
#define DP_CLI_MAX_SETS 64
struct dp_cli_common {
    const char *out, *trace;
    char *sets[DP_CLI_MAX_SETS];
    int n_sets, quiet, have_seed;
    uint64_t seed;
};
/* Take getopt's option opt (with its argument) if it is one of -o, --trace,
 * -q, --seed, --set, --version (getopt values 'o', 't', 'q', 's', 'S', 'V'):
 * 0 taken, 1 --version answered (exit 0), 2 a bad value (said on stderr,
 * naming the command cmd), -1 not one of them. */
int dp_cli_common_opt(struct dp_cli_common *c, int opt, const char *arg, const char *cmd);

/* Load a scenario, then apply --seed and --set KEY=VALUE overrides. */
int dp_cli_load_scenario(struct dp_scenario *sc, const char *file, uint64_t seed, int have_seed,
                         char **sets, int n_sets, struct dp_err *err);

int dp_cmd_compare(int argc, char **argv);
int dp_cmd_trace(int argc, char **argv);

/* Trace replay options of run and compare (sim/trace_cmd.c): getopt codes,
 * the long options, and the --set KEY=VALUE each becomes (workload.format,
 * replay, time_scale, rate, hash_block). dp_cli_replay_opt returns 1 when
 * c was one of them (appended to sets), 0 when not, -1 on too many. */
enum { DP_OPT_FORMAT = 1000, DP_OPT_REPLAY, DP_OPT_TIME_SCALE, DP_OPT_RATE, DP_OPT_HASH_BLOCK };
#define DP_REPLAY_LONG_OPTS                                                                   \
    { "format", required_argument, NULL, DP_OPT_FORMAT },                                     \
    { "replay", required_argument, NULL, DP_OPT_REPLAY },                                     \
    { "time-scale", required_argument, NULL, DP_OPT_TIME_SCALE },                             \
    { "rate", required_argument, NULL, DP_OPT_RATE },                                         \
    { "hash-block", required_argument, NULL, DP_OPT_HASH_BLOCK }
int dp_cli_replay_opt(int c, const char *arg, char **sets, int *n_sets);
/* Their lines in a sub-command's --help. */
#define DP_REPLAY_HELP                                                                    \
    "  --format F         the trace's format: mooncake, sessions, bailian, agentic\n"     \
    "                     (default: told by its fields)\n"                                \
    "  --replay closed|open  closed: a turn waits for its dependencies plus the\n"        \
    "                     recorded gap (session traces); open: every request at\n"       \
    "                     its timestamp\n"                                                \
    "  --time-scale X     multiply arrival times (0.05: 20x the load)\n"                  \
    "  --rate R           arrivals per second (sets the time scale)\n"                    \
    "  --hash-block N     tokens per hash id in the trace (default: the format's)\n"
/* --help or --version anywhere in a sub-command's own arguments: 1 (and
 * *rc set) when one was answered. */
int dp_cli_help_or_version(int argc, char **argv, void (*help)(FILE *), int *rc);
int dp_cmd_sweep(int argc, char **argv);

#endif
