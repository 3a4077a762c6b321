//! The report's two tables as table models: the figures (a row per scenario and server, the
//! best value of each ranked column marked within its scenario) and the servers (a row per
//! server: its role, conformance, deviations and the facts of its build). Every format shows
//! these same tables.

use crate::output::escape;
use crate::output::table::{Align, Cell, CodeRef, Column, Span, Table};
use crate::report::connections::Exhaustion;
use crate::report::scenario::Scenario;
use crate::report::stats::{RepeatStats, Stat};
use crate::report::{BackendReport, Conformance, Report, Role, ScenarioReport};
use crate::workspace::backends::BASELINE;

/// A server on a scenario: one row of the figures.
pub struct ScenarioRow<'a> {
    pub backend: &'a str,
    pub scenario: &'a ScenarioReport,
    summary: Option<&'a RepeatStats>,
}

/// The report's entries grouped by scenario, in the order they first appear.
pub fn by_scenario(report: &Report) -> Vec<(String, Vec<ScenarioRow<'_>>)> {
    let mut groups: Vec<(String, Vec<ScenarioRow<'_>>)> = Vec::new();
    for backend in &report.backends {
        for scenario in &backend.scenarios {
            let entry = ScenarioRow {
                backend: &backend.name,
                scenario,
                summary: scenario.summary.as_ref(),
            };
            match groups.iter_mut().find(|(name, _)| *name == scenario.name) {
                Some((_, group)) => group.push(entry),
                None => groups.push((scenario.name.clone(), vec![entry])),
            }
        }
    }
    groups
}

/// A figure of the figures table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Metric {
    RequestsPerSec,
    RequestsToBaseline,
    P50,
    P90,
    P99,
    P999,
    Cpu,
    UserSystem,
    Instructions,
    InstructionsToBaseline,
    Syscalls,
    Rss,
    Errors,
    DroppedWindows,
}

const METRICS: [Metric; 14] = [
    Metric::RequestsPerSec,
    Metric::RequestsToBaseline,
    Metric::P50,
    Metric::P90,
    Metric::P99,
    Metric::P999,
    Metric::Cpu,
    Metric::UserSystem,
    Metric::Instructions,
    Metric::InstructionsToBaseline,
    Metric::Syscalls,
    Metric::Rss,
    Metric::Errors,
    Metric::DroppedWindows,
];

fn instructions(entry: &ScenarioRow<'_>) -> Option<f64> {
    entry.scenario.cost.as_ref()?.instructions_per_request()
}

/// `value` of this row over the same of the baseline's row.
fn ratio(value: Option<f64>, baseline: Option<f64>) -> Option<f64> {
    match (value, baseline) {
        (Some(v), Some(b)) if b > 0.0 => Some(v / b),
        _ => None,
    }
}

impl Metric {
    fn heading(self) -> &'static str {
        match self {
            Self::RequestsPerSec => "req/s",
            Self::RequestsToBaseline => "× hyper",
            Self::P50 => "p50 µs",
            Self::P90 => "p90 µs",
            Self::P99 => "p99 µs",
            Self::P999 => "p99.9 µs",
            Self::Cpu => "CPU µs/req",
            Self::UserSystem => "user/sys µs",
            Self::Instructions => "instr/req",
            Self::InstructionsToBaseline => "instr × hyper",
            Self::Syscalls => "syscalls/req",
            Self::Rss => "RSS MiB",
            Self::Errors => "errors",
            Self::DroppedWindows => "noisy dropped",
        }
    }

    /// Whether higher is better (`None`: not ranked).
    fn higher_is_better(self) -> Option<bool> {
        match self {
            Self::RequestsPerSec => Some(true),
            Self::P50
            | Self::P90
            | Self::P99
            | Self::P999
            | Self::Cpu
            | Self::Instructions
            | Self::Rss => Some(false),
            Self::RequestsToBaseline
            | Self::UserSystem
            | Self::InstructionsToBaseline
            | Self::Syscalls
            | Self::Errors
            | Self::DroppedWindows => None,
        }
    }

    /// Whether the best value is marked: ranked columns are.
    fn marks_best(self) -> bool {
        self.higher_is_better().is_some()
    }

    fn value(self, entry: &ScenarioRow<'_>, baseline: Option<&ScenarioRow<'_>>) -> Option<f64> {
        let summary = entry.summary;
        match self {
            Self::RequestsPerSec => Some(summary?.requests_per_sec.median),
            Self::RequestsToBaseline => ratio(
                Some(summary?.requests_per_sec.median),
                Some(baseline?.summary?.requests_per_sec.median),
            ),
            Self::P50 => Some(summary?.p50_us.median),
            Self::P90 => Some(summary?.p90_us.median),
            Self::P99 => Some(summary?.p99_us.median),
            Self::P999 => Some(summary?.p999_us.median),
            Self::Cpu => Some(summary?.server_cpu_us_per_request?.median),
            Self::UserSystem => Some(summary?.server_cpu_user_us_per_request?.median),
            Self::Instructions => instructions(entry),
            Self::InstructionsToBaseline => ratio(instructions(entry), instructions(baseline?)),
            Self::Syscalls => entry.scenario.cost.as_ref()?.syscalls_per_request,
            Self::Rss => Some(summary?.server_peak_rss_kib?.median / 1024.0),
            Self::Errors => Some(summary?.errors as f64),
            Self::DroppedWindows => Some(entry.scenario.dropped.len() as f64),
        }
    }

    fn format(self, value: f64, entry: &ScenarioRow<'_>) -> String {
        match self {
            Self::RequestsPerSec => match entry.summary {
                Some(s) if s.requests_per_sec.min != s.requests_per_sec.max => format!(
                    "{:.0} ({:.0}–{:.0})",
                    value, s.requests_per_sec.min, s.requests_per_sec.max
                ),
                _ => format!("{value:.0}"),
            },
            Self::RequestsToBaseline | Self::InstructionsToBaseline => format!("{value:.2}"),
            Self::UserSystem => {
                let system = entry
                    .summary
                    .and_then(|s| s.server_cpu_system_us_per_request)
                    .map_or(f64::NAN, |s| s.median);
                format!("{value:.1}/{system:.1}")
            }
            Self::Cpu | Self::Rss | Self::Syscalls => format!("{value:.1}"),
            _ => format!("{value:.0}"),
        }
    }
}

