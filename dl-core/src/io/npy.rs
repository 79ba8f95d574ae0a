//! numpy's `.npy` format on [`npyz`]: one array, [`NpArray`] in its own dtype, converted to
//! typed ndarray arrays with a clear error on a lossy or mismatched conversion; `np.load` and
//! `np.save` for a single array.
//!
//! ```no_run
//! use dl_core::prelude::*;
//! save_npy("x.npy", &array![[1.0f32, 2.0], [3.0, 4.0]])?;
//! let x = load_npy("x.npy")?.into_array::<f32, Ix2>()?;
//! # Ok::<(), dl_core::Error>(())
//! ```
//!
//! Reading never trusts the file: the header is checked before any data is read (the shape's
//! element count must fit in the bytes actually present), so a truncated, corrupt or hostile
//! file gives an error, never a panic or a huge allocation.

use super::atomic::write_atomically;
use crate::error::{Error, Result};
use crate::numpy::Scalar;
use ndarray::{ArrayBase, ArrayD, Data, Dimension, IxDyn, ShapeBuilder};
use npyz::{DType, TypeChar, WriterBuilder};
use std::fmt;
use std::io::Cursor;
use std::path::Path;

/// Largest `.npy` header numpy writes is a few KB; anything beyond this is corrupt.
const MAX_HEADER: usize = 1 << 20;

/// One array as stored, in its own dtype.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum NpArray {
    /// `float32`
    F32(ArrayD<f32>),
    /// `float64`
    F64(ArrayD<f64>),
    /// `uint8`
    U8(ArrayD<u8>),
    /// `int8`
    I8(ArrayD<i8>),
    /// `uint16`
    U16(ArrayD<u16>),
    /// `int16`
    I16(ArrayD<i16>),
    /// `uint32`
    U32(ArrayD<u32>),
    /// `int32`
    I32(ArrayD<i32>),
    /// `uint64`
    U64(ArrayD<u64>),
    /// `int64`
    I64(ArrayD<i64>),
    /// `bool`
    Bool(ArrayD<bool>),
}

macro_rules! each_variant {
    ($self:expr, $a:ident => $body:expr) => {
        match $self {
            NpArray::F32($a) => $body,
            NpArray::F64($a) => $body,
            NpArray::U8($a) => $body,
            NpArray::I8($a) => $body,
            NpArray::U16($a) => $body,
            NpArray::I16($a) => $body,
            NpArray::U32($a) => $body,
            NpArray::I32($a) => $body,
            NpArray::U64($a) => $body,
            NpArray::I64($a) => $body,
            NpArray::Bool($a) => $body,
        }
    };
}

impl NpArray {
    /// numpy's dtype name (`"float32"`, `"uint8"`...).
    pub fn dtype(&self) -> &'static str {
        match self {
            NpArray::F32(_) => "float32",
            NpArray::F64(_) => "float64",
            NpArray::U8(_) => "uint8",
            NpArray::I8(_) => "int8",
            NpArray::U16(_) => "uint16",
            NpArray::I16(_) => "int16",
            NpArray::U32(_) => "uint32",
            NpArray::I32(_) => "int32",
            NpArray::U64(_) => "uint64",
            NpArray::I64(_) => "int64",
            NpArray::Bool(_) => "bool",
        }
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        each_variant!(self, a => a.shape())
    }

    /// As [`NpArray::to`], consuming the array (no copy when the type already matches).
    ///
    /// # Errors
    /// As [`NpArray::to`].
    pub fn into_array<T: Element, D: Dimension>(self) -> Result<ndarray::Array<T, D>> {
        with_dimension("NpArray::into_array", T::convert_owned(self)?)
    }

    /// The array converted to `T` with dimension `D`.
    ///
    /// Conversions follow numpy's `astype` where nothing is lost: any number to f32/f64 (f64 →
    /// f32 rounds), integers to integer types whose range holds every value, floats to integers
    /// only when every value is a whole number in range, bool only to bool and numbers.
    ///
    /// # Errors
    /// When a value cannot be represented in `T`, or the number of dimensions is not `D`'s.
    pub fn to<T: Element, D: Dimension>(&self) -> Result<ndarray::Array<T, D>> {
        with_dimension("NpArray::to", T::convert(self)?)
    }
}

/// `a` as an array of dimension `D`, or an error (for `op`) naming both dimension counts.
fn with_dimension<T, D: Dimension>(op: &'static str, a: ArrayD<T>) -> Result<ndarray::Array<T, D>> {
    let shape = a.shape().to_vec();
    a.into_dimensionality::<D>().map_err(|_| {
        Error::shape(
            op,
            format!("the array has {} dimensions", shape.len()),
            &shape,
            format!("{} dimensions", D::NDIM.map_or("any".to_string(), |n| n.to_string())),
        )
    })
}

