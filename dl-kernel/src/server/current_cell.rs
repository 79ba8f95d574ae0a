//! Output that is not a cell's own: the engine's start-up progress (building dl-core) and
//! whatever evcxr and cargo print on the kernel's stderr while a cell compiles. It belongs under
//! the execute request being served; start-up progress that comes while none is, waits for the
//! next one. While grading it goes to the log only: nbgrader scores any stderr output in a test
//! cell as a failure (see `engine::fair`).

use crate::protocol::wire::Outgoing;
use jupyter_protocol::Header;
use serde_json::json;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc::UnboundedSender;

/// The execute request being served (if any) and the progress lines waiting for one.
#[derive(Clone)]
pub struct CurrentCell {
    state: Arc<Mutex<State>>,
    iopub: UnboundedSender<Outgoing>,
}

#[derive(Default)]
struct State {
    parent: Option<Header>,
    pending: Vec<String>,
}

impl CurrentCell {
    pub fn new(iopub: UnboundedSender<Outgoing>) -> CurrentCell {
        CurrentCell { state: Arc::default(), iopub }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn stderr(&self, parent: &Header, text: String) {
        if crate::engine::fair::grading() {
            log::info!("(not shown while grading) {}", text.trim_end());
            return;
        }
        let _ = self.iopub.send(Outgoing::child(Some(parent), "stream", json!({"name": "stderr", "text": text})));
    }

    /// The request `parent` starts: the progress lines kept so far are shown under it.
    pub fn begin(&self, parent: &Header) {
        let mut s = self.lock();
        for line in std::mem::take(&mut s.pending) {
            self.stderr(parent, line);
        }
        s.parent = Some(parent.clone());
    }

    /// The request ends.
    pub fn end(&self) {
        self.lock().parent = None;
    }

    /// A start-up progress line: shown under the running request, else kept for the next one.
    pub fn progress(&self, line: &str) {
        let mut s = self.lock();
        match &s.parent {
            Some(h) => self.stderr(h, format!("{line}\n")),
            None => s.pending.push(format!("{line}\n")),
        }
    }

    /// A line of the kernel's stderr: shown under the running request, if any.
    pub fn stderr_line(&self, line: &str) {
        if let Some(h) = &self.lock().parent {
            self.stderr(h, format!("{line}\n"));
        }
    }

    /// Forgets the progress lines kept so far (a spare that warmed unseen).
    pub fn forget_pending(&self) {
        self.lock().pending.clear();
    }
}
