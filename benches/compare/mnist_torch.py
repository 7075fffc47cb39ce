"""The MNIST examples' two recipes in PyTorch, and a side-by-side driver.

Trains exactly what `examples/mnist_mlp.rs`, `examples/mnist_cnn.rs` and
`examples/resnet_mnist.rs` train,
on the same IDX files, with the same split and hyperparameters:

- data: `train-*` / `t10k-*` IDX files (gzip or raw) read with gzip + numpy,
  pixels scaled to [0, 1] (pixel / 255), no other normalisation for the CNN;
- validation: by default (`--val-fraction 0`) every training digit trains and
  the test digits are evaluated after each epoch, reported only (as the
  examples do); `--val-fraction F` holds out the LAST fraction F of the
  training files instead (Keras's `validation_split`, which
  `neurite::train::Trainer::validation_split` also uses); training batches are
  reshuffled every epoch, batch 64, last short batch kept;
- `mlp`: pixels standardised with the mean and (population) standard deviation
  of the training digits (neurite's `Normalization::adapt(.., None)`, the first
  layer of its model), then 784-256-ReLU-Dropout(0.2)-128-ReLU-10;
  `cnn`: [conv3x3(pad 1) + BatchNorm2d + ReLU + MaxPool2d(2)] x 2 with 16 and
  32 channels, Dropout(0.25), Flatten, Linear(32*7*7 -> 10);
- cross-entropy on logits, Adam lr 1e-3 (PyTorch's defaults otherwise), 10 epochs;
- training loss and accuracy are the sample-weighted means over the epoch's
  batches (in training mode, as Keras and neurite report them); validation
  and test run in eval mode under no_grad;
- "seconds per epoch": one epoch's training pass plus its validation pass,
  printed as the mean over epochs and the median (as neurite's examples do).

Usage:
  python benches/compare/mnist_torch.py mlp|cnn|resnet [--epochs 10] [--batch-size 64]
      [--lr 1e-3] [--seed 0] [--threads 2] [--val-fraction 0] [--data data/mnist]
  python benches/compare/mnist_torch.py compare [--models mlp,cnn] [--quiet-load 0.5]
      [--cooldown 30] [--repeats 2] [...]
      builds `cargo build --release --example mnist_<model>`, then runs that
      example (on the CPU, RAYON_NUM_THREADS = --threads) and this script's
      PyTorch run for each model, --repeats times each, alternating which goes
      first, in one run, each after waiting for the 1-minute load average to
      fall below --quiet-load and then --cooldown idle seconds, and prints a Markdown table (test accuracy and median seconds per epoch for
      each framework, and the time ratio) with the load around each run.

Needs torch and numpy only (no torchvision).
"""
import argparse
import datetime
import gzip
import os
import platform
import re
import statistics
import subprocess
import sys
import time

import numpy as np
import torch
from torch import nn

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def read_idx(path):
    """One IDX file (raw, or `path + '.gz'`) as a numpy array, header checked."""
    for p in (path, path + ".gz"):
        if os.path.exists(p):
            break
    else:
        raise FileNotFoundError(f"neither {path} nor {path}.gz exists")
    opener = gzip.open if p.endswith(".gz") else open
    with opener(p, "rb") as f:
        data = f.read()
    zero, dtype_code, ndim = data[0] * 256 + data[1], data[2], data[3]
    if zero != 0 or dtype_code != 0x08:
        raise ValueError(f"{p}: not an unsigned-byte IDX file")
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(dims)):
        raise ValueError(f"{p}: {body.size} bytes of data, header says {dims}")
    return body.reshape(dims)


def load_split(data_dir, prefix):
    images = read_idx(os.path.join(data_dir, f"{prefix}-images-idx3-ubyte"))
    labels = read_idx(os.path.join(data_dir, f"{prefix}-labels-idx1-ubyte"))
    x = torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1)  # (N, 1, 28, 28)
    y = torch.from_numpy(labels.astype(np.int64))
    return x, y


class BasicBlock(nn.Module):
    """examples/resnet_mnist.rs's block: conv-BN-ReLU-conv-BN + (downsampled) input, ReLU."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        h = torch.relu(self.bn1(self.conv1(x)))
        h = self.bn2(self.conv2(h))
        skip = x if self.downsample is None else self.downsample(x)
        return torch.relu(h + skip)


class ResNet(nn.Module):
    """examples/resnet_mnist.rs's network: stem 16, stages 32 and 64 (2 blocks each), GAP, Dropout(0.2), fc."""

    def __init__(self, widths=(16, 32, 64), blocks_per_stage=2, classes=10, dropout=0.2):
        super().__init__()
        self.stem = nn.Conv2d(1, widths[0], 3, padding=1, bias=False)
        self.stem_bn = nn.BatchNorm2d(widths[0])
        blocks = []
        for cin, cout in zip(widths, widths[1:]):
            blocks.append(BasicBlock(cin, cout, 2))
            blocks += [BasicBlock(cout, cout, 1) for _ in range(blocks_per_stage - 1)]
        self.blocks = nn.ModuleList(blocks)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(widths[-1], classes)

    def forward(self, x):
        h = torch.relu(self.stem_bn(self.stem(x)))
        for b in self.blocks:
            h = b(h)
        return self.fc(self.dropout(h.mean(dim=(2, 3))))


