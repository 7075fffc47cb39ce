// ThreadSanitizer driver for the kernels that use __shared__ memory, __syncthreads
// and warp shuffles (kernels/reduce.cu: reduce_block_*, argreduce_block_*), plus the
// atomic adds of kernels/index.cu run with one host thread per CUDA thread.
// Built by tests/cuda_kernels/tsan.rs with -fsanitize=thread together with
// kernels/emu/executor.cpp; the kernel sources come from the include path (the
// repository's kernels/, or a copy named by NEURITE_TSAN_KERNELS_DIR), so a
// mutated kernel can be checked. Every result is checked against a known answer:
// exit 1 on a wrong value; ThreadSanitizer exits 66 on a race
// (TSAN_OPTIONS=halt_on_error=1 exitcode=66).
#include "shim.h"
#include "registry.h"
#include "executor.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace fam_reduce {
#include "prelude.cuh"
#include "reduce.cu"
}  // namespace fam_reduce
namespace fam_index {
#include "prelude.cuh"
#include "index.cu"
}  // namespace fam_index

static const neurite_emu::KernelEntry entries[] = {
    NEURITE_EMU_ENTRY(fam_reduce, reduce_block_f32),    NEURITE_EMU_ENTRY(fam_reduce, reduce_block_f64),
    NEURITE_EMU_ENTRY(fam_reduce, argreduce_block_f32), NEURITE_EMU_ENTRY(fam_reduce, argreduce_block_f64),
    NEURITE_EMU_ENTRY(fam_reduce, reduce_block_f16),    NEURITE_EMU_ENTRY(fam_reduce, argreduce_block_i64),
    NEURITE_EMU_ENTRY(fam_index, index_add_f32),        NEURITE_EMU_ENTRY(fam_index, scatter_add_f64),
};

namespace neurite_emu {
const KernelEntry* find_kernel(const char* name) {
    for (const auto& e : entries)
        if (std::strcmp(e.name, name) == 0) return &e;
    return nullptr;
}
}  // namespace neurite_emu

static int failures = 0;

static void launch(const char* name, unsigned grid, std::vector<void*> args) {
    const neurite_emu::KernelEntry* k = neurite_emu::find_kernel(name);
    if (!k) {
        std::fprintf(stderr, "no kernel %s\n", name);
        std::exit(2);
    }
    std::string why = neurite_emu::run_kernel(*k, {grid, 1, 1}, {256, 1, 1}, args.data(), true);
    if (!why.empty()) {
        std::fprintf(stderr, "%s: %s\n", name, why.c_str());
        std::exit(2);
    }
}

template <typename T> static void check(const char* what, unsigned long long r, T got, T want) {
    if (!(got == want)) {
        std::fprintf(stderr, "MISMATCH %s output %llu: got %.17g, want %.17g\n", what, r, (double)got, (double)want);
        ++failures;
    }
}

