/* RDMA RC QPs and RDMA WRITE for the KV lane (verbs.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hw/verbs.h"

/* ---- configuration (both builds) ----------------------------------------- */

static int dp_verbs_env_u8(const char *name, uint8_t max, uint8_t *v, struct dp_err *err)
{
    const char *s = getenv(name);
    if (!s || !*s)
        return 0;
    char *end;
    long x = strtol(s, &end, 0);
    if (*end || x < 0 || x > max)
        return dp_err_set(err, DP_EINVAL, "%s='%s': expected an integer 0..%u", name, s, max);
    *v = (uint8_t)x;
    return 0;
}

int dp_verbs_cfg_init(struct dp_verbs_cfg *c, struct dp_err *err)
{
    memset(c, 0, sizeof *c);
    c->port = 1;
    c->gid_index = -1;
    c->lane[DP_LANE_MODEL] = (struct dp_verbs_lane_cfg){0, 0};
    c->lane[DP_LANE_KV] = (struct dp_verbs_lane_cfg){1, 32};
    const char *dev = getenv("DUALPATH_RDMA_DEV");
    if (dev)
        snprintf(c->device, sizeof c->device, "%s", dev);
    const char *gid = getenv("DUALPATH_RDMA_GID_INDEX");
    if (gid && *gid) {
        char *end;
        long g = strtol(gid, &end, 0);
        if (*end || g < -1 || g > 255)
            return dp_err_set(err, DP_EINVAL, "DUALPATH_RDMA_GID_INDEX='%s': expected -1..255",
                              gid);
        c->gid_index = (int)g;
    }
    int rc = dp_verbs_env_u8("DUALPATH_RDMA_KV_SL", 15, &c->lane[DP_LANE_KV].sl, err);
    if (!rc)
        rc = dp_verbs_env_u8("DUALPATH_RDMA_KV_TC", 255, &c->lane[DP_LANE_KV].tclass, err);
    if (!rc)
        rc = dp_verbs_env_u8("DUALPATH_RDMA_MODEL_SL", 15, &c->lane[DP_LANE_MODEL].sl, err);
    if (!rc)
        rc = dp_verbs_env_u8("DUALPATH_RDMA_MODEL_TC", 255, &c->lane[DP_LANE_MODEL].tclass,
                             err);
    return rc;
}

#ifndef DP_HAVE_VERBS
/* ---- a build without libibverbs ------------------------------------------ */

static const char dp_no_verbs[] =
    "rdma: this build has no libibverbs; KV moves between GPUs with peer copies (NVLink)";

int dp_verbs_probe(FILE *out)
{
    fprintf(out, "%s\n", dp_no_verbs);
    return DP_ENODEV;
}

int dp_verbs_open(struct dp_verbs **out, const struct dp_verbs_cfg *cfg, struct dp_err *err)
{
    (void)cfg;
    *out = NULL;
    return dp_err_set(err, DP_ENODEV, "%s", dp_no_verbs);
}

int dp_verbs_device_count(void) { return 0; }
void dp_verbs_close(struct dp_verbs *v) { (void)v; }
int dp_verbs_reg(struct dp_verbs *v, void *addr, size_t len, int fd, struct dp_verbs_mr **out,
                 struct dp_err *err)
{
    (void)v; (void)addr; (void)len; (void)fd;
    *out = NULL;
    return dp_err_set(err, DP_ENODEV, "%s", dp_no_verbs);
}
uint32_t dp_verbs_mr_lkey(const struct dp_verbs_mr *mr) { (void)mr; return 0; }
uint32_t dp_verbs_mr_rkey(const struct dp_verbs_mr *mr) { (void)mr; return 0; }
void dp_verbs_dereg(struct dp_verbs_mr *mr) { (void)mr; }
int dp_verbs_qp_create(struct dp_verbs *v, int lane, struct dp_verbs_qp **out,
                       struct dp_verbs_endpoint *local, struct dp_err *err)
{
    (void)v; (void)lane; (void)local;
    *out = NULL;
    return dp_err_set(err, DP_ENODEV, "%s", dp_no_verbs);
}
int dp_verbs_qp_connect(struct dp_verbs_qp *qp, const struct dp_verbs_endpoint *remote,
                        struct dp_err *err)
{
    (void)qp; (void)remote;
    return dp_err_set(err, DP_ENODEV, "%s", dp_no_verbs);
}
void dp_verbs_qp_destroy(struct dp_verbs_qp *qp) { (void)qp; }
int dp_verbs_write(struct dp_verbs_qp *qp, uint64_t wr_id, const void *laddr, uint32_t len,
                   uint32_t lkey, uint64_t raddr, uint32_t rkey, struct dp_err *err)
{
    (void)qp; (void)wr_id; (void)laddr; (void)len; (void)lkey; (void)raddr; (void)rkey;
    return dp_err_set(err, DP_ENODEV, "%s", dp_no_verbs);
}
int dp_verbs_poll(struct dp_verbs *v, uint64_t *ids, int max, struct dp_err *err)
{
    (void)v; (void)ids; (void)max;
    return dp_err_set(err, DP_ENODEV, "%s", dp_no_verbs);
}

