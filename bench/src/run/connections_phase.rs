//! The connection phases of `bench run` (BENCH.md v3, section 2), after the timed
//! scenarios. Idle connections: a few probe connections to every server at once, watched
//! for the server's close while, one server at a time and the others resting, each gets its
//! thousands of idle connections (`measure::idle`), then `plaintext` on 4 busy connections
//! beside them. Then out of descriptors: each server started once more, alone, with 256
//! descriptors, and flooded beyond them (`measure::exhaustion`).

use std::sync::Arc;

use indicatif::ProgressBar;

use crate::measure::loadgen::LoadSpec;
use crate::measure::prepare::STORM_PLAIN;
use crate::measure::workload::{Prepared, Workload};
use crate::measure::{exhaustion, idle};
use crate::report::scenario::Scenario;
use crate::run::options::Options;
use crate::run::setup::{Server, ready_for};

/// Probe connections watched per server for its close.
const PROBES: usize = 4;

/// The idle connections of the run, the probes' verdicts, and a note when the descriptor limit
/// cut the counts short.
pub(super) fn idle_connections(
    options: &Options,
    servers: &mut [Server],
    progress: &ProgressBar,
) -> Option<String> {
    let watched: Vec<usize> = (0..servers.len())
        .filter(|&i| servers[i].report.failure.is_none() && plaintext(&servers[i]).is_some())
        .collect();
    let targets = watched
        .iter()
        .filter_map(|&i| Some((servers[i].addr, plaintext(&servers[i])?.1)))
        .collect();
    let probes = idle::watch(targets, PROBES, options.keep_alive_watch());
    let counts = options.idle_counts();
    for &i in &watched {
        let server = &mut servers[i];
        let (Some(pid), Some((workload, request))) = (server.pid(), plaintext(server)) else {
            continue;
        };
        progress.set_message(format!(
            "{}: {} idle connections",
            server.report.name,
            counts.last().copied().unwrap_or(0)
        ));
        let busy = LoadSpec {
            addr: server.addr,
            connections: STORM_PLAIN,
            warmup: options.warmup,
            windows: 1,
            window: options.duration,
            rate: None,
            client_cpus: options.client_cpus.clone(),
        };
        server.report.idle = Some(idle::measure(
            pid,
            server.addr,
            &request,
            &counts,
            &busy,
            &workload,
        ));
        progress.inc(u64::try_from(options.idle_per_server().as_millis()).unwrap_or(0));
    }
    progress.set_message("waiting for the keep-alive probes");
    for (&i, watch) in watched.iter().zip(probes.finish()) {
        match watch {
            Ok(keep_alive) => servers[i].report.keep_alive = Some(keep_alive),
            Err(e) => {
                let idle = servers[i].report.idle.get_or_insert_with(Default::default);
                idle.error.get_or_insert(format!("keep-alive probe: {e}"));
            }
        }
    }
    let wanted = options.idle_wanted();
    (counts.last().copied().unwrap_or(0) < wanted).then(|| {
        format!(
            "idle connections: the descriptor limit allows {} of the {wanted} asked for \
             (raise the hard limit, `ulimit -Hn`, to measure them all)",
            counts.last().copied().unwrap_or(0)
        )
    })
}

/// `plaintext`'s workload on `server`, and its first request, when it verified.
fn plaintext(server: &Server) -> Option<(Arc<Workload>, Prepared)> {
    let workload = server
        .workloads
        .get(&Scenario::Plaintext)?
        .as_ref()
        .ok()?
        .clone();
    let request = workload.next(0, &mut 0).prepared().clone();
    Some((workload, request))
}

/// Each server that answers `plaintext`, started again with 256 descriptors, alone (the
/// others rest), flooded beyond them and watched.
pub(super) fn out_of_descriptors(
    options: &Options,
    servers: &mut [Server],
    progress: &ProgressBar,
) {
    for server in servers.iter_mut() {
        let Some(program) = server.program.clone() else {
            continue;
        };
        if server.report.failure.is_some() || plaintext(server).is_none() {
            continue;
        }
        progress.set_message(format!(
            "{}: started with {} descriptors, flooded beyond them",
            server.report.name,
            exhaustion::LIMIT
        ));
        server.report.exhaustion = Some(exhaustion::measure(
            &server.report.name,
            &program,
            &options.server_cpus,
            ready_for(&program),
            options.at_limit(),
        ));
        progress.inc(u64::try_from(options.exhaustion_per_server().as_millis()).unwrap_or(0));
    }
}