// Row r (of outer*inner, inner = 1) of length len holds (l * 7 + r * 3) % 11 - 5 at l:
// integer values, so that every order of summation gives the same sum; the maximum 5
// first appears at the smallest l with (l*7 + r*3) % 11 == 10, the minimum -5 at % 11 == 0.
template <typename T> static void reductions(const char* sfx, unsigned long long outer, unsigned long long len,
                                             unsigned grid) {
    typedef unsigned long long u64;
    std::vector<T> x(outer * len);
    for (u64 r = 0; r < outer; ++r)
        for (u64 l = 0; l < len; ++l) x[r * len + l] = (T)((double)((l * 7 + r * 3) % 11) - 5.0);
    u64 inner = 1;
    char name[64], what[96];
    for (int op = 0; op < 3; ++op) {
        std::vector<T> out(outer, (T)-999);
        T* o = out.data();
        const T* xp = x.data();
        std::snprintf(name, sizeof name, "reduce_block_%s", sfx);
        launch(name, grid, {&o, &xp, &outer, &len, &inner, &op});
        for (u64 r = 0; r < outer; ++r) {
            double want = op == 1 ? 5.0 : op == 2 ? -5.0 : 0.0;
            if (op == 0)
                for (u64 l = 0; l < len; ++l) want += (double)x[r * len + l];
            std::snprintf(what, sizeof what, "%s op %d len %llu", name, op, len);
            check(what, r, (double)out[r], want);
        }
    }
    for (int op = 0; op < 2; ++op) {
        std::vector<long long> out(outer, -999);
        long long* o = out.data();
        const T* xp = x.data();
        std::snprintf(name, sizeof name, "argreduce_block_%s", sfx);
        launch(name, grid, {&o, &xp, &outer, &len, &inner, &op});
        for (u64 r = 0; r < outer; ++r) {
            long long want = -1;
            for (u64 l = 0; l < len && want < 0; ++l)
                if ((l * 7 + r * 3) % 11 == (op == 0 ? 10u : 0u)) want = (long long)l;
            std::snprintf(what, sizeof what, "%s op %d len %llu", name, op, len);
            check(what, r, out[r], want);
        }
    }
}

int main() {
    // Rows longer than the block (each thread folds several elements), several rows
    // per block (the grid-stride loop reuses the shared arrays), and a short row.
    reductions<float>("f32", 5, 1000, 2);
    reductions<double>("f64", 3, 700, 3);
    reductions<float>("f32", 2, 40, 1);
    {
        // f16 sums: 300 rows of ones, exact in f32 and in f16.
        typedef unsigned long long u64;
        u64 outer = 2, len = 300, inner = 1;
        int op = 0;
        std::vector<unsigned short> x(outer * len, 0x3c00), out(outer, 0);
        unsigned short* o = out.data();
        const unsigned short* xp = x.data();
        launch("reduce_block_f16", 2, {&o, &xp, &outer, &len, &inner, &op});
        for (u64 r = 0; r < outer; ++r) check("reduce_block_f16 sum", r, (int)out[r], 0x5cb0);  // 300.0
        // i64 argmax: a single peak.
        std::vector<long long> xi(outer * len, 3), oi(outer, -1);
        xi[123] = 9;
        xi[len + 299] = 9;
        long long* op_ = oi.data();
        const long long* xip = xi.data();
        launch("argreduce_block_i64", 2, {&op_, &xip, &outer, &len, &inner, &op});
        check("argreduce_block_i64", 0, oi[0], 123LL);
        check("argreduce_block_i64", 1, oi[1], 299LL);
    }
    {
        // Atomic adds from 256 host threads at once onto 3 accumulators.
        typedef unsigned long long u64;
        u64 outer = 1, nids = 999, dim = 3, inner = 1, err[4] = {0, 0, 0, 0};
        std::vector<float> g(nids, 1.0f), acc(dim, 0.0f);
        std::vector<long long> ids(nids);
        for (u64 j = 0; j < nids; ++j) ids[j] = (long long)(j % 3);
        float* a = acc.data();
        const float* gp = g.data();
        const long long* ip = ids.data();
        u64* ep = err;
        launch("index_add_f32", 2, {&a, &gp, &ip, &outer, &nids, &dim, &inner, &ep});
        for (u64 d = 0; d < dim; ++d) check("index_add_f32", d, acc[d], 333.0f);
        std::vector<double> gd(nids, 0.5), accd(dim, 0.0);
        double* ad = accd.data();
        const double* gdp = gd.data();
        u64 one = 1;
        launch("scatter_add_f64", 2, {&ad, &gdp, &ip, &one, &nids, &dim, &inner, &ep});
        for (u64 d = 0; d < dim; ++d) check("scatter_add_f64", d, accd[d], 166.5);
        check("index error record", 0, err[0], 0ULL);
    }
    if (failures) {
        std::fprintf(stderr, "%d mismatches\n", failures);
        return 1;
    }
    std::printf("tsan driver: all block reductions and atomic adds correct\n");
    return 0;
}
