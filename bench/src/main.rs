//! `bench`: parses the command line and hands each of the eight commands (run, cost, compare,
//! verify, render, soak, backends, build-cost) to `bench::cli::commands`. An error ends the
//! process with one line and exit status 1 (2 for a bad command line, as clap does).

use std::process::ExitCode;

use bench::cli::args::{Cli, Command};
use bench::cli::commands;
use clap::Parser;

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Run(args) => commands::run(args, true),
        Command::Cost(args) => commands::run(args, false),
        Command::Compare {
            old,
            new,
            fail_if_worse,
            gate_timing,
            same_answer,
        } => commands::compare(&old, &new, fail_if_worse, gate_timing, same_answer),
        Command::Verify { list: true, .. } => Ok(commands::list_checks()),
        Command::Verify { url, .. } => commands::verify(url.as_deref().unwrap_or_default()),
        Command::Render { report, out } => commands::render(&report, out),
        Command::Soak { backends, seconds } => commands::soak(backends, seconds),
        Command::Backends => Ok(commands::list_backends()),
        Command::BuildCost { backends } => commands::build_cost(backends),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
