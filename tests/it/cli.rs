//! Command-line behaviour: help, validate, overrides, exit codes.

use crate::util::*;

#[test]
fn help_lists_commands_examples_and_exit_codes() {
    let (code, stdout, _) = result(&joinedup(&["--help"]));
    assert_eq!(code, 0);
    for s in ["run", "validate", "Examples:", "Exit codes:"] {
        assert!(stdout.contains(s), "{s} missing from:\n{stdout}");
    }
}

#[test]
fn validate_checks_the_sample_without_reading_data() {
    let (code, stdout, stderr) = result(&joinedup(&["validate"]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stdout.trim(),
        "pipelines/sample.toml: ok (3 sources, 9 datasets)"
    );
}

/// Regression: `validate` said "ok (0 sources …)" for a MESH mailbox pipeline (its one
/// source is fetched only), and "ok" for a `--source` pointing nowhere.
#[test]
fn validate_counts_fetched_sources_and_checks_source_overrides() {
    let (code, stdout, stderr) = result(&joinedup(&["validate", "pipelines/mesh_inbox.toml"]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stdout.trim(),
        "pipelines/mesh_inbox.toml: ok (1 sources, 0 datasets)"
    );
    let (code, _, stderr) = result(&joinedup(&["validate", "--source", "apc=/nonexistent"]));
    assert_eq!(code, 4, "{stderr}");
    assert!(
        stderr.contains("source `apc`: --source /nonexistent: no such file or folder"),
        "{stderr}"
    );
}

#[test]
fn a_source_can_be_overridden_with_one_file() {
    let out = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = result(&joinedup(&[
        "run",
        "--source",
        "cld=data-samples/cld/cld_902_2026Q3.csv",
        "--out",
        out.path().to_str().unwrap(),
    ]));
    assert_eq!(code, 0, "{stderr}");
    let line = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("cld "))
        .unwrap();
    let fields: Vec<&str> = line.split_whitespace().collect();
    // Easton's file only: 531 rows.
    assert_eq!(&fields[..3], ["cld", "1", "531"], "{line}");
}

#[test]
fn unknown_source_override_is_a_config_error_listing_the_sources() {
    let (code, _, stderr) = result(&joinedup(&[
        "run",
        "--source",
        "sus=x.csv",
        "--out",
        "/nonexistent/never",
    ]));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("sources.sus") && stderr.contains("\"apc\", \"cld\", \"ecds\""),
        "{stderr}"
    );
}

/// Regression (found by a review): `--source apc=a --source apc=b` read `b` only, without
/// a word; the help calls the option repeatable.
#[test]
fn regression_a_source_given_twice_is_a_config_error_naming_both_paths() {
    let (code, _, stderr) = result(&joinedup(&[
        "validate",
        "--source",
        "apc=first.csv",
        "--source",
        "apc=second.csv",
    ]));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("sources.apc: --source apc is given twice (first.csv and second.csv); give each source once"),
        "{stderr}"
    );
}

/// Regression (found by a review): the same problem found twice (an unknown source given
/// twice) was listed twice.
#[test]
fn regression_a_problem_found_twice_is_reported_once() {
    let (code, _, stderr) = result(&joinedup(&[
        "validate",
        "--source",
        "apx=a.csv",
        "--source",
        "apx=b.csv",
    ]));
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(
        stderr
            .matches("--source names a source the pipeline does not have")
            .count(),
        1,
        "{stderr}"
    );
}

#[test]
fn missing_source_is_unavailable_with_exit_code_4_and_writes_nothing() {
    let out = tempfile::tempdir().unwrap();
    let (code, _, stderr) = result(&joinedup(&[
        "run",
        "--source",
        "apc=no/such/dir",
        "--out",
        out.path().to_str().unwrap(),
    ]));
    assert_eq!(code, 4, "{stderr}");
    assert!(
        stderr.contains("source `apc`") && stderr.contains("no/such/dir"),
        "{stderr}"
    );
    let written: Vec<String> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n != ".lock" && n != "runs")
        .collect();
    assert!(written.is_empty(), "{written:?}");
    assert_only_failed_runs(out.path());
}

