//! The grades: one row per student and grade cell in `grades.csv`, and everything in
//! `grades.json` (per student: score, maximum, each cell's points and status, changed locked
//! cells, or why the submission could not be graded).

use anyhow::{Context, Result};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// How a grade cell came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// All its points.
    Passed,
    /// Some of its points (partial credit).
    Partial,
    /// No points: an error, or output on stderr.
    Failed,
    /// A solution left as it was handed out.
    Unanswered,
    /// To be graded by hand.
    Manual,
    /// A locked cell the student changed, which could not be restored.
    Changed,
    /// Not in the submission.
    Missing,
}

/// One grade cell's score.
#[derive(Debug, Clone, Serialize)]
pub struct CellScore {
    pub grade_id: String,
    /// `None` until graded by hand.
    pub points: Option<f64>,
    pub max_points: f64,
    pub status: Status,
}

/// One submission's grades.
#[derive(Debug, Clone, Serialize)]
pub struct SubmissionReport {
    pub student: String,
    pub notebook: PathBuf,
    /// Points earned automatically.
    pub score: f64,
    /// Points to earn, all cells (those graded by hand included).
    pub max_score: f64,
    /// The automatic cells' points to earn.
    pub auto_max_score: f64,
    pub cells: Vec<CellScore>,
    /// Locked cells the student changed.
    pub changed_locked_cells: Vec<String>,
    /// Why the submission could not be graded (or its graded copy not written).
    pub error: Option<String>,
    pub seconds: f64,
}

impl SubmissionReport {
    pub fn new(student: &str, notebook: &Path, cells: Vec<CellScore>, changed: Vec<String>, seconds: f64) -> Self {
        let score = cells.iter().filter_map(|c| c.points).sum();
        let max_score = cells.iter().map(|c| c.max_points).sum();
        let auto_max_score = cells.iter().filter(|c| c.status != Status::Manual).map(|c| c.max_points).sum();
        SubmissionReport {
            student: student.into(),
            notebook: notebook.into(),
            score,
            max_score,
            auto_max_score,
            cells,
            changed_locked_cells: changed,
            error: None,
            seconds,
        }
    }

    /// A submission that could not be graded.
    pub fn failed(student: &str, notebook: &Path, error: String) -> Self {
        let mut r = SubmissionReport::new(student, notebook, Vec::new(), Vec::new(), 0.0);
        r.error = Some(error);
        r
    }

    /// One line for the terminal.
    pub fn summary_line(&self) -> String {
        if self.cells.is_empty() {
            if let Some(e) = &self.error {
                return format!("{}: NOT GRADED ({}): {e}", self.student, self.notebook.display());
            }
        }
        let mut line = format!("{}: {} of {} points", self.student, fmt_points(self.score), fmt_points(self.max_score));
        let manual: Vec<&CellScore> = self.cells.iter().filter(|c| c.status == Status::Manual).collect();
        if !manual.is_empty() {
            let points: f64 = manual.iter().map(|c| c.max_points).sum();
            let ids: Vec<&str> = manual.iter().map(|c| c.grade_id.as_str()).collect();
            line += &format!(" ({} to grade by hand: {})", fmt_points(points), ids.join(", "));
        }
        let lost: Vec<String> = self
            .cells
            .iter()
            .filter(|c| {
                matches!(
                    c.status,
                    Status::Failed | Status::Partial | Status::Unanswered | Status::Changed | Status::Missing
                )
            })
            .map(|c| format!("{} {:?}", c.grade_id, c.status).to_lowercase())
            .collect();
        if !lost.is_empty() {
            line += &format!("; lost: {}", lost.join(", "));
        }
        if !self.changed_locked_cells.is_empty() {
            line += &format!("; changed locked cells: {}", self.changed_locked_cells.join(", "));
        }
        if let Some(e) = &self.error {
            line += &format!("; {e}");
        }
        format!("{line} ({:.1}s)", self.seconds)
    }
}

fn fmt_points(p: f64) -> String {
    let s = format!("{p:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Writes `grades.csv` and `grades.json` into `dir`.
///
/// # Errors
/// When the files cannot be written.
pub fn write(dir: &Path, reports: &[SubmissionReport]) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut csv = csv::Writer::from_path(dir.join("grades.csv"))?;
    csv.write_record(["student", "notebook", "grade_id", "points", "max_points", "status"])?;
    for r in reports {
        let nb = r.notebook.to_string_lossy();
        if let Some(e) = r.error.as_ref().filter(|_| r.cells.is_empty()) {
            csv.write_record([r.student.as_str(), &nb, "", "", "", &format!("not graded: {e}")])?;
        }
        for c in &r.cells {
            let points = c.points.map(|p| p.to_string()).unwrap_or_default();
            let status = serde_json::to_value(c.status)?.as_str().unwrap_or_default().to_string();
            csv.write_record([r.student.as_str(), &nb, &c.grade_id, &points, &c.max_points.to_string(), &status])?;
        }
    }
    csv.flush()?;
    let json = serde_json::to_string_pretty(&serde_json::json!({ "submissions": reports }))?;
    std::fs::write(dir.join("grades.json"), json + "\n")?;
    Ok(())
}
