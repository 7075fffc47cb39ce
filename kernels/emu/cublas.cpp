// The emulated cuBLAS: a `libcublas.so` whose GEMMs check every argument rule
// cuBLAS checks, check that each matrix's extent lies inside device memory, and
// then run a reference column-major GEMM on the handle's stream (driver.cpp).
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

extern "C" {
int neurite_emu_check_range(unsigned long long p, size_t n, const char* op, const char* what);
int neurite_emu_submit(void* s, void (*fn)(void*), void* arg);
int neurite_emu_is_stream(void* s);
void neurite_emu_fault(int code);
void neurite_emu_record_push(const char* name, void* s);
}

namespace {

enum Status {
    SUCCESS = 0,
    NOT_INITIALIZED = 1,
    ALLOC_FAILED = 3,
    INVALID_VALUE = 7,
    ARCH_MISMATCH = 8,
    EXECUTION_FAILED = 13,
    NOT_SUPPORTED = 15,
};
enum Op { OP_N = 0, OP_T = 1, OP_C = 2 };
// cudaDataType values cuBLAS takes.
enum DataType { R_32F = 0, R_64F = 1, R_16F = 2, R_16BF = 14 };
// cublasComputeType_t.
enum Compute { COMPUTE_16F = 64, COMPUTE_32F = 68, COMPUTE_32F_FAST_16F = 74, COMPUTE_32F_FAST_16BF = 75,
               COMPUTE_32F_FAST_TF32 = 77, COMPUTE_64F = 70 };

struct Handle {
    void* stream;
    int magic;
};
const int MAGIC = 0x6e657572;

bool valid(Handle* h) { return h && h->magic == MAGIC; }

void note(const char* op, const char* msg) { fprintf(stderr, "neurite CUDA emulator: %s: %s\n", op, msg); }

size_t elem_size(int t) { return t == R_64F ? 8 : t == R_32F ? 4 : 2; }

double load(const void* base, size_t i, int t) {
    switch (t) {
        case R_64F: return static_cast<const double*>(base)[i];
        case R_32F: return static_cast<const float*>(base)[i];
        case R_16F: {
            _Float16 h;
            memcpy(&h, static_cast<const char*>(base) + 2 * i, 2);
            return (double)(float)h;
        }
        default: {
            uint16_t b;
            memcpy(&b, static_cast<const char*>(base) + 2 * i, 2);
            uint32_t u = (uint32_t)b << 16;
            float f;
            memcpy(&f, &u, 4);
            return f;
        }
    }
}

void store(void* base, size_t i, int t, double v) {
    switch (t) {
        case R_64F: static_cast<double*>(base)[i] = v; break;
        case R_32F: static_cast<float*>(base)[i] = (float)v; break;
        case R_16F: {
            _Float16 h = (_Float16)(float)v;
            memcpy(static_cast<char*>(base) + 2 * i, &h, 2);
            break;
        }
        default: {
            float f = (float)v;
            uint32_t u;
            memcpy(&u, &f, 4);
            uint16_t b = ((u & 0x7fffffffu) > 0x7f800000u) ? (uint16_t)((u >> 16) | 0x40u)
                                                           : (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
            memcpy(static_cast<char*>(base) + 2 * i, &b, 2);
        }
    }
}

struct Gemm {
    const char* op;
    int ta, tb, m, n, k;
    double alpha, beta;
    const void* a;
    int atype, lda;
    long long sa;
    const void* b;
    int btype, ldb;
    long long sb;
    void* c;
    int ctype, ldc;
    long long sc;
    int batch;
    bool f32_accumulate;
};

// C = alpha op(A) op(B) + beta C, column-major; beta == 0 never reads C (it may
// hold NaN), as cuBLAS promises. Products accumulate in f64 in order of l (cuBLAS
// accumulates 16- and 32-bit types in f32 with its own blocking: the parity
// tolerances cover either).
void run_gemm(void* p) {
    Gemm* g = static_cast<Gemm*>(p);
    std::vector<double> at((size_t)g->m * g->k), bcol(g->k);
    for (int bt = 0; bt < g->batch; ++bt) {
        const char* a = static_cast<const char*>(g->a) + (size_t)(bt * g->sa) * elem_size(g->atype);
        const char* b = static_cast<const char*>(g->b) + (size_t)(bt * g->sb) * elem_size(g->btype);
        char* c = static_cast<char*>(g->c) + (size_t)(bt * g->sc) * elem_size(g->ctype);
        // op(A) once per matrix, row i contiguous, so each output is one dot product.
        for (int i = 0; i < g->m; ++i)
            for (int l = 0; l < g->k; ++l) {
                size_t ai = g->ta == OP_N ? (size_t)i + (size_t)l * g->lda : (size_t)l + (size_t)i * g->lda;
                at[(size_t)i * g->k + l] = load(a, ai, g->atype);
            }
        for (int j = 0; j < g->n; ++j) {
            for (int l = 0; l < g->k; ++l) {
                size_t bi = g->tb == OP_N ? (size_t)l + (size_t)j * g->ldb : (size_t)j + (size_t)l * g->ldb;
                bcol[l] = load(b, bi, g->btype);
            }
            for (int i = 0; i < g->m; ++i) {
                const double* row = at.data() + (size_t)i * g->k;
                double acc = 0;
                for (int l = 0; l < g->k; ++l) acc += row[l] * bcol[l];
                size_t ci = (size_t)i + (size_t)j * g->ldc;
                double out = g->alpha * acc + (g->beta != 0 ? g->beta * load(c, ci, g->ctype) : 0.0);
                store(c, ci, g->ctype, out);
            }
        }
    }
    delete g;
}

// The extent a column-major operand of `rows` x `cols` with leading dimension `ld`
// and batch stride `stride` spans, in elements.
bool extent(int rows, int cols, int ld, long long stride, int batch, size_t* out) {
    if (rows == 0 || cols == 0 || batch == 0) {
        *out = 0;
        return true;
    }
    unsigned __int128 one = (unsigned __int128)(cols - 1) * (unsigned)ld + (unsigned)rows;
    unsigned __int128 all = one + (unsigned __int128)(batch - 1) * (unsigned long long)(stride < 0 ? 0 : stride);
    if (all > SIZE_MAX / 8) return false;
    *out = (size_t)all;
    return true;
}

int gemm(Handle* h, Gemm g) {
    const char* op = g.op;
    if (!valid(h)) return NOT_INITIALIZED;
    char msg[512];
    auto bad = [&](const char* fmt, long long v, long long w) {
        snprintf(msg, sizeof msg, fmt, v, w);
        note(op, msg);
        return INVALID_VALUE;
    };
    if (g.ta < OP_N || g.ta > OP_C) return bad("transa %lld is not N, T or C%lld", g.ta, 0);
    if (g.tb < OP_N || g.tb > OP_C) return bad("transb %lld is not N, T or C%lld", g.tb, 0);
    if (g.m < 0 || g.n < 0 || g.k < 0) return bad("negative m/n/k (m=%lld, n or k < 0; %lld)", g.m, g.n);
    if (g.batch < 0) return bad("batchCount %lld < 0%lld", g.batch, 0);
    // cuBLAS's rules: lda >= max(1, rows of A as stored), and so on.
    const int a_rows = g.ta == OP_N ? g.m : g.k, a_cols = g.ta == OP_N ? g.k : g.m;
    const int b_rows = g.tb == OP_N ? g.k : g.n, b_cols = g.tb == OP_N ? g.n : g.k;
    if (g.lda < (a_rows > 1 ? a_rows : 1)) return bad("lda = %lld < max(1, %lld)", g.lda, a_rows);
    if (g.ldb < (b_rows > 1 ? b_rows : 1)) return bad("ldb = %lld < max(1, %lld)", g.ldb, b_rows);
    if (g.ldc < (g.m > 1 ? g.m : 1)) return bad("ldc = %lld < max(1, m = %lld)", g.ldc, g.m);
    if (!neurite_emu_is_stream(h->stream)) return EXECUTION_FAILED;
    neurite_emu_record_push(op, h->stream);
    if (g.m == 0 || g.n == 0 || g.batch == 0) return SUCCESS;
    size_t ea, eb, ec;
    bool k_zero = g.k == 0;
    if (!extent(a_rows, a_cols, g.lda, g.sa, g.batch, &ea) || !extent(b_rows, b_cols, g.ldb, g.sb, g.batch, &eb) ||
        !extent(g.m, g.n, g.ldc, g.sc, g.batch, &ec))
        return bad("operand extent overflows (m=%lld, n=%lld)", g.m, g.n);
    // Beyond an allocation a GPU faults, and the context is lost: the same here.
    if ((!k_zero && (!neurite_emu_check_range((unsigned long long)g.a, ea * elem_size(g.atype), op, "A") ||
                     !neurite_emu_check_range((unsigned long long)g.b, eb * elem_size(g.btype), op, "B"))) ||
        !neurite_emu_check_range((unsigned long long)g.c, ec * elem_size(g.ctype), op, "C")) {
        neurite_emu_fault(700);
        return EXECUTION_FAILED;
    }
    Gemm* job = new Gemm(g);
    neurite_emu_submit(h->stream, run_gemm, job);
    return SUCCESS;
}

}  // namespace

extern "C" {

int cublasCreate_v2(Handle** h) {
    if (!h) return INVALID_VALUE;
    *h = new Handle{nullptr, MAGIC};
    return SUCCESS;
}
int cublasDestroy_v2(Handle* h) {
    if (!valid(h)) return NOT_INITIALIZED;
    h->magic = 0;
    delete h;
    return SUCCESS;
}
int cublasSetStream_v2(Handle* h, void* s) {
    if (!valid(h)) return NOT_INITIALIZED;
    h->stream = s;
    return SUCCESS;
}
int cublasGetStream_v2(Handle* h, void** s) {
    if (!valid(h)) return NOT_INITIALIZED;
    if (s) *s = h->stream;
    return SUCCESS;
}
int cublasSetMathMode(Handle* h, int mode) {
    (void)mode;
    return valid(h) ? SUCCESS : NOT_INITIALIZED;
}
int cublasGetMathMode(Handle* h, int* mode) {
    if (!valid(h)) return NOT_INITIALIZED;
    if (mode) *mode = 0;
    return SUCCESS;
}
int cublasSetWorkspace_v2(Handle* h, void* w, size_t n) {
    (void)w;
    (void)n;
    return valid(h) ? SUCCESS : NOT_INITIALIZED;
}
int cublasSetPointerMode_v2(Handle* h, int mode) {
    if (!valid(h)) return NOT_INITIALIZED;
    // Device-side alpha/beta are not emulated; the crate passes host scalars.
    return mode == 0 ? SUCCESS : NOT_SUPPORTED;
}
int cublasGetPointerMode_v2(Handle* h, int* mode) {
    if (!valid(h)) return NOT_INITIALIZED;
    if (mode) *mode = 0;
    return SUCCESS;
}
// MAJOR_VERSION = 0, MINOR_VERSION = 1, PATCH_LEVEL = 2.
int cublasGetProperty(int type, int* value) {
    if (!value) return INVALID_VALUE;
    const char* v = getenv("NEURITE_EMU_CUBLAS_VERSION");
    int major = v && *v ? atoi(v) / 1000 : 13, minor = v && *v ? atoi(v) % 1000 / 10 : 0;
    switch (type) {
        case 0: *value = major; return SUCCESS;
        case 1: *value = minor; return SUCCESS;
        case 2: *value = 0; return SUCCESS;
        default: return INVALID_VALUE;
    }
}
int cublasGetVersion_v2(Handle* h, int* version) {
    if (!valid(h)) return NOT_INITIALIZED;
    int major = 0, minor = 0;
    cublasGetProperty(0, &major);
    cublasGetProperty(1, &minor);
    if (version) *version = major * 10000 + minor * 100;
    return SUCCESS;
}

int cublasSgemmStridedBatched(Handle* h, int ta, int tb, int m, int n, int k, const float* alpha, const float* a, int lda,
                              long long sa, const float* b, int ldb, long long sb, const float* beta, float* c, int ldc,
                              long long sc, int batch) {
    if (!alpha || !beta) return INVALID_VALUE;
    return gemm(h, {"cublasSgemmStridedBatched", ta, tb, m, n, k, *alpha, *beta, a, R_32F, lda, sa, b, R_32F, ldb, sb, c,
                    R_32F, ldc, sc, batch, true});
}
int cublasDgemmStridedBatched(Handle* h, int ta, int tb, int m, int n, int k, const double* alpha, const double* a,
                              int lda, long long sa, const double* b, int ldb, long long sb, const double* beta, double* c,
                              int ldc, long long sc, int batch) {
    if (!alpha || !beta) return INVALID_VALUE;
    return gemm(h, {"cublasDgemmStridedBatched", ta, tb, m, n, k, *alpha, *beta, a, R_64F, lda, sa, b, R_64F, ldb, sb, c,
                    R_64F, ldc, sc, batch, false});
}
int cublasSgemm_v2(Handle* h, int ta, int tb, int m, int n, int k, const float* alpha, const float* a, int lda,
                   const float* b, int ldb, const float* beta, float* c, int ldc) {
    if (!alpha || !beta) return INVALID_VALUE;
    return gemm(h, {"cublasSgemm", ta, tb, m, n, k, *alpha, *beta, a, R_32F, lda, 0, b, R_32F, ldb, 0, c, R_32F, ldc, 0, 1,
                    true});
}
int cublasDgemm_v2(Handle* h, int ta, int tb, int m, int n, int k, const double* alpha, const double* a, int lda,
                   const double* b, int ldb, const double* beta, double* c, int ldc) {
    if (!alpha || !beta) return INVALID_VALUE;
    return gemm(h, {"cublasDgemm", ta, tb, m, n, k, *alpha, *beta, a, R_64F, lda, 0, b, R_64F, ldb, 0, c, R_64F, ldc, 0, 1,
                    false});
}

int cublasGemmStridedBatchedEx(Handle* h, int ta, int tb, int m, int n, int k, const void* alpha, const void* a,
                               int atype, int lda, long long sa, const void* b, int btype, int ldb, long long sb,
                               const void* beta, void* c, int ctype, int ldc, long long sc, int batch, int compute,
                               int algo) {
    (void)algo;
    if (!alpha || !beta) return INVALID_VALUE;
    // The combinations of the cuBLAS table for cublasGemmEx that the crate can use.
    bool ok = false;
    if (compute == COMPUTE_32F || compute == COMPUTE_32F_FAST_16F || compute == COMPUTE_32F_FAST_16BF ||
        compute == COMPUTE_32F_FAST_TF32)
        ok = atype == btype && ((atype == R_16F && (ctype == R_16F || ctype == R_32F)) ||
                                (atype == R_16BF && (ctype == R_16BF || ctype == R_32F)) ||
                                (atype == R_32F && ctype == R_32F));
    else if (compute == COMPUTE_64F)
        ok = atype == R_64F && btype == R_64F && ctype == R_64F;
    if (!ok) {
        note("cublasGemmStridedBatchedEx", "unsupported combination of types and compute type");
        return NOT_SUPPORTED;
    }
    double al = compute == COMPUTE_64F ? *static_cast<const double*>(alpha) : *static_cast<const float*>(alpha);
    double be = compute == COMPUTE_64F ? *static_cast<const double*>(beta) : *static_cast<const float*>(beta);
    return gemm(h, {"cublasGemmStridedBatchedEx", ta, tb, m, n, k, al, be, a, atype, lda, sa, b, btype, ldb, sb, c, ctype,
                    ldc, sc, batch, compute != COMPUTE_64F});
}

}  // extern "C"
