// The emulated CUDA driver: a `libcuda.so` that cudarc loads in place of NVIDIA's
// (docs/GPU.md, "Emulated CUDA device"). Device memory is host memory between
// guard pages; launches call the host-compiled kernel of the same name
// (executor.cpp) after checking the limits the hardware has; work queued on a
// stream runs when the host waits for it, in stream order.
//
// Only the entry points neurite (through cudarc) calls are here; cudarc resolves
// symbols lazily, so a missing one fails the test that needs it, naming it.
#include "executor.h"

#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

using neurite_emu::fatal;
typedef int CUresult;
typedef int CUdevice;
typedef unsigned long long CUdeviceptr;

enum : int {
    OK = 0,
    INVALID_VALUE = 1,
    OUT_OF_MEMORY = 2,
    NOT_INITIALIZED = 3,
    NO_DEVICE = 100,
    INVALID_DEVICE = 101,
    INVALID_IMAGE = 200,
    INVALID_CONTEXT = 201,
    NO_BINARY_FOR_GPU = 209,
    INVALID_PTX = 218,
    UNSUPPORTED_PTX_VERSION = 222,
    INVALID_HANDLE = 400,
    NOT_FOUND = 500,
    ILLEGAL_ADDRESS = 700,
    LAUNCH_OUT_OF_RESOURCES = 701,
    NOT_SUPPORTED = 801,
    UNKNOWN = 999,
};

