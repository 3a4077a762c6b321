//! The checks: one module per SITE.md section, each stating its section once in its
//! `SECTION` constant and holding only that section's checks (every `pub(crate) async fn`
//! there is a check, listed in `with_checks!` under that module's path), and `support`, the
//! helpers more than one section uses. Sections never import from each other.

pub(crate) mod support;

pub(crate) mod s1_conventions;
pub(crate) mod s2_methods;
pub(crate) mod s3_static;
pub(crate) mod s4_1_signup;
pub(crate) mod s4_2_login;
pub(crate) mod s4_3_status;
pub(crate) mod s4_routes;
pub(crate) mod s5_storage;
pub(crate) mod s6_cli;
pub(crate) mod s7_robustness;
pub(crate) mod s8_fine_points;
