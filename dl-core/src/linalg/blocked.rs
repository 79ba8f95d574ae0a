//! The blocked GEMM, `C = α·A·B + β·C`, as the BLIS loop nest. C is split into disjoint blocks
//! for rayon first; each block then runs the five loops on one thread:
//!
//! ```text
//! loop 4  for pc in 0..k step KC          depth slab
//! loop 3    for ic in 0..m step MC        pack A[ic.., pc..] → MR-tall slivers (or read A in place)
//! loop 5      for jc in 0..n step NC      pack B[pc.., jc..] → NR-wide slivers; the block fits L2
//! loop 2        for ir in 0..mc step MR   one A sliver, kept in L1
//! loop 1          for jr in 0..nc step NR   micro-kernel: MR × NR tile over depth kc, added
//!                                           into C (β only on the first slab)
//! ```
//!
//! The A sliver is the small operand here because C is row-major (tiles are NR wide along
//! rows), so it stays in L1 while loop 1 streams the B block from L2. Loops 5 and 3 are in the
//! opposite order to BLIS's: A is the operand that the inner loops re-read, and packing it once
//! per slab instead of once per B block was worth 6–8 % at 1024³ and 2048³ (see `params`).

use super::cpu::{active, Isa};
use super::machine::caches;
use super::microkernel::{MicroKernel, Tile12x32, Tile16x16, Tile4x8, Tile6x16, Tile8x48, MAX_TILE};
use super::pack::{column_major, pack_a, pack_b, with_buffers};
use super::params::{Blocking, NARROW_N, PACK_B_MIN_M, PACK_MIN_MACS, PARALLEL_MIN_MACS};
use ndarray::{s, ArrayView2, ArrayViewMut2, Axis};

/// Picks the micro-kernel for the active instruction set and the shape, then multiplies.
pub(crate) fn gemm_auto(
    threads: usize,
    alpha: f32,
    a: ArrayView2<f32>,
    b: ArrayView2<f32>,
    beta: f32,
    c: ArrayViewMut2<f32>,
) {
    let (m, n) = (a.nrows(), b.ncols());
    // Two shapes run as Cᵀ = Bᵀ·Aᵀ, whose rows are C's columns:
    // - B column-major and A row-major (A·Wᵀ in backprop), when that packs less: packing makes
    //   B's layout cheap only when its rows are contiguous. The swap writes C through its
    //   transpose (tile by tile through a buffer), which costs more than packing B when B is
    //   shallow: k ≤ m (e.g. 128 × 10 × 512, the 10-class layer's input gradient, ran 5× slower
    //   swapped).
    // - A column-major and C at most 12 wide (the 10-class kernel gradient hᵀ·dz): Aᵀ then has
    //   contiguous rows to stream, and the 10 rows of Bᵀ fill 83 % of the 12 × 32 kernel's lanes
    //   (or of two 6-row AVX2 bands), where C's 10 columns fill 62 % of a 16-wide tile:
    //   (512,128)ᵀ×(128,10) 67 → 94–110 GFLOP/s on one thread (`dl-bench`, Intel Xeon). With A
    //   row-major, Aᵀ would have to be transposed to pack.
    // Neither applies again to the swapped product.
    let k = a.ncols();
    let shallow_wt = column_major(&b) && a.strides()[1] == 1 && m < n && k > m;
    let narrow_at = column_major(&a) && n <= Tile12x32::MR && m >= 32;
    if shallow_wt || narrow_at {
        return gemm_auto(threads, alpha, b.reversed_axes(), a.reversed_axes(), beta, c.reversed_axes());
    }
    // Share of the computed tiles that lands in C: the kernel whose tiles fit the shape best.
    let fill = |mr: usize, nr: usize| (m * n) as f64 / (m.div_ceil(mr) * mr * n.div_ceil(nr) * nr) as f64;
    match active() {
        Isa::Avx512 if n > NARROW_N && fill(12, 32) > fill(8, 48) + 0.05 => {
            gemm(Tile12x32::new().expect("detected"), threads, alpha, a, b, beta, c)
        }
        Isa::Avx512 if n > NARROW_N => gemm(Tile8x48::new().expect("detected"), threads, alpha, a, b, beta, c),
        Isa::Avx512 if n <= 16 => gemm(Tile16x16::new().expect("detected"), threads, alpha, a, b, beta, c),
        Isa::Avx512 | Isa::Avx2 => gemm(Tile6x16::new().expect("detected"), threads, alpha, a, b, beta, c),
        Isa::Portable => gemm(Tile4x8, threads, alpha, a, b, beta, c),
    }
}

