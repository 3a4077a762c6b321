//! The credentials `POST /users` and `POST /login` carry: the body's kind (`415`) and size
//! (`413`), both `body`'s, then its syntax (`400`), in the order SITE.md section 8 fixes.
//! Rules (`422`) come after, in `users`.

use bytes::Bytes;
use http::HeaderMap;
use serde::Deserialize;

use crate::body::{BodyError, BodyKind, NotUtf8, body_kind, form_pairs, within_limit};
use crate::errors::SiteError;

/// A username and password as sent, before any rule is checked, and the kind of body they came
/// in (the answer takes the same form).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
    pub kind: BodyKind,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::body::BODY_LIMIT;
    use http::HeaderValue;
    use http::header::CONTENT_TYPE;

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
