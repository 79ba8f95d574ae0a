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
//!   stream.rs         a cell's text batched into few messages, runaway output cut
//!   outcome.rs        how a cell ended (ok, compile error, panic, `?`), as Jupyter shows it
//!   diagnostic.rs     a compile error as rustc prints it, in the cell's lines and columns
//!   panic_site.rs     where in the cell a panic happened
//!   fair.rs           grading rules: a cell that does not compile keeps what does, replays
//!   interrupt.rs      stopping a running cell from another thread
//!   death.rs          why the process running cells died, named for what it was
//!   memory.rs         the machine's and container's memory, the cells' memory limit
//!   cleanup.rs        what a kernel removes when it exits (its folder, the cell process)
//!   events.rs         what a running cell produces
//!   completion.rs     completion and inspection filtered and cleaned for a student
//! ```

pub mod cleanup;
pub mod completion;
pub mod context;
pub mod death;
pub mod diagnostic;
pub mod events;
pub mod fair;
pub mod interrupt;
pub mod memory;
pub mod outcome;
pub mod panic_site;
pub mod prebuilt;
pub mod preload;
pub mod process_tree;
pub mod rustc_wrapper;
pub mod stderr_fence;
pub mod stream;
pub mod toolchain;

pub use events::Event;
pub use interrupt::Interrupter;
pub use outcome::{CellResult, Outcome};

use anyhow::Result;
use death::Death;
use dl_core::kernel_protocol::CellMessage;
use evcxr::{CommandContext, EvalContextOutputs};
use outcome::{classify, early_return, with_sentinel, StderrBurst, SENTINEL_VAR};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use stderr_fence::Fence;
use stream::{OutputLimit, StreamBatcher};

/// The evaluation engine.
pub struct Engine {
    ctx: CommandContext,
    outputs: EvalContextOutputs,
    busy: Arc<AtomicBool>,
    generation: Arc<AtomicU64>,
    /// Set by the interrupter when it had to kill the process running cells.
    killed: Arc<AtomicBool>,
    /// The cell's last burst of stderr lines (the error a `?` returned).
    last_stderr: StderrBurst,
    /// Marks the end of what the cell process wrote to stderr.
    fence: Fence,
    /// The running cell's text on its way out.
    stream: StreamBatcher,
    /// Keeps the evcxr working directory alive (it holds the prebuilt dependencies).
    _workdir: prebuilt::Workdir,
    /// The hidden cell that gave the cell process a stand-in's directory and variables (see
    /// `spare.rs`), run again when that process is restarted.
    adoption: Option<String>,
    /// While grading: the cells that succeeded, in order, run again after a forced restart
    /// (see [`fair`]).
    succeeded: Vec<String>,
    /// The process that runs cells was restarted and the succeeded cells wait to run again.
    replay_pending: bool,
    /// Where the last compile's errors point (line and column in the code that was compiled).
    error_spans: Vec<(usize, usize)>,
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
        cleanup::kill_at_exit(ctx.process_handle());
        log::info!("evcxr started after {:.2}s", t0.elapsed().as_secs_f64());
        // evcxr's start-up cell ran without dependencies, so cargo pruned the lock file; put the
        // template's back, or the preload would resolve every dependency again (network).
        prebuilt::restore_lock(workdir.path())?;
        let mut engine = Engine {
            ctx,
            outputs,
            busy: Arc::new(AtomicBool::new(false)),
            generation: Arc::new(AtomicU64::new(0)),
            killed: Arc::new(AtomicBool::new(false)),
            last_stderr: StderrBurst::default(),
            fence: Fence::new(),
            stream: StreamBatcher::new(OutputLimit(None)),
            _workdir: workdir,
            adoption: None,
            succeeded: Vec::new(),
            replay_pending: false,
            error_spans: Vec::new(),
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
            killed: self.killed.clone(),
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
        let original = code;
        let oom_kills_before = memory::oom_kills();
        let (code, line) = with_sentinel(code);
        let before = self.variables();
        let mut result = self.run_marked(&code, line, on_event);
        let errors_at: Vec<(usize, usize)> = self
            .error_spans
            .iter()
            .map(|&(l, c)| if Some(l) == line { (l, c.saturating_sub(outcome::SENTINEL_WIDTH).max(1)) } else { (l, c) })
            .collect();
        if line.is_some() {
            let survived = self.ctx.variables_and_types().any(|(n, _)| n == SENTINEL_VAR);
            if let (Outcome::Ok, false) = (&result.outcome, survived) {
                // Returned early through `?`: evcxr printed the error to stderr, which reaches us
                // through another thread than the end of the cell, later on a busy machine
                // (unless the fence has shown that all of it is here).
                if self.last_stderr.lines.is_empty() && !self.last_stderr.complete {
                    self.await_stderr(Duration::from_secs(3), on_event);
                }
                result.outcome = early_return(&self.last_stderr.lines);
                // The error is the cell's `error` output; its copy on stderr is not sent.
                let text: String = self.last_stderr.lines.iter().map(|l| format!("{l}\n")).collect();
                self.stream.take_back_error(&text);
            }
        }
        outcome::say_what_an_interrupt_kept(&mut result.outcome, original, &self.variables());
        let death = match &result.outcome {
            Outcome::Error { evalue, .. } if evalue.contains("ubprocess terminated") => {
                if evalue.contains("signal: 6") && !self.last_stderr.lines.iter().any(|l| death::is_last_words(l)) {
                    self.await_last_words(Duration::from_secs(2), on_event);
                }
                let oom = memory::oom_kills().zip(oom_kills_before).is_some_and(|(now, then)| now > then);
                let interrupted = self.killed.swap(false, Ordering::SeqCst);
                Some(Death::read(evalue, &self.last_stderr.lines, interrupted, oom))
            }
            _ => None,
        };
        self.stream.finish(on_event);
        if let Some(death) = death {
            self.after_restart(&before, &mut result, death);
        }
        if fair::grading() {
            match &result.outcome {
                Outcome::Ok => self.succeeded.push(original.to_string()),
                Outcome::Error { ename, .. } if ename == "CompileError" => self.repair(original, &errors_at),
                Outcome::Error { .. } => {}
            }
        }
        result
    }

