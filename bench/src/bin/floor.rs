//! `floor`: the least a Rust server on hyper 1 does for the cheap scenarios (BENCH.md 4.3),
//! the reference under the `hyper` backend. It answers `/plaintext`, `/json` (serialised per
//! request), `/healthz` and `/` (the site's home page, with an ETag) from memory, with no site
//! logic: no admission
//! rules, no negotiation, no header-read timeout, no access log. It is not the site and is not
//! verified against the contract; `hyper` / `floor` is what the site's own rules cost.
//! It takes the backends' flags so the bench starts it like one (`--database`, `--admin`
//! and the switches are accepted and ignored).

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, ETAG, HeaderValue, SERVER};
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;

#[derive(serde::Serialize)]
struct Message {
    message: &'static str,
}

const HOME: &[u8] = include_bytes!("../../../core/static/index.html");

fn main() -> ExitCode {
    let (addr, workers) = match flags(std::env::args().skip(1)) {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: tokio: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(addr)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: sitebench-floor: {e}");
            ExitCode::from(2)
        }
    }
}

/// `--bind ADDR --port N --workers N`; the backends' other flags are taken and ignored.
fn flags(mut args: impl Iterator<Item = String>) -> Result<(SocketAddr, usize), String> {
    let (mut ip, mut port, mut workers): (IpAddr, u16, usize) = ([127, 0, 0, 1].into(), 8080, 1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--bind" => ip = value()?.parse().map_err(|e| format!("--bind: {e}"))?,
            "--port" => port = value()?.parse().map_err(|e| format!("--port: {e}"))?,
            "--workers" => workers = value()?.parse().map_err(|e| format!("--workers: {e}"))?,
            "--database" | "--static-dir" | "--admin" => {
                value()?;
            }
            "--quiet" | "--secure-cookies" => {}
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok((SocketAddr::new(ip, port), workers.max(1)))
}

async fn serve(addr: SocketAddr) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!(
        "sitebench-floor listening on http://{}",
        listener.local_addr()?
    );
    let etag = HeaderValue::from_static("\"floor-home\"");
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of file descriptors and the like: back off, as backend-hyper's loop does
                // (returning the error ended the process: bench/tests/out_of_descriptors.rs).
                Err(_) => {
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    continue;
                }
            },
            _ = terminate.recv() => return Ok(()),
        };
        let _ = stream.set_nodelay(true);
        let etag = etag.clone();
        let service = service_fn(move |request| answer(request, etag.clone()));
        tokio::spawn(async move {
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn answer(
    request: Request<Incoming>,
    etag: HeaderValue,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (status, content_type, body): (StatusCode, &'static str, &'static [u8]) =
        match request.uri().path() {
            "/plaintext" => (
                StatusCode::OK,
                "text/plain; charset=utf-8",
                b"Hello, World!",
            ),
            // Serialised per request, as TechEmpower's json test (and the site) do.
            "/json" => {
                let body = serde_json::to_vec(&Message {
                    message: "Hello, World!",
                })
                .unwrap_or_default();
                return Ok(respond(
                    StatusCode::OK,
                    "application/json",
                    Bytes::from(body),
                    None,
                ));
            }
            "/healthz" => (StatusCode::OK, "text/plain; charset=utf-8", b"ok"),
            "/" => (StatusCode::OK, "text/html; charset=utf-8", HOME),
            _ => (
                StatusCode::NOT_FOUND,
                "text/plain; charset=utf-8",
                b"not here",
            ),
        };
    let etag = (request.uri().path() == "/").then_some(etag);
    Ok(respond(
        status,
        content_type,
        Bytes::from_static(body),
        etag,
    ))
}

fn respond(
    status: StatusCode,
    content_type: &'static str,
    body: Bytes,
    etag: Option<HeaderValue>,
) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(SERVER, HeaderValue::from_static("sitebench-floor"));
    if let Some(etag) = etag {
        headers.insert(ETAG, etag);
    }
    response
}
