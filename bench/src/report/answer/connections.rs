//! The answer's lines for connections made as other clients make them (BENCH.md v3, section
//! 2), each one scenario answered on its own: a new connection for every request
//! (`plaintext-close`, what scripts and health checks do: the framework's accept path and
//! connection set-up are in every request), and 16 requests written at once
//! (`plaintext-pipelined`, TechEmpower's plaintext: the client's work per request falls to a
//! sixteenth, so more of the windows should be server-bound, and the line says how many were);
//! then what connections that rest cost, and what a server does when it runs out of
//! descriptors.

use crate::report::compare::{INSTRUCTION_NOISE, NOISE_FLOOR};
use crate::report::connections::{Exhaustion, SPINNING};
use crate::report::scenario::Scenario;
use crate::report::{BackendReport, ScenarioReport};

use super::{Finding, Standing, Tie, answer, grouped, held, label, rounds};

pub(super) const NEW_CONNECTION: &str = "a new connection per request";
pub(super) const PIPELINED: &str = "16 requests pipelined";
pub(super) const IDLE: &str = "memory per idle connection";
pub(super) const EXHAUSTION: &str = "running out of descriptors";

/// Within this fraction of the best, memory per idle connection is a tie: it is read once,
/// and the allocator rounds what it keeps to its own sizes.
const IDLE_ALLOWANCE: f64 = 0.10;

/// The four lines, or "not measured" for what this run did not measure.
pub(super) fn findings(candidates: &[&BackendReport]) -> Vec<Finding> {
    vec![
        new_connection(candidates),
        pipelined(candidates),
        idle(candidates),
        exhaustion(candidates),
    ]
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

/// Resident memory per idle keep-alive connection, from none to the most; beside it the
/// `plaintext` p99 on 4 busy connections while they rest (one window: told, not ranked), and
/// when each server closed connections that rested.
fn idle(candidates: &[&BackendReport]) -> Finding {
    let figures: Vec<Standing> = candidates
        .iter()
        .filter_map(|b| {
            let value = b.idle.as_ref()?.kib_per_connection()?;
            Some(Standing {
                server: label(b),
                value,
                low: value,
                high: value,
            })
        })
        .collect();
    let most = candidates
        .iter()
        .filter_map(|b| Some(b.idle.as_ref()?.most()?.idle))
        .max()
        .unwrap_or(0);
    let basis = format!(
        "resident memory from none to {} idle keep-alive connections, each after one \
         request, over their number; read once, within {:.0}% is a tie",
        grouped(most as f64),
        IDLE_ALLOWANCE * 100.0
    );
    let Some(mut finding) = answer(
        IDLE,
        &basis,
        figures,
        false,
        Tie::Within(IDLE_ALLOWANCE),
        &|v| format!("{v:.1} KiB"),
        "",
    ) else {
        return not_measured(IDLE, " (it rests on plaintext connections: run plaintext)");
    };
    finding.answer.push_str(&beside_idle(candidates, most));
    finding.answer.push_str(&keep_alive(candidates));
    finding
}

/// " Beside them, plaintext's p99 on 4 busy connections: hyper 310 µs (1.1× its p99 with
/// none), …" The p99 with none is `storm`'s quiet windows' (the same 4 connections).
fn beside_idle(candidates: &[&BackendReport], most: usize) -> String {
    let parts: Vec<String> = candidates
        .iter()
        .filter_map(|b| {
            let busy = b.idle.as_ref()?.busy?;
            let alone = b
                .scenarios
                .iter()
                .find(|s| s.name == Scenario::Storm.name())
                .and_then(|s| {
                    let mut p99s: Vec<u64> = s.quiet.iter().map(|r| r.latency_us.p99).collect();
                    p99s.sort_unstable();
                    p99s.get(p99s.len().saturating_sub(1) / 2).copied()
                })
                .filter(|p| *p > 0);
            Some(match alone {
                Some(alone) => format!(
                    "{} {} µs ({:.1}× its p99 with none)",
                    label(b),
                    grouped(busy.p99_us as f64),
                    busy.p99_us as f64 / alone as f64
                ),
                None => format!("{} {} µs", label(b), grouped(busy.p99_us as f64)),
            })
        })
        .collect();
    if parts.is_empty() {
        return String::new();
    }
    format!(
        " Beside {} of them, plaintext's p99 on 4 busy connections, one window each: {}.",
        grouped(most as f64),
        parts.join(", ")
    )
}

/// " Connections resting after one request: actix and ntex close them after 5.0 s; rocket and
/// trillium kept them for the 12 s watched."
fn keep_alive(candidates: &[&BackendReport]) -> String {
    let mut closing: Vec<(String, Vec<String>)> = Vec::new();
    let mut keeping = Vec::new();
    let mut watched = 0.0_f64;
    for b in candidates {
        let Some(k) = b.keep_alive else { continue };
        watched = watched.max(k.watched_secs);
        match k.closed_after_secs {
            Some(after) => {
                let key = format!("after {after:.1} s");
                match closing.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, names)) => names.push(label(b)),
                    None => closing.push((key, vec![label(b)])),
                }
            }
            None => keeping.push(label(b)),
        }
    }
    if closing.is_empty() && keeping.is_empty() {
        return String::new();
    }
    let names = |v: &[String]| -> String {
        let v: Vec<&str> = v.iter().map(String::as_str).collect();
        super::join(&v)
    };
    let mut parts: Vec<String> = closing
        .iter()
        .map(|(after, servers)| {
            let verb = if servers.len() == 1 {
                "closes"
            } else {
                "close"
            };
            format!("{} {verb} them {after}", names(servers))
        })
        .collect();
    if !keeping.is_empty() {
        parts.push(format!(
            "{} kept them for the {watched:.0} s watched",
            names(&keeping)
        ));
    }
    let dropped: Vec<String> = candidates
        .iter()
        .filter_map(|b| {
            let idle = b.idle.as_ref()?;
            (idle.dropped > 0).then(|| {
                format!(
                    "{} closed {} of its idle connections while they were measured",
                    label(b),
                    grouped(idle.dropped as f64)
                )
            })
        })
        .collect();
    let mut out = format!(
        " Connections resting after one request: {}.",
        parts.join("; ")
    );
    if !dropped.is_empty() {
        out.push_str(&format!(" {}.", dropped.join("; ")));
    }
    out
}

