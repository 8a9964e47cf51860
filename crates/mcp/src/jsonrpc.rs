//! JSON-RPC 2.0 messages as MCP uses them: one message per HTTP POST, ids that are
//! strings or integers (never null), params that are objects.

use serde_json::{json, Map, Value};

pub const PARSE_ERROR: i64 = -32700;
pub const INVALID_REQUEST: i64 = -32600;
pub const METHOD_NOT_FOUND: i64 = -32601;
pub const INVALID_PARAMS: i64 = -32602;
pub const INTERNAL_ERROR: i64 = -32603;
/// MCP 2026-07-28: the HTTP headers disagree with the body, or one is missing.
pub const HEADER_MISMATCH: i64 = -32020;
/// MCP 2026-07-28: the requested protocol version is not served here.
pub const UNSUPPORTED_PROTOCOL_VERSION: i64 = -32022;

/// A JSON-RPC error object.
#[derive(Debug, Clone, PartialEq)]
pub struct RpcError {
    pub code: i64,
    pub message: String,
    pub data: Option<Value>,
}

impl RpcError {
    pub fn new(code: i64, message: impl Into<String>) -> RpcError {
        RpcError {
            code,
            message: message.into(),
            data: None,
        }
    }

    pub fn with_data(mut self, data: Value) -> RpcError {
        self.data = Some(data);
        self
    }

    pub fn invalid_params(message: impl Into<String>) -> RpcError {
        RpcError::new(INVALID_PARAMS, message)
    }
}

/// One message from the client.
#[derive(Debug)]
pub enum Message {
    Request {
        id: Value,
        method: String,
        params: Map<String, Value>,
    },
    /// A notification: nothing to answer.
    Notification,
    /// A response to a request the server sent; this server sends none.
    Response,
}

impl Message {
    /// Reads one message; the error says what is wrong with it.
    pub fn parse(body: &[u8]) -> Result<Message, RpcError> {
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| RpcError::new(PARSE_ERROR, format!("the body is not valid JSON: {e}")))?;
        let invalid = |why: &str| RpcError::new(INVALID_REQUEST, why.to_owned());
        let Value::Object(mut object) = value else {
            return Err(invalid(if value.is_array() {
                "batches are not supported: send one JSON-RPC message per POST"
            } else {
                "a JSON-RPC message must be a JSON object"
            }));
        };
        if object.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
            return Err(invalid("the message must carry \"jsonrpc\": \"2.0\""));
        }
        let method = match object.remove("method") {
            Some(Value::String(method)) => method,
            Some(_) => return Err(invalid("\"method\" must be a string")),
            None if object.contains_key("result") || object.contains_key("error") => {
                return Ok(Message::Response)
            }
            None => return Err(invalid("the message has no \"method\"")),
        };
        let params = match object.remove("params") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(params)) => params,
            Some(_) => return Err(RpcError::invalid_params("\"params\" must be an object")),
        };
        match object.remove("id") {
            None => Ok(Message::Notification),
            Some(id @ Value::String(_)) => Ok(Message::Request { id, method, params }),
            Some(id @ Value::Number(_)) if id.is_i64() || id.is_u64() => {
                Ok(Message::Request { id, method, params })
            }
            Some(_) => Err(invalid("\"id\" must be a string or an integer (not null)")),
        }
    }
}

/// A response carrying `result`.
pub fn result(id: &Value, result: Value) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "result": result })
}

/// A response carrying `error`; `id` is absent when the request's could not be read.
pub fn error(id: Option<&Value>, error: &RpcError) -> Value {
    let mut body = json!({
        "jsonrpc": "2.0",
        "error": { "code": error.code, "message": error.message },
    });
    if let Some(data) = &error.data {
        body["error"]["data"] = data.clone();
    }
    if let Some(id) = id {
        body["id"] = id.clone();
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(body: &str) -> i64 {
        Message::parse(body.as_bytes()).unwrap_err().code
    }

    #[test]
    fn malformed_messages_get_the_json_rpc_code_for_what_is_wrong() {
        assert_eq!(code("{"), PARSE_ERROR);
        assert_eq!(code("[]"), INVALID_REQUEST);
        assert_eq!(code(r#"{"id":1,"method":"ping"}"#), INVALID_REQUEST);
        assert_eq!(
            code(r#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#),
            INVALID_REQUEST
        );
        assert_eq!(
            code(r#"{"jsonrpc":"2.0","id":1,"method":7}"#),
            INVALID_REQUEST
        );
        assert_eq!(
            code(r#"{"jsonrpc":"2.0","id":1,"method":"ping","params":[1]}"#),
            INVALID_PARAMS
        );
    }

    #[test]
    fn requests_notifications_and_responses_are_told_apart() {
        let parse = |s: &str| Message::parse(s.as_bytes()).unwrap();
        assert!(matches!(
            parse(r#"{"jsonrpc":"2.0","id":"a","method":"ping"}"#),
            Message::Request { .. }
        ));
        assert!(matches!(
            parse(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#),
            Message::Notification
        ));
        assert!(matches!(
            parse(r#"{"jsonrpc":"2.0","id":1,"result":{}}"#),
            Message::Response
        ));
    }
}
