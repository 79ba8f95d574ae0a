//! A cell's text output, batched as ipykernel batches it: lines are gathered and sent as one
//! `stream` message per stream at most every [`FLUSH_EVERY`], and all of it before the cell ends.
//! A rich display or a clear sends the text before it first, so the order of what a cell shows
//! is kept. 300 000 `println!` lines reach the client in tens of messages, not 300 000.
//!
//! Runaway output is cut, as JupyterLab and VS Code cut it: past [`OutputLimit`] bytes per cell
//! (`DL_KERNEL_MAX_OUTPUT`, default 10 MB; 0 for no limit) the rest of the cell's text is
//! counted, not sent, and one line on stdout at the end says how much was left out. 10 MB holds
//! a loss printed for every batch of a long training (300 000 lines); past it a browser tab
//! slows down.
//!
//! Text stays here at least until it is [`FLUSH_EVERY`] old, so the error a `?` returned
//! (evcxr prints it to stderr just before the cell ends) can be taken back out of the stream:
//! a failure is one `error` output, not an error and a copy of it on stderr.

use super::events::Event;
use std::time::{Duration, Instant};

/// How long text waits to be batched with what follows (ipykernel flushes every 0.2 s).
pub const FLUSH_EVERY: Duration = Duration::from_millis(100);

/// Bytes of text one cell may send (`DL_KERNEL_MAX_OUTPUT`), `None` for no limit.
pub struct OutputLimit(pub Option<usize>);

impl OutputLimit {
    const DEFAULT: usize = 10_000_000;

