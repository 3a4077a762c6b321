//! `bench run`'s and `bench cost`'s flags made into the run's [`Options`]: the defaults
//! (`--quick` or not, the core split, the output directory), the `--server` commands parsed
//! and the flags that cannot go together refused.

use std::time::Duration;

use crate::cli::args::RunArgs;
use crate::cli::backend_names::{self, Known};
use crate::report::scenario::Scenario;
use crate::run::options::{Options, ServerCommand, default_cpus, default_out_dir};
use crate::workspace::backends;

fn seconds(value: f64, flag: &str) -> Result<Duration, String> {
    Duration::try_from_secs_f64(value)
        .map_err(|_| format!("--{flag} {value}: not a duration in seconds"))
}

/// The options of `bench run` (`timing`), or of `bench cost` (its cost part alone).
pub fn options(mut args: RunArgs, timing: bool) -> Result<Options, String> {
    let commands = args
        .server
        .iter()
        .map(|arg| ServerCommand::parse(arg))
        .collect::<Result<Vec<_>, _>>()?;
    for (i, command) in commands.iter().enumerate() {
        if commands[..i].iter().any(|c| c.name == command.name) {
            return Err(format!(
                "--server {}: the name is given twice",
                command.name
            ));
        }
    }
    if args.url.is_some() && !commands.is_empty() {
        return Err("--url measures one running server: give --server without it".into());
    }
    let only_commands = args.backends == ["none"];
    if only_commands {
        if commands.is_empty() {
            return Err("--backends none: then give at least one --server".into());
        }
        args.backends.clear();
    }
    backend_names::check(&args.backends, Known::BackendsAndFloor)?;
    let (default_server, default_client) = default_cpus();
    let (duration, warmup, repeat) = if args.quick {
        (0.3, 0.2, 1)
    } else {
        (0.9, 0.2, 3)
    };
    Ok(Options {
        servers: if only_commands {
            Vec::new()
        } else if args.backends.is_empty() {
            backends::names()
                .into_iter()
                .chain([backends::FLOOR.name])
                .map(String::from)
                .collect()
        } else {
            args.backends
        },
        commands,
        // In the order of `Scenario::ALL`, the cheap ones first: they are timed before the
        // server hashes any password (see `setup::restart`).
        scenarios: if args.scenarios.is_empty() {
            Scenario::ALL.to_vec()
        } else {
            let mut scenarios = args.scenarios;
            scenarios.sort();
            scenarios.dedup();
            scenarios
        },
        duration: seconds(args.duration.unwrap_or(duration), "duration")?,
        warmup: seconds(args.warmup.unwrap_or(warmup), "warmup")?,
        connections: args.connections.max(1),
        repeat: args.repeat.unwrap_or(repeat).max(1),
        rate: args.rate.filter(|r| *r > 0.0),
        server_cpus: if args.server_cpus.is_empty() {
            default_server
        } else {
            args.server_cpus
        },
        client_cpus: if args.client_cpus.is_empty() {
            default_client
        } else {
            args.client_cpus
        },
        out: args.out.unwrap_or_else(default_out_dir),
        url: args.url,
        quick: args.quick,
        timing,
        cost: !args.no_cost,
        cost_repeat: args
            .cost_repeat
            .unwrap_or(if timing { 1 } else { 2 })
            .max(1),
    })
}
