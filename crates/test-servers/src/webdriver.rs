//! A real headless Chromium driven over the WebDriver protocol (chromedriver on 127.0.0.1, spoken
//! to with a minimal blocking HTTP/1.1 client): the one browser harness of the workspace's
//! end-to-end page tests. Needs the Debian packages `chromium` and `chromium-driver` (or $CHROME /
//! $CHROMEDRIVER); [`Browser::start`] panics with the install hint when they are missing.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// Chromium flags: headless, no network chatter, a fixed window.
const CHROME_FLAGS: [&str; 8] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1100,900",
];

/// WebDriver key code of the right arrow.
pub const RIGHT: &str = "\u{E014}";
/// WebDriver key code of Escape.
pub const ESCAPE: &str = "\u{E00C}";

/// `$ENV`, else the first of `names` in the usual Debian folders; panics with the install hint.
pub fn find_program(env: &str, names: &[&str]) -> PathBuf {
    if let Some(p) = std::env::var_os(env) {
        return PathBuf::from(p);
    }
    for dir in ["/usr/bin", "/usr/local/bin", "/usr/lib/chromium"] {
        for name in names {
            let p = PathBuf::from(dir).join(name);
            if p.is_file() {
                return p;
            }
        }
    }
    panic!("{} not found: install the Debian packages chromium and chromium-driver (or set ${env})", names[0]);
}

/// One HTTP/1.1 request to chromedriver; returns (status, JSON body).
fn http(port: u16, method: &str, path: &str, body: Option<&Value>) -> std::io::Result<(u16, Value)> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(60)))?;
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json; charset=utf-8\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    // Read the head, then exactly Content-Length bytes or chunks up to the last one (the server
    // may keep the connection open, so reading to the end could wait for its idle timeout).
    let mut raw = Vec::new();
    let mut buf = [0u8; 16384];
    let head_end = loop {
        if let Some(p) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
        let n = s.read(&mut buf)?;
        if n == 0 {
            return Err(std::io::Error::other("connection closed before the response head"));
        }
        raw.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&raw[..head_end]).to_ascii_lowercase();
    let status: u16 = head.split_whitespace().nth(1).and_then(|v| v.parse().ok()).unwrap_or(0);
    let length =
        head.lines().find_map(|l| l.strip_prefix("content-length:")).and_then(|v| v.trim().parse::<usize>().ok());
    let chunked = head.contains("transfer-encoding: chunked");
    loop {
        let have = raw.len() - head_end;
        let done = match length {
            Some(n) => have >= n,
            None if chunked => raw[head_end..].windows(5).any(|w| w == b"0\r\n\r\n"),
            None => false,
        };
        if done {
            break;
        }
        let n = s.read(&mut buf)?;
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&buf[..n]);
    }
    let rest = &raw[head_end..];
    let body: Vec<u8> = if chunked {
        // Chunks are counted in bytes: de-chunk before decoding UTF-8.
        let mut out = Vec::new();
        let mut r = rest;
        while let Some(eol) = r.windows(2).position(|w| w == b"\r\n") {
            let n = usize::from_str_radix(String::from_utf8_lossy(&r[..eol]).trim(), 16).unwrap_or(0);
            let tail = &r[eol + 2..];
            if n == 0 || tail.len() < n {
                break;
            }
            out.extend_from_slice(&tail[..n]);
            r = tail[n..].strip_prefix(b"\r\n").unwrap_or(&tail[n..]);
        }
        out
    } else {
        rest.to_vec()
    };
    Ok((status, serde_json::from_slice(&body).unwrap_or(Value::Null)))
}

/// A chromedriver process with one headless Chromium session; both end when it is dropped.
pub struct Browser {
    driver: Child,
    port: u16,
    session: String,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Start chromedriver on a free port and open a headless Chromium session (fresh profile).
    pub fn start() -> Browser {
        let chrome = find_program("CHROME", &["chromium", "chromium-browser", "chrome"]);
        let chromedriver = find_program("CHROMEDRIVER", &["chromedriver"]);
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let driver = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", chromedriver.display()));
        let mut browser = Browser { driver, port, session: String::new(), _profile: tempfile::tempdir().unwrap() };
        let start = Instant::now();
        while !matches!(http(port, "GET", "/status", None), Ok((200, ref v)) if v["value"]["ready"] == true) {
            assert!(start.elapsed() < Duration::from_secs(20), "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        let args: Vec<String> = CHROME_FLAGS
            .iter()
            .map(|s| s.to_string())
            .chain([format!("--user-data-dir={}", browser._profile.path().display())])
            .collect();
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chrome.display().to_string(), "args": args}
        }}});
        let (status, session) = http(port, "POST", "/session", Some(&caps)).unwrap();
        assert_eq!(status, 200, "new session: {session}");
        browser.session = session["value"]["sessionId"].as_str().unwrap().to_string();
        browser
    }

    /// A WebDriver command on this session (`path` after `/session/<id>`); returns its `value`.
    pub fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let full = format!("/session/{}{path}", self.session);
        let (status, v) =
            http(self.port, method, &full, body.as_ref()).unwrap_or_else(|e| panic!("webdriver {full}: {e}"));
        assert!((200..300).contains(&status), "webdriver {full}: {status} {v}");
        v["value"].clone()
    }

    /// Open `url`.
    pub fn goto(&self, url: &str) {
        self.call("POST", "/url", Some(json!({ "url": url })));
    }

    /// Run `js` in the page and return its result.
    pub fn script(&self, js: &str) -> Value {
        self.call("POST", "/execute/sync", Some(json!({"script": js, "args": []})))
    }

    /// The element id of the first match of `css`.
    pub fn find(&self, css: &str) -> String {
        let v = self.call("POST", "/element", Some(json!({"using": "css selector", "value": css})));
        v.as_object().and_then(|o| o.values().next()).and_then(|e| e.as_str()).unwrap().to_string()
    }

    /// Click the first match of `css`.
    pub fn click(&self, css: &str) {
        let id = self.find(css);
        self.call("POST", &format!("/element/{id}/click"), Some(json!({})));
    }

    /// Type `text` into the first match of `css` (a file input takes a path).
    pub fn type_into(&self, css: &str, text: &str) {
        let id = self.find(css);
        self.call("POST", &format!("/element/{id}/value"), Some(json!({ "text": text })));
    }

    /// Press keys one after the other through the Actions API (key down + key up each).
    pub fn keys(&self, keys: &[&str]) {
        let acts: Vec<Value> = keys
            .iter()
            .flat_map(|k| [json!({"type": "keyDown", "value": k}), json!({"type": "keyUp", "value": k})])
            .collect();
        self.call("POST", "/actions", Some(json!({"actions": [{"type": "key", "id": "keyboard", "actions": acts}]})));
    }

    /// A PNG screenshot of the window, base64-encoded as WebDriver returns it.
    pub fn screenshot_base64(&self) -> String {
        self.call("GET", "/screenshot", None).as_str().unwrap_or_default().to_string()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = http(self.port, "DELETE", &format!("/session/{}", self.session), None);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
