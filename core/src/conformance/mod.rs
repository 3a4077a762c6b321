//! The black-box conformance suite: async checks of SITE.md against any server, over HTTP on
//! loopback (`reqwest` with redirects off, plus raw `TcpStream` requests for what a client
//! library would normalise or refuse to send), and against the backend binary run as a child
//! process. Every network operation has a timeout; no check can hang.
//!
//! A backend's `tests/conformance.rs` is:
//!
//! ```ignore
//! use std::sync::OnceLock;
//! use site_core::conformance::Target;
//! fn target() -> &'static Target {
//!     static T: OnceLock<Target> = OnceLock::new();
//!     T.get_or_init(|| Target::in_process("axum", backend_axum::serve, env!("CARGO_BIN_EXE_backend-axum"), &backend_axum::DEVIATIONS))
//! }
//! site_core::conformance_tests!(target());
//! ```
//!
//! and `bench verify --url` calls [`run_all`]. What a target lacks (admin, panic path,
//! `--static-dir` server, binary) turns the checks needing it into skips.
//!
//! # SITE.md, line by line, and the checks of each line
//!
//! **1. Conventions for every response** (besides the named checks, every response any check
//! receives through `Ctx::send` is held to these conventions)
//! - `Server: sitebench-<backend>` and `Date`: `server_header_names_backend`, `date_header_is_imf_fixdate`
//! - body has `Content-Type` and `Content-Length`, never chunked; text types `; charset=utf-8`:
//!   `bodies_have_type_and_length`, `text_types_carry_utf8_charset`
//! - `HEAD` = GET's status and headers, no body: `head_matches_get_dynamic`, `head_matches_get_static`,
//!   `head_matches_get_errors`, `head_sends_no_body_on_wire` (also `post_routes_answer_405_to_head`,
//!   `head_conditional_304`)
//! - errors are RFC 9457 problem details (exact members, compact): `errors_are_problem_details`
//! - HTML when `Accept` prefers `text/html` (q-values, ties JSON, none JSON), escaped:
//!   `error_html_when_accept_prefers_html`, `error_html_escapes_detail`, `accept_absent_gives_json`,
//!   `accept_html_gives_html`, `accept_tie_goes_to_json`, `accept_higher_json_q_gives_json`,
//!   `accept_q_values_pick_html`, `accept_most_specific_range_wins`, `accept_unrelated_types_give_json`
//! - framework errors rendered the same way: `framework_errors_are_problem_details`
//! - a panic gives 500 and the server keeps serving: `panic_gives_500_and_server_survives`
//!
//! **2. Methods**
//! - GET, HEAD, POST; wrong one of the three: 405 + `Allow`: `get_routes_answer_405_to_post`,
//!   `post_routes_answer_405_to_get`, `post_routes_answer_405_to_head` (static paths: `post_on_static_405`)
//! - any other method on any path: 501: `put_is_501`, `delete_is_501`, `patch_is_501`, `options_is_501`,
//!   `trace_is_501`, `extension_method_is_501`, `lowercase_method_is_501`
//!   (the declared `Deviation::ExtensionMethodAnswered400` turns the last two into "exactly 400")
//!
//! **3. Static pages**
//! - embedded root vs `--static-dir` (changes seen without restart): `static_dir_serves_disk_files`,
//!   `static_dir_sees_changes_without_restart`, `static_dir_sees_new_and_deleted_files`, `cli_static_dir_flag`
//! - required files, home links and forms, guide: `home_page_is_html`, `index_html_same_as_home`,
//!   `root_files_exist`, `home_links_every_demo`, `home_has_forms`, `guide_explains_get_and_post`
//! - decode each segment once: `segments_percent_decoded_once`
//! - `..`/`.`/dot-names/`/`/`\`/`:`/NUL, long names, trailing slash on a file: 404: `dot_segments_404`,
//!   `dotfiles_404`, `encoded_separators_404`, `colon_and_nul_404`, `overlong_name_404`,
//!   `trailing_slash_on_file_404`
//! - nothing outside the root, symlinks out: 404: `symlink_out_of_root_404`; never a 500: `odd_paths_never_500`
//! - `/` serves `index.html`, directory without slash 301 (query kept), missing 404: `directory_index_served`,
//!   `directory_without_slash_redirects`, `directory_redirect_keeps_query`, `missing_file_404`
//! - `Content-Type` by extension: `content_types_by_extension`, `root_files_exist`
//! - `Last-Modified`, strong content `ETag`, `Cache-Control: no-cache`: `last_modified_is_imf_fixdate`,
//!   `last_modified_is_file_mtime`, `etag_is_strong_and_stable`, `etag_follows_content_not_mtime`,
//!   `cache_control_no_cache`
//! - conditionals: `if_none_match_exact_304`, `if_none_match_weak_304`, `if_none_match_list_304`,
//!   `if_none_match_star_304`, `if_none_match_mismatch_200`, `if_none_match_overrides_if_modified_since`,
//!   `if_modified_since_at_304`, `if_modified_since_after_304`, `if_modified_since_before_200`,
//!   `if_modified_since_garbage_ignored`, `not_modified_headers`, `head_conditional_304`
//! - `Range` ignored: `range_ignored`; `POST` on a static path 405: `post_on_static_405`
//!
//! **4. Dynamic routes** (table rows in order)
//! - `/hello`: `hello_defaults_to_world`, `hello_greets_name`, `hello_decodes_query`, `hello_escapes_name`,
//!   `hello_rejects_empty_name`, `hello_name_length_limit`, `hello_rejects_name_twice`
//! - `POST /users`: section 4.1 below
//! - `GET /users/{username}`: `user_profile_json`, `user_profile_case_insensitive`, `user_profile_unknown_404`,
//!   `user_profile_html_when_preferred`
//! - `POST /login`: section 4.2 below
//! - `POST /logout`: `logout_json_204`, `logout_form_303`, `logout_deletes_session_server_side`,
//!   `logout_is_idempotent` (and `logout_ignores_body`, `body_limit_on_login_and_logout`)
//! - `GET /me`: `me_json`, `me_html_when_preferred`, `me_requires_session`, `me_rejects_unknown_session`,
//!   `me_rejects_altered_session`
//! - `GET /admin`: `admin_requires_session`, `admin_forbids_non_admin`, `admin_lists_users`,
//!   `admin_lists_first_100_by_name`
//! - `/status/{code}`: section 4.3 below; `/teapot`: `teapot_418`; `/plaintext`: `plaintext_exact`;
//!   `/json`: `json_exact`; `/healthz`: `healthz_ok`
//! - `/openapi.json`: `openapi_lists_every_route`, `openapi_documents_bodies_and_problems`, `openapi_is_stable`
//! - every 401 has `WWW-Authenticate: Cookie realm="sitebench"`: `unauthorized_carries_www_authenticate`
//!   (and every 401 asserted elsewhere)
//!
//! **4.1 Sign-up and the body rules**
//! - form or JSON, charset allowed, unknown fields ignored: `signup_json_201`, `signup_form_303`,
//!   `signup_accepts_utf8_charset`, `signup_ignores_unknown_fields`
//! - other or missing type 415: `signup_rejects_other_content_types_415`, `signup_requires_content_type_415`,
//!   `signup_rejects_other_charsets_415`
//! - over 16 KiB 413 (after transfer decoding): `signup_body_over_16_kib_413`, `signup_body_of_16_kib_accepted`,
//!   `body_limit_chunked_413`, `chunked_body_within_limit_accepted`
//! - unparsable, missing, non-string 400: `signup_unparsable_body_400`, `signup_missing_field_400`,
//!   `signup_non_string_value_400`
//! - rules, 422 with every broken rule: `username_length_rule_422`, `username_characters_rule_422`,
//!   `username_first_character_rule_422`, `password_length_rule_422`, `password_length_counts_characters`,
//!   `password_equal_to_username_422`, `unprocessable_lists_every_broken_rule`
//! - taken (ignoring case) 409: `username_taken_409`, `username_taken_ignores_case_409`
//! - 201 + Location + JSON (RFC 3339 UTC) / 303 + Location: `signup_json_201`, `signup_form_303`
//! - concurrent sign-ups, exactly one wins: `concurrent_signups_one_wins`
//!
//! **4.2 Login**
//! - body rules: `login_body_rules`
//! - session cookie exactly, new token each time, `Cache-Control: no-store`, 200 JSON / 303 form:
//!   `login_json_200`, `login_form_303`, `login_session_works`, `login_token_new_each_time`
//!   (only-SHA-256 storage: `session_token_not_stored_in_clear`)
//! - wrong password, unknown user, invalid name: same 401, same time: `login_wrong_password_401`,
//!   `login_unknown_user_401`, `login_invalid_username_401`, `login_failures_identical`,
//!   `failed_logins_take_similar_time`
//! - five failures in 60 s: 429 + `Retry-After`: `login_throttles_after_five_failures`
//!
//! **4.3 Status**
//! - three digits, 200..599, bodies by class, none for 204/205/304: `status_2xx_body`,
//!   `status_3xx_body_and_location`, `status_without_body_codes`, `status_4xx_problem`, `status_5xx_problem`,
//!   `status_problem_detail_explains_code`
//! - reason phrases (RFC 9110, 418, `Status <code>`): `status_titles_follow_rfc9110`, `status_unassigned_codes_titled`
//! - per-code headers: `status_3xx_body_and_location`, `status_401_www_authenticate`, `status_405_allow`,
//!   `status_429_503_retry_after`
//! - 1xx and malformed 400: `status_1xx_is_400_informational`, `status_rejects_malformed_codes`
//!
//! **5. Storage, sessions, passwords** (binary)
//! - SQLite, default `sitebench.db` in the cwd, `:memory:`, WAL: `database_created_in_working_directory`,
//!   `database_memory_works`, `database_uses_wal`
//! - acknowledged sign-ups survive `kill -9`: `signup_survives_kill_9`
//! - argon2id, default cost; over-long password rejected before hashing:
//!   `passwords_stored_as_argon2id_default_cost`, `overlong_password_rejected_before_hashing`
//! - sessions expire after 24 h (`Max-Age=86400`, checked with every login), logout deletes them:
//!   `login_json_200`, `logout_deletes_session_server_side`
//! - admins from `--admin` (repeatable): `admins_from_repeated_flag`
//!
//! **6. Command line** (binary)
//! - flags and `SITEBENCH_*`: `cli_bind_flag`, `cli_env_port`, `cli_env_switches`, `cli_env_admin_list`,
//!   `cli_static_dir_flag`, `cli_workers_flag`, `cli_secure_cookies`
//! - start-up line with the real port: `cli_prints_startup_line`
//! - CLF access log unless `--quiet`: `cli_access_log_is_clf`, `cli_quiet_silences_log`, `cli_env_switches`
//! - SIGTERM / Ctrl-C: `cli_sigterm_finishes_in_flight_request`, `cli_sigterm_closes_idle_connections`,
//!   `cli_sigint_exits_zero`
//! - bad flags, unusable database, port in use: one line, exit 2, nothing written:
//!   `cli_rejects_bad_flag_value`, `cli_rejects_unknown_flag`, `cli_rejects_missing_static_dir`,
//!   `cli_rejects_unusable_database`, `cli_rejects_port_in_use`, `cli_rejects_bad_env_value`
//!
//! **7. Robustness and abuse** (each check ends with `/healthz` still `200 ok`)
//! - cross-site POST 403: `csrf_cross_site_post_403`, `csrf_same_site_post_allowed`, `csrf_foreign_origin_403`,
//!   `csrf_matching_origin_allowed`, `csrf_origin_port_compared`, `csrf_does_not_affect_get`
//! - `Host` missing or twice 400, HTTP/1.0 needs none: `host_header_required`, `host_header_twice_400`,
//!   `http10_needs_no_host`
//! - 10 s header timeout, others served: `slow_request_header_closed`
//! - malformed requests 400 or closed; 431; 414: `bad_request_line_rejected`, `bad_header_syntax_rejected`,
//!   `bad_content_length_rejected`, `bad_chunk_size_rejected`, `too_many_headers_431`, `too_large_header_431`,
//!   `long_request_target_414`
//! - body limit while reading, announced or chunked: `body_limit_announced_413`, `body_limit_chunked_413`,
//!   `body_limit_on_login_and_logout`
//! - others served, no sign-up lost: `abuse_leaves_others_served`, `abuse_loses_no_signup`
//!
//! **8. Fine points**
//! - check order 415, 413, 400 (field twice), 422, 409/401/429: `order_415_before_413`, `order_413_before_400`,
//!   `order_400_before_422`, `order_422_before_409`, `order_login_checks_before_401`, `field_given_twice_is_400`,
//!   `one_error_entry_per_broken_rule`
//! - JSON types in `Accept`, most specific entry: the `accept_*` checks of section 1
//! - static fallback claims every path; empty segment 404: `fallback_claims_every_path`, `empty_segment_404`;
//!   a route claims its path as sent (an escaped literal segment is not the route): `routes_claim_their_paths_as_sent`
//! - throttling per username ignoring case, 429 not a failure, success clears: `throttle_ignores_case`,
//!   `throttle_429_is_not_a_failure`, `throttle_cleared_by_success`
//! - `--admin` ignoring case, env lists and switches, CLI wins, missing `--static-dir` is a bad flag:
//!   `cli_admin_ignores_case`, `cli_env_admin_list`, `cli_env_switches`, `cli_flag_beats_env`,
//!   `cli_rejects_missing_static_dir`
//! - `/admin` JSON only, sorted ignoring case: `admin_answers_json_even_for_html`, `admin_lists_users`
//! - no body: `Content-Length: 0` but 204/304: `empty_responses_content_length`, `status_without_body_codes`
//! - access log as Apache/nginx CLF: `cli_access_log_is_clf`
//! - `/logout` ignores any body (limit applies): `logout_ignores_body`, `body_limit_on_login_and_logout`