#[test]
fn json_logs_are_one_object_per_line_without_identifiers() {
    let out = tempfile::tempdir().unwrap();
    let (code, _, stderr) = result(&joinedup(&[
        "run",
        "--log-format",
        "json",
        "-q",
        "--out",
        out.path().to_str().unwrap(),
    ]));
    assert_eq!(code, 0, "{stderr}");
    let mut n = 0;
    for line in stderr.lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(v.get("level").is_some());
        n += 1;
    }
    // -q keeps warnings only: the demo-key warning.
    assert_eq!(n, 1, "{stderr}");
}

/// Regression: only the top-level help had examples and exit codes, and one example
/// wrapped mid-command on an 80-column terminal.
#[test]
fn every_command_has_examples_and_exit_codes_that_fit_a_terminal() {
    for command in [
        vec![],
        vec!["run"],
        vec!["validate"],
        vec!["pull"],
        vec!["explain"],
        vec!["status"],
        vec!["report"],
        vec!["synth"],
    ] {
        let mut args = command.clone();
        args.push("--help");
        let (code, stdout, stderr) = result(&joinedup(&args));
        assert_eq!(code, 0, "{stderr}");
        let examples = stdout
            .split("Examples:")
            .nth(1)
            .unwrap_or_else(|| panic!("{command:?}: no examples:\n{stdout}"));
        // Regression (review): every command listed every code, `status` (always 0
        // but for a usage or internal error) and `validate` (never 1, 3 or 6) too.
        let codes = examples.split("Exit codes: ").nth(1).unwrap();
        let listed: Vec<&str> = ["0 ok", " 1 ", " 2 ", " 3 ", " 4 ", " 5 ", " 6 "]
            .into_iter()
            .filter(|c| codes.replace('\n', " ").contains(c))
            .collect();
        let expected: &[&str] = match command.first().copied() {
            None | Some("run") => &["0 ok", " 1 ", " 2 ", " 3 ", " 4 ", " 5 ", " 6 "],
            Some("validate") => &["0 ok", " 2 ", " 4 ", " 5 "],
            Some("pull") => &["0 ok", " 2 ", " 4 ", " 5 ", " 6 "],
            Some("explain") => &["0 ok", " 2 ", " 4 ", " 5 ", " 6 "],
            Some("status") | Some("synth") => &["0 ok", " 2 ", " 5 "],
            // Regression (review): `report` exits 3 on a manifest it cannot read, and its
            // help did not say so; and 6 while a run holds the data directory's lock.
            Some("report") => &["0 ok", " 2 ", " 3 ", " 4 ", " 5 ", " 6 "],
            Some(other) => panic!("{other}"),
        };
        assert_eq!(listed, expected, "{command:?}: {codes}");
        for line in examples.lines() {
            assert!(line.chars().count() <= 80, "{command:?}: {line:?}");
        }
    }
}

/// Every key of every configuration file (the serde mirrors in `src/config/raw.rs`) is
/// in the README's configuration reference, so a key added without documentation fails.
#[test]
fn every_configuration_key_is_in_the_readme() {
    let raw = std::fs::read_to_string(root().join("src/config/raw.rs")).unwrap();
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let reference = readme
        .split("## Configuration reference")
        .nth(1)
        .and_then(|r| r.split("\n## ").next())
        .expect("a configuration reference section");
    let mut rename: Option<String> = None;
    let mut missing = Vec::new();
    for line in raw.lines().map(str::trim) {
        if let Some(r) = line.strip_prefix("#[serde(rename = \"") {
            rename = r.split('"').next().map(String::from);
            continue;
        }
        let Some(field) = line.strip_prefix("pub ").and_then(|l| l.split_once(':')) else {
            continue;
        };
        let key = rename.take().unwrap_or_else(|| field.0.to_string());
        if field.0.contains(' ') || field.0.contains('(') {
            continue;
        }
        if !reference.contains(&format!("`{key}`"))
            && !reference.contains(&format!("[{key}"))
            && !reference.contains(&format!("{{ {key}"))
            && !reference.contains(&format!(", {key}"))
        {
            missing.push(key);
        }
    }
    assert!(
        missing.is_empty(),
        "not in the README's reference: {missing:?}"
    );
}

