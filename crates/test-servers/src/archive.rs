//! A local stand-in for the ESA/Hubble and ESA/Webb archives: real HTTP (axum on 127.0.0.1) serving
//! fixture files laid out like esahubble.org / esawebb.org, with fault injection (status codes, 429 +
//! `Retry-After`, slow responses, connections cut mid-body) and per-path hit counters. The fixture
//! files themselves are `esa-scraper`'s (`esa_scraper::fixture::fixture_dir()`).
//!
//! Request → file mapping under the fixture root (text files get `{BASE}` replaced by the server URL):
//! `/images/d2d/?page=N` → `d2d/page-N.json`; `/images/<id>/` → `detail/<id>.html`;
//! `/images/page/N/` → `list/page-N.html`; `/images/archive/search/page/N/` → `search/page-N.html`;
//! `/archives/images/<format>/<id>.<ext>` → `images/<format>/<id>.<ext>`;
//! `/media/archives/images/original/<id>.tif` → `images/original/<id>.tif`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;

/// A fault to inject on a path.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// Answer with this status and a short body.
    Status(u16),
    /// 429 Too Many Requests with `Retry-After: <secs>`.
    TooManyRequests {
        /// Value of the `Retry-After` header in seconds.
        retry_after_secs: u64,
    },
    /// Wait this long before answering normally.
    Slow(Duration),
    /// Send the headers (full `Content-Length`) and half the body, then drop the connection.
    CutBody,
    /// Serve these bytes instead of the file (e.g. truncated JSON/HTML).
    Replace(Vec<u8>),
}

#[derive(Default)]
struct Shared {
    faults: HashMap<String, Vec<(Fault, Option<usize>)>>,
    hits: HashMap<String, usize>,
}

struct AppState {
    root: PathBuf,
    base: Mutex<String>,
    shared: Mutex<Shared>,
}

/// A running fixture server; stops when dropped.
pub struct FixtureServer {
    addr: SocketAddr,
    state: Arc<AppState>,
    runtime: Option<tokio::runtime::Runtime>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

fn map_path(path: &str, query: Option<&str>) -> Option<String> {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let safe = |s: &str| !s.is_empty() && !s.contains("..") && !s.contains('\\');
    if !parts.iter().all(|p| safe(p)) {
        return None;
    }
    match parts.as_slice() {
        ["images", "d2d"] => {
            let page = query?.split('&').find_map(|kv| kv.strip_prefix("page="))?;
            let n: u32 = page.parse().ok()?;
            Some(format!("d2d/page-{n}.json"))
        }
        ["images", "page", n] => Some(format!("list/page-{n}.html")),
        ["images", "archive", "search", "page", n] => Some(format!("search/page-{n}.html")),
        ["images", id, "api", "json"] => Some(format!("api/{id}.json")),
        ["images", id] => Some(format!("detail/{id}.html")),
        ["archives", "images", format, file] => Some(format!("images/{format}/{file}")),
        ["media", "archives", "images", "original", file] => Some(format!("images/original/{file}")),
        _ => None,
    }
}

fn content_type(file: &str) -> &'static str {
    match file.rsplit('.').next() {
        Some("json") => "application/json",
        Some("html") => "text/html; charset=utf-8",
        Some("jpg") | Some("jpeg") => "image/jpeg",
        Some("png") => "image/png",
        Some("tif") => "image/tiff",
        _ => "application/octet-stream",
    }
}

fn status(code: u16, msg: &str) -> Response {
    let mut r = Response::new(Body::from(msg.to_string()));
    *r.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r
}

