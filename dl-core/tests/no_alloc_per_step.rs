//! The training loop allocates nothing per step once the first batch has run: a `fit` with
//! twice as many batches performs exactly as many heap allocations (counted by a global
//! allocator wrapper), for a linear model and for an MLP whose products and optimizer updates
//! use threads.

use dl_core::prelude::*;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_during(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    f();
    ALLOCATIONS.load(Ordering::SeqCst) - before
}

fn data(rows: usize, features: usize, classes: usize) -> (Array2<f32>, Array2<f32>) {
    let mut rng = dl_core::random::Rng::new(5);
    let x = Array2::from_shape_simple_fn((rows, features), || rng.uniform(0.0, 1.0) as f32);
    let y = Array2::from_shape_simple_fn((rows, 1), || rng.below(classes) as f32);
    (x, y)
}

fn per_fit_allocations(model: &mut Sequential, features: usize, classes: usize, steps: usize, verbose: u8) -> usize {
    let (x, y) = data(64 * steps, features, classes);
    let opts = FitOptions { epochs: 1, batch_size: 64, verbose, seed: Some(1), ..Default::default() };
    allocations_during(|| {
        model.fit_with(&x, &y, opts).unwrap();
    })
}

#[test]
fn fit_allocates_the_same_for_50_and_100_steps() {
    // One test function: the counter is process-wide, so nothing else may run meanwhile.
    let mut linear = Sequential::new();
    linear.add(Dense::new(1).input_dim(13));
    linear.compile("sgd", "mse", &["mae"]).unwrap();
    let mut mlp = Sequential::new();
    mlp.add(Dense::new(512).activation("relu").input_dim(784));
    mlp.add(Dense::new(10).activation("softmax"));
    mlp.compile("rmsprop", "sparse_categorical_crossentropy", &["accuracy"]).unwrap();

    // verbose 0: the test harness captures stdout into a growing buffer, which would count the
    // progress text's own allocations (at most one line per epoch outside a terminal).
    let verbose = 0;
    // Warm up: thread pool, per-thread packing buffers, optimizer state.
    per_fit_allocations(&mut linear, 13, 10, 20, verbose);
    per_fit_allocations(&mut mlp, 784, 10, 20, verbose);
    let (l50, l100) =
        (per_fit_allocations(&mut linear, 13, 10, 50, verbose), per_fit_allocations(&mut linear, 13, 10, 100, verbose));
    assert_eq!(l50, l100, "linear model, verbose {verbose}: {l50} allocations for 50 steps, {l100} for 100");
    let (m50, m100) =
        (per_fit_allocations(&mut mlp, 784, 10, 50, verbose), per_fit_allocations(&mut mlp, 784, 10, 100, verbose));
    assert_eq!(m50, m100, "MLP, verbose {verbose}: {m50} allocations for 50 steps, {m100} for 100");
}
