//! Comparing two reports (`bench compare OLD.json NEW.json`, BENCH.md 6; `output::terminal`
//! prints it): per server, scenario and figure
//! (requests/s, server CPU per request, instructions per request, p99), the ratio NEW/OLD
//! and whether the change is inside the noise. A change is inside it when the range of ratios
//! the repeats allow (NEW min / OLD max up to NEW max / OLD min), widened by a floor, contains
//! 1: ±5% for the timed figures (a single repeat has no spread of its own), ±1% for
//! instructions, which repeat to well within that. `--fail-if-worse PCT` makes it a CI gate
//! on instructions per request: only changes outside the noise count. The timed figures join
//! the gate with `--gate-timing`, for a quiet machine: on a shared one two runs of the same
//! code differ by more than their repeats' spread (two `--quick` runs here: hyper's
//! `static-304` requests/s fell to 0.56× from one to the next), so a timing gate there would
//! fail on noise.

use serde::Serialize;

use crate::report::stats::Stat;
use crate::report::{Report, ScenarioReport};

/// The least noise assumed for a timed figure (±5%).
pub const NOISE_FLOOR: f64 = 0.05;
/// The noise of instructions per request (BENCH.md 4.2: repeats agree within 1%).
pub const INSTRUCTION_NOISE: f64 = 0.01;

/// A figure `compare` reads from both reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Figure {
    RequestsPerSec,
    CpuPerRequest,
    InstructionsPerRequest,
    P99,
}

impl Figure {
    pub const ALL: [Figure; 4] = [
        Figure::RequestsPerSec,
        Figure::CpuPerRequest,
        Figure::InstructionsPerRequest,
        Figure::P99,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Figure::RequestsPerSec => "req/s",
            Figure::CpuPerRequest => "CPU µs/req",
            Figure::InstructionsPerRequest => "instr/req",
            Figure::P99 => "p99 µs",
        }
    }

    /// Whether the figure holds still from run to run on a shared machine.
    pub fn deterministic(self) -> bool {
        self == Figure::InstructionsPerRequest
    }

    /// Only requests/s gets better as it grows.
    fn higher_is_better(self) -> bool {
        self == Figure::RequestsPerSec
    }

    fn noise_floor(self) -> f64 {
        if self == Figure::InstructionsPerRequest {
            INSTRUCTION_NOISE
        } else {
            NOISE_FLOOR
        }
    }

    fn of(self, scenario: &ScenarioReport) -> Option<Stat> {
        let summary = scenario.summary.as_ref();
        match self {
            Figure::RequestsPerSec => summary.map(|s| s.requests_per_sec),
            Figure::CpuPerRequest => summary.and_then(|s| s.server_cpu_us_per_request),
            Figure::P99 => summary.map(|s| s.p99_us),
            Figure::InstructionsPerRequest => scenario
                .cost
                .as_ref()
                .and_then(|c| Stat::of(&c.instructions)),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub backend: String,
    pub scenario: String,
    pub figure: Figure,
    pub old: f64,
    pub new: f64,
    pub ratio: f64,
    /// The lowest and highest ratio the repeats allow.
    pub range: (f64, f64),
    pub within_noise: bool,
}

impl Change {
    /// How much worse NEW is, in percent (0 when it is not worse or the change is noise).
    pub fn worse_by_percent(&self) -> f64 {
        if self.within_noise {
            return 0.0;
        }
        let worse = if self.figure.higher_is_better() {
            1.0 - self.ratio
        } else {
            self.ratio - 1.0
        };
        (worse * 100.0).max(0.0)
    }

    pub fn verdict(&self) -> &'static str {
        if self.within_noise {
            "within noise"
        } else if self.worse_by_percent() > 0.0 {
            "worse"
        } else {
            "better"
        }
    }
}

pub fn compare(old: &Report, new: &Report) -> Vec<Change> {
    let mut changes = Vec::new();
    for backend in &new.backends {
        let Some(old_backend) = old.backends.iter().find(|b| b.name == backend.name) else {
            continue;
        };
        for scenario in &backend.scenarios {
            let Some(old_scenario) = old_backend
                .scenarios
                .iter()
                .find(|s| s.name == scenario.name)
            else {
                continue;
            };
            for figure in Figure::ALL {
                if let (Some(old), Some(new)) = (figure.of(old_scenario), figure.of(scenario)) {
                    changes.push(change(&backend.name, &scenario.name, figure, old, new));
                }
            }
        }
    }
    changes
}

fn change(backend: &str, scenario: &str, figure: Figure, old: Stat, new: Stat) -> Change {
    let floor = figure.noise_floor();
    let ratio = new.median / old.median.max(f64::MIN_POSITIVE);
    let low = (new.min / old.max.max(f64::MIN_POSITIVE)).min(ratio * (1.0 - floor));
    let high = (new.max / old.min.max(f64::MIN_POSITIVE)).max(ratio * (1.0 + floor));
    Change {
        backend: backend.to_owned(),
        scenario: scenario.to_owned(),
        figure,
        old: old.median,
        new: new.median,
        ratio,
        range: (low, high),
        within_noise: low <= 1.0 && 1.0 <= high,
    }
}

