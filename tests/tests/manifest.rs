//! Checks `spin.toml` against the workspace: every component crate is built and
//! loaded from the right place, every component has a trigger, HTTP routes reach
//! the component that owns them (with Spin's own route precedence), every
//! variable a component reads is declared and mapped, and secrets stay secret.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use toml::{Table, Value};

/// The only variables read by the code that may have a default.
const MAY_HAVE_DEFAULT: &[&str] = &[
    "max_delivery_attempts",
    "cors_allowed_origins",
    "jwt_secret",
    "jwt_jwks_url",
    "jwt_issuer",
    "jwt_audience",
    "public_base_url",
    "reminder_max_late",
    "channel_failure_limit",
    "allow_private_webhooks",
    "reminders_channel",
    "retention_interval_seconds",
    "retention_outbox_days",
    "retention_processed_days",
    "retention_idempotency_hours",
    "retention_deliveries_days",
    "retention_inbox_days",
    "retention_batch",
    "tick_mode",
    "tick_interval_ms",
    "tick_loop_seconds",
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate sits in the workspace")
        .to_path_buf()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()))
}

fn parse_toml(path: &Path) -> Table {
    read(path)
        .parse::<Table>()
        .unwrap_or_else(|err| panic!("{} is not valid TOML: {err}", path.display()))
}

fn spin_toml() -> Table {
    parse_toml(&root().join("spin.toml"))
}

fn table<'a>(value: Option<&'a Value>, what: &str) -> &'a Table {
    value
        .and_then(Value::as_table)
        .unwrap_or_else(|| panic!("spin.toml: {what} is missing or not a table"))
}

fn components(manifest: &Table) -> &Table {
    table(manifest.get("component"), "[component.*]")
}

fn variables(manifest: &Table) -> &Table {
    table(manifest.get("variables"), "[variables]")
}

/// Fails with every problem found, one per line.
fn assert_no_problems(what: &str, problems: Vec<String>) {
    assert!(
        problems.is_empty(),
        "{what}:\n  - {}",
        problems.join("\n  - ")
    );
}

/// A component crate under components/: its directory and package name.
struct ComponentCrate {
    dir: String,
    package: String,
    cargo: Table,
}

fn component_crates() -> Vec<ComponentCrate> {
    let dir = root().join("components");
    let mut crates = Vec::new();
    for entry in
        std::fs::read_dir(&dir).unwrap_or_else(|err| panic!("cannot list {}: {err}", dir.display()))
    {
        let path = entry.expect("a directory entry").path();
        let cargo_path = path.join("Cargo.toml");
        if !cargo_path.is_file() {
            continue;
        }
        let cargo = parse_toml(&cargo_path);
        let package = cargo
            .get("package")
            .and_then(|p| p.get("name"))
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("{} has no package name", cargo_path.display()))
            .to_owned();
        crates.push(ComponentCrate {
            dir: path.file_name().unwrap().to_string_lossy().into_owned(),
            package,
            cargo,
        });
    }
    crates.sort_by(|a, b| a.dir.cmp(&b.dir));
    assert!(
        !crates.is_empty(),
        "no component crates found under {}",
        dir.display()
    );
    crates
}

/// Whether a shell-like command line builds `package` for wasm32-wasip2 in release mode.
fn builds_package(command: &str, package: &str) -> bool {
    let words: Vec<&str> = command.split_whitespace().collect();
    let is_cargo_build = words.windows(2).any(|w| w == ["cargo", "build"]);
    let target = words.windows(2).any(|w| w == ["--target", "wasm32-wasip2"])
        || words.contains(&"--target=wasm32-wasip2");
    let release = words.contains(&"--release");
    let selects_package = words
        .windows(2)
        .any(|w| (w[0] == "-p" || w[0] == "--package") && w[1] == package)
        || words.contains(&format!("--package={package}").as_str())
        || words.contains(&format!("-p={package}").as_str());
    is_cargo_build && target && release && selects_package
}

