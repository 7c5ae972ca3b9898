/* The cost model (models/cost.c) against hand calculation.
 *
 * Every expected value below is worked out in the comment beside it from the
 * model and hardware figures, never by calling the formula under test. The
 * structs are filled here, not read from YAML: this suite checks the
 * arithmetic, the YAML loader has its own tests.
 */
#include "models/model.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

/* Hopper node as in models/hw/hopper.yaml. */
static struct dp_hw hopper(void)
{
    struct dp_hw h;
    memset(&h, 0, sizeof h);
    strcpy(h.name, "hopper-test");
    h.gpu_flops = 989e12;
    h.gpu_hbm_bytes = 80e9;
    h.gpu_hbm_bw = 3.35e12;
    h.mfu = 0.5;
    h.mbu = 0.7;
    h.pcie_bw = 55e9;
    h.gpus_per_node = 8;
    h.cnics_per_node = 8;
    h.cnic_bw = 50e9;
    h.snic_bw = 50e9;
    h.dram_buffer_bytes = 549755813888.0; /* 512 GiB */
    h.step_overhead_s = 2e-3;
    return h;
}

/* Qwen2.5-32B as in models/qwen32b.yaml. */
static struct dp_model qwen32b(void)
{
    struct dp_model m;
    memset(&m, 0, sizeof m);
    strcpy(m.name, "Qwen32B");
    m.n_layers = 64;
    m.hidden = 5120;
    m.attn = DP_ATTN_GQA;
    m.n_heads = 40;
    m.n_kv_heads = 8;
    m.head_dim = 128;
    m.qk_head_dim = 128;
    m.v_head_dim = 128;
    m.kv_dtype_bytes = 2;
    m.weight_dtype_bytes = 2;
    m.params_total = 32.5e9;
    m.params_active = 32.5e9;
    m.max_context = 131072;
    return m;
}

/* DeepSeek-V3 as in models/ds660b.yaml. */
static struct dp_model ds660b(void)
{
    struct dp_model m;
    memset(&m, 0, sizeof m);
    strcpy(m.name, "DS660B");
    m.n_layers = 61;
    m.hidden = 7168;
    m.attn = DP_ATTN_MLA;
    m.n_heads = 128;
    m.n_kv_heads = 128;
    m.head_dim = 128;
    m.qk_head_dim = 192;
    m.v_head_dim = 128;
    m.kv_lora_rank = 512;
    m.qk_rope_dim = 64;
    m.kv_dtype_bytes = 2;
    m.weight_dtype_bytes = 1;
    m.params_total = 671e9;
    m.params_active = 37e9;
    m.n_experts = 256;
    m.experts_per_token = 8;
    m.a2a_bytes_per_elem = 1.5;
    m.max_context = 163840;
    return m;
}

/* Relative closeness for doubles computed along a different path. */
#define ck_rel(a, b) ck_assert_double_eq_tol((a), (b), 1e-9 * (b))

/* ------------------------------------------------------------- KV sizes */

START_TEST(test_kv_gqa)
{
    struct dp_model m = qwen32b();
    /* per layer: K and V, 8 KV heads of 128, bf16: 2*8*128*2 = 4096 B */
    ck_assert_double_eq(dp_kv_bytes_per_token_layer(&m), 4096.0);
    /* 64 layers: 4096*64 = 262144 B = 256 KiB per token */
    ck_assert_double_eq(dp_kv_bytes_per_token(&m), 262144.0);
}
END_TEST

START_TEST(test_kv_mla)
{
    struct dp_model m = ds660b();
    /* per layer: latent 512 + rope key 64, bf16: (512+64)*2 = 1152 B */
    ck_assert_double_eq(dp_kv_bytes_per_token_layer(&m), 1152.0);
    /* 61 layers: 1152*61 = 70272 B per token */
    ck_assert_double_eq(dp_kv_bytes_per_token(&m), 70272.0);
    /* n_kv_heads/head_dim must not leak into MLA: 2*128*128*2 would be 65536 */
    m.n_kv_heads = 1;
    ck_assert_double_eq(dp_kv_bytes_per_token_layer(&m), 1152.0);
}
END_TEST

