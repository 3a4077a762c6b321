//! Reading HTTP/1.1 responses just far enough to check them: the status, the framing
//! (`Content-Length`, chunked, or until close) and the body length, with the headers kept
//! only when verification asks for them. Reads may split a response anywhere; the buffer is
//! reused between requests so the hot loop allocates nothing.

use tokio::io::{AsyncRead, AsyncReadExt};

/// At most this many header lines are parsed in a response.
const MAX_HEADERS: usize = 64;
/// A response head larger than this is treated as an error.
const MAX_HEAD: usize = 64 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    /// Body bytes after transfer decoding.
    pub body_len: usize,
    /// False when the server said `Connection: close` or framed the body by closing.
    pub keep_alive: bool,
    /// Headers (lower-case names) and body, only when asked for.
    pub detail: Option<Detail>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Detail {
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Detail {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    /// The connection closed before a whole response arrived.
    Closed,
    Io(String),
    Malformed(&'static str),
    /// Bytes arrived that belong to no request sent.
    Unsolicited,
}

enum Framing {
    Length(usize),
    Chunked,
    UntilClose,
}

/// Reads one whole response from `io` into `buf` (left empty afterwards).
/// `head_request` means the response has no body whatever its headers say.
pub async fn read_response<R: AsyncRead + Unpin>(
    io: &mut R,
    buf: &mut Vec<u8>,
    head_request: bool,
    keep_detail: bool,
) -> Result<Response, ReadError> {
    read(io, buf, head_request, keep_detail, false).await
}

/// Reads the next response of a connection; with `more`, more responses were asked for at
/// once (pipelined), and the bytes after this one, the start of the next, are left in `buf`.
/// Headers and body are kept when asked.
pub async fn read_next<R: AsyncRead + Unpin>(
    io: &mut R,
    buf: &mut Vec<u8>,
    keep_detail: bool,
    more: bool,
) -> Result<Response, ReadError> {
    read(io, buf, false, keep_detail, more).await
}

/// Waits for the server to close the connection after its last response, as it must after a
/// request that said `Connection: close`: any byte that arrives instead is an error.
pub async fn read_close<R: AsyncRead + Unpin>(
    io: &mut R,
    buf: &mut Vec<u8>,
) -> Result<(), ReadError> {
    if !buf.is_empty() {
        return Err(ReadError::Unsolicited);
    }
    match fill(io, buf).await {
        Err(ReadError::Closed) => Ok(()),
        // A reset after the response is a close too: the response was whole.
        Err(ReadError::Io(_)) => Ok(()),
        Err(e) => Err(e),
        Ok(()) => {
            buf.clear();
            Err(ReadError::Unsolicited)
        }
    }
}

async fn read<R: AsyncRead + Unpin>(
    io: &mut R,
    buf: &mut Vec<u8>,
    head_request: bool,
    keep_detail: bool,
    leave_rest: bool,
) -> Result<Response, ReadError> {
    let (status, head_len, framing, keep_alive, headers) = loop {
        if let Some(parsed) = parse_head(buf, head_request, keep_detail)? {
            break parsed;
        }
        if buf.len() > MAX_HEAD {
            return Err(ReadError::Malformed("response head too large"));
        }
        fill(io, buf).await?;
    };
    let mut response = Response {
        status,
        body_len: 0,
        keep_alive,
        detail: headers.map(|headers| Detail {
            headers,
            body: Vec::new(),
        }),
    };
    let end = match framing {
        Framing::Length(len) => {
            while buf.len() < head_len + len {
                fill(io, buf).await?;
            }
            response.body_len = len;
            if let Some(detail) = &mut response.detail {
                detail.body = buf[head_len..head_len + len].to_vec();
            }
            head_len + len
        }
        Framing::Chunked => {
            let (body, end) = read_chunked(io, buf, head_len).await?;
            response.body_len = body.len();
            if let Some(detail) = &mut response.detail {
                detail.body = body;
            }
            end
        }
        Framing::UntilClose => {
            loop {
                match fill(io, buf).await {
                    Ok(()) => {}
                    Err(ReadError::Closed) => break,
                    Err(e) => return Err(e),
                }
            }
            response.body_len = buf.len() - head_len;
            response.keep_alive = false;
            if let Some(detail) = &mut response.detail {
                detail.body = buf[head_len..].to_vec();
            }
            buf.len()
        }
    };
    if leave_rest {
        buf.drain(..end);
    } else if buf.len() > end {
        return Err(ReadError::Unsolicited);
    } else {
        buf.clear();
    }
    Ok(response)
}

type Head = (u16, usize, Framing, bool, Option<Vec<(String, String)>>);

fn parse_head(
    buf: &[u8],
    head_request: bool,
    keep_detail: bool,
) -> Result<Option<Head>, ReadError> {
    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Response::new(&mut slots);
    let head_len = match parsed.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(_) => return Err(ReadError::Malformed("bad response head")),
    };
    let status = parsed.code.ok_or(ReadError::Malformed("no status"))?;
    let mut length = None;
    let mut chunked = false;
    let mut keep_alive = parsed.version == Some(1);
    for header in parsed.headers.iter() {
        if header.name.eq_ignore_ascii_case("content-length") {
            let value = std::str::from_utf8(header.value)
                .ok()
                .and_then(|v| v.trim().parse::<usize>().ok())
                .ok_or(ReadError::Malformed("bad Content-Length"))?;
            if length.is_some_and(|l| l != value) {
                return Err(ReadError::Malformed("conflicting Content-Length"));
            }
            length = Some(value);
        } else if header.name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = header.value.to_ascii_lowercase().ends_with(b"chunked");
        } else if header.name.eq_ignore_ascii_case("connection") {
            let value = header.value.to_ascii_lowercase();
            if value.windows(5).any(|w| w == b"close") {
                keep_alive = false;
            } else if value.windows(10).any(|w| w == b"keep-alive") {
                keep_alive = true;
            }
        }
    }
    let framing = if head_request || matches!(status, 100..=199 | 204 | 304) {
        Framing::Length(0)
    } else if chunked {
        Framing::Chunked
    } else if let Some(len) = length {
        Framing::Length(len)
    } else {
        Framing::UntilClose
    };
    let headers = keep_detail.then(|| {
        parsed
            .headers
            .iter()
            .map(|h| {
                (
                    h.name.to_ascii_lowercase(),
                    String::from_utf8_lossy(h.value).into_owned(),
                )
            })
            .collect()
    });
    Ok(Some((status, head_len, framing, keep_alive, headers)))
}

