#!/usr/bin/env python3
"""Writes case09 (the lecture's MNIST-as-regression compile: one linear unit, loss mse,
metrics=['acc'], integer labels 0..9) with the generator of the other cases.

Usage: python make_case09.py SHARED_ORACLES_DIR [OUT_DIR]

SHARED_ORACLES_DIR holds make_oracles.py (the shared fixtures' generator, which this imports
for its helpers and its run_case); OUT_DIR defaults to this script's folder. Needs Keras 3
with the TensorFlow backend, as make_oracles.py does.

What it pins: Keras 3 accepts 'acc' as 'accuracy', names the history key 'acc', and for a
one-unit output picks binary accuracy (prediction > 0.5 compared with the label), so with
labels 0..9 only the 0s and 1s can ever count as right.
"""
import sys
from pathlib import Path

shared = Path(sys.argv[1]).resolve()
out_dir = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(__file__).resolve().parent
sys.path.insert(0, str(shared))
import make_oracles as mo  # noqa: E402
import numpy as np  # noqa: E402


def case09():
    rng = np.random.default_rng(909)
    n, d = 40, 8
    x = rng.uniform(0.0, 1.0, size=(n, d))
    y = rng.choice(np.arange(10), size=n, p=[0.3, 0.3] + [0.05] * 8).astype(np.int32)
    probe = rng.uniform(0.0, 1.0, size=(5, d))
    return dict(
        name="case09_linear_digit_regression_sgd_acc",
        description="Dense(1) on 8 inputs in [0, 1] with integer labels 0..9 (the lecture's "
                    "MNIST as regression), SGD lr 0.05, loss mse, metrics=['acc']; 40 rows, "
                    "batch 16 (partial last batch of 8).",
        input_dim=d, layers=[mo.dense(1)],
        optimizer=mo.optimizer_config("sgd", learning_rate=0.05),
        loss="mse", metrics=["acc"],
        x=x, y=y, probe=probe,
        fit=dict(epochs=4, batch_size=16), rng=rng)


mo.check_defaults()
fixture = mo.run_case(case09())
fixture["generator"]["script"] = "make_case09.py (with make_oracles.py's run_case)"
path = out_dir / f"{fixture['name']}.json"
path.write_text(mo.to_json(fixture) + "\n")
print(path, fixture["expected"]["history"], fixture["expected"]["evaluate"])
