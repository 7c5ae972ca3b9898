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
int dp_cmd_sweep(int argc, char **argv);

#endif
