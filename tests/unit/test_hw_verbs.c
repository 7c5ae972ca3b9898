/* The hw shim's RDMA layer (hw/verbs.h) without an RDMA device: lane
 * configuration, work-request and QP-attribute building, and the clear
 * failure of setup when no device exists. Builds without libibverbs too
 * (then only the configuration and the "no libibverbs" failure are tested). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "hw/verbs.h"

START_TEST(cfg_defaults_and_env)
{
    struct dp_verbs_cfg c;
    struct dp_err err;
    unsetenv("DUALPATH_RDMA_KV_SL");
    unsetenv("DUALPATH_RDMA_KV_TC");
    unsetenv("DUALPATH_RDMA_DEV");
    unsetenv("DUALPATH_RDMA_GID_INDEX");
    ck_assert_int_eq(dp_verbs_cfg_init(&c, &err), 0);
    ck_assert_uint_eq(c.port, 1);
    ck_assert_int_eq(c.gid_index, -1);
    /* KV rides a different (lower-priority) SL/TC than the model's traffic */
    ck_assert_uint_ne(c.lane[DP_LANE_KV].sl, c.lane[DP_LANE_MODEL].sl);
    setenv("DUALPATH_RDMA_KV_SL", "5", 1);
    setenv("DUALPATH_RDMA_KV_TC", "0x60", 1);
    setenv("DUALPATH_RDMA_GID_INDEX", "3", 1);
    ck_assert_int_eq(dp_verbs_cfg_init(&c, &err), 0);
    ck_assert_uint_eq(c.lane[DP_LANE_KV].sl, 5);
    ck_assert_uint_eq(c.lane[DP_LANE_KV].tclass, 0x60);
    ck_assert_int_eq(c.gid_index, 3);
    setenv("DUALPATH_RDMA_KV_SL", "16", 1);   /* SLs are 0..15 */
    ck_assert_int_eq(dp_verbs_cfg_init(&c, &err), DP_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "DUALPATH_RDMA_KV_SL"));
    unsetenv("DUALPATH_RDMA_KV_SL");
    unsetenv("DUALPATH_RDMA_KV_TC");
    unsetenv("DUALPATH_RDMA_GID_INDEX");
}
END_TEST

/* Setup fails with DP_ENODEV and one line when there is no such device. */
START_TEST(open_without_device)
{
    struct dp_verbs_cfg c;
    struct dp_verbs *v = (struct dp_verbs *)1;
    struct dp_err err;
    ck_assert_int_eq(dp_verbs_cfg_init(&c, &err), 0);
    strcpy(c.device, "dp-no-such-rdma-device");
    ck_assert_int_eq(dp_verbs_open(&v, &c, &err), DP_ENODEV);
    ck_assert_ptr_null(v);
    ck_assert_ptr_null(strchr(err.msg, '\n'));
    ck_assert_ptr_nonnull(strstr(err.msg, "rdma:"));
    if (dp_verbs_device_count() == 0) {   /* the usual case on the lent machines */
        c.device[0] = 0;
        ck_assert_int_eq(dp_verbs_open(&v, &c, &err), DP_ENODEV);
        ck_assert_ptr_nonnull(strstr(err.msg, "no"));
    }
}
END_TEST

#ifdef DP_HAVE_VERBS
START_TEST(write_wr_fields)
{
    struct ibv_send_wr wr;
    struct ibv_sge sge;
    char local[64] = {0};
    dp_verbs_build_write(&wr, &sge, 42, local, 65536, 0x1234, 0xdead0000ULL, 0x5678, 1);
    ck_assert_uint_eq(wr.wr_id, 42);
    ck_assert_int_eq(wr.opcode, IBV_WR_RDMA_WRITE);
    ck_assert_int_eq(wr.num_sge, 1);
    ck_assert_ptr_eq(wr.sg_list, &sge);
    ck_assert_ptr_null(wr.next);
    ck_assert_uint_eq(wr.send_flags, IBV_SEND_SIGNALED);
    ck_assert_uint_eq(wr.wr.rdma.remote_addr, 0xdead0000ULL);
    ck_assert_uint_eq(wr.wr.rdma.rkey, 0x5678);
    ck_assert_uint_eq(sge.addr, (uint64_t)(uintptr_t)local);
    ck_assert_uint_eq(sge.length, 65536);
    ck_assert_uint_eq(sge.lkey, 0x1234);
    dp_verbs_build_write(&wr, &sge, 43, local, 16, 1, 2, 3, 0);
    ck_assert_uint_eq(wr.send_flags, 0);   /* unsignaled: no completion entry */
}
END_TEST

