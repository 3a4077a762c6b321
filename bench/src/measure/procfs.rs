//! What Linux's /proc says about the server and the machine: a process's CPU time (user and
//! system) and peak resident memory (`VmHWM`, resettable through `clear_refs`), a core's busy
//! and stolen time, and the machine's CPU model, core count, memory and kernel; and waiting
//! until a server has gone idle (what each window and phase does first). A server is
//! measured as its process tree: a `--server` command may be a launcher whose workers do the
//! serving (`gunicorn -w 2`, `npm start`, `sh -c` without `exec`).

use std::time::{Duration, Instant};

use crate::report::Machine;

/// Clock ticks per second in /proc (USER_HZ): 100 on every mainstream Linux ABI.
const TICKS_PER_SEC: u64 = 100;

/// CPU time of all threads of a process, in user space and in the kernel.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CpuTimes {
    pub user: Duration,
    pub system: Duration,
}

impl CpuTimes {
    pub fn total(self) -> Duration {
        self.user + self.system
    }
}

/// User and system CPU time of all threads of `pid`.
pub fn cpu_times(pid: u32) -> Option<CpuTimes> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces; fields after its closing ')' are plain.
    let after = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    // After ')': state is field 3, so utime (14) and stime (15) sit at 11 and 12.
    let ticks = |i: usize| -> Option<Duration> {
        let value: u64 = fields.get(i)?.parse().ok()?;
        Some(Duration::from_millis(value * 1000 / TICKS_PER_SEC))
    };
    Some(CpuTimes {
        user: ticks(11)?,
        system: ticks(12)?,
    })
}

/// `pid` and every live process descended from it (read from each process's parent in
/// /proc/*/stat), `pid` first.
pub fn family(pid: u32) -> Vec<u32> {
    let parents: Vec<(u32, u32)> = std::fs::read_dir("/proc")
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
                .filter_map(|p| Some((p, parent(p)?)))
                .collect()
        })
        .unwrap_or_default();
    let mut family = vec![pid];
    let mut i = 0;
    while let Some(&member) = family.get(i) {
        family.extend(
            parents
                .iter()
                .filter(|(_, parent)| *parent == member)
                .map(|(child, _)| *child),
        );
        i += 1;
    }
    family
}

fn parent(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // After ')': state, then the parent's pid.
    stat[stat.rfind(')')? + 1..]
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// User and system CPU time of a server: `pid` and its descendants.
pub fn tree_cpu_times(pid: u32) -> Option<CpuTimes> {
    let mut total = cpu_times(pid)?;
    for child in family(pid).into_iter().skip(1) {
        if let Some(times) = cpu_times(child) {
            total.user += times.user;
            total.system += times.system;
        }
    }
    Some(total)
}

/// User plus system CPU time of a server: `pid` and its descendants.
pub fn cpu_time(pid: u32) -> Option<Duration> {
    tree_cpu_times(pid).map(CpuTimes::total)
}

/// The peak resident set size of a server since start or the last `reset_peak_rss`, in KiB:
/// the sum of each of its processes' peaks (workers each have their own memory).
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    let peak = |pid: u32| -> Option<u64> { status_kib(pid, "VmHWM:") };
    let own = peak(pid)?;
    Some(
        own + family(pid)
            .into_iter()
            .skip(1)
            .filter_map(peak)
            .sum::<u64>(),
    )
}

/// The resident set size of a server now, in KiB, summed over its processes.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let rss = |pid: u32| -> Option<u64> { status_kib(pid, "VmRSS:") };
    let own = rss(pid)?;
    Some(own + family(pid).into_iter().skip(1).filter_map(rss).sum::<u64>())
}

/// The open file descriptors of a server now, summed over its processes (threads share
/// their process's table).
pub fn open_fds(pid: u32) -> Option<usize> {
    let count = |pid: u32| -> Option<usize> {
        Some(std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count())
    };
    let own = count(pid)?;
    Some(
        own + family(pid)
            .into_iter()
            .skip(1)
            .filter_map(count)
            .sum::<usize>(),
    )
}

/// A `kB` field of `/proc/PID/status`.
fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Resets `VmHWM` to the current RSS (Linux 4.0+) in each of a server's processes, so each
/// scenario reports its own peak.
pub fn reset_peak_rss(pid: u32) -> bool {
    family(pid)
        .into_iter()
        .all(|p| std::fs::write(format!("/proc/{p}/clear_refs"), "5").is_ok())
}

/// Busy, stolen and total time of one core (jiffies: 1/100 s), to compute shares over an
/// interval. `busy` includes `steal`: the hypervisor ran someone else on this core.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CoreTimes {
    pub busy: u64,
    pub steal: u64,
    pub total: u64,
}

