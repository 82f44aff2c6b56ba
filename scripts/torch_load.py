#!/usr/bin/env python3
"""Loads an aelab autoencoder checkpoint into a PyTorch nn.Sequential with the strict
load_state_dict (every tensor name and shape must match) and prints its test MSE, to compare
with aelab's own `eval`.

usage: torch_load.py CHECKPOINT --data DIR
DIR holds the MNIST t10k-images-idx3-ubyte.gz. Uses safetensors.torch when installed; otherwise
reads the file itself (an 8-byte little-endian header length, a JSON header of names, dtypes,
shapes and offsets, then the raw tensors), which is the whole of the safetensors format.
"""
import argparse, gzip, json, os, struct
import numpy as np
import torch
from torch import nn


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", {})
    data = raw[8 + n:]
    tensors = {}
    for name, t in header.items():
        assert t["dtype"] == "F32", f"{name}: dtype {t['dtype']}"
        lo, hi = t["data_offsets"]
        tensors[name] = torch.from_numpy(np.frombuffer(data[lo:hi], "<f4").reshape(t["shape"]).copy())
    return tensors, meta


def load(path):
    try:
        from safetensors import safe_open
        from safetensors.torch import load_file
        with safe_open(path, "pt") as f:
            meta = f.metadata()
        return load_file(path), meta
    except ImportError:
        return read_safetensors(path)


def act(name):
    return {"relu": nn.ReLU(), "sigmoid": nn.Sigmoid(), "tanh": nn.Tanh(), "linear": nn.Identity()}[name]


def sequential(spec):
    sizes, hidden = spec["layers"], spec["activation"]
    enc, dec = [], []
    for i in range(len(sizes) - 1):
        enc += [nn.Linear(sizes[i], sizes[i + 1]), act(spec["code_activation"] if i == len(sizes) - 2 else hidden)]
    rev = sizes[::-1]
    for i in range(len(rev) - 1):
        dec += [nn.Linear(rev[i], rev[i + 1]), act(spec["output_activation"] if i == len(rev) - 2 else hidden)]
    return nn.Sequential(__import__("collections").OrderedDict(encoder=nn.Sequential(*enc), decoder=nn.Sequential(*dec)))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("checkpoint")
    p.add_argument("--data", required=True)
    a = p.parse_args()
    state, meta = load(a.checkpoint)
    spec = json.loads(meta["aelab"])["spec"]
    model = sequential(spec)
    model.load_state_dict(state)  # strict: every name and shape must match
    with gzip.open(os.path.join(a.data, "t10k-images-idx3-ubyte.gz")) as f:
        test = torch.from_numpy(np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784).astype(np.float32) / 255)
    with torch.no_grad():
        mse = nn.functional.mse_loss(model(test), test).item()
    print(json.dumps({"checkpoint": os.path.basename(a.checkpoint), "strict_load": True, "tensors": len(state),
                      "torch": torch.__version__, "test_mse": round(mse, 9)}))


if __name__ == "__main__":
    main()
