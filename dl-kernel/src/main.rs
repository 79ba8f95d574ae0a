//! `dl-kernel`: a Jupyter kernel for Rust with dl-core preloaded.
//!
//! ```text
//! dl-kernel install [--prefix DIR] [--no-build]   register the "Rust (dl)" kernelspec, build dl-core
//! dl-kernel uninstall [--prefix DIR]              remove the kernelspec
//! dl-kernel kernel --connection-file FILE         run as a kernel (Jupyter starts this)
//! dl-kernel spare --wait | --stop                 warm a spare kernel and wait for it | stop spares
//! dl-kernel run [--output DIR] [--timeout SECS] [--jobs N] NOTEBOOK...
//!                                                 execute notebooks headless
//! dl-kernel run --grade [--source NB] [--report DIR] [--output DIR] [--timeout SECS] [--jobs N] NB...
//!                                                 grade nbgrader submissions without Python
//! dl-kernel nbgrader-config [FILE]                the nbgrader settings for Rust notebooks
//! dl-kernel fetch URL DEST                       download for dl-core in cells (internal)
//! ```
//!
//! ```text
//! main.rs      this command line
//! server/      the Jupyter kernel: sockets, request handlers, the engine's thread
//! protocol/    Jupyter messaging: frames and signing, history, is_complete, kernel_info
//! engine/      evcxr with dl-core: running cells, their outcome, the prebuilt template
//! spare.rs     warm spare kernels handed to new ones
//! runner/      `dl-kernel run`: notebooks headless, in-process, warm engines ahead
//! grader/      `dl-kernel run --grade`: nbgrader's rules without Python; nbgrader's settings
//! notebook.rs  nbformat: reading notebooks, building saved outputs
//! install.rs   the kernelspec
//! fetch.rs     the download helper for dl-core in cells
//! kernel_log.rs  the kernel's own log
//! ```
//!
//! Data flows one way: `main` → `server`/`runner`/`install` → `engine` → dl-core. What crosses
//! into running cells is defined once, in `dl_core::kernel_protocol`.

#![forbid(unsafe_code)]

mod engine;
mod fetch;
mod grader;
mod install;
mod kernel_log;
mod notebook;
mod protocol;
mod runner;
mod server;
mod spare;

use anyhow::{bail, Result};
use dl_core::kernel_protocol::DOWNLOAD_HELPER_COMMAND;
use engine::rustc_wrapper;
use std::path::PathBuf;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [cmd, url, dest] = &args[..] {
        // Cells start the download helper from evcxr's runtime process, whose environment would
        // make `runtime_hook` take this process over; evcxr itself never passes arguments.
        if cmd == DOWNLOAD_HELPER_COMMAND {
            std::process::exit(fetch::fetch(url, std::path::Path::new(dest)));
        }
    }
    // Cargo runs this binary as the cell crate's compiler wrapper (see `rustc_wrapper`).
    if let Some(code) = rustc_wrapper::run_if_wrapper(&args) {
        std::process::exit(code);
    }
    // Before anything else of the kernel's: the same binary also runs the user's code and wraps
    // rustc for evcxr. The process that runs cells gets its memory limit first.
    engine::memory::apply_cell_limit();
    evcxr::runtime_hook();
    spare::record_original_env();
    kernel_log::init();
    match run(args) {
        Ok(code) => engine::cleanup::exit(code),
        Err(e) => {
            eprintln!("dl-kernel: {e:#}");
            engine::cleanup::exit(2);
        }
    }
}

fn usage() -> &'static str {
    "usage:\n  dl-kernel install [--prefix DIR] [--no-build]\n  dl-kernel uninstall [--prefix DIR]\n  \
     dl-kernel kernel --connection-file FILE\n  dl-kernel spare --wait | --stop\n  \
     dl-kernel run [--output DIR] [--timeout SECS] [--jobs N] NOTEBOOK...\n  \
     dl-kernel run --grade [--source SOURCE.ipynb] [--report DIR] [--output DIR] [--timeout SECS] [--jobs N] SUBMISSION...\n  \
     dl-kernel nbgrader-config [FILE]"
}

fn run(args: Vec<String>) -> Result<i32> {
    let Some(cmd) = args.first() else { bail!("{}", usage()) };
    let rest = &args[1..];
    let flag = |name: &str| rest.iter().position(|a| a == name).and_then(|i| rest.get(i + 1)).cloned();
    match cmd.as_str() {
        "run" => {
            let mut opts = runner::RunOptions::default();
            let (mut grade, mut source, mut report) = (false, None, None);
            let mut paths = Vec::new();
            let mut it = rest.iter();
            while let Some(a) = it.next() {
                let mut value = |name: &str| it.next().cloned().ok_or_else(|| anyhow::anyhow!("{name} needs a value"));
                match a.as_str() {
                    "--output" => opts.output_dir = Some(PathBuf::from(value("--output")?)),
                    "--timeout" => {
                        let secs: f64 =
                            value("--timeout")?.parse().map_err(|_| anyhow::anyhow!("--timeout needs seconds"))?;
                        opts.timeout = Some(std::time::Duration::from_secs_f64(secs));
                    }
                    "--jobs" => {
                        opts.jobs = value("--jobs")?.parse().map_err(|_| anyhow::anyhow!("--jobs needs a number"))?
                    }
                    "--grade" => grade = true,
                    "--source" => source = Some(PathBuf::from(value("--source")?)),
                    "--report" => report = Some(PathBuf::from(value("--report")?)),
                    other if other.starts_with("--") => bail!("unknown option {other}\n{}", usage()),
                    path => paths.push(PathBuf::from(path)),
                }
            }
            if paths.is_empty() {
                bail!("no notebooks given\n{}", usage());
            }
            if !grade && (source.is_some() || report.is_some()) {
                bail!("--source and --report go with --grade\n{}", usage());
            }
            if grade {
                let opts = grader::GradeOptions {
                    source,
                    report_dir: report.unwrap_or_else(|| PathBuf::from("grades")),
                    output_dir: opts.output_dir,
                    timeout: opts.timeout.unwrap_or(grader::DEFAULT_TIMEOUT),
                    jobs: opts.jobs,
                };
                return grader::grade_all(&paths, &opts);
            }
            Ok(if runner::run_all(&paths, &opts) { 0 } else { 1 })
        }
        "nbgrader-config" => {
            let path = rest.first().map_or_else(|| PathBuf::from("nbgrader_config.py"), PathBuf::from);
            grader::nbgrader_config::write(&path)?;
            Ok(0)
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
            // The next kernel's spare starts warming now, not when this one is idle or shut
            // down: nbgrader and nbconvert start kernels one after another.
            spare::spawn_if_missing(false);
            std::env::set_current_dir(&adoption.cwd)?;
            prepared.adopt(&adoption);
            spare::exit_with_stand_in(stand_in);
            server::serve_prepared(prepared, adoption.connection)?;
            Ok(0)
        }
        "kernel" => {
            let file = flag("--connection-file").or_else(|| rest.iter().find(|a| !a.starts_with("--")).cloned());
            let Some(file) = file else { bail!("kernel needs --connection-file FILE") };
            // Jupyter's server may die without shutting its kernels down (a crashed container):
            // the stand-in, or the kernel itself, leaves with it.
            engine::cleanup::exit_with_parent();
            if let Some(kernel) = spare::hand_over(std::path::Path::new(&file)) {
                return Ok(spare::stand_in(kernel));
            }
            engine::fair::set_grading(engine::fair::requested_by(|k| std::env::var(k).ok()));
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
