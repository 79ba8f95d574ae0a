//! The Jupyter kernel: the five sockets of the connection file and one handler per request.
//!
//! Shell requests run one at a time; `execute_request` hands the cell to the engine thread,
//! which publishes the cell's output on iopub as it happens. Control requests (interrupt,
//! shutdown, kernel_info) are answered while a cell runs. Every request is wrapped in `busy` /
//! `idle` status messages; `starting` is published once.

use crate::engine::{Engine, Interrupter, Outcome};
use crate::is_complete::{self, Verdict};
use crate::outputs::{bundle_json, with_plain_fallback, Event, MimeBundle};
use crate::wire::{self, Outgoing, Signer};
use anyhow::{Context, Result};
use bytes::Bytes;
use jupyter_protocol::{ConnectionInfo, Header, HistoryRequest, JupyterMessage, JupyterMessageContent as Msg};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use zeromq::{Socket, SocketRecv, SocketSend, ZmqMessage};

/// How long a cell gets to stop after an interrupt before its process is restarted.
const INTERRUPT_GRACE: Duration = Duration::from_secs(3);

/// Work for the engine thread.
enum Job {
    Execute { code: String, silent: bool, parent: Header, done: oneshot::Sender<crate::engine::CellResult> },
    Complete { code: String, cursor: usize, done: oneshot::Sender<(Vec<String>, usize, usize)> },
    Inspect { code: String, cursor: usize, done: oneshot::Sender<Option<(String, String)>> },
    /// The hidden cell that adopts a stand-in's directory and variables: no output, not counted.
    Adopt { code: String },
}

/// What the shell and control handlers share; nothing here waits for a running cell.
struct Shared {
    session: String,
    signer: Signer,
    iopub: mpsc::UnboundedSender<Outgoing>,
    interrupter: Arc<Mutex<Option<Interrupter>>>,
}

/// The shell handler's own state.
struct Kernel {
    shared: Arc<Shared>,
    jobs: std::sync::mpsc::Sender<Job>,
    /// The execute request being served, so engine start-up progress can be shown under it.
    current: Arc<Mutex<(Option<Header>, Vec<String>)>>,
    execution_count: u64,
    history: Vec<(usize, String)>,
}

/// Routes this process's stderr through a pipe: evcxr prints cargo's `Compiling ...` progress
/// there, and while a cell runs it belongs in the notebook (as `stderr` under that cell), not in
/// the kernel's log. Everything still goes to the original stderr too. Returns a handle on the
/// original stderr for the log.
fn capture_stderr(current: Arc<Mutex<(Option<Header>, Vec<String>)>>, iopub: mpsc::UnboundedSender<Outgoing>) -> Result<std::fs::File> {
    use std::io::{BufRead, Write};
    use std::os::fd::AsFd;
    // Close-on-exec: the processes this one starts (cargo, spares) must not hold the pipe a client
    // may be reading to its end.
    let original = std::fs::File::from(rustix::io::fcntl_dupfd_cloexec(std::io::stderr().as_fd(), 0)?);
    let (reader, writer) = std::io::pipe()?;
    rustix::stdio::dup2_stderr(&writer)?;
    drop(writer);
    let mut log = original.try_clone()?;
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(reader).lines() {
            let Ok(line) = line else { break };
            let _ = writeln!(log, "{line}");
            let cur = current.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(h) = &cur.0 {
                let _ = iopub.send(Outgoing::child(Some(h), "stream", json!({"name": "stderr", "text": format!("{}\n", line.trim_start())})));
            }
        }
    });
    Ok(original)
}

/// A kernel before it has its sockets: the engine warming on its own thread, and the channels
/// to it. A cold kernel binds its sockets right after; a spare waits for a stand-in first.
pub struct Prepared {
    iopub: mpsc::UnboundedSender<Outgoing>,
    iopub_rx: mpsc::UnboundedReceiver<Outgoing>,
    jobs: std::sync::mpsc::Sender<Job>,
    interrupter: Arc<Mutex<Option<Interrupter>>>,
    current: Arc<Mutex<(Option<Header>, Vec<String>)>>,
    /// [`WARMING`], [`WARM`] or [`FAILED`].
    state: Arc<AtomicU8>,
}

