//! Checks `spinkube/` with the tools a cluster operator uses, then against
//! `spin.toml` and the project's own rules.
//!
//! Every overlay is rendered by `kubectl kustomize` (kustomize built in); the
//! built-in objects are validated by `kubernetes-validate` against the OpenAPI
//! schemas of Kubernetes [`KUBERNETES_VERSION`], strictly; SpinApps and
//! SpinAppExecutors against the CRDs of spin-operator v0.6.1 in
//! `../shared/schemas/spinkube/` with the `jsonschema` crate. Both tools come
//! from `bash scripts/tools/kube.sh` into the workspace's `target/tools/bin`,
//! the only place these tests look for them.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::{json, Value};
use toml::Table;

/// The Kubernetes release the built-in objects are validated against.
const KUBERNETES_VERSION: &str = "1.33.0";
/// The Secret every credential comes from (a generated one bears a hash suffix).
const SECRET_NAME: &str = "spindle-secrets";
const SPINKUBE_GROUP: &str = "core.spinkube.dev";
/// The label the operator puts on every pod of a SpinApp: its name.
const APP_NAME_LABEL: &str = "core.spinkube.dev/app-name";
/// The RuntimeClass of containerd-shim-spin.
const SHIM_RUNTIME_CLASS: &str = "wasmtime-spin-v2";
/// The command-triggered component the tick CronJob and the migration Job run.
const TICK: &str = "tick";
/// The trigger types the shim runs (containerd-shim-spin v0.24).
const SHIM_TRIGGERS: &[&str] = &["http", "redis", "mqtt", "sqs", "command"];

// ---------------------------------------------------------------------------
// Files and tools
// ---------------------------------------------------------------------------

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate sits in the workspace")
        .to_path_buf()
}

fn spinkube() -> PathBuf {
    root().join("spinkube")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()))
}

/// The workspace's target dir (CARGO_TARGET_DIR or target/): the parent of
/// the scratch dir cargo gives integration tests.
fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("CARGO_TARGET_TMPDIR lies in the target dir")
        .to_path_buf()
}

fn tool(name: &str) -> PathBuf {
    let path = target_dir().join("tools").join("bin").join(name);
    assert!(
        path.is_file(),
        "{} is missing: run `bash scripts/tools/kube.sh`",
        path.display()
    );
    path
}

/// Runs a tool with `input` on stdin: (succeeded, stdout, stderr).
fn run(mut command: Command, input: &str) -> (bool, String, String) {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|err| panic!("cannot start {command:?}: {err}"));
    child
        .stdin
        .take()
        .expect("a piped stdin")
        .write_all(input.as_bytes())
        .unwrap_or_else(|err| panic!("cannot write to {command:?}: {err}"));
    let output = child
        .wait_with_output()
        .unwrap_or_else(|err| panic!("{command:?} did not finish: {err}"));
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The documents of a YAML stream, as JSON values (empty documents dropped).
fn documents(text: &str, what: &str) -> Vec<Value> {
    serde_norway::Deserializer::from_str(text)
        .map(|doc| {
            Value::deserialize(doc).unwrap_or_else(|err| panic!("{what} is not valid YAML: {err}"))
        })
        .filter(|value| !value.is_null())
        .collect()
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to)
        .unwrap_or_else(|err| panic!("cannot create {}: {err}", to.display()));
    for entry in std::fs::read_dir(from)
        .unwrap_or_else(|err| panic!("cannot list {}: {err}", from.display()))
    {
        let path = entry.expect("a directory entry").path();
        let dest = to.join(path.file_name().expect("a file name"));
        if path.is_dir() {
            copy_tree(&path, &dest);
        } else {
            std::fs::copy(&path, &dest)
                .unwrap_or_else(|err| panic!("cannot copy {}: {err}", path.display()));
        }
    }
}

// ---------------------------------------------------------------------------
// Renderings
// ---------------------------------------------------------------------------

/// A rendered Kubernetes object.
#[derive(Debug)]
struct Object(Value);

impl Object {
    fn kind(&self) -> &str {
        self.0["kind"].as_str().unwrap_or("")
    }
    fn name(&self) -> &str {
        self.0["metadata"]["name"].as_str().unwrap_or("")
    }
    fn spec(&self) -> &Value {
        &self.0["spec"]
    }
    fn label(&self) -> String {
        format!("{} {}", self.kind(), self.name())
    }
    fn is_spinkube(&self) -> bool {
        self.0["apiVersion"]
            .as_str()
            .unwrap_or("")
            .split('/')
            .next()
            == Some(SPINKUBE_GROUP)
    }
}

/// One overlay rendered by `kubectl kustomize`.
struct Rendering {
    overlay: String,
    objects: Vec<Object>,
}

impl Rendering {
    fn of_kind(&self, kind: &str) -> Vec<&Object> {
        self.objects.iter().filter(|o| o.kind() == kind).collect()
    }
    fn spinapps(&self) -> Vec<&Object> {
        self.of_kind("SpinApp")
    }
    fn one(&self, kind: &str, name: &str) -> &Object {
        self.objects
            .iter()
            .find(|o| o.kind() == kind && o.name() == name)
            .unwrap_or_else(|| panic!("[{}] renders no {kind} {name}", self.overlay))
    }
    /// Every place the app runs: SpinApps, and the containers of Jobs and CronJobs.
    fn runners(&self) -> Vec<Runner<'_>> {
        let mut runners: Vec<Runner> = self
            .spinapps()
            .into_iter()
            .map(|app| Runner {
                what: format!("[{}] {}", self.overlay, app.label()),
                spinapp: Some(app),
                pod: None,
            })
            .collect();
        for object in &self.objects {
            if let Some(pod) = pod_spec(object) {
                if pod["runtimeClassName"] == SHIM_RUNTIME_CLASS {
                    runners.push(Runner {
                        what: format!("[{}] {}", self.overlay, object.label()),
                        spinapp: None,
                        pod: Some(pod),
                    });
                }
            }
        }
        runners
    }
}

