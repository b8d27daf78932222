//! `joinedup check`: files read against their contracts as a run reads them, what a run
//! would make of them said, and nothing kept — not in the data directory, not in the
//! temporary folder.

use std::path::Path;

use crate::util::*;

/// `joinedup check` with `TMPDIR` set to `tmp` (so what it leaves there can be seen).
fn check(args: &[&str], tmp: &Path) -> (i32, String, String) {
    let mut all = vec!["check"];
    all.extend(args);
    result(&joinedup_env(&all, &[("TMPDIR", tmp.to_str().unwrap())]))
}

/// [`SourceCounts`] of every source of a check's JSON, summed over its files.
fn check_counts(json: &serde_json::Value) -> Vec<SourceCounts> {
    json["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let files = s["files"].as_array().unwrap();
            let sum = |k: &str| files.iter().map(|f| f[k].as_u64().unwrap()).sum::<u64>();
            let mut reasons = std::collections::BTreeMap::<String, u64>::new();
            for f in files {
                for (k, v) in f["reasons"].as_object().unwrap() {
                    *reasons.entry(k.clone()).or_default() += v.as_u64().unwrap();
                }
            }
            (
                s["source"].as_str().unwrap().to_string(),
                sum("rows_in"),
                sum("accepted"),
                sum("quarantined"),
                sum("without_nhs_number"),
                reasons.into_iter().collect(),
            )
        })
        .collect()
}

#[test]
fn check_counts_the_sample_as_its_run_does_and_keeps_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (tmp, out) = (dir.path().join("tmp"), dir.path().join("out"));
    std::fs::create_dir(&tmp).unwrap();
    let (code, stdout, stderr) = check(&["--json", "--out", out.to_str().unwrap()], &tmp);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();

    let ran = dir.path().join("ran");
    run_ok(None, &ran, &[]);
    let want = manifest_source_counts(&only_manifest(&ran));
    assert_eq!(check_counts(&json), want);
    // The sample's counts, pinned: a check that read nothing would agree with nothing.
    let totals: Vec<(&str, u64, u64)> = want
        .iter()
        .map(|(name, rows, accepted, ..)| (name.as_str(), *rows, *accepted))
        .collect();
    assert_eq!(
        totals,
        [
            ("apc", 1600, 1589),
            ("cld", 1463, 1450),
            ("ecds", 2200, 2192)
        ]
    );
    // Each file named with the size and hash the run's manifest records.
    let apc = &json["sources"][0]["files"][0];
    let recorded = &only_manifest(&ran)["sources"][0]["files"][0];
    assert_eq!(
        (&apc["file"], &apc["sha256"]),
        (&recorded["path"], &recorded["sha256"])
    );
    // Blank values of the columns the source reads, in accepted rows: the spells still
    // in hospital (no discharge date), those without a ready date, and the NHS numbers
    // left blank as invalid (the manifest's without_nhs_number).
    assert_eq!(
        apc["blank_in_accepted"],
        serde_json::json!({"discharge_date": 32, "discharge_ready_date": 48, "nhs_number": 5})
    );
    // Five quarantined rows listed per file by default, with where and why.
    let listed = apc["first_quarantined"].as_array().unwrap();
    assert_eq!(listed.len(), 5);
    assert_eq!(
        listed[2],
        serde_json::json!({
            "line": 292,
            "row": 291,
            "reasons": "unknown_code",
            "detail": "\"Admission Method (Hospital Provider Spell)\" value \"X9\" is not in code list \"admission_method\""
        })
    );
    // Nothing kept: no data directory, and the temporary folder left as it was.
    assert!(!out.exists());
    assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 0);
}

