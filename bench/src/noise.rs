//! Is a timed window trustworthy (BENCH.md 4.1)? Noise is measured, not assumed: over the
//! window, the CPU that other processes used on the server's and the generator's cores (the
//! cores' busy time minus the server's and the generator's own), and the time the hypervisor
//! stole. A noisy window is measured again, a bounded number of times. A window whose client
//! cores were nearly saturated by the generator itself is client-bound: its requests/s is a
//! lower bound.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::procfs::{self, CoreTimes, CpuTimes};

/// Other processes may use at most this share of the server's or the client's cores.
pub const FOREIGN_LIMIT: f64 = 0.05;
/// The hypervisor may steal at most this share of them.
pub const STEAL_LIMIT: f64 = 0.02;
/// /proc counts CPU time in 10 ms ticks, and a share is the difference of two counts: two
/// ticks of "other" time can be rounding alone. In a `--quick` window (0.3 s, 30 ticks per
/// core) that is 6.7%, over `FOREIGN_LIMIT`: 12 to 16 of its 58 windows were measured again
/// for it. So a share counts as noise only above this many ticks as well as above its limit.
const RESOLUTION_TICKS: u64 = 2;
/// Client cores busier than this with the generator itself: the window is client-bound.
pub const CLIENT_BOUND_SHARE: f64 = 0.90;
/// How many times a noisy window is measured again before it is kept, marked noisy.
pub const MAX_REMEASURE: usize = 2;

/// What the server's process, the generator and the cores had done at one instant.
#[derive(Debug, Clone)]
pub struct Sample {
    pub server: Option<CpuTimes>,
    pub generator: Option<CpuTimes>,
    pub server_cores: Vec<CoreTimes>,
    pub client_cores: Vec<CoreTimes>,
    /// The server and the generator run on the same cores (a one-core machine).
    pub shared: bool,
}

impl Sample {
    /// Now, for the server `pid` (none for a `--url` server) on `server_cpus`, and this
    /// process (the generator) on `client_cpus`.
    pub fn take(pid: Option<u32>, server_cpus: &[usize], client_cpus: &[usize]) -> Self {
        let cores = |cpus: &[usize]| {
            cpus.iter()
                .map(|&c| procfs::core_times(c).unwrap_or_default())
                .collect()
        };
        Self {
            server: pid.and_then(procfs::tree_cpu_times),
            generator: procfs::cpu_times(std::process::id()),
            server_cores: cores(server_cpus),
            client_cores: cores(client_cpus),
            shared: server_cpus.iter().any(|c| client_cpus.contains(c)),
        }
    }
}

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
    /// The share of the window `RESOLUTION_TICKS` make: a share under it is not noise.
    #[serde(default)]
    pub resolution: f64,
}

impl Noise {
    pub fn between(before: &Sample, after: &Sample) -> Self {
        let server_cores = procfs::elapsed(&before.server_cores, &after.server_cores);
        let client_cores = procfs::elapsed(&before.client_cores, &after.client_cores);
        let used = |a: Option<CpuTimes>, b: Option<CpuTimes>| match (a, b) {
            (Some(a), Some(b)) => b.total().saturating_sub(a.total()),
            _ => Duration::ZERO,
        };
        let server = used(before.server, after.server);
        let generator = used(before.generator, after.generator);
        let share = |part: Duration, of: CoreTimes| {
            let total = procfs::jiffies(of.total).as_secs_f64();
            if total > 0.0 {
                (part.as_secs_f64() / total).clamp(0.0, 1.0)
            } else {
                0.0
            }
        };
        let foreign = |cores: CoreTimes, own: Duration| {
            let busy = procfs::jiffies(cores.busy.saturating_sub(cores.steal));
            share(busy.saturating_sub(own), cores)
        };
        let both = CoreTimes {
            busy: server_cores.busy + client_cores.busy,
            steal: server_cores.steal + client_cores.steal,
            total: server_cores.total + client_cores.total,
        };
        // On shared cores, the server and the generator are both at home on each.
        let (on_server, on_client) = if after.shared {
            (server + generator, server + generator)
        } else {
            (server, generator)
        };
        Self {
            server_foreign: foreign(server_cores, on_server),
            client_foreign: foreign(client_cores, on_client),
            steal: share(procfs::jiffies(both.steal), both),
            generator: share(generator, client_cores),
            resolution: {
                let ticks = server_cores.total.min(client_cores.total);
                if ticks > 0 {
                    RESOLUTION_TICKS as f64 / ticks as f64
                } else {
                    0.0
                }
            },
        }
    }

