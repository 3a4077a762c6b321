//! One request at a time, with headers and body kept: what verification and preparation use
//! (the load generator's parser, so what is verified is what is later timed).

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::measure::http1::{self, Detail, Response};
use crate::measure::workload::Prepared;

const TIMEOUT: Duration = Duration::from_secs(30);
/// How long a server may take to close a connection after answering `Connection: close`.
const CLOSE_WITHIN: Duration = Duration::from_secs(2);

/// Sends `request` on a new connection and reads the whole response.
pub async fn send(addr: SocketAddr, request: &[u8]) -> Result<(Response, Detail), String> {
    let exchange = async {
        let mut io = TcpStream::connect(addr)
            .await
            .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
        io.write_all(request)
            .await
            .map_err(|e| format!("cannot send: {e}"))?;
        let mut buf = Vec::new();
        let head = request.starts_with(b"HEAD ");
        let mut response = http1::read_response(&mut io, &mut buf, head, true)
            .await
            .map_err(|e| format!("bad response: {e:?}"))?;
        let detail = response.detail.take().unwrap_or_default();
        Ok((response, detail))
    };
    tokio::time::timeout(TIMEOUT, exchange)
        .await
        .map_err(|_| format!("no response from {addr} within {} s", TIMEOUT.as_secs()))?
}

/// Sends a prepared request on a new connection as the load generator will: every response
/// of a pipelined batch, each with its headers and body, and, for a request that says
/// `Connection: close`, the server's close after the response.
pub async fn exchange(
    addr: SocketAddr,
    request: &Prepared,
) -> Result<Vec<(Response, Detail)>, String> {
    let exchange = async {
        let mut io = TcpStream::connect(addr)
            .await
            .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
        io.write_all(&request.bytes)
            .await
            .map_err(|e| format!("cannot send: {e}"))?;
        let mut buf = Vec::new();
        let mut out = Vec::with_capacity(request.responses);
        for i in 0..request.responses {
            let last = i + 1 == request.responses;
            let mut response = http1::read_next(&mut io, &mut buf, true, !last)
                .await
                .map_err(|e| format!("bad response {} of {}: {e:?}", i + 1, request.responses))?;
            let detail = response.detail.take().unwrap_or_default();
            out.push((response, detail));
        }
        if request.close {
            match tokio::time::timeout(CLOSE_WITHIN, http1::read_close(&mut io, &mut buf)).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    return Err(format!(
                        "after Connection: close, the server sent more: {e:?}"
                    ));
                }
                Err(_) => {
                    return Err(format!(
                        "the server did not close the connection within {} s of answering \
                         Connection: close",
                        CLOSE_WITHIN.as_secs()
                    ));
                }
            }
        }
        Ok(out)
    };
    tokio::time::timeout(TIMEOUT, exchange)
        .await
        .map_err(|_| format!("no response from {addr} within {} s", TIMEOUT.as_secs()))?
}