/// A file named with `--source` is checked as that source's, and only that source is
/// read: its rows, reasons and quarantined rows (row, line, details naming the column),
/// and whether its source stays within its threshold (here not: a run would exit 1).
#[test]
fn a_file_given_with_source_is_checked_alone_and_its_threshold_judged() {
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = check(
        &[
            "--source",
            "apc=tests/fixtures/bad/apc/two_bad_rows.csv",
            "--out",
            dir.path().join("out").to_str().unwrap(),
        ],
        dir.path(),
    );
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert_eq!(
        stdout,
        "joinedup check pipelines/sample.toml: files read against their contracts as a run reads them; nothing kept

apc (contract sus_apc v1): 1 file(s)
  tests/fixtures/bad/apc/two_bad_rows.csv (utf-8): 3 rows: 1 accepted, 2 quarantined
    quarantined for: unknown_code 2
    quarantined rows:
      row 2 (line 3): unknown_code: \"Admission Method (Hospital Provider Spell)\" value \"X9\" is not in code list \"admission_method\"
      row 3 (line 4): unknown_code: \"Admission Method (Hospital Provider Spell)\" value \"X9\" is not in code list \"admission_method\"
  apc: 66.67% of rows quarantined (threshold 5.0%: over: a run exits 1); 0.00% of accepted rows without an NHS number (threshold 10.0%: within)

a run would publish, with a source over its threshold (exit 1)
"
    );
}

/// A file a run would refuse as a whole is named with the run's reason (exit 3); the
/// source's other files are still checked; `--show 0` lists no rows.
#[test]
fn a_file_a_run_would_refuse_is_named_with_why_and_the_others_still_checked() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("apc");
    std::fs::create_dir(&folder).unwrap();
    for f in ["missing_required_column.csv", "two_bad_rows.csv"] {
        std::fs::copy(
            root().join("tests/fixtures/bad/apc").join(f),
            folder.join(f),
        )
        .unwrap();
    }
    let (code, stdout, stderr) = check(
        &[
            "--source",
            &format!("apc={}", folder.display()),
            "--show",
            "0",
            "--out",
            dir.path().join("out").to_str().unwrap(),
        ],
        dir.path(),
    );
    assert_eq!(code, 3, "{stdout}\n{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    let rejected = folder.join("missing_required_column.csv");
    assert_eq!(
        lines[3],
        format!(
            "  {0}: REJECTED: {0}:1: required column \"Start Date (Hospital Provider Spell)\" (or \"Admission_Date\") missing (contract \"sus_apc\"); the file has columns: \"Hospital Provider Spell Number\", \"Organisation code  Sender of transaction\", \"NHS Number\", \"NHS Number Status Indicator Code\", \"Sex\", \"Start Time (Hospital Provider Spell)\", \"Admission Method (Hospital Provider Spell)\", \"Source of Admission (Hospital Provider Spell)\", \"Patient Classification\", \"Treatment Function Code\", \"Discharge Date (From Hospital Provider Spell)\", \"Discharge Time (Hospital Provider Spell)\", \"Discharge Method (Hospital Provider Spell)\", \"Discharge Destination (Hospital Provider Spell)\", \"Hospital Provider Spell Discharge Ready Date\"",
            rejected.display()
        )
    );
    assert!(
        lines[4].ends_with("two_bad_rows.csv (utf-8): 3 rows: 1 accepted, 2 quarantined"),
        "{stdout}"
    );
    assert_eq!(lines[5], "    quarantined for: unknown_code 2");
    assert!(
        lines[6].starts_with("  apc: 66.67% of rows quarantined"),
        "{stdout}"
    );
    assert_eq!(
        lines.last(),
        Some(
            &"a run would be refused: a file breaks its contract as a whole, or a source holds no rows (exit 3)"
        )
    );
}

/// Under the pipeline's `DEMO-` key, a file of real NHS numbers is refused as a run
/// refuses it; the number itself is never printed.
#[test]
fn under_a_demo_key_a_file_of_real_nhs_numbers_is_refused_as_a_run_refuses_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("real.csv");
    let text = std::fs::read_to_string(root().join("tests/fixtures/bad/apc/two_bad_rows.csv"))
        .unwrap()
        .replace("9991000003", "9434765919");
    std::fs::write(&file, text).unwrap();
    let out = dir.path().join("out");
    let source = format!("apc={}", file.display());
    let (code, stdout, stderr) = check(
        &["--source", &source, "--out", out.to_str().unwrap()],
        dir.path(),
    );
    let (run_code, run_stdout, run_stderr) = result(&joinedup(&[
        "run",
        "--source",
        &source,
        "--out",
        out.to_str().unwrap(),
    ]));
    assert_eq!(run_code, 3, "{run_stdout}\n{run_stderr}");
    assert_eq!(code, 3, "{stdout}\n{stderr}");
    assert!(stdout.contains("real.csv: REJECTED: "), "{stdout}");
    assert!(!stdout.contains("9434765919") && !stderr.contains("9434765919"));
}