    /// Why the window cannot be trusted, if it cannot.
    pub fn noisy(&self) -> Option<String> {
        let percent = |share: f64| share * 100.0;
        let (foreign_limit, steal_limit) = (
            FOREIGN_LIMIT.max(self.resolution),
            STEAL_LIMIT.max(self.resolution),
        );
        if self.server_foreign > foreign_limit {
            Some(format!(
                "other processes used {:.0}% of the server's cores",
                percent(self.server_foreign)
            ))
        } else if self.client_foreign > foreign_limit {
            Some(format!(
                "other processes used {:.0}% of the client's cores",
                percent(self.client_foreign)
            ))
        } else if self.steal > steal_limit {
            Some(format!(
                "the hypervisor stole {:.1}% of the time",
                percent(self.steal)
            ))
        } else {
            None
        }
    }

    pub fn client_bound(&self) -> bool {
        self.generator > CLIENT_BOUND_SHARE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(
        server_ms: u64,
        generator_ms: u64,
        server_core: CoreTimes,
        client_core: CoreTimes,
    ) -> Sample {
        let cpu = |ms| {
            Some(CpuTimes {
                user: Duration::from_millis(ms),
                system: Duration::ZERO,
            })
        };
        Sample {
            server: cpu(server_ms),
            generator: cpu(generator_ms),
            server_cores: vec![server_core],
            client_cores: vec![client_core],
            shared: false,
        }
    }

    fn core(busy: u64, steal: u64, total: u64) -> CoreTimes {
        CoreTimes { busy, steal, total }
    }

    #[test]
    fn a_quiet_window_is_trusted_and_a_busy_neighbour_is_not() {
        let start = sample(0, 0, core(0, 0, 0), core(0, 0, 0));
        // One second (100 jiffies) per core: the server used 90 of its core's 92 busy
        // jiffies, the generator 60 of its core's 61.
        let quiet = sample(900, 600, core(92, 0, 100), core(61, 0, 100));
        let noise = Noise::between(&start, &quiet);
        assert!(noise.noisy().is_none(), "{noise:?}");
        assert!(!noise.client_bound());
        // A neighbour took 30% of the client core.
        let busy = sample(900, 600, core(92, 0, 100), core(91, 0, 100));
        let noise = Noise::between(&start, &busy);
        assert!(
            noise.noisy().is_some_and(|why| why.contains("client")),
            "{noise:?}"
        );
        // The hypervisor stole 5%.
        let stolen = sample(900, 600, core(97, 5, 100), core(66, 5, 100));
        assert!(
            Noise::between(&start, &stolen)
                .noisy()
                .is_some_and(|why| why.contains("stole"))
        );
        // The generator alone kept its core 95% busy: client-bound, not noisy.
        let bound = sample(900, 950, core(92, 0, 100), core(96, 0, 100));
        let noise = Noise::between(&start, &bound);
        assert!(noise.client_bound() && noise.noisy().is_none(), "{noise:?}");
    }

    #[test]
    fn rounding_in_a_short_window_is_not_noise() {
        let start = sample(0, 0, core(0, 0, 0), core(0, 0, 0));
        // A 0.3 s window (30 ticks): 2 ticks unaccounted for (6.7%) and 1 tick stolen (1.7%
        // of both cores' 60) are within what the counts can tell apart.
        let short = sample(200, 100, core(22, 0, 30), core(13, 1, 30));
        let noise = Noise::between(&start, &short);
        assert!(noise.server_foreign > FOREIGN_LIMIT, "{noise:?}");
        assert!(noise.noisy().is_none(), "{noise:?}");
        // Three ticks in 30 (10%) are a neighbour.
        let busy = sample(200, 100, core(23, 0, 30), core(10, 0, 30));
        assert!(Noise::between(&start, &busy).noisy().is_some());
        // The same two ticks in a 1.25 s window: 1.6%, under the limit anyway; eight (6.4%)
        // are noise there.
        let long = sample(900, 600, core(98, 0, 125), core(60, 0, 125));
        assert!(Noise::between(&start, &long).noisy().is_some());
    }
}
