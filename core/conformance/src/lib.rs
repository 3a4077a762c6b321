//! `site-conformance`: the black-box suite that checks every line of `docs/SITE.md` against
//! any server, over HTTP on loopback (`reqwest` with redirects off, plus raw `TcpStream`
//! requests for what a client library would normalise or refuse to send), and against the
//! backend binary run as a child process. It sees the site only from outside (it uses
//! `site-core` just to start a backend in-process). Every network operation has a timeout; no
//! check can hang.
//!
//! A backend's `tests/conformance.rs` is:
//!
//! ```ignore
//! use std::sync::OnceLock;
//! use site_conformance::Target;
//! fn target() -> &'static Target {
//!     static T: OnceLock<Target> = OnceLock::new();
//!     T.get_or_init(|| Target::in_process(&backend_axum::BACKEND, env!("CARGO_BIN_EXE_backend-axum")))
//! }
//! site_conformance::conformance_tests!(target());
//! ```
//!
//! and `bench verify --url` calls [`run_all`]. Against an outside server, what the target
//! lacks (admin, panic path, `--static-dir` server, binary) turns the checks needing it into
//! skips; against [`Target::in_process`], which gives every check what it needs, a skip is a
//! failure.
//!
//! The checks are listed once, by module path, in [`with_checks!`]; each section's module
//! (`checks/s4_1_signup.rs`) states its SITE.md section once, in its `SECTION`, and
//! `bench verify --list` prints that index. Helpers two sections share live in
//! `checks/support.rs`.

#[macro_use]
mod fail;
pub mod browser;
mod checks;
mod client;
mod expect;
mod fixture;
mod process;
mod tools;

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use futures_util::FutureExt as _;
pub use futures_util::future::BoxFuture;

pub use client::Ctx;
pub use fixture::{IN_PROCESS_ADMIN, IN_PROCESS_PANIC_PATH, write_static_fixture};
pub use tools::{REQUIRE_TOOLS, tools_required};

/// A line of SITE.md a backend cannot honour because of its framework (declared in the
/// backend's `DEVIATIONS`); the suite then expects exactly the deviating behaviour, and fails
/// if the framework starts conforming.
pub use site_core::Deviation;

/// What the suite runs against.
#[derive(Debug, Clone)]
pub struct Target {
    /// `http://127.0.0.1:PORT`: the main server (embedded static root).
    pub base_url: String,
    /// `Some("axum")`: expect `Server: sitebench-axum`; `None`: any `sitebench-` name.
    pub backend: Option<String>,
    pub deviations: Vec<Deviation>,
    /// A username the server was started with `--admin` for; the admin checks sign it up with
    /// [`ADMIN_PASSWORD`] (or log in if it exists). `None` skips them.
    pub admin: Option<String>,
    /// A GET path that panics inside a handler. `None` skips the panic check.
    pub panic_path: Option<String>,
    /// A second server started with `--static-dir`. `None` skips those checks.
    pub static_dir: Option<StaticDirTarget>,
    /// The backend binary, for the process checks (sections 5 and 6). `None` skips them.
    pub binary: Option<PathBuf>,
    /// Started by [`Target::in_process`], which gives every check what it needs: a skip
    /// there is a failure (a check that cannot run proves nothing, and would pass unseen).
    /// `false` for an outside server, where a skip is reported and allowed.
    pub in_process: bool,
}

/// A server started with `--static-dir dir`, where `dir` holds [`write_static_fixture`]'s files.
#[derive(Debug, Clone)]
pub struct StaticDirTarget {
    pub base_url: String,
    pub dir: PathBuf,
}

/// The password the admin checks use for `Target::admin`.
pub const ADMIN_PASSWORD: &str = "conformance-admin-pw";

/// One check: its name (a function in a section module of `checks`), its SITE.md section
/// (that module's `SECTION`), how to run it.
pub struct Check {
    pub name: &'static str,
    pub section: &'static str,
    pub run: for<'a> fn(&'a Ctx) -> BoxFuture<'a, Outcome>,
}

