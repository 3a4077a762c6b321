//! A server run as its own process for measuring, pinned with `taskset`, on a fresh database
//! in a temporary directory, stopped with SIGTERM and its exit status checked: a backend
//! binary of the workspace (port 0, `--quiet`, its port read from its start-up line, ready
//! once `/healthz` answers 200), or any command given with `--server` (a free port and the
//! database filled into it, ready once `/healthz` gets any HTTP answer: a student's server
//! need not have that route).

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::measure::{client, procfs};
use crate::workspace::binaries;

/// How long a native backend may take to announce its port and answer `/healthz`.
pub const READY: Duration = Duration::from_secs(15);

/// What to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Program {
    /// A binary that takes the backends' flags (SITE.md 6) and announces its port.
    Backend(PathBuf),
    /// `--server NAME=COMMAND`: the command's words, with `{port}`, `{database}` and
    /// `{workers}` still to fill in.
    Command(Vec<String>),
}

impl Program {
    /// `--server`'s COMMAND split into words as a shell would (quotes and backslashes), without
    /// running a shell: the process bench starts, pins, samples and signals is the server
    /// itself (`sh -c '...'` still works, and `exec` keeps the process).
    pub fn command(line: &str) -> Result<Self, String> {
        let words = split_words(line)?;
        if words.is_empty() {
            return Err("the command is empty".into());
        }
        if !words.iter().any(|w| w.contains("{port}")) {
            return Err(format!(
                "{line:?} has no {{port}}: bench chooses the port and the command must use it"
            ));
        }
        Ok(Self::Command(words))
    }
}

/// Words of a command line: blanks separate, `'...'` is literal, `"..."` keeps blanks and
/// takes `\` before `"`, `\`, `$` and `` ` ``, and `\` outside quotes keeps the next character.
fn split_words(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => words.extend(word.take()),
            '\'' => {
                let current = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => current.push(c),
                        None => return Err(format!("{line:?}: a ' is not closed")),
                    }
                }
            }
            '"' => {
                let current = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => current.push(c),
                            Some(c) => {
                                current.push('\\');
                                current.push(c);
                            }
                            None => return Err(format!("{line:?}: a \" is not closed")),
                        },
                        Some(c) => current.push(c),
                        None => return Err(format!("{line:?}: a \" is not closed")),
                    }
                }
            }
            '\\' => {
                let next = chars
                    .next()
                    .ok_or_else(|| format!("{line:?} ends with \\"))?;
                word.get_or_insert_with(String::new).push(next);
            }
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    Ok(words)
}