namespace {

int env_int(const char* name, int fallback) {
    const char* v = getenv(name);
    return v && *v ? atoi(v) : fallback;
}

void note(const char* fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    fprintf(stderr, "neurite CUDA emulator: %s\n", buf);
}

struct Alloc {
    size_t size;     // what was asked for
    size_t usable;   // rounded up to 256 bytes: the data ends at the guard page
    char* region;    // the mapping, guard pages included
    size_t region_len;
};

struct Func;
struct Module {
    std::vector<Func*> funcs;
};
struct Func {
    std::string name;
    const neurite_emu::KernelEntry* host;
    std::vector<unsigned> param_sizes;  // from the PTX signature
    bool threaded;                       // the PTX has a barrier or a warp instruction
    Module* module;
};
struct Stream {
    unsigned flags;
    std::vector<std::function<void()>> queue;
};
struct Ctx {
    int device;
    int refs;
};
struct Event {
    int recorded;
};
struct Rec {
    std::string name;
    unsigned grid[3], block[3], shmem;
    unsigned long long stream;
};

std::recursive_mutex g_mu;
bool g_init = false;
CUresult g_sticky = OK;  // a fault poisons the context, as on a GPU
std::map<CUdeviceptr, Alloc> g_allocs;
size_t g_used = 0;
std::vector<Ctx*> g_primary;
std::vector<Stream*> g_streams;
std::vector<Module*> g_modules;
std::vector<Rec> g_record;
thread_local Ctx* tl_current = nullptr;
struct sigaction g_old_segv;
size_t g_page = 4096;

int devices() { return env_int("NEURITE_EMU_DEVICES", 1); }
int driver_version() { return env_int("NEURITE_EMU_DRIVER_VERSION", 13000); }
int compute_capability() { return env_int("NEURITE_EMU_CC", 80); }
int sm_count() { return env_int("NEURITE_EMU_SMS", 4); }
size_t total_memory() { return (size_t)env_int("NEURITE_EMU_MEMORY_MIB", 4096) << 20; }

// The allocation holding [p, p + n), or null.
const Alloc* find_range(CUdeviceptr p, size_t n) {
    auto it = g_allocs.upper_bound(p);
    if (it == g_allocs.begin()) return nullptr;
    --it;
    // The size asked for, not the 256-byte rounding: compute-sanitizer's bound too.
    if (p >= it->first && n <= it->second.size && p - it->first <= it->second.size - n) return &it->second;
    return nullptr;
}

// Where an address lies relative to the allocations, for fault reports.
void describe(CUdeviceptr a, char* out, size_t len) {
    for (auto& [base, al] : g_allocs) {
        CUdeviceptr lo = (CUdeviceptr)al.region, hi = lo + al.region_len;
        if (a >= lo && a < hi) {
            if (a >= base + al.usable)
                snprintf(out, len, "%llu bytes past the end of the %zu-byte allocation at 0x%llx", a - (base + al.size),
                         al.size, base);
            else if (a < base)
                snprintf(out, len, "%llu bytes before the %zu-byte allocation at 0x%llx", base - a, al.size, base);
            else
                snprintf(out, len, "inside the %zu-byte allocation at 0x%llx", al.size, base);
            return;
        }
    }
    snprintf(out, len, "not near any device allocation");
}

void on_segv(int sig, siginfo_t* info, void* uc) {
    const char* k = neurite_emu::current_kernel();
    CUdeviceptr a = (CUdeviceptr)info->si_addr;
    char where[256];
    describe(a, where, sizeof where);
    bool ours = strcmp(where, "not near any device allocation") != 0;
    if (k || ours) {
        char msg[768];
        if (k) {
            neurite_emu::Dim b, t;
            neurite_emu::current_indices(&b, &t);
            snprintf(msg, sizeof msg,
                     "neurite CUDA emulator: invalid memory access in kernel %s, block (%u,%u,%u) thread (%u,%u,%u): "
                     "address 0x%llx, %s\n",
                     k, b.x, b.y, b.z, t.x, t.y, t.z, a, where);
        } else {
            snprintf(msg, sizeof msg, "neurite CUDA emulator: invalid device-memory access by the host at 0x%llx, %s\n", a,
                     where);
        }
        ssize_t ignored = write(2, msg, strlen(msg));
        (void)ignored;
        abort();
    }
    // Not ours (Rust's stack-overflow guard, a real bug elsewhere): the old handler.
    if (g_old_segv.sa_flags & SA_SIGINFO) {
        g_old_segv.sa_sigaction(sig, info, uc);
    } else if (g_old_segv.sa_handler == SIG_DFL || g_old_segv.sa_handler == SIG_IGN) {
        signal(SIGSEGV, SIG_DFL);  // the fault repeats on return and kills the process
    } else {
        g_old_segv.sa_handler(sig);
    }
}

void record(const char* name, const unsigned* grid, const unsigned* block, unsigned shmem, void* stream) {
    if (g_record.size() >= (1u << 20)) return;
    Rec r;
    r.name = name;
    for (int i = 0; i < 3; ++i) {
        r.grid[i] = grid ? grid[i] : 0;
        r.block[i] = block ? block[i] : 0;
    }
    r.shmem = shmem;
    r.stream = (unsigned long long)stream;
    g_record.push_back(r);
}

bool is_legacy(void* s) { return s == nullptr || s == (void*)1 || s == (void*)2; }

Stream* stream_of(void* s) {
    for (Stream* x : g_streams)
        if (x == s) return x;
    return nullptr;
}

void flush(Stream* s) {
    // Ops queued by an op (none today) run in the next round, still in order.
    while (!s->queue.empty()) {
        std::vector<std::function<void()>> q;
        q.swap(s->queue);
        for (auto& op : q) op();
    }
}

void flush_all() {
    for (Stream* s : g_streams) flush(s);
}

// Runs `op` now (legacy stream: ordered with nothing the crate queues on its own
// non-blocking stream) or queues it on stream `s`.
CUresult submit(void* s, std::function<void()> op) {
    if (is_legacy(s)) {
        op();
        return g_sticky;
    }
    Stream* st = stream_of(s);
    if (!st) return INVALID_HANDLE;
    st->queue.push_back(std::move(op));
    return OK;
}

#define GUARD                                           \
    std::lock_guard<std::recursive_mutex> lock_(g_mu);  \
    if (!g_init) return NOT_INITIALIZED;

#define STICKY \
    if (g_sticky != OK) return g_sticky;

bool check_range(CUdeviceptr p, size_t n, const char* op, const char* what) {
    if (n == 0) return true;
    if (find_range(p, n)) return true;
    char where[256];
    describe(p, where, sizeof where);
    note("%s: %s [0x%llx, +%zu bytes) is not inside one device allocation (%s)", op, what, p, n, where);
    return false;
}

// PTX ISA version -> the oldest driver API version that JIT-compiles it.
int driver_for_ptx(int major, int minor) {
    if (major < 8) return 11000;
    if (major == 8) {
        static const int v[] = {12000, 12010, 12020, 12030, 12040, 12050, 12070, 12080, 12090};
        return minor < 9 ? v[minor] : 12090;
    }
    return 13000 + (major - 9) * 1000 + minor * 10;
}

unsigned ptx_type_size(const std::string& t) {
    if (t == ".u64" || t == ".s64" || t == ".b64" || t == ".f64") return 8;
    if (t == ".u32" || t == ".s32" || t == ".b32" || t == ".f32") return 4;
    if (t == ".u16" || t == ".s16" || t == ".b16" || t == ".f16") return 2;
    if (t == ".u8" || t == ".s8" || t == ".b8") return 1;
    return 0;
}

bool has_sync_op(const std::string& body) {
    static const char* ops[] = {"bar.sync", "barrier.sync", "bar.arrive", "bar.red", "barrier.", "shfl.",
                                "vote.", "match.", "redux.", "bar.warp"};
    for (const char* o : ops)
        if (body.find(o) != std::string::npos) return true;
    return false;
}

// Parses the entries of a PTX module: name, parameter sizes, whether it synchronises.
CUresult parse_ptx(const std::string& ptx, Module* m) {
    size_t v = ptx.find(".version ");
    if (v == std::string::npos) {
        note("cuModuleLoadData: no .version line: not PTX");
        return INVALID_IMAGE;
    }
    int vmaj = 0, vmin = 0;
    sscanf(ptx.c_str() + v + 9, "%d.%d", &vmaj, &vmin);
    if (driver_version() < driver_for_ptx(vmaj, vmin)) {
        note("cuModuleLoadData: PTX ISA %d.%d needs a driver for CUDA %d.%d; this one is %d", vmaj, vmin,
             driver_for_ptx(vmaj, vmin) / 1000, driver_for_ptx(vmaj, vmin) % 1000 / 10, driver_version());
        return UNSUPPORTED_PTX_VERSION;
    }
    size_t t = ptx.find(".target sm_");
    if (t != std::string::npos) {
        int arch = atoi(ptx.c_str() + t + 11);
        if (arch > compute_capability()) {
            note("cuModuleLoadData: PTX for sm_%d does not run on this compute capability %d.%d device", arch,
                 compute_capability() / 10, compute_capability() % 10);
            return NO_BINARY_FOR_GPU;
        }
    }
    // Device functions that entries call: a barrier there counts for every caller.
    bool module_syncs = has_sync_op(ptx);
    size_t pos = 0;
    while ((pos = ptx.find(".entry ", pos)) != std::string::npos) {
        pos += 7;
        size_t open = ptx.find('(', pos);
        if (open == std::string::npos) return INVALID_PTX;
        std::string name = ptx.substr(pos, open - pos);
        while (!name.empty() && (name.back() == ' ' || name.back() == '\n' || name.back() == '\t')) name.pop_back();
        size_t close = ptx.find(')', open);
        if (close == std::string::npos) return INVALID_PTX;
        Func* f = new Func{name, neurite_emu::find_kernel(name.c_str()), {}, false, m};
        std::string params = ptx.substr(open + 1, close - open - 1);
        size_t p = 0;
        while ((p = params.find(".param", p)) != std::string::npos) {
            p += 6;
            size_t end = params.find(',', p);
            std::string decl = params.substr(p, end == std::string::npos ? std::string::npos : end - p);
            unsigned size = 0;
            size_t lb = decl.find('[');
            char type[16] = {0};
            // ".align 8 .b8 name[104]" or ".u64 name"
            const char* d = decl.c_str();
            while (*d == ' ' || *d == '\n' || *d == '\t') ++d;
            if (strncmp(d, ".align", 6) == 0) {
                d = strchr(d + 6, '.');
                if (!d) return INVALID_PTX;
            }
            sscanf(d, "%15s", type);
            size = ptx_type_size(type);
            if (lb != std::string::npos) size *= (unsigned)atoi(decl.c_str() + lb + 1);
            if (size == 0) {
                note("cuModuleLoadData: cannot size parameter '%s' of %s", decl.c_str(), name.c_str());
                return INVALID_PTX;
            }
            f->param_sizes.push_back(size);
        }
        size_t body = ptx.find('{', close);
        if (body == std::string::npos) return INVALID_PTX;
        int depth = 0;
        size_t e = body;
        for (; e < ptx.size(); ++e) {
            if (ptx[e] == '{') ++depth;
            if (ptx[e] == '}' && --depth == 0) break;
        }
        std::string text = ptx.substr(body, e - body);
        f->threaded = has_sync_op(text) || (module_syncs && text.find("call") != std::string::npos);
        if (f->host) {
            bool same = f->host->nargs == f->param_sizes.size();
            for (unsigned i = 0; same && i < f->host->nargs; ++i) same = f->host->sizes[i] == f->param_sizes[i];
            if (!same) {
                std::string h, d2;
                for (unsigned i = 0; i < f->host->nargs; ++i) h += std::to_string(f->host->sizes[i]) + " ";
                for (unsigned s : f->param_sizes) d2 += std::to_string(s) + " ";
                note("cuModuleLoadData: kernel %s: the host build's parameter sizes (%s) differ from the PTX's (%s)",
                     name.c_str(), h.c_str(), d2.c_str());
                delete f;
                return INVALID_PTX;
            }
        }
        m->funcs.push_back(f);
        pos = e;
    }
    return OK;
}

}  // namespace

