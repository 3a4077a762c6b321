//! Reading callgrind's output: the self cost (instructions) of every function in a dump file,
//! the difference of two dumps divided by the difference of their request counts (start-up,
//! connection set-up and the dump's own wake-up cancel out), and the grouping of Rust
//! function names by the crate that defines them.

use std::collections::BTreeMap;

/// Instructions per function name (self cost, not inclusive) and the file's total.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Profile {
    pub total: u64,
    pub by_function: BTreeMap<String, u64>,
}

/// Parses a callgrind output file (one event, `Ir`): cost lines belong to the current `fn=`,
/// except the line right after `calls=`, which is the callee's inclusive cost.
pub fn parse(text: &str) -> Profile {
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    let mut profile = Profile::default();
    let mut current: Option<String> = None;
    let mut after_calls = false;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("fn=") {
            current = Some(resolve(&mut names, rest));
            after_calls = false;
        } else if let Some(rest) = line.strip_prefix("cfn=") {
            resolve(&mut names, rest);
        } else if line.starts_with("calls=") {
            after_calls = true;
        } else if line.starts_with(|c: char| c.is_ascii_digit() || matches!(c, '+' | '-' | '*')) {
            let cost: u64 = line
                .split_whitespace()
                .last()
                .and_then(|c| c.parse().ok())
                .unwrap_or(0);
            if after_calls {
                after_calls = false;
            } else if let Some(function) = &current {
                *profile.by_function.entry(function.clone()).or_default() += cost;
            }
        } else if let Some(total) = line.strip_prefix("totals:") {
            profile.total = total.trim().parse().unwrap_or(0);
        }
    }
    if profile.total == 0 {
        profile.total = profile.by_function.values().sum();
    }
    profile
}

/// `(12) name` defines id 12; `(12)` refers to it; a bare name is itself.
fn resolve(names: &mut BTreeMap<String, String>, spec: &str) -> String {
    let spec = spec.trim();
    let Some(rest) = spec.strip_prefix('(') else {
        return spec.to_owned();
    };
    let Some((id, name)) = rest.split_once(')') else {
        return spec.to_owned();
    };
    let name = name.trim();
    if name.is_empty() {
        names.get(id).cloned().unwrap_or_else(|| spec.to_owned())
    } else {
        names.insert(id.to_owned(), name.to_owned());
        name.to_owned()
    }
}

/// What one more request costs, per function: `(large − small) / (n_large − n_small)`.
pub fn per_request(small: &Profile, n_small: u64, large: &Profile, n_large: u64) -> Profile64 {
    let requests = n_large.saturating_sub(n_small).max(1) as f64;
    let mut by_function = BTreeMap::new();
    for (name, &cost) in &large.by_function {
        let before = small.by_function.get(name).copied().unwrap_or(0);
        by_function.insert(name.clone(), (cost as f64 - before as f64) / requests);
    }
    for (name, &cost) in &small.by_function {
        by_function
            .entry(name.clone())
            .or_insert(-(cost as f64) / requests);
    }
    Profile64 {
        total: (large.total as f64 - small.total as f64) / requests,
        by_function,
    }
}

/// The profile with the median total (the upper one of an even count): a burst in which the
/// allocator happened to reorganise is an outlier, left out rather than averaged in.
pub fn median(mut profiles: Vec<Profile64>) -> Option<Profile64> {
    profiles.sort_by(|a, b| a.total.total_cmp(&b.total));
    let middle = profiles.len() / 2;
    profiles.into_iter().nth(middle)
}

/// A per-request profile (fractions of instructions).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Profile64 {
    pub total: f64,
    pub by_function: BTreeMap<String, f64>,
}

impl Profile64 {
    /// The `n` functions with the most instructions, most first.
    pub fn top(&self, n: usize) -> Vec<(String, f64)> {
        let mut all: Vec<(String, f64)> = self
            .by_function
            .iter()
            .map(|(name, cost)| (name.clone(), *cost))
            .collect();
        all.sort_by(|a, b| b.1.total_cmp(&a.1));
        all.truncate(n);
        all
    }

    /// Instructions per crate ([`crate_of`]), largest first after sorting by the caller.
    pub fn by_crate(&self) -> BTreeMap<String, f64> {
        let mut out = BTreeMap::new();
        for (name, cost) in &self.by_function {
            *out.entry(crate_of(name)).or_insert(0.0) += cost;
        }
        out
    }
}

/// The crate a demangled function name belongs to: the first path segment, or for a trait
/// method `<Type as Trait>::f` the type's crate (the trait's when the type is a reference,
/// tuple or slice). C functions of the allocator and string routines are `libc`.
pub fn crate_of(name: &str) -> String {
    let name = name.trim();
    if let Some(inner) = name.strip_prefix('<') {
        let self_type = inner.split(" as ").next().unwrap_or(inner);
        let self_type = self_type.trim_start_matches(['&', '*', '(', '[']);
        let self_type = self_type
            .trim_start_matches("mut ")
            .trim_start_matches("const ")
            .trim_start_matches("dyn ");
        if self_type.contains("::") {
            return first_segment(self_type);
        }
        if let Some((_, rest)) = inner.split_once(" as ") {
            return first_segment(rest);
        }
        return first_segment(self_type);
    }
    if !name.contains("::") {
        return "libc".to_owned();
    }
    first_segment(name)
}

