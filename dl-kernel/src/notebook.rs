//! Notebooks as nbformat 4 JSON: reading and checking one, a cell's source and tags, and the
//! outputs of a cell built up from the engine's events.
//!
//! A notebook is kept as JSON ([`serde_json::Value`]), so that a tool which only fills in
//! `outputs` and `execution_count` leaves every other field as it was.

use crate::engine::events::{bundle_json, Event};
use anyhow::{bail, Context, Result};
use dl_core::kernel_protocol::MimeBundle;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::Path;

/// A cell's source as one string (nbformat allows a string or a list of lines).
pub fn source(cell: &Value) -> String {
    match &cell["source"] {
        Value::String(s) => s.clone(),
        Value::Array(lines) => lines.iter().filter_map(Value::as_str).collect(),
        _ => String::new(),
    }
}

/// A cell's tags (`metadata.tags`).
pub fn tags(cell: &Value) -> Vec<String> {
    cell["metadata"]["tags"]
        .as_array()
        .map(|t| t.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

/// Parses and checks a notebook: valid JSON, nbformat 4, a list of cells.
///
/// # Errors
/// A clear message for each way it is not.
pub fn load(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let nb: Value = serde_json::from_str(&text)
        .map_err(|e| anyhow::anyhow!("not a valid notebook: the file is not valid JSON ({e})"))?;
    match nb.get("nbformat").and_then(Value::as_u64) {
        Some(4) => {}
        Some(v) => bail!("nbformat {v} is not supported; convert it to version 4 (jupyter nbconvert --to notebook)"),
        None => bail!("not a Jupyter notebook: no \"nbformat\" field"),
    }
    if !nb["cells"].is_array() {
        bail!("not a valid notebook: \"cells\" is not a list");
    }
    Ok(nb)
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
                let data = bundle_json(data);
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
        let data = bundle_json(data);
        self.outputs
            .push(json!({"output_type": "execute_result", "execution_count": count, "data": data, "metadata": {}}));
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
