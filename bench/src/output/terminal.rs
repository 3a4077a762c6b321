//! What `bench run` and `bench compare` print: the figures table with the best value per
//! scenario marked `*`, what failed, the notes and, last, where it stays in view, the answer;
//! and the comparison of two reports, figures and answers.

use std::fmt::Write;

use crate::output::table::{Align, Cell, Column, Table};
use crate::output::{prose, report_tables};
use crate::report::Report;
use crate::report::answer::findings;
use crate::report::answer_change::AnswerChange;
use crate::report::compare::Change;

/// `bench run`'s (and `bench cost`'s) closing output.
pub fn run_report(report: &Report) -> String {
    let mut out = report_tables::figures(report).terminal();
    for line in prose::failures(report) {
        let _ = writeln!(out, "{line}");
    }
    for note in &report.notes {
        let _ = writeln!(out, "note: {note}");
    }
    // The answer last on a terminal, where the end of the output is what stays in view.
    out.push_str("\nThe answer:\n");
    for finding in findings(report) {
        let _ = writeln!(out, "- {}: {}", finding.criterion, finding.answer);
    }
    out
}

/// `bench compare`'s table, in Markdown (it reads as well on a terminal).
pub fn comparison(changes: &[Change]) -> String {
    let mut table = Table::new(vec![
        Column::new("backend", Align::Left),
        Column::new("scenario", Align::Left),
        Column::new("figure", Align::Left),
        Column::new("old", Align::Right),
        Column::new("new", Align::Right),
        Column::new("new/old", Align::Right),
        Column::new("range", Align::Left),
        Column::new("verdict", Align::Left),
    ]);
    for c in changes {
        table.rows.push(vec![
            Cell::text(c.backend.clone()),
            Cell::text(c.scenario.clone()),
            Cell::text(c.figure.label()),
            Cell::text(format!("{:.1}", c.old)),
            Cell::text(format!("{:.1}", c.new)),
            Cell::text(format!("{:.3}", c.ratio)),
            Cell::text(format!("{:.3}–{:.3}", c.range.0, c.range.1)),
            Cell::text(c.verdict()),
        ]);
    }
    table.markdown()
}

/// `bench compare`'s second part: for each criterion, the same answer or how it changed.
pub fn answer_changes(changes: &[AnswerChange]) -> String {
    let mut out = String::from("The answers:\n");
    for change in changes {
        let _ = writeln!(out, "- {}: {}", change.criterion, change.describe());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::ScenarioReport;
    use crate::report::compare::compare;
    use crate::report::scenario_cost::ScenarioCost;
    use crate::report::tests::{run, sample};

    #[test]
    fn a_cost_that_could_not_be_measured_says_why_once() {
        let mut report = sample();
        for name in ["json", "hello"] {
            let mut scenario = ScenarioReport::from_runs(name, vec![run(100.0)]);
            scenario.cost = Some(ScenarioCost {
                error: Some("valgrind: cannot run the JVM".into()),
                ..ScenarioCost::default()
            });
            report.backends[0].scenarios.push(scenario);
        }
        let said = "axum: cost per request not measured: valgrind: cannot run the JVM";
        assert_eq!(
            crate::output::report_md::markdown(&report)
                .matches(said)
                .count(),
            1
        );
        assert_eq!(run_report(&report).matches(said).count(), 1);
    }

    #[test]
    fn best_values_are_marked_per_scenario() {
        let mut report = sample();
        let mut other = report.backends[0].clone();
        other.name = "warp".into();
        other.scenarios[0] = ScenarioReport::from_runs("plaintext", vec![run(500.0)]);
        report.backends.push(other);
        let text = run_report(&report);
        assert!(text.contains("*500 "), "{text}");
        assert!(
            text.contains(" 100 (90–120)") && !text.contains("*100 (90–120)"),
            "{text}"
        );
        assert!(crate::output::report_md::markdown(&report).contains("| **500** |"));
    }

    #[test]
    fn a_comparison_is_a_row_per_figure() {
        let old = sample();
        let mut new = old.clone();
        new.backends[0].scenarios[0] =
            ScenarioReport::from_runs("plaintext", vec![run(200.0), run(210.0), run(190.0)]);
        let table = comparison(&compare(&old, &new));
        assert!(
            table.contains("| axum | plaintext | req/s | 100.0 | 200.0 | 2.000 |"),
            "{table}"
        );
        assert!(table.starts_with(
            "| backend | scenario | figure | old | new | new/old | range | verdict |\n\
             |---|---|---|---:|---:|---:|---|---|\n"
        ));
    }
}
