//! Median and 95th percentile of a series.

use serde::Serialize;

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Summary {
    pub runs: usize,
    pub median: f64,
    /// Nearest rank: the smallest sample at or above 95 % of the samples.
    pub p95: f64,
    pub min: f64,
    pub max: f64,
}

pub fn summarise(samples: &[f64]) -> Option<Summary> {
    let mut sorted: Vec<f64> = samples.iter().copied().filter(|s| s.is_finite()).collect();
    if sorted.is_empty() {
        return None;
    }
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let median = if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    };
    let rank = (n * 95).div_ceil(100).max(1);
    Some(Summary {
        runs: n,
        median,
        p95: sorted[rank - 1],
        min: sorted[0],
        max: sorted[n - 1],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_nearest_rank_p95() {
        let samples: Vec<f64> = (1..=20).map(f64::from).collect();
        let s = summarise(&samples).expect("a summary");
        assert_eq!((s.median, s.p95, s.min, s.max), (10.5, 19.0, 1.0, 20.0));
        let s = summarise(&[3.0, 1.0, 2.0]).expect("a summary");
        assert_eq!((s.median, s.p95), (2.0, 3.0));
        assert!(summarise(&[]).is_none());
    }
}
