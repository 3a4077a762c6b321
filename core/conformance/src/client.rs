//! Talking to a server: a `reqwest` client (redirects off, every request under a timeout) for
//! ordinary requests, and a raw HTTP/1.1 connection over `tokio::net::TcpStream` for requests a
//! client library would normalise or refuse to send (odd paths, malformed syntax, slow or
//! partial requests). Both give a `Resp` that the assertions in `expect.rs` work on.

use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, Method};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

use super::Target;
use super::fail::{CheckResult, Failure};

/// The limit on every network operation unless a check says otherwise.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(10);

/// A server to talk to: its base URL and the `host:port` to connect to and send as `Host`.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    pub(crate) base: String,
    pub(crate) authority: String,
}

impl Endpoint {
    pub(crate) fn parse(base_url: &str) -> Result<Self, String> {
        let url =
            url::Url::parse(base_url).map_err(|e| format!("bad base URL {base_url:?}: {e}"))?;
        if url.scheme() != "http" {
            return Err(format!("base URL {base_url:?}: only http:// is supported"));
        }
        let host = url
            .host_str()
            .ok_or_else(|| format!("base URL {base_url:?} has no host"))?;
        let port = url
            .port_or_known_default()
            .ok_or_else(|| format!("base URL {base_url:?} has no port"))?;
        Ok(Self {
            base: format!("http://{host}:{port}"),
            authority: format!("{host}:{port}"),
        })
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// The port, for building `Origin` values.
    pub(crate) fn port(&self) -> &str {
        self.authority.rsplit(':').next().unwrap_or("")
    }
}

/// A response, whichever way it came.
#[derive(Debug, Clone)]
pub(crate) struct Resp {
    /// The request, for messages: `GET /x`.
    pub(crate) what: String,
    pub(crate) status: u16,
    /// The status line's reason phrase as sent: only a raw connection sees it (reqwest keeps
    /// the code alone).
    pub(crate) reason: Option<String>,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
    /// The request was `HEAD`: the body is empty whatever `Content-Length` says.
    pub(crate) head: bool,
}

/// What a check runs against: the target, one HTTP client, the endpoints.
pub struct Ctx {
    pub(crate) target: Target,
    pub(crate) http: reqwest::Client,
    pub(crate) main: Endpoint,
    static_dir: Option<(Endpoint, PathBuf)>,
}

impl Ctx {
    /// Checks the target's URLs and builds the HTTP client.
    pub fn new(target: &Target) -> Result<Self, String> {
        let main = Endpoint::parse(&target.base_url)?;
        let static_dir = match &target.static_dir {
            Some(sd) => Some((Endpoint::parse(&sd.base_url)?, sd.dir.clone())),
            None => None,
        };
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(TIMEOUT)
            .connect_timeout(TIMEOUT)
            .no_proxy()
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(Self {
            target: target.clone(),
            http,
            main,
            static_dir,
        })
    }

    /// The server started with `--static-dir`, and its directory; a skip when there is none.
    pub(crate) fn static_dir(&self) -> CheckResult<(&Endpoint, &Path)> {
        match &self.static_dir {
            Some((ep, dir)) => Ok((ep, dir)),
            None => Err(Failure::Skip(
                "no --static-dir server in this target".into(),
            )),
        }
    }

    /// A request to the main server.
    pub(crate) fn req(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.req_at(&self.main, method, path)
    }

    pub(crate) fn req_at(
        &self,
        ep: &Endpoint,
        method: Method,
        path: &str,
    ) -> reqwest::RequestBuilder {
        self.http.request(method, ep.url(path))
    }

    /// Sends a request and checks the section 1 conventions on the response.
    pub(crate) async fn send(&self, request: reqwest::RequestBuilder) -> CheckResult<Resp> {
        let resp = self.send_unchecked(request).await?;
        self.conventions(&resp)?;
        Ok(resp)
    }

    /// Sends a request; only transport problems fail.
    pub(crate) async fn send_unchecked(
        &self,
        request: reqwest::RequestBuilder,
    ) -> CheckResult<Resp> {
        let request = request
            .build()
            .map_err(|e| Failure::fail(format!("cannot build a request: {e}")))?;
        let mut what = format!("{} {}", request.method(), request.url().path());
        if let Some(query) = request.url().query() {
            what.push('?');
            what.push_str(query);
        }
        let head = request.method() == Method::HEAD;
        let response = self
            .http
            .execute(request)
            .await
            .map_err(|e| Failure::fail(format!("{what}: no response: {e}")))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response
            .bytes()
            .await
            .map_err(|e| Failure::fail(format!("{what}: reading the body failed: {e}")))?;
        Ok(Resp {
            what,
            status,
            reason: None,
            headers,
            body,
            head,
        })
    }

