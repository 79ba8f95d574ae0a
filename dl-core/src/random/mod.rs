//! Randomness, all of it: the seedable generator ([`Rng`], xoshiro256++), the process-wide
//! generator behind [`set_random_seed`] (like `keras.utils.set_random_seed`), numpy's legacy
//! Mersenne Twister for reproducing Keras's dataset splits ([`mt19937`]), and the numpy-style
//! sampling helpers ([`sampling`]).
//!
//! Keras's own initial weights come from TensorFlow's generator and cannot be reproduced bit for
//! bit; what matters here is that a seeded notebook gives the same numbers on every run. In a
//! notebook the global generator's state lives in the kernel's session directory (see
//! [`crate::session`]), so a seed holds for all later cells.

pub mod mt19937;
pub mod sampling;
mod xoshiro;

pub use sampling::{normal, rand, randn, shuffle, train_test_split, uniform};
pub use xoshiro::Rng;

use std::sync::Mutex;

/// The global generator's state outside a kernel session.
static STATE: Mutex<Option<String>> = Mutex::new(None);

/// Runs `f` on the global generator's state (`None` when never seeded) and stores the result.
fn with_state<R>(f: impl FnOnce(&mut Option<[u64; 4]>) -> R) -> R {
    crate::session::with_state("rng", &STATE, |text| {
        let mut state = text.as_deref().and_then(|s| {
            let v: Vec<u64> = s.split_whitespace().filter_map(|w| w.parse().ok()).collect();
            <[u64; 4]>::try_from(v).ok()
        });
        let r = f(&mut state);
        if let Some(s) = state {
            *text = Some(format!("{} {} {} {}", s[0], s[1], s[2], s[3]));
        }
        r
    })
}

/// Seeds dl-core's global generator, which draws initial weights and `fit`'s shuffling order
/// (like `keras.utils.set_random_seed`). Without it, every run starts from a different seed. In
/// a notebook the seed holds for all later cells.
///
/// # Examples
/// ```
/// dl_core::set_random_seed(42);
/// let a = dl_core::random::next_seed();
/// dl_core::set_random_seed(42);
/// assert_eq!(a, dl_core::random::next_seed());
/// ```
pub fn set_random_seed(seed: u64) {
    with_state(|s| *s = Some(Rng::new(seed).s));
}

/// Draws a fresh seed from the global generator (seeding it from the clock on first use).
pub fn next_seed() -> u64 {
    with_state(|state| {
        let mut rng = match state {
            Some(s) => Rng { s: *s },
            None => {
                let t = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos() as u64)
                    .unwrap_or(0);
                Rng::new(t ^ ((std::process::id() as u64) << 32))
            }
        };
        let v = rng.next_u64();
        *state = Some(rng.s);
        v
    })
}
