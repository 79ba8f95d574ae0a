//! The only `unsafe` code in dl-core: x86 SIMD behind values that prove the CPU has it.
//!
//! [`Avx2`] and [`Avx512`] are zero-sized proofs: `new` hands one out only after the CPU has been
//! checked for the level at run time, so every method on them is safe to call. Each method
//! checks the bounds of what it reads and writes, then enters code compiled for that level:
//!
//! - `tile::<R, V>`: the GEMM micro-kernel, `C = α·A·B + β·C` for an `R × lanes·V` tile held in
//!   `R·V` vector accumulators (per step of the depth: `V` loads of B, `R` broadcasts of A,
//!   `R·V` FMAs), written from the registers;
//! - `run(v)`: any plain-Rust loop ([`Vectorizable`]) compiled with the level's features, which
//!   is how element-wise passes (optimizer steps, activations, dot products) get vectorised.
//!
//! Off x86-64 no proof can be made, and callers use their portable code.

#![allow(unsafe_code)]

use super::cpu::{detected, Isa};
use ndarray::ArrayViewMut2;

/// A loop in plain Rust that a level's `run` compiles with that level's instructions.
/// Implementations must mark `run` `#[inline(always)]`: that is what makes the loop be compiled
/// inside the AVX-512 / AVX2 wrapper.
pub trait Vectorizable {
    /// What the loop returns.
    type Output;
    /// The loop.
    fn run(self) -> Self::Output;
}

/// The operands of one micro-kernel call: `A[i, p] = a[i·rsa + p·csa]` for `i < R`, `p < k`,
/// and `B[p, j] = b[p·ldb + j]` for `p < k`, `j < width`.
#[derive(Clone, Copy)]
pub(crate) struct Operands<'a> {
    pub k: usize,
    pub a: &'a [f32],
    pub rsa: usize,
    pub csa: usize,
    pub b: &'a [f32],
    pub ldb: usize,
}

impl Operands<'_> {
    /// Panics unless every value a `rows × width` tile reads is inside `a` and `b`.
    fn check(&self, rows: usize, width: usize) {
        assert!(self.k > 0, "micro-kernel with k = 0");
        assert!((rows - 1) * self.rsa + (self.k - 1) * self.csa < self.a.len(), "micro-kernel: A slice too short");
        assert!(
            self.ldb >= width && (self.k - 1) * self.ldb + width <= self.b.len(),
            "micro-kernel: B slice too short"
        );
    }
}

