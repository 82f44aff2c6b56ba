#!/usr/bin/env python3
"""The seed preset's deep autoencoders in PyTorch, for the PyTorch column of the README's deep
table: the same settings, written the way a PyTorch user would write them.

784-512-128, ReLU codes, batch 32, Adam (lr 0.001), MSE; greedy pretraining, 5 epochs per
level (level 1 reconstructs the images through a sigmoid, level 2 the clean ReLU codes of level
1 through a ReLU); then 5 epochs of fine-tuning the whole stack on reconstruction (lr 0.0001).
The DAE corrupts level 1's inputs with additive gaussian noise σ 0.4 (unclipped), level 2's
with σ 0.2, and fine-tunes with σ 0.4. Trained on the first 50,000 training images; test_mse
on the 10,000 test images, test_mse_noisy from inputs with gaussian σ 0.4 noise.

usage: torch_seed.py --data DIR [--out DIR] [--threads N] [--seed S]
DIR holds the MNIST *-ubyte.gz files. Prints one JSON line per model and a Markdown table;
with --out, writes them to OUT/metrics.json and OUT/metrics.md.
PyTorch on this project's CPU machines: apt-get install -y python3-torch libopenblas0-pthread.
"""
import argparse, gzip, json, os, time
import numpy as np
import torch
from torch import nn


def images(path):
    with gzip.open(path) as f:
        return torch.from_numpy(np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784).astype(np.float32) / 255)


def fit(modules, inputs, targets, noise, epochs, lr, gen):
    """Trains the nn.Sequential of modules to map corrupted inputs to targets; returns it."""
    net = nn.Sequential(*modules)
    opt = torch.optim.Adam(net.parameters(), lr)
    n = len(inputs)
    for _ in range(epochs):
        order = torch.randperm(n, generator=gen)
        for i in range(0, n - n % 32, 32):  # whole batches, as aelab
            idx = order[i:i + 32]
            x = inputs[idx]
            if noise:
                x = x + noise * torch.randn(x.shape, generator=gen)
            loss = nn.functional.mse_loss(net(x), targets[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return net


def run(name, train, test, noise, level_noise, gen):
    t0 = time.time()
    enc1, dec1 = nn.Sequential(nn.Linear(784, 512), nn.ReLU()), nn.Sequential(nn.Linear(512, 784), nn.Sigmoid())
    enc2, dec2 = nn.Sequential(nn.Linear(512, 128), nn.ReLU()), nn.Sequential(nn.Linear(128, 512), nn.ReLU())
    fit([enc1, dec1], train, train, noise, 5, 1e-3, gen)
    with torch.no_grad():
        codes = enc1(train)
    fit([enc2, dec2], codes, codes, level_noise, 5, 1e-3, gen)
    stack = nn.Sequential(enc1, enc2, dec2, dec1)
    rows = [(name + "-pretrained", evaluate(stack, test, gen))]
    fit([enc1, enc2, dec2, dec1], train, train, noise, 5, 1e-4, gen)
    rows.append((name + "-finetuned", evaluate(stack, test, gen)))
    return rows, time.time() - t0


def evaluate(net, test, gen):
    with torch.no_grad():
        clean = nn.functional.mse_loss(net(test), test).item()
        noisy = nn.functional.mse_loss(net(test + 0.4 * torch.randn(test.shape, generator=gen)), test).item()
    return {"test_mse": clean, "test_mse_noisy": noisy}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--out")
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    train = images(os.path.join(a.data, "train-images-idx3-ubyte.gz"))[:50000]
    test = images(os.path.join(a.data, "t10k-images-idx3-ubyte.gz"))
    results = {"torch": torch.__version__, "threads": torch.get_num_threads(), "seed": a.seed, "models": {}}
    for name, noise, level_noise in [("deep-ae", 0, 0), ("deep-dae", 0.4, 0.2)]:
        torch.manual_seed(a.seed)
        gen = torch.Generator().manual_seed(a.seed)
        rows, secs = run(name, train, test, noise, level_noise, gen)
        for model, m in rows:
            m["seconds"] = round(secs, 1)
            results["models"][model] = m
            print(json.dumps({"model": model, **m}), flush=True)
    table = "| model | PyTorch test_mse | PyTorch test_mse_noisy |\n|---|---|---|\n" + "".join(
        f"| {k} | {m['test_mse']:.5f} | {m['test_mse_noisy']:.5f} |\n" for k, m in results["models"].items())
    print(table, end="")
    if a.out:
        os.makedirs(a.out, exist_ok=True)
        with open(os.path.join(a.out, "metrics.json"), "w") as f:
            json.dump(results, f, indent=1)
        with open(os.path.join(a.out, "metrics.md"), "w") as f:
            f.write(table)


if __name__ == "__main__":
    main()
