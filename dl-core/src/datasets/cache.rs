//! Keras's `get_file` for dl-core: where dataset files live, how they are fetched, and how they
//! are checked.
//!
//! 1. `DL_DATASETS_DIR=<dir>` (a classroom mirror, or `../shared/data` in tests): a file there is
//!    used as it is, after checking Keras's sha256; one that does not match is an error.
//! 2. The cache, `$KERAS_HOME/datasets` (default `~/.keras/datasets`, so a machine that already
//!    has Keras's cache reuses it): a file with the right hash is used; one with a wrong hash is
//!    fetched again, as Keras does.
//! 3. Otherwise the file is downloaded from Keras's URL (`DL_DATASETS_URL` replaces the base, for
//!    tests and mirrors) with a progress line, into a temporary file beside its final name, and
//!    renamed only once complete and matching its hash. A failed, interrupted or wrong download
//!    leaves nothing under the final name and removes its temporary file.

use crate::display;
use crate::error::{Error, Result};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Keras's base URL for its datasets.
pub const KERAS_DATASETS_URL: &str = "https://storage.googleapis.com/tensorflow/tf-keras-datasets";

/// A dataset file: its name and Keras's sha256 of it.
#[derive(Clone, Copy, Debug)]
pub struct RemoteFile {
    /// File name, also the last part of its URL.
    pub name: &'static str,
    /// Hex sha256 that Keras checks.
    pub sha256: &'static str,
}

impl RemoteFile {
    /// Where the file is downloaded from.
    pub fn url(&self) -> String {
        let base = std::env::var("DL_DATASETS_URL").unwrap_or_else(|_| KERAS_DATASETS_URL.to_string());
        format!("{}/{}", base.trim_end_matches('/'), self.name)
    }
}

/// The cache directory: `$KERAS_HOME/datasets`, else `~/.keras/datasets`.
pub fn cache_dir() -> PathBuf {
    let home = std::env::var_os("KERAS_HOME").map(PathBuf::from).unwrap_or_else(|| {
        std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(std::env::temp_dir).join(".keras")
    });
    home.join("datasets")
}

/// The local path of `file`, fetching it if needed (Keras's `get_file`).
///
/// # Errors
/// A file in `DL_DATASETS_DIR` with the wrong hash; a download that fails, is interrupted or does
/// not match (the message says which file, where to put it and where it comes from).
pub fn get_file(file: &RemoteFile) -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("DL_DATASETS_DIR") {
        let path = Path::new(&dir).join(file.name);
        if path.exists() {
            let got = sha256_file(&path)?;
            if got != file.sha256 {
                return Err(Error::Dataset(format!(
                    "{} (from DL_DATASETS_DIR) does not match Keras's copy: sha256 {got}, expected {}; \
                     replace it with the file from {}",
                    path.display(),
                    file.sha256,
                    file.url()
                )));
            }
            return Ok(path);
        }
    }
    let dir = cache_dir();
    let path = dir.join(file.name);
    if path.exists() && sha256_file(&path)? == file.sha256 {
        return Ok(path);
    }
    std::fs::create_dir_all(&dir).map_err(|e| Error::io("get_file", &dir, e))?;
    download(file, &path).map_err(|e| {
        Error::Dataset(format!(
            "{} is not in {} and could not be downloaded from {}: {e}\n\
             Put a copy of the file there (or in a directory named by DL_DATASETS_DIR) and try again.",
            file.name,
            dir.display(),
            file.url()
        ))
    })?;
    Ok(path)
}

