//! What the connections of a run send (BENCH.md section 2): one encoded request and the
//! answer it must get (status, and body length learned when the request was verified), and
//! the schedule the connections walk. Requests are encoded once, before timing; only
//! `signup` builds each request anew (a fresh username).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::report::scenario::Scenario;

/// One encoded request and the answer it must get.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub bytes: Vec<u8>,
    pub status: u16,
    /// Checked when known (learned during verification).
    pub body_len: Option<usize>,
    /// In a workload of several kinds (`mixed`, `storm`), which one this request is: its
    /// latency is also reported on its own.
    pub kind: Option<Scenario>,
    /// How many requests `bytes` holds, written at once (`plaintext-pipelined`): as many
    /// responses are read, each checked and timed from the one write.
    pub responses: usize,
    /// The request says `Connection: close` (`plaintext-close`): after the response the client
    /// waits for the server to close, and opens a new connection for the next request.
    pub close: bool,
}

impl Prepared {
    pub fn get(host: &str, target: &str, extra_headers: &str, status: u16) -> Self {
        let bytes =
            format!("GET {target} HTTP/1.1\r\nHost: {host}\r\n{extra_headers}\r\n").into_bytes();
        Self {
            bytes,
            status,
            body_len: None,
            kind: None,
            responses: 1,
            close: false,
        }
    }

    pub fn post_json(host: &str, target: &str, body: &str, status: u16) -> Self {
        let bytes = format!(
            "POST {target} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes();
        Self {
            bytes,
            status,
            body_len: None,
            kind: None,
            responses: 1,
            close: false,
        }
    }

    /// The same request with `Connection: close`, so that every request has a connection of
    /// its own, opened for it and closed by the server after the response.
    pub fn closing(host: &str, target: &str, status: u16) -> Self {
        let mut request = Self::get(host, target, "Connection: close\r\n", status);
        request.close = true;
        request
    }

    /// `depth` copies of the request, written at once.
    pub fn pipelined(mut self, depth: usize) -> Self {
        self.bytes = self.bytes.repeat(depth.max(1));
        self.responses = depth.max(1);
        self
    }

    /// The same request, counted as `kind` too.
    pub fn of_kind(mut self, kind: Scenario) -> Self {
        self.kind = Some(kind);
        self
    }
}

/// What the connections of one run send: fixed requests in a repeating schedule, or sign-ups.
#[derive(Debug)]
pub enum Workload {
    /// `schedule[i]` indexes `requests`; each connection walks the schedule from its own offset.
    Fixed {
        requests: Vec<Prepared>,
        schedule: Vec<usize>,
    },
    SignUp {
        host: String,
        prefix: String,
        counter: AtomicU64,
    },
    /// The first `connections` connections send `first`'s requests, the others `rest`'s.
    Split {
        connections: usize,
        first: Arc<Workload>,
        rest: Arc<Workload>,
    },
}

/// A request to send now: borrowed from the workload, or built for this send.
pub enum Next<'a> {
    Borrowed(&'a Prepared),
    Owned(Prepared),
}

impl Next<'_> {
    pub fn prepared(&self) -> &Prepared {
        match self {
            Self::Borrowed(p) => p,
            Self::Owned(p) => p,
        }
    }
}

impl Workload {
    pub fn single(request: Prepared) -> Arc<Self> {
        Arc::new(Self::Fixed {
            requests: vec![request],
            schedule: vec![0],
        })
    }

    pub fn cycle(requests: Vec<Prepared>) -> Arc<Self> {
        let schedule = (0..requests.len()).collect();
        Arc::new(Self::Fixed { requests, schedule })
    }

