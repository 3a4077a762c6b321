//! What `bench run` and `bench cost` were asked to do ([`Options`], made from the command line
//! by `cli::run_options`), the `--server NAME=COMMAND` servers, which servers take part in
//! which scenario, and how long the run will take, said before it starts.

use std::path::PathBuf;
use std::time::Duration;

use crate::measure::backend_process::Program;
use crate::measure::{cost, idle, procfs};
use crate::report::RunOptions;
use crate::report::scenario::Scenario;
use crate::run::now_rfc3339;
use crate::run::startup::STARTS;
use crate::workspace::backends::{self, FLOOR};
use crate::workspace::binaries;

/// Repeats of a password-hashing scenario at most: those time argon2, the same code in every
/// backend, and the answer ranks none of them, so a third repeat would buy a spread nobody
/// reads at the price of the run's longest windows (each waits for the hashes to drain).
pub const HASHING_REPEAT: usize = 2;

/// What a window costs beyond its warm-up and its length, for the estimate: the load
/// generator's connections and threads, sampling /proc, waiting for the server to go idle.
/// 250 ms on the 2-core Xeon VM, 2026-12-03 (497 s of timing for 344 windows of 1.1 s); on
/// the 2-core EPYC VM, 2026-12-04 and -05, two default runs of every backend and floor timed
/// for 665 s and 579 s where 250 ms estimated 688 s: 150 ms puts the estimate between them.
const PER_WINDOW: Duration = Duration::from_millis(150);

/// The share of windows measured again because they were noisy, for the estimate: 52 of 344
/// in the same run (40 of 252 in the run before).
const REMEASURED: f64 = 0.15;

/// Time allowed per server for starting, verifying, starting again and stopping it, for the
/// estimate: the start-up phase took 7 s (`--quick`) and 13 s (default) for nine servers on
/// the EPYC VM, 2026-12-05.
const PER_SERVER_OVERHEAD: Duration = Duration::from_secs(1);

/// Time one start and stop takes (`startup::STARTS` timed ones a server, and one untimed
/// before them), for the estimate.
const PER_START: Duration = Duration::from_millis(200);

/// In a `--quick` run, the connections of a password-hashing scenario: each window ends with
/// one hash asked for on every connection, and at about 50 hashes a second a window of 64
/// waited 1.3 s for them to drain, three times its own length; the hashing rate is argon2's,
/// the same with 16.
const QUICK_HASHING_CONNECTIONS: usize = 16;

/// Time a window of a password-hashing scenario on 64 connections waits after it for the
/// server to finish the hashes already asked for, for the estimate (in proportion on fewer).
const DRAIN: Duration = Duration::from_millis(600);

/// Time callgrind takes per server and scenario, and per server (start under valgrind), on one
/// lane, for the estimate: rocket takes 20 s for seven scenarios, hyper 10 s, so 1.5 s a
/// scenario on average with `cost::PAIRS` pairs of counts; the warm-up before them costs
/// about as much as a pair.
const COST_WARM_UP: Duration = Duration::from_millis(375);
const COST_PER_PAIR: Duration = Duration::from_millis(375);

pub(super) const COST_PER_SERVER: Duration = Duration::from_secs(3);

/// Time `perf stat` takes per server and scenario: attaching, 1,000 requests, stopping.
const PERF_PER_SCENARIO: Duration = Duration::from_millis(250);

/// Time the conformance suite takes per server, all of them at once, for the estimate: 39 s
/// for five backends, hashing passwords on the one server core; a first server also waits
/// out the 10 s header-read check. `--quick` runs it only against servers not of the
/// workspace, and leaves out the check that waits 10 s.
const CONFORMANCE_FIRST: Duration = Duration::from_secs(15);

const CONFORMANCE_PER_SERVER: Duration = Duration::from_secs(5);

/// The check that waits out the header-read timeout, left out by `--quick`.
const HEADER_READ_CHECK: Duration = Duration::from_secs(10);

