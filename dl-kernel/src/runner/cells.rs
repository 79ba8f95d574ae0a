//! Running a notebook's code cells in order on one engine: the cells' events, values and
//! outcomes, and writing them back into the notebook as nbformat 4 outputs.

use crate::engine::{Engine, Event, Outcome};
use crate::notebook::{source, tags, NotebookOutputs};
use dl_core::kernel_protocol::MimeBundle;
use serde_json::Value;
use std::time::{Duration, Instant};

/// What one code cell did.
pub struct CellRun {
    /// The cell's index in the notebook.
    pub index: usize,
    /// Its execution count.
    pub count: u64,
    /// Its output as it came (text batched as the kernel sends it).
    pub events: Vec<Event>,
    /// Its value (`execute_result`), if any.
    pub value: MimeBundle,
    /// How it ended; a cell stopped by the time limit is a `CellTimeoutError`.
    pub outcome: Outcome,
}

/// What to do after a cell fails.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum OnError {
    /// Stop, as `jupyter nbconvert --execute` does, unless the cell is tagged `raises-exception`.
    Stop,
    /// Run every cell, as nbgrader does.
    Continue,
}

/// Runs the code cells of `nb` (not those tagged `skip-execution`); returns what each did and,
/// when it stopped at a failure, a description of it.
pub fn run_cells(
    engine: &mut Engine,
    nb: &Value,
    on_error: OnError,
    timeout: Option<Duration>,
) -> (Vec<CellRun>, Option<String>) {
    let interrupter = engine.interrupter(Duration::from_secs(3));
    let mut runs = Vec::new();
    let mut count = 0;
    let cells = nb["cells"].as_array().map(Vec::as_slice).unwrap_or_default();
    for (index, cell) in cells.iter().enumerate() {
        if cell["cell_type"] != "code" || tags(cell).iter().any(|t| t == "skip-execution") {
            continue;
        }
        let code = source(cell);
        count += 1;
        let timer = timeout.map(|t| {
            let intr = interrupter.clone();
            let (tx, rx) = std::sync::mpsc::channel::<()>();
            std::thread::spawn(move || {
                if rx.recv_timeout(t) == Err(std::sync::mpsc::RecvTimeoutError::Timeout) {
                    intr.interrupt();
                }
            });
            tx
        });
        let start = Instant::now();
        let mut events = Vec::new();
        let r = engine.execute(&code, &mut |e| events.push(e));
        drop(timer);
        engine.catch_up();
        let mut outcome = r.outcome;
        if let (Some(t), Outcome::Error { ename, evalue, .. }) = (timeout, &mut outcome) {
            if start.elapsed() >= t {
                *ename = "CellTimeoutError".into();
                *evalue = format!("the cell ran longer than {:.0} s and was interrupted: {evalue}", t.as_secs_f64());
            }
        }
        let failed = matches!(outcome, Outcome::Error { .. }) && !tags(cell).iter().any(|t| t == "raises-exception");
        let stop = failed && on_error == OnError::Stop;
        let failure = stop.then(|| match &outcome {
            Outcome::Error { ename, evalue, .. } => {
                let first_line: String = code.lines().next().unwrap_or("").chars().take(60).collect();
                format!("at cell {} ({first_line:?}): {ename}: {evalue}", index + 1)
            }
            Outcome::Ok => String::new(),
        });
        runs.push(CellRun { index, count, events, value: r.value, outcome });
        if failure.is_some() {
            return (runs, failure);
        }
    }
    (runs, None)
}

/// Writes the cells' outputs and execution counts into `nb`; only those fields change.
pub fn write_outputs(nb: &mut Value, runs: &[CellRun]) {
    for run in runs {
        let mut outs = NotebookOutputs::default();
        for e in &run.events {
            outs.push(e.clone());
        }
        if !run.value.is_empty() {
            outs.result(run.count, run.value.clone());
        }
        if let Outcome::Error { ename, evalue, traceback } = &run.outcome {
            outs.error(ename, evalue, traceback);
        }
        let cell = &mut nb["cells"][run.index];
        cell["outputs"] = Value::Array(outs.into_vec());
        cell["execution_count"] = Value::from(run.count);
    }
}
