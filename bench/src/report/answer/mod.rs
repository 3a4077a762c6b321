//! The answer first (BENCH.md 5): for each criterion, the best server or the group that ties
//! with it, with the figure, and the others as multiples of it, in words a student can act on.
//! Only the servers one could choose are ranked (the backends, `hyper` as "no framework", and
//! servers in any language, `--server` and `--url`); `floor` is a reference, not a choice. The
//! scenarios compared are those the workspace's backends all ran: a `--server` that answers
//! fewer is left out of that criterion, and said to be, rather than narrowing everyone's.
//!
//! Tie rules, one per kind of figure. The best server and every server that ties with it
//! are named as a group; the others are ranked the same way, in groups of servers that tie
//! with the best of them, so that only what the noise separates is ever ordered:
//! - timed figures (requests/s, CPU per request): each server's figure is the geometric mean
//!   over the cheap scenarios all of them ran (the password-hashing ones measure argon2, the
//!   same code everywhere), with the geometric means of the repeats' minima and maxima,
//!   widened by ±5% (`compare`'s floor, since a single repeat has no spread), as its range;
//!   servers whose ranges overlap tie;
//! - instructions per request: the same mean; within 1% is a tie (BENCH.md 4.2: repeats
//!   agree within 1%);
//! - latency at the fixed rate: the median p99 of each server's open-loop windows, geometric
//!   mean over the scenarios all of them ran at a fixed rate, with the repeats' extremes as
//!   its range, widened by ±5%; a report with one window per scenario uses the 95%
//!   confidence interval of that window's p99 instead (the order statistics
//!   `n·0.99 ± 1.96·√(n·0.99·0.01)`, read from its histogram), which assumes independent
//!   requests and so is far too narrow when a machine pause delays hundreds of them;
//! - peak memory: each cheap scenario's peak (they run before the process hashes a
//!   password), geometric mean over them, with the repeats' extremes as its range, widened
//!   by ±5%; the largest alone would be the last scenario's (RSS only grows), and there the
//!   gap between two servers sat on the ±5% edge and a third run flipped it;
//! - start-up: the median of five starts, one server at a time, the starts' extremes widened
//!   by ±10% as its range, since five starts in a row miss the drift between one server's
//!   turn and the next (a report with one start: within 10 ms, an allowance for a figure
//!   taken once);
//! - facts of the build (adapter lines, dependencies, binary size): exact, ties only when
//!   equal; clean build times (release, debug) within 10%, an allowance for a figure measured
//!   once;
//! - the edit-compile loop (`cargo check`, `cargo build`, `cargo build --release` after a
//!   one-line edit of the adapter): the median of the edits, their extremes widened by ±10%
//!   as the range, since the backends are built minutes apart;
//! - conformance: the fewest failed checks, then the fewest declared deviations; equal is a tie.
//!
//! A timed criterion must also hold within the run: its repeats go round the servers in
//! rounds, each round one window per server like a short run of its own, and if two rounds,
//! each ranked alone, name another best or order two servers oppositely, the criterion is
//! "not stable on this machine": it gives each server's spread and names no one, since a
//! second run could as well have said either (two default runs on a shared 2-core VM flipped
//! requests/s, CPU per request and fixed-rate latency this way; memory and start-up held).
//!
//! A criterion with no figure in the run is said to be not measured, and why. What the words
//! depend on besides the figures (which scenarios are cheap, the suite's deadline) is read
//! from the report, as the run recorded it.

mod connections;

use crate::report::compare::{INSTRUCTION_NOISE, NOISE_FLOOR};
use crate::report::histograms;
use crate::report::ranking::{self, Verdict, verdict};
use crate::report::scenario::Scenario;
use crate::report::stats::Stat;
use crate::report::{
    BackendReport, EditLoop, FixedRate, Marker, Report, Role, Run, ScenarioReport,
};