extern "C" {

// ---- initialisation, versions, devices ----

CUresult cuInit(unsigned flags) {
    std::lock_guard<std::recursive_mutex> lock_(g_mu);
    if (flags != 0) return INVALID_VALUE;
    if (devices() <= 0) return NO_DEVICE;
    if (!g_init) {
        g_page = (size_t)sysconf(_SC_PAGESIZE);
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_segv;
        sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGSEGV, &sa, &g_old_segv);
        for (int i = 0; i < devices(); ++i) g_primary.push_back(new Ctx{i, 0});
        g_init = true;
    }
    return OK;
}

CUresult cuDriverGetVersion(int* v) {
    if (!v) return INVALID_VALUE;
    *v = driver_version();
    return OK;
}

CUresult cuDeviceGetCount(int* n) {
    GUARD;
    if (!n) return INVALID_VALUE;
    *n = devices();
    return OK;
}

CUresult cuDeviceGet(CUdevice* d, int ordinal) {
    GUARD;
    if (!d) return INVALID_VALUE;
    if (ordinal < 0 || ordinal >= devices()) return INVALID_DEVICE;
    *d = ordinal;
    return OK;
}

CUresult cuDeviceGetName(char* name, int len, CUdevice d) {
    GUARD;
    if (!name || len <= 0) return INVALID_VALUE;
    if (d < 0 || d >= devices()) return INVALID_DEVICE;
    snprintf(name, (size_t)len, "neurite emulated CUDA device (sm_%d)", compute_capability());
    return OK;
}

