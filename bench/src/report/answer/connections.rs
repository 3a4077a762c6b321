//! The answer's lines for connections made as other clients make them (BENCH.md v3, section
//! 2), each one scenario answered on its own: a new connection for every request
//! (`plaintext-close`, what scripts and health checks do: the framework's accept path and
//! connection set-up are in every request), and 16 requests written at once
//! (`plaintext-pipelined`, TechEmpower's plaintext: the client's work per request falls to a
//! sixteenth, so more of the windows should be server-bound, and the line says how many were).

use crate::report::compare::{INSTRUCTION_NOISE, NOISE_FLOOR};
use crate::report::scenario::Scenario;
use crate::report::{BackendReport, ScenarioReport};

use super::{Finding, Standing, Tie, answer, grouped, held, label, rounds};

pub(super) const NEW_CONNECTION: &str = "a new connection per request";
pub(super) const PIPELINED: &str = "16 requests pipelined";

/// The two lines, or "not measured" for a scenario this run did not time.
pub(super) fn findings(candidates: &[&BackendReport]) -> Vec<Finding> {
    vec![new_connection(candidates), pipelined(candidates)]
}

fn scenario(b: &BackendReport, which: Scenario) -> Option<&ScenarioReport> {
    b.scenarios
        .iter()
        .find(|s| s.name == which.name() && s.summary.is_some())
}

fn not_measured(criterion: &'static str, why: &str) -> Finding {
    Finding {
        criterion,
        answer: format!("not measured in this run{why}."),
        ranking: Vec::new(),
    }
}

/// Instructions per request on `plaintext-close`: deterministic, like the keep-alive line,
/// and the accept, the first read and the close are the framework's code too. Requests/s and
/// CPU per request are timed, and on a connection per request the load generator's own
/// connects bound them; they are in the tables.
fn new_connection(candidates: &[&BackendReport]) -> Finding {
    let which = Scenario::PlaintextClose;
    let figures: Vec<Standing> = candidates
        .iter()
        .filter_map(|b| {
            let value = scenario(b, which)?
                .cost
                .as_ref()?
                .instructions_per_request()?;
            Some(Standing {
                server: label(b),
                value,
                low: value,
                high: value,
            })
        })
        .collect();
    let timed = candidates.iter().any(|b| scenario(b, which).is_some());
    answer(
        NEW_CONNECTION,
        "instructions per request of plaintext-close, GET /plaintext with Connection: close on \
         a connection opened for it, the accept and the close included; deterministic; its \
         requests/s and CPU per request are in the tables",
        figures,
        false,
        Tie::Within(INSTRUCTION_NOISE),
        &|v| grouped(v),
        "",
    )
    .unwrap_or_else(|| {
        not_measured(
            NEW_CONNECTION,
            if timed {
                " (instructions per request need valgrind and no --no-cost)"
            } else {
                " (plaintext-close was not among the scenarios)"
            },
        )
    })
}

/// Requests/s on `plaintext-pipelined`, with the timed figures' tie rule and the same check
/// that it holds over the rounds; and how many of its windows were server-bound, against
/// `plaintext`'s.
fn pipelined(candidates: &[&BackendReport]) -> Finding {
    let which = Scenario::PlaintextPipelined;
    let figures: Vec<Standing> = candidates
        .iter()
        .filter_map(|b| {
            let rate = scenario(b, which)?.summary.as_ref()?.requests_per_sec;
            Some(Standing {
                server: label(b),
                value: rate.median,
                low: rate.min * (1.0 - NOISE_FLOOR),
                high: rate.max * (1.0 + NOISE_FLOOR),
            })
        })
        .collect();
    let basis = "requests/s of plaintext-pipelined, 16 GET /plaintext written at once per \
                 connection; ranges: the repeats, ±5%";
    let show = |v: f64| format!("{} req/s", grouped(v));
    let remeasured = candidates
        .iter()
        .filter_map(|b| scenario(b, which))
        .map(|s| s.dropped.len())
        .sum();
    let Some(mut finding) = held(
        answer(
            PIPELINED,
            basis,
            figures,
            true,
            Tie::Overlap("repeats"),
            &show,
            "",
        ),
        &rounds(candidates, &|b, r| {
            Some(scenario(b, which)?.runs.get(r)?.requests_per_sec)
        }),
        Some(remeasured),
        true,
        &show,
        basis,
    ) else {
        return not_measured(
            PIPELINED,
            " (plaintext-pipelined was not among the scenarios)",
        );
    };
    finding.answer.push_str(&server_bound(candidates));
    finding
}

