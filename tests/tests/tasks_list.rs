//! Listing tasks: filters, sorts, keyset pagination and full-text search.

mod api_support;

use std::collections::HashSet;

use api_support::{enc, App};
use serde_json::{json, Value};

fn titles(resp: &api_support::Resp) -> Vec<String> {
    resp.body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items in {:?}", resp.body))
        .iter()
        .map(|t| t["title"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn list(app: &App, query: &str) -> Vec<String> {
    let resp = app.get("alice", &format!("/api/tasks?{query}"));
    assert_eq!(resp.status, 200, "?{query}: {:?}", resp.body);
    titles(&resp)
}

fn seed(app: &App) {
    let tasks = [
        json!({ "title": "a-due-soon", "due_at": "2026-03-01T13:00:00Z", "priority": "P2", "tags": ["work", "urgent"] }),
        json!({ "title": "b-overdue", "due_at": "2026-02-20T09:00:00Z", "priority": "P1", "tags": ["work"] }),
        json!({ "title": "c-no-due", "priority": "P3", "tags": ["home"] }),
        json!({ "title": "d-later", "due_at": "2026-04-01T09:00:00Z", "recurrence": "weekly", "tags": ["home", "urgent"] }),
        json!({ "title": "e-done", "due_at": "2026-02-01T09:00:00Z", "priority": "P1" }),
    ];
    for task in tasks {
        let created = app.create("alice", task);
        if created["title"] == "e-done" {
            let id = created["id"].as_str().unwrap();
            app.post("alice", &format!("/api/tasks/{id}/complete"), &json!({}));
        }
    }
    app.create("bob", json!({ "title": "bobs", "tags": ["work"] }));
}

#[test]
fn the_default_list_is_open_tasks_by_due_date_with_undated_last() {
    let app = App::new();
    seed(&app);
    assert_eq!(
        list(&app, ""),
        vec!["b-overdue", "a-due-soon", "d-later", "c-no-due"]
    );
    assert_eq!(
        list(&app, "sort=-due_at"),
        vec!["d-later", "a-due-soon", "b-overdue", "c-no-due"]
    );
}

#[test]
fn status_priority_tags_dates_and_flags_filter_the_list() {
    let app = App::new();
    seed(&app);
    assert_eq!(list(&app, "status=completed"), vec!["e-done"]);
    assert_eq!(list(&app, "status=all").len(), 5);
    assert_eq!(
        list(&app, "priority=P1,P2"),
        vec!["b-overdue", "a-due-soon"]
    );
    assert_eq!(
        list(&app, "priority=P1&priority=P3&status=all"),
        vec!["e-done", "b-overdue", "c-no-due"]
    );
    assert_eq!(list(&app, "tag=work&tag=urgent"), vec!["a-due-soon"]);
    assert_eq!(
        list(&app, "any_tag=home,urgent"),
        vec!["a-due-soon", "d-later", "c-no-due"]
    );
    assert_eq!(
        list(
            &app,
            &format!(
                "due_after={}&due_before={}",
                enc("2026-03-01T00:00:00Z"),
                enc("2026-03-31T00:00:00+00:00")
            )
        ),
        vec!["a-due-soon"]
    );
    assert_eq!(list(&app, "overdue=true&status=all"), vec!["b-overdue"]);
    assert_eq!(
        list(&app, "overdue=false"),
        vec!["a-due-soon", "d-later", "c-no-due"]
    );
    assert_eq!(list(&app, "has_due=false"), vec!["c-no-due"]);
    assert_eq!(list(&app, "recurring=true"), vec!["d-later"]);
    assert_eq!(
        list(&app, "recurring=false&has_due=true"),
        vec!["b-overdue", "a-due-soon"]
    );
}

#[test]
fn every_sort_orders_as_named() {
    let app = App::new();
    seed(&app);
    assert_eq!(
        list(&app, "sort=priority"),
        vec!["b-overdue", "a-due-soon", "c-no-due", "d-later"]
    );
    assert_eq!(
        list(&app, "sort=-priority"),
        vec!["d-later", "c-no-due", "a-due-soon", "b-overdue"]
    );
    assert_eq!(
        list(&app, "sort=-title"),
        vec!["d-later", "c-no-due", "b-overdue", "a-due-soon"]
    );
    assert_eq!(list(&app, "sort=created_at").len(), 4);
    assert_eq!(list(&app, "sort=-updated_at").len(), 4);
}

#[test]
fn bad_query_parameters_are_400_naming_the_parameter() {
    let app = App::new();
    for (query, parameter) in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("status=done", "status"),
        ("sort=colour", "sort"),
        ("sort=relevance", "sort"),
        ("priority=P9", "priority"),
        ("due_before=yesterday", "due_before"),
        ("overdue=yes", "overdue"),
        ("cursor=nonsense", "cursor"),
        ("q=%20%2B%2B", "q"),
        ("colour=red", "colour"),
        ("status=open&status=all", "status"),
    ] {
        let resp = app.get("alice", &format!("/api/tasks?{query}"));
        assert_eq!(resp.status, 400, "?{query}: {:?}", resp.body);
        assert_eq!(resp.body["parameter"], parameter, "?{query}");
        assert_eq!(
            resp.header("content-type"),
            Some("application/problem+json")
        );
    }
}

/// Pages through `query` with `limit`, returning every id seen, in order.
fn page_through(app: &App, conn: &spindle_native::PgDb, query: &str, limit: usize) -> Vec<String> {
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let uri = match &cursor {
            Some(c) => format!("/api/tasks?{query}&limit={limit}&cursor={c}"),
            None => format!("/api/tasks?{query}&limit={limit}"),
        };
        let req = app
            .request("GET", &uri, Some("alice"), None)
            .body(Vec::new())
            .unwrap();
        let resp = app.send_on(conn, req);
        assert_eq!(resp.status, 200, "{uri}: {:?}", resp.body);
        let items = resp.body["items"].as_array().unwrap();
        assert!(items.len() <= limit);
        seen.extend(items.iter().map(|t| t["id"].as_str().unwrap().to_owned()));
        match resp.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return seen,
        }
    }
}

