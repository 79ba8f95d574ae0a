//! Knowing that everything a cell wrote to stderr has arrived.
//!
//! evcxr reads the cell process's stdout and stderr on two threads. The end of a cell comes on
//! stdout, so lines the cell wrote to stderr just before it ended can still be on their way
//! when the engine learns that the cell is done, and must not be sent after the cell's reply
//! (nbclient keeps only what comes before `idle`). The engine used to wait for 30 ms of quiet on
//! stderr after every cell, which was a tenth of a trivial cell's time.
//!
//! A fence is exact instead: the kernel opens the cell process's stderr, which is a pipe to
//! evcxr's reading thread (on Linux, `/proc/<pid>/fd/2` gives a second writer to it), and
//! writes one line with a token of its own. A pipe keeps order, so when the token comes out of
//! evcxr's stderr channel, everything the cell wrote before its end has come out first. Where
//! that cannot be done (not Linux, the process is gone, or the cell pointed its stderr somewhere
//! else than that pipe), [`Fence::send`] says so and the engine waits for quiet as before.

use dl_core::kernel_protocol::FENCE_PREFIX;
use rustix::fs::{Mode, OFlags};
use std::cell::{Cell, RefCell};
use std::path::PathBuf;

/// A fence for the stderr pipe of the process that runs cells.
pub struct Fence {
    token: String,
    /// How many fences were sent: each carries its number, so a late one is told apart.
    sent: Cell<u64>,
    /// The cell process and its stderr pipe, once checked to lead to this process.
    checked: RefCell<Option<(u32, PathBuf)>>,
}

impl Fence {
    pub fn new() -> Fence {
        Fence {
            token: format!("{FENCE_PREFIX}{}", uuid::Uuid::new_v4().simple()),
            sent: Cell::new(0),
            checked: RefCell::new(None),
        }
    }

    /// Writes the fence line into the stderr of process `pid`. False when it cannot: the caller
    /// must then find the end of stderr another way.
    pub fn send(&self, pid: u32) -> bool {
        let fd2 = PathBuf::from(format!("/proc/{pid}/fd/2"));
        let Ok(pipe) = std::fs::read_link(&fd2) else { return false };
        let mut checked = self.checked.borrow_mut();
        if checked.as_ref() != Some(&(pid, pipe.clone())) {
            // Only the pipe that evcxr reads as stderr: a cell may have pointed its stderr at a
            // file, which must not receive the fence, or at its stdout (`dup2(1, 2)`), which
            // evcxr only reads while a cell runs, so the fence would come too late.
            let stdout = std::fs::read_link(format!("/proc/{pid}/fd/1")).ok();
            if !pipe.to_string_lossy().starts_with("pipe:") || stdout.as_ref() == Some(&pipe) || !reads_here(&pipe) {
                return false;
            }
            *checked = Some((pid, pipe));
        }
        // Non-blocking: if the pipe were full, waiting for quiet is the better fallback.
        let Ok(fd) = rustix::fs::open(&fd2, OFlags::WRONLY | OFlags::NONBLOCK | OFlags::CLOEXEC, Mode::empty()) else {
            return false;
        };
        self.sent.set(self.sent.get() + 1);
        let line = format!("{}{}\n", self.token, self.sent.get());
        // A write of at most PIPE_BUF bytes to a pipe is atomic: all or nothing.
        matches!(rustix::io::write(&fd, line.as_bytes()), Ok(n) if n == line.len())
    }

    /// For a line read from stderr: `None` if it is not a fence; otherwise the text in front of
    /// the fence (a last line the cell left without a newline, or empty) and whether it is the
    /// fence sent last.
    pub fn strip<'a>(&self, line: &'a str) -> Option<(&'a str, bool)> {
        let (front, number) = line.rsplit_once(self.token.as_str())?;
        Some((front, number == self.sent.get().to_string()))
    }
}

/// Whether this process holds an end of `pipe` (a `pipe:[inode]` link from `/proc`).
fn reads_here(pipe: &std::path::Path) -> bool {
    let Ok(fds) = std::fs::read_dir("/proc/self/fd") else { return false };
    fds.flatten().any(|e| std::fs::read_link(e.path()).is_ok_and(|l| l == pipe))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, Read};
    use std::process::{Child, Command, Stdio};

    /// A shell that runs `script` and then waits on its stdin until killed.
    fn shell(script: &str, stdout: Stdio, stderr: Stdio) -> Child {
        let script = format!("{script}; read never");
        Command::new("sh").args(["-c", &script]).stdin(Stdio::piped()).stdout(stdout).stderr(stderr).spawn().unwrap()
    }

    /// A shell that says `ready` on its stdout once `redirect` has run, with `stderr` as given.
    fn ready_shell(redirect: &str, stderr: Stdio) -> Child {
        let mut child = shell(&format!("{redirect}echo ready"), Stdio::piped(), stderr);
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        assert_eq!(line, "ready\n");
        child
    }

    fn stop(mut child: Child) {
        let _ = child.kill();
        let _ = child.wait();
    }

    #[test]
    fn the_fence_follows_what_the_process_wrote_and_keeps_an_unfinished_line() {
        // A child whose stderr is a pipe read here, as evcxr's cell process is. The text is
        // written from a subshell: a builtin's `>&2` would point the shell's own stdout at the
        // pipe while it runs, and the fence (rightly) goes nowhere near a stdout.
        let mut child = shell("(printf 'one\\ntwo\\nunfinished' >&2)", Stdio::inherit(), Stdio::piped());
        let mut err = std::io::BufReader::new(child.stderr.take().unwrap());
        let mut first = String::new();
        err.read_line(&mut first).unwrap();
        assert_eq!(first, "one\n");
        let fence = Fence::new();
        assert!(fence.send(child.id()));
        let rest: Vec<String> = err.by_ref().lines().take(2).map(Result::unwrap).collect();
        assert_eq!(rest[0], "two");
        assert_eq!(fence.strip(&rest[1]), Some(("unfinished", true)));
        assert_eq!(fence.strip("two"), None);
        // A second fence: the first one, had it come late, would not count as it.
        let first = rest[1].clone();
        assert!(fence.send(child.id()));
        let mut second = String::new();
        err.read_line(&mut second).unwrap();
        assert_eq!(fence.strip(second.trim_end()), Some(("", true)));
        assert_eq!(fence.strip(&first), Some(("unfinished", false)));
        stop(child);
    }

    #[test]
    fn no_fence_into_a_file_the_stdout_pipe_or_a_process_that_is_gone() {
        let path = std::env::temp_dir().join(format!("dl-fence-test-{}", std::process::id()));
        let file = std::fs::File::create(&path).unwrap();
        let child = ready_shell("", Stdio::from(file));
        assert!(!Fence::new().send(child.id()));
        stop(child);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "", "nothing was written to the file");
        let _ = std::fs::remove_file(&path);
        // A process whose stderr is its stdout pipe (`2>&1`).
        let child = ready_shell("exec 2>&1; ", Stdio::inherit());
        assert!(!Fence::new().send(child.id()));
        stop(child);
        // A process that is gone.
        assert!(!Fence::new().send(u32::MAX));
    }
}
