//! `bench run`: for each backend, start it as its own pinned release process on port 0 with
//! a fresh database, verify it, warm it up and measure every scenario `--repeat` times on the
//! same connections, stop it with SIGTERM, and write the report after each backend.
//! With `--url`, the same against a server someone else started (loopback only).

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use crate::backend_process::BackendProcess;
use crate::loadgen::{self, LoadSpec};
use crate::procfs;
use crate::report::{BackendReport, Percentiles, Report, Run, RunOptions, SCHEMA, ScenarioReport};
use crate::scenarios::{Scenario, Workload};
use crate::{info, workloads};

/// Time allowed for starting, preparing and stopping one backend, for the estimate.
const PER_BACKEND_OVERHEAD: Duration = Duration::from_secs(3);

#[derive(Debug, Clone)]
pub struct Options {
    pub backends: Vec<String>,
    pub scenarios: Vec<Scenario>,
    pub duration: Duration,
    pub warmup: Duration,
    pub connections: usize,
    pub repeat: usize,
    pub rate: Option<f64>,
    pub server_cpus: Vec<usize>,
    pub client_cpus: Vec<usize>,
    pub out: PathBuf,
    pub url: Option<String>,
    pub quick: bool,
}

impl Options {
    /// How long the run should take, said before it starts.
    pub fn estimate(&self) -> Duration {
        let targets = if self.url.is_some() {
            1
        } else {
            self.backends.len()
        };
        let per_scenario = self.warmup
            + self.duration * u32::try_from(self.repeat).unwrap_or(1)
            + Duration::from_millis(200);
        let per_target =
            PER_BACKEND_OVERHEAD + per_scenario * u32::try_from(self.scenarios.len()).unwrap_or(1);
        per_target * u32::try_from(targets).unwrap_or(1)
    }

    fn recorded(&self) -> RunOptions {
        RunOptions {
            backends: self.backends.clone(),
            scenarios: self.scenarios.iter().map(|s| s.name().to_owned()).collect(),
            duration_secs: self.duration.as_secs_f64(),
            warmup_secs: self.warmup.as_secs_f64(),
            connections: self.connections,
            repeat: self.repeat,
            rate: self.rate,
            server_cpus: self.server_cpus.clone(),
            client_cpus: self.client_cpus.clone(),
            url: self.url.clone(),
            quick: self.quick,
        }
    }
}

/// The default split of cores: the server gets the first half, the load generator the rest.
pub fn default_cpus() -> (Vec<usize>, Vec<usize>) {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    if cores < 2 {
        return (vec![0], vec![0]);
    }
    let server = cores / 2;
    ((0..server).collect(), (server..cores).collect())
}

pub fn run(options: &Options) -> Result<Report, String> {
    let mut report = Report {
        schema: SCHEMA.into(),
        created_utc: now_rfc3339(),
        git_revision: info::git_revision(),
        machine: procfs::machine(),
        options: options.recorded(),
        versions: info::versions(),
        backends: Vec::new(),
    };
    let url_addr = options.url.as_deref().map(loopback_addr).transpose()?;
    if url_addr.is_none() {
        eprintln!("Building the backends (release; the first build takes several minutes)...");
        info::build_backends(&options.backends)?;
    }
    let estimate = options.estimate();
    eprintln!(
        "Benchmarking {} on {} scenarios, {} x {:.1} s each after {:.1} s warm-up: about {} min {} s.",
        options
            .url
            .as_deref()
            .map_or_else(|| options.backends.join(", "), |u| u.to_owned()),
        options.scenarios.len(),
        options.repeat,
        options.duration.as_secs_f64(),
        options.warmup.as_secs_f64(),
        estimate.as_secs() / 60,
        estimate.as_secs() % 60
    );
    let progress = ProgressBar::new(u64::try_from(estimate.as_millis()).unwrap_or(u64::MAX));
    progress.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {percent:>3}% ETA {eta} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let tag = run_tag();
    let started = Instant::now();
    match url_addr {
        Some(addr) => {
            let name = options.url.clone().unwrap_or_default();
            let backend = measure_target(options, &name, addr, None, &progress, &tag);
            report.backends.push(backend);
            report.write_all(&options.out)?;
        }
        None => {
            for name in &options.backends {
                let backend = measure_backend(options, name, &progress, &tag);
                report.backends.push(backend);
                report.write_all(&options.out)?;
            }
        }
    }
    progress.finish_and_clear();
    let took = started.elapsed().as_secs();
    eprintln!(
        "Done in {} min {} s (estimated {} min {} s).",
        took / 60,
        took % 60,
        estimate.as_secs() / 60,
        estimate.as_secs() % 60
    );
    Ok(report)
}