fn pod_spec(object: &Object) -> Option<&Value> {
    match object.kind() {
        "Job" => Some(&object.spec()["template"]["spec"]),
        "CronJob" => Some(&object.spec()["jobTemplate"]["spec"]["template"]["spec"]),
        _ => None,
    }
}

fn container(pod: &Value) -> &Value {
    &pod["containers"][0]
}

fn env_value<'a>(container: &'a Value, name: &str) -> Option<&'a Value> {
    container["env"]
        .as_array()?
        .iter()
        .find(|e| e["name"] == name)
}

/// A process of the app: a SpinApp, or a Job/CronJob pod on the shim.
struct Runner<'a> {
    what: String,
    spinapp: Option<&'a Object>,
    pod: Option<&'a Value>,
}

impl Runner<'_> {
    /// The components it runs (`components`, or SPIN_COMPONENTS_TO_RETAIN).
    fn components(&self) -> Vec<String> {
        let list = match (self.spinapp, self.pod) {
            (Some(app), _) => app.spec()["components"]
                .as_array()
                .map(|c| {
                    c.iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(",")
                })
                .unwrap_or_default(),
            (None, Some(pod)) => env_value(container(pod), "SPIN_COMPONENTS_TO_RETAIN")
                .and_then(|e| e["value"].as_str())
                .unwrap_or_default()
                .to_owned(),
            (None, None) => String::new(),
        };
        list.split(',')
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// The Spin variables it sets: (lower-case name, the entry with value/valueFrom).
    fn variables(&self) -> Vec<(String, &Value)> {
        match (self.spinapp, self.pod) {
            (Some(app), _) => app.spec()["variables"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|v| (v["name"].as_str().unwrap_or("").to_owned(), v))
                .collect(),
            (None, Some(pod)) => container(pod)["env"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|e| {
                    let name = e["name"].as_str()?.strip_prefix("SPIN_VARIABLE_")?;
                    Some((name.to_ascii_lowercase(), e))
                })
                .collect(),
            (None, None) => Vec::new(),
        }
    }

    fn image(&self) -> &str {
        match (self.spinapp, self.pod) {
            (Some(app), _) => app.spec()["image"].as_str().unwrap_or(""),
            (None, Some(pod)) => container(pod)["image"].as_str().unwrap_or(""),
            (None, None) => "",
        }
    }
}

/// Renders every overlay once per test binary, from a copy of spinkube/ in
/// which each overlay's `.env` is its `.env.example`: the example must be
/// enough to render, and a developer's own `.env` never decides a result.
fn renderings() -> &'static [Rendering] {
    static RENDERINGS: OnceLock<Vec<Rendering>> = OnceLock::new();
    RENDERINGS.get_or_init(|| {
        let kubectl = tool("kubectl");
        let copy = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("spinkube-render-{}", std::process::id()));
        copy_tree(&spinkube(), &copy);
        let overlays_dir = copy.join("overlays");
        let mut overlays: Vec<PathBuf> = std::fs::read_dir(&overlays_dir)
            .expect("spinkube/overlays/ is listable")
            .map(|e| e.expect("a directory entry").path())
            .filter(|p| p.join("kustomization.yaml").is_file())
            .collect();
        overlays.sort();
        let mut renderings = Vec::new();
        for dir in &overlays {
            let example = dir.join(".env.example");
            if example.is_file() {
                std::fs::copy(&example, dir.join(".env")).expect("the copy is writable");
            }
            let overlay = dir
                .file_name()
                .expect("a name")
                .to_string_lossy()
                .into_owned();
            let mut command = Command::new(&kubectl);
            command.arg("kustomize").arg(dir);
            let (ok, output, errors) = run(command, "");
            assert!(
                ok,
                "`kubectl kustomize spinkube/overlays/{overlay}` fails:\n{errors}"
            );
            let objects = documents(&output, &overlay)
                .into_iter()
                .map(Object)
                .collect();
            renderings.push(Rendering { overlay, objects });
        }
        // Best effort: a leftover copy in target/ harms nothing.
        let _ = std::fs::remove_dir_all(&copy);
        let names: Vec<&str> = renderings.iter().map(|r| r.overlay.as_str()).collect();
        assert_eq!(
            names,
            ["local", "production"],
            "the overlays of spinkube/overlays/"
        );
        renderings
    })
}

fn production() -> &'static Rendering {
    renderings()
        .iter()
        .find(|r| r.overlay == "production")
        .expect("a production overlay")
}

/// Fails with every problem found, one per line.
fn assert_no_problems(what: &str, problems: Vec<String>) {
    assert!(
        problems.is_empty(),
        "{what}:\n  - {}",
        problems.join("\n  - ")
    );
}

// ---------------------------------------------------------------------------
// spin.toml
// ---------------------------------------------------------------------------

struct SpinToml(Table);

fn spin_toml() -> SpinToml {
    SpinToml(
        read(&root().join("spin.toml"))
            .parse::<Table>()
            .unwrap_or_else(|err| panic!("spin.toml is not valid TOML: {err}")),
    )
}

impl SpinToml {
    fn components(&self) -> BTreeSet<String> {
        self.0["component"]
            .as_table()
            .expect("spin.toml has [component.*] tables")
            .keys()
            .cloned()
            .collect()
    }

    /// component -> the trigger types that name it.
    fn triggers(&self) -> BTreeMap<String, BTreeSet<String>> {
        let mut types: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (kind, entries) in self.0["trigger"]
            .as_table()
            .expect("spin.toml has triggers")
        {
            for entry in entries.as_array().into_iter().flatten() {
                if let Some(component) = entry.get("component").and_then(toml::Value::as_str) {
                    types
                        .entry(component.to_owned())
                        .or_default()
                        .insert(kind.clone());
                }
            }
        }
        types
    }

    /// (route, component) of every HTTP trigger.
    fn http_routes(&self) -> Vec<(String, String)> {
        self.0["trigger"]["http"]
            .as_array()
            .expect("spin.toml has [[trigger.http]] entries")
            .iter()
            .filter_map(|t| {
                Some((
                    t.get("route")?.as_str()?.to_owned(),
                    t.get("component")?.as_str()?.to_owned(),
                ))
            })
            .collect()
    }

