/* `dualpath hw run SCENARIO.yaml`: a scenario on this machine's GPUs, with
 * the same core, scenario files and report as the simulator. */
#ifndef DP_HW_HWRUN_H
#define DP_HW_HWRUN_H

/* argv[0] is "run". Returns the process exit status. */
int dp_hw_run_main(int argc, char **argv);

#endif
