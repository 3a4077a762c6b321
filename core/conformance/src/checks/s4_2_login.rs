//! SITE.md section 4.2: `POST /login`.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::support::{
    creds, fresh_name, fresh_password, get_with_session, log_in, new_user, padded_json,
    post_in_background, session_token, sign_up_at, throttled,
};
use crate::client::{Ctx, Endpoint, FORM, Resp, form};
use crate::fail::CheckResult;
use crate::process::{Proc, binary, workdir};

/// The SITE.md section every check in this module belongs to.
pub(crate) const SECTION: &str = "4.2";

async fn login_json(cx: &Ctx, username: &str, password: &str) -> CheckResult<Resp> {
    cx.post_json("/login", &creds(username, password)).await
}

pub(crate) async fn login_json_200(cx: &Ctx) -> CheckResult {
    let (name, password) = new_user(cx, "lj").await?;
    let resp = login_json(cx, &name, &password).await?;
    resp.status(200)?.header_is("cache-control", "no-store")?;
    session_token(&resp, false)?;
    resp.account(&name, false)
}

pub(crate) async fn login_form_303(cx: &Ctx) -> CheckResult {
    let (name, password) = new_user(cx, "lf").await?;
    let resp = cx
        .post_form("/login", &[("username", &name), ("password", &password)])
        .await?;
    resp.status(303)?
        .header_is("location", "/me")?
        .header_is("cache-control", "no-store")?;
    let token = session_token(&resp, false)?;
    get_with_session(cx, "/me", &token, None)
        .await?
        .status(200)?;
    Ok(())
}

pub(crate) async fn login_session_works(cx: &Ctx) -> CheckResult {
    let (name, password) = new_user(cx, "ls").await?;
    let token = log_in(cx, &name, &password).await?;
    let resp = get_with_session(cx, "/me", &token, None).await?;
    resp.status(200)?;
    let values = resp.json_doc(&["username", "admin"])?;
    ensure_eq!(
        values[0],
        Value::from(name.as_str()),
        "{}: the session's user",
        resp.what
    );
    Ok(())
}

pub(crate) async fn login_token_new_each_time(cx: &Ctx) -> CheckResult {
    let (name, password) = new_user(cx, "lt").await?;
    let mut tokens = Vec::new();
    for _ in 0..3 {
        tokens.push(log_in(cx, &name, &password).await?);
    }
    for (i, a) in tokens.iter().enumerate() {
        for b in &tokens[i + 1..] {
            ensure!(
                a != b,
                "every login must issue a new token; got {a:?} twice"
            );
        }
    }
    let newest = tokens.last().cloned().unwrap_or_default();
    get_with_session(cx, "/me", &newest, None)
        .await?
        .status(200)?;
    Ok(())
}

fn rejected(resp: &Resp) -> CheckResult {
    resp.problem(401, Some("Unauthorized"))?;
    resp.header_is("www-authenticate", "Cookie realm=\"sitebench\"")?;
    resp.no_header("set-cookie")?;
    Ok(())
}

pub(crate) async fn login_wrong_password_401(cx: &Ctx) -> CheckResult {
    let (name, password) = new_user(cx, "lw").await?;
    rejected(&login_json(cx, &name, &format!("{password}x")).await?)?;
    rejected(
        &cx.post_form(
            "/login",
            &[("username", &name), ("password", "wrong password")],
        )
        .await?,
    )?;
    Ok(())
}

pub(crate) async fn login_unknown_user_401(cx: &Ctx) -> CheckResult {
    rejected(&login_json(cx, &fresh_name("ghost"), &fresh_password()).await?)
}

pub(crate) async fn login_invalid_username_401(cx: &Ctx) -> CheckResult {
    for name in ["a", "bad name", "_under", &"x".repeat(33)] {
        rejected(&login_json(cx, name, &fresh_password()).await?)?;
    }
    Ok(())
}

pub(crate) async fn login_failures_identical(cx: &Ctx) -> CheckResult {
    let (name, password) = new_user(cx, "li").await?;
    let responses = [
        login_json(cx, &name, &format!("{password}x")).await?,
        login_json(cx, &fresh_name("ghost"), &password).await?,
        login_json(cx, "a", &password).await?,
        login_json(cx, &fresh_name("ghost"), &"p".repeat(129)).await?,
    ];
    let first = &responses[0];
    rejected(first)?;
    for other in &responses[1..] {
        rejected(other)?;
        ensure!(
            other.body == first.body,
            "wrong password, unknown user and invalid username must give the same 401 body: {:?} vs {:?}",
            String::from_utf8_lossy(&first.body),
            String::from_utf8_lossy(&other.body)
        );
    }
    Ok(())
}

