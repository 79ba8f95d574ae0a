//! numpy-style helpers on ndarray for what the course does with numpy: casts (`astype`),
//! statistics along an axis, standardising with training statistics, flattening images,
//! `to_categorical`, `argmax`, numpy's rounding, counting equal elements, taking rows. They work
//! on plain `ndarray` arrays; there is no tensor type of our own. Random arrays, shuffling and
//! splits are in [`crate::random`].
//!
//! ```
//! use dl_core::prelude::*;
//! let x = array![[1.0, 10.0], [3.0, 30.0]];
//! let (mean, std) = mean_std(&x, Axis(0));
//! let z = standardize(&x, &mean, &(2.0 * &std));
//! assert_eq!(z, array![[-0.5, -0.5], [0.5, 0.5]]);
//! ```

use crate::error::{Error, Result};
use ndarray::{Array, Array1, Array2, ArrayBase, Axis, Data, Dimension, Ix2, RemoveAxis};

/// Element types that convert to `f32` the way numpy's `astype(np.float32)` does.
pub trait Scalar: Copy + 'static {
    /// numpy's name for this dtype (`"float32"`, `"uint8"`...).
    const DTYPE: &'static str;
    /// The value as f32 (rounded to nearest for f64 and large integers).
    fn to_f32(self) -> f32;
    /// The value as f64 (exact for every supported type but i64/u64 beyond 2^53).
    fn to_f64(self) -> f64;
    /// The view itself when the element type already is f32 (lets callers skip a copy).
    fn as_f32_view<D: Dimension>(_v: ndarray::ArrayView<'_, Self, D>) -> Option<ndarray::ArrayView<'_, f32, D>> {
        None
    }
}

