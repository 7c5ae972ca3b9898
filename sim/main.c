/* dualpath: the command-line front end.
 *   dualpath run SCENARIO.yaml [-o OUT.h5] [--seed N] [--trace FILE] [--set KEY=VALUE]...
 *   dualpath compare SCENARIO.yaml [--policies basic,dualpath,oracle] [-o PREFIX]
 *   dualpath sweep SCENARIO.yaml [-j N] [-o PREFIX] [--resume]
 *   dualpath trace stats|convert|gen ...   (sim/trace_cmd.c)
 *   dualpath hw ...          (when built with CUDA)
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/policy.h"
#include "core/report.h"
#include "sim/cli.h"
#include "sim/run.h"
#include "traces/trace.h"

volatile sig_atomic_t dp_interrupted;

static void on_signal(int sig)
{
    dp_interrupted = sig;
}

/* Called first by every command that simulates, before any scenario is
 * read: a signal that arrives while the workload is being built is kept,
 * and the run stops at its first event with its (empty) results marked
 * incomplete. SIGINT is set even when it was inherited as ignored: a job
 * that a non-interactive shell starts with & begins with SIGINT ignored,
 * and `kill -INT` must still stop it cleanly. */
void dp_cli_install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
}

int dp_cli_interrupted_status(void)
{
    return 128 + (dp_interrupted ? (int)dp_interrupted : SIGINT);
}

uint64_t dp_cli_test_at(const char *where)
{
    const char *e = getenv("DUALPATH_TEST_WAIT");
    size_t n = strlen(where);
    if (!e || strncmp(e, where, n) || (e[n] && e[n] != '='))
        return 0;
    return e[n] == '=' ? strtoull(e + n + 1, NULL, 10) : 1;
}

void dp_cli_test_wait(const char *where, uint64_t n)
{
    fprintf(stderr, "dualpath: test: waiting for a signal at %s %llu\n", where, (unsigned long long)n);
    fflush(stderr);
    /* at most a minute: a test that never signals fails on its own */
    for (int i = 0; i < 6000 && !dp_interrupted; i++)
        nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
}

static void event_hook(uint64_t events)
{
    dp_cli_test_wait("event", events);
}

struct dp_sim_opts dp_cli_sim_opts(int quiet, const char *label)
{
    struct dp_sim_opts o = { .progress = !quiet && isatty(2), .label = label, .interrupt = &dp_interrupted };
    o.hook_at = dp_cli_test_at("event");
    o.hook = o.hook_at ? event_hook : NULL;
    return o;
}

void dp_cli_start(void)
{
    dp_cli_install_signals();
    if (dp_cli_test_at("start"))
        dp_cli_test_wait("start", 1);
}

static int is_help(const char *a)
{
    return !strcmp(a, "--help") || !strcmp(a, "-h");
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: dualpath COMMAND [ARGS]\n"
            "\n"
            "Simulate agentic LLM inference on a prefill/decode cluster whose KV-Cache\n"
            "lives in external storage, under the Basic and DualPath policies.\n"
            "\n"
            "commands (each answers --help with its options):\n"
            "  run SCENARIO.yaml      simulate one scenario; summary on stdout, results in HDF5\n"
            "  compare SCENARIO.yaml  the same workload under several policies, side by side\n"
            "  sweep SCENARIO.yaml    capacity planning over the scenario's sweep: section\n"
            "  trace stats FILE       statistics of a trace (any format; --plot OUT.png)\n"
            "  trace convert IN -o OUT --to sessions|mooncake\n"
            "                         convert a trace between formats\n"
            "  trace gen SCENARIO.yaml -o FILE\n"
            "                         write the scenario's synthetic agents as a sessions trace\n"
            "  hw ...                 run on GPUs (builds with CUDA only): hw run, hw calibrate\n"
            "  policies               list the scheduling policies\n"
            "  keys                   list every scenario key\n"
            "\n"
            "  --help, --version\n"
            "\nScenario keys: scenarios/README.md. Results layout: core/h5out.c.\n");
}

static void run_usage(FILE *out)
{
    fprintf(out,
            "usage: dualpath run SCENARIO.yaml [options]\n"
            "\n"
            "Simulate one scenario: a summary on stdout, the results in an HDF5 file.\n"
            "\n"
            "  -o, --output FILE  results file (default: NAME.h5 in the current folder);\n"
            "                     checked before the simulation starts\n"
            "  --seed N           override the scenario's seed\n"
            "  --trace FILE       replay a trace instead of the scenario's workload: Mooncake,\n"
            "                     agent sessions, Qwen-Bailian or Dynamo agentic rows\n"
            DP_REPLAY_HELP
            "  --set KEY=VALUE    override any scenario key (e.g. cluster.prefill_engines=4,\n"
            "                     hardware.snic_bw=2.5e10, policy.name=dualpath); repeatable;\n"
            "                     dualpath keys lists them\n"
            "  -q, --quiet        no progress on stderr\n"
            "  -h, --help         this text\n"
            "\n"
            "Ctrl-C (SIGINT) or SIGTERM stops the run at its next event and writes the\n"
            "results so far, marked incomplete; the exit status is then 128 + the signal.\n");
}

