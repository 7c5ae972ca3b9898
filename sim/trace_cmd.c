/* dualpath trace: statistics of a trace (with a plot), conversion between
 * formats, the scenario's synthetic agents written as a trace; and the
 * replay options run and compare share (--format, --replay, --time-scale,
 * --rate, --hash-block), which become scenario keys (workload.*).
 *   dualpath trace stats FILE [--format F] [--hash-block N] [--block-tokens B] [--plot OUT.png]
 *   dualpath trace convert IN -o OUT --to sessions|mooncake [--format F] [--hash-block N]
 *   dualpath trace gen SCENARIO.yaml -o FILE */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/cli.h"
#include "sim/plot.h"
#include "traces/trace.h"

/* ---- replay options of run and compare ---- */

int dp_cli_replay_opt(int c, const char *arg, char **sets, int *n_sets)
{
    static char store[8][300];
    static int used;
    const char *key = c == DP_OPT_FORMAT ? "workload.format"
                    : c == DP_OPT_REPLAY ? "workload.replay"
                    : c == DP_OPT_TIME_SCALE ? "workload.time_scale"
                    : c == DP_OPT_RATE ? "workload.rate"
                    : c == DP_OPT_HASH_BLOCK ? "workload.hash_block" : NULL;
    if (!key)
        return 0;
    if (used == 8 || *n_sets >= 64) {
        fprintf(stderr, "dualpath: too many options\n");
        return -1;
    }
    snprintf(store[used], sizeof store[used], "%s=%s", key, arg);
    sets[(*n_sets)++] = store[used++];
    return 1;
}

/* ---- shared by the sub-commands ---- */

struct trace_args {
    const char *file, *out, *to, *plot;
    struct dp_trace_opts opts;
    uint32_t block_tokens;
};

static int parse_u32(const char *cmd, const char *name, const char *arg, uint32_t lo,
                     uint32_t *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(arg, &end, 10);
    if (*end || errno || arg[0] == '-' || v < lo || v > (1u << 20)) {
        fprintf(stderr, "dualpath trace %s: %s '%s': expected an integer in %u..%u\n", cmd, name,
                arg, lo, 1u << 20);
        return -1;
    }
    *out = (uint32_t)v;
    return 0;
}

static int parse_format(const char *cmd, const char *arg, enum dp_trace_format *out)
{
    for (int i = 0; dp_trace_format_names[i]; i++)
        if (!strcmp(arg, dp_trace_format_names[i])) {
            *out = (enum dp_trace_format)i;
            return 0;
        }
    fprintf(stderr, "dualpath trace %s: --format '%s': expected auto, mooncake, sessions, "
                    "bailian or agentic\n", cmd, arg);
    return -1;
}

static void usage_trace(FILE *f)
{
    fprintf(f,
            "usage: dualpath trace stats FILE [--format F] [--hash-block N] [--block-tokens B]\n"
            "                                 [--plot OUT.png]\n"
            "       dualpath trace convert IN -o OUT --to sessions|mooncake [--format F]\n"
            "                                 [--hash-block N]\n"
            "       dualpath trace gen SCENARIO.yaml -o FILE\n"
            "\n"
            "formats (by their fields, or --format): mooncake, sessions, bailian (Qwen-Bailian\n"
            "usage traces), agentic (Dynamo agentic Mooncake rows); traces/README.md.\n"
            "  --hash-block N    tokens per hash id (default: the format's own; Dynamo: inferred)\n"
            "  --block-tokens B  also show prefix reuse with blocks of B tokens, and the loss\n"
            "  --plot OUT.png    turns per session, context growth, think/tool time, arrivals\n");
}

