//! SITE.md section 6: the command line, run as a child process in a fresh working directory.

use std::time::Duration;

use super::support::{
    cookie, creds, fresh_name, fresh_password, log_in_at, session_token, sign_up_at, user_doc,
};
use crate::client::{Ctx, Endpoint, RawConn, post_request};
use crate::expect::unix_now;
use crate::fail::{CheckResult, Failure};
use crate::fixture::write_static_fixture;
use crate::process::{Proc, SIGINT, SIGTERM, binary, dir_names, parse_startup_line, workdir};

/// The SITE.md section every check in this module belongs to.
pub(crate) const SECTION: &str = "6";

/// Starts the binary with `--port 0` plus `args` in a fresh directory.
async fn start(
    cx: &Ctx,
    args: &[&str],
    envs: &[(&str, &str)],
) -> CheckResult<(tempfile::TempDir, Proc, Endpoint)> {
    let bin = binary(cx)?;
    let dir = workdir()?;
    let mut all = vec!["--port", "0"];
    all.extend_from_slice(args);
    let mut proc = Proc::spawn(&bin, dir.path(), &all, envs)?;
    let ep = proc.ready(cx).await?;
    Ok((dir, proc, ep))
}

/// SIGTERM, then exit status 0 within 6 s.
async fn stop(proc: &mut Proc) -> CheckResult {
    proc.signal(SIGTERM)?;
    match proc.wait_exit(Duration::from_secs(6)).await {
        Some(status) if status.success() => Ok(()),
        Some(status) => fail!(
            "`{}`: after SIGTERM expected exit status 0, got {status}; stderr {:?}",
            proc.command,
            proc.stderr()
        ),
        None => fail!("`{}`: still running 6 s after SIGTERM", proc.command),
    }
}

pub(crate) async fn cli_prints_startup_line(cx: &Ctx) -> CheckResult {
    let (_dir, mut proc, ep) = start(cx, &["--database", "s.db"], &[]).await?;
    ensure!(
        ep.authority.starts_with("127.0.0.1:"),
        "the default bind address is 127.0.0.1, the line says {}",
        ep.base
    );
    cx.get_at(&ep, "/healthz").await?.status(200)?;
    stop(&mut proc).await?;
    let out = proc.stdout();
    ensure!(out.len() == 1, "exactly one line on stdout, got {out:?}");
    parse_startup_line(cx, &out[0])?;
    Ok(())
}

pub(crate) async fn cli_bind_flag(cx: &Ctx) -> CheckResult {
    let (_dir, _proc, ep) = start(cx, &["--bind", "127.0.0.2", "--database", "b.db"], &[]).await?;
    ensure!(
        ep.authority.starts_with("127.0.0.2:"),
        "with --bind 127.0.0.2 the line must say http://127.0.0.2:PORT, got {}",
        ep.base
    );
    cx.get_at(&ep, "/healthz").await?.status(200)?;
    let (_dir, _proc, ep) = start(
        cx,
        &["--database", "b.db"],
        &[("SITEBENCH_BIND", "127.0.0.3")],
    )
    .await?;
    ensure!(
        ep.authority.starts_with("127.0.0.3:"),
        "with SITEBENCH_BIND=127.0.0.3 the line must say http://127.0.0.3:PORT, got {}",
        ep.base
    );
    Ok(())
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Parses `127.0.0.1 - - [23/Nov/2026:20:45:13 +0000] "GET / HTTP/1.1" 200 1234`:
/// (timestamp as UTC seconds, request line, status, bytes).
fn parse_clf(line: &str) -> Result<(i64, String, u16, String), String> {
    let rest = line
        .strip_prefix("127.0.0.1 - - [")
        .ok_or("must start with `127.0.0.1 - - [`")?;
    let (stamp, rest) = rest
        .split_once("] \"")
        .ok_or("expected `[date] \"request\"`")?;
    let (request, rest) = rest
        .rsplit_once("\" ")
        .ok_or("expected `\"request\" status bytes`")?;
    let (status, bytes) = rest.split_once(' ').ok_or("expected `status bytes`")?;
    let b = stamp.as_bytes();
    if b.len() != 26
        || b[2] != b'/'
        || b[6] != b'/'
        || b[11] != b':'
        || b[14] != b':'
        || b[17] != b':'
        || b[20] != b' '
    {
        return Err(format!(
            "the date [{stamp}] is not dd/Mon/yyyy:HH:MM:SS +zzzz"
        ));
    }
    if !stamp.is_ascii() {
        return Err(format!("the date [{stamp}] is not ASCII"));
    }
    let num = |r: std::ops::Range<usize>| -> Result<i64, String> {
        let part = stamp.get(r).unwrap_or("");
        if !part.is_empty() && part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().map_err(|_| format!("bad number {part}"))
        } else {
            Err(format!("bad number {part:?}"))
        }
    };
    let month_name = stamp.get(3..6).unwrap_or("");
    let month = MONTHS
        .iter()
        .position(|m| *m == month_name)
        .ok_or(format!("bad month in [{stamp}]"))? as i64
        + 1;
    let (day, year, hour, minute, second) = (
        num(0..2)?,
        num(7..11)?,
        num(12..14)?,
        num(15..17)?,
        num(18..20)?,
    );
    let sign = match b[21] {
        b'+' => 1,
        b'-' => -1,
        _ => return Err(format!("bad zone in [{stamp}]")),
    };
    let offset = sign * (num(22..24)? * 3600 + num(24..26)? * 60);
    let iso = format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z");
    let local = crate::expect::rfc3339_utc(&iso).ok_or(format!("bad date in [{stamp}]"))?;
    let status: u16 = status
        .parse()
        .map_err(|_| format!("bad status {status:?}"))?;
    if !(bytes == "-" || bytes.bytes().all(|c| c.is_ascii_digit()) && !bytes.is_empty()) {
        return Err(format!("bad byte count {bytes:?}"));
    }
    Ok((local - offset, request.to_owned(), status, bytes.to_owned()))
}

