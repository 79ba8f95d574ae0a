//! Micro-kernels: the innermost loop of the GEMM (loop 0 of the BLIS nest in [`super::blocked`]).
//!
//! A micro-kernel computes one `MR × NR` tile of `A·B` over a depth `k`:
//! `tile[i][j] = Σ_p A[i, p] · B[p, j]`, reading `A` through strides (`a[i·rsa + p·csa]`, packed
//! or in place) and `B` as `k` rows of `NR` contiguous values `ldb` apart (`b[p·ldb + j]`; packed:
//! `ldb = NR`). A full tile goes into `C` straight from the registers (`α·tile + β·C`); edge
//! tiles and transposed `C` go through a plain array that safe code adds in.
//!
//! | kernel      | level      | registers                                    | used for |
//! |-------------|------------|----------------------------------------------|------|
//! | `Tile8x48`  | AVX-512F   | 24 zmm accumulators, 3 zmm of B, 1 broadcast | wide products |
//! | `Tile12x32` | AVX-512F   | 24 zmm accumulators, 2 zmm of B, 1 broadcast | widths that 32 divides better than 48 |
//! | `Tile16x16` | AVX-512F   | 16 zmm accumulators, 1 zmm of B, 1 broadcast | at most 16 columns (10 classes) |
//! | `Tile6x16`  | AVX2 + FMA | 12 ymm accumulators, 2 ymm of B, 1 broadcast | AVX2 machines, and 17–24 columns on AVX-512 ones |
//! | `Tile4x8`   | none       | whatever the compiler makes of plain loops    | always built; the reference for the others |
//!
//! What limits each kernel, per step of the depth, counted in its compiled loop (`objdump -d` of
//! `dl-bench`, the loop of `simd::avx512::x86::tile::<R, V>`), against Golden Cove / Raptor Cove
//! (Sapphire and Emerald Rapids: two 512-bit FMA ports, p0 and p5; three load ports, two of
//! them for 512-bit loads; six µops allocated per cycle) and Zen 4 (one 512-bit FMA per cycle,
//! as two 256-bit halves; two loads per cycle):
//!
//! | kernel      | FMAs | loads (B + broadcasts of A) | instructions | Golden Cove          | Zen 4 |
//! |-------------|------|-----------------------------|--------------|----------------------|-------|
//! | `Tile8x48`  | 24   | 3 + 8                       | 44           | FMA: 12 cycles (loads 4, front end 7.3) | FMA: 24 (loads 5.5) |
//! | `Tile12x32` | 24   | 2 + 12                      | 51           | FMA: 12 (loads 5, front end 8.5) | FMA: 24 (loads 7) |
//! | `Tile16x16` | 16   | 1 + 16 (folded into the FMAs) | 34         | FMA: 8 (loads 5.7, front end 5.7) | FMA: 16 (loads 8.5) |
//! | `Tile6x16`  | 12 (ymm) | 2 + 6                   | 27           | FMA: 6 (loads 2.7, front end 4.5) | FMA: 6 (loads 4) |
//!
//! So every kernel is bound by its FMAs, and `Tile8x48` alone runs at 99 % of the FMA peak
//! that `dl-bench` measures (Emerald Rapids); the 16 × 16 kernel on 10 columns computes 16
//! lanes for 10 of them, so at most 62 % of the peak is useful work there. On a core with two
//! load ports for broadcasts (Ice Lake) it would be load-bound (8.5 cycles against 8).
//! `llvm-mca-14 -mcpu=icelake-server` on the same loops gives 12 cycles for the two 24-FMA
//! kernels, but its model issues 512-bit FMAs on port 1 too, which Intel fuses off for 512-bit
//! code, so it is too optimistic on the others; `perf stat` reports no cycle counter on the VMs
//! we measure on.
//!
//! Each SIMD kernel also has narrower variants (16 or 32 columns for the AVX-512 ones, 8 for
//! AVX2) for the last columns of C, so an edge tile computes little padding. On Zen 4 a zmm FMA
//! issues at half the rate of a ymm one, so AVX-512 gives the same FLOP rate as AVX2 there, with
//! half the instructions. The SIMD kernels hold a proof of their level ([`super::simd`]), so
//! they exist only on CPUs that have it.

use super::elementwise::update_tile;
use super::simd::{Avx2, Avx512, Dest, Operands};
use ndarray::ArrayViewMut2;

/// The largest tile any kernel produces (`MR · NR`).
pub(crate) const MAX_TILE: usize = 8 * 48;