static int parse_trace_args(const char *cmd, int argc, char **argv, struct trace_args *a)
{
    static const struct option opts[] = {
        { "format", required_argument, NULL, 'F' },     { "hash-block", required_argument, NULL, 'H' },
        { "block-tokens", required_argument, NULL, 'B' }, { "plot", required_argument, NULL, 'P' },
        { "output", required_argument, NULL, 'o' },     { "to", required_argument, NULL, 'T' },
        { "help", no_argument, NULL, 'h' },             { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    memset(a, 0, sizeof *a);
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'F': if (parse_format(cmd, optarg, &a->opts.format)) return 2; break;
        case 'H': if (parse_u32(cmd, "--hash-block", optarg, 1, &a->opts.hash_tokens)) return 2; break;
        case 'B': if (parse_u32(cmd, "--block-tokens", optarg, 1, &a->block_tokens)) return 2; break;
        case 'P': a->plot = optarg; break;
        case 'o': a->out = optarg; break;
        case 'T': a->to = optarg; break;
        case 'h': usage_trace(stdout); return 1;
        case 'V': printf("dualpath %s\n", DP_VERSION); return 1;
        default: return 2;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "dualpath trace %s: expected one trace FILE\n", cmd);
        usage_trace(stderr);
        return 2;
    }
    a->file = argv[optind];
    return 0;
}

/* An output path that cannot be written fails before any work. */
static int check_out(const char *cmd, const char *path)
{
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        fprintf(stderr, "dualpath trace %s: %s: cannot write: %s\n", cmd, path, strerror(errno));
        return -1;
    }
    fclose(f);
    remove(tmp);
    return 0;
}

/* ---- stats ---- */

static void print_stats(const char *file, const struct dp_trace_stats *st)
{
    printf("trace          %s\n", file);
    printf("sessions       %llu (%llu with branches or joins)\n",
           (unsigned long long)st->sessions, (unsigned long long)st->dag_sessions);
    printf("requests       %llu\n", (unsigned long long)st->requests);
    printf("turns/session  mean %.1f  p50 %.0f  p99 %.0f  max %.0f\n", st->turns_mean,
           st->turns_p50, st->turns_p99, st->turns_max);
    printf("input tokens   mean %.0f  p50 %.0f  p99 %.0f\n", st->input_mean, st->input_p50,
           st->input_p99);
    printf("new tokens     mean %.0f\n", st->append_mean);
    printf("output tokens  mean %.0f\n", st->output_mean);
    if (st->gaps) {
        printf("think/tool     mean %.3f s  p50 %.3f s  p99 %.3f s  (%.1f%% in tools, %llu gaps)\n",
               st->think_mean_s, st->think_p50_s, st->think_p99_s, 100 * st->tool_share,
               (unsigned long long)st->gaps);
        printf("context growth mean %.0f tokens a follow-up turn\n", st->growth_mean);
    }
    if (st->hash_tokens)
        printf("prefix reuse   %.1f%% of input tokens (%u-token hash blocks)\n",
               100 * st->reuse_fraction, st->hash_tokens);
    else
        printf("prefix reuse   %.1f%% of input tokens\n", 100 * st->reuse_fraction);
    printf("span           %.1f s\n", st->span_s);
}

static int cmd_stats(int argc, char **argv)
{
    struct trace_args a;
    int rc = parse_trace_args("stats", argc, argv, &a);
    if (rc)
        return rc == 1 ? 0 : rc;
    char tsv[1100] = "";
    if (a.plot) {
        snprintf(tsv, sizeof tsv, "%s.tsv", a.plot);
        if (check_out("stats", a.plot) || check_out("stats", tsv))
            return 1;
    }
    struct dp_workload w;
    struct dp_err err = { "" };
    struct dp_trace_stats st;
    if (dp_trace_load_opts(a.file, &a.opts, &w, &err)) {
        fprintf(stderr, "dualpath: %s\n", err.msg);
        return 1;
    }
    if (dp_trace_stats(&w, &st)) {
        fprintf(stderr, "dualpath: out of memory for the statistics\n");
        dp_workload_free(&w);
        return 1;
    }
    print_stats(a.file, &st);
    rc = 0;
    if (a.block_tokens && w.hash_tokens) {
        struct dp_trace_stats conv;
        if (dp_workload_rebloc(&w, a.block_tokens, &err) || dp_trace_stats(&w, &conv)) {
            fprintf(stderr, "dualpath: %s\n", err.msg[0] ? err.msg : "out of memory");
            rc = 1;
        } else {
            printf("at %u tokens   prefix reuse %.1f%% (loss %.1f points from %u-token blocks)\n",
                   a.block_tokens, 100 * conv.reuse_fraction,
                   100 * (st.reuse_fraction - conv.reuse_fraction), st.hash_tokens);
        }
    }
    if (rc == 0 && a.plot) {
        if (dp_trace_profile_write(tsv, &w, &err)) {
            fprintf(stderr, "dualpath: %s\n", err.msg);
            rc = 1;
        } else {
            const char *files[] = { tsv };
            if (dp_plot("plot_trace_stats.py", a.plot, files, 1) == 0)
                printf("plot           %s (data %s)\n", a.plot, tsv);
        }
    }
    dp_workload_free(&w);
    return rc;
}