#[test]
fn pages_cover_every_task_once_in_every_sort() {
    let app = App::new();
    for i in 0..37 {
        let mut task =
            json!({ "title": format!("task {:02}", i % 7), "priority": format!("P{}", i % 4 + 1) });
        if i % 3 != 0 {
            task["due_at"] = json!(format!("2026-03-{:02}T09:00:00Z", i % 5 + 1));
        }
        app.create("alice", task);
        app.clock.advance(std::time::Duration::from_secs(i % 2));
    }
    for sort in [
        "due_at",
        "-due_at",
        "priority",
        "-priority",
        "title",
        "-title",
        "created_at",
        "-created_at",
        "updated_at",
    ] {
        let ids = page_through(&app, &app.conn, &format!("sort={sort}"), 5);
        assert_eq!(ids.len(), 37, "sort={sort}");
        assert_eq!(
            ids.iter().collect::<HashSet<_>>().len(),
            37,
            "sort={sort} repeated a task"
        );
        let all_at_once: Vec<String> = app
            .get("alice", &format!("/api/tasks?sort={sort}&limit=100"))
            .body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(ids, all_at_once, "paging changed the order of sort={sort}");
    }
    // The plain list by due date runs a statement of its own (a routine); a
    // filter that keeps every task takes the general one. Same pages.
    let plain = page_through(&app, &app.conn, "sort=due_at", 5);
    let filtered = page_through(
        &app,
        &app.conn,
        "sort=due_at&priority=P1&priority=P2&priority=P3&priority=P4",
        5,
    );
    assert_eq!(plain, filtered);
}

#[test]
fn a_cursor_only_works_with_the_query_that_made_it() {
    let app = App::new();
    for i in 0..3 {
        app.create("alice", json!({ "title": format!("t{i}") }));
    }
    let first = app.get("alice", "/api/tasks?sort=title&limit=1");
    let cursor = first.body["next_cursor"].as_str().unwrap().to_owned();
    assert_eq!(
        app.get(
            "alice",
            &format!("/api/tasks?sort=title&limit=2&cursor={cursor}")
        )
        .status,
        200
    );
    let other = app.get(
        "alice",
        &format!("/api/tasks?sort=-title&limit=1&cursor={cursor}"),
    );
    assert_eq!(other.status, 400);
    assert_eq!(other.body["parameter"], "cursor");
}

#[test]
fn paging_while_tasks_are_added_and_removed_never_repeats_or_skips_a_survivor() {
    let app = App::new();
    let mut originals = HashSet::new();
    for i in 0..60 {
        let task = app.create("alice", json!({ "title": format!("orig {i}"), "due_at": format!("2026-03-{:02}T09:00:00Z", i % 28 + 1) }));
        originals.insert(task["id"].as_str().unwrap().to_owned());
    }
    let doomed: Vec<String> = originals.iter().take(10).cloned().collect();
    let seen = std::thread::scope(|scope| {
        let writer = scope.spawn(|| {
            let conn = app.db.connect();
            for i in 0..40 {
                let body = json!({ "title": format!("new {i}"), "due_at": format!("2026-03-{:02}T10:00:00Z", i % 28 + 1) });
                let req = app.request("POST", "/api/tasks", Some("alice"), Some(&body));
                assert_eq!(app.send_on(&conn, req.body(serde_json::to_vec(&body).unwrap()).unwrap()).status, 201);
                if let Some(id) = doomed.get(i / 4) {
                    let req = app.request("DELETE", &format!("/api/tasks/{id}"), Some("alice"), None);
                    let _ = app.send_on(&conn, req.body(Vec::new()).unwrap());
                }
            }
        });
        let reader_conn = app.db.connect();
        let seen = page_through(&app, &reader_conn, "sort=due_at", 7);
        writer.join().expect("the writer thread");
        seen
    });
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(
        unique.len(),
        seen.len(),
        "a task appeared twice while paging"
    );
    for id in originals.iter().filter(|id| !doomed.contains(id)) {
        assert!(unique.contains(id), "surviving task {id} was skipped");
    }
}