/// Element types an [`NpArray`] converts to and [`NpzWriter`] writes.
pub trait Element: Copy + npyz::Serialize + npyz::AutoSerialize + 'static {
    /// numpy's dtype name.
    const DTYPE: &'static str;
    /// The stored array converted to this type, or why it cannot be.
    fn convert(a: &NpArray) -> Result<ArrayD<Self>>;
    /// As [`Element::convert`], moving the data when the type already matches.
    fn convert_owned(a: NpArray) -> Result<ArrayD<Self>> {
        Self::convert(&a)
    }
}

fn lossy_error(from: &str, to: &str, v: impl fmt::Display) -> Error {
    Error::invalid(
        "NpArray::to",
        format!("cannot convert {from} to {to}: the value {v} does not fit; convert explicitly"),
    )
}

macro_rules! float_element {
    ($t:ty, $name:literal, $variant:ident) => {
        impl Element for $t {
            const DTYPE: &'static str = $name;
            fn convert_owned(a: NpArray) -> Result<ArrayD<$t>> {
                match a {
                    NpArray::$variant(x) => Ok(x),
                    other => Self::convert(&other),
                }
            }
            /// Any number converts (f64 → f32 rounds to nearest, as numpy does).
            fn convert(a: &NpArray) -> Result<ArrayD<$t>> {
                Ok(each_variant!(a, x => x.mapv(|v| Scalar::to_f64(v) as $t)))
            }
        }
    };
}

macro_rules! int_element {
    ($t:ty, $name:literal, $variant:ident) => {
        impl Element for $t {
            const DTYPE: &'static str = $name;
            fn convert_owned(a: NpArray) -> Result<ArrayD<$t>> {
                match a {
                    NpArray::$variant(x) => Ok(x),
                    other => Self::convert(&other),
                }
            }
            fn convert(a: &NpArray) -> Result<ArrayD<$t>> {
                if let NpArray::$variant(x) = a {
                    return Ok(x.clone());
                }
                let from = a.dtype();
                let ints = |it: &mut dyn Iterator<Item = i128>, shape: &[usize]| -> Result<ArrayD<$t>> {
                    let v = it
                        .map(|v| <$t>::try_from(v).map_err(|_| lossy_error(from, $name, v)))
                        .collect::<Result<Vec<_>>>()?;
                    Ok(ArrayD::from_shape_vec(IxDyn(shape), v).expect("same element count"))
                };
                let floats = |x: &mut dyn Iterator<Item = f64>, shape: &[usize]| -> Result<ArrayD<$t>> {
                    let v = x
                        .map(|f| {
                            if f.fract() == 0.0 && f >= <$t>::MIN as f64 && f <= <$t>::MAX as f64 {
                                Ok(f as $t)
                            } else {
                                Err(lossy_error(from, $name, f))
                            }
                        })
                        .collect::<Result<Vec<_>>>()?;
                    Ok(ArrayD::from_shape_vec(IxDyn(shape), v).expect("same element count"))
                };
                match a {
                    NpArray::F32(x) => floats(&mut x.iter().map(|&v| v as f64), x.shape()),
                    NpArray::F64(x) => floats(&mut x.iter().copied(), x.shape()),
                    NpArray::Bool(x) => ints(&mut x.iter().map(|&v| v as i128), x.shape()),
                    NpArray::U8(x) => ints(&mut x.iter().map(|&v| v as i128), x.shape()),
                    NpArray::I8(x) => ints(&mut x.iter().map(|&v| v as i128), x.shape()),
                    NpArray::U16(x) => ints(&mut x.iter().map(|&v| v as i128), x.shape()),
                    NpArray::I16(x) => ints(&mut x.iter().map(|&v| v as i128), x.shape()),
                    NpArray::U32(x) => ints(&mut x.iter().map(|&v| v as i128), x.shape()),
                    NpArray::I32(x) => ints(&mut x.iter().map(|&v| v as i128), x.shape()),
                    NpArray::U64(x) => ints(&mut x.iter().map(|&v| v as i128), x.shape()),
                    NpArray::I64(x) => ints(&mut x.iter().map(|&v| v as i128), x.shape()),
                }
            }
        }
    };
}

float_element!(f32, "float32", F32);
float_element!(f64, "float64", F64);
int_element!(u8, "uint8", U8);
int_element!(i8, "int8", I8);
int_element!(u16, "uint16", U16);
int_element!(i16, "int16", I16);
int_element!(u32, "uint32", U32);
int_element!(i32, "int32", I32);
int_element!(u64, "uint64", U64);
int_element!(i64, "int64", I64);

impl Element for bool {
    const DTYPE: &'static str = "bool";
    fn convert(a: &NpArray) -> Result<ArrayD<bool>> {
        match a {
            NpArray::Bool(b) => Ok(b.clone()),
            other => Err(Error::invalid(
                "NpArray::to",
                format!("cannot convert {} to bool; compare explicitly", other.dtype()),
            )),
        }
    }
}

/// Reads a single `.npy` file (numpy's `np.load` on a `.npy`).
///
/// # Errors
/// As [`Npz::load`].
pub fn load_npy(path: impl AsRef<Path>) -> Result<NpArray> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| Error::io("load_npy", path, e))?;
    parse_npy(&bytes).map_err(|msg| Error::format("load_npy", path, msg))
}