pub(crate) async fn cli_access_log_is_clf(cx: &Ctx) -> CheckResult {
    let (_dir, proc, ep) = start(cx, &["--database", "log.db"], &[]).await?;
    let hello = cx.get_at(&ep, "/hello?name=Ada").await?;
    let missing = cx.get_at(&ep, "/nothing-here").await?;
    let healthz = cx.get_at(&ep, "/healthz").await?;
    let expected = [
        ("GET /hello?name=Ada HTTP/1.1", 200, hello.body.len()),
        ("GET /nothing-here HTTP/1.1", 404, missing.body.len()),
        ("GET /healthz HTTP/1.1", 200, healthz.body.len()),
    ];
    for (request, status, bytes) in expected {
        let quoted = format!("\"{request}\"");
        let Some(line) = proc
            .wait_stderr(Duration::from_secs(5), |l| l.contains(&quoted))
            .await
        else {
            fail!(
                "no access-log line for {request:?} on stderr; stderr was {:?}",
                proc.stderr()
            );
        };
        let (at, got_request, got_status, got_bytes) = parse_clf(&line)
            .map_err(|e| Failure::fail(format!("access-log line {line:?}: {e}")))?;
        ensure_eq!(got_request, request, "access-log line {line:?}: request");
        ensure_eq!(got_status, status, "access-log line {line:?}: status");
        ensure_eq!(
            got_bytes,
            bytes.to_string(),
            "access-log line {line:?}: bytes (the body's length)"
        );
        ensure!(
            (at - unix_now()).abs() <= 120,
            "access-log line {line:?}: the time is not now"
        );
    }
    let stray: Vec<String> = proc
        .stderr()
        .into_iter()
        .filter(|l| parse_clf(l).is_err())
        .collect();
    ensure!(
        stray.is_empty(),
        "stderr must hold only access-log lines while serving, got {stray:?}"
    );
    Ok(())
}

/// Requests then checks that stderr stayed empty.
async fn expect_silent(cx: &Ctx, proc: &Proc, ep: &Endpoint) -> CheckResult {
    cx.get_at(ep, "/healthz").await?;
    cx.get_at(ep, "/nothing-here").await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let err = proc.stderr();
    ensure!(
        err.is_empty(),
        "`{}` must write no access log, stderr has {err:?}",
        proc.command
    );
    Ok(())
}

async fn expect_logging(cx: &Ctx, proc: &Proc, ep: &Endpoint) -> CheckResult {
    cx.get_at(ep, "/healthz").await?;
    let line = proc
        .wait_stderr(Duration::from_secs(5), |l| {
            l.contains("\"GET /healthz HTTP/1.1\"")
        })
        .await;
    ensure!(
        line.is_some(),
        "`{}` must write an access-log line, stderr has {:?}",
        proc.command,
        proc.stderr()
    );
    Ok(())
}

