//! Timing for the plain `--release` benchmark binaries.

use std::hint::black_box;
use std::time::{Duration, Instant};

/// The fastest of `rounds` rounds of `per_round` calls of `run`, per call
/// (the least disturbed by whatever else the machine does).
pub fn fastest<T>(rounds: usize, per_round: usize, mut run: impl FnMut() -> T) -> Duration {
    (0..rounds)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..per_round {
                black_box(run());
            }
            start.elapsed() / per_round.max(1) as u32
        })
        .min()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_fastest_round_is_a_real_time() {
        let time = super::fastest(3, 10, || (0..1000u64).sum::<u64>());
        assert!(time < std::time::Duration::from_secs(1));
    }
}