/// Idle connections a server gets, in turn (BENCH.md v3, section 2), in a `--quick` run the
/// first alone.
const IDLE_COUNTS: [usize; 2] = [1_000, 10_000];

/// Time opening a thousand idle connections takes (connect, one request, its response), for
/// the estimate: 18 s for nine servers' 10,000 each, with their busy windows, on the EPYC VM.
const IDLE_OPEN_PER_THOUSAND: Duration = Duration::from_millis(75);

/// How long the keep-alive probes watch for a server's close: longer than hyper's 10 s
/// header-read timeout, which also ends a connection that rests, so that every timeout the
/// backends set shows; in `--quick`, long enough for actix's and ntex's 5 s.
const KEEP_ALIVE_WATCH: Duration = Duration::from_secs(12);
const KEEP_ALIVE_WATCH_QUICK: Duration = Duration::from_secs(6);

/// How long a server's CPU is read while it is held at its descriptor limit (in `--quick`,
/// half), and the rest of what running out of descriptors takes per server: its start, the
/// flood, the existing connections and then the flood's asked (the flood's waiting ones
/// for a second), its recovery and its stop.
const AT_LIMIT: Duration = Duration::from_secs(1);
const AT_LIMIT_QUICK: Duration = Duration::from_millis(500);
const EXHAUSTION_OVERHEAD: Duration = Duration::from_millis(2_000);

