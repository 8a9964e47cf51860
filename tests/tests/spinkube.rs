//! Checks `spinkube/` against the SpinKube CRDs and `spin.toml`: every manifest
//! parses, every SpinApp matches the CRD schema of spin-operator v0.6.1 (base and
//! rendered overlays), the SpinApps together deploy every component the shim can
//! run, each sets every variable the app needs with secrets taken from a Secret,
//! and the relay CronJob calls `/internal/tick` with the internal token.
//!
//! The CRDs live outside the repository, in `../shared/schemas/spinkube/`
//! relative to the repository root; the schema tests fail when they are missing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use regex::Regex;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use toml::Table;

/// The Secret every credential comes from.
const SECRET_NAME: &str = "spindle-secrets";
/// The example of that Secret: kept out of every kustomization.
const SECRET_EXAMPLE: &str = "secret.example.yaml";
const SPINKUBE_GROUP: &str = "core.spinkube.dev";

// ---------------------------------------------------------------------------
// Files
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

fn schemas_dir() -> PathBuf {
    root()
        .join("..")
        .join("shared")
        .join("schemas")
        .join("spinkube")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()))
}

fn relative(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Every `.yaml`/`.yml` file under `dir`, sorted.
fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)
            .unwrap_or_else(|err| panic!("cannot list {}: {err}", dir.display()))
        {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("yaml" | "yml")
            ) {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The documents of a YAML file, as JSON values (empty documents dropped).
fn try_documents(text: &str) -> Result<Vec<Value>, String> {
    let mut docs = Vec::new();
    for doc in serde_norway::Deserializer::from_str(text) {
        let value = Value::deserialize(doc).map_err(|err| err.to_string())?;
        if !value.is_null() {
            docs.push(value);
        }
    }
    Ok(docs)
}

fn documents(path: &Path) -> Vec<Value> {
    try_documents(&read(path))
        .unwrap_or_else(|err| panic!("{} is not valid YAML: {err}", relative(path)))
}

fn single_document(path: &Path) -> Value {
    let mut docs = documents(path);
    assert_eq!(
        docs.len(),
        1,
        "{} should hold exactly one document",
        relative(path)
    );
    docs.remove(0)
}

/// A Kubernetes object found in a file.
#[derive(Clone, Debug)]
struct Object {
    file: String,
    value: Value,
}

impl Object {
    fn kind(&self) -> &str {
        self.value["kind"].as_str().unwrap_or("")
    }
    fn api_version(&self) -> &str {
        self.value["apiVersion"].as_str().unwrap_or("")
    }
    fn name(&self) -> &str {
        self.value["metadata"]["name"].as_str().unwrap_or("")
    }
    fn label(&self) -> String {
        format!("{} {} ({})", self.kind(), self.name(), self.file)
    }
    fn is_spinkube(&self) -> bool {
        self.api_version().split('/').next() == Some(SPINKUBE_GROUP)
    }
}

/// Every Kubernetes object (a document with `apiVersion` and `kind`) under spinkube/.
fn objects_in_tree() -> Vec<Object> {
    yaml_files(&spinkube())
        .iter()
        .flat_map(|path| {
            documents(path).into_iter().filter_map(move |value| {
                let is_object = value.get("apiVersion").is_some() && value.get("kind").is_some();
                is_object.then(|| Object {
                    file: relative(path),
                    value,
                })
            })
        })
        .collect()
}

fn is_kustomization(object: &Object) -> bool {
    object.kind() == "Kustomization" && object.api_version().starts_with("kustomize.config.k8s.io/")
}

/// The objects the base deploys, as written.
fn base_objects() -> Vec<Object> {
    render(&spinkube().join("base"))
}

/// Every overlay directory under spinkube/overlays/.
fn overlays() -> Vec<PathBuf> {
    let dir = spinkube().join("overlays");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|err| panic!("cannot list {}: {err}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.join("kustomization.yaml").is_file())
        .collect();
    dirs.sort();
    assert!(!dirs.is_empty(), "spinkube/overlays/ holds no overlay");
    dirs
}

/// The base and every overlay, rendered: (name, objects).
fn every_rendering() -> Vec<(String, Vec<Object>)> {
    let mut all = vec![("base".to_owned(), base_objects())];
    for overlay in overlays() {
        all.push((relative(&overlay), render(&overlay)));
    }
    all
}

fn spinapps(objects: &[Object]) -> Vec<&Object> {
    objects.iter().filter(|o| o.kind() == "SpinApp").collect()
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
// A small kustomize: resources, namespace, images (with `configurations`)
// and JSON 6902 patches -- the features the layout uses, and nothing else.
// ---------------------------------------------------------------------------

const KUSTOMIZATION_KEYS: &[&str] = &[
    "apiVersion",
    "kind",
    "resources",
    "configurations",
    "namespace",
    "images",
    "patches",
];

fn strings(value: &Value, what: &str) -> Vec<String> {
    match value {
        Value::Null => Vec::new(),
        Value::Array(items) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .unwrap_or_else(|| panic!("{what}: {i} is not a string"))
                    .to_owned()
            })
            .collect(),
        other => panic!("{what}: expected a list of strings, found {other}"),
    }
}

/// (kind, path) pairs that hold an image, from `configurations` files.
fn image_field_specs(dir: &Path, kustomization: &Value) -> Vec<(String, String)> {
    let mut specs = Vec::new();
    for file in strings(&kustomization["configurations"], "configurations") {
        let config = single_document(&dir.join(&file));
        for spec in config["images"].as_array().into_iter().flatten() {
            specs.push((
                spec["kind"].as_str().unwrap_or("").to_owned(),
                spec["path"]
                    .as_str()
                    .expect("an images fieldSpec has a path")
                    .to_owned(),
            ));
        }
    }
    specs
}

/// Renders a kustomization directory like `kubectl kustomize` would, for the
/// features listed in KUSTOMIZATION_KEYS (any other key fails the test).
fn render(dir: &Path) -> Vec<Object> {
    render_with_specs(dir).0
}

fn render_with_specs(dir: &Path) -> (Vec<Object>, Vec<(String, String)>) {
    let file = dir.join("kustomization.yaml");
    let k = single_document(&file);
    let keys: Vec<&String> = k
        .as_object()
        .expect("a kustomization is a mapping")
        .keys()
        .collect();
    for key in keys {
        assert!(
            KUSTOMIZATION_KEYS.contains(&key.as_str()),
            "{}: `{key}` is not understood by this test's renderer; teach it, or keep the layout simpler",
            relative(&file)
        );
    }

    let mut objects = Vec::new();
    let mut specs = image_field_specs(dir, &k);
    for resource in strings(&k["resources"], "resources") {
        let path = dir.join(&resource);
        if path.is_dir() {
            let (sub, sub_specs) = render_with_specs(&path);
            objects.extend(sub);
            specs.extend(sub_specs);
        } else {
            for value in documents(&path) {
                objects.push(Object {
                    file: relative(&path),
                    value,
                });
            }
        }
    }

    for patch in k["patches"].as_array().into_iter().flatten() {
        let ops = match (patch.get("patch"), patch.get("path")) {
            (Some(Value::String(text)), None) => try_documents(text)
                .unwrap_or_else(|err| panic!("{}: a patch is not YAML: {err}", relative(&file))),
            (None, Some(Value::String(path))) => documents(&dir.join(path)),
            _ => panic!(
                "{}: a patch needs exactly one of `patch` or `path`",
                relative(&file)
            ),
        };
        let ops = match ops.as_slice() {
            [Value::Array(ops)] => ops.clone(),
            _ => panic!(
                "{}: only JSON 6902 patches (a list of operations) are rendered here",
                relative(&file)
            ),
        };
        let target = &patch["target"];
        let mut matched = 0;
        for object in &mut objects {
            if target_matches(target, object) {
                matched += 1;
                json_patch(&mut object.value, &ops).unwrap_or_else(|err| {
                    panic!("{}: patch on {}: {err}", relative(&file), object.label())
                });
            }
        }
        assert!(
            matched > 0,
            "{}: the patch target {target} matches nothing",
            relative(&file)
        );
    }

    for image in k["images"].as_array().into_iter().flatten() {
        let name = image["name"].as_str().expect("an image entry has a name");
        let mut matched = 0;
        for object in &mut objects {
            matched += set_images(&mut object.value, &specs, image, name);
        }
        assert!(
            matched > 0,
            "{}: the image {name} is used by nothing",
            relative(&file)
        );
    }

    if let Some(namespace) = k["namespace"].as_str() {
        for object in &mut objects {
            object.value["metadata"]["namespace"] = json!(namespace);
        }
    }
    (objects, specs)
}

fn target_matches(target: &Value, object: &Object) -> bool {
    let (group, version) = match object.api_version().split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", object.api_version()),
    };
    let field = |key: &str, actual: &str| target[key].as_str().is_none_or(|want| want == actual);
    field("group", group)
        && field("version", version)
        && field("kind", object.kind())
        && field("name", object.name())
}

