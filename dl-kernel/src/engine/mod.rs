//! The evcxr context behind the kernel and the headless runner: dl-core preloaded, cells run
//! with live output, failures classified ([`outcome`]), interrupts that keep state when they can
//! ([`interrupt`]).
//!
//! ```text
//! engine/
//!   mod.rs            Engine: runs cells, forwards their output as Events, completes, inspects
//!   context.rs        the one place an evcxr context starts, and the environment of cells
//!   preload.rs        dl-core's sources and the code that loads it into every context
//!   prebuilt.rs       the template working directory with dl-core compiled, cloned per kernel
//!   toolchain.rs      rust-src, the standard library's shared object, rustc's version
//!   rustc_wrapper.rs  the compiler wrapper for the cell crate
//!   stderr_fence.rs   knowing that all of a cell's stderr has arrived
//!   outcome.rs        how a cell ended (ok, compile error, panic, `?`), as Jupyter shows it
//!   interrupt.rs      stopping a running cell from another thread
//!   events.rs         what a running cell produces
//! ```

pub mod context;
pub mod events;
pub mod interrupt;
pub mod outcome;
pub mod prebuilt;
pub mod preload;
pub mod rustc_wrapper;
pub mod stderr_fence;
pub mod toolchain;

pub use events::Event;
pub use interrupt::Interrupter;
pub use outcome::{CellResult, Outcome};

use anyhow::Result;
use dl_core::kernel_protocol::CellMessage;
use evcxr::{CommandContext, EvalContextOutputs};
use outcome::{classify, early_return, unshift_columns, with_sentinel, StderrBurst, SENTINEL_VAR};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use stderr_fence::Fence;

/// The evaluation engine.
pub struct Engine {
    ctx: CommandContext,
    outputs: EvalContextOutputs,
    busy: Arc<AtomicBool>,
    generation: Arc<AtomicU64>,
    /// The cell's last burst of stderr lines (the error a `?` returned).
    last_stderr: StderrBurst,
    /// Marks the end of what the cell process wrote to stderr.
    fence: Fence,
    /// Keeps the evcxr working directory alive (it holds the prebuilt dependencies).
    _workdir: prebuilt::Workdir,
    /// The hidden cell that gave the cell process a stand-in's directory and variables (see
    /// `spare.rs`), run again when that process is restarted.
    adoption: Option<String>,
}

impl Engine {
    /// Starts evcxr in a working directory seeded with the prebuilt dependencies (building them
    /// first if needed, reporting progress through `progress`) and runs the preload.
    ///
    /// # Errors
    /// When evcxr cannot start or dl-core does not build.
    pub fn start(progress: &mut dyn FnMut(&str)) -> Result<Engine> {
        let t0 = Instant::now();
        toolchain::check_rust_src()?;
        preload::check_dl_core(&preload::dl_core_path())?;
        let workdir = prebuilt::workdir(progress)?;
        log::info!("work directory ready in {:.2}s", t0.elapsed().as_secs_f64());
        let (ctx, outputs) = context::start(workdir.path(), Some(&workdir.session()))?;
        log::info!("evcxr started after {:.2}s", t0.elapsed().as_secs_f64());
        // evcxr's start-up cell ran without dependencies, so cargo pruned the lock file; put the
        // template's back, or the preload would resolve every dependency again (network).
        prebuilt::restore_lock(workdir.path())?;
        let mut engine = Engine {
            ctx,
            outputs,
            busy: Arc::new(AtomicBool::new(false)),
            generation: Arc::new(AtomicU64::new(0)),
            last_stderr: StderrBurst::default(),
            fence: Fence::new(),
            _workdir: workdir,
            adoption: None,
        };
        let t = Instant::now();
        let r = engine.run_raw(&preload::preload_code(), &mut |_| {});
        if let Outcome::Error { evalue, traceback, .. } = r.outcome {
            anyhow::bail!("loading dl-core failed: {evalue}\n{}", traceback.join("\n"));
        }
        log::info!("engine warm after {:.1}s (preload {:.1}s)", t0.elapsed().as_secs_f64(), t.elapsed().as_secs_f64());
        Ok(engine)
    }

