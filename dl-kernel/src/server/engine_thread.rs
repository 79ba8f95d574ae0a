//! The engine on a thread of its own: it warms up (evcxr, dl-core's preload) while the sockets
//! serve, then takes jobs one at a time. A cell's events are published on iopub as they happen.

use super::current_cell::CurrentCell;
use crate::engine::events::bundle_json;
use crate::engine::{CellResult, Engine, Event, Interrupter, Outcome};
use crate::protocol::wire::Outgoing;
use dl_core::kernel_protocol::MimeBundle;
use jupyter_protocol::Header;
use serde_json::json;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// How long a cell gets to stop after an interrupt before its process is restarted.
const INTERRUPT_GRACE: Duration = Duration::from_secs(3);

/// The engine's state, as [`EngineState`] stores it.
pub const WARMING: u8 = 0;
pub const WARM: u8 = 1;
pub const FAILED: u8 = 2;

/// [`WARMING`], [`WARM`] or [`FAILED`], shared with the threads that wait for the engine.
pub type EngineState = Arc<AtomicU8>;

/// Completions: the matches and the byte range of the code they replace.
pub type Completions = (Vec<crate::engine::completion::Match>, usize, usize);

/// An execute request handed to the engine thread: waiting behind the engine's start or an
/// earlier job, running, or cancelled by an interrupt before it ran.
#[derive(Default)]
pub struct QueuedCell {
    state: AtomicU8,
    /// Wakes the request's handler when the cell is cancelled.
    pub cancelled: tokio::sync::Notify,
}

impl QueuedCell {
    const WAITING: u8 = 0;
    const RUNNING: u8 = 1;
    const CANCELLED: u8 = 2;

    /// The engine takes the cell: false if it was cancelled first.
    fn start(&self) -> bool {
        self.state.compare_exchange(Self::WAITING, Self::RUNNING, Ordering::SeqCst, Ordering::SeqCst).is_ok()
    }

    /// An interrupt before the cell started: cancels it and wakes its handler. False once the
    /// cell runs (the interrupt is then the running cell's).
    pub fn cancel(&self) -> bool {
        let cancelled =
            self.state.compare_exchange(Self::WAITING, Self::CANCELLED, Ordering::SeqCst, Ordering::SeqCst).is_ok();
        if cancelled {
            self.cancelled.notify_one();
        }
        cancelled
    }
}

/// Work for the engine thread.
pub enum Job {
    Execute {
        code: String,
        silent: bool,
        parent: Header,
        queued: Arc<QueuedCell>,
        done: oneshot::Sender<CellResult>,
    },
    Complete {
        code: String,
        cursor: usize,
        done: oneshot::Sender<Completions>,
    },
    Inspect {
        code: String,
        cursor: usize,
        done: oneshot::Sender<Option<String>>,
    },
    /// The hidden cell that adopts a stand-in's directory and variables: no output, not counted.
    Adopt {
        code: String,
    },
}

/// The handle other threads use to interrupt a cell, once the engine has started.
pub type SharedInterrupter = Arc<Mutex<Option<Interrupter>>>;

/// Starts the engine's thread.
pub fn spawn(
    jobs: std::sync::mpsc::Receiver<Job>,
    iopub: mpsc::UnboundedSender<Outgoing>,
    interrupter: SharedInterrupter,
    current: CurrentCell,
    state: EngineState,
) {
    std::thread::spawn(move || {
        let mut progress = |line: &str| current.progress(line);
        // The standard library's stability index, for completion, while the engine warms.
        std::thread::spawn(crate::engine::completion::StdStability::get);
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
                Job::Execute { code, silent, parent, queued, done } => {
                    if !queued.start() {
                        continue;
                    }
                    let Some(engine) = engine.as_mut() else {
                        let _ = done.send(CellResult {
                            outcome: Outcome::Error {
                                ename: "KernelError".into(),
                                evalue: "the kernel could not start dl-core; see the messages above".into(),
                                traceback: vec![],
                            },
                            value: MimeBundle::new(),
                        });
                        continue;
                    };
                    let r = engine.execute(&code, &mut |e| {
                        if !silent {
                            let _ = iopub.send(event_message(&parent, e));
                        }
                    });
                    let _ = done.send(r);
                    engine.catch_up();
                }
                Job::Complete { code, cursor, done } => {
                    let _ =
                        done.send(engine.as_mut().map_or((Vec::new(), cursor, cursor), |e| e.complete(&code, cursor)));
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
            let transient = id.map_or(json!({}), |i| json!({"display_id": i}));
            let kind = if update { "update_display_data" } else { "display_data" };
            Outgoing::child(
                Some(parent),
                kind,
                json!({"data": bundle_json(data), "metadata": {}, "transient": transient}),
            )
        }
    }
}
