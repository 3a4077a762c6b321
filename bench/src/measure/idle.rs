//! Idle keep-alive connections (BENCH.md v3, section 2): connections that each made one
//! request and then rest, opened in their thousands against one server while its memory and
//! descriptors are read, then `plaintext` on a few busy connections beside them; and, for
//! every server at once, a few such connections watched for when the server closes them (its
//! keep-alive timeout, as a client sees it). The descriptor limit these need is raised here,
//! for bench's own process, which the servers it starts inherit.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::measure::loadgen::{self, LoadSpec};
use crate::measure::workload::{Prepared, Workload};
use crate::measure::{http1, procfs};
use crate::report::connections::{BusyWindow, IdleConnections, IdlePoint, KeepAlive};

/// Connections opened at once while the idle ones are made: within the listen backlog of
/// every framework (Linux caps it at `somaxconn`, 4,096 by default).
const OPENING_AT_ONCE: usize = 128;
/// A connection that does not get its response within this long is an error.
const OPEN_TIMEOUT: Duration = Duration::from_secs(10);
/// Descriptors bench keeps for itself beyond the idle connections: the busy connections,
/// the probes, the servers' pipes, files read while measuring.
const SPARE_FDS: u64 = 1_024;

/// Raises this process's soft limit on open descriptors to `needed` (or its hard limit, if
/// lower), so that bench can hold the idle connections; the servers it starts afterwards
/// inherit the limit, and can accept them. Only the soft limit of this process: the hard
/// limit and the machine's settings are left as they were. Returns the limits before and
/// after.
pub fn raise_descriptor_limit(idle: usize) -> (u64, u64) {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let needed = idle as u64 + SPARE_FDS;
    let limit = getrlimit(Resource::Nofile);
    let before = limit.current.unwrap_or(u64::MAX);
    let hard = limit.maximum.unwrap_or(u64::MAX);
    let wanted = needed.min(hard);
    if before >= wanted {
        return (before, before);
    }
    let raised = setrlimit(
        Resource::Nofile,
        Rlimit {
            current: Some(wanted),
            maximum: limit.maximum,
        },
    );
    match raised {
        Ok(()) => (before, wanted),
        Err(_) => (before, before),
    }
}

/// This process's soft limit on open descriptors now.
pub fn descriptor_limit() -> u64 {
    rustix::process::getrlimit(rustix::process::Resource::Nofile)
        .current
        .unwrap_or(u64::MAX)
}

/// The idle connections a limit of `limit` descriptors allows, for a server or for bench.
pub fn idle_within(limit: u64) -> usize {
    usize::try_from(limit.saturating_sub(SPARE_FDS)).unwrap_or(usize::MAX)
}

/// The server `pid` at `addr` with `counts` idle connections in turn (each made `request`,
/// then rests), then `busy` (a window of `workload` on a few connections) beside the most.
pub fn measure(
    pid: u32,
    addr: SocketAddr,
    request: &Prepared,
    counts: &[usize],
    busy: &LoadSpec,
    workload: &Arc<Workload>,
) -> IdleConnections {
    let mut out = IdleConnections::default();
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
    procfs::wait_until_idle(pid);
    let point = |idle: usize| -> Option<IdlePoint> {
        Some(IdlePoint {
            idle,
            rss_kib: procfs::rss_kib(pid)?,
            open_fds: procfs::open_fds(pid)?,
        })
    };
    out.points.extend(point(0));
    let mut held: Vec<std::net::TcpStream> = Vec::new();
    for &count in counts {
        let more = count.saturating_sub(held.len());
        let opened = runtime.block_on(open(addr, request, more));
        held.extend(opened.streams);
        if let Some(e) = opened.error {
            out.error = Some(format!("after {} idle connections: {e}", held.len()));
            break;
        }
        procfs::wait_until_idle(pid);
        out.points.extend(point(held.len()));
    }
    if out.error.is_none() && !held.is_empty() {
        let windows = loadgen::start(busy, workload).finish();
        if let Some(window) = windows.first() {
            out.busy = Some(BusyWindow {
                connections: busy.connections,
                requests_per_sec: window.requests_per_sec(busy.window),
                p99_us: window.latency.value_at_quantile(0.99),
                errors: window.errors.total(),
            });
        }
    }
    out.dropped = held.iter().filter(|s| closed_by_server(s)).count();
    drop(held);
    procfs::wait_until_idle(pid);
    out
}

/// Idle connections opened, and why no more could be.
struct Opened {
    streams: Vec<std::net::TcpStream>,
    error: Option<String>,
}

