//! How much memory there is: the machine's (`/proc/meminfo`) and the container's (the cgroup v2
//! `memory.max` of this process, as JupyterHub and Docker set it), and the out-of-memory
//! killer's count of kills in that cgroup (`memory.events`). Also the limit put on the process
//! that runs cells, so that a runaway allocation fails in the cell instead of the OOM killer
//! taking the kernel or the user's other processes.

use super::death::Memory;
use std::path::PathBuf;

/// The variable that sets the cells' memory limit: bytes, a share of the machine or container
/// (`80%`), or `off`.
pub const CELL_MEMORY_ENV: &str = "DL_KERNEL_CELL_MEMORY";

/// The variable through which the kernel hands the limit, in bytes, to the process running cells.
pub const CELL_LIMIT_ENV: &str = "DL_KERNEL_CELL_LIMIT_BYTES";

/// The default share of the machine's (or container's) memory cells may take.
const DEFAULT_SHARE: f64 = 0.8;

/// A value of `/proc/meminfo` in bytes.
fn meminfo(key: &str) -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with(key) && l[key.len()..].starts_with(':'))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// This process's cgroup v2 directory.
fn cgroup_dir() -> Option<PathBuf> {
    let text = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let path = text.lines().find_map(|l| l.strip_prefix("0::"))?;
    let dir = PathBuf::from("/sys/fs/cgroup").join(path.trim_start_matches('/'));
    dir.is_dir().then_some(dir)
}

/// The container's memory limit: the smallest `memory.max` from this cgroup up (`max` is none).
pub fn container_limit() -> Option<u64> {
    let mut dir = cgroup_dir()?;
    let mut limit: Option<u64> = None;
    loop {
        if let Ok(v) = std::fs::read_to_string(dir.join("memory.max")) {
            if let Ok(n) = v.trim().parse::<u64>() {
                limit = Some(limit.map_or(n, |l| l.min(n)));
            }
        }
        if dir == std::path::Path::new("/sys/fs/cgroup") || !dir.pop() {
            return limit;
        }
    }
}

/// How many times the OOM killer has killed in this cgroup (`memory.events`, `oom_kill`).
pub fn oom_kills() -> Option<u64> {
    let text = std::fs::read_to_string(cgroup_dir()?.join("memory.events")).ok()?;
    text.lines().find_map(|l| l.strip_prefix("oom_kill ")).and_then(|n| n.trim().parse().ok())
}

/// The memory there is now, for messages.
pub fn now() -> Memory {
    Memory {
        limit: container_limit(),
        total: meminfo("MemTotal"),
        available: meminfo("MemAvailable"),
        cell_limit: cell_limit(),
    }
}

/// The memory the process running cells may use ([`CELL_MEMORY_ENV`]; by default 80% of the
/// container's limit or, without one, of the machine's memory). `None`: no limit.
pub fn cell_limit() -> Option<u64> {
    let base = || match (container_limit(), meminfo("MemTotal")) {
        (Some(c), Some(t)) => Some(c.min(t)),
        (c, t) => c.or(t),
    };
    let setting = std::env::var(CELL_MEMORY_ENV).unwrap_or_default();
    let setting = setting.trim();
    if setting.eq_ignore_ascii_case("off") || setting == "0" {
        return None;
    }
    if let Some(share) = setting.strip_suffix('%').and_then(|p| p.trim().parse::<f64>().ok()) {
        return base().map(|b| (b as f64 * share / 100.0) as u64);
    }
    if let Ok(n) = setting.parse::<u64>() {
        return Some(n);
    }
    base().map(|b| (b as f64 * DEFAULT_SHARE) as u64)
}

/// In the process that runs cells: applies the limit the kernel handed over (as the data
/// segment limit, which covers the heap and private mappings: an allocation beyond it fails).
pub fn apply_cell_limit() {
    let Some(bytes) = std::env::var(CELL_LIMIT_ENV).ok().and_then(|v| v.parse::<u64>().ok()) else { return };
    let limit = rustix::process::Rlimit { current: Some(bytes), maximum: Some(bytes) };
    if let Err(e) = rustix::process::setrlimit(rustix::process::Resource::Data, limit) {
        eprintln!("dl-kernel: cannot limit the cells' memory to {bytes} bytes: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_machine_has_memory_and_the_cell_limit_follows_the_setting() {
        let total = meminfo("MemTotal").expect("a Linux /proc/meminfo");
        assert!(total > 100_000_000);
        // The setting is read from the environment; only this test sets it.
        std::env::set_var(CELL_MEMORY_ENV, "1234567");
        assert_eq!(cell_limit(), Some(1_234_567));
        std::env::set_var(CELL_MEMORY_ENV, "off");
        assert_eq!(cell_limit(), None);
        std::env::set_var(CELL_MEMORY_ENV, "50%");
        let half = cell_limit().unwrap();
        assert!(half <= total / 2 + 1, "{half} {total}");
        std::env::remove_var(CELL_MEMORY_ENV);
        assert!(cell_limit().unwrap() < total);
    }
}
