//! The report model: `report.json`'s schema (versioned) and reading it. What a report needs
//! to be rendered again later is recorded in it (the conformance suite's deadline, which
//! scenarios are cheap), so that `bench render` of an old report says what that run did.
//! This module and its children import nothing else of the crate: the measuring code
//! fills the model in, the output code renders it (a test, `tests/module_direction.rs`,
//! keeps it so).

pub mod answer;
pub mod answer_change;
pub mod compare;
pub mod connections;
pub mod histograms;
pub mod noise;
pub mod ranking;
pub mod scenario;
pub mod scenario_cost;
pub mod stats;

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use noise::Noise;
use scenario_cost::ScenarioCost;
use stats::RepeatStats;

/// Bumped on any change a reader of old reports must know about.
pub const SCHEMA: &str = "sitebench-report/2";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub schema: String,
    pub created_utc: String,
    pub git_revision: Option<String>,
    pub machine: Machine,
    /// What the run was asked to do (`bench run`'s flags).
    #[serde(alias = "flags")]
    pub options: RunOptions,
    /// Crate name -> resolved version, for the frameworks and the runtime under them.
    pub versions: BTreeMap<String, String>,
    pub backends: Vec<BackendReport>,
    /// What could not be measured on this machine and how to fix it (a missing valgrind).
    #[serde(default)]
    pub notes: Vec<String>,
    /// The scenarios whose cost is the server's own, not the password hash's (the same argon2
    /// code everywhere), on keep-alive connections one request at a time, as the run judged
    /// them: the answer averages its timed figures and instructions over these. (The
    /// connection scenarios, `plaintext-close` and `-pipelined`, are cheap too but answered
    /// on their own lines.)
    #[serde(default = "cheap_before_recorded")]
    pub cheap_scenarios: Vec<String>,
}

/// Reports written before `cheap_scenarios` was recorded: every scenario but the four that
/// hash passwords was cheap in every bench up to then.
fn cheap_before_recorded() -> Vec<String> {
    [
        "plaintext",
        "json",
        "static",
        "static-304",
        "hello",
        "status",
        "me",
    ]
    .map(String::from)
    .to_vec()
}

/// The machine a report was measured on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Machine {
    pub cpu_model: String,
    pub cores: usize,
    pub memory_mib: u64,
    pub kernel: String,
    pub os: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunOptions {
    pub backends: Vec<String>,
    /// `--server NAME=COMMAND`, as given.
    #[serde(default)]
    pub servers: Vec<String>,
    pub scenarios: Vec<String>,
    pub duration_secs: f64,
    pub warmup_secs: f64,
    pub connections: usize,
    pub repeat: usize,
    /// Repeats of the password-hashing scenarios, where fewer than `repeat` (none recorded
    /// before 2026-12-03: as `repeat`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hashing_repeat: Option<usize>,
    pub rate: Option<f64>,
    pub server_cpus: Vec<usize>,
    pub client_cpus: Vec<usize>,
    pub url: Option<String>,
    pub quick: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackendReport {
    pub name: String,
    /// What this server is in the comparison.
    #[serde(default)]
    pub role: Role,
    /// From process start to the first `200` from `/healthz`, in milliseconds: the median of
    /// `startups_ms`.
    #[serde(default)]
    pub startup_ms: Option<f64>,
    /// Every timed start, each with no other server starting or loaded (one in reports from
    /// before 2026-12-04, taken with every server starting together).
    #[serde(default)]
    pub startups_ms: Vec<f64>,
    /// Resident memory once started, before any request but `/healthz`, in KiB: the median
    /// over the starts. What the framework holds before it serves.
    #[serde(default)]
    pub startup_rss_kib: Option<u64>,
    /// `None` when it passed verification and ran; otherwise why it was not timed.
    pub failure: Option<String>,
    pub adapter_lines: Option<u64>,
    pub binary_bytes: Option<u64>,
    pub dependency_count: Option<u64>,
    /// Whether SIGTERM ended it with exit status 0.
    pub clean_exit: Option<bool>,
    /// Its clean release build, as `bench build-cost` last measured it.
    #[serde(default)]
    pub clean_build: Option<CleanBuild>,
    /// `--server`: the command it was started with, as given.
    #[serde(default)]
    pub command: Option<String>,
    /// The conformance suite run against it (not against `floor`, which is not the site).
    #[serde(default)]
    pub conformance: Option<Conformance>,
    /// The lines of SITE.md its framework makes impossible, as its adapter declares them
    /// (`DEVIATIONS`); the suite expects exactly these from it.
    #[serde(default)]
    pub deviations: Vec<String>,
    pub scenarios: Vec<ScenarioReport>,
    /// Idle keep-alive connections: its memory and descriptors with them, and `plaintext`
    /// beside them.
    #[serde(default)]
    pub idle: Option<connections::IdleConnections>,
    /// When it closed connections that rested after one request.
    #[serde(default)]
    pub keep_alive: Option<connections::KeepAlive>,
    /// Started with few descriptors and flooded beyond them.
    #[serde(default)]
    pub exhaustion: Option<connections::Exhaustion>,
}

/// The conformance suite's result against a running server (the checks that need the
/// binary, an admin or a second server are skipped there: `cargo test` runs those).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Conformance {
    pub passed: usize,
    /// Each failed check and why.
    pub failed: Vec<(String, String)>,
    pub skipped: usize,
    /// Checks not run in this run (`--quick` leaves out the one that only waits).
    #[serde(default)]
    pub not_run: Vec<String>,
    /// How long the suite was given against one server, in seconds: checks still running
    /// then are among `not_run`.
    #[serde(default = "deadline_before_recorded")]
    pub deadline_secs: u64,
}

