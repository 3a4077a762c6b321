//! What each of `bench`'s eight commands does once its flags are parsed: `run` and `cost`,
//! `compare`, `verify` (and its `--list`), `render`, `soak`, `backends` and `build-cost`. Each
//! returns the process's exit status, or the one line an error ends it with.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use crate::cli::args::RunArgs;
use crate::cli::backend_names::{self, Known};
use crate::cli::run_options;
use crate::measure::procfs;
use crate::output::{files, terminal};
use crate::report::answer_change::compare_answers;
use crate::report::compare::{compare as compare_reports, worse_than};
use crate::report::{CleanBuild, EditLoop, Marker, Report};
use crate::run::options::default_cpus;
use crate::run::{self, soak as soaking};
use crate::workspace::build_cost::{self, BuildCosts};
use crate::workspace::{backends, binaries, edit};

/// `bench run` (`timing`), or `bench cost` (its cost part alone).
pub fn run(args: RunArgs, timing: bool) -> Result<ExitCode, String> {
    let options = run_options::options(args, timing)?;
    let report = run::run(&options)?;
    print!("{}", terminal::run_report(&report));
    println!(
        "\nReports written to {}/report.{{json,csv,md,html}}",
        options.out.display()
    );
    let failed = report.backends.iter().any(|b| b.failure.is_some())
        || report
            .backends
            .iter()
            .flat_map(|b| &b.scenarios)
            .any(|s| s.markers.contains(&Marker::Errors));
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// `bench soak`: each backend alone under `mixed` for `seconds`.
pub fn soak(backends: Vec<String>, seconds: u64) -> Result<ExitCode, String> {
    let names = backend_names::or_all(backends);
    backend_names::check(&names, Known::Backends)?;
    eprintln!("Building the servers (release)...");
    binaries::build_backends()?;
    let (server, client) = default_cpus();
    let mut soaks = Vec::new();
    for name in &names {
        eprintln!("Soaking {name} for {seconds} s...");
        soaks.push(soaking::soak(
            name,
            Duration::from_secs(seconds.max(1)),
            &server,
            &client,
        )?);
    }
    print!("{}", soaking::table(&soaks));
    Ok(if soaks.iter().all(|s| s.failures().is_empty()) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// `bench render`: the three rendered files again from a report.json.
pub fn render(path: &Path, out: Option<PathBuf>) -> Result<ExitCode, String> {
    let report = Report::read(path)?;
    let dir = out.unwrap_or_else(|| {
        path.parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
    });
    files::write_rendered(&report, &dir)?;
    println!("Written to {}/report.{{csv,md,html}}", dir.display());
    Ok(ExitCode::SUCCESS)
}

/// `bench compare`: NEW/OLD per figure and whether the answer changed, and the gates of
/// `--fail-if-worse` and `--same-answer`.
pub fn compare(
    old: &Path,
    new: &Path,
    fail_if_worse: Option<f64>,
    gate_timing: bool,
    same_answer: bool,
) -> Result<ExitCode, String> {
    let (old, new) = (Report::read(old)?, Report::read(new)?);
    let changes = compare_reports(&old, &new);
    if changes.is_empty() {
        return Err("the two reports share no backend and scenario with results".into());
    }
    print!("{}", terminal::comparison(&changes));
    let outside = changes.iter().filter(|c| !c.within_noise).count();
    println!(
        "\n{outside} of {} figures changed outside the noise.",
        changes.len()
    );
    let answers = compare_answers(&old, &new);
    print!("\n{}", terminal::answer_changes(&answers));
    let changed = answers.iter().filter(|a| a.changed()).count();
    println!(
        "{changed} of {} criteria answer differently{}.",
        answers.len(),
        if changed > 0 && !same_answer {
            " (reported, not failed: timing may differ between machines; --same-answer fails on it)"
        } else {
            ""
        }
    );
    let mut failed = same_answer && changed > 0;
    if let Some(percent) = fail_if_worse {
        let worse = worse_than(&changes, percent, gate_timing);
        for c in &worse {
            println!(
                "worse by {:.1}% (more than {percent}%): {} {} {}",
                c.worse_by_percent(),
                c.backend,
                c.scenario,
                c.figure.label()
            );
        }
        failed |= !worse.is_empty();
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// `bench build-cost`: each backend's clean builds and edit-compile loop, timed into
/// docs/build-cost.json. An edit a killed run left is undone before anything else, and from
/// then on a signal undoes the edit in place before the process ends.
pub fn build_cost(asked: Vec<String>) -> Result<ExitCode, String> {
    let names = backend_names::or_all(asked);
    backend_names::check(&names, Known::Backends)?;
    let workspace = build_cost::workspace();
    let backups = build_cost::backup_dir(&workspace);
    for adapter in edit::recover(&backups)? {
        eprintln!(
            "Restored {}: a build-cost killed earlier had left it edited.",
            adapter.display()
        );
    }
    edit::restore_on_interrupt(backups)?;
    let cargo = build_cost::cargo();
    let measured_utc = run::now_rfc3339();
    let path = workspace.join(build_cost::FILE);
    let mut measured = BTreeMap::new();
    let after = format!("after an edit (median of {})", build_cost::EDITS);
    println!("{:<8} {:>19} | {after:>29}", "", "clean build");
    println!(
        "{}",
        build_cost_row(["backend", "release", "debug", "check", "debug", "release"])
    );
    for name in &names {
        eprintln!(
            "Building backend-{name} from an empty target directory, then after {} edits...",
            build_cost::EDITS
        );
        let build = build_cost::measure(&workspace, &cargo, name, &measured_utc)?;
        println!("{}", build_cost_line(name, &build));
        measured.insert(name.clone(), build);
        // Written after each backend: an interrupted measurement keeps what was done.
        let costs = build_cost::merge(
            build_cost::read(&path),
            procfs::machine(),
            BuildCosts {
                machine: procfs::machine(),
                backends: measured.clone(),
            },
        );
        build_cost::write(&path, &costs)?;
    }
    eprintln!("Written to {}", path.display());
    Ok(ExitCode::SUCCESS)
}

/// One backend's row of `build_cost`'s table: its clean builds, then the loop's medians.
fn build_cost_line(name: &str, build: &CleanBuild) -> String {
    let seconds = |s: Option<f64>| s.map_or_else(|| "-".to_owned(), |v| format!("{v:.1} s"));
    let edit_loop = build.edit_loop.as_ref();
    let cells = [
        seconds(Some(build.seconds)),
        seconds(edit_loop.map(|l| l.clean_debug_seconds)),
        seconds(edit_loop.and_then(EditLoop::check_median)),
        seconds(edit_loop.and_then(EditLoop::debug_median)),
        seconds(edit_loop.and_then(EditLoop::release_median)),
    ];
    let [release, debug, check, debug_edit, release_edit] = cells.each_ref().map(String::as_str);
    build_cost_row([name, release, debug, check, debug_edit, release_edit])
}

fn build_cost_row(cells: [&str; 6]) -> String {
    let [name, release, debug, check, debug_edit, release_edit] = cells;
    format!("{name:<8} {release:>9} {debug:>9} | {check:>9} {debug_edit:>9} {release_edit:>9}")
}

/// `bench verify --list`: the suite's index, every check under its SITE.md section.
pub fn list_checks() -> ExitCode {
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

/// `bench verify`: the conformance suite against a running server.
pub fn verify(url: &str) -> Result<ExitCode, String> {
    let target = site_conformance::Target::new(url.trim_end_matches('/'));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let results = runtime.block_on(site_conformance::run_all(&target, |check, outcome| {
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
        results.passed,
        results.failed.len(),
        results.skipped.len()
    );
    Ok(if results.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// `bench backends`: the workspace's backends, one per line, the baseline first.
pub fn list_backends() -> ExitCode {
    for name in backends::names() {
        println!("{name}");
    }
    ExitCode::SUCCESS
}
