//! `Accept` negotiation: does this request prefer an HTML page over JSON? Used for error
//! pages and for the pages that have both forms (`/users/{name}`, `/me`).

use http::HeaderMap;
use http::header::ACCEPT;

/// The media types that count as JSON for negotiation (SITE.md section 8).
const JSON_TYPES: [(&str, &str); 2] = [("application", "json"), ("application", "problem+json")];

/// True when the `Accept` header gives `text/html` a higher q-value than every JSON type.
/// Ties and a missing header mean JSON.
pub fn prefers_html(headers: &HeaderMap) -> bool {
    let mut ranges = Vec::new();
    for value in headers.get_all(ACCEPT) {
        let Ok(text) = value.to_str() else { continue };
        ranges.extend(text.split(',').filter_map(MediaRange::parse));
    }
    if ranges.is_empty() {
        return false;
    }
    let html = quality(&ranges, "text", "html");
    let json = JSON_TYPES
        .iter()
        .map(|(t, s)| quality(&ranges, t, s))
        .fold(0.0_f32, f32::max);
    html > json
}

struct MediaRange<'a> {
    kind: &'a str,
    subtype: &'a str,
    q: f32,
}

impl<'a> MediaRange<'a> {
    fn parse(item: &'a str) -> Option<Self> {
        let mut parts = item.split(';');
        let (kind, subtype) = parts.next()?.trim().split_once('/')?;
        let (kind, subtype) = (kind.trim(), subtype.trim());
        if kind.is_empty() || subtype.is_empty() {
            return None;
        }
        let mut q = 1.0;
        for param in parts {
            if let Some((name, value)) = param.split_once('=')
                && name.trim().eq_ignore_ascii_case("q")
            {
                q = value
                    .trim()
                    .parse::<f32>()
                    .ok()
                    .filter(|q| (0.0..=1.0).contains(q))?;
            }
        }
        Some(Self { kind, subtype, q })
    }

    /// 2 for an exact match, 1 for `type/*`, 0 for `*/*`; `None` when it does not match.
    fn specificity(&self, kind: &str, subtype: &str) -> Option<u8> {
        match (self.kind, self.subtype) {
            ("*", "*") => Some(0),
            (k, "*") if k.eq_ignore_ascii_case(kind) => Some(1),
            (k, s) if k.eq_ignore_ascii_case(kind) && s.eq_ignore_ascii_case(subtype) => Some(2),
            _ => None,
        }
    }
}

/// The q-value of the most specific range matching `kind/subtype`, 0 when none does.
fn quality(ranges: &[MediaRange<'_>], kind: &str, subtype: &str) -> f32 {
    ranges
        .iter()
        .filter_map(|r| r.specificity(kind, subtype).map(|s| (s, r.q)))
        .max_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)))
        .map_or(0.0, |(_, q)| q)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn prefers(accept: &str) -> bool {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_str(accept).expect("ascii"));
        prefers_html(&headers)
    }

    #[test]
    fn browsers_get_html() {
        assert!(prefers(
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
        ));
        assert!(prefers("text/*"));
    }

    #[test]
    fn ties_missing_and_json_get_json() {
        assert!(!prefers_html(&HeaderMap::new()));
        assert!(!prefers("*/*"));
        assert!(!prefers("text/html, application/json"));
        assert!(!prefers("text/html;q=0.5, application/*;q=0.5"));
        assert!(!prefers("application/problem+json"));
        assert!(!prefers("garbage"));
    }

    #[test]
    fn most_specific_entry_sets_the_q_value() {
        // */* would give JSON 1.0, but application/json says 0.1.
        assert!(prefers(
            "text/html;q=0.5, application/json;q=0.1, application/problem+json;q=0.1, */*"
        ));
        assert!(!prefers("text/html;q=0.5, application/json;q=0.1, */*"));
        assert!(prefers("text/html, */*;q=0.1"));
        assert!(!prefers("text/html;q=0"));
    }

    proptest::proptest! {
        /// Any `Accept` a client can send is negotiated without a panic; and where it sets no
        /// q-value and names no JSON type, a JSON type put first ties with anything and wins.
        #[test]
        fn any_accept_is_negotiated(accept in "[ -~]{0,80}") {
            if let Ok(value) = http::HeaderValue::from_str(&accept) {
                let mut headers = HeaderMap::new();
                headers.insert(http::header::ACCEPT, value);
                let _ = prefers_html(&headers);
                let json_first = format!("application/json, {accept}");
                let plain = !accept.contains("q=") && !accept.contains("json");
                if let (true, Ok(value)) = (plain, http::HeaderValue::from_str(&json_first)) {
                    headers.insert(http::header::ACCEPT, value);
                    proptest::prop_assert!(!prefers_html(&headers), "{json_first:?}");
                }
            }
        }
    }
}