CUresult cuDeviceTotalMem_v2(size_t* bytes, CUdevice d) {
    GUARD;
    if (!bytes) return INVALID_VALUE;
    if (d < 0 || d >= devices()) return INVALID_DEVICE;
    *bytes = total_memory();
    return OK;
}

CUresult cuDeviceGetAttribute(int* v, int attr, CUdevice d) {
    GUARD;
    if (!v) return INVALID_VALUE;
    if (d < 0 || d >= devices()) return INVALID_DEVICE;
    switch (attr) {
        case 1: *v = 1024; break;        // max threads per block
        case 2: case 3: *v = 1024; break;  // max block dim x, y
        case 4: *v = 64; break;          // max block dim z
        case 5: *v = 0x7fffffff; break;  // max grid dim x
        case 6: case 7: *v = 65535; break;
        case 8: *v = 48 * 1024; break;   // shared memory per block
        case 10: *v = 32; break;         // warp size
        case 12: *v = 65536; break;      // registers per block
        case 16: *v = sm_count(); break;
        case 39: *v = 2048; break;       // threads per multiprocessor
        case 75: *v = compute_capability() / 10; break;
        case 76: *v = compute_capability() % 10; break;
        case 97: *v = 227 * 1024; break; // opt-in shared memory per block
        default: *v = 0;                 // features the emulator does not offer
    }
    return OK;
}

// ---- contexts (the primary context only) ----

CUresult cuDevicePrimaryCtxRetain(void** ctx, CUdevice d) {
    GUARD;
    if (!ctx) return INVALID_VALUE;
    if (d < 0 || d >= devices()) return INVALID_DEVICE;
    g_primary[d]->refs++;
    *ctx = g_primary[d];
    return OK;
}
CUresult cuDevicePrimaryCtxRelease_v2(CUdevice d) {
    GUARD;
    if (d < 0 || d >= devices()) return INVALID_DEVICE;
    if (g_primary[d]->refs > 0) g_primary[d]->refs--;
    return OK;
}
CUresult cuDevicePrimaryCtxRelease(CUdevice d) { return cuDevicePrimaryCtxRelease_v2(d); }
CUresult cuDevicePrimaryCtxGetState(CUdevice d, unsigned* flags, int* active) {
    GUARD;
    if (d < 0 || d >= devices()) return INVALID_DEVICE;
    if (flags) *flags = 0;
    if (active) *active = g_primary[d]->refs > 0;
    return OK;
}
CUresult cuCtxSetCurrent(void* ctx) {
    GUARD;
    tl_current = static_cast<Ctx*>(ctx);
    return OK;
}
CUresult cuCtxGetCurrent(void** ctx) {
    GUARD;
    if (!ctx) return INVALID_VALUE;
    *ctx = tl_current;
    return OK;
}
CUresult cuCtxPushCurrent_v2(void* ctx) { return cuCtxSetCurrent(ctx); }
CUresult cuCtxPopCurrent_v2(void** ctx) {
    GUARD;
    if (ctx) *ctx = tl_current;
    tl_current = nullptr;
    return OK;
}
CUresult cuCtxGetDevice(CUdevice* d) {
    GUARD;
    if (!d) return INVALID_VALUE;
    if (!tl_current) return INVALID_CONTEXT;
    *d = tl_current->device;
    return OK;
}
CUresult cuCtxSynchronize() {
    GUARD;
    if (!tl_current) return INVALID_CONTEXT;
    flush_all();
    return g_sticky;
}
CUresult cuCtxGetFlags(unsigned* flags) {
    GUARD;
    if (!flags) return INVALID_VALUE;
    *flags = 0;
    return OK;
}
CUresult cuCtxSetFlags(unsigned flags) {
    GUARD;
    (void)flags;
    return OK;
}
CUresult cuCtxGetApiVersion(void* ctx, unsigned* v) {
    GUARD;
    (void)ctx;
    if (!v) return INVALID_VALUE;
    *v = 12000;
    return OK;
}

