#include "sim/plot.h"

#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

int dp_plot(const char *script, const char *png, const char *const *files, int n)
{
    char path[1024];
    const char *dir = getenv("DUALPATH_SCRIPTS");
    snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : DP_SCRIPTS_DIR, script);
    if (access(path, R_OK) != 0 || access("/usr/bin/python3", X_OK) != 0) {
        fprintf(stderr, "dualpath: no plot (%s or /usr/bin/python3 missing)\n", path);
        return -1;
    }
    char **argv = calloc((size_t)n + 5, sizeof *argv);
    if (!argv)
        return -1;
    int k = 0;
    argv[k++] = "/usr/bin/python3";
    argv[k++] = path;
    argv[k++] = (char *)png;
    for (int i = 0; i < n; i++)
        argv[k++] = (char *)files[i];
    pid_t pid;
    int status = -1;
    int rc = posix_spawn(&pid, argv[0], NULL, NULL, argv, environ);
    free(argv);
    if (rc || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
        fprintf(stderr, "dualpath: the plot script %s failed (is python3-matplotlib installed?)\n", script);
        return -1;
    }
    return 0;
}
