//! `dl-kernel run --grade`: grades submitted nbgrader assignments without Python, by nbgrader's
//! rules ([`rules`]), and writes per-student, per-cell points ([`report`]).
//!
//! For each submission, as `nbgrader autograde` does: outputs are cleared; with `--source` (the
//! teacher's source notebook), every locked cell gets the teacher's text back (hidden tests
//! included) and a locked cell the student changed is reported; every code cell runs, in grading
//! mode (see `crate::engine::fair`), errors or not, each within the time limit; stderr output that
//! only holds `dbg!` lines is dropped ([`nbgrader_config::DBG_PATTERN`], nbgrader's
//! `IgnorePattern` as the recommended configuration sets it); then each grade cell is scored.
//! Without `--source`, a locked cell whose text no longer matches the checksum nbgrader stored
//! in it is reported and earns nothing (it cannot be restored). A submission that cannot be
//! read is reported and the others are graded. No submission file is changed.

pub mod nbgrader_config;
pub mod report;
pub mod rules;

use crate::engine::{Engine, Event, Outcome};
use crate::notebook::{self, load};
use crate::runner::cells::{run_cells, write_outputs, CellRun, OnError};
use crate::runner::{enter_notebook_dir, for_each_with_engine, save};
use anyhow::{Context, Result};
use report::{CellScore, Status, SubmissionReport};
use rules::{Grade, Output};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Options of `dl-kernel run --grade`.
#[derive(Debug, Clone)]
pub struct GradeOptions {
    /// The teacher's source notebook (solutions, tests, hidden tests).
    pub source: Option<PathBuf>,
    /// Where `grades.csv` and `grades.json` go.
    pub report_dir: PathBuf,
    /// Where the graded notebooks go (`<dir>/<student>/<notebook>`), if anywhere.
    pub output_dir: Option<PathBuf>,
    /// Per-cell time limit.
    pub timeout: Duration,
    /// Submissions graded at once.
    pub jobs: usize,
}

/// The default time limit of a cell while grading.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// Grades every submission; prints a line per student; writes the reports. Returns the exit
/// status: 0 when every submission earned all its automatic points, 1 when some lost points,
/// 2 when some could not be graded.
///
/// # Errors
/// When the source notebook cannot be read or the reports cannot be written.
pub fn grade_all(paths: &[PathBuf], opts: &GradeOptions) -> Result<i32> {
    crate::engine::fair::set_grading(true);
    let source = match &opts.source {
        Some(p) => Some(load(p).with_context(|| format!("the source notebook {}", p.display()))?),
        None => None,
    };
    let loaded: Vec<(PathBuf, Result<Value>)> = paths.iter().map(|p| (p.clone(), load(p))).collect();
    let reports = for_each_with_engine(
        &loaded,
        opts.jobs,
        |(_, nb)| nb.is_ok(),
        |(path, nb), engine| {
            let student = student_of(path);
            let r = match (nb, engine) {
                (Ok(nb), Some(Ok(engine))) => grade_one(path, &student, nb.clone(), engine, source.as_ref(), opts),
                (Ok(_), Some(Err(e))) => SubmissionReport::failed(&student, path, format!("no engine: {e:#}")),
                (Err(e), _) => SubmissionReport::failed(&student, path, format!("{e:#}")),
                (Ok(_), None) => SubmissionReport::failed(&student, path, "no engine".into()),
            };
            println!("{}", r.summary_line());
            r
        },
    );
    report::write(&opts.report_dir, &reports)?;
    println!("grades written to {}", opts.report_dir.display());
    Ok(if reports.iter().any(|r| r.error.is_some()) {
        2
    } else if reports.iter().any(|r| r.score < r.max_score) {
        1
    } else {
        0
    })
}

/// The student a submission belongs to: the folder two levels up (nbgrader's
/// `submitted/<student>/<assignment>/<notebook>.ipynb`), else the notebook's name.
pub fn student_of(path: &Path) -> String {
    let up2 = path.parent().and_then(Path::parent).and_then(Path::file_name);
    match up2 {
        Some(s) if path.components().count() >= 3 => s.to_string_lossy().into_owned(),
        _ => path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default(),
    }
}