/// Splits C into `threads` disjoint blocks on tile boundaries, along whichever side leaves the
/// busiest thread the fewest tiles, and multiplies each on its own rayon worker. Threads need
/// no `unsafe`: each owns its block.
fn gemm<K: MicroKernel>(
    kern: K,
    threads: usize,
    alpha: f32,
    a: ArrayView2<f32>,
    b: ArrayView2<f32>,
    beta: f32,
    mut c: ArrayViewMut2<f32>,
) {
    let (m, k) = a.dim();
    let n = b.ncols();
    if threads > 1 && m * n * k >= PARALLEL_MIN_MACS && (m >= 2 * K::MR || n >= 2 * K::LANES) {
        let left = threads / 2;
        // What the busiest side computes: rows in whole tiles, columns in whole vectors (the
        // last columns of a block take a narrower variant of the kernel).
        let work = |rows: usize, cols: usize| rows.div_ceil(K::MR) * K::MR * cols.div_ceil(K::LANES) * K::LANES;
        let at_n = (n >= 2 * K::LANES).then(|| split_point(n, K::LANES, left, threads));
        let at_m = (m >= 2 * K::MR).then(|| split_point(m, K::MR, left, threads));
        let cost_n = at_n.map_or(usize::MAX, |at| work(m, at.max(n - at)));
        let cost_m = at_m.map_or(usize::MAX, |at| work(at.max(m - at), n));
        // On a tie, columns, so that each side packs or reads only half of B, the operand
        // streamed from L2; unless each side's rows are enough for it to pack B anyway (see
        // `PACK_B_MIN_M`): rows then, and each side reads only its own half of A, in place.
        // (784,128)ᵀ×(128,512) on two threads ran 270–278 GFLOP/s split by columns, 292–299 by
        // rows (`dl-bench`, Intel Xeon); squares were the same either way.
        let rows_pack_b = at_m.is_some_and(|at| at.min(m - at) >= PACK_B_MIN_M);
        let by_rows = cost_m < cost_n || (cost_m == cost_n && rows_pack_b);
        if let (Some(at_n), false) = (at_n, by_rows) {
            let (c1, c2) = c.view_mut().split_at(Axis(1), at_n);
            let (b1, b2) = b.split_at(Axis(1), at_n);
            rayon::join(
                || gemm(kern, left, alpha, a, b1, beta, c1),
                || gemm(kern, threads - left, alpha, a, b2, beta, c2),
            );
        } else if let Some(at_m) = at_m {
            let (c1, c2) = c.view_mut().split_at(Axis(0), at_m);
            let (a1, a2) = a.split_at(Axis(0), at_m);
            rayon::join(
                || gemm(kern, left, alpha, a1, b, beta, c1),
                || gemm(kern, threads - left, alpha, a2, b, beta, c2),
            );
        }
        return;
    }
    serial(kern, alpha, a, b, beta, c);
}

/// `len · part / whole`, rounded to a multiple of `tile` and kept inside `(0, len)`.
fn split_point(len: usize, tile: usize, part: usize, whole: usize) -> usize {
    let at = (len * part / whole).div_ceil(tile) * tile;
    at.clamp(tile, len - 1)
}

/// A in place when its memory is one slice with a unit stride (row- or column-major): returns
/// the slice and the strides. Reading A in place skips packing, which is what dominates narrow
/// products such as 64 × 784 × 10.
fn in_place<'a>(a: &ArrayView2<'a, f32>) -> Option<(&'a [f32], usize, usize)> {
    let (rs, cs) = (a.strides()[0], a.strides()[1]);
    if rs < 0 || cs < 0 || (rs != 1 && cs != 1) {
        return None;
    }
    let slice = a.clone().to_slice_memory_order()?;
    Some((slice, rs as usize, cs as usize))
}

