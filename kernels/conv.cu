// Patch extraction for convolution and pooling (im2col) and its adjoint (col2im).
// Input (n, c, h, w); columns (n, c*kh*kw, oh*ow) with row = (ch*kh + ki)*kw + kj.
// Tap (ki, kj) of output (oy, ox) reads pixel (oy*sh + ki*dh - ph, ox*sw + kj*dw - pw);
// ph/pw are the top/left paddings (the bottom/right ones only set oh/ow).

struct ConvGeom {
    u64 n, c, h, w, kh, kw, sh, sw, ph, pw, oh, ow, dh, dw;
};

template <typename T>
__device__ void im2col_impl(T* out, const T* x, ConvGeom g, double pad_value) {
    typedef typename Ty<T>::C C;
    const T pad = Ty<T>::store((C)pad_value);
    const u64 rows = g.c * g.kh * g.kw, cols = g.oh * g.ow;
    GRID_LOOP(t, g.n * rows * cols) {
        const u64 pos = t % cols, row = (t / cols) % rows, img = t / (cols * rows);
        const u64 ch = row / (g.kh * g.kw), ki = (row / g.kw) % g.kh, kj = row % g.kw;
        const u64 oy = pos / g.ow, ox = pos % g.ow;
        // Signed arithmetic: padding makes taps left of / above the image negative.
        const i64 y = (i64)(oy * g.sh + ki * g.dh) - (i64)g.ph, xx = (i64)(ox * g.sw + kj * g.dw) - (i64)g.pw;
        T v = pad;
        if (y >= 0 && y < (i64)g.h && xx >= 0 && xx < (i64)g.w) v = x[((img * g.c + ch) * g.h + (u64)y) * g.w + (u64)xx];
        out[t] = v;
    }
}

// One thread per image pixel sums the taps that read it, in the CPU's (ki, kj) order:
// deterministic, no atomics.
template <typename T>
__device__ void col2im_impl(T* out, const T* cols_in, ConvGeom g) {
    typedef typename Ty<T>::C C;
    const u64 rows = g.c * g.kh * g.kw, cols = g.oh * g.ow;
    GRID_LOOP(t, g.n * g.c * g.h * g.w) {
        const u64 xx = t % g.w, y = (t / g.w) % g.h, ch = (t / (g.w * g.h)) % g.c, img = t / (g.w * g.h * g.c);
        C acc = (C)0;
        for (u64 ki = 0; ki < g.kh; ++ki) {
            const i64 ny = (i64)(y + g.ph) - (i64)(ki * g.dh);
            if (ny < 0 || ny % (i64)g.sh != 0) continue;
            const u64 oy = (u64)ny / g.sh;
            if (oy >= g.oh) continue;
            for (u64 kj = 0; kj < g.kw; ++kj) {
                const i64 nx = (i64)(xx + g.pw) - (i64)(kj * g.dw);
                if (nx < 0 || nx % (i64)g.sw != 0) continue;
                const u64 ox = (u64)nx / g.sw;
                if (ox >= g.ow) continue;
                const u64 row = (ch * g.kh + ki) * g.kw + kj;
                acc += Ty<T>::load(cols_in[(img * rows + row) * cols + oy * g.ow + ox]);
            }
        }
        out[t] = Ty<T>::store(acc);
    }
}

#define CONV(name, T) \
    extern "C" __global__ void im2col_##name(T* out, const T* x, ConvGeom g, double pad_value) { \
        im2col_impl<T>(out, x, g, pad_value); \
    } \
    extern "C" __global__ void col2im_##name(T* out, const T* cols, ConvGeom g) { col2im_impl<T>(out, cols, g); }
CONV(f32, float)
CONV(f64, double)
CONV(f16, f16)
CONV(bf16, bf16)