START_TEST(test_weights_per_gpu)
{
    struct dp_model q = qwen32b(), d = ds660b();
    /* Qwen: 32.5e9 params * 2 B / 8 GPUs = 8.125e9 B */
    ck_rel(dp_weight_bytes_per_gpu(&q, 8), 8.125e9);
    /* DS660B: 671e9 * 1 B / 8 = 83.875e9 B: more than an 80 GB GPU holds */
    ck_rel(dp_weight_bytes_per_gpu(&d, 8), 83.875e9);
    /* 671e9 / 16 = 41.9375e9 B */
    ck_rel(dp_weight_bytes_per_gpu(&d, 16), 41.9375e9);
    ck_assert_double_eq(dp_weight_bytes_per_gpu(&d, 0), 0.0);
}
END_TEST

/* --------------------------------------------------------------- engine */

START_TEST(test_engine_4gpus)
{
    struct dp_hw h = hopper();
    struct dp_engine_hw e;
    dp_engine_hw_from(&e, &h, 4);
    ck_assert_uint_eq(e.gpus, 4);
    /* 4 * 989e12 * 0.5 = 1.978e15 FLOP/s */
    ck_rel(e.flops, 1.978e15);
    /* 4 * 3.35e12 * 0.7 = 9.38e12 B/s */
    ck_rel(e.hbm_bw, 9.38e12);
    /* 4 * 80e9 = 320e9 B */
    ck_rel(e.hbm_bytes, 320e9);
    /* 4 * 55e9 = 220e9 B/s */
    ck_rel(e.pcie_bw, 220e9);
    /* half a node: 4 of its 8 CNICs, 4 * 50e9 = 200e9 B/s */
    ck_rel(e.cnic_bw, 200e9);
    /* half of the node's one 50e9 SNIC = 25e9 B/s */
    ck_rel(e.snic_bw, 25e9);
    /* half of 512 GiB = 256 GiB = 274877906944 B */
    ck_rel(e.dram_bytes, 274877906944.0);
    ck_assert_double_eq(e.step_overhead_s, 2e-3);
    /* within one node: no all-to-all byte leaves it */
    ck_assert_double_eq(e.a2a_cross_fraction, 0.0);
}
END_TEST

START_TEST(test_engine_16gpus)
{
    struct dp_hw h = hopper();
    struct dp_engine_hw e;
    dp_engine_hw_from(&e, &h, 16);
    /* 16 * 989e12 * 0.5 = 7.912e15 FLOP/s */
    ck_rel(e.flops, 7.912e15);
    /* 16 * 3.35e12 * 0.7 = 37.52e12 B/s */
    ck_rel(e.hbm_bw, 37.52e12);
    ck_rel(e.hbm_bytes, 1280e9);
    /* two nodes: 16 CNICs * 50e9 = 800e9 B/s */
    ck_rel(e.cnic_bw, 800e9);
    /* two nodes' SNICs: 2 * 50e9 = 100e9 B/s */
    ck_rel(e.snic_bw, 100e9);
    /* 2 * 512 GiB = 1099511627776 B */
    ck_rel(e.dram_bytes, 1099511627776.0);
    /* each GPU has 8 of its 16 peers (itself included) on its node:
     * 1 - 8/16 = 0.5 of an even all-to-all crosses nodes */
    ck_rel(e.a2a_cross_fraction, 0.5);
}
END_TEST

START_TEST(test_engine_exactly_one_node)
{
    struct dp_hw h = hopper();
    struct dp_engine_hw e;
    dp_engine_hw_from(&e, &h, 8);
    ck_assert_double_eq(e.a2a_cross_fraction, 0.0);
    ck_rel(e.snic_bw, 50e9);
    ck_rel(e.cnic_bw, 400e9);
}
END_TEST

/* -------------------------------------------------------------- prefill */

START_TEST(test_prefill_shape)
{
    struct dp_prefill_shape s = {0, 0.0, 0.0};
    /* 100 new over 0 cached: 100*(0 + 101/2) = 5050 pairs (= 1+2+...+100) */
    dp_prefill_shape_add(&s, 100, 0);
    ck_assert_uint_eq(s.new_tokens, 100);
    ck_assert_double_eq(s.attn_pairs, 5050.0);
    /* + 300 new over 1000 cached: 300*(1000 + 301/2) = 300*1150.5 = 345150 */
    dp_prefill_shape_add(&s, 300, 1000);
    ck_assert_uint_eq(s.new_tokens, 400);
    ck_assert_double_eq(s.attn_pairs, 350200.0);
}
END_TEST

