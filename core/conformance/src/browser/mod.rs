//! The site in a real browser: headless Chromium, driven over WebDriver (`chromedriver`),
//! against a backend started in-process, as a student would use it. Each flow is a test:
//! sign up, log in, `/me`, log out and the 401 page; a wrong password; five failures and the
//! 429 page; the status-code explorer; the HTTP inspector showing a `POST /login`; the
//! keyboard alone; and every page at a phone's width (390 px) and a desktop's (1280 px), where
//! the page must not scroll sideways, must load nothing from another origin, and axe-core must
//! find no WCAG 2 A/AA violation. Flows that work without
//! JavaScript run twice, with it and with it switched off. Every page's screenshot goes to
//! `target/browser/<backend>/`.
//!
//! A backend's `tests/browser.rs` (with `harness = false` in its `Cargo.toml`) is
//! `fn main() -> ExitCode { site_conformance::browser::main(&backend_axum::BACKEND) }`.
//! The tests are listed as ignored, with the command that installs what is missing, when
//! Chromium, ChromeDriver or axe-core is not there; with `SITEBENCH_REQUIRE_TOOLS=1` (CI) they
//! fail instead.

mod flows;
mod webdriver;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use futures_util::FutureExt as _;
use futures_util::future::BoxFuture;
use libtest_mimic::{Arguments, Failed, Trial};
use site_core::server::Backend;

use webdriver::{Browser, Driver, Options};

/// The axe-core release the audit uses, and where `npm` puts it (see `AXE_INSTALL`).
const AXE_CORE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../target/tools/axe-core/node_modules/axe-core/axe.min.js"
);
const AXE_INSTALL: &str = "npm install --prefix target/tools/axe-core --no-save axe-core@4.14.1";
const BROWSER_INSTALL: &str = "apt-get install chromium chromium-driver";

/// The admin the browser suite's server is started with.
const ADMIN: &str = "browser_admin";
/// A path that panics in a handler, for the real 500 page.
const PANIC_PATH: &str = "/__browser_panic";

/// What every flow shares: the server, the driver, where screenshots go, the axe source.
struct Env {
    backend: &'static str,
    /// The backend's declared deviations (rocket writes its framework's reason phrases).
    deviations: &'static [site_core::Deviation],
    base_url: String,
    chromium: PathBuf,
    driver: Driver,
    shots: PathBuf,
    axe: String,
}

/// What a flow gets: a fresh browser (its own cookies) and the shared environment.
pub(crate) struct Flow<'a> {
    browser: Browser,
    env: &'a Env,
    javascript: bool,
}

type FlowFn = for<'a> fn(&'a Flow<'a>) -> BoxFuture<'a, webdriver::Result<()>>;

/// Every flow, by name; `true`: it also runs with JavaScript switched off.
const FLOWS: &[(&str, bool, FlowFn)] = &[
    ("forms_sign_up_log_in_me_log_out", true, flows::account),
    (
        "wrong_password_gives_the_401_page",
        true,
        flows::wrong_password,
    ),
    ("five_failures_give_the_429_page", true, flows::throttled),
    (
        "status_explorer_lists_and_tries_every_code",
        true,
        flows::status_explorer,
    ),
    (
        "inspector_shows_a_post_login_exchange",
        false,
        flows::inspector,
    ),
    (
        "every_page_fits_a_phone_and_passes_axe",
        true,
        flows::every_page,
    ),
    ("keyboard_alone_logs_in", true, flows::keyboard),
    (
        "audit_catches_a_spoiled_page",
        false,
        flows::audit_catches_a_spoiled_page,
    ),
];

