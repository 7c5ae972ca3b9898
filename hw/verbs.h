/* RDMA for the compute network of the hardware shim: RC queue pairs and
 * RDMA WRITE of KV blocks, with the traffic lanes of core/platform.h mapped
 * to InfiniBand service levels (SL -> VL by the fabric's SL2VL table) and
 * RoCE traffic classes, chosen at run time (struct dp_verbs_cfg, or the
 * environment: DUALPATH_RDMA_{KV,MODEL}_{SL,TC}, DUALPATH_RDMA_DEV,
 * DUALPATH_RDMA_GID_INDEX).
 *
 * SL and TC belong to a QP's address vector, not to a work request, so each
 * lane gets its own QP; a KV write goes on the KV lane's QP.
 *
 * Where no RDMA device exists (the lent GPU machines), dp_verbs_open() fails
 * with DP_ENODEV and one line saying so; the caller moves KV between GPUs of
 * a host with peer copies (NVLink) instead. A build without libibverbs has
 * the same behaviour. */
#ifndef DP_HW_VERBS_H
#define DP_HW_VERBS_H

#include <stdint.h>
#include <stdio.h>

#include "base/errors.h"
#include "core/platform.h"

struct dp_verbs_lane_cfg {
    uint8_t sl;       /* InfiniBand service level, 0..15 */
    uint8_t tclass;   /* RoCE/GRH traffic class (DSCP << 2 | ECN) */
};

struct dp_verbs_cfg {
    char device[64];  /* "" = the first device */
    uint8_t port;     /* 1-based */
    int gid_index;    /* -1: InfiniBand (LID routing, no GRH); >= 0: RoCE GID */
    struct dp_verbs_lane_cfg lane[DP_N_LANES];
};

/* Defaults (model lane SL 0 / TC 0, KV lane SL 1 / TC 32, port 1, IB), then
 * the environment's overrides. Returns DP_EINVAL (err says which variable)
 * for a value out of range. */
int dp_verbs_cfg_init(struct dp_verbs_cfg *c, struct dp_err *err);

/* What the far end needs to connect a QP (exchanged out of band). */
struct dp_verbs_endpoint {
    uint32_t qpn;
    uint32_t psn;
    uint16_t lid;
    uint8_t gid[16];
};

/* Print one line describing the RDMA devices (or their absence). Returns 0
 * when at least one device exists, DP_ENODEV otherwise. */
int dp_verbs_probe(FILE *out);
/* Number of RDMA devices (0 without libibverbs). */
int dp_verbs_device_count(void);

struct dp_verbs;      /* device, protection domain, completion queue */
struct dp_verbs_qp;
struct dp_verbs_mr;

int dp_verbs_open(struct dp_verbs **out, const struct dp_verbs_cfg *cfg, struct dp_err *err);
void dp_verbs_close(struct dp_verbs *v);

/* Register host memory, or GPU memory through its dma-buf fd (dmabuf_fd >= 0;
 * addr is then the GPU virtual address used as the iova). */
int dp_verbs_reg(struct dp_verbs *v, void *addr, size_t len, int dmabuf_fd,
                 struct dp_verbs_mr **out, struct dp_err *err);
uint32_t dp_verbs_mr_lkey(const struct dp_verbs_mr *mr);
uint32_t dp_verbs_mr_rkey(const struct dp_verbs_mr *mr);
void dp_verbs_dereg(struct dp_verbs_mr *mr);

/* An RC QP for one lane, brought to INIT; `local` is what to send the peer. */
int dp_verbs_qp_create(struct dp_verbs *v, int lane, struct dp_verbs_qp **out,
                       struct dp_verbs_endpoint *local, struct dp_err *err);
/* INIT -> RTR (with the lane's SL/TC) -> RTS. */
int dp_verbs_qp_connect(struct dp_verbs_qp *qp, const struct dp_verbs_endpoint *remote,
                        struct dp_err *err);
void dp_verbs_qp_destroy(struct dp_verbs_qp *qp);

/* Post one signaled RDMA WRITE of len bytes. */
int dp_verbs_write(struct dp_verbs_qp *qp, uint64_t wr_id, const void *laddr, uint32_t len,
                   uint32_t lkey, uint64_t raddr, uint32_t rkey, struct dp_err *err);
/* Reap up to max completions; their wr_ids go to ids. Returns the count, or
 * <0 (err names the failed work request). */
int dp_verbs_poll(struct dp_verbs *v, uint64_t *ids, int max, struct dp_err *err);

#ifdef DP_HAVE_VERBS
#include <infiniband/verbs.h>

/* Pure builders, unit-tested without a device. */
void dp_verbs_build_write(struct ibv_send_wr *wr, struct ibv_sge *sge, uint64_t wr_id,
                          const void *laddr, uint32_t len, uint32_t lkey, uint64_t raddr,
                          uint32_t rkey, int signaled);
void dp_verbs_init_attr(struct ibv_qp_attr *a, int *mask, uint8_t port);
void dp_verbs_rtr_attr(struct ibv_qp_attr *a, int *mask, const struct dp_verbs_cfg *cfg,
                       int lane, const struct dp_verbs_endpoint *remote, enum ibv_mtu mtu);
void dp_verbs_rts_attr(struct ibv_qp_attr *a, int *mask, uint32_t psn);
#endif

#endif
