//! Cost per request, the deterministic part of the report (BENCH.md 4.2): user-space
//! instructions per request counted under callgrind, the kernel's part as system calls and
//! context switches per request from `perf stat`, and the instructions split by crate.
//!
//! Instructions: the server runs under `valgrind --tool=callgrind` (one worker, pinned); per
//! scenario its counters are zeroed, a burst of `SMALL` requests is sent and the counters
//! dumped (which zeroes them), then the same with `LARGE` requests; the difference of the
//! counts divided by the difference of the requests is what one more request costs, with
//! start-up, connection set-up and the dump itself cancelled out. `PAIRS` such pairs in a row
//! (one in a `--quick` run), and the median. A request that says `Connection: close` has a
//! connection of its own, so the accept and the close are in its count.
//! The count depends on the binary and the requests, not on what else the machine does.
//! Symbols: the release profile keeps them (no `strip`), and callgrind demangles Rust names.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::measure::backend_process::{BackendProcess, Program};
use crate::measure::callgrind::{self, Profile};
use crate::measure::http1;
use crate::measure::workload::Workload;
use crate::report::scenario::Scenario;
use crate::report::scenario_cost::ScenarioCost;

/// Requests sent before the counts. The allocator's state settles with use: glibc's
/// `_int_malloc`, `unlink_chunk` and `malloc_consolidate` made the first of four rocket `/json`
/// repeats 0.3% dearer than the rest after 100 requests of warm-up.
const WARM_UP: u64 = 500;
/// The two request counts of one measurement, and how many measurements are made in a row:
/// the figure is the median of `PAIRS` differences, and its breakdown is that pair's. All go
/// over one keep-alive connection, one request at a time: with eight connections the server
/// found a varying number of requests ready per wake-up, so the runtime's share of a request
/// varied with timing (repeats of axum `/plaintext` spread 1.4%); one at a time, every request
/// wakes the server the same way (what a request costs a server that is not saturated).
/// Why a median: a one-off step in one burst (the allocator reorganising, a timer firing)
/// makes its pair an outlier, which the median leaves out instead of averaging in.
const SMALL: u64 = 100;
const LARGE: u64 = 400;
pub const PAIRS: usize = 3;
const CONNECTIONS: usize = 1;
/// glibc's allocator set for repeatable counts, in the server under callgrind only (the timed
/// servers keep glibc's defaults): no fast bins and a deep per-thread cache, so that freed
/// blocks are reused in order instead of being merged into a heap whose layout differed from
/// run to run. With the defaults, rocket merges fast bins on every request
/// (`malloc_consolidate`), and its `/json` came out at 49,620 or 50,220 instructions (1.2%
/// apart) in four runs of the same binary; with fast bins off alone, `/json` agreed within
/// 0.1% but `/hello` still moved by 1.1%; with both, three runs agreed within 0.1% on every
/// scenario. The price: rocket counts 3–6% below what default glibc costs it, actix up to
/// 1.6%, the others under 1%.
const ALLOCATOR: &str = "glibc.malloc.mxfast=0:glibc.malloc.tcache_count=1000";
/// How many of the costliest functions the report keeps per server and scenario.
const TOP_FUNCTIONS: usize = 30;
/// Requests sent natively, over the same one connection, while `perf stat` counts system
/// calls and context switches (3.0 system calls per request on every server and scenario,
/// 4.0 on rocket's static page).
const PERF_REQUESTS: u64 = 1_000;
/// A server under valgrind starts and answers tens of times slower.
const VALGRIND_READY: Duration = Duration::from_secs(120);

pub const INSTALL: &str = "apt-get install valgrind linux-perf";

