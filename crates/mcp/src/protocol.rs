//! MCP over one stateless exchange: every POST is judged on its own, as revision
//! 2026-07-28 requires, and served in the era the client speaks.
//!
//! - **Modern** (2026-07-28): the request carries its version and client capabilities
//!   in `params._meta`, mirrored in the `MCP-Protocol-Version`, `Mcp-Method` and (for
//!   `tools/call`) `Mcp-Name` headers, which must agree with the body (`-32020`). There
//!   is no handshake; `server/discover` says what the server speaks. Results carry
//!   `resultType` and the server's identity in `_meta`; list and discover results
//!   carry cache hints. Errors use the HTTP status the transport names (400, 404).
//! - **Legacy** (2025-11-25 back to 2024-11-05): `initialize` negotiates a version
//!   (the server answers with the client's when it knows it, else its newest), later
//!   requests carry it in `MCP-Protocol-Version` (absent: 2025-03-26, which is served
//!   the same way). No session is minted: each request stands alone, which those
//!   revisions allow.
//!
//! An unknown version, in either place, is refused with `-32022` naming the versions
//! served, so a dual-era client can pick one.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use http::{HeaderMap, StatusCode};
use serde_json::{json, Map, Value};

use crate::jsonrpc::{self, Message, RpcError};

pub const MODERN_VERSIONS: &[&str] = &["2026-07-28"];
pub const HANDSHAKE_VERSIONS: &[&str] = &["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"];

const VERSION_META: &str = "io.modelcontextprotocol/protocolVersion";
const CAPABILITIES_META: &str = "io.modelcontextprotocol/clientCapabilities";
const SERVER_INFO_META: &str = "io.modelcontextprotocol/serverInfo";

const INSTRUCTIONS: &str = "Spindle is the user's task manager. Use list_tasks or upcoming to see \
    what is there before changing anything, pass the user's time zone where a tool asks, and \
    confirm with the user before delete_task or rename_tag. A tool error says what to fix.";

/// Lists and discovery do not change per user or between deploys of one version.
const TTL_MS: u64 = 300_000;

/// How a request is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Era {
    Modern,
    Legacy,
}

/// The answer to one POST.
pub enum Reply {
    /// A notification (or a stray response) was taken: 202, no body.
    Accepted,
    Json(StatusCode, Value),
}

/// Runs a tool; `Err` only for a protocol error (unknown tool, malformed call).
pub trait Tools {
    fn list(&self) -> Vec<Value>;
    fn call(&self, name: &str, arguments: Map<String, Value>) -> Result<Value, RpcError>;
}

/// Answers one message.
pub fn answer(body: &[u8], headers: &HeaderMap, tools: &dyn Tools) -> Reply {
    let message = match Message::parse(body) {
        Ok(message) => message,
        Err(err) => return error_reply(None, &err, Era::Modern),
    };
    match message {
        Message::Response => error_reply(
            None,
            &RpcError::new(
                jsonrpc::INVALID_REQUEST,
                "this server sends no requests, so it takes no responses",
            ),
            Era::Modern,
        ),
        Message::Notification => match unknown_header_version(headers) {
            Some(err) => error_reply(None, &err, Era::Modern),
            None => Reply::Accepted,
        },
        Message::Request { id, method, params } => {
            let era = match classify(&method, &params, headers) {
                Ok(era) => era,
                Err(err) => return error_reply(Some(&id), &err, Era::Modern),
            };
            match serve(era, &method, params, tools) {
                Ok(result) => {
                    Reply::Json(StatusCode::OK, jsonrpc::result(&id, decorate(era, result)))
                }
                Err(err) => error_reply(Some(&id), &err, era),
            }
        }
    }
}

fn error_reply(id: Option<&Value>, err: &RpcError, era: Era) -> Reply {
    // Malformed messages are 400 in every revision; 2026-07-28 also maps its
    // method-level errors onto HTTP statuses, which earlier revisions send as 200.
    let status = match (err.code, era) {
        (jsonrpc::PARSE_ERROR | jsonrpc::INVALID_REQUEST, _) => StatusCode::BAD_REQUEST,
        (_, Era::Legacy) => StatusCode::OK,
        (jsonrpc::METHOD_NOT_FOUND, Era::Modern) => StatusCode::NOT_FOUND,
        (jsonrpc::INTERNAL_ERROR, Era::Modern) => StatusCode::INTERNAL_SERVER_ERROR,
        (_, Era::Modern) => StatusCode::BAD_REQUEST,
    };
    Reply::Json(status, jsonrpc::error(id, err))
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn all_versions() -> Vec<&'static str> {
    MODERN_VERSIONS
        .iter()
        .chain(HANDSHAKE_VERSIONS)
        .copied()
        .collect()
}

fn unsupported(requested: &str) -> RpcError {
    RpcError::new(
        jsonrpc::UNSUPPORTED_PROTOCOL_VERSION,
        format!(
            "Unsupported protocol version {requested:?}; this server speaks {}",
            all_versions().join(", ")
        ),
    )
    .with_data(json!({ "supported": all_versions(), "requested": requested }))
}

/// `-32022` for an `MCP-Protocol-Version` header naming a version not served.
fn unknown_header_version(headers: &HeaderMap) -> Option<RpcError> {
    let version = header(headers, "mcp-protocol-version")?;
    (!all_versions().contains(&version)).then(|| unsupported(version))
}