/// Regression: `validate` said "ok" without a word for a local source folder that does
/// not exist, which every run then stopped on (exit 4). Still exit 0: configuration may
/// be checked where the data is not.
#[test]
fn validate_warns_of_what_a_run_here_would_lack() {
    let dir = tempfile::tempdir().unwrap();
    let pipeline = dir.path().join("p.toml");
    std::fs::write(
        &pipeline,
        sample_pipeline_anywhere(&sample_pipeline_text())
            .replace("data-samples/cld\"", "data-samples/no_such_folder\""),
    )
    .unwrap();
    let (code, stdout, stderr) = result(&joinedup(&["validate", pipeline.to_str().unwrap()]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains(": ok (3 sources, "), "{stdout}");
    assert!(
        stderr.contains("not found here: source `cld`: cannot open ")
            && stderr.contains("no_such_folder: No such file or directory (os error 2) (a run here would stop, exit 4)"),
        "{stderr}"
    );
}

/// Regression: the README's quick-start output went stale (its discharge_delays line
/// showed 81 rows, 304 suppressed, after a rule change made them 89 and 310). Every line
/// it shows of the summary, but the run id, is what the sample run prints.
#[test]
fn the_readme_quick_start_output_is_what_the_sample_run_prints() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let block = readme
        .split("```text\njoinedup run ")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .unwrap();
    let out = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = result(&joinedup(&["run", "--out", out.path().to_str().unwrap()]));
    assert_eq!(code, 0, "{stderr}");
    let mut checked = 0;
    for line in block.lines().skip(1) {
        if line.trim().is_empty()
            || line.contains('…')
            || line.starts_with("manifest:")
            || line.starts_with("report:")
        {
            continue;
        }
        assert!(
            stdout.lines().any(|l| l == line),
            "{line:?} not in:\n{stdout}"
        );
        checked += 1;
    }
    assert!(checked >= 8, "{checked} lines checked");
}

/// Regression (review): a command-line error was clap's plain text even with
/// `--log-format json`, so a scheduler's JSON log had lines that did not parse.
#[test]
fn regression_a_command_line_error_is_one_json_event_when_json_logs_are_asked_for() {
    for (args, env) in [
        (
            vec![
                "run",
                "pipelines/sample.toml",
                "--bogus",
                "--log-format",
                "json",
            ],
            vec![],
        ),
        (
            vec![
                "run",
                "pipelines/sample.toml",
                "--log-format=json",
                "--bogus",
            ],
            vec![],
        ),
        (
            vec!["run", "pipelines/sample.toml", "--bogus"],
            vec![("JOINEDUP_LOG_FORMAT", "json")],
        ),
    ] {
        let (code, stdout, stderr) = result(&joinedup_env(&args, &env));
        assert_eq!(code, 2, "{stderr}");
        assert_eq!(stdout, "");
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{stderr}");
        let event: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
        assert_eq!(event["level"], "ERROR");
        assert_eq!(event["exit_code"], 2);
        assert!(
            event["message"]
                .as_str()
                .unwrap()
                .starts_with("error: unexpected argument '--bogus' found"),
            "{event}"
        );
    }
}

/// Regression (review): a run's JSON log ended with its last stage, so a log read alone
/// (stdout sent to /dev/null, as the README's cron line does) never said how it ended.
#[test]
fn regression_a_run_s_last_json_event_says_how_it_ended() {
    let out = tempfile::tempdir().unwrap();
    let (code, _, stderr) = result(&joinedup(&[
        "run",
        "pipelines/sample.toml",
        "--out",
        out.path().to_str().unwrap(),
        "--log-format",
        "json",
    ]));
    assert_eq!(code, 0, "{stderr}");
    let last: serde_json::Value = serde_json::from_str(stderr.lines().last().unwrap()).unwrap();
    assert_eq!(last["message"], "run finished");
    assert_eq!(last["exit_code"], 0);
    assert_eq!(last["status"], "ok");
    assert!(last["span"]["run_id"].is_string(), "{last}");
    assert!(
        std::path::Path::new(last["manifest"].as_str().unwrap()).is_file(),
        "{last}"
    );
    // A failed run ends so too (review): after its error, with its failed manifest.
    let (code, _, stderr) = result(&joinedup(&[
        "run",
        "pipelines/sample.toml",
        "--source",
        "apc=/nonexistent/apc.csv",
        "--out",
        out.path().to_str().unwrap(),
        "--log-format",
        "json",
    ]));
    assert_eq!(code, 4, "{stderr}");
    let events: Vec<serde_json::Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let (error, last) = (&events[events.len() - 2], &events[events.len() - 1]);
    assert_eq!(error["level"], "ERROR", "{stderr}");
    assert_eq!(
        (&last["message"], &last["status"], &last["exit_code"]),
        (
            &serde_json::json!("run finished"),
            &serde_json::json!("failed"),
            &serde_json::json!(4)
        )
    );
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(last["manifest"].as_str().unwrap()).unwrap())
            .unwrap();
    assert_eq!(manifest["status"], "failed");
}

