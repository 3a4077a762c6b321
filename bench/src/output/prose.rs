//! The report's words around its tables, as text every format sets its own way: the line
//! saying where and how it was measured, what failed or could not be measured, each server's
//! failed checks, and the versions.

use crate::output::escape;
use crate::report::{BackendReport, Report};

/// Where and how the run measured: machine, cores, connections, windows, revision, time.
pub fn context(report: &Report) -> String {
    let f = &report.options;
    format!(
        "Machine: {} ({} cores, {} MiB, Linux {}). Server on CPUs {:?}, load generator on CPUs {:?}; \
         {} connections, {} s warm-up before each of {} × {} s windows per scenario{}, interleaved over the servers{}. \
         Median of the repeats, (min–max) for req/s; × hyper: the ratio to the no-framework baseline. \
         Git revision {}. {}.",
        report.machine.cpu_model,
        report.machine.cores,
        report.machine.memory_mib,
        report.machine.kernel,
        f.server_cpus,
        f.client_cpus,
        f.connections,
        f.warmup_secs,
        f.repeat,
        f.duration_secs,
        f.hashing_repeat.map_or(String::new(), |r| format!(
            " ({r} for the password-hashing ones)"
        )),
        f.rate.map_or(String::from(", closed loop"), |r| format!(
            ", open loop at {r} req/s"
        )),
        report.git_revision.as_deref().unwrap_or("unknown"),
        report.created_utc,
    )
}

/// Servers that failed, and figures a tool could not measure (valgrind cannot run every
/// `--server` command), each reason once.
pub fn failures(report: &Report) -> Vec<String> {
    let mut out = Vec::new();
    for backend in &report.backends {
        if let Some(why) = &backend.failure {
            out.push(format!("{}: FAILED, not timed: {why}", backend.name));
        }
        let mut reasons: Vec<&str> = backend
            .scenarios
            .iter()
            .filter_map(|s| s.cost.as_ref()?.error.as_deref())
            .collect();
        reasons.sort_unstable();
        reasons.dedup();
        for why in reasons {
            out.push(format!(
                "{}: cost per request not measured: {why}",
                backend.name
            ));
        }
    }
    out
}

/// A server's failed checks: a to-do list for a server in progress.
pub struct FailedChecks {
    /// "py fails 3 of the conformance suite's checks"
    pub heading: String,
    /// Each check and why, the why made one safe line.
    pub checks: Vec<(String, String)>,
}

/// Every failed check of every server, with why.
pub fn failed_checks(backends: &[BackendReport]) -> Vec<FailedChecks> {
    backends
        .iter()
        .filter_map(|b| {
            let c = b.conformance.as_ref().filter(|c| !c.failed.is_empty())?;
            Some(FailedChecks {
                heading: format!(
                    "{} fails {} of the conformance suite's checks",
                    b.name,
                    c.failed.len()
                ),
                checks: c
                    .failed
                    .iter()
                    .map(|(check, why)| (check.clone(), escape::markdown_cell(why)))
                    .collect(),
            })
        })
        .collect()
}

/// "Versions: axum 0.8.9, hyper 1.8.1." when the report has any.
pub fn versions(report: &Report) -> Option<String> {
    if report.versions.is_empty() {
        return None;
    }
    let versions: Vec<String> = report
        .versions
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    Some(format!("Versions: {}.", versions.join(", ")))
}
