//! The command line: `bench`'s commands and their flags, as clap parses them. The doc comments
//! are the help text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::report::scenario::Scenario;

#[derive(Parser)]
#[command(
    about = "Benchmark the sitebench backends: same site, same machine, what each framework costs.",
    version
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Start, verify, load and report every backend (the main job).
    Run(RunArgs),
    /// Only the cost per request: instructions under callgrind, system calls under perf.
    Cost(RunArgs),
    /// Compare two report.json files: NEW/OLD per backend, scenario and figure (req/s, CPU
    /// per request, instructions per request, p99), with its noise, then whether each
    /// criterion of the answer names the same best and order.
    Compare {
        old: PathBuf,
        new: PathBuf,
        /// Exit 1 when instructions per request got worse by more than this many percent,
        /// outside the noise.
        #[arg(long, value_name = "PCT")]
        fail_if_worse: Option<f64>,
        /// Let the timed figures (req/s, CPU per request, p99) fail the gate too: for a quiet
        /// machine, where runs differ by less than their repeats' spread.
        #[arg(long, requires = "fail_if_worse")]
        gate_timing: bool,
        /// Exit 1 when any criterion of the answer changed: another best or tie group, or two
        /// servers after it in opposite orders. Without it a changed answer is reported, not
        /// failed.
        #[arg(long)]
        same_answer: bool,
    },
    /// Run the full conformance suite against a running server; exit 1 on any failure.
    Verify {
        /// Base URL of the server, e.g. http://127.0.0.1:8080
        #[arg(long, required_unless_present = "list")]
        url: Option<String>,
        /// Print the checks by SITE.md section instead of running them.
        #[arg(long)]
        list: bool,
    },
    /// Write report.md, report.html and report.csv again from a report.json, into OUT (the
    /// page's links to the adapters are relative to where it is written): after upgrading
    /// bench, or to keep a report elsewhere.
    Render {
        report: PathBuf,
        /// Where to write them [default: beside REPORT].
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Each backend alone for a while under `mixed` plus a trickle of sign-ups, logins and
    /// logouts: no errors, no upward drift of memory or file descriptors, no lost sign-up.
    Soak {
        /// Backends to soak [default: all].
        #[arg(long, value_delimiter = ',')]
        backends: Vec<String>,
        /// Seconds per backend.
        #[arg(long, default_value_t = 60)]
        seconds: u64,
    },
    /// Print the workspace's backends, one per line, the baseline first (for scripts).
    Backends,
    /// Time each backend's clean release build (from an empty target directory), then in that
    /// directory its clean debug build and `cargo check`, `cargo build` and `cargo build
    /// --release` after a one-line edit of its adapter (median of three, each edit undone),
    /// into docs/build-cost.json, which every report reads. Takes minutes per backend.
    ///
    /// The adapter is restored byte for byte also when a build fails or on Ctrl-C; a run killed
    /// with an edit in place is undone by the next one. SITEBENCH_WORKSPACE (for tests and
    /// scripts) measures the workspace at that path instead, and writes its build-cost.json.
    BuildCost {
        /// Backends to build [default: all].
        #[arg(long, value_delimiter = ',')]
        backends: Vec<String>,
    },
}

#[derive(Args)]
pub struct RunArgs {
    /// Servers to benchmark: backends of the workspace and `floor`, or `none` (only the
    /// `--server` ones) [default: all, the baseline `hyper` first, `floor` last].
    #[arg(long, value_delimiter = ',')]
    pub backends: Vec<String>,
    /// A server in any language for bench to start and measure beside the backends, e.g.
    /// `--server 'py=python3 site.py --port {port}'`; `{port}` (required), `{database}` and
    /// `{workers}` are filled in. Repeatable.
    #[arg(long = "server", value_name = "NAME=COMMAND")]
    pub server: Vec<String>,
    /// Scenarios to run [default: all].
    #[arg(long, value_delimiter = ',', value_enum)]
    pub scenarios: Vec<Scenario>,
    /// Seconds measured per window [default: 0.9, --quick 0.3].
    #[arg(long)]
    pub duration: Option<f64>,
    /// Seconds of warm-up before each window, on its fresh connections [default: 0.2, --quick 0.2].
    #[arg(long)]
    pub warmup: Option<f64>,
    /// Keep-alive connections of the load generator.
    #[arg(long, default_value_t = 64)]
    pub connections: usize,
    /// Measured repeats per scenario [default: 3, --quick 1; the password-hashing scenarios at most 2].
    #[arg(long)]
    pub repeat: Option<usize>,
    /// Open loop at this many requests/s in total (latency corrected for coordinated omission).
    #[arg(long)]
    pub rate: Option<f64>,
    /// CPUs the server is pinned to (comma-separated) [default: the first half of the cores].
    #[arg(long, value_delimiter = ',')]
    pub server_cpus: Vec<usize>,
    /// CPUs the load generator is pinned to [default: the other half].
    #[arg(long, value_delimiter = ',')]
    pub client_cpus: Vec<usize>,
    /// Where to write report.json, report.md and report.html [default: target/sitebench/<UTC time>/].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Benchmark a server that is already running (any language) instead of the backends.
    #[arg(long)]
    pub url: Option<String>,
    /// A short run (about 3 minutes): 1 repeat of 0.3 s per scenario, no fixed-rate windows.
    #[arg(long)]
    pub quick: bool,
    /// Skip the cost per request (instructions, system calls).
    #[arg(long)]
    pub no_cost: bool,
    /// Callgrind repeats per scenario [default: 1 in `run`, 2 in `cost`].
    #[arg(long)]
    pub cost_repeat: Option<usize>,
}