/// Which of the tools is missing, said as the report says it.
pub fn missing_tools() -> (Option<String>, Option<String>) {
    let runs = |program: &str, arg: &str| {
        Command::new(program)
            .arg(arg)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    let valgrind = (!runs("valgrind", "--version") || !runs("vgdb", "--help")).then(|| {
        format!("valgrind is not installed: instructions per request not measured ({INSTALL})")
    });
    let perf = (!runs("perf", "--version")).then(|| {
        format!("perf is not installed: system calls per request not measured ({INSTALL})")
    });
    (valgrind, perf)
}

/// How many times each scenario is counted (`repeats`, each reported), and how many pairs of
/// counts each of those is the median of.
#[derive(Debug, Clone, Copy)]
pub struct Counting {
    pub repeats: usize,
    pub pairs: usize,
}

/// Instructions per request of `program` for each workload, counted as `counting` says, under
/// callgrind.
/// It runs on `database`, where the users and sessions the workloads use were made (by the
/// same binary, run natively: no password is hashed under valgrind).
pub fn instructions(
    name: &str,
    program: &Program,
    database: &Path,
    framework: &str,
    cpu: usize,
    workloads: &[(Scenario, Arc<Workload>)],
    counting: Counting,
) -> Result<BTreeMap<Scenario, ScenarioCost>, String> {
    let Counting { repeats, pairs } = counting;
    let dir = tempfile::tempdir().map_err(|e| format!("temporary directory: {e}"))?;
    // One file per process (`%p`): a command's forked children, traced too, must not write
    // over the dumps of the process the counts are taken from.
    let out_pattern = dir.path().join("callgrind.out.%p");
    let mut wrapper = vec![
        "env".to_owned(),
        format!("GLIBC_TUNABLES={ALLOCATOR}"),
        "valgrind".to_owned(),
        "--tool=callgrind".to_owned(),
        format!("--callgrind-out-file={}", out_pattern.display()),
        "--dump-instr=no".to_owned(),
        "--dump-line=no".to_owned(),
    ];
    if matches!(program, Program::Command(_)) {
        // A command may be a wrapper that execs the server (`sh -c 'exec ...'`, `env`): valgrind
        // follows the exec, and the process keeps its pid for vgdb.
        wrapper.push("--trace-children=yes".to_owned());
    }
    let mut server = BackendProcess::launch(
        name,
        program,
        &wrapper,
        &[cpu],
        VALGRIND_READY,
        Some(database),
    )?;
    let pid = server.pid;
    let out = dir.path().join(format!("callgrind.out.{pid}"));
    let runtime = runtime()?;
    let mut costs = BTreeMap::new();
    // One connection for every scenario, so that no connection is being taken down (and its
    // buffers freed) at a moment that varies while a count runs.
    let mut conns = runtime
        .block_on(Connections::open(server.addr, CONNECTIONS))
        .map_err(|e| format!("{name}: {e}"))?;
    for (scenario, workload) in workloads {
        let mut runs = Vec::new();
        let mut last = None;
        for _ in 0..repeats.max(1) {
            let measured = runtime.block_on(async {
                conns.burst(workload, WARM_UP).await?;
                // A dump zeroes the counters, so each count starts where the last ended.
                callgrind_command("zero", pid)?;
                let mut counts = Vec::with_capacity(pairs);
                for _ in 0..pairs.max(1) {
                    let (small, n) = counted(pid, &out, &mut conns, workload, SMALL).await?;
                    let (large, m) = counted(pid, &out, &mut conns, workload, LARGE).await?;
                    counts.push(callgrind::per_request(&small, n, &large, m));
                }
                callgrind::median(counts).ok_or_else(|| "no count was made".to_owned())
            });
            let profile = measured
                .and_then(|p| {
                    if p.total > 0.0 {
                        Ok(p)
                    } else {
                        // A launcher whose workers serve (forked after valgrind started
                        // counting elsewhere) costs nothing per request where vgdb looks.
                        Err("no instructions per request in the process started: its \
                             children serve the requests (start the server itself, or use exec)"
                            .to_owned())
                    }
                })
                .map_err(|e| format!("{name} {}: {e}", scenario.name()))?;
            runs.push(profile.total);
            last = Some(profile);
        }
        let top_functions = last
            .as_ref()
            .map(|p| p.top(TOP_FUNCTIONS))
            .unwrap_or_default();
        // Crates and their groups are Rust's: a `--server` in another language has C
        // functions (an interpreter's) that would all count as `libc`; only its top functions.
        let by_crate = last
            .filter(|_| matches!(program, Program::Backend(_)))
            .map(|p| p.by_crate())
            .unwrap_or_default();
        let mut by_group = BTreeMap::new();
        for (krate, cost) in &by_crate {
            *by_group
                .entry(callgrind::group_of(krate, framework).to_owned())
                .or_insert(0.0) += cost;
        }
        costs.insert(
            *scenario,
            ScenarioCost {
                instructions: runs,
                by_crate,
                by_group,
                top_functions,
                ..ScenarioCost::default()
            },
        );
    }
    server.stop();
    Ok(costs)
}

/// Send `n` requests, dump the counters (which zeroes them), and read the dump; with the
/// requests sent.
async fn counted(
    pid: u32,
    out: &Path,
    conns: &mut Connections,
    workload: &Workload,
    n: u64,
) -> Result<(Profile, u64), String> {
    let sent = conns.burst(workload, n).await?;
    let before = dumps(out);
    callgrind_command("dump", pid)?;
    let file = dumps(out)
        .into_iter()
        .find(|f| !before.contains(f))
        .ok_or("callgrind wrote no dump")?;
    let text = std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
    let _ = std::fs::remove_file(&file);
    Ok((callgrind::parse(&text), sent))
}

/// A callgrind monitor command (`zero`, `dump`) sent with `vgdb`, which is what
/// `callgrind_control` does in a Perl script that takes twice as long. The server is usually
/// asleep in `epoll_wait`: vgdb then wakes valgrind after `--max-invoke-ms` (100 by default).
fn callgrind_command(command: &str, pid: u32) -> Result<(), String> {
    let output = Command::new("vgdb")
        .args([&format!("--pid={pid}"), "--max-invoke-ms=10", command])
        .output()
        .map_err(|e| format!("vgdb: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "vgdb --pid={pid} {command}: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

/// The dump files callgrind has written next to `out` (`callgrind.out.1`, `.2`, ...).
fn dumps(out: &Path) -> Vec<PathBuf> {
    let (Some(dir), Some(stem)) = (out.parent(), out.file_name()) else {
        return Vec::new();
    };
    let prefix = format!("{}.", stem.to_string_lossy());
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with(&prefix))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// System calls and context switches per request of a natively running server: `perf stat`
/// attached to it while `PERF_REQUESTS` requests are sent.
pub fn kernel_share(server: &BackendProcess, workload: &Workload) -> Result<(f64, f64), String> {
    let runtime = runtime()?;
    let mut conns = runtime.block_on(Connections::open(server.addr, CONNECTIONS))?;
    runtime.block_on(conns.burst(workload, 200))?;
    let perf = Command::new("perf")
        .args([
            "stat",
            "-x,",
            "-e",
            "raw_syscalls:sys_enter,context-switches",
            "-p",
            // The server's process tree: a launcher's workers make the calls.
            &crate::measure::procfs::family(server.pid)
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(","),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("perf: {e}"))?;
    // perf needs a moment to attach before the burst is counted (with 100 ms, every server
    // still counts 3.0 system calls per request).
    std::thread::sleep(Duration::from_millis(100));
    let sent = runtime.block_on(conns.burst(workload, PERF_REQUESTS));
    let _ = Command::new("kill")
        .args(["-INT", &perf.id().to_string()])
        .status();
    let output = perf.wait_with_output().map_err(|e| format!("perf: {e}"))?;
    let requests = sent? as f64;
    let text = String::from_utf8_lossy(&output.stderr);
    let count = |event: &str| {
        text.lines()
            .find(|l| l.split(',').nth(2) == Some(event))
            .and_then(|l| l.split(',').next()?.trim().parse::<f64>().ok())
            .ok_or_else(|| format!("perf stat gave no {event} count: {}", text.trim()))
    };
    Ok((
        count("raw_syscalls:sys_enter")? / requests,
        count("context-switches")? / requests,
    ))
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("tokio: {e}"))
}

/// Connections that send bursts of a workload's requests, closed loop: kept alive, or, for a
/// request that says `Connection: close`, opened again for each request.
struct Connections {
    addr: SocketAddr,
    streams: Vec<(Option<TcpStream>, Vec<u8>, usize)>,
}

impl Connections {
    async fn open(addr: SocketAddr, n: usize) -> Result<Self, String> {
        let mut streams = Vec::new();
        for id in 0..n {
            streams.push((
                Some(connect(addr).await?),
                Vec::with_capacity(16 * 1024),
                id.wrapping_mul(7919),
            ));
        }
        Ok(Self { addr, streams })
    }

    /// Sends `n` requests in all, shared out over the connections, each checked; a pipelined
    /// batch is sent whole, so the count returned may be a little more than `n`.
    async fn burst(&mut self, workload: &Workload, n: u64) -> Result<u64, String> {
        let count = self.streams.len() as u64;
        let addr = self.addr;
        let sends = self
            .streams
            .iter_mut()
            .enumerate()
            .map(|(i, (stream, buf, cursor))| {
                let share = n / count + u64::from((i as u64) < n % count);
                async move {
                    let mut sent = 0;
                    while sent < share {
                        let next = workload.next(i, cursor);
                        let request = next.prepared();
                        let io = match stream {
                            Some(io) => io,
                            None => stream.insert(connect(addr).await?),
                        };
                        io.write_all(&request.bytes)
                            .await
                            .map_err(|e| format!("send: {e}"))?;
                        for k in 0..request.responses {
                            let more = k + 1 < request.responses;
                            let response = http1::read_next(io, buf, false, more)
                                .await
                                .map_err(|e| format!("read: {e:?}"))?;
                            if response.status != request.status {
                                return Err(format!(
                                    "status {} where {} was expected",
                                    response.status, request.status
                                ));
                            }
                        }
                        if request.close {
                            http1::read_close(io, buf)
                                .await
                                .map_err(|e| format!("close: {e:?}"))?;
                            *stream = None;
                        }
                        sent += request.responses as u64;
                    }
                    Ok(sent)
                }
            });
        let results = futures_util::future::join_all(sends);
        match tokio::time::timeout(Duration::from_secs(300), results).await {
            Ok(results) => results.into_iter().sum(),
            Err(_) => Err("a burst took over 300 s".into()),
        }
    }
}

async fn connect(addr: SocketAddr) -> Result<TcpStream, String> {
    let io = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect {addr}: {e}"))?;
    let _ = io.set_nodelay(true);
    Ok(io)
}
