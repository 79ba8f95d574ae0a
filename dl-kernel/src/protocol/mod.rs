//! The Jupyter side of the kernel: what crosses between it and a client.
//!
//! ```text
//! protocol/
//!   wire.rs         raw ZeroMQ frames <-> messages, HMAC signing, replay refusal
//!   history.rs      history_request: tail, range, glob search
//!   is_complete.rs  is_complete_request: brackets, strings, comments
//!   mod.rs          kernel_info, cursor positions
//! ```

pub mod history;
pub mod is_complete;
pub mod wire;

use serde_json::{json, Value};

/// Jupyter counts cursor positions in Unicode code points; evcxr in bytes.
pub fn char_to_byte(s: &str, chars: usize) -> usize {
    s.char_indices().nth(chars).map_or(s.len(), |(b, _)| b)
}

/// The code-point position of byte offset `byte` in `s`.
pub fn byte_to_char(s: &str, byte: usize) -> usize {
    s[..byte.min(s.len())].chars().count()
}

/// The language the kernel runs, as `kernel_info_reply` and saved notebooks carry it. Its
/// version is the Rust edition cells are compiled in (evcxr's), not the compiler's: JupyterLab
/// writes this into a notebook when it connects, and a value that changed with every toolchain
/// would mark every notebook modified on opening (the compiler's version is in the banner).
pub fn language_info() -> Value {
    json!({
        "name": "rust",
        "version": "2024",
        "mimetype": "text/rust",
        "file_extension": ".rs",
        "pygments_lexer": "rust",
        "codemirror_mode": "rust",
    })
}

/// The content of `kernel_info_reply`.
pub fn kernel_info() -> Value {
    let version = crate::engine::toolchain::rustc_version().split_whitespace().nth(1).unwrap_or("").to_string();
    json!({
        "status": "ok",
        "protocol_version": "5.3",
        "implementation": "dl-kernel",
        "implementation_version": env!("CARGO_PKG_VERSION"),
        "language_info": language_info(),
        "banner": format!("Rust (dl): Rust {version} with dl-core preloaded (Keras-style deep learning)"),
        "help_links": [
            {"text": "Rust standard library", "url": "https://doc.rust-lang.org/std/"},
            {"text": "ndarray (dl-core's arrays)", "url": "https://docs.rs/ndarray"},
            {"text": "The Rust book", "url": "https://doc.rust-lang.org/book/"},
        ],
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
}