/// Servers that got nothing wrong first, then by how many things they got wrong: keeping
/// their open connections answered, not spinning, serving again within a second are each
/// yes or no, read once, and no server is better at one than another that also does it.
fn exhaustion(candidates: &[&BackendReport]) -> Finding {
    let measured: Vec<(&BackendReport, &Exhaustion)> = candidates
        .iter()
        .filter_map(|b| Some((*b, b.exhaustion.as_ref()?)))
        .collect();
    let Some((_, first)) = measured.first() else {
        return not_measured(
            EXHAUSTION,
            " (each server is started again with few descriptors and flooded with new \
             connections: run plaintext, with servers bench starts)",
        );
    };
    let mut ranking: Vec<Vec<String>> = Vec::new();
    let mut sentences = Vec::new();
    let good: Vec<(&BackendReport, &Exhaustion)> = measured
        .iter()
        .copied()
        .filter(|(_, e)| e.faults().is_empty())
        .collect();
    if !good.is_empty() {
        let names: Vec<String> = good.iter().map(|(b, _)| label(b)).collect();
        let after: Vec<f64> = good
            .iter()
            .filter_map(|(_, e)| e.recovered_after_ms)
            .collect();
        let (low, high) = after
            .iter()
            .fold((f64::MAX, 0.0_f64), |(l, h), v| (l.min(*v), h.max(*v)));
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        sentences.push(format!(
            "{} {} answering {} open connections, {} without spinning and {} new \
             connections again {}",
            super::join(&refs),
            if names.len() == 1 { "keeps" } else { "keep" },
            if names.len() == 1 { "its" } else { "their" },
            if names.len() == 1 { "waits" } else { "wait" },
            if names.len() == 1 { "serves" } else { "serve" },
            if (high - low) < 5.0 {
                format!("{:.2} s after the flood", high / 1_000.0)
            } else {
                format!(
                    "{:.2} s to {:.2} s after the flood",
                    low / 1_000.0,
                    high / 1_000.0
                )
            },
        ));
        ranking.push(names);
    }
    let mut faulty: Vec<(&BackendReport, Vec<String>)> = measured
        .iter()
        .filter_map(|(b, e)| {
            let faults = e.faults();
            (!faults.is_empty()).then_some((*b, faults))
        })
        .collect();
    faulty.sort_by_key(|(_, faults)| faults.len());
    for group in faulty.chunk_by(|a, b| a.1.len() == b.1.len()) {
        ranking.push(group.iter().map(|(b, _)| label(b)).collect());
        for (b, faults) in group {
            sentences.push(format!("{}: {}", label(b), faults.join(", ")));
        }
    }
    Finding {
        criterion: EXHAUSTION,
        answer: format!(
            "{} (started again with {} descriptors, {} keep-alive connections open, then {} \
             silent new connections beyond the limit held open, then closed; spinning is \
             {:.2} cores or more while nothing is answered; yes or no, measured once).",
            sentences.join("; "),
            first.limit,
            first.existing,
            grouped(first.flood as f64),
            SPINNING,
        ),
        ranking,
    }
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
        backends[0].idle = None;
        backends[0].exhaustion = None;
        let lines = findings(&[&backends[0]]);
        assert_eq!(
            lines[0].answer,
            "not measured in this run (plaintext-close was not among the scenarios)."
        );
        assert_eq!(
            lines[1].answer,
            "not measured in this run (plaintext-pipelined was not among the scenarios)."
        );
        assert!(lines[2].answer.starts_with("not measured in this run"));
        assert!(lines[3].answer.starts_with("not measured in this run"));
        assert!(lines.iter().all(|l| l.ranking.is_empty()));
    }

    fn idle(rss_at_most: u64, dropped: usize) -> crate::report::connections::IdleConnections {
        use crate::report::connections::{BusyWindow, IdleConnections, IdlePoint};
        let point = |idle: usize, rss_kib| IdlePoint {
            idle,
            rss_kib,
            open_fds: idle + 10,
        };
        IdleConnections {
            points: vec![
                point(0, 8_000),
                point(1_000, 9_000),
                point(10_000, rss_at_most),
            ],
            busy: Some(BusyWindow {
                connections: 4,
                requests_per_sec: 30_000.0,
                p99_us: 600,
                errors: 0,
            }),
            dropped,
            error: None,
        }
    }

    fn keep_alive(closed_after_secs: Option<f64>) -> crate::report::connections::KeepAlive {
        crate::report::connections::KeepAlive {
            probes: 4,
            watched_secs: 12.0,
            closed: if closed_after_secs.is_some() { 4 } else { 0 },
            closed_after_secs,
        }
    }

    #[test]
    fn idle_memory_ties_within_ten_percent_and_the_line_tells_the_timeouts() {
        let mut backends = servers(
            &[
                ("hyper", Role::Baseline, 1.0),
                ("actix", Role::Framework, 1.0),
                ("rocket", Role::Framework, 1.0),
            ],
            &[[1.0; 3], [1.0; 3], [1.0; 3]],
        );
        // 2.0, 2.1 and 4.0 KiB a connection.
        for (b, (rss, timeout)) in
            backends
                .iter_mut()
                .zip([(28_000, Some(10.0)), (29_000, Some(5.02)), (48_000, None)])
        {
            b.idle = Some(idle(rss, 0));
            b.keep_alive = Some(keep_alive(timeout));
        }
        let mut storm = ScenarioReport::from_runs("storm", vec![run(1.0)]);
        storm.quiet = vec![run(1.0), run(1.0), run(1.0)];
        backends[0].scenarios.push(storm);
        let candidates: Vec<&BackendReport> = backends.iter().collect();
        let line = &findings(&candidates)[2];
        assert_eq!(line.criterion, IDLE);
        assert_eq!(
            line.ranking,
            [vec!["hyper (no framework)", "actix"], vec!["rocket"]]
        );
        // The p99 alone is storm's quiet windows' (`run` has a p99 of 400 µs).
        assert!(
            line.answer
                .contains("hyper (no framework) 600 µs (1.5× its p99 with none), actix 600 µs,"),
            "{}",
            line.answer
        );
        assert!(
            line.answer.ends_with(
                "Connections resting after one request: hyper (no framework) closes them after \
                 10.0 s; actix closes them after 5.0 s; rocket kept them for the 12 s watched."
            ),
            "{}",
            line.answer
        );
        backends[1].idle = Some(idle(29_000, 120));
        let candidates: Vec<&BackendReport> = backends.iter().collect();
        assert!(
            findings(&candidates)[2]
                .answer
                .ends_with(" actix closed 120 of its idle connections while they were measured.")
        );
        for b in &mut backends {
            b.idle = None;
            b.keep_alive = None;
        }
        let candidates: Vec<&BackendReport> = backends.iter().collect();
        assert!(
            findings(&candidates)[2]
                .answer
                .starts_with("not measured in this run")
        );
    }

    #[test]
    fn out_of_descriptors_names_what_each_server_got_wrong_and_ranks_by_how_much() {
        let mut backends = servers(
            &[
                ("hyper", Role::Baseline, 1.0),
                ("actix", Role::Framework, 1.0),
                ("rocket", Role::Framework, 1.0),
                ("trillium", Role::Framework, 1.0),
            ],
            &[[1.0; 3], [1.0; 3], [1.0; 3], [1.0; 3]],
        );
        let base = backends[0].exhaustion.clone().expect("the sample has one");
        let with = |cpu: f64, served: usize, after: Option<f64>| Exhaustion {
            cpu_at_limit: cpu,
            existing_served: served,
            recovered_after_ms: after,
            ..base.clone()
        };
        backends[0].exhaustion = Some(with(0.0, 4, Some(20.0)));
        backends[1].exhaustion = Some(with(0.01, 4, Some(510.0)));
        backends[2].exhaustion = Some(with(0.97, 4, Some(30.0)));
        backends[3].exhaustion = Some(with(0.9, 2, None));
        let candidates: Vec<&BackendReport> = backends.iter().collect();
        let line = &findings(&candidates)[3];
        assert_eq!(line.criterion, EXHAUSTION);
        assert_eq!(
            line.ranking,
            [
                vec!["hyper (no framework)", "actix"],
                vec!["rocket"],
                vec!["trillium"]
            ]
        );
        assert!(
            line.answer.starts_with(
                "hyper (no framework) and actix keep answering their open connections, wait \
                 without spinning and serve new connections again 0.02 s to 0.51 s after the \
                 flood; rocket: spins (0.97 cores); trillium: answered 2 of its 4 open \
                 connections, spins (0.90 cores), served no new connection within 5 s (started \
                 again with 256 descriptors,"
            ),
            "{}",
            line.answer
        );
    }
}
