//! Starting and stopping a backend, the same way for all of them: `main` parses the shared
//! command line, binds the port, opens the site, prints the start-up line and hands over to
//! the backend's `serve`; `spawn` does the same in-process on port 0 for tests and benchmarks.
//! Shutdown (Ctrl-C, SIGTERM, or a test's stop) is one future every `serve` awaits, and the
//! tokio runtime most backends serve on is built once here (`block_on_tokio`).

use std::future::Future;
use std::io::Write as _;
use std::net::{SocketAddr, TcpListener};
use std::pin::Pin;
use std::process::ExitCode;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::cli::{self, Config};
use crate::deviations::Deviation;
use crate::site::Site;

/// How long in-flight requests may take to finish once shutdown starts.
pub const GRACE: Duration = Duration::from_secs(5);
/// How long a client may take to send a complete request header.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// A backend: serves `site` on `listener` (already bound, non-blocking) until `shutdown`
/// resolves, then drains for at most `GRACE`. It builds its framework's runtime with
/// `site.workers()` threads (most with [`block_on_tokio`]), calls `ready` once it accepts
/// connections, and blocks until done.
pub type ServeFn = fn(TcpListener, Site, Shutdown, Ready) -> std::io::Result<()>;

/// A backend as the code that runs it sees it. Each `backend-<name>` crate exports one as
/// `BACKEND`, which its binary and its conformance tests read, so its name and deviations are
/// written once.
#[derive(Debug, Clone, Copy)]
pub struct Backend {
    /// `axum`: the crate is `backend-axum`, the header `Server: sitebench-axum`.
    pub name: &'static str,
    pub serve: ServeFn,
    /// The lines of SITE.md this framework makes impossible, each with its source in the
    /// backend's `DEVIATIONS` comment.
    pub deviations: &'static [Deviation],
}

/// Told by a backend once it accepts connections, with the address it listens on. The
/// start-up line is printed then (and `spawn` returns then), so a client that reads it can
/// always connect, even on a framework that binds its own socket.
pub struct Ready(Box<dyn FnOnce(SocketAddr) + Send>);

impl Ready {
    pub fn new(on_ready: impl FnOnce(SocketAddr) + Send + 'static) -> Self {
        Self(Box::new(on_ready))
    }

    pub fn listening(self, addr: SocketAddr) {
        (self.0)(addr);
    }
}

/// Resolves when the server should stop accepting connections.
pub struct Shutdown(Pin<Box<dyn Future<Output = ()> + Send>>);

impl Shutdown {
    /// Ctrl-C (SIGINT) or SIGTERM. The handlers are installed before this returns, on a
    /// thread of their own, so a signal sent the moment the start-up line is read stops the
    /// server gracefully. Installed lazily, on the server's first poll of this future, they
    /// came after the start-up line on actix, and SIGTERM killed it (CI, December 2026).
    pub fn on_signal() -> std::io::Result<Self> {
        let (installed, on_installed) = std::sync::mpsc::channel();
        let (trigger, on_trigger) = tokio::sync::oneshot::channel();
        std::thread::Builder::new()
            .name("signals".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_io()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(e) => return drop(installed.send(Err(e))),
                };
                runtime.block_on(async move {
                    match stop_signals() {
                        Ok(signalled) => {
                            let _ = installed.send(Ok(()));
                            signalled.await;
                            let _ = trigger.send(());
                        }
                        Err(e) => drop(installed.send(Err(e))),
                    }
                });
            })?;
        on_installed
            .recv()
            .map_err(|_| std::io::Error::other("the signal thread ended early"))??;
        Ok(Self::on_trigger(on_trigger))
    }

    /// Resolves when `trigger` fires or is dropped.
    pub fn on_trigger(trigger: tokio::sync::oneshot::Receiver<()>) -> Self {
        Self(Box::pin(async move {
            let _ = trigger.await;
        }))
    }
}

impl Future for Shutdown {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.0.as_mut().poll(cx)
    }
}

/// Registers SIGINT and SIGTERM now (inside a tokio runtime) and returns the future that
/// resolves on the first of them. `tokio::signal::ctrl_c` would register only when polled.
#[cfg(unix)]
fn stop_signals() -> std::io::Result<impl Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    })
}

