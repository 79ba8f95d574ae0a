//! Micro-kernels and vector loops: the only `unsafe` code and the only SIMD in dl-core.
//!
//! A micro-kernel computes one `MR × NR` tile of `A·B` over a depth `k`:
//! `tile[i][j] = Σ_p A[i, p] · B[p, j]`, reading `A` through strides (`a[i·rsa + p·csa]`, packed
//! or in place) and `B` as `k` rows of `NR` contiguous values `ldb` apart (`b[p·ldb + j]`; packed:
//! `ldb = NR`). A full tile goes into `C` straight from the registers (`α·tile + β·C`); edge
//! tiles and transposed `C` go through a plain array that safe code adds in.
//!
//! | kernel       | tile    | registers                                  | when |
//! |--------------|---------|--------------------------------------------|------|
//! | `Avx512`     | 8 × 48  | 24 zmm accumulators, 3 zmm of B, 1 broadcast | AVX-512F |
//! | `Avx512x32`  | 12 × 32 | 24 zmm accumulators, 2 zmm of B, 1 broadcast | AVX-512F, widths that 32 divides better than 48 |
//! | `Avx2`       | 6 × 16  | 12 ymm accumulators, 2 ymm of B, 1 broadcast | AVX2 + FMA, and narrow `n` on AVX-512 machines |
//! | `Portable`   | 4 × 8   | whatever the compiler makes of plain loops  | always built; the reference for the others |
//!
//! Each SIMD kernel also has narrower variants (16 or 32 columns for the AVX-512 ones, 8 for
//! AVX2) for the last columns of C, so an edge tile computes little padding. On Zen 4 (this
//! project's machine) a zmm FMA issues at half the rate of a ymm one, so AVX-512 gives the same
//! FLOP rate as AVX2 there, with half the instructions.
//!
//! Kernels are zero-sized values that can only be obtained after the CPU has been checked for
//! their features, so calling one is always sound. [`force`] caps the level for tests and
//! benchmarks.

use std::sync::atomic::{AtomicU8, Ordering};

/// Instruction-set levels, weakest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Isa {
    /// Plain Rust, auto-vectorised for the baseline target.
    Portable = 0,
    /// AVX2 with FMA (256-bit).
    Avx2 = 1,
    /// AVX-512F (512-bit).
    Avx512 = 2,
}

impl Isa {
    /// Name for reports.
    pub fn name(self) -> &'static str {
        match self {
            Isa::Portable => "portable 4x8",
            Isa::Avx2 => "avx2+fma 6x16",
            Isa::Avx512 => "avx512f 8x48",
        }
    }
}

static FORCED: AtomicU8 = AtomicU8::new(u8::MAX);

/// The best level this CPU supports.
pub fn detected() -> Isa {
    #[cfg(target_arch = "x86_64")]
    {
        if is_x86_feature_detected!("avx512f") {
            return Isa::Avx512;
        }
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            return Isa::Avx2;
        }
    }
    Isa::Portable
}

/// Caps the level used from now on (`None` lifts the cap). For tests and benchmarks.
pub fn force(isa: Option<Isa>) {
    FORCED.store(isa.map_or(u8::MAX, |i| i as u8), Ordering::Relaxed);
}

/// The level in use: the detected one, capped by [`force`].
pub fn active() -> Isa {
    let cap = FORCED.load(Ordering::Relaxed);
    let d = detected();
    if (d as u8) <= cap {
        d
    } else {
        match cap {
            0 => Isa::Portable,
            1 => Isa::Avx2,
            _ => Isa::Avx512,
        }
    }
}

/// The largest tile any kernel produces (`MR · NR`).
pub(crate) const MAX_TILE: usize = 8 * 48;

/// A register-blocked `MR × NR` micro-kernel.
pub(crate) trait MicroKernel: Copy + Send + Sync {
    const MR: usize;
    const NR: usize;
    /// `tile[i·NR + j] = Σ_{p<k} a[i·rsa + p·csa] · b[p·ldb + j]` for `i < MR`, `j < NR`.
    ///
    /// # Panics
    /// If `a` or `b` is too short for those indices, or `ldb < NR`.
    #[allow(clippy::too_many_arguments)]
    fn run(self, k: usize, a: &[f32], rsa: usize, csa: usize, b: &[f32], ldb: usize, tile: &mut [f32; MAX_TILE]);

