//! SITE.md section 4.1: `POST /users` and the body rules shared with `/login`.

use serde_json::json;

use super::support::{
    creds, fresh_name, fresh_password, join_all, padded_form, padded_json, post_in_background,
    random_text, sign_up, unprocessable, user_doc,
};
use crate::client::{Ctx, FORM, Resp, form};
use crate::expect::{rfc3339_utc, unix_now};
use crate::fail::CheckResult;

/// The SITE.md section every check in this module belongs to.
pub(crate) const SECTION: &str = "4.1";

async fn post_users(
    cx: &Ctx,
    content_type: Option<&str>,
    body: impl Into<Vec<u8>>,
) -> CheckResult<Resp> {
    cx.send(cx.post(&cx.main, "/users", content_type, body))
        .await
}

async fn post_users_json(cx: &Ctx, body: &serde_json::Value) -> CheckResult<Resp> {
    post_users(cx, Some("application/json"), body.to_string()).await
}

/// A successful sign-up response of either kind.
fn created(resp: &Resp, username: &str, json_body: bool) -> CheckResult {
    let location = format!("/users/{username}");
    if json_body {
        resp.status(201)?.header_is("location", &location)?;
        let (name, created_at, admin) = user_doc(resp)?;
        ensure_eq!(name, username, "{}: username", resp.what);
        ensure!(
            !admin,
            "{}: admin must be false for a user not named by --admin",
            resp.what
        );
        let Some(at) = rfc3339_utc(&created_at) else {
            fail!(
                "{}: created_at {created_at:?} must be RFC 3339 in UTC (`...Z`)",
                resp.what
            );
        };
        ensure!(
            (at - unix_now()).abs() <= 300,
            "{}: created_at {created_at:?} is not now",
            resp.what
        );
    } else {
        resp.status(303)?.header_is("location", &location)?;
    }
    Ok(())
}

pub(crate) async fn signup_json_201(cx: &Ctx) -> CheckResult {
    let name = format!("Json{}", random_text(10));
    let resp = post_users_json(cx, &creds(&name, &fresh_password())).await?;
    created(&resp, &name, true)
}

pub(crate) async fn signup_form_303(cx: &Ctx) -> CheckResult {
    let name = fresh_name("form");
    let resp = cx
        .post_form(
            "/users",
            &[("username", &name), ("password", &fresh_password())],
        )
        .await?;
    created(&resp, &name, false)?;
    cx.get(&format!("/users/{name}")).await?.status(200)?;
    Ok(())
}

pub(crate) async fn signup_accepts_utf8_charset(cx: &Ctx) -> CheckResult {
    for content_type in [
        "application/json; charset=utf-8",
        "application/json;charset=UTF-8",
        "application/json; charset=\"utf-8\"",
    ] {
        let name = fresh_name("cs");
        let resp = post_users(
            cx,
            Some(content_type),
            creds(&name, &fresh_password()).to_string(),
        )
        .await?;
        created(&resp, &name, true).map_err(|e| e.context(content_type))?;
    }
    for content_type in [
        "application/x-www-form-urlencoded; charset=utf-8",
        "application/x-www-form-urlencoded;charset=UTF-8",
    ] {
        let name = fresh_name("cs");
        let resp = post_users(
            cx,
            Some(content_type),
            form(&[("username", &name), ("password", &fresh_password())]),
        )
        .await?;
        created(&resp, &name, false).map_err(|e| e.context(content_type))?;
    }
    Ok(())
}

pub(crate) async fn signup_ignores_unknown_fields(cx: &Ctx) -> CheckResult {
    let name = fresh_name("uf");
    let body = json!({"username": name, "email": "x@example.com", "password": fresh_password(), "extra": {"nested": [1, 2]}, "admin": true});
    created(&post_users_json(cx, &body).await?, &name, true)?;
    let name = fresh_name("uf");
    let resp = cx
        .post_form(
            "/users",
            &[
                ("remember", "on"),
                ("username", &name),
                ("password", &fresh_password()),
                ("admin", "true"),
            ],
        )
        .await?;
    created(&resp, &name, false)
}

