//! Start-up (BENCH.md 4.1): before a server is started for the run it is started `STARTS`
//! times on its own, nothing else starting or loaded, each time timed to its first `200`
//! from `/healthz`, its memory read then, and stopped. One start is one sample of a noisy
//! machine (a neighbour's burst); the median and range of five are a figure that holds. A
//! first start, untimed, reads the binary into the page cache: right after a build the first
//! start of every server was the slowest of its five (warp 79 ms, then 77, 72, 62, 45), and
//! that cold start set the range the tie rule reads.

use std::time::Instant;

use crate::measure::backend_process::BackendProcess;
use crate::measure::procfs;
use crate::report::BackendReport;
use crate::report::stats::Stat;

/// Timed starts per server.
pub const STARTS: usize = 5;

/// Starts the server `STARTS` times with `start`, one after the other, and records the
/// times and the memory at start-up in `report`; `Err` says why a start failed.
pub(super) fn time(
    report: &mut BackendReport,
    start: impl Fn() -> Result<BackendProcess, String>,
) -> Result<(), String> {
    let mut times = Vec::with_capacity(STARTS);
    let mut rss = Vec::with_capacity(STARTS);
    start()?.stop();
    for _ in 0..STARTS {
        let began = Instant::now();
        let mut process = start()?;
        times.push(began.elapsed().as_secs_f64() * 1e3);
        if let Some(kib) = procfs::rss_kib(process.pid) {
            rss.push(kib as f64);
        }
        process.stop();
    }
    report.startup_ms = Stat::of(&times).map(|s| s.median);
    report.startups_ms = times;
    report.startup_rss_kib = Stat::of(&rss).map(|s| s.median.round() as u64);
    Ok(())
}
