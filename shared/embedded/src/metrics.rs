//! The `Metrics` port in memory.

use std::sync::Mutex;

use gen3d_ports::{Metrics, MetricsSnapshot};

/// Metrics kept in memory, readable through [`Metrics::snapshot`] (and `GET /metrics`).
#[derive(Default)]
pub struct MemoryMetrics {
    inner: Mutex<MetricsSnapshot>,
}

fn key(name: &str, dimensions: &[(&str, &str)]) -> String {
    let mut k = name.to_owned();
    for (i, (d, v)) in dimensions.iter().enumerate() {
        k.push(if i == 0 { '|' } else { ',' });
        k.push_str(d);
        k.push('=');
        k.push_str(v);
    }
    k
}

impl Metrics for MemoryMetrics {
    fn count(&self, name: &str, value: u64, dimensions: &[(&str, &str)]) {
        if let Ok(mut m) = self.inner.lock() {
            *m.counters.entry(key(name, dimensions)).or_default() += value;
        }
    }

    fn duration_ms(&self, name: &str, ms: f64, dimensions: &[(&str, &str)]) {
        if let Ok(mut m) = self.inner.lock() {
            let e = m.timings.entry(key(name, dimensions)).or_insert((0, 0.0, 0.0));
            e.0 += 1;
            e.1 += ms;
            e.2 = e.2.max(ms);
        }
    }

    fn snapshot(&self) -> MetricsSnapshot {
        self.inner.lock().map(|m| m.clone()).unwrap_or_default()
    }
}
