//! Publication runs follow the operational rules of every run: one file per month in each
//! dataset folder, unchanged months kept as they were, nothing done when no input changed,
//! the data directory's lock, whole datasets after a crash, and `explain` / `status`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::workbook::{Fixture, write};
use super::*;

const DATASETS: [&str; 5] = [
    "ae_monthly",
    "sitrep_bed_days",
    "sitrep_daily",
    "sitrep_delay_reasons",
    "sitrep_destinations",
];

/// A sitrep folder holding one fixture workbook, and a small tidy A&E folder.
fn inputs(dir: &Path, sitrep: &str, files: &[(&str, Fixture)]) -> (PathBuf, PathBuf) {
    let folder = dir.join(sitrep);
    std::fs::create_dir_all(&folder).unwrap();
    for (name, f) in files {
        write(&folder.join(name), f);
    }
    let ae = dir.join("ae");
    if !ae.exists() {
        std::fs::create_dir_all(&ae).unwrap();
        std::fs::write(
            ae.join("2023-06.csv"),
            "period,org_code,type,attendances,breaches,admissions\n2023-06-01,RAL,1,100,10,20\n",
        )
        .unwrap();
    }
    (folder, ae)
}

/// Starts the publications pipeline over `sitrep` and `ae` into `out`, paused by `fault`
/// (`sleep:<point>:<ms>`); stderr is piped.
fn spawn_paused(sitrep: &Path, ae: &Path, out: &Path, fault: &str) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_joinedup"))
        .current_dir(root())
        .args(["run", "pipelines/nhse_publications.toml", "--source"])
        .arg(format!("sitrep={}", sitrep.display()))
        .arg("--source")
        .arg(format!("ae={}", ae.display()))
        .args(["--out", out.to_str().unwrap()])
        .env("JOINEDUP_FAULT", fault)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Reads `child`'s stderr until the fault pauses at `point`; returns the reader and what
/// was read.
fn until_paused(
    child: &mut std::process::Child,
    point: &str,
) -> (std::io::BufReader<std::process::ChildStderr>, String) {
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    while !seen.contains(&format!("fault: pausing at {point}")) {
        let n = std::io::BufRead::read_line(&mut stderr, &mut seen).unwrap();
        assert!(n > 0, "no pause at {point}: {seen}");
    }
    (stderr, seen)
}

/// The July workbook: the same tables, stated (and so keyed) as July.
fn july() -> Fixture {
    Fixture {
        cover: Some(((2023, 8, 10), None)),
        cover_period: ((2023, 7, 1), (2023, 7, 31)),
        ..Fixture::default()
    }
}

/// The files of one dataset folder, by name.
fn month_files(out: &Path, dataset: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(out.join("published").join(dataset))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

/// Every published file: relative path → bytes.
fn data(out: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    files_under(&out.join("published"))
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p.strip_prefix(out).unwrap().to_path_buf(), bytes)
        })
        .collect()
}

fn by_dataset(all: &BTreeMap<PathBuf, Vec<u8>>) -> BTreeMap<PathBuf, BTreeMap<PathBuf, Vec<u8>>> {
    let mut out: BTreeMap<PathBuf, BTreeMap<PathBuf, Vec<u8>>> = BTreeMap::new();
    for (p, b) in all {
        out.entry(p.parent().unwrap().to_path_buf())
            .or_default()
            .insert(p.clone(), b.clone());
    }
    out
}

fn inodes(out: &Path) -> BTreeMap<PathBuf, u64> {
    use std::os::unix::fs::MetadataExt;
    files_under(&out.join("published"))
        .into_iter()
        .map(|p| {
            let ino = std::fs::metadata(&p).unwrap().ino();
            (p, ino)
        })
        .collect()
}