fn unsupported(resp: &Resp) -> CheckResult {
    resp.problem(415, Some("Unsupported Media Type"))?;
    Ok(())
}

pub(crate) async fn signup_rejects_other_content_types_415(cx: &Ctx) -> CheckResult {
    let body = creds(&fresh_name("ct"), &fresh_password()).to_string();
    for content_type in [
        "text/plain",
        "text/plain; charset=utf-8",
        "multipart/form-data; boundary=xyz",
        "application/xml",
        "application/jsonx",
        "application/x-www-form-urlencodedx",
        "text/json",
        "application/octet-stream",
    ] {
        unsupported(&post_users(cx, Some(content_type), body.clone()).await?)
            .map_err(|e| e.context(content_type))?;
    }
    Ok(())
}

pub(crate) async fn signup_requires_content_type_415(cx: &Ctx) -> CheckResult {
    let body = creds(&fresh_name("ct"), &fresh_password()).to_string();
    unsupported(&post_users(cx, None, body).await?)?;
    let body = form(&[
        ("username", &fresh_name("ct")),
        ("password", &fresh_password()),
    ]);
    unsupported(&post_users(cx, None, body).await?)
}

pub(crate) async fn signup_rejects_other_charsets_415(cx: &Ctx) -> CheckResult {
    let body = creds(&fresh_name("ch"), &fresh_password()).to_string();
    for content_type in [
        "application/json; charset=iso-8859-1",
        "application/json; charset=utf-16",
        "application/json; charset=latin1",
    ] {
        unsupported(&post_users(cx, Some(content_type), body.clone()).await?)
            .map_err(|e| e.context(content_type))?;
    }
    let body = form(&[
        ("username", &fresh_name("ch")),
        ("password", &fresh_password()),
    ]);
    unsupported(
        &post_users(
            cx,
            Some("application/x-www-form-urlencoded; charset=windows-1252"),
            body,
        )
        .await?,
    )
}

pub(crate) async fn signup_body_over_16_kib_413(cx: &Ctx) -> CheckResult {
    let name = fresh_name("big");
    let body = padded_json(&name, &fresh_password(), 16_385);
    ensure_eq!(body.len(), 16_385, "fixture body size");
    post_in_background(cx, &cx.main, "/users", "application/json", &body)
        .await?
        .problem(413, Some("Content Too Large"))?;
    let body = padded_form(&name, &fresh_password(), 16_385);
    post_in_background(cx, &cx.main, "/users", FORM, &body)
        .await?
        .problem(413, Some("Content Too Large"))?;
    cx.get(&format!("/users/{name}")).await?.status(404)?;
    Ok(())
}

pub(crate) async fn signup_body_of_16_kib_accepted(cx: &Ctx) -> CheckResult {
    let name = fresh_name("edge");
    let body = padded_json(&name, &fresh_password(), 16_384);
    ensure_eq!(body.len(), 16_384, "fixture body size");
    created(
        &post_users(cx, Some("application/json"), body).await?,
        &name,
        true,
    )?;
    let name = fresh_name("edge");
    let body = padded_form(&name, &fresh_password(), 16_384);
    ensure_eq!(body.len(), 16_384, "fixture body size");
    created(&post_users(cx, Some(FORM), body).await?, &name, false)
}

fn bad_request(resp: &Resp) -> CheckResult {
    resp.problem(400, Some("Bad Request"))?;
    Ok(())
}

pub(crate) async fn signup_unparsable_body_400(cx: &Ctx) -> CheckResult {
    let name = fresh_name("bad");
    let valid = creds(&name, &fresh_password()).to_string();
    let bodies: Vec<Vec<u8>> = vec![
        b"{".to_vec(),
        b"[]".to_vec(),
        b"\"just a string\"".to_vec(),
        b"null".to_vec(),
        b"".to_vec(),
        format!("{valid} trailing").into_bytes(),
        b"{\"username\":\"ab\xffcd\",\"password\":\"long enough\"}".to_vec(),
        format!("username={name}&password=long+enough").into_bytes(),
    ];
    for body in bodies {
        let shown = String::from_utf8_lossy(&body).into_owned();
        bad_request(&post_users(cx, Some("application/json"), body).await?)
            .map_err(|e| e.context(&format!("JSON body {shown:?}")))?;
    }
    bad_request(
        &post_users(
            cx,
            Some(FORM),
            format!("username={name}&password=%FF%FE%FD%FC%FB%FA%F9%F8"),
        )
        .await?,
    )
    .map_err(|e| e.context("a form value that is not UTF-8"))?;
    cx.get(&format!("/users/{name}")).await?.status(404)?;
    Ok(())
}

