//! The conformance suite can fail: a tiny hyper server answers `/plaintext`, `/healthz`,
//! `/teapot` and `/status/418` per SITE.md, and with one rule broken at a time the checks of that rule fail
//! while the others still pass. Checks needing what this target lacks are skipped, unless the
//! target says it is in-process (where every check can run), which turns a skip into a failure.

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use site_conformance::{Outcome, Target, run_check_by_name};

/// Which rule the server gets wrong.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Broken {
    Nothing,
    TeapotAnswers200,
    NoServerHeader,
    PlaintextWithoutCharset,
    ProblemMembersReordered,
    TeapotWordedTwoWays,
}

fn respond(broken: Broken, path: &str) -> Response<Full<Bytes>> {
    let problem = |status: u16, title: &str, detail: &str| {
        if broken == Broken::ProblemMembersReordered {
            format!(
                r#"{{"title":"{title}","type":"about:blank","status":{status},"detail":"{detail}"}}"#
            )
        } else {
            format!(
                r#"{{"type":"about:blank","title":"{title}","status":{status},"detail":"{detail}"}}"#
            )
        }
    };
    let (status, content_type, body) = match path {
        "/plaintext" if broken == Broken::PlaintextWithoutCharset => {
            (200, "text/plain", "Hello, World!".to_owned())
        }
        "/plaintext" => (200, "text/plain; charset=utf-8", "Hello, World!".to_owned()),
        "/healthz" => (200, "text/plain; charset=utf-8", "ok".to_owned()),
        "/teapot" if broken == Broken::TeapotAnswers200 => {
            (200, "text/plain; charset=utf-8", "I'm a teapot".to_owned())
        }
        "/status/418" if broken == Broken::TeapotWordedTwoWays => (
            418,
            "application/problem+json",
            problem(418, "I'm a teapot", "Short and stout."),
        ),
        "/teapot" | "/status/418" => (
            418,
            "application/problem+json",
            problem(
                418,
                "I'm a teapot",
                "The server is a teapot and refuses to brew coffee.",
            ),
        ),
        _ => (
            404,
            "application/problem+json",
            problem(404, "Not Found", "Nothing is served at this path."),
        ),
    };
    let mut builder = Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("content-type", content_type);
    if broken != Broken::NoServerHeader {
        builder = builder.header("server", "sitebench-broken");
    }
    builder
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

/// Starts the server on its own thread (it lives as long as the test binary); its base URL.
fn serve(broken: Broken) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    listener
        .set_nonblocking(true)
        .expect("non-blocking listener");
    let addr: SocketAddr = listener.local_addr().expect("local address");
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                tokio::spawn(async move {
                    let service = service_fn(move |request: Request<Incoming>| async move {
                        Ok::<_, Infallible>(respond(broken, request.uri().path()))
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
    });
    format!("http://{addr}")
}

fn target(broken: Broken) -> Target {
    let mut target = Target::new(serve(broken));
    target.backend = Some("broken".into());
    target
}

fn outcome(name: &str, target: &Target) -> Outcome {
    run_check_by_name(name, target)
}

fn assert_pass(name: &str, target: &Target) {
    let got = outcome(name, target);
    assert_eq!(got, Outcome::Pass, "{name} should pass");
}

fn assert_fail(name: &str, target: &Target, mentioning: &str) {
    match outcome(name, target) {
        Outcome::Fail(why) => assert!(
            why.contains(mentioning),
            "{name} failed, but not about {mentioning:?}: {why}"
        ),
        other => panic!("{name} should fail (about {mentioning:?}), got {other:?}"),
    }
}

#[test]
fn a_conforming_server_passes() {
    let target = target(Broken::Nothing);
    for name in ["teapot_418", "plaintext_exact", "healthz_ok"] {
        assert_pass(name, &target);
    }
}

#[test]
fn a_teapot_answering_200_fails_only_the_teapot_check() {
    let target = target(Broken::TeapotAnswers200);
    assert_fail("teapot_418", &target, "expected status 418");
    assert_pass("plaintext_exact", &target);
    assert_pass("healthz_ok", &target);
}

#[test]
fn a_code_explained_two_ways_fails_the_teapot_check() {
    let target = target(Broken::TeapotWordedTwoWays);
    assert_fail("teapot_418", &target, "one wording per code");
    assert_pass("plaintext_exact", &target);
}

#[test]
fn a_missing_server_header_fails_every_check() {
    let target = target(Broken::NoServerHeader);
    for name in [
        "teapot_418",
        "plaintext_exact",
        "healthz_ok",
        "server_header_names_backend",
    ] {
        assert_fail(name, &target, "Server");
    }
}

#[test]
fn a_text_type_without_charset_fails() {
    let target = target(Broken::PlaintextWithoutCharset);
    assert_fail("plaintext_exact", &target, "charset=utf-8");
    assert_pass("teapot_418", &target);
}

#[test]
fn reordered_problem_members_fail() {
    let target = target(Broken::ProblemMembersReordered);
    assert_fail("teapot_418", &target, "in that order");
    assert_pass("plaintext_exact", &target);
}

#[test]
fn checks_needing_more_than_a_url_are_skipped() {
    let target = target(Broken::Nothing);
    for name in [
        "admin_lists_users",
        "panic_gives_500_and_server_survives",
        "content_types_by_extension",
        "cli_prints_startup_line",
    ] {
        assert!(
            matches!(outcome(name, &target), Outcome::Skip(_)),
            "{name} should be skipped"
        );
    }
}

/// Against an in-process target every check can run, so a skip there is a failure: a check
/// that quietly stopped running must not pass a backend's tests.
#[test]
fn a_skip_fails_against_an_in_process_target() {
    let mut target = target(Broken::Nothing);
    target.in_process = true;
    for name in ["admin_lists_users", "cli_prints_startup_line"] {
        assert_fail(name, &target, "skipped against an in-process target");
    }
    assert_pass("plaintext_exact", &target);
}