    /// The limit from `DL_KERNEL_MAX_OUTPUT` (bytes; `0` turns it off), else 10 MB.
    pub fn from_env() -> OutputLimit {
        match std::env::var("DL_KERNEL_MAX_OUTPUT").ok().and_then(|v| v.trim().parse::<usize>().ok()) {
            Some(0) => OutputLimit(None),
            Some(n) => OutputLimit(Some(n)),
            None => OutputLimit(Some(Self::DEFAULT)),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Stream {
    Stdout,
    Stderr,
}

/// The text of one cell on its way out.
pub struct StreamBatcher {
    /// Text not sent yet, in order: which stream, the text, when its first part came.
    pending: Vec<(Stream, String, Instant)>,
    limit: Option<usize>,
    sent: usize,
    dropped_bytes: usize,
    dropped_lines: usize,
}

impl StreamBatcher {
    pub fn new(limit: OutputLimit) -> StreamBatcher {
        StreamBatcher { pending: Vec::new(), limit: limit.0, sent: 0, dropped_bytes: 0, dropped_lines: 0 }
    }

    /// Takes one event of the running cell; sends what is due through `out`.
    pub fn push(&mut self, event: Event, out: &mut dyn FnMut(Event)) {
        match event {
            Event::Stdout(t) => self.text(Stream::Stdout, t),
            Event::Stderr(t) => self.text(Stream::Stderr, t),
            other => {
                self.flush_all(out);
                out(other);
                return;
            }
        }
        self.flush_due(Instant::now(), out);
    }

    fn text(&mut self, stream: Stream, text: String) {
        if self.limit.is_some_and(|l| self.sent + text.len() > l) {
            self.dropped_bytes += text.len();
            self.dropped_lines += text.matches('\n').count().max(1);
            return;
        }
        self.sent += text.len();
        match self.pending.last_mut() {
            Some((s, t, _)) if *s == stream => t.push_str(&text),
            _ => self.pending.push((stream, text, Instant::now())),
        }
    }

    /// Sends the text that has waited [`FLUSH_EVERY`]: in order, each stream's run as one message.
    pub fn flush_due(&mut self, now: Instant, out: &mut dyn FnMut(Event)) {
        let due = self.pending.iter().take_while(|(_, _, t)| now.duration_since(*t) >= FLUSH_EVERY).count();
        for (stream, text, _) in self.pending.drain(..due) {
            out(event(stream, text));
        }
    }

    /// How long until the oldest waiting text is due, if any waits.
    pub fn next_due(&self, now: Instant) -> Option<Duration> {
        self.pending.first().map(|(_, _, t)| FLUSH_EVERY.saturating_sub(now.duration_since(*t)))
    }

    /// Removes `error` from the end of the waiting stderr text, if it is there whole (the error
    /// a `?` returned, which the cell's `error` output shows). True if it was.
    pub fn take_back_error(&mut self, error: &str) -> bool {
        let Some((Stream::Stderr, text, _)) = self.pending.last_mut() else { return false };
        let Some(front) = text.strip_suffix(error) else { return false };
        let front = front.len();
        text.truncate(front);
        if text.is_empty() {
            self.pending.pop();
        }
        true
    }

    /// Sends everything waiting, and the note on what the limit left out (on stdout: nbgrader
    /// scores any stderr in a test cell as a failure).
    pub fn flush_all(&mut self, out: &mut dyn FnMut(Event)) {
        for (stream, text, _) in self.pending.drain(..) {
            out(event(stream, text));
        }
    }

    /// The end of the cell: everything waiting goes out, then the limit's note, if it cut.
    pub fn finish(&mut self, out: &mut dyn FnMut(Event)) {
        self.flush_all(out);
        if self.dropped_bytes > 0 {
            out(Event::Stdout(format!(
                "[output cut: {} more lines ({:.1} MB) were not shown; the limit is {} bytes per cell, \
                 set DL_KERNEL_MAX_OUTPUT to change it]\n",
                self.dropped_lines,
                self.dropped_bytes as f64 / 1e6,
                self.limit.unwrap_or(0)
            )));
            self.dropped_bytes = 0;
            self.dropped_lines = 0;
        }
    }
}

fn event(stream: Stream, text: String) -> Event {
    match stream {
        Stream::Stdout => Event::Stdout(text),
        Stream::Stderr => Event::Stderr(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(b: &mut StreamBatcher, events: Vec<Event>) -> Vec<Event> {
        let mut out = Vec::new();
        for e in events {
            b.push(e, &mut |e| out.push(e));
        }
        b.finish(&mut |e| out.push(e));
        out
    }

    #[test]
    fn lines_are_batched_per_stream_in_order() {
        let mut b = StreamBatcher::new(OutputLimit(None));
        let out = collect(
            &mut b,
            vec![
                Event::Stdout("a\n".into()),
                Event::Stdout("b\n".into()),
                Event::Stderr("e\n".into()),
                Event::Stdout("c\n".into()),
            ],
        );
        assert_eq!(out, vec![Event::Stdout("a\nb\n".into()), Event::Stderr("e\n".into()), Event::Stdout("c\n".into())]);
    }

    #[test]
    fn a_display_sends_the_text_before_it_first() {
        let mut b = StreamBatcher::new(OutputLimit(None));
        let shown = Event::Display { id: None, data: Default::default(), update: false };
        let out =
            collect(&mut b, vec![Event::Stdout("before\n".into()), shown.clone(), Event::Stdout("after\n".into())]);
        assert_eq!(out, vec![Event::Stdout("before\n".into()), shown, Event::Stdout("after\n".into())]);
    }

    #[test]
    fn text_goes_out_once_it_has_waited() {
        let mut b = StreamBatcher::new(OutputLimit(None));
        let mut out = Vec::new();
        b.push(Event::Stdout("x\n".into()), &mut |e| out.push(e));
        assert!(out.is_empty() && b.next_due(Instant::now()).is_some());
        b.flush_due(Instant::now() + FLUSH_EVERY, &mut |e| out.push(e));
        assert_eq!(out, vec![Event::Stdout("x\n".into())]);
        assert_eq!(b.next_due(Instant::now()), None);
    }

    #[test]
    fn output_past_the_limit_is_counted_and_said_not_sent() {
        let mut b = StreamBatcher::new(OutputLimit(Some(10)));
        let out = collect(&mut b, (0..5).map(|i| Event::Stdout(format!("line {i}\n"))).collect());
        assert_eq!(out[0], Event::Stdout("line 0\n".into()));
        let Event::Stdout(note) = &out[1] else { panic!("{out:?}") };
        assert!(note.starts_with("[output cut: 4 more lines"), "{note}");
        assert_eq!(out.len(), 2);
    }

    #[test]
    fn the_error_of_a_question_mark_is_taken_back_only_when_whole() {
        let mut b = StreamBatcher::new(OutputLimit(None));
        let mut out = Vec::new();
        b.push(Event::Stderr("warning\nfile not found\n".into()), &mut |e| out.push(e));
        assert!(b.take_back_error("file not found\n"));
        assert!(!b.take_back_error("other\n"));
        b.finish(&mut |e| out.push(e));
        assert_eq!(out, vec![Event::Stderr("warning\n".into())]);
    }
}