/// Reports written before `deadline_secs` was recorded: every bench up to then gave the
/// suite 180 s per server.
fn deadline_before_recorded() -> u64 {
    180
}

/// A clean release build of one backend (`bench build-cost`): from an empty target
/// directory, so every dependency is built, as on a fresh clone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CleanBuild {
    pub seconds: f64,
    /// When it was measured (builds are measured apart from the runs that report them).
    pub measured_utc: String,
    /// The edit-compile loop, measured with the clean build in its target directory; `None`
    /// in files from before it was measured (and then left out, so they are written back as
    /// they were read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edit_loop: Option<EditLoop>,
}

/// What a developer waits for while working on a backend (`bench build-cost`): the clean
/// debug build, and cargo's time after a one-line change in a handler of the adapter, each
/// time a separate edit, in a target directory already warm. A clean build is paid once; this
/// is paid on every change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EditLoop {
    /// `cargo build` from an empty debug profile.
    pub clean_debug_seconds: f64,
    /// `cargo check` after each edit.
    pub check: Vec<f64>,
    /// `cargo build` after each edit.
    pub debug: Vec<f64>,
    /// `cargo build --release` after each edit.
    pub release: Vec<f64>,
}

impl BackendReport {
    /// Its edit-compile loop, if `bench build-cost` measured one before the run.
    pub fn edit_loop(&self) -> Option<&EditLoop> {
        self.clean_build.as_ref()?.edit_loop.as_ref()
    }
}

impl EditLoop {
    pub fn check_median(&self) -> Option<f64> {
        stats::Stat::of(&self.check).map(|s| s.median)
    }

    pub fn debug_median(&self) -> Option<f64> {
        stats::Stat::of(&self.debug).map(|s| s.median)
    }

    pub fn release_median(&self) -> Option<f64> {
        stats::Stat::of(&self.release).map(|s| s.median)
    }
}

/// The part a server plays in the report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// A framework's backend.
    #[default]
    Framework,
    /// `hyper`: the site with no framework; every framework is also shown as a ratio to it.
    Baseline,
    /// `floor`: hyper with no site logic, not the site and not verified against it.
    Reference,
    /// A server that is not of this workspace, in any language: started by bench
    /// (`--server NAME=COMMAND`) or by someone else (`--url`).
    External,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioReport {
    pub name: String,
    /// Why the scenario was not timed: it failed verification on a `--server` or `--url`
    /// server (the other scenarios still ran).
    #[serde(alias = "skipped")]
    pub failed: Option<String>,
    pub runs: Vec<Run>,
    pub summary: Option<RepeatStats>,
    /// What a reader must know before trusting the figures.
    #[serde(alias = "flags")]
    pub markers: Vec<Marker>,
    /// Instructions, system calls and context switches per request (BENCH.md 4.2).
    #[serde(default)]
    pub cost: Option<ScenarioCost>,
    /// Why each window that was measured again had been noisy.
    #[serde(default)]
    pub dropped: Vec<String>,
    /// The open-loop window at the rate every server of the scenario sustains.
    #[serde(default)]
    pub fixed_rate: Option<FixedRate>,
    /// `storm`: the same plaintext connections measured with no logins beside them.
    #[serde(default)]
    pub quiet: Vec<Run>,
}