impl fmt::Debug for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Check")
            .field("name", &self.name)
            .field("section", &self.section)
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    /// The server broke the contract (or the check could not run where it must).
    Fail(String),
    /// The target lacks what the check needs; only an outside server may skip.
    Skip(String),
}

/// The result of [`run_all`].
#[derive(Debug, Default, Clone)]
pub struct Summary {
    pub passed: usize,
    pub failed: Vec<(&'static str, String)>,
    pub skipped: Vec<(&'static str, String)>,
}

impl Summary {
    pub fn ok(&self) -> bool {
        self.failed.is_empty()
    }
}

/// The longest a single check may run (the slow-header check needs about 15 s; process
/// checks start binaries).
const CHECK_DEADLINE: Duration = Duration::from_secs(120);

/// THE list of checks, by the module that holds them, in the contract's order: a new check
/// is one `pub(crate) async fn` in its section's module under `checks/` plus its name in that
/// module's group here. Calls `$callback! { [extra...] s1_conventions: [check, ...],
/// s2_methods: [...], ... }`; [`CHECKS`], the per-backend `#[test]`s of
/// [`conformance_tests!`] and `bench verify` are all derived from it. A check's section is its
/// module's `SECTION`, written nowhere else, so a check cannot be listed under one section
/// and live in another: `checks::<module>::<name>` must exist for the crate to compile.
#[macro_export]
macro_rules! with_checks {
    ($callback:path, $($extra:tt)*) => {
        $callback! { [$($extra)*]
        s1_conventions: [
            server_header_names_backend, date_header_is_imf_fixdate, bodies_have_type_and_length,
            text_types_carry_utf8_charset, head_matches_get_dynamic, head_matches_get_static,
            head_matches_get_errors, head_sends_no_body_on_wire, errors_are_problem_details,
            status_line_reason_is_the_sites, negotiated_responses_vary_on_accept,
            session_responses_are_not_stored, storage_failure_is_logged_with_its_cause,
            framework_errors_are_problem_details, error_html_when_accept_prefers_html,
            error_html_escapes_detail, accept_absent_gives_json, accept_html_gives_html,
            accept_tie_goes_to_json, accept_higher_json_q_gives_json, accept_q_values_pick_html,
            accept_most_specific_range_wins, accept_unrelated_types_give_json,
            panic_gives_500_and_server_survives,
        ],
        s2_methods: [
            get_routes_answer_405_to_post, post_routes_answer_405_to_get,
            post_routes_answer_405_to_head, put_is_501, delete_is_501, patch_is_501,
            options_is_501, trace_is_501, extension_method_is_501, lowercase_method_is_501,
        ],
        s3_static: [
            home_page_is_html, index_html_same_as_home, root_files_exist, home_links_every_demo,
            home_has_forms, guide_explains_get_and_post, static_dir_serves_disk_files,
            static_dir_sees_changes_without_restart, static_dir_sees_new_and_deleted_files,
            segments_percent_decoded_once, dot_segments_404, dotfiles_404, encoded_separators_404,
            colon_and_nul_404, overlong_name_404, trailing_slash_on_file_404,
            directory_index_served, directory_without_slash_redirects,
            directory_redirect_keeps_query, missing_file_404, symlink_out_of_root_404,
            odd_paths_never_500, content_types_by_extension, last_modified_is_imf_fixdate,
            last_modified_is_file_mtime, etag_is_strong_and_stable, etag_follows_content_not_mtime,
            cache_control_no_cache, if_none_match_exact_304, if_none_match_weak_304,
            if_none_match_list_304, if_none_match_star_304, if_none_match_mismatch_200,
            if_none_match_overrides_if_modified_since, if_modified_since_at_304,
            if_modified_since_after_304, if_modified_since_before_200,
            if_modified_since_garbage_ignored, not_modified_headers, head_conditional_304,
            range_ignored, post_on_static_405,
        ],
        s4_routes: [
            hello_defaults_to_world, hello_greets_name, hello_decodes_query, hello_escapes_name,
            hello_rejects_empty_name, hello_name_length_limit, hello_rejects_name_twice,
            user_profile_json, user_profile_case_insensitive, user_profile_unknown_404,
            user_profile_html_when_preferred, logout_json_204, logout_form_303,
            logout_deletes_session_server_side, logout_is_idempotent, me_json,
            me_html_when_preferred, me_requires_session, me_rejects_unknown_session,
            me_rejects_altered_session, admin_requires_session, admin_forbids_non_admin,
            admin_lists_users, admin_lists_first_100_by_name, admin_answers_json_even_for_html,
            teapot_418, plaintext_exact, json_exact, healthz_ok, openapi_lists_every_route,
            openapi_documents_bodies_and_problems, openapi_is_stable,
            unauthorized_carries_www_authenticate,
        ],
        s4_1_signup: [
            signup_json_201, signup_form_303, signup_accepts_utf8_charset,
            signup_ignores_unknown_fields, signup_rejects_other_content_types_415,
            signup_requires_content_type_415, signup_rejects_other_charsets_415,
            signup_body_over_16_kib_413, signup_body_of_16_kib_accepted,
            signup_unparsable_body_400, signup_missing_field_400, signup_non_string_value_400,
            username_length_rule_422, username_characters_rule_422,
            username_first_character_rule_422, password_length_rule_422,
            password_length_counts_characters, password_equal_to_username_422,
            unprocessable_lists_every_broken_rule, username_taken_409,
            username_taken_ignores_case_409, concurrent_signups_one_wins,
        ],
        s4_2_login: [
            login_json_200, login_form_303, login_session_works, login_token_new_each_time,
            login_wrong_password_401, login_unknown_user_401, login_invalid_username_401,
            login_failures_identical, login_body_rules, login_throttles_after_five_failures,
            failed_logins_take_similar_time,
        ],
        s4_3_status: [
            status_2xx_body, status_3xx_body_and_location, status_without_body_codes,
            status_4xx_problem, status_5xx_problem, status_titles_follow_rfc9110,
            status_unassigned_codes_titled, status_401_www_authenticate, status_405_allow,
            status_429_503_retry_after, status_1xx_is_400_informational,
            status_rejects_malformed_codes, status_problem_detail_explains_code,
        ],
        s5_storage: [
            database_created_in_working_directory, database_uses_wal, database_memory_works,
            signup_survives_kill_9, passwords_stored_as_argon2id_default_cost,
            session_token_not_stored_in_clear, session_survives_restart,
            overlong_password_rejected_before_hashing,
            admins_from_repeated_flag,
        ],
        s6_cli: [
            cli_prints_startup_line, cli_bind_flag, cli_access_log_is_clf, cli_quiet_silences_log,
            cli_env_switches, cli_env_port, cli_flag_beats_env, cli_env_admin_list,
            cli_admin_ignores_case, cli_secure_cookies, cli_static_dir_flag, cli_workers_flag,
            cli_sigterm_finishes_in_flight_request, cli_sigterm_closes_idle_connections,
            cli_sigint_exits_zero, cli_rejects_bad_flag_value, cli_rejects_unknown_flag,
            cli_rejects_missing_static_dir, cli_rejects_unusable_database, cli_rejects_port_in_use,
            cli_rejects_bad_env_value,
        ],
        s7_robustness: [
            csrf_cross_site_post_403, csrf_same_site_post_allowed, csrf_foreign_origin_403,
            csrf_matching_origin_allowed, csrf_origin_port_compared, csrf_does_not_affect_get,
            host_header_required, host_header_twice_400, http10_needs_no_host,
            slow_request_header_closed, trickled_head_memory_bounded, bad_request_line_rejected, bad_header_syntax_rejected,
            header_section_over_32_kib_is_431, over_limit_body_is_not_read,
            bad_content_length_rejected, bad_chunk_size_rejected, too_many_headers_431,
            too_large_header_431, long_request_target_414, body_limit_announced_413,
            body_limit_chunked_413, chunked_body_within_limit_accepted,
            body_limit_on_login_and_logout, abuse_leaves_others_served, abuse_loses_no_signup,
        ],
        s8_fine_points: [
            order_415_before_413, order_413_before_400, order_400_before_422, order_422_before_409,
            order_login_checks_before_401, field_given_twice_is_400,
            one_error_entry_per_broken_rule, fallback_claims_every_path, empty_segment_404,
            routes_claim_their_paths_as_sent, throttle_ignores_case, throttle_429_is_not_a_failure,
            throttle_cleared_by_success, empty_responses_content_length, logout_ignores_body,
        ],
        }
    };
}

/// One `#[test]` per check, each running it against `$target` (an expression giving a
/// `&Target`, evaluated in every test).
#[macro_export]
macro_rules! conformance_tests {
    ($target:expr) => {
        $crate::with_checks!($crate::__conformance_test_fns, $target);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_test_fns {
    ([$target:expr] $($module:ident: [$($name:ident),* $(,)?]),* $(,)?) => {
        $($(
            #[test]
            fn $name() {
                $crate::run_one(stringify!($name), $target)
            }
        )*)*
    };
}

macro_rules! build_checks {
    ([] $($module:ident: [$($name:ident),* $(,)?]),* $(,)?) => {
        mod runners {
            use super::{BoxFuture, Ctx, Outcome, checks, finish};
            $($(
                pub(super) fn $name<'a>(cx: &'a Ctx) -> BoxFuture<'a, Outcome> {
                    Box::pin(async move { finish(checks::$module::$name(cx).await) })
                }
            )*)*
        }

        /// Every check, in SITE.md order, with its section.
        pub static CHECKS: &[Check] = &[
            $($(
                Check {
                    name: stringify!($name),
                    section: checks::$module::SECTION,
                    run: runners::$name,
                },
            )*)*
        ];
    };
}

with_checks!(build_checks,);

fn finish(result: fail::CheckResult) -> Outcome {
    match result {
        Ok(()) => Outcome::Pass,
        Err(fail::Failure::Fail(why)) => Outcome::Fail(why),
        Err(fail::Failure::Skip(why)) => Outcome::Skip(why),
    }
}

/// The check of that name.
pub fn find(name: &str) -> Option<&'static Check> {
    CHECKS.iter().find(|c| c.name == name)
}

/// Runs one check under the deadline; a panic inside it is a failure, and so is a skip
/// against an in-process target.
async fn run_check(check: &Check, cx: &Ctx) -> Outcome {
    match run_to_outcome(check, cx).await {
        Outcome::Skip(why) if cx.target.in_process => Outcome::Fail(format!(
            "skipped against an in-process target, which gives every check what it needs: {why}"
        )),
        outcome => outcome,
    }
}

async fn run_to_outcome(check: &Check, cx: &Ctx) -> Outcome {
    let run = std::panic::AssertUnwindSafe((check.run)(cx)).catch_unwind();
    match tokio::time::timeout(CHECK_DEADLINE, run).await {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(panic)) => {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default();
            Outcome::Fail(format!("the check panicked: {message}"))
        }
        Err(_) => Outcome::Fail(format!(
            "did not finish within {} s",
            CHECK_DEADLINE.as_secs()
        )),
    }
}