START_TEST(test_prefill_qwen_400_over_32k)
{
    struct dp_model m = qwen32b();
    struct dp_hw h = hopper();
    struct dp_engine_hw e;
    dp_engine_hw_from(&e, &h, 8);
    struct dp_prefill_shape s = {0, 0.0, 0.0};
    dp_prefill_shape_add(&s, 400, 32768);
    /* pairs = 400 * (32768 + 401/2) = 400 * 32968.5 = 13187400 */
    ck_assert_double_eq(s.attn_pairs, 13187400.0);
    /* GEMMs: 2 * (32.5e9 / 64) * 400 = 2 * 507812500 * 400 = 406250000000
     * attention: 2 * 40 * (128 + 128) * 13187400 = 20480 * 13187400
     *          = 270077952000
     * sum = 676327952000 FLOP per layer */
    ck_rel(dp_prefill_layer_flops(&m, &s), 676327952000.0);
    /* engine: 8 * 989e12 * 0.5 = 3.956e15 FLOP/s
     * 676327952000 / 3.956e15 = 170962.576... ns
     * + 2e-3 s / 64 layers = 31250 ns  -> 202212.576 -> 202213 ns
     * (memory: weights 32.5e9 * 2 / 64 = 1015625000 B + cached KV
     * 32768 * 4096 = 134217728 B = 1149842728 B / (8 * 3.35e12 * 0.7 =
     * 1.876e13 B/s) = 61292 ns: compute-bound) */
    ck_rel(dp_prefill_layer_bytes(&m, &s), 1149842728.0);
    ck_assert_uint_eq(dp_prefill_layer_ns(&m, &e, &s), 202213);
}
END_TEST

START_TEST(test_prefill_batch_of_two)
{
    struct dp_model m = qwen32b();
    struct dp_hw h = hopper();
    struct dp_engine_hw e;
    dp_engine_hw_from(&e, &h, 8);
    struct dp_prefill_shape s = {0, 0.0, 0.0};
    dp_prefill_shape_add(&s, 100, 0);
    dp_prefill_shape_add(&s, 300, 1000);
    /* 400 new tokens, 350200 pairs (test_prefill_shape)
     * GEMMs 406250000000 (as above) + attention 20480 * 350200 = 7172096000
     * = 413422096000 FLOP; / 3.956e15 = 104505.080 ns; + 31250 = 135755.08
     * -> 135755 ns */
    ck_assert_uint_eq(dp_prefill_layer_ns(&m, &e, &s), 135755);
}
END_TEST

START_TEST(test_prefill_mla_attention_dims)
{
    struct dp_model m = ds660b();
    struct dp_prefill_shape s = {0, 0.0, 0.0};
    dp_prefill_shape_add(&s, 1, 0);
    /* one token, one pair: GEMMs 2 * 37e9 / 61 = 1213114754.098...
     * attention 2 * 128 * (192 + 128) * 1 = 81920 */
    ck_rel(dp_prefill_layer_flops(&m, &s), 74e9 / 61.0 + 81920.0);
}
END_TEST

/* A small MoE batch is bound by the experts it must read, not by FLOPs. */
START_TEST(test_prefill_moe_memory_bound)
{
    struct dp_model m = ds660b();
    struct dp_hw h = hopper();
    struct dp_engine_hw e;
    dp_engine_hw_from(&e, &h, 16);
    struct dp_prefill_shape s = {0, 0.0, 0.0};
    dp_prefill_shape_add(&s, 64, 0);
    /* experts touched by 64 tokens choosing 8 of 256: f = 1 - (248/256)^64
     * = 1 - 0.96875^64 = 1 - 0.13068 = 0.86932; routed R = (671e9 - 37e9) /
     * (1 - 8/256) = 634e9 / 0.96875 = 654.452e9; shared 16.548e9;
     * params read = 16.548e9 + 654.452e9 * 0.86932 = 585.48e9, 1 B each (FP8),
     * / 61 layers = 9.598e9 B per layer; / (16 * 3.35e12 * 0.7 = 3.752e13)
     * = 255.8 us. FLOPs: 2 * 37e9 / 61 * 64 = 77.6e9 (+ tiny attention)
     * / (16 * 989e12 * 0.5 = 7.912e15) = 9.8 us. Memory wins by 26x. */
    double ns = (double)dp_prefill_layer_ns(&m, &e, &s) - 2e-3 / 61 * 1e9;
    ck_assert_msg(ns > 250e3 && ns < 262e3, "layer %.0f ns", ns);
}
END_TEST