/// What a server costs at a common, realistic load (half the slowest server's saturation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FixedRate {
    pub requests_per_sec: f64,
    /// The window whose p99 is the median of the repeats: the one the tables and charts show.
    pub run: Run,
    /// Every window at this rate, `run` among them; empty in reports from before repeats.
    #[serde(default)]
    pub repeats: Vec<Run>,
}

impl FixedRate {
    /// The repeats at `rate`, shown by the one whose p99 is their median (the lower middle
    /// one of an even number); none without a window.
    pub fn from_runs(rate: f64, runs: Vec<Run>) -> Option<Self> {
        let mut by_p99: Vec<&Run> = runs.iter().collect();
        by_p99.sort_by_key(|r| r.latency_us.p99);
        let middle = by_p99.get(by_p99.len().saturating_sub(1) / 2)?;
        let run = (*middle).clone();
        Some(Self {
            requests_per_sec: rate,
            run,
            repeats: runs,
        })
    }

    /// Every window at this rate (the one window of an older report).
    pub fn windows(&self) -> Vec<&Run> {
        if self.repeats.is_empty() {
            vec![&self.run]
        } else {
            self.repeats.iter().collect()
        }
    }

    /// Every window's p99 in µs.
    pub fn p99s(&self) -> Vec<f64> {
        self.windows()
            .iter()
            .map(|r| r.latency_us.p99 as f64)
            .collect()
    }
}

/// A caveat on a scenario's figures (written as `errors`, `client-bound` in report.json).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Marker {
    /// Some response had an unexpected status or length, or a connection failed.
    Errors,
    /// The generator kept its cores over 90% busy in a window: its requests/s is a lower
    /// bound, not a ranking.
    ClientBound,
    /// A window stayed noisy after being measured again (other processes, steal).
    Noisy,
}

impl Marker {
    pub fn as_str(self) -> &'static str {
        match self {
            Marker::Errors => "errors",
            Marker::ClientBound => "client-bound",
            Marker::Noisy => "noisy",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    pub requests_per_sec: f64,
    pub responses: u64,
    pub latency_us: Percentiles,
    pub errors: Errors,
    pub first_error: Option<String>,
    pub server_cpu_us_per_request: Option<f64>,
    /// The same, split: user space and kernel.
    #[serde(default)]
    pub server_cpu_user_us_per_request: Option<f64>,
    #[serde(default)]
    pub server_cpu_system_us_per_request: Option<f64>,
    pub server_peak_rss_kib: Option<u64>,
    /// The generator's own share of its cores.
    pub client_busy_share: Option<f64>,
    #[serde(default)]
    pub noise: Option<Noise>,
    /// Per kind of request, in workloads that mix kinds (`mixed`, `storm`).
    #[serde(default)]
    pub by_kind: BTreeMap<String, KindRun>,
    /// The window's whole latency distribution (µs), encoded by [`histograms`].
    #[serde(default)]
    pub histogram: Option<String>,
}

/// A window's unexpected answers, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Errors {
    pub status: u64,
    pub length: u64,
    pub connect: u64,
    pub read: u64,
    pub timeout: u64,
}

impl Errors {
    pub fn total(&self) -> u64 {
        self.status + self.length + self.connect + self.read + self.timeout
    }

    pub fn add(&mut self, other: &Errors) {
        self.status += other.status;
        self.length += other.length;
        self.connect += other.connect;
        self.read += other.read;
        self.timeout += other.timeout;
    }
}

/// One kind of request's share of a window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KindRun {
    pub requests_per_sec: f64,
    pub latency_us: Percentiles,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
}