const WARMING: u8 = 0;
const WARM: u8 = 1;
const FAILED: u8 = 2;

/// How long a warm kernel waits without requests before it starts a spare for the next one.
const IDLE_BEFORE_SPARE: Duration = Duration::from_secs(3);

impl Prepared {
    /// `None` while the engine warms, then whether it started.
    pub fn warm(&self) -> Option<bool> {
        match self.state.load(Ordering::SeqCst) {
            WARMING => None,
            s => Some(s == WARM),
        }
    }

    /// Queues, before any request, the hidden cell that gives the cell process the stand-in's
    /// working directory and variables.
    pub fn adopt(&self, a: &crate::spare::Adoption) {
        if self.warm() == Some(true) {
            // Start-up messages of a spare that warmed unseen would only puzzle the first cell.
            self.current.lock().unwrap_or_else(|e| e.into_inner()).1.clear();
        }
        let code = crate::spare::adoption_cell(a, &crate::spare::own_per_kernel_env());
        let _ = self.jobs.send(Job::Adopt { code });
    }
}

/// Starts the engine (it warms on its own thread) and routes stderr to the notebook.
pub fn prepare() -> Prepared {
    let (iopub, iopub_rx) = mpsc::unbounded_channel::<Outgoing>();
    let (jobs, jobs_rx) = std::sync::mpsc::channel::<Job>();
    let interrupter = Arc::new(Mutex::new(None));
    let current: Arc<Mutex<(Option<Header>, Vec<String>)>> = Arc::new(Mutex::new((None, Vec::new())));
    match capture_stderr(current.clone(), iopub.clone()) {
        Ok(log) => crate::set_log_target(log),
        Err(e) => log::warn!("cannot capture stderr: {e}"),
    }
    let state = Arc::new(AtomicU8::new(WARMING));
    spawn_engine(jobs_rx, iopub.clone(), interrupter.clone(), current.clone(), state.clone());
    Prepared { iopub, iopub_rx, jobs, interrupter, current, state }
}

/// Runs a kernel for the connection file until a shutdown request.
///
/// # Errors
/// An unreadable connection file or a socket that cannot be bound.
pub fn serve(connection_file: &std::path::Path) -> Result<()> {
    let text = std::fs::read_to_string(connection_file).with_context(|| format!("reading {}", connection_file.display()))?;
    let info: ConnectionInfo = serde_json::from_str(&text).context("parsing the connection file")?;
    serve_prepared(prepare(), info)
}

/// Binds the sockets of `info` and serves until a shutdown request.
///
/// # Errors
/// A socket that cannot be bound.
pub fn serve_prepared(p: Prepared, info: ConnectionInfo) -> Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    rt.block_on(run(p, info))
}

/// Ends the kernel after a `shutdown_reply`: waits a moment so the reply leaves the socket.
async fn exit_after_shutdown() -> ! {
    tokio::time::sleep(Duration::from_millis(100)).await;
    std::process::exit(0);
}

