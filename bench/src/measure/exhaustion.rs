//! Running out of descriptors (BENCH.md v3, section 2): a server started afresh with a low
//! limit on open files (`ulimit -n 256` in a `sh` that then `exec`s it, so the process bench
//! pins, samples and signals is the server itself), a few keep-alive connections opened,
//! then a flood of new connections beyond the limit, connected and held silent until the
//! server has used every descriptor it has (read in `/proc`, not assumed from a fixed wait: a
//! kernel that drops a burst's handshakes delays some by a retransmission). While they are
//! held: its CPU (a server whose accept loop retries `EMFILE` at once keeps a core busy with
//! nothing to do) and whether the connections it had keep being answered. Then the flood
//! asks, and what the server answers at its limit is counted; then the flood closes, and a
//! new connection is tried every 100 ms until one is answered: how long the server took to
//! serve again. Nothing here needs a limit raised or changed outside the server's process.
use std::cell::Cell;
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{Semaphore, watch};
use tokio::time::Instant;

use crate::measure::backend_process::{BackendProcess, Program};
use crate::measure::{http1, idle, procfs};
use crate::report::connections::Exhaustion;

/// The limit the server starts with: low enough that a flood reaches it in a fraction of a
/// second, high enough for every framework's own start-up (runtime, database, listener).
pub const LIMIT: u64 = 256;
/// Keep-alive connections open before the flood, asked again while it is held.
const EXISTING: usize = 4;
/// New connections in the flood: twice the limit.
const FLOOD: usize = 512;
/// The flood's handshakes in flight at once: on loopback a handshake takes microseconds, so
/// a few keep any server's accept loop busy, and they fit even a listen queue shortened to
/// 2 (`net.core.somaxconn` 1 in a network namespace: 16 at once did not, for two servers).
const CONNECTING: usize = 4;
/// How long the flood's connections have to connect at least: the burst all sent, those the
/// server can take accepted.
const SETTLE: Duration = Duration::from_millis(500);
/// How long the flood is held at most for the server to reach its limit: past the kernel's
/// first retransmission of a dropped handshake (1 s) and its second (3 s).
const SETTLE_AT_MOST: Duration = Duration::from_secs(4);
/// How often the server's descriptors are counted while the flood settles.
const COUNTED_EVERY: Duration = Duration::from_millis(20);
/// How long a request has to be answered while the flood is held: an existing connection's,
/// and each of the flood's once it asks.
const EXISTING_WITHIN: Duration = Duration::from_secs(1);
/// After the flood, a new connection is tried this often, each left waiting for its answer.
const EVERY: Duration = Duration::from_millis(100);
/// How long after the flood new connections are tried.
pub const RECOVERY_WATCH: Duration = Duration::from_secs(5);