CUresult cuGetErrorName(CUresult e, const char** s) {
    if (!s) return INVALID_VALUE;
    switch (e) {
        case OK: *s = "CUDA_SUCCESS"; break;
        case INVALID_VALUE: *s = "CUDA_ERROR_INVALID_VALUE"; break;
        case OUT_OF_MEMORY: *s = "CUDA_ERROR_OUT_OF_MEMORY"; break;
        case NOT_INITIALIZED: *s = "CUDA_ERROR_NOT_INITIALIZED"; break;
        case NO_DEVICE: *s = "CUDA_ERROR_NO_DEVICE"; break;
        case INVALID_DEVICE: *s = "CUDA_ERROR_INVALID_DEVICE"; break;
        case INVALID_IMAGE: *s = "CUDA_ERROR_INVALID_IMAGE"; break;
        case INVALID_CONTEXT: *s = "CUDA_ERROR_INVALID_CONTEXT"; break;
        case NO_BINARY_FOR_GPU: *s = "CUDA_ERROR_NO_BINARY_FOR_GPU"; break;
        case INVALID_PTX: *s = "CUDA_ERROR_INVALID_PTX"; break;
        case UNSUPPORTED_PTX_VERSION: *s = "CUDA_ERROR_UNSUPPORTED_PTX_VERSION"; break;
        case INVALID_HANDLE: *s = "CUDA_ERROR_INVALID_HANDLE"; break;
        case NOT_FOUND: *s = "CUDA_ERROR_NOT_FOUND"; break;
        case ILLEGAL_ADDRESS: *s = "CUDA_ERROR_ILLEGAL_ADDRESS"; break;
        case NOT_SUPPORTED: *s = "CUDA_ERROR_NOT_SUPPORTED"; break;
        default: *s = "CUDA_ERROR_UNKNOWN"; return INVALID_VALUE;
    }
    return OK;
}
CUresult cuGetErrorString(CUresult e, const char** s) { return cuGetErrorName(e, s); }

// ---- memory ----

CUresult cuMemAlloc_v2(CUdeviceptr* p, size_t bytes) {
    GUARD;
    STICKY;
    if (!p || bytes == 0) return INVALID_VALUE;
    if (bytes > total_memory() - g_used) return OUT_OF_MEMORY;
    size_t usable = (bytes + 255) & ~(size_t)255;
    size_t body = (usable + g_page - 1) & ~(g_page - 1);
    size_t len = body + 2 * g_page;
    void* r = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (r == MAP_FAILED) return OUT_OF_MEMORY;
    char* region = static_cast<char*>(r);
    // Guard pages on both sides; the data ends where the upper guard begins, so
    // reading or writing one element past the end faults.
    mprotect(region, g_page, PROT_NONE);
    mprotect(region + g_page + body, g_page, PROT_NONE);
    char* base = region + g_page + (body - usable);
    // Fresh device memory holds garbage on a GPU: all-ones bytes (NaN as a float,
    // -1 as an integer) make a read of never-written memory visible.
    if (env_int("NEURITE_EMU_POISON", 1)) memset(base, 0xff, usable);
    g_allocs[(CUdeviceptr)base] = Alloc{bytes, usable, region, len};
    g_used += usable;
    *p = (CUdeviceptr)base;
    return OK;
}