#[test]
fn publication_datasets_are_month_files_and_unchanged_months_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let (june, ae) = inputs(dir.path(), "june", &[("june.xlsx", Fixture::default())]);
    let out = dir.path().join("out");
    let (code, _, stderr) = run(&out, &[("sitrep", &june), ("ae", &ae)]);
    assert_eq!(code, 0, "{stderr}");
    for d in DATASETS {
        assert_eq!(month_files(&out, d), ["2023-06.parquet"], "{d}");
    }
    let first = inodes(&out);

    // The same inputs again: nothing to do, not a file touched.
    let (code, stdout, stderr) = run(&out, &[("sitrep", &june), ("ae", &ae)]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("up to date: 2 input file(s) unchanged since the last run; nothing to do"),
        "{stdout}"
    );
    assert_eq!(manifest(&out)["mode"], "up_to_date");
    assert_eq!(inodes(&out), first);

    // July's folder: July is added beside June, whose files stay as they were.
    let (july_folder, _) = inputs(dir.path(), "july", &[("july.xlsx", july())]);
    let (code, _, stderr) = run(&out, &[("sitrep", &july_folder), ("ae", &ae)]);
    assert_eq!(code, 0, "{stderr}");
    let now = inodes(&out);
    for (path, ino) in &first {
        assert_eq!(now.get(path), Some(ino), "{} was rewritten", path.display());
    }
    for d in DATASETS.iter().filter(|d| d.starts_with("sitrep")) {
        assert_eq!(
            month_files(&out, d),
            ["2023-06.parquet", "2023-07.parquet"],
            "{d}"
        );
    }
    let m = manifest(&out);
    let daily = m["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["dataset"] == "sitrep_daily")
        .unwrap();
    let rewritten: Vec<(&str, bool)> = daily["partitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["file"].as_str().unwrap(),
                p["rewritten"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rewritten,
        [("2023-06.parquet", false), ("2023-07.parquet", true)]
    );
    let table = dataset(&out, "sitrep_daily");
    assert_eq!(table.rows, 2 * 3 * 7, "June and July, each whole");
    let months: std::collections::BTreeSet<_> =
        table.col("report_month").iter().flatten().collect();
    assert_eq!(months.len(), 2);
}

#[test]
fn a_second_publications_run_at_the_same_time_exits_6() {
    let dir = tempfile::tempdir().unwrap();
    let (june, ae) = inputs(dir.path(), "june", &[("june.xlsx", Fixture::default())]);
    let out = dir.path().join("out");
    let first = spawn_paused(&june, &ae, &out, "sleep:run_after_lock:3000");
    let lock = out.join(".lock");
    let start = std::time::Instant::now();
    while !lock.exists() && start.elapsed().as_secs() < 10 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    let (code, _, stderr) = run(&out, &[("sitrep", &june), ("ae", &ae)]);
    assert_eq!(code, 6, "{stderr}");
    assert!(stderr.contains("another joinedup run holds"), "{stderr}");
    let status = first.wait_with_output().unwrap().status;
    assert!(status.success(), "{status}");
    for d in DATASETS {
        assert_eq!(month_files(&out, d), ["2023-06.parquet"], "{d}");
    }
}

#[test]
fn a_publications_run_killed_anywhere_leaves_whole_datasets_and_the_next_run_completes_it() {
    let dir = tempfile::tempdir().unwrap();
    let (june, ae) = inputs(dir.path(), "june", &[("june.xlsx", Fixture::default())]);
    let (july_folder, _) = inputs(dir.path(), "july", &[("july.xlsx", july())]);
    let after_june = dir.path().join("after_june");
    assert_eq!(run(&after_june, &[("sitrep", &june), ("ae", &ae)]).0, 0);
    let reference = dir.path().join("reference");
    copy_tree(&after_june, &reference);
    let (code, _, stderr) = run(&reference, &[("sitrep", &july_folder), ("ae", &ae)]);
    assert_eq!(code, 0, "{stderr}");
    let (old, new) = (
        by_dataset(&data(&after_june)),
        by_dataset(&data(&reference)),
    );
    assert_ne!(old, new);

    for point in [
        "run_after_lock",
        "run_after_pull",
        "run_after_ingest",
        "publish_staged_published_ae_monthly",
        "publish_staged_published_sitrep_daily",
        "run_before_switch",
        "publish_switched_published_sitrep_bed_days",
        "publish_switched_published_sitrep_daily",
        "run_before_manifest",
        "run_before_state",
        "run_after_state",
    ] {
        let out = dir.path().join(format!("crash_{point}"));
        copy_tree(&after_june, &out);
        let sources = [("sitrep", july_folder.as_path()), ("ae", ae.as_path())];
        let (code, _, stderr) = run_env(&out, &sources, &[("JOINEDUP_FAULT", point)]);
        assert!(
            code != 0 && stderr.contains(&format!("fault injected at {point}")),
            "{point} was not reached: {code} {stderr}"
        );
        for (dataset, files) in by_dataset(&data(&out)) {
            assert!(
                old.get(&dataset) == Some(&files) || new.get(&dataset) == Some(&files),
                "after a crash at {point}, {} is neither the previous nor the new version",
                dataset.display()
            );
        }
        let (code, _, stderr) = run(&out, &sources);
        assert_eq!(code, 0, "{point}: {stderr}");
        assert_eq!(
            by_dataset(&data(&out)),
            new,
            "after a crash at {point}, the next run did not converge"
        );
        assert!(!out.join(".staging").exists(), "{point}");
    }
}

#[test]
fn explain_and_status_describe_a_publications_pipeline() {
    let dir = tempfile::tempdir().unwrap();
    let (june, ae) = inputs(dir.path(), "june", &[("june.xlsx", Fixture::default())]);
    let out = dir.path().join("out");
    let sources = [
        "--source".to_string(),
        format!("sitrep={}", june.display()),
        "--source".to_string(),
        format!("ae={}", ae.display()),
        "--out".to_string(),
        out.display().to_string(),
    ];
    let inspect = |command: &str| {
        let mut args = vec![command, "pipelines/nhse_publications.toml"];
        args.extend(sources.iter().map(String::as_str));
        let (code, stdout, stderr) = result(&joinedup(&args));
        assert_eq!(code, 0, "{command}: {stderr}");
        stdout
    };
    let text = inspect("explain");
    for line in [
        "key      none needed (no person-level data is ingested)",
        "NHS England publication sources",
        &format!(
            "  ae         nhse_ae: {} (*.csv) with labels ",
            ae.display()
        ),
        &format!(
            "  sitrep     nhse_sitrep: {} (*.xlsx) with labels ",
            june.display()
        ),
        "  published/ae_monthly/<YYYY-MM>.parquet by month; republished as NHS England published it (disclosure = \"none\")",
        "  published/sitrep_daily/<YYYY-MM>.parquet by report_month;",
        "  published/sitrep_delay_reasons/<YYYY-MM>.parquet by report_month;",
        "a run now would rebuild everything",
    ] {
        assert!(text.contains(line), "missing {line:?} in:\n{text}");
    }
    assert!(!text.contains("\nlink "), "{text}");
    assert!(!out.exists(), "explain writes nothing");

    assert_eq!(run(&out, &[("sitrep", &june), ("ae", &ae)]).0, 0);
    assert!(
        inspect("explain").contains("up to date: 2 input file(s) unchanged since the last run"),
        "{}",
        inspect("explain")
    );
    let status = inspect("status");
    let run_id = manifest(&out)["run_id"].as_str().unwrap().to_string();
    let line = status
        .lines()
        .find(|l| l.contains(&run_id))
        .unwrap_or_else(|| panic!("no line for {run_id} in:\n{status}"));
    let fields: Vec<&str> = line.split_whitespace().collect();
    // 3 × 7 daily + 3 × 4 × 3 bed days + … rows read: the run's rows, not zero.
    assert_eq!(fields[1], "ok", "{line}");
    assert_ne!(fields.last(), Some(&"0"), "{line}");
    assert!(
        status.contains("pending (pipelines/nhse_publications.toml)"),
        "{status}"
    );
}

#[test]
fn an_excel_lock_file_beside_the_workbooks_is_not_read() {
    // Regression: a workbook open in Excel leaves `~$<name>.xlsx` beside it; it matched
    // `*.xlsx` and failed the run with exit code 3.
    let dir = tempfile::tempdir().unwrap();
    let (june, ae) = inputs(dir.path(), "june", &[("june.xlsx", Fixture::default())]);
    std::fs::write(june.join("~$june.xlsx"), b"\x0cjoinedup   ").unwrap();
    let out = dir.path().join("out");
    let (code, _, stderr) = run(&out, &[("sitrep", &june), ("ae", &ae)]);
    assert_eq!(code, 0, "{stderr}");
    let m = manifest(&out);
    let files: Vec<&str> = m["publications"][1]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0].ends_with("/june.xlsx"), "{files:?}");
}

