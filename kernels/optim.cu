// Fused optimizer updates, one pass over parameters, gradients and state, with
// PyTorch's formulas (torch.optim, single-tensor path). Scalars that depend on
// the step count (bias corrections) are computed on the host in f64.

// torch.lerp: start + w * (end - start), written from the nearer end as ATen does.
template <typename C> __device__ __forceinline__ C lerp(C start, C end, C w) {
    return w < (C)0.5 ? start + w * (end - start) : end - (end - start) * ((C)1 - w);
}

// SGD: d = g + wd*p; buf = first ? d : momentum*buf + (1-dampening)*d;
// d = nesterov ? d + momentum*buf : buf; p -= lr*d. Without momentum, p -= lr*d.
template <typename T>
__device__ void sgd_impl(T* p, const T* g, T* buf, u64 n, double lr, double momentum, double dampening, double wd,
                         int nesterov, int first) {
    typedef typename Ty<T>::C C;
    const C clr = (C)lr, cm = (C)momentum, cd = (C)1 - (C)dampening, cwd = (C)wd;
    GRID_LOOP(i, n) {
        const C pi = Ty<T>::load(p[i]);
        C d = Ty<T>::load(g[i]);
        if (wd != 0.0) d = d + cwd * pi;
        if (momentum != 0.0) {
            const C b = first ? d : cm * Ty<T>::load(buf[i]) + cd * d;
            buf[i] = Ty<T>::store(b);
            d = nesterov ? d + cm * b : b;
        }
        p[i] = Ty<T>::store(pi - clr * d);
    }
}

// Adam / AdamW. `decoupled` selects AdamW's p *= 1 - lr*wd instead of g += wd*p;
// `step_size` = lr / (1 - beta1^t), `bc2_sqrt` = sqrt(1 - beta2^t). With amsgrad,
// `vmax` keeps the running maximum of v and the denominator uses it.
template <typename T>
__device__ void adam_impl(T* p, const T* g, T* m, T* v, T* vmax, u64 n, double lr, double beta1, double beta2,
                          double eps, double wd, int decoupled, double step_size, double bc2_sqrt, int amsgrad) {
    typedef typename Ty<T>::C C;
    const C b1w = (C)(1.0 - beta1), b2 = (C)beta2, b2w = (C)(1.0 - beta2), ceps = (C)eps, cwd = (C)wd;
    const C decay = (C)(1.0 - lr * wd), cstep = (C)step_size, cbc2 = (C)bc2_sqrt;
    GRID_LOOP(i, n) {
        C pi = Ty<T>::load(p[i]);
        C gi = Ty<T>::load(g[i]);
        if (wd != 0.0) {
            if (decoupled) pi = pi * decay;
            else gi = gi + cwd * pi;
        }
        const C mi = lerp(Ty<T>::load(m[i]), gi, b1w);
        const C vi = b2 * Ty<T>::load(v[i]) + b2w * gi * gi;
        m[i] = Ty<T>::store(mi);
        v[i] = Ty<T>::store(vi);
        C second = vi;
        if (amsgrad) {
            const C prev = Ty<T>::load(vmax[i]);
            second = prev > vi ? prev : vi;
            vmax[i] = Ty<T>::store(second);
        }
        const C denom = m_sqrt(second) / cbc2 + ceps;
        p[i] = Ty<T>::store(pi - cstep * mi / denom);
    }
}

// RMSprop: sq = alpha*sq + (1-alpha)*g^2; centered: ga = lerp(ga, g, 1-alpha) and
// avg = sqrt(sq - ga^2) + eps, else sqrt(sq) + eps; with momentum
// buf = momentum*buf + g/avg and p -= lr*buf, else p -= lr*g/avg.
template <typename T>
__device__ void rmsprop_impl(T* p, const T* g, T* sq, T* gavg, T* buf, u64 n, double lr, double alpha, double eps,
                             double wd, double momentum, int centered) {
    typedef typename Ty<T>::C C;
    const C ca = (C)alpha, caw = (C)(1.0 - alpha), ceps = (C)eps, cwd = (C)wd, cm = (C)momentum, clr = (C)lr;
    GRID_LOOP(i, n) {
        const C pi = Ty<T>::load(p[i]);
        C gi = Ty<T>::load(g[i]);
        if (wd != 0.0) gi = gi + cwd * pi;
        const C si = ca * Ty<T>::load(sq[i]) + caw * gi * gi;
        sq[i] = Ty<T>::store(si);
        C avg;
        if (centered) {
            const C ga = lerp(Ty<T>::load(gavg[i]), gi, caw);
            gavg[i] = Ty<T>::store(ga);
            avg = m_sqrt(si - ga * ga) + ceps;
        } else {
            avg = m_sqrt(si) + ceps;
        }
        if (momentum > 0.0) {
            const C b = cm * Ty<T>::load(buf[i]) + gi / avg;
            buf[i] = Ty<T>::store(b);
            p[i] = Ty<T>::store(pi - clr * b);
        } else {
            p[i] = Ty<T>::store(pi - clr * gi / avg);
        }
    }
}

#define OPTIM(name, T) \
    extern "C" __global__ void sgd_##name(T* p, const T* g, T* buf, u64 n, double lr, double momentum, \
                                          double dampening, double wd, int nesterov, int first) { \
        sgd_impl<T>(p, g, buf, n, lr, momentum, dampening, wd, nesterov, first); \
    } \
    extern "C" __global__ void adam_##name(T* p, const T* g, T* m, T* v, T* vmax, u64 n, double lr, double beta1, \
                                           double beta2, double eps, double wd, int decoupled, double step_size, \
                                           double bc2_sqrt, int amsgrad) { \
        adam_impl<T>(p, g, m, v, vmax, n, lr, beta1, beta2, eps, wd, decoupled, step_size, bc2_sqrt, amsgrad); \
    } \
    extern "C" __global__ void rmsprop_##name(T* p, const T* g, T* sq, T* gavg, T* buf, u64 n, double lr, \
                                              double alpha, double eps, double wd, double momentum, int centered) { \
        rmsprop_impl<T>(p, g, sq, gavg, buf, n, lr, alpha, eps, wd, momentum, centered); \
    }
OPTIM(f32, float)
OPTIM(f64, double)
OPTIM(f16, f16)
OPTIM(bf16, bf16)
