//! The answer first (BENCH.md 5): for each criterion, the best server or the group that ties
//! with it, with the figure, and the others as multiples of it, in words a student can act on.
//! Only the servers one could choose are ranked (the backends, `hyper` as "no framework", and
//! servers in any language, `--server` and `--url`); `floor` is a reference, not a choice. The
//! scenarios compared are those the workspace's backends all ran: a `--server` that answers
//! fewer is left out of that criterion, and said to be, rather than narrowing everyone's.
//!
//! Tie rules, one per kind of figure:
//! - timed figures (requests/s, CPU per request): each server's figure is the geometric mean
//!   over the cheap scenarios all of them ran (the password-hashing ones measure argon2, the
//!   same code everywhere), with the geometric means of the repeats' minima and maxima,
//!   widened by ±5% (`compare`'s floor, since a single repeat has no spread), as its range;
//!   servers whose range overlaps the best's tie with it;
//! - instructions per request: the same mean; within 1% of the best is a tie (BENCH.md 4.2:
//!   repeats agree within 1%);
//! - peak memory: the largest median over the scenarios; within 1 MiB is a tie;
//! - latency at the fixed rate: the p99 of each server's open-loop window, geometric mean over
//!   the scenarios all of them ran at a fixed rate; its range is the 95% confidence interval
//!   of a 99th percentile estimated from that many requests (the order statistics
//!   `n·0.99 ± 1.96·√(n·0.99·0.01)`, read from the window's histogram), widened by ±5% as
//!   above; overlapping ranges tie;
//! - facts of the build (adapter lines, dependencies, binary size): exact, ties only when equal;
//!   clean build time within 10% and start-up within 10 ms: allowances for figures measured
//!   once, not measured noise;
//! - conformance: the fewest failed checks, then the fewest declared deviations; equal is a tie.
//!
//! A criterion with no figure in the run is said to be not measured, and why. What the words
//! depend on besides the figures (which scenarios are cheap, the suite's deadline) is read
//! from the report, as the run recorded it.

use crate::report::compare::{INSTRUCTION_NOISE, NOISE_FLOOR};
use crate::report::histograms;
use crate::report::scenario::Scenario;
use crate::report::stats::Stat;
use crate::report::{BackendReport, Marker, Report, Role, Run, ScenarioReport};

/// One criterion's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub criterion: &'static str,
    pub answer: String,
}

/// A server's figure on one criterion: the value and the range the noise allows.
#[derive(Debug, Clone, PartialEq)]
struct Standing {
    server: String,
    value: f64,
    low: f64,
    high: f64,
}

/// A fact of a server: the criterion, how to read it, its tie rule and how to show it.
type Fact<'a> = (
    &'static str,
    &'a dyn Fn(&BackendReport) -> Option<f64>,
    Tie,
    &'a dyn Fn(f64) -> String,
);

