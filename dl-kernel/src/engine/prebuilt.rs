//! Fast start: dl-core and its dependencies are compiled once into a template evcxr working
//! directory, and every kernel starts from a copy of it.
//!
//! evcxr compiles each cell as a crate in its working directory, with the dependencies under
//! `target/`. A kernel that starts in an empty directory rebuilds dl-core and its dependencies
//! (minutes). Instead, `dl-kernel install` (or the first kernel, if install did not) builds the
//! template at `~/.cache/dl-kernel/<key>/work`, and each kernel clones it (see [`workdir`]) into a
//! private temporary directory, so several kernels can run at once. The key changes with the
//! dl-kernel version, the Rust toolchain, dl-core's sources and the preload, so a stale template
//! is never used; when a new one is built, the other keys' templates (about 400 MB each) are
//! removed. The template's `Cargo.lock` starts as the workspace's, so the versions are the tested
//! ones and no network is needed.

use super::preload::{dl_core_path, preload_code};
use super::{context, toolchain};
use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// What [`build_template`] compiles besides the preload; part of the key, so that a template
/// built without it is not used.
const CHECK_WARMUP: &str = "let __dl_warm = __dl_template_check_warmup();";

/// A hash of everything that decides what the template contains.
pub fn key() -> String {
    hex8(Sha256::new().chain_update(sources_key()).chain_update(toolchain::rustc_version()))
}

/// The part of [`key`] that needs no process to compute: this crate's version, dl-core's
/// sources and the preload (not the toolchain).
pub fn sources_key() -> String {
    let mut h = Sha256::new();
    h.update(env!("CARGO_PKG_VERSION"));
    let core = dl_core_path();
    h.update(core.to_string_lossy().as_bytes());
    let mut files = Vec::new();
    collect(&core.join("src"), &mut files);
    files.push(core.join("Cargo.toml"));
    files.sort();
    for f in files {
        h.update(f.to_string_lossy().as_bytes());
        h.update(std::fs::read(&f).unwrap_or_default());
    }
    h.update(preload_code());
    h.update(CHECK_WARMUP);
    hex8(h)
}

fn hex8(h: Sha256) -> String {
    hex::encode(&h.finalize()[..8])
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// `DL_KERNEL_CACHE`, else `$XDG_CACHE_HOME/dl-kernel`, else `~/.cache/dl-kernel`.
pub fn cache_root() -> PathBuf {
    if let Some(d) = std::env::var_os("DL_KERNEL_CACHE") {
        return PathBuf::from(d);
    }
    let base = std::env::var_os("XDG_CACHE_HOME").map(PathBuf::from).unwrap_or_else(|| {
        std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(std::env::temp_dir).join(".cache")
    });
    base.join("dl-kernel")
}

/// The template directory for the current key.
pub fn template_dir() -> PathBuf {
    cache_root().join(key())
}

/// Builds the template if it is not there yet, reporting progress. Safe to call from several
/// kernels at once: one builds, the others wait for it.
///
/// # Errors
/// When dl-core does not build.
pub fn ensure_template(progress: &mut dyn FnMut(&str)) -> Result<PathBuf> {
    let dir = template_dir();
    let ready = dir.join("ready");
    if ready.exists() {
        return Ok(dir);
    }
    std::fs::create_dir_all(&dir)?;
    let lock = dir.join("lock");
    loop {
        match std::fs::OpenOptions::new().write(true).create_new(true).open(&lock) {
            Ok(mut f) => {
                use std::io::Write;
                let _ = write!(f, "{}", std::process::id());
                break;
            }
            Err(_) if ready.exists() => return Ok(dir),
            Err(_) => {
                if !process_runs(&std::fs::read_to_string(&lock).unwrap_or_default()) {
                    let _ = std::fs::remove_file(&lock);
                    continue;
                }
                progress("waiting for another kernel that is building dl-core...");
                std::thread::sleep(std::time::Duration::from_secs(2));
            }
        }
    }
    let result = build_template(&dir, progress);
    let _ = std::fs::remove_file(&lock);
    result?;
    prune_other_templates(&cache_root(), &dir);
    Ok(dir)
}

/// Removes the templates of other keys (an older dl-core or toolchain) and builds abandoned by a
/// dead process. Running kernels are unaffected: their working directories are separate trees.
fn prune_other_templates(root: &Path, keep: &Path) {
    let Ok(rd) = std::fs::read_dir(root) else { return };
    for e in rd.flatten() {
        let p = e.path();
        let is_key = e.file_name().to_str().is_some_and(|n| n.len() == 16 && n.bytes().all(|b| b.is_ascii_hexdigit()));
        if !is_key || p == keep || !p.is_dir() {
            continue;
        }
        if !process_runs(&std::fs::read_to_string(p.join("lock")).unwrap_or_default()) {
            log::info!("removing the old template {}", p.display());
            let _ = std::fs::remove_dir_all(&p);
        }
    }
}

/// Whether a process with this id (as text, e.g. a lock file's contents) runs, per `/proc`.
fn process_runs(pid: &str) -> bool {
    let pid = pid.trim();
    !pid.is_empty() && Path::new("/proc").join(pid).exists()
}

fn build_template(dir: &Path, progress: &mut dyn FnMut(&str)) -> Result<()> {
    let work = dir.join("work");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)?;
    let lock = dl_core_path().join("../Cargo.lock");
    if lock.exists() {
        std::fs::copy(&lock, work.join("Cargo.lock"))?;
    }
    progress(&format!(
        "Building dl-core and its dependencies for the Rust (dl) kernel, once (a few minutes); later kernels reuse them from {}",
        dir.display()
    ));
    let t = std::time::Instant::now();
    let (mut ctx, _outputs) = context::start(&work, None)?;
    ctx.execute(&preload_code()).map_err(|e| anyhow::anyhow!("building dl-core failed: {e}"))?;
    // A `let` whose type rust-analyzer cannot infer (it calls a function that does not exist, as
    // a test cell calling a student's missing function does) makes evcxr run `cargo check`, which
    // needs dl-core and its dependencies checked once in check mode: 12-14 s on the first such
    // cell of every kernel (measured), unless the template holds them. This cell does it here.
    let _ = ctx.execute(CHECK_WARMUP);
    drop(ctx);
    std::fs::write(dir.join("ready"), format!("built in {:.0}s\n", t.elapsed().as_secs_f64()))?;
    progress(&format!("dl-core built in {:.0}s", t.elapsed().as_secs_f64()));
    Ok(())
}

