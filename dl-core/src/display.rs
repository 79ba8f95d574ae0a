//! How dl-core values show themselves in a notebook: rich output sent to dl-kernel as it
//! happens, a cell's value in evcxr's convention, and the panic hook. The messages themselves
//! are defined in [`crate::kernel_protocol`].
//!
//! **Live output.** evcxr (the engine under the kernel) only delivers rich output when a cell
//! ends, one item per MIME type. dl-core therefore sends one [`CellMessage`] line per display
//! event on stdout; the kernel turns it into `display_data` / `update_display_data` at once, so
//! several figures per cell are kept and `fit`'s progress updates in place. Outside the kernel
//! (a terminal, `cargo run`, plain evcxr) the same calls print text.
//!
//! **Interrupt.** The kernel requests a stop through the session directory (see
//! [`crate::session`]); `fit`, `evaluate`, `predict` and downloads look for the request between
//! batches (at most every 50 ms) and stop with [`Error::Interrupted`](crate::Error::Interrupted),
//! the model keeping its weights.
//!
//! **Panics.** [`kernel_init`] also installs a panic hook that reports the panic message and
//! location to the kernel, so a panicking cell is an `error`, not `ok`.

pub use crate::kernel_protocol::MimeBundle;
use crate::kernel_protocol::{CellMessage, DISPLAY_ENV};
use std::io::Write;
use std::sync::atomic::AtomicUsize;
use std::sync::OnceLock;

static NEXT_ID: AtomicUsize = AtomicUsize::new(1);

/// True inside a dl-kernel session (rich output goes to the notebook as it happens).
pub fn in_kernel() -> bool {
    static IN: OnceLock<bool> = OnceLock::new();
    *IN.get_or_init(|| std::env::var(DISPLAY_ENV).is_ok_and(|v| v == "1"))
}

/// A fresh display id, unique for the life of the kernel session and never reused after a
/// restart: a client updates *every* output that carries an id, across the notebook, so two
/// cells must never share one. Each cell links its own dl-core, so the counter lives in the
/// session directory, beside a token of the session's own.
///
/// ```
/// let (a, b) = (dl_core::display::new_display_id(), dl_core::display::new_display_id());
/// assert_ne!(a, b);
/// ```
pub fn new_display_id() -> String {
    format!("dl-{}-{}", crate::session::token(), crate::session::next_count("display_id", &NEXT_ID))
}

fn send(msg: &CellMessage) {
    let mut out = std::io::stdout().lock();
    // A closed stdout is not worth a panic inside a training loop.
    let _ = writeln!(out, "{}", msg.to_line());
    let _ = out.flush();
}

/// Shows `data` below the running cell now (`display_data`). In the kernel the output can later
/// be replaced through `id` with [`update_display`]. Outside it, prints the `text/plain` part.
pub fn display(data: &MimeBundle, id: Option<&str>) {
    if in_kernel() {
        send(&CellMessage::Display { id: id.map(str::to_string), data: data.clone() });
    } else if let Some(text) = data.get("text/plain") {
        println!("{text}");
    }
}

/// Clears the running cell's output so far (IPython's `clear_output`); with `wait`, only when the
/// next output arrives, which avoids flicker in loops that redraw. Outside the kernel this does
/// nothing.
pub fn clear_output(wait: bool) {
    if in_kernel() {
        send(&CellMessage::Clear { wait });
    }
}

/// Replaces the output shown earlier with `id` (`update_display_data`). Outside the kernel this
/// does nothing; callers print their own text there.
pub fn update_display(data: &MimeBundle, id: &str) {
    if in_kernel() {
        send(&CellMessage::Update { id: id.to_string(), data: data.clone() });
    }
}

/// The evcxr convention for a cell's value: print each MIME type between
/// `EVCXR_BEGIN_CONTENT` and `EVCXR_END_CONTENT`; evcxr and dl-kernel turn it into the cell's
/// `execute_result`.
pub fn evcxr_send(data: &MimeBundle) {
    let mut out = std::io::stdout().lock();
    for (mime, text) in data {
        let _ = writeln!(out, "EVCXR_BEGIN_CONTENT {mime}\n{}\nEVCXR_END_CONTENT", text.trim_end_matches('\n'));
    }
    let _ = out.flush();
}

/// Shows any `Debug` value as a cell's result (`text/plain`), as evcxr does by default.
///
/// evcxr first tries `value.evcxr_display()` and, when that does not compile, compiles the cell
/// a second time with `{:?}`. With this trait in the prelude the first attempt succeeds for every
/// `Debug` type, which saves that second compile (about half a second per cell). Types with
/// their own `evcxr_display` (figures, histories) keep it: inherent methods come first.
///
/// The impl only formats; the rest is [`send_debug`], compiled once in dl-core. Every cell
/// that ends in a value instantiates the impl for that value's type, at evcxr's `opt-level = 2`
/// and without shared generics, so whatever generic code the impl calls (a `BTreeMap` insert,
/// its drop) is compiled again in each such cell and, by shifting the cell crate's codegen
/// units, spoils the incremental cache for the next cell too. Measured with the cell crate's
/// own `rustc` command (`y * 2` and `let z = 1;` cells in turn): 0.42 / 0.27 s with the map in
/// the impl, 0.17 / 0.15 s without.
pub trait DebugDisplay {
    /// Sends `format!("{:?}", self)` as the cell's `text/plain` result.
    fn evcxr_display(&self);
}