/// Decodes a chunked body that starts at `buf[start..]`, reading more as needed; also where
/// the body ends in `buf`.
async fn read_chunked<R: AsyncRead + Unpin>(
    io: &mut R,
    buf: &mut Vec<u8>,
    start: usize,
) -> Result<(Vec<u8>, usize), ReadError> {
    let mut body = Vec::new();
    let mut at = start;
    loop {
        let line_end = loop {
            if let Some(pos) = buf[at..].windows(2).position(|w| w == b"\r\n") {
                break at + pos;
            }
            fill(io, buf).await?;
        };
        let size_text = std::str::from_utf8(&buf[at..line_end])
            .map_err(|_| ReadError::Malformed("bad chunk size"))?;
        let size_text = size_text.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| ReadError::Malformed("bad chunk size"))?;
        at = line_end + 2;
        if size == 0 {
            // Trailers (none expected) end with an empty line.
            loop {
                if let Some(pos) = buf[at..].windows(2).position(|w| w == b"\r\n") {
                    if pos == 0 {
                        at += 2;
                        break;
                    }
                    at += pos + 2;
                    continue;
                }
                fill(io, buf).await?;
            }
            return Ok((body, at));
        }
        while buf.len() < at + size + 2 {
            fill(io, buf).await?;
        }
        body.extend_from_slice(&buf[at..at + size]);
        if &buf[at + size..at + size + 2] != b"\r\n" {
            return Err(ReadError::Malformed("chunk not followed by CRLF"));
        }
        at += size + 2;
    }
}