// ---------------------------------------------------------------------------
// (a) components
// ---------------------------------------------------------------------------

#[test]
fn every_component_crate_is_a_component_built_and_loaded_from_its_own_wasm() {
    let manifest = spin_toml();
    let declared = components(&manifest);
    let mut problems = Vec::new();
    for krate in component_crates() {
        let name = &krate.package;
        if krate.dir != *name {
            problems.push(format!(
                "components/{} holds package {name:?}; name the directory after the package",
                krate.dir
            ));
        }
        let crate_types: Vec<&str> = krate
            .cargo
            .get("lib")
            .and_then(|lib| lib.get("crate-type"))
            .and_then(Value::as_array)
            .map(|types| types.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        // A command component is a WASI command: a binary named after the package
        // (cargo builds `<name>.wasm` from it); every other one is a library.
        let command = command_components(&manifest).contains(name);
        if command && !bin_names(&krate.cargo).contains(&name.as_str()) {
            problems.push(format!(
                "components/{}/Cargo.toml: {name} is run by a [[trigger.command]], so it needs a \
                 [[bin]] named {name:?} (a WASI command with a main)",
                krate.dir
            ));
        }
        if !command && !crate_types.contains(&"cdylib") {
            problems.push(format!(
                "components/{}/Cargo.toml: [lib] crate-type must include \"cdylib\" to produce a .wasm",
                krate.dir
            ));
        }
        let Some(component) = declared.get(name).and_then(Value::as_table) else {
            problems.push(format!(
                "spin.toml has no [component.{name}] for components/{}",
                krate.dir
            ));
            continue;
        };
        let expected_source = format!(
            "target/wasm32-wasip2/release/{}.wasm",
            name.replace('-', "_")
        );
        match component.get("source").and_then(Value::as_str) {
            Some(source) if source == expected_source => {}
            Some(source) => problems.push(format!(
                "[component.{name}] source is {source:?}; cargo builds {expected_source:?}"
            )),
            None => problems.push(format!(
                "[component.{name}] has no source (expected {expected_source:?})"
            )),
        }
        let build = component.get("build").and_then(Value::as_table);
        match build.and_then(|b| b.get("command")).and_then(Value::as_str) {
            Some(command) if builds_package(command, name) => {}
            Some(command) => problems.push(format!(
                "[component.{name}.build] command {command:?} does not build the package; expected \
                 \"cargo build --target wasm32-wasip2 --release -p {name}\""
            )),
            None => problems.push(format!("[component.{name}.build] has no command")),
        }
        let watch: Vec<&str> = build
            .and_then(|b| b.get("watch"))
            .and_then(Value::as_array)
            .map(|w| w.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if !watch
            .iter()
            .any(|w| w.starts_with(&format!("components/{}/", krate.dir)))
        {
            problems.push(format!(
                "[component.{name}.build] watch does not include components/{}/...",
                krate.dir
            ));
        }
    }
    let crates: BTreeSet<String> = component_crates().into_iter().map(|c| c.package).collect();
    for name in declared.keys() {
        if !crates.contains(name) {
            problems.push(format!(
                "[component.{name}] in spin.toml has no crate under components/ (remove it or add the crate)"
            ));
        }
    }
    assert_no_problems(
        "spin.toml components do not match the component crates",
        problems,
    );
}

// ---------------------------------------------------------------------------
// (b) triggers
// ---------------------------------------------------------------------------

/// The components named by a `[[trigger.command]]`.
fn command_components(manifest: &Table) -> BTreeSet<String> {
    triggers(manifest)
        .into_iter()
        .filter(|(kind, _)| kind == "command")
        .filter_map(|(_, entry)| entry.get("component")?.as_str().map(str::to_owned))
        .collect()
}

/// The names of a crate's `[[bin]]` targets.
fn bin_names(cargo: &Table) -> Vec<&str> {
    cargo
        .get("bin")
        .and_then(Value::as_array)
        .map(|bins| {
            bins.iter()
                .filter_map(|b| b.get("name").and_then(Value::as_str))
                .collect()
        })
        .unwrap_or_default()
}

/// Every `[[trigger.<type>]]` entry as (type, entry), in manifest order.
fn triggers(manifest: &Table) -> Vec<(String, Table)> {
    let mut all = Vec::new();
    for (kind, entries) in table(manifest.get("trigger"), "[[trigger.*]]") {
        let entries = entries.as_array().unwrap_or_else(|| {
            panic!("spin.toml: trigger.{kind} must be an array of tables ([[trigger.{kind}]])")
        });
        for entry in entries {
            let entry = entry.as_table().unwrap_or_else(|| {
                panic!("spin.toml: an entry of [[trigger.{kind}]] is not a table")
            });
            all.push((kind.clone(), entry.clone()));
        }
    }
    all
}

#[test]
fn every_component_has_triggers_of_exactly_one_kind() {
    let manifest = spin_toml();
    let declared = components(&manifest);
    let mut problems = Vec::new();
    let mut by_component: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (kind, entry) in triggers(&manifest) {
        match entry.get("component") {
            Some(Value::String(name)) => {
                if !declared.contains_key(name) {
                    problems.push(format!(
                        "a [[trigger.{kind}]] names component {name:?}, which is not declared"
                    ));
                }
                by_component
                    .entry(name.clone())
                    .or_default()
                    .push(kind.clone());
            }
            Some(_) => problems.push(format!(
                "a [[trigger.{kind}]] declares its component inline; name a [component.*] instead"
            )),
            None => problems.push(format!("a [[trigger.{kind}]] has no component")),
        }
        let component = entry
            .get("component")
            .and_then(Value::as_str)
            .unwrap_or("?");
        // The fields each trigger kind cannot do without.
        let required: &[&str] = match kind.as_str() {
            "http" => &["route"],
            "redis" => &["channel"],
            "cron" => &["cron_expression"],
            _ => &[],
        };
        for field in required {
            let present = match entry.get(*field) {
                Some(Value::String(text)) => !text.is_empty(),
                Some(_) => true,
                None => false,
            };
            if !present {
                problems.push(format!(
                    "the [[trigger.{kind}]] of {component} has no {field}"
                ));
            }
        }
        let app_redis_address = manifest
            .get("application")
            .and_then(|a| a.get("trigger"))
            .and_then(|t| t.get("redis"))
            .and_then(|r| r.get("address"));
        if kind == "redis" && entry.get("address").is_none() && app_redis_address.is_none() {
            problems.push(format!(
                "the [[trigger.redis]] of {component} has no address and there is no \
                 [application.trigger.redis] address"
            ));
        }
    }
    for name in declared.keys() {
        let Some(kinds) = by_component.get(name) else {
            problems.push(format!(
                "component {name} is named by no trigger, so it never runs"
            ));
            continue;
        };
        let distinct: BTreeSet<&String> = kinds.iter().collect();
        if distinct.len() > 1 {
            problems.push(format!(
                "component {name} is named by triggers of several kinds {distinct:?}; one kind per component"
            ));
        } else if kinds[0] != "http" && kinds.len() > 1 {
            problems.push(format!(
                "component {name} is named by {} [[trigger.{}]] entries; a message or schedule handler has exactly one",
                kinds.len(),
                kinds[0]
            ));
        }
    }
    assert_no_problems("spin.toml triggers are wrong", problems);
}

// ---------------------------------------------------------------------------
// (c) HTTP routes, with Spin's precedence
// ---------------------------------------------------------------------------

/// One `[[trigger.http]]` route.
#[derive(Debug, Clone)]
struct Route {
    /// As written in spin.toml.
    raw: String,
    /// As Spin normalises it (absolute, one trailing slash removed).
    based: String,
    component: String,
}

/// Spin 3.6's HTTP router (crates/routes in spinframework/spin): routes go into a
/// `routefinder::Router`, a trailing `/...` becoming `/*`, and a request goes to
/// `best_match`: segment by segment, exact text beats `:param`, which beats the
/// trailing wildcard; then more segments win. Duplicate routes: the last one wins.
struct SpinRouter {
    router: routefinder::Router<Route>,
}

impl SpinRouter {
    fn build(routes: &[Route]) -> Result<SpinRouter, String> {
        let mut router = routefinder::Router::new();
        for route in routes {
            let spec = match route.based.strip_suffix("/...") {
                Some(prefix) => format!("{prefix}/*"),
                None => route.based.clone(),
            };
            router.add(spec.as_str(), route.clone()).map_err(|err| {
                format!(
                    "route {:?} of {} is not a valid route: {err}",
                    route.raw, route.component
                )
            })?;
        }
        Ok(SpinRouter { router })
    }

    fn route(&self, path: &str) -> Option<&Route> {
        self.router.best_match(path).map(|m| m.handler())
    }
}

/// What Spin does to a route before matching (`sanitize_with_base` with base "/").
fn normalise(route: &str) -> String {
    let absolute = if route.starts_with('/') {
        route.to_owned()
    } else {
        format!("/{route}")
    };
    absolute
        .strip_suffix('/')
        .map(str::to_owned)
        .unwrap_or(absolute)
}

fn http_routes(manifest: &Table) -> Vec<Route> {
    triggers(manifest)
        .into_iter()
        .filter(|(kind, _)| kind == "http")
        .filter_map(|(_, entry)| {
            // `route = { private = true }` is reachable only by service chaining.
            let raw = entry.get("route")?.as_str()?.to_owned();
            let component = entry.get("component")?.as_str()?.to_owned();
            Some(Route {
                based: normalise(&raw),
                raw,
                component,
            })
        })
        .collect()
}

/// Request paths that a route is meant to serve: `:name` filled in, a trailing
/// wildcard matched both empty and with two more segments.
fn sample_paths(route: &str) -> Vec<String> {
    let fill = |r: &str| {
        r.split('/')
            .map(|segment| {
                if segment.starts_with(':') {
                    "sample-1"
                } else {
                    segment
                }
            })
            .collect::<Vec<_>>()
            .join("/")
    };
    match route
        .strip_suffix("/...")
        .or_else(|| route.strip_suffix("/*"))
    {
        Some(prefix) => {
            let prefix = fill(prefix);
            let bare = if prefix.is_empty() {
                "/".to_owned()
            } else {
                prefix.clone()
            };
            vec![bare, format!("{prefix}/sample-2/sample-3")]
        }
        None => vec![if route.is_empty() {
            "/".to_owned()
        } else {
            fill(route)
        }],
    }
}

fn spin_router() -> (Vec<Route>, SpinRouter) {
    let routes = http_routes(&spin_toml());
    let router = SpinRouter::build(&routes).unwrap_or_else(|err| panic!("spin.toml: {err}"));
    (routes, router)
}

#[test]
fn the_route_model_follows_spin_precedence() {
    let route = |raw: &str, component: &str| Route {
        raw: raw.to_owned(),
        based: normalise(raw),
        component: component.to_owned(),
    };
    // The cases of Spin's own router tests.
    let router = SpinRouter::build(&[
        route("/one/...", "one"),
        route("/one/two/...", "onetwo"),
        route("/one/two/three/...", "onetwothree"),
        route("/one", "one_exact"),
        route("/...", "all"),
        route("/items/:id/history", "history"),
        route("/items/...", "items"),
    ])
    .unwrap();
    let owner = |path: &str| router.route(path).map(|r| r.component.as_str());
    assert_eq!(owner("/one/two/three/four"), Some("onetwothree"));
    assert_eq!(owner("/one/two/x"), Some("onetwo"));
    assert_eq!(owner("/one"), Some("one_exact"));
    assert_eq!(owner("/one/"), Some("one_exact"));
    assert_eq!(owner("/elsewhere"), Some("all"));
    assert_eq!(owner("/"), Some("all"));
    assert_eq!(owner("/items/42/history"), Some("history"));
    assert_eq!(owner("/items/42"), Some("items"));
    assert_eq!(
        owner("/items"),
        Some("items"),
        "a trailing wildcard also matches its bare prefix"
    );
    assert_eq!(owner("/items/42/history/more"), Some("items"));
}

#[test]
fn no_http_route_is_declared_twice() {
    let (routes, _) = spin_router();
    let mut seen: BTreeMap<String, &Route> = BTreeMap::new();
    let mut problems = Vec::new();
    for route in &routes {
        // `/x/...` and `/x/*` are the same route to Spin.
        let key = route
            .based
            .strip_suffix("/*")
            .map(|p| format!("{p}/..."))
            .unwrap_or_else(|| route.based.clone());
        if let Some(first) = seen.insert(key.clone(), route) {
            problems.push(format!(
                "route {key:?} is declared for {} and again for {}; Spin serves only one of them",
                first.component, route.component
            ));
        }
    }
    assert_no_problems("spin.toml has duplicate HTTP routes", problems);
}

#[test]
fn no_http_route_is_shadowed_by_another_component() {
    let (routes, router) = spin_router();
    let mut problems = Vec::new();
    for route in &routes {
        for path in sample_paths(&route.based) {
            match router.route(&path) {
                Some(winner) if winner.component == route.component => {}
                Some(winner) => problems.push(format!(
                    "{path} should reach {} (route {:?}) but Spin sends it to {} (route {:?}), which takes precedence",
                    route.component, route.raw, winner.component, winner.raw
                )),
                None => problems.push(format!(
                    "{path} matches no route, although route {:?} of {} should serve it",
                    route.raw, route.component
                )),
            }
        }
    }
    assert_no_problems("spin.toml routes shadow each other", problems);
}

#[test]
fn requests_reach_the_component_that_owns_their_path() {
    let (_, router) = spin_router();
    let id = "0192f0c4-7a1b-7c3d-9e4f-5a6b7c8d9e0f";
    let expected = [
        ("/api/tasks", "tasks-api"),
        ("/api/tasks/", "tasks-api"),
        (&format!("/api/tasks/{id}"), "tasks-api"),
        (&format!("/api/tasks/{id}/complete"), "tasks-api"),
        (&format!("/api/tasks/{id}/reopen"), "tasks-api"),
        (&format!("/api/tasks/{id}/reminders"), "tasks-api"),
        (&format!("/api/tasks/{id}/history"), "changes-api"),
        ("/api/tags", "tags-api"),
        ("/api/tags/work", "tags-api"),
        ("/api/changes", "changes-api"),
        ("/healthz", "ops"),
        ("/readyz", "ops"),
        ("/metrics", "ops"),
        ("/admin/migrations", "ops"),
        ("/admin/dead-letters/7/replay", "ops"),
        ("/internal/tick", "ops"),
        ("/api/openapi.json", "ops"),
    ];
    let mut problems = Vec::new();
    for (path, component) in expected {
        match router.route(path) {
            Some(route) if route.component == component => {}
            Some(route) => problems.push(format!(
                "{path} goes to {} (route {:?}); it belongs to {component}",
                route.component, route.raw
            )),
            None => problems.push(format!(
                "{path} matches no route; it belongs to {component}"
            )),
        }
    }
    assert_no_problems("HTTP requests reach the wrong component", problems);
}

// ---------------------------------------------------------------------------
// (d) variables
// ---------------------------------------------------------------------------

/// The `{{ name }}` references in a Spin template string, or why it is malformed.
fn template_references(template: &str) -> Result<Vec<String>, String> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| format!("{template:?} opens {{{{ without closing it"))?;
        let name = after[..end].trim();
        let valid = !name.is_empty()
            && name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !valid {
            return Err(format!(
                "{template:?} refers to {name:?}, which is not a variable name (lowercase letters, digits, _)"
            ));
        }
        names.push(name.to_owned());
        rest = &after[end + 2..];
    }
    Ok(names)
}

