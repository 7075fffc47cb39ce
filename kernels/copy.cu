// Data movement that ignores the element type (so typed by size only): strided
// gathers behind transpose/permute/narrow/broadcast, concatenation, and fills.

#define COPY(name, V) \
    extern "C" __global__ void copy_strided_##name(V* out, const V* x, u64 n, Strided l) { \
        GRID_LOOP(i, n) { out[i] = x[strided_offset(l, i)]; } \
    } \
    /* One part of a cat: its (outer, width) block lands at column `column` of rows `out_width` wide. */ \
    extern "C" __global__ void cat_part_##name(V* out, const V* part, u64 outer, u64 width, u64 out_width, \
                                               u64 column) { \
        GRID_LOOP(i, outer * width) { out[(i / width) * out_width + column + i % width] = part[i]; } \
    } \
    extern "C" __global__ void fill_##name(V* out, u64 n, V bits) { \
        GRID_LOOP(i, n) { out[i] = bits; } \
    }
COPY(b1, u8)
COPY(b2, u16)
COPY(b4, u32)
COPY(b8, u64)
