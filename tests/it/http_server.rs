//! A scripted HTTP/1.1 server on 127.0.0.1 for pull tests: each path has a behaviour
//! that can fail in the ways real servers do (500 then success, reset mid-body, short
//! body, slow, 304, hostile Content-Disposition, 429 with Retry-After).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the server does for a request.
pub type Behaviour = fn(hit: usize, headers: &HashMap<String, String>, stream: &mut TcpStream);

pub struct Server {
    pub base: String,
    pub hits: Arc<Mutex<HashMap<String, usize>>>,
}

fn head(stream: &mut TcpStream) -> Option<(String, HashMap<String, String>)> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let path = line.split_whitespace().nth(1)?.to_string();
    let mut headers = HashMap::new();
    loop {
        let mut l = String::new();
        reader.read_line(&mut l).ok()?;
        let l = l.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    Some((path, headers))
}

/// Writes a complete response.
pub fn respond(stream: &mut TcpStream, status: &str, headers: &[(&str, &str)], body: &[u8]) {
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    let _ = stream.write_all(out.as_bytes());
    let _ = stream.write_all(body);
    let _ = stream.flush();
}

/// Announces `length` bytes, sends `body` (shorter), then closes.
pub fn respond_short(stream: &mut TcpStream, length: usize, body: &[u8]) {
    let _ = stream.write_all(
        format!("HTTP/1.1 200 OK\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n")
            .as_bytes(),
    );
    let _ = stream.write_all(body);
    let _ = stream.flush();
    let _ = stream.shutdown(std::net::Shutdown::Both);
}

impl Server {
    pub fn start(routes: Vec<(&'static str, Behaviour)>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let hits: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
        let routes: Arc<HashMap<&'static str, Behaviour>> = Arc::new(routes.into_iter().collect());
        let h = hits.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let (routes, hits) = (routes.clone(), h.clone());
                std::thread::spawn(move || {
                    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                    let Some((path, headers)) = head(&mut stream) else {
                        return;
                    };
                    let hit = {
                        let mut hits = hits.lock().unwrap();
                        let n = hits.entry(path.clone()).or_default();
                        *n += 1;
                        *n
                    };
                    match routes.get(path.as_str()) {
                        Some(b) => b(hit, &headers, &mut stream),
                        None => respond(&mut stream, "404 Not Found", &[], b"no such path"),
                    }
                });
            }
        });
        Server { base, hits }
    }

    pub fn hits(&self, path: &str) -> usize {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }
}
