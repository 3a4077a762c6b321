//! `bench`: run, compare and verify. Errors end the process with one line and exit status 1
//! (2 for a bad command line, as clap does).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use bench::backends;
use bench::report::Report;
use bench::runner::{self, Options};
use bench::scenarios::Scenario;
use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(
    about = "Benchmark the sitebench backends: same site, same machine, what each framework costs.",
    version
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start, verify, load and report every backend (the main job).
    Run(RunArgs),
    /// Only the cost per request: instructions under callgrind, system calls under perf.
    Cost(RunArgs),
    /// Compare two report.json files: NEW/OLD per backend, scenario and figure (req/s, CPU
    /// per request, instructions per request, p99), with its noise.
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
    /// Time a clean release build of each backend (each from an empty target directory) into
    /// docs/build-cost.json, which every report reads. Takes minutes per backend.
    BuildCost {
        /// Backends to build [default: all].
        #[arg(long, value_delimiter = ',')]
        backends: Vec<String>,
    },
}

#[derive(Args)]
struct RunArgs {
    /// Servers to benchmark: backends of the workspace and `floor`, or `none` (only the
    /// `--server` ones) [default: all, the baseline `hyper` first, `floor` last].
    #[arg(long, value_delimiter = ',')]
    backends: Vec<String>,
    /// A server in any language for bench to start and measure beside the backends, e.g.
    /// `--server 'py=python3 site.py --port {port}'`; `{port}` (required), `{database}` and
    /// `{workers}` are filled in. Repeatable.
    #[arg(long = "server", value_name = "NAME=COMMAND")]
    server: Vec<String>,
    /// Scenarios to run [default: all].
    #[arg(long, value_delimiter = ',', value_enum)]
    scenarios: Vec<Scenario>,
    /// Seconds measured per window [default: 1.25, --quick 0.3].
    #[arg(long)]
    duration: Option<f64>,
    /// Seconds of warm-up before each window, on its fresh connections [default: 0.5, --quick 0.2].
    #[arg(long)]
    warmup: Option<f64>,
    /// Keep-alive connections of the load generator.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Measured repeats per scenario [default: 3, --quick 1].
    #[arg(long)]
    repeat: Option<usize>,
    /// Open loop at this many requests/s in total (latency corrected for coordinated omission).
    #[arg(long)]
    rate: Option<f64>,
    /// CPUs the server is pinned to (comma-separated) [default: the first half of the cores].
    #[arg(long, value_delimiter = ',')]
    server_cpus: Vec<usize>,
    /// CPUs the load generator is pinned to [default: the other half].
    #[arg(long, value_delimiter = ',')]
    client_cpus: Vec<usize>,
    /// Where to write report.json, report.md and report.html [default: target/sitebench/<UTC time>/].
    #[arg(long)]
    out: Option<PathBuf>,
    /// Benchmark a server that is already running (any language) instead of the backends.
    #[arg(long)]
    url: Option<String>,
    /// A short run (within 2 minutes): 1 repeat of 0.3 s per scenario, no fixed-rate windows.
    #[arg(long)]
    quick: bool,
    /// Skip the cost per request (instructions, system calls).
    #[arg(long)]
    no_cost: bool,
    /// Callgrind repeats per scenario [default: 1 in `run`, 2 in `cost`].
    #[arg(long)]
    cost_repeat: Option<usize>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run(args, true),
        Command::Cost(args) => run(args, false),
        Command::Compare {
            old,
            new,
            fail_if_worse,
            gate_timing,
        } => compare(&old, &new, fail_if_worse, gate_timing),
        Command::Verify { list: true, .. } => Ok(list_checks()),
        Command::Verify { url, .. } => verify(url.as_deref().unwrap_or_default()),
        Command::Render { report, out } => render(&report, out),
        Command::Soak { backends, seconds } => soak(backends, seconds),
        Command::Backends => {
            for name in backends::names() {
                println!("{name}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::BuildCost { backends } => build_cost(backends),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn seconds(value: f64, flag: &str) -> Result<Duration, String> {
    Duration::try_from_secs_f64(value)
        .map_err(|_| format!("--{flag} {value}: not a duration in seconds"))
}

/// `bench run` (`timing`), or `bench cost` (its cost part alone).
fn run(mut args: RunArgs, timing: bool) -> Result<ExitCode, String> {
    let commands = args
        .server
        .iter()
        .map(|arg| runner::ServerCommand::parse(arg))
        .collect::<Result<Vec<_>, _>>()?;
    for (i, command) in commands.iter().enumerate() {
        if commands[..i].iter().any(|c| c.name == command.name) {
            return Err(format!(
                "--server {}: the name is given twice",
                command.name
            ));
        }
    }
    if args.url.is_some() && !commands.is_empty() {
        return Err("--url measures one running server: give --server without it".into());
    }
    let only_commands = args.backends == ["none"];
    if only_commands {
        if commands.is_empty() {
            return Err("--backends none: then give at least one --server".into());
        }
        args.backends.clear();
    }
    for backend in &args.backends {
        if backends::find(backend).is_none() {
            return Err(format!(
                "--backends: unknown server {backend:?} (known: {}, {})",
                backends::names().join(", "),
                backends::FLOOR.name
            ));
        }
    }
    let (default_server, default_client) = runner::default_cpus();
    let (duration, warmup, repeat) = if args.quick {
        (0.3, 0.2, 1)
    } else {
        (1.25, 0.5, 3)
    };
    let options = Options {
        servers: if only_commands {
            Vec::new()
        } else if args.backends.is_empty() {
            backends::names()
                .into_iter()
                .chain([backends::FLOOR.name])
                .map(String::from)
                .collect()
        } else {
            args.backends
        },
        commands,
        scenarios: if args.scenarios.is_empty() {
            Scenario::ALL.to_vec()
        } else {
            args.scenarios
        },
        duration: seconds(args.duration.unwrap_or(duration), "duration")?,
        warmup: seconds(args.warmup.unwrap_or(warmup), "warmup")?,
        connections: args.connections.max(1),
        repeat: args.repeat.unwrap_or(repeat).max(1),
        rate: args.rate.filter(|r| *r > 0.0),
        server_cpus: if args.server_cpus.is_empty() {
            default_server
        } else {
            args.server_cpus
        },
        client_cpus: if args.client_cpus.is_empty() {
            default_client
        } else {
            args.client_cpus
        },
        out: args.out.unwrap_or_else(runner::default_out_dir),
        url: args.url,
        quick: args.quick,
        timing,
        cost: !args.no_cost,
        cost_repeat: args
            .cost_repeat
            .unwrap_or(if timing { 1 } else { 2 })
            .max(1),
    };
    let report = runner::run(&options)?;
    print!("{}", bench::render::terminal(&report));
    println!(
        "\nReports written to {}/report.{{json,csv,md,html}}",
        options.out.display()
    );
    let failed = report.backends.iter().any(|b| b.failure.is_some())
        || report
            .backends
            .iter()
            .flat_map(|b| &b.scenarios)
            .any(|s| s.markers.contains(&bench::report::Marker::Errors));
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn soak(backends: Vec<String>, seconds: u64) -> Result<ExitCode, String> {
    let names: Vec<String> = if backends.is_empty() {
        backends::names().into_iter().map(String::from).collect()
    } else {
        backends
    };
    for name in &names {
        if !backends::names().contains(&name.as_str()) {
            return Err(format!("--backends: unknown backend {name:?}"));
        }
    }
    eprintln!("Building the servers (release)...");
    bench::info::build_backends()?;
    let (server, client) = runner::default_cpus();
    let mut soaks = Vec::new();
    for name in &names {
        eprintln!("Soaking {name} for {seconds} s...");
        soaks.push(bench::soak::soak(
            name,
            Duration::from_secs(seconds.max(1)),
            &server,
            &client,
        )?);
    }
    print!("{}", bench::soak::table(&soaks));
    Ok(if soaks.iter().all(|s| s.failures().is_empty()) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn render(path: &std::path::Path, out: Option<PathBuf>) -> Result<ExitCode, String> {
    let report = Report::read(path)?;
    let dir = out.unwrap_or_else(|| {
        path.parent()
            .map_or_else(|| PathBuf::from("."), std::path::Path::to_path_buf)
    });
    report.write_md_html_csv(&dir)?;
    println!("Written to {}/report.{{csv,md,html}}", dir.display());
    Ok(ExitCode::SUCCESS)
}

fn compare(
    old: &std::path::Path,
    new: &std::path::Path,
    fail_if_worse: Option<f64>,
    gate_timing: bool,
) -> Result<ExitCode, String> {
    let changes = bench::compare::compare(&Report::read(old)?, &Report::read(new)?);
    if changes.is_empty() {
        return Err("the two reports share no backend and scenario with results".into());
    }
    print!("{}", bench::compare::table(&changes));
    let outside = changes.iter().filter(|c| !c.within_noise).count();
    println!(
        "\n{outside} of {} figures changed outside the noise.",
        changes.len()
    );
    let Some(percent) = fail_if_worse else {
        return Ok(ExitCode::SUCCESS);
    };
    let worse = bench::compare::worse_than(&changes, percent, gate_timing);
    for c in &worse {
        println!(
            "worse by {:.1}% (more than {percent}%): {} {} {}",
            c.worse_by_percent(),
            c.backend,
            c.scenario,
            c.figure.label()
        );
    }
    Ok(if worse.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn build_cost(asked: Vec<String>) -> Result<ExitCode, String> {
    let names: Vec<String> = if asked.is_empty() {
        backends::names().into_iter().map(String::from).collect()
    } else {
        asked
    };
    if let Some(unknown) = names
        .iter()
        .find(|n| !backends::names().contains(&n.as_str()))
    {
        return Err(format!("--backends: no backend named {unknown}"));
    }
    let measured_utc = runner::now_rfc3339();
    let path = bench::build_cost::path();
    let mut measured = std::collections::BTreeMap::new();
    for name in &names {
        eprintln!("Building backend-{name} from an empty target directory...");
        let build = bench::build_cost::measure(name, &measured_utc)?;
        println!("{name:<8} {:>6.0} s", build.seconds);
        measured.insert(name.clone(), build);
        // Written after each backend: an interrupted measurement keeps what was done.
        let costs = bench::build_cost::merge(
            bench::build_cost::read(&path),
            bench::procfs::machine(),
            bench::build_cost::BuildCosts {
                machine: bench::procfs::machine(),
                backends: measured.clone(),
            },
        );
        bench::build_cost::write(&path, &costs)?;
    }
    eprintln!("Written to {}", path.display());
    Ok(ExitCode::SUCCESS)
}

/// The suite's index: every check under its SITE.md section.
fn list_checks() -> ExitCode {
    let mut section = "";
    for check in site_conformance::CHECKS {
        if check.section != section {
            section = check.section;
            println!("SITE.md section {section}");
        }
        println!("  {}", check.name);
    }
    ExitCode::SUCCESS
}

fn verify(url: &str) -> Result<ExitCode, String> {
    let target = site_conformance::Target::new(url.trim_end_matches('/'));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let summary = runtime.block_on(site_conformance::run_all(&target, |check, outcome| {
        use site_conformance::Outcome;
        match outcome {
            Outcome::Pass => println!("pass  {}", check.name),
            Outcome::Skip(why) => println!("skip  {}: {why}", check.name),
            Outcome::Fail(why) => println!("FAIL  {}: {why}", check.name),
        }
    }));
    // The plain closing line test runners understand: "N passed, N failed, N skipped".
    println!(
        "{} passed, {} failed, {} skipped",
        summary.passed,
        summary.failed.len(),
        summary.skipped.len()
    );
    Ok(if summary.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
