//! `bench soak` (issue 10): each backend alone for a bounded time under `mixed`, with a
//! trickle of sign-ups, logins and logouts beside it, its resident memory and open file
//! descriptors sampled every second. A backend passes when no request failed, neither figure
//! drifts upward after the warm-up, and every user signed up during the soak is there
//! afterwards. Not a benchmark: nothing here is timed against another server.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::measure::backend_process::BackendProcess;
use crate::measure::loadgen::{self, LoadSpec};
use crate::measure::workload::Prepared;
use crate::measure::{client, prepare};
use crate::output::table::{Align, Cell, Column, Table};
use crate::report::scenario::Scenario;

/// Samples before this are the warm-up: allocators and caches fill, then should level off.
const WARM_UP: Duration = Duration::from_secs(10);
/// Upward drift allowed between the first and the last quarter after warm-up (medians):
/// allocator noise, not a leak, which grows with every request for as long as it runs.
const RSS_DRIFT_KIB: u64 = 2 * 1024;
const RSS_DRIFT_SHARE: f64 = 0.05;
const FD_DRIFT: u64 = 2;
/// One sign-up, login and logout this often, beside the load.
const TRICKLE_EVERY: Duration = Duration::from_millis(500);
const CONNECTIONS: usize = 16;

/// What one backend's soak measured.
#[derive(Debug, Clone, Default)]
pub struct Soak {
    pub name: String,
    pub seconds: f64,
    pub requests: u64,
    pub errors: u64,
    pub first_error: Option<String>,
    pub trickle_errors: Vec<String>,
    /// (seconds since start, RSS in KiB, open file descriptors), one a second.
    pub samples: Vec<(f64, u64, u64)>,
    pub signed_up: usize,
    pub found_after: usize,
}

impl Soak {
    /// The median RSS and fds of the first and last quarter of the samples after warm-up.
    pub fn quarters(&self) -> Option<((u64, u64), (u64, u64))> {
        let after: Vec<&(f64, u64, u64)> = self
            .samples
            .iter()
            .filter(|s| s.0 >= WARM_UP.as_secs_f64())
            .collect();
        let quarter = after.len() / 4;
        if quarter == 0 {
            return None;
        }
        let median = |part: &[&(f64, u64, u64)]| {
            let mut rss: Vec<u64> = part.iter().map(|s| s.1).collect();
            let mut fds: Vec<u64> = part.iter().map(|s| s.2).collect();
            rss.sort_unstable();
            fds.sort_unstable();
            (rss[rss.len() / 2], fds[fds.len() / 2])
        };
        Some((
            median(&after[..quarter]),
            median(&after[after.len() - quarter..]),
        ))
    }

    /// Why it failed, if it did.
    pub fn failures(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.errors > 0 {
            out.push(format!(
                "{} failed requests (first: {})",
                self.errors,
                self.first_error.as_deref().unwrap_or("?")
            ));
        }
        out.extend(self.trickle_errors.iter().take(3).cloned());
        if self.found_after != self.signed_up {
            out.push(format!(
                "{} users signed up, {} found afterwards",
                self.signed_up, self.found_after
            ));
        }
        match self.quarters() {
            None => out.push("too short to judge drift".to_owned()),
            Some(((rss_a, fds_a), (rss_b, fds_b))) => {
                let allowed = RSS_DRIFT_KIB.max((rss_a as f64 * RSS_DRIFT_SHARE) as u64);
                if rss_b > rss_a + allowed {
                    out.push(format!(
                        "resident memory drifted up from {:.1} to {:.1} MiB",
                        rss_a as f64 / 1024.0,
                        rss_b as f64 / 1024.0
                    ));
                }
                if fds_b > fds_a + FD_DRIFT {
                    out.push(format!(
                        "open file descriptors drifted up from {fds_a} to {fds_b}"
                    ));
                }
            }
        }
        out
    }
}

