"""Recipe search in plain PyTorch: litfashion's fit loop mirrored (uint8 batches, on-device BatchAugment, the
seeded 6,000-image validation split, OneCycleLR per step, optional EMA), one thread, so that many candidate recipes
could be tried quickly on the 2-core CPU before the chosen ones were written as configs (docs/results.md)."""

import argparse
import gzip
import json
import math
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_avg_fn

from litfashion.data.augment import BatchAugment

MEAN, STD = 0.2860, 0.3530
D = "/usr/share/datasets/fashion-mnist/"


def idx(path, images):
    with gzip.open(path, "rb") as f:
        b = f.read()
    if images:
        return torch.from_numpy(np.frombuffer(b, np.uint8, offset=16).copy()).view(-1, 1, 28, 28)
    return torch.from_numpy(np.frombuffer(b, np.uint8, offset=8).copy()).long()


class MLP(nn.Module):
    def __init__(self, hidden, dropout, bn=False, in_dropout=0.0):
        super().__init__()
        layers, n = [nn.Flatten()], 784
        if in_dropout:
            layers.append(nn.Dropout(in_dropout))
        for h in hidden:
            layers.append(nn.Linear(n, h, bias=not bn))
            if bn:
                layers.append(nn.BatchNorm1d(h))
            layers.append(nn.ReLU())
            if dropout:
                layers.append(nn.Dropout(dropout))
            n = h
        layers.append(nn.Linear(n, 10))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


class CNN(nn.Module):
    def __init__(self, channels, blocks, dropout):
        super().__init__()
        layers, c_in = [], 1
        for i, c in enumerate(channels):
            for _ in range(blocks):
                layers += [nn.Conv2d(c_in, c, 3, padding=1, bias=False), nn.BatchNorm2d(c), nn.ReLU(inplace=True)]
                c_in = c
            if i < len(channels) - 1:
                layers.append(nn.MaxPool2d(2))
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(dropout), nn.Linear(c_in, 10)]
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


def scale(x, cl):
    x = x.float().div_(255).sub_(MEAN).div_(STD)
    return x.contiguous(memory_format=torch.channels_last) if cl else x


