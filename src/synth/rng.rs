//! A small, fast, seedable random generator (SplitMix64) and the draws the synthetic
//! population needs. Every person gets their own stream from (seed, person), so output
//! does not depend on generation order.

/// SplitMix64: 64-bit state, good enough statistical quality for synthetic data.
#[derive(Debug, Clone)]
pub struct Rng(u64);

/// SplitMix64's output function: a bijection that spreads every input bit over the word.
fn scramble(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    /// A stream for `(seed, stream)`. Seed and stream are each scrambled before they are
    /// combined: `seed ^ stream·γ` (γ SplitMix's own increment) made one person's stream
    /// another's a few steps on for small seeds, so people shared whole A&E histories.
    pub fn new(seed: u64, stream: u64) -> Rng {
        let mut r = Rng(scramble(
            scramble(seed) ^ stream.wrapping_mul(0xD6E8_FEB8_6659_FD93),
        ));
        r.next();
        r
    }

    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform integer in `[lo, hi]`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        debug_assert!(hi >= lo);
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// A Poisson draw (Knuth; fine for the small means used here).
    pub fn poisson(&mut self, mean: f64) -> u32 {
        if mean > 30.0 {
            return self.normal(mean, mean.sqrt()).round().max(0.0) as u32;
        }
        let l = (-mean).exp();
        let (mut k, mut p) = (0u32, 1.0);
        loop {
            p *= self.unit();
            if p <= l {
                return k;
            }
            k += 1;
        }
    }

    /// A normal draw (Box–Muller).
    pub fn normal(&mut self, mean: f64, sd: f64) -> f64 {
        let (u1, u2) = (self.unit().max(1e-12), self.unit());
        mean + sd * (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Index chosen with the given weights.
    pub fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut x = self.unit() * total;
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len() - 1
    }
}

#[cfg(test)]
mod tests {
    use super::Rng;

    #[test]
    fn streams_are_deterministic_and_distinct() {
        let (mut a, mut b, mut c) = (Rng::new(7, 1), Rng::new(7, 1), Rng::new(7, 2));
        let (x, y, z) = (a.next(), b.next(), c.next());
        assert_eq!(x, y);
        assert_ne!(x, z);
    }

    #[test]
    fn draws_have_the_right_means() {
        let mut r = Rng::new(1, 0);
        let n = 100_000;
        let mean = (0..n).map(|_| r.poisson(2.5) as f64).sum::<f64>() / n as f64;
        assert!((mean - 2.5).abs() < 0.05, "{mean}");
        let hits = (0..n).filter(|_| r.chance(0.3)).count() as f64 / n as f64;
        assert!((hits - 0.3).abs() < 0.01, "{hits}");
        assert!((0..1000).all(|_| (3..=9).contains(&r.range(3, 9))));
    }
}
