"""Grading a class: 30 submissions of the grading assignment through `nbgrader autograde`, in
seconds per notebook, for the Rust (dl) kernel and for the same assignment written in
Python/Keras graded with IPython, in one run on this machine; and `dl-kernel run --grade`.

    python bench/grading_class.py --keras-python /path/to/venv/bin/python [--students 30]

The Rust course is notebooks/assignment/source/grading. The Python course is the same four
tasks and tests in numpy/Keras (written below); its environment (tensorflow-cpu, keras,
ipykernel, nbgrader) lives outside the repository and is named by --keras-python. Submissions
cycle through five kinds of student: right, untouched stubs, a mistake that does not compile (a
Python error when called), a panic (an exception), a leftover debug print to stderr.

Rows (seconds per notebook, whole class time divided by the students):
  rust, no spares     every kernel starts cold (DL_KERNEL_SPARE=0)
  rust, spares        warm spares, as a teacher's machine has them
  rust, run --grade   dl-kernel run --grade (--jobs 1 and 2)
  python/keras        IPython with Keras 3 on TensorFlow
Run it on an idle machine.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

REPO = Path(__file__).resolve().parent.parent
RUST_SOURCE = REPO / "notebooks/assignment/source/grading/grading.ipynb"


def meta(grade_id, grade=False, solution=False, locked=False, points=0):
    m = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3, "solution": solution, "task": False}
    if grade:
        m["points"] = points
    return {"nbgrader": m}


def python_source():
    """The assignment's four tasks and tests in Python with numpy and Keras."""
    cells = []

    def code(gid, text, **kw):
        c = new_code_cell(text)
        c.metadata.update(meta(gid, **kw))
        cells.append(c)

    code("load", "import os, numpy as np, keras\n"
         "data = np.load(os.path.join(os.environ['DL_DATASETS_DIR'], 'grading.npz'))\n"
         "x, y = data['x'], data['y']\nprint('x', x.shape, x.dtype, 'y', y.shape, y.dtype)", locked=True)
    code("column_stats", "def column_stats(x):\n    ### BEGIN SOLUTION\n    return x.mean(0), x.min(0), x.max(0)\n    ### END SOLUTION",
         solution=True)
    code("test_column_stats", "m, lo, hi = column_stats(np.array([[1.0, 10.0], [3.0, 30.0], [2.0, 5.0]]))\n"
         "assert (m == [2.0, 15.0]).all() and (lo == [1.0, 5.0]).all() and (hi == [3.0, 30.0]).all()\n"
         "### BEGIN HIDDEN TESTS\n_, lo, hi = column_stats(x)\nassert (lo >= 0).all() and hi[0] <= 40\n### END HIDDEN TESTS",
         grade=True, locked=True, points=2)
    code("grade_counts", "def grade_counts(y):\n    ### BEGIN SOLUTION\n    return list(np.bincount(y.ravel(), minlength=6))\n"
         "    ### END SOLUTION", solution=True)
    code("test_grade_counts", "assert grade_counts(np.array([[0], [5], [5], [2]])) == [1, 0, 1, 0, 0, 2]\n"
         "assert sum(grade_counts(y)) == len(y)", grade=True, locked=True, points=2)
    code("train_linear", "def train_linear(x, y, epochs):\n    ### BEGIN SOLUTION\n"
         "    xs = (x - x.mean(0)) / x.std(0)\n    keras.utils.set_random_seed(5)\n"
         "    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])\n"
         "    model.compile('sgd', 'mse', metrics=['mae'])\n"
         "    h = model.fit(xs, y.astype('float32'), epochs=epochs, batch_size=32, validation_split=0.2, verbose=0)\n"
         "    return model, h.history['val_mae'][-1]\n    ### END SOLUTION", solution=True)
    code("test_train_linear", "model, val_mae = train_linear(x, y, 10)\nassert val_mae < 0.5, val_mae\n"
         "### BEGIN HIDDEN TESTS\nassert (model.get_weights()[0] > 0).all()\n### END HIDDEN TESTS",
         grade=True, locked=True, points=3)
    code("accuracy", "def accuracy(preds, y):\n    ### BEGIN SOLUTION\n    return float(np.mean(np.round(preds) == y))\n"
         "    ### END SOLUTION", solution=True)
    code("test_accuracy", "small = accuracy(np.array([[0.9], [2.2], [3.6]]), np.array([[1], [2], [3]]))\n"
         "assert abs(small - 2 / 3) < 1e-9\nmodel, _ = train_linear(x, y, 20)\n"
         "preds = model.predict((x - x.mean(0)) / x.std(0), verbose=0)\nmin(3.0, 3.0 * accuracy(preds, y) / 0.6)",
         grade=True, locked=True, points=3)
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    return nb


