//! The control channel: interrupt, shutdown, kernel_info and usage, answered while a cell runs.

use super::sockets::status;
use super::Shared;
use crate::protocol::kernel_info;
use crate::protocol::wire::{self, Outgoing};
use bytes::Bytes;
use jupyter_protocol::JupyterMessageContent as Msg;
use serde_json::json;

/// What handling one control request gives: the encoded replies, and whether to exit.
pub struct ControlReply {
    pub replies: Vec<Vec<Bytes>>,
    pub exit: bool,
}

/// A kernel shut down for good leaves a spare for the next one; on a restart the next kernel
/// is already on its way and would only compete with a spare for the processor.
pub fn leaving(restart: bool) {
    if !restart {
        crate::spare::spawn_if_missing(true);
    }
}

/// Serves one control request.
pub fn handle(k: &Shared, frames: Vec<Bytes>) -> ControlReply {
    let msg = match wire::decode(frames, &k.signer) {
        Ok(m) => m,
        Err(e) => {
            log::warn!("control: dropped a message: {e}");
            return ControlReply { replies: Vec::new(), exit: false };
        }
    };
    let _ = k.iopub.send(status(&msg, "busy"));
    let (reply, exit) = match &msg.content {
        Msg::InterruptRequest(_) => {
            // A cell still waiting for the engine (warming up, building dl-core) is cancelled at
            // once; a running one is interrupted.
            let queued = k.queued.lock().unwrap_or_else(|e| e.into_inner()).clone();
            if !queued.is_some_and(|q| q.cancel()) {
                if let Some(i) = k.interrupter.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
                    i.interrupt();
                }
            }
            (Some(Outgoing::reply(&msg, "interrupt_reply", json!({"status": "ok"}))), false)
        }
        Msg::ShutdownRequest(r) => {
            leaving(r.restart);
            (Some(Outgoing::reply(&msg, "shutdown_reply", json!({"status": "ok", "restart": r.restart}))), true)
        }
        Msg::KernelInfoRequest(_) => (Some(Outgoing::reply(&msg, "kernel_info_reply", kernel_info())), false),
        Msg::UnknownMessage(u) if u.msg_type == "usage_request" => {
            (Some(Outgoing::reply(&msg, "usage_reply", super::usage::usage())), false)
        }
        other => {
            log::info!("control: no handler for {}", other.message_type());
            (None, false)
        }
    };
    let _ = k.iopub.send(status(&msg, "idle"));
    ControlReply { replies: reply.into_iter().map(|r| wire::encode(&r, &k.session, &k.signer)).collect(), exit }
}
