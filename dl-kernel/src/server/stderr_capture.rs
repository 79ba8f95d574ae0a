//! Routes this process's stderr through a pipe: evcxr prints cargo's `Compiling ...` progress
//! there, and while a cell runs it belongs in the notebook (as `stderr` under that cell), not in
//! the kernel's log. Everything still goes to the original stderr too.

use super::current_cell::CurrentCell;
use anyhow::Result;

/// Starts the capture; returns a handle on the original stderr, for the log.
///
/// # Errors
/// When the pipe cannot be made or put in place.
pub fn capture_stderr(current: CurrentCell) -> Result<std::fs::File> {
    use std::io::{BufRead, Write};
    use std::os::fd::AsFd;
    // Close-on-exec: the processes this one starts (cargo, spares) must not hold the pipe a client
    // may be reading to its end.
    let original = std::fs::File::from(rustix::io::fcntl_dupfd_cloexec(std::io::stderr().as_fd(), 0)?);
    let (reader, writer) = std::io::pipe()?;
    rustix::stdio::dup2_stderr(&writer)?;
    drop(writer);
    let mut log = original.try_clone()?;
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(reader).lines() {
            let Ok(line) = line else { break };
            let _ = writeln!(log, "{line}");
            current.stderr_line(line.trim_start());
        }
    });
    Ok(original)
}