/// Regression (review, twice): `status` given a pipeline file that is not there printed
/// the runs and nothing else, as if nothing were pending; then it said "pending: cannot
/// tell: pipeline … not found" after every pipeline's runs, still exit 0, and for a data
/// directory that is not there (`--out` mistyped, or forgotten so the default `out` was
/// read) "no runs yet", exit 0. Each is a command-line error now (exit 2, as `status
/// --help` says), naming the file or folder, both when both are wrong; a data directory
/// that is there with no runs is still "no runs yet", exit 0. `explain` already refused
/// a pipeline that is not there; for a data directory that is not there it still says
/// what a first run would do (a run creates it), but says that it is not there.
#[test]
fn regression_status_refuses_a_pipeline_or_data_directory_that_is_not_there() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let nodir = dir.path().join("nodir");
    let nodir = nodir.to_str().unwrap();
    let no_pipeline = "error: pipeline pipelines/no_such.toml not found: name an existing pipeline file, or none to list every pipeline's runs";
    let no_out = format!(
        "--out {nodir}: no such data directory: name the one the runs write to with --out DIR or JOINEDUP_OUT (the default is ./out)"
    );
    let (code, stdout, stderr) = result(&joinedup(&[
        "status",
        "pipelines/no_such.toml",
        "--out",
        out,
    ]));
    assert_eq!((code, stdout.as_str()), (2, ""), "{stderr}");
    assert!(stderr.contains(&format!("{no_pipeline}\n")), "{stderr}");
    for args in [
        vec!["status", "--out", nodir],
        vec!["status", "pipelines/sample.toml", "--out", nodir],
    ] {
        let (code, stdout, stderr) = result(&joinedup(&args));
        assert_eq!((code, stdout.as_str()), (2, ""), "{args:?}: {stderr}");
        assert!(
            stderr.contains(&format!("error: {no_out}\n")),
            "{args:?}: {stderr}"
        );
    }
    let (code, _, stderr) = result(&joinedup(&[
        "status",
        "pipelines/no_such.toml",
        "--out",
        nodir,
    ]));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(&format!("{no_pipeline}; {no_out}\n")),
        "{stderr}"
    );
    assert!(!dir.path().join("nodir").exists(), "status made its --out");

    // There, with no runs: nothing is wrong.
    let (code, stdout, stderr) = result(&joinedup(&["status", "--out", out]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stdout,
        format!(
            "data directory {out}\nno runs yet\n\npending: name a pipeline file (joinedup status PIPELINE --out DIR) to see what a run of it would do now\n"
        )
    );

    let (code, _, stderr) = result(&joinedup(&[
        "explain",
        "pipelines/no_such.toml",
        "--out",
        out,
    ]));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("pipelines/no_such.toml: cannot read: No such file or directory"),
        "{stderr}"
    );
    let (code, stdout, stderr) = result(&joinedup(&["explain", "--out", nodir]));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains(&format!(
            "\nnow\n  data directory {nodir} does not exist: a run would create it (to look at an existing one, give --out DIR or JOINEDUP_OUT)\n  a run now would rebuild everything"
        )),
        "{stdout}"
    );
    assert!(!dir.path().join("nodir").exists(), "explain made its --out");
}

/// Regression (review): `explain` printed a MESH source's settings as Rust debug output
/// (`mailbox Env("JOINEDUP_MESH_MAILBOX")`), and failed outright for a pipeline that only
/// pulls (no source to run).
#[test]
fn regression_explain_shows_a_pull_only_mesh_pipeline_in_words() {
    let out = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = result(&joinedup(&[
        "explain",
        "pipelines/mesh_inbox.toml",
        "--out",
        out.path().to_str().unwrap(),
    ]));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("  mesh       mesh: mailbox from environment variable JOINEDUP_MESH_MAILBOX, url from environment variable JOINEDUP_MESH_URL → "),
        "{stdout}"
    );
    assert!(
        stdout.ends_with("now\n  nothing to run: no source has a contract and mapping; `joinedup pull` fetches the sources above\n"),
        "{stdout}"
    );
}

