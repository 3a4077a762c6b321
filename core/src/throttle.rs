//! Login throttling: five failed logins for one username (ignoring case) within 60 seconds
//! lock that username out until the oldest failure leaves the window, even for the right
//! password. A success clears the count; a refused (`429`) attempt is not a failure.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const MAX_FAILURES: usize = 5;
pub const WINDOW: Duration = Duration::from_secs(60);
/// Above this many tracked usernames, stale entries are swept so memory stays bounded.
const SWEEP_ABOVE: usize = 10_000;

#[derive(Default)]
pub struct LoginThrottle {
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl LoginThrottle {
    /// `Err(seconds)` to wait when the username is locked out at `now`.
    pub fn check(&self, key: &str, now: Instant) -> Result<(), u64> {
        let mut failures = self.lock();
        let Some(times) = failures.get_mut(key) else {
            return Ok(());
        };
        prune(times, now);
        if times.len() < MAX_FAILURES {
            return Ok(());
        }
        let oldest = times.front().copied().unwrap_or(now);
        let wait = (oldest + WINDOW).saturating_duration_since(now);
        Err(wait.as_secs() + u64::from(wait.subsec_nanos() > 0))
    }

    pub fn record_failure(&self, key: &str, now: Instant) {
        let mut failures = self.lock();
        if failures.len() > SWEEP_ABOVE {
            failures.retain(|_, times| {
                prune(times, now);
                !times.is_empty()
            });
        }
        let times = failures.entry(key.to_owned()).or_default();
        prune(times, now);
        times.push_back(now);
    }

    pub fn clear(&self, key: &str) {
        self.lock().remove(key);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, VecDeque<Instant>>> {
        self.failures.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn prune(times: &mut VecDeque<Instant>, now: Instant) {
    while times
        .front()
        .is_some_and(|&t| now.duration_since(t) >= WINDOW)
    {
        times.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_failures_lock_until_the_window_passes() {
        let throttle = LoginThrottle::default();
        let start = Instant::now();
        for i in 0..5 {
            assert_eq!(throttle.check("ada", start), Ok(()));
            throttle.record_failure("ada", start + Duration::from_secs(i));
        }
        let later = start + Duration::from_secs(10);
        assert_eq!(throttle.check("ada", later), Err(50));
        assert_eq!(throttle.check("bob", later), Ok(()));
        assert_eq!(throttle.check("ada", start + WINDOW), Ok(()));
    }

    #[test]
    fn success_clears() {
        let throttle = LoginThrottle::default();
        let now = Instant::now();
        for _ in 0..5 {
            throttle.record_failure("ada", now);
        }
        throttle.clear("ada");
        assert_eq!(throttle.check("ada", now), Ok(()));
    }
}