async fn fill<R: AsyncRead + Unpin>(io: &mut R, buf: &mut Vec<u8>) -> Result<(), ReadError> {
    if buf.capacity() - buf.len() < 4096 {
        buf.reserve(8192);
    }
    match io.read_buf(buf).await {
        Ok(0) => Err(ReadError::Closed),
        Ok(_) => Ok(()),
        Err(e) => Err(ReadError::Io(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::pin::Pin;
    use std::task::{Context, Poll};
    use tokio::io::ReadBuf;

    /// Yields the given pieces one read at a time, then end of stream.
    struct Pieces(std::collections::VecDeque<Vec<u8>>);

    impl AsyncRead for Pieces {
        fn poll_read(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            out: &mut ReadBuf<'_>,
        ) -> Poll<std::io::Result<()>> {
            if let Some(piece) = self.0.pop_front() {
                out.put_slice(&piece);
            }
            Poll::Ready(Ok(()))
        }
    }

    fn split_everywhere(bytes: &[u8]) -> Vec<Pieces> {
        (1..bytes.len())
            .map(|at| Pieces(vec![bytes[..at].to_vec(), bytes[at..].to_vec()].into()))
            .chain(std::iter::once(Pieces(
                bytes.iter().map(|b| vec![*b]).collect(),
            )))
            .collect()
    }

    async fn read(pieces: &mut Pieces, head: bool) -> Result<Response, ReadError> {
        read_response(pieces, &mut Vec::new(), head, true).await
    }

    const PLAIN: &[u8] =
        b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 13\r\n\r\nHello, World!";

    #[tokio::test]
    async fn any_split_of_a_response_reads_the_same() {
        for mut pieces in split_everywhere(PLAIN) {
            let response = read(&mut pieces, false).await.expect("complete");
            assert_eq!(
                (response.status, response.body_len, response.keep_alive),
                (200, 13, true)
            );
            assert_eq!(response.detail.expect("kept").body, b"Hello, World!");
        }
    }

    #[tokio::test]
    async fn keep_alive_reads_back_to_back_responses_on_one_buffer() {
        let mut pieces = Pieces(
            vec![
                PLAIN.to_vec(),
                b"HTTP/1.1 304 Not Modified\r\netag: \"x\"\r\n\r\n".to_vec(),
                PLAIN.to_vec(),
            ]
            .into(),
        );
        let mut buf = Vec::new();
        let statuses: Vec<u16> = [
            read_response(&mut pieces, &mut buf, false, false).await,
            read_response(&mut pieces, &mut buf, false, false).await,
            read_response(&mut pieces, &mut buf, false, false).await,
        ]
        .into_iter()
        .map(|r| r.expect("complete").status)
        .collect();
        assert_eq!(statuses, [200, 304, 200]);
    }

    #[tokio::test]
    async fn wrong_lengths_are_errors() {
        let short = b"HTTP/1.1 200 OK\r\ncontent-length: 20\r\n\r\nHello".to_vec();
        assert_eq!(
            read(&mut Pieces(vec![short].into()), false).await,
            Err(ReadError::Closed)
        );
        let long = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nHello".to_vec();
        assert_eq!(
            read(&mut Pieces(vec![long].into()), false).await,
            Err(ReadError::Unsolicited)
        );
        let conflict =
            b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\nab".to_vec();
        assert!(matches!(
            read(&mut Pieces(vec![conflict].into()), false).await,
            Err(ReadError::Malformed(_))
        ));
        let garbage = b"HTTQ/1.1 200 OK\r\n\r\n".to_vec();
        assert!(matches!(
            read(&mut Pieces(vec![garbage].into()), false).await,
            Err(ReadError::Malformed(_))
        ));
    }

    #[tokio::test]
    async fn head_and_chunked_and_close_framing() {
        let head = b"HTTP/1.1 200 OK\r\ncontent-length: 13\r\n\r\n".to_vec();
        assert_eq!(
            read(&mut Pieces(vec![head].into()), true)
                .await
                .map(|r| r.body_len),
            Ok(0)
        );
        let chunked = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nHello\r\n8;x=y\r\n, World!\r\n0\r\n\r\n";
        for mut pieces in split_everywhere(chunked) {
            let r = read(&mut pieces, false).await.expect("complete");
            assert_eq!(r.detail.expect("kept").body, b"Hello, World!");
        }
        let close = b"HTTP/1.0 200 OK\r\n\r\nuntil close".to_vec();
        let r = read(&mut Pieces(vec![close].into()), false)
            .await
            .expect("complete");
        assert_eq!((r.body_len, r.keep_alive), (11, false));
    }

    #[tokio::test]
    async fn pipelined_responses_arriving_together_are_read_one_by_one() {
        let chunked: &[u8] =
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nHi\r\n0\r\n\r\n";
        let together = [PLAIN, chunked, PLAIN].concat();
        for mut pieces in split_everywhere(&together) {
            let mut buf = Vec::new();
            let mut lengths = Vec::new();
            for _ in 0..3 {
                let response = read_next(&mut pieces, &mut buf, false, true)
                    .await
                    .expect("whole");
                lengths.push(response.body_len);
            }
            assert_eq!(lengths, [13, 2, 13]);
            assert!(buf.is_empty());
            assert_eq!(read_close(&mut pieces, &mut buf).await, Ok(()));
        }
        // Read as one response, the same bytes are a response and then bytes nobody asked for.
        let mut one = Pieces(vec![together.clone()].into());
        assert_eq!(
            read_response(&mut one, &mut Vec::new(), false, false).await,
            Err(ReadError::Unsolicited)
        );
    }

    #[tokio::test]
    async fn a_connection_that_should_close_but_sends_more_is_an_error() {
        let mut more = Pieces(vec![PLAIN.to_vec()].into());
        assert_eq!(
            read_close(&mut more, &mut Vec::new()).await,
            Err(ReadError::Unsolicited)
        );
    }
}
