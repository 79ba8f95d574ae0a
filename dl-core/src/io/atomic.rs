//! Files that appear whole or not at all: written to a temporary file beside their final name
//! and renamed into place when complete.

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// The temporary name beside `path` that a write goes to first.
pub(crate) fn temp_path(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{name}.{}.tmp", std::process::id()))
}

/// Runs `write` on a temporary file next to `path` and renames it into place on success.
pub(crate) fn write_atomically(
    path: &Path,
    op: &'static str,
    write: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<()>,
) -> Result<()> {
    let tmp = temp_path(path);
    let result = (|| {
        let mut file = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
        write(&mut file)?;
        std::io::Write::flush(&mut file)?;
        file.get_ref().sync_all()
    })();
    match result.and_then(|_| std::fs::rename(&tmp, path)) {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(Error::io(op, path, e))
        }
    }
}
