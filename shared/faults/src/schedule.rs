//! The seeded schedule that decides which call fails, and how, and the record of what was
//! injected.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use gen3d_ports::PortError;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// The port a call goes through.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Port {
    Blobs,
    Queue,
    Jobs,
    Mailer,
    Inference,
    Metrics,
}

/// What happens to one call (see the crate documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Fault {
    Retryable,
    Permanent,
    Latency,
    Timeout,
    Duplicate,
    Reorder,
    LostAck,
    Dropped,
}

impl Fault {
    pub fn name(self) -> &'static str {
        match self {
            Fault::Retryable => "retryable",
            Fault::Permanent => "permanent",
            Fault::Latency => "latency",
            Fault::Timeout => "timeout",
            Fault::Duplicate => "duplicate",
            Fault::Reorder => "reorder",
            Fault::LostAck => "lost_ack",
            Fault::Dropped => "dropped",
        }
    }
}

impl Port {
    pub fn name(self) -> &'static str {
        match self {
            Port::Blobs => "blobs",
            Port::Queue => "queue",
            Port::Jobs => "jobs",
            Port::Mailer => "mailer",
            Port::Inference => "inference",
            Port::Metrics => "metrics",
        }
    }
}

/// How often and how calls fail.
#[derive(Clone, Debug, PartialEq)]
pub struct FaultPlan {
    pub seed: u64,
    /// The share of calls that meet a fault, 0..=1.
    pub rate: f64,
    /// Of the faulted calls, the share that fail permanently (the rest are spread evenly
    /// over the other faults the call can meet).
    pub permanent_share: f64,
    /// The longest injected delay.
    pub max_latency: Duration,
}

impl FaultPlan {
    pub fn new(seed: u64, rate: f64) -> Self {
        Self { seed, rate: rate.clamp(0.0, 1.0), permanent_share: 0.02, max_latency: Duration::from_millis(50) }
    }
}

/// The seeded schedule every decorator draws from, and the tally of what it injected.
/// Calls arrive concurrently, so a seed fixes the sequence of draws, not which call gets
/// which.
pub struct Faults {
    plan: FaultPlan,
    rng: Mutex<StdRng>,
    enabled: AtomicBool,
    calls: AtomicU64,
    injected: Mutex<BTreeMap<(Port, Fault), u64>>,
}

/// What a schedule did: calls seen while enabled, and faults injected per port and kind.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FaultReport {
    pub calls: u64,
    pub injected: BTreeMap<(Port, Fault), u64>,
}

impl FaultReport {
    pub fn total(&self) -> u64 {
        self.injected.values().sum()
    }

    /// Faults of one kind over every port.
    pub fn of(&self, fault: Fault) -> u64 {
        self.injected.iter().filter(|((_, f), _)| *f == fault).map(|(_, n)| n).sum()
    }

    /// Faults at one port.
    pub fn at(&self, port: Port) -> u64 {
        self.injected.iter().filter(|((p, _), _)| *p == port).map(|(_, n)| n).sum()
    }
}

impl std::fmt::Debug for Faults {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Faults").field("plan", &self.plan).field("enabled", &self.enabled).finish_non_exhaustive()
    }
}

impl Faults {
    pub fn new(plan: FaultPlan) -> Self {
        let rng = Mutex::new(StdRng::seed_from_u64(plan.seed));
        Self { plan, rng, enabled: AtomicBool::new(true), calls: AtomicU64::new(0), injected: Mutex::new(BTreeMap::new()) }
    }

    pub fn plan(&self) -> &FaultPlan {
        &self.plan
    }

    /// Turns injection on or off (off: every call passes straight through).
    pub fn set_enabled(&self, enabled: bool) {
        self.enabled.store(enabled, Ordering::SeqCst);
    }

    pub fn report(&self) -> FaultReport {
        FaultReport { calls: self.calls.load(Ordering::SeqCst), injected: self.injected.lock().expect("fault tally").clone() }
    }

