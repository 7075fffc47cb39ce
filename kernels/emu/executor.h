// Runs a host-compiled kernel over a grid (kernels/emu/executor.cpp).
#pragma once

#include "registry.h"
#include <string>

namespace neurite_emu {

struct Dim {
    unsigned x, y, z;
};

// The kernel of that name in any family, or null.
const KernelEntry* find_kernel(const char* name);

// Runs every thread of every block. With `threaded`, each CUDA thread of a block is
// a host thread (barriers and warp exchanges work); without, the threads of a
// block run one after the other on one host thread and blocks are spread over
// the cores (for kernels whose PTX has no barrier or warp instruction). Returns
// an empty string, or why the launch could not run.
std::string run_kernel(const KernelEntry& k, Dim grid, Dim block, void** args, bool threaded);

// The kernel running on this host thread (for the fault handler), or null.
const char* current_kernel();
// Its block and thread indices.
void current_indices(Dim* block, Dim* thread);

[[noreturn]] void fatal(const char* fmt, ...);

}  // namespace neurite_emu