    pub(crate) async fn get(&self, path: &str) -> CheckResult<Resp> {
        self.send(self.req(Method::GET, path)).await
    }

    pub(crate) async fn head(&self, path: &str) -> CheckResult<Resp> {
        self.send(self.req(Method::HEAD, path)).await
    }

    pub(crate) async fn get_at(&self, ep: &Endpoint, path: &str) -> CheckResult<Resp> {
        self.send(self.req_at(ep, Method::GET, path)).await
    }

    /// `GET` with an `Accept` header.
    pub(crate) async fn get_accept(&self, path: &str, accept: &str) -> CheckResult<Resp> {
        self.send(self.req(Method::GET, path).header("accept", accept))
            .await
    }

    /// `POST` with a body of the given type (`None`: no `Content-Type`).
    pub(crate) fn post(
        &self,
        ep: &Endpoint,
        path: &str,
        content_type: Option<&str>,
        body: impl Into<Vec<u8>>,
    ) -> reqwest::RequestBuilder {
        let mut request = self.req_at(ep, Method::POST, path).body(body.into());
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        request
    }

    pub(crate) async fn post_json(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> CheckResult<Resp> {
        self.send(self.post(&self.main, path, Some("application/json"), body.to_string()))
            .await
    }

    pub(crate) async fn post_form(&self, path: &str, pairs: &[(&str, &str)]) -> CheckResult<Resp> {
        self.send(self.post(&self.main, path, Some(FORM), form(pairs)))
            .await
    }

    /// Sends raw bytes on a new connection and reads one response.
    pub(crate) async fn raw(&self, ep: &Endpoint, request: &[u8]) -> CheckResult<Reply> {
        let mut conn = RawConn::open(ep).await?;
        conn.send(request).await?;
        conn.read_reply(request.starts_with(b"HEAD ")).await
    }

    /// Like `raw`, but a closed connection fails and the conventions are checked.
    pub(crate) async fn raw_resp(&self, ep: &Endpoint, request: &[u8]) -> CheckResult<Resp> {
        let resp = self.raw(ep, request).await?.response()?;
        self.conventions(&resp)?;
        Ok(resp)
    }

    /// `GET <target>` sent verbatim (no normalisation), conventions checked.
    pub(crate) async fn raw_get(&self, ep: &Endpoint, target: &str) -> CheckResult<Resp> {
        self.raw_resp(ep, get_request(ep, "GET", target, &[]).as_bytes())
            .await
    }
}

/// The form content type.
pub(crate) const FORM: &str = "application/x-www-form-urlencoded";

/// A `application/x-www-form-urlencoded` body.
pub(crate) fn form(pairs: &[(&str, &str)]) -> String {
    let mut serializer = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs {
        serializer.append_pair(name, value);
    }
    serializer.finish()
}

/// A request without a body, with `Host` and `Connection: close`, plus extra header lines.
pub(crate) fn get_request(ep: &Endpoint, method: &str, target: &str, extra: &[&str]) -> String {
    let mut request = format!(
        "{method} {target} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
        ep.authority
    );
    for line in extra {
        request.push_str(line);
        request.push_str("\r\n");
    }
    request.push_str("\r\n");
    request
}

/// A `POST` with a body and `Content-Length`, `Connection: close`.
pub(crate) fn post_request(
    ep: &Endpoint,
    target: &str,
    content_type: &str,
    body: &[u8],
) -> Vec<u8> {
    let mut request = format!(
        "POST {target} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        ep.authority,
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    request
}

/// What came back on a raw connection.
#[derive(Debug)]
pub(crate) enum Reply {
    Response(Resp),
    /// The connection ended (end of stream or reset) before any response byte.
    Closed(String),
}

impl Reply {
    pub(crate) fn response(self) -> CheckResult<Resp> {
        match self {
            Self::Response(resp) => Ok(resp),
            Self::Closed(how) => Err(Failure::fail(format!(
                "expected a response, the connection was closed ({how})"
            ))),
        }
    }
}

/// One HTTP/1.1 connection driven byte by byte.
pub(crate) struct RawConn {
    read: OwnedReadHalf,
    write: Option<OwnedWriteHalf>,
    buf: Vec<u8>,
    what: String,
    pub(crate) timeout: Duration,
    /// Set once the peer closed or reset: why.
    closed: Option<String>,
}

impl RawConn {
    pub(crate) async fn open(ep: &Endpoint) -> CheckResult<Self> {
        let stream = tokio::time::timeout(TIMEOUT, TcpStream::connect(&ep.authority))
            .await
            .map_err(|_| Failure::fail(format!("connecting to {} timed out", ep.authority)))?
            .map_err(|e| Failure::fail(format!("cannot connect to {}: {e}", ep.authority)))?;
        let _ = stream.set_nodelay(true);
        let (read, write) = stream.into_split();
        Ok(Self {
            read,
            write: Some(write),
            buf: Vec::new(),
            what: String::from("raw request"),
            timeout: TIMEOUT,
            closed: None,
        })
    }

    fn remember(&mut self, bytes: &[u8]) {
        if let Some(line) = bytes.split(|&b| b == b'\n').next() {
            let line = String::from_utf8_lossy(line);
            let line = line.trim_end();
            let mut shown: String = line.chars().take(120).collect();
            if shown.len() < line.len() {
                shown.push_str("...");
            }
            if let Some(stripped) = shown
                .strip_suffix(" HTTP/1.1")
                .or_else(|| shown.strip_suffix(" HTTP/1.0"))
            {
                shown = stripped.to_owned();
            }
            self.what = format!("raw `{}`", shown.escape_debug());
        }
    }

    /// Writes bytes; an error fails the check.
    pub(crate) async fn send(&mut self, bytes: &[u8]) -> CheckResult<()> {
        if self.what == "raw request" {
            self.remember(bytes);
        }
        let what = self.what.clone();
        let Some(write) = self.write.as_mut() else {
            fail!("{what}: the write half was handed to a background writer");
        };
        tokio::time::timeout(self.timeout, write.write_all(bytes))
            .await
            .map_err(|_| Failure::fail(format!("{what}: writing timed out")))?
            .map_err(|e| Failure::fail(format!("{what}: writing failed: {e}")))
    }

    /// Writes bytes, tolerating a peer that already closed; true if all were written.
    pub(crate) async fn send_lossy(&mut self, bytes: &[u8]) -> bool {
        if self.what == "raw request" {
            self.remember(bytes);
        }
        match self.write.as_mut() {
            Some(write) => matches!(
                tokio::time::timeout(self.timeout, write.write_all(bytes)).await,
                Ok(Ok(()))
            ),
            None => false,
        }
    }

    /// Writes `bytes` on a background task while the caller reads (for requests the server may
    /// answer and close before they are complete). Write errors are ignored.
    pub(crate) fn send_in_background(&mut self, bytes: Vec<u8>) {
        if self.what == "raw request" {
            self.remember(&bytes);
        }
        if let Some(mut write) = self.write.take() {
            tokio::spawn(async move {
                for chunk in bytes.chunks(16 * 1024) {
                    match tokio::time::timeout(TIMEOUT, write.write_all(chunk)).await {
                        Ok(Ok(())) => {}
                        _ => return,
                    }
                }
                // Keep the write half open a little so the server does not see an early EOF.
                tokio::time::sleep(TIMEOUT).await;
                drop(write);
            });
        }
    }

    /// Hands the write half to a background task that sends one byte of `bytes` every `pace`.
    pub(crate) fn trickle_in_background(&mut self, bytes: Vec<u8>, pace: Duration) {
        if let Some(mut write) = self.write.take() {
            tokio::spawn(async move {
                for byte in bytes {
                    tokio::time::sleep(pace).await;
                    match tokio::time::timeout(TIMEOUT, write.write_all(&[byte])).await {
                        Ok(Ok(())) => {}
                        _ => return,
                    }
                }
            });
        }
    }

    /// Reads more bytes into the buffer; false at end of stream or reset.
    async fn fill(&mut self, limit: Duration) -> CheckResult<bool> {
        if self.closed.is_some() {
            return Ok(false);
        }
        let mut chunk = [0_u8; 16 * 1024];
        match tokio::time::timeout(limit, self.read.read(&mut chunk)).await {
            Err(_) => Err(Failure::fail(format!(
                "{}: no (complete) response within {} s",
                self.what,
                limit.as_secs()
            ))),
            Ok(Ok(0)) => {
                self.closed = Some("end of stream".into());
                Ok(false)
            }
            Ok(Ok(n)) => {
                self.buf.extend_from_slice(&chunk[..n]);
                Ok(true)
            }
            Ok(Err(e)) => {
                self.closed = Some(format!("{e}"));
                Ok(false)
            }
        }
    }

    /// Waits until the peer closes the connection; answers read meanwhile are returned.
    /// `Err` if it is still open after `limit`.
    pub(crate) async fn wait_closed(&mut self, limit: Duration) -> CheckResult<Vec<u8>> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                fail!(
                    "{}: the connection was still open after {} s",
                    self.what,
                    limit.as_secs()
                );
            }
            match self.fill(left).await {
                Ok(true) => {}
                Ok(false) => return Ok(std::mem::take(&mut self.buf)),
                Err(_) => fail!(
                    "{}: the connection was still open after {} s",
                    self.what,
                    limit.as_secs()
                ),
            }
        }
    }

