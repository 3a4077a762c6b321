//! Running the real backend binary as a child process (section 5 and 6 checks). Every child
//! is killed and reaped when its guard drops, on every path, so none outlives a check.

use std::io::{BufRead as _, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::client::{Ctx, Endpoint};
use super::fail::{CheckResult, Failure};

/// How long a binary may take to print its start-up line.
const STARTUP: Duration = Duration::from_secs(15);

/// Lines a child wrote on one of its pipes, and whether the pipe has closed.
#[derive(Default)]
struct Lines {
    lines: Mutex<Vec<String>>,
    closed: AtomicBool,
}

impl Lines {
    fn snapshot(&self) -> Vec<String> {
        self.lines.lock().map(|l| l.clone()).unwrap_or_default()
    }

    fn collect(self: &Arc<Self>, pipe: impl Read + Send + 'static) {
        let lines = Arc::clone(self);
        std::thread::spawn(move || {
            let mut reader = BufReader::new(pipe);
            let mut line = Vec::new();
            loop {
                line.clear();
                match reader.read_until(b'\n', &mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        let text = String::from_utf8_lossy(&line)
                            .trim_end_matches(['\n', '\r'])
                            .to_owned();
                        if let Ok(mut all) = lines.lines.lock() {
                            all.push(text);
                        }
                    }
                }
            }
            lines.closed.store(true, Ordering::SeqCst);
        });
    }
}

/// A running backend binary; killed (SIGKILL) and reaped on drop.
pub(crate) struct Proc {
    child: Child,
    out: Arc<Lines>,
    err: Arc<Lines>,
    exit: Option<ExitStatus>,
    pub(crate) command: String,
}

