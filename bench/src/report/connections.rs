//! What connections that rest cost a server (BENCH.md v3, section 2): its memory and open
//! descriptors at 0, 1,000 and 10,000 idle keep-alive connections (each has made one request,
//! then rests), `plaintext` on 4 busy connections beside the most of them, and when the
//! server closes a connection that rests (its keep-alive timeout, as observed).

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
