//! SITE.md section 8: fine points. (The `Accept` rules are checked with section 1, the CLI
//! points with section 6, the `/admin` order with section 4.)

use std::time::Duration;

use serde_json::json;

use super::support::{
    cookie, creds, fresh_name, fresh_password, get_with_session, log_in, new_session, new_user,
    oversized_post, random_text, sign_up, throttled, unprocessable,
};
use crate::client::{Ctx, FORM, Resp, form, get_request};
use crate::fail::CheckResult;

/// The SITE.md section every check in this module belongs to.
pub(crate) const SECTION: &str = "8";

pub(crate) async fn order_415_before_413(cx: &Ctx) -> CheckResult {
    for content_type in [
        "text/plain",
        "application/json; charset=latin1",
        "application/xml",
    ] {
        oversized_post(cx, "/users", content_type, 20 * 1024)
            .await?
            .problem(415, Some("Unsupported Media Type"))
            .map_err(|e| e.context(&format!("20 KiB of {content_type}")))?;
    }
    Ok(())
}

pub(crate) async fn order_413_before_400(cx: &Ctx) -> CheckResult {
    for content_type in ["application/json", FORM] {
        oversized_post(cx, "/users", content_type, 20 * 1024)
            .await?
            .problem(413, Some("Content Too Large"))
            .map_err(|e| e.context(&format!("20 KiB of unparsable {content_type}")))?;
    }
    Ok(())
}

pub(crate) async fn order_400_before_422(cx: &Ctx) -> CheckResult {
    for body in [
        json!({"username": "a"}),
        json!({"username": "a", "password": 1}),
        json!({"password": "x"}),
    ] {
        cx.post_json("/users", &body)
            .await?
            .problem(400, Some("Bad Request"))
            .map_err(|e| e.context(&body.to_string()))?;
    }
    let resp = cx
        .send(cx.post(
            &cx.main,
            "/users",
            Some(FORM),
            "username=a&username=b&password=x",
        ))
        .await?;
    resp.problem(400, Some("Bad Request"))?;
    Ok(())
}

pub(crate) async fn order_422_before_409(cx: &Ctx) -> CheckResult {
    let (name, _) = new_user(cx, "ord").await?;
    let resp = cx.post_json("/users", &creds(&name, "short")).await?;
    unprocessable(&resp, &["password"])
        .map_err(|e| e.context("a taken name with a broken rule"))?;
    Ok(())
}

/// On `/login`, 415, 413 and 400 come before 401.
pub(crate) async fn order_login_checks_before_401(cx: &Ctx) -> CheckResult {
    let ghost = fresh_name("ghost");
    let body = creds(&ghost, "whatever-password").to_string();
    cx.send(cx.post(&cx.main, "/login", Some("text/plain"), body))
        .await?
        .problem(415, Some("Unsupported Media Type"))?;
    oversized_post(cx, "/login", "application/json", 20 * 1024)
        .await?
        .problem(413, Some("Content Too Large"))?;
    cx.post_json("/login", &json!({"username": ghost}))
        .await?
        .problem(400, Some("Bad Request"))?;
    cx.post_json("/login", &json!({"username": "a", "password": 5}))
        .await?
        .problem(400, Some("Bad Request"))?;
    Ok(())
}

pub(crate) async fn field_given_twice_is_400(cx: &Ctx) -> CheckResult {
    let (name, password) = (fresh_name("twice"), fresh_password());
    let forms = [
        format!("username={name}&username={name}&password={password}"),
        format!("username={name}&password={password}&password={password}"),
    ];
    let jsons = [
        format!("{{\"username\":\"{name}\",\"username\":\"{name}\",\"password\":\"{password}\"}}"),
        format!(
            "{{\"username\":\"{name}\",\"password\":\"{password}\",\"password\":\"{password}\"}}"
        ),
    ];
    for path in ["/users", "/login"] {
        for body in &forms {
            cx.send(cx.post(&cx.main, path, Some(FORM), body.clone()))
                .await?
                .problem(400, Some("Bad Request"))
                .map_err(|e| e.context(body))?;
        }
        for body in &jsons {
            cx.send(cx.post(&cx.main, path, Some("application/json"), body.clone()))
                .await?
                .problem(400, Some("Bad Request"))
                .map_err(|e| e.context(body))?;
        }
    }
    cx.get(&format!("/users/{name}")).await?.status(404)?;
    Ok(())
}