/// A private copy of the template, removed when dropped.
pub struct Workdir {
    dir: PathBuf,
}

impl Workdir {
    /// The directory evcxr works in.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// The session directory of dl-core in cells (see `dl_core::session`).
    pub fn session(&self) -> PathBuf {
        self.dir.join("session")
    }
}

impl Drop for Workdir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        super::cleanup::forget_dir(&self.dir);
    }
}

/// A fresh working directory holding a copy of the (built if needed) template.
///
/// Dependency artifacts (`deps/`, `build/`, the host's `target/debug`) are hard links: cargo
/// never rewrites them (a changed dependency gets a new file name), and linking 400 files takes
/// milliseconds where copying 400 MB takes a second. Everything cargo does rewrite (fingerprints,
/// manifests, lock file) is copied with its modification time; the cell crate's own outputs and
/// incremental cache are left out, since every cell rebuilds it anyway.
///
/// # Errors
/// When the template cannot be built or copied.
pub fn workdir(progress: &mut dyn FnMut(&str)) -> Result<Workdir> {
    let template = ensure_template(progress)?.join("work");
    prune_abandoned_workdirs(&std::env::temp_dir());
    let dir = std::env::temp_dir().join(format!("dl-kernel-{}-{}", std::process::id(), uuid::Uuid::new_v4().simple()));
    super::cleanup::remove_at_exit(dir.clone());
    let w = Workdir { dir };
    clone_tree(&template, w.path(), &template)
        .with_context(|| format!("copying {} to {}", template.display(), w.path().display()))?;
    std::fs::create_dir_all(w.session())?;
    Ok(w)
}

/// Removes the working directories of kernels that died without cleaning up (killed by
/// `SIGKILL`, as `jupyter_client` does when a kernel is slow to shut down, or by the OOM killer):
/// each is a few hundred megabytes. A directory is named `dl-kernel-<pid>-<uuid>`; it is kept
/// while a process with that id runs. Only where `/proc` tells which processes run.
fn prune_abandoned_workdirs(tmp: &Path) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(rd) = std::fs::read_dir(tmp) else { return };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some((pid, id)) = name.strip_prefix("dl-kernel-").and_then(|r| r.split_once('-')) else { continue };
        let ours = pid.parse::<u32>().is_ok() && id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit());
        if ours && !process_runs(pid) && e.path().is_dir() {
            log::info!("removing the working directory of a dead kernel: {}", e.path().display());
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

fn clone_tree(src: &Path, dst: &Path, root: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dst)?;
    for e in std::fs::read_dir(src)? {
        if super::cleanup::exiting() {
            // The kernel is removing this copy: going on would bring its folders back.
            return Err(std::io::Error::other("the kernel is exiting"));
        }
        let e = e?;
        let (from, to) = (e.path(), dst.join(e.file_name()));
        let rel = from.strip_prefix(root).unwrap_or(&from).to_string_lossy().into_owned();
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with("libcode_") || name.starts_with(".evcxr") {
            continue;
        }
        if e.file_type()?.is_dir() {
            clone_tree(&from, &to, root)?;
        } else if !(is_dependency_artifact(&rel) && std::fs::hard_link(&from, &to).is_ok()) {
            // Not an artifact, or the temporary directory is on another file system (a tmpfs
            // `/tmp`), where hard links cannot go: a copy that keeps the modification time.
            std::fs::copy(&from, &to)?;
            let modified = e.metadata()?.modified()?;
            std::fs::File::options().write(true).open(&to)?.set_modified(modified)?;
        }
    }
    Ok(())
}

