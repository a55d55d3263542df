//! `<binary> healthcheck`: the container probe, so images need no curl.
//!
//! Sends `GET <path>` to the service's own listener (`BIND_ADDR`:`PORT`, with an unspecified
//! `BIND_ADDR` such as `0.0.0.0` probed on loopback) and exits 0 on a 2xx answer, 1 on
//! anything else (refused, timed out, non-2xx, unreadable). Plain blocking std I/O: no
//! runtime, no TLS, no dependency, a few milliseconds.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::process::ExitCode;
use std::time::Duration;

/// How long the probe waits to connect, and then for the answer.
pub const TIMEOUT: Duration = Duration::from_secs(3);

/// Where the probe connects: `BIND_ADDR` and `PORT` (defaulting to `default_port`), with a
/// wildcard address turned into loopback of the same family.
pub fn target(default_port: u16) -> anyhow::Result<SocketAddr> {
    let ip = match crate::config::bind_ip()? {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    Ok(SocketAddr::new(ip, crate::config::port(default_port)?))
}

/// `GET path` on `addr`; `Ok(status)` for any HTTP answer.
pub fn probe(addr: SocketAddr, path: &str, timeout: Duration) -> anyhow::Result<u16> {
    let mut stream = TcpStream::connect_timeout(&addr, timeout)
        .map_err(|e| anyhow::anyhow!("cannot connect to {addr}: {e}"))?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: ticketflow-healthcheck\r\nConnection: close\r\n\r\n"
    )?;
    // The status line is all we need: "HTTP/1.1 200 OK".
    let mut head = [0_u8; 64];
    let mut len = 0;
    while len < 12 {
        let n = stream.read(&mut head[len..])?;
        if n == 0 {
            break;
        }
        len += n;
    }
    let line = String::from_utf8_lossy(&head[..len]);
    line.strip_prefix("HTTP/1.")
        .and_then(|rest| rest.get(2..5))
        .and_then(|code| code.parse::<u16>().ok())
        .ok_or_else(|| anyhow::anyhow!("{addr}{path} did not answer HTTP"))
}

/// The subcommand: probes `path` on the service's own port, prints one line to stderr on
/// failure, exits 0 when the answer is 2xx.
#[allow(clippy::print_stderr)]
pub fn run(service: &str, default_port: u16, path: &str) -> ExitCode {
    let outcome = target(default_port).and_then(|addr| Ok((addr, probe(addr, path, TIMEOUT)?)));
    match outcome {
        Ok((_, status)) if (200..300).contains(&status) => ExitCode::SUCCESS,
        Ok((addr, status)) => {
            eprintln!("{service} healthcheck: GET http://{addr}{path} answered {status}");
            ExitCode::FAILURE
        }
        Err(err) => {
            eprintln!("{service} healthcheck: {err:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::BufRead;
    use std::net::TcpListener;

    fn answer_once(status_line: &'static str) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            reader.read_line(&mut request_line).unwrap();
            assert!(request_line.starts_with("GET /health/ready HTTP/1.1"));
            let mut stream = stream;
            write!(stream, "{status_line}\r\ncontent-length: 0\r\n\r\n").unwrap();
        });
        addr
    }

    #[test]
    fn reads_the_status_of_the_answer() {
        let ok = answer_once("HTTP/1.1 200 OK");
        assert_eq!(probe(ok, "/health/ready", TIMEOUT).unwrap(), 200);
        let down = answer_once("HTTP/1.1 503 Service Unavailable");
        assert_eq!(probe(down, "/health/ready", TIMEOUT).unwrap(), 503);
    }

    #[test]
    fn nobody_listening_is_an_error() {
        let addr = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        assert!(probe(addr, "/health", Duration::from_millis(500)).is_err());
    }
}
