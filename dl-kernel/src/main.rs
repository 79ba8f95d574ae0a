//! `dl-kernel`: a Jupyter kernel for Rust with dl-core preloaded.
//!
//! ```text
//! dl-kernel install [--prefix DIR] [--no-build]   register the "Rust (dl)" kernelspec, build dl-core
//! dl-kernel uninstall [--prefix DIR]              remove the kernelspec
//! dl-kernel kernel --connection-file FILE         run as a kernel (Jupyter starts this)
//! dl-kernel spare --wait | --stop                 warm a spare kernel and wait for it | stop spares
//! dl-kernel run [--output DIR] [--timeout SECS] NOTEBOOK...   execute notebooks headless
//! dl-kernel fetch URL DEST                       download for dl-core in cells (internal)
//! ```

mod engine;
mod install;
mod is_complete;
mod outputs;
mod prebuilt;
mod runner;
mod rustc_wrapper;
mod server;
mod spare;
mod stderr_fence;
mod wire;

use anyhow::{bail, Result};
use std::path::PathBuf;

/// Set for the process that runs cells, so dl-core sends rich output to the kernel.
pub const KERNEL_ENV: &str = "DL_KERNEL_DISPLAY";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [cmd, url, dest] = &args[..] {
        // Cells start the download helper from evcxr's runtime process, whose environment would
        // make `runtime_hook` take this process over; evcxr itself never passes arguments.
        if cmd == "fetch" {
            std::process::exit(fetch(url, std::path::Path::new(dest)));
        }
    }
    // Cargo runs this binary as the cell crate's compiler wrapper (see `rustc_wrapper`).
    if let Some(code) = rustc_wrapper::run_if_wrapper(&args) {
        std::process::exit(code);
    }
    // Before anything else of the kernel's: the same binary also runs the user's code and wraps
    // rustc for evcxr.
    evcxr::runtime_hook();
    spare::record_original_env();
    env_logger::Builder::from_env(env_logger::Env::new().filter_or("DL_KERNEL_LOG", "warn"))
        .target(env_logger::Target::Pipe(Box::new(LogSink)))
        .init();
    match run(args) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("dl-kernel: {e:#}");
            std::process::exit(2);
        }
    }
}

/// The kernel's own log goes to `file` (its original stderr) once stderr carries cell output.
pub fn set_log_target(file: std::fs::File) {
    *LOG_FILE.lock().unwrap_or_else(|e| e.into_inner()) = Some(file);
}

static LOG_FILE: std::sync::Mutex<Option<std::fs::File>> = std::sync::Mutex::new(None);

/// Writes log records to the file set by [`set_log_target`], else to stderr.
struct LogSink;

impl std::io::Write for LogSink {
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

fn usage() -> &'static str {
    "usage:\n  dl-kernel install [--prefix DIR] [--no-build]\n  dl-kernel uninstall [--prefix DIR]\n  \
     dl-kernel kernel --connection-file FILE\n  dl-kernel spare --wait | --stop\n  dl-kernel run [--output DIR] [--timeout SECS] NOTEBOOK..."
}

/// The download helper of dl-core in cells (`DL_DOWNLOAD_HELPER`, set by the engine): streams
/// `url` into `dest` with dl-core's own downloader and reports on stdout, one line at a time,
/// `progress DONE TOTAL|-` and finally `sha256 HEX`; a failure goes to stderr with exit code 1.
fn fetch(url: &str, dest: &std::path::Path) -> i32 {
    let mut report = |done: u64, total: Option<u64>| println!("progress {done} {}", total.map_or("-".to_string(), |t| t.to_string()));
    match dl_core::datasets::cache::fetch_url(url, dest, &mut report, &mut || false) {
        Ok(digest) => {
            println!("sha256 {digest}");
            0
        }
        Err(e) => {
            eprintln!("{e}");
            1
        }
    }
}

fn run(args: Vec<String>) -> Result<i32> {
    let Some(cmd) = args.first() else { bail!("{}", usage()) };
    let rest = &args[1..];
    let flag = |name: &str| rest.iter().position(|a| a == name).and_then(|i| rest.get(i + 1)).cloned();
    match cmd.as_str() {
        "run" => {
            let mut opts = runner::RunOptions::default();
            let mut paths = Vec::new();
            let mut it = rest.iter();
            while let Some(a) = it.next() {
                match a.as_str() {
                    "--output" => opts.output_dir = it.next().map(PathBuf::from),
                    "--timeout" => {
                        let secs: f64 = it.next().and_then(|s| s.parse().ok()).ok_or_else(|| anyhow::anyhow!("--timeout needs seconds"))?;
                        opts.timeout = Some(std::time::Duration::from_secs_f64(secs));
                    }
                    other if other.starts_with("--") => bail!("unknown option {other}\n{}", usage()),
                    path => paths.push(PathBuf::from(path)),
                }
            }
            if paths.is_empty() {
                bail!("no notebooks given\n{}", usage());
            }
            Ok(if runner::run_all(&paths, &opts) { 0 } else { 1 })
        }
        "install" => {
            let prefix = flag("--prefix").map(PathBuf::from);
            install::install(prefix.as_deref(), !rest.iter().any(|a| a == "--no-build"))?;
            Ok(0)
        }
        "uninstall" => {
            install::uninstall(flag("--prefix").map(PathBuf::from).as_deref())?;
            Ok(0)
        }
        "kernel" if rest.iter().any(|a| a == "--spare") => {
            let Some(spare) = spare::Spare::claim()? else { return Ok(0) };
            let prepared = server::prepare();
            let Some((adoption, stand_in)) = spare.wait(&|| prepared.warm())? else { return Ok(0) };
            std::env::set_current_dir(&adoption.cwd)?;
            prepared.adopt(&adoption);
            spare::exit_with_stand_in(stand_in);
            server::serve_prepared(prepared, adoption.connection)?;
            Ok(0)
        }
        "kernel" => {
            let file = flag("--connection-file").or_else(|| rest.iter().find(|a| !a.starts_with("--")).cloned());
            let Some(file) = file else { bail!("kernel needs --connection-file FILE") };
            if let Some(kernel) = spare::hand_over(std::path::Path::new(&file)) {
                return Ok(spare::stand_in(kernel));
            }
            server::serve(std::path::Path::new(&file))?;
            Ok(0)
        }
        "spare" => match rest.first().map(String::as_str) {
            Some("--wait") => {
                let pid = spare::wait_warm(std::time::Duration::from_secs(600))?;
                println!("{pid}");
                Ok(0)
            }
            Some("--stop") => {
                println!("asked {} spare kernel(s) to stop", spare::stop_all());
                Ok(0)
            }
            _ => bail!("spare needs --wait or --stop\n{}", usage()),
        },
        "fetch" => bail!("fetch needs URL DEST"),
        "--help" | "-h" | "help" => {
            println!("{}", usage());
            Ok(0)
        }
        _ => bail!("unknown command {cmd:?}\n{}", usage()),
    }
}
