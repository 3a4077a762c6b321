//! The OpenAPI 3.1 document of every dynamic route, served at `/openapi.json` byte for byte
//! the same by every backend (kept as a JSON file beside this module, embedded at build time).

pub const DOCUMENT: &str = include_str!("openapi.json");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_every_dynamic_route() {
        let doc: serde_json::Value = serde_json::from_str(DOCUMENT).expect("valid JSON");
        assert_eq!(
            doc["openapi"].as_str().map(|v| v.starts_with("3.1")),
            Some(true)
        );
        let routes = [
            ("/hello", "get"),
            ("/users", "post"),
            ("/users/{username}", "get"),
            ("/login", "post"),
            ("/logout", "post"),
            ("/me", "get"),
            ("/admin", "get"),
            ("/status/{code}", "get"),
            ("/teapot", "get"),
            ("/plaintext", "get"),
            ("/json", "get"),
            ("/healthz", "get"),
            ("/openapi.json", "get"),
        ];
        for (path, method) in routes {
            assert!(
                doc["paths"][path][method].is_object(),
                "{method} {path} missing"
            );
        }
        assert!(doc["components"]["schemas"]["Problem"].is_object());
    }
}
