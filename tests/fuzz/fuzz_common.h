/* Shared by the libFuzzer targets: the loaders take file paths, so each
 * input is written to one file in a per-process scratch folder under
 * /tmp (removed at exit) and the loader reads it back. */
#ifndef DP_FUZZ_COMMON_H
#define DP_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char fz_dir[64];

static void fz_cleanup(void)
{
    char cmd[128];
    if (!fz_dir[0])
        return;
    /* only what this process made: the folder and the files named below */
    static const char *const names[] = { "input.yaml", "input.jsonl", "round.jsonl",
                                         "round.jsonl.tmp", NULL };
    for (const char *const *n = names; *n; n++) {
        snprintf(cmd, sizeof cmd, "%s/%s", fz_dir, *n);
        unlink(cmd);
    }
    rmdir(fz_dir);
}

/* Path of a file NAME in the scratch folder (created on first use). */
static const char *fz_path(const char *name)
{
    static char path[128];
    if (!fz_dir[0]) {
        snprintf(fz_dir, sizeof fz_dir, "/tmp/dp_fuzz.%ld", (long)getpid());
        if (mkdir(fz_dir, 0700) && access(fz_dir, W_OK)) {
            perror(fz_dir);
            abort();
        }
        atexit(fz_cleanup);
    }
    snprintf(path, sizeof path, "%s/%s", fz_dir, name);
    return path;
}

/* Write the input to NAME; returns its path. */
static const char *fz_write(const char *name, const uint8_t *data, size_t size)
{
    const char *p = fz_path(name);
    FILE *f = fopen(p, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f)) {
        perror(p);
        abort();
    }
    return p;
}

/* An error message must be a terminated string of bounded length. */
static void fz_check_msg(const char *msg, size_t cap)
{
    if (!memchr(msg, 0, cap))
        abort();
}

#endif
