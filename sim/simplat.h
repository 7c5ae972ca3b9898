/* The simulated cluster: a struct dp_platform_ops on the event queue and
 * the flow-level link model. Each engine has six links: storage NIC
 * receive/transmit, compute NIC receive/transmit (all its compute NICs as
 * one pool), PCIe host-to-device and device-to-host. The storage backend
 * adds one read and one write link when the scenario bounds it. */
#ifndef DP_SIMPLAT_H
#define DP_SIMPLAT_H

#include <stdint.h>

#include "core/core.h"
#include "base/evq.h"
#include "sim/links.h"

enum { L_SNIC_RX, L_SNIC_TX, L_CNIC_RX, L_CNIC_TX, L_PCIE_H2D, L_PCIE_D2H, L_PER_ENGINE };

struct sim_op;

struct dp_sim {
    struct dp_evq q;
    struct dp_net net;
    uint64_t now;
    uint64_t events;
    const struct dp_scenario *sc;
    struct dp_core *core;
    uint32_t n_engines;
    struct dp_engine_hw *hw;     /* per engine */
    /* Every layer of a prefill batch has the same shape: the cost of the
     * last one asked per engine is kept, so a batch costs one evaluation. */
    struct dp_prefill_shape *last_shape;
    uint64_t *last_layer_ns;
    uint32_t *links;             /* [engine * L_PER_ENGINE + kind] */
    int32_t storage_rd, storage_wr;
    struct sim_op *free_ops;
    struct sim_op **chunks;
    uint32_t n_chunks;
    uint64_t ops_live;
};

extern const struct dp_platform_ops dp_sim_ops;

int dp_sim_init(struct dp_sim *s, const struct dp_scenario *sc, struct dp_err *err);
void dp_sim_free(struct dp_sim *s);

#endif
