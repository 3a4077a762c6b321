//! A timed window's noise as `report.json` keeps it, and when it makes a window untrustworthy
//! (BENCH.md 4.1): other processes' share of the server's or the client's cores, the
//! hypervisor's steal, and the generator's own share (a window whose client cores it nearly
//! saturated is client-bound: its requests/s is a lower bound). `measure::noise` measures it.

use serde::{Deserialize, Serialize};

/// Other processes may use at most this share of the server's or the client's cores.
pub const FOREIGN_LIMIT: f64 = 0.05;
/// The hypervisor may steal at most this share of them.
pub const STEAL_LIMIT: f64 = 0.02;
/// Client cores busier than this with the generator itself: the window is client-bound.
pub const CLIENT_BOUND_SHARE: f64 = 0.90;

/// A window's noise, as shares (0..=1) of the cores' time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Noise {
    /// CPU used on the server's cores by neither the server nor the generator.
    pub server_foreign: f64,
    /// CPU used on the client's cores by neither the generator nor the server.
    pub client_foreign: f64,
    /// Time stolen by the hypervisor on both.
    pub steal: f64,
    /// The generator's own CPU on the client cores (client-bound over `CLIENT_BOUND_SHARE`).
    pub generator: f64,
    /// The share of the window that /proc's counting resolution makes (`measure::noise`):
    /// a share under it is not noise.
    #[serde(default)]
    pub resolution: f64,
}

impl Noise {
    /// Why the window cannot be trusted, if it cannot.
    pub fn noisy(&self) -> Option<String> {
        let percent = |share: f64| share * 100.0;
        let (foreign_limit, steal_limit) = (
            FOREIGN_LIMIT.max(self.resolution),
            STEAL_LIMIT.max(self.resolution),
        );
        // Every reason, not the first: a neighbour on the server's cores must not hide one on
        // the client's (CI saw a build on the server core hide the planted client neighbour).
        let mut why = Vec::new();
        if self.server_foreign > foreign_limit {
            why.push(format!(
                "other processes used {:.0}% of the server's cores",
                percent(self.server_foreign)
            ));
        }
        if self.client_foreign > foreign_limit {
            why.push(format!(
                "other processes used {:.0}% of the client's cores",
                percent(self.client_foreign)
            ));
        }
        if self.steal > steal_limit {
            why.push(format!(
                "the hypervisor stole {:.1}% of the time",
                percent(self.steal)
            ));
        }
        (!why.is_empty()).then(|| why.join("; "))
    }

    pub fn client_bound(&self) -> bool {
        self.generator > CLIENT_BOUND_SHARE
    }
}
