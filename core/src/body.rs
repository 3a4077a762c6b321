//! What every `POST` body goes through before a route reads it: its kind from `Content-Type`
//! (`415`), its size against [`BODY_LIMIT`] (`413`), and the `application/x-www-form-urlencoded`
//! decoding a form body shares with the query string `/hello` reads. Adapters hand bodies over
//! as `Result<Bytes, BodyError>`; what a body must say is the route's (`credentials`).

use bytes::Bytes;
use http::HeaderMap;
use http::header::CONTENT_TYPE;
use percent_encoding::percent_decode;

use crate::errors::SiteError;

/// The most a `POST` body may hold; reading stops one byte past it.
pub const BODY_LIMIT: usize = 16 * 1024;

/// Why an adapter could not hand over a whole body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyError {
    /// More than `BODY_LIMIT` bytes, announced or read.
    TooLarge,
    /// The connection failed or the transfer coding was broken.
    Unreadable,
}

/// The two body syntaxes the site reads; which one also decides the answer's form (a redirect
/// for a form, JSON for JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    Form,
    Json,
}

/// The body kind named by `Content-Type`, if the site accepts it.
pub fn body_kind(headers: &HeaderMap) -> Result<BodyKind, SiteError> {
    let mut values = headers.get_all(CONTENT_TYPE).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return Err(SiteError::UnsupportedMediaType(
            "Send the body as application/x-www-form-urlencoded or application/json.",
        ));
    };
    let text = value.to_str().unwrap_or("");
    let mut parts = text.split(';');
    let essence = parts.next().unwrap_or("").trim();
    let kind = if essence.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        BodyKind::Form
    } else if essence.eq_ignore_ascii_case("application/json") {
        BodyKind::Json
    } else {
        return Err(SiteError::UnsupportedMediaType(
            "Send the body as application/x-www-form-urlencoded or application/json.",
        ));
    };
    for param in parts {
        if let Some((name, value)) = param.split_once('=')
            && name.trim().eq_ignore_ascii_case("charset")
            && !value.trim().trim_matches('"').eq_ignore_ascii_case("utf-8")
        {
            return Err(SiteError::UnsupportedMediaType(
                "The only charset accepted is utf-8.",
            ));
        }
    }
    Ok(kind)
}

/// The whole body, if it arrived and fits [`BODY_LIMIT`] (`413` otherwise, `400` when it
/// could not be read). Every POST route's body passes here, `/logout`'s too.
pub fn within_limit(body: Result<Bytes, BodyError>) -> Result<Bytes, SiteError> {
    match body {
        Ok(body) if body.len() > BODY_LIMIT => Err(SiteError::ContentTooLarge),
        Ok(body) => Ok(body),
        Err(BodyError::TooLarge) => Err(SiteError::ContentTooLarge),
        Err(BodyError::Unreadable) => Err(SiteError::MalformedBody(
            "The request body could not be read.".into(),
        )),
    }
}

/// A name or value that is not UTF-8 once percent-decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotUtf8;

/// Splits `application/x-www-form-urlencoded` text (also a query string) into decoded pairs.
pub fn form_pairs(input: &[u8]) -> Result<Vec<(String, String)>, NotUtf8> {
    let mut pairs = Vec::new();
    for piece in input.split(|&b| b == b'&').filter(|p| !p.is_empty()) {
        let (name, value) = match piece.iter().position(|&b| b == b'=') {
            Some(at) => (&piece[..at], &piece[at + 1..]),
            None => (piece, &b""[..]),
        };
        pairs.push((decode_component(name)?, decode_component(value)?));
    }
    Ok(pairs)
}

fn decode_component(raw: &[u8]) -> Result<String, NotUtf8> {
    let spaced: Vec<u8> = raw
        .iter()
        .map(|&b| if b == b'+' { b' ' } else { b })
        .collect();
    percent_decode(&spaced)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| NotUtf8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(input: &str) -> Result<Vec<(String, String)>, NotUtf8> {
        form_pairs(input.as_bytes())
    }

    #[test]
    fn form_pairs_decode_plus_and_escapes_and_skip_empty_pieces() {
        let owned = |v: &[(&str, &str)]| -> Vec<(String, String)> {
            v.iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect()
        };
        assert_eq!(
            pairs("name=a+b%2Bc&&flag&=v&n%C3%A4me=x=y"),
            Ok(owned(&[
                ("name", "a b+c"),
                ("flag", ""),
                ("", "v"),
                ("näme", "x=y")
            ]))
        );
        assert_eq!(pairs(""), Ok(Vec::new()));
        assert_eq!(pairs("name=%FF"), Err(NotUtf8));
        assert_eq!(pairs("%C3=x"), Err(NotUtf8));
    }

    #[test]
    fn the_limit_is_inclusive_and_errors_map_to_413_and_400() {
        let status = |body| within_limit(body).map_or_else(|e| e.status().as_u16(), |_| 200);
        assert_eq!(status(Ok(Bytes::from(vec![b'a'; BODY_LIMIT]))), 200);
        assert_eq!(status(Ok(Bytes::from(vec![b'a'; BODY_LIMIT + 1]))), 413);
        assert_eq!(status(Err(BodyError::TooLarge)), 413);
        assert_eq!(status(Err(BodyError::Unreadable)), 400);
    }
}
