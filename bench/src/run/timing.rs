//! The timed windows of `bench run` (BENCH.md 4.1): scenario by scenario, the repeats go
//! round the servers in rotating order (A B C, then B C A, ...) so that drift on a shared
//! machine falls on all alike; each window runs on fresh connections after its warm-up, with
//! the server and the cores sampled around it, and is measured again while noisy.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::ProgressBar;

use crate::measure::backend_process::BackendProcess;
use crate::measure::loadgen::{self, LoadSpec, Window};
use crate::measure::noise::{self, Sample};
use crate::measure::prepare::{STORM_LOGINS, STORM_PLAIN};
use crate::measure::procfs;
use crate::measure::workload::{Prepared, Workload};
use crate::report::histograms;
use crate::report::scenario::Scenario;
use crate::report::{Errors, KindRun, Percentiles, Run, ScenarioReport};
use crate::run::fixed_rate::fixed_rate;
use crate::run::options::Options;
use crate::run::setup::Server;

/// The repeats of one scenario, interleaved over the servers, then its fixed-rate window.
pub(super) fn time_scenario(
    options: &Options,
    scenario: Scenario,
    servers: &mut [Server],
    progress: &ProgressBar,
) {
    let mut taking_part = Vec::new();
    for (index, server) in servers.iter_mut().enumerate() {
        if let Some(how) = server.process.as_mut().and_then(BackendProcess::exited) {
            server.report.failure = Some(format!(
                "exited before {} was timed ({how})",
                scenario.name()
            ));
        }
        if server.report.failure.is_some() {
            continue;
        }
        match server.workloads.get(&scenario).cloned() {
            Some(Ok(workload)) => taking_part.push((index, workload)),
            Some(Err(why)) => server.scenario(scenario).failed = Some(why),
            None => {}
        }
    }
    let mut runs: BTreeMap<usize, Vec<Run>> = BTreeMap::new();
    for round in 0..options.repeats(scenario) {
        for k in rotation(taking_part.len(), round) {
            let (index, workload) = &taking_part[k];
            let server = &mut servers[*index];
            if scenario == Scenario::Storm {
                let quiet = quiet_plaintext(workload);
                let run = server_window(
                    options,
                    scenario,
                    server,
                    &quiet,
                    None,
                    STORM_PLAIN,
                    progress,
                );
                server.scenario(scenario).quiet.push(run);
            }
            let connections = if scenario == Scenario::Storm {
                STORM_LOGINS + STORM_PLAIN
            } else {
                options.connections_for(scenario)
            };
            let run = server_window(
                options,
                scenario,
                server,
                workload,
                options.rate,
                connections,
                progress,
            );
            runs.entry(*index).or_default().push(run);
        }
    }
    for (index, runs) in runs {
        let report = servers[index].scenario(scenario);
        let kept = ScenarioReport::from_runs(scenario.name(), runs);
        report.runs = kept.runs;
        report.summary = kept.summary;
        report.markers = kept.markers;
    }
    if options.fixed_rate(scenario) {
        fixed_rate(options, scenario, servers, &taking_part, progress);
    }
}

/// `storm`'s plaintext connections on their own.
fn quiet_plaintext(storm: &Workload) -> Arc<Workload> {
    match storm {
        Workload::Split { rest, .. } => Arc::clone(rest),
        _ => Workload::single(Prepared::get("", "/", "", 200)),
    }
}

/// The order the servers are measured in, repeat `round`: each round starts one further on.
pub fn rotation(servers: usize, round: usize) -> Vec<usize> {
    (0..servers).map(|k| (k + round) % servers.max(1)).collect()
}

/// What a window loads: a server's address, its process (none for `--url`) and its name.
#[derive(Debug, Clone, Copy)]
pub struct WindowTarget<'a> {
    pub name: &'a str,
    pub addr: SocketAddr,
    pub pid: Option<u32>,
}

/// One measured window on fresh connections, measured again (at most `MAX_REMEASURE` times)
/// while it is noisy: the kept window, and why each dropped one was noisy.
pub fn window(
    options: &Options,
    target: WindowTarget<'_>,
    workload: &Arc<Workload>,
    rate: Option<f64>,
    connections: usize,
    progress: &ProgressBar,
) -> (Run, Vec<String>) {
    let mut dropped = Vec::new();
    loop {
        progress.set_message(format!(
            "{} · {}",
            target.name,
            if rate.is_some() && options.rate.is_none() {
                "fixed rate".to_owned()
            } else {
                format!("window {}", dropped.len() + 1)
            }
        ));
        let run = measure(options, target, workload, rate, connections, progress);
        match run.noise.and_then(|n| n.noisy()) {
            Some(why) if dropped.len() < noise::MAX_REMEASURE => dropped.push(why),
            _ => return (run, dropped),
        }
    }
}

/// [`window`] for a server of the run, its dropped windows noted in the scenario's report.
pub(super) fn server_window(
    options: &Options,
    scenario: Scenario,
    server: &mut Server,
    workload: &Arc<Workload>,
    rate: Option<f64>,
    connections: usize,
    progress: &ProgressBar,
) -> Run {
    let target = WindowTarget {
        name: &format!("{} · {}", server.report.name, scenario.name()),
        addr: server.addr,
        pid: server.pid(),
    };
    let (run, dropped) = window(options, target, workload, rate, connections, progress);
    server.scenario(scenario).dropped.extend(dropped);
    run
}