/// A 7-character password equal to the username breaks two rules: two entries, one field.
pub(crate) async fn one_error_entry_per_broken_rule(cx: &Ctx) -> CheckResult {
    let name = format!("a{}", random_text(6));
    let resp = cx
        .post_json("/users", &creds(&name, &name.to_ascii_uppercase()))
        .await?;
    let errors = unprocessable(&resp, &["password"])?;
    ensure!(
        errors.len() == 2,
        "{}: password {:?} for user {name:?} breaks two rules (length, equal to the username): expected 2 entries, got {errors:?}",
        resp.what,
        name.to_ascii_uppercase()
    );
    Ok(())
}

/// Paths no route claims belong to the static fallback, existing or not.
pub(crate) async fn fallback_claims_every_path(cx: &Ctx) -> CheckResult {
    for path in [
        "/nothing",
        "/users/x/y",
        "/status/200/extra",
        "/api/v1/thing",
        "/healthz/",
        "/plaintext/x",
    ] {
        cx.get(path).await?.problem(404, Some("Not Found"))?;
        cx.head(path).await?.status(404)?;
        let resp = cx
            .send(cx.post(&cx.main, path, Some("application/json"), "{}"))
            .await?;
        resp.header_is("allow", "GET, HEAD")?;
        resp.problem(405, Some("Method Not Allowed"))?;
    }
    Ok(())
}

pub(crate) async fn empty_segment_404(cx: &Ctx) -> CheckResult {
    for target in [
        "/a//b",
        "//index.html",
        "/guide//",
        "/guide//index.html",
        "//",
        "/guide/index.html//",
    ] {
        let resp = cx.raw_get(&cx.main, target).await?;
        resp.problem(404, Some("Not Found"))?;
    }
    Ok(())
}

/// A route claims its path as sent: an escaped spelling of a route's literal segment (which
/// some routers decode before matching) is a path no route claims, so the static fallback's
/// 404. Path parameters are decoded (`/status/%32%30%31` is `/status/201`).
pub(crate) async fn routes_claim_their_paths_as_sent(cx: &Ctx) -> CheckResult {
    for target in [
        "/hell%6F",
        "/plain%74ext",
        "/%68ealthz",
        "/stat%75s/200",
        "/us%65rs/ada",
    ] {
        let resp = cx.raw_get(&cx.main, target).await?;
        resp.problem(404, Some("Not Found"))?;
    }
    cx.raw_get(&cx.main, "/status/%32%30%31")
        .await?
        .status(201)?;
    Ok(())
}

async fn fail_login(cx: &Ctx, username: &str) -> CheckResult<Resp> {
    cx.post_json("/login", &creds(username, "certainly the wrong password"))
        .await
}

pub(crate) async fn throttle_ignores_case(cx: &Ctx) -> CheckResult {
    let name = format!("ThRoTtLe{}", random_text(8));
    let password = fresh_password();
    sign_up(cx, &name, &password).await?;
    let variants = [
        name.to_ascii_lowercase(),
        name.to_ascii_uppercase(),
        name.clone(),
        name.to_ascii_lowercase(),
        name.to_ascii_uppercase(),
    ];
    for variant in &variants {
        let resp = fail_login(cx, variant).await?;
        ensure!(
            resp.status == 401,
            "a failed login as {variant:?} must be 401, got {}",
            resp.excerpt()
        );
    }
    throttled(&cx.post_json("/login", &creds(&name, &password)).await?)
        .map_err(|e| e.context("five failures under different cases count for one username"))?;
    Ok(())
}

