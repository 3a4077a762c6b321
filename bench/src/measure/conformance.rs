//! The conformance suite (`core/conformance`) against every server of a run, for the report's
//! conformance column (BENCH.md 4.4): all servers at once, each on its own thread, since most
//! of the suite's time is waiting (its slowest check holds a connection open for 10 s). A
//! workspace backend is held to its declared deviations, as its own tests hold it; any other
//! server to the contract as written.

use std::cell::RefCell;
use std::time::Duration;

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
                    ..results_so_far()
                })
            })
            .collect()
    })
}

/// How long the suite may take against one server: a server that answers nothing in time
/// makes each check wait out its timeouts, and a run must end. The backends take 17 s. Each
/// result records it (`Conformance::deadline_secs`), for the report's words.
pub const DEADLINE: Duration = Duration::from_secs(180);

/// No check run yet, under [`DEADLINE`] (which the report records).
fn results_so_far() -> Conformance {
    Conformance {
        deadline_secs: DEADLINE.as_secs(),
        ..Conformance::default()
    }
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
                ..results_so_far()
            };
        }
    };
    // Results as they come, so that what ran before the deadline is kept.
    let results = RefCell::new(results_so_far());
    let done = RefCell::new(Vec::new());
    let suite = site_conformance::run_where(target, keep, |check: &Check, outcome: &Outcome| {
        let mut results = results.borrow_mut();
        match outcome {
            Outcome::Pass => results.passed += 1,
            Outcome::Fail(why) => results.failed.push((check.name.to_owned(), why.clone())),
            Outcome::Skip(_) => results.skipped += 1,
        }
        done.borrow_mut().push(check.name);
    });
    // The timer must be made inside the runtime.
    let finished = runtime
        .block_on(async { tokio::time::timeout(DEADLINE, suite).await })
        .is_ok();
    let mut results = results.into_inner();
    let done = done.into_inner();
    results.not_run = site_conformance::CHECKS
        .iter()
        .filter(|c| !keep(c) || (!finished && !done.contains(&c.name)))
        .map(|c| c.name.to_owned())
        .collect();
    results
}
