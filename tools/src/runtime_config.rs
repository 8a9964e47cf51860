//! `spindle-runtime-config <spin.toml> [<runtime-config.toml>]`
//!
//! Prints a Spin runtime config whose first variables provider is a static one
//! holding a value for every variable of the manifest: `SPIN_VARIABLE_<NAME>`
//! from the environment when set, else the manifest's default. The second
//! argument's settings (e.g. `[outbound_networking]`) are kept.
//!
//! Why: Spin resolves *every* variable of the application on each request's
//! first outbound connection (to check `allowed_outbound_hosts` templates), and
//! its environment provider moves each lookup to a blocking thread
//! (`block_in_place`). With about thirty variables that was a fifth of a get by
//! id's time; a static provider answers from memory. The output holds secrets:
//! write it to a file only its owner can read.

use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use toml::{Table, Value};

const USAGE: &str = "usage: spindle-runtime-config <spin.toml> [<runtime-config.toml>]

Prints a runtime config with a static variables provider holding every variable of
the manifest (SPIN_VARIABLE_<NAME> when set, else its default), plus the settings of
the given runtime config. Pass it to spin up --runtime-config-file.";

fn read_table(path: &str) -> Result<Table> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {path}"))?;
    text.parse::<Table>()
        .with_context(|| format!("{path} is not valid TOML"))
}

/// The value of each variable of `manifest`, looked up with `env`.
fn values(manifest: &Table, env: impl Fn(&str) -> Option<String>) -> Result<Table> {
    let Some(variables) = manifest.get("variables").and_then(Value::as_table) else {
        return Ok(Table::new());
    };
    let mut values = Table::new();
    for (name, spec) in variables {
        let from_env = env(&format!("SPIN_VARIABLE_{}", name.to_ascii_uppercase()));
        let default = spec
            .get("default")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let required = spec.get("required").and_then(Value::as_bool) == Some(true);
        match from_env.or(default) {
            Some(value) => {
                values.insert(name.clone(), Value::String(value));
            }
            None if required => bail!(
                "variable {name} is required and has no value: set SPIN_VARIABLE_{}",
                name.to_ascii_uppercase()
            ),
            // Unset and optional without a default: Spin reports it if read.
            None => {}
        }
    }
    Ok(values)
}

fn runtime_config(
    manifest: &Table,
    base: Table,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Table> {
    let mut provider = Table::new();
    provider.insert("type".into(), Value::String("static".into()));
    provider.insert("values".into(), Value::Table(values(manifest, env)?));
    let mut config = base;
    // Spin asks the providers in order (its environment provider comes last).
    let mut providers = vec![Value::Table(provider)];
    if let Some(Value::Array(existing)) = config.remove("variables_provider") {
        providers.extend(existing);
    }
    config.insert("variables_provider".into(), Value::Array(providers));
    Ok(config)
}

fn run(args: &[String]) -> Result<String> {
    let manifest = read_table(&args[0])?;
    let base = match args.get(1) {
        Some(path) => read_table(path)?,
        None => Table::new(),
    };
    let config = runtime_config(&manifest, base, |name| std::env::var(name).ok())?;
    Ok(toml::to_string(&config)?)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() || args.len() > 2 || args[0].starts_with('-') {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    }
    match run(&args) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("spindle-runtime-config: {err:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = r#"
        [variables]
        db_url = { required = true, secret = true }
        retention_days = { default = "7" }
        jwt_issuer = { default = "" }
        optional_key = { required = false }
    "#;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn every_variable_gets_its_environment_value_or_its_default() {
        let manifest = MANIFEST.parse::<Table>().unwrap();
        let config = runtime_config(
            &manifest,
            Table::new(),
            env(&[
                ("SPIN_VARIABLE_DB_URL", "postgres://db/x \"quoted\""),
                ("SPIN_VARIABLE_JWT_ISSUER", "https://id"),
            ]),
        )
        .unwrap();
        // What Spin reads back from the printed text.
        let printed = toml::to_string(&config).unwrap().parse::<Table>().unwrap();
        let provider = &printed["variables_provider"].as_array().unwrap()[0];
        assert_eq!(provider["type"].as_str(), Some("static"));
        let values = provider["values"].as_table().unwrap();
        assert_eq!(
            values["db_url"].as_str(),
            Some("postgres://db/x \"quoted\"")
        );
        assert_eq!(values["retention_days"].as_str(), Some("7"));
        assert_eq!(values["jwt_issuer"].as_str(), Some("https://id"));
        assert!(!values.contains_key("optional_key"));
    }

    #[test]
    fn a_required_variable_without_a_value_is_named() {
        let manifest = MANIFEST.parse::<Table>().unwrap();
        let err = runtime_config(&manifest, Table::new(), env(&[])).unwrap_err();
        assert!(err.to_string().contains("SPIN_VARIABLE_DB_URL"), "{err}");
    }

    #[test]
    fn the_base_settings_are_kept_and_its_providers_come_after() {
        let manifest = "[variables]\nx = { default = \"1\" }"
            .parse::<Table>()
            .unwrap();
        let base = "[outbound_networking]\nblock_networks = [\"private\"]\n\n[[variables_provider]]\ntype = \"vault\"\nurl = \"http://vault\"\n"
            .parse::<Table>()
            .unwrap();
        let config = runtime_config(&manifest, base, env(&[])).unwrap();
        assert_eq!(
            config["outbound_networking"]["block_networks"]
                .as_array()
                .unwrap()[0]
                .as_str(),
            Some("private")
        );
        let providers = config["variables_provider"].as_array().unwrap();
        assert_eq!(providers.len(), 2);
        assert_eq!(providers[1]["type"].as_str(), Some("vault"));
    }
}
