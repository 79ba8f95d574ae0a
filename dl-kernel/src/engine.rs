//! The evcxr context behind the kernel and the headless runner: dl-core preloaded, cells run
//! with live output, failures classified, interrupts that keep state when they can.
//!
//! A cell's outcome is decided from three signals:
//! - a compile error: evcxr returns it;
//! - a panic: dl-core's panic hook (installed by the preload through `kernel_init`) prints a
//!   marker line with the message, because evcxr catches the panic and reports success;
//! - an error returned through `?`: evcxr prints it to stderr and drops the variables the cell
//!   defined. The engine adds `let __dl_ok: u8 = 0;` in front of the cell's first line of code;
//!   when that variable is missing afterwards, the cell ended early. Columns on that line are
//!   shifted back in error messages, so users never see it.

use crate::outputs::{Event, MimeBundle};
use crate::prebuilt;
use crate::stderr_fence::Fence;
use anyhow::Result;
use evcxr::{CommandContext, EvalContextOutputs};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The marker dl-core prints before a display/update/panic JSON line.
pub const MARKER: &str = "\u{1b}]dl-display;";
const SENTINEL: &str = "let __dl_ok: u8 = 0; ";
const SENTINEL_VAR: &str = "__dl_ok";

/// How a cell ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Ran to the end.
    Ok,
    /// Failed: Jupyter's `ename`, `evalue`, `traceback`.
    Error { ename: String, evalue: String, traceback: Vec<String> },
}

/// What a cell produced besides its streamed events.
#[derive(Debug, Clone)]
pub struct CellResult {
    pub outcome: Outcome,
    /// The cell's value, if it had one (`execute_result`).
    pub value: MimeBundle,
}

/// Lets another thread interrupt the running cell.
#[derive(Clone)]
pub struct Interrupter {
    child: Arc<Mutex<std::process::Child>>,
    session: std::path::PathBuf,
    busy: Arc<AtomicBool>,
    generation: Arc<AtomicU64>,
    grace: Duration,
}