    /// A handle for interrupting from another thread.
    pub fn interrupter(&self, grace: Duration) -> Interrupter {
        Interrupter {
            child: self.ctx.process_handle(),
            session: self._workdir.session(),
            busy: self.busy.clone(),
            generation: self.generation.clone(),
            grace,
        }
    }

    /// Variables of earlier cells and their types.
    pub fn variables(&self) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = self
            .ctx
            .variables_and_types()
            .filter(|(n, _)| *n != SENTINEL_VAR)
            .map(|(n, t)| (n.to_string(), t.to_string()))
            .collect();
        v.sort();
        v
    }

    /// Runs a cell, calling `on_event` for its output as it happens.
    pub fn execute(&mut self, code: &str, on_event: &mut dyn FnMut(Event)) -> CellResult {
        let (code, line) = with_sentinel(code);
        let before = self.variables();
        let mut result = self.run_raw(&code, on_event);
        if let Some(line) = line {
            let survived = self.ctx.variables_and_types().any(|(n, _)| n == SENTINEL_VAR);
            if let (Outcome::Ok, false) = (&result.outcome, survived) {
                // Returned early through `?`: evcxr printed the error to stderr, which reaches us
                // through another thread than the end of the cell, later on a busy machine
                // (unless the fence has shown that all of it is here).
                if self.last_stderr.lines.is_empty() && !self.last_stderr.complete {
                    self.await_stderr(Duration::from_secs(3), on_event);
                }
                result.outcome = early_return(&self.last_stderr.lines);
            }
            if let Outcome::Error { traceback, evalue, .. } = &mut result.outcome {
                for t in traceback.iter_mut().chain(std::iter::once(evalue)) {
                    *t = unshift_columns(t, line);
                }
            }
        }
        if let Outcome::Error { evalue, .. } = &result.outcome {
            if evalue.contains("subprocess terminated") || evalue.contains("Subprocess terminated") {
                self.after_restart(&before, &mut result);
            }
        }
        result
    }

    /// After evcxr restarted the process that runs cells: install dl-core's hooks again and say
    /// which variables were lost.
    fn after_restart(&mut self, before: &[(String, String)], result: &mut CellResult) {
        let _ = self.run_raw("dl_core::display::kernel_init();", &mut |_| {});
        if let Some(code) = self.adoption.clone() {
            self.run_hidden(&code);
        }
        let lost: Vec<&str> = before.iter().map(|(n, _)| n.as_str()).collect();
        let msg = if lost.is_empty() {
            "the code did not stop, so the process running the cells was restarted".to_string()
        } else {
            format!(
                "the code did not stop, so the process running the cells was restarted; these variables were lost: {}",
                lost.join(", ")
            )
        };
        result.outcome = Outcome::Error {
            ename: "KeyboardInterrupt".into(),
            evalue: msg.clone(),
            traceback: vec![format!("KeyboardInterrupt: {msg}")],
        };
    }

    /// Waits up to `limit` for stderr lines that are known to be on their way, then for a
    /// moment of quiet, forwarding them and keeping them as the error text.
    fn await_stderr(&mut self, limit: Duration, on_event: &mut dyn FnMut(Event)) {
        let mut wait = limit;
        while let Ok(line) = self.outputs.stderr.recv_timeout(wait) {
            on_event(Event::Stderr(format!("{line}\n")));
            self.last_stderr.push(line);
            wait = Duration::from_millis(50);
        }
    }

    /// Runs the hidden cell that adopts a stand-in's directory and variables, and keeps it for
    /// restarts of the cell process.
    pub fn adopt(&mut self, code: &str) {
        self.run_hidden(code);
        self.adoption = Some(code.to_string());
    }

    /// Runs a cell of the kernel's own, without output; a failure only goes to the log.
    pub fn run_hidden(&mut self, code: &str) {
        if let Outcome::Error { evalue, .. } = self.run_raw(code, &mut |_| {}).outcome {
            log::warn!("a hidden cell failed: {evalue}");
        }
    }

    fn run_raw(&mut self, code: &str, on_event: &mut dyn FnMut(Event)) -> CellResult {
        self.busy.store(true, Ordering::SeqCst);
        let mut panic: Option<(String, String)> = None;
        let mut stderr_tail = StderrBurst::default();
        let (done_tx, done_rx) = crossbeam_channel::bounded(1);
        let Engine { ctx, outputs, fence, .. } = self;
        let result = std::thread::scope(|scope| {
            let worker = scope.spawn(move || {
                let r = ctx.execute(code);
                // The process that ran the cell (evcxr starts a new one after a crash).
                let _ = done_tx.send(ctx.process_handle().lock().map(|c| c.id()).ok());
                r
            });
            // Returns true for this cell's fence (a late fence of an earlier cell is dropped).
            let mut handle = |line: Result<String, crossbeam_channel::RecvError>, is_err: bool| -> bool {
                let Ok(mut line) = line else { return false };
                let mut current = false;
                if let Some((front, this_cell)) = is_err.then(|| fence.strip(&line)).flatten() {
                    current = this_cell;
                    if front.is_empty() {
                        return current;
                    }
                    line = front.to_string();
                }
                if is_err {
                    stderr_tail.push(line.clone());
                    on_event(Event::Stderr(format!("{line}\n")));
                } else if let Some(msg) = CellMessage::parse_line(&line) {
                    match msg {
                        Ok(CellMessage::Panic { message, location }) => panic = Some((message, location)),
                        Ok(CellMessage::Display { id, data }) => on_event(Event::Display { id, data, update: false }),
                        Ok(CellMessage::Update { id, data }) => {
                            on_event(Event::Display { id: Some(id), data, update: true })
                        }
                        Ok(CellMessage::Clear { wait }) => on_event(Event::Clear { wait }),
                        Err(e) => {
                            log::warn!("a cell message that does not parse ({e}): shown as text");
                            on_event(Event::Stdout(format!("{line}\n")));
                        }
                    }
                } else {
                    on_event(Event::Stdout(format!("{line}\n")));
                }
                current
            };
            let pid = loop {
                crossbeam_channel::select! {
                    recv(outputs.stdout) -> l => { handle(l, false); }
                    recv(outputs.stderr) -> l => { handle(l, true); }
                    recv(done_rx) -> pid => break pid.ok().flatten(),
                }
            };
            // evcxr has delivered all of stdout; stderr comes through another thread: wait for
            // the fence (see `stderr_fence.rs`), or where there is none, for a moment of quiet.
            let fenced = pid.is_some_and(|pid| fence.send(pid));
            let wait = Duration::from_millis(if fenced { 2000 } else { 30 });
            let mut complete = false;
            while !complete {
                crossbeam_channel::select! {
                    recv(outputs.stdout) -> l => { handle(l, false); }
                    recv(outputs.stderr) -> l => complete = handle(l, true),
                    default(wait) => break,
                }
            }
            stderr_tail.complete = complete;
            worker.join().unwrap_or_else(|_| Err(evcxr::Error::Message("evcxr itself panicked".into())))
        });
        self.busy.store(false, Ordering::SeqCst);
        self.generation.fetch_add(1, Ordering::SeqCst);
        if let Ok(out) = &result {
            let phases: Vec<String> =
                out.phases.iter().map(|p| format!("{} {:.2}s", p.name, p.duration.as_secs_f64())).collect();
            log::info!("cell phases: {}", phases.join(", "));
        }
        self.last_stderr = stderr_tail;
        classify(result, panic)
    }

    /// Completions at `cursor` (a byte offset): the candidates and the byte range they replace.
    pub fn complete(&mut self, code: &str, cursor: usize) -> (Vec<String>, usize, usize) {
        match self.ctx.completions(code, cursor) {
            Ok(c) => {
                let mut seen = std::collections::HashSet::new();
                let matches = c.completions.into_iter().map(|c| c.code).filter(|m| seen.insert(m.clone())).collect();
                (matches, c.start_offset, c.end_offset)
            }
            Err(_) => (Vec::new(), cursor, cursor),
        }
    }

    /// Documentation for the item before `cursor` (a byte offset): `(text, html)`.
    pub fn inspect(&mut self, code: &str, cursor: usize) -> Option<(String, String)> {
        // Extend the cursor to the end of the identifier it is in.
        let end = code[cursor..].find(|c: char| !(c.is_alphanumeric() || c == '_')).map_or(code.len(), |i| cursor + i);
        match self.ctx.hover_at(code, end) {
            Ok((text, html)) if text != "No documentation found" && !text.trim().is_empty() => Some((text, html)),
            _ => None,
        }
    }
}