/// Hex sha256 of a file.
///
/// # Errors
/// When the file cannot be read.
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut f = std::fs::File::open(path).map_err(|e| Error::io("sha256", path, e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf).map_err(|e| Error::io("sha256", path, e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

/// Downloads into a temporary file next to `dest`, checks the hash, then renames. On any error
/// the temporary file is removed; `dest` is never half-written.
fn download(file: &RemoteFile, dest: &Path) -> std::result::Result<(), String> {
    let tmp = dest.with_file_name(format!(".{}.{}.part", file.name, std::process::id()));
    let result = fetch_to(file, &tmp);
    let result = result.and_then(|digest| {
        if digest == file.sha256 {
            std::fs::rename(&tmp, dest).map_err(|e| format!("cannot move the download into place: {e}"))
        } else {
            Err(format!(
                "the downloaded file's sha256 is {digest}, expected {} (corrupt or changed upstream)",
                file.sha256
            ))
        }
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Streams the URL into `tmp` with a progress display, hashing as it goes; returns the hex
/// digest. An interrupt (the kernel's) stops it at the next chunk.
fn fetch_to(file: &RemoteFile, tmp: &Path) -> std::result::Result<String, String> {
    let url = file.url();
    println!("Downloading data from {url}");
    let start = Instant::now();
    let mut bar: Option<DownloadProgress> = None;
    let mut last = 0;
    display::clear_interrupt();
    #[cfg(feature = "download")]
    let fetch = fetch_url;
    #[cfg(not(feature = "download"))]
    let fetch = fetch_with_helper;
    let digest = fetch(
        &url,
        tmp,
        &mut |done, total| {
            last = done;
            bar.get_or_insert_with(|| DownloadProgress::new(total)).update(done, start.elapsed(), false);
        },
        &mut display::take_interrupt,
    )?;
    if let Some(bar) = bar.as_mut() {
        bar.update(last, start.elapsed(), true);
    }
    Ok(digest)
}

/// Streams `url` into the file `dest` (created or truncated), calling `progress(done, total)`
/// after each chunk and stopping with "interrupted" when `stop()` returns true. Returns the hex
/// sha256 of what was written. This is dl-core's downloader (feature `download`, on by default);
/// the kernel runs it in its own process for cells (see `fetch_with_helper`).
///
/// # Errors
/// The request fails, the connection drops or closes early, `dest` cannot be written, or `stop`.
#[cfg(feature = "download")]
pub fn fetch_url(
    url: &str,
    dest: &Path,
    progress: &mut dyn FnMut(u64, Option<u64>),
    stop: &mut dyn FnMut() -> bool,
) -> std::result::Result<String, String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(15)))
        .timeout_recv_body(Some(Duration::from_secs(60)))
        .build()
        .into();
    let response = agent.get(url).call().map_err(|e| e.to_string())?;
    let total: Option<u64> = response.headers().get("content-length").and_then(|v| v.to_str().ok()?.parse().ok());
    let mut body = response.into_body().into_reader();
    use std::io::Write;
    let mut out = std::fs::File::create(dest).map_err(|e| format!("cannot write {}: {e}", dest.display()))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut done = 0u64;
    loop {
        let n = body.read(&mut buf).map_err(|e| format!("the connection failed after {done} bytes: {e}"))?;
        if n == 0 {
            break;
        }
        if stop() {
            return Err("interrupted".into());
        }
        hasher.update(&buf[..n]);
        out.write_all(&buf[..n]).map_err(|e| format!("cannot write {}: {e}", dest.display()))?;
        done += n as u64;
        progress(done, total);
    }
    if let Some(t) = total {
        if done != t {
            return Err(format!("the connection closed after {done} of {t} bytes"));
        }
    }
    out.sync_all().map_err(|e| e.to_string())?;
    Ok(hex::encode(hasher.finalize()))
}

/// Without the `download` feature (the kernel builds dl-core so, to keep the HTTP and TLS crates
/// out of every cell's build), the program named by `DL_DOWNLOAD_HELPER` downloads: it runs
/// [`fetch_url`] and answers with [`HelperLine`]s (see [`crate::kernel_protocol`]); on failure it
/// exits non-zero with the reason on stderr.
#[cfg(not(feature = "download"))]
fn fetch_with_helper(
    url: &str,
    dest: &Path,
    progress: &mut dyn FnMut(u64, Option<u64>),
    stop: &mut dyn FnMut() -> bool,
) -> std::result::Result<String, String> {
    use crate::kernel_protocol::{HelperLine, DOWNLOAD_HELPER_COMMAND, DOWNLOAD_HELPER_ENV};
    use std::io::BufRead;
    use std::process::{Command, Stdio};
    let helper = std::env::var_os(DOWNLOAD_HELPER_ENV).ok_or_else(|| {
        format!(
            "this build of dl-core cannot download (feature `download` is off) and {DOWNLOAD_HELPER_ENV} is not set"
        )
    })?;
    let mut child = Command::new(&helper)
        .arg(DOWNLOAD_HELPER_COMMAND)
        .arg(url)
        .arg(dest)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run the download helper {}: {e}", Path::new(&helper).display()))?;
    let mut digest = None;
    for line in std::io::BufReader::new(child.stdout.take().expect("piped")).lines() {
        if stop() {
            let _ = child.kill();
            let _ = child.wait();
            return Err("interrupted".into());
        }
        let line = line.map_err(|e| e.to_string())?;
        match HelperLine::parse(&line) {
            Some(HelperLine::Progress { done, total }) => progress(done, total),
            Some(HelperLine::Sha256(hex)) => digest = Some(hex),
            None => {}
        }
    }
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
    }
    digest.ok_or_else(|| "the download helper reported no digest".into())
}

/// `11490434/11490434 ━━━━━━━━━━━━━━━━━━━━ 1s 0us/step`, as Keras shows downloads.
struct DownloadProgress {
    total: Option<u64>,
    last: Option<Instant>,
    id: String,
}

impl DownloadProgress {
    fn new(total: Option<u64>) -> Self {
        DownloadProgress { total, last: None, id: display::new_display_id() }
    }

    fn update(&mut self, done: u64, elapsed: Duration, last: bool) {
        if !last && self.last.is_some_and(|t| t.elapsed() < Duration::from_millis(200)) {
            return;
        }
        let first = self.last.is_none();
        self.last = Some(Instant::now());
        let total = self.total.unwrap_or(done).max(1);
        let filled = ((20 * done) / total).min(20) as usize;
        let bar: String = (0..20).map(|i| if i < filled { '━' } else { '─' }).collect();
        let line = format!("{done}/{total} {bar} {:.0}s", elapsed.as_secs_f64());
        let data = [("text/plain".to_string(), line.clone())].into_iter().collect();
        if display::in_kernel() {
            if first {
                display::display(&data, Some(&self.id));
            } else {
                display::update_display(&data, &self.id);
            }
        } else if last {
            println!("{line}");
        }
    }
}
