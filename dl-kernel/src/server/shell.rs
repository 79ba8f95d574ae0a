//! The shell channel: one request at a time; `execute_request` hands the cell to the engine
//! thread, which publishes the cell's output on iopub as it happens.

use super::control::leaving;
use super::current_cell::CurrentCell;
use super::engine_thread::{Job, QueuedCell};
use super::sockets::{exit_after_shutdown, send_all, status};
use super::Shared;
use crate::engine::events::bundle_json;
use crate::engine::{CellResult, Outcome};
use crate::protocol::history::History;
use crate::protocol::is_complete::{self, Verdict};
use crate::protocol::wire::{self, Outgoing};
use crate::protocol::{byte_to_char, char_to_byte, kernel_info};
use bytes::Bytes;
use dl_core::kernel_protocol::MimeBundle;
use jupyter_protocol::{JupyterMessage, JupyterMessageContent as Msg};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;

/// The shell handler's own state.
pub struct Kernel {
    pub shared: Arc<Shared>,
    pub jobs: std::sync::mpsc::Sender<Job>,
    pub current: CurrentCell,
    pub execution_count: u64,
    pub history: History,
}

/// What serving one shell request gives.
#[derive(Default)]
pub struct Handled {
    /// The encoded replies, to send on the shell socket.
    pub replies: Vec<Vec<Bytes>>,
    /// A shutdown request: exit once the replies are out.
    pub exit: bool,
    /// A cell failed with `stop_on_error`: abort the execute requests already queued.
    pub abort: bool,
}

/// Decodes and serves one shell request (an undecodable one is dropped, with a log line).
pub async fn handle(k: &mut Kernel, frames: Vec<Bytes>) -> Handled {
    match wire::decode(frames, &k.shared.signer) {
        Ok(msg) => dispatch(k, msg).await,
        Err(e) => {
            log::warn!("shell: dropped a message: {e}");
            Handled::default()
        }
    }
}