/// Loads the server for the warm-up and one window, sampling it and the cores around the
/// window, then waits for it to go idle (a backlog of password hashes must not spill into
/// the next window).
fn measure(
    options: &Options,
    target: WindowTarget<'_>,
    workload: &Arc<Workload>,
    rate: Option<f64>,
    connections: usize,
    progress: &ProgressBar,
) -> Run {
    let pid = target.pid;
    let spec = LoadSpec {
        addr: target.addr,
        connections,
        warmup: options.warmup,
        windows: 1,
        window: options.duration,
        rate,
        client_cpus: options.client_cpus.clone(),
    };
    if let Some(pid) = pid {
        procfs::reset_peak_rss(pid);
    }
    let running = loadgen::start(&spec, workload);
    let sample = |at: Instant| {
        while Instant::now() < at {
            std::thread::sleep(Duration::from_millis(20).min(at - Instant::now()));
            progress.tick();
        }
        Sample::take(pid, &options.server_cpus, &options.client_cpus)
    };
    let before = sample(running.start + spec.warmup);
    let after = sample(running.start + spec.total());
    let windows = running.finish();
    let peak = pid.and_then(procfs::peak_rss_kib);
    if let Some(pid) = pid {
        procfs::wait_until_idle(pid);
    }
    progress
        .inc(u64::try_from((spec.total() + Duration::from_millis(150)).as_millis()).unwrap_or(0));
    let window = windows.into_iter().next();
    to_run(window, &before, &after, options.duration, peak)
}

fn to_run(
    window: Option<Window>,
    before: &Sample,
    after: &Sample,
    length: Duration,
    peak: Option<u64>,
) -> Run {
    let Some(w) = window else {
        return Run {
            first_error: Some("the load generator measured nothing".into()),
            ..empty_run()
        };
    };
    let ok = w
        .responses
        .saturating_sub(w.errors.status + w.errors.length);
    let per_request = |a: Option<Duration>, b: Option<Duration>| match (a, b) {
        (Some(a), Some(b)) if ok > 0 => Some(b.saturating_sub(a).as_secs_f64() * 1e6 / ok as f64),
        _ => None,
    };
    let user = per_request(before.server.map(|t| t.user), after.server.map(|t| t.user));
    let system = per_request(
        before.server.map(|t| t.system),
        after.server.map(|t| t.system),
    );
    let noise = noise::between(before, after);
    let by_kind = w
        .by_kind
        .iter()
        .map(|(kind, share)| {
            (
                kind.name().to_owned(),
                KindRun {
                    requests_per_sec: share.responses as f64 / length.as_secs_f64().max(1e-9),
                    latency_us: percentiles(&share.latency),
                },
            )
        })
        .collect();
    Run {
        requests_per_sec: w.requests_per_sec(length),
        responses: w.responses,
        latency_us: percentiles(&w.latency),
        errors: w.errors,
        first_error: w.first_error.clone(),
        server_cpu_us_per_request: user.zip(system).map(|(u, s)| u + s),
        server_cpu_user_us_per_request: user,
        server_cpu_system_us_per_request: system,
        server_peak_rss_kib: peak,
        client_busy_share: Some(noise.generator),
        noise: Some(noise),
        by_kind,
        histogram: histograms::encode(&w.latency),
    }
}

fn percentiles(h: &hdrhistogram::Histogram<u64>) -> Percentiles {
    Percentiles {
        p50: h.value_at_quantile(0.50),
        p90: h.value_at_quantile(0.90),
        p99: h.value_at_quantile(0.99),
        p999: h.value_at_quantile(0.999),
        max: h.max(),
    }
}

fn empty_run() -> Run {
    Run {
        requests_per_sec: 0.0,
        responses: 0,
        latency_us: Percentiles {
            p50: 0,
            p90: 0,
            p99: 0,
            p999: 0,
            max: 0,
        },
        errors: Errors::default(),
        first_error: None,
        server_cpu_us_per_request: None,
        server_cpu_user_us_per_request: None,
        server_cpu_system_us_per_request: None,
        server_peak_rss_kib: None,
        client_busy_share: None,
        noise: None,
        by_kind: BTreeMap::new(),
        histogram: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_rotate_so_every_server_takes_every_place() {
        assert_eq!(rotation(4, 0), [0, 1, 2, 3]);
        assert_eq!(rotation(4, 1), [1, 2, 3, 0]);
        assert_eq!(rotation(4, 3), [3, 0, 1, 2]);
        // Over as many rounds as servers, each server is first once and last once.
        for server in 0..4 {
            let first = (0..4).filter(|&r| rotation(4, r)[0] == server).count();
            let last = (0..4).filter(|&r| rotation(4, r)[3] == server).count();
            assert_eq!((first, last), (1, 1));
        }
        assert!(rotation(0, 2).is_empty());
    }
}
