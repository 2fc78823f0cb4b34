//! Randomised waits for retries, so that many functions retrying at once
//! spread out instead of colliding again in step.

use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A uniformly random duration in `[0, max]` ("full jitter").
pub fn jittered(max: Duration) -> Duration {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    let fraction = (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64;
    max.mul_f64(fraction)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stays_in_range_and_varies() {
        let samples: Vec<Duration> = (0..64).map(|_| jittered(Duration::from_secs(1))).collect();
        assert!(samples.iter().all(|d| *d <= Duration::from_secs(1)));
        assert!(samples.iter().any(|d| *d != samples[0]));
    }
}
