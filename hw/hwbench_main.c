/* dualpath-hwbench: the block-copy benchmark as its own program (the same
 * as `dualpath hw bench`), for device runs that carry only hw binaries. */
#include "hw/bench.h"

int main(int argc, char **argv)
{
    return dp_hw_bench_main(argc, argv);
}