pub(crate) async fn cli_quiet_silences_log(cx: &Ctx) -> CheckResult {
    let (_dir, proc, ep) = start(cx, &["--quiet", "--database", "q.db"], &[]).await?;
    expect_silent(cx, &proc, &ep).await
}

/// A switch in the environment is `1`/`true`/`0`/`false`.
pub(crate) async fn cli_env_switches(cx: &Ctx) -> CheckResult {
    for value in ["1", "true"] {
        let (_dir, proc, ep) =
            start(cx, &["--database", "q.db"], &[("SITEBENCH_QUIET", value)]).await?;
        expect_silent(cx, &proc, &ep).await?;
    }
    for value in ["0", "false"] {
        let (_dir, proc, ep) =
            start(cx, &["--database", "q.db"], &[("SITEBENCH_QUIET", value)]).await?;
        expect_logging(cx, &proc, &ep).await?;
    }
    Ok(())
}

pub(crate) async fn cli_env_port(cx: &Ctx) -> CheckResult {
    let bin = binary(cx)?;
    let dir = workdir()?;
    let mut proc = Proc::spawn(
        &bin,
        dir.path(),
        &["--database", "p.db", "--quiet"],
        &[("SITEBENCH_PORT", "0")],
    )?;
    let ep = proc.ready(cx).await?;
    ensure!(
        ep.port() != "8080",
        "SITEBENCH_PORT=0 must pick a free port, the server says {}",
        ep.base
    );
    cx.get_at(&ep, "/healthz").await?.status(200)?;
    Ok(())
}

pub(crate) async fn cli_flag_beats_env(cx: &Ctx) -> CheckResult {
    let (cli_admin, env_admin) = (fresh_name("cliboss"), fresh_name("envboss"));
    let (dir, _proc, ep) = start(
        cx,
        &["--admin", &cli_admin, "--database", "cli.db", "--quiet"],
        &[
            ("SITEBENCH_PORT", "1"),
            ("SITEBENCH_ADMIN", &env_admin),
            ("SITEBENCH_DATABASE", "env.db"),
        ],
    )
    .await?;
    ensure!(ep.port() != "1", "--port 0 must win over SITEBENCH_PORT=1");
    let names = dir_names(dir.path());
    ensure!(
        names.iter().any(|n| n == "cli.db") && !names.iter().any(|n| n.starts_with("env.db")),
        "--database cli.db must win over SITEBENCH_DATABASE=env.db; files: {names:?}"
    );
    let (_, _, admin) = user_doc(&sign_up_at(cx, &ep, &cli_admin, &fresh_password()).await?)?;
    ensure!(admin, "--admin {cli_admin} must make that user an admin");
    let (_, _, admin) = user_doc(&sign_up_at(cx, &ep, &env_admin, &fresh_password()).await?)?;
    ensure!(
        !admin,
        "with --admin given, SITEBENCH_ADMIN={env_admin} must be ignored"
    );
    Ok(())
}

pub(crate) async fn cli_env_admin_list(cx: &Ctx) -> CheckResult {
    let (a, b) = (fresh_name("enva"), fresh_name("envb"));
    let list = format!("{a},{b}");
    let (_dir, _proc, ep) = start(
        cx,
        &["--database", "e.db", "--quiet"],
        &[("SITEBENCH_ADMIN", &list)],
    )
    .await?;
    for name in [&a, &b] {
        let (_, _, admin) = user_doc(&sign_up_at(cx, &ep, name, &fresh_password()).await?)?;
        ensure!(admin, "SITEBENCH_ADMIN={list} must make {name} an admin");
    }
    Ok(())
}

pub(crate) async fn cli_admin_ignores_case(cx: &Ctx) -> CheckResult {
    let name = fresh_name("boss");
    let upper = name.to_ascii_uppercase();
    let (_dir, _proc, ep) = start(
        cx,
        &["--database", "c.db", "--quiet", "--admin", &upper],
        &[],
    )
    .await?;
    let password = fresh_password();
    let (_, _, admin) = user_doc(&sign_up_at(cx, &ep, &name, &password).await?)?;
    ensure!(
        admin,
        "--admin {upper} must make {name} an admin (names match ignoring case)"
    );
    let token = log_in_at(cx, &ep, &name, &password).await?;
    let resp = cx
        .send(
            cx.req_at(&ep, http::Method::GET, "/admin")
                .header("cookie", cookie(&token)),
        )
        .await?;
    resp.status(200)?;
    Ok(())
}