/// The scenarios `floor` answers.
/// (It answers `/plaintext` whatever way the connection sends it: its `hyper` over `floor`
/// is then what the site's rules cost on a connection per request, and pipelined.)
const FLOOR_SCENARIOS: [Scenario; 5] = [
    Scenario::Plaintext,
    Scenario::Json,
    Scenario::Static,
    Scenario::PlaintextClose,
    Scenario::PlaintextPipelined,
];

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
            let fixed = usize::from(self.fixed_rate(*s)) * self.repeats(*s);
            // storm times a quiet window before each stormy one
            let storm = if *s == Scenario::Storm { 2 } else { 1 };
            servers * (self.repeats(*s) * storm + fixed)
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

    /// The measured repeats of `scenario`: `--repeat`, and at most [`HASHING_REPEAT`] for the
    /// password-hashing scenarios.
    pub fn repeats(&self, scenario: Scenario) -> usize {
        if scenario.cheap() {
            self.repeat
        } else {
            self.repeat.min(HASHING_REPEAT)
        }
    }

    /// The connections of `scenario`'s closed-loop windows: `--connections`, but in a
    /// `--quick` run at most [`QUICK_HASHING_CONNECTIONS`] for the password-hashing ones.
    pub(super) fn connections_for(&self, scenario: Scenario) -> usize {
        if self.quick && !scenario.cheap() {
            self.connections.min(QUICK_HASHING_CONNECTIONS)
        } else {
            self.connections
        }
    }

    /// Whether `scenario` gets fixed-rate windows (as many as its repeats): not under `--rate`
    /// (every window is one) and not in a `--quick` run, which keeps to its three minutes.
    pub(super) fn fixed_rate(&self, scenario: Scenario) -> bool {
        self.rate.is_none() && !self.quick && Scenario::FIXED_RATE.contains(&scenario)
    }

    /// Pairs of callgrind counts per scenario, whose median is the figure: one in a `--quick`
    /// run, a first look that keeps to its three minutes.
    pub fn cost_pairs(&self) -> usize {
        if self.quick { 1 } else { cost::PAIRS }
    }

    /// Time callgrind takes per scenario, for the estimate and the progress bar.
    pub(super) fn cost_per_scenario(&self) -> Duration {
        COST_WARM_UP + COST_PER_PAIR * u32::try_from(self.cost_pairs()).unwrap_or(1)
    }

    /// Whether the run measures idle connections: they rest after a `plaintext` request, and
    /// the busy connections beside them send it.
    pub(super) fn idle(&self) -> bool {
        self.timing && self.scenarios.contains(&Scenario::Plaintext)
    }

    /// The idle connections asked for at most.
    pub(super) fn idle_wanted(&self) -> usize {
        if self.quick {
            IDLE_COUNTS[0]
        } else {
            IDLE_COUNTS[IDLE_COUNTS.len() - 1]
        }
    }

    /// The idle connections each server gets in turn, within the descriptor limit bench has
    /// (after `idle::raise_descriptor_limit`): at most that many, the last count cut to it.
    pub(super) fn idle_counts(&self) -> Vec<usize> {
        let allowed = idle::idle_within(idle::descriptor_limit()).min(self.idle_wanted());
        let mut counts: Vec<usize> = IDLE_COUNTS
            .iter()
            .copied()
            .filter(|&n| n < allowed)
            .collect();
        counts.push(allowed);
        counts.dedup();
        counts.retain(|&n| n > 0);
        counts
    }

    pub(super) fn keep_alive_watch(&self) -> Duration {
        if self.quick {
            KEEP_ALIVE_WATCH_QUICK
        } else {
            KEEP_ALIVE_WATCH
        }
    }

    /// Whether the run starts each server again with few descriptors and floods it: it asks
    /// `plaintext`, and bench starts the servers (not `--url`).
    pub(super) fn exhaustion(&self) -> bool {
        self.idle() && self.url.is_none()
    }

    pub(super) fn at_limit(&self) -> Duration {
        if self.quick { AT_LIMIT_QUICK } else { AT_LIMIT }
    }

    /// Time one server's run out of descriptors takes, for the estimate and the progress bar.
    pub(super) fn exhaustion_per_server(&self) -> Duration {
        EXHAUSTION_OVERHEAD + self.at_limit()
    }

    /// Time one server's idle connections take, for the estimate and the progress bar.
    pub(super) fn idle_per_server(&self) -> Duration {
        let thousands = u32::try_from(self.idle_wanted() / 1_000).unwrap_or(1);
        IDLE_OPEN_PER_THOUSAND * thousands * 2 + self.warmup + self.duration + PER_WINDOW
    }

    /// Time the idle phase takes: the servers one at a time, and at least the probes' watch.
    fn idle_estimate(&self) -> Duration {
        if !self.idle() || self.url.is_some() {
            return Duration::ZERO;
        }
        let servers = u32::try_from(self.server_count()).unwrap_or(1);
        (self.idle_per_server() * servers).max(self.keep_alive_watch())
    }

    /// How long the run should take, said before it starts.
    pub fn estimate(&self) -> Duration {
        let window = (self.warmup + self.duration + PER_WINDOW).mul_f64(1.0 + REMEASURED);
        let servers = self.server_count();
        let hashing = self.windows(|s| !s.cheap());
        let mut total = window * u32::try_from(self.windows(|_| true)).unwrap_or(u32::MAX)
            + DRAIN.mul_f64(self.connections_for(Scenario::Login) as f64 / 64.0)
                * u32::try_from(hashing).unwrap_or(u32::MAX)
            + (PER_SERVER_OVERHEAD + PER_START * u32::try_from(STARTS + 1).unwrap_or(u32::MAX))
                * u32::try_from(servers).unwrap_or(1);
        total += self.conformance_estimate();
        total += self.idle_estimate();
        if self.exhaustion() {
            total += self.exhaustion_per_server() * u32::try_from(servers).unwrap_or(1);
        }
        if self.cost && self.url.is_none() {
            let measured = self.scenarios.iter().filter(|s| s.cheap()).count();
            let callgrind = COST_PER_SERVER
                + self.cost_per_scenario()
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
    /// `--quick` only against servers that are not of the workspace: against every backend at
    /// once it would take a third of its three minutes, and their `cargo test` runs all of it.
    pub(super) fn tests_conformance(&self, server: &str) -> bool {
        let ours = backends::find(server).is_some() && self.url.is_none();
        self.timing && server != FLOOR.name && !(self.quick && ours)
    }

    /// How long the conformance suite should take against the servers it runs against.
    pub(super) fn conformance_estimate(&self) -> Duration {
        let tested = self.conformance_servers();
        if tested == 0 {
            return Duration::ZERO;
        }
        let first = if self.quick {
            CONFORMANCE_FIRST - HEADER_READ_CHECK
        } else {
            CONFORMANCE_FIRST
        };
        first + CONFORMANCE_PER_SERVER * u32::try_from(tested - 1).unwrap_or(u32::MAX)
    }

    /// Whether the suite runs against any server of the run.
    pub(super) fn conformance(&self) -> bool {
        self.conformance_servers() > 0
    }

    /// How many servers of the run the suite runs against.
    fn conformance_servers(&self) -> usize {
        match &self.url {
            Some(url) => usize::from(self.tests_conformance(url)),
            None => self
                .servers
                .iter()
                .chain(self.commands.iter().map(|c| &c.name))
                .filter(|s| self.tests_conformance(s))
                .count(),
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
            hashing_repeat: Some(self.repeat.min(HASHING_REPEAT)).filter(|&r| r != self.repeat),
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

    fn options(servers: &[&str], repeat: usize, quick: bool) -> Options {
        Options {
            servers: servers.iter().map(|s| (*s).to_owned()).collect(),
            commands: Vec::new(),
            scenarios: Scenario::ALL.to_vec(),
            duration: Duration::from_secs(1),
            warmup: Duration::from_millis(250),
            connections: 64,
            repeat,
            rate: None,
            server_cpus: vec![0],
            client_cpus: vec![1],
            out: PathBuf::new(),
            url: None,
            quick,
            timing: true,
            cost: false,
            cost_repeat: 1,
        }
    }

    #[test]
    fn the_hashing_scenarios_repeat_at_most_twice_and_the_windows_add_up() {
        let three = options(&["axum"], 3, false);
        assert_eq!(three.repeats(Scenario::Plaintext), 3);
        assert_eq!(three.repeats(Scenario::Login), HASHING_REPEAT);
        assert_eq!(three.recorded().hashing_repeat, Some(HASHING_REPEAT));
        // 9 cheap × 3, login, signup and mixed × 2, storm × 2 with a quiet window each, and
        // 3 fixed-rate windows for plaintext, json, static and status.
        assert_eq!(three.windows(|_| true), 27 + 6 + 4 + 12);
        assert_eq!(three.windows(|s| !s.cheap()), 10);
        let one = options(&["axum", "floor"], 1, true);
        assert_eq!(one.repeats(Scenario::Login), 1);
        assert_eq!(one.recorded().hashing_repeat, None);
        // --quick: one window each, storm's quiet one too, no fixed rate; floor answers five.
        assert_eq!(one.windows(|_| true), 14 + 5);
    }

    #[test]
    fn the_conformance_estimate_grows_with_the_servers_it_tests() {
        let one = options(&["axum", "floor"], 3, false);
        let eight = options(
            &[
                "hyper", "actix", "axum", "ntex", "rocket", "salvo", "trillium", "warp", "floor",
            ],
            3,
            false,
        );
        assert_eq!(one.conformance_estimate(), CONFORMANCE_FIRST);
        assert_eq!(
            eight.conformance_estimate(),
            CONFORMANCE_FIRST + CONFORMANCE_PER_SERVER * 7
        );
        // --quick leaves the workspace's backends to their `cargo test`.
        assert_eq!(
            options(&["axum"], 1, true).conformance_estimate(),
            Duration::ZERO
        );
    }

    #[test]
    fn floor_takes_part_only_in_what_it_answers() {
        let all = Scenario::ALL.to_vec();
        assert_eq!(scenarios_of("floor", &all), FLOOR_SCENARIOS);
        assert_eq!(scenarios_of("axum", &all), all);
    }
}
