//! `cargo run --release -p dl-bench [-- --quick]`
//!
//! One table measured in one run: the machine (CPU, caches, the micro-kernel and blocks chosen
//! for it), its f32 FMA peak, our matrix product beside the `gemm` crate's and ndarray's `dot`
//! on the course's shapes (1 thread and all threads, as GFLOP/s, % of peak and ratios), and the
//! course's training workloads (seconds per epoch after the first, and against the epoch's
//! arithmetic at the peak) on synthetic data of their shapes. Run it on an otherwise idle
//! machine: every figure is a ratio to another measured in the same run.
//!
//! `DL_BENCH_FILTER=TEXT` keeps the shapes and workloads whose label contains it;
//! `DL_BENCH_CACHES=L1D,L2,L3` (in KB, e.g. `32,1024,32768`) blocks as on a machine with those
//! caches, to compare a derivation with the real machine's.
//!
//! Each thread count is measured in a child process, because matrixmultiply (ndarray's `dot`)
//! reads its thread count once per process.

use dl_core::linalg::cpu::{self, Isa};
use dl_core::linalg::gemm;
use dl_core::linalg::machine;
use dl_core::linalg::params::Blocking;
use dl_core::prelude::*;
use std::process::Command;
use std::time::{Duration, Instant};

const SHAPES: &[(&str, usize, usize, usize, bool, bool)] = &[
    // (label, m, k, n, A transposed, B transposed)
    ("(64,784,10)", 64, 784, 10, false, false),
    ("(64,784,512)", 64, 784, 512, false, false),
    ("(128,784,512)", 128, 784, 512, false, false),
    ("(64,512,10)", 64, 512, 10, false, false),
    ("(256)^3", 256, 256, 256, false, false),
    ("(512)^3", 512, 512, 512, false, false),
    ("(1024)^3", 1024, 1024, 1024, false, false),
    ("(2048)^3", 2048, 2048, 2048, false, false),
    ("(784,64)T x (64,512)", 784, 64, 512, true, false),
    ("(784,128)T x (128,512)", 784, 128, 512, true, false),
    ("(64,512) x (512,784)T", 64, 512, 784, false, true),
    ("(512,128)T x (128,10)", 512, 128, 10, true, false),
    ("(128,10) x (10,512)T", 128, 10, 512, false, true),
];

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    if let Ok(kb) = std::env::var("DL_BENCH_CACHES") {
        let kb: Vec<usize> = kb.split(',').map(|v| v.trim().parse().expect("DL_BENCH_CACHES: sizes in KB")).collect();
        let [l1d, l2, l3] = kb[..] else { panic!("DL_BENCH_CACHES: three sizes, L1d,L2,L3 in KB") };
        machine::force_caches(Some(machine::Caches { l1d: l1d << 10, l2: l2 << 10, l3: l3 << 10 }));
    }
    if let Some(pos) = args.iter().position(|a| a == "--child") {
        let threads: usize = args[pos + 1].parse().expect("thread count");
        child(threads, quick);
        return;
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let c = machine::caches();
    println!("dl-bench: {}, {cores} cores", machine::cpu_name());
    println!("caches: L1d {} KB, L2 {} KB per core, L3 {} MB", c.l1d >> 10, c.l2 >> 10, c.l3 >> 20);
    let (mr, nr) = cpu::active().tile();
    let b = Blocking::for_caches(c, mr, nr);
    println!(
        "micro-kernel {} (detected {:?}); blocks KC {} MC {} NC {}",
        cpu::active().name(),
        cpu::detected(),
        b.kc,
        b.mc,
        b.nc
    );
    let peak1 = fma_peak(1);
    let peak_all = fma_peak(cores);
    println!("f32 FMA peak: {peak1:.0} GFLOP/s on 1 core, {peak_all:.0} GFLOP/s on {cores} cores");
    // Best of ten short runs, as the products below are best of repeated calls: on a shared VM
    // a single long run takes whatever the neighbours took from it.
    let mk = (0..10).map(|_| dl_core::linalg::blocked::microkernel_gflops(20_000)).fold(0.0, f64::max);
    println!(
        "micro-kernel alone (cache-resident operands, depth KC): {mk:.0} GFLOP/s = {:.0}% of the 1-core peak\n",
        100.0 * mk / peak1
    );

    let mut rows: Vec<Vec<String>> = Vec::new();
    for threads in [1, cores] {
        let out = Command::new(std::env::current_exe().expect("own path"))
            .args(["--child", &threads.to_string()])
            .args(if quick { &["--quick"][..] } else { &[][..] })
            .env("MATMUL_NUM_THREADS", threads.to_string())
            .env("RAYON_NUM_THREADS", threads.to_string())
            .output()
            .expect("run child");
        let text = String::from_utf8_lossy(&out.stdout);
        for line in text.lines() {
            rows.push(line.split('\t').map(str::to_string).collect());
        }
    }
    println!("matrix products, GFLOP/s (best of repeated calls; % of the FMA peak for that many cores)");
    println!(
        "{:<24} {:>7} {:>8} {:>6} {:>8} {:>6} {:>8} {:>6}",
        "shape", "threads", "ours", "%peak", "gemm", "ratio", "ndarray", "ratio"
    );
    for r in rows.iter().filter(|r| r[0] == "mm") {
        let t: usize = r[2].parse().unwrap();
        let [ours, gc, nd]: [f64; 3] = [3, 4, 5].map(|i| r[i].parse().unwrap());
        let peak = if t == 1 { peak1 } else { peak_all };
        println!(
            "{:<24} {:>7} {:>8.1} {:>5.0}% {:>8.1} {:>5.2}x {:>8.1} {:>5.2}x",
            r[1],
            t,
            ours,
            100.0 * ours / peak,
            gc,
            ours / gc,
            nd,
            ours / nd
        );
    }
    println!("\ntraining workloads (synthetic data; seconds per epoch after the first; floor: the epoch's");
    println!("matrix-product FLOPs at the FMA peak for that many cores)");
    println!("{:<44} {:>7} {:>10} {:>12} {:>8}", "workload", "threads", "s/epoch", "samples/s", "x floor");
    for r in rows.iter().filter(|r| r[0] == "fit") {
        let t: usize = r[2].parse().unwrap();
        let [s, n, flops]: [f64; 3] = [3, 4, 5].map(|i| r[i].parse().unwrap());
        let floor = flops / (if t == 1 { peak1 } else { peak_all } * 1e9);
        println!("{:<44} {:>7} {:>10.5} {:>12.0} {:>7.2}x", r[1], t, s, n / s, s / floor);
    }
}

