//! What one scenario costs one server per request (BENCH.md 4.2), as `report.json` keeps it:
//! instructions (one figure per callgrind repeat), by crate and by group, the costliest
//! functions, and system calls and context switches. `measure::cost` measures it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::stats::Stat;

/// What one scenario costs one server.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScenarioCost {
    /// User-space instructions per request, one figure per repeat.
    pub instructions: Vec<f64>,
    /// Instructions per request by crate (the last repeat), e.g. `hyper`, `site_core`, `libc`.
    pub by_crate: BTreeMap<String, f64>,
    /// The same, in BENCH.md's groups: framework, hyper, tokio, site-core, adapter, std/alloc,
    /// other.
    pub by_group: BTreeMap<String, f64>,
    /// The functions with the most instructions per request (self cost, the last repeat),
    /// to see where they go.
    #[serde(default)]
    pub top_functions: Vec<(String, f64)>,
    pub syscalls_per_request: Option<f64>,
    pub context_switches_per_request: Option<f64>,
    /// Why a figure is missing, when a tool failed.
    pub error: Option<String>,
}

impl ScenarioCost {
    /// The median of the repeats.
    pub fn instructions_per_request(&self) -> Option<f64> {
        Stat::of(&self.instructions).map(|s| s.median)
    }
}
