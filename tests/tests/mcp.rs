//! The MCP endpoint driven the way an agent's client drives it: JSON-RPC over real
//! HTTP on loopback, at revision 2026-07-28 (per-request `_meta`, `server/discover`)
//! and with the `initialize` handshake of 2025-11-25, checked against what the HTTP
//! API sees.

mod api_support;

use std::time::Duration;

use api_support::{App, NOW_MICROS, ORIGIN};
use serde_json::{json, Value};
use spindle_api::settings;
use spindle_native::testing::serve_http;
use spindle_native::UreqHttp;
use spindle_ports::{HttpClient, HttpRequest, Method, Timeouts};

const MODERN: &str = "2026-07-28";
const LEGACY: &str = "2025-11-25";

/// An MCP client for one user over HTTP.
struct Client<'a> {
    app: &'a App,
    http: UreqHttp,
    url: String,
    token: Option<String>,
    /// `None`: speak 2026-07-28; `Some(v)`: a legacy session negotiated at `v`.
    legacy: Option<String>,
}

#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Value,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn error_code(&self) -> i64 {
        self.body["error"]["code"]
            .as_i64()
            .unwrap_or_else(|| panic!("not a JSON-RPC error: {self:?}"))
    }
}

impl<'a> Client<'a> {
    fn new(app: &'a App, base: &str, user: Option<&str>) -> Client<'a> {
        Client {
            app,
            http: UreqHttp::new(),
            url: format!("{base}/mcp"),
            token: user.map(|u| app.token(u)),
            legacy: None,
        }
    }

    fn post(&self, body: &Value, headers: &[(&str, &str)]) -> Reply {
        let timeouts = Timeouts {
            connect: Duration::from_secs(2),
            total: Duration::from_secs(20),
        };
        let mut request = HttpRequest::new(Method::Post, self.url.clone(), timeouts)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(body.to_string().into_bytes());
        if let Some(token) = &self.token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = self.http.send(&request).expect("the MCP endpoint answers");
        Reply {
            status: response.status,
            body: serde_json::from_slice(&response.body).unwrap_or(Value::Null),
            headers: response.headers,
        }
    }

    /// A request the way this client's era sends it.
    fn request(&self, method: &str, mut params: Value) -> Reply {
        let body = |params: Value| json!({ "jsonrpc": "2.0", "id": 7, "method": method, "params": params });
        match &self.legacy {
            Some(version) => self.post(&body(params), &[("mcp-protocol-version", version)]),
            None => {
                params["_meta"] = json!({
                    "io.modelcontextprotocol/protocolVersion": MODERN,
                    "io.modelcontextprotocol/clientInfo": { "name": "spindle-tests", "version": "1" },
                    "io.modelcontextprotocol/clientCapabilities": {},
                });
                let name = params["name"].as_str().unwrap_or("").to_owned();
                let mut headers = vec![("mcp-protocol-version", MODERN), ("mcp-method", method)];
                if method == "tools/call" {
                    headers.push(("mcp-name", name.as_str()));
                }
                self.post(&body(params), &headers)
            }
        }
    }

    /// The result of a successful request.
    fn result(&self, method: &str, params: Value) -> Value {
        let reply = self.request(method, params);
        assert_eq!(reply.status, 200, "{method}: {reply:?}");
        assert!(reply.body["error"].is_null(), "{method}: {reply:?}");
        reply.body["result"].clone()
    }

    /// A tool's result (`isError` or not).
    fn call(&self, tool: &str, arguments: Value) -> Value {
        self.result(
            "tools/call",
            json!({ "name": tool, "arguments": arguments }),
        )
    }

    /// A tool's structured content, failing the test when the tool reports an error.
    fn ok(&self, tool: &str, arguments: Value) -> Value {
        let result = self.call(tool, arguments.clone());
        assert_eq!(
            result["isError"], false,
            "{tool}({arguments}) failed: {result}"
        );
        // The text block carries the same JSON, for clients without structured content.
        let text: Value =
            serde_json::from_str(result["content"][0]["text"].as_str().unwrap()).unwrap();
        assert_eq!(text, result["structuredContent"]);
        result["structuredContent"].clone()
    }

    /// The text of a tool error, failing the test when the tool succeeded.
    fn tool_error(&self, tool: &str, arguments: Value) -> String {
        let result = self.call(tool, arguments.clone());
        assert_eq!(
            result["isError"], true,
            "{tool}({arguments}) should fail: {result}"
        );
        result["content"][0]["text"].as_str().unwrap().to_owned()
    }

    /// The same list through the HTTP API, for comparison.
    fn api_list(&self, user: &str, query: &str) -> Value {
        let resp = self.app.get(user, &format!("/api/tasks?{query}"));
        assert_eq!(resp.status, 200, "{:?}", resp.body);
        resp.body
    }
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect()
}

const TOOLS: &[&str] = &[
    "create_task",
    "get_task",
    "list_tasks",
    "update_task",
    "complete_task",
    "reopen_task",
    "delete_task",
    "list_tags",
    "rename_tag",
    "list_occurrences",
    "upcoming",
];

#[test]
fn a_2026_07_28_session_discovers_lists_and_works_the_tasks_like_the_api() {
    let app = App::new();
    serve_http(
        |req| app.handle_on(&app.conn, req),
        |base| {
            let mcp = Client::new(&app, base, Some("alice"));

            let discover = mcp.result("server/discover", json!({}));
            assert_eq!(discover["resultType"], "complete");
            assert_eq!(discover["supportedVersions"][0], MODERN);
            assert!(discover["supportedVersions"]
                .as_array()
                .unwrap()
                .contains(&json!(LEGACY)));
            assert!(discover["capabilities"]["tools"].is_object());
            assert_eq!(
                discover["_meta"]["io.modelcontextprotocol/serverInfo"]["name"],
                "spindle"
            );
            assert!(discover["ttlMs"].as_u64().is_some());

            let list = mcp.result("tools/list", json!({}));
            assert_eq!(list["resultType"], "complete");
            assert_eq!(list["cacheScope"], "public");
            let names: Vec<&str> = list["tools"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["name"].as_str().unwrap())
                .collect();
            assert_eq!(names, TOOLS);
            for tool in list["tools"].as_array().unwrap() {
                assert_eq!(tool["inputSchema"]["type"], "object", "{}", tool["name"]);
                assert_eq!(tool["outputSchema"]["type"], "object", "{}", tool["name"]);
                assert!(tool["description"].as_str().unwrap().len() > 40);
            }
            let annotations = |name: &str| {
                list["tools"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|t| t["name"] == name)
                    .unwrap()["annotations"]
                    .clone()
            };
            assert_eq!(annotations("list_tasks")["readOnlyHint"], true);
            assert_eq!(annotations("delete_task")["destructiveHint"], true);
            assert_eq!(annotations("create_task")["readOnlyHint"], false);
            assert_eq!(annotations("complete_task")["idempotentHint"], true);

            // Create: the row the API serves is the one the tool returned, with its events.
            let weekly = mcp.ok(
                "create_task",
                json!({
                    "title": "Water the plants", "priority": "P2", "tags": ["Home"],
                    "due_at": "2026-03-02T09:00:00+01:00", "timezone": "Europe/Paris",
                    "recurrence": "weekly", "reminders": [{ "minutes_before": 30 }],
                }),
            );
            let id = weekly["id"].as_str().unwrap().to_owned();
            assert_eq!(app.get("alice", &format!("/api/tasks/{id}")).body, weekly);
            assert_eq!(weekly["tags"], json!(["home"]));
            assert_eq!(app.events_of(&id), vec!["task.created"]);

            for (title, priority, due) in [
                ("Plan the trip", "P1", "2026-03-01T10:00:00Z"),
                ("Pay rent", "P1", "2026-03-05T10:00:00Z"),
                ("Call mum", "P3", "2026-03-03T10:00:00Z"),
                ("Read a book", "P4", "2026-04-01T10:00:00Z"),
            ] {
                mcp.ok(
                    "create_task",
                    json!({ "title": title, "priority": priority, "due_at": due }),
                );
            }

            // List with filters and a cursor: the same pages as the API's.
            let first = mcp.ok(
                "list_tasks",
                json!({ "priority": ["P1", "P2"], "sort": "due_at", "limit": 2 }),
            );
            assert_eq!(
                first,
                mcp.api_list("alice", "priority=P1,P2&sort=due_at&limit=2")
            );
            let cursor = first["next_cursor"]
                .as_str()
                .expect("a second page")
                .to_owned();
            let second = mcp.ok(
                "list_tasks",
                json!({
                    "priority": ["P1", "P2"], "sort": "due_at", "limit": 2, "cursor": cursor,
                }),
            );
            assert_eq!(
                ids(&second),
                ids(&mcp.api_list(
                    "alice",
                    &format!("priority=P1,P2&sort=due_at&limit=2&cursor={cursor}")
                ))
            );
            assert_eq!(ids(&first).len() + ids(&second).len(), 3);
            let searched = mcp.ok("list_tasks", json!({ "q": "trip" }));
            assert_eq!(searched["items"][0]["title"], "Plan the trip");

            // Overdue and due soon, in the user's zone (now is 2026-03-01T12:00Z).
            let upcoming = mcp.ok("upcoming", json!({ "days": 2, "timezone": "Europe/Paris" }));
            let titles = |list: &Value| {
                list.as_array()
                    .unwrap()
                    .iter()
                    .map(|t| t["title"].as_str().unwrap().to_owned())
                    .collect::<Vec<_>>()
            };
            assert_eq!(titles(&upcoming["overdue"]), ["Plan the trip"]);
            assert_eq!(
                titles(&upcoming["due_soon"]),
                ["Water the plants", "Call mum"]
            );
            assert_eq!(upcoming["until"], "2026-03-04T00:00:00+01:00");

            // Complete the recurring task: the same change, ETag version and events as the API's.
            let done = mcp.ok("complete_task", json!({ "id": id, "expected_version": 1 }));
            assert_eq!(done["status"], "completed");
            assert_eq!(done["version"], 2);
            assert_eq!(app.events_of(&id), vec!["task.created", "task.completed"]);
            let series = mcp.ok("list_occurrences", json!({ "id": id, "upcoming": 2 }));
            assert_eq!(
                series,
                app.get("alice", &format!("/api/tasks/{id}/occurrences?upcoming=2"))
                    .body
            );
            assert_eq!(series["upcoming"].as_array().unwrap().len(), 2);
            let again = mcp.ok("complete_task", json!({ "id": id }));
            assert_eq!(again["version"], 2, "completing twice changes nothing");
            let reopened = mcp.ok("reopen_task", json!({ "id": id }));
            assert_eq!(reopened["status"], "open");

            // A stale expected_version changes nothing and says what to do.
            let stale = mcp.tool_error(
                "update_task",
                json!({ "id": id, "expected_version": 1, "title": "Water" }),
            );
            assert!(stale.contains("version 3"), "{stale}");
            let updated = mcp.ok("update_task", json!({ "id": id, "expected_version": 3, "title": "Water all plants", "due_at": null, "recurrence": null }));
            assert_eq!(updated["title"], "Water all plants");
            assert_eq!(updated["due_at"], Value::Null);

            // Tags.
            let tags = mcp.ok("list_tags", json!({}));
            assert_eq!(tags, app.get("alice", "/api/tags").body);
            let renamed = mcp.ok("rename_tag", json!({ "tag": "home", "new_name": "house" }));
            assert_eq!(renamed["tasks_updated"], 1);
            assert_eq!(
                app.get("alice", &format!("/api/tasks/{id}")).body["tags"],
                json!(["house"])
            );

            // Delete: gone for the API too.
            let deleted = mcp.ok("delete_task", json!({ "id": id }));
            assert_eq!(deleted["deleted"], id.as_str());
            assert_eq!(app.get("alice", &format!("/api/tasks/{id}")).status, 404);
            assert_eq!(
                app.events_of(&id).last().map(String::as_str),
                Some("task.deleted")
            );
        },
    );
}

#[test]
fn a_2025_11_25_client_initializes_then_uses_the_tools_without_a_session() {
    let app = App::new();
    serve_http(
        |req| app.handle_on(&app.conn, req),
        |base| {
            let mut mcp = Client::new(&app, base, Some("bob"));
            let init = mcp.post(
                &json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                "protocolVersion": LEGACY, "capabilities": {},
                "clientInfo": { "name": "legacy-agent", "version": "1" } } }),
                &[],
            );
            assert_eq!(init.status, 200, "{init:?}");
            assert_eq!(init.body["result"]["protocolVersion"], LEGACY);
            assert!(init.body["result"]["capabilities"]["tools"].is_object());
            assert_eq!(init.body["result"]["serverInfo"]["name"], "spindle");
            assert!(
                init.header("mcp-session-id").is_none(),
                "stateless: no session is minted"
            );