/// The server `program` started with `LIMIT` descriptors, pinned to `cpus`, flooded and
/// watched; `at_limit` is how long its CPU is read while the flood is held.
pub fn measure(
    name: &str,
    program: &Program,
    cpus: &[usize],
    ready: Duration,
    at_limit: Duration,
) -> Exhaustion {
    let mut out = Exhaustion {
        limit: LIMIT,
        existing: EXISTING,
        flood: FLOOD,
        at_limit_secs: at_limit.as_secs_f64(),
        watched_secs: RECOVERY_WATCH.as_secs_f64(),
        ..Exhaustion::default()
    };
    // bench holds the flood, the existing connections and the probes at once.
    idle::raise_descriptor_limit(FLOOD * 2);
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            out.error = Some(format!("tokio: {e}"));
            return out;
        }
    };
    let wrapper = [
        "sh".to_owned(),
        "-c".to_owned(),
        format!("ulimit -n {LIMIT} && exec \"$@\""),
        "sh".to_owned(),
    ];
    let mut process = match BackendProcess::launch(name, program, &wrapper, cpus, ready, None) {
        Ok(process) => process,
        Err(e) => {
            out.error = Some(format!("not started with {LIMIT} descriptors: {e}"));
            return out;
        }
    };
    let (pid, addr) = (process.pid, process.addr);
    let request = format!("GET /plaintext HTTP/1.1\r\nHost: {addr}\r\n\r\n").into_bytes();
    runtime.block_on(async {
        let mut existing = Vec::with_capacity(EXISTING);
        for _ in 0..EXISTING {
            match answered(addr, &request).await {
                Ok(io) => existing.push(io),
                Err(e) => {
                    out.error = Some(format!("before the flood: {e}"));
                    return;
                }
            }
        }
        let (settled, settling) = watch::channel(false);
        let closed = Cell::new(0_usize);
        let connecting = Semaphore::new(CONNECTING);
        let flood = futures_util::future::join_all(
            (0..FLOOD).map(|_| flood_one(addr, &connecting, settling.clone(), &closed)),
        );
        let (flood, ()) = tokio::join!(flood, settle(pid, &closed, settled));
        if let Some(e) = flood.iter().find_map(Held::failed) {
            out.error = Some(format!("bench could not open the flood's connections: {e}"));
        }
        // At the limit with nothing to answer: what it does then is its accept loop's.
        tokio::time::sleep(EVERY).await;
        out.open_fds_at_limit = procfs::open_fds(pid);
        let before = procfs::cpu_time(pid);
        tokio::time::sleep(at_limit).await;
        out.cpu_at_limit = match (before, procfs::cpu_time(pid)) {
            (Some(before), Some(after)) => {
                after.saturating_sub(before).as_secs_f64() / at_limit.as_secs_f64()
            }
            _ => 0.0,
        };
        for io in &mut existing {
            if asked(io, &request).await == Outcome::Served {
                out.existing_served += 1;
            }
        }
        // Only now does the flood ask, all at once: what the server answers at its limit.
        let flood =
            futures_util::future::join_all(flood.into_iter().map(|held| held.ask(&request))).await;
        out.flood_served = flood.iter().filter(|(_, o)| *o == Outcome::Served).count();
        out.flood_refused = flood.iter().filter(|(_, o)| *o == Outcome::Refused).count();
        out.closed_before_asking = closed.get();
        drop(flood);
        out.recovered_after_ms = recovery(addr, &request).await;
        drop(existing);
    });
    out.clean_exit = Some(process.stop());
    out
}

/// What became of a request: of an existing connection, or of the flood's once it asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Answered `200`.
    Served,
    /// Answered with another status, or closed (or reset) unanswered.
    Refused,
    /// Not connected, or not answered, within `EXISTING_WITHIN`: in the listen backlog, or
    /// beyond it.
    Waiting,
}

/// `request` sent on `io` and its answer read, within `EXISTING_WITHIN`.
async fn asked(io: &mut TcpStream, request: &[u8]) -> Outcome {
    let asked = async {
        io.write_all(request).await.ok()?;
        let mut buf = Vec::new();
        http1::read_response(io, &mut buf, false, false)
            .await
            .ok()
            .map(|response| response.status)
    };
    match tokio::time::timeout(EXISTING_WITHIN, asked).await {
        Ok(Some(200)) => Outcome::Served,
        Ok(_) => Outcome::Refused,
        Err(_) => Outcome::Waiting,
    }
}

/// A connection of the flood once it has settled.
enum Held {
    /// Connected (accepted, or in the listen backlog), and still open.
    Open(TcpStream),
    /// Not connected by then: its handshake dropped by a full queue, to be retransmitted.
    Connecting,
    /// Closed, reset or refused by the server before it asked anything.
    Closed,
    /// bench could not open it (its own limits, not the server's).
    Failed(String),
}

impl Held {
    fn failed(&self) -> Option<&str> {
        match self {
            Held::Failed(e) => Some(e),
            _ => None,
        }
    }

    /// Its request sent and answered, or not; the connection kept open for the caller to
    /// close with the rest.
    async fn ask(self, request: &[u8]) -> (Option<TcpStream>, Outcome) {
        match self {
            Held::Open(mut io) => {
                let outcome = asked(&mut io, request).await;
                (Some(io), outcome)
            }
            Held::Connecting | Held::Failed(_) => (None, Outcome::Waiting),
            Held::Closed => (None, Outcome::Refused),
        }
    }
}

/// Tells the flood it has settled once `SETTLE` has passed and the server `pid` has every
/// descriptor it may open (all of them: the flood asks nothing, so nothing is freed and
/// taken again) or has closed one of the flood's connections, or once `SETTLE_AT_MOST` has.
/// Then one count's time more, in which the flood goes on: connections left waiting in the
/// listen queue are what a retrying accept loop spins on.
async fn settle(pid: u32, closed: &Cell<usize>, settled: watch::Sender<bool>) {
    let started = Instant::now();
    tokio::time::sleep(SETTLE).await;
    while started.elapsed() < SETTLE_AT_MOST
        && closed.get() == 0
        && procfs::open_fds(pid).is_none_or(|open| (open as u64) < LIMIT)
    {
        tokio::time::sleep(COUNTED_EVERY).await;
    }
    tokio::time::sleep(COUNTED_EVERY).await;
    settled.send_replace(true);
}