/// Soaks `name` for `length`, pinned to `server_cpus`, the load on `client_cpus`.
pub fn soak(
    name: &str,
    length: Duration,
    server_cpus: &[usize],
    client_cpus: &[usize],
) -> Result<Soak, String> {
    let mut process = BackendProcess::start(name, server_cpus)?;
    let (pid, addr) = (process.pid, process.addr);
    let runtime = runtime()?;
    let tag = format!("soak{}", std::process::id() % 10_000);
    let mixed = runtime
        .block_on(prepare::prepare(addr, &[Scenario::Mixed], &tag))
        .remove(&Scenario::Mixed)
        .unwrap_or_else(|| Err("no workload".into()))?;
    let spec = LoadSpec {
        addr,
        connections: CONNECTIONS,
        warmup: Duration::ZERO,
        windows: 1,
        window: length,
        rate: None,
        client_cpus: client_cpus.to_vec(),
    };
    let started = Instant::now();
    let running = loadgen::start(&spec, &mixed);
    let stop = Arc::new(AtomicBool::new(false));
    let trickle = {
        let stop = Arc::clone(&stop);
        let tag = tag.clone();
        std::thread::spawn(move || trickle(addr, &tag, &stop))
    };
    let mut samples = Vec::new();
    while started.elapsed() < length {
        std::thread::sleep(Duration::from_secs(1).min(length.saturating_sub(started.elapsed())));
        if let (Some(rss), Some(fds)) = (rss_kib(pid), open_fds(pid)) {
            samples.push((started.elapsed().as_secs_f64(), rss, fds));
        }
    }
    stop.store(true, Ordering::Relaxed);
    let windows = running.finish();
    let (users, trickle_errors) = trickle
        .join()
        .unwrap_or_else(|_| (Vec::new(), vec!["the trickle thread panicked".to_owned()]));
    let found_after = runtime.block_on(async {
        let mut found = 0;
        for user in &users {
            let request = Prepared::get(&addr.to_string(), &format!("/users/{user}"), "", 200);
            if matches!(client::send(addr, &request.bytes).await, Ok((r, _)) if r.status == 200) {
                found += 1;
            }
        }
        found
    });
    process.stop();
    let window = windows.into_iter().next();
    Ok(Soak {
        name: name.to_owned(),
        seconds: length.as_secs_f64(),
        requests: window.as_ref().map_or(0, |w| w.responses),
        errors: window.as_ref().map_or(0, |w| w.errors.total()),
        first_error: window.and_then(|w| w.first_error),
        trickle_errors,
        samples,
        signed_up: users.len(),
        found_after,
    })
}

/// Sign-up, login and logout of a new user every `TRICKLE_EVERY` until `stop`: the users
/// whose sign-up was acknowledged, and what went wrong.
fn trickle(addr: SocketAddr, tag: &str, stop: &AtomicBool) -> (Vec<String>, Vec<String>) {
    let Ok(runtime) = runtime() else {
        return (
            Vec::new(),
            vec!["no tokio runtime for the trickle".to_owned()],
        );
    };
    let host = addr.to_string();
    let users = Mutex::new(Vec::new());
    let mut errors = Vec::new();
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        let next = Instant::now() + TRICKLE_EVERY;
        n += 1;
        let user = format!("t{tag}n{n}");
        let body = format!(r#"{{"username":"{user}","password":"soak-password-{n}"}}"#);
        let outcome = runtime.block_on(async {
            let signup = Prepared::post_json(&host, "/users", &body, 201);
            let (r, _) = client::send(addr, &signup.bytes).await?;
            if r.status != 201 {
                return Err(format!("sign-up of {user}: status {}", r.status));
            }
            users
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(user.clone());
            let login = Prepared::post_json(&host, "/login", &body, 200);
            let (r, detail) = client::send(addr, &login.bytes).await?;
            if r.status != 200 {
                return Err(format!("login of {user}: status {}", r.status));
            }
            let cookie = detail
                .header("set-cookie")
                .and_then(|c| c.split(';').next())
                .ok_or_else(|| format!("login of {user}: no Set-Cookie"))?
                .to_owned();
            let logout = Prepared::post_json(&host, "/logout", "", 204);
            let mut bytes = logout.bytes.clone();
            // The cookie goes in the head, before its blank line.
            if let Some(end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
                bytes.splice(
                    end + 2..end + 2,
                    format!("Cookie: {cookie}\r\n").into_bytes(),
                );
            }
            let (r, _) = client::send(addr, &bytes).await?;
            if r.status != 204 {
                return Err(format!("logout of {user}: status {}", r.status));
            }
            Ok(())
        });
        if let Err(why) = outcome {
            errors.push(why);
        }
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
    }
    (
        users.into_inner().unwrap_or_else(|p| p.into_inner()),
        errors,
    )
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("tokio: {e}"))
}

