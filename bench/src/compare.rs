//! `bench compare OLD.json NEW.json`: per backend and scenario, the ratio of the median
//! requests/s, and whether the change is inside the noise. The noise is the spread of the
//! repeats: a change is inside it when the range of ratios the repeats allow
//! (NEW min / OLD max up to NEW max / OLD min), widened by a floor for single repeats,
//! contains 1.

use serde::Serialize;

use crate::report::{Report, Stat};

/// With a single repeat there is no spread to measure; assume at least this much (±5%).
pub const NOISE_FLOOR: f64 = 0.05;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub backend: String,
    pub scenario: String,
    pub old_rps: f64,
    pub new_rps: f64,
    pub ratio: f64,
    /// The lowest and highest ratio the repeats allow.
    pub range: (f64, f64),
    pub within_noise: bool,
}

pub fn compare(old: &Report, new: &Report) -> Vec<Change> {
    let mut changes = Vec::new();
    for backend in &new.backends {
        let Some(old_backend) = old.backends.iter().find(|b| b.name == backend.name) else {
            continue;
        };
        for scenario in &backend.scenarios {
            let old_summary = old_backend
                .scenarios
                .iter()
                .find(|s| s.name == scenario.name)
                .and_then(|s| s.summary.as_ref());
            let (Some(old_summary), Some(new_summary)) = (old_summary, scenario.summary.as_ref())
            else {
                continue;
            };
            changes.push(change(
                &backend.name,
                &scenario.name,
                old_summary.requests_per_sec,
                new_summary.requests_per_sec,
            ));
        }
    }
    changes
}

fn change(backend: &str, scenario: &str, old: Stat, new: Stat) -> Change {
    let ratio = new.median / old.median.max(f64::MIN_POSITIVE);
    let low = (new.min / old.max.max(f64::MIN_POSITIVE)).min(ratio * (1.0 - NOISE_FLOOR));
    let high = (new.max / old.min.max(f64::MIN_POSITIVE)).max(ratio * (1.0 + NOISE_FLOOR));
    Change {
        backend: backend.to_owned(),
        scenario: scenario.to_owned(),
        old_rps: old.median,
        new_rps: new.median,
        ratio,
        range: (low, high),
        within_noise: low <= 1.0 && 1.0 <= high,
    }
}

/// The comparison as a terminal / Markdown table.
pub fn table(changes: &[Change]) -> String {
    let mut out = String::from(
        "| backend | scenario | old req/s | new req/s | new/old | range | verdict |\n|---|---|---:|---:|---:|---|---|\n",
    );
    for c in changes {
        let verdict = if c.within_noise {
            "within noise"
        } else if c.ratio > 1.0 {
            "faster"
        } else {
            "slower"
        };
        out.push_str(&format!(
            "| {} | {} | {:.0} | {:.0} | {:.3} | {:.3}–{:.3} | {verdict} |\n",
            c.backend, c.scenario, c.old_rps, c.new_rps, c.ratio, c.range.0, c.range.1
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stat(median: f64, min: f64, max: f64) -> Stat {
        Stat { median, min, max }
    }

    #[test]
    fn overlapping_repeats_are_noise() {
        let c = change(
            "axum",
            "json",
            stat(100.0, 90.0, 110.0),
            stat(105.0, 95.0, 115.0),
        );
        assert!(c.within_noise);
        assert!((c.ratio - 1.05).abs() < 1e-9);
    }

    #[test]
    fn separated_repeats_are_a_change() {
        let faster = change(
            "axum",
            "json",
            stat(100.0, 98.0, 102.0),
            stat(130.0, 128.0, 131.0),
        );
        assert!(!faster.within_noise && faster.ratio > 1.0);
        let slower = change(
            "axum",
            "json",
            stat(100.0, 98.0, 102.0),
            stat(70.0, 69.0, 71.0),
        );
        assert!(!slower.within_noise && slower.ratio < 1.0);
    }

    #[test]
    fn single_repeats_use_the_floor() {
        assert!(
            change(
                "a",
                "s",
                stat(100.0, 100.0, 100.0),
                stat(104.0, 104.0, 104.0)
            )
            .within_noise
        );
        assert!(
            !change(
                "a",
                "s",
                stat(100.0, 100.0, 100.0),
                stat(110.0, 110.0, 110.0)
            )
            .within_noise
        );
    }

    #[test]
    fn compare_matches_backends_and_scenarios_by_name() {
        let old = crate::report::tests::sample();
        let mut new = old.clone();
        new.backends[0].scenarios[0] = crate::report::ScenarioReport::from_runs(
            "plaintext",
            vec![
                crate::report::tests::run(200.0),
                crate::report::tests::run(210.0),
                crate::report::tests::run(190.0),
            ],
        );
        let changes = compare(&old, &new);
        assert_eq!(changes.len(), 1);
        assert!((changes[0].ratio - 2.0).abs() < 1e-9 && !changes[0].within_noise);
        assert!(table(&changes).contains("| axum | plaintext | 100 | 200 | 2.000 |"));
    }
}
