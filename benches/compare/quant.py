"""Side-by-side int8 inference benchmark: neurite's dynamic quantization against
PyTorch's `torch.ao.quantization.quantize_dynamic` (fbgemm) on the same machine,
in one run, with f32 for both as the baseline.

Runs `cargo bench --bench compare_quant` (the Rust half) and the same
784-512-256-10 MLP in PyTorch with the same thread count, alternating the two
for several rounds, and prints a Markdown table of microseconds per forward
pass with the ratios that matter: int8 over f32 within each framework and
neurite's int8 against PyTorch's (> 1: neurite faster).

Usage: python benches/compare/quant.py [--threads N] [--reps R] [--rounds K]   (needs torch)
"""
import argparse
import json
import os
import subprocess
import time

import torch


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
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(784, 512), torch.nn.ReLU(),
        torch.nn.Linear(512, 256), torch.nn.ReLU(),
        torch.nn.Linear(256, 10)).eval()
    int8 = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
    out = {}
    for batch in [1, 64]:
        x = torch.rand(batch, 784)
        for name, m in [("f32", model), ("int8", int8)]:
            def fwd():
                with torch.no_grad():
                    return m(x)
            out[f"mlp_{name}_forward_b{batch}_us"] = median_secs(fwd, reps) * 1e6
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--reps", type=int, default=15)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    env = dict(os.environ, RAYON_NUM_THREADS=str(args.threads), NEURITE_BENCH_REPS=str(args.reps))
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    rust_runs, torch_runs = [], []
    for _ in range(args.rounds):
        proc = subprocess.run(["cargo", "bench", "--bench", "compare_quant"], cwd=root, env=env,
                              capture_output=True, text=True, check=True)
        rust_runs.append(json.loads([l for l in proc.stdout.splitlines() if l.startswith("{")][-1]))
        torch_runs.append(torch_figures(args.reps))
    median = lambda xs: sorted(xs)[len(xs) // 2]
    kernel = rust_runs[0].pop("int8_kernel")
    for r in rust_runs[1:]:
        r.pop("int8_kernel")
    ours = {k: median([r[k] for r in rust_runs]) for k in rust_runs[0]}
    theirs = {k: median([r[k] for r in torch_runs]) for k in torch_runs[0]}
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    print(f"Machine: {cpu}, {args.threads} threads, median of {args.rounds} alternating rounds; "
          f"neurite int8 kernel {kernel}; PyTorch {torch.__version__} "
          f"(engine {torch.backends.quantized.engine}); {time.strftime('%Y-%m-%d')}\n")
    print("| batch | neurite f32 (us) | neurite int8 (us) | int8 speed-up | PyTorch f32 (us) | PyTorch int8 (us) "
          "| PyTorch int8 speed-up | neurite int8 vs PyTorch int8 (>1: neurite faster) |")
    print("|---|---|---|---|---|---|---|---|")
    for b in [1, 64]:
        nf, ni = ours[f"mlp_f32_forward_b{b}_us"], ours[f"mlp_int8_forward_b{b}_us"]
        tf, ti = theirs[f"mlp_f32_forward_b{b}_us"], theirs[f"mlp_int8_forward_b{b}_us"]
        print(f"| {b} | {nf:,.1f} | {ni:,.1f} | {nf / ni:.2f}x | {tf:,.1f} | {ti:,.1f} | {tf / ti:.2f}x | {ti / ni:.2f}x |")


if __name__ == "__main__":
    main()