@torch.no_grad()
def evaluate(model, X, Y, cl, tta=False, bs=1000):
    model.eval()
    correct = 0
    for i in range(0, len(X), bs):
        x = scale(X[i : i + bs], cl)
        out = model(x)
        if tta:
            out = out.softmax(-1) + model(x.flip(-1)).softmax(-1)
        correct += (out.argmax(-1) == Y[i : i + bs]).sum().item()
    return correct / len(X)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", default="cnn")
    p.add_argument("--channels", default="32,64,128")
    p.add_argument("--blocks", type=int, default=1)
    p.add_argument("--hidden", default="512,512")
    p.add_argument("--bn", action="store_true")
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--in_dropout", type=float, default=0.0)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--bs", type=int, default=256)
    p.add_argument("--opt", default="sgd")
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--max_lr", type=float, default=0.1)
    p.add_argument("--pct_start", type=float, default=0.3)
    p.add_argument("--wd", type=float, default=5e-4)
    p.add_argument("--ls", type=float, default=0.1)
    p.add_argument("--flip", type=float, default=0.0)
    p.add_argument("--shift", type=int, default=0)
    p.add_argument("--ema", type=float, default=0.0)
    p.add_argument("--ema_start", type=int, default=0)
    p.add_argument("--clip", type=float, default=0.0)
    p.add_argument("--cl", action="store_true")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--test", action="store_true")
    p.add_argument("--tta", action="store_true")
    p.add_argument("--max_batches", type=int, default=0)
    p.add_argument("--tag", default="")
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args()
    torch.set_num_threads(a.threads)

    X = idx(D + "train-images-idx3-ubyte.gz", True)
    Y = idx(D + "train-labels-idx1-ubyte.gz", False)
    order = torch.randperm(60000, generator=torch.Generator().manual_seed(0))
    vi, ti = order[:6000], order[6000:]
    Xv, Yv, Xt, Yt = X[vi], Y[vi], X[ti], Y[ti]

    torch.manual_seed(a.seed)
    if a.model == "cnn":
        model = CNN(tuple(int(c) for c in a.channels.split(",")), a.blocks, a.dropout)
    else:
        model = MLP([int(h) for h in a.hidden.split(",")], a.dropout, a.bn, a.in_dropout)
    if a.cl:
        model = model.to(memory_format=torch.channels_last)
    ema = AveragedModel(model, avg_fn=get_ema_avg_fn(a.ema), use_buffers=True) if a.ema else None
    aug = BatchAugment(a.flip, a.shift) if (a.flip or a.shift) else None
    if a.opt == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=a.lr, momentum=0.9, nesterov=True, weight_decay=a.wd)
    else:
        opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=a.wd)
    steps_per_epoch = math.ceil(len(Xt) / a.bs)
    if a.max_batches:
        steps_per_epoch = min(steps_per_epoch, a.max_batches)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=a.max_lr, total_steps=steps_per_epoch * a.epochs, pct_start=a.pct_start
    )
    nparams = sum(p.numel() for p in model.parameters())
    print(json.dumps({"args": vars(a), "params": nparams}), flush=True)
    t0 = time.perf_counter()
    c0 = time.thread_time()
    step = 0
    hist = []
    for ep in range(a.epochs):
        te = time.perf_counter()
        model.train()
        perm = torch.randperm(len(Xt))
        tl, n = 0.0, 0
        for b in range(steps_per_epoch):
            bi = perm[b * a.bs : (b + 1) * a.bs]
            x = Xt[bi]
            if aug is not None:
                x = aug(x)
            x = scale(x, a.cl)
            loss = F.cross_entropy(model(x), Yt[bi], label_smoothing=a.ls)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if a.clip:
                nn.utils.clip_grad_norm_(model.parameters(), a.clip)
            opt.step()
            sched.step()
            if ema is not None and step >= a.ema_start:
                ema.update_parameters(model)
            step += 1
            tl += loss.item()
            n += 1
        ttrain = time.perf_counter() - te
        acc = evaluate(model, Xv, Yv, a.cl)
        eacc = evaluate(ema.module, Xv, Yv, a.cl) if ema is not None else None
        tep = time.perf_counter() - te
        rec = {
            "ep": ep + 1,
            "loss": round(tl / n, 4),
            "val": acc,
            "val_ema": eacc,
            "t_train": round(ttrain, 1),
            "t_epoch": round(tep, 1),
            "t_total": round(time.perf_counter() - t0, 1),
            "thread_s": round(time.thread_time() - c0, 1),
        }
        hist.append(rec)
        print(json.dumps(rec), flush=True)
    total = time.perf_counter() - t0
    final = ema.module if ema is not None else model
    res = {
        "tag": a.tag,
        "final_val": evaluate(final, Xv, Yv, a.cl),
        "total_s": round(total, 1),
        "thread_s": round(time.thread_time() - c0, 1),
        "load": Path("/proc/loadavg").read_text().split()[:3],
    }
    if a.tta:
        res["final_val_tta"] = evaluate(final, Xv, Yv, a.cl, tta=True)
    if a.test:
        Xs = idx(D + "t10k-images-idx3-ubyte.gz", True)
        Ys = idx(D + "t10k-labels-idx1-ubyte.gz", False)
        res["test"] = evaluate(final, Xs, Ys, a.cl)
        if a.tta:
            res["test_tta"] = evaluate(final, Xs, Ys, a.cl, tta=True)
        if ema is not None:
            res["test_raw"] = evaluate(model, Xs, Ys, a.cl)
    print("RESULT " + json.dumps(res), flush=True)


if __name__ == "__main__":
    main()