fn grade_one(
    path: &Path,
    student: &str,
    mut nb: Value,
    mut engine: Engine,
    source: Option<&Value>,
    opts: &GradeOptions,
) -> SubmissionReport {
    let start = Instant::now();
    let prepared = prepare(&mut nb, source);
    enter_notebook_dir(&mut engine, path);
    let (runs, _) = run_cells(&mut engine, &nb, OnError::Continue, Some(opts.timeout));
    drop(engine);
    let mut cells = score(&nb, &runs, &prepared);
    for (id, max) in &prepared.missing {
        cells.push(CellScore { grade_id: id.clone(), points: Some(0.0), max_points: *max, status: Status::Missing });
    }
    let mut report = SubmissionReport::new(student, path, cells, prepared.changed, start.elapsed().as_secs_f64());
    if let Some(dir) = &opts.output_dir {
        write_outputs(&mut nb, &runs);
        let dest = dir.join(student).join(path.file_name().unwrap_or_default());
        if let Err(e) = std::fs::create_dir_all(dest.parent().unwrap_or(dir))
            .map_err(anyhow::Error::from)
            .and_then(|_| save(&nb, &dest))
        {
            report.error = Some(format!("graded, but the graded notebook could not be written: {e:#}"));
        }
    }
    report
}

/// What preparing a submission found.
#[derive(Default)]
struct Prepared {
    /// Locked cells the student changed (restored with `--source`).
    changed: Vec<String>,
    /// Changed locked cells that could not be restored: they earn nothing.
    untrusted: Vec<String>,
    /// Grade cells of the source missing from the submission, with their points.
    missing: Vec<(String, f64)>,
}

/// Clears outputs and, with the source, restores locked cells as `OverwriteCells` does.
fn prepare(nb: &mut Value, source: Option<&Value>) -> Prepared {
    let mut found = Prepared::default();
    let by_id: BTreeMap<String, &Value> = source
        .and_then(|s| s["cells"].as_array())
        .map(|cells| cells.iter().filter_map(|c| Some((rules::grade_id(c)?.to_string(), c))).collect())
        .unwrap_or_default();
    let Some(cells) = nb["cells"].as_array_mut() else { return found };
    let mut seen = Vec::new();
    for cell in cells.iter_mut() {
        if cell["cell_type"] == "code" {
            cell["outputs"] = Value::Array(Vec::new());
            cell["execution_count"] = Value::Null;
        }
        let Some(id) = rules::grade_id(cell).map(str::to_string) else { continue };
        seen.push(id.clone());
        if source.is_none() {
            if rules::is_locked(cell) && rules::stored_checksum(cell).is_some_and(|c| c != rules::checksum(cell)) {
                found.changed.push(id.clone());
                found.untrusted.push(id);
            }
            continue;
        }
        let Some(original) = by_id.get(&id) else {
            // nbgrader drops the id of a cell it does not know: the cell is not graded.
            if let Some(m) = cell["metadata"]["nbgrader"].as_object_mut() {
                m.remove("grade_id");
            }
            continue;
        };
        let mut meta = original["metadata"]["nbgrader"].clone();
        if let (Some(m), Some(sum)) = (meta.as_object_mut(), cell["metadata"]["nbgrader"].get("checksum").cloned()) {
            m.insert("checksum".into(), sum);
        }
        cell["metadata"]["nbgrader"] = meta;
        cell["cell_type"] = original["cell_type"].clone();
        if rules::is_locked(original) {
            let teacher = notebook::source(original);
            let given = notebook::source(cell);
            if given != rules::without_hidden_tests(&teacher) && given != teacher {
                found.changed.push(id);
            }
            cell["source"] = Value::String(teacher);
        }
    }
    for (id, c) in &by_id {
        if rules::is_grade(c) && !seen.contains(id) {
            found.missing.push((id.clone(), rules::points(c)));
        }
    }
    found
}

/// The score of every grade cell of the graded notebook.
fn score(nb: &Value, runs: &[CellRun], prepared: &Prepared) -> Vec<CellScore> {
    let ignore = nbgrader_config::dbg_pattern();
    let cells = nb["cells"].as_array().map(Vec::as_slice).unwrap_or_default();
    let mut out = Vec::new();
    for (index, cell) in cells.iter().enumerate() {
        if !rules::is_grade(cell) {
            continue;
        }
        let Some(id) = rules::grade_id(cell) else { continue };
        let max = rules::points(cell);
        let (points, status) = if prepared.untrusted.iter().any(|u| u == id) {
            (Some(0.0), Status::Changed)
        } else {
            match grade(cell, runs.iter().find(|r| r.index == index), max, &ignore) {
                Ok(Grade::Auto(p)) if p >= max => (Some(p), Status::Passed),
                Ok(Grade::Auto(p)) if p > 0.0 => (Some(p), Status::Partial),
                Ok(Grade::Auto(p)) => (Some(p), Status::Failed),
                Ok(Grade::Unanswered) => (Some(0.0), Status::Unanswered),
                Ok(Grade::Manual) => (None, Status::Manual),
                Err(e) => {
                    log::warn!("{id}: {e}");
                    (Some(0.0), Status::Failed)
                }
            }
        };
        out.push(CellScore { grade_id: id.to_string(), points, max_points: max, status });
    }
    out
}