    /// Mixes pools by weight (percent) into a 100-slot schedule, interleaved evenly so that
    /// every window of the run sees about the same mix.
    pub fn mixed(pools: Vec<(u32, Vec<Prepared>)>) -> Arc<Self> {
        let mut requests = Vec::new();
        let mut slots: Vec<(f64, usize)> = Vec::new();
        for (weight, pool) in pools {
            let first = requests.len();
            let count = pool.len().max(1);
            requests.extend(pool);
            for k in 0..weight {
                // Spread this pool's slots over 0..1, then sort all slots by position.
                let position = (f64::from(k) + 0.5) / f64::from(weight);
                slots.push((position, first + (k as usize % count)));
            }
        }
        slots.sort_by(|a, b| a.0.total_cmp(&b.0));
        let schedule = slots.into_iter().map(|(_, index)| index).collect();
        Arc::new(Self::Fixed { requests, schedule })
    }

    pub fn sign_up(host: &str, prefix: &str) -> Arc<Self> {
        Arc::new(Self::SignUp {
            host: host.to_owned(),
            prefix: prefix.to_owned(),
            counter: AtomicU64::new(0),
        })
    }

    /// `storm`: `login` on the first `logins` connections, `plaintext` on the others.
    pub fn split(connections: usize, first: Arc<Workload>, rest: Arc<Workload>) -> Arc<Self> {
        Arc::new(Self::Split {
            connections,
            first,
            rest,
        })
    }

    /// Connection `connection`'s request after `cursor`, advancing it.
    pub fn next(&self, connection: usize, cursor: &mut usize) -> Next<'_> {
        match self {
            Self::Split {
                connections,
                first,
                rest,
            } => {
                if connection < *connections {
                    first.next(connection, cursor)
                } else {
                    rest.next(connection, cursor)
                }
            }
            Self::Fixed { requests, schedule } => {
                let index = schedule[*cursor % schedule.len()];
                *cursor = cursor.wrapping_add(1);
                Next::Borrowed(&requests[index])
            }
            Self::SignUp {
                host,
                prefix,
                counter,
            } => {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let body =
                    format!(r#"{{"username":"{prefix}{n}","password":"bench-password-{n}"}}"#);
                Next::Owned(Prepared::post_json(host, "/users", &body, 201))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mixed_schedule_has_the_weights_and_interleaves() {
        let pool = |status| vec![Prepared::get("h", "/", "", status)];
        let workload = Workload::mixed(vec![
            (80, pool(200)),
            (10, pool(201)),
            (5, pool(202)),
            (4, pool(203)),
            (1, pool(204)),
        ]);
        let mut cursor = 0;
        let statuses: Vec<u16> = (0..100)
            .map(|_| workload.next(0, &mut cursor).prepared().status)
            .collect();
        for (status, weight) in [(200, 80), (201, 10), (202, 5), (203, 4), (204, 1)] {
            assert_eq!(statuses.iter().filter(|s| **s == status).count(), weight);
        }
        // The 10% pool appears in every tenth of the schedule, not in one burst.
        for tenth in statuses.chunks(10) {
            assert_eq!(tenth.iter().filter(|s| **s == 201).count(), 1);
        }
    }

    #[test]
    fn a_split_gives_the_first_connections_one_workload_and_the_rest_another() {
        let login = Workload::single(Prepared::post_json("h", "/login", "{}", 200));
        let plain = Workload::single(Prepared::get("h", "/plaintext", "", 200));
        let storm = Workload::split(2, login, plain);
        let mut cursor = 0;
        let statuses: Vec<bool> = (0..4)
            .map(|c| {
                storm
                    .next(c, &mut cursor)
                    .prepared()
                    .bytes
                    .starts_with(b"POST")
            })
            .collect();
        assert_eq!(statuses, [true, true, false, false]);
    }

    #[test]
    fn sign_ups_are_unique_and_valid_json() {
        let workload = Workload::sign_up("127.0.0.1:1", "b7x");
        let mut cursor = 0;
        let a = workload.next(0, &mut cursor).prepared().bytes.clone();
        let b = workload.next(1, &mut cursor).prepared().bytes.clone();
        assert_ne!(a, b);
        let text = String::from_utf8(a).expect("ascii");
        let body = text.split("\r\n\r\n").nth(1).expect("body");
        let value: serde_json::Value = serde_json::from_str(body).expect("json");
        assert_eq!(value["username"], "b7x0");
        assert!(text.contains(&format!("Content-Length: {}\r\n", body.len())));
    }
}
