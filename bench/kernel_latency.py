"""Kernel latency, measured in one run for the Rust (dl) kernel and, where it is installed,
evcxr_jupyter (kernelspec "rust"), with IPython for reference when ipykernel is installed.

    python bench/kernel_latency.py [--runs 3]

Prints, per kernel (medians over the runs, each run a fresh kernel); the Rust (dl) kernel twice:
"cold" with spares off (DL_KERNEL_SPARE=0), as the first kernel after a reboot starts, and
"spare" with a warm spare waiting (`dl-kernel spare --wait` before each run), as every later
kernel starts:
  ready     process start to the kernel_info reply
  first     process start to the result of the first cell that builds and trains a small model
            (dl-core's Sequential; ndarray for evcxr; numpy for IPython)
  trivial   `let yN = 7;` and then `yN * 2` (`yN = 7`, `yN * 2` in IPython), each its own cell,
            8 such pairs per kernel (medians over all pairs of all runs)
Run it on an idle machine: a parallel build makes every number meaningless.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import time

from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import start_new_kernel

FIRST = {
    "dl-rust": (
        "let mut m = Sequential::new();\nm.add(Dense::new(8).activation(\"relu\").input_dim(4));\nm.add(Dense::new(1));\n"
        "m.compile(\"adam\", \"mse\", &[])?;\nlet xs = Array2::<f32>::ones((64, 4));\nlet ys = Array1::<f32>::ones(64);\n"
        "m.fit_with(&xs, &ys, FitOptions { epochs: 2, verbose: 0, ..Default::default() })?.get(\"loss\")?.len()"
    ),
    "rust": ":dep ndarray = \"0.16\"\nlet a = ndarray::Array2::<f32>::ones((64, 4));\nlet b = a.t().dot(&a);\nb.sum()",
    "python3": "import numpy as np\na = np.ones((64, 4), dtype=np.float32)\n(a.T @ a).sum()",
}
TRIVIAL_PAIRS = 8


def trivial_pair(name, i):
    if name == "python3":
        return [f"y{i} = 7", f"y{i} * 2"]
    return [f"let y{i} = 7;", f"y{i} * 2"]


def one_run(name, env=None):
    t0 = time.time()
    km, kc = start_new_kernel(kernel_name=name, startup_timeout=600, **({"env": env} if env else {}))
    ready = time.time() - t0
    r = kc.execute_interactive(FIRST[name], timeout=600, output_hook=lambda m: None)
    first = time.time() - t0
    assert r["content"]["status"] == "ok", r["content"]
    trivial = ([], [])
    for i in range(TRIVIAL_PAIRS):
        for kind, code in enumerate(trivial_pair(name, i)):
            t = time.time()
            r = kc.execute_interactive(code, timeout=600, output_hook=lambda m: None)
            trivial[kind].append(time.time() - t)
            assert r["content"]["status"] == "ok", r["content"]
    kc.stop_channels()
    km.shutdown_kernel(now=True)
    return ready, first, trivial


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    installed = KernelSpecManager().find_kernel_specs()
    print(f"{'kernel':<14} {'ready':>8} {'first':>8} {'trivial (let)':>14} {'trivial (expr)':>15}")
    dl_kernel = os.environ.get("DL_KERNEL_BIN") or shutil.which("dl-kernel")
    if dl_kernel:
        subprocess.run([dl_kernel, "spare", "--stop"], capture_output=True)
    rows = [("dl-rust", "cold"), ("dl-rust", "spare"), ("rust", ""), ("python3", "")]
    for name, mode in rows:
        label = f"{name} {mode}".strip()
        if name not in installed or (mode == "spare" and not dl_kernel):
            print(f"{label:<14} not installed" + (" (set DL_KERNEL_BIN)" if mode == "spare" else ""))
            continue
        runs = []
        for _ in range(args.runs):
            env = None
            if mode == "cold":
                env = dict(os.environ, DL_KERNEL_SPARE="0")
            elif mode == "spare":
                subprocess.run([dl_kernel, "spare", "--wait"], check=True, capture_output=True)
                time.sleep(1)
            runs.append(one_run(name, env))
        if mode == "spare":
            subprocess.run([dl_kernel, "spare", "--stop"], check=True, capture_output=True)
        med = lambda xs: statistics.median(xs)
        print(f"{label:<14} {med([r[0] for r in runs]):>7.2f}s {med([r[1] for r in runs]):>7.2f}s "
              f"{med([t for r in runs for t in r[2][0]]):>13.2f}s {med([t for r in runs for t in r[2][1]]):>14.2f}s")


if __name__ == "__main__":
    main()