/// Runs the named check against `target` on a fresh current-thread runtime.
pub fn run_check_by_name(name: &str, target: &Target) -> Outcome {
    let Some(check) = find(name) else {
        return Outcome::Fail(format!("no check named {name:?}"));
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => return Outcome::Fail(format!("cannot build a tokio runtime: {e}")),
    };
    runtime.block_on(async {
        match Ctx::new(target) {
            Ok(cx) => run_check(check, &cx).await,
            Err(e) => Outcome::Fail(e),
        }
    })
}

/// For `#[test]`s: panics with `check <name> on <backend>: <why>` on failure (a skip against
/// an in-process target is one), prints the skips an outside server may have.
pub fn run_one(name: &str, target: &Target) {
    let backend = target
        .backend
        .clone()
        .unwrap_or_else(|| target.base_url.clone());
    match run_check_by_name(name, target) {
        Outcome::Pass => {}
        Outcome::Skip(why) => eprintln!("check {name} on {backend}: skipped: {why}"),
        Outcome::Fail(why) => panic!("check {name} on {backend}: {why}"),
    }
}

/// Runs every check in order against `target` (for `bench verify --url`), reporting each
/// result as it comes.
pub async fn run_all(target: &Target, on_result: impl FnMut(&Check, &Outcome)) -> Summary {
    run_where(target, |_| true, on_result).await
}

