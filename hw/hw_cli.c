/* dualpath-hw: `dualpath hw ...` as its own program, the only one that links
 * CUDA (`dualpath hw ARGS` executes `dualpath-hw ARGS`, so no other command
 * loads cuBLAS). In the standalone build (cmake -S hw) it links only the hw
 * shim (no HDF5), so it runs on the GPU machines as built on the development
 * machines. */
#include "hw/hw.h"

int main(int argc, char **argv)
{
    return dp_hw_main(argc, argv);
}
