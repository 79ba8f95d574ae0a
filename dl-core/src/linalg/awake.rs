//! Keeping the pool's other worker awake through a training loop.
//!
//! A training step alternates parallel products with short serial passes (loss, optimizer,
//! progress). Between products rayon's idle worker spins briefly and then sleeps; every product
//! then waits for it to be woken. Measured with `dl-bench` on a 2-core VM: a 0.3–1 ms pause
//! before each (128,784,512) product cut it from 274 to 197–259 GFLOP/s, and the MLP's products
//! ran at 155–230 inside `fit` against 274–279 alone. [`with_worker_awake`] keeps one worker
//! looking for work (through `rayon::yield_now`) until the loop ends, as OpenBLAS's threads spin
//! between calls: the second core is busy for the whole `fit`, which it would mostly be anyway.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Runs `f` on a rayon worker while another worker polls for the jobs `f` splits off, instead
/// of sleeping between them (if `poll`; else it sleeps as usual: polling costs a loop of tiny
/// steps that forks nothing some 10–50 % in contention on the worker's queue). With one
/// thread, just runs `f`.
pub(crate) fn with_worker_awake<R: Send>(poll: bool, f: impl FnOnce() -> R + Send) -> R {
    struct SetOnDrop<'a>(&'a AtomicBool);
    impl Drop for SetOnDrop<'_> {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Release);
        }
    }
    let done = AtomicBool::new(false);
    let owner = AtomicUsize::new(usize::MAX);
    let (result, ()) = rayon::join(
        || {
            owner.store(rayon::current_thread_index().unwrap_or(usize::MAX), Ordering::Release);
            // Set even if `f` panics: the poller must not outlive it (join waits for both).
            let _done = SetOnDrop(&done);
            f()
        },
        || {
            // Run by `f`'s own thread (after `f`, or while `f` waits inside a join): no polling,
            // or that thread would wait for itself.
            if !poll || rayon::current_thread_index() == Some(owner.load(Ordering::Acquire)) {
                return;
            }
            while !done.load(Ordering::Acquire) {
                if rayon::yield_now() != Some(rayon::Yield::Executed) {
                    std::hint::spin_loop();
                }
            }
        },
    );
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Correctness only (what the poller buys is speed, measured in `dl-bench`): the loop's
    /// value comes back and nested fork/joins finish, whether the pool has 1, 2 or 3 threads.
    #[test]
    fn the_loop_and_its_nested_joins_finish_with_its_value_on_any_thread_count() {
        fn sum(lo: u64, hi: u64) -> u64 {
            if hi - lo < 64 {
                return (lo..hi).sum();
            }
            let mid = (lo + hi) / 2;
            let (a, b) = rayon::join(|| sum(lo, mid), || sum(mid, hi));
            a + b
        }
        for threads in [1, 2, 3] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            let total = pool.install(|| with_worker_awake(true, || (0..50).map(|_| sum(0, 10_000)).sum::<u64>()));
            assert_eq!(total, 50 * (10_000 * 9_999 / 2));
        }
    }

    #[test]
    fn a_panicking_loop_ends_the_poller_and_the_panic_reaches_the_caller() {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
        let r = pool.install(|| std::panic::catch_unwind(|| with_worker_awake(true, || panic!("in the loop"))));
        assert!(r.is_err());
    }
}