/// Binds, retrying for a few seconds: after a restart the previous kernel on these ports may
/// still be on its way out.
async fn bind<S: Socket>(mut s: S, url: &str) -> Result<S> {
    let mut tries = 0;
    loop {
        match s.bind(url).await {
            Ok(_) => return Ok(s),
            Err(e) if tries < 30 => {
                log::info!("binding {url}: {e}; retrying");
                tries += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => return Err(e).with_context(|| format!("binding {url}")),
        }
    }
}

async fn run(p: Prepared, info: ConnectionInfo) -> Result<()> {
    let Prepared { iopub, mut iopub_rx, jobs, interrupter, current, state } = p;
    let signer = Signer::new(&info.key, &info.signature_scheme)?;
    let mut shell = bind(zeromq::RouterSocket::new(), &info.shell_url()).await?;
    let mut control = bind(zeromq::RouterSocket::new(), &info.control_url()).await?;
    let mut iopub_sock = bind(zeromq::PubSocket::new(), &info.iopub_url()).await?;
    let _stdin = bind(zeromq::RouterSocket::new(), &info.stdin_url()).await?;
    let mut hb = bind(zeromq::RepSocket::new(), &info.hb_url()).await?;
    let session = uuid::Uuid::new_v4().to_string();

    {
        let signer = Signer::new(&info.key, &info.signature_scheme)?;
        let session = session.clone();
        tokio::spawn(async move {
            while let Some(m) = iopub_rx.recv().await {
                let frames = wire::encode(&m, &session, &signer);
                if let Ok(msg) = ZmqMessage::try_from(frames) {
                    let _ = iopub_sock.send(msg).await;
                }
            }
        });
    }
    tokio::spawn(async move {
        while let Ok(m) = hb.recv().await {
            if hb.send(m).await.is_err() {
                break;
            }
        }
    });
    let _ = iopub.send(Outgoing::child(None, "status", json!({"execution_state": "starting"})));

    // Once warm and quiet for a moment, make sure a spare is warming for the next kernel.
    let idle_since = Arc::new(Mutex::new(Some(std::time::Instant::now())));
    if crate::spare::enabled() {
        let idle_since = idle_since.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(1)).await;
                let quiet = idle_since.lock().unwrap_or_else(|e| e.into_inner()).is_some_and(|t| t.elapsed() >= IDLE_BEFORE_SPARE);
                if quiet && state.load(Ordering::SeqCst) == WARM {
                    let _ = tokio::task::spawn_blocking(|| crate::spare::spawn_if_missing(false)).await;
                }
            }
        });
    }

    let shared = Arc::new(Shared { session, signer, iopub, interrupter });
    let mut kernel = Kernel { shared: shared.clone(), jobs, current, execution_count: 0, history: Vec::new() };

    // Control runs beside shell, so interrupts and shutdowns are served while a cell runs.
    tokio::spawn(async move {
        while let Ok(raw) = control.recv().await {
            let (replies, exit) = handle_control(&shared, raw.into_vec());
            send_all(&mut control, replies).await;
            if exit {
                exit_after_shutdown().await;
            }
        }
    });
    loop {
        let raw = shell.recv().await.context("shell socket")?;
        *idle_since.lock().unwrap_or_else(|e| e.into_inner()) = None;
        let (replies, exit, abort) = handle_shell(&mut kernel, raw.into_vec()).await;
        // Before the reply goes out: a client that waits for it sends its next request later.
        let ended = chrono::Utc::now();
        send_all(&mut shell, replies).await;
        if exit {
            exit_after_shutdown().await;
        }
        if abort {
            abort_queue(&mut shell, &mut kernel, ended).await;
        }
        *idle_since.lock().unwrap_or_else(|e| e.into_inner()) = Some(std::time::Instant::now());
    }
}

async fn send_all(socket: &mut zeromq::RouterSocket, replies: Vec<Vec<Bytes>>) {
    for frames in replies {
        if let Ok(m) = ZmqMessage::try_from(frames) {
            let _ = socket.send(m).await;
        }
    }
}

