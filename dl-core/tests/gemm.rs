//! The fast matrix product against a slow, obviously right reference (f64 accumulation), on odd
//! shapes, transposed and strided views, 1 and N threads, with each SIMD level forced in turn.
//!
//! Error bound: `|C − C_ref| <= 2·(k+2)·u·(Σ_p |α·A_ip·B_pj| + |β·C_ij|)`, the classic worst-case
//! bound for a float32 sum of k products plus the β term (u = 2⁻²⁴, the unit roundoff), doubled
//! for slack.

use dl_core::linalg::cpu::{active, detected, force, Isa};
use dl_core::linalg::gemm;
use dl_core::linalg::machine::{force_caches, Caches};
use dl_core::random::Rng;
use ndarray::{s, Array2, ArrayView2};
use std::sync::Mutex;

/// The forced SIMD level is process-wide, so these tests take turns.
static LEVEL: Mutex<()> = Mutex::new(());

fn random(rng: &mut Rng, r: usize, c: usize) -> Array2<f32> {
    Array2::from_shape_simple_fn((r, c), || rng.uniform(-1.0, 1.0) as f32)
}

fn check(alpha: f32, a: ArrayView2<f32>, b: ArrayView2<f32>, beta: f32, c0: &Array2<f32>, label: &str) {
    let mut c = c0.clone();
    gemm(alpha, a, b, beta, c.view_mut()).unwrap();
    let (m, k) = a.dim();
    let n = b.ncols();
    let eps = f32::EPSILON as f64 / 2.0;
    for i in 0..m {
        for j in 0..n {
            let (mut exact, mut mag) = (0.0f64, 0.0f64);
            for p in 0..k {
                let t = alpha as f64 * a[[i, p]] as f64 * b[[p, j]] as f64;
                exact += t;
                mag += t.abs();
            }
            let bc = if beta == 0.0 { 0.0 } else { beta as f64 * c0[[i, j]] as f64 };
            let want = exact + bc;
            let bound = 2.0 * (k as f64 + 2.0) * eps * (mag + bc.abs()) + 1e-30;
            let got = c[[i, j]] as f64;
            assert!(
                (got - want).abs() <= bound,
                "{label}: m={m} k={k} n={n} C[{i},{j}] = {got}, reference {want}, bound {bound} (level {:?})",
                active()
            );
        }
    }
}

/// Every layout the training loop and users produce: plain, Aᵀ, Bᵀ, both, and strided views.
/// A rayon pool of `threads` threads, for running a product on exactly that many.
fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap()
}

fn all_layouts(rng: &mut Rng, m: usize, k: usize, n: usize, label: &str) {
    let a = random(rng, m, k);
    let b = random(rng, k, n);
    let at = random(rng, k, m);
    let bt = random(rng, n, k);
    let a2 = random(rng, 2 * m, 2 * k);
    let b2 = random(rng, 2 * k, 2 * n);
    let mut c0 = random(rng, m, n);
    check(1.0, a.view(), b.view(), 0.0, &c0, &format!("{label} A·B"));
    check(1.0, at.t(), b.view(), 0.0, &c0, &format!("{label} Aᵀ·B"));
    check(1.0, a.view(), bt.t(), 0.0, &c0, &format!("{label} A·Bᵀ"));
    check(-0.5, at.t(), bt.t(), 1.0, &c0, &format!("{label} Aᵀ·Bᵀ, α=-0.5, β=1"));
    check(2.0, a2.slice(s![..;2, 1..;2]), b2.slice(s![1..;2, ..;2]), 0.75, &c0, &format!("{label} strided, β=0.75"));
    // β = 0 must overwrite whatever C held, NaN included.
    c0.fill(f32::NAN);
    check(1.0, a.view(), b.view(), 0.0, &c0, &format!("{label} β=0 over NaN"));
}

fn for_each_level(mut f: impl FnMut()) {
    let _guard = LEVEL.lock().unwrap_or_else(|e| e.into_inner());
    for level in [Isa::Portable, Isa::Avx2, Isa::Avx512] {
        if level > detected() {
            eprintln!("skipping {level:?}: this CPU lacks it");
            continue;
        }
        force(Some(level));
        assert_eq!(active(), level);
        f();
    }
    force(None);
}

