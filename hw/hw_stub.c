/* dp_hw_main for builds without CUDA: one line, exit status 2. */
#include <stdio.h>

#include "hw/hw.h"

int dp_hw_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "dualpath hw: this build has no CUDA support "
                    "(configure with CUDA toolkit present, DP_WITH_CUDA=ON)\n");
    return 2;
}