/// After an error with `stop_on_error`: execute requests that were already waiting, sent
/// before the failed cell ended (`failed_at`, taken before its reply was sent), are answered
/// `aborted` without running, as ipykernel does. A client that waits for each reply (nbclient)
/// never loses its next cell, however late this runs on a busy machine.
async fn abort_queue(shell: &mut zeromq::RouterSocket, k: &mut Kernel, mut failed_at: chrono::DateTime<chrono::Utc>) {
    while let Ok(Ok(raw)) = tokio::time::timeout(Duration::ZERO, shell.recv()).await {
        let sh = k.shared.clone();
        let replies = match wire::decode(raw.into_vec(), &sh.signer) {
            Ok(msg) if matches!(msg.content, Msg::ExecuteRequest(_)) && msg.header.date <= failed_at => {
                let _ = sh.iopub.send(status(&msg, "busy"));
                let reply = Outgoing::reply(&msg, "execute_reply", json!({"status": "aborted", "execution_count": k.execution_count}));
                let _ = sh.iopub.send(status(&msg, "idle"));
                vec![wire::encode(&reply, &sh.session, &sh.signer)]
            }
            Ok(msg) => {
                // A request sent after the failure runs; if it fails too, its own queue is aborted.
                let (replies, exit, again) = dispatch(k, msg).await;
                failed_at = chrono::Utc::now();
                send_all(shell, replies).await;
                if exit {
                    exit_after_shutdown().await;
                }
                if !again {
                    return;
                }
                continue;
            }
            Err(e) => {
                log::warn!("shell: dropped a message: {e}");
                Vec::new()
            }
        };
        send_all(shell, replies).await;
    }
}

fn status(parent: &JupyterMessage, state: &str) -> Outgoing {
    Outgoing::child(Some(&parent.header), "status", json!({"execution_state": state}))
}

fn spawn_engine(
    jobs: std::sync::mpsc::Receiver<Job>,
    iopub: mpsc::UnboundedSender<Outgoing>,
    interrupter: Arc<Mutex<Option<Interrupter>>>,
    current: Arc<Mutex<(Option<Header>, Vec<String>)>>,
    state: Arc<AtomicU8>,
) {
    std::thread::spawn(move || {
        let progress_iopub = iopub.clone();
        let progress_current = current.clone();
        let mut progress = move |line: &str| {
            let mut cur = progress_current.lock().unwrap_or_else(|e| e.into_inner());
            match &cur.0 {
                Some(h) => {
                    let _ = progress_iopub.send(Outgoing::child(Some(h), "stream", json!({"name": "stderr", "text": format!("{line}\n")})));
                }
                None => cur.1.push(format!("{line}\n")),
            }
        };
        let mut engine = match Engine::start(&mut progress) {
            Ok(e) => Some(e),
            Err(e) => {
                progress(&format!("The Rust (dl) kernel could not start: {e:#}"));
                None
            }
        };
        if let Some(e) = &engine {
            *interrupter.lock().unwrap_or_else(|e| e.into_inner()) = Some(e.interrupter(INTERRUPT_GRACE));
        }
        state.store(if engine.is_some() { WARM } else { FAILED }, Ordering::SeqCst);
        while let Ok(job) = jobs.recv() {
            match job {
                Job::Execute { code, silent, parent, done } => {
                    let Some(engine) = engine.as_mut() else {
                        let _ = done.send(crate::engine::CellResult {
                            outcome: Outcome::Error {
                                ename: "KernelError".into(),
                                evalue: "the kernel could not start dl-core; see the messages above".into(),
                                traceback: vec![],
                            },
                            value: MimeBundle::new(),
                        });
                        continue;
                    };
                    let iopub = iopub.clone();
                    let r = engine.execute(&code, &mut |e| {
                        if !silent {
                            let _ = iopub.send(event_message(&parent, e));
                        }
                    });
                    let _ = done.send(r);
                }
                Job::Complete { code, cursor, done } => {
                    let _ = done.send(engine.as_mut().map_or((Vec::new(), cursor, cursor), |e| e.complete(&code, cursor)));
                }
                Job::Inspect { code, cursor, done } => {
                    let _ = done.send(engine.as_mut().and_then(|e| e.inspect(&code, cursor)));
                }
                Job::Adopt { code } => {
                    if let Some(engine) = engine.as_mut() {
                        engine.adopt(&code);
                    }
                }
            }
        }
    });
}