/// Accepts only loopback addresses: load is never sent anywhere else.
fn loopback_addr(url: &str) -> Result<SocketAddr, String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("--url {url}: only http:// URLs are supported"))?;
    let authority = rest.split('/').next().unwrap_or(rest);
    let authority = if authority.contains(':') {
        authority.to_owned()
    } else {
        format!("{authority}:80")
    };
    let addr = authority
        .to_socket_addrs()
        .map_err(|e| format!("--url {url}: {e}"))?
        .next()
        .ok_or_else(|| format!("--url {url}: no address"))?;
    if !addr.ip().is_loopback() {
        return Err(format!(
            "--url {url}: the benchmark only loads loopback addresses (127.0.0.0/8, ::1)"
        ));
    }
    Ok(addr)
}

fn measure_backend(
    options: &Options,
    name: &str,
    progress: &ProgressBar,
    tag: &str,
) -> BackendReport {
    progress.set_message(format!("{name}: starting"));
    let mut report = match BackendProcess::start(name, &options.server_cpus) {
        Ok(mut server) => {
            let mut report =
                measure_target(options, name, server.addr, Some(server.pid), progress, tag);
            report.clean_exit = Some(server.stop());
            report
        }
        Err(why) => empty_backend(name, Some(why)),
    };
    report.adapter_lines = info::adapter_lines(name);
    report.binary_bytes = info::binary_bytes(name);
    report.dependency_count = info::dependency_count(name);
    report
}

fn empty_backend(name: &str, failure: Option<String>) -> BackendReport {
    BackendReport {
        name: name.to_owned(),
        failure,
        adapter_lines: None,
        binary_bytes: None,
        dependency_count: None,
        clean_exit: None,
        scenarios: Vec::new(),
    }
}

/// Verifies, then measures every scenario. A backend of ours that fails verification is
/// reported as failed and not timed; a `--url` server just skips what it does not support.
fn measure_target(
    options: &Options,
    name: &str,
    addr: SocketAddr,
    pid: Option<u32>,
    progress: &ProgressBar,
    tag: &str,
) -> BackendReport {
    progress.set_message(format!("{name}: verifying"));
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => return empty_backend(name, Some(format!("tokio: {e}"))),
    };
    let workloads = runtime.block_on(workloads::prepare(addr, &options.scenarios, tag));
    let failures: Vec<String> = workloads
        .iter()
        .filter_map(|(s, w)| w.as_ref().err().map(|e| format!("{}: {e}", s.name())))
        .collect();
    let mut report = empty_backend(name, None);
    if pid.is_some() && !failures.is_empty() {
        report.failure = Some(failures.join("; "));
        return report;
    }
    for (scenario, workload) in workloads {
        let scenario_report = match workload {
            Err(why) => ScenarioReport {
                name: scenario.name().into(),
                skipped: Some(why),
                runs: Vec::new(),
                summary: None,
                markers: Vec::new(),
            },
            Ok(workload) => {
                let runs =
                    measure_scenario(options, name, scenario, addr, pid, &workload, progress);
                ScenarioReport::from_runs(scenario.name(), runs)
            }
        };
        report.scenarios.push(scenario_report);
    }
    report
}