/// `--only` names sources the pipeline reads against a contract; another name is a
/// command-line error listing them.
#[test]
fn only_an_ingested_source_may_be_checked() {
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = check(&["--only", "apcc"], dir.path());
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    assert!(
        stderr.contains("\"apcc\" is not a source the pipeline reads against a contract; "),
        "{stderr}"
    );
    assert!(stderr.contains("\"apc\""), "{stderr}");
}

/// A fetched source is checked from what has landed in the data directory; before
/// anything has, the check says so and how to name a file instead.
#[test]
fn a_fetched_source_is_checked_from_what_has_landed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let drop = d.join("drop");
    std::fs::create_dir(&drop).unwrap();
    let pipeline = d.join("drop.toml");
    std::fs::write(
        &pipeline,
        format!(
            r#"[pipeline]
name = "drop"
schemas = "{root}/schemas"
[pseudonymisation]
demo_key = "DEMO-joinedup-sample-key-not-secret"
[sources.apc]
kind = "file_drop"
folder = "{drop}"
settle_seconds = 0
contract = "sus_apc"
mapping = "{root}/pipelines/mappings/sus_apc.toml"
[outputs.hospital_spell]
"#,
            root = root().display(),
            drop = drop.display()
        ),
    )
    .unwrap();
    let out = d.join("out");
    let args = [pipeline.to_str().unwrap(), "--out", out.to_str().unwrap()];
    let (code, stdout, stderr) = check(&args, d);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines[2..],
        [
            "apc (contract sus_apc v1): 0 file(s)",
            &format!(
                "  no files: fetched, and nothing has landed for it in {}: name a file with --source apc=PATH",
                out.display()
            ),
            "",
            "no file was checked",
        ]
    );
    std::fs::copy(
        root().join("tests/fixtures/bad/apc/two_bad_rows.csv"),
        drop.join("two_bad_rows.csv"),
    )
    .unwrap();
    let (code, stdout, stderr) = result(&joinedup(&["pull", args[0], "--out", args[2]]));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let (code, stdout, stderr) = check(&args, d);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    // The landed copy (named with its hash) is what a run would read.
    let line = stdout.lines().nth(3).unwrap();
    assert!(
        line.starts_with(&format!("  {}/landing/apc/two_bad_rows__", out.display()))
            && line.ends_with(".csv (utf-8): 3 rows: 1 accepted, 2 quarantined"),
        "{stdout}"
    );
}

/// A source whose files hold no data rows is refused by a run unless it allows that
/// (`allow_empty`): the check says so, with the run's reason, and exits 3.
#[test]
fn a_source_of_no_data_rows_is_refused_as_a_run_refuses_it() {
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = check(
        &["--source", "apc=tests/fixtures/bad/apc/header_only.csv"],
        dir.path(),
    );
    assert_eq!(code, 3, "{stdout}\n{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines[3..],
        [
            "  tests/fixtures/bad/apc/header_only.csv (utf-8): 0 rows: 0 accepted, 0 quarantined",
            "    warning: tests/fixtures/bad/apc/header_only.csv: a header and no data rows (source apc)",
            "  REFUSED: source apc: its 1 file(s) hold no data rows (a header only, or nothing at all), which would empty every dataset it feeds: a run refuses it (set allow_empty = true under [sources.apc] if it may be empty)",
            "",
            "a run would be refused: a file breaks its contract as a whole, or a source holds no rows (exit 3)",
        ]
    );
}