    /// name -> (required without a default, secret).
    fn variables(&self) -> BTreeMap<String, (bool, bool)> {
        self.0["variables"]
            .as_table()
            .expect("spin.toml has [variables]")
            .iter()
            .map(|(name, decl)| {
                let flag = |key: &str| {
                    decl.get(key)
                        .and_then(toml::Value::as_bool)
                        .unwrap_or(false)
                };
                (
                    name.clone(),
                    (
                        flag("required") && decl.get("default").is_none(),
                        flag("secret"),
                    ),
                )
            })
            .collect()
    }
}

// ---------------------------------------------------------------------------
// Schemas
// ---------------------------------------------------------------------------

#[test]
fn built_in_objects_pass_kubernetes_validate_strictly() {
    let validate = tool("kubernetes-validate");
    for rendering in renderings() {
        let built_in: Vec<String> = rendering
            .objects
            .iter()
            .filter(|o| !o.is_spinkube())
            .map(|o| o.0.to_string())
            .collect();
        let mut command = Command::new(&validate);
        command.args([
            "--kubernetes-version",
            KUBERNETES_VERSION,
            "--strict",
            "--quiet",
            "-",
        ]);
        let (ok, stdout, stderr) = run(command, &built_in.join("\n---\n"));
        let output = format!("{stdout}{stderr}");
        // An apiVersion or kind the release does not know is only a warning there.
        assert!(
            ok && !output.contains("WARN"),
            "[{}] kubernetes-validate (Kubernetes {KUBERNETES_VERSION}, strict) refuses:\n{output}",
            rendering.overlay
        );
    }
}

/// The CRDs' schemas by (apiVersion, kind), with unknown fields refused as the
/// API server's strict field validation (kubectl's default) does.
fn crd_validators() -> BTreeMap<(String, String), jsonschema::Validator> {
    let dir = root()
        .join("..")
        .join("shared")
        .join("schemas")
        .join("spinkube");
    let mut validators = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|err| {
        panic!(
            "the SpinKube CRDs are missing from {}: {err}",
            dir.display()
        )
    }) {
        let path = entry.expect("a directory entry").path();
        for crd in documents(&read(&path), &path.display().to_string()) {
            let group = crd["spec"]["group"].as_str().unwrap_or("");
            let kind = crd["spec"]["names"]["kind"].as_str().unwrap_or("");
            for version in crd["spec"]["versions"].as_array().into_iter().flatten() {
                let mut schema = version["schema"]["openAPIV3Schema"].clone();
                refuse_unknown_fields(&mut schema);
                let validator = jsonschema::draft4::new(&schema).unwrap_or_else(|err| {
                    panic!("{}: a schema that does not compile: {err}", path.display())
                });
                let api_version = format!("{group}/{}", version["name"].as_str().unwrap_or(""));
                validators.insert((api_version, kind.to_owned()), validator);
            }
        }
    }
    validators
}

/// Sets `additionalProperties: false` on every object schema that lists its
/// properties and does not preserve unknown fields.
fn refuse_unknown_fields(schema: &mut Value) {
    if let Some(map) = schema.as_object_mut() {
        if map.contains_key("properties")
            && !map.contains_key("additionalProperties")
            && map.get("x-kubernetes-preserve-unknown-fields") != Some(&json!(true))
        {
            map.insert("additionalProperties".into(), json!(false));
        }
        map.values_mut().for_each(refuse_unknown_fields);
    } else if let Some(items) = schema.as_array_mut() {
        items.iter_mut().for_each(refuse_unknown_fields);
    }
}

fn crd_problems(
    validators: &BTreeMap<(String, String), jsonschema::Validator>,
    object: &Value,
) -> Vec<String> {
    let key = (
        object["apiVersion"].as_str().unwrap_or("").to_owned(),
        object["kind"].as_str().unwrap_or("").to_owned(),
    );
    match validators.get(&key) {
        None => vec![format!("no CRD defines {} {}", key.0, key.1)],
        Some(validator) => validator
            .iter_errors(object)
            .map(|err| format!("at {}: {err}", err.instance_path()))
            .collect(),
    }
}

#[test]
fn spinkube_objects_match_the_crds() {
    let validators = crd_validators();
    let mut problems = Vec::new();
    for rendering in renderings() {
        for object in rendering.objects.iter().filter(|o| o.is_spinkube()) {
            for problem in crd_problems(&validators, &object.0) {
                problems.push(format!(
                    "[{}] {}: {problem}",
                    rendering.overlay,
                    object.label()
                ));
            }
        }
    }
    assert_no_problems("SpinKube objects do not match the CRDs", problems);
}

#[test]
fn the_crd_check_refuses_unknown_fields_wrong_types_and_missing_fields() {
    let validators = crd_validators();
    let good = json!({
        "apiVersion": "core.spinkube.dev/v1alpha1",
        "kind": "SpinApp",
        "metadata": { "name": "probe" },
        "spec": { "image": "ghcr.io/spindle/spindle:1", "executor": "containerd-shim-spin", "replicas": 1,
                  "variables": [{ "name": "db_url", "valueFrom": { "secretKeyRef": { "name": "s", "key": "k" } } }] }
    });
    assert_no_problems(
        "a valid SpinApp is refused",
        crd_problems(&validators, &good),
    );
    for (what, pointer, value) in [
        ("an unknown field", "/spec/replica", Some(json!(2))),
        (
            "an unknown nested field",
            "/spec/variables/0/valueFrom/secretRef",
            Some(json!({})),
        ),
        (
            "a string for an integer",
            "/spec/replicas",
            Some(json!("2")),
        ),
        ("a missing required field", "/spec/image", None),
    ] {
        let mut doc = good.clone();
        let (parent, last) = pointer.rsplit_once('/').expect("a pointer");
        let map = doc
            .pointer_mut(parent)
            .and_then(Value::as_object_mut)
            .expect("an object");
        match value {
            Some(value) => map.insert(last.to_owned(), value),
            None => map.remove(last),
        };
        assert!(
            !crd_problems(&validators, &doc).is_empty(),
            "the CRD check accepts {what}"
        );
    }
}

