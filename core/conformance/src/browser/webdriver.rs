//! A small W3C WebDriver client over `reqwest`: the dozen commands the browser suite uses
//! (sessions, navigation, elements, scripts, screenshots) plus Chromium's DevTools bridge for
//! the viewport width. ChromeDriver speaks exactly this protocol; a full client crate would
//! add its own HTTP stack and WebDriver types to a two-core build for the same dozen calls.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

/// The key under which WebDriver returns an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);
/// WebDriver's codes for the Tab and Enter keys.
pub(crate) const TAB: char = '\u{E004}';
pub(crate) const ENTER: char = '\u{E007}';

pub(crate) type Result<T> = std::result::Result<T, String>;

/// A `chromedriver` process on a free loopback port, killed when dropped.
pub(crate) struct Driver {
    pub(crate) url: String,
    child: Child,
}

impl Driver {
    pub(crate) fn start(chromedriver: &Path) -> Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port for chromedriver: {e}"))?
            .port();
        let child = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", chromedriver.display()))?;
        let driver = Self {
            url: format!("http://127.0.0.1:{port}"),
            child,
        };
        let mut driver = driver;
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = driver.child.try_wait() {
                return Err(format!(
                    "chromedriver exited at start ({status}); port {port} taken?"
                ));
            }
            if Instant::now() > deadline {
                return Err("chromedriver did not listen within 20 s".into());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(driver)
    }
}

