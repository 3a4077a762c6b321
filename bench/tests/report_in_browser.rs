//! `report.html` in a real browser: the newest committed report (`docs/results/*.json`, by
//! name) rendered by the bench's own code, then loaded by headless Chromium at a phone's width
//! (390 px) and a desktop's (1280 px). The page must not scroll sideways (wide tables scroll
//! inside their own box) and every chart the renderer made must be there with a size.
//!
//! No WebDriver: a copy of the page gets a script at the end of its body that measures it,
//! and `chromium --dump-dom` prints the DOM once the page is loaded. Headless Chromium makes no
//! window narrower than 500 px, so the page is loaded in an `<iframe>` of the width under test,
//! and its script posts the measurements to the outer page, which writes them into its DOM.
//! Without Chromium the test says so and passes (CI installs it).
//!
//! `REPORT_IN_BROWSER_DIR=/some/dir` keeps the page there (instead of a temporary directory),
//! to look at it or take screenshots.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;

use bench::report::Report;
use common::newest_run;

/// Appended to the page: what the test asserts, measured by the browser after layout.
const PROBE: &str = r#"<script>
(function () {
  var svgs = Array.prototype.slice.call(document.querySelectorAll('svg'));
  var empty = svgs.filter(function (s) {
    var box = s.getBoundingClientRect();
    return !(box.width > 0 && box.height > 0);
  });
  var result = {
    inner_width: window.innerWidth,
    scroll_width: document.documentElement.scrollWidth,
    svgs: svgs.length,
    empty_svgs: empty.length,
    narrowest_svg: svgs.reduce(function (m, s) {
      return Math.min(m, s.getBoundingClientRect().width);
    }, 1e9)
  };
  parent.postMessage(JSON.stringify(result), '*');
})();
</script>"#;

/// The outer page: the report in a frame `{width}` px wide, and what it measured.
const FRAME: &str = r#"<!doctype html><html><body style="margin:0">
<iframe src="report-probe.html" style="width:{width}px;height:900px;border:0"></iframe>
<script>
window.addEventListener('message', function (event) {
  var pre = document.createElement('pre');
  pre.id = 'measured';
  pre.textContent = event.data;
  document.body.appendChild(pre);
});
</script>
</body></html>"#;

const TIMEOUT: Duration = Duration::from_secs(90);

fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| ["chromium", "chromium-browser"].map(|name| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// The page's DOM after load, as Chromium prints it, for a window `width` px wide.
/// The DOM goes to a file: the page is larger than a pipe's buffer, which Chromium would fill
/// and then wait on while this waits on it.
fn dump_dom(browser: &Path, page: &Path, scratch: &Path, width: u32) -> String {
    let out = scratch.join(format!("dom-{width}.html"));
    let file = std::fs::File::create(&out).expect("create the DOM file");
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            "--disable-extensions",
            // No network: CI machines refuse outside connections, which Chromium would try
            // at start (updates, sync, DNS of its services) and wait on.
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-quic",
            &format!("--user-data-dir={}", scratch.join("profile").display()),
            &format!("--window-size={},1000", width.max(500) + 40),
            "--virtual-time-budget=2000",
            "--dump-dom",
        ])
        .arg(format!("file://{}", page.display()))
        .stdout(file)
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium");
    let started = Instant::now();
    while child.try_wait().expect("wait for chromium").is_none() {
        if started.elapsed() > TIMEOUT {
            let _ = child.kill();
            panic!("chromium took over {TIMEOUT:?} to load {}", page.display());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    std::fs::read_to_string(&out).expect("the DOM Chromium printed")
}

fn measured(dom: &str) -> serde_json::Value {
    let start = dom
        .find("<pre id=\"measured\">")
        .map(|at| at + "<pre id=\"measured\">".len())
        .unwrap_or_else(|| panic!("no measurements in the DOM: {dom:.2000}"));
    let end = dom[start..].find("</pre>").expect("</pre>") + start;
    serde_json::from_str(&dom[start..end]).expect("measurements are JSON")
}

#[test]
fn report_html_fits_a_phone_and_a_desktop_with_every_chart() {
    let Some(browser) = chromium() else {
        // CI installs it and says so: there a missing tool is a failure, not a skip.
        assert!(
            !site_conformance::tools_required(),
            "chromium is not installed (apt-get install chromium) and SITEBENCH_REQUIRE_TOOLS=1"
        );
        eprintln!("skipped: chromium is not installed (apt-get install chromium)");
        return;
    };
    let temp = tempfile::tempdir().expect("tempdir");
    let dir = std::env::var_os("REPORT_IN_BROWSER_DIR")
        .map_or_else(|| temp.path().to_path_buf(), PathBuf::from);
    let source = newest_run();
    let report = Report::read(&source).expect("the newest report reads");
    bench::output::files::write_all(&report, &dir).expect("report files written");
    let page = std::fs::read_to_string(dir.join("report.html")).expect("report.html");
    let charts = page.matches("<svg").count();
    assert!(charts > 0, "{}: no charts rendered", source.display());

    let probe = dir.join("report-probe.html");
    let with_probe = page.replacen("</body>", &format!("{PROBE}</body>"), 1);
    std::fs::write(&probe, with_probe).expect("write the probe page");
    for width in [390, 1280] {
        let frame = dir.join(format!("report-{width}.html"));
        let html = FRAME.replace("{width}", &width.to_string());
        std::fs::write(&frame, html).expect("write the frame page");
        let frame = std::fs::canonicalize(&frame).expect("absolute path");
        let dom = dump_dom(&browser, &frame, temp.path(), width);
        let m = measured(&dom);
        let number = |key: &str| m[key].as_f64().unwrap_or(f64::NAN);
        assert_eq!(number("inner_width"), f64::from(width), "{m}");
        assert!(
            number("scroll_width") <= number("inner_width"),
            "{width} px: the page scrolls sideways: {m}"
        );
        assert_eq!(number("svgs"), charts as f64, "{width} px: {m}");
        assert_eq!(number("empty_svgs"), 0.0, "{width} px: {m}");
        assert!(number("narrowest_svg") > 200.0, "{width} px: {m}");
    }
}
