//! Measuring servers: running them as processes, talking HTTP/1.1 to them, preparing and
//! verifying each scenario's requests, loading them, and reading what Linux, callgrind, perf
//! and the conformance suite say about them. Everything here fills in the report model
//! (`crate::report`); nothing here writes or renders a report.

pub mod backend_process;
pub mod callgrind;
pub mod client;
pub mod conformance;
pub mod cost;
pub mod exhaustion;
pub mod http1;
pub mod idle;
pub mod loadgen;
pub mod noise;
pub mod prepare;
pub mod procfs;
pub mod workload;
