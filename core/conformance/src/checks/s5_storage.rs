//! SITE.md section 5: storage, sessions, passwords. These run the real binary (default
//! argon2 cost) in a fresh working directory, and look at its database files from outside.

use std::time::{Duration, Instant};

use super::support::{
    cookie, creds, fresh_name, fresh_password, log_in_at, serving_new_database, sign_up_at,
    user_doc,
};
use crate::client::{Ctx, Endpoint, FORM, form};
use crate::fail::CheckResult;
use crate::process::{Proc, binary, database_bytes, dir_names, workdir};

/// The SITE.md section every check in this module belongs to.
pub(crate) const SECTION: &str = "5";

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

pub(crate) async fn database_created_in_working_directory(cx: &Ctx) -> CheckResult {
    let bin = binary(cx)?;
    let dir = workdir()?;
    let mut proc = Proc::spawn(&bin, dir.path(), &["--port", "0", "--quiet"], &[])?;
    let ep = proc.ready(cx).await?;
    let names = dir_names(dir.path());
    ensure!(
        names.iter().any(|n| n == "sitebench.db"),
        "without --database, sitebench.db must be created in the working directory; found {names:?}"
    );
    sign_up_at(cx, &ep, &fresh_name("cwd"), &fresh_password()).await?;
    Ok(())
}

pub(crate) async fn database_uses_wal(cx: &Ctx) -> CheckResult {
    let (dir, db, _proc, _ep) = serving_new_database(cx, "wal.db", "wal").await?;
    let header = std::fs::read(&db).unwrap_or_default();
    ensure!(
        header.len() >= 100 && header.starts_with(b"SQLite format 3\0"),
        "{} is not an SQLite database",
        db.display()
    );
    ensure!(
        header[18] == 2 && header[19] == 2,
        "{}: the header's read/write versions are {}/{}, WAL journal mode gives 2/2",
        db.display(),
        header[18],
        header[19]
    );
    let names = dir_names(dir.path());
    ensure!(
        names.iter().any(|n| n == "wal.db-wal"),
        "a WAL database in use has a -wal file; found {names:?}"
    );
    Ok(())
}

pub(crate) async fn database_memory_works(cx: &Ctx) -> CheckResult {
    let bin = binary(cx)?;
    let dir = workdir()?;
    let mut proc = Proc::spawn(
        &bin,
        dir.path(),
        &["--port", "0", "--quiet", "--database", ":memory:"],
        &[],
    )?;
    let ep = proc.ready(cx).await?;
    let (name, password) = (fresh_name("mem"), fresh_password());
    sign_up_at(cx, &ep, &name, &password).await?;
    cx.get_at(&ep, &format!("/users/{name}"))
        .await?
        .status(200)?;
    log_in_at(cx, &ep, &name, &password).await?;
    let names = dir_names(dir.path());
    ensure!(
        names.is_empty(),
        "--database :memory: must write no file; found {names:?}"
    );
    Ok(())
}

async fn start_on(cx: &Ctx, dir: &std::path::Path, db: &str) -> CheckResult<(Proc, Endpoint)> {
    let bin = binary(cx)?;
    let mut proc = Proc::spawn(
        &bin,
        dir,
        &["--port", "0", "--quiet", "--database", db],
        &[],
    )?;
    let ep = proc.ready(cx).await?;
    Ok((proc, ep))
}

pub(crate) async fn signup_survives_kill_9(cx: &Ctx) -> CheckResult {
    let dir = workdir()?;
    let db = dir.path().join("durable.db").to_string_lossy().into_owned();
    let (mut proc, ep) = start_on(cx, dir.path(), &db).await?;
    let (json_user, json_password) = (fresh_name("dj"), fresh_password());
    sign_up_at(cx, &ep, &json_user, &json_password).await?;
    let (form_user, form_password) = (fresh_name("df"), fresh_password());
    let resp = cx
        .send(cx.post(
            &ep,
            "/users",
            Some(FORM),
            form(&[("username", &form_user), ("password", &form_password)]),
        ))
        .await?;
    resp.status(303)?;
    proc.kill9()?;
    drop(proc);
    let (_proc, ep) = start_on(cx, dir.path(), &db).await?;
    for (user, password) in [(&json_user, &json_password), (&form_user, &form_password)] {
        let resp = cx.get_at(&ep, &format!("/users/{user}")).await?;
        resp.status(200)
            .map_err(|e| e.context("a sign-up acknowledged before kill -9 must survive"))?;
        user_doc(&resp)?;
        log_in_at(cx, &ep, user, password).await?;
    }
    Ok(())
}

pub(crate) async fn passwords_stored_as_argon2id_default_cost(cx: &Ctx) -> CheckResult {
    let dir = workdir()?;
    let db_path = dir.path().join("hash.db");
    let db = db_path.to_string_lossy().into_owned();
    let (mut proc, ep) = start_on(cx, dir.path(), &db).await?;
    let (name, password) = (fresh_name("hash"), format!("plain-{}", fresh_password()));
    sign_up_at(cx, &ep, &name, &password).await?;
    proc.kill9()?;
    let bytes = database_bytes(&db_path);
    ensure!(
        contains(&bytes, b"$argon2id$v=19$m=19456,t=2,p=1$"),
        "the database must hold an argon2id PHC string with the default cost `$argon2id$v=19$m=19456,t=2,p=1$`"
    );
    ensure!(
        !contains(&bytes, password.as_bytes()),
        "the database holds the password in clear text"
    );
    Ok(())
}

