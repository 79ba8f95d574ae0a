//! `dl-kernel run NOTEBOOK...`: executes every code cell in order, in-process with the kernel's
//! engine (no Python, no Jupyter server), and writes the outputs back as nbformat 4.
//!
//! Like `jupyter nbconvert --execute`: cells run in the notebook's folder; execution stops at the
//! first failing cell unless it is tagged `raises-exception`; cells tagged `skip-execution` are
//! left as they are; `--timeout` interrupts a cell that runs too long. The notebook is read as
//! JSON and only cells' `outputs` and `execution_count` change, so every other field survives as
//! it was. A file that is not JSON or not nbformat 4 is reported and left untouched.
//!
//! Each notebook gets a fresh engine; engines are warmed ahead ([`pool`]), and `--jobs N` runs N
//! notebooks at once. `--grade` grades nbgrader assignments instead (see `crate::grader`).

pub mod cells;
pub mod pool;

use crate::engine::Engine;
use crate::notebook::load;
use anyhow::{Context, Result};
use cells::{run_cells, write_outputs, OnError};
use pool::Pool;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Options of `dl-kernel run`.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Write executed notebooks here instead of in place.
    pub output_dir: Option<PathBuf>,
    /// Per-cell time limit.
    pub timeout: Option<Duration>,
    /// Notebooks run at once.
    pub jobs: usize,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions { output_dir: None, timeout: None, jobs: 1 }
    }
}

/// Runs `work` on each of `items` with at most `jobs` at once, each with a warm engine of its
/// own (`None` for an item that `needs_engine` rejects); returns the results in the items' order.
pub fn for_each_with_engine<T: Sync, R: Send>(
    items: &[T],
    jobs: usize,
    needs_engine: impl Fn(&T) -> bool + Sync,
    work: impl Fn(&T, Option<Result<Engine>>) -> R + Sync,
) -> Vec<R> {
    let wanted = items.iter().filter(|i| needs_engine(i)).count();
    let pool = Pool::new(wanted, 1);
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, R)>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..jobs.clamp(1, items.len().max(1)) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(item) = items.get(i) else { break };
                let engine = needs_engine(item).then(|| pool.take());
                let r = work(item, engine);
                results.lock().unwrap_or_else(|e| e.into_inner()).push((i, r));
            });
        }
    });
    let mut results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

/// Gives an engine the working directory of the notebook at `path` (its folder), as Jupyter does.
pub fn enter_notebook_dir(engine: &mut Engine, path: &Path) {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if let Ok(dir) = dir.canonicalize() {
        engine.adopt(&format!("std::env::set_current_dir({:?}).ok();", dir.to_string_lossy()));
    }
}

/// Runs each notebook; prints one line per notebook as it ends; returns whether all succeeded.
pub fn run_all(paths: &[PathBuf], opts: &RunOptions) -> bool {
    let loaded: Vec<(PathBuf, Result<Value>)> = paths.iter().map(|p| (p.clone(), load(p))).collect();
    let results = for_each_with_engine(
        &loaded,
        opts.jobs,
        |(_, nb)| nb.is_ok(),
        |(path, nb), engine| {
            let r = match (nb, engine) {
                (Err(e), _) => Err(anyhow::anyhow!("{e:#}")),
                (Ok(nb), Some(engine)) => engine.and_then(|e| run_one(path, nb.clone(), e, opts)),
                (Ok(_), None) => Err(anyhow::anyhow!("no engine")),
            };
            let line = match &r {
                Ok((cells, None, secs)) => format!("{}: ok, {cells} code cells in {secs:.1}s", path.display()),
                Ok((_, Some(failure), _)) => format!("{}: FAILED {failure}", path.display()),
                Err(e) => format!("{}: ERROR {e:#}", path.display()),
            };
            println!("{line}");
            matches!(r, Ok((_, None, _)))
        },
    );
    results.into_iter().all(|ok| ok)
}

/// Runs one notebook and saves it; returns its code cells, its failure and its seconds.
fn run_one(path: &Path, mut nb: Value, mut engine: Engine, opts: &RunOptions) -> Result<(usize, Option<String>, f64)> {
    let start = Instant::now();
    enter_notebook_dir(&mut engine, path);
    let (runs, failed) = run_cells(&mut engine, &nb, OnError::Stop, opts.timeout);
    drop(engine);
    write_outputs(&mut nb, &runs);
    nb["metadata"]["language_info"] = crate::protocol::language_info();
    let dest = match &opts.output_dir {
        Some(d) => {
            std::fs::create_dir_all(d)?;
            d.join(path.file_name().context("notebook path has no file name")?)
        }
        None => path.to_path_buf(),
    };
    save(&nb, &dest)?;
    Ok((runs.len(), failed, start.elapsed().as_secs_f64()))
}

/// Writes a notebook through a temporary file, so a failed write leaves the old one.
///
/// # Errors
/// When the file cannot be written.
pub fn save(nb: &Value, dest: &Path) -> Result<()> {
    let mut text = serde_json::to_string_pretty(nb)?;
    text.push('\n');
    let tmp = dest.with_extension("ipynb.tmp");
    std::fs::write(&tmp, text).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, dest)?;
    Ok(())
}
