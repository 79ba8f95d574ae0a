//! Blocking constants of the GEMM, each with what it is sized for. Measured on this project's
//! machine, an AMD EPYC of the Zen 4 family (CPU family 25, model 17): 32 KB L1d and 1 MB L2
//! per core, 32 MB shared L3; AVX-512 is split into two 256-bit halves there, so a zmm FMA
//! issues once per cycle and the f32 peak equals AVX2's (about 115 GFLOP/s per core, see
//! `dl-bench`). The values below were picked by sweeping them with `dl-bench`.

/// Depth of one slab of the product (loop 4). An `MR × KC` sliver of A (8 × 512 floats =
/// 16 KB) is half of L1 and is reused by every B sliver of the block.
pub(crate) const KC: usize = 512;

/// Columns of B packed per block (loop 5): seven 48-wide slivers, `KC × NC` floats = 672 KB,
/// so the packed block stays in L2 while every A sliver sweeps it.
pub(crate) const NC: usize = 336;

/// Rows of A packed per block (loop 3, outside the B blocks): `MC × KC` floats, up to 8 MB,
/// in L3. A is the operand the loop nest re-reads, so it is packed once per depth slab rather
/// than once per B block; up to 4096 rows that is the whole column panel. (Packing A per B
/// block, as in the textbook nest, cost 6–8 % at 1024³ and 2048³.)
pub(crate) const MC: usize = 4096;

/// Below this many multiply-adds (`m·n·k`) a product runs on one thread: one core does 2^20 of
/// them in about 18 µs (at ~58 G multiply-adds/s), and waking a sleeping rayon worker and
/// joining it costs several microseconds, so smaller products gain little or lose by splitting.
pub(crate) const PARALLEL_MIN_MACS: usize = 1 << 20;

/// At or below this many multiply-adds, plain loops beat packing (e.g. a 16 × 1 × 1 linear
/// regression batch): packing copies `m·k + k·n` values for only `m·n·k` multiply-adds.
pub(crate) const TINY_MACS: usize = 4096;

/// With at most this many columns of C, the 6 × 16 kernel wastes less of its tile than the
/// 8 × 48 one (e.g. 10 output classes fill 62% of a 16-wide tile but 21% of a 48-wide one).
pub(crate) const NARROW_N: usize = 24;

/// From this many multiply-adds on, A and B are packed even when they could be read in place.
/// Below it, packing costs more than it saves: at 64 × 784 × 512 each packed B value is used only
/// 64 times, so copying it costs as much as a fifth of the arithmetic. Above it, packing costs
/// `m·k + k·n` copies against `m·n·k` multiply-adds, and packed slivers avoid the cache-set
/// conflicts of rows 4 or 8 KB apart (measured with `dl-bench`).
pub(crate) const PACK_MIN_MACS: usize = 1 << 28;