pub(crate) async fn signup_missing_field_400(cx: &Ctx) -> CheckResult {
    let name = fresh_name("mf");
    for body in [
        json!({"username": name}),
        json!({"password": fresh_password()}),
        json!({}),
        json!({"user": name, "pass": "long enough"}),
    ] {
        bad_request(&post_users_json(cx, &body).await?)
            .map_err(|e| e.context(&body.to_string()))?;
    }
    bad_request(&post_users(cx, Some(FORM), form(&[("username", &name)])).await?)?;
    bad_request(&post_users(cx, Some(FORM), "").await?)?;
    Ok(())
}

pub(crate) async fn signup_non_string_value_400(cx: &Ctx) -> CheckResult {
    let name = fresh_name("ns");
    for body in [
        json!({"username": name, "password": 12_345_678}),
        json!({"username": null, "password": "long enough"}),
        json!({"username": [name], "password": "long enough"}),
        json!({"username": true, "password": "long enough"}),
        json!({"username": name, "password": {"a": "long enough"}}),
        json!({"username": 1234, "password": "long enough"}),
    ] {
        bad_request(&post_users_json(cx, &body).await?)
            .map_err(|e| e.context(&body.to_string()))?;
    }
    Ok(())
}

async fn rejected(cx: &Ctx, username: &str, password: &str, fields: &[&str]) -> CheckResult {
    let resp = post_users_json(cx, &creds(username, password)).await?;
    unprocessable(&resp, fields)
        .map_err(|e| e.context(&format!("username {username:?}, password {password:?}")))?;
    Ok(())
}

/// A sign-up that must succeed; a name taken by an earlier run is retried with a new one.
async fn accepted(cx: &Ctx, make_name: impl Fn() -> String, password: &str) -> CheckResult {
    for _ in 0..5 {
        let name = make_name();
        let resp = post_users_json(cx, &creds(&name, password)).await?;
        if resp.status == 409 {
            continue;
        }
        created(&resp, &name, true)
            .map_err(|e| e.context(&format!("username {name:?}, password {password:?}")))?;
        return Ok(());
    }
    fail!("five random names were all taken (409)")
}

pub(crate) async fn username_length_rule_422(cx: &Ctx) -> CheckResult {
    let password = fresh_password();
    rejected(cx, "ab", &password, &["username"]).await?;
    rejected(cx, "", &password, &["username"]).await?;
    rejected(
        cx,
        &format!("u{}", random_text(32)),
        &password,
        &["username"],
    )
    .await?;
    accepted(cx, || random_text(3), &password).await?;
    accepted(cx, || format!("u{}", random_text(31)), &password).await
}

pub(crate) async fn username_characters_rule_422(cx: &Ctx) -> CheckResult {
    let password = fresh_password();
    for name in [
        "has space",
        "tab\tname",
        "m\u{fc}ller",
        "at@sign",
        "semi;colon",
        "slash/name",
        "emoji\u{1f600}",
        "percent%41",
        "plus+name",
    ] {
        rejected(cx, name, &password, &["username"]).await?;
    }
    accepted(cx, || format!("a_b.c-D{}", random_text(8)), &password).await
}

pub(crate) async fn username_first_character_rule_422(cx: &Ctx) -> CheckResult {
    let password = fresh_password();
    for name in ["_abc", ".abc", "-abc", "_", "..."] {
        rejected(cx, name, &password, &["username"]).await?;
    }
    accepted(cx, || format!("1{}", random_text(8)), &password).await?;
    accepted(cx, || format!("Z{}", random_text(8)), &password).await
}