#else
/* ---- libibverbs ------------------------------------------------------------ */

#define DP_VERBS_CQ_DEPTH 4096
#define DP_VERBS_QP_DEPTH 1024

struct dp_verbs {
    struct dp_verbs_cfg cfg;
    struct ibv_context *ctx;
    struct ibv_pd *pd;
    struct ibv_cq *cq;
    struct ibv_port_attr port;
    union ibv_gid gid;
};

struct dp_verbs_qp {
    struct dp_verbs *v;
    struct ibv_qp *qp;
    int lane;
    uint32_t psn;
};

struct dp_verbs_mr {
    struct ibv_mr *mr;
};

void dp_verbs_build_write(struct ibv_send_wr *wr, struct ibv_sge *sge, uint64_t wr_id,
                          const void *laddr, uint32_t len, uint32_t lkey, uint64_t raddr,
                          uint32_t rkey, int signaled)
{
    memset(sge, 0, sizeof *sge);
    sge->addr = (uint64_t)(uintptr_t)laddr;
    sge->length = len;
    sge->lkey = lkey;
    memset(wr, 0, sizeof *wr);
    wr->wr_id = wr_id;
    wr->sg_list = sge;
    wr->num_sge = 1;
    wr->opcode = IBV_WR_RDMA_WRITE;
    wr->send_flags = signaled ? IBV_SEND_SIGNALED : 0;
    wr->wr.rdma.remote_addr = raddr;
    wr->wr.rdma.rkey = rkey;
}

void dp_verbs_init_attr(struct ibv_qp_attr *a, int *mask, uint8_t port)
{
    memset(a, 0, sizeof *a);
    a->qp_state = IBV_QPS_INIT;
    a->pkey_index = 0;
    a->port_num = port;
    a->qp_access_flags = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE |
                         IBV_ACCESS_REMOTE_READ;
    *mask = IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT | IBV_QP_ACCESS_FLAGS;
}

/* The lane decides the address vector's SL (IB) and GRH traffic class (RoCE). */
void dp_verbs_rtr_attr(struct ibv_qp_attr *a, int *mask, const struct dp_verbs_cfg *cfg,
                       int lane, const struct dp_verbs_endpoint *remote, enum ibv_mtu mtu)
{
    const struct dp_verbs_lane_cfg *l = &cfg->lane[lane];
    memset(a, 0, sizeof *a);
    a->qp_state = IBV_QPS_RTR;
    a->path_mtu = mtu;
    a->dest_qp_num = remote->qpn;
    a->rq_psn = remote->psn & 0xffffff;
    a->max_dest_rd_atomic = 1;
    a->min_rnr_timer = 12;
    a->ah_attr.dlid = remote->lid;
    a->ah_attr.sl = l->sl;
    a->ah_attr.port_num = cfg->port;
    if (cfg->gid_index >= 0) {
        a->ah_attr.is_global = 1;
        memcpy(a->ah_attr.grh.dgid.raw, remote->gid, 16);
        a->ah_attr.grh.sgid_index = (uint8_t)cfg->gid_index;
        a->ah_attr.grh.hop_limit = 1;
        a->ah_attr.grh.traffic_class = l->tclass;
    }
    *mask = IBV_QP_STATE | IBV_QP_AV | IBV_QP_PATH_MTU | IBV_QP_DEST_QPN | IBV_QP_RQ_PSN |
            IBV_QP_MAX_DEST_RD_ATOMIC | IBV_QP_MIN_RNR_TIMER;
}

void dp_verbs_rts_attr(struct ibv_qp_attr *a, int *mask, uint32_t psn)
{
    memset(a, 0, sizeof *a);
    a->qp_state = IBV_QPS_RTS;
    a->timeout = 14;
    a->retry_cnt = 7;
    a->rnr_retry = 7;
    a->sq_psn = psn & 0xffffff;
    a->max_rd_atomic = 1;
    *mask = IBV_QP_STATE | IBV_QP_TIMEOUT | IBV_QP_RETRY_CNT | IBV_QP_RNR_RETRY |
            IBV_QP_SQ_PSN | IBV_QP_MAX_QP_RD_ATOMIC;
}

