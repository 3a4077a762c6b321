//! `bench run` (BENCH.md 1 and 4): every server up at once, each pinned to the server cores
//! on port 0 with a fresh database, its start-up timed and its endpoints verified; then
//! scenario by scenario, the repeats go round the servers in rotating order (A B C, then
//! B C A, ...) so that drift on a shared machine falls on all alike, and each window is
//! checked for noise and measured again when noisy; then, for the cheap scenarios, one
//! open-loop window per server at a rate all of them sustain; then the cost per request
//! (perf on the running servers, callgrind on each alone). Servers stop with SIGTERM, their
//! exit status checked. The report is rewritten after every scenario, so a crash keeps what
//! was done. Servers of any language take part: `--server NAME=COMMAND` ones are started,
//! pinned, verified and measured like the backends (a scenario whose endpoints fail
//! verification is reported failed and the others still run); with `--url`, one server
//! someone else started (loopback only). Before timing, the conformance suite runs against
//! every server at once, for the report's conformance column.

use std::collections::BTreeMap;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use crate::backend_process::{BackendProcess, Program};
use crate::backends::{self, BASELINE, FLOOR};
use crate::cost::{self, ScenarioCost};
use crate::info;
use crate::loadgen::{self, LoadSpec, Window};
use crate::noise::{self, Noise, Sample};
use crate::procfs;
use crate::report::{
    BackendReport, FixedRate, KindRun, Percentiles, Report, Role, Run, RunOptions, SCHEMA,
    ScenarioReport,
};
use crate::scenarios::{Scenario, Workload};
use crate::workloads::{self, STORM_LOGINS, STORM_PLAIN};

/// Time allowed per server for starting, verifying and stopping it, for the estimate.
const PER_SERVER_OVERHEAD: Duration = Duration::from_secs(2);
/// Time a window of a password-hashing scenario waits after it for the server to finish the
/// hashes already asked for, for the estimate.
const DRAIN: Duration = Duration::from_millis(600);
/// Time callgrind takes per server and scenario, and per server (start under valgrind), on one
/// lane, for the estimate: rocket takes 20 s for seven scenarios, hyper 10 s.
const COST_PER_SCENARIO: Duration = Duration::from_millis(1_500);
const COST_PER_SERVER: Duration = Duration::from_secs(3);
/// Time `perf stat` takes per server and scenario: attaching, 1,000 requests, stopping.
const PERF_PER_SCENARIO: Duration = Duration::from_millis(250);
/// Time the conformance suite takes with every server at once, for the estimate: 35 s for
/// the five backends (hashing passwords on the one server core); `--quick` runs it only
/// against servers not of the workspace, and leaves out the check that waits 10 s.
const CONFORMANCE: Duration = Duration::from_secs(35);
const CONFORMANCE_QUICK: Duration = Duration::from_secs(15);
/// How long a `--server` command may take to answer (an interpreter may load a lot first).
const COMMAND_READY: Duration = Duration::from_secs(30);
/// The scenarios `floor` answers.
const FLOOR_SCENARIOS: [Scenario; 3] = [Scenario::Plaintext, Scenario::Json, Scenario::Static];

/// `--server NAME=COMMAND`: a server in any language that bench starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerCommand {
    pub name: String,
    /// The command as given, for the report.
    pub line: String,
    pub program: Program,
}

impl ServerCommand {
    /// Parses `NAME=COMMAND`; NAME must not be a backend's (or `floor`).
    pub fn parse(arg: &str) -> Result<Self, String> {
        let (name, line) = arg
            .split_once('=')
            .ok_or_else(|| format!("--server {arg:?}: expected NAME=COMMAND"))?;
        let name = name.trim();
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
        {
            return Err(format!(
                "--server {arg:?}: NAME must be letters, digits, '-', '_' or '.'"
            ));
        }
        if backends::find(name).is_some() {
            return Err(format!(
                "--server {name}: that name is a server of the workspace; choose another"
            ));
        }
        let program = Program::command(line).map_err(|e| format!("--server {name}: {e}"))?;
        Ok(Self {
            name: name.to_owned(),
            line: line.trim().to_owned(),
            program,
        })
    }
}

