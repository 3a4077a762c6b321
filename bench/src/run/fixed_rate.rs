//! The fixed-rate window of `bench run` (BENCH.md 4.1): after a cheap scenario's repeats, one
//! open-loop window per server at half the slowest server's saturation rate, a load every
//! server sustains, where latency compares servers doing the same work.

use std::sync::Arc;

use indicatif::ProgressBar;

use crate::measure::workload::Workload;
use crate::report::FixedRate;
use crate::report::scenario::Scenario;
use crate::run::options::Options;
use crate::run::setup::Server;
use crate::run::timing::server_window;

/// One open-loop window per server at half the slowest server's closed-loop rate.
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
    for (index, workload) in taking_part {
        let server = &mut servers[*index];
        let run = server_window(
            options,
            scenario,
            server,
            workload,
            Some(rate),
            options.connections,
            progress,
        );
        server.scenario(scenario).fixed_rate = Some(FixedRate {
            requests_per_sec: rate,
            run,
        });
    }
}
