//! One request at a time, with headers and body kept: what verification and preparation use
//! (the load generator's parser, so what is verified is what is later timed).

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::measure::http1::{self, Detail, Response};

const TIMEOUT: Duration = Duration::from_secs(30);

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
