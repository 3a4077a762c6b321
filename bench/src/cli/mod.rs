//! The command line on top of everything else: the commands and flags (`args`), the one check
//! of backend names (`backend_names`), `bench run`'s flags made into the run's options
//! (`run_options`), and what each command does with them (`commands`).

pub mod args;
pub mod backend_names;
pub mod commands;
pub mod run_options;