/// [`run_all`] for the checks `keep` picks (the benchmark leaves out the check that only
/// waits in its quick run).
pub async fn run_where(
    target: &Target,
    keep: impl Fn(&Check) -> bool,
    mut on_result: impl FnMut(&Check, &Outcome),
) -> Summary {
    let mut summary = Summary::default();
    let checks = CHECKS.iter().filter(|c| keep(c));
    let cx = match Ctx::new(target) {
        Ok(cx) => cx,
        Err(e) => {
            for check in checks {
                let outcome = Outcome::Fail(e.clone());
                on_result(check, &outcome);
                summary.failed.push((check.name, e.clone()));
            }
            return summary;
        }
    };
    for check in checks {
        let outcome = run_check(check, &cx).await;
        on_result(check, &outcome);
        match outcome {
            Outcome::Pass => summary.passed += 1,
            Outcome::Fail(why) => summary.failed.push((check.name, why)),
            Outcome::Skip(why) => summary.skipped.push((check.name, why)),
        }
    }
    summary
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;

    /// Every section module with its `SECTION` and the checks listed under it, in order.
    macro_rules! listed_by_module {
        ([] $($module:ident: [$($name:ident),* $(,)?]),* $(,)?) => {
            const LISTED: &[(&str, &str, &[&str])] = &[
                $( (stringify!($module), checks::$module::SECTION, &[$(stringify!($name)),*]), )*
            ];
        };
    }
    with_checks!(listed_by_module,);

    fn crate_dir() -> &'static Path {
        Path::new(env!("CARGO_MANIFEST_DIR"))
    }

    fn checks_dir() -> PathBuf {
        crate_dir().join("src/checks")
    }

    /// The section numbers of SITE.md's headings, in order: `## 1. Conventions` is "1",
    /// `### 4.1 POST /users` is "4.1".
    fn site_md_sections() -> Vec<String> {
        let path = crate_dir().join("../../docs/SITE.md");
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        text.lines()
            .filter_map(|line| line.strip_prefix("## ").or(line.strip_prefix("### ")))
            .filter_map(|heading| heading.split_whitespace().next())
            .map(|number| number.trim_end_matches('.'))
            .filter(|number| number.starts_with(|c: char| c.is_ascii_digit()))
            .map(str::to_owned)
            .collect()
    }

    /// The section a module's file name gives: `s4_1_signup` is "4.1", `s4_routes` is "4".
    fn section_of_file_name(module: &str) -> String {
        module
            .strip_prefix('s')
            .unwrap_or(module)
            .split('_')
            .take_while(|part| part.parse::<u8>().is_ok())
            .collect::<Vec<_>>()
            .join(".")
    }

    /// The checks a section module defines: its `pub(crate) async fn`s.
    fn defined_checks(source: &str) -> Vec<&str> {
        source
            .lines()
            .filter_map(|line| line.strip_prefix("pub(crate) async fn "))
            .filter_map(|rest| rest.split('(').next())
            .collect()
    }

    #[test]
    fn check_names_are_unique() {
        let mut names: Vec<&str> = CHECKS.iter().map(|c| c.name).collect();
        let total = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), total, "duplicate check names");
        assert!(total >= 130, "only {total} checks");
    }

    /// The list walks SITE.md's sections in the document's order, each once: the index
    /// `bench verify --list` prints reads like the contract.
    #[test]
    fn sections_are_listed_once_each_in_site_md_order() {
        let mut listed: Vec<&str> = CHECKS.iter().map(|c| c.section).collect();
        listed.dedup();
        assert_eq!(listed, site_md_sections());
    }

    /// A module states its section once (`SECTION`), and its file name and first doc line
    /// agree; it defines exactly the checks listed under it, so a check that lives in one
    /// section cannot be listed (or forgotten) in another.
    #[test]
    fn each_module_holds_exactly_the_checks_listed_under_its_section() {
        for &(module, section, listed) in LISTED {
            let path = checks_dir().join(format!("{module}.rs"));
            let source = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert_eq!(
                section_of_file_name(module),
                section,
                "{module}.rs states SECTION {section:?}: the file name says otherwise"
            );
            let doc = format!("//! SITE.md section {section}:");
            assert!(
                source.starts_with(&doc),
                "{module}.rs must begin with {doc:?}"
            );
            let mut defined = defined_checks(&source);
            let mut listed = listed.to_vec();
            defined.sort_unstable();
            listed.sort_unstable();
            assert_eq!(
                defined, listed,
                "the `pub(crate) async fn`s of {module}.rs (its checks) against those listed under {module} in with_checks!"
            );
        }
    }

    #[test]
    fn the_misfile_guards_read_what_they_should() {
        assert_eq!(section_of_file_name("s4_1_signup"), "4.1");
        assert_eq!(section_of_file_name("s4_routes"), "4");
        assert_eq!(section_of_file_name("s8_fine_points"), "8");
        let source = "//! x\npub(crate) async fn a_check(cx: &Ctx) -> CheckResult {\n}\nasync fn helper(cx: &Ctx) {}\npub(crate) fn shared() {}\n";
        assert_eq!(defined_checks(source), ["a_check"]);
        let sections = site_md_sections();
        assert_eq!(sections.first().map(String::as_str), Some("1"));
        assert!(sections.iter().any(|s| s == "4.1"), "{sections:?}");
    }

    /// Section modules share helpers only through `support`: none names another section
    /// (nor does `support`), and none re-exports a whole module.
    #[test]
    fn sections_import_only_from_support() {
        let entries = std::fs::read_dir(checks_dir()).expect("src/checks");
        let mut read = 0;
        for entry in entries.flatten() {
            let path = entry.path();
            let source = std::fs::read_to_string(&path).expect("a checks file");
            read += 1;
            for (number, line) in source.lines().enumerate() {
                let code = line.split("//").next().unwrap_or_default();
                let names_a_section = ["super::s", "checks::s", "self::s"].iter().any(|prefix| {
                    code.match_indices(prefix).any(|(at, _)| {
                        code[at + prefix.len()..].starts_with(|c: char| c.is_ascii_digit())
                    })
                });
                assert!(
                    !names_a_section && !code.contains("::*;"),
                    "{}:{}: {line:?}: a section's helpers that another section needs go to checks/support.rs",
                    path.display(),
                    number + 1
                );
            }
        }
        assert!(read > LISTED.len(), "read only {read} files");
    }

    #[test]
    fn unknown_check_fails() {
        assert!(matches!(
            run_check_by_name("no_such_check", &Target::new("http://127.0.0.1:9")),
            Outcome::Fail(_)
        ));
    }
}
