//! The sitebench benchmark: what each framework costs on the same site, on the same machine.
//! Eight commands (`bench --help`): `run` starts, verifies, loads and reports every backend
//! (BENCH.md), `cost` measures only the cost per request, `compare` compares two reports
//! within their noise, `verify` runs the conformance suite against any server, `render`
//! writes a report's files again, `soak` runs each backend alone for a long time,
//! `backends` lists them and `build-cost` times their clean builds.
//!
//! The modules import one way, top to bottom: `cli` (the command line) uses `run` (the
//! phases of a run, and soak); `run` uses `measure` (processes, load, /proc, callgrind, the
//! conformance suite) and `output` (the report's files, tables, charts, links); those use
//! `workspace` (the backends and the facts of their builds); everything uses `report`, the
//! model, which uses nothing else of the crate. `tests/module_direction.rs` fails on an
//! import against that order.

pub mod cli;
pub mod measure;
pub mod output;
pub mod report;
pub mod run;
pub mod workspace;