    /// Draws the fault of one call that can meet `kinds` (besides `Permanent`, drawn with
    /// its own share when listed). `None`: the call runs normally.
    pub fn draw(&self, port: Port, kinds: &[Fault]) -> Option<Fault> {
        if !self.enabled.load(Ordering::SeqCst) || kinds.is_empty() {
            return None;
        }
        self.calls.fetch_add(1, Ordering::SeqCst);
        let fault = {
            let mut rng = self.rng.lock().expect("fault rng");
            if rng.random::<f64>() >= self.plan.rate {
                return None;
            }
            let others: Vec<Fault> = kinds.iter().copied().filter(|k| *k != Fault::Permanent).collect();
            if kinds.contains(&Fault::Permanent) && (others.is_empty() || rng.random::<f64>() < self.plan.permanent_share) {
                Fault::Permanent
            } else {
                others[rng.random_range(0..others.len())]
            }
        };
        *self.injected.lock().expect("fault tally").entry((port, fault)).or_default() += 1;
        Some(fault)
    }

    /// A random delay up to the plan's maximum.
    pub fn latency(&self) -> Duration {
        let max = self.plan.max_latency.as_millis().max(1) as u64;
        Duration::from_millis(self.rng.lock().expect("fault rng").random_range(0..=max))
    }

    /// A shuffle of `items` from the schedule.
    pub fn shuffle<T>(&self, items: &mut [T]) {
        use rand::seq::SliceRandom;
        items.shuffle(&mut *self.rng.lock().expect("fault rng"));
    }

    /// The common part of a call: draws its fault and acts on those that happen before the
    /// call (error out, or wait). Returns the fault left for the decorator to apply
    /// (`Timeout`, `Duplicate`, `Reorder`, `LostAck`), if any.
    pub async fn before(&self, port: Port, op: &str, kinds: &[Fault]) -> Result<Option<Fault>, PortError> {
        match self.draw(port, kinds) {
            None => Ok(None),
            Some(Fault::Retryable) => Err(PortError::Unavailable(format!("injected fault: {} {op} unavailable", port.name()))),
            Some(Fault::Permanent) => Err(PortError::Internal(format!("injected fault: {} {op} failed permanently", port.name()))),
            Some(Fault::Latency) => {
                tokio::time::sleep(self.latency()).await;
                Ok(None)
            }
            Some(other) => Ok(Some(other)),
        }
    }
}

impl Faults {
    /// A write through a port: errors and delays before it, or a timeout reported after
    /// it took effect.
    pub async fn write<T>(&self, port: Port, op: &str, call: impl Future<Output = Result<T, PortError>>) -> Result<T, PortError> {
        let fault = self.before(port, op, WRITE).await?;
        let out = call.await?;
        if fault == Some(Fault::Timeout) {
            return Err(timed_out(port, op));
        }
        Ok(out)
    }
}

/// The error a `Timeout` fault reports after the call took effect.
pub(crate) fn timed_out(port: Port, op: &str) -> PortError {
    PortError::Unavailable(format!("injected fault: {} {op} timed out (it may have taken effect)", port.name()))
}

/// Reads: an error or a delay, never an effect to hide.
pub(crate) const READ: &[Fault] = &[Fault::Retryable, Fault::Permanent, Fault::Latency];
/// Writes: as reads, plus a timeout after the write took effect.
pub(crate) const WRITE: &[Fault] = &[Fault::Retryable, Fault::Permanent, Fault::Latency, Fault::Timeout];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_is_kept_and_a_seed_repeats_its_draws() {
        let draws = |seed| {
            let faults = Faults::new(FaultPlan::new(seed, 0.2));
            (0..10_000).map(|_| faults.draw(Port::Queue, WRITE)).collect::<Vec<_>>()
        };
        let a = draws(7);
        assert_eq!(a, draws(7));
        assert_ne!(a, draws(8));
        let hit = a.iter().filter(|d| d.is_some()).count();
        assert!((1_800..2_200).contains(&hit), "{hit} of 10000 faulted at rate 0.2");
        let permanent = a.iter().filter(|d| **d == Some(Fault::Permanent)).count();
        assert!(permanent > 0 && permanent < hit / 10, "{permanent} permanent of {hit}");
        for kind in [Fault::Retryable, Fault::Latency, Fault::Timeout] {
            assert!(a.contains(&Some(kind)), "{kind:?} drawn");
        }
    }

    #[test]
    fn disabled_schedules_pass_every_call() {
        let faults = Faults::new(FaultPlan::new(1, 1.0));
        faults.set_enabled(false);
        assert!((0..100).all(|_| faults.draw(Port::Blobs, WRITE).is_none()));
        assert_eq!(faults.report().calls, 0);
        faults.set_enabled(true);
        assert!(faults.draw(Port::Blobs, WRITE).is_some());
        assert_eq!(faults.report().total(), 1);
    }
}