#[derive(Debug, Clone)]
pub struct Options {
    /// Backends of the workspace (and `floor`) to start.
    pub servers: Vec<String>,
    /// Servers in any language to start (`--server`).
    pub commands: Vec<ServerCommand>,
    pub scenarios: Vec<Scenario>,
    pub duration: Duration,
    pub warmup: Duration,
    pub connections: usize,
    pub repeat: usize,
    pub rate: Option<f64>,
    pub server_cpus: Vec<usize>,
    pub client_cpus: Vec<usize>,
    pub out: PathBuf,
    pub url: Option<String>,
    pub quick: bool,
    /// Time the scenarios (false for `bench cost`).
    pub timing: bool,
    /// Measure the cost per request (BENCH.md 4.2).
    pub cost: bool,
    /// Callgrind repeats per scenario.
    pub cost_repeat: usize,
}

impl Options {
    /// The timed windows of the scenarios `which` picks.
    fn windows(&self, which: impl Fn(Scenario) -> bool) -> usize {
        let per_scenario = |s: &Scenario| {
            let servers = if self.url.is_some() {
                1
            } else {
                self.servers
                    .iter()
                    .filter(|name| scenarios_of(name, std::slice::from_ref(s)).len() == 1)
                    .count()
                    + self.commands.len()
            };
            let fixed = usize::from(self.fixed_rate(*s));
            // storm times a quiet window before each stormy one
            let storm = if *s == Scenario::Storm { 2 } else { 1 };
            servers * (self.repeat * storm + fixed)
        };
        if self.timing {
            self.scenarios
                .iter()
                .filter(|s| which(**s))
                .map(per_scenario)
                .sum()
        } else {
            0
        }
    }

    /// How many servers run under callgrind at once: one per server core, and at least two
    /// where there are two cores (callgrind runs a server's threads one at a time).
    fn cost_lanes(&self) -> usize {
        self.server_cpus
            .len()
            .max(1)
            .max(2.min(procfs::machine().cores))
    }

    /// Whether `scenario` gets a fixed-rate window: not under `--rate` (every window is one)
    /// and not in a `--quick` run, which keeps to its two minutes.
    fn fixed_rate(&self, scenario: Scenario) -> bool {
        self.rate.is_none() && !self.quick && Scenario::FIXED_RATE.contains(&scenario)
    }

    /// How long the run should take, said before it starts.
    pub fn estimate(&self) -> Duration {
        let window = self.warmup + self.duration + Duration::from_millis(150);
        let servers = self.server_count();
        let hashing = self.windows(|s| !cost::measurable(s));
        let mut total = window * u32::try_from(self.windows(|_| true)).unwrap_or(u32::MAX)
            + DRAIN * u32::try_from(hashing).unwrap_or(u32::MAX)
            + PER_SERVER_OVERHEAD * u32::try_from(servers).unwrap_or(1);
        if self.conformance() {
            total += if self.quick {
                CONFORMANCE_QUICK
            } else {
                CONFORMANCE
            };
        }
        if self.cost && self.url.is_none() {
            let measured = self
                .scenarios
                .iter()
                .filter(|s| cost::measurable(**s))
                .count();
            let callgrind = COST_PER_SERVER
                + COST_PER_SCENARIO
                    * u32::try_from(measured * self.cost_repeat.max(1)).unwrap_or(1);
            let lanes = self.cost_lanes().min(servers).max(1);
            total += callgrind * u32::try_from(servers).unwrap_or(1)
                / u32::try_from(lanes).unwrap_or(1)
                + PERF_PER_SCENARIO * u32::try_from(measured * servers).unwrap_or(1);
        }
        total
    }

    /// How many servers the run starts (or the one `--url` names).
    fn server_count(&self) -> usize {
        if self.url.is_some() {
            1
        } else {
            self.servers.len() + self.commands.len()
        }
    }

    /// Whether the conformance suite runs against `server` (a name of `--backends`, a
    /// `--server` or the `--url`): in `bench run`, never against `floor` (not the site), and in
    /// `--quick` only against servers that are not of the workspace: with the five backends
    /// at once it takes 25 s of the two minutes, and their `cargo test` runs all of it.
    fn tests_conformance(&self, server: &str) -> bool {
        let ours = backends::find(server).is_some() && self.url.is_none();
        self.timing && server != FLOOR.name && !(self.quick && ours)
    }

