//! `dl-kernel run NOTEBOOK...`: executes every code cell in order, in-process with the kernel's
//! engine (no Python, no Jupyter server), and writes the outputs back as nbformat 4.
//!
//! Like `jupyter nbconvert --execute`: execution stops at the first failing cell unless it is
//! tagged `raises-exception`; cells tagged `skip-execution` are left as they are; `--timeout`
//! interrupts a cell that runs too long. The notebook is read as JSON and only cells' `outputs`
//! and `execution_count` change, so every other field survives as it was. A file that is not
//! JSON or not nbformat 4 is reported and left untouched.

use crate::engine::{Engine, Outcome};
use crate::notebook::{load, source, tags, NotebookOutputs};
use anyhow::{Context, Result};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Options of `dl-kernel run`.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Write executed notebooks here instead of in place.
    pub output_dir: Option<PathBuf>,
    /// Per-cell time limit.
    pub timeout: Option<Duration>,
}

/// How one notebook went.
#[derive(Debug)]
pub struct Report {
    pub cells: usize,
    pub failed: Option<String>,
    pub seconds: f64,
}

/// Runs each notebook; prints one line per notebook; returns whether all succeeded.
pub fn run_all(paths: &[PathBuf], opts: &RunOptions) -> bool {
    let mut ok = true;
    for p in paths {
        match run_one(p, opts) {
            Ok(r) if r.failed.is_none() => println!("{}: ok, {} code cells in {:.1}s", p.display(), r.cells, r.seconds),
            Ok(r) => {
                ok = false;
                println!("{}: FAILED {}", p.display(), r.failed.unwrap_or_default());
            }
            Err(e) => {
                ok = false;
                println!("{}: ERROR {e:#}", p.display());
            }
        }
    }
    ok
}

fn run_one(path: &Path, opts: &RunOptions) -> Result<Report> {
    let mut nb = load(path)?;
    let start = Instant::now();
    let mut engine = Engine::start(&mut |m| eprintln!("{m}"))?;
    let interrupter = engine.interrupter(Duration::from_secs(3));
    let mut count = 0u64;
    let mut failed = None;
    let mut cells = 0;
    let n = nb["cells"].as_array().map_or(0, Vec::len);
    for i in 0..n {
        let cell = &nb["cells"][i];
        if cell["cell_type"] != "code" || tags(cell).iter().any(|t| t == "skip-execution") {
            continue;
        }
        let code = source(cell);
        let expect_error = tags(cell).iter().any(|t| t == "raises-exception");
        cells += 1;
        count += 1;
        let mut outs = NotebookOutputs::default();
        let timer = opts.timeout.map(|t| {
            let intr = interrupter.clone();
            let (tx, rx) = std::sync::mpsc::channel::<()>();
            std::thread::spawn(move || {
                if rx.recv_timeout(t) == Err(std::sync::mpsc::RecvTimeoutError::Timeout) {
                    intr.interrupt();
                }
            });
            tx
        });
        let cell_start = Instant::now();
        let r = engine.execute(&code, &mut |e| outs.push(e));
        drop(timer);
        let timed_out = opts.timeout.is_some_and(|t| cell_start.elapsed() >= t);
        if !r.value.is_empty() {
            outs.result(count, r.value.clone());
        }
        if let Outcome::Error { ename, evalue, traceback } = &r.outcome {
            let (ename, evalue) = if timed_out {
                (
                    "CellTimeoutError".to_string(),
                    format!(
                        "the cell ran longer than {:?} and was interrupted: {evalue}",
                        opts.timeout.unwrap_or_default()
                    ),
                )
            } else {
                (ename.clone(), evalue.clone())
            };
            outs.error(&ename, &evalue, traceback);
            if !expect_error {
                let first_line = code.lines().next().unwrap_or("").chars().take(60).collect::<String>();
                failed = Some(format!("at cell {} ({first_line:?}): {ename}: {evalue}", i + 1));
            }
        }
        let cell = &mut nb["cells"][i];
        cell["outputs"] = Value::Array(outs.into_vec());
        cell["execution_count"] = Value::from(count);
        if failed.is_some() {
            break;
        }
    }
    let dest = match &opts.output_dir {
        Some(d) => {
            std::fs::create_dir_all(d)?;
            d.join(path.file_name().context("notebook path has no file name")?)
        }
        None => path.to_path_buf(),
    };
    let mut text = serde_json::to_string_pretty(&nb)?;
    text.push('\n');
    let tmp = dest.with_extension("ipynb.tmp");
    std::fs::write(&tmp, text).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, &dest)?;
    Ok(Report { cells, failed, seconds: start.elapsed().as_secs_f64() })
}