#[cfg(not(unix))]
fn stop_signals() -> std::io::Result<impl Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}

/// Runs a backend's server future to the end on a multi-threaded tokio runtime with `workers`
/// worker threads (`--workers`), then gives the tasks still running (connections past their
/// grace) at most `GRACE` before dropping them. Every backend but actix, which brings its own
/// runtime, serves this way; only the runtime is built here, so what each framework does is
/// still to be read in its adapter's `run`.
pub fn block_on_tokio(
    workers: usize,
    server: impl Future<Output = std::io::Result<()>>,
) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()?;
    let result = runtime.block_on(server);
    runtime.shutdown_timeout(GRACE);
    result
}

/// Binds the listening socket; `Err` is the one line to print (port in use, bad address).
pub fn bind(addr: SocketAddr) -> Result<TcpListener, String> {
    let listener =
        TcpListener::bind(addr).map_err(|e| format!("error: cannot listen on {addr}: {e}"))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| format!("error: cannot listen on {addr}: {e}"))?;
    Ok(listener)
}

/// The whole life of a backend binary. Start-up failures print one line and exit 2, before
/// anything is written: flags are checked first, the port is bound before the database is
/// created.
pub fn main(backend: &'static Backend) -> ExitCode {
    let Backend { name, serve, .. } = *backend;
    log_panics_on_one_line();
    let config = match Config::from_command_line() {
        Ok(config) => config,
        Err(exit) => return exit,
    };
    let listener = match bind(SocketAddr::new(config.bind, config.port)) {
        Ok(listener) => listener,
        Err(message) => return cli::fail(&message),
    };
    let shutdown = match Shutdown::on_signal() {
        Ok(shutdown) => shutdown,
        Err(e) => return cli::fail(&format!("error: cannot handle signals: {e}")),
    };
    let site = match Site::open(config, name) {
        Ok(site) => site,
        Err(message) => return cli::fail(&format!("error: {message}")),
    };
    let announce = Ready::new(move |addr| {
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "sitebench-{name} listening on http://{addr}");
        let _ = stdout.flush();
    });
    match serve(listener, site, shutdown, announce) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: sitebench-{name}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// A backend serving in-process on its own thread, for tests and benchmarks.
pub struct Spawned {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<std::io::Result<()>>>,
}

impl Spawned {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Triggers shutdown and waits for the backend to drain and return.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// How long `spawn` waits for a backend to say it is ready.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// Serves `site` with `serve` on 127.0.0.1 and a free port, on a new thread; returns once
/// the backend accepts connections.
pub fn spawn(serve: ServeFn, site: Site) -> std::io::Result<Spawned> {
    let listener = bind(SocketAddr::from(([127, 0, 0, 1], 0))).map_err(std::io::Error::other)?;
    let (stop, trigger) = tokio::sync::oneshot::channel();
    let (ready, listening) = std::sync::mpsc::channel();
    let thread = std::thread::Builder::new()
        .name("site-server".into())
        .spawn(move || {
            let ready = Ready::new(move |addr| {
                let _ = ready.send(addr);
            });
            serve(listener, site, Shutdown::on_trigger(trigger), ready)
        })?;
    let mut spawned = Spawned {
        addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        stop: Some(stop),
        thread: Some(thread),
    };
    match listening.recv_timeout(READY_TIMEOUT) {
        Ok(addr) => {
            spawned.addr = addr;
            Ok(spawned)
        }
        Err(_) => {
            let failure = spawned.thread.take().map(std::thread::JoinHandle::join);
            Err(std::io::Error::other(match failure {
                Some(Ok(Err(e))) => format!("the backend failed to start: {e}"),
                _ => "the backend never said it was ready".to_owned(),
            }))
        }
    }
}

/// A panic in a handler becomes a 500 (the adapters catch it) and must leave one line on
/// stderr naming it (SITE.md 1), even under `--quiet`; Rust's own hook writes two or more
/// (the location, the message, a note on backtraces).
fn log_panics_on_one_line() {
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(no message)".to_owned());
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let message = message.split_whitespace().collect::<Vec<_>>().join(" ");
        eprintln!("sitebench: 500 Internal Server Error: panic{at}: {message}");
    }));
}
