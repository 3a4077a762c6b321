//! Bringing a run's servers up before anything is timed: each started (pinned, on port 0 and
//! a fresh database) once its start-up was timed (`startup`), or, with `--url`, the one
//! someone else started (loopback only); every scenario's requests prepared and verified
//! against it; then the conformance suite against all of them at once, and every server
//! started again on its database (`restart`), so that the cheap scenarios are timed in a
//! process that never hashed a password. A server that fails is kept in the report with
//! why, and not timed.

use std::collections::BTreeMap;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use crate::measure::backend_process::{BackendProcess, Program, READY};
use crate::measure::workload::Workload;
use crate::measure::{prepare, procfs};
use crate::report::scenario::Scenario;
use crate::report::{BackendReport, Role, ScenarioReport};
use crate::run::options::{Options, ServerCommand, scenarios_of};
use crate::run::startup;
use crate::workspace::backends::{self, BASELINE, FLOOR};
use crate::workspace::{adapter_lines, binaries, build_cost, dependencies};

/// How long a `--server` command may take to answer (an interpreter may load a lot first).
const COMMAND_READY: Duration = Duration::from_secs(30);

/// A server of this run: its process (none for `--url`), where it listens, what it verified.
pub(super) struct Server {
    pub(super) process: Option<BackendProcess>,
    /// What was started (none for `--url`), to start it again under valgrind.
    pub(super) program: Option<Program>,
    pub(super) addr: SocketAddr,
    pub(super) workloads: BTreeMap<Scenario, Result<Arc<Workload>, String>>,
    pub(super) report: BackendReport,
    /// Its processes before `restart`, stopped: the first holds the database.
    pub(super) earlier: Vec<BackendProcess>,
}

impl Server {
    /// A server whose process did not start: kept in the report with why, never timed.
    fn not_started(mut report: BackendReport, why: String) -> Self {
        report.failure = Some(why);
        Self {
            process: None,
            program: None,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            workloads: BTreeMap::new(),
            report,
            earlier: Vec::new(),
        }
    }

    pub(super) fn pid(&self) -> Option<u32> {
        self.process.as_ref().map(|p| p.pid)
    }

    pub(super) fn scenario(&mut self, scenario: Scenario) -> &mut ScenarioReport {
        let name = scenario.name();
        let index = match self.report.scenarios.iter().position(|s| s.name == name) {
            Some(index) => index,
            None => {
                self.report
                    .scenarios
                    .push(ScenarioReport::from_runs(name, Vec::new()));
                self.report.scenarios.len() - 1
            }
        };
        &mut self.report.scenarios[index]
    }
}

/// Accepts only loopback addresses: load is never sent anywhere else.
pub(super) fn loopback_addr(url: &str) -> Result<SocketAddr, String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("--url {url}: only http:// URLs are supported"))?;
    let authority = rest.split('/').next().unwrap_or(rest);
    let authority = if authority.contains(':') {
        authority.to_owned()
    } else {
        format!("{authority}:80")
    };
    let addr = authority
        .to_socket_addrs()
        .map_err(|e| format!("--url {url}: {e}"))?
        .next()
        .ok_or_else(|| format!("--url {url}: no address"))?;
    if !addr.ip().is_loopback() {
        return Err(format!(
            "--url {url}: the benchmark only loads loopback addresses (127.0.0.0/8, ::1)"
        ));
    }
    Ok(addr)
}

fn empty_report(name: &str, role: Role) -> BackendReport {
    BackendReport {
        name: name.to_owned(),
        role,
        startup_ms: None,
        startups_ms: Vec::new(),
        startup_rss_kib: None,
        failure: None,
        adapter_lines: adapter_lines::adapter_lines(name),
        binary_bytes: binaries::binary_bytes(name),
        dependency_count: dependencies::dependency_count(name),
        clean_exit: None,
        clean_build: build_cost::of(name),
        command: None,
        conformance: None,
        deviations: backends::find(name)
            .map(|b| b.deviations.iter().map(|d| format!("{d:?}")).collect())
            .unwrap_or_default(),
        scenarios: Vec::new(),
        idle: None,
        keep_alive: None,
        exhaustion: None,
    }
}

/// A server not of the workspace: no adapter, binary or build of ours to count.
fn external_report(name: &str) -> BackendReport {
    BackendReport {
        name: name.to_owned(),
        role: Role::External,
        startup_ms: None,
        startups_ms: Vec::new(),
        startup_rss_kib: None,
        failure: None,
        adapter_lines: None,
        binary_bytes: None,
        dependency_count: None,
        clean_exit: None,
        clean_build: None,
        command: None,
        conformance: None,
        deviations: Vec::new(),
        scenarios: Vec::new(),
        idle: None,
        keep_alive: None,
        exhaustion: None,
    }
}

fn role_of(name: &str) -> Role {
    if name == BASELINE {
        Role::Baseline
    } else if name == FLOOR.name {
        Role::Reference
    } else {
        Role::Framework
    }
}

/// Starts a server of the workspace and verifies it; one that fails is kept, not timed.
pub(super) fn start(options: &Options, name: &str, tag: &str) -> Server {
    let mut report = empty_report(name, role_of(name));
    let start = || BackendProcess::start(name, &options.server_cpus);
    if let Err(why) = startup::time(&mut report, start) {
        return Server::not_started(report, why);
    }
    let process = match start() {
        Ok(process) => process,
        Err(why) => return Server::not_started(report, why),
    };
    let workloads = prepare(process.addr, &scenarios_of(name, &options.scenarios), tag);
    // floor is not the site: a scenario it cannot answer is skipped, not a failure.
    let failures: Vec<String> = workloads
        .iter()
        .filter_map(|(s, w)| w.as_ref().err().map(|e| format!("{}: {e}", s.name())))
        .collect();
    if !failures.is_empty() && name != FLOOR.name {
        report.failure = Some(failures.join("; "));
    }
    Server {
        addr: process.addr,
        process: Some(process),
        program: Some(Program::Backend(binaries::binary(name))),
        workloads,
        report,
        earlier: Vec::new(),
    }
}