EXAMPLES = {"mlp": "mnist_mlp", "cnn": "mnist_cnn", "resnet": "resnet_mnist"}


def build(model):
    if model == "resnet":
        return ResNet()
    if model == "mlp":
        return nn.Sequential(
            nn.Flatten(),
            nn.Linear(784, 256), nn.ReLU(), nn.Dropout(0.2),
            nn.Linear(256, 128), nn.ReLU(),
            nn.Linear(128, 10),
        )
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Dropout(0.25), nn.Flatten(), nn.Linear(32 * 7 * 7, 10),
    )


@torch.no_grad()
def evaluate(net, x, y, batch):
    net.eval()
    loss, correct = 0.0, 0
    for i in range(0, len(x), batch):
        out = net(x[i:i + batch])
        loss += nn.functional.cross_entropy(out, y[i:i + batch], reduction="sum").item()
        correct += (out.argmax(1) == y[i:i + batch]).sum().item()
    return loss / len(x), correct / len(x)


def train(args):
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    t_start = time.perf_counter()
    x, y = load_split(args.data, "train")
    x_test, y_test = load_split(args.data, "t10k")
    split = int(len(x) * (1 - args.val_fraction))  # Keras: floor(n * (1 - fraction)); the tail validates
    x_train, y_train, x_val, y_val = x[:split], y[:split], x[split:], y[split:]
    if args.model == "mlp":
        # As neurite's Normalization layer: statistics of the training digits only, applied to all.
        mean, std = x_train.double().mean().item(), x_train.double().std(correction=0).item()
        x_train, x_val, x_test = [(t - mean) / std for t in (x_train, x_val, x_test)]
    if len(x_val) == 0:
        # As the examples: the test digits after each epoch, reported only.
        x_val, y_val = x_test, y_test
    net = build(args.model)
    opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    # The ResNet recipe anneals the learning rate to 0 over the run (per epoch), as its example does.
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs) if args.model == "resnet" else None
    gen = torch.Generator().manual_seed(args.seed)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; {args.model}: "
          f"{len(x_train)} training, {len(x_val)} validation"
          f"{' (the test digits)' if x_val is x_test else ''}, {len(x_test)} test digits from {args.data}")
    epoch_times = []
    for epoch in range(args.epochs):
        t0 = time.perf_counter()
        net.train()
        perm = torch.randperm(len(x_train), generator=gen)
        losses, hits = [], []
        for i in range(0, len(perm), args.batch_size):
            idx = perm[i:i + args.batch_size]
            xb, yb = x_train[idx], y_train[idx]
            out = net(xb)
            loss = nn.functional.cross_entropy(out, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            # Kept as tensors and summed once per epoch, as neurite reads its batch losses back in groups.
            losses.append(loss.detach() * len(idx))
            hits.append((out.detach().argmax(1) == yb).sum())
        loss_sum = torch.stack(losses).sum().item()
        correct = torch.stack(hits).sum().item()
        val = ""
        if len(x_val):
            val_loss, val_acc = evaluate(net, x_val, y_val, args.batch_size)
            val = f" - val_loss: {val_loss:.4f} - val_accuracy: {val_acc:.4f}"
        if sched is not None:
            sched.step()
        dt = time.perf_counter() - t0
        epoch_times.append(dt)
        print(f"Epoch {epoch + 1}/{args.epochs} - {dt:.2f}s - loss: {loss_sum / len(x_train):.4f} - "
              f"accuracy: {correct / len(x_train):.4f}{val}")
    _, test_acc = evaluate(net, x_test, y_test, args.batch_size)
    print(f"wall time: {time.perf_counter() - t_start:.1f} s")
    print(f"seconds per epoch: {sum(epoch_times) / len(epoch_times):.3f} (median {statistics.median(epoch_times):.3f})")
    print(f"test accuracy: {test_acc:.4f}")
    sys.stdout.flush()


def parse_run(text):
    """(test accuracy, mean and median seconds per epoch) from a run's last lines."""
    acc = re.findall(r"^test accuracy: ([0-9.]+)$", text, re.M)
    spe = re.findall(r"^seconds per epoch: ([0-9.]+) \(median ([0-9.]+)\)$", text, re.M)
    if not acc or not spe:
        raise RuntimeError("a run did not end with 'seconds per epoch' and 'test accuracy' lines:\n" + text)
    return float(acc[-1]), float(spe[-1][0]), float(spe[-1][1])


def wait_quiet(limit, max_wait):
    """Waits (up to max_wait seconds) for the 1-minute load average to fall below limit; returns it."""
    deadline = time.time() + max_wait
    while os.getloadavg()[0] >= limit and time.time() < deadline:
        time.sleep(10)
    return os.getloadavg()[0]


def run(cmd, env=None):
    print("$ " + " ".join(cmd), file=sys.stderr, flush=True)
    p = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    sys.stderr.write(p.stdout)
    if p.returncode != 0:
        sys.stderr.write(p.stderr)
        raise SystemExit(f"command failed with exit status {p.returncode}: {' '.join(cmd)}")
    return p.stdout


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def compare(args):
    common = ["--epochs", str(args.epochs), "--batch-size", str(args.batch_size), "--lr", str(args.lr),
              "--seed", str(args.seed), "--val-fraction", str(args.val_fraction), "--data", os.path.abspath(args.data)]
    env = dict(os.environ, RAYON_NUM_THREADS=str(args.threads))
    models = [m for m in args.models.split(",") if m]
    # Build first so that compilation is not timed (and does not overlap a run).
    run(["cargo", "build", "--release"] + sum([["--example", EXAMPLES[m]] for m in models], []))
    runs, loads = {}, []

    def timed(label, cmd, cmd_env=None):
        before = wait_quiet(args.quiet_load, args.max_wait)
        # This dev machine slows down under sustained load and recovers when
        # idle: every run starts after the same rest, so neither side inherits
        # the other's heat.
        time.sleep(args.cooldown)
        result = parse_run(run(cmd, cmd_env))
        loads.append(f"{label} {before:.2f}/{os.getloadavg()[0]:.2f}")
        return result

    for r in range(args.repeats):
        for m in models:
            exe = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release",
                               "examples", EXAMPLES[m])
            sides = [("neurite", [exe, "--device", "cpu", "--quiet"] + common, env),
                     ("PyTorch", [sys.executable, os.path.abspath(__file__), m, "--threads", str(args.threads)]
                      + common, None)]
            # Alternate which side goes first from one repeat to the next.
            for side, cmd, cmd_env in (sides if r % 2 == 0 else sides[::-1]):
                runs.setdefault((m, side), []).append(timed(f"{side} {m} #{r + 1}", cmd, cmd_env))
    # Per model and side: the accuracy (the same every repeat: seeded) and the
    # median over repeats of each run's mean and median seconds per epoch.
    rows = []
    for m in models:
        pick = [tuple([runs[(m, side)][0][0]] + [statistics.median(x[i] for x in runs[(m, side)]) for i in (1, 2)])
                for side in ("neurite", "PyTorch")]
        rows.append((m, pick[0], pick[1]))
    print(f"MNIST side by side, {datetime.datetime.now().isoformat(timespec='minutes')}, {cpu_model()} "
          f"({os.cpu_count()} cores), {args.threads} threads each; torch {torch.__version__}; "
          f"epochs {args.epochs}, batch {args.batch_size}, Adam lr {args.lr}, seed {args.seed}, "
          f"validation fraction {args.val_fraction}; {args.repeats} run(s) per side, alternating, "
          f"each after {args.cooldown:.0f} s idle.\n")
    print("| model | neurite test acc | PyTorch test acc | neurite s/epoch | PyTorch s/epoch "
          "| time ratio (neurite / PyTorch) |")
    print("|---|---|---|---|---|---|")
    for m, (n_acc, n_mean, n_med), (t_acc, t_mean, t_med) in rows:
        print(f"| {m} | {n_acc:.4f} | {t_acc:.4f} | {n_med:.3f} | {t_med:.3f} | {n_med / t_med:.2f} |")
    print("\nSeconds per epoch: the median over epochs of one training pass plus its validation, "
          "then the median over repeats (means over epochs: " + ", ".join(f"{m} {n[1]:.3f} / {t[1]:.3f}" for m, n, t in rows) + " neurite / PyTorch).")
    print("Every run's median seconds per epoch, in order: " + "; ".join(
        f"{m} {side} " + ", ".join(f"{x[2]:.3f}" for x in runs[(m, side)])
        for m in models for side in ("neurite", "PyTorch")) + ".")
    print("1-minute load average before/after each run: " + "; ".join(loads) + ".")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("what", choices=["mlp", "cnn", "resnet", "compare"])
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--val-fraction", type=float, default=0.0,
                   help="the last fraction of the training files validates; 0: the test digits do, reported only")
    p.add_argument("--data", default=os.path.join(ROOT, "data", "mnist"))
    p.add_argument("--models", default="mlp,cnn", help="for compare: comma-separated mlp,cnn,resnet")
    p.add_argument("--quiet-load", type=float, default=0.5,
                   help="for compare: wait before each run until the 1-minute load average is below this")
    p.add_argument("--max-wait", type=float, default=1800, help="for compare: longest wait for a quiet machine (s)")
    p.add_argument("--cooldown", type=float, default=30, help="for compare: idle seconds before every run")
    p.add_argument("--repeats", type=int, default=2,
                   help="for compare: runs per side and model, alternating which side goes first")
    args = p.parse_args()
    if not 0 <= args.val_fraction < 1:
        p.error("--val-fraction must be in [0, 1)")
    if args.what == "compare":
        compare(args)
    else:
        args.model = args.what
        train(args)


if __name__ == "__main__":
    main()