    /// While grading, after a cell that did not compile: defines what of it compiles (rule 1 of
    /// [`fair`]), hidden. `errors_at` are the lines and columns the compile errors point at.
    fn repair(&mut self, code: &str, errors_at: &[(usize, usize)]) {
        let mut code = code.to_string();
        let mut errors: Vec<usize> = errors_at.iter().filter_map(|&(l, c)| fair::offset(&code, l, c)).collect();
        for _ in 0..3 {
            let Some(fixed) = fair::repair(&code, &errors) else { return };
            match self.run_raw(&fixed, &mut |_| {}).outcome {
                Outcome::Ok => {
                    log::info!("a cell that does not compile was repaired for grading");
                    self.succeeded.push(fixed);
                    return;
                }
                // It compiled, so its items are defined; a statement before the mistake panicked
                // (as the Python cell would have raised there).
                Outcome::Error { ename, evalue, .. } if ename != "CompileError" => {
                    log::info!("a repaired cell stopped: {evalue}");
                    return;
                }
                Outcome::Error { .. } => {}
            }
            errors = self.error_spans.iter().filter_map(|&(l, c)| fair::offset(&fixed, l, c)).collect();
            code = fixed;
        }
        log::warn!("a cell that does not compile could not be repaired for grading");
    }

    /// Work left over from the last cell, done before the next one: while grading, after a
    /// forced restart, the cells that had succeeded run again (rule 2 of [`fair`]). Call it
    /// once the last cell's result is out, so that the client has its reply at once.
    pub fn catch_up(&mut self) {
        if !std::mem::take(&mut self.replay_pending) {
            return;
        }
        let t = Instant::now();
        for code in self.succeeded.clone() {
            if let Outcome::Error { evalue, .. } = self.run_raw(&code, &mut |_| {}).outcome {
                log::warn!("a cell run again after a restart failed: {evalue}");
            }
        }
        log::info!("{} succeeded cells run again in {:.1}s", self.succeeded.len(), t.elapsed().as_secs_f64());
    }