/// Runs the browser suite against `backend` as a test binary (libtest's arguments apply).
pub fn main(backend: &'static Backend) -> ExitCode {
    let args = Arguments::from_args();
    let missing = missing_tools();
    let env: Option<Arc<Env>> = if missing.is_empty() && !args.list {
        match start(backend) {
            Ok(env) => Some(Arc::new(env)),
            Err(why) => {
                eprintln!("browser suite on {}: cannot start: {why}", backend.name);
                return ExitCode::FAILURE;
            }
        }
    } else {
        None
    };
    if !missing.is_empty() {
        eprintln!(
            "browser suite on {}: ignored, {} missing; install with: {}",
            backend.name,
            missing
                .iter()
                .map(|(what, _)| *what)
                .collect::<Vec<_>>()
                .join(" and "),
            missing
                .iter()
                .map(|(_, how)| *how)
                .collect::<Vec<_>>()
                .join(" && ")
        );
    }
    let require = crate::tools_required();
    let mut trials = Vec::new();
    for &(name, without_js, flow) in FLOWS {
        for javascript in [true, false] {
            if !javascript && !without_js {
                continue;
            }
            let name = if javascript {
                name.to_owned()
            } else {
                format!("{name}_without_javascript")
            };
            let env = env.clone();
            let missing_text = missing
                .iter()
                .map(|(what, _)| *what)
                .collect::<Vec<_>>()
                .join(", ");
            let trial = Trial::test(name, move || match env {
                Some(env) => run(&env, javascript, flow),
                None => Err(Failed::from(format!(
                    "{missing_text} missing, and {}=1 says the tools must be there",
                    crate::REQUIRE_TOOLS
                ))),
            });
            trials.push(trial.with_ignored_flag(!missing.is_empty() && !require));
        }
    }
    libtest_mimic::run(&args, trials).exit_code()
}

/// What is missing, each with the command that installs it.
fn missing_tools() -> Vec<(&'static str, &'static str)> {
    let mut missing = Vec::new();
    if chromium().is_none() || chromedriver().is_none() {
        missing.push(("Chromium and ChromeDriver", BROWSER_INSTALL));
    }
    if !axe_core().is_file() {
        missing.push(("axe-core", AXE_INSTALL));
    }
    missing
}

/// axe-core's script: `SITEBENCH_AXE_CORE`, or where `AXE_INSTALL` puts it.
fn axe_core() -> PathBuf {
    std::env::var_os("SITEBENCH_AXE_CORE").map_or_else(|| PathBuf::from(AXE_CORE), PathBuf::from)
}

fn on_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |name| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

fn chromium() -> Option<PathBuf> {
    on_path(&["chromium", "chromium-browser"])
}

fn chromedriver() -> Option<PathBuf> {
    on_path(&["chromedriver"]).or_else(|| {
        let debian = PathBuf::from("/usr/lib/chromium/chromedriver");
        debian.is_file().then_some(debian)
    })
}

fn start(backend: &'static Backend) -> Result<Env, String> {
    let chromium = chromium().ok_or("no chromium")?;
    let driver = Driver::start(&chromedriver().ok_or("no chromedriver")?)?;
    let axe = std::fs::read_to_string(axe_core())
        .map_err(|e| format!("{}: {e}", axe_core().display()))?;
    let base_url = crate::fixture::start_fresh(backend, &[ADMIN], PANIC_PATH)?;
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"),
        PathBuf::from,
    );
    let shots = target.join("browser").join(backend.name);
    Ok(Env {
        backend: backend.name,
        deviations: backend.deviations,
        base_url,
        chromium,
        driver,
        shots,
        axe,
    })
}

fn run(env: &Env, javascript: bool, flow: FlowFn) -> Result<(), Failed> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failed::from(e.to_string()))?;
    runtime
        .block_on(async {
            let options = Options {
                chromium: &env.chromium,
                javascript,
            };
            let browser = Browser::start(&env.driver, options).await?;
            let flow_state = Flow {
                browser,
                env,
                javascript,
            };
            // A flow that panics still closes its browser (and says where it was).
            let outcome = std::panic::AssertUnwindSafe(flow(&flow_state))
                .catch_unwind()
                .await
                .unwrap_or_else(|panic| {
                    let why = panic
                        .downcast_ref::<String>()
                        .map(String::as_str)
                        .or_else(|| panic.downcast_ref::<&str>().copied())
                        .unwrap_or("a panic");
                    Err(format!("the flow panicked: {why}"))
                });
            let url = flow_state.browser.current_url().await.unwrap_or_default();
            flow_state.browser.quit().await;
            outcome.map_err(|why| format!("{why} (on {}, at {url})", env.backend))
        })
        .map_err(Failed::from)
}
