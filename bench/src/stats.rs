//! Latency samples and what a report says of them.

use std::time::Duration;

use serde_json::{Value, json};

/// One measured run: how many operations in how long, and each one's latency.
#[derive(Debug, Clone)]
pub struct Run {
    pub name: String,
    pub operations: usize,
    pub elapsed: Duration,
    pub latencies: Vec<Duration>,
}

impl Run {
    pub fn new(name: impl Into<String>, elapsed: Duration, mut latencies: Vec<Duration>) -> Self {
        latencies.sort_unstable();
        Self { name: name.into(), operations: latencies.len(), elapsed, latencies }
    }

    pub fn per_second(&self) -> f64 {
        self.operations as f64 / self.elapsed.as_secs_f64().max(f64::EPSILON)
    }

    /// The latency below which `share` (0..=1) of the operations finished.
    pub fn percentile(&self, share: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let index = ((self.latencies.len() - 1) as f64 * share).round() as usize;
        self.latencies[index.min(self.latencies.len() - 1)]
    }

    pub fn json(&self) -> Value {
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        json!({
            "name": self.name,
            "operations": self.operations,
            "seconds": self.elapsed.as_secs_f64(),
            "per_second": self.per_second(),
            "p50_ms": ms(self.percentile(0.50)),
            "p95_ms": ms(self.percentile(0.95)),
            "p99_ms": ms(self.percentile(0.99)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_come_from_the_sorted_samples() {
        let samples = (1..=100).rev().map(Duration::from_millis).collect();
        let run = Run::new("x", Duration::from_secs(2), samples);
        assert_eq!(run.operations, 100);
        assert_eq!(run.per_second(), 50.0);
        assert_eq!(run.percentile(0.5), Duration::from_millis(51));
        assert_eq!(run.percentile(0.99), Duration::from_millis(99));
        assert_eq!(run.percentile(1.0), Duration::from_millis(100));
        assert_eq!(Run::new("empty", Duration::from_secs(1), Vec::new()).percentile(0.5), Duration::ZERO);
    }
}