int dp_verbs_probe(FILE *out)
{
    int n = 0;
    struct ibv_device **list = ibv_get_device_list(&n);
    if (!list || n == 0) {
        fprintf(out, "rdma: no RDMA device (ibv_get_device_list found none); KV moves "
                     "between GPUs with peer copies (NVLink)\n");
        if (list)
            ibv_free_device_list(list);
        return DP_ENODEV;
    }
    fprintf(out, "rdma: %d device(s):", n);
    for (int i = 0; i < n; i++)
        fprintf(out, " %s", ibv_get_device_name(list[i]));
    fprintf(out, "\n");
    ibv_free_device_list(list);
    return 0;
}

int dp_verbs_device_count(void)
{
    int n = 0;
    struct ibv_device **list = ibv_get_device_list(&n);
    if (list)
        ibv_free_device_list(list);
    return list ? n : 0;
}

static int dp_verbs_open_dev(const char *name, struct ibv_context **ctx, struct dp_err *err)
{
    int n = 0, rc;
    struct ibv_device **list = ibv_get_device_list(&n);
    *ctx = NULL;
    if (!list || n == 0) {
        rc = dp_err_set(err, DP_ENODEV, "rdma: no RDMA device (ibv_get_device_list found none)");
        goto out;
    }
    rc = dp_err_set(err, DP_ENODEV, "rdma: no RDMA device named '%s'", name);
    for (int i = 0; i < n; i++) {
        if (name[0] && strcmp(name, ibv_get_device_name(list[i])) != 0)
            continue;
        *ctx = ibv_open_device(list[i]);
        rc = *ctx ? 0 : dp_err_set(err, DP_EIO, "rdma: cannot open %s: %s",
                                   ibv_get_device_name(list[i]), strerror(errno));
        break;
    }
out:
    if (list)
        ibv_free_device_list(list);
    return rc;
}

int dp_verbs_open(struct dp_verbs **out, const struct dp_verbs_cfg *cfg, struct dp_err *err)
{
    struct ibv_context *ctx;
    *out = NULL;
    int rc = dp_verbs_open_dev(cfg->device, &ctx, err);
    if (rc)
        return rc;
    struct dp_verbs *v = calloc(1, sizeof *v);
    if (!v) {
        ibv_close_device(ctx);
        return dp_err_set(err, DP_ENOMEM, "rdma: out of memory");
    }
    v->cfg = *cfg;
    v->ctx = ctx;
    if (ibv_query_port(ctx, cfg->port, &v->port) != 0) {
        dp_verbs_close(v);
        return dp_err_set(err, DP_EIO, "rdma: cannot query port %u", cfg->port);
    }
    if (cfg->gid_index >= 0 && ibv_query_gid(ctx, cfg->port, cfg->gid_index, &v->gid) != 0) {
        dp_verbs_close(v);
        return dp_err_set(err, DP_EIO, "rdma: cannot read GID %d", cfg->gid_index);
    }
    v->pd = ibv_alloc_pd(ctx);
    v->cq = v->pd ? ibv_create_cq(ctx, DP_VERBS_CQ_DEPTH, NULL, NULL, 0) : NULL;
    if (!v->cq) {
        dp_verbs_close(v);
        return dp_err_set(err, DP_EIO, "rdma: cannot create PD/CQ: %s", strerror(errno));
    }
    *out = v;
    return 0;
}

void dp_verbs_close(struct dp_verbs *v)
{
    if (!v)
        return;
    if (v->cq)
        ibv_destroy_cq(v->cq);
    if (v->pd)
        ibv_dealloc_pd(v->pd);
    if (v->ctx)
        ibv_close_device(v->ctx);
    free(v);
}

int dp_verbs_reg(struct dp_verbs *v, void *addr, size_t len, int dmabuf_fd,
                 struct dp_verbs_mr **out, struct dp_err *err)
{
    int access = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ;
    struct dp_verbs_mr *m = calloc(1, sizeof *m);
    *out = NULL;
    if (!m)
        return dp_err_set(err, DP_ENOMEM, "rdma: out of memory");
    if (dmabuf_fd >= 0)
        m->mr = ibv_reg_dmabuf_mr(v->pd, 0, len, (uint64_t)(uintptr_t)addr, dmabuf_fd, access);
    else
        m->mr = ibv_reg_mr(v->pd, addr, len, access);
    if (!m->mr) {
        free(m);
        return dp_err_set(err, DP_EIO, "rdma: cannot register %zu bytes (%s): %s", len,
                          dmabuf_fd >= 0 ? "dma-buf" : "host", strerror(errno));
    }
    *out = m;
    return 0;
}

uint32_t dp_verbs_mr_lkey(const struct dp_verbs_mr *mr) { return mr->mr->lkey; }
uint32_t dp_verbs_mr_rkey(const struct dp_verbs_mr *mr) { return mr->mr->rkey; }