/// Regression (review): `validate` of an NHS England publications pipeline said "ok"
/// without a word when its folders were not there (person-level sources got the warning;
/// publications were not listed), and every run then stopped (exit 4).
#[test]
fn validate_warns_of_a_publication_folder_that_is_not_here() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(root().join("pipelines/nhse_publications.toml")).unwrap();
    let pipeline = dir.path().join("p.toml");
    // The pipeline's relative paths now point under the empty temporary folder, but its
    // schemas and label mapping are the checkout's.
    let text = text
        .replace(
            "schemas = \"../schemas\"",
            &format!("schemas = \"{}\"", root().join("schemas").display()),
        )
        .replace(
            "labels = \"mappings/nhse_labels.toml\"",
            &format!(
                "labels = \"{}\"",
                root().join("pipelines/mappings/nhse_labels.toml").display()
            ),
        );
    std::fs::write(&pipeline, text).unwrap();
    let (code, _, stderr) = result(&joinedup(&["validate", pipeline.to_str().unwrap()]));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("not found here: source `")
            && stderr.contains("(a run here would stop, exit 4)"),
        "{stderr}"
    );
}

/// Regression (review): a pipeline whose only source is council CLD, asking for
/// `patient_journey` and `flow_daily` (built from hospital spells, or A&E), passed
/// `validate` and wrote them empty on every run without a word. Allowed (a source may
/// join later), but `validate` and the run say so.
#[test]
fn a_dataset_no_source_can_fill_is_said_by_validate_and_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let text = sample_pipeline_anywhere(&sample_pipeline_text());
    // Keep only the CLD source.
    let mut kept = String::new();
    let mut skip = false;
    for line in text.lines() {
        if line.starts_with("[sources.") {
            skip = !line.starts_with("[sources.cld]");
        } else if line.starts_with('[') {
            skip = false;
        }
        if !skip {
            kept.push_str(line);
            kept.push('\n');
        }
    }
    let pipeline = dir.path().join("p.toml");
    std::fs::write(&pipeline, kept).unwrap();
    let warning = "patient_journey is built from hospital_spell, which no source of the pipeline fills (its sources fill social_care_event): it will be written empty";
    let (code, _, stderr) = result(&joinedup(&["validate", pipeline.to_str().unwrap()]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains(warning), "{stderr}");
    assert!(
        stderr.contains("flow_daily is built from hospital_spell or ed_attendance"),
        "{stderr}"
    );
    assert!(!stderr.contains("social_care_queue is built"), "{stderr}");
    let out = dir.path().join("out");
    let (code, _, stderr) = result(&joinedup(&[
        "run",
        pipeline.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]));
    assert!(code == 0 || code == 1, "{stderr}");
    let runs: Vec<_> = std::fs::read_dir(out.join("runs")).unwrap().collect();
    let manifest =
        std::fs::read_to_string(runs[0].as_ref().unwrap().path().join("manifest.json")).unwrap();
    assert!(manifest.contains(warning), "{manifest}");
}

/// Regression: a reader that went away (`joinedup status | head -0`, a closed pipe) made
/// a command that had done its work panic ("failed printing to stdout") and exit 101,
/// after a run's log had said it finished with 0.
#[test]
fn regression_a_closed_standard_output_is_not_the_command_s_failure() {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_joinedup"))
        .current_dir(root())
        .args(["validate"])
        .env_remove("JOINEDUP_LOG")
        .stdout(writer)
        .output()
        .expect("runs");
    let (code, _, stderr) = result(&out);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("standard output"), "{stderr}");
}

