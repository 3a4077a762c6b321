//! A ranking as the answer gives it (groups of servers that tie, best first) and how two
//! rankings differ: the one comparison `bench compare` makes between two reports and the
//! answer makes between the rounds of repeats of one run.

use std::collections::BTreeSet;

/// How a criterion's answer moved from OLD to NEW.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The same best group, and the same groups after it.
    Same,
    /// The best group is the same; after it, two servers come in opposite orders.
    OrderChanged,
    /// NEW names fewer of OLD's tie group as best: a tie became a win.
    TieBecameWin,
    /// NEW names more servers as best, OLD's among them: a win became a tie.
    WinBecameTie,
    /// NEW names a best that OLD did not.
    BestChanged,
    /// Only one of the reports answers it.
    MeasuredInOne,
}

/// How `new` differs from `old`: the same best group (as sets) and no two servers in opposite
/// orders outside ties is the same answer.
pub fn verdict(old: &[Vec<String>], new: &[Vec<String>]) -> Verdict {
    let set = |g: &Vec<String>| -> BTreeSet<String> { g.iter().cloned().collect() };
    let sets =
        |groups: &[Vec<String>]| -> Vec<BTreeSet<String>> { groups.iter().map(set).collect() };
    let (old, new) = (sets(old), sets(new));
    match (old.first(), new.first()) {
        (None, None) => Verdict::Same,
        // No server in common: nothing of the answer can be compared.
        (None, _) | (_, None) => Verdict::BestChanged,
        (Some(a), Some(b)) if a == b => {
            if reversed(&old, &new) {
                Verdict::OrderChanged
            } else {
                Verdict::Same
            }
        }
        (Some(a), Some(b)) if b.is_subset(a) => Verdict::TieBecameWin,
        (Some(a), Some(b)) if a.is_subset(b) => Verdict::WinBecameTie,
        _ => Verdict::BestChanged,
    }
}

/// Whether two servers that neither ranking ties come in opposite orders. A tie in one and
/// an order in the other is no contradiction: the noise allowed both.
fn reversed(old: &[BTreeSet<String>], new: &[BTreeSet<String>]) -> bool {
    let place = |groups: &[BTreeSet<String>], server: &String| {
        groups.iter().position(|g| g.contains(server))
    };
    let servers: Vec<&String> = old.iter().flatten().collect();
    servers.iter().any(|a| {
        servers.iter().any(
            |b| match (place(old, a), place(old, b), place(new, a), place(new, b)) {
                (Some(oa), Some(ob), Some(na), Some(nb)) => oa < ob && na > nb,
                _ => false,
            },
        )
    })
}

/// "axum = warp > hyper > rocket", or "-" for no answer.
pub fn show(groups: &[Vec<String>]) -> String {
    if groups.is_empty() {
        return "-".to_owned();
    }
    groups
        .iter()
        .map(|g| g.join(" = "))
        .collect::<Vec<_>>()
        .join(" > ")
}
