"""The course's training workloads in Keras and in a hand-written PyTorch loop, on the same
synthetic data shapes as `dl-bench`, measured in one run: seconds per epoch after the first; and
numpy's matmul (its BLAS, OpenBLAS in the wheels) on dl-bench's matrix-product shapes, on one
thread and on all, in GFLOP/s.

    python bench/frameworks.py            # needs numpy; tensorflow(-cpu), keras and torch for their rows

Put the output beside `cargo run --release -p dl-bench` run just before or after, on
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


# dl-bench's shapes: (label, m, k, n, A transposed, B transposed).
SHAPES = [
    ("(64,784,10)", 64, 784, 10, False, False),
    ("(64,784,512)", 64, 784, 512, False, False),
    ("(128,784,512)", 128, 784, 512, False, False),
    ("(64,512,10)", 64, 512, 10, False, False),
    ("(256)^3", 256, 256, 256, False, False),
    ("(512)^3", 512, 512, 512, False, False),
    ("(1024)^3", 1024, 1024, 1024, False, False),
    ("(2048)^3", 2048, 2048, 2048, False, False),
    ("(784,64)T x (64,512)", 784, 64, 512, True, False),
    ("(784,128)T x (128,512)", 784, 128, 512, True, False),
    ("(64,512) x (512,784)T", 64, 512, 784, False, True),
    ("(512,128)T x (128,10)", 512, 128, 10, True, False),
    ("(128,10) x (10,512)T", 128, 10, 512, False, True),
]


def numpy_matmul():
    """GFLOP/s of `a @ b` into a preallocated C (best of repeated calls over 0.4 s, as dl-bench),
    transposed operands as views, as in backprop."""
    rng = np.random.default_rng(7)
    for label, m, k, n, at, bt in SHAPES:
        a = rng.uniform(-1, 1, (k, m) if at else (m, k)).astype(np.float32)
        b = rng.uniform(-1, 1, (n, k) if bt else (k, n)).astype(np.float32)
        a, b = (a.T if at else a), (b.T if bt else b)
        c = np.empty((m, n), np.float32)
        np.matmul(a, b, out=c)
        best, start, reps = float("inf"), time.perf_counter(), 0
        while reps < 3 or time.perf_counter() - start < 0.4:
            t = time.perf_counter()
            np.matmul(a, b, out=c)
            best = min(best, time.perf_counter() - t)
            reps += 1
        print(f"{label}\t{2 * m * n * k / best / 1e9}", flush=True)


def measure(framework):
    """One framework in its own process: TensorFlow and PyTorch each bundle LLVM, and loading
    both into one process aborts."""
    if framework == "numpy":
        return numpy_matmul()
    f = {"keras": keras_epoch, "torch": torch_epoch}[framework]
    for label, n, d, classes, bs, epochs in WORKLOADS:
        print(f"{label}\t{f(n, d, classes, bs, epochs)}", flush=True)


def main():
    import subprocess
    import sys

    if len(sys.argv) == 3 and sys.argv[1] == "--only":
        return measure(sys.argv[2])
    # numpy's BLAS reads its thread count when it loads: one process per count.
    gflops = {}
    for threads in (1, os.cpu_count()):
        env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
        r = subprocess.run([sys.executable, __file__, "--only", "numpy"], capture_output=True, text=True, env=env)
        gflops[threads] = dict(line.split("\t") for line in r.stdout.splitlines() if "\t" in line)
    print(f"numpy {np.__version__} matmul, GFLOP/s")
    print(f"{'shape':<24} {'threads':>7} {'numpy':>9}")
    for threads, rows in gflops.items():
        for label, *_ in SHAPES:
            print(f"{label:<24} {threads:>7} {float(rows.get(label, 'nan')):>9.1f}")
    print()
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