/// `determine_grade` for one grade cell, from what it did when it ran.
fn grade(cell: &Value, run: Option<&CellRun>, max: f64, ignore: &regex::Regex) -> Result<Grade, String> {
    if rules::is_solution(cell) {
        let unanswered = rules::stored_checksum(cell).is_some_and(|c| c == rules::checksum(cell));
        return Ok(if unanswered { Grade::Unanswered } else { Grade::Manual });
    }
    if cell["cell_type"] != "code" {
        return Ok(Grade::Manual);
    }
    let Some(run) = run else { return Ok(Grade::Auto(max)) };
    let mut outputs: Vec<Output<'_>> = run
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Stderr(t) if ignore.is_match(t) => None,
            Event::Stderr(_) => Some(Output::Stream { stderr: true }),
            Event::Stdout(_) => Some(Output::Stream { stderr: false }),
            _ => Some(Output::Other),
        })
        .collect();
    if let Some(plain) = run.value.get("text/plain") {
        outputs.push(Output::Result { plain });
    }
    if matches!(run.outcome, Outcome::Error { .. }) {
        outputs.push(Output::Error);
    }
    rules::grade_from_outputs(&outputs, max).map(Grade::Auto)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_student_is_the_folder_of_nbgraders_layout_or_the_file() {
        assert_eq!(student_of(Path::new("submitted/alice/ps1/grading.ipynb")), "alice");
        assert_eq!(student_of(Path::new("/x/submitted/bob/ps1/grading.ipynb")), "bob");
        assert_eq!(student_of(Path::new("carol.ipynb")), "carol");
        assert_eq!(student_of(Path::new("hand-in/dave.ipynb")), "dave");
    }

    #[test]
    fn a_changed_locked_cell_is_restored_with_its_hidden_tests_and_reported() {
        let meta = |id: &str| json!({"nbgrader": {"grade": true, "grade_id": id, "locked": true, "points": 1, "solution": false}});
        let teacher = "check();\n// BEGIN HIDDEN TESTS\nsecret();\n// END HIDDEN TESTS";
        let source = json!({"cells": [
            {"cell_type": "code", "source": teacher, "metadata": meta("t1"), "outputs": []},
            {"cell_type": "code", "source": "other();", "metadata": meta("t2"), "outputs": []},
            {"cell_type": "code", "source": "gone();", "metadata": meta("t3"), "outputs": []},
        ]});
        let mut nb = json!({"cells": [
            {"cell_type": "code", "source": "check();", "metadata": meta("t1"), "outputs": [{"output_type": "stream"}]},
            {"cell_type": "code", "source": "// nothing to see", "metadata": meta("t2"), "outputs": []},
        ]});
        let p = prepare(&mut nb, Some(&source));
        assert_eq!(p.changed, vec!["t2".to_string()]);
        assert_eq!(p.missing, vec![("t3".to_string(), 1.0)]);
        assert_eq!(nb["cells"][0]["source"], teacher);
        assert_eq!(nb["cells"][1]["source"], "other();");
        assert_eq!(nb["cells"][0]["outputs"], json!([]));
    }

    #[test]
    fn without_the_source_a_changed_locked_cell_is_not_trusted() {
        let mut cell = json!({"cell_type": "code", "source": "assert!(ok());",
            "metadata": {"nbgrader": {"grade": true, "grade_id": "t", "locked": true, "points": 2, "solution": false}}, "outputs": []});
        let sum = rules::checksum(&cell);
        cell["metadata"]["nbgrader"]["checksum"] = json!(sum);
        cell["source"] = json!("// assert!(ok());");
        let mut nb = json!({"cells": [cell]});
        let p = prepare(&mut nb, None);
        assert_eq!(p.untrusted, vec!["t".to_string()]);
    }
}
