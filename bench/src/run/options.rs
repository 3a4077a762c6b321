//! What `bench run` and `bench cost` were asked to do ([`Options`], made from the command line
//! by `cli::run_options`), the `--server NAME=COMMAND` servers, which servers take part in
//! which scenario, and how long the run will take, said before it starts.

use std::path::PathBuf;
use std::time::Duration;

use crate::measure::backend_process::Program;
use crate::measure::procfs;
use crate::report::RunOptions;
use crate::report::scenario::Scenario;
use crate::run::now_rfc3339;
use crate::workspace::backends::{self, FLOOR};
use crate::workspace::binaries;

/// Time allowed per server for starting, verifying and stopping it, for the estimate.
const PER_SERVER_OVERHEAD: Duration = Duration::from_secs(2);

/// Time a window of a password-hashing scenario waits after it for the server to finish the
/// hashes already asked for, for the estimate.
const DRAIN: Duration = Duration::from_millis(600);

/// Time callgrind takes per server and scenario, and per server (start under valgrind), on one
/// lane, for the estimate: rocket takes 20 s for seven scenarios, hyper 10 s.
pub(super) const COST_PER_SCENARIO: Duration = Duration::from_millis(1_500);

pub(super) const COST_PER_SERVER: Duration = Duration::from_secs(3);

/// Time `perf stat` takes per server and scenario: attaching, 1,000 requests, stopping.
const PERF_PER_SCENARIO: Duration = Duration::from_millis(250);

/// Time the conformance suite takes with every server at once, for the estimate: 35 s for
/// the five backends (hashing passwords on the one server core); `--quick` runs it only
/// against servers not of the workspace, and leaves out the check that waits 10 s.
pub(super) const CONFORMANCE: Duration = Duration::from_secs(35);

pub(super) const CONFORMANCE_QUICK: Duration = Duration::from_secs(15);

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
    pub(super) fn cost_lanes(&self) -> usize {
        self.server_cpus
            .len()
            .max(1)
            .max(2.min(procfs::machine().cores))
    }

    /// Whether `scenario` gets a fixed-rate window: not under `--rate` (every window is one)
    /// and not in a `--quick` run, which keeps to its two minutes.
    pub(super) fn fixed_rate(&self, scenario: Scenario) -> bool {
        self.rate.is_none() && !self.quick && Scenario::FIXED_RATE.contains(&scenario)
    }

    /// How long the run should take, said before it starts.
    pub fn estimate(&self) -> Duration {
        let window = self.warmup + self.duration + Duration::from_millis(150);
        let servers = self.server_count();
        let hashing = self.windows(|s| !s.cheap());
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
            let measured = self.scenarios.iter().filter(|s| s.cheap()).count();
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
    pub(super) fn tests_conformance(&self, server: &str) -> bool {
        let ours = backends::find(server).is_some() && self.url.is_none();
        self.timing && server != FLOOR.name && !(self.quick && ours)
    }

    /// Whether the suite runs against any server of the run.
    pub(super) fn conformance(&self) -> bool {
        match &self.url {
            Some(url) => self.tests_conformance(url),
            None => self
                .servers
                .iter()
                .chain(self.commands.iter().map(|c| &c.name))
                .any(|s| self.tests_conformance(s)),
        }
    }

    pub(super) fn recorded(&self) -> RunOptions {
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
pub(super) fn scenarios_of(name: &str, wanted: &[Scenario]) -> Vec<Scenario> {
    wanted
        .iter()
        .copied()
        .filter(|s| name != FLOOR.name || FLOOR_SCENARIOS.contains(s))
        .collect()
}

/// `target/sitebench/<UTC timestamp>/`
pub fn default_out_dir() -> PathBuf {
    let stamp = now_rfc3339().replace([':', '-'], "");
    binaries::target_dir().join("sitebench").join(stamp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floor_takes_part_only_in_what_it_answers() {
        let all = Scenario::ALL.to_vec();
        assert_eq!(scenarios_of("floor", &all), FLOOR_SCENARIOS);
        assert_eq!(scenarios_of("axum", &all), all);
    }
}