pub(crate) async fn throttle_429_is_not_a_failure(cx: &Ctx) -> CheckResult {
    let (name, password) = new_user(cx, "tn").await?;
    for _ in 0..5 {
        fail_login(cx, &name).await?.status(401)?;
    }
    let first = throttled(&cx.post_json("/login", &creds(&name, &password)).await?)?;
    for _ in 0..5 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        throttled(&fail_login(cx, &name).await?)?;
    }
    let later = throttled(&cx.post_json("/login", &creds(&name, &password)).await?)?;
    ensure!(
        later < first,
        "Retry-After went from {first} to {later} over 2.5 s of refused logins: a 429 must not count as a failure, the window keeps running"
    );
    Ok(())
}

pub(crate) async fn throttle_cleared_by_success(cx: &Ctx) -> CheckResult {
    let (name, password) = new_user(cx, "tc").await?;
    for round in 0..2 {
        for i in 0..4 {
            let resp = fail_login(cx, &name).await?;
            ensure!(
                resp.status == 401,
                "round {round}, failure {}: expected 401 (a successful login clears the count), got {}",
                i + 1,
                resp.excerpt()
            );
        }
        log_in(cx, &name, &password).await.map_err(|e| {
            e.context(&format!(
                "round {round}: after 4 failures the right password logs in"
            ))
        })?;
    }
    Ok(())
}

/// On the wire: no body means `Content-Length: 0`, except 204 and 304 which have none.
pub(crate) async fn empty_responses_content_length(cx: &Ctx) -> CheckResult {
    let ep = &cx.main;
    let zero = |resp: &Resp| -> CheckResult {
        if resp.body.is_empty() {
            resp.header_is("content-length", "0")?;
        }
        Ok(())
    };
    let resp = cx
        .raw_resp(ep, get_request(ep, "GET", "/status/205", &[]).as_bytes())
        .await?;
    resp.status(205)?.header_is("content-length", "0")?;
    let resp = cx
        .raw_resp(ep, get_request(ep, "GET", "/status/204", &[]).as_bytes())
        .await?;
    resp.status(204)?.no_header("content-length")?;
    let resp = cx
        .raw_resp(ep, get_request(ep, "GET", "/guide", &[]).as_bytes())
        .await?;
    resp.status(301)?;
    zero(&resp)?;
    let etag = cx.get("/style.css").await?.must_header("etag")?.to_owned();
    let resp = cx
        .raw_resp(
            ep,
            get_request(
                ep,
                "GET",
                "/style.css",
                &[&format!("If-None-Match: {etag}")],
            )
            .as_bytes(),
        )
        .await?;
    resp.status(304)?.no_header("content-length")?;
    let (_, _, token) = new_session(cx, "cl").await?;
    let request = format!(
        "POST /logout HTTP/1.1\r\nHost: {}\r\nCookie: {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        ep.authority,
        cookie(&token)
    );
    let resp = cx.raw_resp(ep, request.as_bytes()).await?;
    resp.status(204)?.no_header("content-length")?;
    let body = form(&[
        ("username", &fresh_name("cl")),
        ("password", &fresh_password()),
    ]);
    let request = crate::client::post_request(ep, "/users", FORM, body.as_bytes());
    let resp = cx.raw_resp(ep, &request).await?;
    resp.status(303)?;
    zero(&resp)?;
    Ok(())
}

pub(crate) async fn logout_ignores_body(cx: &Ctx) -> CheckResult {
    for (content_type, body, status) in [
        (Some("application/json"), "{{{ not json", 204),
        (Some("text/plain"), "hello", 204),
        (Some("application/xml"), "<x/>", 204),
        (None, "raw bytes", 204),
        (Some(FORM), "a=%zz&&==", 303),
        (Some("application/json; charset=latin1"), "{}", 204),
    ] {
        let (_, _, token) = new_session(cx, "lib").await?;
        let resp = cx
            .send(
                cx.post(&cx.main, "/logout", content_type, body)
                    .header("cookie", cookie(&token)),
            )
            .await?;
        resp.status(status)
            .map_err(|e| e.context(&format!("POST /logout with {content_type:?} body {body:?}")))?;
        let me = get_with_session(cx, "/me", &token, None).await?;
        ensure!(
            me.status == 401,
            "after a logout with an odd body the session must be gone, /me gave {}",
            me.excerpt()
        );
    }
    Ok(())
}
