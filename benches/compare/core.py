"""Side-by-side CPU benchmark: neurite against PyTorch on the same machine, in one run.

Runs `cargo bench --bench compare_core` (the Rust half, same workloads and timing
method) and the same work in PyTorch with the same thread count, then prints a
Markdown table with both figures and their ratio (neurite / PyTorch for
throughput, PyTorch / neurite for latency, so > 1 means neurite is faster).

Usage: python benches/compare/core.py [--threads N] [--reps R] [--rounds K]   (needs torch and numpy)
"""
import argparse
import json
import os
import platform
import subprocess
import time

import torch
import torch.nn.functional as F


def median_secs(f, reps):
    for _ in range(3):
        f()
    t0 = time.perf_counter()
    f()
    once = max(time.perf_counter() - t0, 1e-7)
    calls = min(max(int(0.1 / once), 1), 10_000)
    samples = []
    for _ in range(reps):
        t = time.perf_counter()
        for _ in range(calls):
            f()
        samples.append((time.perf_counter() - t) / calls)
    samples.sort()
    return samples[len(samples) // 2]


def torch_figures(reps):
    out = {}
    torch.manual_seed(0)
    for m, k, n in [(1024, 1024, 1024), (2048, 2048, 2048), (128, 784, 512), (128, 512, 256)]:
        a, b = torch.randn(m, k), torch.randn(k, n)
        s = median_secs(lambda: a @ b, reps)
        out[f"gemm_{m}x{k}x{n}_gflops"] = 2 * m * k * n / s / 1e9
    sizes = [784, 512, 256, 10]
    params = []
    for i, o in zip(sizes, sizes[1:]):
        bound = 1 / i ** 0.5
        # nn.Linear's layout: weight [out, in].
        params.append((torch.rand(o, i) * 2 * bound - bound).requires_grad_())
        params.append((torch.rand(o) * 2 * bound - bound).requires_grad_())

    def logits_of(x):
        h = torch.relu(F.linear(x, params[0], params[1]))
        h = torch.relu(F.linear(h, params[2], params[3]))
        return F.linear(h, params[4], params[5])

    def cross_entropy(logits, y):
        return -torch.log_softmax(logits, 1).gather(1, y.unsqueeze(1)).mean()

    def train_step_of(ps, loss_fn):
        # The optimizer a PyTorch user gets by default (for-loop on the CPU).
        opt = torch.optim.SGD(ps, lr=0.01, momentum=0.9)

        def step():
            opt.zero_grad()
            loss_fn().backward()
            opt.step()
        return step

    for batch in [128, 32]:
        x = torch.rand(batch, 784)
        y = torch.tensor([(i * 7) % 10 for i in range(batch)])

        def fwd_bwd():
            loss = cross_entropy(logits_of(x), y)
            torch.autograd.grad(loss, params)
            return loss.item()

        out[f"mlp_fwd_bwd_b{batch}_samples_per_s"] = batch / median_secs(fwd_bwd, reps)
        step = train_step_of(params, lambda: cross_entropy(logits_of(x), y))
        out[f"mlp_train_step_b{batch}_samples_per_s"] = batch / median_secs(step, reps)
    conv = [(torch.rand(*shape) * 2 - 1) / fan_in ** 0.5 for shape, fan_in in [
        ((32, 1, 3, 3), 9), ((32,), 9), ((64, 32, 3, 3), 288), ((64,), 288),
        ((10, 64 * 49), 64 * 49), ((10,), 64 * 49)]]
    conv = [p.requires_grad_() for p in conv]
    xc = torch.rand(64, 1, 28, 28)
    yc = torch.tensor([(i * 7) % 10 for i in range(64)])

    def cnn_loss():
        h = torch.max_pool2d(torch.relu(torch.conv2d(xc, conv[0], conv[1], padding=1)), 2)
        h = torch.max_pool2d(torch.relu(torch.conv2d(h, conv[2], conv[3], padding=1)), 2)
        return cross_entropy(F.linear(h.flatten(1), conv[4], conv[5]), yc)

    out["cnn_train_step_b64_samples_per_s"] = 64 / median_secs(train_step_of(conv, cnn_loss), reps)
    x1 = torch.rand(1, 784)

    def fwd1():
        with torch.no_grad():
            return logits_of(x1)

    out["mlp_forward_b1_us"] = median_secs(fwd1, reps) * 1e6
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--reps", type=int, default=15)
    ap.add_argument("--rounds", type=int, default=3, help="alternating runs of both halves")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    env = dict(os.environ, RAYON_NUM_THREADS=str(args.threads), NEURITE_BENCH_REPS=str(args.reps))
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    # This machine class is shared: its speed drifts by up to 2x over seconds.
    # Alternating the two halves for several rounds and taking each figure's
    # median keeps one slow phase from deciding a ratio.
    rust_runs, torch_runs = [], []
    for _ in range(args.rounds):
        proc = subprocess.run(["cargo", "bench", "--bench", "compare_core"], cwd=root, env=env,
                              capture_output=True, text=True, check=True)
        rust_runs.append(json.loads([l for l in proc.stdout.splitlines() if l.startswith("{")][-1]))
        torch_runs.append(torch_figures(args.reps))
    median = lambda xs: sorted(xs)[len(xs) // 2]
    rust = {k: median([r[k] for r in rust_runs]) for k in rust_runs[0]}
    pt = {k: median([r[k] for r in torch_runs]) for k in torch_runs[0]}
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    flags = ""
    try:
        with open("/proc/cpuinfo") as f:
            have = next(l for l in f if l.startswith("flags")).split()
        flags = " ".join(x for x in ("avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_bf16", "amx_bf16") if x in have)
    except (OSError, StopIteration):
        pass
    print(f"Machine: {cpu} ({flags}), {args.threads} threads, median of {args.rounds} alternating rounds; PyTorch {torch.__version__}; {time.strftime('%Y-%m-%d')}\n")
    print("| workload | neurite | PyTorch | ratio (>1: neurite faster) |")
    print("|---|---|---|---|")
    for key, theirs in pt.items():
        ours = rust[key]
        ratio = theirs / ours if key.endswith("_us") else ours / theirs
        print(f"| {key} | {ours:,.1f} | {theirs:,.1f} | {ratio:.2f}x |")


if __name__ == "__main__":
    main()
