/* Closed-loop replay of DAG sessions (traces/workload.h): a turn is issued
 * when every turn it waits for has ended, plus its think time (the
 * recorded gap: Dynamo's delay + tool_wait_ms, the Qwen-Bailian time since
 * the parent's arrival); a root at the session's start plus its recorded
 * offset. Turns of one session may run at once (sub-agent branches).
 *
 * State is per DAG turn (a timer and a count of dependencies left), kept
 * only for DAG sessions: agent sessions keep their one timer per session.
 * When a turn fails, the turns that wait for it are never issued: they end
 * as skipped (the agent would not have gone on without that answer), and
 * the session still ends. */
#include "core/core_impl.h"

#include <stdlib.h>

int core_dag_init(struct dp_core *c, struct dp_err *err)
{
    const struct dp_workload *w = c->w;
    size_t n = 0, m = 0;
    for (size_t i = 0; i < w->n_sessions; i++) {
        const struct dp_session *s = &w->sessions[i];
        if (!s->links)
            continue;
        c->sess[i].dag_base = n;
        n += s->n_turns;
        for (uint32_t k = 0; k < s->n_turns; k++)
            m += s->links[k].n_deps;
    }
    if (n == 0)
        return 0;
    c->dag = calloc(n, sizeof *c->dag);
    c->dag_succ_off = calloc(n + 1, sizeof *c->dag_succ_off);
    c->dag_succ = malloc((m ? m : 1) * sizeof *c->dag_succ);
    uint32_t *fill = malloc(n * sizeof *fill);
    if (!c->dag || !c->dag_succ_off || !c->dag_succ || !fill) {
        free(fill);
        return dp_err_set(err, DP_ENOMEM, "out of memory for %zu DAG turns", n);
    }
    /* successors, CSR over global turn indices */
    for (size_t i = 0; i < w->n_sessions; i++) {
        const struct dp_session *s = &w->sessions[i];
        size_t base = c->sess[i].dag_base;
        for (uint32_t k = 0; s->links && k < s->n_turns; k++) {
            struct dp_dag_turn *d = &c->dag[base + k];
            d->sess = (uint32_t)i;
            d->turn = k;
            d->left = s->links[k].n_deps;
            for (uint32_t j = 0; j < s->links[k].n_deps; j++)
                c->dag_succ_off[base + s->links[k].deps[j] + 1]++;
        }
    }
    for (size_t x = 0; x < n; x++)
        c->dag_succ_off[x + 1] += c->dag_succ_off[x];
    for (size_t x = 0; x < n; x++)
        fill[x] = c->dag_succ_off[x];
    for (size_t i = 0; i < w->n_sessions; i++) {
        const struct dp_session *s = &w->sessions[i];
        size_t base = c->sess[i].dag_base;
        for (uint32_t k = 0; s->links && k < s->n_turns; k++)
            for (uint32_t j = 0; j < s->links[k].n_deps; j++)
                c->dag_succ[fill[base + s->links[k].deps[j]]++] = (uint32_t)(base + k);
    }
    free(fill);
    c->n_dag = n;
    return 0;
}

void core_dag_free(struct dp_core *c)
{
    free(c->dag);
    free(c->dag_succ_off);
    free(c->dag_succ);
}

static void arm(struct dp_core *c, struct dp_dag_turn *d, dp_time_t at)
{
    core_arm_timer(c, &d->timer, TM_DAG, d, at);
}

void core_dag_start(struct dp_core *c, uint32_t si)
{
    const struct dp_session *s = &c->w->sessions[si];
    for (uint32_t k = 0; k < s->n_turns; k++)
        if (s->links[k].n_deps == 0)
            arm(c, &c->dag[c->sess[si].dag_base + k],
                core_time_add(s->start_ns, s->links[k].at_ns));
}

/* Turn d ended (finished, failed, or skipped): release the turns waiting
 * for it. */
static void ended(struct dp_core *c, struct dp_dag_turn *d, int failed)
{
    const struct dp_session *s = &c->w->sessions[d->sess];
    dp_time_t now = core_now(c);
    size_t x = (size_t)(d - c->dag);
    for (uint32_t i = c->dag_succ_off[x]; i < c->dag_succ_off[x + 1]; i++) {
        struct dp_dag_turn *n = &c->dag[c->dag_succ[i]];
        if (now > n->ready_at)
            n->ready_at = now;
        n->skip |= (uint8_t)(failed != 0);
        if (--n->left == 0)
            arm(c, n, n->skip ? now : core_time_add(n->ready_at, s->turns[n->turn].think_ns));
    }
    if (++c->sess[d->sess].dag_done == s->n_turns)
        c->sessions_done++;
}

void core_dag_on_timer(struct dp_core *c, struct dp_dag_turn *d)
{
    if (d->skip)
        ended(c, d, 1);
    else
        core_issue_turn(c, d->sess, d->turn);
}

void core_dag_finished(struct dp_core *c, const struct dp_request *r)
{
    ended(c, &c->dag[c->sess[r->sess].dag_base + r->turn], r->failed);
}
