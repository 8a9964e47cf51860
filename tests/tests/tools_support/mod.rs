//! The check tools `scripts/tools/*.sh` install into `<target>/tools/bin`: tests
//! use those copies only, never whatever else is on the machine's PATH.
#![allow(dead_code)] // Each test file uses a different tool.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The repository's root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ lives in the repository")
        .to_path_buf()
}

/// The workspace's target dir (`CARGO_TARGET_DIR` or `target/`).
fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("CARGO_TARGET_TMPDIR lies in the target dir")
        .to_path_buf()
}

/// `<target>/tools/bin/<name>`, or a failure saying which script installs it.
pub fn tool(name: &str, script: &str) -> PathBuf {
    let path = target_dir().join("tools/bin").join(name);
    assert!(
        path.exists(),
        "{} is missing: run `bash scripts/tools/{script}` (scripts/test.sh runs it)",
        path.display()
    );
    path
}

pub fn promtool() -> PathBuf {
    tool("promtool", "prometheus.sh")
}

/// Runs `command`, feeding it `stdin`, and fails the test with its output unless it succeeds.
pub fn run_ok(command: &mut Command, stdin: &[u8]) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {command:?}: {e}"));
    child
        .stdin
        .take()
        .expect("a piped stdin")
        .write_all(stdin)
        .expect("writing to the tool");
    let output = child.wait_with_output().expect("waiting for the tool");
    assert!(
        output.status.success(),
        "{command:?} failed ({}):\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// `promtool check metrics`: the text parses, and follows Prometheus' naming
/// and help conventions (it reports any problem and exits non-zero).
pub fn promtool_check_metrics(text: &str) {
    let output = run_ok(
        Command::new(promtool()).args(["check", "metrics"]),
        text.as_bytes(),
    );
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
    );
    assert!(
        said.trim().is_empty(),
        "promtool has remarks:\n{said}\non\n{text}"
    );
}