// ---------------------------------------------------------------------------
// Components and variables
// ---------------------------------------------------------------------------

#[test]
fn every_component_run_exists_in_spin_toml() {
    let declared = spin_toml().components();
    let mut problems = Vec::new();
    for rendering in renderings() {
        for runner in rendering.runners() {
            let components = runner.components();
            // Without a list the shim runs every component, the cron one included.
            if components.is_empty() {
                problems.push(format!("{} names no components", runner.what));
            }
            for component in components.iter().filter(|c| !declared.contains(*c)) {
                problems.push(format!(
                    "{} runs {component:?}, which spin.toml does not declare",
                    runner.what
                ));
            }
        }
    }
    assert_no_problems("components that do not exist", problems);
}

#[test]
fn each_http_or_redis_component_runs_in_one_spinapp_and_cron_nowhere() {
    let manifest = spin_toml();
    let triggers = manifest.triggers();
    let mut problems = Vec::new();
    for rendering in renderings() {
        let mut spinapps_of: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut jobs_of: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for runner in rendering.runners() {
            let runs = if runner.spinapp.is_some() {
                &mut spinapps_of
            } else {
                &mut jobs_of
            };
            for component in runner.components() {
                runs.entry(component).or_default().push(runner.what.clone());
            }
        }
        for component in manifest.components() {
            let kinds = triggers.get(&component).cloned().unwrap_or_default();
            let where_ = |map: &BTreeMap<String, Vec<String>>| {
                map.get(&component).cloned().unwrap_or_default()
            };
            let (apps, jobs) = (where_(&spinapps_of), where_(&jobs_of));
            let overlay = &rendering.overlay;
            if !kinds.iter().all(|k| SHIM_TRIGGERS.contains(&k.as_str())) {
                if !apps.is_empty() || !jobs.is_empty() {
                    problems.push(format!("[{overlay}] {component} has triggers {kinds:?} the shim cannot run, yet runs in {apps:?} {jobs:?}"));
                }
            } else if kinds.contains("command") {
                // A SpinApp would restart a command that exits, forever.
                if !apps.is_empty() || jobs.is_empty() {
                    problems.push(format!("[{overlay}] {component} is command-triggered: it belongs to Jobs only, found SpinApps {apps:?} and Jobs {jobs:?}"));
                }
            } else if apps.len() != 1 {
                problems.push(format!(
                    "[{overlay}] {component} should run in exactly one SpinApp, found {apps:?}"
                ));
            }
        }
    }
    assert_no_problems("components are not deployed as they should be", problems);
}

#[test]
fn every_required_variable_is_set_wherever_the_app_runs() {
    // Spin checks at start that every required variable of the app has a value,
    // whichever components the process keeps.
    let declared = spin_toml().variables();
    let mut problems = Vec::new();
    for rendering in renderings() {
        for runner in rendering.runners() {
            let mut seen = BTreeSet::new();
            for (name, entry) in runner.variables() {
                if !seen.insert(name.clone()) {
                    problems.push(format!("{} sets {name} twice", runner.what));
                }
                if !declared.contains_key(&name) {
                    problems.push(format!(
                        "{} sets {name}, which spin.toml [variables] does not declare",
                        runner.what
                    ));
                }
                if entry.get("value").is_some() == entry.get("valueFrom").is_some() {
                    problems.push(format!(
                        "{} {name}: needs exactly one of value or valueFrom",
                        runner.what
                    ));
                }
            }
            for (name, _) in declared.iter().filter(|(_, (required, _))| *required) {
                if !seen.contains(name) {
                    problems.push(format!(
                        "{} does not set the required variable {name}",
                        runner.what
                    ));
                }
            }
        }
    }
    assert_no_problems("variables do not match spin.toml", problems);
}

/// Credentials: `secret = true` in spin.toml, and what the API's settings call one.
fn credential_names() -> BTreeSet<String> {
    spin_toml()
        .variables()
        .into_iter()
        .filter(|(_, (_, secret))| *secret)
        .map(|(name, _)| name)
        .chain(
            spindle_api::settings::SECRETS
                .iter()
                .map(|s| (*s).to_owned()),
        )
        .collect()
}

#[test]
fn credentials_come_only_from_the_secret() {
    let credentials = credential_names();
    let mut problems = Vec::new();
    for rendering in renderings() {
        let generated: BTreeSet<&str> = rendering
            .of_kind("Secret")
            .iter()
            .map(|s| s.name())
            .collect();
        for runner in rendering.runners() {
            for (name, entry) in runner
                .variables()
                .into_iter()
                .filter(|(n, _)| credentials.contains(n))
            {
                let what = format!("{} {name}", runner.what);
                let reference = &entry["valueFrom"]["secretKeyRef"];
                let secret = reference["name"].as_str().unwrap_or("");
                // Either the Secret made outside git, or the one an overlay generates.
                let known = secret == SECRET_NAME
                    || (secret.starts_with(&format!("{SECRET_NAME}-"))
                        && generated.contains(secret));
                if entry.get("value").is_some() || !known {
                    problems.push(format!(
                        "{what}: must come from a secretKeyRef to {SECRET_NAME}, found {entry}"
                    ));
                }
                if known && reference["key"] != name.as_str() {
                    problems.push(format!(
                        "{what}: reads key {}, expected {name}",
                        reference["key"]
                    ));
                }
                let may_be_left_out =
                    spindle_api::settings::OPTIONAL_SECRETS.contains(&name.as_str());
                if reference["optional"] == json!(true) && !may_be_left_out {
                    problems.push(format!(
                        "{what}: a required credential must not be optional"
                    ));
                }
            }
        }
    }
    assert_no_problems("credentials are not taken from the Secret", problems);
}

