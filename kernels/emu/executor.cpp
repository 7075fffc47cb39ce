// The block executor of the CUDA emulator: CUDA threads as host threads, with
// __syncthreads as a barrier over the block and warp shuffles through a per-warp
// exchange; see shim.h for what kernels see.
#include "executor.h"
#include "shim.h"

#include <pthread.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

namespace neurite_emu {

thread_local neurite_dim3 tl_thread_idx;
thread_local neurite_dim3 tl_block_idx;
thread_local neurite_dim3 tl_block_dim;
thread_local neurite_dim3 tl_grid_dim;

namespace {

// Shared by the host threads that run one launch.
struct LaunchCtx {
    const KernelEntry* kernel = nullptr;
    bool threaded = false;
    unsigned threads = 0;
    pthread_barrier_t block_barrier;
    std::vector<pthread_barrier_t> warp_barriers;
    // 16 bytes per thread: the values a warp exchanges.
    std::vector<unsigned char> slots;
};

thread_local LaunchCtx* tl_ctx = nullptr;
thread_local unsigned tl_linear = 0;

void set_thread(unsigned linear, const Dim& block) {
    tl_linear = linear;
    tl_thread_idx = {linear % block.x, (linear / block.x) % block.y, linear / (block.x * block.y)};
}

void set_block(unsigned long long b, const Dim& grid) {
    tl_block_idx = {(unsigned)(b % grid.x), (unsigned)((b / grid.x) % grid.y), (unsigned)(b / ((unsigned long long)grid.x * grid.y))};
}

void barrier_wait(pthread_barrier_t* b) {
    int rc = pthread_barrier_wait(b);
    if (rc != 0 && rc != PTHREAD_BARRIER_SERIAL_THREAD) fatal("pthread_barrier_wait failed (%d)", rc);
}

struct ThreadArgs {
    LaunchCtx* ctx;
    unsigned linear;
    Dim grid, block;
    void** args;
};

void* run_thread(void* p) {
    ThreadArgs* a = static_cast<ThreadArgs*>(p);
    tl_ctx = a->ctx;
    tl_block_dim = {a->block.x, a->block.y, a->block.z};
    tl_grid_dim = {a->grid.x, a->grid.y, a->grid.z};
    set_thread(a->linear, a->block);
    const unsigned long long blocks = (unsigned long long)a->grid.x * a->grid.y * a->grid.z;
    for (unsigned long long b = 0; b < blocks; ++b) {
        set_block(b, a->grid);
        a->ctx->kernel->call(a->args);
        // Static shared memory is one instance per kernel: no thread starts the next
        // block until every thread has left this one.
        barrier_wait(&a->ctx->block_barrier);
    }
    tl_ctx = nullptr;
    return nullptr;
}

}  // namespace

[[noreturn]] void fatal(const char* fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    fprintf(stderr, "neurite CUDA emulator: %s\n", buf);
    fflush(stderr);
    abort();
}

const char* current_kernel() { return tl_ctx ? tl_ctx->kernel->name : nullptr; }

void current_indices(Dim* block, Dim* thread) {
    *block = {tl_block_idx.x, tl_block_idx.y, tl_block_idx.z};
    *thread = {tl_thread_idx.x, tl_thread_idx.y, tl_thread_idx.z};
}

void sync_threads() {
    if (!tl_ctx || !tl_ctx->threaded)
        fatal("kernel %s called __syncthreads, but its PTX has no bar.sync, so it was run without host threads",
              tl_ctx ? tl_ctx->kernel->name : "(none)");
    barrier_wait(&tl_ctx->block_barrier);
}

int lane_id() { return (int)(tl_linear & 31u); }

void warp_exchange(const void* value, void* out, unsigned bytes, int src_lane, unsigned mask) {
    LaunchCtx* c = tl_ctx;
    if (!c || !c->threaded)
        fatal("kernel %s used a warp shuffle, but its PTX has no shfl.sync, so it was run without host threads",
              c ? c->kernel->name : "(none)");
    const unsigned lane = tl_linear & 31u, warp = tl_linear >> 5;
    if (!(mask >> lane & 1u))
        fatal("kernel %s: lane %u called a warp shuffle with mask 0x%08x, which excludes it", c->kernel->name, lane, mask);
    const unsigned lanes = std::min(32u, c->threads - warp * 32u);
    unsigned char* slots = c->slots.data() + (size_t)warp * 32 * 16;
    std::memcpy(slots + lane * 16, value, bytes);
    barrier_wait(&c->warp_barriers[warp]);
    if (src_lane >= 0 && (unsigned)src_lane < lanes)
        std::memcpy(out, slots + (unsigned)src_lane * 16, bytes);
    else
        std::memcpy(out, value, bytes);
    // Nobody overwrites a slot before every lane has read the one it wanted.
    barrier_wait(&c->warp_barriers[warp]);
}

std::string run_kernel(const KernelEntry& k, Dim grid, Dim block, void** args, bool threaded) {
    const unsigned threads = block.x * block.y * block.z;
    const unsigned long long blocks = (unsigned long long)grid.x * grid.y * grid.z;
    if (threads == 0 || blocks == 0) return "empty launch";
    LaunchCtx ctx;
    ctx.kernel = &k;
    ctx.threaded = threaded;
    ctx.threads = threads;
    if (!threaded) {
        // No barrier in the kernel: each block's threads run in order on one host
        // thread, and the blocks are spread over the cores.
        const unsigned workers =
            (unsigned)std::min<unsigned long long>(blocks, std::max(1u, std::thread::hardware_concurrency()));
        auto work = [&](unsigned w) {
            tl_ctx = &ctx;
            tl_block_dim = {block.x, block.y, block.z};
            tl_grid_dim = {grid.x, grid.y, grid.z};
            for (unsigned long long b = w; b < blocks; b += workers) {
                set_block(b, grid);
                for (unsigned t = 0; t < threads; ++t) {
                    set_thread(t, block);
                    k.call(args);
                }
            }
            tl_ctx = nullptr;
        };
        std::vector<std::thread> pool;
        for (unsigned w = 1; w < workers; ++w) pool.emplace_back(work, w);
        work(0);
        for (auto& t : pool) t.join();
        return "";
    }
    if (pthread_barrier_init(&ctx.block_barrier, nullptr, threads) != 0) return "pthread_barrier_init failed";
    const unsigned warps = (threads + 31) / 32;
    ctx.warp_barriers.resize(warps);
    for (unsigned w = 0; w < warps; ++w)
        if (pthread_barrier_init(&ctx.warp_barriers[w], nullptr, std::min(32u, threads - w * 32)) != 0)
            return "pthread_barrier_init failed";
    ctx.slots.assign((size_t)warps * 32 * 16, 0);
    std::vector<ThreadArgs> targs(threads);
    std::vector<pthread_t> ids(threads);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    unsigned started = 0;
    for (; started < threads; ++started) {
        targs[started] = {&ctx, started, grid, block, args};
        if (pthread_create(&ids[started], &attr, run_thread, &targs[started]) != 0) break;
    }
    pthread_attr_destroy(&attr);
    // A block that cannot have all its threads would deadlock at its first barrier.
    if (started < threads)
        fatal("kernel %s: could only start %u of the %u host threads of a block", k.name, started, threads);
    for (unsigned t = 0; t < threads; ++t) pthread_join(ids[t], nullptr);
    pthread_barrier_destroy(&ctx.block_barrier);
    for (auto& b : ctx.warp_barriers) pthread_barrier_destroy(&b);
    return "";
}

}  // namespace neurite_emu

// For tests that run kernels on host memory directly (no driver): 0 on success,
// else -1 with the reason in `err`.
extern "C" int neurite_emu_run_kernel(const char* name, const unsigned* grid, const unsigned* block, void** args,
                                      int threaded, char* err, size_t errlen) {
    const neurite_emu::KernelEntry* k = neurite_emu::find_kernel(name);
    std::string why = k ? neurite_emu::run_kernel(*k, {grid[0], grid[1], grid[2]}, {block[0], block[1], block[2]}, args,
                                                  threaded != 0)
                        : std::string("no host build of kernel ") + name;
    if (why.empty()) return 0;
    if (err && errlen) snprintf(err, errlen, "%s", why.c_str());
    return -1;
}