/// A contract being written is checked alone, before it has a mapping or a pipeline:
/// here a contract drafted from one council's file, against every council's files. Every
/// column is checked, with the default thresholds (this CLD's 12.6 % of clients without
/// an NHS number is over the default 10 %, where the sample pipeline allows 20 %).
#[test]
fn a_drafted_contract_is_checked_alone_before_it_has_a_mapping() {
    let dir = tempfile::tempdir().unwrap();
    let (code, drafted, stderr) = result(&joinedup(&[
        "draft",
        "data-samples/cld/cld_901_2026Q3.csv",
        "--name",
        "cld_901",
    ]));
    assert_eq!(code, 0, "{stderr}");
    let contract = contract_alone(dir.path(), "cld_901", &drafted);
    let (code, stdout, stderr) = check(
        &[
            "--contract",
            contract.to_str().unwrap(),
            "--file",
            "data-samples/cld",
            "--show",
            "0",
        ],
        dir.path(),
    );
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    let counts: Vec<&str> = stdout
        .lines()
        .filter(|l| l.contains(" accepted, ") || l.starts_with("  cld_901: "))
        .collect();
    assert_eq!(
        counts,
        [
            "  data-samples/cld/cld_901_2026Q3.csv (windows-1252): 458 rows: 455 accepted, 3 quarantined",
            "  data-samples/cld/cld_902_2026Q3.csv (windows-1252): 531 rows: 529 accepted, 2 quarantined",
            "  data-samples/cld/cld_903_2026Q3.csv (windows-1252): 474 rows: 472 accepted, 2 quarantined",
            "  cld_901: 0.48% of rows quarantined (threshold 5.0%: within); 12.57% of accepted rows without an NHS number (threshold 10.0%: over: a run exits 1)",
        ]
    );

    // A contract is read where its code lists are: <schemas>/sources/<name>.toml.
    let elsewhere = dir.path().join("cld_901.toml");
    std::fs::copy(&contract, &elsewhere).unwrap();
    let (code, stdout, stderr) = check(
        &[
            "--contract",
            elsewhere.to_str().unwrap(),
            "--file",
            "data-samples/cld",
        ],
        dir.path(),
    );
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    assert!(
        stderr.contains("a contract is read as <schemas>/sources/<name>.toml, beside the code lists it names in <schemas>/codes/"),
        "{stderr}"
    );
}

