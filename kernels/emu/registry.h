// The table of host-compiled kernels: for each `extern "C" __global__` function of
// a family, its name, a trampoline that calls it with a cuLaunchKernel-style array
// of argument pointers, and its parameter sizes (checked against the PTX signature
// by the emulated driver) and which parameters are pointers (checked against the
// live device allocations at each launch).
#pragma once

#include <cstddef>
#include <type_traits>
#include <utility>

namespace neurite_emu {

struct KernelEntry {
    const char* name;
    void (*call)(void** args);
    unsigned nargs;
    const unsigned* sizes;
    const unsigned char* pointers;
};

template <auto F> struct Trampoline;
template <typename... A, void (*F)(A...)> struct Trampoline<F> {
    static constexpr unsigned nargs = sizeof...(A);
    // One trailing element so that a kernel without parameters has a valid array.
    static constexpr unsigned sizes[sizeof...(A) + 1] = {(unsigned)sizeof(A)..., 0};
    static constexpr unsigned char pointers[sizeof...(A) + 1] = {(unsigned char)std::is_pointer_v<A>..., 0};
    template <std::size_t... I> static void invoke(void** a, std::index_sequence<I...>) {
        F(*static_cast<std::remove_reference_t<A>*>(a[I])...);
    }
    static void call(void** a) { invoke(a, std::index_sequence_for<A...>{}); }
};

}  // namespace neurite_emu

#define NEURITE_EMU_ENTRY(ns, kname)                                                                          \
    {#kname, &neurite_emu::Trampoline<&ns::kname>::call, neurite_emu::Trampoline<&ns::kname>::nargs,          \
     neurite_emu::Trampoline<&ns::kname>::sizes, neurite_emu::Trampoline<&ns::kname>::pointers}