/// FMA throughput with `threads` threads each running the independent-FMA loop: the best of
/// five runs, as the products below are the best of theirs (one run is easily disturbed).
fn fma_peak(threads: usize) -> f64 {
    let iters = 5_000_000;
    peak_loop(1000);
    let once = || {
        let start = Instant::now();
        let flops: f64 = std::thread::scope(|s| {
            let hs: Vec<_> = (0..threads).map(|_| s.spawn(move || peak_loop(iters))).collect();
            hs.into_iter()
                .map(|h| {
                    let (keep, f) = h.join().unwrap();
                    std::hint::black_box(keep);
                    f
                })
                .sum()
        });
        flops / start.elapsed().as_secs_f64() / 1e9
    };
    // A virtual machine's cores are disturbed now and then: the best of many short runs.
    (0..20).map(|_| once()).fold(0.0, f64::max)
}

/// Runs `iters` rounds of independent fused multiply-adds at the active level; returns (a value
/// to keep the work alive, floating-point operations done). The loops keep as many
/// accumulators as hide the FMA latency on both units of a core (4 cycles × 2 units, with room
/// to spare) and no more than the level has registers (32 zmm, 16 ymm). A plain-Rust loop does
/// not do: the compiler turned one into gathers and scatters.
fn peak_loop(iters: usize) -> (f32, f64) {
    match cpu::active() {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `active` never exceeds the level detected on this CPU.
        Isa::Avx512 => (unsafe { peak::avx512(iters) }, iters as f64 * 24.0 * 16.0 * 2.0),
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as above.
        Isa::Avx2 => (unsafe { peak::avx2(iters) }, iters as f64 * 12.0 * 8.0 * 2.0),
        _ => {
            let mut acc = [1.0f32; 8];
            for _ in 0..iters {
                acc.iter_mut().for_each(|a| *a = a.mul_add(0.999_999, 1e-7));
            }
            (acc.iter().sum(), iters as f64 * 8.0 * 2.0)
        }
    }
}

