//! `report.html`: one self-contained page (no scripts or outside resources) with the answer,
//! the charts of `output::charts`, the report's tables from the same table model as
//! `report.md`, and links from each server and scenario to the adapter code that serves it
//! (`output::code_links`), relative to where the page is written.
//!
//! The page is put together with `format!`, not a template engine: it is one fixed skeleton
//! (head, style, body) around fragments that Rust code computes anyway, and minijinja would
//! add a dependency to compile on the 2-core machines the bench runs on, for one page.

use std::fmt::Write;
use std::path::Path;

use crate::output::code_links::CodeLinks;
use crate::output::table::CodeRef;
use crate::output::{charts, escape, prose, report_tables};
use crate::report::Report;
use crate::report::answer::findings;

/// `report.html` as written into `dir`: handler names link to the adapters' source, relative
/// to `dir`; with no `dir`, the page's directory is unknown and they are named, not linked.
/// Self-contained: no scripts or external resources; the charts are inline SVG that scale to
/// the page's width.
pub fn page(report: &Report, dir: Option<&Path>) -> String {
    let links = CodeLinks::new(report, dir);
    let mut body = body(report, &links);
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

/// The page's body: the answer, the charts (after the answer, before the tables: BENCH.md
/// section 5), the tables, then what failed, the versions and the notes.
fn body(report: &Report, links: &CodeLinks) -> String {
    let mut out = format!(
        "<p>{}</p>\n<h2>The answer</h2>\n",
        escape::html(&prose::context(report))
    );
    let answer = findings(report);
    if !answer.is_empty() {
        out.push_str("<ul>");
        for f in &answer {
            let _ = writeln!(
                out,
                "<li><b>{}</b>: {}</li>",
                escape::html(f.criterion),
                code_spans(&escape::html(&f.answer))
            );
        }
        out.push_str("</ul>\n");
    }
    out.push_str(&charts::html(report));
    out.push_str("<h2>The figures</h2>\n");
    let link = |code: &CodeRef, label: &str| {
        let found = match code {
            CodeRef::Handler { backend, scenario } => {
                links.handlers(backend, scenario).into_iter().next()
            }
            CodeRef::Routes { backend } => links.routes(backend),
        };
        found.filter(|l| l.href.is_some()).map(|l| l.html_as(label))
    };
    out.push_str(&report_tables::figures(report).html(&link));
    out.push_str(&report_tables::servers(&report.backends).html(&link));
    if let Some(table) = report_tables::connections(&report.backends) {
        out.push_str("<h3>Idle connections</h3>\n");
        out.push_str(&table.html(&link));
    }
    if let Some(table) = report_tables::exhaustion(&report.backends) {
        out.push_str("<h3>Out of descriptors</h3>\n");
        out.push_str(&table.html(&link));
    }
    for line in prose::failures(report) {
        let _ = writeln!(out, "<p>{}</p>", escape::html(&line));
    }
    for failed in prose::failed_checks(&report.backends) {
        let _ = write!(out, "<h3>{}</h3>\n<ul>", escape::html(&failed.heading));
        for (check, why) in &failed.checks {
            let _ = writeln!(
                out,
                "<li><code>{}</code>: {}</li>",
                escape::html(check),
                escape::html(why)
            );
        }
        out.push_str("</ul>\n");
    }
    if let Some(versions) = prose::versions(report) {
        let _ = writeln!(out, "<p>{}</p>", escape::html(&versions));
    }
    for note in &report.notes {
        let _ = writeln!(out, "<p>{}</p>", escape::html(&format!("Note: {note}.")));
    }
    out
}

/// Escaped text with its `` `code` `` spans (the answer's commands) as `<code>`.
fn code_spans(escaped: &str) -> String {
    escaped
        .split('`')
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 {
                format!("<code>{part}</code>")
            } else {
                part.to_owned()
            }
        })
        .collect()
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
        let _ = write!(
            out,
            "<th>{}</th>",
            escape::html(&file).replace('/', "/<wbr>")
        );
    }
    out.push_str("</tr>\n<tr><td>route table</td>");
    for name in &adapters {
        let cell = links.routes(name).map(|l| l.html_as("fn app"));
        let _ = write!(out, "<td>{}</td>", cell.unwrap_or_default());
    }
    out.push_str("</tr>\n");
    for (scenario, group) in report_tables::by_scenario(report) {
        let cells: Vec<String> = adapters
            .iter()
            .map(|name| {
                let measured = group.iter().any(|e| e.backend == *name);
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
        let _ = write!(out, "<tr><td>{}</td>", escape::html(&scenario));
        for cell in cells {
            let _ = write!(out, "<td>{cell}</td>");
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table></div>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::sample;

    #[test]
    fn html_is_self_contained_with_svg_charts() {
        let html = page(&sample(), None);
        assert!(html.contains("<svg") && html.contains("<table>"));
        assert!(
            !html.contains("http://")
                || html.matches("http://www.w3.org/2000/svg").count()
                    == html.matches("http://").count()
        );
        assert!(!html.contains("<script"));
        // The answer opens the page, as a list with its criteria in bold, not raw Markdown.
        let answer = html.find("<h2>The answer</h2>").expect("the answer");
        assert!(answer < html.find("<table>").expect("the table"));
        assert!(html.contains("<ul><li><b>requests/s at saturation</b>: axum is best"));
        assert!(!html.contains("**") && !html.contains("<p>- "));
        // Then the charts, then the tables.
        let charts = html.find("<svg").expect("a chart");
        assert!(answer < charts && charts < html.find("<table>").expect("the table"));
        assert!(
            html.contains("viewBox=")
                && html.contains("svg{display:block;max-width:100%;height:auto}")
        );
    }

    #[test]
    fn each_row_links_to_its_handler_relative_to_the_page() {
        let dir = tempfile::tempdir().expect("tempdir");
        let html = page(&sample(), Some(dir.path()));
        let target = std::fs::canonicalize(
            crate::workspace::binaries::workspace_root().join("backend-axum/src/lib.rs"),
        )
        .expect("the axum adapter");
        let href = crate::output::code_links::relative_url(
            &std::fs::canonicalize(dir.path()).expect("tempdir"),
            &target,
        )
        .expect("a relative link");
        assert!(href.starts_with("../") && href.ends_with("backend-axum/src/lib.rs"));
        // In the figures table, the backend of each row; under "Handler code", by name.
        assert!(html.contains(&format!("<td><a href=\"{href}#L")));
        assert!(html.contains("title=\"backend-axum/src/lib.rs: fn plaintext\">axum</a></td>"));
        assert!(html.contains("title=\"backend-axum/src/lib.rs: fn plaintext\">fn plaintext</a>"));
        // In the servers table, each server of the workspace to its route table; one started
        // by a command is not of the workspace, whatever its name.
        let app = "title=\"backend-axum/src/lib.rs: fn app\">axum</a></td><td>framework</td>";
        assert!(!html.contains(app));
        let mut ours = sample();
        ours.backends[0].command = None;
        assert!(page(&ours, Some(dir.path())).contains(app));
        // Without a directory, the names alone.
        let unlinked = page(&sample(), None);
        assert!(unlinked.contains("backend-axum/src/lib.rs: fn plaintext"));
        assert!(!unlinked.contains("lib.rs#L"));
    }
}