/// One criterion's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub criterion: &'static str,
    pub answer: String,
    /// The servers as the answer orders them: the best or the group that ties with it, then
    /// each further group of servers that tie with each other; empty when not measured.
    pub ranking: Vec<Vec<String>>,
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
    let scenarios = shared_scenarios(&candidates, &report.cheap_scenarios);
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
    // Windows of the compared scenarios measured again because the machine was shared.
    let remeasured: usize = candidates
        .iter()
        .flat_map(|b| &b.scenarios)
        .filter(|s| scenarios.contains(&s.name))
        .map(|s| s.dropped.len())
        .sum();
    let per_round = |get: &dyn Fn(&Run) -> Option<f64>| {
        rounds(&candidates, &|b, r| {
            let values: Option<Vec<f64>> = scenarios
                .iter()
                .map(|name| get(b.scenarios.iter().find(|s| &s.name == name)?.runs.get(r)?))
                .collect();
            values.map(|v| geometric_mean(v.into_iter()))
        })
    };
    let rate = |v: f64| format!("{} req/s", grouped(v));
    out.extend(held(
        answer(
            "requests/s at saturation",
            &over,
            per_scenario(&|s| s.summary.as_ref().map(|s| s.requests_per_sec)),
            true,
            Tie::Overlap("repeats"),
            &rate,
            &format!(
                "{one_window}{timed_left_out}{}",
                if client_bound {
                    " Some of these windows were client-bound: those rates are lower bounds."
                } else {
                    ""
                }
            ),
        ),
        &per_round(&|r| Some(r.requests_per_sec)),
        Some(remeasured),
        true,
        &rate,
        &over,
    ));
    let cpu = |v: f64| format!("{v:.1} µs");
    out.extend(held(
        answer(
            "CPU per request",
            &over,
            per_scenario(&|s| s.summary.as_ref().and_then(|s| s.server_cpu_us_per_request)),
            false,
            Tie::Overlap("repeats"),
            &cpu,
            &format!("{one_window}{timed_left_out}"),
        ),
        &per_round(&|r| r.server_cpu_us_per_request),
        Some(remeasured),
        false,
        &cpu,
        &over,
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
    let latency: Vec<(Standing, bool)> = candidates
        .iter()
        .filter_map(|b| {
            let ranges: Vec<((f64, f64, f64), bool)> = fixed_rate
                .iter()
                .map(|name| {
                    let windows = b.scenarios.iter().find(|s| &s.name == name)?;
                    Some(p99_range(windows.fixed_rate.as_ref()?))
                })
                .collect::<Option<_>>()?;
            (!ranges.is_empty()).then(|| {
                let standing = Standing {
                    server: label(b),
                    value: geometric_mean(ranges.iter().map(|r| r.0.0)),
                    low: geometric_mean(ranges.iter().map(|r| r.0.1)) * (1.0 - NOISE_FLOOR),
                    high: geometric_mean(ranges.iter().map(|r| r.0.2)) * (1.0 + NOISE_FLOOR),
                };
                (standing, ranges.iter().all(|r| r.1))
            })
        })
        .collect();
    let repeated = !latency.is_empty() && latency.iter().all(|(_, repeated)| *repeated);
    let latency_basis = format!(
        "p99 at half the slowest server's saturation rate, geometric mean over {}",
        fixed_rate.join(", ")
    );
    let micros = |v: f64| format!("{} µs", grouped(v));
    out.extend(held(
        answer(
            "latency at the fixed rate",
            &format!(
                "{latency_basis}; {}",
                if repeated {
                    "ranges: the repeats' p99s"
                } else {
                    "ranges: the 95% interval of each p99"
                }
            ),
            latency.into_iter().map(|(standing, _)| standing).collect(),
            false,
            Tie::Overlap(if repeated { "repeats" } else { "95% intervals" }),
            &micros,
            "",
        ),
        &rounds(&candidates, &|b, r| {
            let p99s: Option<Vec<f64>> = fixed_rate
                .iter()
                .map(|name| {
                    let windows = b.scenarios.iter().find(|s| &s.name == name)?;
                    let window = windows.fixed_rate.as_ref()?.repeats.get(r)?;
                    Some(window.latency_us.p99 as f64)
                })
                .collect();
            p99s.map(|v| geometric_mean(v.into_iter()))
        }),
        Some(remeasured),
        false,
        &micros,
        &latency_basis,
    ));
    // The cheap scenarios run in a process that has not hashed a password (`run::setup::
    // restart`): what the framework holds under load. The hashing scenarios' figures are
    // argon2's memory, the same in every backend, and stay in the tables.
    let peak = |s: &ScenarioReport| s.summary.as_ref()?.server_peak_rss_kib;
    let memory: Vec<Standing> = candidates
        .iter()
        .filter_map(|b| {
            let peaks: Option<Vec<Stat>> = scenarios
                .iter()
                .map(|name| b.scenarios.iter().find(|s| &s.name == name).and_then(peak))
                .collect();
            let peaks = peaks.filter(|p| !p.is_empty())?;
            let mean = |get: fn(&Stat) -> f64| geometric_mean(peaks.iter().map(get)) / 1024.0;
            Some(Standing {
                server: label(b),
                value: mean(|s| s.median),
                low: mean(|s| s.min) * (1.0 - NOISE_FLOOR),
                high: mean(|s| s.max) * (1.0 + NOISE_FLOOR),
            })
        })
        .collect();
    let memory_basis = format!(
        "each scenario's peak, geometric mean over {}, before the process hashed any \
         password; the password-hashing scenarios' own figures, argon2's, are in the tables",
        scenarios.join(", ")
    );
    let mebibytes = |v: f64| format!("{v:.1} MiB");
    out.extend(held(
        answer(
            "peak memory",
            &memory_basis,
            memory,
            false,
            Tie::Overlap("repeats"),
            &mebibytes,
            &left_out(&candidates, &scenarios, &|s| peak(s).is_some()),
        ),
        &rounds(&candidates, &|b, r| {
            let peaks: Option<Vec<f64>> = scenarios
                .iter()
                .map(|name| {
                    let run = b.scenarios.iter().find(|s| &s.name == name)?.runs.get(r)?;
                    run.server_peak_rss_kib.map(|kib| kib as f64 / 1024.0)
                })
                .collect();
            peaks.map(|p| geometric_mean(p.into_iter()))
        }),
        // Memory does not move with a neighbour's CPU use: only its rounds are checked.
        None,
        false,
        &mebibytes,
        &memory_basis,
    ));
    out.extend(connections::findings(&candidates));
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
        (
            "clean debug build",
            &|b| b.edit_loop().map(|l| l.clean_debug_seconds),
            Tie::Within(0.10),
            &|v| format!("{v:.0} s"),
        ),
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
    out.extend(edit_loop(&candidates));
    out.extend(startup(&candidates));
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
                    ranking: Vec::new(),
                },
            );
        }
    }
    out
}