    /// `C = α·(A·B tile) + β·C` for a block `c` of at most `MR × NR`: SIMD kernels write a full
    /// row-major tile straight from their registers; any other block goes through `tile`.
    ///
    /// # Panics
    /// As [`MicroKernel::run`].
    #[allow(clippy::too_many_arguments)]
    fn run_c(
        self,
        k: usize,
        a: &[f32],
        rsa: usize,
        csa: usize,
        b: &[f32],
        ldb: usize,
        c: ndarray::ArrayViewMut2<f32>,
        alpha: f32,
        beta: f32,
        tile: &mut [f32; MAX_TILE],
    ) {
        self.run(k, a, rsa, csa, b, ldb, tile);
        update_tile(c, tile, Self::NR, alpha, beta);
    }
}

/// The row stride of `c` when it is a full `mr × nr` block with unit column stride, the shape
/// the SIMD kernels write in place.
fn full_tile(c: &ndarray::ArrayViewMut2<f32>, mr: usize, nr: usize) -> Option<usize> {
    let (rs, cs) = (c.strides()[0], c.strides()[1]);
    (c.dim() == (mr, nr) && cs == 1 && rs >= nr as isize).then_some(rs as usize)
}

#[allow(clippy::too_many_arguments)]
fn check_bounds(k: usize, a: &[f32], rsa: usize, csa: usize, mr: usize, b: &[f32], ldb: usize, nr: usize) {
    assert!(k > 0, "micro-kernel with k = 0");
    assert!((mr - 1) * rsa + (k - 1) * csa < a.len(), "micro-kernel: A slice too short");
    assert!(ldb >= nr && (k - 1) * ldb + nr <= b.len(), "micro-kernel: B slice too short");
}

/// Plain-Rust 4 × 8 kernel.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Portable;

impl MicroKernel for Portable {
    const MR: usize = 4;
    const NR: usize = 8;
    fn run(self, k: usize, a: &[f32], rsa: usize, csa: usize, b: &[f32], ldb: usize, tile: &mut [f32; MAX_TILE]) {
        check_bounds(k, a, rsa, csa, 4, b, ldb, 8);
        let mut acc = [[0.0f32; 8]; 4];
        for p in 0..k {
            let bp: &[f32; 8] = b[p * ldb..p * ldb + 8].try_into().expect("8 values");
            for (i, row) in acc.iter_mut().enumerate() {
                let ai = a[i * rsa + p * csa];
                for j in 0..8 {
                    row[j] += ai * bp[j];
                }
            }
        }
        for (i, row) in acc.iter().enumerate() {
            tile[i * 8..i * 8 + 8].copy_from_slice(row);
        }
    }
}