pub(crate) async fn cli_secure_cookies(cx: &Ctx) -> CheckResult {
    for (flag, env) in [
        (Some("--secure-cookies"), None),
        (None, Some(("SITEBENCH_SECURE_COOKIES", "true"))),
    ] {
        let mut all = vec!["--database", "sc.db", "--quiet"];
        all.extend(flag);
        let envs: Vec<(&str, &str)> = env.into_iter().collect();
        let (_dir, _proc, ep) = start(cx, &all, &envs).await?;
        let (name, password) = (fresh_name("sec"), fresh_password());
        sign_up_at(cx, &ep, &name, &password).await?;
        let resp = cx
            .send(cx.post(
                &ep,
                "/login",
                Some("application/json"),
                creds(&name, &password).to_string(),
            ))
            .await?;
        resp.status(200)?;
        session_token(&resp, true)?;
    }
    Ok(())
}

pub(crate) async fn cli_static_dir_flag(cx: &Ctx) -> CheckResult {
    let fixture = workdir()?;
    let root = fixture.path().join("root");
    write_static_fixture(&root, &fixture.path().join("outside"))
        .map_err(|e| Failure::fail(format!("cannot write the fixture: {e}")))?;
    let root_arg = root.to_string_lossy().into_owned();
    let (_dir, _proc, ep) = start(
        cx,
        &["--static-dir", &root_arg, "--database", "sd.db", "--quiet"],
        &[],
    )
    .await?;
    cx.get_at(&ep, "/f.txt")
        .await?
        .status(200)?
        .body_is(b"fixture text file\n")?;
    cx.get_at(&ep, "/style.css").await?.status(404)?;
    let (_dir, _proc, ep) = start(
        cx,
        &["--database", "sd.db", "--quiet"],
        &[("SITEBENCH_STATIC_DIR", &root_arg)],
    )
    .await?;
    cx.get_at(&ep, "/f.txt")
        .await?
        .status(200)?
        .body_is(b"fixture text file\n")?;
    Ok(())
}

pub(crate) async fn cli_workers_flag(cx: &Ctx) -> CheckResult {
    let (_dir, _proc, ep) = start(
        cx,
        &["--workers", "1", "--database", "w.db", "--quiet"],
        &[],
    )
    .await?;
    cx.get_at(&ep, "/healthz").await?.status(200)?;
    let (_dir, _proc, ep) = start(
        cx,
        &["--database", "w.db", "--quiet"],
        &[("SITEBENCH_WORKERS", "1")],
    )
    .await?;
    cx.get_at(&ep, "/healthz").await?.status(200)?;
    Ok(())
}

pub(crate) async fn cli_sigterm_finishes_in_flight_request(cx: &Ctx) -> CheckResult {
    let (_dir, mut proc, ep) = start(cx, &["--database", "t.db", "--quiet"], &[]).await?;
    let name = fresh_name("inflight");
    let body = creds(&name, &fresh_password()).to_string().into_bytes();
    let request = post_request(&ep, "/users", "application/json", &body);
    let split = request.len() - body.len() / 2;
    let mut conn = RawConn::open(&ep).await?;
    conn.send(&request[..split]).await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    proc.signal(SIGTERM)?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    conn.send(&request[split..]).await.map_err(|e| {
        e.context("after SIGTERM the in-flight request's connection must stay open")
    })?;
    let resp = conn
        .read_reply(false)
        .await?
        .response()
        .map_err(|e| e.context("the in-flight sign-up after SIGTERM"))?;
    cx.conventions(&resp)?;
    resp.status(201)?;
    match proc.wait_exit(Duration::from_secs(6)).await {
        Some(status) => ensure!(
            status.success(),
            "after SIGTERM expected exit status 0, got {status}; stderr {:?}",
            proc.stderr()
        ),
        None => fail!("still running 6 s after SIGTERM"),
    }
    Ok(())
}

pub(crate) async fn cli_sigterm_closes_idle_connections(cx: &Ctx) -> CheckResult {
    let (_dir, mut proc, ep) = start(cx, &["--database", "i.db", "--quiet"], &[]).await?;
    let mut conn = RawConn::open(&ep).await?;
    conn.send(format!("GET /healthz HTTP/1.1\r\nHost: {}\r\n\r\n", ep.authority).as_bytes())
        .await?;
    conn.read_reply(false).await?.response()?.status(200)?;
    stop(&mut proc)
        .await
        .map_err(|e| e.context("with an idle keep-alive connection open"))?;
    Ok(())
}