/// `pub const NAME: &str = "value";` constants of crates/api/src/settings.rs.
fn settings_constants() -> BTreeMap<String, String> {
    let path = root().join("crates/api/src/settings.rs");
    let mut constants = BTreeMap::new();
    for line in read(&path).lines() {
        let Some(rest) = line.trim().strip_prefix("pub const ") else {
            continue;
        };
        let Some((name, rest)) = rest.split_once(':') else {
            continue;
        };
        let Some((ty, value)) = rest.split_once('=') else {
            continue;
        };
        if ty.trim() != "&str" {
            continue;
        }
        let value = value.trim().trim_end_matches(';').trim();
        if let Some(value) = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
            constants.insert(name.trim().to_owned(), value.to_owned());
        }
    }
    assert!(
        !constants.is_empty(),
        "no `pub const NAME: &str = \"...\";` found in {}",
        path.display()
    );
    constants
}

/// Every `settings::NAME` and `settings::{A, B}` in Rust source text.
fn settings_references(source: &str) -> BTreeSet<String> {
    let is_name = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
    };
    let mut names = BTreeSet::new();
    for (index, _) in source.match_indices("settings::") {
        let preceded_by_ident = source[..index]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        if preceded_by_ident {
            continue;
        }
        let rest = &source[index + "settings::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let group = &group[..group.find('}').unwrap_or(group.len())];
            for item in group.split(',') {
                let item = item.split_whitespace().next().unwrap_or("");
                if is_name(item) {
                    names.insert(item.to_owned());
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                .collect();
            let continues = rest[name.len()..]
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_lowercase());
            if is_name(&name) && !continues {
                names.insert(name);
            }
        }
    }
    names
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return files;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files.sort();
    files
}

