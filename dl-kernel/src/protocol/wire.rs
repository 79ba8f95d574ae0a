//! Raw ZeroMQ frames ⇄ Jupyter messages, with HMAC signing.
//!
//! A message on the wire is `[identities..., "<IDS|MSG>", signature, header, parent_header,
//! metadata, content, buffers...]`; the signature is the hex HMAC-SHA256 of the four JSON frames
//! under the connection file's key. Incoming messages are verified (constant-time comparison)
//! and checked against recently seen signatures, so an unsigned, wrongly signed or replayed
//! message is refused before it is parsed; the error says why but never quotes the message.

use bytes::Bytes;
use hmac::{Hmac, KeyInit, Mac};
use jupyter_protocol::{Header, JupyterMessage, JupyterMessageContent};
use serde_json::Value;
use sha2::Sha256;
use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;

const DELIMITER: &[u8] = b"<IDS|MSG>";
/// How many recent signatures are remembered to refuse replays.
const REPLAY_WINDOW: usize = 100_000;

/// Why an incoming message was refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum WireError {
    #[error("malformed message: {0}")]
    Malformed(&'static str),
    #[error("message without a valid signature")]
    BadSignature,
    #[error("replayed message (its signature was seen before)")]
    Replayed,
    #[error("message content that does not parse as {0}")]
    BadContent(String),
}

/// Signs outgoing and verifies incoming messages with the connection's key.
pub struct Signer {
    key: Option<Hmac<Sha256>>,
    seen: Mutex<Seen>,
}

/// Signatures already accepted (for replay checks), and their order, oldest first, for eviction.
type Seen = (HashSet<Vec<u8>>, VecDeque<Vec<u8>>);

impl Signer {
    /// A signer for `key` (empty: messages are neither signed nor checked, as Jupyter allows).
    ///
    /// # Errors
    /// A signature scheme other than `hmac-sha256`.
    pub fn new(key: &str, scheme: &str) -> anyhow::Result<Signer> {
        if !key.is_empty() && scheme != "hmac-sha256" {
            anyhow::bail!("unsupported signature_scheme {scheme:?} (only hmac-sha256)");
        }
        let key = (!key.is_empty())
            .then(|| Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("HMAC takes any key length"));
        Ok(Signer { key, seen: Mutex::new((HashSet::new(), VecDeque::new())) })
    }

    fn sign(&self, parts: &[&[u8]]) -> String {
        match &self.key {
            None => String::new(),
            Some(k) => {
                let mut mac = k.clone();
                parts.iter().for_each(|p| mac.update(p));
                hex::encode(mac.finalize().into_bytes())
            }
        }
    }

    fn verify(&self, signature: &[u8], parts: &[&[u8]]) -> Result<(), WireError> {
        let Some(k) = &self.key else { return Ok(()) };
        let sig = hex::decode(signature).map_err(|_| WireError::BadSignature)?;
        let mut mac = k.clone();
        parts.iter().for_each(|p| mac.update(p));
        mac.verify_slice(&sig).map_err(|_| WireError::BadSignature)?;
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if !seen.0.insert(sig.clone()) {
            return Err(WireError::Replayed);
        }
        seen.1.push_back(sig);
        if seen.1.len() > REPLAY_WINDOW {
            if let Some(old) = seen.1.pop_front() {
                seen.0.remove(&old);
            }
        }
        Ok(())
    }
}

/// Splits, verifies and parses an incoming multipart message.
///
/// # Errors
/// See [`WireError`].
pub fn decode(frames: Vec<Bytes>, signer: &Signer) -> Result<JupyterMessage, WireError> {
    let at =
        frames.iter().position(|f| f.as_ref() == DELIMITER).ok_or(WireError::Malformed("no <IDS|MSG> delimiter"))?;
    if frames.len() < at + 6 {
        return Err(WireError::Malformed("fewer than five frames after the delimiter"));
    }
    let (ids, rest) = frames.split_at(at);
    let (sig, header, parent, metadata, content) = (&rest[1], &rest[2], &rest[3], &rest[4], &rest[5]);
    signer.verify(sig, &[header, parent, metadata, content])?;
    let header: Header = serde_json::from_slice(header).map_err(|_| WireError::Malformed("header"))?;
    let parent_value: Value = serde_json::from_slice(parent).map_err(|_| WireError::Malformed("parent header"))?;
    let parent_header = match &parent_value {
        Value::Object(m) if m.is_empty() => None,
        v => serde_json::from_value::<Header>(v.clone()).ok(),
    };
    let metadata: Value = serde_json::from_slice(metadata).map_err(|_| WireError::Malformed("metadata"))?;
    let mut content: Value = serde_json::from_slice(content).map_err(|_| WireError::Malformed("content"))?;
    fill_defaults(&header.msg_type, &mut content);
    let content = JupyterMessageContent::from_type_and_content(&header.msg_type, content)
        .map_err(|_| WireError::BadContent(header.msg_type.clone()))?;
    Ok(JupyterMessage {
        zmq_identities: ids.to_vec(),
        header,
        parent_header,
        metadata,
        content,
        buffers: rest[6..].to_vec(),
        channel: None,
    })
}

