//! How often and how far apart a lost race is tried again.

use std::time::Duration;

use rand::Rng;

/// Bounded retries with exponential backoff and full jitter (each pause uniform between zero and the ceiling): writers
/// that collided spread out instead of colliding again in lockstep, and a stream that never settles gives up after
/// `max_attempts` instead of spinning. Every lost race means another writer's commit landed, so a handful of
/// attempts gets every contender of a busy stream through; the ceiling keeps the wait of the unlucky one short.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included: 1 never retries.
    pub max_attempts: u32,
    /// The ceiling of the first pause; it doubles with each lost race.
    pub base: Duration,
    /// The ceiling never grows past this.
    pub cap: Duration,
}

impl RetryPolicy {
    /// The one policy every command and reaction uses: 10 attempts, ceilings 2, 4, 8 … ms up to 100 ms, so the
    /// last of ten attempts starts at most about half a second after the first.
    pub const DEFAULT: Self =
        Self { max_attempts: 10, base: Duration::from_millis(2), cap: Duration::from_millis(100) };

    /// The pause's ceiling after `lost` races (1 for the first lost race).
    pub fn ceiling(&self, lost: u32) -> Duration {
        let doubling = 1u32 << lost.saturating_sub(1).min(16);
        self.base.saturating_mul(doubling).min(self.cap)
    }

    /// The pause before trying again after `lost` races: uniform in `[0, ceiling(lost)]`.
    pub fn pause(&self, lost: u32) -> Duration {
        let ceiling = self.ceiling(lost).as_micros() as u64;
        Duration::from_micros(rand::thread_rng().gen_range(0..=ceiling))
    }

    /// The same policy with one attempt only: a client that decided on a version it saw is told of a conflict,
    /// never decided for again.
    pub fn once(self) -> Self {
        Self { max_attempts: 1, ..self }
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self::DEFAULT
    }
}
