//! Measuring a timed window's noise (BENCH.md 4.1), not assuming it: over the window, the CPU
//! that other processes used on the server's and the generator's cores (the cores' busy time
//! minus the server's and the generator's own), the time the hypervisor stole, and the
//! generator's own share. A noisy window is measured again, a bounded number of times; when a
//! window counts as noisy or client-bound is `report::noise`'s.

use std::time::Duration;

use crate::measure::procfs::{self, CoreTimes, CpuTimes};
use crate::report::noise::Noise;

/// /proc counts CPU time in 10 ms ticks, and a share is the difference of two counts: two
/// ticks of "other" time can be rounding alone. In a `--quick` window (0.3 s, 30 ticks per
/// core) that is 6.7%, over `FOREIGN_LIMIT`: 12 to 16 of its 58 windows were measured again
/// for it. So a share counts as noise only above this many ticks as well as above its limit.
const RESOLUTION_TICKS: u64 = 2;
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

/// The noise of the window between two samples.
pub fn between(before: &Sample, after: &Sample) -> Noise {
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
    Noise {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::noise::FOREIGN_LIMIT;

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
        let noise = between(&start, &quiet);
        assert!(noise.noisy().is_none(), "{noise:?}");
        assert!(!noise.client_bound());
        // A neighbour took 30% of the client core.
        let busy = sample(900, 600, core(92, 0, 100), core(91, 0, 100));
        let noise = between(&start, &busy);
        assert!(
            noise.noisy().is_some_and(|why| why.contains("client")),
            "{noise:?}"
        );
        // Neighbours on both: both are named, the server's not hiding the client's.
        let both = sample(600, 600, core(92, 0, 100), core(91, 0, 100));
        assert_eq!(
            between(&start, &both).noisy().as_deref(),
            Some(
                "other processes used 32% of the server's cores; other processes used 31% of \
                 the client's cores"
            )
        );
        // The hypervisor stole 5%.
        let stolen = sample(900, 600, core(97, 5, 100), core(66, 5, 100));
        assert!(
            between(&start, &stolen)
                .noisy()
                .is_some_and(|why| why.contains("stole"))
        );
        // The generator alone kept its core 95% busy: client-bound, not noisy.
        let bound = sample(900, 950, core(92, 0, 100), core(96, 0, 100));
        let noise = between(&start, &bound);
        assert!(noise.client_bound() && noise.noisy().is_none(), "{noise:?}");
    }

    #[test]
    fn rounding_in_a_short_window_is_not_noise() {
        let start = sample(0, 0, core(0, 0, 0), core(0, 0, 0));
        // A 0.3 s window (30 ticks): 2 ticks unaccounted for (6.7%) and 1 tick stolen (1.7%
        // of both cores' 60) are within what the counts can tell apart.
        let short = sample(200, 100, core(22, 0, 30), core(13, 1, 30));
        let noise = between(&start, &short);
        assert!(noise.server_foreign > FOREIGN_LIMIT, "{noise:?}");
        assert!(noise.noisy().is_none(), "{noise:?}");
        // Three ticks in 30 (10%) are a neighbour.
        let busy = sample(200, 100, core(23, 0, 30), core(10, 0, 30));
        assert!(between(&start, &busy).noisy().is_some());
        // The same two ticks in a 1.25 s window: 1.6%, under the limit anyway; eight (6.4%)
        // are noise there.
        let long = sample(900, 600, core(98, 0, 125), core(60, 0, 125));
        assert!(between(&start, &long).noisy().is_some());
    }
}