/// Restores the template's `Cargo.lock` in a working directory.
///
/// # Errors
/// When the file cannot be copied.
pub fn restore_lock(workdir: &Path) -> Result<()> {
    let lock = template_dir().join("work/Cargo.lock");
    if lock.exists() {
        std::fs::copy(&lock, workdir.join("Cargo.lock"))?;
    }
    Ok(())
}

/// Files that cargo writes once and never changes in place.
fn is_dependency_artifact(rel: &str) -> bool {
    let parts: Vec<&str> = rel.split('/').collect();
    let in_profile =
        |i: usize| parts.get(i) == Some(&"debug") && matches!(parts.get(i + 1), Some(&"deps") | Some(&"build"));
    match parts.as_slice() {
        ["target", "debug", rest @ ..] => !rest.contains(&".fingerprint"),
        ["target", _triple, ..] => in_profile(2),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pruning_keeps_the_current_template_and_builds_in_progress() {
        let root = std::env::temp_dir().join(format!("dl-prune-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let dir = |name: &str| {
            let d = root.join(name);
            std::fs::create_dir_all(d.join("work")).unwrap();
            d
        };
        let keep = dir("00000000000000aa");
        std::fs::write(keep.join("ready"), "").unwrap();
        let old = dir("00000000000000bb");
        std::fs::write(old.join("ready"), "").unwrap();
        let abandoned = dir("00000000000000cc");
        std::fs::write(abandoned.join("lock"), "999999999").unwrap();
        let building = dir("00000000000000dd");
        std::fs::write(building.join("lock"), std::process::id().to_string()).unwrap();
        let unrelated = dir("not-a-template");

        prune_other_templates(&root, &keep);

        assert!(keep.join("ready").exists());
        assert!(!old.exists(), "a template of another key is removed");
        assert!(!abandoned.exists(), "a build whose process died is removed");
        assert!(building.exists(), "a build in progress is left alone");
        assert!(unrelated.exists(), "only key-named directories are touched");
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn working_directories_of_dead_kernels_are_removed_and_live_ones_kept() {
        let tmp = std::env::temp_dir().join(format!("dl-prune-work-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        let id = "0123456789abcdef0123456789abcdef";
        let dead = tmp.join(format!("dl-kernel-999999999-{id}"));
        let live = tmp.join(format!("dl-kernel-{}-{id}", std::process::id()));
        let other = tmp.join("dl-kernel-999999999-notours");
        for d in [&dead, &live, &other] {
            std::fs::create_dir_all(d.join("target")).unwrap();
        }
        prune_abandoned_workdirs(&tmp);
        assert!(!dead.exists(), "a dead kernel's directory stays");
        assert!(live.exists() && other.exists());
        std::fs::remove_dir_all(&tmp).unwrap();
    }

    #[test]
    fn cloning_to_another_file_system_copies_instead_of_linking() {
        use std::os::unix::fs::MetadataExt;
        let shm = Path::new("/dev/shm");
        let src = std::env::temp_dir().join(format!("dl-clone-src-{}", std::process::id()));
        if !shm.is_dir() || shm.metadata().unwrap().dev() == std::env::temp_dir().metadata().unwrap().dev() {
            eprintln!("no second file system to clone onto; skipped");
            return;
        }
        let dst = shm.join(format!("dl-clone-dst-{}", std::process::id()));
        let artifact = "target/debug/deps/libx-1.rlib";
        std::fs::create_dir_all(src.join("target/debug/deps")).unwrap();
        std::fs::write(src.join(artifact), "rlib").unwrap();
        std::fs::write(src.join("Cargo.lock"), "lock").unwrap();

        clone_tree(&src, &dst, &src).unwrap();

        assert_eq!(std::fs::read_to_string(dst.join(artifact)).unwrap(), "rlib");
        assert_eq!(std::fs::read_to_string(dst.join("Cargo.lock")).unwrap(), "lock");
        let (a, b) = (src.join(artifact).metadata().unwrap(), dst.join(artifact).metadata().unwrap());
        assert_eq!(a.modified().unwrap(), b.modified().unwrap(), "cargo's freshness checks need the time kept");
        std::fs::remove_dir_all(&src).unwrap();
        std::fs::remove_dir_all(&dst).unwrap();
    }

    #[test]
    fn only_files_cargo_never_rewrites_are_shared() {
        assert!(is_dependency_artifact("target/debug/deps/libndarray-0123.rlib"));
        assert!(is_dependency_artifact("target/x86_64-unknown-linux-gnu/debug/deps/libfoo.rlib"));
        assert!(!is_dependency_artifact("target/debug/.fingerprint/ndarray-0123/lib-ndarray"));
        assert!(!is_dependency_artifact("Cargo.lock"));
        assert!(!is_dependency_artifact("src/lib.rs"));
    }
}
