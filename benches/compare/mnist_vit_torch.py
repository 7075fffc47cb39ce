"""examples/mnist_vit.rs in PyTorch: the same vision Transformer, data and recipe.

- data: the `train-*` / `t10k-*` IDX files (mnist_torch.py's reader), pixels
  / 255 then standardised with (0.1307, 0.3081); every training digit trains,
  the test digits are evaluated after each epoch (reported only);
- model: 16 patches of 7x7 pixels, Linear(49 -> 64) embedding plus a learned
  position embedding (N(0, 0.02^2)), nn.TransformerEncoder of 3 pre-norm
  layers (d_model 64, 4 heads, feed-forward 128, GELU, dropout 0.2,
  batch_first) with a final LayerNorm, mean over the tokens, Linear(64 -> 10);
- recipe: cross-entropy, Adam lr 2e-3 with a per-epoch CosineAnnealingLR to 0,
  batch 64 reshuffled every epoch, 25 epochs.

Prints the same closing lines as the example (`wall time`, `seconds per
epoch`, `test accuracy`).

Usage: python benches/compare/mnist_vit_torch.py [--epochs 25] [--batch-size 64]
    [--lr 2e-3] [--seed 0] [--threads 2] [--data data/mnist]
"""
import argparse
import os
import statistics
import sys
import time

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mnist_torch import ROOT, evaluate, load_split  # noqa: E402

MEAN, STD = 0.1307, 0.3081


class VisionTransformer(nn.Module):
    """examples/mnist_vit.rs's VisionTransformer, parameter for parameter."""

    def __init__(self, patch=7, dim=64, depth=3, heads=4, mlp_dim=128, dropout=0.2, classes=10):
        super().__init__()
        self.patch, self.grid = patch, 28 // patch
        self.patch_embed = nn.Linear(patch * patch, dim)
        self.pos_embed = nn.Parameter(torch.randn(1, self.grid * self.grid, dim) * 0.02)
        layer = nn.TransformerEncoderLayer(dim, heads, dim_feedforward=mlp_dim, dropout=dropout,
                                           activation="gelu", batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, depth, norm=nn.LayerNorm(dim), enable_nested_tensor=False)
        self.head = nn.Linear(dim, classes)

    def forward(self, x):
        n, g, p = x.shape[0], self.grid, self.patch
        x = (x - MEAN) / STD
        patches = x.reshape(n, g, p, g, p).permute(0, 1, 3, 2, 4).reshape(n, g * g, p * p)
        h = self.encoder(self.patch_embed(patches) + self.pos_embed)
        return self.head(h.mean(dim=1))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--epochs", type=int, default=25)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--data", default=os.path.join(ROOT, "data", "mnist"))
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    t_start = time.perf_counter()
    x_train, y_train = load_split(args.data, "train")
    x_test, y_test = load_split(args.data, "t10k")
    net = VisionTransformer()
    opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs)
    gen = torch.Generator().manual_seed(args.seed)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; vit: {len(x_train)} training, "
          f"{len(x_test)} test digits from {args.data}")
    epoch_times = []
    for epoch in range(args.epochs):
        t0 = time.perf_counter()
        net.train()
        perm = torch.randperm(len(x_train), generator=gen)
        loss_sum, correct = 0.0, 0
        for i in range(0, len(perm), args.batch_size):
            idx = perm[i:i + args.batch_size]
            out = net(x_train[idx])
            loss = nn.functional.cross_entropy(out, y_train[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss_sum += loss.item() * len(idx)
            correct += (out.detach().argmax(1) == y_train[idx]).sum().item()
        val_loss, val_acc = evaluate(net, x_test, y_test, args.batch_size)
        sched.step()
        dt = time.perf_counter() - t0
        epoch_times.append(dt)
        print(f"Epoch {epoch + 1}/{args.epochs} - {dt:.2f}s - loss: {loss_sum / len(x_train):.4f} - "
              f"accuracy: {correct / len(x_train):.4f} - val_loss: {val_loss:.4f} - val_accuracy: {val_acc:.4f}")
    _, test_acc = evaluate(net, x_test, y_test, args.batch_size)
    print(f"wall time: {time.perf_counter() - t_start:.1f} s")
    print(f"seconds per epoch: {sum(epoch_times) / len(epoch_times):.3f} (median {statistics.median(epoch_times):.3f})")
    print(f"test accuracy: {test_acc:.4f}")


if __name__ == "__main__":
    main()