/// An engine event as an iopub message.
fn event_message(parent: &Header, e: Event) -> Outgoing {
    match e {
        Event::Stdout(t) => Outgoing::child(Some(parent), "stream", json!({"name": "stdout", "text": t})),
        Event::Stderr(t) => Outgoing::child(Some(parent), "stream", json!({"name": "stderr", "text": t})),
        Event::Clear { wait } => Outgoing::child(Some(parent), "clear_output", json!({"wait": wait})),
        Event::Display { id, data, update } => {
            let data = bundle_json(&with_plain_fallback(data));
            let transient = id.map_or(json!({}), |i| json!({"display_id": i}));
            let kind = if update { "update_display_data" } else { "display_data" };
            Outgoing::child(Some(parent), kind, json!({"data": data, "metadata": {}, "transient": transient}))
        }
    }
}

/// A kernel shut down for good leaves a spare for the next one; on a restart the next kernel
/// is already on its way and would only compete with a spare for the processor.
fn leaving(restart: bool) {
    if !restart {
        crate::spare::spawn_if_missing(true);
    }
}

fn handle_control(k: &Shared, frames: Vec<Bytes>) -> (Vec<Vec<Bytes>>, bool) {
    let msg = match wire::decode(frames, &k.signer) {
        Ok(m) => m,
        Err(e) => {
            log::warn!("control: dropped a message: {e}");
            return (Vec::new(), false);
        }
    };
    let _ = k.iopub.send(status(&msg, "busy"));
    let (reply, exit) = match &msg.content {
        Msg::InterruptRequest(_) => {
            if let Some(i) = k.interrupter.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
                i.interrupt();
            }
            (Some(Outgoing::reply(&msg, "interrupt_reply", json!({"status": "ok"}))), false)
        }
        Msg::ShutdownRequest(r) => {
            leaving(r.restart);
            (Some(Outgoing::reply(&msg, "shutdown_reply", json!({"status": "ok", "restart": r.restart}))), true)
        }
        Msg::KernelInfoRequest(_) => (Some(Outgoing::reply(&msg, "kernel_info_reply", kernel_info())), false),
        other => {
            log::info!("control: no handler for {}", other.message_type());
            (None, false)
        }
    };
    let _ = k.iopub.send(status(&msg, "idle"));
    (reply.into_iter().map(|r| wire::encode(&r, &k.session, &k.signer)).collect(), exit)
}

async fn handle_shell(k: &mut Kernel, frames: Vec<Bytes>) -> (Vec<Vec<Bytes>>, bool, bool) {
    let decoded = wire::decode(frames, &k.shared.signer);
    match decoded {
        Ok(msg) => dispatch(k, msg).await,
        Err(e) => {
            log::warn!("shell: dropped a message: {e}");
            (Vec::new(), false, false)
        }
    }
}

