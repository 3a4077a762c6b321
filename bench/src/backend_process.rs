//! A backend binary run as its own process for measuring: pinned with `taskset`, port 0, a
//! fresh database in a temporary directory, `--quiet`; ready once `/healthz` answers; stopped
//! with SIGTERM and its exit status checked.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{client, info};

/// How long a native backend may take to announce its port and answer `/healthz`.
const READY: Duration = Duration::from_secs(15);

/// A backend process started for the benchmark.
pub struct BackendProcess {
    child: Child,
    pub pid: u32,
    pub addr: SocketAddr,
    /// Holds the database and the server's stderr; removed when this is dropped.
    dir: tempfile::TempDir,
    database: std::path::PathBuf,
}

impl BackendProcess {
    /// Starts `target/release/backend-<name>` pinned to `cpus` (with as many workers), on
    /// port 0 with a fresh database, and returns once it answers `/healthz`.
    pub fn start(name: &str, cpus: &[usize]) -> Result<Self, String> {
        Self::launch(name, &info::binary(name), &[], cpus, READY, None)
    }

    /// The same for any `binary` that takes the backends' flags, run through `wrapper` (a
    /// command and its arguments, such as valgrind), allowing `ready` to start, on `database`
    /// when given (the users and sessions an earlier run of it made) or a fresh one.
    pub fn launch(
        name: &str,
        binary: &Path,
        wrapper: &[String],
        cpus: &[usize],
        ready: Duration,
        database: Option<&Path>,
    ) -> Result<Self, String> {
        let dir = tempfile::tempdir().map_err(|e| format!("temporary directory: {e}"))?;
        let database = database.map_or_else(|| dir.path().join("site.db"), Path::to_path_buf);
        let log =
            std::fs::File::create(dir.path().join("stderr.log")).map_err(|e| e.to_string())?;
        let list = cpus
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",");
        // taskset (util-linux) pins the process before it starts any thread.
        let mut command = Command::new("taskset");
        command.args(["-c", &list]).args(wrapper).arg(binary);
        command
            .args([
                "--bind",
                "127.0.0.1",
                "--port",
                "0",
                "--quiet",
                "--workers",
                &cpus.len().max(1).to_string(),
            ])
            .arg("--database")
            .arg(&database)
            .env_remove("SITEBENCH_ADMIN")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log);
        let mut child = command
            .spawn()
            .map_err(|e| format!("cannot start taskset {}: {e}", binary.display()))?;
        let pid = child.id();
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let mut server = Self {
            child,
            pid,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            dir,
            database,
        };
        let line = rx.recv_timeout(ready).unwrap_or_default();
        let addr = line
            .trim()
            .rsplit_once("listening on http://")
            .and_then(|(_, a)| a.parse::<SocketAddr>().ok())
            .ok_or_else(|| {
                let log = std::fs::read_to_string(server.dir.path().join("stderr.log"))
                    .unwrap_or_default();
                format!(
                    "backend-{name} did not announce its port (stdout {line:?}, stderr {:?})",
                    log.trim()
                )
            });
        let addr = match addr {
            Ok(addr) => addr,
            Err(e) => {
                server.stop();
                return Err(e);
            }
        };
        server.addr = addr;
        server.wait_healthy(ready)?;
        Ok(server)
    }

    fn wait_healthy(&self, within: Duration) -> Result<(), String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        let request = format!("GET /healthz HTTP/1.1\r\nHost: {}\r\n\r\n", self.addr);
        let deadline = Instant::now() + within;
        loop {
            if let Ok((response, _)) = runtime.block_on(client::send(self.addr, request.as_bytes()))
                && response.status == 200
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!("{} never answered /healthz with 200", self.addr));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The database it runs on (kept until this is dropped).
    pub fn database(&self) -> &Path {
        &self.database
    }

    /// SIGTERM, then wait up to 10 s; true when it exited with status 0.
    pub fn stop(&mut self) -> bool {
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return status.success(),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                _ => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    return false;
                }
            }
        }
    }
}

impl Drop for BackendProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