/// The FMA-peak loops. The intrinsics are safe to call inside these functions (their features
/// are enabled); calling the functions needs the CPU check.
#[cfg(target_arch = "x86_64")]
mod peak {
    use std::arch::x86_64::*;

    #[target_feature(enable = "avx512f")]
    pub fn avx512(iters: usize) -> f32 {
        let mut acc = [_mm512_set1_ps(1.0); 24];
        let (x, y) = (_mm512_set1_ps(0.999_999), _mm512_set1_ps(1e-7));
        for _ in 0..iters {
            for a in acc.iter_mut() {
                *a = _mm512_fmadd_ps(*a, x, y);
            }
        }
        _mm512_reduce_add_ps(acc.into_iter().fold(_mm512_setzero_ps(), |s, a| _mm512_add_ps(s, a)))
    }

    #[target_feature(enable = "avx2,fma")]
    pub fn avx2(iters: usize) -> f32 {
        let mut acc = [_mm256_set1_ps(1.0); 12];
        let (x, y) = (_mm256_set1_ps(0.999_999), _mm256_set1_ps(1e-7));
        for _ in 0..iters {
            for a in acc.iter_mut() {
                *a = _mm256_fmadd_ps(*a, x, y);
            }
        }
        let s = acc.into_iter().fold(_mm256_setzero_ps(), |s, a| _mm256_add_ps(s, a));
        let half = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps::<1>(s));
        let quad = _mm_add_ps(half, _mm_movehl_ps(half, half));
        _mm_cvtss_f32(_mm_add_ss(quad, _mm_movehdup_ps(quad)))
    }
}

/// Best time per call of `f`, over at least `budget` of calls. Starts after a pause, so that
/// the worker threads of the previous measurement (matrixmultiply's spin before sleeping) are
/// idle: on two cores a spinning thread halves the next figure.
fn best_time(budget: Duration, mut f: impl FnMut()) -> f64 {
    std::thread::sleep(Duration::from_millis(300));
    f();
    let start = Instant::now();
    let mut best = f64::INFINITY;
    let mut reps = 0;
    while reps < 3 || start.elapsed() < budget {
        let t = Instant::now();
        f();
        best = best.min(t.elapsed().as_secs_f64());
        reps += 1;
    }
    best
}

fn child(threads: usize, quick: bool) {
    let budget = Duration::from_millis(if quick { 60 } else { 400 });
    let mut rng = dl_core::random::Rng::new(7);
    let mut rand = |r: usize, c: usize| Array2::from_shape_simple_fn((r, c), || rng.uniform(-1.0, 1.0) as f32);
    let filter = std::env::var("DL_BENCH_FILTER").ok();
    for &(label, m, k, n, at, bt) in SHAPES {
        if (quick && m * n * k > 1 << 28) || filter.as_ref().is_some_and(|f| !label.contains(f.as_str())) {
            continue;
        }
        let a = if at { rand(k, m) } else { rand(m, k) };
        let b = if bt { rand(n, k) } else { rand(k, n) };
        let (av, bv) = (if at { a.t() } else { a.view() }, if bt { b.t() } else { b.view() });
        let mut c = Array2::<f32>::zeros((m, n));
        let flops = 2.0 * (m * n * k) as f64;
        let ours = best_time(budget, || gemm(1.0, av, bv, 0.0, c.view_mut()).unwrap());
        let theirs = best_time(budget, || gemm_crate(threads, av, bv, c.view_mut()));
        let nd = best_time(budget, || {
            std::hint::black_box(av.dot(&bv));
        });
        println!("mm\t{label}\t{threads}\t{}\t{}\t{}", flops / ours / 1e9, flops / theirs / 1e9, flops / nd / 1e9);
    }
    workloads(threads, quick, filter.as_deref());
}

