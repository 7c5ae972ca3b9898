/* The `dualpath hw ...` front end of the hardware shim.
 *
 * dp_hw_main() takes argv with argv[0] = "hw" (or a program name) and
 * argv[1] the subcommand, as `dualpath` passes them:
 *   bench      batched KV block copies against bulk copies (name=value lines)
 *   calibrate  measure this machine and write a hardware YAML (models/hw/)
 *   store      write a KV block store, read it back through the SNIC bucket
 *   verbs      probe the RDMA devices
 *   run        run a scenario on the GPUs (when the build has the core)
 * Returns the process exit status: 0 ok, 1 failure, 2 usage / no support.
 * It is the main of the program dualpath-hw (hw_cli.c), which `dualpath hw`
 * executes; a build without CUDA has no dualpath-hw, and `dualpath hw` says
 * so. */
#ifndef DP_HW_H
#define DP_HW_H

int dp_hw_main(int argc, char **argv);

#endif
