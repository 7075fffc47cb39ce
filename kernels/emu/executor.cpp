// The block executor of the CUDA emulator: CUDA threads as host threads, with
// __syncthreads as a barrier over the block and warp shuffles through a per-warp
// exchange; see shim.h for what kernels see.
#include "executor.h"
#include "shim.h"

#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <mutex>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

namespace neurite_emu {

// Initial-exec: every kernel reads these, and the general-dynamic model of a shared
// library costs a __tls_get_addr call per read (10% of the emulated suite's time).
// They are a few dozen bytes, well within glibc's static TLS reserve for dlopen.
#define NEURITE_EMU_TLS __attribute__((tls_model("initial-exec")))
thread_local neurite_dim3 tl_thread_idx NEURITE_EMU_TLS;
thread_local neurite_dim3 tl_block_idx NEURITE_EMU_TLS;
thread_local neurite_dim3 tl_block_dim NEURITE_EMU_TLS;
thread_local neurite_dim3 tl_grid_dim NEURITE_EMU_TLS;

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

thread_local LaunchCtx* tl_ctx NEURITE_EMU_TLS = nullptr;
thread_local unsigned tl_linear NEURITE_EMU_TLS = 0;

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


// ---- fibers: the CUDA threads of a block on one host thread ----
//
// A barrier round over 256 OS threads costs a futex wake-up per thread; the
// emulated suite spent 98% of its time there. Outside ThreadSanitizer builds
// (which need real threads to see races), a block's threads are fibers with
// their own stacks, switched by a six-register context swap, and a barrier is
// a switch back to the block's scheduler.
#if defined(__x86_64__) && !defined(__SANITIZE_THREAD__)
#define NEURITE_EMU_FIBERS 1
#endif

#ifdef NEURITE_EMU_FIBERS
extern "C" void neurite_emu_swap(void** save_sp, void* next_sp);
asm(R"(
.text
.globl neurite_emu_swap
.hidden neurite_emu_swap
.type neurite_emu_swap,@function
neurite_emu_swap:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
.size neurite_emu_swap,.-neurite_emu_swap
)");

enum FiberState { READY, AT_BLOCK, AT_WARP, DONE };
struct Fiber {
    void* sp;
    FiberState state;
};
struct FiberBlock {
    std::vector<Fiber> fibers;
    void* scheduler_sp = nullptr;
    unsigned current = 0;
    void** args = nullptr;
};
thread_local FiberBlock* tl_fibers NEURITE_EMU_TLS = nullptr;
const size_t FIBER_STACK = 64 * 1024;

// Stacks for up to 1024 fibers, each above a guard page, kept per host thread.
char* fiber_stacks(unsigned n) {
    static thread_local char* base = nullptr;
    static thread_local unsigned have = 0;
    if (n <= have) return base;
    const size_t page = (size_t)sysconf(_SC_PAGESIZE), slot = FIBER_STACK + page;
    if (base) munmap(base, slot * have);
    void* r = mmap(nullptr, slot * 1024, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (r == MAP_FAILED) fatal("cannot map fiber stacks");
    base = static_cast<char*>(r);
    have = 1024;
    for (unsigned i = 0; i < have; ++i) mprotect(base + i * slot, page, PROT_NONE);
    return base;
}

void fiber_entry() {
    FiberBlock* fb = tl_fibers;
    tl_ctx->kernel->call(fb->args);
    fb->fibers[fb->current].state = DONE;
    neurite_emu_swap(&fb->fibers[fb->current].sp, fb->scheduler_sp);
    fatal("a finished fiber was resumed");
}

// Switches from the running fiber back to the scheduler, waiting in `state`.
void fiber_wait(FiberState state) {
    FiberBlock* fb = tl_fibers;
    fb->fibers[fb->current].state = state;
    neurite_emu_swap(&fb->fibers[fb->current].sp, fb->scheduler_sp);
}

// Runs one block: every fiber until it waits or ends, then releases the barriers
// whose participants have all arrived (exited threads do not take part, as on the
// hardware), until every fiber has ended.
void run_block_fibers(FiberBlock& fb, unsigned threads, const Dim& block) {
    const size_t page = (size_t)sysconf(_SC_PAGESIZE), slot = FIBER_STACK + page;
    char* stacks = fiber_stacks(threads);
    fb.fibers.assign(threads, Fiber{nullptr, READY});
    for (unsigned t = 0; t < threads; ++t) {
        // Top of stack, 16-aligned: [top-8] a null return address, [top-16] the entry
        // for `ret`, below it the six callee-saved registers neurite_emu_swap pops.
        char* top = stacks + t * slot + slot;
        void** sp = reinterpret_cast<void**>(top);
        *--sp = nullptr;
        *--sp = reinterpret_cast<void*>(&fiber_entry);
        for (int r = 0; r < 6; ++r) *--sp = nullptr;
        fb.fibers[t].sp = sp;
    }
    unsigned done = 0;
    const unsigned warps = (threads + 31) / 32;
    while (done < threads) {
        for (unsigned t = 0; t < threads; ++t) {
            if (fb.fibers[t].state != READY) continue;
            fb.current = t;
            set_thread(t, block);
            neurite_emu_swap(&fb.scheduler_sp, fb.fibers[t].sp);
            if (fb.fibers[t].state == DONE) ++done;
        }
        bool released = false;
        for (unsigned w = 0; w < warps; ++w) {
            unsigned lo = w * 32, hi = std::min(threads, lo + 32), waiting = 0, live = 0;
            for (unsigned t = lo; t < hi; ++t) {
                live += fb.fibers[t].state != DONE;
                waiting += fb.fibers[t].state == AT_WARP;
            }
            if (waiting && waiting == live) {
                for (unsigned t = lo; t < hi; ++t)
                    if (fb.fibers[t].state == AT_WARP) fb.fibers[t].state = READY;
                released = true;
            }
        }
        if (!released) {
            unsigned at_block = 0;
            for (auto& f : fb.fibers) at_block += f.state == AT_BLOCK;
            if (at_block && at_block == threads - done) {
                for (auto& f : fb.fibers)
                    if (f.state == AT_BLOCK) f.state = READY;
                released = true;
            }
        }
        if (!released && done < threads)
            fatal("kernel %s: deadlock in block (%u,%u,%u): threads wait at barriers that not all threads reach",
                  tl_ctx->kernel->name, tl_block_idx.x, tl_block_idx.y, tl_block_idx.z);
    }
}
#endif

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
#ifdef NEURITE_EMU_FIBERS
    fiber_wait(AT_BLOCK);
#else
    barrier_wait(&tl_ctx->block_barrier);
#endif
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
#ifdef NEURITE_EMU_FIBERS
    fiber_wait(AT_WARP);
#else
    barrier_wait(&c->warp_barriers[warp]);
#endif
    if (src_lane >= 0 && (unsigned)src_lane < lanes)
        std::memcpy(out, slots + (unsigned)src_lane * 16, bytes);
    else
        std::memcpy(out, value, bytes);
    // Nobody overwrites a slot before every lane has read the one it wanted.
#ifdef NEURITE_EMU_FIBERS
    fiber_wait(AT_WARP);
#else
    barrier_wait(&c->warp_barriers[warp]);
#endif
}

std::string run_kernel(const KernelEntry& k, Dim grid, Dim block, void** args, bool threaded) {
    // Static shared memory is one array per kernel in the process: two barrier
    // launches at once (two host threads calling neurite_emu_run_kernel) would share
    // it, so they take turns, as blocks of one launch do.
    static std::mutex shared_memory;
    std::unique_lock<std::mutex> turn(shared_memory, std::defer_lock);
    if (threaded) turn.lock();
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
    const unsigned warps = (threads + 31) / 32;
#ifdef NEURITE_EMU_FIBERS
    ctx.slots.assign((size_t)warps * 32 * 16, 0);
    {
        LaunchCtx* saved = tl_ctx;
        FiberBlock* saved_fibers = tl_fibers;
        FiberBlock fb;
        fb.args = args;
        tl_ctx = &ctx;
        tl_fibers = &fb;
        tl_block_dim = {block.x, block.y, block.z};
        tl_grid_dim = {grid.x, grid.y, grid.z};
        for (unsigned long long b = 0; b < blocks; ++b) {
            set_block(b, grid);
            run_block_fibers(fb, threads, block);
        }
        tl_ctx = saved;
        tl_fibers = saved_fibers;
    }
    return "";
#endif
    if (pthread_barrier_init(&ctx.block_barrier, nullptr, threads) != 0) return "pthread_barrier_init failed";
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