/// Serves one shell request; returns the replies, whether to exit, and whether to abort the
/// queued executes.
async fn dispatch(k: &mut Kernel, msg: JupyterMessage) -> (Vec<Vec<Bytes>>, bool, bool) {
    let _ = k.shared.iopub.send(status(&msg, "busy"));
    let mut exit = false;
    let mut abort = false;
    let reply: Option<Outgoing> = match &msg.content {
        Msg::KernelInfoRequest(_) => Some(Outgoing::reply(&msg, "kernel_info_reply", kernel_info())),
        Msg::ExecuteRequest(req) => {
            let (reply, failed) = execute(k, &msg, &req.code, req.silent, req.store_history).await;
            abort = failed && req.stop_on_error;
            Some(reply)
        }
        Msg::CompleteRequest(req) => {
            let (tx, rx) = oneshot::channel();
            let byte = char_to_byte(&req.code, req.cursor_pos);
            let _ = k.jobs.send(Job::Complete { code: req.code.clone(), cursor: byte, done: tx });
            let (matches, start, end) = rx.await.unwrap_or((Vec::new(), byte, byte));
            Some(Outgoing::reply(
                &msg,
                "complete_reply",
                json!({"status": "ok", "matches": matches, "cursor_start": byte_to_char(&req.code, start),
                       "cursor_end": byte_to_char(&req.code, end), "metadata": {}}),
            ))
        }
        Msg::InspectRequest(req) => {
            let (tx, rx) = oneshot::channel();
            let byte = char_to_byte(&req.code, req.cursor_pos);
            let _ = k.jobs.send(Job::Inspect { code: req.code.clone(), cursor: byte, done: tx });
            let found = rx.await.ok().flatten();
            let data = found.as_ref().map_or(json!({}), |(text, html)| json!({"text/plain": text, "text/html": html}));
            Some(Outgoing::reply(&msg, "inspect_reply", json!({"status": "ok", "found": found.is_some(), "data": data, "metadata": {}})))
        }
        Msg::IsCompleteRequest(req) => {
            let content = match is_complete::check(&req.code) {
                Verdict::Complete => json!({"status": "complete"}),
                Verdict::Incomplete(indent) => json!({"status": "incomplete", "indent": indent}),
                Verdict::Invalid => json!({"status": "invalid"}),
            };
            Some(Outgoing::reply(&msg, "is_complete_reply", content))
        }
        Msg::HistoryRequest(req) => Some(Outgoing::reply(&msg, "history_reply", json!({"status": "ok", "history": history(&k.history, req)}))),
        Msg::CommInfoRequest(_) => Some(Outgoing::reply(&msg, "comm_info_reply", json!({"status": "ok", "comms": {}}))),
        Msg::CommOpen(open) => {
            // No comm targets are registered: close the comm at once, as the spec asks.
            let _ = k.shared.iopub.send(Outgoing::child(Some(&msg.header), "comm_close", json!({"comm_id": open.comm_id.0, "data": {}})));
            None
        }
        Msg::CommMsg(_) | Msg::CommClose(_) => None,
        Msg::ShutdownRequest(r) => {
            leaving(r.restart);
            exit = true;
            Some(Outgoing::reply(&msg, "shutdown_reply", json!({"status": "ok", "restart": r.restart})))
        }
        other => {
            log::info!("shell: no handler for {}", other.message_type());
            None
        }
    };
    let _ = k.shared.iopub.send(status(&msg, "idle"));
    (reply.into_iter().map(|r| wire::encode(&r, &k.shared.session, &k.shared.signer)).collect(), exit, abort)
}

/// Runs a cell; returns the execute_reply and whether the cell failed.
async fn execute(k: &mut Kernel, msg: &JupyterMessage, code: &str, silent: bool, store_history: bool) -> (Outgoing, bool) {
    let store = store_history && !silent;
    if store {
        k.execution_count += 1;
    }
    let count = k.execution_count;
    if !silent {
        let _ = k.shared.iopub.send(Outgoing::child(Some(&msg.header), "execute_input", json!({"code": code, "execution_count": count})));
    }
    {
        // Start-up progress (building dl-core) shows under the first cell that waits for it.
        let mut cur = k.current.lock().unwrap_or_else(|e| e.into_inner());
        for line in cur.1.drain(..) {
            let _ = k.shared.iopub.send(Outgoing::child(Some(&msg.header), "stream", json!({"name": "stderr", "text": line})));
        }
        cur.0 = Some(msg.header.clone());
    }
    let (tx, rx) = oneshot::channel();
    let _ = k.jobs.send(Job::Execute { code: code.to_string(), silent, parent: msg.header.clone(), done: tx });
    let result = rx.await;
    k.current.lock().unwrap_or_else(|e| e.into_inner()).0 = None;
    if store {
        k.history.push((count as usize, code.to_string()));
    }
    let result = match result {
        Ok(r) => r,
        Err(_) => crate::engine::CellResult {
            outcome: Outcome::Error { ename: "KernelError".into(), evalue: "the engine stopped".into(), traceback: vec![] },
            value: MimeBundle::new(),
        },
    };
    if !silent && !result.value.is_empty() {
        let data = bundle_json(&with_plain_fallback(result.value.clone()));
        let _ = k.shared.iopub.send(Outgoing::child(Some(&msg.header), "execute_result", json!({"execution_count": count, "data": data, "metadata": {}})));
    }
    match result.outcome {
        Outcome::Ok => (
            Outgoing::reply(msg, "execute_reply", json!({"status": "ok", "execution_count": count, "payload": [], "user_expressions": {}})),
            false,
        ),
        Outcome::Error { ename, evalue, traceback } => {
            if !silent {
                let _ = k.shared.iopub.send(Outgoing::child(
                    Some(&msg.header),
                    "error",
                    json!({"ename": ename, "evalue": evalue, "traceback": traceback}),
                ));
            }
            (
                Outgoing::reply(
                    msg,
                    "execute_reply",
                    json!({"status": "error", "execution_count": count, "ename": ename, "evalue": evalue, "traceback": traceback}),
                ),
                true,
            )
        }
    }
}

