//! Checks `openapi/openapi.json` against the code: the document the app serves
//! at `GET /api/openapi.json` is OpenAPI 3.1, documents every route of
//! `spindle_api::all_routes` with its method and no route that does not
//! exist, and every `$ref` in it points at a component that is there.

use std::collections::BTreeSet;

mod api_support;

use api_support::App;
use serde_json::Value;

/// The HTTP methods an OpenAPI path item may hold.
const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];
/// The other fields of a path item.
const PATH_ITEM_FIELDS: &[&str] = &["$ref", "summary", "description", "servers", "parameters"];

/// The document as the app serves it: `GET /api/openapi.json` through `ops`,
/// without credentials, on a real database and Redis.
fn served_document() -> Value {
    let app = App::new();
    let request = http::Request::builder()
        .method("GET")
        .uri("/api/openapi.json")
        .body(Vec::new())
        .expect("a valid request");
    let ctx = app.ctx(&app.conn);
    let response = spindle_api::ops(&ctx, request);
    let body = String::from_utf8_lossy(response.body()).into_owned();
    assert_eq!(
        response.status(),
        http::StatusCode::OK,
        "GET /api/openapi.json answered: {body}"
    );
    let content_type = response
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    assert_eq!(content_type, Some("application/json"));
    let document: Value = serde_json::from_str(&body)
        .unwrap_or_else(|err| panic!("the served document is not JSON: {err}"));
    assert!(
        document.get("error").is_none(),
        "openapi/openapi.json does not parse: {}",
        document["error"]
    );
    assert_eq!(
        document,
        spindle_api::openapi::document(),
        "the served document is the stored one"
    );
    document
}

/// Every `(METHOD, path)` the code routes.
fn routed() -> BTreeSet<(String, String)> {
    spindle_api::all_routes::<spindle_native::PgDb, spindle_native::RedisPublisher>()
        .into_iter()
        .chain(spindle_mcp::ROUTES.iter().copied())
        .map(|(method, path)| (method.to_owned(), path.to_owned()))
        .collect()
}

/// Every `(METHOD, path)` the document describes, and the path item fields it
/// does not know.
fn documented(document: &Value) -> (BTreeSet<(String, String)>, Vec<String>) {
    let paths = document["paths"]
        .as_object()
        .expect("the document has a `paths` object");
    let mut operations = BTreeSet::new();
    let mut unknown = Vec::new();
    for (path, item) in paths {
        let item = item
            .as_object()
            .unwrap_or_else(|| panic!("paths[{path:?}] is not an object"));
        for key in item.keys() {
            if METHODS.contains(&key.as_str()) {
                operations.insert((key.to_uppercase(), path.clone()));
            } else if !PATH_ITEM_FIELDS.contains(&key.as_str()) && !key.starts_with("x-") {
                unknown.push(format!(
                    "{path}: {key:?} is neither a method nor a path item field"
                ));
            }
        }
    }
    (operations, unknown)
}

fn list(routes: &[&(String, String)]) -> String {
    routes
        .iter()
        .map(|(method, path)| format!("  {method} {path}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every `$ref` in `value`, with the JSON pointer of where it is.
fn refs<'a>(value: &'a Value, at: &str, found: &mut Vec<(String, &'a str)>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                if key == "$ref" {
                    if let Some(target) = child.as_str() {
                        found.push((at.to_owned(), target));
                    }
                }
                let escaped = key.replace('~', "~0").replace('/', "~1");
                refs(child, &format!("{at}/{escaped}"), found);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                refs(child, &format!("{at}/{i}"), found);
            }
        }
        _ => {}
    }
}

#[test]
fn the_served_document_is_openapi_3_1_and_documents_every_route_with_its_method() {
    let document = served_document();
    let version = document["openapi"].as_str().unwrap_or("");
    assert!(
        version.starts_with("3.1."),
        "`openapi` is {:?}, not 3.1.x",
        document["openapi"]
    );
    assert_eq!(document["info"]["title"], "Spindle");
    assert!(
        document["info"]["version"].is_string(),
        "info.version is missing"
    );

    let (operations, _) = documented(&document);
    let routes = routed();
    assert!(!routes.is_empty(), "spindle_api::all_routes() is empty");
    let missing: Vec<&(String, String)> =
        routes.iter().filter(|r| !operations.contains(*r)).collect();
    assert!(
        missing.is_empty(),
        "openapi/openapi.json does not document {} route(s):\n{}",
        missing.len(),
        list(&missing)
    );
}

#[test]
fn the_document_describes_no_route_that_does_not_exist() {
    let document = served_document();
    let (operations, unknown) = documented(&document);
    assert!(
        unknown.is_empty(),
        "unexpected fields in path items:\n{}",
        unknown.join("\n")
    );
    let routes = routed();
    let invented: Vec<&(String, String)> = operations
        .iter()
        .filter(|op| !routes.contains(*op))
        .collect();
    assert!(
        invented.is_empty(),
        "openapi/openapi.json documents {} operation(s) that spindle_api::all_routes() does not have:\n{}",
        invented.len(),
        list(&invented)
    );
}

#[test]
fn every_ref_in_the_document_resolves_to_an_existing_component() {
    let document = served_document();
    let mut found = Vec::new();
    refs(&document, "", &mut found);
    assert!(!found.is_empty(), "the document has no $ref at all");
    let broken: Vec<String> = found
        .iter()
        .filter_map(|(at, target)| {
            let problem = match target.strip_prefix('#') {
                Some(pointer) if pointer.starts_with("/components/") => document
                    .pointer(pointer)
                    .is_none()
                    .then_some("points at nothing"),
                Some(_) => Some("does not point into #/components/"),
                None => Some("is not a local reference"),
            };
            problem.map(|problem| format!("  {at}: {target:?} {problem}"))
        })
        .collect();
    assert!(
        broken.is_empty(),
        "{} broken $ref(s):\n{}",
        broken.len(),
        broken.join("\n")
    );
}