/// The image reference without tag or digest.
fn image_name(reference: &str) -> &str {
    let without_digest = reference.split('@').next().unwrap_or(reference);
    match without_digest.rfind(':') {
        Some(colon) if !without_digest[colon..].contains('/') => &without_digest[..colon],
        _ => without_digest,
    }
}

fn rewrite_image(reference: &str, image: &Value) -> String {
    let name = image["newName"]
        .as_str()
        .unwrap_or(image_name(reference))
        .to_owned();
    if let Some(digest) = image["digest"].as_str() {
        return format!("{name}@{digest}");
    }
    let tag = match image["newTag"].as_str() {
        Some(tag) => Some(tag.to_owned()),
        None => {
            let rest = &reference[image_name(reference).len()..];
            (!rest.is_empty()).then(|| rest.trim_start_matches(':').to_owned())
        }
    };
    match tag {
        Some(tag) if !tag.starts_with("sha256") => format!("{name}:{tag}"),
        Some(digest) => format!("{name}@{digest}"),
        None => name,
    }
}

/// Applies one `images:` entry to the image fields of `value`; returns how many changed.
fn set_images(value: &mut Value, specs: &[(String, String)], image: &Value, name: &str) -> usize {
    let mut count = 0;
    let mut apply = |field: &mut Value| {
        if let Some(reference) = field.as_str() {
            if image_name(reference) == name {
                *field = json!(rewrite_image(reference, image));
                count += 1;
            }
        }
    };
    let kind = value["kind"].as_str().unwrap_or("").to_owned();
    for (spec_kind, path) in specs {
        if spec_kind.is_empty() || *spec_kind == kind {
            let mut field = Some(&mut *value);
            for segment in path.split('/') {
                field = field.and_then(|f| f.get_mut(segment));
            }
            if let Some(field) = field {
                apply(field);
            }
        }
    }
    // Kustomize's default: every `image` of a `containers`/`initContainers` list.
    fn containers(value: &mut Value, apply: &mut dyn FnMut(&mut Value)) {
        match value {
            Value::Object(map) => {
                for (key, child) in map.iter_mut() {
                    if key == "containers" || key == "initContainers" {
                        for container in child.as_array_mut().into_iter().flatten() {
                            if let Some(field) = container.get_mut("image") {
                                apply(field);
                            }
                        }
                    } else {
                        containers(child, apply);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|i| containers(i, apply)),
            _ => {}
        }
    }
    containers(value, &mut apply);
    count
}

fn pointer_tokens(pointer: &str) -> Result<Vec<String>, String> {
    if pointer.is_empty() {
        return Ok(Vec::new());
    }
    let rest = pointer
        .strip_prefix('/')
        .ok_or_else(|| format!("{pointer:?} is not a JSON pointer"))?;
    Ok(rest
        .split('/')
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect())
}

/// RFC 6902 add/remove/replace/test.
fn json_patch(doc: &mut Value, ops: &[Value]) -> Result<(), String> {
    for op in ops {
        let kind = op["op"].as_str().ok_or("an operation has no `op`")?;
        let path = op["path"].as_str().ok_or("an operation has no `path`")?;
        let mut tokens = pointer_tokens(path)?;
        let last = tokens
            .pop()
            .ok_or("patching the whole document is not supported")?;
        let parent_pointer: String = tokens
            .iter()
            .map(|t| format!("/{}", t.replace('~', "~0").replace('/', "~1")))
            .collect();
        let parent = doc
            .pointer_mut(&parent_pointer)
            .ok_or_else(|| format!("{path}: the parent does not exist"))?;
        let value = op.get("value").cloned();
        match (kind, parent) {
            ("add", Value::Object(map)) => {
                map.insert(last, value.ok_or("add needs a value")?);
            }
            ("add", Value::Array(items)) => {
                let at = if last == "-" {
                    items.len()
                } else {
                    last.parse::<usize>()
                        .map_err(|_| format!("{path}: bad index"))?
                };
                if at > items.len() {
                    return Err(format!("{path}: index out of range"));
                }
                items.insert(at, value.ok_or("add needs a value")?);
            }
            ("remove", Value::Object(map)) => {
                map.remove(&last)
                    .ok_or_else(|| format!("{path}: nothing to remove"))?;
            }
            ("remove", Value::Array(items)) => {
                let at = last
                    .parse::<usize>()
                    .map_err(|_| format!("{path}: bad index"))?;
                if at >= items.len() {
                    return Err(format!("{path}: nothing to remove"));
                }
                items.remove(at);
            }
            ("replace" | "test", parent) => {
                let slot = match parent {
                    Value::Object(map) => map.get_mut(&last),
                    Value::Array(items) => {
                        last.parse::<usize>().ok().and_then(|i| items.get_mut(i))
                    }
                    _ => None,
                }
                .ok_or_else(|| format!("{path}: nothing there to {kind}"))?;
                let value = value.ok_or_else(|| format!("{kind} needs a value"))?;
                if kind == "replace" {
                    *slot = value;
                } else if *slot != value {
                    return Err(format!(
                        "{path}: test failed, found {slot}, expected {value}"
                    ));
                }
            }
            (other, _) => return Err(format!("{path}: unsupported operation {other:?}")),
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// The CRDs and a structural validator for their openAPIV3Schema
// ---------------------------------------------------------------------------

/// The CRDs of spin-operator: (group, version, kind) -> openAPIV3Schema.
fn crd_schemas() -> BTreeMap<(String, String, String), Value> {
    let dir = schemas_dir();
    assert!(
        dir.is_dir(),
        "the SpinKube CRDs are missing: expected them in {} (../shared/schemas/spinkube/ \
         relative to the repository root), e.g. core.spinkube.dev_spinapps.yaml from \
         spin-operator v0.6.1",
        dir.display()
    );
    let mut schemas = BTreeMap::new();
    for path in yaml_files(&dir) {
        for crd in documents(&path) {
            if crd["kind"] != "CustomResourceDefinition" {
                continue;
            }
            let group = crd["spec"]["group"]
                .as_str()
                .expect("a CRD has a group")
                .to_owned();
            let kind = crd["spec"]["names"]["kind"]
                .as_str()
                .expect("a CRD has a kind")
                .to_owned();
            for version in crd["spec"]["versions"].as_array().into_iter().flatten() {
                let name = version["name"]
                    .as_str()
                    .expect("a CRD version has a name")
                    .to_owned();
                let schema = version["schema"]["openAPIV3Schema"].clone();
                assert!(
                    schema.is_object(),
                    "{}: {kind} {name} has no openAPIV3Schema",
                    path.display()
                );
                schemas.insert((group.clone(), name, kind.clone()), schema);
            }
        }
    }
    assert!(
        schemas
            .keys()
            .any(|(g, _, k)| g == SPINKUBE_GROUP && k == "SpinApp"),
        "{} holds no CRD for SpinApp",
        dir.display()
    );
    schemas
}

fn schema_for<'a>(
    schemas: &'a BTreeMap<(String, String, String), Value>,
    object: &Object,
) -> Option<&'a Value> {
    let (group, version) = object.api_version().split_once('/')?;
    schemas.get(&(
        group.to_owned(),
        version.to_owned(),
        object.kind().to_owned(),
    ))
}

/// Schema keywords the validator understands; any other one fails loudly, so a
/// new CRD cannot be validated by silently skipping what it asks for.
const KNOWN_KEYWORDS: &[&str] = &[
    "type",
    "description",
    "properties",
    "required",
    "items",
    "additionalProperties",
    "default",
    "format",
    "enum",
    "pattern",
    "anyOf",
    "minItems",
    "maxItems",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "nullable",
    "x-kubernetes-int-or-string",
    "x-kubernetes-preserve-unknown-fields",
    "x-kubernetes-map-type",
    "x-kubernetes-list-type",
    "x-kubernetes-list-map-keys",
];

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Validates `value` at `path` against a structural schema, the way the API
/// server does with strict field validation: types, formats, enums, bounds,
/// patterns, required fields, and unknown fields (rejected unless the schema
/// has `additionalProperties` or `x-kubernetes-preserve-unknown-fields`).
fn validate(schema: &Value, value: &Value, path: &str, problems: &mut Vec<String>) {
    let Some(schema_map) = schema.as_object() else {
        problems.push(format!("{path}: the schema is not an object"));
        return;
    };
    for keyword in schema_map.keys() {
        if !KNOWN_KEYWORDS.contains(&keyword.as_str()) {
            problems.push(format!(
                "{path}: schema keyword `{keyword}` is not understood by this validator"
            ));
        }
    }
    if value.is_null() {
        if schema["nullable"] != json!(true) {
            problems.push(format!("{path}: null is not allowed"));
        }
        return;
    }

    if let Some(branches) = schema["anyOf"].as_array() {
        let fits = branches.iter().any(|branch| {
            let mut scratch = Vec::new();
            validate(branch, value, path, &mut scratch);
            scratch.is_empty()
        });
        if !fits {
            problems.push(format!("{path}: {value} matches none of anyOf"));
        }
    }

    let actual = type_name(value);
    if schema["x-kubernetes-int-or-string"] == json!(true) {
        if actual != "integer" && actual != "string" {
            problems.push(format!(
                "{path}: expected an integer or a string, found {actual}"
            ));
            return;
        }
    } else if let Some(expected) = schema["type"].as_str() {
        let fits = expected == actual || (expected == "number" && actual == "integer");
        if !fits {
            problems.push(format!(
                "{path}: expected {expected}, found {actual} ({value})"
            ));
            return;
        }
    }

    if let Some(allowed) = schema["enum"].as_array() {
        if !allowed.contains(value) {
            problems.push(format!(
                "{path}: {value} is not one of {}",
                Value::Array(allowed.clone())
            ));
        }
    }

    match value {
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                let out_of_range = match schema["format"].as_str() {
                    Some("int32") => i32::try_from(i).is_err(),
                    _ => false,
                };
                if out_of_range {
                    problems.push(format!("{path}: {i} does not fit in int32"));
                }
            }
            let n = n.as_f64().unwrap_or(f64::NAN);
            if schema["minimum"].as_f64().is_some_and(|min| n < min) {
                problems.push(format!(
                    "{path}: {n} is below the minimum {}",
                    schema["minimum"]
                ));
            }
            if schema["maximum"].as_f64().is_some_and(|max| n > max) {
                problems.push(format!(
                    "{path}: {n} is above the maximum {}",
                    schema["maximum"]
                ));
            }
        }
        Value::String(s) => {
            let length = s.chars().count() as u64;
            if schema["minLength"].as_u64().is_some_and(|min| length < min) {
                problems.push(format!(
                    "{path}: {s:?} is shorter than {}",
                    schema["minLength"]
                ));
            }
            if schema["maxLength"].as_u64().is_some_and(|max| length > max) {
                problems.push(format!(
                    "{path}: {s:?} is longer than {}",
                    schema["maxLength"]
                ));
            }
            if let Some(pattern) = schema["pattern"].as_str() {
                match Regex::new(pattern) {
                    Ok(re) if re.is_match(s) => {}
                    Ok(_) => problems.push(format!("{path}: {s:?} does not match {pattern}")),
                    Err(err) => problems.push(format!(
                        "{path}: the schema pattern does not compile: {err}"
                    )),
                }
            }
        }
        Value::Array(items) => {
            let count = items.len() as u64;
            if schema["minItems"].as_u64().is_some_and(|min| count < min) {
                problems.push(format!(
                    "{path}: needs at least {} items",
                    schema["minItems"]
                ));
            }
            if schema["maxItems"].as_u64().is_some_and(|max| count > max) {
                problems.push(format!(
                    "{path}: takes at most {} items",
                    schema["maxItems"]
                ));
            }
            if schema["x-kubernetes-list-type"] == json!("set") {
                let distinct: BTreeSet<String> = items.iter().map(Value::to_string).collect();
                if distinct.len() != items.len() {
                    problems.push(format!("{path}: a set holds duplicates"));
                }
            }
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    validate(item_schema, item, &format!("{path}[{i}]"), problems);
                }
            }
        }
        Value::Object(map) => validate_object(schema, map, path, problems),
        Value::Bool(_) | Value::Null => {}
    }
}

