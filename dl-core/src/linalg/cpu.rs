//! What the CPU can do, read at run time: the widest instruction-set level it supports, and a
//! cap on it for tests and benchmarks. Every SIMD path is chosen from [`active`], never from how
//! dl-core was compiled, so one binary runs its best code on any x86-64.

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
    /// Name for reports: the level and the GEMM micro-kernel it uses for wide products.
    pub fn name(self) -> &'static str {
        match self {
            Isa::Portable => "portable 4x8",
            Isa::Avx2 => "avx2+fma 6x16",
            Isa::Avx512 => "avx512f 8x48",
        }
    }

    /// The `MR × NR` tile of the micro-kernel this level uses for wide products.
    ///
    /// ```
    /// use dl_core::linalg::cpu::Isa;
    /// assert_eq!(Isa::Avx2.tile(), (6, 16));
    /// ```
    pub fn tile(self) -> (usize, usize) {
        use super::microkernel::{MicroKernel, Tile4x8, Tile6x16, Tile8x48};
        match self {
            Isa::Portable => (Tile4x8::MR, Tile4x8::NR),
            Isa::Avx2 => (Tile6x16::MR, Tile6x16::NR),
            Isa::Avx512 => (Tile8x48::MR, Tile8x48::NR),
        }
    }
}

static FORCED: AtomicU8 = AtomicU8::new(u8::MAX);

/// The best level this CPU supports.
///
/// ```
/// use dl_core::linalg::cpu::{detected, Isa};
/// assert!(detected() >= Isa::Portable);
/// ```
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