/// The current resident set of `pid` (`VmRSS`), in KiB.
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn open_fds(pid: u32) -> Option<u64> {
    Some(std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count() as u64)
}

/// The figures as a Markdown table, one row per backend.
pub fn table(soaks: &[Soak]) -> String {
    let mut table = Table::new(vec![
        Column::new("backend", Align::Left),
        Column::new("seconds", Align::Right),
        Column::new("requests", Align::Right),
        Column::new("errors", Align::Right),
        Column::new("sign-ups (found after)", Align::Right),
        Column::new("RSS MiB start → end", Align::Left),
        Column::new("fds start → end", Align::Left),
        Column::new("verdict", Align::Left),
    ]);
    for s in soaks {
        let (rss, fds) = match s.quarters() {
            Some(((rss_a, fds_a), (rss_b, fds_b))) => (
                format!(
                    "{:.1} → {:.1}",
                    rss_a as f64 / 1024.0,
                    rss_b as f64 / 1024.0
                ),
                format!("{fds_a} → {fds_b}"),
            ),
            None => ("-".to_owned(), "-".to_owned()),
        };
        let failures = s.failures();
        table.rows.push(vec![
            Cell::text(s.name.clone()),
            Cell::text(format!("{:.0}", s.seconds)),
            Cell::text(s.requests.to_string()),
            Cell::text((s.errors + s.trickle_errors.len() as u64).to_string()),
            Cell::text(format!("{} ({})", s.signed_up, s.found_after)),
            Cell::text(rss),
            Cell::text(fds),
            Cell::text(if failures.is_empty() {
                "pass".to_owned()
            } else {
                format!("FAIL: {}", failures.join("; "))
            }),
        ]);
    }
    table.markdown()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn soak(samples: &[(f64, u64, u64)]) -> Soak {
        Soak {
            name: "x".into(),
            samples: samples.to_vec(),
            signed_up: 3,
            found_after: 3,
            ..Soak::default()
        }
    }

    #[test]
    fn a_leak_is_drift_and_a_flat_line_is_not() {
        let flat: Vec<(f64, u64, u64)> = (0..60).map(|t| (t as f64, 40_000, 20)).collect();
        assert!(
            soak(&flat).failures().is_empty(),
            "{:?}",
            soak(&flat).failures()
        );
        // 100 KiB more every second after warm-up: 5 MiB over the run.
        let leak: Vec<(f64, u64, u64)> = (0..60)
            .map(|t| (t as f64, 40_000 + 100 * t as u64, 20))
            .collect();
        assert!(soak(&leak).failures().iter().any(|f| f.contains("memory")));
        let fds: Vec<(f64, u64, u64)> =
            (0..60).map(|t| (t as f64, 40_000, 20 + t as u64)).collect();
        assert!(
            soak(&fds)
                .failures()
                .iter()
                .any(|f| f.contains("descriptors"))
        );
        let mut lost = soak(&flat);
        lost.found_after = 2;
        assert!(
            lost.failures()
                .iter()
                .any(|f| f.contains("found afterwards"))
        );
    }

    #[test]
    fn the_table_is_a_row_per_backend() {
        let flat: Vec<(f64, u64, u64)> = (0..60).map(|t| (t as f64, 40_000, 20)).collect();
        assert_eq!(
            table(&[soak(&flat)]),
            "| backend | seconds | requests | errors | sign-ups (found after) | RSS MiB start → end | fds start → end | verdict |\n\
             |---|---:|---:|---:|---:|---|---|---|\n\
             | x | 0 | 0 | 0 | 3 (3) | 39.1 → 39.1 | 20 → 20 | pass |\n"
        );
    }
}