/// Which era serves the request, after the checks 2026-07-28 asks of a modern one.
fn classify(
    method: &str,
    params: &Map<String, Value>,
    headers: &HeaderMap,
) -> Result<Era, RpcError> {
    let meta_version = params.get("_meta").and_then(|meta| meta.get(VERSION_META));
    let header_version = header(headers, "mcp-protocol-version");
    if method == "initialize" {
        return Ok(Era::Legacy);
    }
    let modern =
        meta_version.is_some() || header_version.is_some_and(|v| MODERN_VERSIONS.contains(&v));
    if !modern {
        return match unknown_header_version(headers) {
            Some(err) => Err(err),
            None => Ok(Era::Legacy),
        };
    }
    let meta = params.get("_meta").and_then(Value::as_object);
    let missing: Vec<&str> = [VERSION_META, CAPABILITIES_META]
        .into_iter()
        .filter(|key| !meta.is_some_and(|m| m.contains_key(*key)))
        .collect();
    if !missing.is_empty() {
        return Err(RpcError::invalid_params(format!(
            "params._meta must carry {}",
            missing.join(" and ")
        )));
    }
    let Some(Value::String(version)) = meta_version else {
        return Err(RpcError::invalid_params(format!(
            "{VERSION_META} must be a string"
        )));
    };
    let mismatch =
        |what: String| RpcError::new(jsonrpc::HEADER_MISMATCH, format!("Header mismatch: {what}"));
    if header_version != Some(version.as_str()) {
        return Err(mismatch(format!(
            "MCP-Protocol-Version {header_version:?} does not match the body's {version:?}"
        )));
    }
    let method_header = header(headers, "mcp-method");
    if method_header != Some(method) {
        return Err(mismatch(format!(
            "Mcp-Method {method_header:?} does not match the body's method {method:?}"
        )));
    }
    if method == "tools/call" {
        let name_header = header(headers, "mcp-name").map(decode_header_value);
        let name = params.get("name").and_then(Value::as_str);
        if name.is_some() && name_header.as_deref() != name {
            return Err(mismatch(format!(
                "Mcp-Name {name_header:?} does not match the tool name {name:?}"
            )));
        }
    }
    if !MODERN_VERSIONS.contains(&version.as_str()) {
        return Err(unsupported(version));
    }
    Ok(Era::Modern)
}

/// A header value, Base64-decoded when in the `=?base64?…?=` form.
fn decode_header_value(value: &str) -> String {
    value
        .strip_prefix("=?base64?")
        .and_then(|rest| rest.strip_suffix("?="))
        .and_then(|encoded| STANDARD.decode(encoded).ok())
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .unwrap_or_else(|| value.to_owned())
}

fn server_info() -> Value {
    json!({ "name": "spindle", "title": "Spindle tasks", "version": env!("CARGO_PKG_VERSION") })
}

fn capabilities() -> Value {
    json!({ "tools": { "listChanged": false } })
}

fn serve(
    era: Era,
    method: &str,
    params: Map<String, Value>,
    tools: &dyn Tools,
) -> Result<Value, RpcError> {
    match (era, method) {
        (Era::Legacy, "initialize") => {
            let requested = params.get("protocolVersion").and_then(Value::as_str);
            let version = requested
                .filter(|v| HANDSHAKE_VERSIONS.contains(v))
                .unwrap_or(HANDSHAKE_VERSIONS[0]);
            Ok(json!({
                "protocolVersion": version,
                "capabilities": capabilities(),
                "serverInfo": server_info(),
                "instructions": INSTRUCTIONS,
            }))
        }
        (Era::Modern, "server/discover") => Ok(json!({
            "supportedVersions": all_versions(),
            "capabilities": capabilities(),
            "instructions": INSTRUCTIONS,
            "ttlMs": TTL_MS,
            "cacheScope": "public",
        })),
        // `ping` left the core protocol in 2026-07-28; answering it costs nothing.
        (_, "ping") => Ok(json!({})),
        (_, "tools/list") => {
            let mut result = json!({ "tools": tools.list() });
            if era == Era::Modern {
                result["ttlMs"] = json!(TTL_MS);
                result["cacheScope"] = json!("public");
            }
            Ok(result)
        }
        (_, "tools/call") => {
            let name = match params.get("name") {
                Some(Value::String(name)) => name.clone(),
                _ => {
                    return Err(RpcError::invalid_params(
                        "tools/call needs params.name, the tool's name",
                    ))
                }
            };
            let arguments = match params.get("arguments") {
                None | Some(Value::Null) => Map::new(),
                Some(Value::Object(arguments)) => arguments.clone(),
                Some(_) => {
                    return Err(RpcError::invalid_params(
                        "params.arguments must be an object",
                    ))
                }
            };
            tools.call(&name, arguments)
        }
        _ => Err(RpcError::new(
            jsonrpc::METHOD_NOT_FOUND,
            format!(
                "Method not found: {method:?}; this server answers {}",
                match era {
                    Era::Modern => "server/discover, tools/list, tools/call and ping",
                    Era::Legacy => "initialize, ping, tools/list and tools/call",
                }
            ),
        )),
    }
}

/// Adds what a 2026-07-28 result carries on every response.
fn decorate(era: Era, mut result: Value) -> Value {
    if era == Era::Modern {
        if let Some(object) = result.as_object_mut() {
            object.insert("resultType".into(), json!("complete"));
            object.insert("_meta".into(), json!({ SERVER_INFO_META: server_info() }));
        }
    }
    result
}
