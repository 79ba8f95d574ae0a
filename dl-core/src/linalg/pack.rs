//! Packing: copying a block of A or B into the order the micro-kernel reads it, with zero
//! padding at the edges. Any strides are accepted, so `Aᵀ` and `Bᵀ` need no copy beforehand.
//!
//! - B block `(kc, nc)` → `ceil(nc / NR)` slivers; sliver `s` holds, for each `p < kc`, the `NR`
//!   values `B[p, s·NR .. s·NR + NR]`: `buf[(s·kc + p)·NR + j]`.
//! - A block `(mc, kc)` → `ceil(mc / MR)` slivers of `MR·kc` values, in A's own orientation
//!   (the micro-kernel reads A through strides, so packing A is a plain copy).
//!
//! Buffers are per thread and reused, so steady-state products allocate nothing.

use ndarray::ArrayView2;
use std::cell::RefCell;

thread_local! {
    static A_BUF: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
    static B_BUF: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` with this thread's A and B packing buffers, each at least the given length and
/// starting on a 64-byte boundary.
pub(crate) fn with_buffers<R>(a_len: usize, b_len: usize, f: impl FnOnce(&mut [f32], &mut [f32]) -> R) -> R {
    A_BUF.with(|a| {
        B_BUF.with(|b| {
            let (mut a, mut b) = (a.borrow_mut(), b.borrow_mut());
            f(aligned(&mut a, a_len), aligned(&mut b, b_len))
        })
    })
}

/// A 64-byte-aligned slice of `len` values from `buf`, grown if needed to the next power of two
/// (plus alignment slack). Powers of two make a thread's buffer depend on the size class of the
/// largest block it has packed, not on the exact block: which worker packs which half of a
/// product varies from call to call, and exact sizes let a worker that had packed 8 × 392
/// values grow again, once, the first time it is handed 8 × 512 — an allocation in whichever
/// later `fit` that happens (no_alloc_per_step.rs saw 40 against 41 about half the time).
fn aligned(buf: &mut Vec<f32>, len: usize) -> &mut [f32] {
    const ALIGN: usize = 64 / std::mem::size_of::<f32>();
    if buf.len() < len + ALIGN {
        *buf = vec![0.0; len.next_power_of_two() + ALIGN];
    }
    let misalign = (buf.as_ptr() as usize / std::mem::size_of::<f32>()) % ALIGN;
    let off = (ALIGN - misalign) % ALIGN;
    &mut buf[off..off + len]
}

/// Whether `v` is stored column by column (unit row stride, as `Aᵀ` of a row-major `A`).
pub(crate) fn column_major(v: &ArrayView2<f32>) -> bool {
    v.strides()[0] == 1 && v.strides()[1] != 1
}

/// Packs the `(kc, nc)` block `b` into `NR`-wide slivers.
pub(crate) fn pack_b(b: ArrayView2<f32>, nr: usize, buf: &mut [f32]) {
    let (kc, nc) = b.dim();
    for (s, sliver) in buf.chunks_exact_mut(kc * nr).take(nc.div_ceil(nr)).enumerate() {
        let j0 = s * nr;
        let w = nr.min(nc - j0);
        if b.strides()[1] == 1 {
            // Row-major B: each row of the sliver is a contiguous copy.
            for p in 0..kc {
                let row = b.row(p);
                let src = &row.as_slice().expect("unit column stride")[j0..j0 + w];
                let dst = &mut sliver[p * nr..p * nr + nr];
                dst[..w].copy_from_slice(src);
                dst[w..].fill(0.0);
            }
        } else {
            // Column-major B (Wᵀ in backprop): interleave its columns.
            interleave(|j| b.column(j0 + j), w, kc, nr, sliver);
        }
    }
}

/// Packs the `(mc, kc)` block `a` into `MR`-tall slivers of `MR·kc` values each, keeping A's
/// own orientation so that packing is a plain copy: row-major A gives slivers of `MR` rows
/// (`sliver[i·kc + p]`), column-major A slivers of `kc` steps of `MR` values
/// (`sliver[p·MR + i]`). Returns the sliver's strides `(rsa, csa)` for the micro-kernel.
pub(crate) fn pack_a(a: ArrayView2<f32>, mr: usize, buf: &mut [f32]) -> (usize, usize) {
    let (mc, kc) = a.dim();
    let column_major = column_major(&a);
    for (s, sliver) in buf.chunks_exact_mut(kc * mr).take(mc.div_ceil(mr)).enumerate() {
        let i0 = s * mr;
        let h = mr.min(mc - i0);
        if column_major {
            for p in 0..kc {
                let col = a.column(p);
                let dst = &mut sliver[p * mr..p * mr + mr];
                match col.as_slice() {
                    Some(src) => dst[..h].copy_from_slice(&src[i0..i0 + h]),
                    None => dst[..h].iter_mut().enumerate().for_each(|(i, d)| *d = col[i0 + i]),
                }
                dst[h..].fill(0.0);
            }
        } else {
            for i in 0..mr {
                let dst = &mut sliver[i * kc..i * kc + kc];
                if i < h {
                    let row = a.row(i0 + i);
                    match row.as_slice() {
                        Some(src) => dst.copy_from_slice(src),
                        None => dst.iter_mut().zip(row.iter()).for_each(|(d, v)| *d = *v),
                    }
                } else {
                    dst.fill(0.0);
                }
            }
        }
    }
    if column_major {
        (1, mr)
    } else {
        (kc, 1)
    }
}

/// `dst[p·w + i] = src(i)[p]` for `i < h`, `p < kc`, zero for `h <= i < w`: a transpose. With
/// contiguous sources it runs over slices taken once, in chunks of 16 steps, so that reads run
/// along each source and writes along `dst`.
fn interleave<'a>(src: impl Fn(usize) -> ndarray::ArrayView1<'a, f32>, h: usize, kc: usize, w: usize, dst: &mut [f32]) {
    const Q: usize = 16;
    debug_assert!(w <= 64 && h <= w);
    let mut cols: [&[f32]; 64] = [&[]; 64];
    for (i, col) in cols.iter_mut().enumerate().take(h) {
        match src(i).to_slice() {
            Some(s) => *col = &s[..kc],
            None => {
                // Strided sources (rare): element by element.
                for p in 0..kc {
                    let row = &mut dst[p * w..p * w + w];
                    row.iter_mut().enumerate().for_each(|(i, d)| *d = if i < h { src(i)[p] } else { 0.0 });
                }
                return;
            }
        }
    }
    for p0 in (0..kc).step_by(Q) {
        let q = Q.min(kc - p0);
        let block = &mut dst[p0 * w..(p0 + q) * w];
        for (i, col) in cols.iter().enumerate().take(h) {
            for (j, &v) in col[p0..p0 + q].iter().enumerate() {
                block[j * w + i] = v;
            }
        }
        if h < w {
            block.chunks_exact_mut(w).for_each(|row| row[h..].fill(0.0));
        }
    }
}
