//! `bench run` and `bench cost` (BENCH.md 1 and 4), phase by phase: each server's start-up
//! timed alone and every server then up and verified (`startup`, `setup`), the conformance
//! suite against all of them, every server started again so nothing timed cheap has hashed
//! a password, then scenario by scenario the timed windows (`timing`) and, for the cheap
//! scenarios, the fixed-rate windows (`fixed_rate`), then idle connections and running out
//! of descriptors (`connections_phase`), then the cost per request (`cost_phase`). Servers
//! stop with SIGTERM, their exit status checked. The report is
//! rewritten after every scenario, so a crash keeps what was done. `bench soak` (`soak`)
//! runs each backend alone, for a long time.

pub mod connections_phase;
pub mod cost_phase;
pub mod fixed_rate;
pub mod options;
pub mod setup;
pub mod soak;
pub mod startup;
pub mod timing;

use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use crate::measure::{cost, idle, procfs};
use crate::output::files;
use crate::report::scenario::Scenario;
use crate::report::{Report, SCHEMA};
use crate::run::options::{HASHING_REPEAT, Options};
use crate::run::setup::Server;
use crate::workspace::{binaries, dependencies, git};

pub fn run(options: &Options) -> Result<Report, String> {
    let mut report = Report {
        schema: SCHEMA.into(),
        created_utc: now_rfc3339(),
        git_revision: git::git_revision(),
        machine: procfs::machine(),
        options: options.recorded(),
        versions: dependencies::versions(),
        backends: Vec::new(),
        notes: Vec::new(),
        cheap_scenarios: Scenario::ALL
            .iter()
            .filter(|s| s.averaged())
            .map(|s| s.name().to_owned())
            .collect(),
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
    let url_addr = options
        .url
        .as_deref()
        .map(setup::loopback_addr)
        .transpose()?;
    if url_addr.is_none() && !options.servers.is_empty() {
        eprintln!("Building the servers (release; the first build takes several minutes)...");
        binaries::build_backends()?;
    }
    if options.idle() {
        // Before any server starts, so that each inherits it.
        idle::raise_descriptor_limit(options.idle_wanted());
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
            "Benchmarking {who} on {} scenarios, {} x {} s each{} after {} s warm-up, repeats interleaved{}",
            options.scenarios.len(),
            options.repeat,
            options.duration.as_secs_f64(),
            if options.repeat > HASHING_REPEAT {
                format!(" ({HASHING_REPEAT} x for the password-hashing ones)")
            } else {
                String::new()
            },
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
        Some(addr) => vec![setup::external(options, addr, &tag)],
        None => {
            let mut servers: Vec<Server> = options
                .servers
                .iter()
                .map(|name| {
                    progress.set_message(format!("{name}: starting and verifying"));
                    setup::start(options, name, &tag)
                })
                .collect();
            for command in &options.commands {
                progress.set_message(format!("{}: starting and verifying", command.name));
                servers.push(setup::start_command(options, command, &tag));
            }
            servers
        }
    };
    let mut phases = vec![("start-up", started.elapsed())];
    if options.conformance() {
        progress.set_message("the conformance suite, against every server at once");
        setup::conformance(options, &mut servers);
        setup::wait_all_idle(&servers);
        progress.inc(u64::try_from(options.conformance_estimate().as_millis()).unwrap_or(0));
        phases.push(("conformance", started.elapsed()));
    }
    if options.timing {
        // Preparing `me` and `login` hashed passwords too, so even without the suite.
        progress.set_message("every server started again, to time it before it hashes");
        setup::restart(options, &mut servers);
    }
    let write = |servers: &[Server], report: &mut Report| {
        report.backends = servers.iter().map(|s| s.report.clone()).collect();
        files::write_all(report, &options.out)
    };
    write(&servers, &mut report)?;
    let mut per_scenario = Vec::new();
    if options.timing {
        for &scenario in &options.scenarios {
            let at = Instant::now();
            timing::time_scenario(options, scenario, &mut servers, &progress);
            per_scenario.push(format!(
                "{} {:.0}",
                scenario.name(),
                at.elapsed().as_secs_f64()
            ));
            write(&servers, &mut report)?;
        }
        phases.push(("timing", started.elapsed()));
    }
    if options.idle() {
        report.notes.extend(connections_phase::idle_connections(
            options,
            &mut servers,
            &progress,
        ));
        write(&servers, &mut report)?;
        phases.push(("idle connections", started.elapsed()));
    }
    if options.exhaustion() {
        connections_phase::out_of_descriptors(options, &mut servers, &progress);
        write(&servers, &mut report)?;
        phases.push(("out of descriptors", started.elapsed()));
    }
    if options.cost && perf_missing.is_none() {
        for server in servers.iter_mut() {
            progress.set_message(format!("{}: system calls per request", server.report.name));
            cost_phase::kernel_share(server);
        }
        write(&servers, &mut report)?;
        phases.push(("system calls", started.elapsed()));
    }
    for server in &mut servers {
        if let Some(process) = &mut server.process {
            let clean = process.stop();
            // `restart` wrote `false` if the first process did not exit cleanly.
            server.report.clean_exit = Some(clean && server.report.clean_exit != Some(false));
        }
    }
    if options.cost && valgrind_missing.is_none() && url_addr.is_none() {
        cost_phase::instructions(options, &mut servers, &progress);
        phases.push(("instructions", started.elapsed()));
    }
    write(&servers, &mut report)?;
    progress.finish_and_clear();
    let took = started.elapsed().as_secs();
    let mut since = Duration::ZERO;
    let split: Vec<String> = phases
        .into_iter()
        .map(|(phase, at)| {
            let mut part = format!("{phase} {:.0} s", (at - since).as_secs_f64());
            if phase == "timing" {
                part.push_str(&format!(" ({})", per_scenario.join(", ")));
            }
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