/// Defines a SIMD micro-kernel type: a zero-sized value that `new` hands out only when the CPU
/// has `$level`, so that calling its `x86` function is always sound. `$raw::<MR, V>` computes an
/// `MR × V·$lanes` tile; the full width is `NR`, and the narrower widths listed in `[$v]` serve
/// the last columns of C (e.g. 1024 = 21 · 48 + 16 columns end with a 16-wide tile instead of a
/// 48-wide one that would be two-thirds padding).
macro_rules! simd_kernel {
    ($(#[$doc:meta])* $name:ident, $level:expr, $mr:literal x $nr:literal, $raw:ident, $lanes:literal, [$($v:literal),*]) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug)]
        pub(crate) struct $name(());

        impl $name {
            pub(crate) fn new() -> Option<Self> {
                (detected() >= $level).then_some($name(()))
            }
        }

        impl MicroKernel for $name {
            const MR: usize = $mr;
            const NR: usize = $nr;
            fn run(self, k: usize, a: &[f32], rsa: usize, csa: usize, b: &[f32], ldb: usize, tile: &mut [f32; MAX_TILE]) {
                check_bounds(k, a, rsa, csa, $mr, b, ldb, $nr);
                // SAFETY: values of this type exist only when the CPU has the kernel's level; the
                // bounds of every read were checked above, and `tile` holds MR · NR <= MAX_TILE
                // values written as MR rows NR apart.
                unsafe { x86::$raw::<$mr, { $nr / $lanes }>(k, a.as_ptr(), rsa, csa, b.as_ptr(), ldb, tile.as_mut_ptr(), $nr, 1.0, 0.0) }
            }

            fn run_c(
                self,
                k: usize,
                a: &[f32],
                rsa: usize,
                csa: usize,
                b: &[f32],
                ldb: usize,
                mut c: ndarray::ArrayViewMut2<f32>,
                alpha: f32,
                beta: f32,
                tile: &mut [f32; MAX_TILE],
            ) {
                let width = c.ncols().div_ceil($lanes) * $lanes;
                check_bounds(k, a, rsa, csa, $mr, b, ldb, width);
                let direct = full_tile(&c, $mr, width);
                let (out, ldc, al, be) = match direct {
                    Some(ldc) => (c.as_mut_ptr(), ldc, alpha, beta),
                    None => (tile.as_mut_ptr(), $nr, 1.0, 0.0),
                };
                // SAFETY: as in `run`, for `width <= NR` columns of B; `out` is either `c`, a full
                // MR × width view with unit column stride and rows `ldc` apart, or `tile`.
                unsafe {
                    match width / $lanes {
                        $($v => x86::$raw::<$mr, $v>(k, a.as_ptr(), rsa, csa, b.as_ptr(), ldb, out, ldc, al, be),)*
                        _ => unreachable!("a tile is at most NR wide"),
                    }
                }
                if direct.is_none() {
                    update_tile(c, tile, $nr, alpha, beta);
                }
            }
        }
    };
}

simd_kernel!(
    /// AVX2 + FMA 6 × 16 kernel; exists only on CPUs that have both.
    Avx2, Isa::Avx2, 6 x 16, avx2_tile, 8, [1, 2]
);
simd_kernel!(
    /// AVX-512F 8 × 48 kernel; exists only on CPUs with AVX-512F.
    Avx512, Isa::Avx512, 8 x 48, avx512_tile, 16, [1, 2, 3]
);
simd_kernel!(
    /// AVX-512F 12 × 32 kernel, for widths that are multiples of 32 but not of 48 (64, 512, ...).
    Avx512x32, Isa::Avx512, 12 x 32, avx512_tile, 16, [1, 2]
);

/// An element-wise loop in plain Rust (optimizer update, activation) that [`vectorized`] runs
/// compiled for the widest instruction set. Implementations must mark `run` `#[inline(always)]`:
/// that is what makes the loop be compiled inside the AVX-512 / AVX2 wrapper.
pub trait Vectorizable {
    /// What the loop returns.
    type Output;
    /// The loop.
    fn run(self) -> Self::Output;
}

/// Runs `v` compiled for the widest instruction set this CPU has.
#[inline(always)]
pub fn vectorized<V: Vectorizable>(v: V) -> V::Output {
    match active() {
        // SAFETY: the level was detected on this CPU; `run` is safe Rust.
        Isa::Avx512 => unsafe { x86::with_avx512(v) },
        // SAFETY: as above.
        Isa::Avx2 => unsafe { x86::with_avx2(v) },
        Isa::Portable => v.run(),
    }
}

/// `Σ a[i]·b[i]` with the widest vectors available.
///
/// # Panics
/// If the slices differ in length.
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    match active() {
        // SAFETY: the level was detected on this CPU; lengths are equal.
        Isa::Avx512 => unsafe { x86::dot_avx512(a, b) },
        // SAFETY: as above.
        Isa::Avx2 => unsafe { x86::dot_avx2(a, b) },
        Isa::Portable => dot_portable(a, b),
    }
}

/// `y += s·x` with the widest vectors available.
///
/// # Panics
/// If the slices differ in length.
pub(crate) fn axpy(s: f32, x: &[f32], y: &mut [f32]) {
    assert_eq!(x.len(), y.len());
    match active() {
        // SAFETY: the level was detected on this CPU; the loop body is plain safe Rust.
        Isa::Avx512 => unsafe { x86::axpy_avx512(s, x, y) },
        // SAFETY: as above.
        Isa::Avx2 => unsafe { x86::axpy_avx2(s, x, y) },
        Isa::Portable => axpy_portable(s, x, y),
    }
}

/// Runs `iters` rounds of independent fused multiply-adds on this core at the widest level and
/// returns (a value to keep the work alive, floating-point operations done). For measuring the
/// machine's peak in the benchmark.
pub fn fma_peak(iters: usize) -> (f32, f64) {
    match active() {
        // SAFETY: the level was detected on this CPU.
        Isa::Avx512 => (unsafe { x86::fma_loop_avx512(iters) }, iters as f64 * 24.0 * 16.0 * 2.0),
        // SAFETY: as above.
        Isa::Avx2 => (unsafe { x86::fma_loop_avx2(iters) }, iters as f64 * 12.0 * 8.0 * 2.0),
        Isa::Portable => {
            let mut acc = [1.0f32; 8];
            for _ in 0..iters {
                acc.iter_mut().for_each(|a| *a = a.mul_add(0.999_999, 1e-7));
            }
            (acc.iter().sum(), iters as f64 * 8.0 * 2.0)
        }
    }
}