/// " 24 of 24 of its windows were server-bound, against 3 of 24 of plaintext's; the rates of
/// the others are lower bounds."
fn server_bound(candidates: &[&BackendReport]) -> String {
    let count = |which: Scenario| -> (usize, usize) {
        let windows: Vec<bool> = candidates
            .iter()
            .filter_map(|b| scenario(b, which))
            .flat_map(|s| &s.runs)
            .filter_map(|r| r.noise.map(|n| !n.client_bound()))
            .collect();
        (windows.iter().filter(|b| **b).count(), windows.len())
    };
    let (bound, of) = count(Scenario::PlaintextPipelined);
    if of == 0 {
        return String::new();
    }
    let (plain, plain_of) = count(Scenario::Plaintext);
    let against = if plain_of > 0 {
        format!(", against {plain} of {plain_of} of plaintext's")
    } else {
        String::new()
    };
    let lower = if bound < of {
        "; the rates of the others are lower bounds"
    } else {
        ""
    };
    format!(" {bound} of {of} of its windows were server-bound{against}{lower}.")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::noise::Noise;
    use crate::report::scenario_cost::ScenarioCost;
    use crate::report::tests::{run, sample};
    use crate::report::{Role, ScenarioReport};

    /// A run whose load generator used `generator` of its cores.
    fn window(rps: f64, generator: f64) -> crate::report::Run {
        let mut r = run(rps);
        r.noise = Some(Noise {
            generator,
            ..Noise::default()
        });
        r
    }

    fn servers(close: &[(&str, Role, f64)], pipelined: &[[f64; 3]]) -> Vec<BackendReport> {
        let template = sample().backends[0].clone();
        close
            .iter()
            .zip(pipelined)
            .map(|((name, role, instructions), rates)| {
                let mut b = template.clone();
                b.name = (*name).to_owned();
                b.role = *role;
                let mut closing =
                    ScenarioReport::from_runs("plaintext-close", vec![window(20_000.0, 0.95); 3]);
                closing.cost = Some(ScenarioCost {
                    instructions: vec![*instructions],
                    ..ScenarioCost::default()
                });
                let piped = ScenarioReport::from_runs(
                    "plaintext-pipelined",
                    rates.iter().map(|r| window(*r, 0.6)).collect(),
                );
                let plain = ScenarioReport::from_runs(
                    "plaintext",
                    vec![
                        window(100_000.0, 0.95),
                        window(100_000.0, 0.5),
                        window(1e5, 0.95),
                    ],
                );
                b.scenarios = vec![plain, closing, piped];
                b
            })
            .collect()
    }

    #[test]
    fn each_connection_pattern_is_its_own_line_and_pipelining_counts_server_bound_windows() {
        let backends = servers(
            &[
                ("hyper", Role::Baseline, 20_000.0),
                ("axum", Role::Framework, 20_150.0),
                ("rocket", Role::Framework, 40_000.0),
            ],
            &[
                [300_000.0, 310_000.0, 305_000.0],
                [290_000.0, 300_000.0, 295_000.0],
                [150_000.0, 155_000.0, 152_000.0],
            ],
        );
        let candidates: Vec<&BackendReport> = backends.iter().collect();
        let lines = findings(&candidates);
        assert_eq!(lines[0].criterion, NEW_CONNECTION);
        assert_eq!(
            lines[0].ranking,
            [vec!["hyper (no framework)", "axum"], vec!["rocket"]]
        );
        assert!(
            lines[0].answer.contains("rocket 2.00× as much"),
            "{}",
            lines[0].answer
        );
        assert_eq!(lines[1].criterion, PIPELINED);
        assert_eq!(
            lines[1].ranking,
            [vec!["hyper (no framework)", "axum"], vec!["rocket"]]
        );
        assert!(
            lines[1].answer.ends_with(
                " 9 of 9 of its windows were server-bound, against 3 of 9 of plaintext's."
            ),
            "{}",
            lines[1].answer
        );
    }

    #[test]
    fn a_run_without_the_scenarios_says_so() {
        let mut backends = servers(&[("axum", Role::Framework, 1.0)], &[[1.0, 1.0, 1.0]]);
        backends[0].scenarios.truncate(1);
        let lines = findings(&[&backends[0]]);
        assert_eq!(
            lines[0].answer,
            "not measured in this run (plaintext-close was not among the scenarios)."
        );
        assert_eq!(
            lines[1].answer,
            "not measured in this run (plaintext-pipelined was not among the scenarios)."
        );
        assert!(lines.iter().all(|l| l.ranking.is_empty()));
    }
}