/* The lane picks the address vector's SL, and on RoCE the GRH traffic class. */
START_TEST(rtr_attr_carries_lane)
{
    struct dp_verbs_cfg c;
    struct dp_err err;
    struct ibv_qp_attr a;
    struct dp_verbs_endpoint remote = {.qpn = 0x77, .psn = 0x1abcdef, .lid = 9};
    int mask;
    memset(remote.gid, 0xfe, 16);
    ck_assert_int_eq(dp_verbs_cfg_init(&c, &err), 0);
    c.lane[DP_LANE_KV] = (struct dp_verbs_lane_cfg){3, 0x20};
    c.lane[DP_LANE_MODEL] = (struct dp_verbs_lane_cfg){0, 0xb8};
    /* InfiniBand: LID routing, no GRH */
    dp_verbs_rtr_attr(&a, &mask, &c, DP_LANE_KV, &remote, IBV_MTU_4096);
    ck_assert_int_eq(a.qp_state, IBV_QPS_RTR);
    ck_assert_uint_eq(a.ah_attr.sl, 3);
    ck_assert_uint_eq(a.ah_attr.dlid, 9);
    ck_assert_uint_eq(a.ah_attr.is_global, 0);
    ck_assert_uint_eq(a.dest_qp_num, 0x77);
    ck_assert_uint_eq(a.rq_psn, 0xabcdef);          /* PSNs are 24 bits */
    ck_assert_int_eq(a.path_mtu, IBV_MTU_4096);
    ck_assert(mask & IBV_QP_AV);
    ck_assert(mask & IBV_QP_DEST_QPN);
    /* RoCE: GRH with the lane's traffic class */
    c.gid_index = 1;
    dp_verbs_rtr_attr(&a, &mask, &c, DP_LANE_KV, &remote, IBV_MTU_1024);
    ck_assert_uint_eq(a.ah_attr.is_global, 1);
    ck_assert_uint_eq(a.ah_attr.grh.traffic_class, 0x20);
    ck_assert_uint_eq(a.ah_attr.grh.sgid_index, 1);
    ck_assert_uint_eq(a.ah_attr.grh.dgid.raw[0], 0xfe);
    dp_verbs_rtr_attr(&a, &mask, &c, DP_LANE_MODEL, &remote, IBV_MTU_1024);
    ck_assert_uint_eq(a.ah_attr.grh.traffic_class, 0xb8);
    ck_assert_uint_eq(a.ah_attr.sl, 0);
}
END_TEST

START_TEST(init_and_rts_attr)
{
    struct ibv_qp_attr a;
    int mask;
    dp_verbs_init_attr(&a, &mask, 2);
    ck_assert_int_eq(a.qp_state, IBV_QPS_INIT);
    ck_assert_uint_eq(a.port_num, 2);
    ck_assert(a.qp_access_flags & IBV_ACCESS_REMOTE_WRITE);
    ck_assert(mask & IBV_QP_ACCESS_FLAGS);
    dp_verbs_rts_attr(&a, &mask, 0x2000001);
    ck_assert_int_eq(a.qp_state, IBV_QPS_RTS);
    ck_assert_uint_eq(a.sq_psn, 1);
    ck_assert(mask & IBV_QP_SQ_PSN);
    ck_assert_uint_gt(a.retry_cnt, 0);
}
END_TEST
#endif

static Suite *hw_verbs_suite(void)
{
    Suite *s = suite_create("hw_verbs");
    TCase *t = tcase_create("verbs");
    tcase_add_test(t, cfg_defaults_and_env);
    tcase_add_test(t, open_without_device);
#ifdef DP_HAVE_VERBS
    tcase_add_test(t, write_wr_fields);
    tcase_add_test(t, rtr_attr_carries_lane);
    tcase_add_test(t, init_and_rts_attr);
#endif
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(hw_verbs_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