/// The baseline's row of a group, for the ratios.
fn baseline<'a, 'b>(group: &'b [ScenarioRow<'a>]) -> Option<&'b ScenarioRow<'a>> {
    group.iter().find(|e| e.backend == BASELINE)
}

/// The best value of each metric within a scenario group (`None`: not ranked).
fn best(group: &[ScenarioRow<'_>]) -> Vec<Option<f64>> {
    let base = baseline(group);
    METRICS
        .iter()
        .map(|metric| {
            let higher = metric.higher_is_better()?;
            group
                .iter()
                .filter_map(|e| metric.value(e, base))
                .reduce(|b, v| {
                    if (higher && v > b) || (!higher && v < b) {
                        v
                    } else {
                        b
                    }
                })
        })
        .collect()
}

/// The figures: a row per server and scenario, grouped by scenario; each backend links to
/// its handler of the row's scenario.
pub fn figures(report: &Report) -> Table {
    let mut columns = vec![
        Column::new("scenario", Align::Left),
        Column::new("backend", Align::Left),
    ];
    columns.extend(
        METRICS
            .iter()
            .map(|m| Column::new(m.heading(), Align::Right)),
    );
    columns.push(Column::new("markers", Align::Left));
    let mut table = Table::new(columns);
    for (_, group) in by_scenario(report) {
        let best = best(&group);
        let base = baseline(&group);
        for entry in &group {
            let mut row = vec![
                Cell::text(entry.scenario.name.clone()),
                Cell::text(entry.backend).linked(CodeRef::Handler {
                    backend: entry.backend.to_owned(),
                    scenario: entry.scenario.name.clone(),
                }),
            ];
            if let Some(why) = &entry.scenario.failed {
                // The reason goes last, where a long text widens no figure's column.
                row.push(Cell::text("not timed"));
                row.extend(std::iter::repeat_n(Cell::text(""), METRICS.len() - 1));
                row.push(Cell::text(format!(
                    "failed verification: {}",
                    escape::markdown_cell(why)
                )));
            } else {
                for (i, metric) in METRICS.iter().enumerate() {
                    row.push(match metric.value(entry, base) {
                        None => Cell::text("-"),
                        Some(v) => Cell::text(metric.format(v, entry))
                            .best(metric.marks_best() && best[i] == Some(v)),
                    });
                }
                let mut markers: Vec<&str> =
                    entry.scenario.markers.iter().map(|m| m.as_str()).collect();
                // Its memory is the password hashing's (argon2's 19 MiB a hashing thread,
                // the same code in every backend), not the framework's.
                if Scenario::named(&entry.scenario.name).is_some_and(|s| !s.cheap()) {
                    markers.push("RSS is argon2's");
                }
                row.push(Cell::text(markers.join(", ")));
            }
            table.rows.push(row);
        }
    }
    table
}

/// A column of the servers table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ServerColumn {
    Server,
    Role,
    Conformance,
    Deviations,
    AdapterLines,
    ReleaseBinary,
    Dependencies,
    CleanBuild,
    CleanDebugBuild,
    EditLoop,
    Startup,
    StartupRss,
    CleanExit,
    Verified,
}