/// `C = α·tile + β·C` on C's part of a tile (`β = 0` overwrites, ignoring what C held), with
/// the widest vectors available.
pub(crate) fn update_tile(c: ndarray::ArrayViewMut2<f32>, tile: &[f32; MAX_TILE], nr: usize, alpha: f32, beta: f32) {
    match active() {
        // SAFETY: the level was detected on this CPU; the body is plain safe Rust.
        Isa::Avx512 => unsafe { x86::update_avx512(c, tile, nr, alpha, beta) },
        // SAFETY: as above.
        Isa::Avx2 => unsafe { x86::update_avx2(c, tile, nr, alpha, beta) },
        Isa::Portable => update_portable(c, tile, nr, alpha, beta),
    }
}

#[inline(always)]
pub(crate) fn update_portable(mut c: ndarray::ArrayViewMut2<f32>, tile: &[f32; MAX_TILE], nr: usize, alpha: f32, beta: f32) {
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

/// Eight independent partial sums, so the compiler can vectorise without reassociating.
#[inline(always)]
pub(crate) fn dot_portable(a: &[f32], b: &[f32]) -> f32 {
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

#[inline(always)]
pub(crate) fn axpy_portable(s: f32, x: &[f32], y: &mut [f32]) {
    for (y, x) in y.iter_mut().zip(x) {
        *y += s * x;
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    /// Defines `$name::<R, V>`: `C = α·A·B + β·C` for an `R × $lanes·V` tile held in `R·V`
    /// vector accumulators — per step of the depth, `V` loads of B, `R` broadcasts of A and
    /// `R·V` FMAs — then `C = α·acc + β·C` from the registers (C is not read when β is 0).
    macro_rules! tile_kernel {
        ($name:ident, $features:literal, $vec:ty, $lanes:literal, $zero:ident, $load:ident, $splat:ident, $fma:ident, $mul:ident, $store:ident) => {
            /// # Safety
            #[doc = concat!("The CPU must support ", $features, ". `a[i·rsa + p·csa]` for `i < R`, `p < k` and")]
            #[doc = concat!("`b[p·ldb .. p·ldb + ", $lanes, "·V]` for `p < k` must be readable, `c[i·ldc .. i·ldc + ", $lanes, "·V]`")]
            /// for `i < R` writable (and readable unless `beta` is 0).
            #[target_feature(enable = $features)]
            #[allow(clippy::too_many_arguments)]
            pub(super) unsafe fn $name<const R: usize, const V: usize>(
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
        };
    }

    tile_kernel!(avx512_tile, "avx512f", __m512, 16, _mm512_setzero_ps, _mm512_loadu_ps, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_mul_ps, _mm512_storeu_ps);
    tile_kernel!(avx2_tile, "avx2,fma", __m256, 8, _mm256_setzero_ps, _mm256_loadu_ps, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_mul_ps, _mm256_storeu_ps);

    /// # Safety
    /// The CPU must support AVX-512F.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn fma_loop_avx512(iters: usize) -> f32 {
        let mut acc = [_mm512_set1_ps(1.0); 24];
        let (x, y) = (_mm512_set1_ps(0.999_999), _mm512_set1_ps(1e-7));
        for _ in 0..iters {
            for a in acc.iter_mut() {
                *a = _mm512_fmadd_ps(*a, x, y);
            }
        }
        let mut s = _mm512_setzero_ps();
        for a in acc {
            s = _mm512_add_ps(s, a);
        }
        _mm512_reduce_add_ps(s)
    }

    /// # Safety
    /// The CPU must support AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn fma_loop_avx2(iters: usize) -> f32 {
        let mut acc = [_mm256_set1_ps(1.0); 12];
        let (x, y) = (_mm256_set1_ps(0.999_999), _mm256_set1_ps(1e-7));
        for _ in 0..iters {
            for a in acc.iter_mut() {
                *a = _mm256_fmadd_ps(*a, x, y);
            }
        }
        let mut out = [0.0f32; 8];
        let mut s = _mm256_setzero_ps();
        for a in acc {
            s = _mm256_add_ps(s, a);
        }
        // SAFETY: `out` holds 8 floats.
        unsafe { _mm256_storeu_ps(out.as_mut_ptr(), s) };
        out.iter().sum()
    }

    /// # Safety
    /// The CPU must support AVX-512F.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn with_avx512<V: super::Vectorizable>(v: V) -> V::Output {
        v.run()
    }

    /// # Safety
    /// The CPU must support AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn with_avx2<V: super::Vectorizable>(v: V) -> V::Output {
        v.run()
    }

    /// # Safety
    /// The CPU must support AVX-512F.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn update_avx512(c: ndarray::ArrayViewMut2<f32>, tile: &[f32; super::MAX_TILE], nr: usize, alpha: f32, beta: f32) {
        super::update_portable(c, tile, nr, alpha, beta)
    }

    /// # Safety
    /// The CPU must support AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn update_avx2(c: ndarray::ArrayViewMut2<f32>, tile: &[f32; super::MAX_TILE], nr: usize, alpha: f32, beta: f32) {
        super::update_portable(c, tile, nr, alpha, beta)
    }

    /// # Safety
    /// The CPU must support AVX-512F.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn dot_avx512(a: &[f32], b: &[f32]) -> f32 {
        super::dot_portable(a, b)
    }

    /// # Safety
    /// The CPU must support AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn dot_avx2(a: &[f32], b: &[f32]) -> f32 {
        super::dot_portable(a, b)
    }

    /// # Safety
    /// The CPU must support AVX-512F.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn axpy_avx512(s: f32, x: &[f32], y: &mut [f32]) {
        super::axpy_portable(s, x, y)
    }

    /// # Safety
    /// The CPU must support AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn axpy_avx2(s: f32, x: &[f32], y: &mut [f32]) {
        super::axpy_portable(s, x, y)
    }
}

