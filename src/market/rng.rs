//! Deterministic randomness: every listing draws from streams seeded by
//! (market seed, listing index, purpose), so any listing can be generated
//! alone, in any order.

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// splitmix64 finaliser.
pub(crate) fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// An independent random stream per (seed, index, purpose).
pub(crate) fn stream(seed: u64, index: u64, salt: u64) -> SmallRng {
    SmallRng::seed_from_u64(hash3(seed, index, salt))
}

pub(crate) fn hash3(seed: u64, index: u64, salt: u64) -> u64 {
    mix(seed ^ mix(index ^ mix(salt)))
}

/// FNV-1a of a string.
pub(crate) fn hash_str(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A uniform number in [0, 1) per (seed, index, purpose).
pub(crate) fn unit(seed: u64, index: u64, salt: u64) -> f64 {
    (hash3(seed, index, salt) >> 11) as f64 / (1u64 << 53) as f64
}

pub(crate) fn weighted<T: Copy>(rng: &mut SmallRng, table: &[(T, u32)]) -> T {
    let total: u32 = table.iter().map(|(_, w)| w).sum();
    let mut r = rng.random_range(0..total);
    for &(v, w) in table {
        if r < w {
            return v;
        }
        r -= w;
    }
    table[table.len() - 1].0
}