async fn handle(State(state): State<Arc<AppState>>, req: Request) -> Response {
    let path = req.uri().path().to_string();
    let query = req.uri().query().map(str::to_string);
    let full = match &query {
        Some(q) => format!("{path}?{q}"),
        None => path.clone(),
    };
    let fault = {
        let mut sh = state.shared.lock().unwrap_or_else(|p| p.into_inner());
        *sh.hits.entry(full.clone()).or_default() += 1;
        let mut take = None;
        for key in [&full, &path] {
            if let Some(list) = sh.faults.get_mut(key.as_str())
                && let Some(pos) = list.iter().position(|(_, n)| n.is_none_or(|n| n > 0))
            {
                let (f, n) = &mut list[pos];
                if let Some(n) = n.as_mut() {
                    *n -= 1;
                }
                take = Some(f.clone());
                break;
            }
        }
        take
    };
    let Some(file) = map_path(&path, query.as_deref()) else { return status(404, "not found") };
    let cut = matches!(fault, Some(Fault::CutBody));
    let replaced = match fault {
        Some(Fault::Status(code)) => return status(code, "injected fault"),
        Some(Fault::TooManyRequests { retry_after_secs }) => {
            let mut r = status(429, "slow down");
            if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            return r;
        }
        Some(Fault::Slow(d)) => {
            tokio::time::sleep(d).await;
            None
        }
        Some(Fault::Replace(b)) => Some(b),
        Some(Fault::CutBody) | None => None,
    };
    let mut bytes = match replaced {
        Some(b) => b,
        None => match tokio::fs::read(state.root.join(&file)).await {
            Ok(b) => b,
            Err(_) => return status(404, "not found"),
        },
    };
    let ctype = content_type(&file);
    if !ctype.starts_with("image/")
        && let Ok(text) = std::str::from_utf8(&bytes)
    {
        let base = state.base.lock().unwrap_or_else(|p| p.into_inner()).clone();
        bytes = text.replace("{BASE}", &base).into_bytes();
    }
    let len = bytes.len();
    let body = if cut {
        let half = Bytes::from(bytes[..len / 2].to_vec());
        let stream = futures_util::stream::iter(vec![
            Ok::<Bytes, std::io::Error>(half),
            Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "injected cut")),
        ]);
        Body::from_stream(stream)
    } else {
        Body::from(bytes)
    };
    let mut r = Response::new(body);
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
    if let Ok(v) = HeaderValue::from_str(&len.to_string()) {
        r.headers_mut().insert(header::CONTENT_LENGTH, v);
    }
    r
}

impl FixtureServer {
    /// Serve the fixture site rooted at `root` on an ephemeral 127.0.0.1 port.
    pub fn start(root: &Path) -> std::io::Result<FixtureServer> {
        if !root.is_dir() {
            let message = format!("{}: fixture root is not a directory", root.display());
            return Err(std::io::Error::new(std::io::ErrorKind::NotFound, message));
        }
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
        let addr = listener.local_addr()?;
        let state = Arc::new(AppState {
            root: root.to_path_buf(),
            base: Mutex::new(format!("http://{addr}")),
            shared: Mutex::new(Shared::default()),
        });
        let app = axum::Router::new().fallback(handle).with_state(state.clone());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        runtime.spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok(FixtureServer { addr, state, runtime: Some(runtime), stop: Some(stop) })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Inject `fault` on `path` (with or without the query) for the next `times` requests (`None` = always).
    pub fn inject(&self, path: &str, fault: Fault, times: Option<usize>) {
        let mut sh = self.state.shared.lock().unwrap_or_else(|p| p.into_inner());
        sh.faults.entry(path.to_string()).or_default().push((fault, times));
    }

    /// Remove every injected fault.
    pub fn clear_faults(&self) {
        self.state.shared.lock().unwrap_or_else(|p| p.into_inner()).faults.clear();
    }

    /// Requests received for exactly this path (and query).
    pub fn hits(&self, path_and_query: &str) -> usize {
        self.state.shared.lock().unwrap_or_else(|p| p.into_inner()).hits.get(path_and_query).copied().unwrap_or(0)
    }

    /// Requests received for paths starting with `prefix` (e.g. `/archives/images/` = image downloads).
    pub fn hits_with_prefix(&self, prefix: &str) -> usize {
        let sh = self.state.shared.lock().unwrap_or_else(|p| p.into_inner());
        sh.hits.iter().filter(|(k, _)| k.starts_with(prefix)).map(|(_, v)| *v).sum()
    }

    /// Reset the hit counters.
    pub fn reset_hits(&self) {
        self.state.shared.lock().unwrap_or_else(|p| p.into_inner()).hits.clear();
    }
}

impl Drop for FixtureServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_timeout(Duration::from_millis(200));
        }
    }
}
