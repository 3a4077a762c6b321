//! Who a user is: the `Username` and `Password` newtypes that can only hold values obeying the
//! sign-up rules (built at the edge, one `errors` entry per broken rule), and the public view of
//! a stored user.

use serde::Serialize;

use crate::problem::FieldError;

pub const USERNAME_LENGTH: std::ops::RangeInclusive<usize> = 3..=32;
pub const PASSWORD_LENGTH: std::ops::RangeInclusive<usize> = 8..=128;

/// A username that obeys the rules: 3 to 32 of `A-Z a-z 0-9 _ . -`, starting with a letter or digit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

/// A password that obeys the rules: 8 to 128 characters, not the username ignoring case.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(..)")
    }
}

impl Username {
    pub fn parse(raw: &str) -> Result<Self, Vec<FieldError>> {
        let errors = username_errors(raw);
        if errors.is_empty() {
            Ok(Self(raw.to_owned()))
        } else {
            Err(errors)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form used for case-insensitive comparisons (admins, throttling).
    pub fn folded(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

impl Password {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn username_errors(raw: &str) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if !USERNAME_LENGTH.contains(&raw.chars().count()) {
        errors.push(FieldError {
            field: "username",
            message: "must be 3 to 32 characters long",
        });
    }
    if !raw
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
    {
        errors.push(FieldError {
            field: "username",
            message: "may contain only letters A-Z and a-z, digits, '_', '.' and '-'",
        });
    }
    if raw
        .chars()
        .next()
        .is_some_and(|c| !c.is_ascii_alphanumeric())
    {
        errors.push(FieldError {
            field: "username",
            message: "must start with a letter or a digit",
        });
    }
    errors
}

/// Checks a sign-up's two fields together, so one response lists every broken rule.
pub fn parse_sign_up(
    username: &str,
    password: &str,
) -> Result<(Username, Password), Vec<FieldError>> {
    let mut errors = username_errors(username);
    if !PASSWORD_LENGTH.contains(&password.chars().count()) {
        errors.push(FieldError {
            field: "password",
            message: "must be 8 to 128 characters long",
        });
    }
    if password.to_lowercase() == username.to_lowercase() {
        errors.push(FieldError {
            field: "password",
            message: "must not be the username",
        });
    }
    if errors.is_empty() {
        Ok((Username(username.to_owned()), Password(password.to_owned())))
    } else {
        Err(errors)
    }
}

/// A stored user as the site shows it (`GET /users/{name}`, sign-up, `/admin`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub username: String,
    pub created_at: String,
    pub admin: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fields(errors: &[FieldError]) -> Vec<&str> {
        errors.iter().map(|e| e.field).collect()
    }

    #[test]
    fn accepts_the_boundaries() {
        assert!(parse_sign_up("ada", "12345678").is_ok());
        assert!(parse_sign_up(&"a".repeat(32), &"p".repeat(128)).is_ok());
        assert!(parse_sign_up("0.a_b-c", "correct horse").is_ok());
    }

    #[test]
    fn lists_every_broken_rule() {
        let errors = parse_sign_up("_", "_").expect_err("invalid");
        // too short, bad start, password too short, password equals username
        assert_eq!(
            fields(&errors),
            ["username", "username", "password", "password"]
        );
        let errors = parse_sign_up("ab cd", "AB CDefgh").expect_err("invalid");
        assert_eq!(fields(&errors), ["username"]);
        let errors = parse_sign_up("Alice.Smith", "alice.smith").expect_err("invalid");
        assert_eq!(fields(&errors), ["password"]);
        assert!(parse_sign_up("ada", &"p".repeat(129)).is_err());
        assert!(parse_sign_up(&"a".repeat(33), "password1").is_err());
        assert!(parse_sign_up("adä", "password1").is_err());
    }

    proptest! {
        #[test]
        fn a_parsed_username_always_obeys_the_rules(raw in "\\PC{0,40}") {
            if let Ok(name) = Username::parse(&raw) {
                let s = name.as_str();
                prop_assert!((3..=32).contains(&s.len()));
                prop_assert!(s.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b)));
                prop_assert!(s.as_bytes()[0].is_ascii_alphanumeric());
            }
        }
    }
}
