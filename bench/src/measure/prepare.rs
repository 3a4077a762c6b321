//! Each scenario's workload, prepared and verified before it is timed: what the scenarios
//! need is made first (a user, a session cookie, the home page's ETag), then, as TechEmpower
//! does, every request a scenario will send is sent once and its answer checked against the
//! site contract (status, content type, body); the body length seen becomes the length every
//! timed response must have.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use crate::measure::client;
use crate::measure::http1::Detail;
use crate::measure::workload::{Prepared, Workload};
use crate::report::scenario::Scenario;

const PASSWORD: &str = "bench-password-1";
/// In `storm`, the connections that keep logging in; the plaintext ones are `STORM_PLAIN`.
pub const STORM_LOGINS: usize = 16;
pub const STORM_PLAIN: usize = 4;
const NAMES: [&str; 16] = [
    "Ada",
    "Grace",
    "Linus",
    "Barbara",
    "Ken",
    "Margaret",
    "Dennis",
    "Frances",
    "Alan",
    "Radia",
    "Edsger",
    "Hedy",
    "Donald",
    "Katherine",
    "Tim",
    "Sophie",
];

/// What the scenarios share: the server's address and what preparation obtained.
struct Fixture {
    addr: SocketAddr,
    host: String,
    login: Result<Prepared, String>,
    me: Result<Prepared, String>,
    home: Result<Prepared, String>,
    etag: Option<String>,
}

/// For each scenario, its workload ready to time, or why it failed verification.
pub async fn prepare(
    addr: SocketAddr,
    scenarios: &[Scenario],
    run_tag: &str,
) -> BTreeMap<Scenario, Result<Arc<Workload>, String>> {
    let fixture = Fixture::new(addr, run_tag).await;
    let mut out = BTreeMap::new();
    for &scenario in scenarios {
        out.insert(scenario, fixture.workload(scenario, run_tag).await);
    }
    out
}

/// Sends `request` once and checks it with `check` (every response, when it is pipelined);
/// on success its body length is expected.
async fn verified(
    addr: SocketAddr,
    mut request: Prepared,
    what: &str,
    mut check: impl FnMut(&Detail) -> Result<(), String>,
) -> Result<Prepared, String> {
    let responses = client::exchange(addr, &request)
        .await
        .map_err(|e| format!("{what}: {e}"))?;
    let mut body_len = None;
    for (response, detail) in &responses {
        if response.status != request.status {
            return Err(format!(
                "{what}: status {} where {} was expected",
                response.status, request.status
            ));
        }
        check(detail).map_err(|e| format!("{what}: {e}"))?;
        if body_len.is_some_and(|len| len != response.body_len) {
            return Err(format!("{what}: responses of different lengths"));
        }
        body_len = Some(response.body_len);
    }
    request.body_len = body_len;
    Ok(request)
}

fn content_type(detail: &Detail, expected: &str) -> Result<(), String> {
    match detail.header("content-type") {
        Some(ct) if ct.eq_ignore_ascii_case(expected) => Ok(()),
        other => Err(format!(
            "Content-Type {other:?} where {expected:?} was expected"
        )),
    }
}

fn body_is(detail: &Detail, expected: &[u8]) -> Result<(), String> {
    if detail.body == expected {
        Ok(())
    } else {
        Err(format!(
            "body {:?} where {:?} was expected",
            String::from_utf8_lossy(&detail.body),
            String::from_utf8_lossy(expected)
        ))
    }
}

fn json_body(detail: &Detail) -> Result<serde_json::Value, String> {
    serde_json::from_slice(&detail.body).map_err(|e| format!("body is not JSON: {e}"))
}

/// A check that the JSON body names the user and says they are not an admin.
fn account_json(detail: &Detail, username: &str) -> Result<(), String> {
    content_type(detail, "application/json")?;
    let body = json_body(detail)?;
    if body["username"] == username && body["admin"] == false {
        Ok(())
    } else {
        Err(format!("body {body} does not describe {username}"))
    }
}

