/* dualpath-hw: `dualpath hw ...` as its own program. It links only the hw
 * shim (no HDF5), so the standalone build runs on the GPU machines as built
 * on the development machines. `dualpath-hw calibrate` = `dualpath hw
 * calibrate`. */
#include "hw/hw.h"

int main(int argc, char **argv)
{
    return dp_hw_main(argc, argv);
}