#[test]
fn search_matches_word_prefixes_and_ranks_title_matches_first() {
    let app = App::new();
    app.create(
        "alice",
        json!({ "title": "Weekly review", "description": "look back at milk prices" }),
    );
    app.create(
        "alice",
        json!({ "title": "Buy milk", "description": "semi-skimmed" }),
    );
    app.create("alice", json!({ "title": "Buy bread" }));
    app.create("bob", json!({ "title": "Bob's milk" }));
    assert_eq!(list(&app, "q=mil"), vec!["Buy milk", "Weekly review"]);
    assert_eq!(list(&app, "q=MILK"), vec!["Buy milk", "Weekly review"]);
    assert_eq!(list(&app, "q=buy%20mi"), vec!["Buy milk"]);
    assert_eq!(list(&app, "q=skim"), vec!["Buy milk"]);
    assert_eq!(list(&app, "q=nothing"), Vec::<String>::new());
    assert_eq!(
        list(&app, "q=milk&sort=title"),
        vec!["Buy milk", "Weekly review"]
    );
    // Operators typed by the user are just separators, never tsquery syntax.
    assert_eq!(
        list(&app, &format!("q={}", enc("milk | bread & !x:*"))),
        Vec::<String>::new()
    );
    assert_eq!(
        list(&app, &format!("q={}", enc("buy & (bread)"))),
        vec!["Buy bread"]
    );
}

#[test]
fn search_results_page_by_rank_without_repeats() {
    let app = App::new();
    for i in 0..12 {
        let title = if i % 3 == 0 {
            format!("report report {i}")
        } else {
            format!("report {i}")
        };
        app.create(
            "alice",
            json!({ "title": title, "description": if i % 2 == 0 { "report" } else { "" } }),
        );
    }
    let ids = page_through(&app, &app.conn, "q=report", 5);
    assert_eq!(ids.len(), 12);
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 12);
    let first: Value = app.get("alice", "/api/tasks?q=report&limit=1").body;
    assert!(first["items"][0]["title"]
        .as_str()
        .unwrap()
        .starts_with("report report"));
}

#[test]
fn relevance_ranks_the_most_recently_updated_matches_and_other_sorts_page_through_all() {
    use spindle_ports::Db;
    let app = App::new();
    let ranked = spindle_storage::tasks::RANKED_CANDIDATES;
    // One strong match (the word in its title) updated long ago, then more weak
    // matches (the word in the description) than relevance ranks; all of them
    // before the test clock's now.
    app.conn
        .execute(
            "INSERT INTO tasks (id, user_id, title, description, created_at, updated_at)
             SELECT gen_random_uuid(), 'alice',
                    CASE WHEN g = 0 THEN 'quarterly report' ELSE 'task ' || g END,
                    CASE WHEN g = 0 THEN '' ELSE 'see the report' END,
                    timestamptz '2020-01-01' + g * interval '1 minute',
                    timestamptz '2020-01-01' + g * interval '1 minute'
               FROM generate_series(0, $1::int8) AS g",
            &[spindle_ports::Param::Int64(ranked as i64)],
        )
        .unwrap();
    let by_rank = page_through(&app, &app.conn, "q=report", 100);
    assert_eq!(by_rank.len(), ranked);
    let first = list(&app, "q=report&limit=1");
    assert_ne!(
        first,
        vec!["quarterly report"],
        "the oldest match is not ranked"
    );
    let by_update = page_through(&app, &app.conn, "q=report&sort=updated_at", 100);
    assert_eq!(by_update.len(), ranked + 1);

    // Touching the old task brings it among the ranked, where it ranks first.
    let id: String = app
        .conn
        .query(
            "SELECT id::text FROM tasks WHERE title = 'quarterly report'",
            &[],
        )
        .unwrap()
        .first()
        .unwrap()
        .str("id")
        .unwrap();
    let resp = app.patch(
        "alice",
        &format!("/api/tasks/{id}"),
        &json!({ "priority": "P1" }),
    );
    assert_eq!(resp.status, 200, "{:?}", resp.body);
    assert_eq!(list(&app, "q=report&limit=1"), vec!["quarterly report"]);
}

#[test]
fn a_search_with_a_word_under_three_letters_comes_in_due_date_order() {
    let app = App::new();
    app.create(
        "alice",
        json!({ "title": "review review review", "due_at": "2026-03-09T09:00:00Z" }),
    );
    app.create(
        "alice",
        json!({ "title": "rent", "due_at": "2026-03-02T09:00:00Z" }),
    );
    assert_eq!(list(&app, "q=re"), vec!["rent", "review review review"]);
    assert_eq!(list(&app, "q=rev"), vec!["review review review"]);
    assert_eq!(
        list(&app, "q=re&sort=relevance"),
        vec!["review review review", "rent"]
    );
}