/// Regression: standard output that cannot be written (a full disk) made the command
/// panic with exit 101; it is a warning, and the exit code stays the command's.
#[test]
fn regression_standard_output_that_cannot_be_written_is_a_warning() {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_joinedup"))
        .current_dir(root())
        .args(["validate"])
        .env_remove("JOINEDUP_LOG")
        .env("NO_COLOR", "1")
        .stdout(full)
        .output()
        .expect("runs");
    let (code, _, stderr) = result(&out);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("cannot write to standard output: No space left on device"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// Regression: an environment variable set to nothing (systemd's `Environment=
/// JOINEDUP_OUT=`, a templated crontab) was taken as the flag's value: "a value is
/// required for '--out <OUT>'", exit 2, naming a flag nobody typed. Empty is unset.
#[test]
fn regression_environment_variables_set_to_nothing_count_as_unset() {
    let (code, stdout, stderr) = result(&joinedup_env(
        &["validate"],
        &[
            ("JOINEDUP_OUT", ""),
            ("JOINEDUP_LOG_FORMAT", ""),
            ("JOINEDUP_KEEP_RUNS", ""),
        ],
    ));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stdout.trim(),
        "pipelines/sample.toml: ok (3 sources, 9 datasets)"
    );
    let (code, stdout, stderr) = result(&joinedup_env(&["status"], &[("JOINEDUP_OUT", "")]));
    // The default data directory, ./out: there after the quick start, else refused by
    // its name (a data directory that is not there is a command-line error).
    if root().join("out").is_dir() {
        assert_eq!(code, 0, "{stderr}");
        assert!(stdout.starts_with("data directory out\n"), "{stdout}");
    } else {
        assert_eq!(code, 2, "{stderr}");
        assert!(
            stderr.contains("error: --out out: no such data directory"),
            "{stderr}"
        );
    }
}

/// Regression (review): `explain`, `run --dry-run` and `status` said all was well (exit
/// 0, "a run now would rebuild everything", "no runs yet") for a data directory a real
/// run refuses with exit 2, and for one whose `runs/` cannot be listed.
#[test]
fn regression_read_only_commands_refuse_the_data_directory_a_run_would_refuse() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("afile");
    std::fs::write(&file, "").unwrap();
    let file = file.to_str().unwrap();
    for args in [
        vec!["explain", "--out", file],
        vec!["run", "--dry-run", "--out", file],
        vec!["status", "--out", file],
    ] {
        let (code, _, stderr) = result(&joinedup(&args));
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(
            stderr.contains(&format!("--out {file}: is a file, not a data directory")),
            "{args:?}: {stderr}"
        );
    }
    let under_a_file = format!("{file}/out");
    let (code, _, stderr) = result(&joinedup(&["run", "--dry-run", "--out", &under_a_file]));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "--out {under_a_file}: cannot create the data directory: {file} is a file"
        )),
        "{stderr}"
    );
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("runs"), "").unwrap();
    let (code, _, stderr) = result(&joinedup(&["status", "--out", out.to_str().unwrap()]));
    assert_ne!(code, 0, "{stderr}");
    assert!(
        stderr.contains(&format!("listing {}/runs: Not a directory", out.display())),
        "{stderr}"
    );
}

/// Regression (review): `JOINEDUP_LOG=joindup=debug` (a mistyped target) left every
/// target off, so under `--log-format json` a run that failed wrote nothing at all.
#[test]
fn regression_a_mistyped_log_target_does_not_silence_the_error() {
    let (code, _, stderr) = result(&joinedup_env(
        &["run", "nope.toml", "--log-format", "json"],
        &[("JOINEDUP_LOG", "joindup=debug")],
    ));
    assert_eq!(code, 2, "{stderr}");
    let event: serde_json::Value = serde_json::from_str(stderr.trim()).expect("one JSON event");
    assert_eq!(event["level"], "ERROR", "{stderr}");
    assert!(
        event["message"]
            .as_str()
            .is_some_and(|m| m.contains("nope.toml")),
        "{stderr}"
    );
}