#[test]
fn the_secret_examples_show_every_credential_and_no_real_value() {
    let credentials: BTreeSet<String> = spindle_api::settings::SECRETS
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    let example = documents(
        &read(&spinkube().join("base/secret.example.yaml")),
        "secret.example.yaml",
    );
    assert_eq!(
        example.len(),
        1,
        "base/secret.example.yaml holds one Secret"
    );
    let data = example[0]["stringData"]
        .as_object()
        .expect("the example Secret has stringData");
    assert_eq!(
        data.keys().cloned().collect::<BTreeSet<_>>(),
        credentials,
        "base/secret.example.yaml keys"
    );
    for (key, value) in data {
        assert_eq!(
            value, "change-me",
            "base/secret.example.yaml: {key} must hold the placeholder"
        );
    }
    let base = documents(
        &read(&spinkube().join("base/kustomization.yaml")),
        "base/kustomization.yaml",
    );
    assert!(
        !base[0]["resources"]
            .as_array()
            .is_some_and(|r| r.contains(&json!("secret.example.yaml"))),
        "base/secret.example.yaml must never be applied"
    );

    let env = read(&spinkube().join("overlays/local/.env.example"));
    let keys: BTreeSet<String> = env
        .lines()
        .filter(|l| !l.trim_start().starts_with('#') && l.contains('='))
        .filter_map(|l| l.split_once('=').map(|(k, _)| k.trim().to_owned()))
        .collect();
    assert_eq!(keys, credentials, "overlays/local/.env.example keys");
}

// ---------------------------------------------------------------------------
// Deployment rules
// ---------------------------------------------------------------------------

/// Whether a label selector (matchLabels, matchExpressions In/NotIn/Exists)
/// selects pods with these labels.
fn selects(selector: &Value, labels: &BTreeMap<String, String>) -> bool {
    let by_label = selector["matchLabels"]
        .as_object()
        .into_iter()
        .flatten()
        .all(|(k, v)| labels.get(k).map(String::as_str) == v.as_str());
    let by_expression = selector["matchExpressions"]
        .as_array()
        .into_iter()
        .flatten()
        .all(|e| {
            let value = labels.get(e["key"].as_str().unwrap_or(""));
            let values: Vec<&str> = e["values"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            match e["operator"].as_str() {
                Some("In") => value.is_some_and(|v| values.contains(&v.as_str())),
                Some("NotIn") => !value.is_some_and(|v| values.contains(&v.as_str())),
                Some("Exists") => value.is_some(),
                Some("DoesNotExist") => value.is_none(),
                _ => false,
            }
        });
    by_label && by_expression
}

/// The labels of a SpinApp's pods: its podLabels and the operator's name label.
fn pod_labels(app: &Object) -> BTreeMap<String, String> {
    let mut labels: BTreeMap<String, String> = app.spec()["podLabels"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_owned()))
        .collect();
    labels.insert(APP_NAME_LABEL.to_owned(), app.name().to_owned());
    labels
}

/// The SpinApps that serve HTTP routes: name -> the routes of their components.
fn http_spinapps(rendering: &Rendering) -> BTreeMap<String, Vec<String>> {
    let routes = spin_toml().http_routes();
    rendering
        .runners()
        .iter()
        .filter_map(|r| {
            let components = r.components();
            let served: Vec<String> = routes
                .iter()
                .filter(|(_, c)| components.contains(c))
                .map(|(route, _)| route.clone())
                .collect();
            Some((r.spinapp?.name().to_owned(), served))
        })
        .filter(|(_, served)| !served.is_empty())
        .collect()
}