/// Jiffies as time.
pub fn jiffies(n: u64) -> Duration {
    Duration::from_millis(n * 1000 / TICKS_PER_SEC)
}

pub fn core_times(cpu: usize) -> Option<CoreTimes> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let label = format!("cpu{cpu}");
    let line = stat
        .lines()
        .find(|l| l.split_whitespace().next() == Some(label.as_str()))?;
    parse_core_line(line)
}

fn parse_core_line(line: &str) -> Option<CoreTimes> {
    let values: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal (guest time is already in user).
    let total: u64 = values.iter().take(8).sum();
    let idle = values.get(3)? + values.get(4).copied().unwrap_or(0);
    Some(CoreTimes {
        busy: total.saturating_sub(idle),
        steal: values.get(7).copied().unwrap_or(0),
        total,
    })
}

/// What the given cores did between two samples, summed over the cores.
pub fn elapsed(before: &[CoreTimes], after: &[CoreTimes]) -> CoreTimes {
    before
        .iter()
        .zip(after)
        .fold(CoreTimes::default(), |sum, (x, y)| CoreTimes {
            busy: sum.busy + y.busy.saturating_sub(x.busy),
            steal: sum.steal + y.steal.saturating_sub(x.steal),
            total: sum.total + y.total.saturating_sub(x.total),
        })
}

/// Waits (at most 10 s) until the server stops using CPU: requests queued by the previous
/// window (a backlog of password hashes after `login`) must not be measured in the next.
pub fn wait_until_idle(pid: u32) {
    const STEP: Duration = Duration::from_millis(50);
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut before = cpu_time(pid);
    while Instant::now() < deadline {
        std::thread::sleep(STEP);
        let now = cpu_time(pid);
        match (before, now) {
            // At most one clock tick (10 ms) over the step: idle.
            (Some(a), Some(b)) if b.saturating_sub(a) <= Duration::from_millis(10) => return,
            (None, _) | (_, None) => return,
            _ => before = now,
        }
    }
}

/// The machine this runs on, from /proc.
pub fn machine() -> Machine {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu_model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or_else(|| "unknown".to_owned(), |(_, v)| v.trim().to_owned());
    let memory_mib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kib| kib / 1024);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map_or_else(|_| "unknown".into(), |k| k.trim().to_owned());
    let os = std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|o| {
            o.lines()
                .find_map(|l| l.strip_prefix("PRETTY_NAME="))
                .map(|v| v.trim_matches('"').to_owned())
        })
        .unwrap_or_else(|| std::env::consts::OS.to_owned());
    Machine {
        cpu_model,
        cores: std::thread::available_parallelism().map_or(1, usize::from),
        memory_mib,
        kernel,
        os,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_is_measured_with_the_processes_it_started() {
        // A shell that forks a busy child: the shell's own CPU stays near zero, its tree's not.
        let mut shell = std::process::Command::new("sh")
            .args(["-c", "sh -c 'while :; do :; done' & wait"])
            .spawn()
            .expect("sh runs");
        std::thread::sleep(std::time::Duration::from_millis(600));
        let pid = shell.id();
        let family = family(pid);
        let own = cpu_times(pid).map(CpuTimes::total).unwrap_or_default();
        let tree = cpu_time(pid).unwrap_or_default();
        for member in family.iter().rev() {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", &member.to_string()])
                .status();
        }
        let _ = shell.wait();
        assert!(family.len() >= 2 && family[0] == pid, "{family:?}");
        assert!(
            tree > own + std::time::Duration::from_millis(100),
            "{tree:?} vs {own:?}"
        );
    }

    #[test]
    fn own_process_has_cpu_time_and_peak_rss() {
        let pid = std::process::id();
        let spin = std::time::Instant::now();
        while spin.elapsed() < Duration::from_millis(30) {
            std::hint::black_box(0u64);
        }
        assert!(cpu_time(pid).is_some());
        assert!(peak_rss_kib(pid).is_some_and(|kib| kib > 100));
    }

    #[test]
    fn core_line_and_share() {
        let a = parse_core_line("cpu1 100 0 50 800 50 0 0 7 0 0").expect("parse");
        assert_eq!(
            a,
            CoreTimes {
                busy: 157,
                steal: 7,
                total: 1007
            }
        );
        let b = CoreTimes {
            busy: 257,
            steal: 9,
            total: 1207,
        };
        assert_eq!(
            elapsed(&[a], &[b]),
            CoreTimes {
                busy: 100,
                steal: 2,
                total: 200
            }
        );
    }
}