    /// Reads one complete response (skipping interim 1xx ones).
    pub(crate) async fn read_reply(&mut self, head: bool) -> CheckResult<Reply> {
        loop {
            let end = loop {
                if let Some(end) = find(&self.buf, b"\r\n\r\n") {
                    break end;
                }
                if self.buf.len() > 1024 * 1024 {
                    fail!("{}: the response header is over 1 MiB", self.what);
                }
                if !self.fill(self.timeout).await? {
                    if self.buf.is_empty() {
                        return Ok(Reply::Closed(self.closed.clone().unwrap_or_default()));
                    }
                    fail!(
                        "{}: the connection closed inside the response header: {:?}",
                        self.what,
                        String::from_utf8_lossy(&self.buf)
                    );
                }
            };
            let head_bytes: Vec<u8> = self.buf.drain(..end + 4).collect();
            let (status, reason, headers) = parse_head(&head_bytes)
                .map_err(|e| Failure::fail(format!("{}: {e}", self.what)))?;
            if (100..200).contains(&status) && status != 101 {
                continue;
            }
            let body = if head || (100..200).contains(&status) || status == 204 || status == 304 {
                Bytes::new()
            } else {
                self.read_body(&headers).await?
            };
            return Ok(Reply::Response(Resp {
                what: self.what.clone(),
                status,
                reason: Some(reason),
                headers,
                body,
                head,
            }));
        }
    }

