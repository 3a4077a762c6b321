//! The figures that `README.md` and `docs/frameworks.md` quote, made from one report and the
//! workspace, so that a quoted figure is never typed by hand. A document marks each quoted
//! block `<!-- quoted:NAME -->` … `<!-- /quoted:NAME -->`; `bench/tests/quoted_figures.rs`
//! checks every block against [`block`] for the newest report under `docs/results/`, and
//! rewrites them with `SITEBENCH_BLESS=1`.

use std::fmt::Write;

use crate::output::table::{Align, Cell, Column, Table};
use crate::report::answer::{findings, grouped};
use crate::report::{BackendReport, Report, Role, ScenarioReport};
use crate::workspace::backends::BASELINE;

/// The block named `name` for a document that links the report's Markdown as `report_link`
/// (relative to that document); `None` for a name no block has.
pub fn block(name: &str, report: &Report, report_link: &str) -> Option<String> {
    Some(match name {
        "answer" => answer(report, report_link),
        "figures" => figures(report).markdown(),
        "checks" => checks(),
        "versions" => versions(report, report_link),
        "numbers" => numbers(report, report_link),
        "exhaustion" => exhaustion(report, report_link),
        _ => return None,
    })
}

/// The machine and the date, in one phrase: "a 2-core AMD EPYC (24 GiB, Debian ...), 2026-11-29".
fn run_phrase(report: &Report) -> String {
    let m = &report.machine;
    let date = report.created_utc.get(..10).unwrap_or(&report.created_utc);
    let kind = if report.options.quick {
        "A `--quick` run (`cargo run --release -p bench -- run --quick`)"
    } else {
        "One default run (`cargo run --release -p bench -- run`)"
    };
    format!(
        "{kind} on a {}-core {} ({:.0} GiB, {}, Linux {}), {date}, git revision {}",
        m.cores,
        m.cpu_model,
        m.memory_mib as f64 / 1024.0,
        m.os,
        m.kernel,
        report.git_revision.as_deref().unwrap_or("unknown"),
    )
}

/// The report's answer, criterion by criterion, after the run it comes from.
fn answer(report: &Report, report_link: &str) -> String {
    let mut out = format!(
        "{}; the whole report: [{report_link}]({report_link}), its charts in the `.html` \
         beside it.\n\n",
        run_phrase(report)
    );
    for finding in findings(report) {
        let _ = writeln!(out, "- **{}**: {}", finding.criterion, finding.answer);
    }
    out
}

/// The servers of the report that ran, the baseline first, `floor` last (as the report has them).
fn servers(report: &Report) -> Vec<&BackendReport> {
    report
        .backends
        .iter()
        .filter(|b| b.failure.is_none())
        .collect()
}

fn scenario<'a>(backend: &'a BackendReport, name: &str) -> Option<&'a ScenarioReport> {
    backend.scenarios.iter().find(|s| s.name == name)
}

fn instructions(backend: &BackendReport, name: &str) -> Option<f64> {
    scenario(backend, name)?
        .cost
        .as_ref()?
        .instructions_per_request()
}

/// Instructions per request (with the ratio to the baseline) and requests/s, a row per
/// scenario and a column per server.
fn figures(report: &Report) -> Table {
    let servers = servers(report);
    let mut columns = vec![Column::new("scenario", Align::Left)];
    columns.extend(
        servers
            .iter()
            .map(|b| Column::new(b.name.clone(), Align::Right)),
    );
    let mut table = Table::new(columns);
    let baseline = servers.iter().find(|b| b.name == BASELINE);
    let mut names: Vec<&str> = Vec::new();
    for backend in &servers {
        for s in &backend.scenarios {
            if !names.contains(&s.name.as_str()) {
                names.push(&s.name);
            }
        }
    }
    for name in names {
        let mut row = vec![Cell::text(name)];
        for backend in &servers {
            let rate = scenario(backend, name)
                .and_then(|s| s.summary.as_ref())
                .map(|s| s.requests_per_sec.median);
            let cost = instructions(backend, name).map(|i| {
                match baseline.and_then(|b| instructions(b, name)) {
                    Some(base) if base > 0.0 => format!("{} ({:.2}×)", grouped(i), i / base),
                    _ => grouped(i),
                }
            });
            let text = match (cost, rate) {
                (Some(c), Some(r)) => format!("{c} · {}/s", grouped(r)),
                (Some(c), None) => c,
                (None, Some(r)) => format!("{}/s", grouped(r)),
                (None, None) => "-".to_owned(),
            };
            row.push(Cell::text(text));
        }
        table.rows.push(row);
    }
    table
}

/// How many checks the conformance suite has, which every backend passes in its tests.
fn checks() -> String {
    format!(
        "Every backend passes all {} checks of the conformance suite in `cargo test --workspace`, \
         but for the deviations it declares, which the suite then expects from it.\n",
        site_conformance::CHECKS.len()
    )
}

/// The frameworks' versions the run was built with.
fn versions(report: &Report, report_link: &str) -> String {
    let list: Vec<String> = report
        .versions
        .iter()
        .filter(|(name, _)| name.as_str() != "site-core")
        .map(|(name, version)| format!("{name} {version}"))
        .collect();
    format!(
        "Versions, as the newest committed run ([{report_link}]({report_link})) built them: {}.\n",
        list.join(", ")
    )
}

