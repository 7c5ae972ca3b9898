/* libFuzzer target: the Qwen-Bailian usage-trace reader (traces/bailian.c)
 * and the DAG-session builder behind it (traces/dag.c). Beyond "no crash,
 * no leak, no UB": an accepted trace is well formed (fuzz_dag.h), replays
 * closed and open loop on a 1 PE + 1 DE cluster with the invariant checker
 * on, and converts to Mooncake and sessions files that read back. */
#include "fuzz_dag.h"

static int fuzz_bailian_one(const uint8_t *data, size_t size)
{
    return fz_dag_one(data, size, dp_bailian_load);
}

#ifndef DP_FUZZ_REPLAY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_bailian_one(data, size);
}
#endif
