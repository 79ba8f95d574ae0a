//! What the machine is, read at run time: its data caches (which size the GEMM's blocks, see
//! [`super::params`]) and its name (vendor, family, model) for reports. Linux tells both through
//! sysfs and `/proc/cpuinfo`; elsewhere the caches are taken as a common x86-64 core's.

use std::sync::{Mutex, OnceLock};

/// Data cache sizes in bytes: L1 and L2 of one core, the whole L3.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Caches {
    /// L1 data cache of one core.
    pub l1d: usize,
    /// L2 of one core.
    pub l2: usize,
    /// The L3, shared by several cores (the L2 again if there is no L3).
    pub l3: usize,
}

impl Caches {
    /// A common x86-64 core's (32 KB, 1 MB, 16 MB of L3): used where nothing can be read.
    pub const FALLBACK: Caches = Caches { l1d: 32 << 10, l2: 1 << 20, l3: 16 << 20 };
}

static FORCED: Mutex<Option<Caches>> = Mutex::new(None);

/// The caches of this machine (read once), or the ones set by [`force_caches`].
///
/// ```
/// let c = dl_core::linalg::machine::caches();
/// assert!(c.l1d > 0 && c.l2 >= c.l1d);
/// ```
pub fn caches() -> Caches {
    static READ: OnceLock<Caches> = OnceLock::new();
    if let Some(c) = *FORCED.lock().unwrap_or_else(|e| e.into_inner()) {
        return c;
    }
    *READ.get_or_init(|| read_sysfs().unwrap_or(Caches::FALLBACK))
}

/// Pretends the machine has these caches (`None`: the real ones again). For tests and benchmarks:
/// blocks derived from a tiny or a huge cache must still multiply right.
///
/// ```
/// use dl_core::linalg::machine::{caches, force_caches, Caches};
/// let tiny = Caches { l1d: 1 << 10, l2: 4 << 10, l3: 4 << 10 };
/// force_caches(Some(tiny));
/// assert_eq!(caches(), tiny);
/// force_caches(None);
/// ```
pub fn force_caches(c: Option<Caches>) {
    *FORCED.lock().unwrap_or_else(|e| e.into_inner()) = c;
}

/// Reads `/sys/devices/system/cpu/cpu0/cache/index*`: level, type and size of each cache.
fn read_sysfs() -> Option<Caches> {
    let dir = std::fs::read_dir("/sys/devices/system/cpu/cpu0/cache").ok()?;
    let (mut l1d, mut l2, mut l3) = (None, None, None);
    for entry in dir.flatten() {
        let read = |f: &str| std::fs::read_to_string(entry.path().join(f)).map(|s| s.trim().to_string());
        let (Ok(level), Ok(kind), Ok(size)) = (read("level"), read("type"), read("size")) else { continue };
        let Some(bytes) = parse_size(&size) else { continue };
        match (level.as_str(), kind.as_str()) {
            ("1", "Data") => l1d = Some(bytes),
            ("2", "Unified") => l2 = Some(bytes),
            ("3", "Unified") => l3 = Some(bytes),
            _ => {}
        }
    }
    let (l1d, l2) = (l1d?, l2?);
    Some(Caches { l1d, l2, l3: l3.unwrap_or(l2) })
}

/// `"48K"`, `"2048K"`, `"260M"` → bytes.
fn parse_size(s: &str) -> Option<usize> {
    let (digits, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: usize = digits.parse().ok()?;
    Some(match unit {
        "" => n,
        "K" => n << 10,
        "M" => n << 20,
        "G" => n << 30,
        _ => return None,
    })
}

/// The CPU as `/proc/cpuinfo` names it: `"GenuineIntel family 6 model 207 (Intel(R) Xeon(R)
/// Processor)"`, or `"unknown CPU"`.
///
/// ```
/// assert!(!dl_core::linalg::machine::cpu_name().is_empty());
/// ```
pub fn cpu_name() -> String {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let field = |key: &str| {
        info.lines()
            .find(|l| l.split(':').next().is_some_and(|k| k.trim() == key))
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v.trim().to_string())
    };
    match (field("vendor_id"), field("cpu family"), field("model"), field("model name")) {
        (Some(v), Some(f), Some(m), name) => format!("{v} family {f} model {m} ({})", name.unwrap_or_default()),
        _ => "unknown CPU".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sysfs_sizes_are_read_as_linux_writes_them() {
        assert_eq!(parse_size("48K"), Some(48 << 10));
        assert_eq!(parse_size("260M"), Some(260 << 20));
        assert_eq!(parse_size("512"), Some(512));
        assert_eq!(parse_size("12Q"), None);
    }

    #[test]
    fn this_machines_caches_are_ordered_by_level() {
        let c = read_sysfs().unwrap_or(Caches::FALLBACK);
        assert!(c.l1d >= 8 << 10 && c.l2 > c.l1d && c.l3 >= c.l2, "{c:?}");
    }
}