impl Interrupter {
    /// Asks the running cell to stop, through the session directory: dl-core's loops stop at the
    /// next batch and keep the model. If the cell has not finished after the grace period, the
    /// process running it is killed; evcxr then starts a fresh one and the engine reports which
    /// variables were lost.
    pub fn interrupt(&self) {
        if !self.busy.load(Ordering::SeqCst) {
            return;
        }
        let _ = std::fs::write(self.session.join("interrupt"), b"");
        let gen = self.generation.load(Ordering::SeqCst);
        let me = self.clone();
        std::thread::spawn(move || {
            let deadline = Instant::now() + me.grace;
            while Instant::now() < deadline {
                if !me.busy.load(Ordering::SeqCst) || me.generation.load(Ordering::SeqCst) != gen {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            if me.busy.load(Ordering::SeqCst) && me.generation.load(Ordering::SeqCst) == gen {
                if let Ok(mut c) = me.child.lock() {
                    let _ = c.kill();
                }
            }
        });
    }
}

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

/// Code run first in every context: dl-core in scope and its kernel hooks installed. Its last
/// line stores a variable through `?`, so that the context pays here, while the kernel waits for
/// its first cell, what the user's first cell would otherwise pay: rust-analyzer's cold start
/// (the first variable whose type it infers) and evcxr's switch to cells that may use `?` (a
/// failed compile and a retry, once per context). dl-core comes without its `download` feature:
/// the HTTP and TLS crates behind it (22 of dl-core's 89) would otherwise be checked by cargo
/// and loaded by rust-analyzer for every cell (measured: preload 5.7 → 4.9 s, trivial cells
/// about 0.1 s faster); the kernel binary downloads for cells instead (`DL_DOWNLOAD_HELPER`).
pub fn preload_code() -> String {
    format!(
        ":dep dl-core = {{ path = {:?}, default-features = false }}\nuse dl_core::prelude::*;\nuse dl_core::ndarray;\ndl_core::display::kernel_init();\nlet {SENTINEL_VAR}: u8 = \"0\".parse::<u8>()?;",
        prebuilt::dl_core_path().display().to_string()
    )
}

impl Engine {
    /// Starts evcxr in a working directory seeded with the prebuilt dependencies (building them
    /// first if needed, reporting progress through `progress`) and runs the preload.
    ///
    /// # Errors
    /// When evcxr cannot start or dl-core does not build.
    pub fn start(progress: &mut dyn FnMut(&str)) -> Result<Engine> {
        let t0 = Instant::now();
        prebuilt::check_rust_src()?;
        prebuilt::check_dl_core(&prebuilt::dl_core_path())?;
        let workdir = prebuilt::workdir(progress)?;
        log::info!("work directory ready in {:.2}s", t0.elapsed().as_secs_f64());
        // evcxr reads its working directory from this variable when the context is created.
        std::env::set_var("EVCXR_TMPDIR", workdir.path());
        std::env::set_var("DL_SESSION_DIR", workdir.path().join("session"));
        std::env::set_var(crate::KERNEL_ENV, "1");
        // dl-core is built for cells without its downloader (see `preload_code`): this binary
        // downloads for it.
        std::env::set_var("DL_DOWNLOAD_HELPER", std::env::current_exe()?);
        crate::rustc_wrapper::install_for_cells(workdir.path());
        prebuilt::export_std_library_path();
        let (ctx, outputs) = CommandContext::new().map_err(|e| anyhow::anyhow!("cannot start evcxr: {e}"))?;
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
        let r = engine.run_raw(&preload_code(), &mut |_| {});
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
            session: self._workdir.path().join("session"),
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
        result.outcome = Outcome::Error { ename: "KeyboardInterrupt".into(), evalue: msg.clone(), traceback: vec![format!("KeyboardInterrupt: {msg}")] };
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
                } else if let Some(json) = line.strip_prefix(MARKER) {
                    match parse_marker(json) {
                        Some(Marker::Panic(msg, loc)) => panic = Some((msg, loc)),
                        Some(Marker::Display(e)) => on_event(e),
                        None => on_event(Event::Stdout(format!("{line}\n"))),
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
            let phases: Vec<String> = out.phases.iter().map(|p| format!("{} {:.2}s", p.name, p.duration.as_secs_f64())).collect();
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

enum Marker {
    Panic(String, String),
    Display(Event),
}

fn parse_marker(json: &str) -> Option<Marker> {
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    let data: MimeBundle = v.get("data")?.as_object()?.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string()))).collect();
    let id = v.get("id").and_then(|i| i.as_str()).map(str::to_string);
    match v.get("op")?.as_str()? {
        "panic" => Some(Marker::Panic(data.get("message").cloned().unwrap_or_default(), data.get("location").cloned().unwrap_or_default())),
        "display" => Some(Marker::Display(Event::Display { id, data, update: false })),
        "update" => Some(Marker::Display(Event::Display { id, data, update: true })),
        "clear" => Some(Marker::Display(Event::Clear { wait: data.get("wait").is_some_and(|w| w == "true") })),
        _ => None,
    }
}

/// The last burst of stderr lines: lines that arrive within [`StderrBurst::GAP`] of each other.
/// A `?` error is printed at once, after anything the cell printed earlier. Lines on stdout are
/// no boundary: they come through another pipe and thread, and arrive before or after the
/// stderr lines printed around them.
#[derive(Default)]
struct StderrBurst {
    lines: Vec<String>,
    last: Option<Instant>,
    /// The fence came through: the cell's stderr has all arrived.
    complete: bool,
}

impl StderrBurst {
    const GAP: Duration = Duration::from_millis(250);

    fn push(&mut self, line: String) {
        let now = Instant::now();
        if self.last.is_some_and(|t| now.duration_since(t) > Self::GAP) {
            self.lines.clear();
        }
        self.last = Some(now);
        self.lines.push(line);
    }
}

/// The cell with the sentinel in front of its first line of code (not a command, comment or
/// blank line), and that line's 1-based number. A cell can only end early through `?`, `return`
/// or a macro that expands to one (`bail!`, `ensure!`); a cell with none of these words is left
/// as it is, because the sentinel is a variable that evcxr stores and rust-analyzer types in
/// every cell: about 0.1 s on a cell like `y * 2` (measured with `dl-kernel run`).
fn with_sentinel(code: &str) -> (String, Option<usize>) {
    if !["?", "return", "bail!", "ensure!"].iter().any(|w| code.contains(w)) {
        return (code.to_string(), None);
    }
    let mut out = String::with_capacity(code.len() + SENTINEL.len());
    let mut placed = None;
    for (i, line) in code.split_inclusive('\n').enumerate() {
        let t = line.trim_start();
        if placed.is_none() && !t.is_empty() && !t.starts_with(':') && !t.starts_with("//") && !t.starts_with("#!") {
            let indent = line.len() - t.len();
            out.push_str(&line[..indent]);
            out.push_str(SENTINEL);
            out.push_str(t);
            placed = Some(i + 1);
        } else {
            out.push_str(line);
        }
    }
    (out, placed)
}

/// Removes the sentinel's width from `line:col` positions on its line, and the sentinel's text
/// from quoted source, in a rendered message.
fn unshift_columns(text: &str, line: usize) -> String {
    let w = SENTINEL.len();
    let text = text.replace(SENTINEL, "");
    let key = format!("cell:{line}:");
    let mut out = String::new();
    let mut rest = text.as_str();
    while let Some(i) = rest.find(&key) {
        out.push_str(&rest[..i + key.len()]);
        rest = &rest[i + key.len()..];
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        if let Ok(col) = digits.parse::<usize>() {
            out.push_str(&col.saturating_sub(w).max(1).to_string());
            rest = &rest[digits.len()..];
        }
    }
    out.push_str(rest);
    out
}

fn classify(result: Result<evcxr::EvalOutputs, evcxr::Error>, panic: Option<(String, String)>) -> CellResult {
    let error = |ename: &str, evalue: String, traceback: Vec<String>| Outcome::Error { ename: ename.to_string(), evalue, traceback };
    match result {
        Ok(out) => {
            let value: MimeBundle = out.content_by_mime_type.into_iter().collect();
            let outcome = match panic {
                Some((msg, loc)) => {
                    let ename = if msg.starts_with("KeyboardInterrupt") { "KeyboardInterrupt" } else { "panic" };
                    let evalue = msg.strip_prefix("KeyboardInterrupt: ").unwrap_or(&msg).to_string();
                    // `src/lib.rs` is the crate evcxr generates from the cell: no use to the reader.
                    let at = if loc.starts_with("src/lib.rs") { "the cell".to_string() } else { loc };
                    error(ename, evalue, vec![format!("thread 'main' panicked in {at}:"), msg])
                }
                None => Outcome::Ok,
            };
            CellResult { outcome, value }
        }
        Err(evcxr::Error::CompilationErrors(errors)) => {
            let mut traceback = Vec::new();
            for e in &errors {
                traceback.extend(render_compile_error(e));
            }
            let first = errors.first().map(|e| e.message()).unwrap_or_else(|| "compilation failed".into());
            let evalue = if errors.len() > 1 { format!("{first} (and {} more errors)", errors.len() - 1) } else { first };
            CellResult { outcome: error("CompileError", evalue, traceback), value: MimeBundle::new() }
        }
        Err(e) => {
            let msg = e.to_string();
            CellResult { outcome: error("EvcxrError", msg.clone(), msg.lines().map(str::to_string).collect()), value: MimeBundle::new() }
        }
    }
}

/// The outcome of a cell that returned early through `?`: the error evcxr printed.
pub(crate) fn early_return(stderr_tail: &[String]) -> Outcome {
    let text = stderr_tail.join("\n");
    let (ename, evalue) = match text.strip_prefix("KeyboardInterrupt: ") {
        Some(rest) => ("KeyboardInterrupt", rest.to_string()),
        None => ("Error", if text.is_empty() { "the cell returned an error through `?`".to_string() } else { text.clone() }),
    };
    Outcome::Error { ename: ename.into(), evalue, traceback: stderr_tail.to_vec() }
}

/// A compile error as rustc shows it: `error[E0425]: ...`, ` --> cell:2:5`, the source line and
/// a caret under the span, then help notes.
fn render_compile_error(e: &evcxr::CompilationError) -> Vec<String> {
    let mut out = vec![match e.code() {
        Some(code) => format!("error[{code}]: {}", e.message()),
        None => format!("error: {}", e.message()),
    }];
    if !e.is_from_user_code() {
        out.extend(e.rendered().lines().map(str::to_string));
        return out;
    }
    for m in e.spanned_messages() {
        let Some(span) = &m.span else {
            if !m.label.is_empty() {
                out.push(format!("  = note: {}", m.label));
            }
            continue;
        };
        let num = span.start_line.to_string();
        let pad = " ".repeat(num.len());
        out.push(format!("{pad}--> cell:{}:{}", span.start_line, span.start_column));
        out.push(format!("{pad} |"));
        if let Some(src) = m.lines.first() {
            out.push(format!("{num} | {src}"));
            let width = if span.end_line == span.start_line { span.end_column.saturating_sub(span.start_column).max(1) } else { 1 };
            out.push(format!("{pad} | {}{} {}", " ".repeat(span.start_column.saturating_sub(1)), "^".repeat(width), m.label));
        }
    }
    for h in e.help() {
        out.push(format!("  = help: {h}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_cells_that_can_end_early_get_the_sentinel() {
        assert_eq!(with_sentinel("y * 2"), ("y * 2".to_string(), None));
        assert_eq!(with_sentinel("let v = vec![1, 2];\nprintln!(\"{v:?}\");").1, Some(1));
        assert_eq!(with_sentinel(":dep foo = \"1\"\n// load\nlet x = f()?;"), (":dep foo = \"1\"\n// load\nlet __dl_ok: u8 = 0; let x = f()?;".to_string(), Some(3)));
        assert_eq!(with_sentinel("if bad { return Err(e.into()); }").1, Some(1));
        assert_eq!(with_sentinel("    anyhow::bail!(\"no\")").0, "    let __dl_ok: u8 = 0; anyhow::bail!(\"no\")");
    }
}