START_TEST(test_prefill_edges)
{
    struct dp_model m = qwen32b();
    struct dp_hw h = hopper();
    struct dp_engine_hw e;
    dp_engine_hw_from(&e, &h, 8);
    struct dp_prefill_shape s = {0, 0.0, 0.0};
    /* nothing to compute costs nothing, not even the overhead */
    ck_assert_uint_eq(dp_prefill_layer_ns(&m, &e, &s), 0);
    /* any work costs at least 1 ns, even on an absurdly fast engine */
    dp_prefill_shape_add(&s, 1, 0);
    e.flops = 1e30;
    e.hbm_bw = 1e30;
    e.step_overhead_s = 0.0;
    ck_assert_uint_eq(dp_prefill_layer_ns(&m, &e, &s), 1);
}
END_TEST

/* --------------------------------------------------------------- decode */

START_TEST(test_decode_memory_bound)
{
    struct dp_model m = qwen32b();
    struct dp_hw h = hopper();
    struct dp_engine_hw e;
    dp_engine_hw_from(&e, &h, 8);
    /* batch 1, 1000 context tokens.
     * HBM: weights 32.5e9 * 2 = 65e9 B (dense: all of them)
     *      KV 1000 * 262144 = 262144000 B  -> 65262144000 B
     *      / (8 * 3.35e12 * 0.7 = 18.76e12 B/s) = 3478792.324 ns
     * FLOPs: 2 * 32.5e9 * 1 + 2*40*256 * 1000 * 64 = 65e9 + 1310720000
     *      = 66310720000 / 3.956e15 = 16762.06 ns  (far below: memory-bound)
     * + 2e-3 s overhead -> 5478792.324 -> 5478792 ns */
    ck_assert_uint_eq(dp_decode_step_ns(&m, &e, 1, 1000), 5478792);
}
END_TEST

START_TEST(test_decode_compute_bound)
{
    struct dp_model m = qwen32b();
    struct dp_hw h = hopper();
    struct dp_engine_hw e;
    dp_engine_hw_from(&e, &h, 8);
    /* batch 4096, 100 tokens of context each = 409600 context tokens.
     * HBM: 65e9 + 409600 * 262144 = 65e9 + 107374182400 = 172374182400 B
     *      / 18.76e12 = 9188389.25 ns
     * FLOPs: 2 * 32.5e9 * 4096 = 266240000000000
     *      + 20480 * 409600 * 64 = 536870912000
     *      = 266776870912000 / 3.956e15 = 67436013.88 ns  (compute-bound)
     * + 2e6 ns overhead -> 69436013.88 -> 69436014 ns */
    ck_assert_uint_eq(dp_decode_step_ns(&m, &e, 4096, 409600), 69436014);
}
END_TEST