#[derive(Debug, Clone, Copy, PartialEq)]
enum Tie {
    /// Ranges overlap; the words say what the ranges are.
    Overlap(&'static str),
    /// Within this fraction of the best.
    Within(f64),
    /// Within this absolute amount of the best.
    Plus(f64),
}

pub fn findings(report: &Report) -> Vec<Finding> {
    let candidates: Vec<&BackendReport> = report
        .backends
        .iter()
        .filter(|b| b.role != Role::Reference && b.failure.is_none())
        .collect();
    let scenarios = shared_scenarios(&candidates, Some(&report.cheap_scenarios));
    let mut out = Vec::new();
    let per_scenario = |get: &dyn Fn(&ScenarioReport) -> Option<Stat>| -> Vec<Standing> {
        candidates
            .iter()
            .filter_map(|b| {
                let stats: Option<Vec<Stat>> = scenarios
                    .iter()
                    .map(|name| b.scenarios.iter().find(|s| &s.name == name).and_then(get))
                    .collect();
                let stats = stats.filter(|s| !s.is_empty())?;
                Some(Standing {
                    server: label(b),
                    value: geometric_mean(stats.iter().map(|s| s.median)),
                    low: geometric_mean(stats.iter().map(|s| s.min)) * (1.0 - NOISE_FLOOR),
                    high: geometric_mean(stats.iter().map(|s| s.max)) * (1.0 + NOISE_FLOOR),
                })
            })
            .collect()
    };
    let over = format!("geometric mean over {}", scenarios.join(", "));
    let timed_left_out = left_out(&candidates, &scenarios, &|s| s.summary.is_some());
    let one_window = if report.options.repeat <= 1 {
        " One window per server and scenario: a first look, not a ranking."
    } else {
        ""
    };
    let client_bound = candidates.iter().any(|b| {
        b.scenarios
            .iter()
            .filter(|s| scenarios.contains(&s.name))
            .any(|s| s.markers.contains(&Marker::ClientBound))
    });
    out.extend(answer(
        "requests/s at saturation",
        &over,
        per_scenario(&|s| s.summary.as_ref().map(|s| s.requests_per_sec)),
        true,
        Tie::Overlap("repeats"),
        &|v| format!("{} req/s", grouped(v)),
        &format!(
            "{one_window}{timed_left_out}{}",
            if client_bound {
                " Some of these windows were client-bound: those rates are lower bounds."
            } else {
                ""
            }
        ),
    ));
    out.extend(answer(
        "CPU per request",
        &over,
        per_scenario(&|s| s.summary.as_ref().and_then(|s| s.server_cpu_us_per_request)),
        false,
        Tie::Overlap("repeats"),
        &|v| format!("{v:.1} µs"),
        &format!("{one_window}{timed_left_out}"),
    ));
    out.extend(answer(
        "instructions per request",
        &format!("{over}; deterministic"),
        per_scenario(&|s| {
            s.cost
                .as_ref()
                .and_then(|c| c.instructions_per_request())
                .map(|v| Stat {
                    median: v,
                    min: v,
                    max: v,
                })
        }),
        false,
        Tie::Within(INSTRUCTION_NOISE),
        &|v| grouped(v),
        &left_out(&candidates, &scenarios, &|s| {
            s.cost
                .as_ref()
                .and_then(|c| c.instructions_per_request())
                .is_some()
        }),
    ));
    let fixed_rate = shared_fixed_rate_scenarios(&candidates);
    out.extend(answer(
        "latency at the fixed rate",
        &format!(
            "p99 at half the slowest server's saturation rate, geometric mean over {}; \
             ranges: the 95% interval of each p99",
            fixed_rate.join(", ")
        ),
        candidates
            .iter()
            .filter_map(|b| {
                let ranges: Vec<(f64, f64, f64)> = fixed_rate
                    .iter()
                    .map(|name| {
                        let run = &b.scenarios.iter().find(|s| &s.name == name)?.fixed_rate;
                        Some(p99_interval(&run.as_ref()?.run))
                    })
                    .collect::<Option<_>>()?;
                (!ranges.is_empty()).then(|| Standing {
                    server: label(b),
                    value: geometric_mean(ranges.iter().map(|r| r.0)),
                    low: geometric_mean(ranges.iter().map(|r| r.1)) * (1.0 - NOISE_FLOOR),
                    high: geometric_mean(ranges.iter().map(|r| r.2)) * (1.0 + NOISE_FLOOR),
                })
            })
            .collect(),
        false,
        Tie::Overlap("95% intervals"),
        &|v| format!("{} µs", grouped(v)),
        "",
    ));
    // Over the same scenarios for all, hashing ones included: a server that never hashed
    // a password would look lighter by argon2's 19 MiB.
    let every = shared_scenarios(&candidates, None);
    let peak = |s: &ScenarioReport| s.summary.as_ref()?.server_peak_rss_kib.map(|r| r.median);
    let memory: Vec<Standing> = candidates
        .iter()
        .filter_map(|b| {
            let peaks: Option<Vec<f64>> = every
                .iter()
                .map(|name| b.scenarios.iter().find(|s| &s.name == name).and_then(peak))
                .collect();
            let kib = peaks?.into_iter().fold(None, |m: Option<f64>, v| {
                Some(m.map_or(v, |m: f64| m.max(v)))
            })?;
            Some(fact(b, kib / 1024.0))
        })
        .collect();
    out.extend(answer(
        "peak memory",
        "the largest of the scenarios",
        memory,
        false,
        Tie::Plus(1.0),
        &|v| format!("{v:.1} MiB"),
        &left_out(&candidates, &every, &|s| peak(s).is_some()),
    ));
    let facts: [Fact; 5] = [
        (
            "adapter lines",
            &|b| b.adapter_lines.map(|v| v as f64),
            Tie::Within(0.0),
            &|v| format!("{v:.0} lines"),
        ),
        (
            "crates in the dependency tree",
            &|b| b.dependency_count.map(|v| v as f64),
            Tie::Within(0.0),
            &|v| format!("{v:.0} crates"),
        ),
        (
            "release binary",
            &|b| b.binary_bytes.map(|v| v as f64 / 1_048_576.0),
            Tie::Within(0.0),
            &|v| format!("{v:.1} MiB"),
        ),
        (
            "clean release build",
            &|b| b.clean_build.as_ref().map(|c| c.seconds),
            Tie::Within(0.10),
            &|v| format!("{v:.0} s"),
        ),
        ("start-up", &|b| b.startup_ms, Tie::Plus(10.0), &|v| {
            format!("{v:.0} ms")
        }),
    ];
    for (criterion, get, tie, show) in facts {
        let figures = candidates
            .iter()
            .filter_map(|b| Some(fact(b, get(b)?)))
            .collect();
        out.extend(answer(
            criterion,
            "measured once",
            figures,
            false,
            tie,
            show,
            "",
        ));
    }
    out.extend(conformance(&candidates));
    for (criterion, why) in [
        ("requests/s at saturation", ""),
        ("CPU per request", ""),
        (
            "instructions per request",
            " (it needs valgrind and no --no-cost; where valgrind ran, the report says why it \
             counted nothing)",
        ),
        (
            "latency at the fixed rate",
            if report.options.quick {
                " (--quick runs no fixed-rate windows)"
            } else if report.options.rate.is_some() {
                " (--rate made every window open-loop: see the tables)"
            } else {
                ""
            },
        ),
        ("conformance and declared deviations", ""),
    ] {
        if !out.iter().any(|f| f.criterion == criterion) {
            let position = out.len().min(match criterion {
                "requests/s at saturation" => 0,
                "CPU per request" => 1,
                "instructions per request" => 2,
                "latency at the fixed rate" => 3,
                _ => usize::MAX,
            });
            out.insert(
                position,
                Finding {
                    criterion,
                    answer: format!("not measured in this run{why}."),
                },
            );
        }
    }
    out
}

/// A window's p99 with the 95% confidence interval of a 99th percentile estimated from its
/// sample, in microseconds; without the histogram, the p99 alone.
fn p99_interval(run: &Run) -> (f64, f64, f64) {
    let p99 = run.latency_us.p99 as f64;
    let Some(histogram) = run
        .histogram
        .as_deref()
        .and_then(|h| histograms::decode(h).ok())
    else {
        return (p99, p99, p99);
    };
    let n = histogram.len() as f64;
    if n < 1.0 {
        return (p99, p99, p99);
    }
    let half = 1.96 * (0.99 * 0.01 / n).sqrt();
    (
        p99,
        histogram.value_at_quantile((0.99 - half).max(0.0)) as f64,
        histogram.value_at_quantile((0.99 + half).min(1.0)) as f64,
    )
}

/// The scenarios every candidate ran a fixed-rate window of.
fn shared_fixed_rate_scenarios(candidates: &[&BackendReport]) -> Vec<String> {
    Scenario::ALL
        .iter()
        .map(|s| s.name().to_owned())
        .filter(|name| {
            !candidates.is_empty()
                && candidates.iter().all(|b| {
                    b.scenarios
                        .iter()
                        .any(|s| &s.name == name && s.fixed_rate.is_some())
                })
        })
        .collect()
}

/// The fewest failed checks, then the fewest declared deviations: "axum, hyper and warp pass
/// every check run and declare no deviation; actix ... declares 1 (HostRefusedByFramework)".
/// A backend of the workspace the suite did not run against (`--quick`) is still ranked by
/// its declared deviations, which its adapter's source states.
fn conformance(candidates: &[&BackendReport]) -> Option<Finding> {
    let mut known: Vec<&BackendReport> = candidates
        .iter()
        .copied()
        .filter(|b| b.conformance.is_some() || b.role != Role::External)
        .collect();
    if known.iter().all(|b| b.conformance.is_none())
        && known.iter().all(|b| b.deviations.is_empty())
    {
        // Nothing ran and nothing is declared: no figure to rank on.
        return None;
    }
    known.sort_by_key(|b| {
        (
            b.conformance.as_ref().map_or(0, |c| c.failed.len()),
            b.deviations.len(),
        )
    });
    // "pass"/"passes": the verb agrees with how many servers share the sentence.
    let describe = |b: &BackendReport, one: bool| {
        let verb = |plural: &str, singular: &str| if one { singular } else { plural }.to_owned();
        let checks = b.conformance.as_ref().map(|c| {
            if c.failed.is_empty() {
                format!("{} all {} checks run", verb("pass", "passes"), c.passed)
            } else {
                format!(
                    "{} {} of {} (first: {})",
                    verb("fail", "fails"),
                    c.failed.len(),
                    c.passed + c.failed.len(),
                    c.failed.first().map_or("", |(name, _)| name.as_str())
                )
            }
        });
        let deviations = match (b.role, b.deviations.as_slice()) {
            (Role::External, _) => None,
            (_, []) => Some(format!("{} no deviation", verb("declare", "declares"))),
            (_, list) => Some(format!(
                "{} {} ({})",
                verb("declare", "declares"),
                list.len(),
                list.join(", ")
            )),
        };
        let parts: Vec<String> = checks.into_iter().chain(deviations).collect();
        parts.join(" and ")
    };
    let mut groups: Vec<(String, Vec<&BackendReport>)> = Vec::new();
    for b in &known {
        let key = describe(b, false);
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, servers)) => servers.push(b),
            None => groups.push((key, vec![b])),
        }
    }
    let sentences: Vec<String> = groups
        .iter()
        .map(|(_, servers)| {
            let names: Vec<String> = servers.iter().map(|b| label(b)).collect();
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            format!(
                "{} {}",
                join(&names),
                describe(servers[0], names.len() == 1)
            )
        })
        .collect();
    let mut basis = Vec::new();
    if let Some(c) = known.iter().find_map(|b| b.conformance.as_ref()) {
        basis.push(format!(
            "{} checks run against each running server; {} more need the binary, an admin or \
             a second server{}: the backends' `cargo test` runs them",
            c.passed + c.failed.len(),
            c.skipped + c.not_run.len(),
            if c.not_run.is_empty() {
                String::new()
            } else {
                let named: Vec<&str> = c.not_run.iter().take(3).map(String::as_str).collect();
                let more = c.not_run.len() - named.len();
                format!(
                    ", or were not run ({}{}: --quick leaves out the one that waits 10 s, and \
                     a server gets {} s in all)",
                    named.join(", "),
                    if more > 0 {
                        format!(" and {more} more")
                    } else {
                        String::new()
                    },
                    c.deadline_secs
                )
            }
        ));
    }
    let untested: Vec<String> = known
        .iter()
        .filter(|b| b.conformance.is_none())
        .map(|b| label(b))
        .collect();
    if !untested.is_empty() {
        let names: Vec<&str> = untested.iter().map(String::as_str).collect();
        basis.push(format!(
            "the suite was not run against {} in this run (--quick): their `cargo test` runs \
             every check",
            join(&names)
        ));
    }
    Some(Finding {
        criterion: "conformance and declared deviations",
        answer: format!("{} ({}).", sentences.join("; "), basis.join("; ")),
    })
}