/// A `--server` command, started, pinned and verified like a backend; a scenario that fails
/// verification is reported failed and the others run (a student's server need not answer
/// every route).
pub(super) fn start_command(options: &Options, command: &ServerCommand, tag: &str) -> Server {
    let mut report = external_report(&command.name);
    report.command = Some(command.line.clone());
    let start = || {
        BackendProcess::launch(
            &command.name,
            &command.program,
            &[],
            &options.server_cpus,
            COMMAND_READY,
            None,
        )
    };
    if let Err(why) = startup::time(&mut report, start) {
        return Server::not_started(report, why);
    }
    let process = match start() {
        Ok(process) => process,
        Err(why) => return Server::not_started(report, why),
    };
    let mut server = Server {
        addr: process.addr,
        workloads: prepare(process.addr, &options.scenarios, tag),
        process: Some(process),
        program: Some(command.program.clone()),
        report,
        earlier: Vec::new(),
    };
    // Said now, not when timed: `bench cost` times nothing.
    let failed: Vec<(Scenario, String)> = server
        .workloads
        .iter()
        .filter_map(|(s, w)| Some((*s, w.as_ref().err()?.clone())))
        .collect();
    for (scenario, why) in failed {
        server.scenario(scenario).failed = Some(why);
    }
    server
}

/// A `--url` server: a scenario it fails is reported failed, the others run.
pub(super) fn external(options: &Options, addr: SocketAddr, tag: &str) -> Server {
    let name = options.url.clone().unwrap_or_default();
    Server {
        process: None,
        program: None,
        addr,
        workloads: prepare(addr, &options.scenarios, tag),
        report: external_report(&name),
        earlier: Vec::new(),
    }
}

/// The conformance suite against every server that started (not `floor`), all at once.
pub(super) fn conformance(options: &Options, servers: &mut [Server]) {
    let picked: Vec<usize> = (0..servers.len())
        .filter(|&i| {
            let report = &servers[i].report;
            report.failure.is_none() && options.tests_conformance(&report.name)
        })
        .collect();
    let targets = picked
        .iter()
        .map(|&i| {
            let server = &servers[i];
            let mut target = site_conformance::Target::new(format!("http://{}", server.addr));
            if let Some(backend) = backends::find(&server.report.name)
                && server.report.role != Role::External
            {
                target.backend = Some(backend.name.to_owned());
                target.deviations = backend.deviations.to_vec();
            }
            target
        })
        .collect();
    let results = crate::measure::conformance::run_all(targets, options.quick);
    for (i, result) in picked.into_iter().zip(results) {
        servers[i].report.conformance = Some(result);
    }
}

/// After the conformance suite: every server stopped and started again on its database (its
/// users and sessions kept), so that the cheap scenarios, timed first, run in a process that
/// has never hashed a password. Once a process has hashed, argon2's memory (19 MiB a hashing
/// thread) stays in it, and the memory under `plaintext` would be the hashing's, the same in
/// every backend. A server that does not come back is kept in the report with why.
pub(super) fn restart(options: &Options, servers: &mut [Server]) {
    for server in servers.iter_mut().filter(|s| s.report.failure.is_none()) {
        let (Some(mut old), Some(program)) = (server.process.take(), server.program.clone()) else {
            continue;
        };
        if !old.stop() {
            server.report.clean_exit = Some(false);
        }
        let ready = ready_for(&program);
        let name = server.report.name.clone();
        let database = Some(old.database());
        match BackendProcess::launch(&name, &program, &[], &options.server_cpus, ready, database) {
            Ok(process) => {
                server.addr = process.addr;
                server.process = Some(process);
            }
            Err(why) => {
                server.report.failure = Some(format!("not started again after the suite: {why}"))
            }
        }
        server.earlier.push(old);
    }
}

/// How long `program` may take to answer once started.
pub(super) fn ready_for(program: &Program) -> Duration {
    match program {
        Program::Backend(_) => READY,
        Program::Command(_) => COMMAND_READY,
    }
}

/// After the conformance suite: no server may still be hashing passwords when timing starts.
pub(super) fn wait_all_idle(servers: &[Server]) {
    for pid in servers.iter().filter_map(Server::pid) {
        procfs::wait_until_idle(pid);
    }
}

fn prepare(
    addr: SocketAddr,
    scenarios: &[Scenario],
    tag: &str,
) -> BTreeMap<Scenario, Result<Arc<Workload>, String>> {
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(prepare::prepare(addr, scenarios, tag)),
        Err(e) => scenarios
            .iter()
            .map(|s| (*s, Err(format!("tokio: {e}"))))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_urls_are_loaded() {
        assert_eq!(
            loopback_addr("http://127.0.0.1:8080"),
            Ok(SocketAddr::from(([127, 0, 0, 1], 8080)))
        );
        assert!(loopback_addr("http://[::1]:9000/").is_ok_and(|a| a.ip().is_loopback()));
        assert!(loopback_addr("http://10.0.0.1:80").is_err());
        assert!(loopback_addr("https://127.0.0.1").is_err());
    }
}
