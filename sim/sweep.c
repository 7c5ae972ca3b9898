/* dualpath sweep: capacity planning (see scenarios/planning/). */
#include <stdio.h>

#include "sim/cli.h"

int dp_cmd_sweep(int argc, char **argv)
{
    fprintf(stderr, "dualpath sweep: not available in this version yet\n");
    return 2;
}