fn label(b: &BackendReport) -> String {
    if b.role == Role::Baseline {
        format!("{} (no framework)", b.name)
    } else {
        b.name.clone()
    }
}

fn fact(b: &BackendReport, value: f64) -> Standing {
    Standing {
        server: label(b),
        value,
        low: value,
        high: value,
    }
}

/// The scenarios that every server of the workspace among the candidates timed (every
/// candidate when there is none: a `--url` or `--server` run alone), of `only` (the cheap ones,
/// whose cost is the server's, not the password hash) or all. A `--server` that answers fewer
/// does not narrow the comparison of the others: it is left out, and said to be.
fn shared_scenarios(candidates: &[&BackendReport], only: Option<&[String]>) -> Vec<String> {
    let ours: Vec<&BackendReport> = candidates
        .iter()
        .copied()
        .filter(|b| b.role != Role::External)
        .collect();
    let deciding = if ours.is_empty() { candidates } else { &ours };
    Scenario::ALL
        .iter()
        .map(|s| s.name().to_owned())
        .filter(|name| only.is_none_or(|only| only.contains(name)))
        .filter(|name| {
            !deciding.is_empty()
                && deciding.iter().all(|b| {
                    b.scenarios
                        .iter()
                        .any(|s| &s.name == name && s.summary.is_some())
                })
        })
        .collect()
}

