//! A tiny HTTP/1.1 server on 127.0.0.1 for tests: serves fixed routes, one request per
//! connection, and stops when dropped. Nothing leaves the loopback interface.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What a route answers.
#[derive(Clone)]
pub enum Reply {
    /// 200 with this body.
    Body(Vec<u8>),
    /// This status and no body.
    Status(u16),
    /// 200 announcing the whole body's length, then the connection closes after `sent` bytes: a
    /// download cut off part way.
    CutOff {
        /// The whole body.
        body: Vec<u8>,
        /// How many bytes are sent.
        sent: usize,
    },
}

/// A running server.
pub struct Server {
    port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Serves `routes` (path to reply; anything else is 404) until dropped, at most two minutes.
    pub fn start(routes: HashMap<String, Reply>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(120);
            while !flag.load(Ordering::Relaxed) && Instant::now() < deadline {
                match listener.accept() {
                    Ok((stream, _)) => answer(stream, &routes),
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(5))
                    }
                    Err(_) => break,
                }
            }
        });
        Server { port, stop, thread: Some(thread) }
    }

    /// `http://127.0.0.1:PORT` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn answer(mut stream: TcpStream, routes: &HashMap<String, Reply>) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&head);
    let path = text.split_whitespace().nth(1).unwrap_or("/").to_string();
    let reply = routes.get(&path).cloned().unwrap_or(Reply::Status(404));
    let _ = match reply {
        Reply::Body(body) => send(&mut stream, 200, &body, body.len()),
        Reply::Status(code) => send(&mut stream, code, b"", 0),
        Reply::CutOff { body, sent } => send(&mut stream, 200, &body[..sent.min(body.len())], body.len()),
    };
}

fn send(stream: &mut TcpStream, code: u16, body: &[u8], declared: usize) -> std::io::Result<()> {
    let reason = if code == 200 { "OK" } else { "Error" };
    write!(stream, "HTTP/1.1 {code} {reason}\r\nContent-Length: {declared}\r\nConnection: close\r\n\r\n")?;
    stream.write_all(body)?;
    stream.flush()
}
