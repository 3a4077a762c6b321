//! The conformance suite (`core/conformance`) against every server of a run, for the report's
//! conformance column (BENCH.md 4.4): all servers at once, each on its own thread, since most
//! of the suite's time is waiting (its slowest check holds a connection open for 10 s). A
//! workspace backend is held to its declared deviations, as its own tests hold it; any other
//! server to the contract as written.

use site_conformance::{Check, Outcome, Target};

use crate::report::Conformance;

/// The check that spends 10 s waiting for a server to time out a slow request header: a
/// `--quick` run leaves it out to keep within its two minutes, and says so.
pub const WAITS_ONLY: &str = "slow_request_header_closed";

/// The suite against each target, all at once, in the order given.
pub fn run_all(targets: Vec<Target>, quick: bool) -> Vec<Conformance> {
    std::thread::scope(|scope| {
        let running: Vec<_> = targets
            .iter()
            .map(|target| scope.spawn(move || one(target, quick)))
            .collect();
        running
            .into_iter()
            .map(|thread| {
                thread.join().unwrap_or_else(|_| Conformance {
                    failed: vec![("(the suite)".into(), "the suite's thread panicked".into())],
                    ..Conformance::default()
                })
            })
            .collect()
    })
}

fn one(target: &Target, quick: bool) -> Conformance {
    let keep = |check: &Check| !(quick && check.name == WAITS_ONLY);
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            return Conformance {
                failed: vec![("(the suite)".into(), format!("tokio: {e}"))],
                ..Conformance::default()
            };
        }
    };
    let summary = runtime.block_on(site_conformance::run_where(
        target,
        keep,
        |_: &Check, _: &Outcome| {},
    ));
    Conformance {
        passed: summary.passed,
        failed: summary
            .failed
            .into_iter()
            .map(|(check, why)| (check.to_owned(), why))
            .collect(),
        skipped: summary.skipped.len(),
        not_run: site_conformance::CHECKS
            .iter()
            .filter(|c| !keep(c))
            .map(|c| c.name.to_owned())
            .collect(),
    }
}