/// One connection of the flood: connected and held silent until the flood has settled, so
/// that every one the server accepts keeps a descriptor whatever the server does with it (a
/// request would let a server answer and close it, and whether a burst then reaches the
/// limit would depend on how its tasks interleave with its accept loop). At most
/// `CONNECTING` handshakes are in flight at once (`connecting`): 512 at once overflow a short
/// listen queue, the kernel drops the rest, and they all come back together a second later
/// to overflow it again. One the server closes before the flood settles is counted in
/// `closed` as it happens.
async fn flood_one(
    addr: SocketAddr,
    connecting: &Semaphore,
    mut settled: watch::Receiver<bool>,
    closed: &Cell<usize>,
) -> Held {
    let connect = async {
        let _one_of_few = connecting.acquire().await;
        TcpStream::connect(addr).await
    };
    // `biased`: a connection made, or closed, by the time the flood settles counts as such.
    let connected = tokio::select! {
        biased;
        connected = connect => connected,
        _ = settled.wait_for(|settled| *settled) => return Held::Connecting,
    };
    let held = match connected {
        Ok(mut io) => {
            let mut byte = [0_u8; 1];
            tokio::select! {
                biased;
                // End of stream, a reset, or bytes it was not asked for (a timeout's 408).
                _ = io.read(&mut byte) => Held::Closed,
                _ = settled.wait_for(|settled| *settled) => Held::Open(io),
            }
        }
        Err(e)
            if matches!(
                e.kind(),
                ErrorKind::ConnectionRefused | ErrorKind::ConnectionReset
            ) =>
        {
            Held::Closed
        }
        Err(e) => Held::Failed(e.to_string()),
    };
    if matches!(held, Held::Closed) {
        closed.set(closed.get() + 1);
    }
    held
}

/// A new connection whose request was answered `200`.
async fn answered(addr: SocketAddr, request: &[u8]) -> Result<TcpStream, String> {
    let asked = async {
        let mut io = TcpStream::connect(addr)
            .await
            .map_err(|e| format!("connect: {e}"))?;
        io.write_all(request)
            .await
            .map_err(|e| format!("send: {e}"))?;
        let mut buf = Vec::new();
        let response = http1::read_response(&mut io, &mut buf, false, false)
            .await
            .map_err(|e| format!("read: {e:?}"))?;
        match response.status {
            200 => Ok(io),
            status => Err(format!("status {status}")),
        }
    };
    tokio::time::timeout(EXISTING_WITHIN, asked)
        .await
        .map_err(|_| format!("no answer within {} s", EXISTING_WITHIN.as_secs()))?
}

/// Milliseconds from now (the flood just closed) to the first new connection answered `200`:
/// one is started every `EVERY` and left waiting, so that one queued behind the flood's
/// leftovers in the listen backlog keeps its place. `None` when none is within
/// `RECOVERY_WATCH`.
async fn recovery(addr: SocketAddr, request: &[u8]) -> Option<f64> {
    let closed = Instant::now();
    let tries = (RECOVERY_WATCH.as_millis() / EVERY.as_millis()).max(1);
    let mut pending: FuturesUnordered<_> = (0..u32::try_from(tries).unwrap_or(1))
        .map(|i| async move {
            tokio::time::sleep(EVERY * i).await;
            answered_by(addr, request, closed + RECOVERY_WATCH).await
        })
        .collect();
    let watched = tokio::time::timeout_at(closed + RECOVERY_WATCH, async {
        while let Some(result) = pending.next().await {
            if result {
                return Some(closed.elapsed().as_secs_f64() * 1_000.0);
            }
        }
        None
    });
    watched.await.ok().flatten()
}

/// Whether a new connection's request is answered `200` before `deadline`.
async fn answered_by(addr: SocketAddr, request: &[u8], deadline: Instant) -> bool {
    let asked = async {
        let mut io = TcpStream::connect(addr).await.ok()?;
        io.write_all(request).await.ok()?;
        let mut buf = Vec::new();
        http1::read_response(&mut io, &mut buf, false, false)
            .await
            .ok()
    };
    matches!(
        tokio::time::timeout_at(deadline, asked).await,
        Ok(Some(response)) if response.status == 200
    )
}
