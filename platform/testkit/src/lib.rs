//! What the tests of several crates share (a dev-dependency only; nothing here ships).
//!
//! - [`WebhookReceiver`]: a local HTTP/1.1 receiver of webhook POSTs, as an integrator runs one, that answers 503
//!   to its first requests and 200 after, and keeps what it accepted.
//! - [`stored_log`]: the event logs an earlier version wrote, and the state it folded them into.

pub mod stored_log;

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicU32, Ordering},
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

/// One request the receiver accepted: its headers and body.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Received {
    /// A header by name, in any case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// A webhook receiver on a free local port; it runs until the test's runtime ends.
pub struct WebhookReceiver {
    pub url: String,
    /// Every request it received, failed or not.
    pub tries: Arc<AtomicU32>,
    /// The requests it answered 200, in order.
    pub accepted: Arc<Mutex<Vec<Received>>>,
}

impl WebhookReceiver {
    /// Listens at `http://127.0.0.1:<free port><path>`; answers 503 to the first `failures` requests.
    pub async fn start(path: &str, failures: u32) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free local port");
        let url = format!("http://{}{path}", listener.local_addr().expect("its address"));
        let tries = Arc::new(AtomicU32::new(0));
        let accepted = Arc::new(Mutex::new(Vec::new()));
        let (counter, log) = (tries.clone(), accepted.clone());
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let (counter, log) = (counter.clone(), log.clone());
                tokio::spawn(async move {
                    let Some(request) = read_request(&mut socket).await else { return };
                    let status = if counter.fetch_add(1, Ordering::SeqCst) < failures {
                        "503 Service Unavailable"
                    } else {
                        log.lock().expect("the receiver's log").push(request);
                        "200 OK"
                    };
                    let answer = format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                    let _ = socket.write_all(answer.as_bytes()).await;
                    let _ = socket.shutdown().await;
                });
            }
        });
        Self { url, tries, accepted }
    }

    /// What it has accepted so far.
    pub fn received(&self) -> Vec<Received> {
        self.accepted.lock().expect("the receiver's log").clone()
    }
}

/// Reads one HTTP/1.1 request with a Content-Length body.
async fn read_request(socket: &mut TcpStream) -> Option<Received> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
        if let Some(i) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).to_string();
    let headers: Vec<(String, String)> = head
        .lines()
        .skip(1)
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buffer[head_end + 4..].to_vec();
    while body.len() < length {
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some(Received { headers, body: String::from_utf8(body).ok()? })
}