pub(crate) async fn session_token_not_stored_in_clear(cx: &Ctx) -> CheckResult {
    let dir = workdir()?;
    let db_path = dir.path().join("sessions.db");
    let db = db_path.to_string_lossy().into_owned();
    let (mut proc, ep) = start_on(cx, dir.path(), &db).await?;
    let (name, password) = (fresh_name("tok"), fresh_password());
    sign_up_at(cx, &ep, &name, &password).await?;
    let token = log_in_at(cx, &ep, &name, &password).await?;
    proc.kill9()?;
    let bytes = database_bytes(&db_path);
    ensure!(
        contains(&bytes, name.as_bytes()),
        "the database files do not hold the new user: cannot check the session store"
    );
    ensure!(
        !contains(&bytes, token.as_bytes()),
        "the database holds the session token in clear (only its SHA-256 may be stored)"
    );
    Ok(())
}

/// Sessions are server-side, in the database: one made before a restart still works after it
/// (whatever a server keeps in memory is gone), and a logout after the restart ends it.
pub(crate) async fn session_survives_restart(cx: &Ctx) -> CheckResult {
    let dir = workdir()?;
    let db = dir.path().join("restart.db").to_string_lossy().into_owned();
    let (mut proc, ep) = start_on(cx, dir.path(), &db).await?;
    let (name, password) = (fresh_name("rs"), fresh_password());
    sign_up_at(cx, &ep, &name, &password).await?;
    let token = log_in_at(cx, &ep, &name, &password).await?;
    proc.kill9()?;
    drop(proc);
    let (_proc, ep) = start_on(cx, dir.path(), &db).await?;
    let me = |ep: &Endpoint| {
        cx.req_at(ep, reqwest::Method::GET, "/me")
            .header("cookie", cookie(&token))
    };
    let resp = cx.send(me(&ep)).await?;
    resp.status(200)
        .map_err(|e| e.context("a session made before a restart must work after it"))?;
    let resp = cx
        .send(
            cx.post(&ep, "/logout", None, String::new())
                .header("cookie", cookie(&token)),
        )
        .await?;
    resp.status(204)?;
    let resp = cx.send(me(&ep)).await?;
    resp.status(401)
        .map_err(|e| e.context("after logout the session must be gone"))?;
    Ok(())
}

pub(crate) async fn overlong_password_rejected_before_hashing(cx: &Ctx) -> CheckResult {
    let dir = workdir()?;
    let (_proc, ep) = start_on(cx, dir.path(), "long.db").await?;
    let (name, password) = (fresh_name("long"), fresh_password());
    sign_up_at(cx, &ep, &name, &password).await?;
    let mut hashed = Duration::MAX;
    let mut overlong = Duration::MAX;
    for i in 0..3 {
        let started = Instant::now();
        let resp = cx
            .send(cx.post(
                &ep,
                "/login",
                Some("application/json"),
                creds(&name, &format!("wrong-{i}")).to_string(),
            ))
            .await?;
        hashed = hashed.min(started.elapsed());
        resp.status(401)?;
        let started = Instant::now();
        let resp = cx
            .send(cx.post(
                &ep,
                "/users",
                Some("application/json"),
                creds(&fresh_name("long"), &"p".repeat(16_000)).to_string(),
            ))
            .await?;
        overlong = overlong.min(started.elapsed());
        resp.status(422)?;
    }
    if hashed < Duration::from_millis(5) {
        skip!(
            "verifying a password took only {hashed:?}: too fast to tell whether an over-long one is hashed"
        );
    }
    ensure!(
        overlong * 2 < hashed,
        "a 16000-character password must be rejected before hashing: it took {overlong:?}, a password verification takes {hashed:?}"
    );
    Ok(())
}

pub(crate) async fn admins_from_repeated_flag(cx: &Ctx) -> CheckResult {
    let bin = binary(cx)?;
    let dir = workdir()?;
    let (first, second, plain) = (fresh_name("boss"), fresh_name("chief"), fresh_name("staff"));
    let mut proc = Proc::spawn(
        &bin,
        dir.path(),
        &[
            "--port",
            "0",
            "--quiet",
            "--database",
            "a.db",
            "--admin",
            &first,
            "--admin",
            &second,
        ],
        &[],
    )?;
    let ep = proc.ready(cx).await?;
    for (name, admin) in [(&first, true), (&second, true), (&plain, false)] {
        let resp = sign_up_at(cx, &ep, name, &fresh_password()).await?;
        let (_, _, is_admin) = user_doc(&resp)?;
        ensure_eq!(
            is_admin,
            admin,
            "{name}: admin flag with --admin {first} --admin {second}"
        );
    }
    Ok(())
}
