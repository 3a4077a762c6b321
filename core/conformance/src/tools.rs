//! The one reading of `SITEBENCH_REQUIRE_TOOLS`, shared by every test that needs something
//! from outside Cargo (Chromium, ChromeDriver, axe-core, python3, a second core): on a
//! student's machine such a test says what is missing and passes, in CI (which sets the
//! variable to `1`) it fails, so nothing there can pass by not running.

use std::ffi::OsStr;

/// The environment variable: `1` means the tools must be there.
pub const REQUIRE_TOOLS: &str = "SITEBENCH_REQUIRE_TOOLS";

/// Whether `SITEBENCH_REQUIRE_TOOLS=1`: a test missing a tool then fails instead of skipping.
///
/// # Panics
///
/// On a value other than `1`, `0` or empty: `true` or `yes` would otherwise read as "not
/// required" and let CI pass what it never ran.
pub fn tools_required() -> bool {
    match required(std::env::var_os(REQUIRE_TOOLS).as_deref()) {
        Ok(required) => required,
        Err(why) => panic!("{why}"),
    }
}

fn required(value: Option<&OsStr>) -> Result<bool, String> {
    let Some(value) = value else {
        return Ok(false);
    };
    match value.to_str() {
        Some("1") => Ok(true),
        Some("" | "0") => Ok(false),
        _ => Err(format!(
            "{REQUIRE_TOOLS} must be 1 (tools required) or 0, empty or unset (tools optional), got {:?}",
            value.to_string_lossy()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_1_requires_the_tools() {
        assert_eq!(required(None), Ok(false));
        assert_eq!(required(Some(OsStr::new(""))), Ok(false));
        assert_eq!(required(Some(OsStr::new("0"))), Ok(false));
        assert_eq!(required(Some(OsStr::new("1"))), Ok(true));
    }

    #[test]
    fn any_other_value_is_refused_not_read_as_optional() {
        for value in ["true", "yes", "2", " 1"] {
            let refused = required(Some(OsStr::new(value)));
            assert!(
                refused
                    .as_ref()
                    .is_err_and(|why| why.contains(REQUIRE_TOOLS)),
                "{value:?}: {refused:?}"
            );
        }
    }
}