fn measure_scenario(
    options: &Options,
    name: &str,
    scenario: Scenario,
    addr: SocketAddr,
    pid: Option<u32>,
    workload: &Arc<Workload>,
    progress: &ProgressBar,
) -> Vec<Run> {
    let spec = LoadSpec {
        addr,
        connections: options.connections,
        warmup: options.warmup,
        windows: options.repeat,
        window: options.duration,
        rate: options.rate,
        client_cpus: options.client_cpus.clone(),
    };
    if let Some(pid) = pid {
        wait_until_idle(pid);
        procfs::reset_peak_rss(pid);
    }
    let base = progress.position();
    let running = loadgen::start(&spec, workload);
    let mut cpu = Vec::new();
    let mut cores = Vec::new();
    for boundary in 0..=spec.windows {
        let at = running.start + spec.warmup + spec.window * u32::try_from(boundary).unwrap_or(0);
        while Instant::now() < at {
            let elapsed = Instant::now().saturating_duration_since(running.start);
            progress.set_position(base + u64::try_from(elapsed.as_millis()).unwrap_or(0));
            let phase = if elapsed < spec.warmup {
                "warm-up".to_owned()
            } else {
                format!("repeat {}/{}", boundary.max(1), spec.windows)
            };
            progress.set_message(format!("{name} · {} · {phase}", scenario.name()));
            std::thread::sleep(
                Duration::from_millis(50).min(at.saturating_duration_since(Instant::now())),
            );
        }
        cpu.push(pid.and_then(procfs::cpu_time));
        cores.push(
            options
                .client_cpus
                .iter()
                .map(|&c| procfs::core_times(c).unwrap_or_default())
                .collect::<Vec<_>>(),
        );
    }
    let windows = running.finish();
    progress.set_position(
        base + u64::try_from((spec.total() + Duration::from_millis(200)).as_millis()).unwrap_or(0),
    );
    let peak = pid.and_then(procfs::peak_rss_kib);
    windows
        .iter()
        .enumerate()
        .map(|(k, w)| {
            let ok = w
                .responses
                .saturating_sub(w.errors.status + w.errors.length);
            let cpu_per_request = match (cpu[k], cpu[k + 1]) {
                (Some(a), Some(b)) if ok > 0 => {
                    Some(b.saturating_sub(a).as_secs_f64() * 1e6 / ok as f64)
                }
                _ => None,
            };
            let h = &w.latency;
            Run {
                requests_per_sec: w.requests_per_sec(spec.window),
                responses: w.responses,
                latency_us: Percentiles {
                    p50: h.value_at_quantile(0.50),
                    p90: h.value_at_quantile(0.90),
                    p99: h.value_at_quantile(0.99),
                    p999: h.value_at_quantile(0.999),
                    max: h.max(),
                },
                errors: w.errors,
                first_error: w.first_error.clone(),
                server_cpu_us_per_request: cpu_per_request,
                server_peak_rss_kib: peak,
                client_busy_share: procfs::busy_share(&cores[k], &cores[k + 1]),
            }
        })
        .collect()
}

/// Waits (at most 10 s) until the server stops using CPU: requests queued by the previous
/// scenario (a backlog of password hashes after `login`) must not be measured in the next.
fn wait_until_idle(pid: u32) {
    const STEP: Duration = Duration::from_millis(100);
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut before = procfs::cpu_time(pid);
    while Instant::now() < deadline {
        std::thread::sleep(STEP);
        let now = procfs::cpu_time(pid);
        match (before, now) {
            // Under 10% of a core over the step: idle (the clock ticks every 10 ms).
            (Some(a), Some(b)) if b.saturating_sub(a) <= STEP / 10 => return,
            (None, _) | (_, None) => return,
            _ => before = now,
        }
    }
}

/// A short random tag so users made by one run never collide with another's.
fn run_tag() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{:x}{:x}", std::process::id() % 4096, nanos % 65536)
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// `target/sitebench/<UTC timestamp>/`
pub fn default_out_dir() -> PathBuf {
    let stamp = now_rfc3339().replace([':', '-'], "");
    info::target_dir().join("sitebench").join(stamp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_urls_are_loaded() {
        assert_eq!(
            loopback_addr("http://127.0.0.1:8080"),
            Ok(SocketAddr::from(([127, 0, 0, 1], 8080)))
        );
        assert!(loopback_addr("http://[::1]:9000/").is_ok_and(|a| a.ip().is_loopback()));
        assert!(loopback_addr("http://10.0.0.1:80").is_err());
        assert!(loopback_addr("https://127.0.0.1").is_err());
    }
}
