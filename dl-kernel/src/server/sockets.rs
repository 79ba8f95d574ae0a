//! The ZeroMQ side: binding the connection file's ports, sending replies, `status` messages,
//! and leaving after a shutdown.

use crate::protocol::wire::Outgoing;
use anyhow::{Context, Result};
use bytes::Bytes;
use jupyter_protocol::JupyterMessage;
use serde_json::json;
use std::time::Duration;
use zeromq::{Socket, SocketSend, ZmqMessage};

/// Binds, retrying for a few seconds: after a restart the previous kernel on these ports may
/// still be on its way out.
pub async fn bind<S: Socket>(mut s: S, url: &str) -> Result<S> {
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

/// Sends each encoded reply on `socket`.
pub async fn send_all(socket: &mut zeromq::RouterSocket, replies: Vec<Vec<Bytes>>) {
    for frames in replies {
        if let Ok(m) = ZmqMessage::try_from(frames) {
            let _ = socket.send(m).await;
        }
    }
}

/// The `status` message (`busy`, `idle`) around the handling of `parent`.
pub fn status(parent: &JupyterMessage, state: &str) -> Outgoing {
    Outgoing::child(Some(&parent.header), "status", json!({"execution_state": state}))
}

/// Ends the kernel after a `shutdown_reply`: waits a moment so the reply leaves the socket.
pub async fn exit_after_shutdown() -> ! {
    tokio::time::sleep(Duration::from_millis(100)).await;
    crate::engine::cleanup::exit(0);
}
