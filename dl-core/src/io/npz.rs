//! numpy's `.npz` archives: `np.load` and `np.savez` for ndarray, the arrays themselves in
//! `.npy` format (see [`super::npy`]).
//!
//! ```no_run
//! use dl_core::prelude::*;
//! let data = Npz::load("grading.npz")?;
//! println!("{data}");                               // keys, dtypes and shapes
//! let x = data.array::<f32, Ix2>("x")?;            // typed, with a clear error on mismatch
//! let y = data.array::<i64, Ix2>("y")?;
//! NpzWriter::create("copy.npz")?.add("x", &x)?.add("y", &y)?.finish()?;
//! # Ok::<(), dl_core::Error>(())
//! ```
//!
//! Writing goes to a temporary file in the same directory that is renamed into place only when
//! complete.

use super::atomic::temp_path;
use super::npy::{parse_npy, Element, NpArray};
use crate::error::{Error, Result};
use ndarray::{ArrayBase, Data, Dimension};
use npyz::WriterBuilder;
use std::collections::BTreeMap;
use std::fmt;
use std::io::{Read, Seek};
use std::path::{Path, PathBuf};

/// The arrays of an `.npz` file, by name (numpy's `np.load(path)`).
#[derive(Clone, Debug, PartialEq)]
pub struct Npz {
    path: PathBuf,
    arrays: BTreeMap<String, NpArray>,
    order: Vec<String>,
}

impl Npz {
    /// Reads every array of the `.npz` file at `path` (stored or deflated members).
    ///
    /// # Errors
    /// A missing file, a file that is not a zip archive, a truncated or corrupt member, a dtype
    /// other than bool/int/uint/float, or an array shape that does not match its data.
    pub fn load(path: impl AsRef<Path>) -> Result<Npz> {
        let path = path.as_ref();
        let file = std::fs::File::open(path).map_err(|e| Error::io("Npz::load", path, e))?;
        Npz::from_reader(std::io::BufReader::new(file), path)
    }

    /// Reads an `.npz` from any seekable reader (`path` is only used in messages).
    ///
    /// # Errors
    /// As [`Npz::load`].
    pub fn from_reader<R: Read + Seek>(reader: R, path: &Path) -> Result<Npz> {
        let bad = |msg: String| Error::format("Npz::load", path, msg);
        let mut zip = zip::ZipArchive::new(reader).map_err(|e| bad(format!("not a valid .npz (zip) file: {e}")))?;
        let mut arrays = BTreeMap::new();
        let mut order = Vec::new();
        for i in 0..zip.len() {
            let mut member = zip.by_index(i).map_err(|e| bad(format!("member {i}: {e}")))?;
            let Some(name) = member.name().strip_suffix(".npy").map(str::to_string) else {
                continue;
            };
            // Read at most what the directory declares (+1 to notice a lie), never more.
            let declared = member.size();
            let mut bytes = Vec::with_capacity(declared.min(1 << 30) as usize);
            (&mut member)
                .take(declared.saturating_add(1))
                .read_to_end(&mut bytes)
                .map_err(|e| bad(format!("array {name:?}: {e} (the file is truncated or corrupt)")))?;
            let array = parse_npy(&bytes).map_err(|msg| bad(format!("array {name:?}: {msg}")))?;
            order.push(name.clone());
            arrays.insert(name, array);
        }
        Ok(Npz { path: path.to_path_buf(), arrays, order })
    }

    /// Array names in file order.
    pub fn keys(&self) -> &[String] {
        &self.order
    }

    /// The array `name` in its stored dtype.
    ///
    /// # Errors
    /// When there is no such array; the message lists the names present.
    pub fn get(&self, name: &str) -> Result<&NpArray> {
        self.arrays.get(name).ok_or_else(|| {
            Error::format("Npz::get", &self.path, format!("no array named {name:?}; the file has {:?}", self.order))
        })
    }

