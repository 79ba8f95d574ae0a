"""Grading with real nbgrader (its sqlite gradebook, in the test environment) on the Rust (dl)
kernel, and the same submissions through `dl-kernel run --grade`, which must give the same
points without Python.

The assignment is the course's grading exercise (notebooks/assignment/source/grading): four
functions to write, each with a locked test cell (2, 2, 3 and up to 3 points, the last one partial
credit), hidden tests in two of them, and a written answer graded by hand (2 points). The class:

    alice  everything right, the written answer given
    bob    the handed-out stubs, untouched
    carol  the first solution does not compile (a missing `.unwrap()`); a helper she wrote in the
           same cell, used by her fourth solution, does
    dave   a panic in the second solution (an index out of bounds)
    erin   an endless loop in the first solution (the cell's time limit stops it)
    frank  a `dbg!` left in the second solution
    grace  a wrong third solution, and its locked test cell edited to pass
    heidi  a file that is not a notebook (not valid JSON)

The points each earns, by nbgrader's rules (`nbgrader.utils.determine_grade`: a test cell with
an error or stderr output earns 0, one whose value is a number earns that many, any other earns
all its points; a written answer left as handed out earns 0, otherwise it waits for a grader),
with the kernel's rules for grading a compiled language fairly (dl-kernel/src/engine/fair.rs: a
cell that does not compile keeps its functions, as stubs that panic where they do not compile;
the cells that succeeded run again after a cell is stopped by force):
"""
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from conftest import REPO, dl_kernel_bin

SOURCE = REPO / "notebooks" / "assignment" / "source" / "grading" / "grading.ipynb"
TIMEOUT = 30  # per cell; nbgrader's default (the recommended configuration says 60)
TESTS = ["test_column_stats", "test_grade_counts", "test_train_linear", "test_accuracy"]
EXPECTED = {
    # test_column_stats, test_grade_counts, test_train_linear, test_accuracy, weights_answer
    "alice": [2, 2, 3, 3, None],  # the written answer waits for a grader
    "bob": [0, 0, 0, 0, 0],  # every stub panics (`todo!()`); the answer is left as handed out
    "carol": [0, 2, 3, 3, None],  # only the test of the function that does not compile fails:
    # her helper in the same cell is kept, so her `accuracy` works (without the rule: [0, 2, 3, 0])
    "dave": [2, 0, 3, 3, None],  # only the panicking function's test fails
    "erin": [0, 2, 3, 3, None],  # only the endless loop's test fails; the later cells still run
    "frank": [2, 2, 3, 3, None],  # the dbg! output is dropped (IgnorePattern)
    "grace": [2, 2, 0, 3, None],  # the teacher's test is back in place, and fails
}
GRADED = TESTS + ["weights_answer"]
HELPER = "\n\n/// The share `part / whole`.\nfn share(part: usize, whole: usize) -> f64 {\n    part as f64 / whole as f64\n}"


def nbgrader(course, *args, check=True):
    # nbgrader runs `alembic` from its environment's bin directory for the gradebook.
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    r = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env, capture_output=True, text=True,
                       timeout=1800)
    if check:
        assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return r


def replace(cell, old, new):
    assert old in cell.source, (old, cell.source)
    cell.source = cell.source.replace(old, new)


