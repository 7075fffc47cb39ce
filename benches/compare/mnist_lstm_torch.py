"""examples/mnist_lstm.rs in PyTorch: the same network, data and recipe.

- data: the `train-*` / `t10k-*` IDX files read with gzip + numpy (mnist_torch.py's
  reader), pixels / 255, then standardised with MNIST's customary mean 0.1307 and
  deviation 0.3081; every training digit trains, the test digits are evaluated
  after each epoch (reported only) and at the end;
- model: nn.LSTM(28, 128, batch_first=True, bidirectional=True) reading the 28
  rows of 28 pixels, nn.Dropout(0.3) and nn.Linear(256, 10) on the final hidden
  states h_n of both directions side by side;
  PyTorch's default init;
- cross-entropy, Adam (lr 3e-3), CosineAnnealingLR(T_max=epochs) stepped per
  epoch, 12 epochs, batch 64 reshuffled every epoch, last short batch kept;
- prints the epochs, `wall time`, `seconds per epoch` (mean and median of one
  training pass plus its validation) and `test accuracy`, as the example does.

Usage:
  python benches/compare/mnist_lstm_torch.py [--epochs 12] [--batch-size 64] [--lr 3e-3]
      [--hidden 128] [--dropout 0.3] [--seed 0] [--threads 2] [--data data/mnist]
      [--pool last|mean] [--directions 1|2]   (variants tried while choosing the recipe)

Needs torch and numpy only.
"""
import argparse
import os
import statistics
import sys
import time

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mnist_torch import ROOT, cpu_model, evaluate, load_split  # noqa: E402

MEAN, STD = 0.1307, 0.3081


class RowLstm(nn.Module):
    """examples/mnist_lstm.rs's `RowLstm`: an LSTM over image rows, a linear head on h_n."""

    def __init__(self, hidden=128, layers=1, classes=10, pool="last", dropout=0.0, bidirectional=False):
        super().__init__()
        self.pool = pool
        self.drop = nn.Dropout(dropout)
        self.lstm = nn.LSTM(28, hidden, num_layers=layers, batch_first=True, bidirectional=bidirectional)
        self.head = nn.Linear(hidden * (2 if bidirectional else 1), classes)

    def forward(self, x):
        rows = (x.reshape(x.shape[0], 28, 28) - MEAN) / STD
        out, (h_n, _) = self.lstm(rows)
        last = torch.cat([h_n[-2], h_n[-1]], 1) if self.lstm.bidirectional else h_n[-1]
        return self.head(self.drop(out.mean(1) if self.pool == "mean" else last))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--pool", choices=["last", "mean"], default="last")
    p.add_argument("--dropout", type=float, default=0.3)
    p.add_argument("--directions", type=int, choices=[1, 2], default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--data", default=os.path.join(ROOT, "data", "mnist"))
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    t_start = time.perf_counter()
    x_train, y_train = load_split(args.data, "train")
    x_test, y_test = load_split(args.data, "t10k")
    net = RowLstm(args.hidden, pool=args.pool, dropout=args.dropout, bidirectional=args.directions == 2)
    opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs)
    gen = torch.Generator().manual_seed(args.seed)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads on {cpu_model()}; "
          f"{len(x_train)} training and {len(x_test)} test digits from {args.data}", flush=True)
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
            losses.append(loss.detach() * len(idx))
            hits.append((out.detach().argmax(1) == yb).sum())
        val_loss, val_acc = evaluate(net, x_test, y_test, args.batch_size)
        sched.step()
        dt = time.perf_counter() - t0
        epoch_times.append(dt)
        print(f"Epoch {epoch + 1}/{args.epochs} - {dt:.2f}s - loss: {torch.stack(losses).sum().item() / len(x_train):.4f}"
              f" - accuracy: {torch.stack(hits).sum().item() / len(x_train):.4f}"
              f" - val_loss: {val_loss:.4f} - val_accuracy: {val_acc:.4f}", flush=True)
    _, test_acc = evaluate(net, x_test, y_test, args.batch_size)
    print(f"wall time: {time.perf_counter() - t_start:.1f} s")
    print(f"seconds per epoch: {sum(epoch_times) / len(epoch_times):.3f} (median {statistics.median(epoch_times):.3f})")
    print(f"test accuracy: {test_acc:.4f}")


if __name__ == "__main__":
    main()
