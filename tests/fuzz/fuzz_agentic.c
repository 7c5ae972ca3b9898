/* libFuzzer target: the Dynamo agentic-row reader (traces/agentic.c): ids,
 * wait_for and branches resolved after the last line, block size inference,
 * cycles; and the DAG-session builder (traces/dag.c). The same checks as
 * fuzz_bailian.c (fuzz_dag.h). */
#include "fuzz_dag.h"

static int fuzz_agentic_one(const uint8_t *data, size_t size)
{
    return fz_dag_one(data, size, dp_agentic_load);
}

#ifndef DP_FUZZ_REPLAY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_agentic_one(data, size);
}
#endif
