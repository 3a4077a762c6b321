//! The helpers checks of more than one SITE.md section use: new users and sessions, the
//! session cookie, the admin session, "still serving", the shared expectations (`405`, `501`,
//! `422`, `429`, a user document) and requests the checks build alike (padded bodies, a body
//! written while the answer is read, the binary on a new database). A section module imports
//! from here and never from another section, so moving a check moves no helper with it.

use std::path::PathBuf;

use http::Method;
use rand::Rng as _;
use serde_json::{Value, json};

use crate::ADMIN_PASSWORD;
use crate::client::{self, Ctx, Endpoint, RawConn, Resp};
use crate::fail::{CheckResult, Failure};
use crate::process::{Proc, binary, workdir};

/// `n` random lowercase letters and digits.
pub(crate) fn random_text(n: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..n)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

/// A username nobody has: `prefix` (at most 20 characters) and 10 random characters.
pub(crate) fn fresh_name(prefix: &str) -> String {
    format!("{prefix}{}", random_text(10))
}

pub(crate) fn fresh_password() -> String {
    format!("pw-{}", random_text(16))
}

/// `{"username":..,"password":..}`
pub(crate) fn creds(username: &str, password: &str) -> Value {
    json!({ "username": username, "password": password })
}

/// `POST /users` with JSON, expecting `201`.
pub(crate) async fn sign_up_at(
    cx: &Ctx,
    ep: &Endpoint,
    username: &str,
    password: &str,
) -> CheckResult<Resp> {
    let resp = cx
        .send(cx.post(
            ep,
            "/users",
            Some("application/json"),
            creds(username, password).to_string(),
        ))
        .await?;
    resp.status(201)
        .map_err(|e| e.context(&format!("signing up {username:?}")))?;
    Ok(resp)
}

pub(crate) async fn sign_up(cx: &Ctx, username: &str, password: &str) -> CheckResult<Resp> {
    sign_up_at(cx, &cx.main, username, password).await
}

/// A new user on the main server: (username, password).
pub(crate) async fn new_user(cx: &Ctx, prefix: &str) -> CheckResult<(String, String)> {
    let (username, password) = (fresh_name(prefix), fresh_password());
    sign_up(cx, &username, &password).await?;
    Ok((username, password))
}

/// `POST /login` with JSON, expecting `200` and a session cookie; the token.
pub(crate) async fn log_in_at(
    cx: &Ctx,
    ep: &Endpoint,
    username: &str,
    password: &str,
) -> CheckResult<String> {
    let resp = cx
        .send(cx.post(
            ep,
            "/login",
            Some("application/json"),
            creds(username, password).to_string(),
        ))
        .await?;
    resp.status(200)
        .map_err(|e| e.context(&format!("logging in as {username:?}")))?;
    session_token(&resp, false)
}

pub(crate) async fn log_in(cx: &Ctx, username: &str, password: &str) -> CheckResult<String> {
    log_in_at(cx, &cx.main, username, password).await
}

/// A new user with a session: (username, password, token).
pub(crate) async fn new_session(cx: &Ctx, prefix: &str) -> CheckResult<(String, String, String)> {
    let (username, password) = new_user(cx, prefix).await?;
    let token = log_in(cx, &username, &password).await?;
    Ok((username, password, token))
}

/// The token of `Set-Cookie: sitebench_session=<token>; Path=/; HttpOnly; SameSite=Lax;
/// Max-Age=86400` (`; Secure` appended when `secure`), checked exactly.
pub(crate) fn session_token(resp: &Resp, secure: bool) -> CheckResult<String> {
    let cookies = resp.header_all("set-cookie");
    let [cookie] = cookies.as_slice() else {
        fail!("{}: expected one Set-Cookie, got {cookies:?}", resp.what);
    };
    let suffix = if secure {
        "; Path=/; HttpOnly; SameSite=Lax; Max-Age=86400; Secure"
    } else {
        "; Path=/; HttpOnly; SameSite=Lax; Max-Age=86400"
    };
    let token = cookie
        .strip_prefix("sitebench_session=")
        .and_then(|rest| rest.strip_suffix(suffix));
    let Some(token) = token else {
        fail!(
            "{}: expected `Set-Cookie: sitebench_session=<token>{suffix}`, got {cookie:?}",
            resp.what
        );
    };
    ensure!(
        token.len() >= 22
            && token
                .bytes()
                .all(|b| b.is_ascii_graphic() && !b",;\\\"".contains(&b)),
        "{}: the session token {token:?} must be at least 22 cookie-safe characters (128 random bits)",
        resp.what
    );
    Ok(token.to_owned())
}

