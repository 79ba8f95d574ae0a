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
  flood     a cell printing 300 000 lines (`for i in 0..300000 { println!("line {i}"); }`): its
            seconds and how many stream messages the client got (last run)
  rss       the kernel's resident memory after its first cell, with the processes it started
            (the process running cells; for dl-rust a warm spare is counted apart)
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

FLOOD = {
    "python3": 'for i in range(300000): print(f"line {i}")',
}
FLOOD_RUST = 'for i in 0..300000 { println!("line {i}"); }'

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
    rss = tree_rss(km.provisioner.process.pid) if km.provisioner and getattr(km.provisioner, "process", None) else None
    trivial = ([], [])
    for i in range(TRIVIAL_PAIRS):
        for kind, code in enumerate(trivial_pair(name, i)):
            t = time.time()
            r = kc.execute_interactive(code, timeout=600, output_hook=lambda m: None)
            trivial[kind].append(time.time() - t)
            assert r["content"]["status"] == "ok", r["content"]
    messages = []
    t = time.time()
    r = kc.execute_interactive(FLOOD.get(name, FLOOD_RUST), timeout=600,
                               output_hook=lambda m: messages.append(m) if m["msg_type"] == "stream" else None)
    flood = (time.time() - t, len(messages))
    assert r["content"]["status"] == "ok", r["content"]
    kc.stop_channels()
    km.shutdown_kernel(now=True)
    return ready, first, trivial, flood, rss


def tree_rss(pid):
    """Resident memory of `pid` and its descendants, in MB (from /proc)."""
    def children(p):
        # Listed per thread that started them: evcxr starts the cell process from another thread.
        out = []
        try:
            tasks = os.listdir(f"/proc/{p}/task")
        except OSError:
            return out
        for t in tasks:
            try:
                out += [int(c) for c in open(f"/proc/{p}/task/{t}/children").read().split()]
            except OSError:
                pass
        return out
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            total += int(next(l for l in open(f"/proc/{p}/status") if l.startswith("VmRSS:")).split()[1])
        except (OSError, StopIteration):
            pass
        todo.extend(children(p))
    return total / 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    installed = KernelSpecManager().find_kernel_specs()
    print(f"{'kernel':<14} {'ready':>8} {'first':>8} {'trivial (let)':>14} {'trivial (expr)':>15} "
          f"{'flood':>8} {'messages':>9} {'rss MB':>7}")
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
        # With a spare, the process Jupyter started is a stand-in and the kernel is not its child.
        rss = None if mode == "spare" else runs[-1][4]
        shown_rss = "-" if rss is None else str(round(rss))
        print(f"{label:<14} {med([r[0] for r in runs]):>7.2f}s {med([r[1] for r in runs]):>7.2f}s "
              f"{med([t for r in runs for t in r[2][0]]):>13.2f}s {med([t for r in runs for t in r[2][1]]):>14.2f}s "
              f"{med([r[3][0] for r in runs]):>7.2f}s {runs[-1][3][1]:>9} {shown_rss:>7}")
        if mode == "cold" and dl_kernel:
            subprocess.run([dl_kernel, "spare", "--wait"], check=True, capture_output=True)
            spare = [int(p) for p in os.popen("pgrep -f 'dl-kernel kernel --spare'").read().split()]
            print(f"{'(a waiting spare)':<14} {'':>60} {round(sum(tree_rss(p) for p in spare)):>7}")
            subprocess.run([dl_kernel, "spare", "--stop"], capture_output=True)


if __name__ == "__main__":
    main()