CUresult cuMemFree_v2(CUdeviceptr p) {
    GUARD;
    // cuMemFree waits for the work that may still use the memory.
    flush_all();
    auto it = g_allocs.find(p);
    if (it == g_allocs.end()) {
        note("cuMemFree: 0x%llx is not the start of a device allocation", p);
        return INVALID_VALUE;
    }
    munmap(it->second.region, it->second.region_len);
    g_used -= it->second.usable;
    g_allocs.erase(it);
    return g_sticky;
}

CUresult cuMemGetInfo_v2(size_t* free_bytes, size_t* total) {
    GUARD;
    if (free_bytes) *free_bytes = total_memory() - g_used;
    if (total) *total = total_memory();
    return OK;
}

CUresult cuMemsetD8Async(CUdeviceptr p, unsigned char v, size_t n, void* s) {
    GUARD;
    STICKY;
    if (!check_range(p, n, "cuMemsetD8", "the destination")) return INVALID_VALUE;
    record("memsetD8", nullptr, nullptr, 0, s);
    return submit(s, [=] { memset((void*)p, v, n); });
}
CUresult cuMemsetD8_v2(CUdeviceptr p, unsigned char v, size_t n) { return cuMemsetD8Async(p, v, n, nullptr); }

CUresult cuMemsetD32Async(CUdeviceptr p, unsigned v, size_t n, void* s) {
    GUARD;
    STICKY;
    if (n > SIZE_MAX / 4 || !check_range(p, n * 4, "cuMemsetD32", "the destination")) return INVALID_VALUE;
    record("memsetD32", nullptr, nullptr, 0, s);
    return submit(s, [=] {
        for (size_t i = 0; i < n; ++i) memcpy((char*)p + 4 * i, &v, 4);
    });
}
CUresult cuMemsetD32_v2(CUdeviceptr p, unsigned v, size_t n) { return cuMemsetD32Async(p, v, n, nullptr); }

CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr dst, const void* src, size_t n, void* s) {
    GUARD;
    STICKY;
    if (!check_range(dst, n, "cuMemcpyHtoD", "the destination")) return INVALID_VALUE;
    if (n && !src) return INVALID_VALUE;
    record("memcpyHtoD", nullptr, nullptr, 0, s);
    // Pageable host memory is staged before the call returns: the caller may reuse it.
    auto staged = std::make_shared<std::vector<char>>((const char*)src, (const char*)src + n);
    return submit(s, [=] { memcpy((void*)dst, staged->data(), n); });
}
CUresult cuMemcpyHtoD_v2(CUdeviceptr dst, const void* src, size_t n) { return cuMemcpyHtoDAsync_v2(dst, src, n, nullptr); }

CUresult cuMemcpyDtoHAsync_v2(void* dst, CUdeviceptr src, size_t n, void* s) {
    GUARD;
    STICKY;
    if (!check_range(src, n, "cuMemcpyDtoH", "the source")) return INVALID_VALUE;
    if (n && !dst) return INVALID_VALUE;
    record("memcpyDtoH", nullptr, nullptr, 0, s);
    // To pageable memory the copy is complete when the call returns: the stream's
    // earlier work runs first.
    if (!is_legacy(s)) {
        Stream* st = stream_of(s);
        if (!st) return INVALID_HANDLE;
        flush(st);
    }
    if (g_sticky != OK) return g_sticky;
    memcpy(dst, (const void*)src, n);
    return OK;
}
CUresult cuMemcpyDtoH_v2(void* dst, CUdeviceptr src, size_t n) { return cuMemcpyDtoHAsync_v2(dst, src, n, nullptr); }

CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr dst, CUdeviceptr src, size_t n, void* s) {
    GUARD;
    STICKY;
    if (!check_range(dst, n, "cuMemcpyDtoD", "the destination") || !check_range(src, n, "cuMemcpyDtoD", "the source"))
        return INVALID_VALUE;
    record("memcpyDtoD", nullptr, nullptr, 0, s);
    return submit(s, [=] { memmove((void*)dst, (const void*)src, n); });
}
CUresult cuMemcpyDtoD_v2(CUdeviceptr dst, CUdeviceptr src, size_t n) { return cuMemcpyDtoDAsync_v2(dst, src, n, nullptr); }

// ---- streams and events ----