pub(crate) fn cookie(token: &str) -> String {
    format!("sitebench_session={token}")
}

/// `GET path` with a session cookie.
pub(crate) async fn get_with_session(
    cx: &Ctx,
    path: &str,
    token: &str,
    accept: Option<&str>,
) -> CheckResult<Resp> {
    let mut request = cx.req(Method::GET, path).header("cookie", cookie(token));
    if let Some(accept) = accept {
        request = request.header("accept", accept);
    }
    cx.send(request).await
}

/// A session of the target's admin (signed up if needed); a skip without one.
pub(crate) async fn admin_session(cx: &Ctx) -> CheckResult<String> {
    let Some(admin) = cx.target.admin.clone() else {
        return Err(Failure::Skip("no --admin user in this target".into()));
    };
    let resp = cx
        .post_json("/users", &creds(&admin, ADMIN_PASSWORD))
        .await?;
    resp.status_in(&[201, 409])?;
    log_in(cx, &admin, ADMIN_PASSWORD).await.map_err(|e| {
        e.context(&format!(
            "the admin {admin:?} must be able to log in with the conformance admin password"
        ))
    })
}

/// Section 7 ends every check with this: `/healthz` still answers `200 ok`.
pub(crate) async fn still_serving_at(cx: &Ctx, ep: &Endpoint) -> CheckResult {
    let resp = cx
        .get_at(ep, "/healthz")
        .await
        .map_err(|e| e.context("afterwards the server must still serve /healthz"))?;
    resp.status(200)?.body_is(b"ok")?;
    Ok(())
}

pub(crate) async fn still_serving(cx: &Ctx) -> CheckResult {
    still_serving_at(cx, &cx.main).await
}

/// A method other than GET, HEAD and POST: `501`.
pub(crate) fn expect_not_implemented(resp: &Resp) -> CheckResult {
    if resp.head {
        resp.status(501)?;
    } else {
        resp.problem(501, Some("Not Implemented"))?;
    }
    Ok(())
}

/// `405` with exactly `Allow: <allow>`, as problem details.
pub(crate) fn expect_405(resp: &Resp, allow: &str) -> CheckResult {
    resp.header_is("allow", allow)?;
    if resp.head {
        resp.status(405)?;
    } else {
        resp.problem(405, Some("Method Not Allowed"))?;
    }
    Ok(())
}

/// Runs the requests concurrently (at most `n` at once is up to the client pool).
pub(crate) async fn join_all<F: std::future::Future>(
    futures: impl IntoIterator<Item = F>,
) -> Vec<F::Output> {
    futures_util::future::join_all(futures).await
}

/// A JSON sign-up body of exactly `size` bytes (an ignored `pad` member fills it up).
pub(crate) fn padded_json(username: &str, password: &str, size: usize) -> Vec<u8> {
    let base = creds(username, password).to_string();
    // {"username":..,"password":..} + ,"pad":"" = base.len() + 9
    let fill = size.saturating_sub(base.len() + 9);
    let mut body = base[..base.len() - 1].to_owned();
    body.push_str(",\"pad\":\"");
    body.push_str(&"a".repeat(fill));
    body.push_str("\"}");
    body.into_bytes()
}

/// A form sign-up body of exactly `size` bytes.
pub(crate) fn padded_form(username: &str, password: &str, size: usize) -> Vec<u8> {
    let base = client::form(&[("username", username), ("password", password)]);
    let fill = size.saturating_sub(base.len() + 5);
    format!("{base}&pad={}", "a".repeat(fill)).into_bytes()
}

/// A `POST` with `Content-Length` written on a background task while the response is read
/// (the server may answer before reading it all); conventions checked.
pub(crate) async fn post_in_background(
    cx: &Ctx,
    ep: &Endpoint,
    path: &str,
    content_type: &str,
    body: &[u8],
) -> CheckResult<Resp> {
    let mut conn = RawConn::open(ep).await?;
    conn.send_in_background(client::post_request(ep, path, content_type, body));
    let resp = conn.read_reply(false).await?.response()?;
    cx.conventions(&resp)?;
    Ok(resp)
}