/// A register-blocked `MR × NR` micro-kernel.
pub(crate) trait MicroKernel: Copy + Send + Sync {
    const MR: usize;
    const NR: usize;
    /// The narrowest tile it computes (its vector width): the last columns of C cost a multiple
    /// of this, not of `NR`.
    const LANES: usize;
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
        c: ArrayViewMut2<f32>,
        alpha: f32,
        beta: f32,
        tile: &mut [f32; MAX_TILE],
    ) {
        self.run(k, a, rsa, csa, b, ldb, tile);
        update_tile(c, tile, Self::NR, alpha, beta);
    }
}

/// Whether `c` is a full `mr × nr` block with unit column stride, the shape the SIMD kernels
/// write in place.
fn full_tile(c: &ArrayViewMut2<f32>, mr: usize, nr: usize) -> bool {
    let (rs, cs) = (c.strides()[0], c.strides()[1]);
    c.dim() == (mr, nr) && cs == 1 && rs >= nr as isize
}

/// Plain-Rust 4 × 8 kernel.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Tile4x8;

impl MicroKernel for Tile4x8 {
    const MR: usize = 4;
    const NR: usize = 8;
    const LANES: usize = 8;
    fn run(self, k: usize, a: &[f32], rsa: usize, csa: usize, b: &[f32], ldb: usize, tile: &mut [f32; MAX_TILE]) {
        assert!(k > 0 && 3 * rsa + (k - 1) * csa < a.len(), "micro-kernel: A slice too short");
        assert!(ldb >= 8 && (k - 1) * ldb + 8 <= b.len(), "micro-kernel: B slice too short");
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

/// Defines a SIMD micro-kernel: a value holding the proof of its level, whose `$level::tile::<MR,
/// V>` computes an `MR × V·$lanes` tile. The full width is `NR`; the narrower widths listed in
/// `[$v]` serve the last columns of C (e.g. 1024 = 21 · 48 + 16 columns end with a 16-wide
/// tile instead of a 48-wide one that would be two-thirds padding).
macro_rules! simd_kernel {
    ($(#[$doc:meta])* $name:ident, $level:ident, $mr:literal x $nr:literal, $lanes:literal, [$($v:literal),*]) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug)]
        pub(crate) struct $name($level);

        impl $name {
            /// The kernel, if this CPU has its level.
            pub(crate) fn new() -> Option<Self> {
                $level::new().map($name)
            }
        }

        const _: () = assert!($mr * $nr <= MAX_TILE, "a tile larger than MAX_TILE");

        impl MicroKernel for $name {
            const MR: usize = $mr;
            const NR: usize = $nr;
            const LANES: usize = $lanes;
            fn run(
                self,
                k: usize,
                a: &[f32],
                rsa: usize,
                csa: usize,
                b: &[f32],
                ldb: usize,
                tile: &mut [f32; MAX_TILE],
            ) {
                let ops = Operands { k, a, rsa, csa, b, ldb };
                self.0.tile::<$mr, { $nr / $lanes }>(ops, Dest::Buffer(tile, $nr), 1.0, 0.0);
            }

            fn run_c(
                self,
                k: usize,
                a: &[f32],
                rsa: usize,
                csa: usize,
                b: &[f32],
                ldb: usize,
                mut c: ArrayViewMut2<f32>,
                alpha: f32,
                beta: f32,
                tile: &mut [f32; MAX_TILE],
            ) {
                let width = c.ncols().div_ceil($lanes) * $lanes;
                let ops = Operands { k, a, rsa, csa, b, ldb };
                let direct = full_tile(&c, $mr, width);
                let (out, al, be) =
                    if direct { (Dest::View(&mut c), alpha, beta) } else { (Dest::Buffer(tile, $nr), 1.0, 0.0) };
                match width / $lanes {
                    $($v => self.0.tile::<$mr, $v>(ops, out, al, be),)*
                    _ => unreachable!("a tile is at most NR wide"),
                }
                if !direct {
                    update_tile(c, tile, $nr, alpha, beta);
                }
            }
        }
    };
}

simd_kernel!(
    /// AVX2 + FMA 6 × 16 kernel.
    Tile6x16, Avx2, 6 x 16, 8, [1, 2]
);
simd_kernel!(
    /// AVX-512F 8 × 48 kernel.
    Tile8x48, Avx512, 8 x 48, 16, [1, 2, 3]
);
simd_kernel!(
    /// AVX-512F 16 × 16 kernel, for products with at most 16 columns (10 classes).
    Tile16x16, Avx512, 16 x 16, 16, [1]
);
simd_kernel!(
    /// AVX-512F 12 × 32 kernel, for widths that are multiples of 32 but not of 48 (64, 512, ...).
    Tile12x32, Avx512, 12 x 32, 16, [1, 2]
);