/// Regression (review): a key that is set but too short was a warning, "not found here",
/// and `validate` said "ok"; it is wrong wherever the pipeline runs, so exit 2 as a run.
/// A key this machine lacks stays a warning.
#[test]
fn regression_validate_refuses_a_key_that_is_here_but_unusable() {
    let dir = tempfile::tempdir().unwrap();
    let pipeline = dir.path().join("real.toml");
    let text = sample_pipeline_anywhere(&sample_pipeline_text());
    let demo = text
        .lines()
        .find(|l| l.starts_with("demo_key"))
        .expect("the sample names a demo key")
        .to_string();
    std::fs::write(
        &pipeline,
        text.replace(&demo, "key_env = \"JOINEDUP_TEST_KEY\""),
    )
    .unwrap();
    let p = pipeline.to_str().unwrap();
    let (code, stdout, stderr) = result(&joinedup_env(
        &["validate", p],
        &[("JOINEDUP_TEST_KEY", "short")],
    ));
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(stderr.contains("pseudonymisation"), "{stderr}");
    assert!(stderr.contains("at least 16"), "{stderr}");
    assert!(!stderr.contains("not found here"), "{stderr}");
    let (code, stdout, stderr) = result(&joinedup(&["validate", p]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains(": ok (3 sources, "), "{stdout}");
    assert!(
        stderr.contains("not found here") && stderr.contains("JOINEDUP_TEST_KEY is not set"),
        "{stderr}"
    );
}

/// Regression (review): `pull --help`'s sandbox example set only the URL, so as written
/// it stopped at the three settings it left out (exit 2). Run as the help prints it,
/// against a sandbox on another port, it lands the mailbox.
#[test]
fn regression_the_pull_help_s_sandbox_example_runs_as_written() {
    let Some(sandbox) = crate::mesh_sandbox::Sandbox::start() else {
        return;
    };
    let (_, help, _) = result(&joinedup(&["pull", "--help"]));
    let example: String = help
        .lines()
        .skip_while(|l| !l.contains("# the local MESH sandbox"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .map(|l| l.trim().trim_end_matches('\\').trim().to_string() + " ")
        .collect();
    let words: Vec<&str> = example.split_whitespace().collect();
    let env: Vec<(&str, &str)> = words
        .iter()
        .filter_map(|w| w.split_once('='))
        .map(|(k, v)| {
            if k == "JOINEDUP_MESH_URL" {
                (k, sandbox.url.as_str())
            } else {
                (k, v)
            }
        })
        .collect();
    let names: Vec<&str> = env.iter().map(|(k, _)| *k).collect();
    assert_eq!(
        names,
        [
            "JOINEDUP_MESH_URL",
            "JOINEDUP_MESH_MAILBOX",
            "JOINEDUP_MESH_PASSWORD",
            "JOINEDUP_MESH_SHARED_KEY"
        ],
        "{example}"
    );
    let out = tempfile::tempdir().unwrap();
    let out = out.path().to_str().unwrap();
    let mut args: Vec<&str> = words
        .iter()
        .skip_while(|w| **w != "joinedup")
        .skip(1)
        .copied()
        .collect();
    assert_eq!(args.last(), Some(&"/tmp/ju"), "{example}");
    args.pop();
    args.push(out);
    let (code, stdout, stderr) = result(&joinedup_env(&args, &env));
    assert_eq!(code, 0, "{example}\n{stdout}{stderr}");
    assert!(stdout.contains("mesh"), "{stdout}");
}

/// Regression (review): a schemas folder that cannot be listed (no permission, or a
/// file where the folder should be) was reported as an empty one: 'no sources schema
/// "sus_apc" …; there are none', once per source, hiding the cause.
#[test]
fn regression_a_schemas_folder_that_cannot_be_read_is_not_called_empty() {
    let dir = tempfile::tempdir().unwrap();
    let schemas = dir.path().join("schemas");
    for sub in ["codes", "shared"] {
        std::fs::create_dir_all(schemas.join(sub)).unwrap();
        for f in std::fs::read_dir(root().join("schemas").join(sub)).unwrap() {
            let f = f.unwrap();
            std::fs::copy(f.path(), schemas.join(sub).join(f.file_name())).unwrap();
        }
    }
    std::fs::write(schemas.join("sources"), "").unwrap();
    let pipeline = dir.path().join("p.toml");
    std::fs::write(
        &pipeline,
        sample_pipeline_anywhere(&sample_pipeline_text()).replace(
            &format!("schemas = \"{}/schemas\"", root().display()),
            &format!("schemas = \"{}\"", schemas.display()),
        ),
    )
    .unwrap();
    let (code, _, stderr) = result(&joinedup(&["validate", pipeline.to_str().unwrap()]));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "sources.apc.contract: cannot read {}/sources/sus_apc.toml: Not a directory",
            schemas.display()
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("there are none"), "{stderr}");
}

/// Regression (review): an NHS number in a path (`--out` named after a patient) was
/// withheld from the log but printed on stdout by `status` and the run summary.
#[test]
fn regression_nhs_numbers_in_paths_are_withheld_from_standard_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("9990000026");
    // Not there: refused, naming it without the number.
    let (code, _, stderr) = result(&joinedup(&["status", "--out", out.to_str().unwrap()]));
    assert_eq!(code, 2, "{stderr}");
    assert!(!stderr.contains("9990000026"), "{stderr}");
    assert!(
        stderr.contains("<withheld>: no such data directory"),
        "{stderr}"
    );
    std::fs::create_dir(&out).unwrap();
    let (code, stdout, stderr) = result(&joinedup(&["status", "--out", out.to_str().unwrap()]));
    assert_eq!(code, 0, "{stderr}");
    assert!(!stdout.contains("9990000026"), "{stdout}");
    assert!(stdout.contains("<withheld>"), "{stdout}");
}

/// Regression (review): with two sources' paths wrong, `run`, `explain`, `status` and
/// `validate --source` named only the first (`source \`apc\`: cannot open …`, exit 4), so
/// the second came to light only after the first was fixed. Every unavailable source is
/// named in one error, each with its path and reason; still exit 4, and the failed run's
/// manifest and `status` carry the whole message.
#[test]
fn regression_every_unavailable_source_is_named_in_one_error() {
    let out = tempfile::tempdir().unwrap();
    let out_dir = out.path().to_str().unwrap();
    let both = "2 sources are unavailable: source `apc`: cannot open /nonexistent/apc: No such file or directory (os error 2); source `cld`: cannot open /nonexistent/cld: No such file or directory (os error 2)";
    let wrong = [
        "--source",
        "apc=/nonexistent/apc",
        "--source",
        "cld=/nonexistent/cld",
    ];
    for command in ["run", "explain"] {
        let mut args = vec![command, "pipelines/sample.toml", "--out", out_dir];
        args.extend(wrong);
        let (code, _, stderr) = result(&joinedup(&args));
        assert_eq!(code, 4, "{command}: {stderr}");
        assert!(
            stderr.contains(&format!("error: {both}\n")),
            "{command}: {stderr}"
        );
    }
    let runs: Vec<_> = std::fs::read_dir(out.path().join("runs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(runs.len(), 1, "{runs:?}");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(runs[0].join("manifest.json")).unwrap())
            .unwrap();
    assert_eq!(
        (
            &manifest["status"],
            &manifest["error"]["exit_code"],
            &manifest["error"]["message"]
        ),
        (
            &serde_json::json!("failed"),
            &serde_json::json!(4),
            &serde_json::json!(both)
        )
    );
    let mut args = vec!["status", "pipelines/sample.toml", "--out", out_dir];
    args.extend(wrong);
    let (code, stdout, stderr) = result(&joinedup(&args));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains(&format!("    exit 4: {both}\n")),
        "{stdout}"
    );
    assert!(
        stdout.ends_with(&format!("  cannot tell: a run now would exit 4: {both}\n")),
        "{stdout}"
    );

    let (code, _, stderr) = result(&joinedup(&[
        "validate",
        "pipelines/sample.toml",
        "--source",
        "apc=/nonexistent/apc",
        "--source",
        "cld=/nonexistent/cld",
    ]));
    assert_eq!(code, 4, "{stderr}");
    assert!(
        stderr.contains("error: 2 sources are unavailable: source `apc`: --source /nonexistent/apc: no such file or folder; source `cld`: --source /nonexistent/cld: no such file or folder\n"),
        "{stderr}"
    );

    // A publications pipeline lists its sources so too.
    let (code, _, stderr) = result(&joinedup(&[
        "explain",
        "pipelines/nhse_publications.toml",
        "--out",
        out_dir,
        "--source",
        "sitrep=/nonexistent/sitrep",
        "--source",
        "ae=/nonexistent/ae",
    ]));
    assert_eq!(code, 4, "{stderr}");
    assert!(
        stderr.contains("error: 2 sources are unavailable: source `ae`: cannot open /nonexistent/ae: No such file or directory (os error 2); source `sitrep`: cannot open /nonexistent/sitrep: No such file or directory (os error 2)\n"),
        "{stderr}"
    );
}