impl Drop for Driver {
    /// Asks chromedriver to shut down first, which also closes any Chromium a session left
    /// open (a killed chromedriver would leave them running); then makes sure it is gone.
    fn drop(&mut self) {
        use std::io::Write as _;
        let address = self.url.trim_start_matches("http://");
        if let Ok(mut stream) = std::net::TcpStream::connect(address) {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
            let _ = write!(
                stream,
                "GET /shutdown HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
            );
            let _ = std::io::Read::read(&mut stream, &mut [0; 512]);
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One browser (one Chromium, its own profile and cookies).
pub(crate) struct Browser {
    http: reqwest::Client,
    session: String,
}

/// How a browser is started.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Options<'a> {
    pub(crate) chromium: &'a Path,
    pub(crate) javascript: bool,
}

impl Browser {
    pub(crate) async fn start(driver: &Driver, options: Options<'_>) -> Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(COMMAND_TIMEOUT)
            .build()
            .map_err(|e| e.to_string())?;
        // The flags this machine needs: no sandbox as root, and no background network use
        // (CI machines refuse outside connections, and Chromium retries them at every start).
        let mut chrome = json!({
            "binary": options.chromium,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-default-apps", "--disable-extensions",
                "--no-first-run", "--disable-quic", "--window-size=1280,900",
                "--force-color-profile=srgb", "--hide-scrollbars",
            ],
        });
        if !options.javascript {
            chrome["prefs"] = json!({ "profile.managed_default_content_settings.javascript": 2 });
        }
        let capabilities = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": chrome,
            "timeouts": { "pageLoad": 30_000, "script": 30_000 },
        }}});
        let response = http
            .post(format!("{}/session", driver.url))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(capabilities.to_string())
            .send()
            .await
            .map_err(|e| format!("new WebDriver session: {e}"))?;
        let value = answer(response, "new session").await?;
        let session = value["sessionId"]
            .as_str()
            .ok_or_else(|| format!("new session: no sessionId in {value}"))?;
        Ok(Self {
            http,
            session: format!("{}/session/{session}", driver.url),
        })
    }

    async fn command(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value> {
        let what = format!("{method} {path}");
        let mut request = self.http.request(method, format!("{}{path}", self.session));
        if let Some(body) = body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.to_string());
        }
        let response = request.send().await.map_err(|e| format!("{what}: {e}"))?;
        answer(response, &what).await
    }

    async fn post(&self, path: &str, body: Value) -> Result<Value> {
        self.command(reqwest::Method::POST, path, Some(body)).await
    }

    pub(crate) async fn goto(&self, url: &str) -> Result<()> {
        self.post("/url", json!({ "url": url })).await.map(drop)
    }

    pub(crate) async fn current_url(&self) -> Result<String> {
        let value = self.command(reqwest::Method::GET, "/url", None).await?;
        Ok(value.as_str().unwrap_or_default().to_owned())
    }

    /// The elements `css` matches now (possibly none).
    pub(crate) async fn find_all(&self, css: &str) -> Result<Vec<String>> {
        let value = self
            .post(
                "/elements",
                json!({ "using": "css selector", "value": css }),
            )
            .await?;
        Ok(value
            .as_array()
            .map(|all| {
                all.iter()
                    .filter_map(|e| e[ELEMENT].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// The first element `css` matches, waiting up to 10 s for it to appear.
    pub(crate) async fn find(&self, css: &str) -> Result<String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(first) = self.find_all(css).await?.into_iter().next() {
                return Ok(first);
            }
            if Instant::now() > deadline {
                let url = self.current_url().await.unwrap_or_default();
                return Err(format!("no element matches {css:?} on {url} after 10 s"));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Types `text` into the field `css` matches, after clearing it.
    pub(crate) async fn fill(&self, css: &str, text: &str) -> Result<()> {
        let element = self.find(css).await?;
        self.post(&format!("/element/{element}/clear"), json!({}))
            .await?;
        self.post(
            &format!("/element/{element}/value"),
            json!({ "text": text }),
        )
        .await
        .map(drop)
    }

    /// Clicks what `css` matches (a navigation it starts is waited for by the driver).
    pub(crate) async fn click(&self, css: &str) -> Result<()> {
        let element = self.find(css).await?;
        self.post(&format!("/element/{element}/click"), json!({}))
            .await
            .map(drop)
    }

    /// Clicks what `css` matches and waits until the browser shows the next page: a new
    /// document (the mark this leaves on the old one is gone) that has finished loading. A
    /// click returns before a form's navigation has begun, and the page may keep its address
    /// (a failed login lands on `/login` again), so neither the click nor the address tells.
    pub(crate) async fn follow(&self, css: &str) -> Result<()> {
        self.script("window.sitebenchOldPage = true; return true;")
            .await?;
        self.click(css).await?;
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let next = self
                .script("return window.sitebenchOldPage !== true && document.readyState === 'complete';")
                .await;
            if next == Ok(Value::Bool(true)) {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!("clicking {css:?} led to no new page within 20 s"));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Presses `keys` on the keyboard, one after the other, wherever the focus is
    /// ([`TAB`] and [`ENTER`] included).
    pub(crate) async fn press(&self, keys: &str) -> Result<()> {
        let strokes: Vec<Value> = keys
            .chars()
            .flat_map(|key| {
                [
                    json!({ "type": "keyDown", "value": key.to_string() }),
                    json!({ "type": "keyUp", "value": key.to_string() }),
                ]
            })
            .collect();
        self.post(
            "/actions",
            json!({ "actions": [{ "type": "key", "id": "keyboard", "actions": strokes }] }),
        )
        .await
        .map(drop)
    }

    /// The rendered text of what `css` matches.
    pub(crate) async fn text(&self, css: &str) -> Result<String> {
        let element = self.find(css).await?;
        let value = self
            .command(
                reqwest::Method::GET,
                &format!("/element/{element}/text"),
                None,
            )
            .await?;
        Ok(value.as_str().unwrap_or_default().to_owned())
    }

    /// Waits up to 10 s for the text of `css` to contain `wanted`; returns the text. A page
    /// being replaced meanwhile (an element gone stale) is waited through.
    pub(crate) async fn wait_for_text(&self, css: &str, wanted: &str) -> Result<String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let text = self.text(css).await;
            if let Ok(text) = &text
                && text.contains(wanted)
            {
                return Ok(text.clone());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "{css:?} never contained {wanted:?}; it says {text:?}"
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub(crate) async fn script(&self, script: &str) -> Result<Value> {
        self.post("/execute/sync", json!({ "script": script, "args": [] }))
            .await
    }

    /// Runs `script`, which calls its last argument with the result.
    pub(crate) async fn script_async(&self, script: &str) -> Result<Value> {
        self.post("/execute/async", json!({ "script": script, "args": [] }))
            .await
    }

    /// A Chrome DevTools Protocol command, through ChromeDriver.
    pub(crate) async fn devtools(&self, cmd: &str, params: Value) -> Result<Value> {
        self.post("/goog/cdp/execute", json!({ "cmd": cmd, "params": params }))
            .await
    }

    /// Makes the viewport `width` CSS pixels wide (a phone's 390 is below any window width
    /// headless Chromium allows, so the DevTools device metrics set it).
    pub(crate) async fn viewport(&self, width: u32, height: u32) -> Result<()> {
        self.devtools(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600 }),
        )
        .await
        .map(drop)
    }

    /// A PNG of the whole page (not only the viewport) at the current width.
    pub(crate) async fn screenshot(&self, path: &Path) -> Result<()> {
        let size = self
            .script("return [document.documentElement.scrollWidth, document.documentElement.scrollHeight];")
            .await?;
        let (width, height) = (
            size[0].as_f64().unwrap_or(1280.0),
            size[1].as_f64().unwrap_or(900.0),
        );
        let shot = self
            .devtools(
                "Page.captureScreenshot",
                json!({ "format": "png", "captureBeyondViewport": true,
                        "clip": { "x": 0, "y": 0, "width": width, "height": height.min(16000.0), "scale": 1 } }),
            )
            .await?;
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap_or_default())
            .map_err(|e| format!("screenshot: {e}"))?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        std::fs::write(path, png).map_err(|e| format!("{}: {e}", path.display()))
    }

    pub(crate) async fn quit(self) {
        let _ = self.command(reqwest::Method::DELETE, "", None).await;
    }
}

/// The `value` of a WebDriver answer, or its error as text.
async fn answer(response: reqwest::Response, what: &str) -> Result<Value> {
    let status = response.status();
    let bytes = response
        .bytes()
        .await
        .map_err(|e| format!("{what}: unreadable answer ({status}): {e}"))?;
    let body: Value = serde_json::from_slice(&bytes)
        .map_err(|e| format!("{what}: answer ({status}) is not JSON: {e}"))?;
    let value = body.get("value").cloned().unwrap_or(Value::Null);
    if status.is_success() {
        Ok(value)
    } else {
        Err(format!(
            "{what}: {} ({})",
            value["error"].as_str().unwrap_or("error"),
            value["message"]
                .as_str()
                .unwrap_or_default()
                .lines()
                .next()
                .unwrap_or_default()
        ))
    }
}