/// Regression: publication files named with an NHS number put it in every published
/// file's `source_file`, and in the manifest's periods and data-quality findings.
#[test]
fn an_nhs_number_in_a_publication_s_file_name_is_masked_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let (june, ae) = inputs(
        dir.path(),
        "june",
        &[("june_9434765919.xlsx", Fixture::default())],
    );
    std::fs::rename(ae.join("2023-06.csv"), ae.join("ae_9434765919.csv")).unwrap();
    let out = dir.path().join("out");
    let (code, stdout, stderr) = run(&out, &[("sitrep", &june), ("ae", &ae)]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stdout.contains("9434765919") && !stderr.contains("9434765919"));
    for f in files_under(&out) {
        let rel = f.strip_prefix(&out).unwrap().to_string_lossy().into_owned();
        if rel.starts_with("state/") {
            continue;
        }
        let bytes = std::fs::read(&f).unwrap();
        assert!(
            !bytes.windows(10).any(|w| w == b"9434765919"),
            "{rel} holds the NHS number"
        );
    }
    // The data holds the name masked (Parquet pages are compressed: read, not scanned).
    for d in DATASETS {
        let table = read_parquet(&out.join("published").join(d));
        let names = table.col("source_file");
        assert!(
            names.iter().all(|n| n
                .as_deref()
                .is_some_and(|n| n == "june_<withheld>.xlsx" || n == "ae_<withheld>.csv")),
            "{d}: {names:?}"
        );
    }
}