/// `{"username","created_at","admin"}` of a user response.
pub(crate) fn user_doc(resp: &Resp) -> CheckResult<(String, String, bool)> {
    let values = resp.json_doc(&["username", "created_at", "admin"])?;
    let (Some(username), Some(created_at), Some(admin)) =
        (values[0].as_str(), values[1].as_str(), values[2].as_bool())
    else {
        fail!(
            "{}: expected string username, string created_at, boolean admin, got {values:?}",
            resp.what
        );
    };
    Ok((username.to_owned(), created_at.to_owned(), admin))
}

/// A 422 whose `errors` name exactly these fields (each at least once).
pub(crate) fn unprocessable(resp: &Resp, fields: &[&str]) -> CheckResult<Vec<(String, String)>> {
    let problem = resp.problem(422, Some("Unprocessable Content"))?;
    let Some(errors) = problem.errors else {
        fail!(
            "{}: a 422 must list the broken rules in `errors`",
            resp.what
        );
    };
    let mut got: Vec<&str> = errors.iter().map(|(f, _)| f.as_str()).collect();
    got.sort_unstable();
    got.dedup();
    let mut want = fields.to_vec();
    want.sort_unstable();
    ensure_eq!(
        got,
        want,
        "{}: the fields named in `errors` ({errors:?})",
        resp.what
    );
    Ok(errors)
}

/// `429` with `Retry-After` in whole seconds, 1 to 60.
pub(crate) fn throttled(resp: &Resp) -> CheckResult<u64> {
    resp.problem(429, Some("Too Many Requests"))?;
    let retry = resp.must_header("retry-after")?;
    let Some(secs) = retry.parse::<u64>().ok().filter(|s| (1..=60).contains(s)) else {
        fail!(
            "{}: Retry-After must be whole seconds within the 60 s window, got {retry:?}",
            resp.what
        );
    };
    resp.no_header("set-cookie")?;
    Ok(secs)
}

/// A `POST` of `size` bytes, written while the answer is read; conventions checked.
pub(crate) async fn oversized_post(
    cx: &Ctx,
    path: &str,
    content_type: &str,
    size: usize,
) -> CheckResult<Resp> {
    post_in_background(cx, &cx.main, path, content_type, &vec![b'a'; size]).await
}

/// The binary on a new database `file` in a working directory of its own, with one user
/// signed up (named from `prefix`) so that the database has been written: the directory,
/// the database's path, the process and its endpoint.
pub(crate) async fn serving_new_database(
    cx: &Ctx,
    file: &str,
    prefix: &str,
) -> CheckResult<(tempfile::TempDir, PathBuf, Proc, Endpoint)> {
    let bin = binary(cx)?;
    let dir = workdir()?;
    let db = dir.path().join(file);
    let db_arg = db.to_string_lossy().into_owned();
    let mut proc = Proc::spawn(
        &bin,
        dir.path(),
        &["--port", "0", "--quiet", "--database", &db_arg],
        &[],
    )?;
    let ep = proc.ready(cx).await?;
    sign_up_at(cx, &ep, &fresh_name(prefix), &fresh_password()).await?;
    Ok((dir, db, proc, ep))
}

/// Under `Deviation::FrameworkStatusTable`, as trillium-http 1.6.1 declares it (`src/status.rs`:
/// `TryFrom<u16> for Status` lists the codes, `Status::canonical_reason` their phrases): the
/// reason phrase its status line carries for `code`, `None` for a code it cannot send (which
/// the backend answers with the core's `500`).
pub(crate) fn framework_reason(code: u16) -> Option<&'static str> {
    match code {
        102 | 208 | 305 => None,
        203 => Some("Non Authoritative Information"),
        226 => Some("Im Used"),
        300 => Some("Multiple Choice"),
        413 => Some("Payload Too Large"),
        416 => Some("Requested Range Not Satisfiable"),
        422 => Some("Unprocessable Entity"),
        _ => site_core::status_codes::reason_phrase(code),
    }
}