impl ScenarioReport {
    pub fn from_runs(name: &str, runs: Vec<Run>) -> Self {
        let summary = RepeatStats::of(&runs);
        let mut markers = Vec::new();
        if runs.iter().any(|r| r.errors.total() > 0) {
            markers.push(Marker::Errors);
        }
        if runs
            .iter()
            .any(|r| r.noise.is_some_and(|n| n.client_bound()))
        {
            markers.push(Marker::ClientBound);
        }
        if runs
            .iter()
            .any(|r| r.noise.is_some_and(|n| n.noisy().is_some()))
        {
            markers.push(Marker::Noisy);
        }
        Self {
            name: name.to_owned(),
            failed: None,
            runs,
            summary,
            markers,
            cost: None,
            dropped: Vec::new(),
            fixed_rate: None,
            quiet: Vec::new(),
        }
    }
}

impl Report {
    pub fn read(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let report: Self = serde_json::from_str(&text)
            .map_err(|e| format!("{} is not a sitebench report: {e}", path.display()))?;
        // Version 1 lacks only fields that default (cost, notes): it still compares.
        if report.schema != SCHEMA && report.schema != "sitebench-report/1" {
            return Err(format!(
                "{}: schema {} (this bench reads {SCHEMA})",
                path.display(),
                report.schema
            ));
        }
        Ok(report)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn run(rps: f64) -> Run {
        Run {
            requests_per_sec: rps,
            responses: 1000,
            latency_us: Percentiles {
                p50: 100,
                p90: 200,
                p99: 400,
                p999: 800,
                max: 1600,
            },
            errors: Errors::default(),
            first_error: None,
            server_cpu_us_per_request: Some(12.5),
            server_cpu_user_us_per_request: Some(7.5),
            server_cpu_system_us_per_request: Some(5.0),
            server_peak_rss_kib: Some(9000),
            client_busy_share: Some(0.5),
            noise: Some(Noise::default()),
            by_kind: BTreeMap::new(),
            histogram: {
                let mut latency = hdrhistogram::Histogram::<u64>::new(3).expect("3 figures");
                for us in [100, 200, 400, 800, 1600] {
                    latency.record(us).expect("in range");
                }
                histograms::encode(&latency)
            },
        }
    }

    pub fn sample() -> Report {
        Report {
            schema: SCHEMA.into(),
            created_utc: "2026-11-26T22:00:00Z".into(),
            git_revision: Some("abc123".into()),
            machine: Machine {
                cpu_model: "Test CPU".into(),
                cores: 2,
                memory_mib: 1024,
                kernel: "6.1".into(),
                os: "Linux".into(),
            },
            options: RunOptions {
                backends: vec!["axum".into()],
                servers: vec!["py=python3 site.py --port {port}".into()],
                scenarios: vec!["plaintext".into()],
                duration_secs: 3.0,
                warmup_secs: 1.0,
                connections: 64,
                repeat: 3,
                hashing_repeat: None,
                rate: None,
                server_cpus: vec![0],
                client_cpus: vec![1],
                url: None,
                quick: false,
            },
            versions: BTreeMap::from([("axum".into(), "0.8.9".into())]),
            backends: vec![BackendReport {
                name: "axum".into(),
                role: Role::Framework,
                startup_ms: Some(12.0),
                startups_ms: vec![11.0, 12.0, 14.0],
                startup_rss_kib: Some(6000),
                failure: None,
                adapter_lines: Some(180),
                binary_bytes: Some(5_000_000),
                dependency_count: Some(120),
                clean_exit: Some(true),
                clean_build: Some(CleanBuild {
                    seconds: 61.0,
                    measured_utc: "2026-11-26T20:00:00Z".into(),
                    edit_loop: Some(EditLoop {
                        clean_debug_seconds: 30.0,
                        check: vec![1.5, 1.0, 2.0],
                        debug: vec![3.0, 2.5, 4.0],
                        release: vec![40.0, 41.0, 39.0],
                    }),
                }),
                command: Some("python3 site.py --port {port}".into()),
                conformance: Some(Conformance {
                    passed: 170,
                    failed: vec![("date_header_is_imf_fixdate".into(), "no Date".into())],
                    skipped: 47,
                    not_run: vec!["slow_request_header_closed".into()],
                    deadline_secs: 180,
                }),
                deviations: vec!["NoHeaderReadTimeout".into()],
                scenarios: vec![ScenarioReport::from_runs(
                    "plaintext",
                    vec![run(100.0), run(120.0), run(90.0)],
                )],
                idle: Some(connections::IdleConnections {
                    points: vec![
                        connections::IdlePoint {
                            idle: 0,
                            rss_kib: 7_000,
                            open_fds: 14,
                        },
                        connections::IdlePoint {
                            idle: 10_000,
                            rss_kib: 47_000,
                            open_fds: 10_014,
                        },
                    ],
                    busy: Some(connections::BusyWindow {
                        connections: 4,
                        requests_per_sec: 40_000.0,
                        p99_us: 250,
                        errors: 0,
                    }),
                    dropped: 0,
                    error: None,
                }),
                keep_alive: Some(connections::KeepAlive {
                    probes: 4,
                    watched_secs: 12.0,
                    closed: 4,
                    closed_after_secs: Some(10.0),
                }),
                exhaustion: Some(connections::Exhaustion {
                    limit: 256,
                    existing: 4,
                    existing_served: 4,
                    flood: 512,
                    flood_served: 236,
                    flood_refused: 0,
                    closed_before_asking: 0,
                    open_fds_at_limit: Some(256),
                    cpu_at_limit: 0.01,
                    at_limit_secs: 1.0,
                    recovered_after_ms: Some(240.0),
                    watched_secs: 5.0,
                    clean_exit: Some(true),
                    error: None,
                }),
            }],
            notes: vec!["valgrind is not installed".into()],
            cheap_scenarios: scenario::Scenario::ALL
                .iter()
                .filter(|s| s.averaged())
                .map(|s| s.name().to_owned())
                .collect(),
        }
    }

    #[test]
    fn schema_round_trips_and_old_reports_get_what_they_did_not_record() {
        let report = sample();
        let json = serde_json::to_string(&report).expect("json");
        assert_eq!(
            serde_json::from_str::<Report>(&json).ok(),
            Some(report.clone())
        );
        // A report from before `cheap_scenarios` and `deadline_secs`: the values of then.
        let mut old = serde_json::to_value(&report).expect("json");
        old.as_object_mut().map(|o| o.remove("cheap_scenarios"));
        old["backends"][0]["conformance"]
            .as_object_mut()
            .map(|o| o.remove("deadline_secs"));
        old["backends"][0]["clean_build"]
            .as_object_mut()
            .map(|o| o.remove("edit_loop"));
        let old: Report = serde_json::from_value(old).expect("an old report still loads");
        assert_eq!(
            old.backends[0].clean_build.as_ref().map(|c| &c.edit_loop),
            Some(&None)
        );
        assert_eq!(
            old.cheap_scenarios,
            [
                "plaintext",
                "json",
                "static",
                "static-304",
                "hello",
                "status",
                "me"
            ]
        );
        assert_eq!(
            old.backends[0]
                .conformance
                .as_ref()
                .map(|c| c.deadline_secs),
            Some(180)
        );
    }

    #[test]
    fn the_edit_loop_is_summed_up_by_its_medians() {
        let edit_loop = sample().backends[0]
            .clean_build
            .as_ref()
            .and_then(|c| c.edit_loop.clone())
            .expect("the sample's edit loop");
        assert_eq!(edit_loop.check_median(), Some(1.5));
        assert_eq!(edit_loop.debug_median(), Some(3.0));
        assert_eq!(edit_loop.release_median(), Some(40.0));
        let none = EditLoop {
            check: Vec::new(),
            ..edit_loop
        };
        assert_eq!(none.check_median(), None);
    }

    #[test]
    fn other_schemas_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("old.json");
        let mut value = serde_json::to_value(sample()).expect("json");
        value["schema"] = "sitebench-report/0".into();
        std::fs::write(&path, value.to_string()).expect("write");
        assert!(Report::read(&path).is_err_and(|e| e.contains("sitebench-report/0")));
    }

    #[test]
    fn markers_flag_errors_and_client_bound_runs() {
        let mut busy = run(10.0);
        busy.noise = Some(Noise {
            generator: 0.95,
            ..Noise::default()
        });
        busy.errors.status = 2;
        let mut noisy = run(11.0);
        noisy.noise = Some(Noise {
            steal: 0.1,
            ..Noise::default()
        });
        let scenario = ScenarioReport::from_runs("json", vec![busy, noisy, run(12.0)]);
        assert_eq!(
            scenario.markers,
            [Marker::Errors, Marker::ClientBound, Marker::Noisy]
        );
    }
}