fn validate_object(
    schema: &Value,
    map: &Map<String, Value>,
    path: &str,
    problems: &mut Vec<String>,
) {
    for field in schema["required"].as_array().into_iter().flatten() {
        let field = field.as_str().unwrap_or("");
        if !map.contains_key(field) {
            problems.push(format!("{path}: the required field `{field}` is missing"));
        }
    }
    let properties = schema["properties"].as_object();
    let preserve = schema["x-kubernetes-preserve-unknown-fields"] == json!(true);
    for (key, child) in map {
        let child_path = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        if let Some(child_schema) = properties.and_then(|p| p.get(key)) {
            validate(child_schema, child, &child_path, problems);
            continue;
        }
        match &schema["additionalProperties"] {
            Value::Object(_) => validate(
                &schema["additionalProperties"],
                child,
                &child_path,
                problems,
            ),
            Value::Bool(true) => {}
            _ if preserve => {}
            _ => problems.push(format!(
                "{child_path}: unknown field (the schema does not declare it)"
            )),
        }
    }
}

/// `metadata` of a custom resource is an ObjectMeta, which the CRD leaves to
/// the API server: check the parts a manifest sets.
fn validate_metadata(metadata: &Value, problems: &mut Vec<String>) {
    let name_re = Regex::new(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
        .expect("a valid regex");
    match metadata["name"].as_str() {
        Some(name) if name.len() <= 253 && name_re.is_match(name) => {}
        Some(name) => problems.push(format!(
            "metadata.name: {name:?} is not a DNS-1123 subdomain"
        )),
        None => problems.push("metadata.name: missing".to_owned()),
    }
    for map in ["labels", "annotations"] {
        for (key, value) in metadata[map].as_object().into_iter().flatten() {
            if !value.is_string() {
                problems.push(format!("metadata.{map}.{key}: {value} is not a string"));
            }
        }
    }
    for (key, _) in metadata.as_object().into_iter().flatten() {
        if !["name", "namespace", "labels", "annotations"].contains(&key.as_str()) {
            problems.push(format!(
                "metadata.{key}: not something a manifest here should set"
            ));
        }
    }
}

fn validate_object_against_crd(schema: &Value, object: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let Some(map) = object.as_object() else {
        return vec!["the document is not a mapping".to_owned()];
    };
    // The root: everything but metadata through the schema, metadata as ObjectMeta.
    let mut without_metadata = map.clone();
    let metadata = without_metadata.remove("metadata").unwrap_or(Value::Null);
    validate(schema, &Value::Object(without_metadata), "", &mut problems);
    validate_metadata(&metadata, &mut problems);
    if map.contains_key("status") {
        problems.push("status: a manifest does not set status".to_owned());
    }
    problems
}

// ---------------------------------------------------------------------------
// spin.toml
// ---------------------------------------------------------------------------

fn spin_toml() -> Table {
    let path = root().join("spin.toml");
    read(&path)
        .parse::<Table>()
        .unwrap_or_else(|err| panic!("spin.toml is not valid TOML: {err}"))
}

fn spin_components(manifest: &Table) -> BTreeSet<String> {
    manifest
        .get("component")
        .and_then(toml::Value::as_table)
        .expect("spin.toml has [component.*] tables")
        .keys()
        .cloned()
        .collect()
}

/// component -> the trigger types that name it.
fn trigger_types(manifest: &Table) -> BTreeMap<String, BTreeSet<String>> {
    let mut types: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let triggers = manifest
        .get("trigger")
        .and_then(toml::Value::as_table)
        .expect("spin.toml has [[trigger.*]] entries");
    for (kind, entries) in triggers {
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

/// HTTP route -> component.
fn http_routes(manifest: &Table) -> BTreeMap<String, String> {
    let http = manifest
        .get("trigger")
        .and_then(|t| t.get("http"))
        .and_then(toml::Value::as_array)
        .expect("spin.toml has [[trigger.http]] entries");
    http.iter()
        .filter_map(|entry| {
            Some((
                entry.get("route")?.as_str()?.to_owned(),
                entry.get("component")?.as_str()?.to_owned(),
            ))
        })
        .collect()
}

/// The declared variables: name -> (required without default, secret).
fn spin_variables(manifest: &Table) -> BTreeMap<String, (bool, bool)> {
    manifest
        .get("variables")
        .and_then(toml::Value::as_table)
        .expect("spin.toml has [variables]")
        .iter()
        .map(|(name, decl)| {
            let flag = |key: &str| {
                decl.get(key)
                    .and_then(toml::Value::as_bool)
                    .unwrap_or(false)
            };
            let required = flag("required") && decl.get("default").is_none();
            (name.clone(), (required, flag("secret")))
        })
        .collect()
}

/// The trigger types the shim runs (containerd-shim-spin v0.24).
const SHIM_TRIGGERS: &[&str] = &["http", "redis", "mqtt", "sqs", "command"];

fn components_of(app: &Object) -> Vec<String> {
    strings(&app.value["spec"]["components"], &app.label())
}

// ---------------------------------------------------------------------------
// (1) Every file parses
// ---------------------------------------------------------------------------

#[test]
fn every_yaml_file_under_spinkube_parses() {
    let files = yaml_files(&spinkube());
    assert!(!files.is_empty(), "spinkube/ holds no YAML file");
    let mut problems = Vec::new();
    for path in &files {
        match try_documents(&read(path)) {
            Ok(docs) if docs.is_empty() => {
                problems.push(format!("{}: no document", relative(path)))
            }
            Ok(docs) => {
                for doc in docs {
                    if !doc.is_object() {
                        problems.push(format!("{}: a document is not a mapping", relative(path)));
                    }
                }
            }
            Err(err) => problems.push(format!("{}: {err}", relative(path))),
        }
    }
    assert_no_problems("YAML under spinkube/ does not parse", problems);
}

#[test]
fn every_kubernetes_object_names_an_api_version_a_kind_and_a_name() {
    let mut problems = Vec::new();
    for object in objects_in_tree() {
        if is_kustomization(&object) {
            continue;
        }
        if object.name().is_empty() {
            problems.push(format!("{} has no metadata.name", object.label()));
        }
        if !object.api_version().contains('/') && object.api_version() != "v1" {
            problems.push(format!(
                "{}: apiVersion {:?} has no group",
                object.label(),
                object.api_version()
            ));
        }
    }
    assert_no_problems("objects under spinkube/ are incomplete", problems);
}

#[test]
fn the_base_kustomization_lists_every_manifest_but_the_example_secret() {
    let base = spinkube().join("base");
    let kustomization = single_document(&base.join("kustomization.yaml"));
    let listed: BTreeSet<String> = strings(&kustomization["resources"], "resources")
        .into_iter()
        .collect();
    let configurations: BTreeSet<String> =
        strings(&kustomization["configurations"], "configurations")
            .into_iter()
            .collect();
    let mut problems = Vec::new();
    assert!(
        base.join(SECRET_EXAMPLE).is_file(),
        "spinkube/base/{SECRET_EXAMPLE} is missing"
    );
    for entry in std::fs::read_dir(&base).expect("spinkube/base/ is listable") {
        let file = entry
            .expect("a directory entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        if !(file.ends_with(".yaml") || file.ends_with(".yml")) || file == "kustomization.yaml" {
            continue;
        }
        let wanted = file != SECRET_EXAMPLE;
        let used = listed.contains(&file) || configurations.contains(&file);
        if wanted && !used {
            problems.push(format!(
                "{file} is in spinkube/base/ but not in its kustomization"
            ));
        }
        if !wanted && listed.contains(&file) {
            problems.push(format!(
                "{file} must not be applied: it only shows the Secret's shape"
            ));
        }
    }
    assert_no_problems("the base kustomization is incomplete", problems);
}

// ---------------------------------------------------------------------------
// (2) SpinApps match the CRD
// ---------------------------------------------------------------------------

#[test]
fn every_spinkube_resource_matches_the_crd_schema_in_the_base_and_every_overlay() {
    let schemas = crd_schemas();
    let mut problems = Vec::new();
    let mut checked = 0;
    // Every file as written, and the rendered base and overlays (patches included).
    let mut sets = vec![("files".to_owned(), objects_in_tree())];
    sets.extend(every_rendering());
    for (set, objects) in sets {
        for object in objects.iter().filter(|o| o.is_spinkube()) {
            let Some(schema) = schema_for(&schemas, object) else {
                problems.push(format!(
                    "[{set}] {}: no CRD in {} defines {} {}",
                    object.label(),
                    schemas_dir().display(),
                    object.api_version(),
                    object.kind()
                ));
                continue;
            };
            checked += 1;
            for problem in validate_object_against_crd(schema, &object.value) {
                problems.push(format!("[{set}] {}: {problem}", object.label()));
            }
        }
    }
    assert!(checked > 0, "no SpinKube resource found under spinkube/");
    assert_no_problems("SpinKube resources do not match the CRDs", problems);
}

#[test]
fn the_schema_validator_rejects_what_the_api_server_would() {
    let schemas = crd_schemas();
    let schema = schemas
        .get(&(
            SPINKUBE_GROUP.to_owned(),
            "v1alpha1".to_owned(),
            "SpinApp".to_owned(),
        ))
        .expect("the SpinApp v1alpha1 CRD");
    let good = json!({
        "apiVersion": "core.spinkube.dev/v1alpha1",
        "kind": "SpinApp",
        "metadata": { "name": "probe" },
        "spec": {
            "image": "ghcr.io/spindle/spindle:latest",
            "executor": "containerd-shim-spin",
            "components": ["ops"],
            "replicas": 1,
            "resources": { "requests": { "cpu": "100m", "memory": 128 } },
            "variables": [{ "name": "db_url", "valueFrom": { "secretKeyRef": { "name": "s", "key": "k" } } }]
        }
    });
    assert_no_problems(
        "a valid SpinApp is rejected",
        validate_object_against_crd(schema, &good),
    );

    let broken = |pointer: &str, change: Option<Value>| {
        let mut doc = good.clone();
        let (parent, last) = pointer.rsplit_once('/').expect("a pointer");
        let parent = doc.pointer_mut(parent).expect("the parent exists");
        let map = parent.as_object_mut().expect("an object");
        match change {
            Some(value) => map.insert(last.to_owned(), value),
            None => map.remove(last),
        };
        validate_object_against_crd(schema, &doc)
    };
    let cases = [
        ("an unknown field", broken("/spec/replica", Some(json!(2)))),
        (
            "an unknown nested field",
            broken("/spec/variables/0/valueFrom/secretRef", Some(json!({}))),
        ),
        (
            "a string where an integer goes",
            broken("/spec/replicas", Some(json!("2"))),
        ),
        (
            "an int32 overflow",
            broken("/spec/replicas", Some(json!(4_294_967_296_i64))),
        ),
        ("a missing required field", broken("/spec/image", None)),
        (
            "an empty components list",
            broken("/spec/components", Some(json!([]))),
        ),
        (
            "a malformed quantity",
            broken("/spec/resources/requests/cpu", Some(json!("lots"))),
        ),
        (
            "a boolean where a string goes",
            broken("/spec/executor", Some(json!(true))),
        ),
        (
            "a variable without a name",
            broken("/spec/variables/0/name", None),
        ),
        (
            "a set status",
            broken("/status", Some(json!({ "readyReplicas": 1 }))),
        ),
    ];
    for (what, problems) in cases {
        assert!(!problems.is_empty(), "the validator accepts {what}");
    }
}

// ---------------------------------------------------------------------------
// (3) Components
// ---------------------------------------------------------------------------

#[test]
fn every_component_a_spinapp_runs_exists_in_spin_toml() {
    let manifest = spin_toml();
    let declared = spin_components(&manifest);
    let mut problems = Vec::new();
    for (set, objects) in every_rendering() {
        let apps = spinapps(&objects);
        assert!(!apps.is_empty(), "[{set}] deploys no SpinApp");
        for app in apps {
            let components = components_of(app);
            // Without `components` the shim runs every component, the cron one
            // included, and it has no cron trigger.
            if components.is_empty() {
                problems.push(format!("[{set}] {} lists no components", app.label()));
            }
            for component in components {
                if !declared.contains(&component) {
                    problems.push(format!(
                        "[{set}] {} runs {component:?}, which spin.toml does not declare",
                        app.label()
                    ));
                }
            }
        }
    }
    assert_no_problems("SpinApps run components that do not exist", problems);
}

#[test]
fn every_component_but_the_cron_one_is_deployed_by_exactly_one_spinapp() {
    let manifest = spin_toml();
    let triggers = trigger_types(&manifest);
    assert!(
        triggers
            .get("reminder-cron")
            .is_some_and(|t| t.contains("cron")),
        "spin.toml: reminder-cron is expected to be the cron-triggered component"
    );
    let mut problems = Vec::new();
    for (set, objects) in every_rendering() {
        let mut deployed: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for app in spinapps(&objects) {
            for component in components_of(app) {
                deployed
                    .entry(component)
                    .or_default()
                    .push(app.name().to_owned());
            }
        }
        for component in spin_components(&manifest) {
            let kinds = triggers.get(&component).cloned().unwrap_or_default();
            let runnable = kinds.iter().all(|k| SHIM_TRIGGERS.contains(&k.as_str()));
            // A command component runs to completion: a Job or CronJob starts it, not a SpinApp.
            let command = kinds.iter().all(|k| k == "command");
            match (runnable, deployed.get(&component).map(Vec::as_slice)) {
                (true, None) if command => {}
                (true, None) => problems.push(format!("[{set}] {component} is deployed by no SpinApp")),
                (true, Some([_])) => {}
                (true, Some(apps)) => problems.push(format!(
                    "[{set}] {component} is deployed by several SpinApps {apps:?}; each would serve or handle everything twice"
                )),
                (false, Some(apps)) => problems.push(format!(
                    "[{set}] {component} has triggers {kinds:?} the shim cannot run, yet {apps:?} deploy it"
                )),
                (false, None) => {}
            }
        }
    }
    assert_no_problems(
        "the SpinApps do not deploy the app as spin.toml describes it",
        problems,
    );
}

#[test]
fn no_spinapp_runs_redis_handlers_alongside_http_components() {
    // A lost Redis connection ends the whole Spin process: handlers get a process of their own.
    let triggers = trigger_types(&spin_toml());
    let mut problems = Vec::new();
    for app in spinapps(&base_objects()) {
        let kinds: BTreeSet<String> = components_of(app)
            .iter()
            .flat_map(|c| triggers.get(c).cloned().unwrap_or_default())
            .collect();
        if kinds.contains("redis") && kinds.len() > 1 {
            problems.push(format!("{} mixes trigger types {kinds:?}", app.label()));
        }
    }
    assert_no_problems("a Redis handler shares a process", problems);
}

#[test]
fn http_spinapps_probe_readyz_and_healthz_on_their_own_components_and_handlers_have_no_probes() {
    let manifest = spin_toml();
    let triggers = trigger_types(&manifest);
    let routes = http_routes(&manifest);
    let mut problems = Vec::new();
    for app in spinapps(&base_objects()) {
        let components = components_of(app);
        let serves_http = components
            .iter()
            .any(|c| triggers.get(c).is_some_and(|t| t.contains("http")));
        let checks = &app.value["spec"]["checks"];
        if !serves_http {
            if !checks.is_null() {
                problems.push(format!(
                    "{}: no HTTP trigger listens, so HTTP checks would always fail",
                    app.label()
                ));
            }
            continue;
        }
        for (probe, want) in [("readiness", "/readyz"), ("liveness", "/healthz")] {
            let path = checks[probe]["httpGet"]["path"].as_str();
            if path != Some(want) {
                problems.push(format!(
                    "{}: {probe} checks {path:?}, expected {want}",
                    app.label()
                ));
                continue;
            }
            match routes.get(want) {
                Some(owner) if components.contains(owner) => {}
                Some(owner) => problems.push(format!(
                    "{}: {want} belongs to {owner}, which it does not run",
                    app.label()
                )),
                None => problems.push(format!("spin.toml has no route {want}")),
            }
        }
    }
    assert_no_problems("health checks are wrong", problems);
}

// ---------------------------------------------------------------------------
// (4) Variables and (5) secrets
// ---------------------------------------------------------------------------

#[test]
fn every_variable_a_spinapp_sets_is_declared_and_every_required_one_is_set() {
    let declared = spin_variables(&spin_toml());
    let mut problems = Vec::new();
    for (set, objects) in every_rendering() {
        for app in spinapps(&objects) {
            let mut seen = BTreeSet::new();
            for variable in app.value["spec"]["variables"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let name = variable["name"].as_str().unwrap_or("");
                if !seen.insert(name.to_owned()) {
                    problems.push(format!("[{set}] {} sets {name:?} twice", app.label()));
                }
                if !declared.contains_key(name) {
                    problems.push(format!(
                        "[{set}] {} sets {name:?}, which spin.toml [variables] does not declare",
                        app.label()
                    ));
                }
                // Kubernetes refuses an env var with both a value and a valueFrom.
                if variable.get("value").is_some() == variable.get("valueFrom").is_some() {
                    problems.push(format!(
                        "[{set}] {} {name}: needs exactly one of value or valueFrom",
                        app.label()
                    ));
                }
            }
            for (name, (required, _)) in &declared {
                if *required && !seen.contains(name) {
                    problems.push(format!(
                        "[{set}] {} does not set the required variable {name}",
                        app.label()
                    ));
                }
            }
        }
    }
    assert_no_problems("SpinApp variables do not match spin.toml", problems);
}

fn example_secret_keys() -> BTreeMap<String, Value> {
    let secret = single_document(&spinkube().join("base").join(SECRET_EXAMPLE));
    assert_eq!(secret["kind"], "Secret", "{SECRET_EXAMPLE} holds a Secret");
    assert_eq!(
        secret["metadata"]["name"], SECRET_NAME,
        "{SECRET_EXAMPLE} is named {SECRET_NAME}"
    );
    secret["stringData"]
        .as_object()
        .expect("the example Secret has stringData")
        .clone()
        .into_iter()
        .collect()
}

fn check_secret_ref(
    what: &str,
    value_from: &Value,
    key: &str,
    keys: &BTreeMap<String, Value>,
    problems: &mut Vec<String>,
) {
    let reference = &value_from["secretKeyRef"];
    if reference["name"] != SECRET_NAME {
        problems.push(format!(
            "{what}: reads Secret {}, expected {SECRET_NAME}",
            reference["name"]
        ));
    }
    if reference["key"] != key {
        problems.push(format!(
            "{what}: reads key {}, expected {key}",
            reference["key"]
        ));
    }
    if !keys.contains_key(key) {
        problems.push(format!("{what}: {SECRET_EXAMPLE} shows no key {key}"));
    }
    if reference["optional"] == json!(true) {
        problems.push(format!("{what}: a credential must not be optional"));
    }
}

#[test]
fn secrets_come_from_secret_key_refs_never_from_literal_values() {
    let declared = spin_variables(&spin_toml());
    let keys = example_secret_keys();
    let mut problems = Vec::new();
    for name in spindle_api::settings::SECRETS {
        if !declared.get(*name).is_some_and(|(_, secret)| *secret) {
            problems.push(format!(
                "spin.toml does not declare {name} with secret = true"
            ));
        }
    }
    let secret_names: BTreeSet<&str> = declared
        .iter()
        .filter(|(_, (_, secret))| *secret)
        .map(|(name, _)| name.as_str())
        .chain(spindle_api::settings::SECRETS.iter().copied())
        .collect();
    for (set, objects) in every_rendering() {
        for app in spinapps(&objects) {
            for variable in app.value["spec"]["variables"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let name = variable["name"].as_str().unwrap_or("");
                let what = format!("[{set}] {} variable {name}", app.label());
                let from_secret = variable["valueFrom"].get("secretKeyRef").is_some();
                if secret_names.contains(name) {
                    if variable.get("value").is_some() || !from_secret {
                        problems.push(format!(
                            "{what}: a credential must come from a secretKeyRef, not a literal"
                        ));
                    } else {
                        check_secret_ref(&what, &variable["valueFrom"], name, &keys, &mut problems);
                    }
                }
            }
        }
    }
    assert_no_problems("credentials are not taken from the Secret", problems);
}

#[test]
fn the_example_secret_shows_every_credential_with_a_placeholder_only() {
    let keys = example_secret_keys();
    let expected: BTreeSet<String> = spindle_api::settings::SECRETS
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    let actual: BTreeSet<String> = keys.keys().cloned().collect();
    assert_eq!(
        actual, expected,
        "{SECRET_EXAMPLE} should show exactly the credentials"
    );
    for (key, value) in keys {
        assert_eq!(
            value, "change-me",
            "{SECRET_EXAMPLE}: {key} must hold the placeholder, never a real value"
        );
    }
}

// ---------------------------------------------------------------------------
// (6) The relay CronJob
// ---------------------------------------------------------------------------

#[test]
fn the_cronjob_posts_to_internal_tick_with_the_internal_token_from_the_secret() {
    let manifest = spin_toml();
    let routes = http_routes(&manifest);
    let tick_owner = routes
        .get("/internal/tick")
        .expect("spin.toml routes /internal/tick");
    let keys = example_secret_keys();
    let objects = base_objects();
    let cronjobs: Vec<&Object> = objects.iter().filter(|o| o.kind() == "CronJob").collect();
    assert_eq!(
        cronjobs.len(),
        1,
        "the base should hold exactly one CronJob, the relay tick"
    );
    let cronjob = cronjobs[0];
    let spec = &cronjob.value["spec"];
    let job = &spec["jobTemplate"]["spec"];
    let pod = &job["template"]["spec"];
    let mut problems = Vec::new();

    if spec["schedule"] != "* * * * *" {
        problems.push(format!(
            "schedule is {}, expected every minute",
            spec["schedule"]
        ));
    }
    if spec["concurrencyPolicy"] != "Forbid" {
        problems.push("concurrencyPolicy should be Forbid".to_owned());
    }
    if job["backoffLimit"] != 0 {
        problems.push("backoffLimit should be 0: the next minute retries".to_owned());
    }
    match job["activeDeadlineSeconds"].as_i64() {
        Some(seconds) if (1..60).contains(&seconds) => {}
        other => problems.push(format!(
            "activeDeadlineSeconds is {other:?}; a run must end before the next one"
        )),
    }
    if pod["restartPolicy"] != "Never" {
        problems.push("restartPolicy should be Never".to_owned());
    }

    let containers = pod["containers"].as_array().cloned().unwrap_or_default();
    if containers.len() != 1 {
        problems.push(format!(
            "expected one container, found {}",
            containers.len()
        ));
    }
    for container in &containers {
        let script: Vec<String> = ["command", "args"]
            .iter()
            .flat_map(|k| strings(&container[*k], k))
            .collect();
        let script = script.join(" ");
        // The URL: the Service of the SpinApp that runs the component owning /internal/tick.
        let service = spinapps(&objects)
            .into_iter()
            .find(|app| components_of(app).contains(tick_owner))
            .map(|app| app.name().to_owned())
            .unwrap_or_else(|| panic!("no SpinApp runs {tick_owner}, the owner of /internal/tick"));
        let url = Regex::new(&format!(
            r"http://{}(\.[a-z0-9.-]+)?(:80)?/internal/tick(\s|$|')",
            regex::escape(&service)
        ))
        .expect("a valid regex");
        for (needle, why) in [
            ("curl", "the tick is an HTTP call"),
            ("POST", "/internal/tick takes POST"),
            (
                "Authorization: Bearer",
                "the tick needs the internal token as a bearer token",
            ),
        ] {
            if !script.contains(needle) {
                problems.push(format!("the command lacks {needle:?}: {why}"));
            }
        }
        if !url.is_match(&script) {
            problems.push(format!(
                "the command does not call http://{service}/internal/tick: {script}"
            ));
        }
        if !(script.contains("$INTERNAL_TOKEN")
            || script.contains("${INTERNAL_TOKEN}")
            || script.contains("$(INTERNAL_TOKEN)"))
        {
            problems.push("the command does not send $INTERNAL_TOKEN".to_owned());
        }
        // A refused tick must fail the Job, where monitoring sees it.
        if !(script.contains("--fail") || script.contains(" -f ")) {
            problems.push("curl should --fail so a refused tick fails the Job".to_owned());
        }
        let env: Vec<&Value> = container["env"].as_array().into_iter().flatten().collect();
        match env.iter().find(|e| e["name"] == "INTERNAL_TOKEN") {
            Some(var) if var.get("value").is_none() => {
                check_secret_ref(
                    "INTERNAL_TOKEN",
                    &var["valueFrom"],
                    "internal_token",
                    &keys,
                    &mut problems,
                );
            }
            Some(_) => {
                problems.push("INTERNAL_TOKEN must come from the Secret, not a literal".to_owned())
            }
            None => problems.push("the container has no INTERNAL_TOKEN env var".to_owned()),
        }
    }
    assert_no_problems(&format!("{} is wrong", cronjob.label()), problems);
}

// ---------------------------------------------------------------------------
// Overlays
// ---------------------------------------------------------------------------

#[test]
fn the_production_overlay_pins_the_image_and_hands_http_replicas_to_the_hpa() {
    let production = spinkube().join("overlays").join("production");
    let objects = render(&production);
    let mut problems = Vec::new();
    let apps = spinapps(&objects);
    assert_eq!(
        apps.len(),
        spinapps(&base_objects()).len(),
        "production deploys every SpinApp of the base"
    );
    for app in &apps {
        let image = app.value["spec"]["image"].as_str().unwrap_or("");
        if image.ends_with(":latest") || !(image.contains(':') || image.contains('@')) {
            problems.push(format!("{}: image {image:?} is not pinned", app.label()));
        }
        let spec = &app.value["spec"];
        if spec["enableAutoscaling"] == json!(true) && spec.get("replicas").is_some() {
            problems.push(format!(
                "{}: replicas cannot be set with enableAutoscaling",
                app.label()
            ));
        }
    }
    let http = apps
        .iter()
        .find(|a| a.name() == "spindle-http")
        .expect("production deploys spindle-http");
    if http.value["spec"]["enableAutoscaling"] != json!(true) {
        problems.push("spindle-http should have enableAutoscaling: true".to_owned());
    }
    let hpas: Vec<&Object> = objects
        .iter()
        .filter(|o| o.kind() == "HorizontalPodAutoscaler")
        .collect();
    let autoscaled: BTreeSet<&str> = apps
        .iter()
        .filter(|a| a.value["spec"]["enableAutoscaling"] == json!(true))
        .map(|a| a.name())
        .collect();
    let mut scaled = BTreeSet::new();
    for hpa in &hpas {
        let target = &hpa.value["spec"]["scaleTargetRef"];
        // The operator names the Deployment of a SpinApp after the SpinApp.
        if target["apiVersion"] != "apps/v1" || target["kind"] != "Deployment" {
            problems.push(format!(
                "{}: should target an apps/v1 Deployment",
                hpa.label()
            ));
        }
        let name = target["name"].as_str().unwrap_or("");
        if !autoscaled.contains(name) {
            problems.push(format!(
                "{}: targets {name:?}, which is no SpinApp with enableAutoscaling",
                hpa.label()
            ));
        }
        scaled.insert(name);
        let min = hpa.value["spec"]["minReplicas"].as_i64().unwrap_or(1);
        let max = hpa.value["spec"]["maxReplicas"].as_i64().unwrap_or(0);
        if !(1..=max).contains(&min) {
            problems.push(format!(
                "{}: minReplicas {min} and maxReplicas {max} do not make a range",
                hpa.label()
            ));
        }
        if hpa.value["spec"]["metrics"]
            .as_array()
            .is_some_and(|m| m.iter().any(|m| m["resource"]["name"] == "cpu"))
            && http.value["spec"]["resources"]["requests"]["cpu"].is_null()
        {
            problems
                .push("CPU utilization needs a CPU request in spindle-http's resources".to_owned());
        }
    }
    for name in autoscaled.difference(&scaled) {
        problems.push(format!(
            "{name} has enableAutoscaling but no HorizontalPodAutoscaler"
        ));
    }
    for object in &objects {
        if object.value["metadata"]["namespace"].as_str().is_none() {
            problems.push(format!("{} has no namespace", object.label()));
        }
    }
    assert_no_problems("the production overlay is wrong", problems);
}

#[test]
fn the_renderer_applies_json_patches_and_image_pins_like_kustomize() {
    let mut doc = json!({ "spec": { "replicas": 2, "list": [{ "name": "a", "value": "x" }] } });
    json_patch(
        &mut doc,
        &[
            json!({ "op": "remove", "path": "/spec/replicas" }),
            json!({ "op": "add", "path": "/spec/enableAutoscaling", "value": true }),
            json!({ "op": "test", "path": "/spec/list/0/name", "value": "a" }),
            json!({ "op": "replace", "path": "/spec/list/0/value", "value": "y" }),
            json!({ "op": "add", "path": "/spec/list/-", "value": { "name": "b" } }),
        ],
    )
    .expect("the patch applies");
    assert_eq!(
        doc,
        json!({ "spec": { "enableAutoscaling": true, "list": [{ "name": "a", "value": "y" }, { "name": "b" }] } })
    );
    assert!(json_patch(
        &mut doc,
        &[json!({ "op": "test", "path": "/spec/list/0/name", "value": "z" })]
    )
    .is_err());
    assert!(json_patch(
        &mut doc,
        &[json!({ "op": "remove", "path": "/spec/replicas" })]
    )
    .is_err());

    let pin = json!({ "name": "ghcr.io/spindle/spindle", "newTag": "1.2.3" });
    assert_eq!(
        rewrite_image("ghcr.io/spindle/spindle:latest", &pin),
        "ghcr.io/spindle/spindle:1.2.3"
    );
    assert_eq!(
        image_name("localhost:5000/spindle:1"),
        "localhost:5000/spindle"
    );
    assert_eq!(
        image_name("localhost:5000/spindle"),
        "localhost:5000/spindle"
    );
    let by_digest = json!({ "name": "ghcr.io/spindle/spindle", "digest": "sha256:abc" });
    assert_eq!(
        rewrite_image("ghcr.io/spindle/spindle:latest", &by_digest),
        "ghcr.io/spindle/spindle@sha256:abc"
    );
}