/// Regression (known limit of session 26): with `--contract` every column is read, so a
/// date of birth declared `date` instead of `sensitive` was quoted in the details of
/// `check`'s listed rows. A column whose header names personal data is checked as
/// declared, but its values are never shown: not a bad one in its own detail, nor a good
/// one beside another column's fault.
#[test]
fn regression_a_date_of_birth_declared_a_date_is_checked_but_never_quoted() {
    let dir = tempfile::tempdir().unwrap();
    let (code, drafted, stderr) = result(&joinedup(&[
        "draft",
        "data-samples/cld/cld_901_2026Q3.csv",
        "--name",
        "dob_date",
    ]));
    assert_eq!(code, 0, "{stderr}");
    let declared = "header = \"Date of Birth\"\ntype = \"sensitive\"  # personal data: recognised by its header, never read";
    assert!(drafted.contains(declared), "{drafted}");
    let contract = contract_alone(
        dir.path(),
        "dob_date",
        &drafted.replace(
            declared,
            "header = \"Date of Birth\"\ntype = \"date\"\nformats = [\"%d/%m/%Y\"]",
        ),
    );
    // The sample file's first two rows: an impossible date of birth in the first, an
    // unknown event type beside a real-looking one in the second.
    let sample = std::fs::read("data-samples/cld/cld_901_2026Q3.csv").unwrap();
    let mut lines = sample.split(|&b| b == b'\n');
    let header = lines.next().unwrap();
    let first = String::from_utf8_lossy(lines.next().unwrap()).replace("01/10/1996", "31/02/1996");
    let second = String::from_utf8_lossy(lines.next().unwrap()).replace(",Service,", ",Servise,");
    assert!(
        first.contains("31/02/1996")
            && second.contains("15/03/1932,")
            && second.contains(",Servise,")
    );
    let file = dir.path().join("cld_dob.csv");
    let mut bytes = header.to_vec();
    for line in [first, second] {
        bytes.push(b'\n');
        bytes.extend(line.into_bytes());
    }
    std::fs::write(&file, bytes).unwrap();
    let (code, stdout, stderr) = check(
        &[
            "--contract",
            contract.to_str().unwrap(),
            "--file",
            file.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("2 rows: 0 accepted, 2 quarantined"),
        "{stdout}"
    );
    assert!(
        stdout.contains("\"Date of Birth\" value <withheld: personal data> is not a real date/time in format %d/%m/%Y"),
        "{stdout}"
    );
    assert!(stdout.contains("\"Servise\""), "{stdout}");
    for date_of_birth in ["1996", "1932"] {
        assert!(
            !stdout.contains(date_of_birth),
            "{date_of_birth} in {stdout}"
        );
        assert!(
            !stderr.contains(date_of_birth),
            "{date_of_birth} in {stderr}"
        );
    }
}

/// An ECDS extract saved from Excel has lost the department type's leading zero (`1` for
/// `01`): the shipped list takes it as the code it is (`leading_zeros_optional`), and a
/// value that is no code with its zero put back is still unknown.
#[test]
fn a_department_type_without_its_leading_zero_is_the_code_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let sample = std::fs::read_to_string("data-samples/ecds/ecds_attendances_2026Q3.csv").unwrap();
    let mut lines = sample.lines();
    let header = lines.next().unwrap();
    let rows: Vec<&str> = lines.take(3).collect();
    for row in &rows {
        assert!(row.contains(",01,"), "{row}");
    }
    let file = dir.path().join("ecds_from_excel.csv");
    std::fs::write(
        &file,
        [
            header.to_string(),
            rows[0].replacen(",01,", ",1,", 1),
            rows[1].replacen(",01,", ",5,", 1),
            rows[2].to_string(),
        ]
        .join("\n"),
    )
    .unwrap();
    let (code, stdout, stderr) = check(
        &[
            "--contract",
            "schemas/sources/ecds.toml",
            "--file",
            file.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("3 rows: 2 accepted, 1 quarantined"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "\"EC_Department_Type\" value \"5\" is not in code list \"ecds_department_type\""
        ),
        "{stdout}"
    );
}

/// A check stopped by a signal while a workbook is read leaves nothing in the temporary
/// folder: the sheet copied out there, with its NHS numbers, is removed with it.
#[test]
fn a_check_stopped_by_a_signal_leaves_no_copy_of_a_workbook() {
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let book = dir.path().join("apc.xlsx");
    csv_as_workbook(&root().join("tests/fixtures/bad/apc/valid.csv"), &book);
    let tmp = dir.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let mut check = Command::new(env!("CARGO_BIN_EXE_joinedup"))
        .current_dir(root())
        .args(["check", "--source"])
        .arg(format!("apc={}", book.display()))
        .env("TMPDIR", &tmp)
        .env("JOINEDUP_FAULT", "sleep:ingest_workbook_copied:20000")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (mut stderr, mut seen) = until_paused(&mut check, "ingest_workbook_copied");
    // The sheet's copy is there while it is read.
    let copies = || -> Vec<std::path::PathBuf> {
        let mut found = Vec::new();
        let mut stack = vec![tmp.clone()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).into_iter().flatten() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p.clone());
                }
                found.push(p);
            }
        }
        found
    };
    assert!(
        copies().iter().any(|p| p.ends_with("workbook/apc.xlsx")),
        "{:?}",
        copies()
    );
    assert!(
        Command::new("kill")
            .args(["-TERM", &check.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    std::io::Read::read_to_string(&mut stderr, &mut seen).unwrap();
    assert_eq!(check.wait().unwrap().code(), Some(143), "{seen}");
    assert_eq!(copies(), Vec::<std::path::PathBuf>::new());
}

/// Regression (review): each source's files were listed alone, so a file two sources
/// read, which a run refuses (its rows would count twice), was checked twice instead.
#[test]
fn regression_a_file_two_sources_read_is_refused_as_a_run_refuses_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = "tests/fixtures/bad/apc/valid.csv";
    let (code, stdout, stderr) = check(
        &[
            "--source",
            &format!("apc={file}"),
            "--source",
            &format!("ecds={file}"),
        ],
        dir.path(),
    );
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    assert!(stderr.contains("which sources.apc reads too"), "{stderr}");
}

/// Regression (review): a contract with no NHS number or pseudonym column was said to
/// have "0.00% of accepted rows without an NHS number": it has no such column at all.
#[test]
fn regression_a_contract_without_an_nhs_number_column_is_said_to_have_none() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = "tests/fixtures/draft/dates_tbc_and_lower_case_null.csv";
    let (code, drafted, stderr) = result(&joinedup(&["draft", fixture, "--name", "counts"]));
    assert_eq!(code, 0, "{stderr}");
    let contract = contract_alone(dir.path(), "counts", &drafted);
    let (code, stdout, stderr) = check(
        &["--contract", contract.to_str().unwrap(), "--file", fixture],
        dir.path(),
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("  counts: 0.00% of rows quarantined (threshold 5.0%: within); no NHS number or pseudonym column keys its persons\n"),
        "{stdout}"
    );
}