#[test]
fn every_variable_the_code_knows_is_declared() {
    let manifest = spin_toml();
    let declared = variables(&manifest);
    let missing: Vec<String> = spindle_api::settings::ALL
        .iter()
        .filter(|name| !declared.contains_key(**name))
        .map(|name| {
            format!("{name} (in spindle_api::settings::ALL) is not declared in [variables]")
        })
        .collect();
    assert_no_problems("spin.toml lacks variables", missing);
}

#[test]
fn every_settings_constant_is_listed_in_settings_all() {
    let all: BTreeSet<&str> = spindle_api::settings::ALL.iter().copied().collect();
    let problems: Vec<String> = settings_constants()
        .into_iter()
        .filter(|(_, value)| !all.contains(value.as_str()))
        .map(|(name, value)| format!("settings::{name} ({value:?}) is missing from settings::ALL"))
        .collect();
    assert_no_problems("crates/api/src/settings.rs", problems);
}

#[test]
fn every_declared_variable_is_well_formed() {
    let manifest = spin_toml();
    let mut problems = Vec::new();
    for (name, spec) in variables(&manifest) {
        if template_references(&format!("{{{{ {name} }}}}")).is_err() {
            problems.push(format!(
                "variable {name:?} is not a valid name (lowercase letters, digits, _)"
            ));
        }
        let Some(spec) = spec.as_table() else {
            problems.push(format!(
                "variable {name} must be a table, e.g. {{ required = true }}"
            ));
            continue;
        };
        let required = spec
            .get("required")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        match spec.get("default") {
            Some(Value::String(_)) if required => problems.push(format!(
                "variable {name} is required and has a default; choose one"
            )),
            Some(Value::String(_)) => {}
            Some(other) => problems.push(format!(
                "variable {name} has a default that is not a string: {other}"
            )),
            None if !required => problems.push(format!(
                "variable {name} has no default, so it needs required = true"
            )),
            None => {}
        }
    }
    assert_no_problems("spin.toml [variables] are malformed", problems);
}