pub(crate) async fn cli_sigint_exits_zero(cx: &Ctx) -> CheckResult {
    // The signal goes the moment the start-up line is read, with no request first: a backend
    // that installs its handlers later than it prints the line dies of it (actix did, in CI).
    let (_dir, mut proc, _ep) = start(cx, &["--database", "n.db", "--quiet"], &[]).await?;
    proc.signal(SIGINT)?;
    match proc.wait_exit(Duration::from_secs(6)).await {
        Some(status) => ensure!(
            status.success(),
            "after SIGINT expected exit status 0, got {status}"
        ),
        None => fail!("still running 6 s after SIGINT"),
    }
    Ok(())
}

/// Runs the binary expecting a start-up failure with nothing written to `cwd`; the error line.
async fn start_fails(cx: &Ctx, args: &[&str], envs: &[(&str, &str)]) -> CheckResult<String> {
    let bin = binary(cx)?;
    let dir = workdir()?;
    let mut proc = Proc::spawn(&bin, dir.path(), args, envs)?;
    let line = proc.expect_start_failure().await?;
    let names = dir_names(dir.path());
    ensure!(
        names.is_empty(),
        "`{}` failed but wrote {names:?} to its working directory",
        proc.command
    );
    Ok(line)
}

fn names_problem(line: &str, words: &[&str]) -> CheckResult {
    let lower = line.to_ascii_lowercase();
    ensure!(
        words.iter().any(|w| lower.contains(w)),
        "the error line {line:?} should name the problem (one of {words:?})"
    );
    Ok(())
}

pub(crate) async fn cli_rejects_bad_flag_value(cx: &Ctx) -> CheckResult {
    let cases: [(&[&str], &[&str]); 5] = [
        (&["--port", "abc"], &["port"]),
        (&["--port", "70000"], &["port"]),
        (&["--workers", "abc"], &["workers"]),
        (&["--bind", "not-an-address"], &["bind"]),
        (&["--port"], &["port"]),
    ];
    for (args, words) in cases {
        let line = start_fails(cx, args, &[]).await?;
        names_problem(&line, words)?;
    }
    Ok(())
}

pub(crate) async fn cli_rejects_unknown_flag(cx: &Ctx) -> CheckResult {
    start_fails(cx, &["--port", "0", "--no-such-flag"], &[]).await?;
    start_fails(cx, &["--port", "0", "stray-argument"], &[]).await?;
    Ok(())
}

pub(crate) async fn cli_rejects_missing_static_dir(cx: &Ctx) -> CheckResult {
    let line = start_fails(
        cx,
        &[
            "--port",
            "0",
            "--database",
            "x.db",
            "--static-dir",
            "/nonexistent/sitebench-static",
        ],
        &[],
    )
    .await?;
    names_problem(&line, &["static", "/nonexistent/sitebench-static"])
}

pub(crate) async fn cli_rejects_unusable_database(cx: &Ctx) -> CheckResult {
    let line = start_fails(
        cx,
        &[
            "--port",
            "0",
            "--database",
            "/nonexistent-sitebench-dir/sub/x.db",
        ],
        &[],
    )
    .await?;
    names_problem(
        &line,
        &["database", "nonexistent-sitebench-dir", "sqlite", "db"],
    )?;
    let line = start_fails(cx, &["--port", "0", "--database", "/"], &[]).await?;
    names_problem(&line, &["database", "sqlite", "db", "/"])
}

pub(crate) async fn cli_rejects_port_in_use(cx: &Ctx) -> CheckResult {
    let taken = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| Failure::fail(format!("cannot bind a port: {e}")))?;
    let port = taken
        .local_addr()
        .map_err(|e| Failure::fail(format!("{e}")))?
        .port()
        .to_string();
    let line = start_fails(cx, &["--bind", "127.0.0.1", "--port", &port], &[]).await?;
    names_problem(&line, &[&port, "in use", "address"])?;
    drop(taken);
    Ok(())
}

pub(crate) async fn cli_rejects_bad_env_value(cx: &Ctx) -> CheckResult {
    start_fails(cx, &[], &[("SITEBENCH_PORT", "abc")]).await?;
    start_fails(cx, &["--port", "0"], &[("SITEBENCH_QUIET", "maybe")]).await?;
    start_fails(cx, &["--port", "0"], &[("SITEBENCH_WORKERS", "many")]).await?;
    Ok(())
}