fn history(h: &[(usize, String)], req: &HistoryRequest) -> Value {
    let entry = |(n, code): &(usize, String), output: bool| if output { json!([1, n, [code, null]]) } else { json!([1, n, code]) };
    let items: Vec<Value> = match req {
        HistoryRequest::Tail { n, output, .. } => {
            let n = (*n).max(0) as usize;
            h.iter().skip(h.len().saturating_sub(n)).map(|e| entry(e, *output)).collect()
        }
        HistoryRequest::Range { session, start, stop, output, .. } => {
            if session.is_some_and(|s| s != 0 && s != 1) {
                Vec::new()
            } else {
                h.iter()
                    .filter(|(n, _)| *n as i32 >= *start && (*stop <= 0 || (*n as i32) < *stop))
                    .map(|e| entry(e, *output))
                    .collect()
            }
        }
        HistoryRequest::Search { pattern, unique, output, n, .. } => {
            let mut seen = std::collections::HashSet::new();
            let mut found: Vec<Value> = h
                .iter()
                .rev()
                .filter(|(_, code)| glob_match(pattern, code))
                .filter(|(_, code)| !*unique || seen.insert(code.clone()))
                .take(if *n > 0 { *n as usize } else { usize::MAX })
                .map(|e| entry(e, *output))
                .collect();
            found.reverse();
            found
        }
    };
    Value::Array(items)
}

/// Glob matching with `*` and `?`, as IPython's history search.
fn glob_match(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

/// Jupyter counts cursor positions in Unicode code points; evcxr in bytes.
fn char_to_byte(s: &str, chars: usize) -> usize {
    s.char_indices().nth(chars).map_or(s.len(), |(b, _)| b)
}

fn byte_to_char(s: &str, byte: usize) -> usize {
    s[..byte.min(s.len())].chars().count()
}

fn kernel_info() -> Value {
    let rustc = std::process::Command::new("rustc").arg("-V").output().map(|o| String::from_utf8_lossy(&o.stdout).to_string()).unwrap_or_default();
    let version = rustc.split_whitespace().nth(1).unwrap_or("").to_string();
    json!({
        "status": "ok",
        "protocol_version": "5.3",
        "implementation": "dl-kernel",
        "implementation_version": env!("CARGO_PKG_VERSION"),
        "language_info": {
            "name": "rust",
            "version": version,
            "mimetype": "text/rust",
            "file_extension": ".rs",
            "pygments_lexer": "rust",
            "codemirror_mode": "rust",
        },
        "banner": format!("Rust (dl): Rust {version} with dl-core preloaded (Keras-style deep learning)"),
        "help_links": [{"text": "dl-core", "url": "https://docs.rs/ndarray"}],
        "debugger": false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_positions_convert_between_code_points_and_bytes() {
        let s = "let é = 1; é"; // 12 code points, 14 bytes
        assert_eq!(char_to_byte(s, 11), 12);
        assert_eq!(byte_to_char(s, 12), 11);
        assert_eq!(char_to_byte(s, 12), 14);
        assert_eq!(byte_to_char(s, 14), 12);
        assert_eq!(char_to_byte(s, 100), s.len());
    }

    #[test]
    fn history_search_uses_globs() {
        assert!(glob_match("let*", "let x = 1;"));
        assert!(glob_match("*fit*", "model.fit(&x, &y, 1, 1)"));
        assert!(!glob_match("fit", "model.fit()"));
        assert!(glob_match("a?c", "abc"));
    }
}