#[test]
fn every_template_refers_to_a_declared_variable() {
    let manifest = spin_toml();
    let declared = variables(&manifest);
    let mut problems = Vec::new();
    // (where, template) for every field that Spin resolves templates in.
    let mut templates: Vec<(String, String)> = Vec::new();
    for (name, component) in components(&manifest) {
        if let Some(vars) = component.get("variables").and_then(Value::as_table) {
            for (key, value) in vars {
                match value.as_str() {
                    Some(template) => templates.push((
                        format!("[component.{name}.variables] {key}"),
                        template.to_owned(),
                    )),
                    None => problems.push(format!(
                        "[component.{name}.variables] {key} must be a string"
                    )),
                }
            }
        }
        if let Some(hosts) = component
            .get("allowed_outbound_hosts")
            .and_then(Value::as_array)
        {
            for host in hosts {
                match host.as_str() {
                    Some(template) => templates.push((
                        format!("[component.{name}] allowed_outbound_hosts"),
                        template.to_owned(),
                    )),
                    None => problems.push(format!(
                        "[component.{name}] allowed_outbound_hosts holds a non-string"
                    )),
                }
            }
        }
    }
    for (kind, entry) in triggers(&manifest) {
        for field in ["address", "channel"] {
            if let Some(template) = entry.get(field).and_then(Value::as_str) {
                templates.push((format!("[[trigger.{kind}]] {field}"), template.to_owned()));
            }
        }
    }
    if let Some(address) = manifest
        .get("application")
        .and_then(|a| a.get("trigger"))
        .and_then(|t| t.get("redis"))
        .and_then(|r| r.get("address"))
        .and_then(Value::as_str)
    {
        templates.push((
            "[application.trigger.redis] address".to_owned(),
            address.to_owned(),
        ));
    }
    for (place, template) in templates {
        match template_references(&template) {
            Ok(names) => {
                for name in names {
                    if !declared.contains_key(&name) {
                        problems.push(format!(
                            "{place} uses {{{{ {name} }}}}, which is not declared in [variables]"
                        ));
                    }
                }
            }
            Err(err) => problems.push(format!("{place}: {err}")),
        }
    }
    assert_no_problems(
        "spin.toml templates refer to undeclared variables",
        problems,
    );
}

