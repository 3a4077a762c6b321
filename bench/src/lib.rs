//! The sitebench benchmark: what each framework costs on the same site, on the same machine.
//! `bench run` starts, verifies, loads and reports every backend (BENCH.md); `bench compare`
//! compares two reports within their noise; `bench verify` runs the conformance suite
//! against any server.

pub mod backend_process;
pub mod backends;
pub mod build_cost;
pub mod callgrind;
pub mod charts;
pub mod client;
pub mod code_links;
pub mod compare;
pub mod conformance;
pub mod cost;
pub mod histograms;
pub mod http1;
pub mod info;
pub mod loadgen;
pub mod noise;
pub mod procfs;
pub mod render;
pub mod report;
pub mod report_csv;
pub mod runner;
pub mod scenarios;
pub mod soak;
pub mod summary;
pub mod workloads;