/* ---- convert ---- */

static int cmd_convert(int argc, char **argv)
{
    struct trace_args a;
    int rc = parse_trace_args("convert", argc, argv, &a);
    if (rc)
        return rc == 1 ? 0 : rc;
    int to_mooncake = a.to && !strcmp(a.to, "mooncake");
    if (!a.out || !a.to || (!to_mooncake && strcmp(a.to, "sessions"))) {
        fprintf(stderr, "dualpath trace convert: expected -o OUT and --to sessions|mooncake\n");
        return 2;
    }
    if (check_out("convert", a.out))
        return 1;
    struct dp_workload w;
    struct dp_err err = { "" };
    uint64_t reshaped = 0;
    if (dp_trace_load_opts(a.file, &a.opts, &w, &err)) {
        fprintf(stderr, "dualpath: %s\n", err.msg);
        return 1;
    }
    size_t n_turns = dp_workload_total_turns(&w);
    if (to_mooncake) {
        if (!w.hash_tokens)
            w.block_tokens = 512;   /* agent sessions: ids made at the Mooncake block */
        rc = dp_workload_open_loop(&w, &err) || dp_workload_rebloc(&w, 512, &err) ||
             dp_mooncake_write(a.out, &w, &err);
    } else {
        rc = dp_workload_chains(&w, &reshaped, &err) || dp_sessions_write(a.out, &w, &err);
    }
    if (rc) {
        fprintf(stderr, "dualpath: %s\n", err.msg);
        dp_workload_free(&w);
        return 1;
    }
    if (to_mooncake)
        printf("wrote %zu requests to %s (Mooncake, 512-token hash blocks, open loop)\n",
               w.n_sessions, a.out);
    else
        printf("wrote %zu sessions (%zu turns) to %s; %llu sessions with branches, joins or "
               "context resets written as chains; prefix sharing between sessions is not "
               "kept\n", w.n_sessions, n_turns, a.out, (unsigned long long)reshaped);
    dp_workload_free(&w);
    return 0;
}

/* ---- gen ---- */

static void usage_gen(FILE *f)
{
    fprintf(f, "usage: dualpath trace gen SCENARIO.yaml -o FILE\n"
               "\n"
               "Write the scenario's synthetic agents as an agent-session trace (traces/README.md)\n"
               "that dualpath run --trace FILE replays.\n");
}

static int cmd_gen(int argc, char **argv)
{
    int rc;
    const char *out = NULL, *scen = NULL;
    if (dp_cli_help_or_version(argc, argv, usage_gen, &rc))
        return rc;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-o") && i + 1 < argc)
            out = argv[++i];
        else
            scen = argv[i];
    }
    if (!out || !scen) {
        usage_gen(stderr);
        return 2;
    }
    struct dp_scenario sc;
    struct dp_workload w;
    struct dp_err err = { "" };
    memset(&w, 0, sizeof w);
    rc = dp_scenario_load(&sc, scen, &err);
    if (!rc)
        rc = dp_output_check(out, "agents.jsonl", &err);
    if (!rc)
        rc = dp_workload_build(&sc, NULL, &w, &err);
    if (!rc)
        rc = dp_sessions_write(out, &w, &err);
    if (rc) {
        fprintf(stderr, "dualpath: %s\n", err.msg);
        dp_workload_free(&w);
        return 1;
    }
    printf("wrote %zu sessions to %s\n", w.n_sessions, out);
    dp_workload_free(&w);
    return 0;
}

int dp_cmd_trace(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "stats"))
        return cmd_stats(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "convert"))
        return cmd_convert(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "gen"))
        return cmd_gen(argc - 1, argv + 1);
    int rc;
    if (argc >= 2 && dp_cli_help_or_version(2, argv, usage_trace, &rc))
        return rc;
    usage_trace(stderr);
    return 2;
}