fn serial<K: MicroKernel>(
    kern: K,
    alpha: f32,
    a: ArrayView2<f32>,
    b: ArrayView2<f32>,
    beta: f32,
    mut c: ArrayViewMut2<f32>,
) {
    let (m, k) = a.dim();
    let n = b.ncols();
    let (mr, nr) = (K::MR, K::NR);
    let mut blk = Blocking::for_caches(caches(), mr, nr);
    // Slabs of equal depth: 784 = 2 × 392 rather than 768 + 16, whose thin slab would cost a
    // whole pass of C write-backs for little arithmetic.
    blk.kc = k.div_ceil(k.div_ceil(blk.kc));
    // Operands are read in place when each is one slice with a unit stride (B: row-major), except
    // in big products, where packing is amortised and avoids the cache-set conflicts of
    // power-of-two row strides, and B also when many rows of A reuse it (see `params`). Edge
    // slivers are always packed (zero-padded).
    let small = m * n * k < PACK_MIN_MACS;
    let a_mem = if small { in_place(&a) } else { None };
    let b_mem = if small && m < PACK_B_MIN_M { in_place(&b).filter(|&(_, _, cs)| cs == 1) } else { None };
    let kc_max = blk.kc; // at most k, after the equal split above
    let nc_max = blk.nc.min(n).div_ceil(nr) * nr;
    let mc_max = if a_mem.is_some() { mr } else { blk.mc.min(m).div_ceil(mr) * mr };
    with_buffers(mc_max * kc_max, nc_max * kc_max, |abuf, bbuf| {
        let mut tile = [0.0f32; MAX_TILE];
        for pc in (0..k).step_by(blk.kc) {
            let kc = blk.kc.min(k - pc);
            let beta = if pc == 0 { beta } else { 1.0 };
            for ic in (0..m).step_by(blk.mc) {
                let mc = blk.mc.min(m - ic);
                let packed = match a_mem {
                    None => pack_a(a.slice(s![ic..ic + mc, pc..pc + kc]), mr, abuf),
                    Some(_) => (0, 0),
                };
                for jc in (0..n).step_by(blk.nc) {
                    let nc = blk.nc.min(n - jc);
                    let edge = nc - nc % nr; // start of a partial last B sliver, if any
                    match b_mem {
                        None => pack_b(b.slice(s![pc..pc + kc, jc..jc + nc]), nr, bbuf),
                        Some(_) if edge < nc => pack_b(b.slice(s![pc..pc + kc, jc + edge..jc + nc]), nr, bbuf),
                        Some(_) => {}
                    }
                    for ir in (0..mc).step_by(mr) {
                        let h = mr.min(mc - ir);
                        let (asl, rsa, csa): (&[f32], usize, usize) = match a_mem {
                            None => (&abuf[ir / mr * kc * mr..][..kc * mr], packed.0, packed.1),
                            Some((mem, rs, cs)) if h == mr => (&mem[(ic + ir) * rs + pc * cs..], rs, cs),
                            Some(_) => {
                                let (rs, cs) = pack_a(a.slice(s![ic + ir..ic + ir + h, pc..pc + kc]), mr, abuf);
                                (&abuf[..kc * mr], rs, cs)
                            }
                        };
                        // This row band of C, cut into tiles from the left (cheaper than slicing).
                        let mut band = c.slice_mut(s![ic + ir..ic + ir + h, jc..jc + nc]);
                        for jr in (0..nc).step_by(nr) {
                            let w = nr.min(nc - jr);
                            let (cb, rest) = band.split_at(Axis(1), w);
                            band = rest;
                            let (bsl, ldb): (&[f32], usize) = match b_mem {
                                None => (&bbuf[jr / nr * kc * nr..][..kc * nr], nr),
                                Some((mem, rs, _)) if w == nr => (&mem[pc * rs + jc + jr..], rs),
                                Some(_) => (&bbuf[..kc * nr], nr),
                            };
                            kern.run_c(kc, asl, rsa, csa, bsl, ldb, cb, alpha, beta, &mut tile);
                        }
                    }
                }
            }
        }
    });
}

/// GFLOP/s of the active micro-kernel alone on cache-resident operands (depth `KC` of this
/// machine's blocks: the A sliver in L1, the B sliver in L2, as in the blocked product), the
/// ceiling for the blocked product; reported by `dl-bench` to show where time goes.
pub fn microkernel_gflops(reps: usize) -> f64 {
    fn run<K: MicroKernel>(kern: K, reps: usize) -> f64 {
        let depth = Blocking::for_caches(caches(), K::MR, K::NR).kc;
        let a = vec![0.5f32; K::MR * depth];
        let b = vec![0.25f32; K::NR * depth];
        let mut tile = [0.0f32; MAX_TILE];
        let start = std::time::Instant::now();
        for _ in 0..reps {
            kern.run(depth, std::hint::black_box(&a), 1, K::MR, std::hint::black_box(&b), K::NR, &mut tile);
        }
        std::hint::black_box(&tile);
        (2 * K::MR * K::NR * depth * reps) as f64 / start.elapsed().as_secs_f64() / 1e9
    }
    match active() {
        Isa::Avx512 => run(Tile8x48::new().expect("detected"), reps),
        Isa::Avx2 => run(Tile6x16::new().expect("detected"), reps),
        Isa::Portable => run(Tile4x8, reps),
    }
}
