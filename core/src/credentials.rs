//! Reading the body of `POST /users` and `POST /login`: the content type (`415`), the size
//! (`413`), then the syntax (`400`), in the order SITE.md section 8 fixes. Rules (`422`) come
//! after, in `users`.

use bytes::Bytes;
use http::HeaderMap;
use http::header::CONTENT_TYPE;
use percent_encoding::percent_decode;
use serde::Deserialize;

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    Form,
    Json,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
    pub kind: BodyKind,
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

/// Content type, then size, then syntax: the first failure decides the status.
pub fn parse(
    headers: &HeaderMap,
    body: Result<Bytes, BodyError>,
) -> Result<Credentials, SiteError> {
    let kind = body_kind(headers)?;
    let body = within_limit(body)?;
    let (username, password) = match kind {
        BodyKind::Form => parse_form(&body)?,
        BodyKind::Json => parse_json(&body)?,
    };
    Ok(Credentials {
        username,
        password,
        kind,
    })
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

#[derive(Deserialize)]
struct JsonCredentials {
    username: String,
    password: String,
}

fn parse_json(body: &[u8]) -> Result<(String, String), SiteError> {
    // serde's derive would also take a JSON array in field order; the contract wants an object.
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(SiteError::MalformedBody(
            "The JSON body must be an object.".into(),
        ));
    }
    // serde's derive rejects a duplicate field, a missing field and a non-string value.
    serde_json::from_slice::<JsonCredentials>(body)
        .map(|c| (c.username, c.password))
        .map_err(|e| SiteError::MalformedBody(format!("The JSON body is invalid: {e}.")))
}

fn parse_form(body: &[u8]) -> Result<(String, String), SiteError> {
    let pairs = form_pairs(body)
        .map_err(|NotUtf8| SiteError::MalformedBody("The form body is not valid UTF-8.".into()))?;
    let mut username = None;
    let mut password = None;
    for (name, value) in pairs {
        let slot = match name.as_str() {
            "username" => &mut username,
            "password" => &mut password,
            _ => continue,
        };
        if slot.replace(value).is_some() {
            return Err(SiteError::MalformedBody(format!(
                "The field {name} is given twice."
            )));
        }
    }
    match (username, password) {
        (Some(u), Some(p)) => Ok((u, p)),
        _ => Err(SiteError::MalformedBody(
            "The fields username and password are both required.".into(),
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
    use http::HeaderValue;

    fn headers(content_type: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            CONTENT_TYPE,
            HeaderValue::from_str(content_type).expect("ascii"),
        );
        h
    }

    fn status(result: Result<Credentials, SiteError>) -> u16 {
        result.map_or_else(|e| e.status().as_u16(), |_| 200)
    }

    #[test]
    fn content_type_comes_before_size() {
        let too_big = || Err(BodyError::TooLarge);
        assert_eq!(status(parse(&headers("text/plain"), too_big())), 415);
        assert_eq!(status(parse(&HeaderMap::new(), too_big())), 415);
        assert_eq!(
            status(parse(
                &headers("application/json; charset=latin1"),
                too_big()
            )),
            415
        );
        assert_eq!(
            status(parse(
                &headers("application/json; charset=UTF-8"),
                too_big()
            )),
            413
        );
        let long = Bytes::from(vec![b'a'; BODY_LIMIT + 1]);
        assert_eq!(status(parse(&headers("application/json"), Ok(long))), 413);
    }

    #[test]
    fn json_syntax_errors_are_400() {
        let h = headers("application/json");
        for body in [
            &b"{"[..],
            br#"{"username":"ada"}"#,
            br#"{"username":"ada","password":5}"#,
            br#"{"username":"ada","password":"x","username":"bob"}"#,
            br#"["ada","pw"]"#,
            br#"{"username":"ada","password":"secret123"} trailing"#,
        ] {
            assert_eq!(
                status(parse(&h, Ok(Bytes::from_static(body)))),
                400,
                "{body:?}"
            );
        }
        let ok = parse(
            &h,
            Ok(Bytes::from_static(
                br#"{"username":"ada","password":"p","x":1}"#,
            )),
        );
        assert_eq!(ok.map(|c| c.username), Ok("ada".to_owned()));
    }

    #[test]
    fn form_decoding_and_duplicates() {
        let h = headers("application/x-www-form-urlencoded");
        let c = parse(
            &h,
            Ok(Bytes::from_static(
                b"username=a%2Bd+a&password=p%C3%A4ss&x=1",
            )),
        )
        .expect("valid");
        assert_eq!(
            (c.username.as_str(), c.password.as_str()),
            ("a+d a", "päss")
        );
        assert_eq!(c.kind, BodyKind::Form);
        for body in [
            &b"username=a&username=b&password=p"[..],
            b"username=a",
            b"username=%FF&password=x",
        ] {
            assert_eq!(
                status(parse(&h, Ok(Bytes::from_static(body)))),
                400,
                "{body:?}"
            );
        }
    }
}