#[test]
fn every_small_dimension_from_1_to_70_matches_reference() {
    let mut rng = Rng::new(1);
    for_each_level(|| {
        for d in 1..=70 {
            all_layouts(&mut rng, d, 37, 53, "sweep m");
            all_layouts(&mut rng, 41, d, 29, "sweep k");
            all_layouts(&mut rng, 23, 31, d, "sweep n");
        }
    });
}

#[test]
fn random_shapes_up_to_70_match_reference() {
    let mut rng = Rng::new(2);
    for_each_level(|| {
        for _ in 0..150 {
            let (m, k, n) = (1 + rng.below(70), 1 + rng.below(70), 1 + rng.below(70));
            all_layouts(&mut rng, m, k, n, "random");
        }
    });
}

#[test]
fn large_prime_shapes_match_reference_on_one_and_all_threads() {
    let mut rng = Rng::new(3);
    let one = pool(1);
    let two = pool(2);
    for_each_level(|| {
        for &(m, k, n) in &[(509, 521, 541), (67, 1031, 523), (1031, 67, 37), (523, 300, 1)] {
            let a = random(&mut rng, m, k);
            let b = random(&mut rng, k, n);
            let bt = random(&mut rng, n, k);
            let c0 = random(&mut rng, m, n);
            one.install(|| check(1.0, a.view(), b.view(), 0.0, &c0, "1 thread"));
            two.install(|| check(1.0, a.view(), bt.t(), 1.0, &c0, "2 threads, A·Bᵀ"));
            two.install(|| check(1.0, a.view(), b.view(), 0.0, &c0, "2 threads"));
        }
    });
}

/// The last columns of C can be narrower than the kernel's tile: 1024 = 21·48 + 16 and
/// 512 = 10·48 + 32 end the 8 × 48 kernel with its 16- and 32-wide variants, 208 = 6·32 + 16
/// ends the 12 × 32 kernel with its 16-wide one, and 1000 = 20·48 + 40 and 1008 = 21·48 check
/// a padded edge and no edge.
#[test]
fn last_columns_narrower_than_the_tile_match_reference() {
    let mut rng = Rng::new(6);
    for_each_level(|| {
        for &(m, k, n) in &[(17, 40, 1024), (24, 33, 512), (24, 30, 208), (19, 21, 1000), (24, 30, 1008)] {
            all_layouts(&mut rng, m, k, n, "narrow edge");
        }
    });
}

/// Blocks derived from caches other than this machine's: a tiny machine (1 KB L1, 4 KB L2 and
/// L3: depth 16, one-tile blocks of A and B) makes every loop of the nest turn many times and
/// every block have edges; a huge one (1 GB caches) makes one block of everything. Both must
/// give the same products, packed and in place, on 1 and 2 threads.
#[test]
fn blocks_derived_from_tiny_and_huge_caches_multiply_right() {
    let mut rng = Rng::new(8);
    let two = pool(2);
    let tiny = Caches { l1d: 1 << 10, l2: 4 << 10, l3: 4 << 10 };
    let huge = Caches { l1d: 1 << 30, l2: 1 << 30, l3: 1 << 30 };
    for_each_level(|| {
        for caches in [tiny, huge] {
            force_caches(Some(caches));
            for &(m, k, n) in &[(67, 101, 203), (29, 300, 50), (128, 784, 10)] {
                all_layouts(&mut rng, m, k, n, &format!("{caches:?}"));
            }
            let (m, k, n) = (389, 1109, 653); // packed: above PACK_MIN_MACS
            let (a, b, c0) = (random(&mut rng, m, k), random(&mut rng, k, n), random(&mut rng, m, n));
            two.install(|| check(0.5, a.view(), b.view(), 1.0, &c0, &format!("packed, 2 threads, {caches:?}")));
        }
        force_caches(None);
    });
}