/// Writes a single `.npy` file (numpy's `np.save`).
///
/// # Errors
/// When the file cannot be written.
pub fn save_npy<T: Element, S: Data<Elem = T>, D: Dimension>(
    path: impl AsRef<Path>,
    a: &ArrayBase<S, D>,
) -> Result<()> {
    let path = path.as_ref();
    write_atomically(path, "save_npy", |file| {
        let shape: Vec<u64> = a.shape().iter().map(|&d| d as u64).collect();
        let mut w = npyz::WriteOptions::new().default_dtype().shape(&shape).writer(file).begin_nd()?;
        w.extend(a.iter().copied())?;
        w.finish()
    })
}

/// Parses one `.npy` image held in memory.
pub(super) fn parse_npy(bytes: &[u8]) -> std::result::Result<NpArray, String> {
    let (shape, item, data_start) = precheck(bytes)?;
    let npy = npyz::NpyFile::new(Cursor::new(bytes)).map_err(|e| format!("bad .npy header: {e}"))?;
    let fortran = matches!(npy.order(), npyz::Order::Fortran);
    let DType::Plain(ts) = npy.dtype() else {
        return Err("structured (record) dtypes are not supported".into());
    };
    let n: usize = shape.iter().product();
    let available = (bytes.len() - data_start) / item.max(1);
    if available < n {
        return Err(format!("the data is truncated: shape {shape:?} needs {n} values, the file holds {available}"));
    }
    let dim: ndarray::StrideShape<IxDyn> = if fortran { IxDyn(&shape).f().into() } else { IxDyn(&shape).into() };
    macro_rules! read {
        ($t:ty, $variant:ident) => {{
            let v: Vec<$t> = npy.into_vec().map_err(|e| format!("cannot read the data: {e}"))?;
            NpArray::$variant(ArrayD::from_shape_vec(dim, v).map_err(|e| e.to_string())?)
        }};
    }
    Ok(match (ts.type_char(), ts.size_field()) {
        (TypeChar::Float, 4) => read!(f32, F32),
        (TypeChar::Float, 8) => read!(f64, F64),
        (TypeChar::Uint, 1) => read!(u8, U8),
        (TypeChar::Int, 1) => read!(i8, I8),
        (TypeChar::Uint, 2) => read!(u16, U16),
        (TypeChar::Int, 2) => read!(i16, I16),
        (TypeChar::Uint, 4) => read!(u32, U32),
        (TypeChar::Int, 4) => read!(i32, I32),
        (TypeChar::Uint, 8) => read!(u64, U64),
        (TypeChar::Int, 8) => read!(i64, I64),
        (TypeChar::Bool, 1) => read!(bool, Bool),
        _ => return Err(format!("dtype {ts} is not supported (use bool, int, uint or float arrays)")),
    })
}

/// Checks magic, header length and shape before npyz sees the bytes, so that a hostile header
/// cannot overflow a size computation or request more memory than the file holds. Returns the
/// shape, the item size and where the data starts.
fn precheck(bytes: &[u8]) -> std::result::Result<(Vec<usize>, usize, usize), String> {
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err("not a .npy array (bad magic bytes)".into());
    }
    let (header_len, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize, 12),
        v => return Err(format!("unsupported .npy format version {v}")),
    };
    if header_len > MAX_HEADER || start + header_len > bytes.len() {
        return Err("the header is truncated or corrupt".into());
    }
    let header = std::str::from_utf8(&bytes[start..start + header_len]).map_err(|_| "the header is not text")?;
    let shape_at = header.find("'shape'").ok_or("the header has no shape")?;
    let rest = &header[shape_at..];
    let open = rest.find('(').ok_or("the header's shape is not a tuple")?;
    let close = rest[open..].find(')').ok_or("the header's shape is not a tuple")? + open;
    let mut shape = Vec::new();
    for part in rest[open + 1..close].split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let part = part.trim_end_matches('L');
        shape.push(part.parse::<usize>().map_err(|_| format!("bad dimension {part:?} in the shape"))?);
    }
    let descr_at = header.find("'descr'").ok_or("the header has no dtype")?;
    let descr = header[descr_at + 7..].trim_start_matches([' ', ':']);
    let quote = descr.chars().next().ok_or("bad dtype")?;
    let descr = descr[1..].split(quote).next().ok_or("bad dtype")?;
    let item: usize = descr.trim_start_matches(['<', '>', '|', '=']).get(1..).and_then(|s| s.parse().ok()).unwrap_or(1);
    let n = shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d)).ok_or("the shape's element count overflows")?;
    let data = bytes.len() - (start + header_len);
    if n.checked_mul(item.max(1)).is_none_or(|need| need > data) {
        return Err(format!(
            "the data is truncated: shape {shape:?} of {descr} needs {} bytes, the file holds {data}",
            n.saturating_mul(item)
        ));
    }
    Ok((shape, item, start + header_len))
}
