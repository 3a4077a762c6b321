//! What connections that rest cost a server (BENCH.md v3, section 2): its memory and open
//! descriptors at 0, 1,000 and 10,000 idle keep-alive connections (each has made one request,
//! then rests), `plaintext` on 4 busy connections beside the most of them, and when the
//! server closes a connection that rests (its keep-alive timeout, as observed); and the
//! server started with few descriptors and flooded beyond them (`Exhaustion`): whether it
//! keeps serving, spins, and recovers.

use serde::{Deserialize, Serialize};

/// A server with idle keep-alive connections.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IdleConnections {
    /// The server at each count of idle connections, the first with none.
    pub points: Vec<IdlePoint>,
    /// `plaintext` on 4 busy connections while the most idle connections rest: one window.
    pub busy: Option<BusyWindow>,
    /// Idle connections the server had closed by the end (after the busy window).
    pub dropped: usize,
    /// What stopped the measure, if something did (the descriptor limit, a refused connect).
    pub error: Option<String>,
}

/// The server with `idle` connections resting.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct IdlePoint {
    pub idle: usize,
    /// Resident memory now (`VmRSS`, the process tree), in KiB.
    pub rss_kib: u64,
    /// Open file descriptors of the process tree (`/proc/PID/fd`).
    pub open_fds: usize,
}

/// A window of `plaintext` on a few busy connections.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BusyWindow {
    pub connections: usize,
    pub requests_per_sec: f64,
    pub p99_us: u64,
    pub errors: u64,
}

/// When the server closed connections that made one request and then rested.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct KeepAlive {
    /// Connections watched.
    pub probes: usize,
    /// How long bench watched them, from their response.
    pub watched_secs: f64,
    /// How many the server closed within that time.
    pub closed: usize,
    /// The median time from the response to the server's close, of those it closed.
    pub closed_after_secs: Option<f64>,
}

/// The server started with a low limit on open descriptors, a few keep-alive connections
/// open, then a flood of new connections beyond the limit, held open, then closed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Exhaustion {
    /// The limit it was started with (`ulimit -n`, soft and hard).
    pub limit: u64,
    /// Keep-alive connections opened and answered before the flood.
    pub existing: usize,
    /// Of those, answered again while the flood was held.
    pub existing_served: usize,
    /// New connections in the flood, each silent until the server was at its limit and its
    /// CPU read, then sending one request.
    pub flood: usize,
    /// Of those, answered `200` within a second of asking.
    pub flood_served: usize,
    /// Of those, answered with another status, or closed by the server unanswered (before
    /// they asked or after).
    pub flood_refused: usize,
    /// Of those refused, the ones the server closed before they asked: while it was taken to
    /// its limit (a server that sheds connections it cannot take).
    #[serde(default)]
    pub closed_before_asking: usize,
    /// Its open descriptors while the flood was held.
    pub open_fds_at_limit: Option<usize>,
    /// Its CPU, in cores, while the flood was held and nothing was answered.
    pub cpu_at_limit: f64,
    /// How long that CPU was read over.
    pub at_limit_secs: f64,
    /// From the flood's close to the first new connection answered `200`; `None` when none
    /// was within `watched_secs`.
    pub recovered_after_ms: Option<f64>,
    pub watched_secs: f64,
    /// Whether it exited with status 0 on SIGTERM afterwards.
    pub clean_exit: Option<bool>,
    /// What stopped the measure, if something did.
    pub error: Option<String>,
}

/// CPU at the limit, in cores, from which a server is said to spin: one that waits costs
/// nothing (0.00 to 0.04 cores measured), one that retries `accept` at once keeps a core
/// busy (0.54 to 1.02 measured: less when something else runs on its core). A quarter of a
/// core stays clear of both.
pub const SPINNING: f64 = 0.25;

/// Descriptors short of its limit at which a server is still taken to have been at it when
/// they are counted again: a slack for what a server frees and takes again on its own.
pub const NEAR_LIMIT: u64 = 16;

