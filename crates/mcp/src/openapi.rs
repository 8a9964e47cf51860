//! Tool schemas taken from the API's OpenAPI document, so a tool's arguments and
//! output are described once, where the route is described.
//!
//! OpenAPI 3.1 schemas are JSON Schema 2020-12, which MCP tools use; the only work is
//! inlining `$ref`s into `#/components/...`, since tool schemas stand alone.

use std::sync::OnceLock;

use serde_json::{Map, Value};

/// The API's OpenAPI document, parsed once per instance.
pub fn document() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(spindle_api::openapi::document)
}

/// `#/components/schemas/<name>`, self-contained.
pub fn schema(name: &str) -> Value {
    inline(&document()["components"]["schemas"][name], 0)
}

/// The operation at `method` (lower case) and `path`, e.g. `("get", "/api/tasks")`.
pub fn operation(method: &str, path: &str) -> &'static Value {
    &document()["paths"][path][method]
}

/// The parameters of the operation at `method` and `path` (its own and its path's)
/// located `in` (`path`, `query`, `header`), each with its `$ref` resolved:
/// `(name, schema with the parameter's description)`.
pub fn parameters(method: &str, path: &str, location: &str) -> Vec<(String, Value)> {
    let item = &document()["paths"][path];
    [&item["parameters"], &item[method]["parameters"]]
        .into_iter()
        .filter_map(Value::as_array)
        .flatten()
        .map(|p| inline(p, 0))
        .filter(|p| p["in"] == location)
        .filter_map(|p| {
            let name = p["name"].as_str()?.to_owned();
            let mut schema = p["schema"].clone();
            if let (Some(object), Some(description)) =
                (schema.as_object_mut(), p.get("description"))
            {
                object.insert("description".into(), description.clone());
            }
            Some((name, schema))
        })
        .collect()
}

/// The operation's JSON request body schema, self-contained.
pub fn body(operation: &Value) -> Option<Value> {
    let schema = &operation["requestBody"]["content"]["application/json"]["schema"];
    (!schema.is_null()).then(|| inline(schema, 0))
}

/// `value` with every local `$ref` replaced by what it points at. The document's
/// schemas are not recursive; the depth bound only guards against a future mistake.
fn inline(value: &Value, depth: usize) -> Value {
    match value {
        Value::Object(object) => {
            if let Some(target) = object.get("$ref").and_then(Value::as_str) {
                let resolved = target
                    .strip_prefix("#/")
                    .map(|path| path.split('/').fold(document(), |node, key| &node[key]))
                    .filter(|_| depth < 16)
                    .unwrap_or(&Value::Null);
                let mut out = inline(resolved, depth + 1);
                // Keywords beside `$ref` (a description) refine the target.
                if let Value::Object(out) = &mut out {
                    for (key, v) in object.iter().filter(|(k, _)| *k != "$ref") {
                        out.insert(key.clone(), inline(v, depth));
                    }
                }
                return out;
            }
            Value::Object(
                object
                    .iter()
                    .map(|(k, v)| (k.clone(), inline(v, depth)))
                    .collect::<Map<_, _>>(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| inline(v, depth)).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn has_ref(value: &Value) -> bool {
        match value {
            Value::Object(o) => o.contains_key("$ref") || o.values().any(has_ref),
            Value::Array(a) => a.iter().any(has_ref),
            _ => false,
        }
    }

    #[test]
    fn schemas_come_out_self_contained() {
        let task = schema("Task");
        assert_eq!(task["type"], "object");
        assert!(!has_ref(&task));
        assert_eq!(task["properties"]["priority"]["enum"][0], "P1");
        let query = parameters("get", "/api/tasks", "query");
        assert!(query.iter().any(|(name, _)| name == "limit"));
        assert!(query.iter().all(|(_, s)| !has_ref(s)));
        let id = parameters("get", "/api/tasks/{id}", "path");
        assert_eq!(id[0].1["format"], "uuid", "path-level parameters count too");
    }
}