            mcp.legacy = Some(LEGACY.into());
            let initialized = mcp.post(
                &json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }),
                &[("mcp-protocol-version", LEGACY)],
            );
            assert_eq!(initialized.status, 202);
            assert_eq!(mcp.result("ping", json!({})), json!({}));

            let list = mcp.result("tools/list", json!({}));
            assert!(
                list.get("resultType").is_none(),
                "2026 fields stay out of a 2025 session"
            );
            assert_eq!(list["tools"].as_array().unwrap().len(), TOOLS.len());

            let task = mcp.ok(
                "create_task",
                json!({ "title": "Legacy agent task", "idempotency_key": "k-1" }),
            );
            let replay = mcp.ok(
                "create_task",
                json!({ "title": "Legacy agent task", "idempotency_key": "k-1" }),
            );
            assert_eq!(
                replay["id"], task["id"],
                "the idempotency key replays the first result"
            );
            assert_eq!(mcp.ok("list_tasks", json!({})), mcp.api_list("bob", ""));
            let unknown = mcp.request("resources/list", json!({}));
            assert_eq!((unknown.status, unknown.error_code()), (200, -32601));

            // Older and unknown offered versions are negotiated as the 2025-11-25 rules say.
            let offer = |version: &str| {
                mcp.post(&json!({ "jsonrpc": "2.0", "id": 2, "method": "initialize",
                "params": { "protocolVersion": version, "capabilities": {}, "clientInfo": { "name": "x", "version": "1" } } }), &[])
                .body["result"]["protocolVersion"].clone()
            };
            assert_eq!(offer("2024-11-05"), "2024-11-05");
            assert_eq!(offer("1999-01-01"), LEGACY);
        },
    );
}