#[cfg(not(target_arch = "x86_64"))]
mod x86 {
    pub(super) unsafe fn with_avx512<V: super::Vectorizable>(v: V) -> V::Output {
        v.run()
    }
    pub(super) unsafe fn with_avx2<V: super::Vectorizable>(v: V) -> V::Output {
        v.run()
    }
    pub(super) unsafe fn update_avx512(c: ndarray::ArrayViewMut2<f32>, tile: &[f32; super::MAX_TILE], nr: usize, alpha: f32, beta: f32) {
        super::update_portable(c, tile, nr, alpha, beta)
    }
    pub(super) unsafe fn update_avx2(c: ndarray::ArrayViewMut2<f32>, tile: &[f32; super::MAX_TILE], nr: usize, alpha: f32, beta: f32) {
        super::update_portable(c, tile, nr, alpha, beta)
    }
    pub(super) unsafe fn fma_loop_avx512(_: usize) -> f32 {
        unreachable!("no AVX-512 off x86_64")
    }
    pub(super) unsafe fn fma_loop_avx2(_: usize) -> f32 {
        unreachable!("no AVX2 off x86_64")
    }
    #[allow(clippy::too_many_arguments)]
    pub(super) unsafe fn avx512_tile<const R: usize, const V: usize>(_: usize, _: *const f32, _: usize, _: usize, _: *const f32, _: usize, _: *mut f32, _: usize, _: f32, _: f32) {
        unreachable!("no AVX-512 off x86_64")
    }
    #[allow(clippy::too_many_arguments)]
    pub(super) unsafe fn avx2_tile<const R: usize, const V: usize>(_: usize, _: *const f32, _: usize, _: usize, _: *const f32, _: usize, _: *mut f32, _: usize, _: f32, _: f32) {
        unreachable!("no AVX2 off x86_64")
    }
    pub(super) unsafe fn dot_avx512(a: &[f32], b: &[f32]) -> f32 {
        super::dot_portable(a, b)
    }
    pub(super) unsafe fn dot_avx2(a: &[f32], b: &[f32]) -> f32 {
        super::dot_portable(a, b)
    }
    pub(super) unsafe fn axpy_avx512(s: f32, x: &[f32], y: &mut [f32]) {
        super::axpy_portable(s, x, y)
    }
    pub(super) unsafe fn axpy_avx2(s: f32, x: &[f32], y: &mut [f32]) {
        super::axpy_portable(s, x, y)
    }
}