/// Whether an Ingress path reaches some path a Spin route serves. Spin's `/...`
/// tail matches anything below; `:param` segments match any one segment.
fn ingress_reaches(path: &str, path_type: &str, route: &str) -> bool {
    let (route_base, wildcard) = match route.strip_suffix("/...") {
        Some(base) => (base, true),
        None => (route, false),
    };
    let segments = |p: &str| -> Vec<String> {
        p.split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let (ingress, spin) = (segments(path), segments(route_base));
    let same =
        |a: &[String], b: &[String]| a.iter().zip(b).all(|(x, y)| x == y || y.starts_with(':'));
    match path_type {
        "Exact" => {
            ingress.len() >= spin.len()
                && same(&ingress, &spin)
                && (wildcard || ingress.len() == spin.len())
        }
        // Prefix: the Ingress path is a prefix of the route, or lies below a wildcard route.
        _ => {
            (ingress.len() <= spin.len() && same(&ingress, &spin[..ingress.len()]))
                || (wildcard && ingress.len() > spin.len() && same(&ingress[..spin.len()], &spin))
        }
    }
}

#[test]
fn the_ingress_serves_the_public_api_and_never_ops() {
    let routes = spin_toml().http_routes();
    let mut problems = Vec::new();
    for rendering in renderings() {
        let overlay = &rendering.overlay;
        let http_apps = http_spinapps(rendering);
        let mut reached = BTreeSet::new();
        for ingress in rendering.of_kind("Ingress") {
            let what = format!("[{overlay}] {}", ingress.label());
            for rule in ingress.spec()["rules"].as_array().into_iter().flatten() {
                for path in rule["http"]["paths"].as_array().into_iter().flatten() {
                    let p = path["path"].as_str().unwrap_or("");
                    let service = &path["backend"]["service"];
                    let name = service["name"].as_str().unwrap_or("");
                    // The Service the operator makes bears the SpinApp's name, port 80.
                    let Some(served) = http_apps.get(name) else {
                        problems.push(format!(
                            "{what} sends {p} to {name}, which is no HTTP SpinApp"
                        ));
                        continue;
                    };
                    if served
                        .iter()
                        .any(|r| routes.contains(&(r.clone(), "ops".to_owned())))
                    {
                        problems.push(format!("{what} sends {p} to {name}, the SpinApp of ops"));
                    }
                    if service["port"]["number"] != 80 {
                        problems.push(format!(
                            "{what} {p}: the operator's Service {name} listens on port 80"
                        ));
                    }
                    for (route, component) in &routes {
                        if !served.contains(route)
                            || !ingress_reaches(p, path["pathType"].as_str().unwrap_or(""), route)
                        {
                            continue;
                        }
                        if component == "ops" {
                            problems.push(format!("{what} {p} reaches the ops route {route}"));
                        }
                        reached.insert(route.clone());
                    }
                }
            }
        }
        for (route, component) in routes.iter().filter(|(_, c)| c != "ops") {
            if !reached.contains(route) {
                problems.push(format!(
                    "[{overlay}] the public route {route} ({component}) is not behind the Ingress"
                ));
            }
        }
    }
    assert_no_problems("the Ingress is wrong", problems);
}

#[test]
fn every_spinapp_has_resources_fitting_checks_and_a_pdb() {
    let mut problems = Vec::new();
    for rendering in renderings() {
        let overlay = &rendering.overlay;
        let http_apps = http_spinapps(rendering);
        let pdbs = rendering.of_kind("PodDisruptionBudget");
        for app in rendering.spinapps() {
            let what = format!("[{overlay}] {}", app.label());
            let resources = &app.spec()["resources"];
            for (field, value) in [
                ("requests.cpu", &resources["requests"]["cpu"]),
                ("requests.memory", &resources["requests"]["memory"]),
                ("limits.memory", &resources["limits"]["memory"]),
            ] {
                if value.is_null() {
                    problems.push(format!("{what}: no resources.{field}"));
                }
            }
            let checks = &app.spec()["checks"];
            match http_apps.get(app.name()) {
                // The probe must hit a route one of its own components serves.
                Some(served) => {
                    for probe in ["readiness", "liveness"] {
                        let path = checks[probe]["httpGet"]["path"].as_str().unwrap_or("");
                        if !served
                            .iter()
                            .any(|route| ingress_reaches(path, "Exact", route))
                        {
                            problems.push(format!("{what}: {probe} probes {path:?}, which none of its components serves"));
                        }
                    }
                }
                // The operator only knows httpGet on port 80, where nothing listens.
                None if !checks.is_null() => {
                    problems.push(format!("{what}: serves no HTTP, so it cannot have checks"))
                }
                None => {}
            }
            let labels = pod_labels(app);
            if !pdbs.iter().any(|p| {
                selects(&p.spec()["selector"], &labels)
                    && p.spec()["minAvailable"].as_i64().unwrap_or(0) >= 1
            }) {
                problems.push(format!("{what}: no PodDisruptionBudget keeps one pod up"));
            }
        }
    }
    assert_no_problems(
        "SpinApps lack resources, checks or disruption budgets",
        problems,
    );
}

#[test]
fn production_runs_two_pods_of_every_spinapp_at_least() {
    let rendering = production();
    let mut problems = Vec::new();
    for app in rendering.spinapps() {
        let replicas = if app.spec()["enableAutoscaling"] == json!(true) {
            rendering
                .of_kind("HorizontalPodAutoscaler")
                .into_iter()
                .find(|h| h.spec()["scaleTargetRef"]["name"] == app.name())
                .and_then(|h| h.spec()["minReplicas"].as_i64())
        } else {
            app.spec()["replicas"].as_i64()
        };
        if replicas.unwrap_or(0) < 2 {
            problems.push(format!(
                "{}: {replicas:?} replicas; a PDB with one pod blocks every drain",
                app.label()
            ));
        }
    }
    assert_no_problems("production SpinApps are single points of failure", problems);
}

fn check_shim_pod(rendering: &Rendering, object: &Object, mode: &str, problems: &mut Vec<String>) {
    let what = format!("[{}] {}", rendering.overlay, object.label());
    let pod = pod_spec(object).expect("a Job or CronJob");
    let container = container(pod);
    let app_images: BTreeSet<&str> = rendering
        .spinapps()
        .iter()
        .map(|a| a.spec()["image"].as_str().unwrap_or(""))
        .collect();
    let env = |name: &str| env_value(container, name).and_then(|e| e["value"].as_str());
    let expectations = [
        (
            "runtimeClassName",
            pod["runtimeClassName"] == SHIM_RUNTIME_CLASS,
        ),
        (
            "command [\"/\"] (the shim runs the app, not a binary)",
            container["command"] == json!(["/"]),
        ),
        (
            "the app image of the SpinApps",
            app_images.len() == 1 && app_images.contains(container["image"].as_str().unwrap_or("")),
        ),
        (
            "SPIN_COMPONENTS_TO_RETAIN=tick",
            env("SPIN_COMPONENTS_TO_RETAIN") == Some(TICK),
        ),
        (
            "SPIN_VARIABLE_TICK_MODE",
            env("SPIN_VARIABLE_TICK_MODE") == Some(mode),
        ),
        ("restartPolicy Never", pod["restartPolicy"] == "Never"),
    ];
    for (expected, ok) in expectations {
        if !ok {
            problems.push(format!("{what}: expected {expected} ({mode})"));
        }
    }
}

#[test]
fn the_tick_cronjob_runs_the_tick_component_on_the_shim_every_minute() {
    let triggers = spin_toml().triggers();
    assert!(
        triggers.get(TICK).is_some_and(|t| t.contains("command")),
        "spin.toml: expected a command-triggered component {TICK:?}"
    );
    let mut problems = Vec::new();
    for rendering in renderings() {
        let cronjobs = rendering.of_kind("CronJob");
        assert_eq!(
            cronjobs.len(),
            1,
            "[{}] one CronJob, the tick",
            rendering.overlay
        );
        let cronjob = cronjobs[0];
        check_shim_pod(rendering, cronjob, "loop", &mut problems);
        let spec = cronjob.spec();
        let job = &spec["jobTemplate"]["spec"];
        let what = format!("[{}] {}", rendering.overlay, cronjob.label());
        if spec["schedule"] != "* * * * *" {
            problems.push(format!(
                "{what}: schedule {}, expected every minute",
                spec["schedule"]
            ));
        }
        if spec["concurrencyPolicy"] != "Forbid" {
            problems.push(format!("{what}: concurrencyPolicy should be Forbid"));
        }
        // A loop lasts about 55 s: just over a minute lets it finish, never two periods.
        if !job["activeDeadlineSeconds"]
            .as_i64()
            .is_some_and(|s| (61..=90).contains(&s))
        {
            problems.push(format!(
                "{what}: activeDeadlineSeconds {} should be just over 60",
                job["activeDeadlineSeconds"]
            ));
        }
        if job["backoffLimit"] != 0 {
            problems.push(format!(
                "{what}: backoffLimit should be 0, the next minute retries"
            ));
        }
    }
    assert_no_problems("the tick CronJob is wrong", problems);
}

#[test]
fn the_migration_job_runs_the_tick_component_in_migrate_mode() {
    let mut problems = Vec::new();
    for rendering in renderings() {
        check_shim_pod(
            rendering,
            rendering.one("Job", "spindle-migrate"),
            "migrate",
            &mut problems,
        );
    }
    assert_no_problems("the migration Job is wrong", problems);
}

#[test]
fn prometheus_scrapes_ops_through_a_service_with_a_port_named_http() {
    for rendering in renderings() {
        let overlay = &rendering.overlay;
        let services: Vec<&Object> = rendering
            .of_kind("Service")
            .into_iter()
            .filter(|s| {
                let labels = &s.0["metadata"]["labels"];
                labels["app.kubernetes.io/part-of"] == "spindle"
                    && labels["app.kubernetes.io/component"] == "ops"
            })
            .collect();
        assert_eq!(
            services.len(),
            1,
            "[{overlay}] one Service labelled part-of spindle, component ops"
        );
        let spec = services[0].spec();
        let ops_app = rendering.one("SpinApp", "spindle-ops");
        assert!(
            selects(
                &json!({ "matchLabels": spec["selector"] }),
                &pod_labels(ops_app)
            ),
            "[{overlay}] the ops Service selects the pods of spindle-ops"
        );
        assert_eq!(
            spec["ports"],
            json!([{ "name": "http", "port": 80, "targetPort": "http-app" }]),
            "[{overlay}] the ops Service: one port named http to the operator's container port http-app"
        );
    }
}

/// The peers of every ingress rule of the NetworkPolicies that apply to these pods.
fn ingress_peers<'a>(
    rendering: &'a Rendering,
    labels: &BTreeMap<String, String>,
) -> Vec<&'a Value> {
    rendering
        .of_kind("NetworkPolicy")
        .into_iter()
        .filter(|p| selects(&p.spec()["podSelector"], labels))
        .flat_map(|p| p.spec()["ingress"].as_array().into_iter().flatten())
        .flat_map(|rule| rule["from"].as_array().into_iter().flatten())
        .collect()
}