/// Above `PACK_MIN_MACS` (2^28 multiply-adds) both operands are packed: this shape spans
/// several depth slabs (`KC` is 512 for a 32 KB L1, 768 for 48 KB) and column blocks (`NC`
/// 336 or 432), with edge tiles on both sides, and α, β other than 1 and 0 reach the kernels
/// that write C from their registers.
#[test]
fn big_packed_products_over_several_slabs_and_blocks_match_reference() {
    let mut rng = Rng::new(5);
    let (m, k, n) = (389, 1109, 653);
    assert!(m * k * n > 1 << 28);
    let a = random(&mut rng, m, k);
    let b = random(&mut rng, k, n);
    let mut c0 = random(&mut rng, m, n);
    let two = pool(2);
    for_each_level(|| {
        check(-0.5, a.view(), b.view(), 1.5, &c0, "packed, α=-0.5, β=1.5");
        two.install(|| check(1.0, a.view(), b.view(), 1.0, &c0, "packed, 2 threads, β=1"));
    });
    c0.fill(f32::NAN);
    for_each_level(|| check(2.0, a.view(), b.view(), 0.0, &c0, "packed, β=0 over NaN"));
}

#[test]
fn the_course_shapes_match_reference() {
    let mut rng = Rng::new(4);
    for_each_level(|| {
        for &(m, k, n) in &[(16, 1, 1), (64, 13, 1), (64, 784, 1), (64, 784, 10), (128, 784, 512), (64, 512, 10)] {
            all_layouts(&mut rng, m, k, n, "course");
        }
        // Backprop: (784, 64)ᵀ × (64, 512) and (64, 512) × (512, 784)ᵀ.
        let x = random(&mut rng, 64, 784);
        let dz = random(&mut rng, 64, 512);
        let w = random(&mut rng, 784, 512);
        let c0 = Array2::zeros((784, 512));
        check(1.0, x.t(), dz.view(), 0.0, &c0, "xᵀ·dz");
        check(1.0, dz.view(), w.t(), 0.0, &Array2::zeros((64, 784)), "dz·Wᵀ");
        // The 10-class kernel gradient hᵀ·dz, computed as (dzᵀ·h)ᵀ.
        let (h, dz10) = (random(&mut rng, 128, 512), random(&mut rng, 128, 10));
        check(1.0, h.t(), dz10.view(), 0.0, &Array2::zeros((512, 10)), "hᵀ·dz");
    });
}

/// From `PACK_B_MIN_M` (256) rows of A on, B is packed even in products small enough to read
/// in place, and two threads split a tie by rows when each half still has that many rows: the
/// MLP's kernel gradient (784,128)ᵀ×(128,512) takes both, 300 rows packs B but splits by
/// columns, 255 rows reads B in place.
#[test]
fn tall_products_that_pack_b_and_split_by_rows_match_reference() {
    let mut rng = Rng::new(9);
    let one = pool(1);
    let two = pool(2);
    for_each_level(|| {
        for &(m, k, n) in &[(784, 128, 512), (300, 70, 90), (255, 64, 96), (513, 33, 47)] {
            let at = random(&mut rng, k, m);
            let b = random(&mut rng, k, n);
            let c0 = random(&mut rng, m, n);
            for (pool, threads) in [(&one, 1), (&two, 2)] {
                pool.install(|| check(1.0, at.t(), b.view(), 0.0, &c0, &format!("Aᵀ·B, {threads} threads")));
                pool.install(|| check(0.5, at.t(), b.view(), 1.0, &c0, &format!("Aᵀ·B, β=1, {threads} threads")));
            }
        }
    });
}

#[test]
fn mismatched_shapes_are_an_error_not_a_panic() {
    let a = Array2::<f32>::zeros((3, 4));
    let b = Array2::<f32>::zeros((5, 2));
    let mut c = Array2::<f32>::zeros((3, 2));
    let e = gemm(1.0, a.view(), b.view(), 0.0, c.view_mut()).unwrap_err().to_string();
    assert!(e.contains("A is 3x4 and B is 5x2"), "{e}");
    let b = Array2::<f32>::zeros((4, 2));
    let mut c = Array2::<f32>::zeros((2, 2));
    assert!(gemm(1.0, a.view(), b.view(), 0.0, c.view_mut()).is_err());
}
