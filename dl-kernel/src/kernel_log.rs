//! The kernel's own log (`DL_KERNEL_LOG`, default `warn`): to stderr, or, once the server routes
//! stderr into the notebook, to the original stderr it set aside.

use std::io::Write;
use std::sync::Mutex;

static LOG_FILE: Mutex<Option<std::fs::File>> = Mutex::new(None);

/// Starts logging through [`LogSink`].
pub fn init() {
    env_logger::Builder::from_env(env_logger::Env::new().filter_or("DL_KERNEL_LOG", "warn"))
        .target(env_logger::Target::Pipe(Box::new(LogSink)))
        .init();
}

/// The log goes to `file` (the original stderr) from now on, once stderr carries cell output.
pub fn set_target(file: std::fs::File) {
    *LOG_FILE.lock().unwrap_or_else(|e| e.into_inner()) = Some(file);
}

/// Writes log records to the file set by [`set_target`], else to stderr.
struct LogSink;

impl Write for LogSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match LOG_FILE.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
            Some(f) => f.write(buf),
            None => std::io::stderr().write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