CUresult cuStreamCreate(void** s, unsigned flags) {
    GUARD;
    if (!s) return INVALID_VALUE;
    Stream* st = new Stream{flags, {}};
    g_streams.push_back(st);
    *s = st;
    return OK;
}
CUresult cuStreamCreateWithPriority(void** s, unsigned flags, int priority) {
    (void)priority;
    return cuStreamCreate(s, flags);
}
CUresult cuStreamDestroy_v2(void* s) {
    GUARD;
    Stream* st = stream_of(s);
    if (!st) return INVALID_HANDLE;
    flush(st);
    for (size_t i = 0; i < g_streams.size(); ++i)
        if (g_streams[i] == st) g_streams.erase(g_streams.begin() + (long)i);
    delete st;
    return OK;
}
CUresult cuStreamSynchronize(void* s) {
    GUARD;
    if (is_legacy(s)) return g_sticky;
    Stream* st = stream_of(s);
    if (!st) return INVALID_HANDLE;
    flush(st);
    return g_sticky;
}
CUresult cuStreamQuery(void* s) { return cuStreamSynchronize(s); }
CUresult cuStreamWaitEvent(void* s, void* e, unsigned flags) {
    GUARD;
    (void)s;
    (void)e;
    (void)flags;
    return g_sticky;  // events complete when recorded (cuEventRecord runs the stream)
}
CUresult cuEventCreate(void** e, unsigned flags) {
    GUARD;
    (void)flags;
    if (!e) return INVALID_VALUE;
    *e = new Event{0};
    return OK;
}
CUresult cuEventDestroy_v2(void* e) {
    GUARD;
    delete static_cast<Event*>(e);
    return OK;
}
CUresult cuEventRecord(void* e, void* s) {
    GUARD;
    if (!e) return INVALID_HANDLE;
    if (!is_legacy(s)) {
        Stream* st = stream_of(s);
        if (!st) return INVALID_HANDLE;
        flush(st);
    }
    static_cast<Event*>(e)->recorded = 1;
    return g_sticky;
}
CUresult cuEventSynchronize(void* e) {
    GUARD;
    (void)e;
    return g_sticky;
}
CUresult cuEventQuery(void* e) { return cuEventSynchronize(e); }
CUresult cuEventElapsedTime(float* ms, void* a, void* b) {
    GUARD;
    (void)a;
    (void)b;
    if (!ms) return INVALID_VALUE;
    *ms = 0.0f;  // the emulator has no device clock
    return OK;
}

// ---- modules and launches ----

CUresult cuModuleLoadData(void** mod, const void* image) {
    GUARD;
    STICKY;
    if (!mod || !image) return INVALID_VALUE;
    Module* m = new Module;
    CUresult rc = parse_ptx(std::string(static_cast<const char*>(image)), m);
    if (rc != OK) {
        for (Func* f : m->funcs) delete f;
        delete m;
        return rc;
    }
    g_modules.push_back(m);
    *mod = m;
    return OK;
}
CUresult cuModuleLoadDataEx(void** mod, const void* image, unsigned n, void* opts, void** vals) {
    (void)n;
    (void)opts;
    (void)vals;
    return cuModuleLoadData(mod, image);
}
CUresult cuModuleUnload(void* mod) {
    GUARD;
    flush_all();
    for (size_t i = 0; i < g_modules.size(); ++i)
        if (g_modules[i] == mod) {
            for (Func* f : g_modules[i]->funcs) delete f;
            delete g_modules[i];
            g_modules.erase(g_modules.begin() + (long)i);
            return OK;
        }
    return INVALID_HANDLE;
}
CUresult cuModuleGetFunction(void** fn, void* mod, const char* name) {
    GUARD;
    if (!fn || !mod || !name) return INVALID_VALUE;
    for (Func* f : static_cast<Module*>(mod)->funcs)
        if (f->name == name) {
            *fn = f;
            return OK;
        }
    return NOT_FOUND;
}
CUresult cuFuncGetAttribute(int* v, int attr, void* fn) {
    GUARD;
    if (!v || !fn) return INVALID_VALUE;
    *v = attr == 0 ? 1024 : 0;  // CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK
    return OK;
}
CUresult cuFuncSetAttribute(void* fn, int attr, int v) {
    GUARD;
    (void)attr;
    (void)v;
    return fn ? OK : INVALID_VALUE;
}