int dp_cli_common_opt(struct dp_cli_common *c, int opt, const char *arg, const char *cmd)
{
    char *end;
    switch (opt) {
    case 'V': printf("dualpath %s\n", DP_VERSION); return 1;
    case 'o': c->out = arg; return 0;
    case 't': c->trace = arg; return 0;
    case 'q': c->quiet = 1; return 0;
    case 's':
        errno = 0;
        c->seed = strtoull(arg, &end, 10);
        if (!*arg || *end || errno || arg[0] == '-') {
            fprintf(stderr, "dualpath %s: --seed '%s': expected a non-negative integer\n", cmd, arg);
            return 2;
        }
        c->have_seed = 1;
        return 0;
    case 'S':
        if (c->n_sets == DP_CLI_MAX_SETS) {
            fprintf(stderr, "dualpath %s: at most %d --set options\n", cmd, DP_CLI_MAX_SETS);
            return 2;
        }
        c->sets[c->n_sets++] = (char *)arg;
        return 0;
    }
    /* the replay options are scenario keys too (workload.format, ...) */
    int r = dp_cli_replay_opt(opt, arg, c->sets, &c->n_sets);
    return r == 1 ? 0 : r < 0 ? 2 : -1;
}

int dp_cli_load_scenario(struct dp_scenario *sc, const char *file, uint64_t seed, int have_seed,
                         char **sets, int n_sets, struct dp_err *err)
{
    int rc = dp_scenario_load(sc, file, err);
    if (rc)
        return rc;
    if (have_seed)
        sc->seed = seed;
    for (int i = 0; i < n_sets; i++) {
        char key[256];
        const char *eq = strchr(sets[i], '=');
        if (!eq || eq == sets[i] || (size_t)(eq - sets[i]) >= sizeof key)
            return dp_err_set(err, DP_EINVAL, "--set '%s': expected KEY=VALUE", sets[i]);
        snprintf(key, sizeof key, "%.*s", (int)(eq - sets[i]), sets[i]);
        rc = dp_scenario_set(sc, key, eq + 1, "--set", err);
        if (rc)
            return rc;
    }
    return sets && n_sets ? dp_scenario_validate(sc, err) : 0;
}

static int cmd_run(int argc, char **argv)
{
    static const struct option opts[] = {
        { "output", required_argument, NULL, 'o' }, { "seed", required_argument, NULL, 's' },
        { "trace", required_argument, NULL, 't' },  { "set", required_argument, NULL, 'S' },
        { "quiet", no_argument, NULL, 'q' },        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },      DP_REPLAY_LONG_OPTS,
        { NULL, 0, NULL, 0 },
    };
    struct dp_cli_common o = { 0 };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:qh", opts, NULL)) != -1) {
        if (c == 'h') {
            run_usage(stdout);
            return 0;
        }
        int r = dp_cli_common_opt(&o, c, optarg, "run");
        if (r)
            return r == 1 ? 0 : 2;
    }
    if (optind != argc - 1) {
        fprintf(stderr, "dualpath run: expected one SCENARIO.yaml (see dualpath run --help)\n");
        return 2;
    }
    dp_cli_start();
    struct dp_scenario sc;
    struct dp_err err = { "" };
    struct dp_workload w;
    memset(&w, 0, sizeof w);
    char defout[300];
    const char *out = o.out ? o.out : defout;
    /* the results' path is checked before the (maybe long) build and run */
    int rc = dp_cli_load_scenario(&sc, argv[optind], o.seed, o.have_seed, o.sets, o.n_sets, &err);
    if (!rc) {
        snprintf(defout, sizeof defout, "%s.h5", sc.name);
        rc = dp_output_check(out, defout, &err);
    }
    if (!rc)
        rc = dp_workload_build(&sc, o.trace, &w, &err);
    if (rc) {
        fprintf(stderr, "dualpath: %s\n", err.msg);
        dp_workload_free(&w);
        return 1;
    }
    struct dp_sim_opts so = dp_cli_sim_opts(o.quiet, sc.name);
    struct dp_sim_result res;
    rc = dp_sim_run(&sc, &w, &so, &res, &err);
    if (rc && rc != DP_EINTR) {
        fprintf(stderr, "dualpath: %s\n", err.msg);
        dp_workload_free(&w);
        return 1;
    }
    struct dp_run_info info;
    dp_sim_result_info(&res, &sc, o.trace ? o.trace : w.source, &info);
    dp_report_print(stdout, &info);
    dp_sim_result_checks(stdout, &res);
    struct dp_err werr = { "" };
    int wrc = dp_h5_write(out, &info, &werr);
    if (wrc)
        fprintf(stderr, "dualpath: %s\n", werr.msg);
    else
        printf("\nresults    %s%s\n", out, res.interrupted ? " (marked incomplete)" : "");
    if (rc == DP_EINTR)
        fprintf(stderr, "dualpath: %s; results so far are marked incomplete\n", err.msg);
    dp_sim_result_free(&res);
    dp_workload_free(&w);
    return wrc ? 1 : rc == DP_EINTR ? dp_cli_interrupted_status() : 0;
}