const SERVER_COLUMNS: [ServerColumn; 14] = [
    ServerColumn::Server,
    ServerColumn::Role,
    ServerColumn::Conformance,
    ServerColumn::Deviations,
    ServerColumn::AdapterLines,
    ServerColumn::ReleaseBinary,
    ServerColumn::Dependencies,
    ServerColumn::CleanBuild,
    ServerColumn::CleanDebugBuild,
    ServerColumn::EditLoop,
    ServerColumn::Startup,
    ServerColumn::StartupRss,
    ServerColumn::CleanExit,
    ServerColumn::Verified,
];

impl ServerColumn {
    fn column(self) -> Column {
        let (heading, align) = match self {
            Self::Server => ("server", Align::Left),
            Self::Role => ("role", Align::Left),
            Self::Conformance => ("conformance", Align::Left),
            Self::Deviations => ("declared deviations", Align::Left),
            Self::AdapterLines => ("adapter lines", Align::Right),
            Self::ReleaseBinary => ("release binary", Align::Right),
            Self::Dependencies => ("crates in dependency tree", Align::Right),
            Self::CleanBuild => ("clean release build", Align::Right),
            Self::CleanDebugBuild => ("clean debug build", Align::Right),
            Self::EditLoop => ("after an edit: check / build / release", Align::Right),
            Self::Startup => ("start-up ms", Align::Right),
            Self::StartupRss => ("RSS at start MiB", Align::Right),
            Self::CleanExit => ("SIGTERM exit 0", Align::Left),
            Self::Verified => ("verified", Align::Left),
        };
        Column::new(heading, align)
    }

    fn cell(self, b: &BackendReport) -> Cell {
        match self {
            Self::Server => match &b.command {
                Some(c) => Cell::spans(vec![
                    Span::Text(format!("{} (", b.name)),
                    Span::Code(escape::markdown_cell(c)),
                    Span::Text(")".into()),
                ]),
                // A server of the workspace links to its route table (one started by a
                // command is not of the workspace).
                None => Cell::text(b.name.clone()).linked(CodeRef::Routes {
                    backend: b.name.clone(),
                }),
            },
            Self::Role => Cell::text(match b.role {
                Role::Baseline => "baseline: no framework",
                Role::Reference => "reference: no site logic, not verified",
                Role::Framework => "framework",
                Role::External => "external",
            }),
            Self::Conformance => b
                .conformance
                .as_ref()
                .map_or_else(|| Cell::text("-"), conformance_cell),
            Self::Deviations => Cell::text(match (b.role, b.deviations.as_slice()) {
                (Role::Baseline | Role::Framework, []) => "none".to_owned(),
                (_, []) => "-".to_owned(),
                (_, list) => list.join(", "),
            }),
            Self::AdapterLines => Cell::text(b.adapter_lines.map_or("-".into(), |v| v.to_string())),
            Self::ReleaseBinary => Cell::text(
                b.binary_bytes
                    .map_or("-".into(), |v| format!("{:.1} MiB", v as f64 / 1048576.0)),
            ),
            Self::Dependencies => {
                Cell::text(b.dependency_count.map_or("-".into(), |v| v.to_string()))
            }
            Self::CleanBuild => Cell::text(b.clean_build.as_ref().map_or("-".into(), |c| {
                format!(
                    "{:.0} s ({})",
                    c.seconds,
                    c.measured_utc.get(..10).unwrap_or(&c.measured_utc)
                )
            })),
            Self::CleanDebugBuild => Cell::text(
                b.edit_loop()
                    .map_or("-".into(), |l| format!("{:.0} s", l.clean_debug_seconds)),
            ),
            Self::EditLoop => Cell::text(b.edit_loop().map_or("-".into(), |l| {
                let median =
                    |m: Option<f64>| m.map_or_else(|| "-".to_owned(), |v| format!("{v:.1}"));
                format!(
                    "{} / {} / {} s",
                    median(l.check_median()),
                    median(l.debug_median()),
                    median(l.release_median())
                )
            })),
            Self::Startup => Cell::text(match (b.startup_ms, Stat::of(&b.startups_ms)) {
                (Some(v), Some(r)) if b.startups_ms.len() > 1 => {
                    format!("{v:.0} ({:.0}–{:.0})", r.min, r.max)
                }
                (Some(v), _) => format!("{v:.0}"),
                (None, _) => "-".into(),
            }),
            Self::StartupRss => Cell::text(
                b.startup_rss_kib
                    .map_or("-".into(), |v| format!("{:.1}", v as f64 / 1024.0)),
            ),
            Self::CleanExit => {
                Cell::text(b.clean_exit.map_or("-", |ok| if ok { "yes" } else { "NO" }))
            }
            Self::Verified => Cell::text(match (&b.failure, b.role) {
                (Some(why), _) => format!("FAILED: {why}"),
                (None, Role::Reference) => "scenarios only".to_owned(),
                (None, _) => "yes".to_owned(),
            }),
        }
    }
}

