//! The fixed-rate windows of `bench run` (BENCH.md 4.1): after a cheap scenario's repeats, as
//! many open-loop windows per server at half the slowest server's saturation rate, a load
//! every server sustains, where latency compares servers doing the same work. They are
//! interleaved like the saturation windows: one machine hiccup sets one window's p99, and the
//! repeats show it as spread instead of a difference.

use std::collections::BTreeMap;
use std::sync::Arc;

use indicatif::ProgressBar;

use crate::measure::workload::Workload;
use crate::report::scenario::Scenario;
use crate::report::{FixedRate, Run};
use crate::run::options::Options;
use crate::run::setup::Server;
use crate::run::timing::{rotation, server_window};

/// The repeats of an open-loop window per server at half the slowest server's closed-loop
/// rate, in rotating order.
pub(super) fn fixed_rate(
    options: &Options,
    scenario: Scenario,
    servers: &mut [Server],
    taking_part: &[(usize, Arc<Workload>)],
    progress: &ProgressBar,
) {
    let slowest = taking_part
        .iter()
        .filter_map(|(index, _)| {
            servers[*index]
                .report
                .scenarios
                .iter()
                .find(|s| s.name == scenario.name())
                .and_then(|s| s.summary.as_ref())
                .map(|s| s.requests_per_sec.median)
        })
        // A server that answered nothing (it died) sets no rate for the others.
        .filter(|rate| *rate > 0.0)
        .fold(f64::INFINITY, f64::min);
    if !slowest.is_finite() || slowest <= 0.0 {
        return;
    }
    let rate = (slowest / 2.0).floor();
    let mut runs: BTreeMap<usize, Vec<Run>> = BTreeMap::new();
    for round in 0..options.repeats(scenario) {
        for k in rotation(taking_part.len(), round) {
            let (index, workload) = &taking_part[k];
            let run = server_window(
                options,
                scenario,
                &mut servers[*index],
                workload,
                Some(rate),
                options.connections,
                progress,
            );
            runs.entry(*index).or_default().push(run);
        }
    }
    for (index, runs) in runs {
        servers[index].scenario(scenario).fixed_rate = FixedRate::from_runs(rate, runs);
    }
}
