//! Element-wise loops at the widest vector width the CPU has: any plain-Rust loop through
//! [`vectorized`], and the three the GEMM needs (`dot`, `axpy`, and adding a finished tile into
//! C). Each is written once, in safe portable Rust; [`super::simd`] compiles it for AVX-512 or
//! AVX2 when the CPU has them.
//!
//! ```
//! use dl_core::linalg::elementwise::{vectorized, Vectorizable};
//! struct Double<'a>(&'a mut [f32]);
//! impl Vectorizable for Double<'_> {
//!     type Output = ();
//!     #[inline(always)]
//!     fn run(self) {
//!         self.0.iter_mut().for_each(|v| *v *= 2.0);
//!     }
//! }
//! let mut v = vec![1.0, 2.0, 3.0];
//! vectorized(Double(&mut v));
//! assert_eq!(v, [2.0, 4.0, 6.0]);
//! ```

use super::cpu::{active, Isa};
use super::microkernel::MAX_TILE;
pub use super::simd::Vectorizable;
use super::simd::{Avx2, Avx512};
use ndarray::ArrayViewMut2;

/// Runs `v` compiled for the widest instruction set this CPU has (capped by
/// [`super::cpu::force`]).
#[inline(always)]
pub fn vectorized<V: Vectorizable>(v: V) -> V::Output {
    match active() {
        Isa::Avx512 => Avx512::new().expect("the active level is detected").run(v),
        Isa::Avx2 => Avx2::new().expect("the active level is detected").run(v),
        Isa::Portable => v.run(),
    }
}

/// `Σ a[i]·b[i]` with the widest vectors available.
///
/// # Panics
/// If the slices differ in length.
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    struct Dot<'a>(&'a [f32], &'a [f32]);
    impl Vectorizable for Dot<'_> {
        type Output = f32;
        #[inline(always)]
        fn run(self) -> f32 {
            dot_portable(self.0, self.1)
        }
    }
    vectorized(Dot(a, b))
}

/// `y += s·x` with the widest vectors available.
///
/// # Panics
/// If the slices differ in length.
pub(crate) fn axpy(s: f32, x: &[f32], y: &mut [f32]) {
    assert_eq!(x.len(), y.len());
    struct Axpy<'a>(f32, &'a [f32], &'a mut [f32]);
    impl Vectorizable for Axpy<'_> {
        type Output = ();
        #[inline(always)]
        fn run(self) {
            for (y, x) in self.2.iter_mut().zip(self.1) {
                *y += self.0 * x;
            }
        }
    }
    vectorized(Axpy(s, x, y));
}

/// `C = α·tile + β·C` on C's part of a tile (`β = 0` overwrites, ignoring what C held), with
/// the widest vectors available.
pub(crate) fn update_tile(c: ArrayViewMut2<f32>, tile: &[f32; MAX_TILE], nr: usize, alpha: f32, beta: f32) {
    struct Update<'a, 'c>(ArrayViewMut2<'c, f32>, &'a [f32; MAX_TILE], usize, f32, f32);
    impl Vectorizable for Update<'_, '_> {
        type Output = ();
        #[inline(always)]
        fn run(self) {
            update_portable(self.0, self.1, self.2, self.3, self.4)
        }
    }
    vectorized(Update(c, tile, nr, alpha, beta));
}

#[inline(always)]
fn update_portable(mut c: ArrayViewMut2<f32>, tile: &[f32; MAX_TILE], nr: usize, alpha: f32, beta: f32) {
    let (h, w) = c.dim();
    let f = |c: &mut f32, t: f32| *c = alpha * t + if beta == 0.0 { 0.0 } else { beta * *c };
    if c.strides()[1] != 1 && c.strides()[0] == 1 {
        // C is column-major (a product computed as Cᵀ = Bᵀ·Aᵀ): write down each column.
        for (j, mut col) in c.columns_mut().into_iter().enumerate() {
            let col = col.as_slice_mut().expect("unit row stride");
            (0..h).for_each(|i| f(&mut col[i], tile[i * nr + j]));
        }
        return;
    }
    for (i, mut row) in c.rows_mut().into_iter().enumerate() {
        let t = &tile[i * nr..i * nr + w];
        match row.as_slice_mut() {
            Some(r) if beta == 0.0 => r.iter_mut().zip(t).for_each(|(c, t)| *c = alpha * t),
            Some(r) if beta == 1.0 => r.iter_mut().zip(t).for_each(|(c, t)| *c += alpha * t),
            Some(r) => r.iter_mut().zip(t).for_each(|(c, t)| *c = alpha * t + beta * *c),
            None => row.iter_mut().zip(t).for_each(|(c, &t)| f(c, t)),
        }
    }
}

/// Sixteen independent partial sums, so the compiler can vectorise without reassociating.
#[inline(always)]
fn dot_portable(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 16];
    let (ca, cb) = (a.chunks_exact(16), b.chunks_exact(16));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for j in 0..16 {
            acc[j] += x[j] * y[j];
        }
    }
    let tail: f32 = ra.iter().zip(rb).map(|(x, y)| x * y).sum();
    acc.iter().sum::<f32>() + tail
}