/// Fields that the messaging spec gives defaults for (or that clients leave out), filled in so
/// that strict parsing accepts every conforming request.
fn fill_defaults(msg_type: &str, content: &mut Value) {
    let Value::Object(map) = content else { return };
    let defaults: &[(&str, Value)] = match msg_type {
        "execute_request" => &[
            ("silent", Value::Bool(false)),
            ("store_history", Value::Bool(true)),
            ("user_expressions", Value::Object(Default::default())),
            ("allow_stdin", Value::Bool(false)),
            ("stop_on_error", Value::Bool(true)),
        ],
        "history_request" => &[
            ("output", Value::Bool(false)),
            ("raw", Value::Bool(true)),
            ("unique", Value::Bool(false)),
            ("n", Value::from(10)),
            ("start", Value::from(0)),
            ("stop", Value::from(0)),
            ("pattern", Value::String("*".into())),
            ("hist_access_type", Value::String("range".into())),
        ],
        "complete_request" | "inspect_request" => &[("detail_level", Value::from(0))],
        "shutdown_request" => &[("restart", Value::Bool(false))],
        _ => &[],
    };
    for (k, v) in defaults {
        if !map.contains_key(*k) || map[*k].is_null() && *k != "session" {
            map.insert((*k).to_string(), v.clone());
        }
    }
}

/// An outgoing message: its type and JSON content, in reply to `parent` (if any).
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub msg_type: String,
    pub content: Value,
    pub parent: Option<Header>,
    pub identities: Vec<Bytes>,
}

impl Outgoing {
    /// A message of `msg_type` in reply to (or caused by) `parent`.
    pub fn reply(parent: &JupyterMessage, msg_type: &str, content: Value) -> Outgoing {
        Outgoing {
            msg_type: msg_type.into(),
            content,
            parent: Some(parent.header.clone()),
            identities: parent.zmq_identities.clone(),
        }
    }

    /// A message caused by a request whose header is `parent` (iopub traffic).
    pub fn child(parent: Option<&Header>, msg_type: &str, content: Value) -> Outgoing {
        Outgoing { msg_type: msg_type.into(), content, parent: parent.cloned(), identities: Vec::new() }
    }
}

/// The frames of an outgoing message, signed, with a fresh header in `session`.
pub fn encode(msg: &Outgoing, session: &str, signer: &Signer) -> Vec<Bytes> {
    let header = Header {
        msg_id: uuid::Uuid::new_v4().to_string(),
        username: "dl-kernel".into(),
        session: session.into(),
        date: chrono::Utc::now(),
        msg_type: msg.msg_type.clone(),
        version: "5.3".into(),
    };
    let header = serde_json::to_vec(&header).expect("header serialises");
    let parent = match &msg.parent {
        Some(p) => serde_json::to_vec(p).expect("header serialises"),
        None => b"{}".to_vec(),
    };
    let metadata = b"{}".to_vec();
    let content = serde_json::to_vec(&msg.content).expect("JSON serialises");
    let signature = signer.sign(&[&header, &parent, &metadata, &content]);
    let mut frames = msg.identities.clone();
    frames.push(Bytes::from_static(DELIMITER));
    frames.extend([signature.into_bytes(), header, parent, metadata, content].into_iter().map(Bytes::from));
    frames
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request(signer: &Signer, msg_type: &str, content: Value) -> Vec<Bytes> {
        let mut out = Outgoing::child(None, msg_type, content);
        out.identities = vec![Bytes::from_static(b"client-1")];
        encode(&out, "s", signer)
    }

    #[test]
    fn signed_messages_round_trip_and_keep_identities() {
        let s = Signer::new("secret", "hmac-sha256").unwrap();
        let m = decode(request(&s, "kernel_info_request", json!({})), &s).unwrap();
        assert_eq!(m.header.msg_type, "kernel_info_request");
        assert_eq!(m.zmq_identities, vec![Bytes::from_static(b"client-1")]);
        assert!(m.parent_header.is_none());
    }

    #[test]
    fn unsigned_forged_and_replayed_messages_are_refused() {
        let s = Signer::new("secret", "hmac-sha256").unwrap();
        let unsigned = request(&Signer::new("", "hmac-sha256").unwrap(), "kernel_info_request", json!({}));
        assert_eq!(decode(unsigned, &s).unwrap_err(), WireError::BadSignature);
        let forged = request(&Signer::new("other key", "hmac-sha256").unwrap(), "kernel_info_request", json!({}));
        assert_eq!(decode(forged, &s).unwrap_err(), WireError::BadSignature);
        let mut tampered = request(
            &s,
            "execute_request",
            json!({"code": "1", "silent": false, "store_history": true, "user_expressions": {}, "allow_stdin": false}),
        );
        let n = tampered.len();
        tampered[n - 1] = Bytes::from_static(br#"{"code": "std::process::exit(1)", "silent": false, "store_history": true, "user_expressions": {}, "allow_stdin": false}"#);
        assert_eq!(decode(tampered, &s).unwrap_err(), WireError::BadSignature);
        let good = request(&s, "kernel_info_request", json!({}));
        decode(good.clone(), &s).unwrap();
        assert_eq!(decode(good, &s).unwrap_err(), WireError::Replayed);
    }

    #[test]
    fn malformed_frames_are_errors_not_panics() {
        let s = Signer::new("k", "hmac-sha256").unwrap();
        assert!(decode(vec![], &s).is_err());
        assert!(decode(vec![Bytes::from_static(DELIMITER), Bytes::new()], &s).is_err());
        let mut bad_hex = request(&s, "kernel_info_request", json!({}));
        let at = bad_hex.iter().position(|f| f.as_ref() == DELIMITER).unwrap();
        bad_hex[at + 1] = Bytes::from_static(b"zz");
        assert_eq!(decode(bad_hex, &s).unwrap_err(), WireError::BadSignature);
        assert!(Signer::new("k", "hmac-md5").is_err());
    }
}