/* --help or --version anywhere in a sub-command's own arguments (those
 * that take no option values): 1 and *rc set when one was answered. */
int dp_cli_help_or_version(int argc, char **argv, void (*help)(FILE *), int *rc)
{
    for (int i = 1; i < argc; i++) {
        if (is_help(argv[i])) {
            help(stdout);
            return *rc = 0, 1;
        }
        if (!strcmp(argv[i], "--version")) {
            printf("dualpath %s\n", DP_VERSION);
            return *rc = 0, 1;
        }
    }
    return 0;
}

static void keys_usage(FILE *out)
{
    fprintf(out, "usage: dualpath keys\n"
                 "\n"
                 "Every scenario key: its name, type and meaning, one a line\n"
                 "(scenarios/README.md is generated from this).\n");
}

/* Every scenario key with its type, bounds and meaning (scenarios/README.md
 * is generated from this). */
static int cmd_keys(int argc, char **argv)
{
    int rc;
    if (dp_cli_help_or_version(argc, argv, keys_usage, &rc))
        return rc;
    if (argc > 1) {
        keys_usage(stderr);
        return 2;
    }
    static const char *const types[] = { "section", "integer", "integer", "number",
                                         "true/false", "text", "choice", "name or mapping" };
    const struct dp_cfg_schema *s = dp_scenario_schema();
    for (size_t i = 0; i < s->n; i++) {
        const struct dp_cfg_field *f = &s->fields[i];
        if (f->type == DP_CFG_SECTION)
            continue;
        printf("%-40s %-16s %s\n", f->path, types[f->type], f->help ? f->help : "");
    }
    printf("%-40s %-16s %s\n", "model.FIELD", "per model file", "any key of models/NAME.yaml (models/README.md)");
    printf("%-40s %-16s %s\n", "hardware.FIELD", "per hardware file", "any key of models/hw/NAME.yaml");
    return 0;
}

static void policies_usage(FILE *out)
{
    fprintf(out, "usage: dualpath policies\n"
                 "\n"
                 "The scheduling policies, one a line with what it does; a scenario's\n"
                 "policy.name (or --set policy.name=NAME) picks one.\n");
}

static int cmd_policies(int argc, char **argv)
{
    int rc;
    if (dp_cli_help_or_version(argc, argv, policies_usage, &rc))
        return rc;
    if (argc > 1) {
        policies_usage(stderr);
        return 2;
    }
    for (const char *const *n = dp_policy_names(); *n; n++)
        printf("%-10s %s\n", *n, dp_policy_find(*n)->summary);
    return 0;
}

/* `dualpath hw ...` is the separate program dualpath-hw (hw/), looked for
 * beside this one, then in the build tree's hw/ folder: only it links CUDA,
 * so no other command pays for loading cuBLAS (0.7-1 s and 200 MB). */
static int cmd_hw(int argc, char **argv)
{
    char self[PATH_MAX], path[PATH_MAX + 32];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = 0;
        *strrchr(self, '/') = 0;
        static const char *const where[] = { "%s/dualpath-hw", "%s/../hw/dualpath-hw" };
        for (size_t i = 0; i < sizeof where / sizeof where[0]; i++) {
            snprintf(path, sizeof path, where[i], self);
            if (access(path, X_OK) == 0) {
                argv[0] = path;
                execv(path, argv);
                fprintf(stderr, "dualpath hw: cannot run %s: %s\n", path, strerror(errno));
                return 1;
            }
        }
    }
    int help = argc > 1 && is_help(argv[1]);
    FILE *out = help ? stdout : stderr;
    if (help)
        fprintf(out, "usage: dualpath hw SUBCOMMAND [options]   (bench, calibrate, store, verbs, run)\n");
    fprintf(out, "dualpath hw: this build has no hardware shim: no dualpath-hw beside %s (CUDA was not "
                 "found at configure time; install the CUDA toolkit and reconfigure with "
                 "-DDP_WITH_CUDA=ON)\n", n > 0 ? self : "this program");
    return out == stdout ? 0 : 2;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version")) {
        printf("dualpath %s\n", DP_VERSION);
        return 0;
    }
    if (!strcmp(cmd, "run"))
        return cmd_run(argc - 1, argv + 1);
    if (!strcmp(cmd, "compare"))
        return dp_cmd_compare(argc - 1, argv + 1);
    if (!strcmp(cmd, "sweep"))
        return dp_cmd_sweep(argc - 1, argv + 1);
    if (!strcmp(cmd, "trace"))
        return dp_cmd_trace(argc - 1, argv + 1);
    if (!strcmp(cmd, "policies"))
        return cmd_policies(argc - 1, argv + 1);
    if (!strcmp(cmd, "keys"))
        return cmd_keys(argc - 1, argv + 1);
    if (!strcmp(cmd, "hw"))
        return cmd_hw(argc - 1, argv + 1);
    fprintf(stderr, "dualpath: unknown command '%s' (see dualpath --help)\n", cmd);
    return 2;
}
