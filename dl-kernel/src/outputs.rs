//! What a running cell produces, and its two renderings: Jupyter messages (the kernel) and
//! nbformat 4 outputs (the headless runner).

use serde_json::{json, Value};
use std::collections::BTreeMap;

/// A MIME bundle: MIME type → text.
pub type MimeBundle = BTreeMap<String, String>;

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

/// Every rich output carries a `text/plain` fallback, for viewers that show nothing else.
pub fn with_plain_fallback(mut data: MimeBundle) -> MimeBundle {
    if !data.contains_key("text/plain") {
        let kinds: Vec<&str> = data.keys().map(String::as_str).collect();
        let text = format!("<{}>", kinds.join(", "));
        data.insert("text/plain".into(), text);
    }
    data
}

/// A bundle as a JSON object (`{"text/plain": "..."}`).
pub fn bundle_json(data: &MimeBundle) -> Value {
    Value::Object(data.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect())
}

/// nbformat 4 outputs of one cell, built up as events arrive: consecutive stream text is
/// merged, and a display update replaces the output it refers to (so a saved notebook holds a
/// progress bar's final state, not every step).
#[derive(Default)]
pub struct NotebookOutputs {
    outputs: Vec<Value>,
    by_id: BTreeMap<String, usize>,
    clear_pending: bool,
}

impl NotebookOutputs {
    /// Adds one event.
    pub fn push(&mut self, event: Event) {
        if self.clear_pending && !matches!(event, Event::Clear { .. }) {
            self.clear_pending = false;
            self.outputs.clear();
            self.by_id.clear();
        }
        match event {
            Event::Clear { wait: true } => self.clear_pending = true,
            Event::Clear { wait: false } => {
                self.outputs.clear();
                self.by_id.clear();
            }
            Event::Stdout(t) => self.stream("stdout", &t),
            Event::Stderr(t) => self.stream("stderr", &t),
            Event::Display { id, data, update } => {
                let data = bundle_json(&with_plain_fallback(data));
                match id.as_ref().and_then(|i| self.by_id.get(i)) {
                    Some(&idx) if update => self.outputs[idx]["data"] = data,
                    _ if update => {}
                    _ => {
                        if let Some(i) = id {
                            self.by_id.insert(i, self.outputs.len());
                        }
                        self.outputs.push(json!({"output_type": "display_data", "data": data, "metadata": {}}));
                    }
                }
            }
        }
    }

    fn stream(&mut self, name: &str, text: &str) {
        if let Some(last) = self.outputs.last_mut() {
            if last["output_type"] == "stream" && last["name"] == name {
                let joined = format!("{}{text}", last["text"].as_str().unwrap_or(""));
                last["text"] = Value::String(joined);
                return;
            }
        }
        self.outputs.push(json!({"output_type": "stream", "name": name, "text": text}));
    }

    /// The cell's value.
    pub fn result(&mut self, count: u64, data: MimeBundle) {
        let data = bundle_json(&with_plain_fallback(data));
        self.outputs.push(json!({"output_type": "execute_result", "execution_count": count, "data": data, "metadata": {}}));
    }

    /// The cell's error.
    pub fn error(&mut self, ename: &str, evalue: &str, traceback: &[String]) {
        self.outputs.push(json!({"output_type": "error", "ename": ename, "evalue": evalue, "traceback": traceback}));
    }

    /// The outputs, in order.
    pub fn into_vec(self) -> Vec<Value> {
        self.outputs
    }
}
