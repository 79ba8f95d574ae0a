//! How much memory there is: the machine's (`/proc/meminfo`) and the container's (the memory
//! cgroup of this process, v2 or v1, as JupyterHub and Docker set it), and the out-of-memory
//! killer's count of kills in that cgroup. Also the limit put on the process
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

/// This process's memory cgroup: its directory, and whether it is cgroup v2 (unified) or v1.
fn cgroup() -> Option<(PathBuf, bool)> {
    let text = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    for line in text.lines() {
        let mut parts = line.splitn(3, ':');
        let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
        let path = path.trim_start_matches('/');
        if controllers.split(',').any(|c| c == "memory") {
            let dir = PathBuf::from("/sys/fs/cgroup/memory").join(path);
            if dir.join("memory.limit_in_bytes").is_file() {
                return Some((dir, false));
            }
        }
    }
    let path = text.lines().find_map(|l| l.strip_prefix("0::"))?.trim_start_matches('/');
    ["/sys/fs/cgroup", "/sys/fs/cgroup/unified"]
        .iter()
        .map(|root| PathBuf::from(root).join(path))
        .find(|d| d.join("memory.max").is_file())
        .map(|d| (d, true))
}

fn read_u64(path: PathBuf) -> Option<u64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// The container's memory limit: the smallest limit from this cgroup up (cgroup v2's `max` and
/// v1's near-2^63 mean none).
pub fn container_limit() -> Option<u64> {
    let (mut dir, v2) = cgroup()?;
    let file = if v2 { "memory.max" } else { "memory.limit_in_bytes" };
    let mut limit: Option<u64> = None;
    loop {
        if let Some(n) = read_u64(dir.join(file)).filter(|&n| n < 1 << 60) {
            limit = Some(limit.map_or(n, |l| l.min(n)));
        }
        if !dir.pop() || !dir.join(file).is_file() {
            return limit;
        }
    }
}

/// What the container uses now (`memory.current`, v1's `memory.usage_in_bytes`).
pub fn container_usage() -> Option<u64> {
    let (dir, v2) = cgroup()?;
    read_u64(dir.join(if v2 { "memory.current" } else { "memory.usage_in_bytes" }))
}

/// How many times the OOM killer has killed in this cgroup (v2's `memory.events`, v1's
/// `memory.oom_control`, each with an `oom_kill` count).
pub fn oom_kills() -> Option<u64> {
    let (dir, v2) = cgroup()?;
    let text = std::fs::read_to_string(dir.join(if v2 { "memory.events" } else { "memory.oom_control" })).ok()?;
    text.lines().find_map(|l| l.strip_prefix("oom_kill ")).and_then(|n| n.trim().parse().ok())
}

/// Memory a new process could take now: the machine's available memory, or less, what the
/// container's limit leaves.
pub fn available() -> Option<u64> {
    let machine = meminfo("MemAvailable");
    let container = container_limit().zip(container_usage()).map(|(l, u)| l.saturating_sub(u));
    match (machine, container) {
        (Some(m), Some(c)) => Some(m.min(c)),
        (m, c) => m.or(c),
    }
}

/// The memory a warm spare holds (a kernel with dl-core loaded: about 1 GB, most of it
/// rust-analyzer's) plus the room the user's own kernel should keep to work in; a spare starts
/// only where this much is free (`DL_KERNEL_SPARE_MIN_FREE`, bytes).
pub fn spare_needs() -> u64 {
    std::env::var("DL_KERNEL_SPARE_MIN_FREE").ok().and_then(|v| v.trim().parse().ok()).unwrap_or(2_000_000_000)
}

/// Whether a spare fits in what is free now; `Err` says why not.
pub fn room_for_spare() -> Result<(), String> {
    match available() {
        Some(free) if free < spare_needs() => Err(format!(
            "{} free, a spare needs {} (DL_KERNEL_SPARE_MIN_FREE)",
            super::death::bytes(free),
            super::death::bytes(spare_needs())
        )),
        _ => Ok(()),
    }
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
