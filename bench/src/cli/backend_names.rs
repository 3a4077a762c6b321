//! The one check of the backend names a command is given (`--backends`), with one wording for
//! every command: a misspelt name is refused before anything is built or started.

use crate::workspace::backends::{self, FLOOR};

/// Which servers a command can take by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Known {
    /// The workspace's backends (`soak`, `build-cost`).
    Backends,
    /// The backends and `floor` (`run`, `cost`).
    BackendsAndFloor,
}

/// `names` as given, or an error naming the first unknown one and every known one.
pub fn check(names: &[String], known: Known) -> Result<(), String> {
    let mut all = backends::names();
    if known == Known::BackendsAndFloor {
        all.push(FLOOR.name);
    }
    match names.iter().find(|n| !all.contains(&n.as_str())) {
        Some(unknown) => Err(format!(
            "--backends: unknown backend {unknown:?} (known: {})",
            all.join(", ")
        )),
        None => Ok(()),
    }
}

/// The names given, or every backend of the workspace when none was.
pub fn or_all(names: Vec<String>) -> Vec<String> {
    if names.is_empty() {
        backends::names().into_iter().map(String::from).collect()
    } else {
        names
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_wording_names_the_unknown_and_the_known() {
        let names = |list: &[&str]| list.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>();
        assert_eq!(check(&names(&["axum", "hyper"]), Known::Backends), Ok(()));
        assert_eq!(check(&names(&["floor"]), Known::BackendsAndFloor), Ok(()));
        let refused = check(&names(&["axum", "floor"]), Known::Backends);
        assert!(
            refused.as_ref().is_err_and(
                |e| e.starts_with("--backends: unknown backend \"floor\" (known: hyper, ")
            ),
            "{refused:?}"
        );
        let refused = check(&names(&["nope"]), Known::BackendsAndFloor);
        assert!(
            refused.as_ref().is_err_and(|e| e.ends_with(", floor)")),
            "{refused:?}"
        );
    }
}