/// The changes that got worse by more than `percent`, outside the noise: of instructions per
/// request, and of the timed figures too with `timing`.
pub fn worse_than(changes: &[Change], percent: f64, timing: bool) -> Vec<&Change> {
    changes
        .iter()
        .filter(|c| timing || c.figure.deterministic())
        .filter(|c| c.worse_by_percent() > percent)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stat(median: f64, min: f64, max: f64) -> Stat {
        Stat { median, min, max }
    }

    /// The sample's `plaintext` with three repeats at these rates.
    fn plaintext(rates: [f64; 3]) -> crate::report::ScenarioReport {
        let runs = rates
            .iter()
            .map(|r| crate::report::tests::run(*r))
            .collect();
        crate::report::ScenarioReport::from_runs("plaintext", runs)
    }

    fn rps(old: Stat, new: Stat) -> Change {
        change("axum", "json", Figure::RequestsPerSec, old, new)
    }

    #[test]
    fn overlapping_repeats_are_noise() {
        let c = rps(stat(100.0, 90.0, 110.0), stat(105.0, 95.0, 115.0));
        assert!(c.within_noise);
        assert!((c.ratio - 1.05).abs() < 1e-9);
        assert_eq!(c.worse_by_percent(), 0.0);
    }

    #[test]
    fn separated_repeats_are_a_change_and_the_direction_depends_on_the_figure() {
        let faster = rps(stat(100.0, 98.0, 102.0), stat(130.0, 128.0, 131.0));
        assert!(!faster.within_noise && faster.worse_by_percent() == 0.0);
        let slower = rps(stat(100.0, 98.0, 102.0), stat(70.0, 69.0, 71.0));
        assert!(!slower.within_noise);
        assert!((slower.worse_by_percent() - 30.0).abs() < 1e-9);
        // More CPU per request is worse.
        let dearer = change(
            "axum",
            "json",
            Figure::CpuPerRequest,
            stat(10.0, 10.0, 10.0),
            stat(12.0, 12.0, 12.0),
        );
        assert!((dearer.worse_by_percent() - 20.0).abs() < 1e-9);
    }

    #[test]
    fn single_repeats_use_the_floor_of_their_figure() {
        let one = |v: f64| stat(v, v, v);
        assert!(rps(one(100.0), one(104.0)).within_noise);
        assert!(!rps(one(100.0), one(110.0)).within_noise);
        // Instructions: 1%, not 5%.
        let instr = |new| {
            change(
                "a",
                "s",
                Figure::InstructionsPerRequest,
                one(100.0),
                one(new),
            )
        };
        assert!(instr(100.5).within_noise);
        assert!(!instr(103.0).within_noise);
    }

    #[test]
    fn compare_matches_backends_and_scenarios_by_name() {
        let old = crate::report::tests::sample();
        let mut new = old.clone();
        new.backends[0].scenarios[0] = plaintext([200.0, 210.0, 190.0]);
        let changes = compare(&old, &new);
        let rps: Vec<&Change> = changes
            .iter()
            .filter(|c| c.figure == Figure::RequestsPerSec)
            .collect();
        assert_eq!(rps.len(), 1);
        assert!((rps[0].ratio - 2.0).abs() < 1e-9 && !rps[0].within_noise);
        assert!(worse_than(&changes, 5.0, true).is_empty());
    }

    #[test]
    fn the_gate_passes_the_same_figures_and_fails_one_made_20_percent_worse() {
        let mut old = crate::report::tests::sample();
        old.backends[0].scenarios[0].cost = Some(crate::report::scenario_cost::ScenarioCost {
            instructions: vec![17_697.0, 17_702.0],
            ..crate::report::scenario_cost::ScenarioCost::default()
        });
        let same = compare(&old, &old.clone());
        assert!(!same.is_empty() && same.iter().all(|c| c.within_noise));
        assert!(worse_than(&same, 5.0, true).is_empty());

        let mut doctored = old.clone();
        if let Some(cost) = doctored.backends[0].scenarios[0].cost.as_mut() {
            cost.instructions = vec![17_697.0 * 1.2, 17_702.0 * 1.2];
        }
        let changes = compare(&old, &doctored);
        let worse = worse_than(&changes, 5.0, false);
        assert_eq!(worse.len(), 1, "{changes:?}");
        assert_eq!(worse[0].figure, Figure::InstructionsPerRequest);
        assert!((worse[0].worse_by_percent() - 20.0).abs() < 0.1);
        assert!(worse_than(&changes, 25.0, false).is_empty());
    }

    #[test]
    fn timed_figures_fail_the_gate_only_when_asked_to() {
        let old = crate::report::tests::sample();
        let mut slower = old.clone();
        slower.backends[0].scenarios[0] = plaintext([50.0, 51.0, 49.0]);
        let changes = compare(&old, &slower);
        assert!(worse_than(&changes, 5.0, false).is_empty());
        let timed = worse_than(&changes, 5.0, true);
        assert_eq!(timed.len(), 1, "{changes:?}");
        assert_eq!(timed[0].figure, Figure::RequestsPerSec);
    }
}