    /// Whether the suite runs against any server of the run.
    fn conformance(&self) -> bool {
        match &self.url {
            Some(url) => self.tests_conformance(url),
            None => self
                .servers
                .iter()
                .chain(self.commands.iter().map(|c| &c.name))
                .any(|s| self.tests_conformance(s)),
        }
    }

    fn recorded(&self) -> RunOptions {
        RunOptions {
            backends: self.servers.clone(),
            servers: self
                .commands
                .iter()
                .map(|c| format!("{}={}", c.name, c.line))
                .collect(),
            scenarios: self.scenarios.iter().map(|s| s.name().to_owned()).collect(),
            duration_secs: self.duration.as_secs_f64(),
            warmup_secs: self.warmup.as_secs_f64(),
            connections: self.connections,
            repeat: self.repeat,
            rate: self.rate,
            server_cpus: self.server_cpus.clone(),
            client_cpus: self.client_cpus.clone(),
            url: self.url.clone(),
            quick: self.quick,
        }
    }
}

/// The default split of cores: the server gets the first half, the load generator the rest.
pub fn default_cpus() -> (Vec<usize>, Vec<usize>) {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    if cores < 2 {
        return (vec![0], vec![0]);
    }
    let server = cores / 2;
    ((0..server).collect(), (server..cores).collect())
}

/// The scenarios of `wanted` that the server `name` takes part in.
fn scenarios_of(name: &str, wanted: &[Scenario]) -> Vec<Scenario> {
    wanted
        .iter()
        .copied()
        .filter(|s| name != FLOOR.name || FLOOR_SCENARIOS.contains(s))
        .collect()
}

/// The order the servers are measured in, repeat `round`: each round starts one further on.
pub fn rotation(servers: usize, round: usize) -> Vec<usize> {
    (0..servers).map(|k| (k + round) % servers.max(1)).collect()
}