#[test]
fn every_variable_a_component_reads_is_mapped_for_it() {
    let manifest = spin_toml();
    let declared = components(&manifest);
    let constants = settings_constants();
    let mut problems = Vec::new();
    for krate in component_crates() {
        let name = &krate.package;
        let mapped: BTreeSet<&str> = declared
            .get(name)
            .and_then(|c| c.get("variables"))
            .and_then(Value::as_table)
            .map(|vars| vars.keys().map(String::as_str).collect())
            .unwrap_or_default();
        for file in rust_files(&root().join("components").join(&krate.dir).join("src")) {
            for constant in settings_references(&read(&file)) {
                let shown = file
                    .strip_prefix(root())
                    .unwrap_or(&file)
                    .display()
                    .to_string();
                match constants.get(&constant) {
                    Some(variable) if mapped.contains(variable.as_str()) => {}
                    Some(variable) => problems.push(format!(
                        "{shown} reads settings::{constant} ({variable:?}), but [component.{name}.variables] \
                         does not map it; add {variable} = \"{{{{ {variable} }}}}\""
                    )),
                    None if constant == "ALL" => {}
                    None => problems.push(format!(
                        "{shown} uses settings::{constant}, which is not a `pub const {constant}: &str` in \
                         crates/api/src/settings.rs"
                    )),
                }
            }
        }
    }
    assert_no_problems(
        "components read variables that spin.toml does not give them",
        problems,
    );
}