    /// The array `name` converted to element type `T` and dimension `D`, e.g.
    /// `npz.array::<f32, Ix2>("x")`.
    ///
    /// # Errors
    /// A missing name, or a conversion that [`NpArray::to`] refuses.
    pub fn array<T: Element, D: Dimension>(&self, name: &str) -> Result<ndarray::Array<T, D>> {
        self.get(name)?
            .to::<T, D>()
            .map_err(|e| Error::format("Npz::array", &self.path, format!("array {name:?}: {e}")))
    }

    /// Removes and returns the array `name`.
    ///
    /// # Errors
    /// As [`Npz::get`].
    pub fn take(&mut self, name: &str) -> Result<NpArray> {
        self.get(name)?;
        self.order.retain(|n| n != name);
        Ok(self.arrays.remove(name).expect("checked above"))
    }
}

impl fmt::Display for Npz {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:", self.path.display())?;
        for name in &self.order {
            let a = &self.arrays[name];
            write!(f, "\n  {name}: {} {:?}", a.dtype(), a.shape())?;
        }
        Ok(())
    }
}

/// Writes named arrays into an `.npz` that `numpy.load` opens (numpy's `np.savez`).
pub struct NpzWriter {
    path: PathBuf,
    tmp: PathBuf,
    zip: Option<zip::ZipWriter<std::io::BufWriter<std::fs::File>>>,
    compressed: bool,
}

impl NpzWriter {
    /// Starts an uncompressed archive at `path` (`np.savez`). Nothing appears at `path` until
    /// [`NpzWriter::finish`].
    ///
    /// # Errors
    /// When the temporary file cannot be created.
    pub fn create(path: impl AsRef<Path>) -> Result<NpzWriter> {
        let path = path.as_ref().to_path_buf();
        let tmp = temp_path(&path);
        let file = std::fs::File::create(&tmp).map_err(|e| Error::io("NpzWriter::create", &tmp, e))?;
        let zip = zip::ZipWriter::new(std::io::BufWriter::new(file));
        Ok(NpzWriter { path, tmp, zip: Some(zip), compressed: false })
    }

    /// Deflate the members that follow (`np.savez_compressed`).
    pub fn compressed(mut self, yes: bool) -> Self {
        self.compressed = yes;
        self
    }

    /// Adds the array `name`.
    ///
    /// # Errors
    /// When writing fails.
    pub fn add<T: Element, S: Data<Elem = T>, D: Dimension>(mut self, name: &str, a: &ArrayBase<S, D>) -> Result<Self> {
        let method = if self.compressed { zip::CompressionMethod::Deflated } else { zip::CompressionMethod::Stored };
        let options = zip::write::FileOptions::default().compression_method(method).large_file(true);
        let shape: Vec<u64> = a.shape().iter().map(|&d| d as u64).collect();
        let zip = self.zip.as_mut().expect("finish consumes the writer");
        let res = (|| {
            zip.start_file(format!("{name}.npy"), options)?;
            let mut w = npyz::WriteOptions::new().default_dtype().shape(&shape).writer(&mut *zip).begin_nd()?;
            w.extend(a.iter().copied())?;
            w.finish()
        })();
        res.map_err(|e| Error::io("NpzWriter::add", &self.tmp, e))?;
        Ok(self)
    }

    /// Completes the archive and moves it to its path.
    ///
    /// # Errors
    /// When the archive cannot be completed or renamed.
    pub fn finish(mut self) -> Result<()> {
        let mut zip = self.zip.take().expect("finish called once");
        let mut inner = zip.finish().map_err(|e| Error::io("NpzWriter::finish", &self.tmp, e.into()))?;
        std::io::Write::flush(&mut inner).map_err(|e| Error::io("NpzWriter::finish", &self.tmp, e))?;
        drop(inner);
        std::fs::rename(&self.tmp, &self.path).map_err(|e| Error::io("NpzWriter::finish", &self.path, e))
    }
}

impl Drop for NpzWriter {
    fn drop(&mut self) {
        if self.zip.is_some() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}