impl Drop for Proc {
    fn drop(&mut self) {
        if self.exit.is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The backend binary, or a skip.
pub(crate) fn binary(cx: &Ctx) -> CheckResult<PathBuf> {
    match &cx.target.binary {
        Some(path) => Ok(path.clone()),
        None => Err(Failure::Skip("no backend binary in this target".into())),
    }
}

/// A fresh working directory for a child.
pub(crate) fn workdir() -> CheckResult<tempfile::TempDir> {
    tempfile::Builder::new()
        .prefix("sitebench-conformance-proc-")
        .tempdir()
        .map_err(|e| Failure::fail(format!("cannot create a temporary directory: {e}")))
}

impl Proc {
    /// Starts `binary args...` in `cwd` with `envs` added and every inherited `SITEBENCH_*`
    /// variable removed.
    pub(crate) fn spawn(
        binary: &Path,
        cwd: &Path,
        args: &[&str],
        envs: &[(&str, &str)],
    ) -> CheckResult<Self> {
        let mut command = Command::new(binary);
        command
            .args(args)
            .current_dir(cwd)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("SITEBENCH_") {
                command.env_remove(name);
            }
        }
        command.envs(envs.iter().copied());
        let shown = format!(
            "{}{} {}",
            envs.iter()
                .map(|(k, v)| format!("{k}={v} "))
                .collect::<String>(),
            binary
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            args.join(" ")
        );
        let mut child = command
            .spawn()
            .map_err(|e| Failure::fail(format!("cannot start `{shown}`: {e}")))?;
        let out = Arc::new(Lines::default());
        let err = Arc::new(Lines::default());
        if let Some(pipe) = child.stdout.take() {
            out.collect(pipe);
        }
        if let Some(pipe) = child.stderr.take() {
            err.collect(pipe);
        }
        Ok(Self {
            child,
            out,
            err,
            exit: None,
            command: shown,
        })
    }

    pub(crate) fn pid(&self) -> i32 {
        i32::try_from(self.child.id()).unwrap_or(0)
    }

    pub(crate) fn stdout(&self) -> Vec<String> {
        self.out.snapshot()
    }

    pub(crate) fn stderr(&self) -> Vec<String> {
        self.err.snapshot()
    }

    /// Polls for exit; the status once exited.
    pub(crate) fn try_exit(&mut self) -> Option<ExitStatus> {
        if self.exit.is_none()
            && let Ok(Some(status)) = self.child.try_wait()
        {
            self.exit = Some(status);
        }
        self.exit
    }

    /// Waits for the first stdout line; fails if the child exits or stays silent.
    pub(crate) async fn first_line(&mut self) -> CheckResult<String> {
        let deadline = tokio::time::Instant::now() + STARTUP;
        loop {
            if let Some(line) = self.out.snapshot().into_iter().next() {
                return Ok(line);
            }
            if let Some(status) = self.try_exit() {
                tokio::time::sleep(Duration::from_millis(50)).await;
                fail!(
                    "`{}` exited ({status}) before its start-up line; stderr: {:?}",
                    self.command,
                    self.stderr()
                );
            }
            if tokio::time::Instant::now() > deadline {
                fail!(
                    "`{}` printed no start-up line within {} s; stderr: {:?}",
                    self.command,
                    STARTUP.as_secs(),
                    self.stderr()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits for the start-up line, checks its form, and returns the endpoint it names.
    pub(crate) async fn ready(&mut self, cx: &Ctx) -> CheckResult<Endpoint> {
        let line = self.first_line().await?;
        let url =
            parse_startup_line(cx, &line).map_err(|e| e.context(&format!("`{}`", self.command)))?;
        Endpoint::parse(&url).map_err(Failure::fail)
    }

    /// Waits up to `limit` for the child to exit.
    pub(crate) async fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            if let Some(status) = self.try_exit() {
                // Let the pipe readers catch the last lines.
                for _ in 0..50 {
                    if self.out.closed.load(Ordering::SeqCst)
                        && self.err.closed.load(Ordering::SeqCst)
                    {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                return Some(status);
            }
            if tokio::time::Instant::now() > deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits up to `limit` for a stderr line satisfying `pred`.
    pub(crate) async fn wait_stderr(
        &self,
        limit: Duration,
        pred: impl Fn(&str) -> bool,
    ) -> Option<String> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            if let Some(line) = self.err.snapshot().into_iter().find(|l| pred(l)) {
                return Some(line);
            }
            if tokio::time::Instant::now() > deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Sends a signal (SIGTERM, SIGINT, SIGKILL).
    pub(crate) fn signal(&mut self, signal: i32) -> CheckResult {
        if let Some(status) = self.try_exit() {
            fail!(
                "`{}` had already exited ({status}); stderr {:?}",
                self.command,
                self.stderr()
            );
        }
        send_signal(self.pid(), signal)
            .map_err(|e| Failure::fail(format!("cannot signal `{}`: {e}", self.command)))
    }

    /// Kills with SIGKILL and reaps.
    pub(crate) fn kill9(&mut self) -> CheckResult {
        self.child
            .kill()
            .map_err(|e| Failure::fail(format!("cannot kill `{}`: {e}", self.command)))?;
        let status = self
            .child
            .wait()
            .map_err(|e| Failure::fail(format!("cannot reap `{}`: {e}", self.command)))?;
        self.exit = Some(status);
        Ok(())
    }

    /// Expects a start-up failure: exit status 2 within 10 s, exactly one stderr line,
    /// nothing on stdout.
    pub(crate) async fn expect_start_failure(&mut self) -> CheckResult<String> {
        let Some(status) = self.wait_exit(Duration::from_secs(10)).await else {
            fail!(
                "`{}`: expected exit status 2, it was still running after 10 s (stdout {:?})",
                self.command,
                self.stdout()
            );
        };
        ensure!(
            status.code() == Some(2),
            "`{}`: expected exit status 2, got {status}; stderr {:?}",
            self.command,
            self.stderr()
        );
        let out = self.stdout();
        ensure!(
            out.is_empty(),
            "`{}`: expected nothing on stdout, got {out:?}",
            self.command
        );
        let err = self.stderr();
        ensure!(
            err.len() == 1 && !err[0].trim().is_empty(),
            "`{}`: expected exactly one non-empty line on stderr, got {err:?}",
            self.command
        );
        Ok(err[0].clone())
    }
}

pub(crate) const SIGINT: i32 = libc::SIGINT;
pub(crate) const SIGTERM: i32 = libc::SIGTERM;

#[allow(unsafe_code)]
fn send_signal(pid: i32, signal: i32) -> std::io::Result<()> {
    if pid <= 0 {
        return Err(std::io::Error::other("no such process"));
    }
    // SAFETY: kill(2) takes plain integers and touches no memory of ours; `pid` is our own
    // child, which is not reaped until its `Proc` drops or `wait` succeeds.
    let rc = unsafe { libc::kill(pid, signal) };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Checks `sitebench-<backend> listening on http://ADDR:PORT` (real, non-zero port); the URL.
pub(crate) fn parse_startup_line(cx: &Ctx, line: &str) -> CheckResult<String> {
    let Some((server, rest)) = line.split_once(" listening on ") else {
        fail!(
            "expected the start-up line `sitebench-<backend> listening on http://ADDR:PORT`, got {line:?}"
        );
    };
    match &cx.target.backend {
        Some(backend) => ensure_eq!(
            server,
            format!("sitebench-{backend}"),
            "start-up line {line:?}"
        ),
        None => ensure!(
            server.starts_with("sitebench-"),
            "start-up line {line:?} must start with `sitebench-`"
        ),
    }
    let Some(addr) = rest.strip_prefix("http://") else {
        fail!("start-up line {line:?}: expected `http://ADDR:PORT`");
    };
    let Ok(addr) = addr.parse::<std::net::SocketAddr>() else {
        fail!("start-up line {line:?}: `{addr}` is not ADDR:PORT");
    };
    ensure!(
        addr.port() != 0,
        "start-up line {line:?} must give the real port, not 0"
    );
    Ok(format!("http://{addr}"))
}

/// The SQLite files (`db`, `db-wal`, `db-shm`) of a database path, read.
pub(crate) fn database_bytes(path: &Path) -> Vec<u8> {
    let mut all = Vec::new();
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        if let Ok(bytes) = std::fs::read(PathBuf::from(name)) {
            all.extend(bytes);
        }
    }
    all
}

/// The names in a directory, for "nothing written" checks.
pub(crate) fn dir_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}