void dp_verbs_dereg(struct dp_verbs_mr *mr)
{
    if (!mr)
        return;
    ibv_dereg_mr(mr->mr);
    free(mr);
}

int dp_verbs_qp_create(struct dp_verbs *v, int lane, struct dp_verbs_qp **out,
                       struct dp_verbs_endpoint *local, struct dp_err *err)
{
    struct ibv_qp_init_attr ia;
    struct ibv_qp_attr a;
    int mask;
    *out = NULL;
    if (lane < 0 || lane >= DP_N_LANES)
        return dp_err_set(err, DP_EINVAL, "rdma: no lane %d", lane);
    struct dp_verbs_qp *q = calloc(1, sizeof *q);
    if (!q)
        return dp_err_set(err, DP_ENOMEM, "rdma: out of memory");
    memset(&ia, 0, sizeof ia);
    ia.send_cq = ia.recv_cq = v->cq;
    ia.qp_type = IBV_QPT_RC;
    ia.cap.max_send_wr = DP_VERBS_QP_DEPTH;
    ia.cap.max_recv_wr = 1;
    ia.cap.max_send_sge = ia.cap.max_recv_sge = 1;
    q->v = v;
    q->lane = lane;
    q->psn = (uint32_t)lrand48() & 0xffffff;
    q->qp = ibv_create_qp(v->pd, &ia);
    if (!q->qp) {
        free(q);
        return dp_err_set(err, DP_EIO, "rdma: cannot create an RC QP: %s", strerror(errno));
    }
    dp_verbs_init_attr(&a, &mask, v->cfg.port);
    if (ibv_modify_qp(q->qp, &a, mask) != 0) {
        dp_verbs_qp_destroy(q);
        return dp_err_set(err, DP_EIO, "rdma: QP to INIT: %s", strerror(errno));
    }
    memset(local, 0, sizeof *local);
    local->qpn = q->qp->qp_num;
    local->psn = q->psn;
    local->lid = v->port.lid;
    memcpy(local->gid, v->gid.raw, 16);
    *out = q;
    return 0;
}

int dp_verbs_qp_connect(struct dp_verbs_qp *q, const struct dp_verbs_endpoint *remote,
                        struct dp_err *err)
{
    struct ibv_qp_attr a;
    int mask;
    dp_verbs_rtr_attr(&a, &mask, &q->v->cfg, q->lane, remote, q->v->port.active_mtu);
    if (ibv_modify_qp(q->qp, &a, mask) != 0)
        return dp_err_set(err, DP_EIO, "rdma: QP %u to RTR: %s", q->qp->qp_num,
                          strerror(errno));
    dp_verbs_rts_attr(&a, &mask, q->psn);
    if (ibv_modify_qp(q->qp, &a, mask) != 0)
        return dp_err_set(err, DP_EIO, "rdma: QP %u to RTS: %s", q->qp->qp_num,
                          strerror(errno));
    return 0;
}

void dp_verbs_qp_destroy(struct dp_verbs_qp *q)
{
    if (!q)
        return;
    if (q->qp)
        ibv_destroy_qp(q->qp);
    free(q);
}

int dp_verbs_write(struct dp_verbs_qp *q, uint64_t wr_id, const void *laddr, uint32_t len,
                   uint32_t lkey, uint64_t raddr, uint32_t rkey, struct dp_err *err)
{
    struct ibv_send_wr wr, *bad = NULL;
    struct ibv_sge sge;
    dp_verbs_build_write(&wr, &sge, wr_id, laddr, len, lkey, raddr, rkey, 1);
    int rc = ibv_post_send(q->qp, &wr, &bad);
    if (rc)
        return dp_err_set(err, DP_EIO, "rdma: post RDMA WRITE on QP %u: %s", q->qp->qp_num,
                          strerror(rc));
    return 0;
}

int dp_verbs_poll(struct dp_verbs *v, uint64_t *ids, int max, struct dp_err *err)
{
    struct ibv_wc wc[32];
    int got = 0;
    while (got < max) {
        int want = max - got < 32 ? max - got : 32;
        int n = ibv_poll_cq(v->cq, want, wc);
        if (n < 0)
            return dp_err_set(err, DP_EIO, "rdma: poll CQ failed");
        for (int i = 0; i < n; i++) {
            if (wc[i].status != IBV_WC_SUCCESS)
                return dp_err_set(err, DP_EIO, "rdma: work request %llu failed: %s",
                                  (unsigned long long)wc[i].wr_id,
                                  ibv_wc_status_str(wc[i].status));
            ids[got++] = wc[i].wr_id;
        }
        if (n < want)
            break;
    }
    return got;
}
#endif