/// Regression (review): a publications run that exits 3 (a workbook that cannot be
/// understood) set status `files_failed` but no `error`, so `status`, which prints a
/// failed run's exit code and message from it, showed neither.
#[test]
fn regression_status_shows_a_publications_run_s_failed_files_and_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let broken = Fixture {
        broken_table_5: true,
        ..Fixture::default()
    };
    let (june, ae) = inputs(dir.path(), "june", &[("broken.xlsx", broken)]);
    let out = dir.path().join("out");
    let (code, _, stderr) = run(&out, &[("sitrep", &june), ("ae", &ae)]);
    assert_eq!(code, 3, "{stderr}");
    let m = manifest(&out);
    let message = format!(
        "1 file could not be loaded (the others were published): {}: sheet \"Table 5\" cell B1: no England row: looked for a cell starting \"ENGLAND\" in rows 2–17, columns B–M",
        june.join("broken.xlsx").display()
    );
    assert_eq!(
        (m["status"].as_str(), &m["error"]),
        (
            Some("files_failed"),
            &serde_json::json!({"exit_code": 3, "message": message})
        )
    );
    let (code, stdout, stderr) = result(&joinedup(&[
        "status",
        "pipelines/nhse_publications.toml",
        "--source",
        &format!("sitrep={}", june.display()),
        "--source",
        &format!("ae={}", ae.display()),
        "--out",
        out.to_str().unwrap(),
    ]));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains(&format!("\n    exit 3: {message}\n")),
        "{stdout}"
    );
}

