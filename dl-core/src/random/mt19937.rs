//! numpy's legacy `RandomState(seed).shuffle`, bit for bit, so that Keras's dataset splits can be
//! reproduced: MT19937 seeded with `init_genrand(seed)`, Fisher–Yates from the end, and
//! `random_interval(max)` by masked rejection (see `../shared/data/README.md`).

/// The Mersenne Twister MT19937.
pub struct Mt19937 {
    mt: [u32; 624],
    index: usize,
}

impl Mt19937 {
    /// `init_genrand(seed)`: `mt[0] = seed`, `mt[i] = 1812433253·(mt[i−1] ⊕ (mt[i−1] >> 30)) + i`.
    pub fn new(seed: u32) -> Self {
        let mut mt = [0u32; 624];
        mt[0] = seed;
        for i in 1..624 {
            mt[i] = 1_812_433_253u32.wrapping_mul(mt[i - 1] ^ (mt[i - 1] >> 30)).wrapping_add(i as u32);
        }
        Mt19937 { mt, index: 624 }
    }

    /// The next tempered 32-bit output.
    pub fn next_u32(&mut self) -> u32 {
        if self.index >= 624 {
            for i in 0..624 {
                let y = (self.mt[i] & 0x8000_0000) | (self.mt[(i + 1) % 624] & 0x7fff_ffff);
                let mut v = self.mt[(i + 397) % 624] ^ (y >> 1);
                if y & 1 != 0 {
                    v ^= 0x9908_b0df;
                }
                self.mt[i] = v;
            }
            self.index = 0;
        }
        let mut y = self.mt[self.index];
        self.index += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    /// numpy's `random_interval(max)`: uniform in `0..=max` by rejection under a bit mask.
    pub fn random_interval(&mut self, max: u32) -> u32 {
        if max == 0 {
            return 0;
        }
        let mut mask = max;
        mask |= mask >> 1;
        mask |= mask >> 2;
        mask |= mask >> 4;
        mask |= mask >> 8;
        mask |= mask >> 16;
        loop {
            let v = self.next_u32() & mask;
            if v <= max {
                return v;
            }
        }
    }
}

/// `np.random.RandomState(seed).shuffle(x)` applied to `0..n`: the permutation numpy produces.
pub fn legacy_permutation(n: usize, seed: u32) -> Vec<usize> {
    let mut rng = Mt19937::new(seed);
    let mut idx: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = rng.random_interval(i as u32) as usize;
        idx.swap(i, j);
    }
    idx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mt19937_matches_the_reference_outputs() {
        // Test vectors from ../shared/data/README.md (the reference MT19937 for seed 5489).
        let mut r = Mt19937::new(5489);
        assert_eq!([r.next_u32(), r.next_u32(), r.next_u32()], [3499211612, 581869302, 3890346734]);
        let mut r = Mt19937::new(113);
        let got: Vec<u32> = (0..5).map(|_| r.next_u32()).collect();
        assert_eq!(got, [3659249829, 529109724, 317413538, 548173386, 3843702636]);
    }

    #[test]
    fn boston_permutation_starts_like_keras() {
        let p = legacy_permutation(506, 113);
        assert_eq!(&p[..10], &[22, 202, 368, 335, 461, 323, 382, 143, 146, 141]);
        assert_eq!(&p[404..409], &[415, 112, 339, 160, 87]);
    }
}
