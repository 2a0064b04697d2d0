//! Fault injection around `Metrics` (lost data points only).

use std::sync::Arc;

use gen3d_ports::{Metrics, MetricsSnapshot};

use crate::{Fault, Faults, Port};

/// [`Metrics`] that lose data points on schedule (metrics never fail their caller).
pub struct FaultyMetrics {
    inner: Arc<dyn Metrics>,
    faults: Arc<Faults>,
}

impl FaultyMetrics {
    pub fn new(inner: Arc<dyn Metrics>, faults: Arc<Faults>) -> Self {
        Self { inner, faults }
    }
}

const KINDS: &[Fault] = &[Fault::Dropped];

impl Metrics for FaultyMetrics {
    fn count(&self, name: &str, value: u64, dimensions: &[(&str, &str)]) {
        if self.faults.draw(Port::Metrics, KINDS).is_none() {
            self.inner.count(name, value, dimensions);
        }
    }

    fn duration_ms(&self, name: &str, ms: f64, dimensions: &[(&str, &str)]) {
        if self.faults.draw(Port::Metrics, KINDS).is_none() {
            self.inner.duration_ms(name, ms, dimensions);
        }
    }

    fn snapshot(&self) -> MetricsSnapshot {
        self.inner.snapshot()
    }
}