/// A server of this run: its process (none for `--url`), where it listens, what it verified.
struct Server {
    process: Option<BackendProcess>,
    /// What was started (none for `--url`), to start it again under valgrind.
    program: Option<Program>,
    addr: SocketAddr,
    workloads: BTreeMap<Scenario, Result<Arc<Workload>, String>>,
    report: BackendReport,
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
        }
    }

    fn pid(&self) -> Option<u32> {
        self.process.as_ref().map(|p| p.pid)
    }

    fn scenario(&mut self, scenario: Scenario) -> &mut ScenarioReport {
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

pub fn run(options: &Options) -> Result<Report, String> {
    let mut report = Report {
        schema: SCHEMA.into(),
        created_utc: now_rfc3339(),
        git_revision: info::git_revision(),
        machine: procfs::machine(),
        options: options.recorded(),
        versions: info::versions(),
        backends: Vec::new(),
        notes: Vec::new(),
    };
    let (valgrind_missing, perf_missing) = cost::missing_tools();
    if options.cost {
        report.notes.extend(valgrind_missing.clone());
        report.notes.extend(perf_missing.clone());
    } else {
        report
            .notes
            .push("cost per request skipped (--no-cost)".to_owned());
    }
    if options.quick && options.timing && options.rate.is_none() {
        report
            .notes
            .push("fixed-rate profile skipped (--quick)".to_owned());
    }
    let url_addr = options.url.as_deref().map(loopback_addr).transpose()?;
    if url_addr.is_none() && !options.servers.is_empty() {
        eprintln!("Building the servers (release; the first build takes several minutes)...");
        info::build_backends()?;
    }
    let estimate = options.estimate();
    let who = options.url.as_deref().map_or_else(
        || {
            let names: Vec<&str> = options
                .servers
                .iter()
                .map(String::as_str)
                .chain(options.commands.iter().map(|c| c.name.as_str()))
                .collect();
            names.join(", ")
        },
        |u| u.to_owned(),
    );
    let what = match (options.timing, options.cost) {
        (true, cost) => format!(
            "Benchmarking {who} on {} scenarios, {} x {} s each after {} s warm-up, repeats interleaved{}",
            options.scenarios.len(),
            options.repeat,
            options.duration.as_secs_f64(),
            options.warmup.as_secs_f64(),
            if cost {
                ", then the cost per request"
            } else {
                ""
            },
        ),
        (false, _) => format!(
            "Measuring the cost per request of {who} on {} scenarios",
            options.scenarios.len()
        ),
    };
    eprintln!(
        "{what}: about {} min {} s.",
        estimate.as_secs() / 60,
        estimate.as_secs() % 60
    );
    let progress = ProgressBar::new(u64::try_from(estimate.as_millis()).unwrap_or(u64::MAX));
    progress.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {percent:>3}% ETA {eta} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let started = Instant::now();
    let tag = run_tag();
    let mut servers = match url_addr {
        Some(addr) => vec![external(options, addr, &tag)],
        None => {
            let mut servers: Vec<Server> = options
                .servers
                .iter()
                .map(|name| {
                    progress.set_message(format!("{name}: starting and verifying"));
                    start(options, name, &tag)
                })
                .collect();
            for command in &options.commands {
                progress.set_message(format!("{}: starting and verifying", command.name));
                servers.push(start_command(options, command, &tag));
            }
            servers
        }
    };
    let mut phases = vec![("start-up", started.elapsed())];
    if options.conformance() {
        progress.set_message("the conformance suite, against every server at once");
        conformance(options, &mut servers);
        wait_all_idle(&servers);
        progress.inc(
            u64::try_from(
                if options.quick {
                    CONFORMANCE_QUICK
                } else {
                    CONFORMANCE
                }
                .as_millis(),
            )
            .unwrap_or(0),
        );
        phases.push(("conformance", started.elapsed()));
    }
    let write = |servers: &[Server], report: &mut Report| {
        report.backends = servers.iter().map(|s| s.report.clone()).collect();
        report.write_all(&options.out)
    };
    write(&servers, &mut report)?;
    if options.timing {
        for &scenario in &options.scenarios {
            time_scenario(options, scenario, &mut servers, &progress);
            write(&servers, &mut report)?;
        }
        phases.push(("timing", started.elapsed()));
    }
    if options.cost && perf_missing.is_none() {
        for server in servers.iter_mut() {
            progress.set_message(format!("{}: system calls per request", server.report.name));
            kernel_share(server);
        }
        write(&servers, &mut report)?;
        phases.push(("system calls", started.elapsed()));
    }
    for server in &mut servers {
        if let Some(process) = &mut server.process {
            server.report.clean_exit = Some(process.stop());
        }
    }
    if options.cost && valgrind_missing.is_none() && url_addr.is_none() {
        instructions(options, &mut servers, &progress);
        phases.push(("instructions", started.elapsed()));
    }
    write(&servers, &mut report)?;
    progress.finish_and_clear();
    let took = started.elapsed().as_secs();
    let mut since = Duration::ZERO;
    let split: Vec<String> = phases
        .into_iter()
        .map(|(phase, at)| {
            let part = format!("{phase} {:.0} s", (at - since).as_secs_f64());
            since = at;
            part
        })
        .collect();
    eprintln!(
        "Done in {} min {} s (estimated {} min {} s): {}.",
        took / 60,
        took % 60,
        estimate.as_secs() / 60,
        estimate.as_secs() % 60,
        split.join(", ")
    );
    Ok(report)
}

/// Accepts only loopback addresses: load is never sent anywhere else.
fn loopback_addr(url: &str) -> Result<SocketAddr, String> {
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
        failure: None,
        adapter_lines: info::adapter_lines(name),
        binary_bytes: info::binary_bytes(name),
        dependency_count: info::dependency_count(name),
        clean_exit: None,
        clean_build: crate::build_cost::of(name),
        command: None,
        conformance: None,
        deviations: backends::find(name)
            .map(|b| b.deviations.iter().map(|d| format!("{d:?}")).collect())
            .unwrap_or_default(),
        scenarios: Vec::new(),
    }
}

