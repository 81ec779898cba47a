//! Timing shared by the benchmarks.

use std::time::{Duration, Instant};

/// Average time of `baseline` and `ours`, run alternately so that load
/// from other processes hits both alike.
pub fn time_pair(
    runs: u32,
    mut baseline: impl FnMut(),
    mut ours: impl FnMut(),
) -> (Duration, Duration) {
    baseline();
    ours();
    let (mut a, mut b) = (Duration::ZERO, Duration::ZERO);
    for _ in 0..runs {
        let start = Instant::now();
        baseline();
        a += start.elapsed();
        let start = Instant::now();
        ours();
        b += start.elapsed();
    }
    (a / runs, b / runs)
}
