//! Why the process running cells died, named for what it was: the kernel's own interrupt, a
//! stack overflow, an allocation that failed, `std::process::exit`, or a signal (the
//! out-of-memory killer's `SIGKILL` told apart where the cgroup counts its kills). evcxr says
//! only "Subprocess terminated with status: ..."; the last lines the process wrote on stderr and
//! what the kernel did tell the rest.
//!
//! evcxr's runtime installs a handler for `SIGSEGV`, `SIGILL` and `SIGBUS` that prints
//! "Segmentation fault." (etc.) and a backtrace, then aborts; it has no stack of its own, so on a
//! stack overflow it cannot run, and the process ends by a bare `SIGSEGV`: that is how a stack
//! overflow is recognised (Rust's own "has overflowed its stack" message never comes).

/// The first line of what a dying process prints on stderr (its last words go into the error,
/// not into the cell's output).
pub fn is_last_words(line: &str) -> bool {
    line.starts_with("memory allocation of ")
        || matches!(line, "Segmentation fault." | "Illegal instruction." | "Bus error.")
        || line.contains("has overflowed its stack")
        || line.starts_with("fatal runtime error:")
}

/// What killed the process running cells.
#[derive(Debug, Clone, PartialEq)]
pub enum Death {
    /// The kernel stopped it after an interrupt it did not obey.
    Interrupted,
    /// Its stack ran out (deep recursion).
    StackOverflow,
    /// An allocation of this many bytes failed (`None`: the size was not said).
    OutOfMemory { requested: Option<u64> },
    /// The out-of-memory killer ended it.
    OomKilled,
    /// The cell called `std::process::exit(code)`.
    Exit(i32),
    /// A signal ended it.
    Signal { number: i32, name: String },
    /// Anything else evcxr reported.
    Other(String),
}

impl Death {
    /// Reads a death from evcxr's message, the process's last stderr lines, whether the kernel
    /// killed it after an interrupt, and whether the out-of-memory killer's count went up.
    pub fn read(message: &str, stderr: &[String], interrupted: bool, oom_killed: bool) -> Death {
        let status = message.split_once("with status: ").map_or("", |(_, s)| s.trim());
        if interrupted {
            return Death::Interrupted;
        }
        if stderr.iter().any(|l| l.contains("has overflowed its stack")) {
            return Death::StackOverflow;
        }
        for (said, number, name) in
            [("Segmentation fault.", 11, "SIGSEGV"), ("Illegal instruction.", 4, "SIGILL"), ("Bus error.", 7, "SIGBUS")]
        {
            if stderr.iter().any(|l| l == said) {
                return Death::Signal { number, name: name.into() };
            }
        }
        if let Some(line) = stderr.iter().find(|l| l.starts_with("memory allocation of ")) {
            let requested =
                line.trim_start_matches("memory allocation of ").split_whitespace().next().and_then(|n| n.parse().ok());
            return Death::OutOfMemory { requested };
        }
        if let Some(code) = status.strip_prefix("exit status: ").and_then(|c| c.trim().parse().ok()) {
            return Death::Exit(code);
        }
        if let Some(rest) = status.strip_prefix("signal: ") {
            let number = rest.split_whitespace().next().and_then(|n| n.parse().ok()).unwrap_or(0);
            let name = rest.split('(').nth(1).and_then(|n| n.split(')').next()).unwrap_or("").to_string();
            if number == 9 && oom_killed {
                return Death::OomKilled;
            }
            if number == 11 {
                // evcxr's handler would have said "Segmentation fault." had it had a stack.
                return Death::StackOverflow;
            }
            return Death::Signal { number, name };
        }
        Death::Other(message.trim().to_string())
    }