/// The out-of-descriptors table of the newest run, after the run it comes from.
fn exhaustion(report: &Report, report_link: &str) -> String {
    match crate::output::report_tables::exhaustion(&report.backends) {
        Some(table) => format!(
            "{}; the whole report: [{report_link}]({report_link}).\n\n{}",
            run_phrase(report),
            table.markdown()
        ),
        None => format!(
            "The newest committed run ([{report_link}]({report_link})) did not measure it.\n"
        ),
    }
}

/// The facts of each framework from one run: a row per figure, a column per backend.
fn numbers(report: &Report, report_link: &str) -> String {
    let chosen: Vec<&BackendReport> = servers(report)
        .into_iter()
        .filter(|b| b.role != Role::Reference)
        .collect();
    let mut columns = vec![Column::new("", Align::Left)];
    columns.extend(chosen.iter().map(|b| {
        Column::new(
            if b.name == BASELINE {
                format!("{} (no framework)", b.name)
            } else {
                b.name.clone()
            },
            Align::Right,
        )
    }));
    let mut table = Table::new(columns);
    type FigureOf<'r> = Box<dyn Fn(&BackendReport) -> Option<String> + 'r>;
    let by_group = |scenario_name: &'static str| -> FigureOf<'static> {
        Box::new(move |b: &BackendReport| {
            let cost = scenario(b, scenario_name)?.cost.as_ref()?;
            let sum: f64 = ["site-core", "adapter"]
                .iter()
                .filter_map(|g| cost.by_group.get(*g))
                .sum();
            Some(grouped(sum))
        })
    };
    let instructions_of = |scenario_name: &'static str| -> FigureOf<'static> {
        Box::new(move |b: &BackendReport| instructions(b, scenario_name).map(grouped))
    };
    let rows: Vec<(&str, FigureOf<'_>)> = vec![
        (
            "adapter lines (non-blank, non-comment, `src/`)",
            Box::new(|b: &BackendReport| b.adapter_lines.map(|n| n.to_string())),
        ),
        (
            "release binary (fat LTO, 1 codegen unit)",
            Box::new(|b: &BackendReport| {
                b.binary_bytes
                    .map(|n| format!("{:.1} MiB", n as f64 / 1_048_576.0))
            }),
        ),
        (
            "crates in the dependency tree",
            Box::new(|b: &BackendReport| b.dependency_count.map(|n| n.to_string())),
        ),
        (
            "clean release build (`bench build-cost`)",
            Box::new(|b: &BackendReport| {
                b.clean_build
                    .as_ref()
                    .map(|c| format!("{:.0} s", c.seconds))
            }),
        ),
        (
            "clean debug build (`bench build-cost`)",
            Box::new(|b: &BackendReport| {
                Some(format!("{:.0} s", b.edit_loop()?.clean_debug_seconds))
            }),
        ),
        (
            "after a one-line edit: `cargo check` / `build` / `build --release`",
            Box::new(|b: &BackendReport| {
                let edit_loop = b.edit_loop()?;
                Some(format!(
                    "{:.1} / {:.1} / {:.0} s",
                    edit_loop.check_median()?,
                    edit_loop.debug_median()?,
                    edit_loop.release_median()?
                ))
            }),
        ),
        (
            "instructions per `/plaintext` request",
            instructions_of("plaintext"),
        ),
        (
            "the same, as a ratio to hyper",
            Box::new(|b: &BackendReport| {
                let base = report
                    .backends
                    .iter()
                    .find(|x| x.name == BASELINE)
                    .and_then(|x| instructions(x, "plaintext"))?;
                instructions(b, "plaintext").map(|i| format!("{:.2}", i / base))
            }),
        ),
        (
            "instructions per `/` (static page) request",
            instructions_of("static"),
        ),
        (
            "instructions per `/me` request (session)",
            instructions_of("me"),
        ),
        (
            "site-core and adapter instructions per `/plaintext` request",
            by_group("plaintext"),
        ),
        ("the same per `/` request", by_group("static")),
        (
            "system calls per request (one at a time)",
            Box::new(|b: &BackendReport| {
                scenario(b, "plaintext")?
                    .cost
                    .as_ref()?
                    .syscalls_per_request
                    .map(|n| format!("{n:.1}"))
            }),
        ),
    ];
    for (label, figure) in &rows {
        // A figure no server has (a report from before it was measured) is no row.
        if chosen.iter().all(|b| figure(b).is_none()) {
            continue;
        }
        let mut row = vec![Cell::text(*label)];
        row.extend(
            chosen
                .iter()
                .map(|b| Cell::text(figure(b).unwrap_or_else(|| "-".to_owned()))),
        );
        table.rows.push(row);
    }
    let floor = report
        .backends
        .iter()
        .find(|b| b.role == Role::Reference)
        .and_then(|f| Some((f.name.as_str(), instructions(f, "plaintext")?)));
    let hyper = report
        .backends
        .iter()
        .find(|b| b.name == BASELINE)
        .and_then(|b| instructions(b, "plaintext"));
    let mut out = format!(
        "{} ([{report_link}]({report_link})); build times from `bench build-cost`, one backend at \
         a time, each from an empty target directory:\n\n",
        run_phrase(report)
    );
    out.push_str(&table.markdown());
    if let (Some((name, floor)), Some(hyper)) = (floor, hyper) {
        let _ = write!(
            out,
            "\n`{name}` (hyper with no site logic) takes {} instructions per `/plaintext` \
             request, so the site's own rules cost hyper {} more ({:.2}×).\n",
            grouped(floor),
            grouped(hyper - floor),
            hyper / floor
        );
    }
    out
}
