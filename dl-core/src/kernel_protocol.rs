//! The protocol between code running in a notebook cell and the dl-kernel that runs it: the one
//! definition of everything that crosses that boundary. dl-core writes it from inside a cell,
//! dl-kernel reads it; neither side spells any of it out anywhere else.
//!
//! What crosses, and how:
//!
//! | what | direction | carrier |
//! |------|-----------|---------|
//! | rich output as it happens ([`CellMessage`]: display, update, clear, panic) | cell → kernel | one line on stdout: [`MARKER`] + JSON |
//! | "you run inside the kernel" | kernel → cell | [`DISPLAY_ENV`]` = 1` |
//! | state shared by every cell (seed, name counters, display ids) | both | small files in [`SESSION_DIR_ENV`] |
//! | interrupt request | kernel → cell | the file [`INTERRUPT_FILE`] in the session directory |
//! | end of a cell's stderr | kernel → kernel, through the cell's pipe | a line starting with [`FENCE_PREFIX`] |
//! | downloads for a dl-core built without HTTP | cell → kernel binary | `$`[`DOWNLOAD_HELPER_ENV`]` fetch URL DEST`, answering [`HelperLine`]s |
//!
//! ```
//! use dl_core::kernel_protocol::{CellMessage, MimeBundle};
//! let mut data = MimeBundle::new();
//! data.insert("text/plain".into(), "1/1 ━━━━ 0s".into());
//! let msg = CellMessage::Update { id: "dl-a1-3".into(), data };
//! let line = msg.to_line();
//! assert_eq!(CellMessage::parse_line(&line), Some(Ok(msg)));
//! assert_eq!(CellMessage::parse_line("ordinary output"), None);
//! ```

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Set to `1` by the kernel for the process that runs cells: dl-core then sends rich output as
/// [`CellMessage`] lines instead of printing text.
pub const DISPLAY_ENV: &str = "DL_KERNEL_DISPLAY";

/// The directory, set by the kernel, where state shared by every cell of a session lives (each
/// cell is a separate shared library with its own copy of dl-core's statics).
pub const SESSION_DIR_ENV: &str = "DL_SESSION_DIR";

/// The file in the session directory whose existence asks the running loop to stop.
pub const INTERRUPT_FILE: &str = "interrupt";

/// How an interrupted training loop's error ends (after `fit stopped at epoch E, batch B; `).
/// True in a program, where the caller still owns the model; the kernel replaces it when the
/// interrupted cell's own variables (a model made in that cell among them) ended with the cell.
pub const INTERRUPT_KEEPS_WEIGHTS: &str = "the model keeps the weights learned so far";

/// Prefix of a [`CellMessage`] line on the cell's stdout. It starts with a control character,
/// so that no ordinary program output is mistaken for it.
pub const MARKER: &str = "\u{1b}]dl-display;";

/// Prefix of the line the kernel writes into the cell process's stderr pipe to learn that
/// everything the cell wrote before it has arrived (dl-kernel's `stderr_fence`). A per-kernel
/// token and a sequence number follow; cells never write it.
pub const FENCE_PREFIX: &str = "\u{1b}]dl-fence;";

/// The program that downloads for a dl-core built without its `download` feature (the kernel
/// sets it to its own binary).
pub const DOWNLOAD_HELPER_ENV: &str = "DL_DOWNLOAD_HELPER";

/// The helper's command: `$DL_DOWNLOAD_HELPER fetch URL DEST`.
pub const DOWNLOAD_HELPER_COMMAND: &str = "fetch";

/// A MIME bundle: `{"text/plain": ..., "image/svg+xml": ...}`, MIME type → text.
pub type MimeBundle = BTreeMap<String, String>;

/// One message from a running cell to the kernel.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum CellMessage {
    /// Show `data` under the cell now (`display_data`); `id` lets later updates replace it.
    Display { id: Option<String>, data: MimeBundle },
    /// Replace the output shown with `id` (`update_display_data`).
    Update { id: String, data: MimeBundle },
    /// Clear the cell's output, now or (`wait`) when the next output arrives (`clear_output`).
    Clear { wait: bool },
    /// The cell panicked (evcxr catches panics and would report success).
    Panic { message: String, location: String },
}

impl CellMessage {
    /// The line that carries this message (without its newline).
    pub fn to_line(&self) -> String {
        format!("{MARKER}{}", serde_json::to_string(self).expect("a CellMessage always serialises"))
    }

    /// `None` for a line that is not a message (ordinary output); otherwise the message, or why
    /// it does not parse.
    pub fn parse_line(line: &str) -> Option<Result<CellMessage, String>> {
        let json = line.strip_prefix(MARKER)?;
        Some(serde_json::from_str(json).map_err(|e| e.to_string()))
    }
}

/// A line the download helper prints on its stdout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HelperLine {
    /// `done` bytes written of `total` (when the server said).
    Progress { done: u64, total: Option<u64> },
    /// The download is complete; its hex sha256.
    Sha256(String),
}

impl fmt::Display for HelperLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HelperLine::Progress { done, total: Some(t) } => write!(f, "progress {done} {t}"),
            HelperLine::Progress { done, total: None } => write!(f, "progress {done} -"),
            HelperLine::Sha256(hex) => write!(f, "sha256 {hex}"),
        }
    }
}

impl HelperLine {
    /// Parses a line written by [`HelperLine`]'s `Display`; `None` for anything else.
    ///
    /// ```
    /// use dl_core::kernel_protocol::HelperLine;
    /// let p = HelperLine::Progress { done: 5, total: None };
    /// assert_eq!(HelperLine::parse(&p.to_string()), Some(p));
    /// assert_eq!(HelperLine::parse("sha256 ab"), Some(HelperLine::Sha256("ab".into())));
    /// ```
    pub fn parse(line: &str) -> Option<HelperLine> {
        match line.split_whitespace().collect::<Vec<_>>()[..] {
            ["progress", done, total] => {
                Some(HelperLine::Progress { done: done.parse().ok()?, total: total.parse().ok() })
            }
            ["sha256", hex] => Some(HelperLine::Sha256(hex.to_string())),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_round_trips_through_its_line() {
        let data: MimeBundle = [("image/svg+xml".to_string(), "<svg/>\n\"q\"".to_string())].into();
        for m in [
            CellMessage::Display { id: None, data: data.clone() },
            CellMessage::Display { id: Some("x".into()), data: data.clone() },
            CellMessage::Update { id: "x".into(), data },
            CellMessage::Clear { wait: true },
            CellMessage::Panic { message: "index out of bounds".into(), location: "src/lib.rs:3:5".into() },
        ] {
            let line = m.to_line();
            assert!(!line.contains('\n'), "one line: {line}");
            assert_eq!(CellMessage::parse_line(&line), Some(Ok(m)));
        }
    }

    #[test]
    fn a_damaged_message_is_an_error_and_other_lines_are_not_messages() {
        assert!(matches!(CellMessage::parse_line(&format!("{MARKER}{{\"op\":\"explode\"}}")), Some(Err(_))));
        assert_eq!(CellMessage::parse_line("progress 1 2"), None);
    }

    #[test]
    fn helper_lines_round_trip() {
        for l in [
            HelperLine::Progress { done: 3, total: Some(9) },
            HelperLine::Progress { done: 0, total: None },
            HelperLine::Sha256("00ff".into()),
        ] {
            assert_eq!(HelperLine::parse(&l.to_string()), Some(l));
        }
        assert_eq!(HelperLine::parse("Downloading data from x"), None);
    }
}