/// A server that serves new connections within this long of the flood's end recovers (the
/// issue's "within a second").
pub const RECOVERS_WITHIN_MS: f64 = 1_000.0;

impl Exhaustion {
    /// Every existing connection answered while the flood was held.
    pub fn keeps_serving(&self) -> bool {
        self.error.is_none() && self.existing > 0 && self.existing_served == self.existing
    }

    /// Whether the flood took the server to its limit (its descriptors all but used, or a
    /// connection shed while they were being used): without that, nothing else here was
    /// measured. A refusal once the flood asked does not count: its CPU was read before.
    pub fn reached_limit(&self) -> bool {
        Self::at_limit(self.open_fds_at_limit, self.limit) || self.closed_before_asking > 0
    }

    /// Whether `open` descriptors are at a limit of `limit`.
    pub fn at_limit(open: Option<usize>, limit: u64) -> bool {
        open.is_some_and(|open| open as u64 + NEAR_LIMIT >= limit)
    }

    pub fn spins(&self) -> bool {
        self.cpu_at_limit >= SPINNING
    }

    pub fn recovers(&self) -> bool {
        self.recovered_after_ms
            .is_some_and(|ms| ms <= RECOVERS_WITHIN_MS)
    }

    /// What it got wrong, each in a few words (none: it keeps serving, does not spin, and
    /// recovers within a second).
    pub fn faults(&self) -> Vec<String> {
        let mut faults = Vec::new();
        if let Some(e) = &self.error {
            faults.push(e.clone());
            return faults;
        }
        if !self.reached_limit() {
            faults.push(format!(
                "never reached its limit ({} of {} descriptors open, none closed)",
                self.open_fds_at_limit
                    .map_or_else(|| "?".to_owned(), |n| n.to_string()),
                self.limit
            ));
            return faults;
        }
        if !self.keeps_serving() {
            faults.push(format!(
                "answered {} of its {} open connections",
                self.existing_served, self.existing
            ));
        }
        if self.spins() {
            faults.push(format!("spins ({:.2} cores)", self.cpu_at_limit));
        }
        match self.recovered_after_ms {
            Some(ms) if ms > RECOVERS_WITHIN_MS => {
                faults.push(format!("recovered only after {:.1} s", ms / 1_000.0))
            }
            Some(_) => {}
            None => faults.push(format!(
                "served no new connection within {:.0} s",
                self.watched_secs
            )),
        }
        faults
    }

    /// "after 0.2 s", "not within 5 s", as the table says it.
    pub fn recovery(&self) -> String {
        match self.recovered_after_ms {
            Some(ms) => format!("after {:.2} s", ms / 1_000.0),
            None => format!("not within {:.0} s", self.watched_secs),
        }
    }
}

impl IdleConnections {
    /// Resident memory per idle connection, in KiB: the growth from none to the most, over
    /// their number.
    pub fn kib_per_connection(&self) -> Option<f64> {
        let first = self.points.first()?;
        let last = self.points.last()?;
        let connections = last.idle.checked_sub(first.idle).filter(|n| *n > 0)?;
        Some((last.rss_kib as f64 - first.rss_kib as f64) / connections as f64)
    }

    /// The point with the most idle connections.
    pub fn most(&self) -> Option<&IdlePoint> {
        self.points.last().filter(|p| p.idle > 0)
    }
}

