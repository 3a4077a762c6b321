//! Whether two reports give the same answer (`bench compare`): for each criterion, the same
//! best server or tie group, and the same order outside ties after it: no two servers that
//! one report ranks apart and the other does too come in opposite orders (a tie in one and
//! an order in the other is not a change, the noise allowing both). Only the servers both
//! reports rank are compared, so a run with a server more still compares.

use std::collections::BTreeSet;

use crate::report::Report;
use crate::report::answer::{Finding, findings};
use crate::report::ranking::{Verdict, show, verdict};

/// One criterion compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerChange {
    pub criterion: String,
    pub verdict: Verdict,
    /// The groups each report ranks.
    pub old: Vec<Vec<String>>,
    pub new: Vec<Vec<String>>,
}

impl AnswerChange {
    pub fn changed(&self) -> bool {
        self.verdict != Verdict::Same
    }

    /// "a tie became a win (OLD: axum and warp tie; NEW: axum is best)".
    pub fn describe(&self) -> String {
        let what = match self.verdict {
            Verdict::Same => return "the same answer".to_owned(),
            Verdict::OrderChanged => "the same best, another order after it",
            Verdict::TieBecameWin => "a tie became a win",
            Verdict::WinBecameTie => "a win became a tie",
            Verdict::BestChanged => "another best",
            Verdict::MeasuredInOne => "answered in one report only",
        };
        format!(
            "{what} (OLD: {}; NEW: {})",
            show(&self.old),
            show(&self.new)
        )
    }
}

/// Every criterion either report answers, in NEW's order, then OLD's that NEW lacks.
pub fn compare_answers(old: &Report, new: &Report) -> Vec<AnswerChange> {
    compare_findings(&findings(old), &findings(new))
}

pub fn compare_findings(old: &[Finding], new: &[Finding]) -> Vec<AnswerChange> {
    let ranked = |f: Option<&Finding>| f.map(|f| f.ranking.clone()).unwrap_or_default();
    let mut criteria: Vec<&str> = new.iter().map(|f| f.criterion).collect();
    criteria.extend(
        old.iter()
            .map(|f| f.criterion)
            .filter(|c| !new.iter().any(|f| f.criterion == *c)),
    );
    criteria
        .into_iter()
        .map(|criterion| {
            let old = ranked(old.iter().find(|f| f.criterion == criterion));
            let new = ranked(new.iter().find(|f| f.criterion == criterion));
            let servers = |groups: &[Vec<String>]| -> BTreeSet<String> {
                groups.iter().flatten().cloned().collect()
            };
            let both: BTreeSet<String> = servers(&old)
                .intersection(&servers(&new))
                .cloned()
                .collect();
            let verdict = if old.is_empty() != new.is_empty() {
                Verdict::MeasuredInOne
            } else {
                verdict(&only(&old, &both), &only(&new, &both))
            };
            AnswerChange {
                criterion: criterion.to_owned(),
                verdict,
                old,
                new,
            }
        })
        .collect()
}

/// The groups restricted to `servers`, empty groups dropped.
fn only(groups: &[Vec<String>], servers: &BTreeSet<String>) -> Vec<Vec<String>> {
    groups
        .iter()
        .map(|g| {
            g.iter()
                .filter(|s| servers.contains(*s))
                .cloned()
                .collect::<Vec<_>>()
        })
        .filter(|g| !g.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(criterion: &'static str, groups: &[&[&str]]) -> Finding {
        Finding {
            criterion,
            answer: String::new(),
            ranking: groups
                .iter()
                .map(|g| g.iter().map(|s| (*s).to_owned()).collect())
                .collect(),
        }
    }

    fn verdict_of(old: &[&[&str]], new: &[&[&str]]) -> Verdict {
        let changes = compare_findings(&[finding("x", old)], &[finding("x", new)]);
        changes[0].verdict.clone()
    }

    #[test]
    fn the_same_groups_in_another_order_inside_a_group_are_the_same_answer() {
        assert_eq!(
            verdict_of(
                &[&["axum", "warp"], &["rocket"]],
                &[&["warp", "axum"], &["rocket"]]
            ),
            Verdict::Same
        );
    }

    #[test]
    fn a_changed_best_a_changed_order_and_a_tie_that_became_a_win_are_told_apart() {
        let old: &[&[&str]] = &[&["axum", "warp"], &["actix"], &["rocket"]];
        assert_eq!(
            verdict_of(old, &[&["actix"], &["axum", "warp"], &["rocket"]]),
            Verdict::BestChanged
        );
        assert_eq!(
            verdict_of(old, &[&["axum", "warp"], &["rocket"], &["actix"]]),
            Verdict::OrderChanged
        );
        assert_eq!(
            verdict_of(old, &[&["axum"], &["warp", "actix"], &["rocket"]]),
            Verdict::TieBecameWin
        );
        assert_eq!(
            verdict_of(&[&["axum"], &["warp"]], &[&["axum", "warp"]]),
            Verdict::WinBecameTie
        );
        let change = &compare_findings(
            &[finding("x", old)],
            &[finding("x", &[&["axum"], &["warp", "actix"], &["rocket"]])],
        )[0];
        assert_eq!(
            change.describe(),
            "a tie became a win (OLD: axum = warp > actix > rocket; NEW: axum > warp = actix > rocket)"
        );
    }

    #[test]
    fn a_tie_after_the_best_that_splits_or_forms_is_not_a_changed_order() {
        let old: &[&[&str]] = &[&["hyper"], &["ntex", "salvo"], &["rocket"]];
        assert_eq!(
            verdict_of(old, &[&["hyper"], &["salvo"], &["ntex"], &["rocket"]]),
            Verdict::Same
        );
        assert_eq!(
            verdict_of(old, &[&["hyper"], &["ntex", "salvo", "rocket"]]),
            Verdict::Same
        );
        assert_eq!(
            verdict_of(old, &[&["hyper"], &["rocket"], &["ntex", "salvo"]]),
            Verdict::OrderChanged
        );
    }

    #[test]
    fn only_the_servers_both_rank_are_compared() {
        // NEW ranks salvo too, in the middle: the answer about the others is unchanged.
        assert_eq!(
            verdict_of(
                &[&["hyper"], &["axum"]],
                &[&["hyper"], &["salvo"], &["axum"]]
            ),
            Verdict::Same
        );
        // A criterion one report does not answer.
        let changes = compare_findings(&[], &[finding("start-up", &[&["axum"]])]);
        assert_eq!(changes[0].verdict, Verdict::MeasuredInOne);
        assert!(changes[0].changed());
    }

    #[test]
    fn two_reports_of_the_same_run_give_the_same_answer() {
        let report = crate::report::tests::sample();
        assert!(
            compare_answers(&report, &report)
                .iter()
                .all(|c| !c.changed())
        );
    }
}