/// Regression (review): a state file that was there but could not be parsed was taken
/// for a first run, silently ("configuration … changed, or first run"), and `status` left
/// out a run whose manifest it could not read, so an older run looked like the latest.
#[test]
fn regression_an_unreadable_state_or_manifest_is_named_not_passed_over() {
    let dir = tempfile::tempdir().unwrap();
    let (june, ae) = inputs(dir.path(), "june", &[("june.xlsx", Fixture::default())]);
    let out = dir.path().join("out");
    let sources = [("sitrep", june.as_path()), ("ae", ae.as_path())];
    assert_eq!(run(&out, &sources).0, 0);
    let state = out.join("state/nhse_publications.json");
    std::fs::write(&state, "{\"version\": 2, \"fingerprint\": \"ab").unwrap();
    let why = format!(
        "the saved state cannot be read: {}: EOF while parsing a string at line 1 column 33",
        state.display()
    );
    let warning = format!(
        "{why}; every input is read and every dataset rebuilt, as on a first run, and the state is written anew"
    );
    let inspect = |command: &str| {
        let mut args = vec![
            command.to_string(),
            "pipelines/nhse_publications.toml".into(),
        ];
        for (name, path) in sources {
            args.push("--source".into());
            args.push(format!("{name}={}", path.display()));
        }
        args.extend(["--out".to_string(), out.display().to_string()]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, stdout, stderr) = result(&joinedup(&args));
        assert_eq!(code, 0, "{command}: {stderr}");
        stdout
    };
    for command in ["explain", "status"] {
        let text = inspect(command);
        assert!(
            text.contains(&format!(
                "  warning: {warning}\n  a run now would rebuild everything ({why})"
            )),
            "{command}: {text}"
        );
    }
    let (code, stdout, stderr) = run(&out, &sources);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains(&format!("rebuilt from everything ({why})")),
        "{stdout}"
    );
    assert!(stdout.contains(&format!("warning: {warning}")), "{stdout}");
    assert!(stderr.contains(&warning), "{stderr}");
    assert_eq!(manifest(&out)["warnings"][0], warning.as_str());
    // The run wrote the state anew: the next has nothing to do.
    assert!(inspect("explain").contains("up to date"));

    // The latest run's manifest cut short: listed as unreadable, first.
    let latest = manifest(&out)["run_id"].as_str().unwrap().to_string();
    let path = out.join("runs").join(&latest).join("manifest.json");
    std::fs::write(&path, "{\"run_id\": ").unwrap();
    let text = inspect("status");
    let listed: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("last runs"))
        .skip(1)
        .take(2)
        .collect();
    assert_eq!(
        listed[0],
        format!(
            "  manifest unreadable: {}: EOF while parsing a value at line 1 column 11",
            path.display()
        ),
        "{text}"
    );
    assert!(listed[1].contains(" ok "), "{text}");
}