/// After an error with `stop_on_error`: execute requests that were already waiting, sent
/// before the failed cell ended (`failed_at`, taken before its reply was sent), are answered
/// `aborted` without running, as ipykernel does. A client that waits for each reply (nbclient)
/// never loses its next cell, however late this runs on a busy machine.
pub async fn abort_queue(
    shell: &mut zeromq::RouterSocket,
    k: &mut Kernel,
    mut failed_at: chrono::DateTime<chrono::Utc>,
) {
    use zeromq::SocketRecv;
    while let Ok(Ok(raw)) = tokio::time::timeout(Duration::ZERO, shell.recv()).await {
        let sh = k.shared.clone();
        let replies = match wire::decode(raw.into_vec(), &sh.signer) {
            Ok(msg) if matches!(msg.content, Msg::ExecuteRequest(_)) && msg.header.date <= failed_at => {
                let _ = sh.iopub.send(status(&msg, "busy"));
                let reply = Outgoing::reply(
                    &msg,
                    "execute_reply",
                    json!({"status": "aborted", "execution_count": k.execution_count}),
                );
                let _ = sh.iopub.send(status(&msg, "idle"));
                vec![wire::encode(&reply, &sh.session, &sh.signer)]
            }
            Ok(msg) => {
                // A request sent after the failure runs; if it fails too, its own queue is aborted.
                let handled = dispatch(k, msg).await;
                failed_at = chrono::Utc::now();
                send_all(shell, handled.replies).await;
                if handled.exit {
                    exit_after_shutdown().await;
                }
                if !handled.abort {
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

/// Serves one shell request.
async fn dispatch(k: &mut Kernel, msg: JupyterMessage) -> Handled {
    let _ = k.shared.iopub.send(status(&msg, "busy"));
    let mut handled = Handled::default();
    let reply: Option<Outgoing> = match &msg.content {
        Msg::KernelInfoRequest(_) => Some(Outgoing::reply(&msg, "kernel_info_reply", kernel_info())),
        Msg::ExecuteRequest(req) => {
            let (reply, failed) = execute(k, &msg, &req.code, req.silent, req.store_history).await;
            handled.abort = failed && req.stop_on_error;
            Some(reply)
        }
        Msg::CompleteRequest(req) => {
            let (tx, rx) = oneshot::channel();
            let byte = char_to_byte(&req.code, req.cursor_pos);
            let _ = k.jobs.send(Job::Complete { code: req.code.clone(), cursor: byte, done: tx });
            let (matches, start, end) = rx.await.unwrap_or((Vec::new(), byte, byte));
            let (start, end) = (byte_to_char(&req.code, start), byte_to_char(&req.code, end));
            // The type of each match, as ipykernel sends it, for JupyterLab's completer.
            let types: Vec<_> = matches
                .iter()
                .map(|m| json!({"start": start, "end": end, "text": m.text, "type": m.kind, "signature": ""}))
                .collect();
            let texts: Vec<&str> = matches.iter().map(|m| m.text.as_str()).collect();
            Some(Outgoing::reply(
                &msg,
                "complete_reply",
                json!({"status": "ok", "matches": texts, "cursor_start": start, "cursor_end": end,
                       "metadata": {"_jupyter_types_experimental": types}}),
            ))
        }
        Msg::InspectRequest(req) => {
            let (tx, rx) = oneshot::channel();
            let byte = char_to_byte(&req.code, req.cursor_pos);
            let _ = k.jobs.send(Job::Inspect { code: req.code.clone(), cursor: byte, done: tx });
            let found = rx.await.ok().flatten();
            let data = found.as_ref().map_or(json!({}), |text| json!({"text/plain": text}));
            Some(Outgoing::reply(
                &msg,
                "inspect_reply",
                json!({"status": "ok", "found": found.is_some(), "data": data, "metadata": {}}),
            ))
        }
        Msg::IsCompleteRequest(req) => {
            let content = match is_complete::check(&req.code) {
                Verdict::Complete => json!({"status": "complete"}),
                Verdict::Incomplete(indent) => json!({"status": "incomplete", "indent": indent}),
                Verdict::Invalid => json!({"status": "invalid"}),
            };
            Some(Outgoing::reply(&msg, "is_complete_reply", content))
        }
        Msg::HistoryRequest(req) => {
            Some(Outgoing::reply(&msg, "history_reply", json!({"status": "ok", "history": k.history.reply(req)})))
        }
        Msg::CommInfoRequest(_) => Some(Outgoing::reply(&msg, "comm_info_reply", json!({"status": "ok", "comms": {}}))),
        Msg::CommOpen(open) => {
            // No comm targets are registered: close the comm at once, as the spec asks.
            let _ = k.shared.iopub.send(Outgoing::child(
                Some(&msg.header),
                "comm_close",
                json!({"comm_id": open.comm_id.0, "data": {}}),
            ));
            None
        }
        Msg::CommMsg(_) | Msg::CommClose(_) => None,
        Msg::ShutdownRequest(r) => {
            leaving(r.restart);
            handled.exit = true;
            Some(Outgoing::reply(&msg, "shutdown_reply", json!({"status": "ok", "restart": r.restart})))
        }
        other => {
            log::info!("shell: no handler for {}", other.message_type());
            None
        }
    };
    let _ = k.shared.iopub.send(status(&msg, "idle"));
    handled.replies = reply.into_iter().map(|r| wire::encode(&r, &k.shared.session, &k.shared.signer)).collect();
    handled
}

/// Runs a cell; returns the execute_reply and whether the cell failed.
async fn execute(
    k: &mut Kernel,
    msg: &JupyterMessage,
    code: &str,
    silent: bool,
    store_history: bool,
) -> (Outgoing, bool) {
    let store = store_history && !silent;
    if store {
        k.execution_count += 1;
    }
    let count = k.execution_count;
    let iopub = &k.shared.iopub;
    if !silent {
        let _ = iopub.send(Outgoing::child(
            Some(&msg.header),
            "execute_input",
            json!({"code": code, "execution_count": count}),
        ));
    }
    // Start-up progress (building dl-core) shows under the first cell that waits for it.
    k.current.begin(&msg.header);
    let (tx, rx) = oneshot::channel();
    let queued = Arc::new(QueuedCell::default());
    *k.shared.queued.lock().unwrap_or_else(|e| e.into_inner()) = Some(queued.clone());
    let job =
        Job::Execute { code: code.to_string(), silent, parent: msg.header.clone(), queued: queued.clone(), done: tx };
    let _ = k.jobs.send(job);
    let result = tokio::select! {
        r = rx => r.ok(),
        _ = queued.cancelled.notified() => Some(cancelled_before_it_ran()),
    };
    *k.shared.queued.lock().unwrap_or_else(|e| e.into_inner()) = None;
    k.current.end();
    if store {
        k.history.push(count as usize, code);
    }
    let result = result.unwrap_or_else(|| CellResult {
        outcome: Outcome::Error { ename: "KernelError".into(), evalue: "the engine stopped".into(), traceback: vec![] },
        value: MimeBundle::new(),
    });
    if !silent && !result.value.is_empty() {
        let data = bundle_json(result.value);
        let _ = iopub.send(Outgoing::child(
            Some(&msg.header),
            "execute_result",
            json!({"execution_count": count, "data": data, "metadata": {}}),
        ));
    }
    match result.outcome {
        Outcome::Ok => (
            Outgoing::reply(
                msg,
                "execute_reply",
                json!({"status": "ok", "execution_count": count, "payload": [], "user_expressions": {}}),
            ),
            false,
        ),
        Outcome::Error { ename, evalue, traceback } => {
            if !silent {
                let _ = iopub.send(Outgoing::child(
                    Some(&msg.header),
                    "error",
                    json!({"ename": ename, "evalue": evalue, "traceback": traceback}),
                ));
            }
            let content = json!({"status": "error", "execution_count": count, "ename": ename, "evalue": evalue, "traceback": traceback});
            (Outgoing::reply(msg, "execute_reply", content), true)
        }
    }
}

/// The result of a cell interrupted before the engine took it (still loading dl-core, or busy
/// with the previous cell's catching up).
fn cancelled_before_it_ran() -> CellResult {
    let evalue = "interrupted before the cell ran (the kernel was still loading dl-core, or running again the cells before a restart); nothing of it ran";
    CellResult {
        outcome: Outcome::Error {
            ename: "KeyboardInterrupt".into(),
            evalue: evalue.into(),
            traceback: vec![format!("KeyboardInterrupt: {evalue}")],
        },
        value: MimeBundle::new(),
    }
}
