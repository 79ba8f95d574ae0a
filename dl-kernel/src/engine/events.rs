//! What a running cell produces, as it happens, and the JSON form of a rich output that both of
//! its renderings (Jupyter messages and saved notebooks) use.

use dl_core::kernel_protocol::MimeBundle;
use serde_json::Value;

/// One piece of output, as it happens.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Text on stdout (with its newline).
    Stdout(String),
    /// Text on stderr (with its newline).
    Stderr(String),
    /// A rich display; `update` replaces the earlier display with the same `id`.
    Display { id: Option<String>, data: MimeBundle, update: bool },
    /// Clear the cell's output (now, or with `wait` when the next output arrives).
    Clear { wait: bool },
}

/// A bundle as the JSON object Jupyter and nbformat carry (`{"text/plain": "..."}`), with a
/// `text/plain` fallback added for viewers that show nothing else.
pub fn bundle_json(mut data: MimeBundle) -> Value {
    if !data.contains_key("text/plain") {
        let kinds: Vec<&str> = data.keys().map(String::as_str).collect();
        let text = format!("<{}>", kinds.join(", "));
        data.insert("text/plain".into(), text);
    }
    Value::Object(data.into_iter().map(|(k, v)| (k, Value::String(v))).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rich_output_gets_a_plain_fallback_and_keeps_given_text() {
        let svg: MimeBundle = [("image/svg+xml".to_string(), "<svg/>".to_string())].into();
        assert_eq!(bundle_json(svg), serde_json::json!({"image/svg+xml": "<svg/>", "text/plain": "<image/svg+xml>"}));
        let text: MimeBundle = [("text/plain".to_string(), "7".to_string())].into();
        assert_eq!(bundle_json(text), serde_json::json!({"text/plain": "7"}));
    }
}