/// Regression (review): with a person-level and a publications pipeline in one data
/// directory, `status` printed one list of both pipelines' runs without saying which was
/// which, even when given one pipeline; and its "rows in" showed 0 for a run stopped
/// after it had read its files.
#[test]
fn regression_status_lists_its_pipeline_s_runs_or_names_each_pipeline() {
    let dir = tempfile::tempdir().unwrap();
    let (june, ae) = inputs(dir.path(), "june", &[("june.xlsx", Fixture::default())]);
    let out = dir.path().join("out");
    run_ok(None, &out, &["-q"]);
    let sample = manifest(&out)["run_id"].as_str().unwrap().to_string();
    // A publications run stopped by SIGTERM after reading its files.
    let mut stopped = spawn_paused(&june, &ae, &out, "sleep:run_after_ingest:20000");
    let (mut stderr, mut line) = until_paused(&mut stopped, "run_after_ingest");
    let pid = stopped.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    std::io::Read::read_to_string(&mut stderr, &mut line).unwrap();
    assert_eq!(stopped.wait().unwrap().code(), Some(143), "{line}");
    let interrupted = manifest(&out)["run_id"].as_str().unwrap().to_string();
    assert_eq!(run(&out, &[("sitrep", &june), ("ae", &ae)]).0, 0);
    let publications = manifest(&out)["run_id"].as_str().unwrap().to_string();

    let status = |pipeline: Option<&str>| {
        let mut args = vec!["status"];
        args.extend(pipeline);
        args.extend(["--out", out.to_str().unwrap()]);
        let (code, stdout, stderr) = result(&joinedup(&args));
        assert_eq!(code, 0, "{stderr}");
        stdout
    };
    let fields = |text: &str, id: &str| -> Vec<String> {
        text.lines()
            .find(|l| l.contains(id))
            .unwrap_or_else(|| panic!("no {id} in:\n{text}"))
            .split_whitespace()
            .map(String::from)
            .collect()
    };
    let pick = |f: Vec<String>, at: &[usize]| -> Vec<String> {
        at.iter().map(|&i| f[i].clone()).collect()
    };
    // One pipeline: its runs only, and a word on the others.
    let text = status(Some("pipelines/nhse_publications.toml"));
    assert!(!text.contains(&sample), "{text}");
    assert!(
        text.contains("\nlast runs of pipeline nhse_publications "),
        "{text}"
    );
    // The rows the files gave: the workbook's four tables, and the A&E file's one line.
    assert_eq!(
        pick(fields(&text, &publications), &[1, 3]),
        ["ok", "106"],
        "{text}"
    );
    assert_eq!(
        pick(fields(&text, &interrupted), &[1, 3]),
        ["failed", "–"],
        "{text}"
    );
    assert!(
        text.contains("  (this data directory also holds runs of sample: `joinedup status` without a pipeline lists every pipeline's)"),
        "{text}"
    );
    // No pipeline: every run, each with its pipeline (the sample's rows in, all sources).
    let text = status(None);
    assert_eq!(
        pick(fields(&text, &sample), &[1, 2, 4]),
        ["sample", "ok", "5263"],
        "{text}"
    );
    assert_eq!(
        pick(fields(&text, &publications), &[1, 2]),
        ["nhse_publications", "ok"],
        "{text}"
    );
    assert!(
        text.ends_with("\n\npending: name a pipeline file (joinedup status PIPELINE --out DIR) to see what a run of it would do now\n"),
        "{text}"
    );
}

/// Regression (review): a publication file rewritten between the run's listing (and
/// hashing) of it and its loading was loaded under the old hash, so the next run found
/// nothing changed. Now the run exits 4, keeps nothing, and the next run loads it.
#[test]
fn regression_a_file_rewritten_after_it_was_listed_is_not_kept() {
    let dir = tempfile::tempdir().unwrap();
    let (june, ae) = inputs(dir.path(), "june", &[("june.xlsx", Fixture::default())]);
    let out = dir.path().join("out");
    let mut first = spawn_paused(&june, &ae, &out, "sleep:run_after_pull:2000");
    let (mut stderr, mut seen) = until_paused(&mut first, "run_after_pull");
    std::fs::write(
        ae.join("2023-06.csv"),
        "period,org_code,type,attendances,breaches,admissions\n2023-06-01,RAL,1,200,10,20\n",
    )
    .unwrap();
    std::io::Read::read_to_string(&mut stderr, &mut seen).unwrap();
    assert_eq!(first.wait().unwrap().code(), Some(4), "{seen}");
    assert!(
        seen.contains("2023-06.csv changed while the run was reading it: nothing read from it is kept; run again once it is complete"),
        "{seen}"
    );
    assert!(!out.join("published/ae_monthly").exists());
    let (code, _, stderr) = run(&out, &[("sitrep", &june), ("ae", &ae)]);
    assert_eq!(code, 0, "{stderr}");
    let t = dataset(&out, "ae_monthly");
    assert!(
        t.col("attendances")
            .iter()
            .any(|v| v.as_deref() == Some("200")),
        "{t:?}"
    );
}
