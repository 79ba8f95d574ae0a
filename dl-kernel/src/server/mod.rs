//! The Jupyter kernel: the five sockets of the connection file and one handler per request.
//!
//! ```text
//! server/
//!   mod.rs             Prepared (engine warming, channels), serve: sockets, loops, idle spares
//!   shell.rs           shell requests, one at a time; execute hands cells to the engine thread
//!   control.rs         interrupt, shutdown, kernel_info, usage, answered while a cell runs
//!   engine_thread.rs   the engine on its own thread; events published on iopub
//!   current_cell.rs    where output that is not a cell's own goes
//!   stderr_capture.rs  the kernel's stderr routed under the running cell
//!   sockets.rs         binding, sending, status, exit
//!   usage.rs           usage_request: the kernel's memory and CPU, the machine's
//! ```
//!
//! Every request is wrapped in `busy` / `idle` status messages; `starting` is published once.

mod control;
mod current_cell;
mod engine_thread;
mod shell;
mod sockets;
mod stderr_capture;
mod usage;

use crate::protocol::history::History;
use crate::protocol::wire::{self, Outgoing, Signer};
use anyhow::{Context, Result};
use current_cell::CurrentCell;
use engine_thread::{EngineState, Job, QueuedCell, SharedInterrupter, FAILED, WARM, WARMING};
use jupyter_protocol::ConnectionInfo;
use serde_json::json;
use sockets::{bind, exit_after_shutdown, send_all};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use zeromq::{Socket, SocketRecv, SocketSend, ZmqMessage};

/// What the shell and control handlers share; nothing here waits for a running cell.
pub struct Shared {
    session: String,
    signer: Signer,
    iopub: mpsc::UnboundedSender<Outgoing>,
    interrupter: SharedInterrupter,
    /// The execute request handed to the engine thread, until it ends.
    queued: Mutex<Option<Arc<QueuedCell>>>,
}

/// A kernel before it has its sockets: the engine warming on its own thread, and the channels
/// to it. A cold kernel binds its sockets right after; a spare waits for a stand-in first.
pub struct Prepared {
    iopub: mpsc::UnboundedSender<Outgoing>,
    iopub_rx: mpsc::UnboundedReceiver<Outgoing>,
    jobs: std::sync::mpsc::Sender<Job>,
    interrupter: SharedInterrupter,
    current: CurrentCell,
    state: EngineState,
}

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
            self.current.forget_pending();
        }
        crate::engine::fair::set_grading(crate::engine::fair::requested_by(|k| a.env.get(k).cloned()));
        let code = crate::spare::adoption_cell(a, &crate::spare::own_per_kernel_env());
        let _ = self.jobs.send(Job::Adopt { code });
    }
}

/// Starts the engine (it warms on its own thread) and routes stderr to the notebook.
pub fn prepare() -> Prepared {
    let (iopub, iopub_rx) = mpsc::unbounded_channel::<Outgoing>();
    let (jobs, jobs_rx) = std::sync::mpsc::channel::<Job>();
    let interrupter: SharedInterrupter = Arc::new(Mutex::new(None));
    let current = CurrentCell::new(iopub.clone());
    match stderr_capture::capture_stderr(current.clone()) {
        Ok(log) => crate::kernel_log::set_target(log),
        Err(e) => log::warn!("cannot capture stderr: {e}"),
    }
    let state = Arc::new(AtomicU8::new(WARMING));
    debug_assert_ne!(WARMING, FAILED);
    engine_thread::spawn(jobs_rx, iopub.clone(), interrupter.clone(), current.clone(), state.clone());
    Prepared { iopub, iopub_rx, jobs, interrupter, current, state }
}

/// Runs a kernel for the connection file until a shutdown request.
///
/// # Errors
/// An unreadable connection file or a socket that cannot be bound.
pub fn serve(connection_file: &std::path::Path) -> Result<()> {
    let text =
        std::fs::read_to_string(connection_file).with_context(|| format!("reading {}", connection_file.display()))?;
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
    let idle_since = Arc::new(Mutex::new(Some(Instant::now())));
    if crate::spare::enabled() {
        let idle_since = idle_since.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(1)).await;
                let quiet = idle_since
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .is_some_and(|t| t.elapsed() >= IDLE_BEFORE_SPARE);
                if quiet && state.load(Ordering::SeqCst) == WARM {
                    let _ = tokio::task::spawn_blocking(|| crate::spare::spawn_if_missing(false)).await;
                }
            }
        });
    }

    let shared = Arc::new(Shared { session, signer, iopub, interrupter, queued: Mutex::new(None) });
    let mut kernel =
        shell::Kernel { shared: shared.clone(), jobs, current, execution_count: 0, history: History::default() };

    // Control runs beside shell, so interrupts and shutdowns are served while a cell runs.
    tokio::spawn(async move {
        while let Ok(raw) = control.recv().await {
            let reply = control::handle(&shared, raw.into_vec());
            send_all(&mut control, reply.replies).await;
            if reply.exit {
                exit_after_shutdown().await;
            }
        }
    });
    loop {
        let raw = shell.recv().await.context("shell socket")?;
        *idle_since.lock().unwrap_or_else(|e| e.into_inner()) = None;
        let handled = shell::handle(&mut kernel, raw.into_vec()).await;
        // Before the reply goes out: a client that waits for it sends its next request later.
        let ended = chrono::Utc::now();
        send_all(&mut shell, handled.replies).await;
        if handled.exit {
            exit_after_shutdown().await;
        }
        if handled.abort {
            shell::abort_queue(&mut shell, &mut kernel, ended).await;
        }
        *idle_since.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
    }
}
