//! The GitHub Actions workflows pass actionlint (syntax, expressions, action
//! inputs, and shellcheck on `run:` scripts when shellcheck is installed).

mod tools_support;

use std::process::Command;

#[test]
fn every_workflow_passes_actionlint() {
    let actionlint = tools_support::tool("actionlint", "actionlint.sh");
    let repo = tools_support::repo();
    let workflows: Vec<_> = std::fs::read_dir(repo.join(".github/workflows"))
        .expect("the folder .github/workflows")
        .map(|e| e.expect("an entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml" || e == "yaml"))
        .collect();
    for name in ["ci.yml", "deploy.yml", "rollback.yml"] {
        assert!(
            workflows.iter().any(|p| p.ends_with(name)),
            "no .github/workflows/{name}"
        );
    }
    tools_support::run_ok(
        Command::new(actionlint)
            .current_dir(&repo)
            .arg("-no-color")
            .args(&workflows),
        b"",
    );
}

#[test]
fn actionlint_finds_a_broken_workflow() {
    // The check above can fail: a workflow with an undefined step output and
    // an unknown runner label is refused.
    let actionlint = tools_support::tool("actionlint", "actionlint.sh");
    let broken = "on: push\njobs:\n  a:\n    runs-on: ubuntu-nonexistent\n    steps:\n      - run: echo ${{ steps.nope.outputs.x }}\n";
    let output = Command::new(actionlint)
        .args(["-no-color", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(broken.as_bytes())?;
            child.wait_with_output()
        })
        .expect("running actionlint");
    assert!(!output.status.success());
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(said.contains("steps.nope"), "{said}");
}

#[test]
fn the_deploy_steps_the_workflows_call_exist_and_parse() {
    let repo = tools_support::repo();
    let mut called = Vec::new();
    for workflow in ["deploy.yml", "rollback.yml"] {
        let text = std::fs::read_to_string(repo.join(".github/workflows").join(workflow))
            .expect("a workflow");
        for word in text.split_whitespace() {
            if let Some(script) = word.strip_prefix("scripts/deploy/") {
                called.push(format!("scripts/deploy/{script}"));
            }
        }
    }
    called.sort();
    called.dedup();
    assert!(called.len() >= 4, "{called:?}");
    for script in called {
        let path = repo.join(&script);
        assert!(path.is_file(), "{script} is called but missing");
        tools_support::run_ok(Command::new("bash").arg("-n").arg(&path), b"");
    }
}