fn first_segment(path: &str) -> String {
    path.split("::")
        .next()
        .unwrap_or(path)
        .trim_matches(|c: char| !(c.is_alphanumeric() || c == '_'))
        .to_owned()
}

/// The coarse groups of BENCH.md 4.2 a crate falls in, given the backend's framework crate
/// (`axum`, `actix-web`, ...): framework, hyper, tokio, site-core, the adapter, std and the
/// allocator, other.
pub fn group_of(krate: &str, framework: &str) -> &'static str {
    let family = framework.split(['-', '_']).next().unwrap_or(framework);
    match krate {
        "site_core" => "site-core",
        k if k.starts_with("backend_") || k == "floor" => "adapter",
        "hyper" | "hyper_util" | "httparse" | "http" | "http_body" | "http_body_util" => "hyper",
        "tokio" | "mio" => "tokio",
        "std" | "core" | "alloc" | "libc" | "hashbrown" => "std/alloc",
        k if family != "hyper"
            && (k.starts_with(family)
                || (family == "axum" && (k.starts_with("tower") || k == "matchit"))) =>
        {
            "framework"
        }
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DUMP: &str = "\
version: 1
creator: callgrind-3.19.0
events: Ir
fl=(1) ???
fn=(1) hyper::proto::h1::role::encode
0 100
cfl=(2) ./malloc.c
cfn=(2) malloc
calls=2 0
0 40
0 5
fn=(2)
0 40
fn=(3) <axum::routing::Router as tower_service::Service<R>>::call
+2 7
totals: 152
";

    #[test]
    fn self_cost_excludes_the_calls_inclusive_line_and_names_resolve() {
        let profile = parse(DUMP);
        assert_eq!(profile.total, 152);
        assert_eq!(profile.by_function["hyper::proto::h1::role::encode"], 105);
        assert_eq!(profile.by_function["malloc"], 40);
        assert_eq!(
            profile.by_function["<axum::routing::Router as tower_service::Service<R>>::call"],
            7
        );
    }

    #[test]
    fn the_difference_of_two_counts_cancels_fixed_costs() {
        // A fixed 1,000 instructions (start-up, dump) plus 30 per request in `f`.
        let profile = |n: u64| Profile {
            total: 1_000 + 30 * n,
            by_function: BTreeMap::from([("f".to_owned(), 30 * n), ("setup".to_owned(), 1_000)]),
        };
        let one = per_request(&profile(100), 100, &profile(400), 400);
        assert!((one.total - 30.0).abs() < 1e-9);
        assert!((one.by_function["f"] - 30.0).abs() < 1e-9);
        assert!(one.by_function["setup"].abs() < 1e-9);
    }

    #[test]
    fn a_pair_with_an_allocator_step_is_left_out_by_the_median() {
        let pair = |total: f64, f: f64| Profile64 {
            total,
            by_function: BTreeMap::from([("f".to_owned(), f)]),
        };
        // The pair with a step of 2,800 per request in it is left out, wherever it comes.
        let step = pair(52_800.0, 2_830.0);
        let chosen = median(vec![pair(50_010.0, 31.0), step, pair(50_000.0, 30.0)]);
        assert_eq!(chosen, Some(pair(50_010.0, 31.0)));
        assert_eq!(median(Vec::new()), None);
    }

    #[test]
    fn functions_are_grouped_by_their_crate() {
        assert_eq!(
            crate_of("hyper::proto::h1::io::Buffered<T,B>::parse"),
            "hyper"
        );
        assert_eq!(
            crate_of("<axum::routing::Router as tower_service::Service<R>>::call"),
            "axum"
        );
        assert_eq!(
            crate_of("<&mut T as tokio::io::AsyncWrite>::poll_write"),
            "tokio"
        );
        assert_eq!(
            crate_of("core::ptr::drop_in_place<http::header::map::HeaderMap>"),
            "core"
        );
        assert_eq!(crate_of("__memcpy_avx_unaligned_erms"), "libc");
        assert_eq!(crate_of("backend_hyper::run::{{closure}}"), "backend_hyper");
        assert_eq!(group_of("actix_http", "actix-web"), "framework");
        assert_eq!(group_of("tower", "axum"), "framework");
        assert_eq!(group_of("tower", "warp"), "other");
        assert_eq!(group_of("hyper", "hyper"), "hyper");
        assert_eq!(group_of("backend_axum", "axum"), "adapter");
        assert_eq!(group_of("libc", "axum"), "std/alloc");
        assert_eq!(group_of("serde_json", "axum"), "other");
    }
}