/// The tick reads its variables inside the library, where the scan above does not
/// look: every component that runs it must be given all of them.
#[test]
fn every_component_that_ticks_is_given_every_tick_variable() {
    let manifest = spin_toml();
    let declared = components(&manifest);
    let mut problems = Vec::new();
    for name in ["ops", "reminder-cron", "tick"] {
        let mapped: BTreeSet<&str> = declared
            .get(name)
            .and_then(|c| c.get("variables"))
            .and_then(Value::as_table)
            .map(|vars| vars.keys().map(String::as_str).collect())
            .unwrap_or_default();
        for variable in spindle_api::settings::TICK_VARIABLES {
            if !mapped.contains(variable) {
                problems.push(format!(
                    "[component.{name}.variables] does not map {variable}, which the tick reads"
                ));
            }
        }
    }
    for variable in [
        spindle_api::settings::TICK_MODE,
        spindle_api::settings::TICK_INTERVAL_MS,
        spindle_api::settings::TICK_LOOP_SECONDS,
    ] {
        let mapped = declared
            .get("tick")
            .and_then(|c| c.get("variables"))
            .and_then(|v| v.get(variable))
            .is_some();
        if !mapped {
            problems.push(format!(
                "[component.tick.variables] does not map {variable}"
            ));
        }
    }
    assert_no_problems("a ticking component misses tick variables", problems);
}