    /// After evcxr restarted the process that runs cells: install dl-core's hooks again and say
    /// what killed it, and which variables were lost (or, while grading, that the cells that had
    /// succeeded run again).
    fn after_restart(&mut self, before: &[(String, String)], result: &mut CellResult, death: Death) {
        let _ = self.run_raw("dl_core::display::kernel_init();", &mut |_| {});
        if let Some(code) = self.adoption.clone() {
            self.run_hidden(&code);
        }
        let lost: Vec<&str> = before.iter().map(|(n, _)| n.as_str()).collect();
        let mut msg = death.describe(&memory::now());
        if fair::grading() {
            self.replay_pending = !self.succeeded.is_empty();
            msg.push_str("; the cells that had succeeded run again before the next cell");
        } else if !lost.is_empty() {
            msg.push_str(&format!("; the process was restarted, and these variables were lost: {}", lost.join(", ")));
        } else {
            msg.push_str("; the process was restarted");
        }
        let ename = death.ename();
        result.outcome = Outcome::Error {
            ename: ename.into(),
            evalue: msg.clone(),
            traceback: vec![format!("{}{ename}{}: {msg}", diagnostic::RED, diagnostic::RESET)],
        };
    }

    /// Waits up to `limit` for stderr lines that are known to be on their way, then for a
    /// moment of quiet, forwarding them and keeping them as the error text.
    fn await_stderr(&mut self, limit: Duration, on_event: &mut dyn FnMut(Event)) {
        let mut wait = limit;
        while let Ok(line) = self.outputs.stderr.recv_timeout(wait) {
            self.stream.push(Event::Stderr(format!("{line}\n")), on_event);
            self.last_stderr.push(line);
            wait = Duration::from_millis(50);
        }
    }