pub(crate) async fn password_length_rule_422(cx: &Ctx) -> CheckResult {
    rejected(cx, &fresh_name("pl"), "seven77", &["password"]).await?;
    rejected(cx, &fresh_name("pl"), "", &["password"]).await?;
    rejected(cx, &fresh_name("pl"), &"p".repeat(129), &["password"]).await?;
    rejected(cx, &fresh_name("pl"), &"p".repeat(10_000), &["password"]).await?;
    accepted(cx, || fresh_name("pl"), "eight888").await?;
    accepted(cx, || fresh_name("pl"), &"p".repeat(128)).await
}

/// Characters, not bytes.
pub(crate) async fn password_length_counts_characters(cx: &Ctx) -> CheckResult {
    rejected(cx, &fresh_name("pc"), &"\u{e9}".repeat(7), &["password"]).await?;
    accepted(cx, || fresh_name("pc"), &"\u{e9}".repeat(8)).await?;
    accepted(cx, || fresh_name("pc"), &"\u{1f600}".repeat(8)).await?;
    accepted(cx, || fresh_name("pc"), &"\u{e9}".repeat(128)).await?;
    rejected(cx, &fresh_name("pc"), &"\u{e9}".repeat(129), &["password"]).await
}

pub(crate) async fn password_equal_to_username_422(cx: &Ctx) -> CheckResult {
    let name = format!("Same{}", random_text(8));
    rejected(cx, &name, &name, &["password"]).await?;
    rejected(cx, &name, &name.to_ascii_uppercase(), &["password"]).await?;
    rejected(cx, &name, &name.to_ascii_lowercase(), &["password"]).await?;
    accepted(cx, || name.clone(), &format!("{name}!")).await
}

pub(crate) async fn unprocessable_lists_every_broken_rule(cx: &Ctx) -> CheckResult {
    let resp = post_users_json(cx, &creds("a", "a")).await?;
    let errors = unprocessable(&resp, &["username", "password"])?;
    ensure!(
        errors.len() >= 2,
        "{}: expected an entry per broken rule, got {errors:?}",
        resp.what
    );
    let resp = post_users_json(cx, &creds("_", "short")).await?;
    unprocessable(&resp, &["username", "password"])?;
    Ok(())
}

pub(crate) async fn username_taken_409(cx: &Ctx) -> CheckResult {
    let name = fresh_name("taken");
    sign_up(cx, &name, &fresh_password()).await?;
    post_users_json(cx, &creds(&name, &fresh_password()))
        .await?
        .problem(409, Some("Conflict"))?;
    let resp = cx
        .post_form(
            "/users",
            &[("username", &name), ("password", &fresh_password())],
        )
        .await?;
    resp.problem(409, Some("Conflict"))?;
    Ok(())
}

pub(crate) async fn username_taken_ignores_case_409(cx: &Ctx) -> CheckResult {
    let name = format!("Case{}", random_text(10));
    sign_up(cx, &name, &fresh_password()).await?;
    for variant in [name.to_ascii_lowercase(), name.to_ascii_uppercase()] {
        post_users_json(cx, &creds(&variant, &fresh_password()))
            .await?
            .problem(409, Some("Conflict"))?;
    }
    Ok(())
}

pub(crate) async fn concurrent_signups_one_wins(cx: &Ctx) -> CheckResult {
    let name = fresh_name("race");
    let bodies: Vec<serde_json::Value> = (0..8).map(|_| creds(&name, &fresh_password())).collect();
    let results = join_all(bodies.iter().map(|body| post_users_json(cx, body))).await;
    let mut created_count = 0;
    for result in results {
        let resp = result?;
        match resp.status {
            201 => created_count += 1,
            409 => {
                resp.problem(409, Some("Conflict"))?;
            }
            _ => fail!(
                "{}: concurrent sign-ups of one name must give 201 or 409, got {}",
                resp.what,
                resp.excerpt()
            ),
        }
    }
    ensure_eq!(
        created_count,
        1,
        "8 concurrent sign-ups of {name:?}: number of 201s"
    );
    Ok(())
}