def make_submissions(course):
    src = nbformat.read(course / "source/ps1/grading.ipynb", 4)
    released = nbformat.read(course / "release/ps1/grading.ipynb", 4)
    solutions = {c.metadata.nbgrader["grade_id"]: c.source for c in src.cells if c.metadata.get("nbgrader", {}).get("solution")}

    def submission(*edits):
        nb = nbformat.from_dict(json.loads(json.dumps(released)))
        cells = {c.metadata.nbgrader["grade_id"]: c for c in nb.cells if "nbgrader" in c.metadata}
        for c in cells.values():
            if c.metadata.nbgrader.get("solution"):
                c.source = solutions[c.metadata.nbgrader["grade_id"]]
        for edit in edits:
            edit(cells)
        return nb

    class_ = {
        "alice": submission(),
        "bob": nbformat.from_dict(json.loads(json.dumps(released))),
        "carol": submission(
            lambda c: replace(c["column_stats"], "x.mean_axis(Axis(0)).unwrap()", "x.mean_axis(Axis(0))"),
            lambda c: setattr(c["column_stats"], "source", c["column_stats"].source + HELPER),
            lambda c: replace(c["accuracy"], "hits as f64 / y.len() as f64", "share(hits, y.len())"),
        ),
        "dave": submission(lambda c: replace(c["grade_counts"], "counts[g as usize] += 1", "counts[g as usize + 1] += 1")),
        "erin": submission(lambda c: replace(c["column_stats"], "    (mean, min, max)", "    loop {}\n    (mean, min, max)")),
        "frank": submission(lambda c: replace(c["grade_counts"], "    counts\n", "    dbg!(&counts);\n    counts\n")),
        "grace": submission(
            lambda c: replace(c["train_linear"], 'Ok((model, history.last("val_mae")?))', "Ok((model, 9.9))"),
            lambda c: replace(c["test_train_linear"], 'assert!(val_mae < 0.5, "validation mae {val_mae}");', "// passes"),
        ),
    }
    paths = {}
    for name, nb in class_.items():
        d = course / "submitted" / name / "ps1"
        d.mkdir(parents=True)
        nbformat.write(nb, d / "grading.ipynb")
        paths[name] = d / "grading.ipynb"
    d = course / "submitted" / "heidi" / "ps1"
    d.mkdir(parents=True)
    (d / "grading.ipynb").write_text('{"cells": [ this is not a notebook')
    paths["heidi"] = d / "grading.ipynb"
    return paths


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A course with the assignment released by nbgrader and the class's submissions."""
    course = tmp_path_factory.mktemp("course")
    (course / "source" / "ps1").mkdir(parents=True)
    shutil.copy(SOURCE, course / "source" / "ps1" / "grading.ipynb")
    (course / "nbgrader_config.py").write_text('c = get_config()\nc.CourseDirectory.course_id = "dl"\n')
    r = subprocess.run([dl_kernel_bin(), "nbgrader-config", str(course / "nbgrader_config.py")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    with open(course / "nbgrader_config.py", "a") as f:
        f.write(f"c.Execute.timeout = {TIMEOUT}\n")
    nbgrader(course, "generate_assignment", "ps1")
    paths = make_submissions(course)
    before = {name: (p.read_bytes(), p.stat().st_mtime_ns) for name, p in paths.items()}
    return course, paths, before


def test_the_released_assignment_has_stubs_and_no_solutions_or_hidden_tests(course):
    course, _, _ = course
    released = nbformat.read(course / "release/ps1/grading.ipynb", 4)
    text = "\n".join(c.source for c in released.cells)
    assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text
    assert "x.mean_axis(Axis(0)).unwrap()" not in text and "w[0].iter().all" not in text
    stubs = [c for c in released.cells if c.cell_type == "code" and c.metadata.nbgrader.get("solution")]
    assert len(stubs) == 4 and all("// YOUR CODE HERE\n    todo!()" in c.source for c in stubs), [c.source for c in stubs]


def test_nbgrader_grades_the_class_by_the_fair_rules_and_the_workflow_completes(course):
    course, paths, before = course
    r = nbgrader(course, "autograde", "ps1", check=False)
    log = r.stdout + r.stderr
    # heidi's file is reported, the rest of the class is graded.
    assert "There was an error processing assignment 'ps1' for student 'heidi'" in log, log[-3000:]
    assert "CellTimeoutError" not in log or "Removing failed assignment" not in log
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        got = {}
        for sub in gb.assignment_submissions("ps1"):
            if sub.student.id == "heidi":
                continue
            grades = {g.name: g.auto_score for g in sub.notebooks[0].grades}
            got[sub.student.id] = [grades[c] for c in GRADED]
    assert got == EXPECTED
    nbgrader(course, "generate_feedback", "ps1")
    for name in EXPECTED:
        html = (course / "feedback" / name / "ps1" / "grading.html").read_text()
        assert "test_column_stats" in html
    nbgrader(course, "export")
    rows = (course / "grades.csv").read_text().splitlines()
    scores = {row.split(",")[3]: float(row.split(",")[9]) for row in rows[1:]}
    assert {k: v for k, v in scores.items() if k != "heidi"} == {
        name: float(sum(p or 0 for p in points)) for name, points in EXPECTED.items()
    }
    for name, p in paths.items():
        assert (p.read_bytes(), p.stat().st_mtime_ns) == before[name], f"{name}'s submission was modified"


def test_dl_kernel_grades_the_same_points_without_python(course, tmp_path):
    course, paths, before = course
    report = tmp_path / "grades"
    r = subprocess.run(
        [dl_kernel_bin(), "run", "--grade", "--source", str(course / "source/ps1/grading.ipynb"), "--report", str(report),
         "--timeout", str(TIMEOUT), *[str(p) for p in paths.values()]],
        cwd=course, capture_output=True, text=True, timeout=1800,
    )
    assert r.returncode == 2, "a submission could not be graded: exit status 2\n" + r.stdout + r.stderr[-2000:]
    grades = json.loads((report / "grades.json").read_text())["submissions"]
    by_student = {g["student"]: g for g in grades}
    assert "not valid JSON" in by_student["heidi"]["error"] and not by_student["heidi"]["cells"]
    got = {name: [{c["grade_id"]: c["points"] for c in g["cells"]}[i] for i in GRADED]
           for name, g in by_student.items() if name != "heidi"}
    assert got == EXPECTED
    assert by_student["grace"]["changed_locked_cells"] == ["test_train_linear"]
    assert all(not g["changed_locked_cells"] for n, g in by_student.items() if n != "grace")
    rows = (report / "grades.csv").read_text().splitlines()
    assert rows[0] == "student,notebook,grade_id,points,max_points,status"
    assert any(re.match(r"carol,.*,test_column_stats,0,2,failed$", row) for row in rows), rows
    assert any(re.match(r"alice,.*,weights_answer,,2,manual$", row) for row in rows), rows
    assert "carol: 8 of 12 points (2 to grade by hand: weights_answer)" in r.stdout, r.stdout
    for name, p in paths.items():
        assert (p.read_bytes(), p.stat().st_mtime_ns) == before[name], f"{name}'s submission was modified"