/// A free port on loopback for a command: bound, read, released (another process could take
/// it in between; the server's failure to bind is then reported).
fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port on 127.0.0.1: {e}"))
}

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
        let program = Program::Backend(binaries::binary(name));
        Self::launch(name, &program, &[], cpus, READY, None)
    }

    /// The same for any program, run through `wrapper` (a command and its arguments, such as
    /// valgrind), allowing `ready` to start, on `database` when given (the users and sessions
    /// an earlier run of it made) or a fresh one.
    pub fn launch(
        name: &str,
        program: &Program,
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
        let workers = cpus.len().max(1).to_string();
        // taskset (util-linux) pins the process before it starts any thread.
        let mut command = Command::new("taskset");
        command.args(["-c", &list]).args(wrapper);
        let port = match program {
            Program::Backend(binary) => {
                command
                    .arg(binary)
                    .args(["--bind", "127.0.0.1", "--port", "0", "--quiet"])
                    .args(["--workers", &workers])
                    .arg("--database")
                    .arg(&database);
                None
            }
            Program::Command(words) => {
                let port = free_port()?;
                let database = database.to_string_lossy();
                command.args(words.iter().map(|w| {
                    w.replace("{port}", &port.to_string())
                        .replace("{database}", &database)
                        .replace("{workers}", &workers)
                }));
                Some(port)
            }
        };
        command
            .env_remove("SITEBENCH_ADMIN")
            .stdin(Stdio::null())
            .stdout(if port.is_some() {
                Stdio::null()
            } else {
                Stdio::piped()
            })
            .stderr(log);
        let mut child = command
            .spawn()
            .map_err(|e| format!("cannot start taskset for {name}: {e}"))?;
        let pid = child.id();
        let stdout = child.stdout.take();
        let mut server = Self {
            child,
            pid,
            addr: SocketAddr::from(([127, 0, 0, 1], port.unwrap_or(0))),
            dir,
            database,
        };
        let Some(stdout) = stdout else {
            // A command: it listens where it was told.
            if let Err(e) = server.wait_healthy(ready, false) {
                let log = server.stderr();
                server.stop();
                return Err(format!("{name}: {e} (stderr {:?})", log.trim()));
            }
            return Ok(server);
        };
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(ready).unwrap_or_default();
        let addr = line
            .trim()
            .rsplit_once("listening on http://")
            .and_then(|(_, a)| a.parse::<SocketAddr>().ok())
            .ok_or_else(|| {
                format!(
                    "backend-{name} did not announce its port (stdout {line:?}, stderr {:?})",
                    server.stderr().trim()
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
        server.wait_healthy(ready, true)?;
        Ok(server)
    }

    /// What the server wrote to stderr so far.
    fn stderr(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("stderr.log")).unwrap_or_default()
    }

    /// Waits for an answer to `GET /healthz`: a `200` when `ok_only`, else any HTTP response.
    fn wait_healthy(&mut self, within: Duration, ok_only: bool) -> Result<(), String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        let request = format!("GET /healthz HTTP/1.1\r\nHost: {}\r\n\r\n", self.addr);
        let deadline = Instant::now() + within;
        loop {
            if let Ok((response, _)) = runtime.block_on(client::send(self.addr, request.as_bytes()))
                && (response.status == 200 || !ok_only)
            {
                return Ok(());
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "it exited ({status}) before answering on {}",
                    self.addr
                ));
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "{} never answered /healthz{} within {} s",
                    self.addr,
                    if ok_only { " with 200" } else { "" },
                    within.as_secs()
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// How it ended, if it has: a server that dies during a run must not be timed further.
    pub fn exited(&mut self) -> Option<String> {
        match self.child.try_wait() {
            Ok(Some(status)) => Some(format!("{status}; stderr {:?}", tail(&self.stderr()))),
            _ => None,
        }
    }

    /// The database it runs on (kept until this is dropped).
    pub fn database(&self) -> &Path {
        &self.database
    }

    /// SIGTERM to it and every process it started, then wait up to 10 s; true when it
    /// exited with status 0. Whatever is left of its process tree is then killed, so a
    /// `--server` launcher's workers never outlive the run.
    pub fn stop(&mut self) -> bool {
        let family = procfs::family(self.pid);
        let clean = match self.child.try_wait() {
            // It has already ended (a command that failed to start): nothing to signal.
            Ok(Some(status)) => status.success(),
            _ => {
                signal(&family, "-TERM");
                let deadline = Instant::now() + Duration::from_secs(10);
                loop {
                    match self.child.try_wait() {
                        Ok(Some(status)) => break status.success(),
                        Ok(None) if Instant::now() < deadline => {
                            std::thread::sleep(Duration::from_millis(20))
                        }
                        _ => {
                            let _ = self.child.kill();
                            let _ = self.child.wait();
                            break false;
                        }
                    }
                }
            }
        };
        // Descendants still alive (a shell's child that ignored the shell's end).
        signal(&family[1..], "-KILL");
        clean
    }
}

/// The last few hundred characters of a log, for a message.
fn tail(log: &str) -> &str {
    let log = log.trim();
    let mut start = log.len().saturating_sub(300);
    while !log.is_char_boundary(start) {
        start += 1;
    }
    &log[start..]
}

/// `kill <signal>` to each of `pids` that still runs.
fn signal(pids: &[u32], signal: &str) {
    let alive: Vec<String> = pids
        .iter()
        .filter(|p| std::path::Path::new(&format!("/proc/{p}")).exists())
        .map(ToString::to_string)
        .collect();
    if !alive.is_empty() {
        let _ = Command::new("kill")
            .arg(signal)
            .args(&alive)
            .stderr(Stdio::null())
            .status();
    }
}

impl Drop for BackendProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            signal(&procfs::family(self.pid), "-KILL");
            let _ = self.child.wait();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_split_into_words_as_a_shell_would() {
        let words = |line: &str| split_words(line).expect("a valid line");
        assert_eq!(
            words("python3  site.py --port {port}"),
            ["python3", "site.py", "--port", "{port}"]
        );
        assert_eq!(
            words(r#"sh -c 'exec node app.js {port}' "a b" c\ d "x\"y""#),
            ["sh", "-c", "exec node app.js {port}", "a b", "c d", "x\"y"]
        );
        assert_eq!(words(r#"a"b"'c'"#), ["abc"]);
        assert_eq!(words("''"), [""]);
        assert!(split_words("say 'unclosed").is_err());
        assert!(split_words("say \"unclosed").is_err());
        assert!(split_words("trailing \\").is_err());
    }

    #[test]
    fn a_command_must_use_the_port_bench_chooses() {
        assert!(Program::command("python3 -m http.server").is_err());
        assert!(Program::command("   ").is_err());
        assert_eq!(
            Program::command("python3 -m http.server {port}"),
            Ok(Program::Command(vec![
                "python3".into(),
                "-m".into(),
                "http.server".into(),
                "{port}".into()
            ]))
        );
    }
}
