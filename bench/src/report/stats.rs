//! Repeats summed up: a figure's median with its min and max ([`Stat`]), and every figure of
//! a scenario's repeats so ([`RepeatStats`], `summary` in `report.json`).

use serde::{Deserialize, Serialize};

use super::Run;

/// Median, min and max over the repeats.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Stat {
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

impl Stat {
    pub fn of(values: &[f64]) -> Option<Self> {
        let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
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
        Some(Self {
            median,
            min: sorted[0],
            max: sorted[n - 1],
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepeatStats {
    pub requests_per_sec: Stat,
    pub p50_us: Stat,
    pub p90_us: Stat,
    pub p99_us: Stat,
    pub p999_us: Stat,
    pub max_us: Stat,
    pub server_cpu_us_per_request: Option<Stat>,
    #[serde(default)]
    pub server_cpu_user_us_per_request: Option<Stat>,
    #[serde(default)]
    pub server_cpu_system_us_per_request: Option<Stat>,
    pub server_peak_rss_kib: Option<Stat>,
    pub client_busy_share: Option<Stat>,
    pub errors: u64,
}

impl RepeatStats {
    pub fn of(runs: &[Run]) -> Option<Self> {
        let stat = |f: &dyn Fn(&Run) -> f64| Stat::of(&runs.iter().map(f).collect::<Vec<_>>());
        let optional = |f: &dyn Fn(&Run) -> Option<f64>| {
            Stat::of(&runs.iter().filter_map(f).collect::<Vec<_>>())
        };
        Some(Self {
            requests_per_sec: stat(&|r| r.requests_per_sec)?,
            p50_us: stat(&|r| r.latency_us.p50 as f64)?,
            p90_us: stat(&|r| r.latency_us.p90 as f64)?,
            p99_us: stat(&|r| r.latency_us.p99 as f64)?,
            p999_us: stat(&|r| r.latency_us.p999 as f64)?,
            max_us: stat(&|r| r.latency_us.max as f64)?,
            server_cpu_us_per_request: optional(&|r| r.server_cpu_us_per_request),
            server_cpu_user_us_per_request: optional(&|r| r.server_cpu_user_us_per_request),
            server_cpu_system_us_per_request: optional(&|r| r.server_cpu_system_us_per_request),
            server_peak_rss_kib: optional(&|r| r.server_peak_rss_kib.map(|k| k as f64)),
            client_busy_share: optional(&|r| r.client_busy_share),
            errors: runs.iter().map(|r| r.errors.total()).sum(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_is_median_with_min_and_max() {
        let s = Stat::of(&[100.0, 120.0, 90.0]).expect("values");
        assert_eq!((s.median, s.min, s.max), (100.0, 90.0, 120.0));
        assert_eq!(Stat::of(&[1.0, 3.0]).map(|s| s.median), Some(2.0));
        assert_eq!(Stat::of(&[]), None);
    }
}