    async fn read_body(&mut self, headers: &HeaderMap) -> CheckResult<Bytes> {
        let chunked = headers
            .get_all(http::header::TRANSFER_ENCODING)
            .iter()
            .any(|v| {
                v.to_str()
                    .is_ok_and(|v| v.to_ascii_lowercase().contains("chunked"))
            });
        if chunked {
            return self.read_chunked().await;
        }
        if let Some(length) = headers.get(http::header::CONTENT_LENGTH) {
            let length: usize = length
                .to_str()
                .ok()
                .and_then(|v| v.trim().parse().ok())
                .ok_or_else(|| {
                    Failure::fail(format!(
                        "{}: unparsable Content-Length {length:?}",
                        self.what
                    ))
                })?;
            while self.buf.len() < length {
                if !self.fill(self.timeout).await? {
                    fail!(
                        "{}: the connection closed after {} of {length} body bytes",
                        self.what,
                        self.buf.len()
                    );
                }
            }
            return Ok(Bytes::from(self.buf.drain(..length).collect::<Vec<u8>>()));
        }
        while self.fill(self.timeout).await? {}
        Ok(Bytes::from(std::mem::take(&mut self.buf)))
    }

    async fn read_chunked(&mut self) -> CheckResult<Bytes> {
        let mut body = Vec::new();
        loop {
            let line = self.read_line().await?;
            let size_text = line.split(';').next().unwrap_or("").trim();
            let size = usize::from_str_radix(size_text, 16).map_err(|_| {
                Failure::fail(format!(
                    "{}: bad chunk size {line:?} in the response",
                    self.what
                ))
            })?;
            if size == 0 {
                while !self.read_line().await?.is_empty() {}
                return Ok(Bytes::from(body));
            }
            while self.buf.len() < size + 2 {
                if !self.fill(self.timeout).await? {
                    fail!("{}: the connection closed inside a chunk", self.what);
                }
            }
            body.extend(self.buf.drain(..size));
            self.buf.drain(..2);
        }
    }

    async fn read_line(&mut self) -> CheckResult<String> {
        loop {
            if let Some(end) = find(&self.buf, b"\r\n") {
                let line: Vec<u8> = self.buf.drain(..end + 2).collect();
                return Ok(String::from_utf8_lossy(&line[..end]).into_owned());
            }
            if !self.fill(self.timeout).await? {
                fail!("{}: the connection closed inside a chunked body", self.what);
            }
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Status line (code and reason phrase) and header fields of a response head (ending in the
/// blank line).
pub(crate) fn parse_head(bytes: &[u8]) -> Result<(u16, String, HeaderMap), String> {
    let text =
        std::str::from_utf8(bytes).map_err(|_| "the response header is not UTF-8".to_owned())?;
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or("");
    if !version.starts_with("HTTP/1.") {
        return Err(format!("bad status line {status_line:?}"));
    }
    let code = parts.next().unwrap_or("");
    let status: u16 = code
        .parse()
        .ok()
        .filter(|_| code.len() == 3)
        .ok_or_else(|| format!("bad status line {status_line:?}"))?;
    let reason = parts.next().unwrap_or("").to_owned();
    let mut headers = HeaderMap::new();
    for line in lines.filter(|l| !l.is_empty()) {
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| format!("bad header line {line:?}"))?;
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("bad header name in {line:?}"))?;
        let value = HeaderValue::from_str(value.trim())
            .map_err(|_| format!("bad header value in {line:?}"))?;
        headers.append(name, value);
    }
    Ok((status, reason, headers))
}