/// The servers: a row each, with what they are and the facts of their build.
pub fn servers(backends: &[BackendReport]) -> Table {
    let mut table = Table::new(SERVER_COLUMNS.iter().map(|c| c.column()).collect());
    for b in backends {
        table
            .rows
            .push(SERVER_COLUMNS.iter().map(|c| c.cell(b)).collect());
    }
    table
}

/// The servers with idle connections: a row each, `None` when no server of the report had
/// any (a run without `plaintext`, a report from before them).
pub fn connections(backends: &[BackendReport]) -> Option<Table> {
    let measured: Vec<&BackendReport> = backends
        .iter()
        .filter(|b| b.idle.is_some() || b.keep_alive.is_some())
        .collect();
    if measured.is_empty() {
        return None;
    }
    let mut table = Table::new(
        CONNECTION_COLUMNS
            .iter()
            .map(|c| c.column(&measured))
            .collect(),
    );
    for b in measured {
        table
            .rows
            .push(CONNECTION_COLUMNS.iter().map(|c| c.cell(b)).collect());
    }
    Some(table)
}

/// A column of the connections table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ConnectionColumn {
    Server,
    Rss,
    Descriptors,
    PerConnection,
    BusyBeside,
    Dropped,
    KeepAlive,
}

const CONNECTION_COLUMNS: [ConnectionColumn; 7] = [
    ConnectionColumn::Server,
    ConnectionColumn::Rss,
    ConnectionColumn::Descriptors,
    ConnectionColumn::PerConnection,
    ConnectionColumn::BusyBeside,
    ConnectionColumn::Dropped,
    ConnectionColumn::KeepAlive,
];

impl ConnectionColumn {
    /// The idle counts (`0 / 1,000 / 10,000`) are the first measured server's.
    fn column(self, measured: &[&BackendReport]) -> Column {
        let counts = measured
            .iter()
            .find_map(|b| {
                let idle = b.idle.as_ref().filter(|i| !i.points.is_empty())?;
                Some(
                    idle.points
                        .iter()
                        .map(|p| crate::report::answer::grouped(p.idle as f64))
                        .collect::<Vec<_>>()
                        .join(" / "),
                )
            })
            .unwrap_or_default();
        match self {
            Self::Server => Column::new("server", Align::Left),
            Self::Rss => Column::new(format!("RSS MiB, idle {counts}"), Align::Right),
            Self::Descriptors => Column::new(format!("open fds, idle {counts}"), Align::Right),
            Self::PerConnection => Column::new("KiB per idle connection", Align::Right),
            Self::BusyBeside => Column::new("plaintext p99 µs on 4 busy beside them", Align::Right),
            Self::Dropped => Column::new("idle ones closed", Align::Right),
            Self::KeepAlive => Column::new("a connection resting after one request", Align::Left),
        }
    }

    fn cell(self, b: &BackendReport) -> Cell {
        let idle = b.idle.as_ref();
        let points = |show: &dyn Fn(&crate::report::connections::IdlePoint) -> String| {
            idle.filter(|i| !i.points.is_empty()).map_or_else(
                || "-".to_owned(),
                |i| i.points.iter().map(show).collect::<Vec<_>>().join(" / "),
            )
        };
        match self {
            Self::Server => Cell::text(b.name.clone()),
            Self::Rss => Cell::text(points(&|p| format!("{:.1}", p.rss_kib as f64 / 1024.0))),
            Self::Descriptors => Cell::text(points(&|p| p.open_fds.to_string())),
            Self::PerConnection => Cell::text(
                idle.and_then(|i| i.kib_per_connection())
                    .map_or("-".into(), |v| format!("{v:.1}")),
            ),
            Self::BusyBeside => Cell::text(idle.and_then(|i| i.busy).map_or("-".into(), |w| {
                crate::report::answer::grouped(w.p99_us as f64)
            })),
            Self::Dropped => Cell::text(match idle {
                Some(i) => match &i.error {
                    Some(e) => format!("{} ({e})", i.dropped),
                    None => i.dropped.to_string(),
                },
                None => "-".into(),
            }),
            Self::KeepAlive => Cell::text(b.keep_alive.map_or("-".into(), |k| k.describe())),
        }
    }
}