/// Opens `n` connections, each sending `request` and reading its answer, `OPENING_AT_ONCE` at
/// a time; they are kept as std sockets (non-blocking), outside any runtime, to rest.
async fn open(addr: SocketAddr, request: &Prepared, n: usize) -> Opened {
    let results: Vec<Result<std::net::TcpStream, String>> = futures_util::stream::iter(0..n)
        .map(|_| async {
            tokio::time::timeout(OPEN_TIMEOUT, one(addr, request))
                .await
                .map_err(|_| format!("no response within {} s", OPEN_TIMEOUT.as_secs()))?
        })
        .buffer_unordered(OPENING_AT_ONCE)
        .collect()
        .await;
    let mut opened = Opened {
        streams: Vec::with_capacity(n),
        error: None,
    };
    for result in results {
        match result {
            Ok(stream) => opened.streams.push(stream),
            Err(e) => {
                opened.error.get_or_insert(e);
            }
        }
    }
    opened
}

/// One connection that has made `request` and got its answer.
async fn one(addr: SocketAddr, request: &Prepared) -> Result<std::net::TcpStream, String> {
    let mut io = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    io.write_all(&request.bytes)
        .await
        .map_err(|e| format!("send: {e}"))?;
    let mut buf = Vec::new();
    let response = http1::read_response(&mut io, &mut buf, false, false)
        .await
        .map_err(|e| format!("read: {e:?}"))?;
    if response.status != request.status {
        return Err(format!("status {}", response.status));
    }
    io.into_std().map_err(|e| format!("socket: {e}"))
}

/// Whether the server has closed this resting connection (a non-blocking read sees the end,
/// or a reset).
fn closed_by_server(stream: &std::net::TcpStream) -> bool {
    use std::io::Read;
    let mut byte = [0u8; 1];
    match (&*stream).read(&mut byte) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => e.kind() != std::io::ErrorKind::WouldBlock,
    }
}

/// Connections watched for the server's close, started for several servers at once.
pub struct Probes {
    thread: std::thread::JoinHandle<Vec<Result<KeepAlive, String>>>,
}

/// Opens `probes` connections to each of `targets` (each makes its request), and watches each
/// for `watch` after its response for the server's close. Runs on a thread of its own while
/// the caller goes on.
pub fn watch(targets: Vec<(SocketAddr, Prepared)>, probes: usize, watch: Duration) -> Probes {
    let thread = std::thread::spawn(move || {
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime,
            Err(e) => return targets.iter().map(|_| Err(format!("tokio: {e}"))).collect(),
        };
        runtime.block_on(async {
            let servers = targets.iter().map(|(addr, request)| async move {
                let watching = (0..probes).map(|_| probe(*addr, request, watch));
                let closes: Result<Vec<Option<f64>>, String> =
                    futures_util::future::join_all(watching)
                        .await
                        .into_iter()
                        .collect();
                let closes = closes?;
                let mut after: Vec<f64> = closes.iter().flatten().copied().collect();
                after.sort_by(f64::total_cmp);
                Ok(KeepAlive {
                    probes,
                    watched_secs: watch.as_secs_f64(),
                    closed: after.len(),
                    closed_after_secs: after.get(after.len().saturating_sub(1) / 2).copied(),
                })
            });
            futures_util::future::join_all(servers).await
        })
    });
    Probes { thread }
}

impl Probes {
    /// Each target's watch, in the order given, once they are all over (waiting for them if
    /// need be).
    pub fn finish(self) -> Vec<Result<KeepAlive, String>> {
        self.thread
            .join()
            .unwrap_or_else(|_| vec![Err("the watching thread panicked".to_owned())])
    }
}

/// One connection: its request, then how long after the response the server closed it
/// (`None`: not within `watch`).
async fn probe(
    addr: SocketAddr,
    request: &Prepared,
    watch: Duration,
) -> Result<Option<f64>, String> {
    let mut io = tokio::time::timeout(OPEN_TIMEOUT, TcpStream::connect(addr))
        .await
        .map_err(|_| "connect timed out".to_owned())?
        .map_err(|e| format!("connect: {e}"))?;
    io.write_all(&request.bytes)
        .await
        .map_err(|e| format!("send: {e}"))?;
    let mut buf = Vec::new();
    tokio::time::timeout(
        OPEN_TIMEOUT,
        http1::read_response(&mut io, &mut buf, false, false),
    )
    .await
    .map_err(|_| "no response".to_owned())?
    .map_err(|e| format!("read: {e:?}"))?;
    let answered = tokio::time::Instant::now();
    match tokio::time::timeout(watch, http1::read_close(&mut io, &mut buf)).await {
        Ok(_) => Ok(Some(answered.elapsed().as_secs_f64())),
        Err(_) => Ok(None),
    }
}
