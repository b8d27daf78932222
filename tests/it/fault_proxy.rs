//! A forwarding HTTP/1.1 proxy on 127.0.0.1 in front of a real server (the
//! mesh-sandbox) that answers chosen requests with an error instead of forwarding them:
//! a server failing transiently, for one message, as a test needs it to.
//!
//! One request per connection: each is forwarded with `Connection: close`, and the
//! answer goes back with `Connection: close`, byte for byte otherwise.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

struct Rule {
    method: String,
    path: String,
    status: &'static str,
    remaining: usize,
}

#[derive(Default)]
struct State {
    rules: Vec<Rule>,
    hits: HashMap<String, usize>,
}

pub struct FaultProxy {
    pub url: String,
    state: Arc<Mutex<State>>,
}

impl FaultProxy {
    /// A proxy to `upstream` (`http://127.0.0.1:<port>`).
    pub fn start(upstream: &str) -> FaultProxy {
        let upstream = upstream
            .strip_prefix("http://")
            .expect("an http:// upstream")
            .trim_end_matches('/')
            .to_string();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state: Arc<Mutex<State>> = Arc::default();
        let s = state.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (state, upstream) = (s.clone(), upstream.clone());
                std::thread::spawn(move || {
                    let _ = handle(stream, &upstream, &state);
                });
            }
        });
        FaultProxy { url, state }
    }

    /// Answers `method path` with `status` (and `Retry-After: 0`) `times` times.
    pub fn fail(&self, method: &str, path: &str, status: &'static str, times: usize) {
        self.state.lock().unwrap().rules.push(Rule {
            method: method.to_string(),
            path: path.to_string(),
            status,
            remaining: times,
        });
    }

    /// Forwards everything from now on.
    pub fn clear(&self) {
        self.state.lock().unwrap().rules.clear();
    }

    /// Requests seen for `method path`, failed or forwarded.
    pub fn hits(&self, method: &str, path: &str) -> usize {
        self.state
            .lock()
            .unwrap()
            .hits
            .get(&format!("{method} {path}"))
            .copied()
            .unwrap_or(0)
    }
}

fn handle(client: TcpStream, upstream: &str, state: &Mutex<State>) -> std::io::Result<()> {
    client.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut reader = BufReader::new(client.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let (method, path) = match (parts.next(), parts.next()) {
        (Some(m), Some(p)) => (m.to_string(), p.to_string()),
        _ => return Ok(()),
    };
    let mut headers = Vec::new();
    let mut length = 0usize;
    loop {
        let mut h = String::new();
        reader.read_line(&mut h)?;
        let h = h.trim_end().to_string();
        if h.is_empty() {
            break;
        }
        let name = h
            .split(':')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if name == "content-length" {
            length = h[h.find(':').unwrap() + 1..].trim().parse().unwrap_or(0);
        }
        if name != "connection" && name != "keep-alive" {
            headers.push(h);
        }
    }
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body)?;
    let fail = {
        let mut st = state.lock().unwrap();
        *st.hits.entry(format!("{method} {path}")).or_default() += 1;
        st.rules
            .iter_mut()
            .find(|r| r.method == method && r.path == path && r.remaining > 0)
            .map(|r| {
                r.remaining -= 1;
                r.status
            })
    };
    let mut client = client;
    if let Some(status) = fail {
        let text = br#"{"errorDescription":"injected by the test's proxy"}"#;
        write!(
            client,
            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nRetry-After: 0\r\nConnection: close\r\n\r\n",
            text.len()
        )?;
        client.write_all(text)?;
        return client.flush();
    }
    let mut up = TcpStream::connect(upstream)?;
    let mut request = format!("{method} {path} HTTP/1.1\r\n");
    for h in &headers {
        request.push_str(h);
        request.push_str("\r\n");
    }
    request.push_str("Connection: close\r\n\r\n");
    up.write_all(request.as_bytes())?;
    up.write_all(&body)?;
    let mut answer = Vec::new();
    up.read_to_end(&mut answer)?;
    // The head with its connection headers replaced, as bytes (a header may not be
    // UTF-8), then the body as it came.
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(answer.len());
    let mut out = Vec::new();
    for h in answer[..split].split(|&b| b == b'\n') {
        let h = h.strip_suffix(b"\r").unwrap_or(h);
        let name = h.split(|&b| b == b':').next().unwrap_or(b"").trim_ascii();
        if !name.eq_ignore_ascii_case(b"connection") && !name.eq_ignore_ascii_case(b"keep-alive") {
            out.extend_from_slice(h);
            out.extend_from_slice(b"\r\n");
        }
    }
    out.extend_from_slice(b"Connection: close\r\n");
    client.write_all(&out)?;
    client.write_all(answer.get(split + 2..).unwrap_or(b"\r\n"))?;
    client.flush()
}