    /// Jupyter's `ename`.
    pub fn ename(&self) -> &'static str {
        match self {
            Death::Interrupted => "KeyboardInterrupt",
            Death::StackOverflow => "StackOverflow",
            Death::OutOfMemory { .. } | Death::OomKilled => "MemoryError",
            Death::Exit(_) => "ProcessExit",
            Death::Signal { .. } => "KilledBySignal",
            Death::Other(_) => "ProcessDied",
        }
    }

    /// What happened, in a sentence for the student.
    pub fn describe(&self, memory: &Memory) -> String {
        match self {
            Death::Interrupted => {
                "the code did not stop after the interrupt, so the process running the cells was restarted".into()
            }
            Death::StackOverflow => {
                "the cell's code overflowed its stack: recursion too deep for Rust's 8 MB main stack \
                                     (make the recursion shallower, or turn it into a loop)"
                    .into()
            }
            Death::OutOfMemory { requested } => {
                let asked = requested.map_or("an allocation".to_string(), |b| format!("{} of memory", bytes(b)));
                format!("the cell asked for {asked}, which failed: {}", memory.describe())
            }
            Death::OomKilled => format!("the system's out-of-memory killer stopped the cell: {}", memory.describe()),
            Death::Exit(code) => format!("the cell ended the process that runs cells with std::process::exit({code})"),
            Death::Signal { number: 11, .. } => {
                "the process running the cells crashed with SIGSEGV (a bad memory access, as unsafe code can make)"
                    .into()
            }
            Death::Signal { number, name } if name.is_empty() => {
                format!("the process running the cells was killed by signal {number}")
            }
            Death::Signal { number, name } => {
                format!("the process running the cells was killed by {name} (signal {number})")
            }
            Death::Other(m) => format!("the process running the cells ended: {m}"),
        }
    }
}

/// Memory this machine or container has, for messages.
#[derive(Debug, Default, Clone, Copy)]
pub struct Memory {
    /// The container's limit (cgroup), if it has one.
    pub limit: Option<u64>,
    /// The machine's total memory.
    pub total: Option<u64>,
    /// What the machine has available now.
    pub available: Option<u64>,
    /// The limit the kernel put on the process that runs cells (`DL_KERNEL_CELL_MEMORY`).
    pub cell_limit: Option<u64>,
}

impl Memory {
    fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(l) = self.cell_limit {
            parts.push(format!("cells may use {} (DL_KERNEL_CELL_MEMORY)", bytes(l)));
        }
        if let Some(l) = self.limit {
            parts.push(format!("this container has {}", bytes(l)));
        }
        if let Some(t) = self.total {
            parts.push(format!("the machine has {}", bytes(t)));
        }
        if let Some(a) = self.available {
            parts.push(format!("{} available", bytes(a)));
        }
        if parts.is_empty() {
            "the machine has less".into()
        } else {
            parts.join(", ")
        }
    }
}

/// A size for people: `40.0 GB`, `512 MB`.
pub fn bytes(b: u64) -> String {
    let b = b as f64;
    if b >= 1e9 {
        format!("{:.1} GB", b / 1e9)
    } else {
        format!("{:.0} MB", b / 1e6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(s: &[&str]) -> Vec<String> {
        s.iter().map(|l| l.to_string()).collect()
    }

    #[test]
    fn each_death_is_named_for_what_it_was() {
        let abort = "Subprocess terminated with status: signal: 6 (SIGABRT) (core dumped)";
        let so = lines(&["thread 'main' has overflowed its stack", "fatal runtime error: stack overflow"]);
        assert_eq!(Death::read(abort, &so, false, false), Death::StackOverflow);
        let oom = lines(&["memory allocation of 40000000000 bytes failed"]);
        assert_eq!(Death::read(abort, &oom, false, false), Death::OutOfMemory { requested: Some(40_000_000_000) });
        assert_eq!(Death::read("Subprocess terminated with status: exit status: 3", &[], false, false), Death::Exit(3));
        let kill = "Subprocess terminated with status: signal: 9 (SIGKILL)";
        assert_eq!(Death::read(kill, &[], false, false), Death::Signal { number: 9, name: "SIGKILL".into() });
        assert_eq!(Death::read(kill, &[], false, true), Death::OomKilled);
        assert_eq!(Death::read(kill, &[], true, false), Death::Interrupted);
        let segv = "Subprocess terminated with status: signal: 11 (SIGSEGV) (core dumped)";
        assert_eq!(Death::read(segv, &[], false, false), Death::StackOverflow);
        let fault = Death::read(abort, &lines(&["Segmentation fault.", "   0: backtrace"]), false, false);
        assert_eq!(fault.ename(), "KilledBySignal");
        assert!(fault.describe(&Memory::default()).contains("SIGSEGV"));
        assert!(is_last_words("memory allocation of 8 bytes failed") && !is_last_words("loss 0.5"));
    }

    #[test]
    fn memory_messages_say_what_was_asked_and_what_there_is() {
        let m = Memory { limit: None, total: Some(24_000_000_000), available: Some(20_000_000_000), cell_limit: None };
        let d = Death::OutOfMemory { requested: Some(40_000_000_000) }.describe(&m);
        assert!(d.contains("40.0 GB") && d.contains("the machine has 24.0 GB"), "{d}");
    }
}