#[test]
fn network_policies_deny_by_default_and_let_only_tick_migration_and_prometheus_reach_ops() {
    for rendering in renderings() {
        let overlay = &rendering.overlay;
        let policies = rendering.of_kind("NetworkPolicy");
        assert!(
            policies.iter().any(|p| p.spec()["podSelector"] == json!({})
                && p.spec()["policyTypes"] == json!(["Ingress", "Egress"])
                && p.spec()["ingress"].is_null()
                && p.spec()["egress"].is_null()),
            "[{overlay}] no NetworkPolicy denies everything by default"
        );
        let ops = pod_labels(rendering.one("SpinApp", "spindle-ops"));
        let peers = ingress_peers(rendering, &ops);
        let label = |component: &str| json!({ "podSelector": { "matchLabels": { "app.kubernetes.io/component": component } } });
        assert_eq!(
            peers.len(),
            3,
            "[{overlay}] ops admits exactly three peers: {peers:?}"
        );
        for expected in [label("tick"), label("migrate")] {
            assert!(
                peers.contains(&&expected),
                "[{overlay}] ops does not admit {expected}"
            );
        }
        assert!(
            peers.iter().any(|p| p["namespaceSelector"]["matchLabels"]
                ["kubernetes.io/metadata.name"]
                .is_string()
                && p["podSelector"].is_null()),
            "[{overlay}] ops does not admit Prometheus's namespace"
        );
        for (what, labels) in [
            (
                "the tick",
                &rendering.one("CronJob", "spindle-tick").spec()["jobTemplate"]["spec"]["template"]
                    ["metadata"]["labels"],
            ),
            (
                "the migration",
                &rendering.one("Job", "spindle-migrate").spec()["template"]["metadata"]["labels"],
            ),
        ] {
            let labels: BTreeMap<String, String> =
                serde_json::from_value(labels.clone()).expect("string labels");
            assert!(
                peers.iter().any(
                    |p| p["namespaceSelector"].is_null() && selects(&p["podSelector"], &labels)
                ),
                "[{overlay}] the pods of {what} do not carry the label ops admits"
            );
        }
    }
}