/// A server not of the workspace: no adapter, binary or build of ours to count.
fn external_report(name: &str) -> BackendReport {
    BackendReport {
        name: name.to_owned(),
        role: Role::External,
        startup_ms: None,
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
fn start(options: &Options, name: &str, tag: &str) -> Server {
    let mut report = empty_report(name, role_of(name));
    let began = Instant::now();
    let process = match BackendProcess::start(name, &options.server_cpus) {
        Ok(process) => process,
        Err(why) => return Server::not_started(report, why),
    };
    report.startup_ms = Some(began.elapsed().as_secs_f64() * 1e3);
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
        program: Some(Program::Backend(info::binary(name))),
        workloads,
        report,
    }
}

/// A `--server` command, started, pinned and verified like a backend; a scenario that fails
/// verification is reported failed and the others run (a student's server need not answer
/// every route).
fn start_command(options: &Options, command: &ServerCommand, tag: &str) -> Server {
    let mut report = external_report(&command.name);
    report.command = Some(command.line.clone());
    let began = Instant::now();
    let started = BackendProcess::launch(
        &command.name,
        &command.program,
        &[],
        &options.server_cpus,
        COMMAND_READY,
        None,
    );
    let process = match started {
        Ok(process) => process,
        Err(why) => return Server::not_started(report, why),
    };
    report.startup_ms = Some(began.elapsed().as_secs_f64() * 1e3);
    let mut server = Server {
        addr: process.addr,
        workloads: prepare(process.addr, &options.scenarios, tag),
        process: Some(process),
        program: Some(command.program.clone()),
        report,
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
fn external(options: &Options, addr: SocketAddr, tag: &str) -> Server {
    let name = options.url.clone().unwrap_or_default();
    Server {
        process: None,
        program: None,
        addr,
        workloads: prepare(addr, &options.scenarios, tag),
        report: external_report(&name),
    }
}

/// The conformance suite against every server that started (not `floor`), all at once.
fn conformance(options: &Options, servers: &mut [Server]) {
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
    let results = crate::conformance::run_all(targets, options.quick);
    for (i, result) in picked.into_iter().zip(results) {
        servers[i].report.conformance = Some(result);
    }
}

/// After the conformance suite: no server may still be hashing passwords when timing starts.
fn wait_all_idle(servers: &[Server]) {
    for pid in servers.iter().filter_map(Server::pid) {
        wait_until_idle(pid);
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
        Ok(runtime) => runtime.block_on(workloads::prepare(addr, scenarios, tag)),
        Err(e) => scenarios
            .iter()
            .map(|s| (*s, Err(format!("tokio: {e}"))))
            .collect(),
    }
}

/// The repeats of one scenario, interleaved over the servers, then its fixed-rate window.
fn time_scenario(
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
    for round in 0..options.repeat {
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
                options.connections
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
        _ => Workload::single(crate::scenarios::Prepared::get("", "/", "", 200)),
    }
}

/// One open-loop window per server at half the slowest server's closed-loop rate.
fn fixed_rate(
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

/// What a window loads: a server's address, its process (none for `--url`) and its name.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    pub name: &'a str,
    pub addr: SocketAddr,
    pub pid: Option<u32>,
}

/// One measured window on fresh connections, measured again (at most `MAX_REMEASURE` times)
/// while it is noisy: the kept window, and why each dropped one was noisy.
pub fn window(
    options: &Options,
    target: Target<'_>,
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
fn server_window(
    options: &Options,
    scenario: Scenario,
    server: &mut Server,
    workload: &Arc<Workload>,
    rate: Option<f64>,
    connections: usize,
    progress: &ProgressBar,
) -> Run {
    let target = Target {
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
    target: Target<'_>,
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
        wait_until_idle(pid);
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
    let noise = Noise::between(before, after);
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
        histogram: crate::histograms::encode(&w.latency),
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
        errors: loadgen::Errors::default(),
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

/// Waits (at most 10 s) until the server stops using CPU: requests queued by the previous
/// window (a backlog of password hashes after `login`) must not be measured in the next.
fn wait_until_idle(pid: u32) {
    const STEP: Duration = Duration::from_millis(50);
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut before = procfs::cpu_time(pid);
    while Instant::now() < deadline {
        std::thread::sleep(STEP);
        let now = procfs::cpu_time(pid);
        match (before, now) {
            // At most one clock tick (10 ms) over the step: idle.
            (Some(a), Some(b)) if b.saturating_sub(a) <= Duration::from_millis(10) => return,
            (None, _) | (_, None) => return,
            _ => before = now,
        }
    }
}

/// System calls and context switches per request on the running server, per scenario.
fn kernel_share(server: &mut Server) {
    let Some(process) = server.process.take() else {
        return;
    };
    let workloads: Vec<(Scenario, Arc<Workload>)> = server
        .workloads
        .iter()
        .filter(|(s, _)| cost::measurable(**s))
        .filter_map(|(s, w)| Some((*s, w.as_ref().ok()?.clone())))
        .collect();
    for (scenario, workload) in workloads {
        let figures = cost::kernel_share(&process, &workload);
        let report = server.scenario(scenario);
        let cost = report.cost.get_or_insert_with(ScenarioCost::default);
        match figures {
            Ok((syscalls, switches)) => {
                cost.syscalls_per_request = Some(syscalls);
                cost.context_switches_per_request = Some(switches);
            }
            Err(why) => cost.error = Some(why),
        }
        wait_until_idle(process.pid);
    }
    server.process = Some(process);
}

/// Instructions per request: each server started again under callgrind, on the database
/// its native run made (so the sessions of `me` exist), with the same requests; as many at
/// once as there are server cores (the counts do not depend on what else runs).
fn instructions(options: &Options, servers: &mut [Server], progress: &ProgressBar) {
    struct Job {
        index: usize,
        name: String,
        program: Program,
        database: PathBuf,
        workloads: Vec<(Scenario, Arc<Workload>)>,
    }
    let jobs: Vec<Job> = servers
        .iter()
        .enumerate()
        .filter(|(_, s)| s.report.failure.is_none())
        .filter_map(|(index, server)| {
            let database = server.process.as_ref()?.database().to_path_buf();
            let program = server.program.clone()?;
            let workloads = server
                .workloads
                .iter()
                .filter(|(s, _)| cost::measurable(**s))
                .filter_map(|(s, w)| Some((*s, w.as_ref().ok()?.clone())))
                .collect();
            Some(Job {
                index,
                name: server.report.name.clone(),
                program,
                database,
                workloads,
            })
        })
        .collect();
    let lanes = options.cost_lanes();
    let queue = std::sync::Mutex::new(jobs.into_iter());
    let results = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for lane in 0..lanes {
            let (queue, results) = (&queue, &results);
            scope.spawn(move || {
                loop {
                    let job = queue.lock().unwrap_or_else(|p| p.into_inner()).next();
                    let Some(Job {
                        index,
                        name,
                        program,
                        database,
                        workloads,
                    }) = job
                    else {
                        return;
                    };
                    progress.set_message(format!("{name}: instructions per request (callgrind)"));
                    let framework = backends::find(&name).map_or("", |b| b.framework);
                    let measured = cost::instructions(
                        &name,
                        &program,
                        &database,
                        framework,
                        lane,
                        &workloads,
                        options.cost_repeat,
                    );
                    let took = COST_PER_SERVER
                        + COST_PER_SCENARIO
                            * u32::try_from(workloads.len() * options.cost_repeat.max(1))
                                .unwrap_or(1);
                    let share = took / u32::try_from(lanes).unwrap_or(1);
                    progress.inc(u64::try_from(share.as_millis()).unwrap_or(0));
                    let scenarios: Vec<Scenario> = workloads.iter().map(|(s, _)| *s).collect();
                    results
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push((index, scenarios, measured));
                }
            });
        }
    });
    for (index, scenarios, measured) in results.into_inner().unwrap_or_else(|p| p.into_inner()) {
        let server = &mut servers[index];
        match measured {
            Ok(costs) => {
                for (scenario, figures) in costs {
                    let cost = server
                        .scenario(scenario)
                        .cost
                        .get_or_insert_with(ScenarioCost::default);
                    cost.instructions = figures.instructions;
                    cost.by_crate = figures.by_crate;
                    cost.by_group = figures.by_group;
                    cost.top_functions = figures.top_functions;
                }
            }
            Err(why) => {
                for scenario in scenarios {
                    server
                        .scenario(scenario)
                        .cost
                        .get_or_insert_with(ScenarioCost::default)
                        .error = Some(why.clone());
                }
            }
        }
    }
}

/// A short random tag so users made by one run never collide with another's.
fn run_tag() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{:x}{:x}", std::process::id() % 4096, nanos % 65536)
}

/// Now, in UTC, to the second (RFC 3339), as the reports write times.
pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// `target/sitebench/<UTC timestamp>/`
pub fn default_out_dir() -> PathBuf {
    let stamp = now_rfc3339().replace([':', '-'], "");
    info::target_dir().join("sitebench").join(stamp)
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

    #[test]
    fn floor_takes_part_only_in_what_it_answers() {
        let all = Scenario::ALL.to_vec();
        assert_eq!(scenarios_of("floor", &all), FLOOR_SCENARIOS);
        assert_eq!(scenarios_of("axum", &all), all);
    }
}