impl Fixture {
    async fn new(addr: SocketAddr, run_tag: &str) -> Self {
        let host = addr.to_string();
        let username = format!("bench{run_tag}");
        let credentials = format!(r#"{{"username":"{username}","password":"{PASSWORD}"}}"#);
        let sign_up = verified(
            addr,
            Prepared::post_json(&host, "/users", &credentials, 201),
            "sign-up",
            |d| {
                content_type(d, "application/json")?;
                d.header("location")
                    .filter(|l| l.ends_with(&username))
                    .map(|_| ())
                    .ok_or_else(|| "no Location of the new user".to_owned())
            },
        )
        .await;
        let mut cookie = None;
        let login = match sign_up {
            Err(e) => Err(e),
            Ok(_) => {
                let request = Prepared::post_json(&host, "/login", &credentials, 200);
                verified(addr, request, "login", |d| {
                    account_json(d, &username)?;
                    let set = d.header("set-cookie").ok_or("no Set-Cookie")?;
                    let pair = set.split(';').next().unwrap_or("");
                    if !pair.starts_with("sitebench_session=")
                        || pair.len() < "sitebench_session=".len() + 22
                    {
                        return Err(format!("Set-Cookie {set:?} carries no session"));
                    }
                    cookie = Some(pair.to_owned());
                    Ok(())
                })
                .await
            }
        };
        let me = match (&login, &cookie) {
            (Ok(_), Some(cookie)) => {
                let request = Prepared::get(&host, "/me", &format!("Cookie: {cookie}\r\n"), 200);
                verified(addr, request, "GET /me", |d| account_json(d, &username)).await
            }
            (Err(e), _) => Err(format!("no session: {e}")),
            _ => Err("no session cookie".to_owned()),
        };
        let mut etag = None;
        let home = verified(addr, Prepared::get(&host, "/", "", 200), "GET /", |d| {
            content_type(d, "text/html; charset=utf-8")?;
            etag = Some(d.header("etag").ok_or("no ETag")?.to_owned());
            Ok(())
        })
        .await;
        Self {
            addr,
            host,
            login,
            me,
            home,
            etag,
        }
    }

    async fn workload(&self, scenario: Scenario, run_tag: &str) -> Result<Arc<Workload>, String> {
        let (addr, host) = (self.addr, self.host.as_str());
        Ok(match scenario {
            Scenario::Plaintext => Workload::single(self.plaintext().await?),
            Scenario::Json => Workload::single(
                verified(
                    addr,
                    Prepared::get(host, "/json", "", 200),
                    "GET /json",
                    |d| {
                        content_type(d, "application/json")?;
                        match json_body(d)? {
                            serde_json::Value::Object(map)
                                if map.len() == 1 && map["message"] == "Hello, World!" =>
                            {
                                Ok(())
                            }
                            other => Err(format!(
                                "body {other} is not {{\"message\":\"Hello, World!\"}}"
                            )),
                        }
                    },
                )
                .await?,
            ),
            Scenario::Static => Workload::single(self.home.clone()?),
            Scenario::Static304 => Workload::single(self.not_modified().await?),
            Scenario::Hello => Workload::cycle(self.hellos().await?),
            Scenario::Status => Workload::single(self.status_404().await?),
            Scenario::Me => Workload::single(self.me.clone()?),
            Scenario::PlaintextClose => Workload::single(
                self.plaintext_like(
                    Prepared::closing(host, "/plaintext", 200),
                    "GET /plaintext with Connection: close",
                )
                .await?,
            ),
            Scenario::PlaintextPipelined => Workload::single(
                self.plaintext_like(
                    Prepared::get(host, "/plaintext", "", 200).pipelined(Scenario::PIPELINE_DEPTH),
                    "16 pipelined GET /plaintext",
                )
                .await?,
            ),
            Scenario::Login => Workload::single(self.login.clone()?),
            Scenario::Signup => {
                let prefix = format!("s{run_tag}n");
                let workload = Workload::sign_up(host, &prefix);
                let mut cursor = 0;
                let first = workload.next(0, &mut cursor).prepared().clone();
                verified(addr, first, "sign-up", |d| {
                    content_type(d, "application/json")
                })
                .await?;
                workload
            }
            Scenario::Mixed => {
                let kind = |requests: Vec<Prepared>, kind| {
                    requests.into_iter().map(|r| r.of_kind(kind)).collect()
                };
                Workload::mixed(vec![
                    (80, kind(vec![self.home.clone()?], Scenario::Static)),
                    (10, kind(vec![self.me.clone()?], Scenario::Me)),
                    (5, kind(self.hellos().await?, Scenario::Hello)),
                    (4, kind(vec![self.status_404().await?], Scenario::Status)),
                    (1, kind(vec![self.login.clone()?], Scenario::Login)),
                ])
            }
            Scenario::Storm => Workload::split(
                STORM_LOGINS,
                Workload::single(self.login.clone()?.of_kind(Scenario::Login)),
                Workload::single(self.plaintext().await?.of_kind(Scenario::Plaintext)),
            ),
        })
    }

    async fn plaintext(&self) -> Result<Prepared, String> {
        self.plaintext_like(
            Prepared::get(&self.host, "/plaintext", "", 200),
            "GET /plaintext",
        )
        .await
    }

    /// `request`, a `GET /plaintext` sent some way, verified.
    async fn plaintext_like(&self, request: Prepared, what: &str) -> Result<Prepared, String> {
        verified(self.addr, request, what, |d| {
            content_type(d, "text/plain; charset=utf-8")?;
            body_is(d, b"Hello, World!")
        })
        .await
    }

    async fn not_modified(&self) -> Result<Prepared, String> {
        let etag = self.etag.as_deref().ok_or("GET / gave no ETag")?;
        let request = Prepared::get(&self.host, "/", &format!("If-None-Match: {etag}\r\n"), 304);
        verified(self.addr, request, "GET / with If-None-Match", |d| {
            if d.body.is_empty() && d.header("etag") == Some(etag) {
                Ok(())
            } else {
                Err("304 without its ETag, or with a body".into())
            }
        })
        .await
    }

    async fn hellos(&self) -> Result<Vec<Prepared>, String> {
        let mut out = Vec::new();
        for name in NAMES {
            let request = Prepared::get(&self.host, &format!("/hello?name={name}"), "", 200);
            out.push(
                verified(self.addr, request, "GET /hello", |d| {
                    content_type(d, "text/html; charset=utf-8")?;
                    let greeting = format!("Hello, {name}!");
                    if String::from_utf8_lossy(&d.body).contains(&greeting) {
                        Ok(())
                    } else {
                        Err(format!("no {greeting:?} in the page"))
                    }
                })
                .await?,
            );
        }
        Ok(out)
    }

    async fn status_404(&self) -> Result<Prepared, String> {
        verified(
            self.addr,
            Prepared::get(&self.host, "/status/404", "", 404),
            "GET /status/404",
            |d| {
                content_type(d, "application/problem+json")?;
                let body = json_body(d)?;
                if body["status"] == 404
                    && body["title"] == "Not Found"
                    && body["type"] == "about:blank"
                {
                    Ok(())
                } else {
                    Err(format!("problem {body} is not a 404 Not Found"))
                }
            },
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A server that answers every request with the same bytes.
    async fn fixed_server(answer: &'static [u8]) -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            while let Ok((mut io, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buf = [0u8; 4096];
                    let _ = io.read(&mut buf).await;
                    let _ = io.write_all(answer).await;
                });
            }
        });
        addr
    }

    #[tokio::test]
    async fn a_server_that_gets_plaintext_wrong_is_refused() {
        let wrong = fixed_server(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: 5\r\n\r\nHello").await;
        let result = prepare(wrong, &[Scenario::Plaintext], "t1").await;
        let Err(error) = &result[&Scenario::Plaintext] else {
            panic!("a wrong body must be refused")
        };
        assert!(error.contains("body"), "{error}");
        let wrong_type = fixed_server(b"HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: 13\r\n\r\nHello, World!").await;
        let result = prepare(wrong_type, &[Scenario::Plaintext], "t2").await;
        assert!(
            result[&Scenario::Plaintext]
                .as_ref()
                .is_err_and(|e| e.contains("Content-Type"))
        );
    }

    #[tokio::test]
    async fn a_conforming_answer_is_accepted_and_its_length_expected() {
        let right = fixed_server(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: 13\r\n\r\nHello, World!").await;
        let result = prepare(right, &[Scenario::Plaintext, Scenario::Me], "t3").await;
        let Ok(workload) = &result[&Scenario::Plaintext] else {
            panic!("refused: {:?}", result[&Scenario::Plaintext].as_ref().err())
        };
        let mut cursor = 0;
        assert_eq!(workload.next(0, &mut cursor).prepared().body_len, Some(13));
        // This server cannot sign anyone up, so the session scenarios are refused.
        assert!(result[&Scenario::Me].is_err());
    }

    /// A keep-alive server that ignores `Connection: close` and answers at most `answers`
    /// requests of a connection, pipelined or not, then closes it.
    async fn keep_alive_server(answers: usize) -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let plain: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: 13\r\n\r\nHello, World!";
        tokio::spawn(async move {
            while let Ok((mut io, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buf = [0u8; 8192];
                    let mut left = answers;
                    while let Ok(n) = io.read(&mut buf).await {
                        let requests = buf[..n].windows(4).filter(|w| w == b"\r\n\r\n").count();
                        let now = requests.min(left);
                        left -= now;
                        if n == 0 || io.write_all(&plain.repeat(now)).await.is_err() || left == 0 {
                            break;
                        }
                    }
                });
            }
        });
        addr
    }

    #[tokio::test]
    async fn connection_close_must_close_and_a_pipeline_must_be_answered_whole() {
        let scenarios = [Scenario::PlaintextClose, Scenario::PlaintextPipelined];
        // Answers every pipelined request, but ignores Connection: close.
        let ignores_close = prepare(keep_alive_server(usize::MAX).await, &scenarios, "t4").await;
        assert!(
            ignores_close[&Scenario::PlaintextClose]
                .as_ref()
                .is_err_and(|e| e.contains("did not close")),
            "{:?}",
            ignores_close[&Scenario::PlaintextClose].as_ref().err()
        );
        let Ok(piped) = &ignores_close[&Scenario::PlaintextPipelined] else {
            panic!("a whole pipeline was refused")
        };
        let mut cursor = 0;
        let request = piped.next(0, &mut cursor).prepared().clone();
        assert_eq!((request.responses, request.body_len), (16, Some(13)));
        // Answers the first request and closes: 15 of 16 go unanswered.
        let first_only = prepare(keep_alive_server(1).await, &scenarios, "t5").await;
        assert!(first_only[&Scenario::PlaintextPipelined].is_err());
        // Answers once and closes: plaintext-close is served right.
        let closes = fixed_server(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: 13\r\n\r\nHello, World!").await;
        let closing = prepare(closes, &scenarios[..1], "t6").await;
        assert!(closing[&Scenario::PlaintextClose].is_ok());
    }
}