/// Each candidate's figure in each round of repeats (`figure(b, r)`: from the r-th window of
/// every scenario), for those that have one in every round; as many rounds as all have.
fn rounds(
    candidates: &[&BackendReport],
    figure: &dyn Fn(&BackendReport, usize) -> Option<f64>,
) -> Vec<(String, Vec<f64>)> {
    let of = |b: &BackendReport| -> Vec<f64> {
        (0..)
            .map_while(|r| figure(b, r).filter(|v| *v > 0.0 && v.is_finite()))
            .collect()
    };
    let all: Vec<(String, Vec<f64>)> = candidates.iter().map(|b| (label(b), of(b))).collect();
    let n = all.iter().map(|(_, v)| v.len()).min().unwrap_or(0);
    all.into_iter()
        .map(|(server, mut v)| {
            v.truncate(n);
            (server, v)
        })
        .collect()
}

/// `finding`, unless it cannot hold: its rounds of repeats disagree (a round is one window
/// per server, taken in turn like a short run of its own, and when two rounds, each ranked
/// alone with the ±5% floor of a single window, name another best or order two servers
/// oppositely, a second run could as well say either), or, for a timed figure (`shared` is
/// how many of its windows were measured again for noise), the machine was shared while it
/// was timed: two default runs on a shared VM whose rounds each agreed still ranked CPU per
/// request differently (salvo and actix swapped groups). Then the criterion says it is not
/// stable on this machine, gives each server's spread over the rounds, and names no one (one
/// group of all).
fn held(
    finding: Option<Finding>,
    rounds: &[(String, Vec<f64>)],
    shared: Option<usize>,
    higher_is_better: bool,
    show: &dyn Fn(f64) -> String,
    basis: &str,
) -> Option<Finding> {
    let finding = finding?;
    let why = disagreement(rounds, higher_is_better).or_else(|| {
        shared.filter(|n| *n > 0).map(|n| {
            format!(
                "{n} of its windows had to be measured again because other processes or the \
                 hypervisor took the cores, and on such a shared machine two runs rank the \
                 servers differently though each run's rounds agree"
            )
        })
    });
    let Some(why) = why else {
        return Some(finding);
    };
    let mut spread: Vec<(&String, Stat)> = rounds
        .iter()
        .filter_map(|(server, values)| Some((server, Stat::of(values)?)))
        .collect();
    spread.sort_by(|a, b| {
        let order = a.1.median.total_cmp(&b.1.median);
        if higher_is_better {
            order.reverse()
        } else {
            order
        }
    });
    let spread: Vec<String> = spread
        .iter()
        .map(|(server, stat)| format!("{server} {} to {}", show(stat.min), show(stat.max)))
        .collect();
    Some(Finding {
        criterion: finding.criterion,
        answer: format!(
            "not stable on this machine: {why}, so no server is named best; each server over \
             the rounds: {} ({basis}).",
            spread.join(", ")
        ),
        ranking: vec![finding.ranking.into_iter().flatten().collect()],
    })
}

/// Why the rounds of repeats, each ranked alone, do not give one answer; `None` when they
/// agree, or with fewer than two rounds.
fn disagreement(rounds: &[(String, Vec<f64>)], higher_is_better: bool) -> Option<String> {
    let n = rounds.iter().map(|(_, v)| v.len()).min().unwrap_or(0);
    if n < 2 || rounds.len() < 2 {
        return None;
    }
    let rankings: Vec<Vec<Vec<String>>> = (0..n)
        .map(|r| {
            let mut figures: Vec<Standing> = rounds
                .iter()
                .map(|(server, values)| Standing {
                    server: server.clone(),
                    value: values[r],
                    low: values[r] * (1.0 - NOISE_FLOOR),
                    high: values[r] * (1.0 + NOISE_FLOOR),
                })
                .collect();
            figures.sort_by(|a, b| {
                let order = a.value.total_cmp(&b.value);
                if higher_is_better {
                    order.reverse()
                } else {
                    order
                }
            });
            tie_groups(figures, Tie::Overlap("repeats"))
                .into_iter()
                .map(|group| group.into_iter().map(|f| f.server).collect())
                .collect()
        })
        .collect();
    for a in 0..n {
        for b in a + 1..n {
            if verdict(&rankings[a], &rankings[b]) != Verdict::Same {
                return Some(format!(
                    "its rounds of repeats, each ranked alone, disagree (round {}: {}; round \
                     {}: {})",
                    a + 1,
                    ranking::show(&rankings[a]),
                    b + 1,
                    ranking::show(&rankings[b])
                ));
            }
        }
    }
    None
}