/// Declares which SITE.md section the listed checks belong to (a `SECTION` constant in a
/// module named after each check, next to the function of that name).
macro_rules! in_section {
    ($section:literal: $($name:ident),+ $(,)?) => {
        $(
            pub(crate) mod $name {
                pub(crate) const SECTION: &str = $section;
            }
        )+
    };
}

#[macro_use]
mod fail;
mod checks;
mod client;
mod expect;
mod fixture;
mod process;

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use futures_util::FutureExt as _;
pub use futures_util::future::BoxFuture;

pub use client::Ctx;
pub use fixture::{IN_PROCESS_ADMIN, IN_PROCESS_PANIC_PATH, write_static_fixture};

/// A line of SITE.md a backend cannot honour because of its framework (declared in the
/// backend's `DEVIATIONS`); the suite then expects exactly the deviating behaviour, and fails
/// if the framework starts conforming.
pub use crate::deviations::Deviation;

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
}

/// A server started with `--static-dir dir`, where `dir` holds [`write_static_fixture`]'s files.
#[derive(Debug, Clone)]
pub struct StaticDirTarget {
    pub base_url: String,
    pub dir: PathBuf,
}

/// The password the admin checks use for `Target::admin`.
pub const ADMIN_PASSWORD: &str = "conformance-admin-pw";

