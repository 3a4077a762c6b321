//! The cost phase of `bench run` and `bench cost` (BENCH.md 4.2): system calls and context
//! switches per request under perf on the running servers, then instructions per request
//! under callgrind, each server started again alone, as many at once as there are server
//! cores. Only the cheap scenarios: the others measure the password hash.

use std::path::PathBuf;
use std::sync::Arc;

use indicatif::ProgressBar;

use crate::measure::backend_process::Program;
use crate::measure::workload::Workload;
use crate::measure::{cost, procfs};
use crate::report::scenario::Scenario;
use crate::report::scenario_cost::ScenarioCost;
use crate::run::options::{COST_PER_SERVER, Options};
use crate::run::setup::Server;
use crate::workspace::backends;

/// System calls and context switches per request on the running server, per scenario.
pub(super) fn kernel_share(server: &mut Server) {
    let Some(process) = server.process.take() else {
        return;
    };
    let workloads: Vec<(Scenario, Arc<Workload>)> = server
        .workloads
        .iter()
        .filter(|(s, _)| s.cheap())
        .filter_map(|(s, w)| Some((*s, w.as_ref().ok()?.clone())))
        .collect();
    for (scenario, workload) in workloads {
        let figures = cost::kernel_share(&process, &workload);
        let report = server.scenario(scenario);
        let cost = report.cost.get_or_insert_with(ScenarioCost::default);
        match figures {
            Ok((syscalls, switches)) => {
                cost.syscalls_per_request = Some(syscalls);
                cost.context_switches_per_request = Some(switches);
            }
            Err(why) => cost.error = Some(why),
        }
        procfs::wait_until_idle(process.pid);
    }
    server.process = Some(process);
}

/// Instructions per request: each server started again under callgrind, on the database
/// its native run made (so the sessions of `me` exist), with the same requests; as many at
/// once as there are server cores (the counts do not depend on what else runs).
pub(super) fn instructions(options: &Options, servers: &mut [Server], progress: &ProgressBar) {
    struct Job {
        index: usize,
        name: String,
        program: Program,
        database: PathBuf,
        workloads: Vec<(Scenario, Arc<Workload>)>,
    }
    let jobs: Vec<Job> = servers
        .iter()
        .enumerate()
        .filter(|(_, s)| s.report.failure.is_none())
        .filter_map(|(index, server)| {
            let database = server.process.as_ref()?.database().to_path_buf();
            let program = server.program.clone()?;
            let workloads = server
                .workloads
                .iter()
                .filter(|(s, _)| s.cheap())
                .filter_map(|(s, w)| Some((*s, w.as_ref().ok()?.clone())))
                .collect();
            Some(Job {
                index,
                name: server.report.name.clone(),
                program,
                database,
                workloads,
            })
        })
        .collect();
    let lanes = options.cost_lanes();
    let queue = std::sync::Mutex::new(jobs.into_iter());
    let results = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for lane in 0..lanes {
            let (queue, results) = (&queue, &results);
            scope.spawn(move || {
                loop {
                    let job = queue.lock().unwrap_or_else(|p| p.into_inner()).next();
                    let Some(Job {
                        index,
                        name,
                        program,
                        database,
                        workloads,
                    }) = job
                    else {
                        return;
                    };
                    progress.set_message(format!("{name}: instructions per request (callgrind)"));
                    let framework = backends::find(&name).map_or("", |b| b.framework);
                    let measured = cost::instructions(
                        &name,
                        &program,
                        &database,
                        framework,
                        lane,
                        &workloads,
                        cost::Counting {
                            repeats: options.cost_repeat,
                            pairs: options.cost_pairs(),
                        },
                    );
                    let took = COST_PER_SERVER
                        + options.cost_per_scenario()
                            * u32::try_from(workloads.len() * options.cost_repeat.max(1))
                                .unwrap_or(1);
                    let share = took / u32::try_from(lanes).unwrap_or(1);
                    progress.inc(u64::try_from(share.as_millis()).unwrap_or(0));
                    let scenarios: Vec<Scenario> = workloads.iter().map(|(s, _)| *s).collect();
                    results
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push((index, scenarios, measured));
                }
            });
        }
    });
    for (index, scenarios, measured) in results.into_inner().unwrap_or_else(|p| p.into_inner()) {
        let server = &mut servers[index];
        match measured {
            Ok(costs) => {
                for (scenario, figures) in costs {
                    let cost = server
                        .scenario(scenario)
                        .cost
                        .get_or_insert_with(ScenarioCost::default);
                    cost.instructions = figures.instructions;
                    cost.by_crate = figures.by_crate;
                    cost.by_group = figures.by_group;
                    cost.top_functions = figures.top_functions;
                }
            }
            Err(why) => {
                for scenario in scenarios {
                    server
                        .scenario(scenario)
                        .cost
                        .get_or_insert_with(ScenarioCost::default)
                        .error = Some(why.clone());
                }
            }
        }
    }
}
