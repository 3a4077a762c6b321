//! `report.md`: the answer, then the tables ready to paste into a README (the best value per
//! scenario in bold), then what failed and the versions.

use std::fmt::Write;

use crate::output::{prose, report_tables};
use crate::report::Report;
use crate::report::answer::findings;

pub fn markdown(report: &Report) -> String {
    let answer: String = findings(report)
        .iter()
        .map(|f| format!("- **{}**: {}\n", f.criterion, f.answer))
        .collect();
    let mut out = format!(
        "# sitebench report\n\n{}\n\n## The answer\n\n{answer}\n## The figures\n\n",
        prose::context(report),
    );
    out.push_str(&report_tables::figures(report).markdown());
    let _ = write!(
        out,
        "\n{}\n",
        report_tables::servers(&report.backends).markdown()
    );
    if let Some(table) = report_tables::connections(&report.backends) {
        let _ = write!(out, "\n### Idle connections\n\n{}\n", table.markdown());
    }
    if let Some(table) = report_tables::exhaustion(&report.backends) {
        let _ = write!(out, "\n### Out of descriptors\n\n{}\n", table.markdown());
    }
    for line in prose::failures(report) {
        let _ = writeln!(out, "{line}");
    }
    for failed in prose::failed_checks(&report.backends) {
        let _ = writeln!(out, "\n### {}\n", failed.heading);
        for (check, why) in &failed.checks {
            let _ = writeln!(out, "- `{check}`: {why}");
        }
    }
    if let Some(versions) = prose::versions(report) {
        let _ = writeln!(out, "\n{versions}");
    }
    for note in &report.notes {
        let _ = writeln!(out, "\nNote: {note}.");
    }
    out
}
