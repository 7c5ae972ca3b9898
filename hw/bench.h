/* Benchmarks and calibration behind `dualpath hw bench|calibrate|store`.
 * Each takes the arguments after its subcommand name (argv[0] is the
 * subcommand) and returns a process exit status. */
#ifndef DP_HW_BENCH_H
#define DP_HW_BENCH_H

/* Batched block copies against bulk copies; name=value lines on stdout. */
int dp_hw_bench_main(int argc, char **argv);

/* Measure the machine, write a hardware YAML (struct dp_hw's keys). */
int dp_hw_calibrate_main(int argc, char **argv);

/* Write a KV block store, read it back through a token bucket into pinned
 * buffers, move it to HBM with the gather kernel and verify it there. */
int dp_hw_store_main(int argc, char **argv);

#endif
