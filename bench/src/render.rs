//! Presenting a report: the terminal table (best value per scenario marked), `report.md`
//! (tables ready to paste into a README) and `report.html` (one self-contained page: the
//! answer, the charts of [`crate::charts`], the tables, and links to the adapters' handler
//! code from [`crate::code_links`]).
//!
//! The page is put together with `format!`, not a template engine: it is one fixed skeleton
//! (head, style, body) around fragments that Rust code computes anyway, and minijinja would
//! add a dependency to compile on the 2-core machines the bench runs on, for one page.

use std::fmt::Write;
use std::path::Path;

use crate::code_links::CodeLinks;
use crate::report::{BackendReport, Conformance, Report, Role, ScenarioReport, Summary};

/// One row of the comparison: a backend on a scenario.
struct Row<'a> {
    backend: &'a str,
    scenario: &'a ScenarioReport,
    summary: Option<&'a Summary>,
}

fn rows(report: &Report) -> Vec<(String, Vec<Row<'_>>)> {
    let mut groups: Vec<(String, Vec<Row<'_>>)> = Vec::new();
    for backend in &report.backends {
        for scenario in &backend.scenarios {
            let row = Row {
                backend: &backend.name,
                scenario,
                summary: scenario.summary.as_ref(),
            };
            match groups.iter_mut().find(|(name, _)| *name == scenario.name) {
                Some((_, group)) => group.push(row),
                None => groups.push((scenario.name.clone(), vec![row])),
            }
        }
    }
    groups
}

/// A column: its heading, whether higher is better (`None`: not ranked), and its value.
struct Column {
    name: &'static str,
    higher_is_better: Option<bool>,
    value: fn(&Row<'_>, Option<&Row<'_>>) -> Option<f64>,
}

fn instructions(row: &Row<'_>) -> Option<f64> {
    row.scenario.cost.as_ref()?.instructions_per_request()
}

/// `value` of this row over the same of the baseline's row.
fn ratio(value: Option<f64>, baseline: Option<f64>) -> Option<f64> {
    match (value, baseline) {
        (Some(v), Some(b)) if b > 0.0 => Some(v / b),
        _ => None,
    }
}

const COLUMNS: [Column; 14] = [
    Column {
        name: "req/s",
        higher_is_better: Some(true),
        value: |r, _| Some(r.summary?.requests_per_sec.median),
    },
    Column {
        name: "× hyper",
        higher_is_better: None,
        value: |r, b| {
            ratio(
                Some(r.summary?.requests_per_sec.median),
                Some(b?.summary?.requests_per_sec.median),
            )
        },
    },
    Column {
        name: "p50 µs",
        higher_is_better: Some(false),
        value: |r, _| Some(r.summary?.p50_us.median),
    },
    Column {
        name: "p90 µs",
        higher_is_better: Some(false),
        value: |r, _| Some(r.summary?.p90_us.median),
    },
    Column {
        name: "p99 µs",
        higher_is_better: Some(false),
        value: |r, _| Some(r.summary?.p99_us.median),
    },
    Column {
        name: "p99.9 µs",
        higher_is_better: Some(false),
        value: |r, _| Some(r.summary?.p999_us.median),
    },
    Column {
        name: "CPU µs/req",
        higher_is_better: Some(false),
        value: |r, _| Some(r.summary?.server_cpu_us_per_request?.median),
    },
    Column {
        name: "user/sys µs",
        higher_is_better: None,
        value: |r, _| Some(r.summary?.server_cpu_user_us_per_request?.median),
    },
    Column {
        name: "instr/req",
        higher_is_better: Some(false),
        value: |r, _| instructions(r),
    },
    Column {
        name: "instr × hyper",
        higher_is_better: None,
        value: |r, b| ratio(instructions(r), instructions(b?)),
    },
    Column {
        name: "syscalls/req",
        higher_is_better: None,
        value: |r, _| r.scenario.cost.as_ref()?.syscalls_per_request,
    },
    Column {
        name: "RSS MiB",
        higher_is_better: Some(false),
        value: |r, _| Some(r.summary?.server_peak_rss_kib?.median / 1024.0),
    },
    Column {
        name: "errors",
        higher_is_better: None,
        value: |r, _| Some(r.summary?.errors as f64),
    },
    Column {
        name: "noisy dropped",
        higher_is_better: None,
        value: |r, _| Some(r.scenario.dropped.len() as f64),
    },
];

fn format_value(column: &Column, value: f64, row: &Row<'_>) -> String {
    match column.name {
        "req/s" => match row.summary {
            Some(s) if s.requests_per_sec.min != s.requests_per_sec.max => format!(
                "{:.0} ({:.0}–{:.0})",
                value, s.requests_per_sec.min, s.requests_per_sec.max
            ),
            _ => format!("{value:.0}"),
        },
        "× hyper" | "instr × hyper" => format!("{value:.2}"),
        "user/sys µs" => {
            let system = row
                .summary
                .and_then(|s| s.server_cpu_system_us_per_request)
                .map_or(f64::NAN, |s| s.median);
            format!("{value:.1}/{system:.1}")
        }
        "CPU µs/req" | "RSS MiB" | "syscalls/req" => format!("{value:.1}"),
        _ => format!("{value:.0}"),
    }
}

/// The baseline's row of a group, for the ratios.
fn baseline<'a, 'b>(group: &'b [Row<'a>]) -> Option<&'b Row<'a>> {
    group
        .iter()
        .find(|r| r.backend == crate::backends::BASELINE)
}