#[test]
fn the_notifier_reaches_the_internet_but_no_private_range() {
    const PRIVATE: &[&str] = &[
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "169.254.0.0/16",
        "127.0.0.0/8",
        "100.64.0.0/10",
    ];
    for rendering in renderings() {
        let overlay = &rendering.overlay;
        let notifier = pod_labels(rendering.one("SpinApp", "spindle-notifier"));
        let rules: Vec<&Value> = rendering
            .of_kind("NetworkPolicy")
            .into_iter()
            .filter(|p| selects(&p.spec()["podSelector"], &notifier))
            .flat_map(|p| p.spec()["egress"].as_array().into_iter().flatten())
            .collect();
        let mut internet = false;
        for rule in rules.iter().filter(|r| r["ports"].is_null()) {
            for peer in rule["to"].as_array().into_iter().flatten() {
                let block = &peer["ipBlock"];
                assert!(
                    block.is_object(),
                    "[{overlay}] the notifier may reach {peer} on every port"
                );
                if block["cidr"] == "0.0.0.0/0" {
                    let except: Vec<&str> = block["except"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                        .collect();
                    for range in PRIVATE {
                        assert!(
                            except.contains(range),
                            "[{overlay}] the notifier may reach {range}"
                        );
                    }
                    internet = true;
                }
            }
        }
        assert!(
            internet,
            "[{overlay}] the notifier cannot reach the internet (webhooks, push)"
        );
    }
}

#[test]
fn db_host_and_the_local_urls_go_through_pgbouncer() {
    for rendering in renderings() {
        let overlay = &rendering.overlay;
        let settings = rendering
            .of_kind("ConfigMap")
            .into_iter()
            .find(|c| c.name().starts_with("spindle-settings"))
            .unwrap_or_else(|| panic!("[{overlay}] renders no spindle-settings ConfigMap"));
        let pgbouncer = rendering.one("Service", "spindle-pgbouncer");
        let port = &pgbouncer.spec()["ports"][0]["port"];
        assert_eq!(
            settings.0["data"]["db_host"].as_str().unwrap_or(""),
            format!("spindle-pgbouncer:{port}"),
            "[{overlay}] db_host should name PgBouncer"
        );
    }
    let env = read(&spinkube().join("overlays/local/.env.example"));
    let db_url = env
        .lines()
        .find_map(|l| l.strip_prefix("db_url="))
        .expect("db_url in .env.example");
    assert!(
        db_url.contains("@spindle-pgbouncer:6432/"),
        "overlays/local/.env.example: db_url {db_url} should go through PgBouncer"
    );
}

#[test]
fn production_pins_the_image_autoscales_the_api_and_exports_telemetry() {
    let rendering = production();
    let mut problems = Vec::new();
    for runner in rendering.runners() {
        let image = runner.image();
        if image.ends_with(":latest") || !(image.contains(':') || image.contains('@')) {
            problems.push(format!("{}: image {image:?} is not pinned", runner.what));
        }
    }
    let api = rendering.one("SpinApp", "spindle-api").spec();
    if api["enableAutoscaling"] != json!(true) || api.get("replicas").is_some() {
        problems.push("spindle-api: enableAutoscaling without replicas".to_owned());
    }
    let hpa = rendering
        .one("HorizontalPodAutoscaler", "spindle-api")
        .spec();
    if hpa["scaleTargetRef"]
        != json!({ "apiVersion": "apps/v1", "kind": "Deployment", "name": "spindle-api" })
    {
        problems.push(format!(
            "the HPA should scale the operator's Deployment spindle-api, not {}",
            hpa["scaleTargetRef"]
        ));
    }
    let otel = &rendering
        .one("SpinAppExecutor", "containerd-shim-spin")
        .spec()["deploymentConfig"]["otel"];
    let endpoint = otel["exporter_otlp_endpoint"].as_str().unwrap_or("");
    if endpoint.is_empty() {
        problems
            .push("the SpinAppExecutor exports no telemetry (deploymentConfig.otel)".to_owned());
    }
    for runner in rendering.runners().iter().filter(|r| r.pod.is_some()) {
        let set = runner
            .pod
            .and_then(|p| env_value(container(p), "OTEL_EXPORTER_OTLP_ENDPOINT"))
            .map(|e| &e["value"]);
        if set != Some(&json!(endpoint)) {
            problems.push(format!(
                "{}: OTEL_EXPORTER_OTLP_ENDPOINT should be the executor's {endpoint}",
                runner.what
            ));
        }
    }
    let ingress = rendering.one("Ingress", "spindle").spec();
    if ingress["tls"].as_array().is_none_or(Vec::is_empty) || ingress["rules"][0]["host"].is_null()
    {
        problems.push("the Ingress has no host or no TLS".to_owned());
    }
    for object in &rendering.objects {
        if object.0["metadata"]["namespace"] != "spindle" {
            problems.push(format!("{} is not in namespace spindle", object.label()));
        }
    }
    assert_no_problems("the production overlay is wrong", problems);
}

#[test]
fn every_manifest_file_is_used_by_its_kustomization() {
    // kustomize ignores a file no kustomization names: it would silently not deploy.
    let mut problems = Vec::new();
    let dirs = [
        spinkube().join("base"),
        spinkube().join("overlays/local"),
        spinkube().join("overlays/production"),
    ];
    for dir in dirs {
        let kustomization = read(&dir.join("kustomization.yaml"));
        let named: BTreeSet<String> = documents(&kustomization, "a kustomization")
            .iter()
            .flat_map(|k| {
                let lists = [&k["resources"], &k["configurations"], &k["patches"]];
                lists
                    .into_iter()
                    .flat_map(|l| l.as_array().cloned().unwrap_or_default())
            })
            .filter_map(|entry| entry.as_str().or(entry["path"].as_str()).map(str::to_owned))
            .collect();
        for entry in std::fs::read_dir(&dir)
            .unwrap_or_else(|err| panic!("cannot list {}: {err}", dir.display()))
        {
            let file = entry
                .expect("a directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned();
            let is_manifest = file.ends_with(".yaml") && file != "kustomization.yaml";
            if is_manifest && file != "secret.example.yaml" && !named.contains(&file) {
                problems.push(format!(
                    "{}/{file} is named by no entry of its kustomization.yaml",
                    dir.display()
                ));
            }
        }
    }
    assert_no_problems("manifests that are never deployed", problems);
}

#[test]
fn the_executor_and_the_settings_are_applied_before_what_needs_them() {
    // kubectl applies in the rendered order; the operator's admission webhook
    // refuses a SpinApp whose executor does not exist yet.
    for rendering in renderings() {
        let position = |kind: &str, first: bool| {
            let mut found = rendering
                .objects
                .iter()
                .enumerate()
                .filter(|(_, o)| o.kind() == kind);
            let hit = if first {
                found.next()
            } else {
                found.next_back()
            };
            hit.map(|(i, _)| i)
                .unwrap_or_else(|| panic!("[{}] renders no {kind}", rendering.overlay))
        };
        let ready = position("SpinAppExecutor", false).max(position("ConfigMap", false));
        for kind in ["SpinApp", "Job", "CronJob"] {
            assert!(
                ready < position(kind, true),
                "[{}] a {kind} comes before the SpinAppExecutor or a ConfigMap: see sortOptions",
                rendering.overlay
            );
        }
    }
}