impl KeepAlive {
    /// "closes them after 5.0 s" or "kept all 4 for 12 s", as the tables say it.
    pub fn describe(&self) -> String {
        match self.closed_after_secs {
            Some(after) if self.closed == self.probes => format!("closes them after {after:.1} s"),
            Some(after) => format!(
                "closed {} of {} after {after:.1} s",
                self.closed, self.probes
            ),
            None => format!("kept all {} for {:.0} s", self.probes, self.watched_secs),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(idle: usize, rss_kib: u64) -> IdlePoint {
        IdlePoint {
            idle,
            rss_kib,
            open_fds: idle + 12,
        }
    }

    #[test]
    fn memory_per_idle_connection_is_the_growth_over_their_number() {
        let idle = IdleConnections {
            points: vec![point(0, 8_000), point(1_000, 10_000), point(10_000, 28_000)],
            ..IdleConnections::default()
        };
        assert_eq!(idle.kib_per_connection(), Some(2.0));
        assert_eq!(idle.most().map(|p| p.idle), Some(10_000));
        let none = IdleConnections {
            points: vec![point(0, 8_000)],
            ..IdleConnections::default()
        };
        assert_eq!(none.kib_per_connection(), None);
        assert!(none.most().is_none());
    }

    fn exhausted(existing_served: usize, cpu: f64, recovered: Option<f64>) -> Exhaustion {
        Exhaustion {
            limit: 256,
            existing: 4,
            existing_served,
            flood: 512,
            flood_served: 230,
            open_fds_at_limit: Some(256),
            cpu_at_limit: cpu,
            at_limit_secs: 1.0,
            recovered_after_ms: recovered,
            watched_secs: 5.0,
            ..Exhaustion::default()
        }
    }

    #[test]
    fn out_of_descriptors_a_server_keeps_serving_spins_or_recovers_each_on_its_own() {
        let good = exhausted(4, 0.01, Some(120.0));
        assert!(good.keeps_serving() && !good.spins() && good.recovers());
        assert!(good.faults().is_empty());
        assert_eq!(good.recovery(), "after 0.12 s");
        let spinning = exhausted(4, 0.98, Some(120.0));
        assert!(spinning.spins() && spinning.recovers());
        assert_eq!(spinning.faults(), ["spins (0.98 cores)"]);
        let stuck = exhausted(1, 0.0, None);
        assert!(!stuck.keeps_serving() && !stuck.recovers());
        assert_eq!(
            stuck.faults(),
            [
                "answered 1 of its 4 open connections",
                "served no new connection within 5 s"
            ]
        );
        assert_eq!(stuck.recovery(), "not within 5 s");
        let slow = exhausted(4, 0.0, Some(1_500.0));
        assert_eq!(slow.faults(), ["recovered only after 1.5 s"]);
        let failed = Exhaustion {
            error: Some("it did not start".into()),
            ..good
        };
        assert!(!failed.keeps_serving());
        assert_eq!(failed.faults(), ["it did not start"]);
    }

    #[test]
    fn a_flood_that_never_took_the_server_to_its_limit_measured_nothing() {
        let short = Exhaustion {
            open_fds_at_limit: Some(193),
            ..exhausted(4, 0.0, Some(10.0))
        };
        assert!(!short.reached_limit());
        assert_eq!(
            short.faults(),
            ["never reached its limit (193 of 256 descriptors open, none closed)"]
        );
        let near = Exhaustion {
            open_fds_at_limit: Some(241),
            ..short.clone()
        };
        assert!(near.reached_limit() && near.faults().is_empty());
        let refused_once_asked = Exhaustion {
            flood_refused: 30,
            ..short.clone()
        };
        assert!(!refused_once_asked.reached_limit());
        let shedding = Exhaustion {
            flood_refused: 30,
            closed_before_asking: 30,
            ..short.clone()
        };
        assert!(shedding.reached_limit() && shedding.faults().is_empty());
        let unread = Exhaustion {
            open_fds_at_limit: None,
            ..short
        };
        assert_eq!(
            unread.faults(),
            ["never reached its limit (? of 256 descriptors open, none closed)"]
        );
    }

    #[test]
    fn a_keep_alive_timeout_is_told_from_a_server_that_keeps_connections() {
        let closes = KeepAlive {
            probes: 4,
            watched_secs: 12.0,
            closed: 4,
            closed_after_secs: Some(5.02),
        };
        assert_eq!(closes.describe(), "closes them after 5.0 s");
        let keeps = KeepAlive {
            closed: 0,
            closed_after_secs: None,
            ..closes
        };
        assert_eq!(keeps.describe(), "kept all 4 for 12 s");
    }
}
