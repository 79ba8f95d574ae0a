//! `dl-kernel fetch URL DEST`: the download helper of dl-core in cells (the kernel builds
//! dl-core for cells without its HTTP crates and sets `DL_DOWNLOAD_HELPER` to this binary).
//! Streams `url` into `dest` with dl-core's own downloader and answers with
//! [`HelperLine`]s on stdout; a failure goes to stderr with exit code 1.

use dl_core::kernel_protocol::HelperLine;

/// Runs the download; returns the process's exit code.
pub fn fetch(url: &str, dest: &std::path::Path) -> i32 {
    let mut report = |done: u64, total: Option<u64>| println!("{}", HelperLine::Progress { done, total });
    match dl_core::datasets::cache::fetch_url(url, dest, &mut report, &mut || false) {
        Ok(digest) => {
            println!("{}", HelperLine::Sha256(digest));
            0
        }
        Err(e) => {
            eprintln!("{e}");
            1
        }
    }
}