/// `C = A·B` with the `gemm` crate (sarah-ek/gemm), on `threads` rayon threads.
fn gemm_crate(
    threads: usize,
    a: ndarray::ArrayView2<f32>,
    b: ndarray::ArrayView2<f32>,
    mut c: ndarray::ArrayViewMut2<f32>,
) {
    let (m, k) = a.dim();
    let n = b.ncols();
    assert_eq!((b.nrows(), c.dim()), (k, (m, n)));
    let par = if threads > 1 { gemm::Parallelism::Rayon(threads) } else { gemm::Parallelism::None };
    let (sa, sb, sc) = (a.strides(), b.strides(), c.strides().to_vec());
    // SAFETY: the pointers and strides (in elements) describe the three live views, whose
    // shapes chain as asserted above; `c` is borrowed mutably and does not overlap `a` or `b`;
    // `read_dst` false means C's old values are neither read nor needed.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            sc[1],
            sc[0],
            false,
            a.as_ptr(),
            sa[1],
            sa[0],
            b.as_ptr(),
            sb[1],
            sb[0],
            0.0,
            1.0,
            false,
            false,
            false,
            par,
        );
    }
}

fn workloads(threads: usize, quick: bool, filter: Option<&str>) {
    set_random_seed(1);
    let mut rng = dl_core::random::Rng::new(11);
    let mut rand = |r: usize, c: usize| Array2::from_shape_simple_fn((r, c), || rng.uniform(0.0, 1.0) as f32);
    // The matrix products of an epoch: forward, kernel gradients, and input gradients of every
    // layer but the first; each is rows × inputs × units multiply-adds of 2 FLOPs (inputs ×
    // units counted as the layer's parameters: the biases add under 0.3 %).
    let flops = |model: &Sequential, rows: usize| {
        let layers = model.layers().iter().enumerate();
        let per_row: usize = layers.map(|(i, l)| l.param_count() * if i == 0 { 2 } else { 3 }).sum();
        2.0 * (rows * per_row) as f64
    };
    let run = |label: &str, model: &mut Sequential, x: &Array2<f32>, y: &Array2<f32>, epochs: usize, bs: usize| {
        if filter.is_some_and(|f| !label.contains(f)) {
            return;
        }
        let opts = |e| FitOptions { epochs: e, batch_size: bs, verbose: 0, seed: Some(3), ..Default::default() };
        model.fit_with(x, y, opts(1)).unwrap();
        let t = Instant::now();
        model.fit_with(x, y, opts(epochs - 1)).unwrap();
        let per_epoch = t.elapsed().as_secs_f64() / (epochs - 1) as f64;
        println!("fit\t{label}\t{threads}\t{per_epoch}\t{}\t{}", x.nrows(), flops(model, x.nrows()));
    };
    let linear = |inputs: usize| {
        let mut m = Sequential::new();
        m.add(Dense::new(1).input_dim(inputs));
        m.compile("sgd", "mse", &["mse"]).unwrap();
        m
    };
    let x = rand(2000, 1);
    let y = x.mapv(|v| 3.0 + 4.0 * v);
    run("linear regression 2000x1, batch 16, 40 ep", &mut linear(1), &x, &y, 40, 16);
    let x = rand(404, 13);
    let y = rand(404, 1);
    run("Boston-shaped 404x13, batch 64, 10 ep", &mut linear(13), &x, &y, 10, 64);
    // MNIST-like: about a fifth of the pixels lit, labels 0..9.
    let x = rand(60000, 784).mapv(|v| if v < 0.2 { v * 5.0 } else { 0.0 });
    let y = rand(60000, 1).mapv(|v| (v * 10.0).floor());
    run("MNIST linear 60000x784, batch 64, 10 ep", &mut linear(784), &x, &y, if quick { 3 } else { 10 }, 64);
    let mut mlp = Sequential::new();
    mlp.add(Dense::new(512).activation("relu").input_dim(784));
    mlp.add(Dense::new(10).activation("softmax"));
    mlp.compile("rmsprop", "sparse_categorical_crossentropy", &["accuracy"]).unwrap();
    run("MLP 784-512-10 rmsprop, batch 128, 2 ep", &mut mlp, &x, &y, if quick { 2 } else { 3 }, 128);
}
