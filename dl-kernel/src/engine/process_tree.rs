//! The processes this kernel started, and theirs: the process that runs cells, and cargo and
//! rustc while a cell compiles. Read from `/proc` (empty where there is none).
//!
//! Only processes in the kernel's own process group count: a spare kernel it started runs in a
//! group of its own, serves the next kernel, and must outlive this one.

/// This process and its descendants, parents before their children.
pub fn tree() -> Vec<u32> {
    tree_of(std::process::id())
}

/// `root` and its descendants in its process group, parents before their children.
fn tree_of(root: u32) -> Vec<u32> {
    let group = process_group(root);
    let mut all = vec![root];
    let mut i = 0;
    while i < all.len() {
        all.extend(children(all[i]).into_iter().filter(|c| process_group(*c) == group));
        i += 1;
    }
    all
}

/// The process group of `pid` (field 5 of `/proc/PID/stat`), if it runs.
fn process_group(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces.
    stat.rsplit_once(')')?.1.split_whitespace().nth(2)?.parse().ok()
}

/// The children of `pid`. They are listed per thread that started them (evcxr starts the cell
/// process from the engine's thread, not the main one).
fn children(pid: u32) -> Vec<u32> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).into_iter().flatten().flatten();
    let lists = tasks.filter_map(|task| std::fs::read_to_string(task.path().join("children")).ok());
    lists.flat_map(|l| l.split_whitespace().filter_map(|c| c.parse().ok()).collect::<Vec<u32>>()).collect()
}

/// Kills every descendant of `root` (not `root` itself). Each is stopped first, until a walk of the tree finds
/// no new one: a running cargo could otherwise start a rustc between the walk and the kill, and
/// that rustc, adopted by init, would go on writing into the working directory.
pub fn kill_descendants_of(root: u32) {
    use rustix::process::{kill_process, Pid, Signal};
    let mut stopped: Vec<u32> = Vec::new();
    loop {
        let new: Vec<u32> = tree_of(root).into_iter().filter(|p| *p != root && !stopped.contains(p)).collect();
        if new.is_empty() {
            break;
        }
        for pid in new {
            if let Some(p) = Pid::from_raw(pid as i32) {
                let _ = kill_process(p, Signal::STOP);
            }
            stopped.push(pid);
        }
    }
    for pid in stopped {
        if let Some(p) = Pid::from_raw(pid as i32) {
            let _ = kill_process(p, Signal::KILL);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn gone(pid: u32) -> bool {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        stat.is_empty() || stat.rsplit(')').next().unwrap().split_whitespace().next() == Some("Z")
    }

    #[test]
    fn the_tree_holds_grandchildren_and_killing_it_ends_them() {
        use std::os::unix::process::CommandExt;
        let mut child = std::process::Command::new("sh").args(["-c", "sleep 60 & wait"]).spawn().unwrap();
        // As a spare kernel is started: in a group of its own.
        let script = "sh -c 'sleep 60' & wait";
        let mut apart = std::process::Command::new("sh").args(["-c", script]).process_group(0).spawn().unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while tree_of(child.id()).len() < 2 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(tree().contains(&child.id()));
        assert!(!tree().contains(&apart.id()), "a process in another group is not ours");
        let sleep = tree_of(child.id())[1];
        kill_descendants_of(child.id());
        while !gone(sleep) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(gone(sleep), "sleep {sleep} runs on");
        // Its parent's `wait` returns when it dies.
        while child.try_wait().unwrap().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(child.try_wait().unwrap().is_some(), "sh still waits");
        kill_descendants_of(apart.id());
        let _ = apart.kill();
        let _ = apart.wait();
    }
}
