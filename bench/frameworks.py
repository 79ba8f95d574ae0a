"""The course's training workloads in Keras and in a hand-written PyTorch loop, on the same
synthetic data shapes as `dl-bench`, measured in one run: seconds per epoch after the first.

    python bench/frameworks.py            # needs tensorflow(-cpu), keras and torch installed

Put the output beside `cargo run --release -p dl-core --bin dl-bench` run just before or after, on
an idle machine. Workloads: linear regression 2000x1 (batch 16, 40 epochs), Boston-shaped 404x13
(batch 64, 10), MNIST-shaped linear 60000x784 (batch 64, 10), MLP 784-512 relu-10 softmax with
rmsprop and sparse categorical crossentropy (batch 128, 3 epochs).
"""
import os
import time

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

WORKLOADS = [
    ("linear regression 2000x1, batch 16", 2000, 1, 1, 16, 40),
    ("Boston-shaped 404x13, batch 64", 404, 13, 1, 64, 10),
    ("MNIST linear 60000x784, batch 64", 60000, 784, 1, 64, 10),
    ("MLP 784-512-10 rmsprop, batch 128", 60000, 784, 10, 128, 3),
]


def data(n, d, classes):
    rng = np.random.default_rng(11)
    x = rng.random((n, d), dtype=np.float32)
    if d == 784:
        x = np.where(x < 0.2, x * 5, 0).astype(np.float32)
    y = (rng.random(n) * 10).astype(np.float32) // 1 if classes else rng.random(n, dtype=np.float32)
    return x, y


def keras_epoch(n, d, classes, bs, epochs):
    import keras
    x, y = data(n, d, classes > 1)
    if classes > 1:
        m = keras.Sequential([keras.Input((d,)), keras.layers.Dense(512, activation="relu"), keras.layers.Dense(10, activation="softmax")])
        m.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    else:
        m = keras.Sequential([keras.Input((d,)), keras.layers.Dense(1)])
        m.compile(optimizer="sgd", loss="mse", metrics=["mse"])
    m.fit(x, y, epochs=1, batch_size=bs, verbose=0)
    t = time.time()
    m.fit(x, y, epochs=epochs - 1, batch_size=bs, verbose=0)
    return (time.time() - t) / (epochs - 1)


def torch_epoch(n, d, classes, bs, epochs):
    import torch
    torch.set_num_threads(os.cpu_count())
    x, y = data(n, d, classes > 1)
    x, y = torch.from_numpy(x), torch.from_numpy(y)
    if classes > 1:
        m = torch.nn.Sequential(torch.nn.Linear(d, 512), torch.nn.ReLU(), torch.nn.Linear(512, 10))
        opt = torch.optim.RMSprop(m.parameters(), lr=1e-3, alpha=0.9, eps=1e-7)
        loss_fn = torch.nn.CrossEntropyLoss()
        y = y.long()
    else:
        m = torch.nn.Linear(d, 1)
        opt = torch.optim.SGD(m.parameters(), lr=0.01)
        loss_fn = torch.nn.MSELoss()
        y = y.unsqueeze(1)

    def epoch():
        perm = torch.randperm(n)
        for i in range(0, n, bs):
            idx = perm[i:i + bs]
            opt.zero_grad()
            loss = loss_fn(m(x[idx]), y[idx])
            loss.backward()
            opt.step()

    epoch()
    t = time.time()
    for _ in range(epochs - 1):
        epoch()
    return (time.time() - t) / (epochs - 1)


def measure(framework):
    """One framework in its own process: TensorFlow and PyTorch each bundle LLVM, and loading
    both into one process aborts."""
    f = {"keras": keras_epoch, "torch": torch_epoch}[framework]
    for label, n, d, classes, bs, epochs in WORKLOADS:
        print(f"{label}\t{f(n, d, classes, bs, epochs)}", flush=True)


def main():
    import subprocess
    import sys

    if len(sys.argv) == 3 and sys.argv[1] == "--only":
        return measure(sys.argv[2])
    results = {}
    for fw in ("keras", "torch"):
        r = subprocess.run([sys.executable, __file__, "--only", fw], capture_output=True, text=True)
        results[fw] = dict(line.split("\t") for line in r.stdout.splitlines() if "\t" in line)
        if r.returncode != 0:
            print(f"{fw}: failed or not installed ({r.stderr.strip().splitlines()[-1:] })")
    print(f"{'workload':<40} {'keras s/epoch':>14} {'torch s/epoch':>14}")
    for label, *_ in WORKLOADS:
        cells = [f"{float(results[fw][label]):>14.4f}" if label in results[fw] else f"{'n/a':>14}" for fw in ("keras", "torch")]
        print(f"{label:<40} {cells[0]} {cells[1]}")


if __name__ == "__main__":
    main()