impl<T: std::fmt::Debug + ?Sized> DebugDisplay for T {
    fn evcxr_display(&self) {
        send_debug(format_args!("{self:?}"), std::any::type_name::<T>());
    }
}

/// The part of [`DebugDisplay`] that does not depend on the value's type: sends the formatted
/// value as the cell's `text/plain` result, unless it is `()` (a cell ending in a statement-like
/// expression such as a `for` loop has no value to show). An ndarray array is shown as numpy
/// shows one (see [`numpy_repr`]).
#[doc(hidden)]
#[inline(never)]
pub fn send_debug(value: std::fmt::Arguments<'_>, type_name: &str) {
    let mut text = std::fmt::format(value);
    if let Some(repr) = numpy_repr(&text, type_name) {
        text = repr;
    }
    if text != "()" {
        let mut data = MimeBundle::new();
        data.insert("text/plain".into(), text);
        evcxr_send(&data);
    }
}

/// An ndarray array's `Debug` text as numpy's `repr`: `array([[1.0, 2.0],\n       [3.0, 4.0]],
/// dtype=float32)`, without ndarray's shape, strides and memory layout; the dtype is named
/// unless it is numpy's default (float64, int64). `None` for anything that is not an array.
///
/// ```
/// use dl_core::display::numpy_repr;
/// let a = dl_core::ndarray::array![[1.0f32, 2.0], [3.0, 4.0]];
/// let text = numpy_repr(&format!("{a:?}"), std::any::type_name_of_val(&a)).unwrap();
/// assert_eq!(text, "array([[1.0, 2.0],\n       [3.0, 4.0]], dtype=float32)");
/// ```
pub fn numpy_repr(debug: &str, type_name: &str) -> Option<String> {
    let params = type_name.strip_prefix("ndarray::ArrayBase<")?.strip_suffix('>')?;
    let element = params.rsplit(", ").next()?.trim();
    let (body, _layout) = debug.split_once(", shape=[")?;
    // Continuation lines line up under `array(`; the blank line between blocks stays blank.
    let body = body.replace('\n', "\n      ").replace("\n      \n", "\n\n");
    let dtype = match element {
        "f64" | "i64" => None,
        "f32" => Some("float32"),
        "f16" => Some("float16"),
        "i32" => Some("int32"),
        "i16" => Some("int16"),
        "i8" => Some("int8"),
        "u64" => Some("uint64"),
        "u32" => Some("uint32"),
        "u16" => Some("uint16"),
        "u8" => Some("uint8"),
        "usize" => Some("uint64"),
        "isize" => Some("int64"),
        "bool" => Some("bool"),
        other => Some(other),
    };
    Some(match dtype {
        Some(d) => format!("array({body}, dtype={d})"),
        None => format!("array({body})"),
    })
}

/// Sets up the process that runs a notebook's cells: panics are reported to the kernel as a
/// marker line (evcxr catches them and would report success). Called by dl-kernel's preload.
pub fn kernel_init() {
    std::panic::set_hook(Box::new(|info| {
        let msg = if let Some(s) = info.payload().downcast_ref::<&str>() {
            (*s).to_string()
        } else if let Some(s) = info.payload().downcast_ref::<String>() {
            s.clone()
        } else {
            "Box<dyn Any>".to_string()
        };
        let location = info.location().map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column())).unwrap_or_default();
        send(&CellMessage::Panic { message: msg, location });
    }));
}

/// True once if an interrupt arrived since the last call (clears it).
pub(crate) fn take_interrupt() -> bool {
    crate::session::take_interrupt()
}

/// Forgets an interrupt that arrived while no loop was running.
pub(crate) fn clear_interrupt() {
    crate::session::clear_interrupt()
}

/// Requests that the running loop stop, as the kernel's interrupt does (for tests and
/// embedding code).
pub fn request_interrupt() {
    crate::session::request_interrupt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{arr0, array, Array3, ArrayD, IxDyn};

    fn repr<T: std::fmt::Debug>(v: &T) -> Option<String> {
        numpy_repr(&format!("{v:?}"), std::any::type_name::<T>())
    }

    #[test]
    fn arrays_show_as_numpy_shows_them_and_other_values_are_left_alone() {
        assert_eq!(repr(&array![0.0f64, 1.0, 2.0]).unwrap(), "array([0.0, 1.0, 2.0])");
        assert_eq!(repr(&array![[1u8, 2], [3, 4]].view()).unwrap(), "array([[1, 2],\n       [3, 4]], dtype=uint8)");
        assert_eq!(repr(&arr0(5i64)).unwrap(), "array(5)");
        assert_eq!(repr(&array![true]).unwrap(), "array([true], dtype=bool)");
        let cube = repr(&Array3::<f32>::zeros((2, 1, 1))).unwrap();
        assert_eq!(cube, "array([[[0.0]],\n\n       [[0.0]]], dtype=float32)");
        assert!(repr(&ArrayD::<f64>::zeros(IxDyn(&[1, 2]))).unwrap().starts_with("array([[0.0, 0.0]])"));
        assert_eq!(repr(&vec![1, 2]), None);
        assert_eq!(repr(&"shape=[3]"), None);
    }
}
