//! How a check says it failed or could not run, and the `ensure!`-style macros the checks use.
//! Every message says what was expected and what came back.

/// Why a check did not pass: a contract violation, or a precondition the target lacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Failure {
    Fail(String),
    Skip(String),
}

impl Failure {
    pub(crate) fn fail(message: impl Into<String>) -> Self {
        Self::Fail(message.into())
    }

    /// Prefixes a failure message with where it happened (a skip is kept as it is).
    pub(crate) fn context(self, what: &str) -> Self {
        match self {
            Self::Fail(message) => Self::Fail(format!("{what}: {message}")),
            skip @ Self::Skip(_) => skip,
        }
    }
}

/// What every check and helper returns.
pub(crate) type CheckResult<T = ()> = Result<T, Failure>;

/// Returns a `Failure::Fail` with a formatted message.
macro_rules! fail {
    ($($arg:tt)+) => {
        return Err($crate::fail::Failure::Fail(format!($($arg)+)))
    };
}

/// Returns a `Failure::Skip` with a formatted reason.
macro_rules! skip {
    ($($arg:tt)+) => {
        return Err($crate::fail::Failure::Skip(format!($($arg)+)))
    };
}

/// Fails with the message unless the condition holds.
macro_rules! ensure {
    ($cond:expr, $($arg:tt)+) => {
        if !($cond) {
            fail!($($arg)+);
        }
    };
}

/// Fails unless `got == want`, saying both.
macro_rules! ensure_eq {
    ($got:expr, $want:expr, $($arg:tt)+) => {{
        let (got, want) = (&$got, &$want);
        if got != want {
            fail!("{}: expected {:?}, got {:?}", format!($($arg)+), want, got);
        }
    }};
}