    /// A process that aborted (`SIGABRT`) has usually said why first (evcxr's fault handler,
    /// Rust's allocation failure): its stderr comes through another thread and, with no fence to
    /// wait for in a dead process, can arrive after the cell's end on a busy machine. Waits up
    /// to `limit` for those last words, keeping them out of the cell's output.
    fn await_last_words(&mut self, limit: Duration, on_event: &mut dyn FnMut(Event)) {
        let mut wait = limit;
        let mut heard = false;
        while let Ok(line) = self.outputs.stderr.recv_timeout(wait) {
            heard |= death::is_last_words(&line);
            if heard {
                self.last_stderr.push(line);
                wait = Duration::from_millis(100);
            } else {
                // The cell's own late text: still its output.
                self.stream.push(Event::Stderr(format!("{line}\n")), on_event);
            }
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
        self.run_marked(code, None, on_event)
    }

    /// Runs `code`, in which the engine put the sentinel on line `sentinel` (if any).
    fn run_marked(&mut self, code: &str, sentinel: Option<usize>, on_event: &mut dyn FnMut(Event)) -> CellResult {
        self.busy.store(true, Ordering::SeqCst);
        let mut panic: Option<(String, String)> = None;
        let mut stderr_tail = StderrBurst::default();
        let mut dying = false;
        let (done_tx, done_rx) = crossbeam_channel::bounded(1);
        self.stream = StreamBatcher::new(OutputLimit::from_env());
        let Engine { ctx, outputs, fence, stream, .. } = self;
        let result = std::thread::scope(|scope| {
            let worker = scope.spawn(move || {
                let r = ctx.execute(code);
                // The process that ran the cell (evcxr starts a new one after a crash).
                let _ = done_tx.send(ctx.process_handle().lock().map(|c| c.id()).ok());
                r
            });
            // One line from the cell process: its event, if it has one, and whether it is this
            // cell's fence (a late fence of an earlier cell is dropped).
            let mut read = |line: Result<String, crossbeam_channel::RecvError>,
                            is_err: bool|
             -> (Option<Event>, bool) {
                let Ok(mut line) = line else { return (None, false) };
                let mut current = false;
                if let Some((front, this_cell)) = is_err.then(|| fence.strip(&line)).flatten() {
                    current = this_cell;
                    if front.is_empty() {
                        return (None, current);
                    }
                    line = front.to_string();
                }
                let event = if is_err {
                    // A dying process's last words (and the backtrace after them) belong in the
                    // error that names the death, not in the cell's output.
                    dying |= death::is_last_words(&line);
                    stderr_tail.push(line.clone());
                    (!dying).then(|| Event::Stderr(format!("{line}\n")))
                } else {
                    match CellMessage::parse_line(&line) {
                        None => Some(Event::Stdout(format!("{line}\n"))),
                        Some(Ok(CellMessage::Panic { message, location })) => {
                            panic = Some((message, location));
                            None
                        }
                        Some(Ok(CellMessage::Display { id, data })) => Some(Event::Display { id, data, update: false }),
                        Some(Ok(CellMessage::Update { id, data })) => {
                            Some(Event::Display { id: Some(id), data, update: true })
                        }
                        Some(Ok(CellMessage::Clear { wait })) => Some(Event::Clear { wait }),
                        Some(Err(e)) => {
                            log::warn!("a cell message that does not parse ({e}): shown as text");
                            Some(Event::Stdout(format!("{line}\n")))
                        }
                    }
                };
                (event, current)
            };
            let idle = Duration::from_secs(1);
            let pid = loop {
                let tick = stream.next_due(Instant::now()).unwrap_or(idle);
                let (event, _) = crossbeam_channel::select! {
                    recv(outputs.stdout) -> l => read(l, false),
                    recv(outputs.stderr) -> l => read(l, true),
                    recv(done_rx) -> pid => break pid.ok().flatten(),
                    default(tick) => (None, false),
                };
                match event {
                    Some(e) => stream.push(e, on_event),
                    None => stream.flush_due(Instant::now(), on_event),
                }
            };
            // evcxr has delivered all of stdout; stderr comes through another thread: wait for
            // the fence (see `stderr_fence.rs`), or where there is none, for a moment of quiet.
            let fenced = pid.is_some_and(|pid| fence.send(pid));
            let wait = Duration::from_millis(if fenced { 2000 } else { 30 });
            let mut complete = false;
            while !complete {
                let (event, fence_seen) = crossbeam_channel::select! {
                    recv(outputs.stdout) -> l => read(l, false),
                    recv(outputs.stderr) -> l => read(l, true),
                    default(wait) => break,
                };
                complete = fence_seen;
                if let Some(e) = event {
                    stream.push(e, on_event);
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
        self.error_spans = outcome::error_spans(&result);
        let site = panic.as_ref().and_then(|(_, at)| {
            let generated = std::fs::read_to_string(self._workdir.path().join("src/lib.rs")).ok()?;
            panic_site::locate(at, &generated, code)
        });
        classify(result, panic.map(|(message, at)| (message, at, site)), sentinel)
    }

    /// Completions at `cursor` (a byte offset), filtered for a student (see [`completion`]):
    /// the matches and the byte range they replace.
    pub fn complete(&mut self, code: &str, cursor: usize) -> (Vec<completion::Match>, usize, usize) {
        let Ok(c) = self.ctx.completions(code, cursor) else { return (Vec::new(), cursor, cursor) };
        let (start, end) = (c.start_offset, c.end_offset);
        let prefix = &code[..start.min(code.len())];
        let after_dot = prefix.ends_with('.');
        let candidates: Vec<completion::Candidate<'_>> = c
            .completions
            .iter()
            .map(|c| completion::Candidate { code: &c.code, kind: c.kind, label: &c.label })
            .collect();
        let ctx = &mut self.ctx;
        let matches = completion::filter(&candidates, after_dot, completion::StdStability::get(), |field| {
            let probe = format!("{prefix}{field}");
            ctx.hover_at(&probe, probe.len()).is_ok_and(|(text, _)| completion::hover_shows_public_field(&text))
        });
        (matches, start, end)
    }

    /// Documentation for the word at `cursor` (a byte offset), cleaned for a student (see
    /// [`completion::clean_docs`]); a method on a variable is looked up through its type.
    pub fn inspect(&mut self, code: &str, cursor: usize) -> Option<String> {
        let is_word = |c: char| c.is_alphanumeric() || c == '_';
        let cursor = cursor.min(code.len());
        let end = code[cursor..].find(|c: char| !is_word(c)).map_or(code.len(), |i| cursor + i);
        let start = code[..end].rfind(|c: char| !is_word(c)).map_or(0, |i| i + 1);
        let hover = |ctx: &mut CommandContext, code: &str, at: usize| match ctx.hover_at(code, at) {
            Ok((text, _)) if text != "No documentation found" && !text.trim().is_empty() => Some(text),
            _ => None,
        };
        let variables = self.variables();
        let text = completion::method_path(code, start, end, &variables)
            .and_then(|(path, at)| hover(&mut self.ctx, &path, at))
            .or_else(|| hover(&mut self.ctx, code, end))?;
        Some(completion::clean_docs(&text))
    }
}
