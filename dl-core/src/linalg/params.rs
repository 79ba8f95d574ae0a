//! Blocking constants of the GEMM, each with what it is sized for. Measured on an AMD EPYC
//! (Zen 5: 32–48 KB L1d and 1 MB L2 per core, 32 MB shared L3); see `dl-bench`.

/// Depth of one slab of the product (loop 4). An `MR × KC` sliver of A (8 × 256 floats =
/// 8 KB) stays in L1 while the micro-kernel sweeps the packed B block.
pub(crate) const KC: usize = 256;

/// Columns of B packed per block (loop 5): `KC × NC` floats = 512 KB, half of L2, so the packed
/// block is read from L2 by every A sliver.
pub(crate) const NC: usize = 512;

/// Rows of A per block (loop 3): `MC × KC` floats = 1 MB packed A, which lives in L3.
pub(crate) const MC: usize = 128;

/// Below this many multiply-adds (`m·n·k`) a product runs on one thread: a rayon fork/join
/// costs a few microseconds, about what one core needs for 2^20 multiply-adds at the
/// measured ~130 G multiply-adds/s, so smaller products only lose by splitting.
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
