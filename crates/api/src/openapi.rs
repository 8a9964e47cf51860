//! The OpenAPI 3.1 document of the whole API, kept in the repository at
//! `openapi/openapi.json` and served at `GET /api/openapi.json`.

/// The document as stored.
pub const SOURCE: &str = include_str!("../../../openapi/openapi.json");

/// The document, parsed. A test checks that it parses and names every route.
pub fn document() -> serde_json::Value {
    serde_json::from_str(SOURCE)
        .unwrap_or_else(|e| serde_json::json!({ "error": format!("openapi.json is invalid: {e}") }))
}
