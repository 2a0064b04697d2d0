//! The `Metrics` port: counters and timings.

use std::collections::BTreeMap;

/// Counters and timings. Implementations must be cheap and never fail the caller.
pub trait Metrics: Send + Sync {
    fn count(&self, name: &str, value: u64, dimensions: &[(&str, &str)]);
    fn duration_ms(&self, name: &str, ms: f64, dimensions: &[(&str, &str)]);
    /// What has been recorded so far, where the implementation keeps it.
    fn snapshot(&self) -> MetricsSnapshot {
        MetricsSnapshot::default()
    }
}

/// Totals per metric name plus `|dim=value,...`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MetricsSnapshot {
    pub counters: BTreeMap<String, u64>,
    /// (count, sum of ms, max ms)
    pub timings: BTreeMap<String, (u64, f64, f64)>,
}