START_TEST(test_decode_moe_experts_touched)
{
    struct dp_model m = ds660b();
    struct dp_hw h = hopper();
    struct dp_engine_hw e;
    dp_engine_hw_from(&e, &h, 8);
    /* Routed parameters R and the rest D from
     *   671e9 = D + R,  37e9 = D + R * 8/256
     *   R = 634e9 / (31/32) = 654451612903.2, D = 16548387096.8
     * batch 1, no context: f = 8/256, weights = D + R/32 = 37e9 params,
     * 1 B each = 37e9 B / 18.76e12 = 1972281.45 ns (FLOPs 74e9/3.956e15 =
     * 18706 ns, below) + 2e6 -> 3972281 ns */
    ck_assert_uint_eq(dp_decode_step_ns(&m, &e, 1, 0), 3972281);
    /* batch 64: f = 1 - (31/32)^64 = 0.8689159675
     * weights = 16548387096.8 + 654451612903.2 * 0.8689159675
     *         = 585211843518.6 B / 18.76e12 = 31194661.17 ns
     * (FLOPs 64 * 74e9 = 4.736e12 / 3.956e15 = 1197169 ns, below)
     * + 2e6 -> 33194661 ns */
    ck_assert_uint_eq(dp_decode_step_ns(&m, &e, 64, 0), 33194661);
    /* batch 2048: f = 1 - (31/32)^2048 ~ 1 - 6e-29, all experts touched,
     * weights 671e9 B / 18.76e12 = 35767590.6 ns; but FLOPs
     * 2 * 37e9 * 2048 = 1.51552e14 / 3.956e15 = 38309403.4 ns are more:
     * compute-bound, + 2e6 -> 40309403 ns */
    ck_assert_uint_eq(dp_decode_step_ns(&m, &e, 2048, 0), 40309403);
    /* the touched share stops at all experts: with compute made free the
     * same step reads exactly params_total = 671e9 B -> 35767590.6 ns
     * + 2e6 -> 37767591 ns */
    e.flops = 1e30;
    ck_assert_uint_eq(dp_decode_step_ns(&m, &e, 2048, 0), 37767591);
}
END_TEST

START_TEST(test_decode_empty)
{
    struct dp_model m = qwen32b();
    struct dp_hw h = hopper();
    struct dp_engine_hw e;
    dp_engine_hw_from(&e, &h, 8);
    ck_assert_uint_eq(dp_decode_step_ns(&m, &e, 0, 0), 0);
}
END_TEST

/* ----------------------------------------------------------- all-to-all */

START_TEST(test_a2a)
{
    struct dp_model d = ds660b(), q = qwen32b();
    struct dp_hw h = hopper();
    struct dp_engine_hw one, two;
    dp_engine_hw_from(&one, &h, 8);
    dp_engine_hw_from(&two, &h, 16);
    /* inside one node: NVLink carries it all */
    ck_assert_double_eq(dp_a2a_layer_bytes(&d, &one, 1000), 0.0);
    /* two nodes, 1000 tokens: 1000 * 8 experts * 7168 * 1.5 B * 2 * 0.5
     * = 86016000 B */
    ck_rel(dp_a2a_layer_bytes(&d, &two, 1000), 86016000.0);
    /* a dense model has no all-to-all */
    ck_assert_double_eq(dp_a2a_layer_bytes(&q, &two, 1000), 0.0);
}
END_TEST

static Suite *cost_suite(void)
{
    Suite *s = suite_create("cost");
    TCase *kv = tcase_create("kv");
    tcase_add_test(kv, test_kv_gqa);
    tcase_add_test(kv, test_kv_mla);
    tcase_add_test(kv, test_weights_per_gpu);
    suite_add_tcase(s, kv);

    TCase *eng = tcase_create("engine");
    tcase_add_test(eng, test_engine_4gpus);
    tcase_add_test(eng, test_engine_16gpus);
    tcase_add_test(eng, test_engine_exactly_one_node);
    suite_add_tcase(s, eng);

    TCase *pf = tcase_create("prefill");
    tcase_add_test(pf, test_prefill_shape);
    tcase_add_test(pf, test_prefill_qwen_400_over_32k);
    tcase_add_test(pf, test_prefill_batch_of_two);
    tcase_add_test(pf, test_prefill_mla_attention_dims);
    tcase_add_test(pf, test_prefill_moe_memory_bound);
    tcase_add_test(pf, test_prefill_edges);
    suite_add_tcase(s, pf);

    TCase *dc = tcase_create("decode");
    tcase_add_test(dc, test_decode_memory_bound);
    tcase_add_test(dc, test_decode_compute_bound);
    tcase_add_test(dc, test_decode_moe_experts_touched);
    tcase_add_test(dc, test_decode_empty);
    suite_add_tcase(s, dc);

    TCase *a2a = tcase_create("a2a");
    tcase_add_test(a2a, test_a2a);
    suite_add_tcase(s, a2a);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(cost_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