/// The servers started with few descriptors and flooded beyond them: a row each, `None` when
/// no server of the report was (a run without `plaintext`, a report from before it).
pub fn exhaustion(backends: &[BackendReport]) -> Option<Table> {
    let measured: Vec<(&BackendReport, &Exhaustion)> = backends
        .iter()
        .filter_map(|b| Some((b, b.exhaustion.as_ref()?)))
        .collect();
    let (_, first) = measured.first()?;
    let mut table = Table::new(vec![
        Column::new("server", Align::Left),
        Column::new(format!("recovers (limit {})", first.limit), Align::Left),
        Column::new("keeps serving", Align::Left),
        Column::new("CPU at the limit", Align::Right),
        Column::new(
            format!(
                "flood of {}: answered / refused / waiting",
                crate::report::answer::grouped(first.flood as f64)
            ),
            Align::Right,
        ),
        Column::new("open fds at the limit", Align::Right),
    ]);
    for (b, e) in measured {
        let mut row = vec![Cell::text(b.name.clone())];
        if let Some(error) = &e.error {
            row.push(Cell::text(error.clone()));
            row.extend(std::iter::repeat_n(Cell::text("-"), 4));
            table.rows.push(row);
            continue;
        }
        let verdict = |ok: bool, what: String| {
            if ok {
                Cell::text(format!("yes, {what}"))
            } else {
                Cell::spans(vec![
                    Span::Strong("NO".into()),
                    Span::Text(format!(", {what}")),
                ])
            }
        };
        row.push(verdict(e.recovers(), e.recovery()));
        row.push(verdict(
            e.keeps_serving(),
            format!("{} of {} answered", e.existing_served, e.existing),
        ));
        row.push(if e.spins() {
            Cell::spans(vec![
                Span::Text(format!("{:.2} cores ", e.cpu_at_limit)),
                Span::Strong("(spins)".into()),
            ])
        } else {
            Cell::text(format!("{:.2} cores", e.cpu_at_limit))
        });
        let waiting = e.flood.saturating_sub(e.flood_served + e.flood_refused);
        row.push(Cell::text(format!(
            "{} / {} / {waiting}",
            e.flood_served, e.flood_refused
        )));
        let open = e.open_fds_at_limit.map_or("-".into(), |n| n.to_string());
        // Without the limit reached, the columns before measured nothing.
        row.push(if e.reached_limit() {
            Cell::text(open)
        } else {
            Cell::spans(vec![
                Span::Text(format!("{open} ")),
                Span::Strong("(never at its limit)".into()),
            ])
        });
        table.rows.push(row);
    }
    Some(table)
}

/// "172 passed, 47 skipped", with the failures counted and the first named.
fn conformance_cell(c: &Conformance) -> Cell {
    let mut spans = vec![Span::Text(format!("{} passed", c.passed))];
    if !c.failed.is_empty() {
        let first: Vec<&str> = c.failed.iter().take(3).map(|(n, _)| n.as_str()).collect();
        let more = c.failed.len().saturating_sub(first.len());
        spans.push(Span::Text(", ".into()));
        spans.push(Span::Strong(format!("{} failed", c.failed.len())));
        spans.push(Span::Text(format!(
            " ({}{})",
            first.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        )));
    }
    let mut rest = format!(", {} skipped", c.skipped);
    if !c.not_run.is_empty() {
        rest.push_str(&format!(", {} not run", c.not_run.len()));
    }
    spans.push(Span::Text(rest));
    Cell::spans(spans)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::sample;

    #[test]
    fn a_flood_short_of_the_limit_is_marked_in_its_row() {
        let mut report = sample();
        let at_limit = exhaustion(&report.backends)
            .expect("the sample was flooded")
            .markdown();
        assert!(at_limit.contains("| 236 / 0 / 276 | 256 |"), "{at_limit}");
        assert!(!at_limit.contains("never at its limit"));
        if let Some(e) = report.backends[0].exhaustion.as_mut() {
            e.open_fds_at_limit = Some(193);
        }
        let short = exhaustion(&report.backends)
            .expect("the sample was flooded")
            .markdown();
        assert!(
            short.contains("| 193 **(never at its limit)** |"),
            "{short}"
        );
    }
}