/// " py is left out: it has no figure for static, me." for the candidates missing some of
/// `scenarios` (as `what` tells), or nothing.
fn left_out(
    candidates: &[&BackendReport],
    scenarios: &[String],
    has: &dyn Fn(&ScenarioReport) -> bool,
) -> String {
    let mut out = String::new();
    for b in candidates {
        let missing: Vec<&str> = scenarios
            .iter()
            .filter(|name| !b.scenarios.iter().any(|s| &s.name == *name && has(s)))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            out.push_str(&format!(
                " {} is left out: it has no figure for {}.",
                label(b),
                missing.join(", ")
            ));
        }
    }
    out
}

/// A whole number with thousands separated, as the README writes them: `96,002`.
pub fn grouped(value: f64) -> String {
    let digits = format!("{:.0}", value.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if value < -0.5 {
        out.insert(0, '-');
    }
    out
}

fn geometric_mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = values
        .filter(|v| *v > 0.0)
        .fold((0.0, 0u32), |(s, n), v| (s + v.ln(), n + 1));
    if n == 0 {
        0.0
    } else {
        (sum / f64::from(n)).exp()
    }
}

/// "axum and warp tie at 17,700; actix costs 1.7× as much, rocket 2.7×."
fn answer(
    criterion: &'static str,
    basis: &str,
    mut figures: Vec<Standing>,
    higher_is_better: bool,
    tie: Tie,
    show: &dyn Fn(f64) -> String,
    caveat: &str,
) -> Option<Finding> {
    figures.retain(|f| f.value > 0.0 && f.value.is_finite());
    figures.sort_by(|a, b| {
        if higher_is_better {
            b.value.total_cmp(&a.value)
        } else {
            a.value.total_cmp(&b.value)
        }
    });
    let best = figures.first()?.clone();
    let ties = |f: &Standing| match tie {
        Tie::Overlap(_) => f.low <= best.high && best.low <= f.high,
        Tie::Within(fraction) => (f.value - best.value).abs() <= best.value * fraction,
        Tie::Plus(amount) => (f.value - best.value).abs() <= amount,
    };
    let (group, rest): (Vec<&Standing>, Vec<&Standing>) = figures.iter().partition(|f| ties(f));
    let names: Vec<&str> = group.iter().map(|f| f.server.as_str()).collect();
    let mut text = if group.len() == 1 {
        format!("{} is best, at {}", names[0], show(best.value))
    } else {
        format!(
            "{} tie ({}), from {} to {}",
            join(&names),
            match tie {
                Tie::Overlap(what) => format!("their {what} overlap"),
                Tie::Within(0.0) => "equal".to_owned(),
                Tie::Within(f) => format!("within {:.0}%", f * 100.0),
                Tie::Plus(a) => format!("within {}", show(a)),
            },
            show(best.value),
            show(group.last().map_or(best.value, |f| f.value)),
        )
    };
    if !rest.is_empty() {
        let others: Vec<String> = rest
            .iter()
            .map(|f| {
                let times = f.value / best.value;
                let relation = if higher_is_better {
                    "of that"
                } else {
                    "as much"
                };
                format!("{} {:.2}× {relation}", f.server, times)
            })
            .collect();
        text.push_str(&format!("; {}", others.join(", ")));
    }
    Some(Finding {
        criterion,
        answer: format!("{text} ({basis}).{caveat}"),
    })
}