# The kinds of student: (cell, old text, new text) edits of a right submission; None: untouched.
RUST_KINDS = [
    [],
    None,
    [("column_stats", "x.mean_axis(Axis(0)).unwrap()", "x.mean_axis(Axis(0))")],
    [("grade_counts", "counts[g as usize] += 1", "counts[g as usize + 1] += 1")],
    [("grade_counts", "    counts\n", "    dbg!(&counts);\n    counts\n")],
]
PY_KINDS = [
    [],
    None,
    [("column_stats", "x.mean(0), x.min(0)", "x.mean(0), x.minimum(0)")],
    [("grade_counts", "return list(np.bincount(y.ravel(), minlength=6))", "return [0] * 6 + [y[10 ** 6]]")],
    [("grade_counts", "    return list(", "    import sys; print(y.shape, file=sys.stderr)\n    return list(")],
]


def course(root, source_nb, config):
    (root / "source/ps1").mkdir(parents=True)
    nbformat.write(source_nb, root / "source/ps1/grading.ipynb")
    (root / "nbgrader_config.py").write_text(config)
    return root


def submissions(root, kinds, students, nbgrader):
    # nbgrader runs `alembic` from its environment's bin directory.
    env = dict(os.environ, PATH=str(Path(nbgrader[0]).parent) + os.pathsep + os.environ["PATH"])
    subprocess.run(nbgrader + ["generate_assignment", "ps1"], cwd=root, env=env, check=True, capture_output=True)
    src = nbformat.read(root / "source/ps1/grading.ipynb", 4)
    rel = nbformat.read(root / "release/ps1/grading.ipynb", 4)
    sol = {c.metadata.nbgrader["grade_id"]: c.source for c in src.cells if c.metadata.get("nbgrader", {}).get("solution")}
    for i in range(students):
        kind = kinds[i % len(kinds)]
        nb = nbformat.from_dict(json.loads(json.dumps(rel)))
        if kind is not None:
            cells = {c.metadata.nbgrader["grade_id"]: c for c in nb.cells if "nbgrader" in c.metadata}
            for gid, c in cells.items():
                if c.metadata.nbgrader.get("solution"):
                    c.source = sol[gid]
            for gid, old, new in kind:
                assert old in cells[gid].source, (gid, old)
                cells[gid].source = cells[gid].source.replace(old, new)
        d = root / "submitted" / f"s{i:02}" / "ps1"
        d.mkdir(parents=True)
        nbformat.write(nb, d / "grading.ipynb")


def timed(cmd, cwd, env):
    t = time.time()
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if r.returncode not in (0, 1, 2):
        print(r.stdout[-2000:], r.stderr[-2000:])
    return time.time() - t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--keras-python", required=True, help="python of an environment with tensorflow-cpu, keras, ipykernel, nbgrader")
    ap.add_argument("--students", type=int, default=30)
    args = ap.parse_args()
    kernel = os.environ.get("DL_KERNEL_BIN") or shutil.which("dl-kernel")
    assert kernel, "set DL_KERNEL_BIN to the dl-kernel binary"
    n = args.students
    bindir = str(Path(sys.executable).parent)
    env = dict(os.environ, PATH=bindir + os.pathsep + os.environ["PATH"])
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        rust_config = "c = get_config()\nc.CourseDirectory.course_id = 'rust'\n"
        for label, extra in [("rust, no spares", {"DL_KERNEL_SPARE": "0"}), ("rust, spares", {})]:
            root = course(tmp / label.replace(", ", "-").replace(" ", "_"), nbformat.read(RUST_SOURCE, 4), rust_config)
            subprocess.run([kernel, "nbgrader-config", str(root / "nbgrader_config.py")], check=True, capture_output=True)
            submissions(root, RUST_KINDS, n, [sys.executable, "-m", "nbgrader"])
            if not extra:
                subprocess.run([kernel, "spare", "--wait"], env=env, capture_output=True)
            secs = timed([sys.executable, "-m", "nbgrader", "autograde", "ps1"], root, dict(env, **extra))
            rows.append((label, secs / n))
        for jobs in (1, 2):
            root = tmp / "rust-spares"
            secs = timed([kernel, "run", "--grade", "--jobs", str(jobs), "--source", str(root / "source/ps1/grading.ipynb"),
                          "--report", str(tmp / f"grades-{jobs}")] + [str(p) for p in sorted(root.glob("submitted/*/ps1/grading.ipynb"))],
                         root, env)
            rows.append((f"rust, run --grade --jobs {jobs}", secs / n))
        kpy = args.keras_python
        kenv = dict(os.environ, PATH=str(Path(kpy).parent) + os.pathsep + os.environ["PATH"])
        subprocess.run([kpy, "-m", "ipykernel", "install", "--sys-prefix", "--name", "python3"], env=kenv, check=True, capture_output=True)
        root = course(tmp / "python", python_source(), "c = get_config()\nc.CourseDirectory.course_id = 'py'\n")
        submissions(root, PY_KINDS, n, [kpy, "-m", "nbgrader"])
        secs = timed([kpy, "-m", "nbgrader", "autograde", "ps1"], root, kenv)
        rows.append(("python/keras (IPython)", secs / n))
    print(f"grading {n} submissions with nbgrader autograde; seconds per notebook")
    for label, s in rows:
        print(f"  {label:<32} {s:6.2f}")


if __name__ == "__main__":
    main()
