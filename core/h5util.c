#include "core/h5util.h"

#include <stdio.h>
#include <string.h>

int dp_h5_attr_str(hid_t obj, const char *name, const char *v)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, strlen(v) + 1);
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
    int rc = a < 0 || H5Awrite(a, t, v) < 0;
    if (a >= 0)
        H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(t);
    return rc;
}

static int attr_scalar(hid_t obj, const char *name, hid_t type, const void *v)
{
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(obj, name, type, sp, H5P_DEFAULT, H5P_DEFAULT);
    int rc = a < 0 || H5Awrite(a, type, v) < 0;
    if (a >= 0)
        H5Aclose(a);
    H5Sclose(sp);
    return rc;
}

int dp_h5_attr_num(hid_t obj, const char *name, double v)
{
    return attr_scalar(obj, name, H5T_NATIVE_DOUBLE, &v);
}

int dp_h5_attr_int(hid_t obj, const char *name, long long v)
{
    return attr_scalar(obj, name, H5T_NATIVE_LLONG, &v);
}

int dp_h5_attr_u64(hid_t obj, const char *name, unsigned long long v)
{
    return attr_scalar(obj, name, H5T_NATIVE_ULLONG, &v);
}

int dp_h5_dataset(hid_t loc, const char *name, hid_t type, int rank, const hsize_t *dims,
                  const void *data)
{
    hid_t sp = H5Screate_simple(rank, dims, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_obj_track_times(dcpl, 0);
    hid_t d = H5Dcreate2(loc, name, type, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    int rc = d < 0;
    if (!rc && dims[0] > 0)
        rc = H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0;
    if (d >= 0)
        H5Dclose(d);
    H5Pclose(dcpl);
    H5Sclose(sp);
    return rc;
}

int dp_h5_note(hid_t loc, const char *name, const char *attr, const char *text)
{
    hid_t o = H5Oopen(loc, name, H5P_DEFAULT);
    if (o < 0)
        return 1;
    int rc = dp_h5_attr_str(o, attr, text);
    H5Oclose(o);
    return rc;
}

int dp_h5_describe(hid_t loc, const char *name, const char *column, const char *units,
                   const char *description)
{
    char an[300];
    int rc = 0;
    if (units) {
        snprintf(an, sizeof an, "%s%sunits", column ? column : "", column ? "." : "");
        rc |= dp_h5_note(loc, name, an, units);
    }
    if (description) {
        snprintf(an, sizeof an, "%s%sdescription", column ? column : "", column ? "." : "");
        rc |= dp_h5_note(loc, name, an, description);
    }
    return rc;
}

hid_t dp_h5_group(hid_t loc, const char *name)
{
    hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE);
    H5Pset_obj_track_times(gcpl, 0);
    hid_t g = H5Gcreate2(loc, name, H5P_DEFAULT, gcpl, H5P_DEFAULT);
    H5Pclose(gcpl);
    return g;
}