fn join(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::{run, sample};

    /// A report with these servers: (name, role, requests/s of three repeats, instructions).
    fn report(servers: &[(&str, Role, [f64; 3], f64)]) -> Report {
        let mut report = sample();
        let template = report.backends[0].clone();
        report.backends = servers
            .iter()
            .map(|(name, role, rps, instructions)| {
                let mut b = template.clone();
                b.name = (*name).to_owned();
                b.role = *role;
                let mut scenario =
                    ScenarioReport::from_runs("plaintext", rps.iter().map(|r| run(*r)).collect());
                scenario.cost = Some(crate::report::scenario_cost::ScenarioCost {
                    instructions: vec![*instructions],
                    ..crate::report::scenario_cost::ScenarioCost::default()
                });
                b.scenarios = vec![scenario];
                b
            })
            .collect();
        report
    }

    fn answer_of(findings: &[Finding], criterion: &str) -> String {
        findings
            .iter()
            .find(|f| f.criterion == criterion)
            .map(|f| f.answer.clone())
            .unwrap_or_default()
    }

    #[test]
    fn overlapping_repeats_tie_and_separated_ones_rank() {
        let findings = findings(&report(&[
            ("axum", Role::Framework, [100.0, 90.0, 110.0], 17_700.0),
            ("warp", Role::Framework, [104.0, 95.0, 112.0], 17_800.0),
            ("rocket", Role::Framework, [50.0, 48.0, 52.0], 47_000.0),
            ("floor", Role::Reference, [300.0, 290.0, 310.0], 8_500.0),
        ]));
        let rps = answer_of(&findings, "requests/s at saturation");
        assert!(rps.starts_with("warp and axum tie"), "{rps}");
        assert!(rps.contains("rocket 0.48× of that"), "{rps}");
        assert!(
            !rps.contains("floor"),
            "floor is a reference, not a choice: {rps}"
        );
        // 17,700 and 17,800 are 0.6% apart: a tie; rocket is 2.66× as much.
        let instructions = answer_of(&findings, "instructions per request");
        assert!(
            instructions.starts_with("axum and warp tie (within 1%)"),
            "{instructions}"
        );
        assert!(
            instructions.contains("rocket 2.66× as much"),
            "{instructions}"
        );
    }

    #[test]
    fn a_clear_winner_is_named_alone_and_the_baseline_is_labelled() {
        let findings = findings(&report(&[
            ("hyper", Role::Baseline, [100.0, 99.0, 101.0], 11_000.0),
            ("axum", Role::Framework, [80.0, 79.0, 81.0], 17_700.0),
        ]));
        let rps = answer_of(&findings, "requests/s at saturation");
        assert!(
            rps.starts_with("hyper (no framework) is best, at 100 req/s"),
            "{rps}"
        );
        assert!(rps.contains("axum 0.80× of that"), "{rps}");
        // One window each, 8% apart: inside the ±5% each side allows, so a tie, said as such.
        let mut quick = report(&[
            ("hyper", Role::Baseline, [100.0, 100.0, 100.0], 11_000.0),
            ("axum", Role::Framework, [92.0, 92.0, 92.0], 17_700.0),
        ]);
        quick.options.repeat = 1;
        let rps = answer_of(&super::findings(&quick), "requests/s at saturation");
        assert!(
            rps.starts_with("hyper (no framework) and axum tie"),
            "{rps}"
        );
        assert!(rps.contains("a first look, not a ranking"), "{rps}");
        let lines = answer_of(&findings, "adapter lines");
        assert!(
            lines.contains("tie (equal)"),
            "both have the sample's line count: {lines}"
        );
    }

    /// A fixed-rate window whose latencies are `n` samples spread evenly from `low` to `high` µs.
    fn fixed_window(low: u64, high: u64, n: u64) -> crate::report::FixedRate {
        let mut histogram = hdrhistogram::Histogram::<u64>::new(3).expect("a histogram");
        for i in 0..n {
            histogram
                .record(low + (high - low) * i / n.max(1))
                .expect("in range");
        }
        let mut window = run(1000.0);
        window.latency_us.p99 = histogram.value_at_quantile(0.99);
        window.histogram = crate::report::histograms::encode(&histogram);
        crate::report::FixedRate {
            requests_per_sec: 500.0,
            run: window,
        }
    }

    #[test]
    fn fixed_rate_p99s_tie_when_their_intervals_overlap() {
        let mut report = report(&[
            ("axum", Role::Framework, [100.0, 100.0, 100.0], 17_700.0),
            ("warp", Role::Framework, [100.0, 100.0, 100.0], 17_800.0),
            ("rocket", Role::Framework, [50.0, 50.0, 50.0], 47_000.0),
        ]);
        // axum and warp: p99s 2% apart from 2,000 requests each, whose 95% intervals span
        // several percent; rocket's p99 is twice theirs.
        for (b, (high, n)) in
            report
                .backends
                .iter_mut()
                .zip([(1_000, 2_000), (1_020, 2_000), (2_000, 2_000)])
        {
            b.scenarios[0].fixed_rate = Some(fixed_window(100, high, n));
        }
        let latency = answer_of(&findings(&report), "latency at the fixed rate");
        assert!(latency.starts_with("axum and warp tie"), "{latency}");
        assert!(latency.contains("their 95% intervals overlap"), "{latency}");
        assert!(latency.contains("rocket 2.00× as much"), "{latency}");
        // 20% apart is more than the intervals and the ±5% allowance: a difference.
        for (b, (high, n)) in
            report
                .backends
                .iter_mut()
                .zip([(1_000, 200_000), (1_200, 200_000), (2_000, 200_000)])
        {
            b.scenarios[0].fixed_rate = Some(fixed_window(100, high, n));
        }
        let latency = answer_of(&findings(&report), "latency at the fixed rate");
        assert!(latency.starts_with("axum is best"), "{latency}");
    }

    #[test]
    fn a_partial_server_is_left_out_without_narrowing_the_others() {
        let mut report = report(&[
            ("hyper", Role::Baseline, [100.0, 99.0, 101.0], 11_000.0),
            ("axum", Role::Framework, [80.0, 79.0, 81.0], 17_700.0),
            ("py", Role::External, [10.0, 10.0, 10.0], 200_000.0),
        ]);
        for b in &mut report.backends {
            let mut json = b.scenarios[0].clone();
            json.name = "json".into();
            if b.name == "py" {
                json.runs.clear();
                json.summary = None;
                json.failed = Some("GET /json: 404".into());
            }
            b.scenarios.push(json);
        }
        let findings = findings(&report);
        let rps = answer_of(&findings, "requests/s at saturation");
        assert!(rps.contains("geometric mean over plaintext, json"), "{rps}");
        assert!(
            rps.contains("py is left out: it has no figure for json."),
            "{rps}"
        );
        assert!(!rps.contains("py 0.1"), "{rps}");
        let memory = answer_of(&findings, "peak memory");
        assert!(memory.contains("py is left out"), "{memory}");
    }

    #[test]
    fn big_figures_are_grouped_by_thousands() {
        assert_eq!(grouped(96_002.4), "96,002");
        assert_eq!(grouped(13_224.0), "13,224");
        assert_eq!(grouped(999.6), "1,000");
        assert_eq!(grouped(42.0), "42");
        assert_eq!(grouped(1_234_567.0), "1,234,567");
    }

    #[test]
    fn a_p99_from_few_requests_has_a_wide_interval() {
        let interval = |n: u64| {
            let window = fixed_window(0, 10_000, n).run;
            let (p99, low, high) = p99_interval(&window);
            assert!(low <= p99 && p99 <= high, "{low} {p99} {high}");
            (high - low) / p99
        };
        // 100 requests: the 99th percentile could be anything from the 97th to the 100th (3%
        // of the value here); a million: within 0.1%.
        assert!(interval(100) > 0.02, "{}", interval(100));
        assert!(interval(1_000_000) < 0.001, "{}", interval(1_000_000));
    }

    #[test]
    fn what_a_run_did_not_measure_is_said() {
        let mut quick = report(&[("axum", Role::Framework, [100.0, 100.0, 100.0], 17_700.0)]);
        quick.options.quick = true;
        quick.backends[0].conformance = None;
        let findings = findings(&quick);
        assert_eq!(
            answer_of(&findings, "latency at the fixed rate"),
            "not measured in this run (--quick runs no fixed-rate windows)."
        );
        // The suite did not run (--quick): the backend is still known by what it declares.
        assert_eq!(
            answer_of(&findings, "conformance and declared deviations"),
            "axum declares 1 (NoHeaderReadTimeout) (the suite was not run against axum in \
             this run (--quick): their `cargo test` runs every check)."
        );
        // Neither a suite result nor a declaration: nothing to say but that.
        quick.backends[0].deviations.clear();
        assert_eq!(
            answer_of(
                &super::findings(&quick),
                "conformance and declared deviations"
            ),
            "not measured in this run."
        );
        assert!(answer_of(&findings, "requests/s at saturation").starts_with("axum is best"));
    }

    #[test]
    fn conformance_names_failures_and_deviations() {
        let mut report = report(&[
            ("hyper", Role::Baseline, [100.0, 100.0, 100.0], 11_000.0),
            ("rocket", Role::Framework, [50.0, 50.0, 50.0], 47_000.0),
            ("warp", Role::Framework, [90.0, 90.0, 90.0], 19_000.0),
            ("py", Role::External, [10.0, 10.0, 10.0], 200_000.0),
        ]);
        let passing = crate::report::Conformance {
            passed: 172,
            failed: Vec::new(),
            skipped: 47,
            not_run: Vec::new(),
            deadline_secs: 180,
        };
        for b in &mut report.backends {
            b.conformance = Some(passing.clone());
            b.deviations = Vec::new();
        }
        report.backends[1].deviations =
            vec!["NoHeaderReadTimeout".into(), "HttpVersionHidden".into()];
        report.backends[3].conformance = Some(crate::report::Conformance {
            passed: 13,
            failed: vec![("home_page_is_html".into(), "404".into()); 159],
            ..passing
        });
        let answer = answer_of(&findings(&report), "conformance and declared deviations");
        assert!(
            answer.starts_with(
                "hyper (no framework) and warp pass all 172 checks run and declare no deviation; \
                 rocket passes all 172 checks run and declares 2 (NoHeaderReadTimeout, \
                 HttpVersionHidden); py fails 159 of 172 (first: home_page_is_html)"
            ),
            "{answer}"
        );
        assert!(answer.contains("47 more need the binary"), "{answer}");
    }

    #[test]
    fn the_words_use_what_the_run_recorded() {
        // The suite's deadline of that run, not this bench's.
        let mut report = report(&[("axum", Role::Framework, [100.0, 100.0, 100.0], 17_700.0)]);
        if let Some(c) = report.backends[0].conformance.as_mut() {
            c.deadline_secs = 60;
        }
        let answer = answer_of(&findings(&report), "conformance and declared deviations");
        assert!(answer.contains("a server gets 60 s in all"), "{answer}");
        // The cheap scenarios of that run: with none recorded, no timed figure is compared.
        let rps = answer_of(&findings(&report), "requests/s at saturation");
        assert!(rps.contains("over plaintext"), "{rps}");
        report.cheap_scenarios.clear();
        let rps = answer_of(&findings(&report), "requests/s at saturation");
        assert!(rps.starts_with("not measured"), "{rps}");
    }
}
