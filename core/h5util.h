/* Small HDF5 helpers shared by the results file (core/h5out.c) and the
 * sweep table (sim/sweep_store.c). Objects are created without modification
 * times, so the same content writes the same bytes. Each returns 0 or 1. */
#ifndef DP_H5UTIL_H
#define DP_H5UTIL_H

#include <hdf5.h>

int dp_h5_attr_str(hid_t obj, const char *name, const char *v);
int dp_h5_attr_num(hid_t obj, const char *name, double v);
/* Integers stay integers (int64 / uint64 attributes). */
int dp_h5_attr_int(hid_t obj, const char *name, long long v);
int dp_h5_attr_u64(hid_t obj, const char *name, unsigned long long v);
/* Create and write a dataset of `rank` dims (an empty one when dims[0] == 0). */
int dp_h5_dataset(hid_t loc, const char *name, hid_t type, int rank, const hsize_t *dims,
                  const void *data);
/* A text attribute attr on the object loc/name (name "." for loc itself). */
int dp_h5_note(hid_t loc, const char *name, const char *attr, const char *text);
/* Attributes "units" and "description" on the object loc/name (a dataset
 * or a group; name "." for loc itself); with column set, "COLUMN.units"
 * and "COLUMN.description" instead (a field of a compound dataset, a
 * figure kept as an attribute). A NULL units or description is skipped. */
int dp_h5_describe(hid_t loc, const char *name, const char *column, const char *units,
                   const char *description);
/* A group without modification times; < 0 on failure. */
hid_t dp_h5_group(hid_t loc, const char *name);

#endif
