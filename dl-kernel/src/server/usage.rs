//! `usage_request` (on the control channel, from jupyter-resource-usage): the kernel's memory and
//! CPU with the processes it started, and the machine's, in ipykernel's fields, from `/proc`.

use serde_json::{json, Value};
use std::sync::Mutex;
use std::time::Instant;

/// Resident memory of a process, in bytes.
fn rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kb = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok());
    kb.unwrap_or(0) * 1024
}

/// CPU time of a process so far, in clock ticks (user + system).
fn ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> =
        stat.rsplit_once(')').map(|(_, rest)| rest.split_whitespace().collect()).unwrap_or_default();
    // After the name: state is field 3, utime 14 and stime 15 (1-based), so 11 and 12 here.
    fields.get(11).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
        + fields.get(12).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
}

fn meminfo(key: &str) -> u64 {
    let text = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let kb = text
        .lines()
        .find(|l| l.starts_with(key) && l[key.len()..].starts_with(':'))
        .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok());
    kb.unwrap_or(0) * 1024
}

/// The kernel's CPU use since the previous request, in percent of one CPU (0 the first time).
fn cpu_percent(now_ticks: u64) -> f64 {
    static LAST: Mutex<Option<(Instant, u64)>> = Mutex::new(None);
    let hz = rustix::param::clock_ticks_per_second() as f64;
    let mut last = LAST.lock().unwrap_or_else(|e| e.into_inner());
    let percent = match *last {
        Some((at, then)) if now_ticks >= then => {
            let secs = at.elapsed().as_secs_f64().max(1e-3);
            100.0 * (now_ticks - then) as f64 / hz / secs
        }
        _ => 0.0,
    };
    *last = Some((Instant::now(), now_ticks));
    percent
}

/// The content of `usage_reply`.
pub fn usage() -> Value {
    let pids = crate::engine::process_tree::tree();
    let total = meminfo("MemTotal");
    let available = meminfo("MemAvailable");
    let free = meminfo("MemFree");
    let used = total.saturating_sub(available);
    json!({
        "hostname": rustix::system::uname().nodename().to_string_lossy(),
        "pid": std::process::id(),
        "kernel_cpu": cpu_percent(pids.iter().map(|&p| ticks(p)).sum()),
        "kernel_memory": pids.iter().map(|&p| rss(p)).sum::<u64>(),
        "cpu_count": std::thread::available_parallelism().map_or(1, |n| n.get()),
        "host_virtual_memory": {
            "total": total,
            "available": available,
            "percent": if total > 0 { 100.0 * used as f64 / total as f64 } else { 0.0 },
            "used": used,
            "free": free,
        },
    })
}