CUresult cuLaunchKernel(void* fn, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                        unsigned shmem, void* s, void** params, void** extra) {
    GUARD;
    STICKY;
    Func* f = static_cast<Func*>(fn);
    if (!f) return INVALID_HANDLE;
    const char* k = f->name.c_str();
    // The limits of every GPU the crate targets (sm_80 and newer).
    if (bx == 0 || by == 0 || bz == 0 || bx > 1024 || by > 1024 || bz > 64 || (unsigned long long)bx * by * bz > 1024) {
        note("cuLaunchKernel %s: block (%u,%u,%u) exceeds 1024 threads or the per-axis limits (1024,1024,64)", k, bx, by, bz);
        return INVALID_VALUE;
    }
    if (gx == 0 || gy == 0 || gz == 0 || gx > 0x7fffffffu || gy > 65535 || gz > 65535) {
        note("cuLaunchKernel %s: grid (%u,%u,%u) outside (2^31-1, 65535, 65535)", k, gx, gy, gz);
        return INVALID_VALUE;
    }
    if (shmem > 48 * 1024) {
        note("cuLaunchKernel %s: %u bytes of dynamic shared memory exceed the 48 KiB default", k, shmem);
        return INVALID_VALUE;
    }
    if (extra) {
        note("cuLaunchKernel %s: the `extra` argument form is not emulated", k);
        return NOT_SUPPORTED;
    }
    if (!f->param_sizes.empty() && !params) return INVALID_VALUE;
    if (!f->host) {
        note("cuLaunchKernel: kernel %s has no host build (only kernels/*.cu are emulated)", k);
        return NOT_FOUND;
    }
    // The driver copies the arguments at launch; so does the emulator, by the sizes
    // the PTX declares.
    auto bytes = std::make_shared<std::vector<std::vector<char>>>();
    for (size_t i = 0; i < f->param_sizes.size(); ++i) {
        const char* a = static_cast<const char*>(params[i]);
        bytes->emplace_back(a, a + f->param_sizes[i]);
        if (f->host->pointers[i]) {
            CUdeviceptr p;
            memcpy(&p, a, 8);
            if (p != 0 && !find_range(p, 1)) {
                char where[256];
                describe(p, where, sizeof where);
                note("cuLaunchKernel %s: argument %zu (pointer 0x%llx) is not device memory (%s)", k, i, p, where);
                return ILLEGAL_ADDRESS;
            }
        }
    }
    unsigned grid[3] = {gx, gy, gz}, block[3] = {bx, by, bz};
    record(k, grid, block, shmem, s);
    return submit(s, [=] {
        if (g_sticky != OK) return;
        std::vector<void*> ptrs;
        for (auto& b : *bytes) ptrs.push_back(b.data());
        std::string why = neurite_emu::run_kernel(*f->host, {gx, gy, gz}, {bx, by, bz}, ptrs.data(), f->threaded);
        if (!why.empty()) {
            note("kernel %s: %s", k, why.c_str());
            g_sticky = LAUNCH_OUT_OF_RESOURCES;
        }
    });
}

// ---- for the emulated cuBLAS and the tests ----

// Whether [p, p + n) lies inside one live allocation (else names it on stderr).
int neurite_emu_check_range(CUdeviceptr p, size_t n, const char* op, const char* what) {
    std::lock_guard<std::recursive_mutex> lock_(g_mu);
    return check_range(p, n, op, what) ? 1 : 0;
}
// Queues `fn(arg)` on stream `s` (runs it now on the legacy stream).
int neurite_emu_submit(void* s, void (*fn)(void*), void* arg) {
    std::lock_guard<std::recursive_mutex> lock_(g_mu);
    return submit(s, [=] { fn(arg); });
}
int neurite_emu_is_stream(void* s) {
    std::lock_guard<std::recursive_mutex> lock_(g_mu);
    return is_legacy(s) || stream_of(s) != nullptr;
}
// Poisons the context, as a fault on a GPU does.
void neurite_emu_fault(int code) {
    std::lock_guard<std::recursive_mutex> lock_(g_mu);
    if (g_sticky == OK) g_sticky = code;
}
void neurite_emu_record_push(const char* name, void* s) {
    std::lock_guard<std::recursive_mutex> lock_(g_mu);
    record(name, nullptr, nullptr, 0, s);
}
size_t neurite_emu_record_len() {
    std::lock_guard<std::recursive_mutex> lock_(g_mu);
    return g_record.size();
}
int neurite_emu_record_get(size_t i, char* name, size_t len, unsigned* grid, unsigned* block, unsigned* shmem,
                           unsigned long long* stream) {
    std::lock_guard<std::recursive_mutex> lock_(g_mu);
    if (i >= g_record.size()) return -1;
    const Rec& r = g_record[i];
    snprintf(name, len, "%s", r.name.c_str());
    for (int j = 0; j < 3; ++j) {
        grid[j] = r.grid[j];
        block[j] = r.block[j];
    }
    *shmem = r.shmem;
    *stream = r.stream;
    return 0;
}
void neurite_emu_record_clear() {
    std::lock_guard<std::recursive_mutex> lock_(g_mu);
    g_record.clear();
}

}  // extern "C"