/// The best value of each ranked column within a scenario group.
fn best(group: &[Row<'_>]) -> Vec<Option<f64>> {
    let base = baseline(group);
    COLUMNS
        .iter()
        .map(|column| {
            let higher = column.higher_is_better?;
            group
                .iter()
                .filter_map(|r| (column.value)(r, base))
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

/// Cells of a row, with `mark` applied to the best values.
fn cells(
    row: &Row<'_>,
    base: Option<&Row<'_>>,
    best: &[Option<f64>],
    mark: &dyn Fn(String) -> String,
) -> Vec<String> {
    let mut out = vec![row.scenario.name.clone(), row.backend.to_owned()];
    if let Some(why) = &row.scenario.failed {
        // The reason goes last, where a long text widens no figure's column.
        out.push("not timed".into());
        out.extend(std::iter::repeat_n(String::new(), COLUMNS.len() - 1));
        out.push(format!("failed verification: {}", cell_text(why)));
        return out;
    } else {
        for (i, column) in COLUMNS.iter().enumerate() {
            out.push(match (column.value)(row, base) {
                None => "-".into(),
                Some(v) if best[i] == Some(v) && group_size_allows_marking(column) => {
                    mark(format_value(column, v, row))
                }
                Some(v) => format_value(column, v, row),
            });
        }
    }
    let markers: Vec<&str> = row.scenario.markers.iter().map(|m| m.as_str()).collect();
    out.push(markers.join(", "));
    out
}

fn group_size_allows_marking(column: &Column) -> bool {
    column.higher_is_better.is_some() && column.name != "errors"
}

fn header() -> Vec<String> {
    let mut h = vec!["scenario".to_owned(), "backend".to_owned()];
    h.extend(COLUMNS.iter().map(|c| c.name.to_owned()));
    h.push("markers".into());
    h
}

/// The terminal table: aligned columns, best value per scenario marked with `*`.
pub fn terminal(report: &Report) -> String {
    let mut table = vec![header()];
    for (_, group) in rows(report) {
        let best = best(&group);
        for row in &group {
            table.push(cells(row, baseline(&group), &best, &|s| format!("*{s}")));
        }
    }
    let widths: Vec<usize> = (0..table[0].len())
        .map(|c| {
            table
                .iter()
                .map(|r| r[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for (i, row) in table.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let pad = widths[c] - cell.chars().count();
            if c < 2 || c == row.len() - 1 {
                let _ = write!(out, "{cell}{}  ", " ".repeat(pad));
            } else {
                let _ = write!(out, "{}{cell}  ", " ".repeat(pad));
            }
        }
        out.truncate(out.trim_end().len());
        out.push('\n');
        if i == 0 {
            out.push_str(&"-".repeat(widths.iter().sum::<usize>() + 2 * widths.len()));
            out.push('\n');
        }
    }
    out.push_str(&failures(report));
    for note in &report.notes {
        let _ = writeln!(out, "note: {note}");
    }
    // The answer last on a terminal, where the end of the output is what stays in view.
    out.push_str("\nThe answer:\n");
    for finding in crate::summary::findings(report) {
        let _ = writeln!(out, "- {}: {}", finding.criterion, finding.answer);
    }
    out
}

/// Servers that failed, and figures a tool could not measure (valgrind cannot run every
/// `--server` command), each reason once.
fn failures(report: &Report) -> String {
    let mut out = String::new();
    for backend in &report.backends {
        if let Some(why) = &backend.failure {
            let _ = writeln!(out, "{}: FAILED, not timed: {why}", backend.name);
        }
        let mut reasons: Vec<&str> = backend
            .scenarios
            .iter()
            .filter_map(|s| s.cost.as_ref()?.error.as_deref())
            .collect();
        reasons.sort_unstable();
        reasons.dedup();
        for why in reasons {
            let _ = writeln!(
                out,
                "{}: cost per request not measured: {why}",
                backend.name
            );
        }
    }
    out
}

fn backend_table(backends: &[BackendReport]) -> String {
    let mut out = String::from(
        "| server | role | conformance | declared deviations | adapter lines | release binary | crates in dependency tree | clean release build | start-up ms | SIGTERM exit 0 | verified |\n|---|---|---|---|---:|---:|---:|---:|---:|---|---|\n",
    );
    for b in backends {
        let role = match b.role {
            Role::Baseline => "baseline: no framework",
            Role::Reference => "reference: no site logic, not verified",
            Role::Framework => "framework",
            Role::External => "external",
        };
        let _ = writeln!(
            out,
            "| {} | {role} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            b.command.as_ref().map_or_else(
                || b.name.clone(),
                |c| format!("{} (`{}`)", b.name, cell_text(c))
            ),
            b.conformance.as_ref().map_or("-".into(), conformance_cell),
            match (b.role, b.deviations.as_slice()) {
                (Role::Baseline | Role::Framework, []) => "none".to_owned(),
                (_, []) => "-".to_owned(),
                (_, list) => list.join(", "),
            },
            b.adapter_lines.map_or("-".into(), |v| v.to_string()),
            b.binary_bytes
                .map_or("-".into(), |v| format!("{:.1} MiB", v as f64 / 1048576.0)),
            b.dependency_count.map_or("-".into(), |v| v.to_string()),
            b.clean_build.as_ref().map_or("-".into(), |c| format!(
                "{:.0} s ({})",
                c.seconds,
                c.measured_utc.get(..10).unwrap_or(&c.measured_utc)
            )),
            b.startup_ms.map_or("-".into(), |v| format!("{v:.0}")),
            b.clean_exit.map_or("-", |ok| if ok { "yes" } else { "NO" }),
            match (&b.failure, b.role) {
                (Some(why), _) => format!("FAILED: {why}"),
                (None, Role::Reference) => "scenarios only".to_owned(),
                (None, _) => "yes".to_owned(),
            },
        );
    }
    out
}

/// Text a server or a command controls, made safe for a Markdown table cell or list item:
/// one line, no `|` (a column break) or backtick (a code span), at most 200 characters.
fn cell_text(text: &str) -> String {
    let line: String = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('|', "/")
        .replace('`', "'");
    match line.char_indices().nth(200) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line,
    }
}

/// "172 passed, 47 skipped", with the failures counted and the first named.
fn conformance_cell(c: &Conformance) -> String {
    let mut cell = format!("{} passed", c.passed);
    if !c.failed.is_empty() {
        let first: Vec<&str> = c.failed.iter().take(3).map(|(n, _)| n.as_str()).collect();
        let more = c.failed.len().saturating_sub(first.len());
        let _ = write!(
            cell,
            ", **{} failed** ({}{})",
            c.failed.len(),
            first.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        );
    }
    let _ = write!(cell, ", {} skipped", c.skipped);
    if !c.not_run.is_empty() {
        let _ = write!(cell, ", {} not run", c.not_run.len());
    }
    cell
}

/// Every failed check of every server, with why: a to-do list for a server in progress.
fn conformance_failures(backends: &[BackendReport]) -> String {
    let mut out = String::new();
    for b in backends {
        let Some(c) = &b.conformance else { continue };
        if c.failed.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "\n### {} fails {} of the conformance suite's checks\n",
            b.name,
            c.failed.len()
        );
        for (check, why) in &c.failed {
            let _ = writeln!(out, "- `{check}`: {}", cell_text(why));
        }
    }
    out
}

fn context(report: &Report) -> String {
    let f = &report.options;
    format!(
        "Machine: {} ({} cores, {} MiB, Linux {}). Server on CPUs {:?}, load generator on CPUs {:?}; \
         {} connections, {} s warm-up before each of {} × {} s windows per scenario, interleaved over the servers{}. \
         Median of the repeats, (min–max) for req/s; × hyper: the ratio to the no-framework baseline. \
         Git revision {}. {}.",
        report.machine.cpu_model,
        report.machine.cores,
        report.machine.memory_mib,
        report.machine.kernel,
        f.server_cpus,
        f.client_cpus,
        f.connections,
        f.warmup_secs,
        f.repeat,
        f.duration_secs,
        f.rate.map_or(String::from(", closed loop"), |r| format!(
            ", open loop at {r} req/s"
        )),
        report.git_revision.as_deref().unwrap_or("unknown"),
        report.created_utc,
    )
}

/// `report.md`: the comparison table (best value per scenario in bold) and the backends table.
pub fn markdown(report: &Report) -> String {
    let mut out = format!(
        "# sitebench report\n\n{}\n\n## The answer\n\n{}\n## The figures\n\n",
        context(report),
        crate::summary::markdown(report)
    );
    let header = header();
    let _ = writeln!(out, "| {} |", header.join(" | "));
    let _ = writeln!(
        out,
        "|{}|",
        header
            .iter()
            .enumerate()
            .map(|(i, _)| if (2..2 + COLUMNS.len()).contains(&i) {
                "---:"
            } else {
                "---"
            })
            .collect::<Vec<_>>()
            .join("|")
    );
    for (_, group) in rows(report) {
        let best = best(&group);
        for row in &group {
            let _ = writeln!(
                out,
                "| {} |",
                cells(row, baseline(&group), &best, &|s| format!("**{s}**")).join(" | ")
            );
        }
    }
    let _ = write!(
        out,
        "\n{}\n{}{}",
        backend_table(&report.backends),
        failures(report),
        conformance_failures(&report.backends)
    );
    if !report.versions.is_empty() {
        let versions: Vec<String> = report
            .versions
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        let _ = writeln!(out, "\nVersions: {}.", versions.join(", "));
    }
    for note in &report.notes {
        let _ = writeln!(out, "\nNote: {note}.");
    }
    out
}

/// Text made safe inside HTML and its attributes: the one escaping every page part uses
/// (`charts`, `code_links` too).
pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `report.html` with the handler functions named but not linked (the page's directory is
/// unknown, so no relative link can be made).
pub fn html(report: &Report) -> String {
    page(report, None)
}

/// `report.html` as written into `dir`: handler names link to the adapters' source, relative
/// to `dir`.
pub fn html_in(report: &Report, dir: &Path) -> String {
    page(report, Some(dir))
}

/// Where the charts go: after the answer, before the tables (BENCH.md section 5).
const FIGURES_HEADING: &str = "<h2>The figures</h2>";

/// Self-contained: no scripts or external resources; the charts are inline SVG that scale to
/// the page's width.
fn page(report: &Report, dir: Option<&Path>) -> String {
    let links = CodeLinks::new(report, dir);
    let mut body = markdown_table_to_html(&markdown(report), &links);
    let charts = crate::charts::html(report);
    match body.find(FIGURES_HEADING) {
        Some(at) => body.insert_str(at, &charts),
        None => body.push_str(&charts),
    }
    body.push_str(&handler_section(report, &links));
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>sitebench report</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;color:#222}}\
         table{{border-collapse:collapse;font-size:.85rem;margin:1rem 0}}td,th{{border:1px solid #ccc;padding:.25rem .5rem}}\
         .scroll{{overflow-x:auto;max-width:100%}}td{{text-align:right}}td:nth-child(1),td:nth-child(2){{text-align:left}}\
         svg{{display:block;max-width:100%;height:auto}}\
         .charts{{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,28rem),1fr));gap:1.5rem 2rem;align-items:start;margin:1rem 0 2rem}}\
         .key{{white-space:nowrap;margin-right:1em}}.swatch{{display:inline-block;width:.9em;height:.9em;margin-right:.35em;vertical-align:-.1em;border-radius:2px}}\
         .code td{{text-align:left;white-space:nowrap}}li,p{{overflow-wrap:anywhere}}</style>\
         </head><body><h1>sitebench report</h1>\n{body}</body></html>\n"
    )
}

/// Per scenario, the function of each adapter that handles it, linked to its source: a table
/// with a column per adapter file, so the 50-odd links stay a grid a reader can scan.
fn handler_section(report: &Report, links: &CodeLinks) -> String {
    let adapters: Vec<&str> = report
        .backends
        .iter()
        .map(|b| b.name.as_str())
        .filter(|name| links.routes(name).is_some())
        .collect();
    if adapters.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "<h2>Handler code</h2>\n<p>The function of each adapter that answers each scenario: what \
         the figures above measure besides the framework's own code. The route tables list every \
         handler.</p>\n<div class=\"scroll\"><table class=\"code\"><tr><th>scenario</th>",
    );
    for name in &adapters {
        let file = links.routes(name).map(|l| l.file).unwrap_or_default();
        // Narrow columns may break a path after its slashes, nowhere else.
        let _ = write!(out, "<th>{}</th>", escape(&file).replace('/', "/<wbr>"));
    }
    out.push_str("</tr>\n<tr><td>route table</td>");
    for name in &adapters {
        let cell = links.routes(name).map(|l| l.html_as("fn app"));
        let _ = write!(out, "<td>{}</td>", cell.unwrap_or_default());
    }
    out.push_str("</tr>\n");
    for (scenario, group) in rows(report) {
        let cells: Vec<String> = adapters
            .iter()
            .map(|name| {
                let measured = group.iter().any(|r| r.backend == *name);
                let handlers: Vec<String> = if measured {
                    links
                        .handlers(name, &scenario)
                        .iter()
                        .map(|l| l.html_as(&format!("fn {}", l.function)))
                        .collect()
                } else {
                    Vec::new()
                };
                handlers.join(", ")
            })
            .collect();
        if cells.iter().all(String::is_empty) {
            continue;
        }
        let _ = write!(out, "<tr><td>{}</td>", escape(&scenario));
        for cell in cells {
            let _ = write!(out, "<td>{cell}</td>");
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table></div>\n");
    out
}

/// Turns the Markdown of `markdown()` into HTML: headings, paragraphs, lists and pipe tables.
/// In the figures table each backend links to its handler of the row's scenario, and in the
/// servers table each server to its route table.
fn markdown_table_to_html(md: &str, links: &CodeLinks) -> String {
    let mut out = String::new();
    let mut in_table = false;
    let mut in_list = false;
    let mut header: Vec<String> = Vec::new();
    for line in md.lines() {
        if let Some(inner) = line.strip_prefix('|') {
            let cells: Vec<&str> = inner
                .trim_end_matches('|')
                .split('|')
                .map(str::trim)
                .collect();
            if cells
                .iter()
                .all(|c| c.chars().all(|ch| ch == '-' || ch == ':'))
            {
                continue;
            }
            let tag = if in_table { "td" } else { "th" };
            if !in_table {
                out.push_str("<div class=\"scroll\"><table>");
                in_table = true;
                header = cells.iter().map(|c| (*c).to_owned()).collect();
            }
            let link = match (tag, header.first().map(String::as_str), header.get(1)) {
                ("td", Some("scenario"), Some(b)) if b == "backend" => cells
                    .get(1)
                    .zip(cells.first())
                    .and_then(|(backend, scenario)| {
                        links.handlers(backend, scenario).into_iter().next()
                    })
                    .map(|l| (1, l)),
                ("td", Some("server"), _) => cells
                    .first()
                    .and_then(|server| links.routes(server))
                    .map(|l| (0, l)),
                _ => None,
            };
            out.push_str("<tr>");
            for (i, cell) in cells.iter().enumerate() {
                let linked = link.as_ref().filter(|(at, l)| *at == i && l.href.is_some());
                if let Some((_, link)) = linked {
                    let _ = write!(
                        out,
                        "<{tag}>{}</{tag}>",
                        link.html_as(cell.trim_matches('*'))
                    );
                } else {
                    let _ = write!(out, "<{tag}>{}</{tag}>", inline(cell));
                }
            }
            out.push_str("</tr>\n");
        } else {
            if in_table {
                out.push_str("</table></div>\n");
                in_table = false;
            }
            let item = line.strip_prefix("- ");
            if item.is_some() != in_list {
                out.push_str(if in_list { "</ul>\n" } else { "<ul>" });
                in_list = !in_list;
            }
            if let Some(item) = item {
                let _ = writeln!(out, "<li>{}</li>", inline(item));
            } else if let Some(heading) = line.strip_prefix("### ") {
                let _ = writeln!(out, "<h3>{}</h3>", inline(heading));
            } else if let Some(heading) = line.strip_prefix("## ") {
                let _ = writeln!(out, "<h2>{}</h2>", escape(heading));
            } else if !line.trim().is_empty() && !line.starts_with("# ") {
                // The page has its own heading; the Markdown's title line is skipped.
                let _ = writeln!(out, "<p>{}</p>", escape(line));
            }
        }
    }
    if in_table {
        out.push_str("</table></div>\n");
    }
    if in_list {
        out.push_str("</ul>\n");
    }
    out
}

/// Escaped text with Markdown's `**bold**` spans as `<b>` and `` `code` `` spans as `<code>`
/// (the only inline Markdown `markdown()` writes).
fn inline(text: &str) -> String {
    let spans = |text: &str, mark: &str, tag: &str| -> String {
        text.split(mark)
            .enumerate()
            .map(|(i, part)| {
                if i % 2 == 1 {
                    format!("<{tag}>{part}</{tag}>")
                } else {
                    part.to_owned()
                }
            })
            .collect()
    };
    spans(&spans(&escape(text), "`", "code"), "**", "b")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::{run, sample};

    #[test]
    fn server_text_cannot_break_a_table() {
        assert_eq!(cell_text("body \"a|b\"\n `x`"), "body \"a/b\" 'x'");
        let long = cell_text(&"é".repeat(300));
        assert_eq!(long.chars().count(), 201);
        assert!(long.ends_with('…'));
    }

    #[test]
    fn a_cost_that_could_not_be_measured_says_why_once() {
        let mut report = sample();
        for name in ["json", "hello"] {
            let mut scenario = ScenarioReport::from_runs(name, vec![run(100.0)]);
            scenario.cost = Some(crate::cost::ScenarioCost {
                error: Some("valgrind: cannot run the JVM".into()),
                ..crate::cost::ScenarioCost::default()
            });
            report.backends[0].scenarios.push(scenario);
        }
        let said = "axum: cost per request not measured: valgrind: cannot run the JVM";
        assert_eq!(markdown(&report).matches(said).count(), 1);
        assert_eq!(terminal(&report).matches(said).count(), 1);
    }

    #[test]
    fn best_values_are_marked_per_scenario() {
        let mut report = sample();
        let mut other = report.backends[0].clone();
        other.name = "warp".into();
        other.scenarios[0] = ScenarioReport::from_runs("plaintext", vec![run(500.0)]);
        report.backends.push(other);
        let text = terminal(&report);
        assert!(text.contains("*500 "), "{text}");
        assert!(
            text.contains(" 100 (90–120)") && !text.contains("*100 (90–120)"),
            "{text}"
        );
        assert!(markdown(&report).contains("| **500** |"));
    }

    #[test]
    fn html_is_self_contained_with_svg_charts() {
        let page = html(&sample());
        assert!(page.contains("<svg") && page.contains("<table>"));
        assert!(
            !page.contains("http://")
                || page.matches("http://www.w3.org/2000/svg").count()
                    == page.matches("http://").count()
        );
        assert!(!page.contains("<script"));
        // The answer opens the page, as a list with its criteria in bold, not raw Markdown.
        let answer = page.find("<h2>The answer</h2>").expect("the answer");
        assert!(answer < page.find("<table>").expect("the table"));
        assert!(page.contains("<ul><li><b>requests/s at saturation</b>: axum is best"));
        assert!(!page.contains("**") && !page.contains("<p>- "));
        // Then the charts, then the tables.
        let charts = page.find("<svg").expect("a chart");
        assert!(answer < charts && charts < page.find("<table>").expect("the table"));
        assert!(
            page.contains("viewBox=")
                && page.contains("svg{display:block;max-width:100%;height:auto}")
        );
    }

    #[test]
    fn each_row_links_to_its_handler_relative_to_the_page() {
        let dir = tempfile::tempdir().expect("tempdir");
        let page = html_in(&sample(), dir.path());
        let target =
            std::fs::canonicalize(crate::info::workspace_root().join("backend-axum/src/lib.rs"))
                .expect("the axum adapter");
        let href = crate::code_links::relative_url(
            &std::fs::canonicalize(dir.path()).expect("tempdir"),
            &target,
        )
        .expect("a relative link");
        assert!(href.starts_with("../") && href.ends_with("backend-axum/src/lib.rs"));
        // In the figures table, the backend of each row; under "Handler code", by name.
        assert!(page.contains(&format!("<td><a href=\"{href}#L")));
        assert!(page.contains("title=\"backend-axum/src/lib.rs: fn plaintext\">axum</a></td>"));
        assert!(page.contains("title=\"backend-axum/src/lib.rs: fn plaintext\">fn plaintext</a>"));
        // Without a directory, the names alone.
        let unlinked = html(&sample());
        assert!(unlinked.contains("backend-axum/src/lib.rs: fn plaintext"));
        assert!(!unlinked.contains("lib.rs#L"));
    }
}