/// One check: its name (a function in `checks`), its SITE.md section, how to run it.
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
    Fail(String),
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

/// Calls `$callback! { [extra...] check, check, ... }` with every check name, in SITE.md
/// order: the one list behind both [`CHECKS`] and [`conformance_tests!`](crate::conformance_tests).
#[macro_export]
macro_rules! with_checks {
    ($callback:path, $($extra:tt)*) => {
        $callback! { [$($extra)*]
            server_header_names_backend, date_header_is_imf_fixdate, bodies_have_type_and_length,
            text_types_carry_utf8_charset, head_matches_get_dynamic, head_matches_get_static,
            head_matches_get_errors, head_sends_no_body_on_wire, errors_are_problem_details,
            framework_errors_are_problem_details, error_html_when_accept_prefers_html,
            error_html_escapes_detail, accept_absent_gives_json, accept_html_gives_html,
            accept_tie_goes_to_json, accept_higher_json_q_gives_json, accept_q_values_pick_html,
            accept_most_specific_range_wins, accept_unrelated_types_give_json,
            panic_gives_500_and_server_survives, get_routes_answer_405_to_post, post_routes_answer_405_to_get,
            post_routes_answer_405_to_head, put_is_501, delete_is_501, patch_is_501, options_is_501,
            trace_is_501, extension_method_is_501, lowercase_method_is_501, home_page_is_html,
            index_html_same_as_home, root_files_exist, home_links_every_demo, home_has_forms,
            guide_explains_get_and_post, static_dir_serves_disk_files,
            static_dir_sees_changes_without_restart, static_dir_sees_new_and_deleted_files,
            segments_percent_decoded_once, dot_segments_404, dotfiles_404, encoded_separators_404,
            colon_and_nul_404, overlong_name_404, trailing_slash_on_file_404, directory_index_served,
            directory_without_slash_redirects, directory_redirect_keeps_query, missing_file_404,
            symlink_out_of_root_404, odd_paths_never_500, content_types_by_extension,
            last_modified_is_imf_fixdate, last_modified_is_file_mtime, etag_is_strong_and_stable,
            etag_follows_content_not_mtime, cache_control_no_cache, if_none_match_exact_304,
            if_none_match_weak_304, if_none_match_list_304, if_none_match_star_304,
            if_none_match_mismatch_200, if_none_match_overrides_if_modified_since, if_modified_since_at_304,
            if_modified_since_after_304, if_modified_since_before_200, if_modified_since_garbage_ignored,
            not_modified_headers, head_conditional_304, range_ignored, post_on_static_405,
            hello_defaults_to_world, hello_greets_name, hello_decodes_query, hello_escapes_name,
            hello_rejects_empty_name, hello_name_length_limit, hello_rejects_name_twice, user_profile_json,
            user_profile_case_insensitive, user_profile_unknown_404, user_profile_html_when_preferred,
            logout_json_204, logout_form_303, logout_deletes_session_server_side, logout_is_idempotent,
            me_json, me_html_when_preferred, me_requires_session, me_rejects_unknown_session,
            me_rejects_altered_session, admin_requires_session, admin_forbids_non_admin, admin_lists_users,
            admin_lists_first_100_by_name, admin_answers_json_even_for_html, teapot_418, plaintext_exact,
            json_exact, healthz_ok, openapi_lists_every_route, openapi_documents_bodies_and_problems,
            openapi_is_stable, unauthorized_carries_www_authenticate, signup_json_201, signup_form_303,
            signup_accepts_utf8_charset, signup_ignores_unknown_fields,
            signup_rejects_other_content_types_415, signup_requires_content_type_415,
            signup_rejects_other_charsets_415, signup_body_over_16_kib_413, signup_body_of_16_kib_accepted,
            signup_unparsable_body_400, signup_missing_field_400, signup_non_string_value_400,
            username_length_rule_422, username_characters_rule_422, username_first_character_rule_422,
            password_length_rule_422, password_length_counts_characters, password_equal_to_username_422,
            unprocessable_lists_every_broken_rule, username_taken_409, username_taken_ignores_case_409,
            concurrent_signups_one_wins, login_json_200, login_form_303, login_session_works,
            login_token_new_each_time, login_wrong_password_401, login_unknown_user_401,
            login_invalid_username_401, login_failures_identical, login_body_rules,
            login_throttles_after_five_failures, failed_logins_take_similar_time, status_2xx_body,
            status_3xx_body_and_location, status_without_body_codes, status_4xx_problem, status_5xx_problem,
            status_titles_follow_rfc9110, status_unassigned_codes_titled, status_401_www_authenticate,
            status_405_allow, status_429_503_retry_after, status_1xx_is_400_informational,
            status_rejects_malformed_codes, status_problem_detail_explains_code,
            database_created_in_working_directory, database_uses_wal, database_memory_works,
            signup_survives_kill_9, passwords_stored_as_argon2id_default_cost,
            session_token_not_stored_in_clear, overlong_password_rejected_before_hashing,
            admins_from_repeated_flag, cli_prints_startup_line, cli_bind_flag, cli_access_log_is_clf,
            cli_quiet_silences_log, cli_env_switches, cli_env_port, cli_flag_beats_env, cli_env_admin_list,
            cli_admin_ignores_case, cli_secure_cookies, cli_static_dir_flag, cli_workers_flag,
            cli_sigterm_finishes_in_flight_request, cli_sigterm_closes_idle_connections,
            cli_sigint_exits_zero, cli_rejects_bad_flag_value, cli_rejects_unknown_flag,
            cli_rejects_missing_static_dir, cli_rejects_unusable_database, cli_rejects_port_in_use,
            cli_rejects_bad_env_value, csrf_cross_site_post_403, csrf_same_site_post_allowed,
            csrf_foreign_origin_403, csrf_matching_origin_allowed, csrf_origin_port_compared,
            csrf_does_not_affect_get, host_header_required, host_header_twice_400, http10_needs_no_host,
            slow_request_header_closed, bad_request_line_rejected, bad_header_syntax_rejected,
            bad_content_length_rejected, bad_chunk_size_rejected, too_many_headers_431, too_large_header_431,
            long_request_target_414, body_limit_announced_413, body_limit_chunked_413,
            chunked_body_within_limit_accepted, body_limit_on_login_and_logout, abuse_leaves_others_served,
            abuse_loses_no_signup, order_415_before_413, order_413_before_400, order_400_before_422,
            order_422_before_409, order_login_checks_before_401, field_given_twice_is_400,
            one_error_entry_per_broken_rule, fallback_claims_every_path, empty_segment_404,
            routes_claim_their_paths_as_sent,
            throttle_ignores_case, throttle_429_is_not_a_failure, throttle_cleared_by_success,
            empty_responses_content_length, logout_ignores_body,
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
    ([$target:expr] $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                $crate::conformance::run_one(stringify!($name), $target)
            }
        )*
    };
}