/// The p99 of a server's fixed-rate windows and its range: the median and the extremes of
/// the repeats' p99s, and whether there were repeats; a single window's 95% interval.
fn p99_range(windows: &FixedRate) -> ((f64, f64, f64), bool) {
    let p99s = windows.p99s();
    match Stat::of(&p99s) {
        Some(stat) if p99s.len() > 1 => ((stat.median, stat.min, stat.max), true),
        _ => (p99_interval(&windows.run), false),
    }
}

/// The edit-compile loop (`bench build-cost`): what cargo takes after a one-line edit of the
/// adapter, for each of its three commands. The median of the edits; their extremes, widened
/// by the clean build's 10% allowance, are the range: the backends are built one after
/// another, minutes apart, so two backends' edits meet different moments of a shared machine,
/// which the spread of one backend's three edits does not show. Only the workspace's backends
/// have builds; one without the loop measured is named, not ranked.
fn edit_loop(candidates: &[&BackendReport]) -> Vec<Finding> {
    let kinds: [(&'static str, EditTimes); 3] = [
        ("edit, then cargo check", |l| &l.check),
        ("edit, then cargo build", |l| &l.debug),
        ("edit, then cargo build --release", |l| &l.release),
    ];
    let ours: Vec<&&BackendReport> = candidates
        .iter()
        .filter(|b| matches!(b.role, Role::Baseline | Role::Framework))
        .collect();
    let missing: Vec<String> = ours
        .iter()
        .filter(|b| b.edit_loop().is_none())
        .map(|b| label(b))
        .collect();
    let edits = ours
        .iter()
        .filter_map(|b| b.edit_loop().map(|l| l.check.len()))
        .max()
        .unwrap_or(0);
    kinds
        .into_iter()
        .map(|(criterion, times)| {
            let figures = ours
                .iter()
                .filter_map(|b| {
                    let stat = Stat::of(times(b.edit_loop()?))?;
                    Some(Standing {
                        server: label(b),
                        value: stat.median,
                        low: stat.min * (1.0 - EDIT_ALLOWANCE),
                        high: stat.max * (1.0 + EDIT_ALLOWANCE),
                    })
                })
                .collect();
            let caveat = if missing.is_empty() {
                String::new()
            } else {
                let names: Vec<&str> = missing.iter().map(String::as_str).collect();
                let (who, verb) = if names.len() == 1 {
                    ("it", "has")
                } else {
                    ("they", "have")
                };
                format!(
                    " {} {} left out: {who} {verb} no edit-compile loop in \
                     docs/build-cost.json (`bench build-cost --backends NAME` measures it).",
                    join(&names),
                    if names.len() == 1 { "is" } else { "are" }
                )
            };
            let basis = format!(
                "median of {edits} one-line edits of the adapter's `plaintext` handler, each \
                 backend alone in a warm target directory of its own; ranges: the edits, \
                 ±{:.0}%",
                EDIT_ALLOWANCE * 100.0
            );
            answer(
                criterion,
                &basis,
                figures,
                false,
                Tie::Overlap("edits"),
                &|v| format!("{v:.1} s"),
                &caveat,
            )
            .unwrap_or_else(|| Finding {
                criterion,
                answer: "not measured in this run: `bench build-cost` times the loop into \
                         docs/build-cost.json, which a run reads when it starts."
                    .to_owned(),
                ranking: Vec::new(),
            })
        })
        .collect()
}

/// Which of an edit loop's times a criterion reads.
type EditTimes = fn(&EditLoop) -> &[f64];

/// The allowance around the edits' range (the clean build's, for the same reason).
const EDIT_ALLOWANCE: f64 = 0.10;

/// The allowance around a server's starts. Its five starts follow each other within a
/// second, so their spread misses how the machine drifts between one server's turn and the
/// next: warp started in 43–47 ms in one run and 33–34 ms in the next of the same build, and
/// with the bare ranges a third run split servers that two runs had tied.
const STARTUP_ALLOWANCE: f64 = 0.10;

/// Start-up: the median of each server's starts, one server at a time; servers whose starts'
/// ranges overlap tie. A report from before repeated starts has one start each, measured with
/// the others starting: those tie within 10 ms, an allowance, not a measured spread.
fn startup(candidates: &[&BackendReport]) -> Option<Finding> {
    let repeated = candidates.iter().all(|b| b.startups_ms.len() > 1);
    let figures = candidates
        .iter()
        .filter_map(|b| {
            let value = b.startup_ms?;
            let range = Stat::of(&b.startups_ms).filter(|_| repeated);
            Some(Standing {
                server: label(b),
                value,
                low: range.map_or(value, |r| r.min * (1.0 - STARTUP_ALLOWANCE)),
                high: range.map_or(value, |r| r.max * (1.0 + STARTUP_ALLOWANCE)),
            })
        })
        .collect();
    let starts = candidates
        .iter()
        .map(|b| b.startups_ms.len())
        .max()
        .unwrap_or(0);
    if repeated {
        answer(
            "start-up",
            &format!(
                "median of {starts} starts, one server at a time; ranges: the starts, ±{:.0}%",
                STARTUP_ALLOWANCE * 100.0
            ),
            figures,
            false,
            Tie::Overlap("starts"),
            &|v| format!("{v:.0} ms"),
            "",
        )
    } else {
        answer(
            "start-up",
            "measured once",
            figures,
            false,
            Tie::Plus(10.0),
            &|v| format!("{v:.0} ms"),
            "",
        )
    }
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
        ranking: groups
            .iter()
            .map(|(_, servers)| servers.iter().map(|b| label(b)).collect())
            .collect(),
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

/// The scenarios of `cheap` (those whose cost is the server's, not the password hash) that
/// every server of the workspace among the candidates timed (every candidate when there is
/// none: a `--url` or `--server` run alone). A `--server` that answers fewer does not narrow
/// the comparison of the others: it is left out, and said to be.
fn shared_scenarios(candidates: &[&BackendReport], cheap: &[String]) -> Vec<String> {
    let ours: Vec<&BackendReport> = candidates
        .iter()
        .copied()
        .filter(|b| b.role != Role::External)
        .collect();
    let deciding = if ours.is_empty() { candidates } else { &ours };
    Scenario::ALL
        .iter()
        .map(|s| s.name().to_owned())
        .filter(|name| cheap.contains(name))
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

/// "axum and warp tie (their repeats overlap), from 17,700 to 17,800; actix 1.70× as much,
/// ntex and salvo tie at 2.04–2.16× as much." After the best, servers form groups the same
/// way: each group is the best one left and those that tie with it. Ranking only what the
/// noise separates keeps the order outside the best from flipping between two runs.
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
    let groups = tie_groups(figures, tie);
    let names =
        |group: &[Standing]| -> Vec<String> { group.iter().map(|f| f.server.clone()).collect() };
    let first = &groups[0];
    let mut text = if first.len() == 1 {
        format!("{} is best, at {}", best.server, show(best.value))
    } else {
        let names = names(first);
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
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
            show(first.last().map_or(best.value, |f| f.value)),
        )
    };
    let relation = if higher_is_better {
        "of that"
    } else {
        "as much"
    };
    let others: Vec<String> = groups[1..]
        .iter()
        .map(|group| {
            let times: Vec<f64> = group.iter().map(|f| f.value / best.value).collect();
            let (low, high) = times
                .iter()
                .fold((f64::INFINITY, 0.0_f64), |(l, h), t| (l.min(*t), h.max(*t)));
            let span = if format!("{low:.2}") == format!("{high:.2}") {
                format!("{low:.2}×")
            } else {
                format!("{low:.2}–{high:.2}×")
            };
            match group.as_slice() {
                [one] => format!("{} {span} {relation}", one.server),
                _ => {
                    let names = names(group);
                    let names: Vec<&str> = names.iter().map(String::as_str).collect();
                    format!("{} tie at {span} {relation}", join(&names))
                }
            }
        })
        .collect();
    if !others.is_empty() {
        text.push_str(&format!("; {}", others.join(", ")));
    }
    Some(Finding {
        criterion,
        answer: format!("{text} ({basis}).{caveat}"),
        ranking: groups.iter().map(|g| names(g)).collect(),
    })
}

/// Splits figures sorted best first into groups: the best left and every later figure that
/// ties with it under `tie`, then again with what is left.
fn tie_groups(figures: Vec<Standing>, tie: Tie) -> Vec<Vec<Standing>> {
    let ties = |leader: &Standing, f: &Standing| match tie {
        Tie::Overlap(_) => f.low <= leader.high && leader.low <= f.high,
        Tie::Within(fraction) => (f.value - leader.value).abs() <= leader.value * fraction,
        Tie::Plus(amount) => (f.value - leader.value).abs() <= amount,
    };
    let mut left = figures;
    let mut groups = Vec::new();
    while !left.is_empty() {
        let leader = left[0].clone();
        let (group, rest): (Vec<Standing>, Vec<Standing>) =
            left.into_iter().partition(|f| ties(&leader, f));
        groups.push(group);
        left = rest;
    }
    groups
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
    fn the_edit_loop_ties_by_the_edits_range_and_names_a_backend_without_it() {
        let mut report = report(&[
            ("hyper", Role::Baseline, [100.0, 100.0, 100.0], 11_000.0),
            ("axum", Role::Framework, [100.0, 100.0, 100.0], 17_000.0),
            ("rocket", Role::Framework, [100.0, 100.0, 100.0], 47_000.0),
            ("warp", Role::Framework, [100.0, 100.0, 100.0], 19_000.0),
        ]);
        // hyper 0.40 s and axum 0.46 s: ranges ±10% overlap (0.44 and 0.414), a tie; rocket
        // 0.9 s is apart; warp has no loop measured (a file from before it was).
        let checks = [
            vec![0.38, 0.40, 0.40],
            vec![0.46, 0.46, 0.50],
            vec![0.90, 0.85, 0.95],
        ];
        for (b, check) in report.backends.iter_mut().zip(checks) {
            let build = b.clean_build.as_mut().expect("the sample's build");
            let edit_loop = build.edit_loop.as_mut().expect("the sample's loop");
            edit_loop.check = check;
        }
        if let Some(build) = report.backends[3].clean_build.as_mut() {
            build.edit_loop = None;
        }
        let found = findings(&report);
        let check = found
            .iter()
            .find(|f| f.criterion == "edit, then cargo check");
        let ranking = check.map(|f| f.ranking.clone()).unwrap_or_default();
        assert_eq!(
            ranking,
            [vec!["hyper (no framework)", "axum"], vec!["rocket"]],
            "{check:?}"
        );
        let words = answer_of(&found, "edit, then cargo check");
        assert!(words.contains("median of 3 one-line edits"), "{words}");
        assert!(
            words.ends_with(
                " warp is left out: it has no edit-compile loop in \
                 docs/build-cost.json (`bench build-cost --backends NAME` measures it)."
            ),
            "{words}"
        );

        for b in &mut report.backends {
            if let Some(build) = b.clean_build.as_mut() {
                build.edit_loop = None;
            }
        }
        let none = answer_of(&findings(&report), "edit, then cargo build --release");
        assert!(
            none.starts_with("not measured in this run: `bench build-cost`"),
            "{none}"
        );
        assert_eq!(answer_of(&findings(&report), "clean debug build"), "");
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
            repeats: Vec::new(),
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
    fn rounds_that_disagree_make_a_criterion_not_stable_and_name_no_one() {
        // Round 1 has axum well ahead, round 2 warp: either could have been a run's answer.
        let findings = findings(&report(&[
            ("axum", Role::Framework, [100.0, 80.0, 100.0], 17_700.0),
            ("warp", Role::Framework, [85.0, 100.0, 85.0], 17_800.0),
        ]));
        let rps = answer_of(&findings, "requests/s at saturation");
        assert!(
            rps.starts_with(
                "not stable on this machine: its rounds of repeats, each ranked alone, disagree \
                 (round 1: axum > warp; round 2: warp > axum), so no server is named best; each \
                 server over the rounds: axum 80 req/s to 100 req/s, warp 85 req/s to 100 req/s"
            ),
            "{rps}"
        );
        assert_eq!(
            findings[0].ranking.len(),
            1,
            "one group of all: {:?}",
            findings[0]
        );
        assert_eq!(findings[0].ranking[0].len(), 2);
        // Instructions have no rounds: they are deterministic, and still ranked.
        let instructions = answer_of(&findings, "instructions per request");
        assert!(
            instructions.starts_with("axum and warp tie"),
            "{instructions}"
        );
    }

    #[test]
    fn on_a_shared_machine_timed_figures_are_not_stable_and_the_rest_still_rank() {
        let mut report = report(&[
            ("hyper", Role::Baseline, [100.0, 99.0, 101.0], 11_000.0),
            ("axum", Role::Framework, [80.0, 79.0, 81.0], 17_700.0),
        ]);
        report.backends[1].scenarios[0].dropped =
            vec!["other processes used 12% of the server's cores".into()];
        let findings = findings(&report);
        for timed in ["requests/s at saturation", "CPU per request"] {
            let answer = answer_of(&findings, timed);
            assert!(
                answer.starts_with(
                    "not stable on this machine: 1 of its windows had to be measured again"
                ),
                "{answer}"
            );
        }
        assert!(
            answer_of(&findings, "requests/s at saturation")
                .contains("hyper (no framework) 99 req/s to 101 req/s, axum 79 req/s to 81 req/s")
        );
        let instructions = answer_of(&findings, "instructions per request");
        assert!(
            instructions.starts_with("hyper (no framework) is best"),
            "{instructions}"
        );
    }

    /// Fixed-rate windows with these p99s, in µs.
    fn windows(p99s: &[u64]) -> crate::report::FixedRate {
        let runs = p99s
            .iter()
            .map(|p99| {
                let mut window = run(1000.0);
                window.latency_us.p99 = *p99;
                window
            })
            .collect();
        crate::report::FixedRate::from_runs(500.0, runs).expect("windows")
    }

    #[test]
    fn fixed_rate_repeats_tie_when_they_overlap_and_a_hiccup_is_not_stable() {
        let mut report = report(&[
            ("axum", Role::Framework, [100.0, 100.0, 100.0], 17_700.0),
            ("warp", Role::Framework, [100.0, 100.0, 100.0], 17_800.0),
            ("rocket", Role::Framework, [50.0, 50.0, 50.0], 47_000.0),
        ]);
        let set = |report: &mut Report, p99s: [&[u64]; 3]| {
            for (b, p99s) in report.backends.iter_mut().zip(p99s) {
                b.scenarios[0].fixed_rate = Some(windows(p99s));
            }
        };
        // axum and warp within a few percent in every round; rocket's windows all slower.
        set(
            &mut report,
            [
                &[1_000, 1_100, 1_200],
                &[1_050, 1_080, 1_120],
                &[2_500, 2_600, 2_700],
            ],
        );
        let findings = findings(&report);
        let latency = answer_of(&findings, "latency at the fixed rate");
        assert!(
            latency.starts_with("warp and axum tie (their repeats overlap), from 1,080 µs"),
            "{latency}"
        );
        assert!(latency.contains("rocket 2.41× as much"), "{latency}");
        assert!(latency.contains("ranges: the repeats' p99s"), "{latency}");
        let ranking = &findings
            .iter()
            .find(|f| f.criterion == "latency at the fixed rate")
            .expect("answered")
            .ranking;
        assert_eq!(ranking, &[vec!["warp", "axum"], vec!["rocket"]]);
        // The window the tables show is the median one.
        assert_eq!(
            report.backends[0].scenarios[0]
                .fixed_rate
                .as_ref()
                .map(|f| f.run.latency_us.p99),
            Some(1_100)
        );
        // axum's third window met a pause of the machine: that round ranks it last, the
        // others first, so the run cannot say which order holds.
        set(
            &mut report,
            [
                &[1_000, 1_100, 9_000],
                &[1_050, 1_080, 1_120],
                &[2_500, 2_600, 2_700],
            ],
        );
        let latency = answer_of(&super::findings(&report), "latency at the fixed rate");
        assert!(
            latency.starts_with(
                "not stable on this machine: its rounds of repeats, each ranked alone, disagree \
                 (round 1: axum = warp > rocket; round 3: warp > rocket > axum)"
            ),
            "{latency}"
        );
        assert!(latency.contains("axum 1,000 µs to 9,000 µs"), "{latency}");
    }

    #[test]
    fn after_the_best_the_others_are_ranked_in_groups_that_tie() {
        let findings = findings(&report(&[
            ("hyper", Role::Baseline, [100.0, 99.0, 101.0], 11_000.0),
            ("ntex", Role::Framework, [75.0, 74.0, 76.0], 26_000.0),
            ("salvo", Role::Framework, [74.0, 73.0, 75.0], 25_000.0),
            ("rocket", Role::Framework, [45.0, 44.0, 46.0], 47_000.0),
        ]));
        let rps = answer_of(&findings, "requests/s at saturation");
        assert!(
            rps.starts_with(
                "hyper (no framework) is best, at 100 req/s; ntex and salvo tie at 0.74–0.75× \
                 of that, rocket 0.45× of that"
            ),
            "{rps}"
        );
        let ranking = &findings[0].ranking;
        assert_eq!(
            ranking,
            &[
                vec!["hyper (no framework)"],
                vec!["ntex", "salvo"],
                vec!["rocket"]
            ]
        );
    }

    #[test]
    fn start_up_ties_by_the_range_of_five_starts() {
        let mut report = report(&[
            ("axum", Role::Framework, [100.0, 100.0, 100.0], 17_700.0),
            ("warp", Role::Framework, [100.0, 100.0, 100.0], 17_800.0),
            ("ntex", Role::Framework, [100.0, 100.0, 100.0], 26_000.0),
        ]);
        for (b, starts) in report.backends.iter_mut().zip([
            [40.0, 42.0, 45.0, 47.0, 55.0],
            [44.0, 46.0, 48.0, 50.0, 52.0],
            [70.0, 72.0, 75.0, 80.0, 90.0],
        ]) {
            b.startup_ms = Some(starts[2]);
            b.startups_ms = starts.to_vec();
        }
        let startup = answer_of(&findings(&report), "start-up");
        assert_eq!(
            startup,
            "axum and warp tie (their starts overlap), from 45 ms to 48 ms; ntex 1.67× as much \
             (median of 5 starts, one server at a time; ranges: the starts, ±10%)."
        );
        // One start each (a report from before): the 10 ms allowance.
        for b in &mut report.backends {
            b.startups_ms.truncate(1);
        }
        let startup = answer_of(&findings(&report), "start-up");
        assert!(startup.ends_with("(measured once)."), "{startup}");
        assert!(
            startup.starts_with("axum and warp tie (within 10 ms)"),
            "{startup}"
        );
        // A third run of the same build: warp's five starts tight and fast, axum's slower.
        // Without the allowance (34 against 38) they would split; within it they tie, and
        // ntex, 61 ms at its fastest, stays apart.
        for (b, starts) in report.backends.iter_mut().zip([
            [49.0, 48.0, 40.0, 38.0, 53.0],
            [33.0, 34.0, 34.0, 33.0, 34.0],
            [61.0, 78.0, 74.0, 77.0, 70.0],
        ]) {
            b.startup_ms = Stat::of(&starts).map(|s| s.median);
            b.startups_ms = starts.to_vec();
        }
        let ranking = findings(&report)
            .into_iter()
            .find(|f| f.criterion == "start-up")
            .map(|f| f.ranking)
            .unwrap_or_default();
        assert_eq!(ranking, [vec!["warp", "axum"], vec!["ntex"]]);
    }

    #[test]
    fn memory_is_the_frameworks_not_the_password_hashings() {
        let mut report = report(&[
            ("hyper", Role::Baseline, [100.0, 100.0, 100.0], 11_000.0),
            ("rocket", Role::Framework, [50.0, 50.0, 50.0], 47_000.0),
        ]);
        // plaintext: hyper 6 MiB, rocket 9 MiB; login (argon2's): both 47 MiB.
        for (b, kib) in report.backends.iter_mut().zip([6_144, 9_216]) {
            for r in &mut b.scenarios[0].runs {
                r.server_peak_rss_kib = Some(kib);
            }
            let runs = b.scenarios[0].runs.clone();
            b.scenarios[0] = ScenarioReport::from_runs("plaintext", runs);
            let mut login = ScenarioReport::from_runs("login", b.scenarios[0].runs.clone());
            for r in &mut login.runs {
                r.server_peak_rss_kib = Some(48_128);
            }
            b.scenarios
                .push(ScenarioReport::from_runs("login", login.runs));
        }
        let memory = answer_of(&findings(&report), "peak memory");
        assert!(
            memory.starts_with("hyper (no framework) is best, at 6.0 MiB; rocket 1.50× as much"),
            "{memory}"
        );
        assert!(
            memory.contains("before the process hashed any password"),
            "{memory}"
        );
    }

    #[test]
    fn memory_is_averaged_over_the_scenarios_not_set_by_the_last() {
        // RSS only grows, so the largest of the scenarios is the last one's: hyper and actix
        // (7.0 MiB in six scenarios, then 7.8 and 8.8 MiB in `me`, 12% apart, the edge of
        // two ±5% ranges) would tie in one run and not in the next. Averaged, they tie;
        // salvo, 20% more in every scenario, ranks after them either way.
        let mut report = report(&[
            ("hyper", Role::Baseline, [100.0, 100.0, 100.0], 11_000.0),
            ("actix", Role::Framework, [100.0, 100.0, 100.0], 11_000.0),
            ("salvo", Role::Framework, [100.0, 100.0, 100.0], 11_000.0),
        ]);
        let shapes: [(&str, [u64; 7]); 3] = [
            ("hyper", [7_168, 7_168, 7_168, 7_168, 7_168, 7_168, 7_987]),
            ("actix", [7_168, 7_168, 7_168, 7_168, 7_168, 7_168, 9_011]),
            ("salvo", [8_602, 8_602, 8_602, 8_602, 8_602, 8_602, 9_830]),
        ];
        let names = [
            "plaintext",
            "json",
            "static",
            "static-304",
            "hello",
            "status",
            "me",
        ];
        for (b, (_, kibs)) in report.backends.iter_mut().zip(shapes) {
            let template = b.scenarios[0].runs.clone();
            b.scenarios = names
                .iter()
                .zip(kibs)
                .map(|(name, kib)| {
                    let mut runs = template.clone();
                    for r in &mut runs {
                        r.server_peak_rss_kib = Some(kib);
                    }
                    ScenarioReport::from_runs(name, runs)
                })
                .collect();
        }
        report.cheap_scenarios = names.iter().map(|n| (*n).to_owned()).collect();
        let found = findings(&report);
        let memory = found.iter().find(|f| f.criterion == "peak memory");
        let ranking = memory.map(|f| f.ranking.clone()).unwrap_or_default();
        assert_eq!(
            ranking,
            [vec!["hyper (no framework)", "actix"], vec!["salvo"]],
            "{memory:?}"
        );
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