#[test]
fn the_tick_component_is_run_by_a_command_trigger() {
    let manifest = spin_toml();
    let commands = command_components(&manifest);
    assert_eq!(
        commands.into_iter().collect::<Vec<_>>(),
        ["tick"],
        "exactly the tick component runs as a [[trigger.command]] (the cluster's CronJob and migration Job run it)"
    );
}

#[test]
fn the_settings_scanner_finds_paths_and_groups() {
    let source = "use spindle_api::settings::{DB_URL, JWT_SECRET as SECRET};\n\
                  let a = settings::REDIS_URL; let b = spindle_api::settings::ADMIN_TOKEN;\n\
                  let c = mysettings::NOT_THIS; let d = settings::Lowercase;";
    let found: Vec<String> = settings_references(source).into_iter().collect();
    assert_eq!(found, ["ADMIN_TOKEN", "DB_URL", "JWT_SECRET", "REDIS_URL"]);
    assert_eq!(
        template_references("postgres://{{ db_host }}:{{port}}").unwrap(),
        ["db_host", "port"]
    );
    assert!(template_references("{{ Bad-Name }}").is_err());
    assert!(template_references("{{ open").is_err());
}

// ---------------------------------------------------------------------------
// (e) secrets
// ---------------------------------------------------------------------------

#[test]
fn secrets_are_secret_required_and_have_no_default() {
    let manifest = spin_toml();
    let declared = variables(&manifest);
    let mut problems = Vec::new();
    for name in spindle_api::settings::SECRETS {
        let Some(spec) = declared.get(*name).and_then(Value::as_table) else {
            problems.push(format!(
                "secret variable {name} is not declared in [variables]"
            ));
            continue;
        };
        if spec.get("secret").and_then(Value::as_bool) != Some(true) {
            problems.push(format!(
                "variable {name} holds a credential and must say secret = true"
            ));
        }
        if spindle_api::settings::OPTIONAL_SECRETS.contains(name) {
            // Optional: the empty default reads as unset, and nothing else may stand there.
            if spec.get("default").and_then(Value::as_str) != Some("") {
                problems.push(format!(
                    "optional secret {name} must default to \"\" (unset), never to a value"
                ));
            }
            continue;
        }
        if spec.get("required").and_then(Value::as_bool) != Some(true) {
            problems.push(format!("variable {name} must say required = true"));
        }
        if spec.contains_key("default") {
            problems.push(format!(
                "variable {name} has a default; a secret must come from the deployment, never from spin.toml"
            ));
        }
    }
    for name in spindle_api::settings::ALL {
        let has_default = declared
            .get(*name)
            .and_then(Value::as_table)
            .is_some_and(|spec| spec.contains_key("default"));
        if has_default && !MAY_HAVE_DEFAULT.contains(name) {
            problems.push(format!(
                "variable {name} has a default; only {MAY_HAVE_DEFAULT:?} may, the rest come from the deployment"
            ));
        }
    }
    assert_no_problems("spin.toml exposes or defaults secrets", problems);
}
