/* Front-end helpers shared by the dualpath subcommands. */
#ifndef DP_CLI_H
#define DP_CLI_H

#include <signal.h>
#include <stdint.h>

#include "core/scenario.h"

extern volatile sig_atomic_t dp_interrupted;
void dp_cli_install_signals(void);
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
int dp_cmd_sweep(int argc, char **argv);

#endif