#[test]
fn malformed_and_unanswerable_messages_get_the_json_rpc_error_for_what_is_wrong() {
    let app = App::new();
    serve_http(
        |req| app.handle_on(&app.conn, req),
        |base| {
            let mcp = Client::new(&app, base, Some("carol"));
            let raw = |body: &str, headers: &[(&str, &str)]| {
                let mut request = HttpRequest::new(
                    Method::Post,
                    mcp.url.clone(),
                    Timeouts {
                        connect: Duration::from_secs(2),
                        total: Duration::from_secs(10),
                    },
                )
                .header("content-type", "application/json")
                .header("authorization", format!("Bearer {}", app.token("carol")))
                .body(body.as_bytes().to_vec());
                for (n, v) in headers {
                    request = request.header(*n, *v);
                }
                let response = mcp.http.send(&request).unwrap();
                (
                    response.status,
                    serde_json::from_slice::<Value>(&response.body).unwrap_or(Value::Null),
                )
            };
            let (status, body) = raw("{\"jsonrpc\": \"2.0\", ", &[]);
            assert_eq!(
                (status, body["error"]["code"].as_i64()),
                (400, Some(-32700))
            );
            assert!(body.get("id").is_none());
            let (status, body) = raw(r#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#, &[]);
            assert_eq!(
                (status, body["error"]["code"].as_i64()),
                (400, Some(-32600))
            );
            let (status, body) = raw(r#"{"jsonrpc":"2.0","id":1}"#, &[]);
            assert_eq!(
                (status, body["error"]["code"].as_i64()),
                (400, Some(-32600))
            );

            let unknown = mcp.request("tasks/teleport", json!({}));
            assert_eq!((unknown.status, unknown.error_code()), (404, -32601));
            let no_tool = mcp.request(
                "tools/call",
                json!({ "name": "launch_rocket", "arguments": {} }),
            );
            assert_eq!((no_tool.status, no_tool.error_code()), (400, -32602));
            assert!(no_tool.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("launch_rocket"));
            let bad_args = mcp.request(
                "tools/call",
                json!({ "name": "list_tasks", "arguments": [1] }),
            );
            assert_eq!((bad_args.status, bad_args.error_code()), (400, -32602));

            // 2026-07-28 envelope rules.
            let meta = json!({ "io.modelcontextprotocol/protocolVersion": MODERN });
            let no_capabilities = mcp.post(
            &json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": { "_meta": meta } }),
            &[("mcp-protocol-version", MODERN), ("mcp-method", "tools/list")],
        );
            assert_eq!(
                (no_capabilities.status, no_capabilities.error_code()),
                (400, -32602)
            );
            let full_meta = json!({ "io.modelcontextprotocol/protocolVersion": MODERN, "io.modelcontextprotocol/clientCapabilities": {} });
            let mismatch = mcp.post(
            &json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": { "_meta": full_meta } }),
            &[("mcp-protocol-version", MODERN), ("mcp-method", "tools/call")],
        );
            assert_eq!((mismatch.status, mismatch.error_code()), (400, -32020));
            let wrong_name = mcp.post(
            &json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": { "_meta": full_meta, "name": "get_task", "arguments": {} } }),
            &[("mcp-protocol-version", MODERN), ("mcp-method", "tools/call"), ("mcp-name", "delete_task")],
        );
            assert_eq!((wrong_name.status, wrong_name.error_code()), (400, -32020));
            let future = json!({ "io.modelcontextprotocol/protocolVersion": "2099-01-01", "io.modelcontextprotocol/clientCapabilities": {} });
            let unsupported = mcp.post(
            &json!({ "jsonrpc": "2.0", "id": 1, "method": "server/discover", "params": { "_meta": future } }),
            &[("mcp-protocol-version", "2099-01-01"), ("mcp-method", "server/discover")],
        );
            assert_eq!(
                (unsupported.status, unsupported.error_code()),
                (400, -32022)
            );
            assert_eq!(unsupported.body["error"]["data"]["requested"], "2099-01-01");
            assert!(unsupported.body["error"]["data"]["supported"]
                .as_array()
                .unwrap()
                .contains(&json!(MODERN)));

            // A notification is taken without an answer; GET has no stream here.
            let note = mcp.post(
                &json!({ "jsonrpc": "2.0", "method": "notifications/cancelled", "params": {} }),
                &[],
            );
            assert_eq!((note.status, note.body.clone()), (202, Value::Null));
            let get = UreqHttp::new()
                .send(&HttpRequest::new(
                    Method::Get,
                    mcp.url.clone(),
                    Timeouts {
                        connect: Duration::from_secs(2),
                        total: Duration::from_secs(10),
                    },
                ))
                .unwrap();
            assert_eq!(get.status, 405);
            assert!(get.header("allow").unwrap().contains("POST"));
        },
    );
}

#[test]
fn bad_arguments_come_back_as_tool_errors_that_say_what_to_fix_and_change_nothing() {
    let app = App::new();
    serve_http(
        |req| app.handle_on(&app.conn, req),
        |base| {
            let mcp = Client::new(&app, base, Some("dave"));
            let text = mcp.tool_error(
                "create_task",
                json!({ "title": "  ", "priority": "P9", "colour": "red" }),
            );
            for field in ["`title`", "`priority`", "`colour`"] {
                assert!(text.contains(field), "{field} missing from {text}");
            }
            let text = mcp.tool_error(
                "create_task",
                json!({ "title": "Dentist", "recurrence": "weekly" }),
            );
            assert!(text.contains("due_at"), "{text}");
            let text = mcp.tool_error("list_tasks", json!({ "sort": "colour" }));
            assert!(text.starts_with("`sort`"), "{text}");
            let text = mcp.tool_error("list_tasks", json!({ "colour": "red" }));
            assert!(
                text.contains("colour") && text.contains("accepted"),
                "{text}"
            );
            let text = mcp.tool_error("get_task", json!({}));
            assert!(text.contains("`id` is required"), "{text}");
            let text = mcp.tool_error(
                "update_task",
                json!({ "id": "x", "expected_version": "latest" }),
            );
            assert!(text.contains("expected_version"), "{text}");
            let text = mcp.tool_error("upcoming", json!({ "timezone": "Mars/Olympus" }));
            assert!(text.contains("IANA"), "{text}");
            assert_eq!(app.count("SELECT count(*) AS n FROM tasks"), 0);
            assert_eq!(app.count("SELECT count(*) AS n FROM outbox"), 0);
        },
    );
}

#[test]
fn another_users_task_is_not_found_and_stays_untouched() {
    let app = App::new();
    serve_http(
        |req| app.handle_on(&app.conn, req),
        |base| {
            let alice = Client::new(&app, base, Some("alice"));
            let mallory = Client::new(&app, base, Some("mallory"));
            let task = alice.ok("create_task", json!({ "title": "Private" }));
            let id = task["id"].as_str().unwrap();
            for (tool, args) in [
                ("get_task", json!({ "id": id })),
                ("update_task", json!({ "id": id, "title": "Mine now" })),
                ("complete_task", json!({ "id": id })),
                ("delete_task", json!({ "id": id })),
            ] {
                let text = mallory.tool_error(tool, args);
                assert!(text.contains("there is no task"), "{tool}: {text}");
            }
            assert_eq!(mallory.ok("list_tasks", json!({}))["items"], json!([]));
            assert_eq!(app.get("alice", &format!("/api/tasks/{id}")).body, task);
        },
    );
}

#[test]
fn without_a_valid_token_the_endpoint_answers_401_pointing_at_the_resource_metadata() {
    let mut app = App::new();
    app.config = app
        .config
        .clone()
        .with(settings::JWT_ISSUER, "https://idp.example")
        .with(settings::PUBLIC_BASE_URL, "https://tasks.example.com/");
    serve_http(
        |req| app.handle_on(&app.conn, req),
        |base| {
            let anonymous = Client::new(&app, base, None);
            let refused = anonymous.request("tools/list", json!({}));
            assert_eq!(refused.status, 401);
            let challenge = refused.header("www-authenticate").unwrap();
            assert!(
            challenge.contains("resource_metadata=\"https://tasks.example.com/.well-known/oauth-protected-resource\""),
            "{challenge}"
        );
            let mut forged = Client::new(&app, base, None);
            forged.token = Some("not.a.jwt".into());
            let refused = forged.request("tools/list", json!({}));
            assert_eq!(refused.status, 401);
            assert!(refused
                .header("www-authenticate")
                .unwrap()
                .contains("invalid_token"));

            for path in [
                "/.well-known/oauth-protected-resource",
                "/.well-known/oauth-protected-resource/mcp",
            ] {
                let metadata = UreqHttp::new()
                    .send(&HttpRequest::new(
                        Method::Get,
                        format!("{base}{path}"),
                        Timeouts {
                            connect: Duration::from_secs(2),
                            total: Duration::from_secs(10),
                        },
                    ))
                    .unwrap();
                assert_eq!(metadata.status, 200);
                let document: Value = serde_json::from_slice(&metadata.body).unwrap();
                assert_eq!(document["resource"], "https://tasks.example.com/mcp");
                assert_eq!(
                    document["authorization_servers"],
                    json!(["https://idp.example"])
                );
                assert_eq!(document["bearer_methods_supported"], json!(["header"]));
            }
        },
    );
}

#[test]
fn a_page_from_an_origin_not_allowed_is_refused_and_an_allowed_one_gets_cors() {
    let app = App::new();
    serve_http(
        |req| app.handle_on(&app.conn, req),
        |base| {
            let mcp = Client::new(&app, base, Some("erin"));
            let body = json!({ "jsonrpc": "2.0", "id": 1, "method": "ping" });
            let evil = mcp.post(&body, &[("origin", "https://evil.example")]);
            assert_eq!(evil.status, 403);
            let good = mcp.post(&body, &[("origin", ORIGIN)]);
            assert_eq!(good.status, 200);
            assert_eq!(good.header("access-control-allow-origin"), Some(ORIGIN));
        },
    );
}

#[test]
fn tokens_from_the_identity_provider_work_for_mcp_too() {
    let key = spindle_native::testing::provider::Key::es256("ec-mcp");
    let provider = spindle_native::testing::provider::Provider::start(&[&key]);
    let mut app = App::new();
    app.config = app
        .config
        .clone()
        .with(settings::JWT_JWKS_URL, provider.url());
    serve_http(
        |req| app.handle_on(&app.conn, req),
        |base| {
            let mut mcp = Client::new(&app, base, None);
            let now = NOW_MICROS / 1_000_000;
            mcp.token = Some(key.token(&json!({ "sub": "frank", "exp": now + 300 })));
            let task = mcp.ok(
                "create_task",
                json!({ "title": "Signed in with the provider" }),
            );
            assert_eq!(
                app.get(
                    "frank",
                    &format!("/api/tasks/{}", task["id"].as_str().unwrap())
                )
                .status,
                200
            );
        },
    );
}