macro_rules! build_checks {
    ([] $($name:ident),* $(,)?) => {
        mod runners {
            use super::{BoxFuture, Ctx, Outcome, checks, finish};
            $(
                pub(super) fn $name<'a>(cx: &'a Ctx) -> BoxFuture<'a, Outcome> {
                    Box::pin(async move { finish(checks::$name(cx).await) })
                }
            )*
        }

        /// Every check, in SITE.md order.
        pub static CHECKS: &[Check] = &[
            $( Check { name: stringify!($name), section: checks::$name::SECTION, run: runners::$name }, )*
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

/// Runs one check under the deadline; a panic inside it is a failure.
async fn run_check(check: &Check, cx: &Ctx) -> Outcome {
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

/// For `#[test]`s: panics with `check <name> on <backend>: <why>` on failure, prints skips.
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
pub async fn run_all(target: &Target, mut on_result: impl FnMut(&Check, &Outcome)) -> Summary {
    let mut summary = Summary::default();
    let cx = match Ctx::new(target) {
        Ok(cx) => cx,
        Err(e) => {
            for check in CHECKS {
                let outcome = Outcome::Fail(e.clone());
                on_result(check, &outcome);
                summary.failed.push((check.name, e.clone()));
            }
            return summary;
        }
    };
    for check in CHECKS {
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
    use super::*;

    #[test]
    fn checks_are_unique_and_sectioned() {
        let mut names: Vec<&str> = CHECKS.iter().map(|c| c.name).collect();
        let total = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), total, "duplicate check names");
        assert!(total >= 130, "only {total} checks");
        let sections = ["1", "2", "3", "4", "4.1", "4.2", "4.3", "5", "6", "7", "8"];
        for check in CHECKS {
            assert!(
                sections.contains(&check.section),
                "{} has section {}",
                check.name,
                check.section
            );
        }
    }

    #[test]
    fn unknown_check_fails() {
        assert!(matches!(
            run_check_by_name("no_such_check", &Target::new("http://127.0.0.1:9")),
            Outcome::Fail(_)
        ));
    }
}