/// The 4.1 body rules apply to `/login`: 415, 413, 400.
pub(crate) async fn login_body_rules(cx: &Ctx) -> CheckResult {
    let (name, password) = new_user(cx, "lb").await?;
    let body = creds(&name, &password).to_string();
    for content_type in [
        Some("text/plain"),
        None,
        Some("application/json; charset=latin1"),
    ] {
        let resp = cx
            .send(cx.post(&cx.main, "/login", content_type, body.clone()))
            .await?;
        resp.problem(415, Some("Unsupported Media Type"))?;
    }
    let big = padded_json(&name, &password, 16_385);
    post_in_background(cx, &cx.main, "/login", "application/json", &big)
        .await?
        .problem(413, Some("Content Too Large"))?;
    for bad in [
        "{",
        "[]",
        "{\"username\":\"x\"}",
        "{\"username\":1,\"password\":\"long enough\"}",
    ] {
        let resp = cx
            .send(cx.post(&cx.main, "/login", Some("application/json"), bad))
            .await?;
        resp.problem(400, Some("Bad Request"))?;
    }
    let resp = cx
        .send(cx.post(&cx.main, "/login", Some(FORM), form(&[("username", &name)])))
        .await?;
    resp.problem(400, Some("Bad Request"))?;
    // None of these counted as failures or logged in: the right password still works.
    log_in(cx, &name, &password).await?;
    Ok(())
}

pub(crate) async fn login_throttles_after_five_failures(cx: &Ctx) -> CheckResult {
    let (name, password) = new_user(cx, "th").await?;
    for i in 0..5 {
        let resp = login_json(cx, &name, "wrong password").await?;
        ensure!(
            resp.status == 401,
            "failed login {} of 5 must be 401, got {}",
            i + 1,
            resp.excerpt()
        );
    }
    throttled(&login_json(cx, &name, &password).await?)?;
    throttled(&login_json(cx, &name, "wrong password").await?)?;
    throttled(
        &cx.post_form("/login", &[("username", &name), ("password", &password)])
            .await?,
    )?;
    // Another user is not affected.
    let (other, other_password) = new_user(cx, "th").await?;
    log_in(cx, &other, &other_password).await?;
    Ok(())
}

async fn timed(cx: &Ctx, ep: &Endpoint, username: &str, password: &str) -> CheckResult<Duration> {
    let started = Instant::now();
    let resp = cx
        .send(cx.post(
            ep,
            "/login",
            Some("application/json"),
            json!({"username": username, "password": password}).to_string(),
        ))
        .await?;
    let took = started.elapsed();
    resp.status(401)?;
    Ok(took)
}

/// With the binary's default argon2 cost, unknown users and invalid usernames take about as
/// long as a wrong password (a hash is verified either way).
pub(crate) async fn failed_logins_take_similar_time(cx: &Ctx) -> CheckResult {
    let bin = binary(cx)?;
    let dir = workdir()?;
    let mut proc = Proc::spawn(
        &bin,
        dir.path(),
        &["--port", "0", "--database", "t.db", "--quiet"],
        &[],
    )?;
    let ep = proc.ready(cx).await?;
    let (name, password) = (fresh_name("tm"), fresh_password());
    sign_up_at(cx, &ep, &name, &password).await?;
    let mut wrong = Vec::new();
    let mut unknown = Vec::new();
    let mut invalid = Vec::new();
    // Interleaved rounds, compared by median, so a burst of load on a shared machine slows
    // all three kinds alike and one slow sample does not decide.
    for i in 0..5 {
        wrong.push(timed(cx, &ep, &name, &format!("wrong-{i}-{password}")).await?);
        unknown.push(timed(cx, &ep, &fresh_name("ghost"), &password).await?);
        invalid.push(timed(cx, &ep, &format!("bad name {i}"), &password).await?);
    }
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v.get(v.len() / 2).copied().unwrap_or_default()
    };
    let (w, u, b) = (
        median(&mut wrong),
        median(&mut unknown),
        median(&mut invalid),
    );
    if w < Duration::from_millis(3) {
        skip!("a wrong-password login took only {w:?}: too fast to compare timings");
    }
    ensure!(
        u * 2 >= w && b * 2 >= w,
        "failed logins must take about the same time: wrong password {w:?}, unknown user {u:?}, invalid username {b:?} (medians of 5)"
    );
    Ok(())
}