impl Scalar for f32 {
    const DTYPE: &'static str = "float32";
    fn to_f32(self) -> f32 {
        self
    }
    fn to_f64(self) -> f64 {
        self as f64
    }
    fn as_f32_view<D: Dimension>(v: ndarray::ArrayView<'_, f32, D>) -> Option<ndarray::ArrayView<'_, f32, D>> {
        Some(v)
    }
}

macro_rules! scalar {
    ($($t:ty => $name:literal),*) => {$(
        impl Scalar for $t {
            const DTYPE: &'static str = $name;
            fn to_f32(self) -> f32 { self as f32 }
            fn to_f64(self) -> f64 { self as f64 }
        }
    )*};
}
scalar!(f64 => "float64", u8 => "uint8", i8 => "int8", u16 => "uint16",
        i16 => "int16", u32 => "uint32", i32 => "int32", u64 => "uint64", i64 => "int64");

impl Scalar for bool {
    const DTYPE: &'static str = "bool";
    fn to_f32(self) -> f32 {
        if self {
            1.0
        } else {
            0.0
        }
    }
    fn to_f64(self) -> f64 {
        if self {
            1.0
        } else {
            0.0
        }
    }
}

/// numpy's name for an array's element type (`x.dtype`): `"float32"`, `"uint8"`, `"int64"`...
///
/// ```
/// use dl_core::prelude::*;
/// assert_eq!(dtype_name(&array![1u8, 2]), "uint8");
/// assert_eq!(dtype_name(&array![[1.0f32]]), "float32");
/// ```
pub fn dtype_name<S, D>(_a: &ArrayBase<S, D>) -> &'static str
where
    S: Data,
    S::Elem: Scalar,
    D: Dimension,
{
    S::Elem::DTYPE
}

/// `a.astype(np.float32)`: any numeric array as f32 (f64 is rounded to nearest).
pub fn to_f32<S, D>(a: &ArrayBase<S, D>) -> Array<f32, D>
where
    S: Data,
    S::Elem: Scalar,
    D: Dimension,
{
    a.mapv(Scalar::to_f32)
}

/// `a.astype(np.float64)`.
pub fn to_f64<S, D>(a: &ArrayBase<S, D>) -> Array<f64, D>
where
    S: Data,
    S::Elem: Scalar,
    D: Dimension,
{
    a.mapv(Scalar::to_f64)
}

/// `a.astype('float32') / 255`: pixel bytes scaled to `0.0..=1.0`.
pub fn scale_u8<S, D>(a: &ArrayBase<S, D>) -> Array<f32, D>
where
    S: Data<Elem = u8>,
    D: Dimension,
{
    a.mapv(|v| v as f32 / 255.0)
}

/// Mean and population standard deviation (numpy's default, `ddof=0`) along `axis`.
///
/// # Panics
/// If `axis` is out of range or the axis has length 0 (as ndarray's `mean_axis`).
pub fn mean_std<S, D>(x: &ArrayBase<S, D>, axis: Axis) -> (Array<f64, D::Smaller>, Array<f64, D::Smaller>)
where
    S: Data,
    S::Elem: Scalar,
    D: Dimension + RemoveAxis,
{
    let x = x.mapv(Scalar::to_f64);
    let mean = x.mean_axis(axis).expect("mean_std: empty axis");
    let std = x.std_axis(axis, 0.0);
    (mean, std)
}

/// `(x - mean) / scale`, broadcasting row statistics over the rows of `x` (the course divides by
/// `2 * std` of the *training* data, for training and test data alike). A zero scale leaves the
/// centred value unscaled instead of producing NaN.
pub fn standardize<S>(x: &ArrayBase<S, Ix2>, mean: &Array1<f64>, scale: &Array1<f64>) -> Array2<f64>
where
    S: Data,
    S::Elem: Scalar,
{
    let mut out = x.mapv(Scalar::to_f64);
    for mut row in out.rows_mut() {
        for ((v, &m), &s) in row.iter_mut().zip(mean).zip(scale) {
            *v = if s == 0.0 { *v - m } else { (*v - m) / s };
        }
    }
    out
}

/// `x.reshape(m, -1)`: keeps the first axis and flattens the rest, e.g. MNIST's `(m, 28, 28)`
/// images into `(m, 784)` rows. Copies only when `x` is not in standard layout.
///
/// # Errors
/// When `x` has no axes.
pub fn flatten<A, S, D>(x: &ArrayBase<S, D>) -> Result<Array2<A>>
where
    A: Clone,
    S: Data<Elem = A>,
    D: Dimension,
{
    let shape = x.shape();
    let Some(&m) = shape.first() else {
        return Err(Error::shape("flatten", "a 0-d array has no rows", shape, "at least 1 axis"));
    };
    let rest: usize = shape[1..].iter().product();
    let flat: Vec<A> = x.iter().cloned().collect();
    Array2::from_shape_vec((m, rest), flat).map_err(|e| Error::shape("flatten", e.to_string(), shape, "(m, ...)"))
}

/// `keras.utils.to_categorical(labels, num_classes)`: one-hot rows of f32.
///
/// # Errors
/// When a label is negative, not an integer, or not below `num_classes`.
pub fn to_categorical<S>(labels: &ArrayBase<S, ndarray::Ix1>, num_classes: usize) -> Result<Array2<f32>>
where
    S: Data,
    S::Elem: Scalar,
{
    let mut out = Array2::zeros((labels.len(), num_classes));
    for (i, &l) in labels.iter().enumerate() {
        let v = l.to_f64();
        if v < 0.0 || v.fract() != 0.0 || v >= num_classes as f64 {
            return Err(Error::invalid(
                "to_categorical",
                format!("label {v} at row {i} is not an integer in 0..{num_classes}"),
            ));
        }
        out[[i, v as usize]] = 1.0;
    }
    Ok(out)
}

/// `np.argmax(a, axis)`: index of the largest value along `axis` (the first one on ties; NaN
/// counts as largest, as in numpy).
///
/// ```
/// use dl_core::prelude::*;
/// let a = array![[1.0, 7.0, 3.0], [9.0, 2.0, 9.0]];
/// assert_eq!(argmax(&a, Axis(1)), array![1, 0]);
/// assert_eq!(argmin(&a, Axis(0)), array![0, 1, 0]);
/// ```
///
/// # Panics
/// If `axis` is out of range or has length 0.
pub fn argmax<S, D>(a: &ArrayBase<S, D>, axis: Axis) -> Array<usize, D::Smaller>
where
    S: Data,
    S::Elem: Scalar,
    D: Dimension + RemoveAxis,
{
    arg_extreme(a, axis, "argmax", |v, best| v > best)
}

/// `np.argmin(a, axis)`: index of the smallest value along `axis` (the first one on ties; NaN
/// counts as smallest, as in numpy).
///
/// # Panics
/// If `axis` is out of range or has length 0.
pub fn argmin<S, D>(a: &ArrayBase<S, D>, axis: Axis) -> Array<usize, D::Smaller>
where
    S: Data,
    S::Elem: Scalar,
    D: Dimension + RemoveAxis,
{
    arg_extreme(a, axis, "argmin", |v, best| v < best)
}

fn arg_extreme<S, D>(
    a: &ArrayBase<S, D>,
    axis: Axis,
    op: &str,
    better: fn(f64, f64) -> bool,
) -> Array<usize, D::Smaller>
where
    S: Data,
    S::Elem: Scalar,
    D: Dimension + RemoveAxis,
{
    assert!(a.len_of(axis) > 0, "{op} over an empty axis");
    a.map_axis(axis, |lane| first_extreme(lane.iter().map(|v| v.to_f64()), better).0)
}

/// `np.min(a)` (`a.min()`): the smallest element of the whole array, of the array's own type
/// (a NaN, if there is one, as numpy).
///
/// ```
/// use dl_core::prelude::*;
/// let pixels = array![[0u8, 255], [17, 3]];
/// assert_eq!((min(&pixels)?, max(&pixels)?), (0, 255));
/// assert!(min(&Array1::<f32>::zeros(0)).is_err());
/// # Ok::<(), dl_core::Error>(())
/// ```
///
/// # Errors
/// An empty array (numpy raises "zero-size array to reduction operation minimum").
pub fn min<S, D>(a: &ArrayBase<S, D>) -> Result<S::Elem>
where
    S: Data,
    S::Elem: Scalar,
    D: Dimension,
{
    extreme(a, "min", |v, best| v < best)
}

/// `np.max(a)` (`a.max()`): the largest element of the whole array, of the array's own type.
///
/// # Errors
/// An empty array.
pub fn max<S, D>(a: &ArrayBase<S, D>) -> Result<S::Elem>
where
    S: Data,
    S::Elem: Scalar,
    D: Dimension,
{
    extreme(a, "max", |v, best| v > best)
}

fn extreme<S, D>(a: &ArrayBase<S, D>, op: &'static str, better: fn(f64, f64) -> bool) -> Result<S::Elem>
where
    S: Data,
    S::Elem: Scalar,
    D: Dimension,
{
    if a.is_empty() {
        return Err(Error::shape(op, "a zero-size array has no minimum or maximum", a.shape(), "at least one element"));
    }
    let (i, _) = first_extreme(a.iter().map(|v| v.to_f64()), better);
    Ok(*a.iter().nth(i).expect("index from the same iterator"))
}

/// The index and value of the first extreme of `values` under `better`; a NaN wins at once.
fn first_extreme(values: impl Iterator<Item = f64>, better: fn(f64, f64) -> bool) -> (usize, f64) {
    let mut best = (0, f64::NAN);
    for (i, v) in values.enumerate() {
        if i == 0 || v.is_nan() || better(v, best.1) {
            best = (i, v);
        }
        if v.is_nan() {
            break;
        }
    }
    best
}

/// numpy's `np.round`: round half to even (`round(2.5) == 2`, `round(3.5) == 4`), unlike
/// `f32::round`, which rounds halves away from zero.
pub fn round<S, D>(a: &ArrayBase<S, D>) -> Array<f32, D>
where
    S: Data<Elem = f32>,
    D: Dimension,
{
    a.mapv(f32::round_ties_even)
}

/// `np.sum(a == b)`: how many elements are equal after converting both sides to f64.
///
/// # Errors
/// When the shapes differ (numpy would broadcast; here that is almost always a mistake such as
/// comparing `(n, 1)` predictions with `(n,)` labels, so it must be made explicit).
pub fn count_equal<S1, S2, D, A, B>(a: &ArrayBase<S1, D>, b: &ArrayBase<S2, D>) -> Result<usize>
where
    S1: Data<Elem = A>,
    S2: Data<Elem = B>,
    A: Scalar,
    B: Scalar,
    D: Dimension,
{
    if a.shape() != b.shape() {
        return Err(Error::shape(
            "count_equal",
            "both arrays must have the same shape (use .column(0) or flatten first)",
            b.shape(),
            format!("{:?}", a.shape()),
        ));
    }
    Ok(a.iter().zip(b.iter()).filter(|(x, y)| x.to_f64() == y.to_f64()).count())
}

/// `np.sum(a == b) / len(a)`: the share of equal elements.
///
/// # Errors
/// As [`count_equal`], and when the arrays are empty.
pub fn fraction_equal<S1, S2, D, A, B>(a: &ArrayBase<S1, D>, b: &ArrayBase<S2, D>) -> Result<f64>
where
    S1: Data<Elem = A>,
    S2: Data<Elem = B>,
    A: Scalar,
    B: Scalar,
    D: Dimension,
{
    if a.is_empty() {
        return Err(Error::invalid("fraction_equal", "the arrays are empty"));
    }
    Ok(count_equal(a, b)? as f64 / a.len() as f64)
}

/// Rows of `x` in the order `indices` (numpy's `x[indices]`).
///
/// # Panics
/// If an index is out of bounds.
pub fn take_rows<A: Clone, S: Data<Elem = A>, D: Dimension + RemoveAxis>(
    x: &ArrayBase<S, D>,
    indices: &[usize],
) -> Array<A, D> {
    x.select(Axis(0), indices)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{array, Array3};

    #[test]
    fn round_is_numpys_half_to_even() {
        assert_eq!(round(&array![0.5f32, 1.5, 2.5, -0.5, 2.4, 2.6]), array![0.0, 2.0, 2.0, -0.0, 2.0, 3.0]);
    }

    #[test]
    fn mean_std_use_population_std_like_numpy() {
        // numpy: np.std([1, 2, 3, 4]) = 1.118033988749895
        let (m, s) = mean_std(&array![[1.0f32], [2.0], [3.0], [4.0]], Axis(0));
        assert_eq!(m[0], 2.5);
        assert!((s[0] - 1.118033988749895).abs() < 1e-12);
    }

    #[test]
    fn flatten_turns_images_into_rows() {
        let x = Array3::<u8>::from_shape_fn((3, 28, 28), |(i, r, c)| (i + r + c) as u8);
        let f = flatten(&x).unwrap();
        assert_eq!(f.shape(), &[3, 784]);
        assert_eq!(f[[2, 28 + 5]], x[[2, 1, 5]]);
        // A transposed (non-standard) view is flattened in logical order.
        let t = x.view().permuted_axes([0, 2, 1]);
        assert_eq!(flatten(&t).unwrap()[[1, 3]], x[[1, 3, 0]]);
    }

    #[test]
    fn to_categorical_rejects_out_of_range_labels() {
        assert_eq!(to_categorical(&array![2u8, 0], 3).unwrap(), array![[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]);
        let e = to_categorical(&array![3u8], 3).unwrap_err().to_string();
        assert!(e.contains("label 3 at row 0"), "{e}");
        assert!(to_categorical(&array![0.5f32], 3).is_err());
    }

    #[test]
    fn argmax_takes_first_maximum() {
        assert_eq!(argmax(&array![[1.0f32, 3.0, 3.0], [5.0, 1.0, 0.0]], Axis(1)), array![1, 0]);
    }

    #[test]
    fn count_equal_requires_same_shape() {
        let preds = array![[1.2f32], [2.0]];
        let labels = array![1u8, 2];
        assert!(count_equal(&round(&preds), &labels.clone().insert_axis(Axis(1))).is_ok());
        assert_eq!(fraction_equal(&round(&preds).column(0), &labels).unwrap(), 1.0);
        let e = count_equal(&preds.column(0), &array![1.0f32, 2.0, 3.0]).unwrap_err();
        assert!(e.to_string().contains("same shape"), "{e}");
    }

    #[test]
    fn standardize_matches_hand_computation() {
        let x = array![[1.0f32, 5.0], [3.0, 5.0]];
        let (m, s) = mean_std(&x, Axis(0));
        let z = standardize(&x, &m, &s);
        assert_eq!(z, array![[-1.0, 0.0], [1.0, 0.0]]);
    }
}
