//! `spindle-token <user> [--ttl SECONDS] [--secret-file PATH]`
//!
//! Prints an HS256 JWT whose `sub` is `<user>`, signed with the local
//! `jwt_secret`: the `SPIN_VARIABLE_JWT_SECRET` environment variable if set,
//! otherwise the `SPIN_VARIABLE_JWT_SECRET=` line of the local secrets file
//! (`.spin/dev-secrets.env`, written by `scripts/dev.sh`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};
use spindle_api::auth::{sign, Claims};

const SECRET_VARIABLE: &str = "SPIN_VARIABLE_JWT_SECRET";
const DEFAULT_SECRET_FILE: &str = ".spin/dev-secrets.env";
const DEFAULT_TTL_SECONDS: i64 = 3600;
/// The longest `sub` Spindle accepts.
const MAX_USER_LEN: usize = 255;

const USAGE: &str = "usage: spindle-token <user> [--ttl SECONDS] [--secret-file PATH]

Prints a bearer token for <user>, valid for --ttl seconds (default 3600), signed
with SPIN_VARIABLE_JWT_SECRET or, when that is unset, with the secret in
--secret-file (default .spin/dev-secrets.env, written by `make dev`).";

#[derive(Debug, PartialEq, Eq)]
struct Args {
    user: String,
    ttl_seconds: i64,
    secret_file: Option<PathBuf>,
}

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Args> {
    let mut user = None;
    let mut ttl_seconds = DEFAULT_TTL_SECONDS;
    let mut secret_file = None;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--ttl" => {
                let value = args.next().context("--ttl needs a number of seconds")?;
                ttl_seconds = value.parse().ok().filter(|ttl| *ttl > 0).with_context(|| {
                    format!("--ttl must be a positive number of seconds, not {value:?}")
                })?;
            }
            "--secret-file" => {
                let value = args.next().context("--secret-file needs a path")?;
                secret_file = Some(PathBuf::from(value));
            }
            flag if flag.starts_with('-') => bail!("unknown option {flag:?}"),
            _ if user.is_some() => bail!("only one user, please (got {arg:?} as well)"),
            _ => user = Some(arg),
        }
    }
    let user = user.context("which user? give the user id as the first argument")?;
    if user.trim().is_empty() || user.len() > MAX_USER_LEN {
        bail!("the user id must be 1 to {MAX_USER_LEN} characters and not blank");
    }
    Ok(Args {
        user,
        ttl_seconds,
        secret_file,
    })
}

/// The value of `SPIN_VARIABLE_JWT_SECRET=` in an env-style file.
fn secret_from_env_file(text: &str) -> Option<String> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.split_once('='))
        .find(|(key, _)| key.trim().trim_start_matches("export ").trim() == SECRET_VARIABLE)
        .map(|(_, value)| {
            value
                .trim()
                .trim_matches(|c| c == '"' || c == '\'')
                .to_owned()
        })
        .filter(|value| !value.is_empty())
}

fn read_secret(file: Option<&Path>) -> Result<String> {
    if let Ok(secret) = std::env::var(SECRET_VARIABLE) {
        if !secret.is_empty() {
            return Ok(secret);
        }
    }
    let path = match file {
        Some(path) => path.to_path_buf(),
        None => {
            // The working directory first, then the workspace this tool was built in.
            let here = PathBuf::from(DEFAULT_SECRET_FILE);
            if here.exists() {
                here
            } else {
                Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("..")
                    .join(DEFAULT_SECRET_FILE)
            }
        }
    };
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "{SECRET_VARIABLE} is not set and {} cannot be read; run `make dev` once to create it",
            path.display()
        )
    })?;
    secret_from_env_file(&text)
        .with_context(|| format!("{} has no {SECRET_VARIABLE}= line", path.display()))
}

fn run() -> Result<()> {
    let args = parse_args(std::env::args().skip(1))?;
    let secret = read_secret(args.secret_file.as_deref())?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .context("the system clock is before 1970")?
        .as_secs();
    let now = i64::try_from(now).context("the system clock is out of range")?;
    let claims = Claims {
        sub: args.user,
        exp: Some(now + args.ttl_seconds),
        nbf: None,
        iat: Some(now),
    };
    println!("{}", sign(&claims, secret.as_bytes()));
    Ok(())
}

fn main() -> ExitCode {
    if std::env::args().skip(1).any(|a| a == "-h" || a == "--help") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("spindle-token: {err:#}\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Result<Args> {
        parse_args(list.iter().map(|s| s.to_string()))
    }

    #[test]
    fn a_user_alone_gets_the_default_lifetime() {
        let parsed = args(&["alice"]).unwrap();
        assert_eq!(parsed.user, "alice");
        assert_eq!(parsed.ttl_seconds, DEFAULT_TTL_SECONDS);
        assert_eq!(parsed.secret_file, None);
    }

    #[test]
    fn options_may_come_before_or_after_the_user() {
        let parsed = args(&["--ttl", "60", "bob", "--secret-file", "/tmp/s.env"]).unwrap();
        assert_eq!(parsed.user, "bob");
        assert_eq!(parsed.ttl_seconds, 60);
        assert_eq!(parsed.secret_file, Some(PathBuf::from("/tmp/s.env")));
    }

    #[test]
    fn a_missing_user_a_zero_ttl_and_unknown_options_are_refused() {
        assert!(args(&[]).is_err());
        assert!(args(&["alice", "--ttl", "0"]).is_err());
        assert!(args(&["alice", "--ttl", "soon"]).is_err());
        assert!(args(&["alice", "--lifetime", "5"]).is_err());
        assert!(args(&["alice", "bob"]).is_err());
        assert!(args(&["   "]).is_err());
    }

    #[test]
    fn the_secret_is_read_from_its_line_in_the_env_file() {
        let text = "# local\nSPIN_VARIABLE_ADMIN_TOKEN=abc\nSPIN_VARIABLE_JWT_SECRET=\"s3cret\"\n";
        assert_eq!(secret_from_env_file(text).as_deref(), Some("s3cret"));
        assert_eq!(secret_from_env_file("SPIN_VARIABLE_JWT_SECRET=\n"), None);
        assert_eq!(secret_from_env_file("# SPIN_VARIABLE_JWT_SECRET=x\n"), None);
    }

    #[test]
    fn a_signed_token_verifies_with_the_same_secret() {
        let claims = Claims {
            sub: "alice".into(),
            exp: Some(2_000_000_000),
            nbf: None,
            iat: Some(1_999_999_000),
        };
        let token = sign(&claims, b"k");
        let user = spindle_api::auth::verify_hs256(&token, b"k", 1_999_999_500).unwrap();
        assert_eq!(user.as_str(), "alice");
    }
}