/// Where a tile goes: a row-major buffer with rows `ldc` apart, or a block of C with unit
/// column stride that is exactly the tile's size.
pub(crate) enum Dest<'a, 'c> {
    Buffer(&'a mut [f32], usize),
    View(&'a mut ArrayViewMut2<'c, f32>),
}

macro_rules! level {
    ($(#[$doc:meta])* $name:ident, $isa:expr, $features:literal, $lanes:literal, $vec:ty,
     $zero:ident, $load:ident, $splat:ident, $fma:ident, $mul:ident, $store:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug)]
        pub(crate) struct $name(());

        impl $name {
            /// The proof, if this CPU has the level.
            pub(crate) fn new() -> Option<Self> {
                (cfg!(target_arch = "x86_64") && detected() >= $isa).then_some($name(()))
            }

            /// `v` compiled for this level.
            #[inline(always)]
            pub(crate) fn run<V: Vectorizable>(self, v: V) -> V::Output {
                #[cfg(target_arch = "x86_64")]
                {
                    /// # Safety
                    #[doc = concat!("The CPU must support ", $features, ".")]
                    #[target_feature(enable = $features)]
                    unsafe fn inner<V: Vectorizable>(v: V) -> V::Output {
                        v.run()
                    }
                    // SAFETY: this value exists only when the CPU has the level (see `new`).
                    unsafe { inner(v) }
                }
                #[cfg(not(target_arch = "x86_64"))]
                v.run()
            }

            /// `out = α·(A·B) + β·out` for an `R × lanes·V` tile (β = 0: `out` is not read).
            ///
            /// # Panics
            /// If the operands are too short for the tile, or `out` cannot hold it.
            pub(crate) fn tile<const R: usize, const V: usize>(
                self,
                ops: Operands<'_>,
                out: Dest<'_, '_>,
                alpha: f32,
                beta: f32,
            ) {
                let width = $lanes * V;
                ops.check(R, width);
                let (ptr, ldc) = match out {
                    Dest::Buffer(buf, ldc) => {
                        let fits = ldc >= width && (R - 1) * ldc + width <= buf.len();
                        assert!(fits, "micro-kernel: tile buffer too small");
                        (buf.as_mut_ptr(), ldc)
                    }
                    Dest::View(c) => {
                        let (rs, cs) = (c.strides()[0], c.strides()[1]);
                        let full = c.dim() == (R, width) && cs == 1 && rs >= width as isize;
                        assert!(full, "micro-kernel: C block is not a full tile");
                        (c.as_mut_ptr(), rs as usize)
                    }
                };
                #[cfg(target_arch = "x86_64")]
                // SAFETY: the CPU has the level (this value exists); `check` and the asserts
                // above put every read of A and B and every access to `ptr` in bounds.
                unsafe {
                    let (a, b) = (ops.a.as_ptr(), ops.b.as_ptr());
                    x86::tile::<R, V>(ops.k, a, ops.rsa, ops.csa, b, ops.ldb, ptr, ldc, alpha, beta)
                }
                #[cfg(not(target_arch = "x86_64"))]
                let _ = (ptr, ldc, alpha, beta);
            }
        }

        #[cfg(target_arch = "x86_64")]
        mod x86 {
            use std::arch::x86_64::*;

            /// `C = α·A·B + β·C` for an `R × lanes·V` tile held in `R·V` registers.
            ///
            /// # Safety
            #[doc = concat!("The CPU must support ", $features, ".")]
            /// `a[i·rsa + p·csa]` for `i < R`, `p < k` must be readable, and for `p < k`
            #[doc = concat!("`b[p·ldb .. p·ldb + ", $lanes, "·V]`; for `i < R`, `c[i·ldc .. i·ldc + ", $lanes, "·V]`")]
            /// must be writable (and readable unless `beta` is 0).
            #[target_feature(enable = $features)]
            #[allow(clippy::too_many_arguments)]
            pub(super) unsafe fn tile<const R: usize, const V: usize>(
                k: usize,
                a: *const f32,
                rsa: usize,
                csa: usize,
                b: *const f32,
                ldb: usize,
                c: *mut f32,
                ldc: usize,
                alpha: f32,
                beta: f32,
            ) {
                let mut acc: [[$vec; V]; R] = [[$zero(); V]; R];
                let rows: [*const f32; R] = std::array::from_fn(|i| a.wrapping_add(i * rsa));
                let mut bv: [$vec; V] = [$zero(); V];
                for p in 0..k {
                    // SAFETY: p < k, so b[p·ldb ..][..lanes·V] and rows[i][p·csa] are in bounds (caller).
                    unsafe {
                        let bp = b.add(p * ldb);
                        for (v, x) in bv.iter_mut().enumerate() {
                            *x = $load(bp.add($lanes * v));
                        }
                        for (row, acc) in rows.iter().zip(acc.iter_mut()) {
                            let ai = $splat(*row.add(p * csa));
                            for (x, a) in bv.iter().zip(acc.iter_mut()) {
                                *a = $fma(ai, *x, *a);
                            }
                        }
                    }
                }
                let (al, be) = ($splat(alpha), $splat(beta));
                for (i, row) in acc.iter().enumerate() {
                    for (v, r) in row.iter().enumerate() {
                        // SAFETY: i < R and v < V: inside the block the caller guarantees.
                        unsafe {
                            let p = c.add(i * ldc + v * $lanes);
                            let x = $mul(al, *r);
                            $store(p, if beta == 0.0 { x } else { $fma(be, $load(p), x) });
                        }
                    }
                }
            }
        }
    };
}

/// Proof of AVX2 + FMA, and the 256-bit code behind it.
pub(crate) mod avx2 {
    use super::*;
    level!(
        /// Proof that the CPU has AVX2 and FMA.
        Avx2, Isa::Avx2, "avx2,fma", 8, __m256,
        _mm256_setzero_ps, _mm256_loadu_ps, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_mul_ps, _mm256_storeu_ps
    );
}

/// Proof of AVX-512F, and the 512-bit code behind it.
pub(crate) mod avx512 {
    use super::*;
    level!(
        /// Proof that the CPU has AVX-512F.
        Avx512, Isa::Avx512, "avx512f", 16, __m512,
        _mm512_setzero_ps, _mm512_loadu_ps, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_mul_ps, _mm512_storeu_ps
    );
}

pub(crate) use avx2::Avx2;
pub(crate) use avx512::Avx512;
