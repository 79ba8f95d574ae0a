//! Blocking of the GEMM: the block sizes come from the caches of the machine it runs on
//! ([`super::machine::caches`]), by the reasoning of the BLIS analytical model (Low et al.,
//! "Analytical Modeling Is Enough for High-Performance BLIS", 2016), adapted to our loop order,
//! where the A sliver stays in L1 and the packed B block in L2 (see [`super::blocked`]):
//!
//! - `KC`, the depth of a slab: the `MR × KC` A sliver takes half of L1d; the other half holds
//!   the B rows streaming through and C's tile. A deeper slab writes C back less often.
//!   Zen 4 (32 KB, MR 8): 512. Intel Sapphire/Emerald Rapids (48 KB): 768.
//! - `NC`, the columns of a packed B block: `KC × NC` floats take two-thirds of L2 (the rest
//!   is for A slivers passing through and C), in whole `NR` slivers. Zen 4 (1 MB, KC 512): 336
//!   (what sweeping it with `dl-bench` had found); Intel (2 MB, KC 768): 432.
//! - `MC`, the rows of A packed per slab: `MC × KC` floats in a quarter of L3 (it is shared with
//!   the other threads' blocks and the B blocks passing through), at most 4096 rows. Up to
//!   that, the whole column panel of A is packed once per slab, and B once per block: on Zen 4
//!   (32 MB L3) that is 4096, which was worth 6–8 % at 1024³ and 2048³ over packing A per B
//!   block.
//!
//! The other constants decide which path a product takes, not its blocks.

use super::machine::Caches;

/// Block sizes for one micro-kernel shape on one machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Blocking {
    /// Depth of one slab (loop 4).
    pub kc: usize,
    /// Rows of A packed per slab (loop 3), a multiple of `MR`.
    pub mc: usize,
    /// Columns of B packed per block (loop 5), a multiple of `NR`.
    pub nc: usize,
}

impl Blocking {
    /// The blocks for an `mr × nr` micro-kernel on a machine with caches `c`. Every size is at
    /// least one tile (and `kc` at least 16), however small the caches claim to be.
    ///
    /// ```
    /// use dl_core::linalg::machine::Caches;
    /// use dl_core::linalg::params::Blocking;
    /// let zen4 = Caches { l1d: 32 << 10, l2: 1 << 20, l3: 32 << 20 };
    /// assert_eq!(Blocking::for_caches(zen4, 8, 48), Blocking { kc: 512, mc: 4096, nc: 336 });
    /// ```
    pub fn for_caches(c: Caches, mr: usize, nr: usize) -> Blocking {
        const F32: usize = std::mem::size_of::<f32>();
        let kc = (c.l1d / 2 / (mr * F32)).clamp(16, 2048) / 8 * 8;
        let nc = (c.l2 * 2 / 3 / (kc * F32) / nr).max(1) * nr;
        let mc = (c.l3 / 4 / (kc * F32) / mr).clamp(1, 4096 / mr) * mr;
        Blocking { kc, mc, nc }
    }
}

/// Below this many multiply-adds (`m·n·k`) a product runs on one thread: one core does 2^20 of
/// them in about 18 µs (at ~58 G multiply-adds/s), and waking a sleeping rayon worker and
/// joining it costs several microseconds, so smaller products gain little or lose by splitting.
pub(crate) const PARALLEL_MIN_MACS: usize = 1 << 20;

/// At or below this many multiply-adds, plain loops beat packing (e.g. a 16 × 1 × 1 linear
/// regression batch): packing copies `m·k + k·n` values for only `m·n·k` multiply-adds.
pub(crate) const TINY_MACS: usize = 4096;

/// With at most this many columns of C, a 16-wide tile wastes less than the 8 × 48 one (10
/// output classes fill 62% of a 16-wide tile but 21% of a 48-wide one): on AVX-512 the 16 × 16
/// kernel takes up to 16 columns and the 6 × 16 one 17 to 24; on AVX2 the 6 × 16 kernel is the
/// only SIMD one anyway.
pub(crate) const NARROW_N: usize = 24;

/// From this many multiply-adds on, A and B are packed even when they could be read in place.
/// Below it, packing costs more than it saves: at 64 × 784 × 512 each packed B value is used only
/// 64 times, so copying it costs as much as a fifth of the arithmetic. Above it, packing costs
/// `m·k + k·n` copies against `m·n·k` multiply-adds, and packed slivers avoid the cache-set
/// conflicts of rows 4 or 8 KB apart (measured with `dl-bench`).
pub(crate) const PACK_MIN_MACS: usize = 1 << 28;

/// From this many rows of A on, B is packed whatever the product's size. Each value of B is
/// used once per row of A, so packing costs `k·n` copies against `m` uses of each; read in
/// place, each step of a B sliver is a few cache lines at B's row stride (2 KB for 512
/// columns), which the prefetchers follow worse than packed, contiguous slivers. Measured with
/// `dl-bench` on one thread (Intel Xeon, AVX-512), B packed from 256 rows on against in place:
/// (784,128)ᵀ×(128,512) 135 → 152–159 GFLOP/s, 512³ 145 → 158–164; with 64 rows packing lost
/// ((64,784,512): 142 → 130), which is why A, reused by only `n / NR` tiles, stays in place.
pub(crate) const PACK_B_MIN_M: usize = 256;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_fill_the_caches_they_are_sized_for() {
        let intel = Caches { l1d: 48 << 10, l2: 2 << 20, l3: 260 << 20 };
        let b = Blocking::for_caches(intel, 8, 48);
        assert_eq!(b, Blocking { kc: 768, mc: 4096, nc: 432 });
        assert!(8 * b.kc * 4 <= intel.l1d / 2 && b.kc * b.nc * 4 <= intel.l2 * 2 / 3);
    }

    #[test]
    fn tiny_and_huge_caches_still_give_usable_blocks() {
        let tiny = Caches { l1d: 1 << 10, l2: 4 << 10, l3: 4 << 10 };
        assert_eq!(Blocking::for_caches(tiny, 12, 32), Blocking { kc: 16, mc: 12, nc: 32 });
        let huge = Caches { l1d: 1 << 30, l2: 1 << 34, l3: 1 << 36 };
        let b = Blocking::for_caches(huge, 6, 16);
        assert_eq!((b.kc, b.mc % 6, b.nc % 16), (2048, 0, 0));
        assert!(b.mc <= 4096 && b.nc >= 16);
    }
}
