use anyhow::ensure;
use bytes::Bytes;
use ticketflow_common::auth::Role;

use crate::support::{expect_error, pattern, single_echo, token, Seen};

const MIB: usize = 1024 * 1024;

#[tokio::test]
async fn oversized_body_with_content_length_is_413_before_forwarding() -> anyhow::Result<()> {
    let (echo, gateway) = single_echo(|_| {}).await?;
    let (_, bearer) = token(Role::User)?;
    let response = gateway
        .http
        .post(gateway.at("/api/bookings"))
        .bearer_auth(&bearer)
        .body(vec![b'x'; 2 * MIB])
        .send()
        .await?;
    expect_error(response, 413, "PAYLOAD_TOO_LARGE").await?;
    ensure!(echo.count() == 0, "nothing forwarded");
    Ok(())
}

#[tokio::test]
async fn oversized_chunked_body_is_413_while_streaming() -> anyhow::Result<()> {
    let (echo, gateway) = single_echo(|_| {}).await?;
    let (_, bearer) = token(Role::User)?;
    // 32 chunks of 64 KiB, no Content-Length: only counting while streaming can catch it.
    let chunks: Vec<Result<Bytes, std::io::Error>> = (0..32)
        .map(|_| Ok(Bytes::from(vec![b'y'; 64 * 1024])))
        .collect();
    let response = gateway
        .http
        .post(gateway.at("/api/bookings"))
        .bearer_auth(&bearer)
        .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
        .send()
        .await?;
    expect_error(response, 413, "PAYLOAD_TOO_LARGE").await?;
    ensure!(
        echo.seen().iter().all(|s| s.body_len <= MIB),
        "no upstream received more than 1 MiB"
    );
    Ok(())
}

#[tokio::test]
async fn large_bodies_stream_through_intact() -> anyhow::Result<()> {
    let (_echo, gateway) = single_echo(|_| {}).await?;
    let (_, bearer) = token(Role::User)?;
    // 900 KiB request, with Content-Length and chunked, echoed back byte for byte.
    let sent = pattern(900 * 1024);
    let response = gateway
        .http
        .post(gateway.at("/api/bookings?raw=1"))
        .bearer_auth(&bearer)
        .body(sent.clone())
        .send()
        .await?;
    ensure!(response.status() == 200);
    ensure!(
        response.bytes().await?.as_ref() == sent.as_slice(),
        "request body altered"
    );

    let chunks: Vec<Result<Bytes, std::io::Error>> = sent
        .chunks(100 * 1024)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    let response = gateway
        .http
        .post(gateway.at("/api/bookings?raw=1"))
        .bearer_auth(&bearer)
        .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
        .send()
        .await?;
    ensure!(response.status() == 200);
    ensure!(
        response.bytes().await?.as_ref() == sent.as_slice(),
        "chunked body altered"
    );

    // A 6 MiB response: responses are not limited, and stream back unchanged.
    let response = gateway
        .http
        .get(gateway.at("/api/events?respond_bytes=6291456"))
        .send()
        .await?;
    ensure!(response.status() == 200);
    let got = response.bytes().await?;
    ensure!(got.len() == 6 * MIB, "got {} bytes", got.len());
    ensure!(
        got.as_ref() == pattern(6 * MIB).as_slice(),
        "response body altered"
    );
    Ok(())
}

#[tokio::test]
async fn hop_by_hop_headers_are_not_forwarded_either_way() -> anyhow::Result<()> {
    let (_echo, gateway) = single_echo(|_| {}).await?;
    let raw = gateway
        .raw(
            "GET /api/events?x=1 HTTP/1.1\r\n\
             Host: tickets.example.com\r\n\
             Connection: close, X-Client-Hop\r\n\
             X-Client-Hop: secret\r\n\
             Keep-Alive: timeout=5\r\n\
             Proxy-Authorization: Basic Zm9vOmJhcg==\r\n\
             Proxy-Connection: keep-alive\r\n\
             TE: trailers\r\n\
             Trailer: X-Checksum\r\n\
             Upgrade: example/1\r\n\
             X-Kept: yes\r\n\
             \r\n",
        )
        .await?;
    ensure!(raw.status == 200, "{}", raw.status);
    let seen: Seen = serde_json::from_slice(&raw.body)?;
    for name in [
        "x-client-hop",
        "keep-alive",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "upgrade",
        "transfer-encoding",
    ] {
        ensure!(
            seen.header(name).is_none(),
            "{name} was forwarded: {seen:?}"
        );
    }
    ensure!(seen
        .header("connection")
        .is_none_or(|c| !c.contains("X-Client-Hop")));
    ensure!(seen.header("x-kept") == Some("yes"));
    ensure!(seen.header("x-forwarded-host") == Some("tickets.example.com"));
    ensure!(seen.header("x-forwarded-proto") == Some("http"));
    ensure!(seen.header("x-forwarded-for") == Some("127.0.0.1"));
    // Host is rewritten to the upstream.
    let host = seen.header("host").unwrap_or_default();
    ensure!(host.starts_with("127.0.0.1:"), "host {host}");

    // And on the way back.
    let response = gateway
        .http
        .get(gateway.at("/api/events?hop=1"))
        .send()
        .await?;
    ensure!(response.status() == 200);
    let headers = response.headers();
    ensure!(headers.get("x-upstream-hop").is_none(), "{headers:?}");
    ensure!(headers.get("keep-alive").is_none(), "{headers:?}");
    ensure!(headers.get("proxy-authenticate").is_none(), "{headers:?}");
    ensure!(
        headers.get("access-control-allow-origin").is_none(),
        "{headers:?}"
    );
    ensure!(headers.get("x-upstream-kept").is_some(), "{headers:?}");
    Ok(())
}
