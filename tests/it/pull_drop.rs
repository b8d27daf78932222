//! Drop folders: files that stopped growing land once, originals move aside only after
//! landing, a crash in between re-lands nothing, and `joinedup run` ingests what landed.

use std::path::Path;

use crate::util::*;

fn pipeline(dir: &Path, settle: u64, ingest: bool) -> String {
    pipeline_with_pattern(dir, settle, ingest, "cld_*.csv")
}

/// [`pipeline`], its drop folder taking the files `pattern` matches.
fn pipeline_with_pattern(dir: &Path, settle: u64, ingest: bool, pattern: &str) -> String {
    let r = root();
    let ingest_keys = if ingest {
        // The sample's council clients without an NHS number, as its pipeline allows.
        "contract = \"cld\"\nmapping = \"mappings/cld.toml\"\nmax_without_nhs_number_fraction = 0.2\n"
    } else {
        ""
    };
    let text = format!(
        r#"[pipeline]
name = "drop-test"
schemas = "{schemas}"

[pseudonymisation]
demo_key = "DEMO-drop-test-key-0123"

[sources.cld]
kind = "file_drop"
folder = "drop"
pattern = "{pattern}"
settle_seconds = {settle}
{ingest_keys}
[sources.apc]
kind = "local"
path = "{apc}"
contract = "sus_apc"
mapping = "mappings/sus_apc.toml"

[sources.ecds]
kind = "local"
path = "{ecds}"
contract = "ecds"
mapping = "mappings/ecds.toml"

[outputs.social_care_event]
[outputs.patient_journey]
"#,
        schemas = r.join("schemas").display(),
        apc = r.join("data-samples/apc").display(),
        ecds = r.join("data-samples/ecds").display(),
    );
    std::fs::create_dir_all(dir.join("mappings")).unwrap();
    for m in ["cld", "sus_apc", "ecds"] {
        std::fs::copy(
            r.join(format!("pipelines/mappings/{m}.toml")),
            dir.join(format!("mappings/{m}.toml")),
        )
        .unwrap();
    }
    std::fs::create_dir_all(dir.join("drop")).unwrap();
    let p = dir.join("drop.toml");
    std::fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_string()
}

fn counts(stdout: &str) -> Vec<u64> {
    let line = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("cld "))
        .unwrap_or_else(|| panic!("{stdout}"));
    line.split_whitespace()
        .skip(2)
        .map(|v| v.parse().unwrap())
        .collect()
}

/// A file still being written: `bytes` appended to `path` every 100 ms, `times` times.
fn keep_writing(path: &Path, times: usize, bytes: &'static [u8]) -> std::thread::JoinHandle<()> {
    let path = path.to_path_buf();
    std::thread::spawn(move || {
        for _ in 0..times {
            std::thread::sleep(std::time::Duration::from_millis(100));
            let mut f = std::fs::OpenOptions::new()
                .append(true)
                .open(&path)
                .unwrap();
            std::io::Write::write_all(&mut f, bytes).unwrap();
        }
    })
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn settled_files_land_once_and_move_aside_after_landing() {
    let dir = tempfile::tempdir().unwrap();
    let pipeline = pipeline(dir.path(), 1, false);
    let (drop, out) = (dir.path().join("drop"), dir.path().join("out"));
    std::fs::write(drop.join("cld_901_a.csv"), "a\n").unwrap();
    std::fs::write(drop.join("cld_902_b.csv"), "b\n").unwrap();
    std::fs::write(drop.join("notes.txt"), "not a cld file").unwrap();

    // A file still being written while the pull watches it is left for next time.
    let growing = drop.join("cld_903_c.csv");
    std::fs::write(&growing, "c").unwrap();
    let writer = keep_writing(&growing, 15, b"c");
    let (code, stdout, stderr) = result(&joinedup(&[
        "pull",
        &pipeline,
        "--out",
        out.to_str().unwrap(),
    ]));
    writer.join().unwrap();
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(counts(&stdout), [3, 2, 0, 0, 1, 0], "{stdout}");
    assert_eq!(names(&drop), ["cld_903_c.csv", "notes.txt", "processed"]);
    assert_eq!(
        names(&drop.join("processed")),
        ["cld_901_a.csv", "cld_902_b.csv"]
    );

    // It has stopped growing now. The same content dropped again under a new name lands
    // under that name (a resubmission reverting to an earlier version is current), and
    // under its own name again is recognised.
    std::fs::write(drop.join("cld_901_a_resent.csv"), "a\n").unwrap();
    std::fs::write(drop.join("cld_902_b.csv"), "b\n").unwrap();
    let (code, stdout, _) = result(&joinedup(&[
        "pull",
        &pipeline,
        "--out",
        out.to_str().unwrap(),
    ]));
    assert_eq!(code, 0);
    assert_eq!(counts(&stdout), [3, 2, 1, 0, 0, 0], "{stdout}");
    assert_eq!(names(&out.join("landing/cld")).len(), 4);
    assert_eq!(names(&drop), ["notes.txt", "processed"]);
}

/// Regression (review): a drop folder landed Excel's lock file (`~$name`), a transfer's
/// partial file (`.part`) and an empty file (a stalled upload); each failed the run as
/// unreadable, and every run after it, as landed files are kept. Lock files are passed
/// over as in a local folder; partial and empty files are named and left for later.
#[test]
fn regression_lock_partial_and_empty_files_are_not_landed() {
    let dir = tempfile::tempdir().unwrap();
    let pipeline = pipeline_with_pattern(dir.path(), 0, false, "*");
    let (drop, out) = (dir.path().join("drop"), dir.path().join("out"));
    std::fs::write(drop.join("~$cld_901.csv"), b"\x05alice  \x00").unwrap();
    std::fs::write(drop.join("cld_902.csv.part"), "half a file").unwrap();
    std::fs::write(drop.join("cld_903.csv"), "").unwrap();
    std::fs::write(drop.join("cld_904.csv"), "a\n").unwrap();
    let (code, stdout, stderr) = result(&joinedup(&[
        "pull",
        &pipeline,
        "--out",
        out.to_str().unwrap(),
        "--log-format",
        "json",
    ]));
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(counts(&stdout), [3, 1, 0, 0, 0, 0], "{stdout}");
    assert_eq!(names(&out.join("landing/cld")).len(), 1);
    assert_eq!(
        names(&drop),
        [
            "cld_902.csv.part",
            "cld_903.csv",
            "processed",
            "~$cld_901.csv"
        ]
    );
    for said in [
        "cld_902.csv.part in the drop folder is a partial transfer (renamed when complete): not landed, left for a later pull",
        "cld_903.csv in the drop folder is empty (a stalled or failed upload?): not landed, left for a later pull",
    ] {
        assert!(stderr.contains(said), "{stderr}");
    }
    assert!(!stderr.contains("~$cld_901"), "{stderr}");
}

#[test]
fn a_crash_before_moving_the_original_lands_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    let pipeline = pipeline(dir.path(), 0, false);
    let (drop, out) = (dir.path().join("drop"), dir.path().join("out"));
    std::fs::write(drop.join("cld_901.csv"), "x\n").unwrap();
    let (code, _, stderr) = result(&joinedup_env(
        &["pull", &pipeline, "--out", out.to_str().unwrap()],
        &[("JOINEDUP_FAULT", "file_drop_before_move")],
    ));
    assert_ne!(code, 0, "{stderr}");
    assert_eq!(names(&drop), ["cld_901.csv"]);
    assert_eq!(names(&out.join("landing/cld")).len(), 1);
    let (code, stdout, _) = result(&joinedup(&[
        "pull",
        &pipeline,
        "--out",
        out.to_str().unwrap(),
    ]));
    assert_eq!(code, 0);
    assert_eq!(counts(&stdout), [1, 0, 1, 0, 0, 0], "{stdout}");
    assert_eq!(names(&out.join("landing/cld")).len(), 1);
    assert_eq!(names(&drop.join("processed")), ["cld_901.csv"]);
}

#[test]
fn run_pulls_then_ingests_the_landed_files() {
    let dir = tempfile::tempdir().unwrap();
    let pipeline = pipeline(dir.path(), 0, true);
    let drop = dir.path().join("drop");
    for f in std::fs::read_dir(root().join("data-samples/cld")).unwrap() {
        let f = f.unwrap();
        std::fs::copy(f.path(), drop.join(f.file_name())).unwrap();
    }
    let out = dir.path().join("out");
    let (code, stdout, stderr) = result(&joinedup(&[
        "run",
        &pipeline,
        "--out",
        out.to_str().unwrap(),
    ]));
    assert_eq!(code, 0, "{stdout}{stderr}");
    let line = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("cld "))
        .unwrap();
    let v: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(&v[..5], ["cld", "3", "1463", "1450", "13"], "{line}");
    assert_eq!(names(&drop.join("processed")).len(), 3);
    // A second run lands nothing new, so it has nothing to do.
    let (code, stdout, _) = result(&joinedup(&[
        "run",
        &pipeline,
        "--out",
        out.to_str().unwrap(),
    ]));
    assert_eq!(code, 0);
    assert!(
        stdout.contains("up to date: 5 input file(s) unchanged since the last run; nothing to do"),
        "{stdout}"
    );
}

/// Regression: a dropped file named with a spaced NHS number landed as
/// `cld_943_476_5919__…`, which no mask recognised, and reached `source_file`, the
/// manifest, the summary and the cache's folder names; `explain` printed a source's path
/// as given, clap's error repeated a refused path, and JSON log lines lost their JSON
/// when a number in them was masked.
#[test]
fn regression_an_nhs_number_in_a_dropped_file_s_name_reaches_no_output_or_log() {
    let dir = tempfile::tempdir().unwrap();
    let pipeline = pipeline(dir.path(), 0, true);
    let (drop, out) = (dir.path().join("drop"), dir.path().join("out"));
    std::fs::copy(
        root().join("data-samples/cld/cld_901_2026Q3.csv"),
        drop.join("cld_943 476 5919.csv"),
    )
    .unwrap();
    let shapes = ["9434765919", "943 476 5919", "943_476_5919"];
    let clean = |what: &str, text: &str| {
        for shape in shapes {
            assert!(!text.contains(shape), "{what}: {text}");
        }
    };
    for command in ["pull", "run"] {
        let (code, stdout, stderr) = result(&joinedup_env(
            &[
                command,
                &pipeline,
                "--out",
                out.to_str().unwrap(),
                "--log-format",
                "json",
            ],
            &[("JOINEDUP_LOG", "debug")],
        ));
        assert_eq!(code, 0, "{command}: {stdout}{stderr}");
        clean(command, &stdout);
        clean(command, &stderr);
        for line in stderr.lines().filter(|l| l.starts_with('{')) {
            serde_json::from_str::<serde_json::Value>(line)
                .unwrap_or_else(|e| panic!("{command}: not JSON ({e}): {line}"));
        }
    }
    for f in files_under(&out) {
        let rel = f.strip_prefix(&out).unwrap().to_string_lossy().into_owned();
        clean("a path in the data directory", &rel);
        // Landing keeps what came in (the raw extract and its origin), and the saved
        // state keys inputs by their real paths.
        if rel.starts_with("landing/") || rel.starts_with("state/") {
            continue;
        }
        let bytes = std::fs::read(&f).unwrap();
        for shape in shapes {
            assert!(
                !bytes.windows(shape.len()).any(|w| w == shape.as_bytes()),
                "{rel} holds {shape}"
            );
        }
    }
    let named = dir.path().join("other/cld_9434765919.csv");
    std::fs::create_dir_all(named.parent().unwrap()).unwrap();
    std::fs::copy(root().join("data-samples/cld/cld_901_2026Q3.csv"), &named).unwrap();
    let (_, stdout, stderr) = result(&joinedup(&[
        "explain",
        &pipeline,
        "--source",
        &format!("cld={}", named.display()),
        "--out",
        out.to_str().unwrap(),
    ]));
    assert!(stdout.contains("cld_<withheld>.csv"), "{stdout}{stderr}");
    clean("explain", &stdout);
    let (code, stdout, stderr) = result(&joinedup(&[
        "run",
        &pipeline,
        "--source",
        "/drop/cld_9434765919.csv",
    ]));
    assert_eq!(code, 2);
    assert!(stderr.contains("cld_<withheld>.csv"), "{stderr}");
    clean("a usage error", &format!("{stdout}{stderr}"));
}

/// Regression (review): dropped files named with an NHS number spelt digit by digit,
/// under two spaces, or in a name that is not UTF-8 (reaching the run percent-encoded:
/// `%A0` a no-break space, `%96` a Windows-1252 en dash) landed as
/// `cld_943_A0476_A05919__…`, their number in `source_file`, the manifest, the summary,
/// the notes and both logs. Every spelling is withheld, and the files land apart.
#[cfg(unix)]
#[test]
fn regression_an_nhs_number_spelt_any_way_in_a_dropped_file_s_name_reaches_no_output() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let pipeline = pipeline(dir.path(), 0, true);
    let (drop, out) = (dir.path().join("drop"), dir.path().join("out"));
    let sample = std::fs::read(root().join("data-samples/cld/cld_901_2026Q3.csv")).unwrap();
    let dropped: [&[u8]; 4] = [
        b"cld_943\xA0476\xA05919.csv",
        b"cld_943\x96476\x965919.csv",
        b"cld_9-4-3-4-7-6-5-9-1-9.csv",
        b"cld_943  476  5919.csv",
    ];
    for (k, name) in dropped.iter().enumerate() {
        // Each its own content, so each lands.
        let mut bytes = sample.clone();
        bytes.extend(std::iter::repeat_n(b'\n', k));
        std::fs::write(drop.join(std::ffi::OsStr::from_bytes(name)), bytes).unwrap();
    }
    // An empty file is named in a note; its name's commas are not number punctuation.
    std::fs::write(drop.join("cld_9,434,765,919.csv"), "").unwrap();
    // The number however it is spelt: escapes and separators dropped.
    let clean = |what: &str, text: &str| {
        let mut bare = text.to_string();
        for escape in ["%A0", "%96", "_A0", "_96"] {
            bare = bare.replace(escape, "");
        }
        let digits: String = bare.chars().filter(|c| c.is_alphanumeric()).collect();
        assert!(!digits.contains("9434765919"), "{what}: {text}");
    };
    for (command, format) in [("pull", "text"), ("run", "json")] {
        let (code, stdout, stderr) = result(&joinedup(&[
            command,
            &pipeline,
            "--out",
            out.to_str().unwrap(),
            "--log-format",
            format,
        ]));
        // The sample's rows without an NHS number are over the threshold (exit 1).
        assert!(code == 0 || code == 1, "{command}: {stdout}{stderr}");
        assert!(
            stdout.contains("cld_<withheld>.csv in the drop folder is empty"),
            "{stdout}"
        );
        clean(command, &stdout);
        clean(command, &stderr);
    }
    let landed = names(&out.join("landing/cld"));
    assert_eq!(landed.len(), 4, "{landed:?}");
    assert!(
        landed.iter().all(|n| n.starts_with("cld__withheld___")),
        "{landed:?}"
    );
    for f in files_under(&out) {
        let rel = f.strip_prefix(&out).unwrap().to_string_lossy().into_owned();
        clean("a path in the data directory", &rel);
        // Landing keeps what came in (the raw extract and its origin), and the saved
        // state keys inputs by their real paths.
        if rel.starts_with("landing/") || rel.starts_with("state/") {
            continue;
        }
        if !rel.ends_with(".parquet") {
            clean(&rel, &String::from_utf8_lossy(&std::fs::read(&f).unwrap()));
        }
    }
    let events = read_parquet(&out.join("restricted/social_care_event"));
    let files = events.distinct("source_file");
    // The four are one council's one period: the latest submission is read.
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(
        files.iter().all(|f| f.starts_with("cld__withheld___")),
        "{files:?}"
    );
}

/// Regression (review): a run that found only a file still being written in the drop
/// folder said "up to date; nothing to do", with no word about it anywhere (the pull's
/// JSON event had no `waiting` either).
#[test]
fn regression_a_run_names_drop_files_still_being_written() {
    let dir = tempfile::tempdir().unwrap();
    let pipeline = pipeline(dir.path(), 1, true);
    let drop = dir.path().join("drop");
    for f in std::fs::read_dir(root().join("data-samples/cld")).unwrap() {
        let f = f.unwrap();
        std::fs::copy(f.path(), drop.join(f.file_name())).unwrap();
    }
    let out = dir.path().join("out");
    let run = || {
        result(&joinedup(&[
            "run",
            &pipeline,
            "--out",
            out.to_str().unwrap(),
            "--log-format",
            "json",
        ]))
    };
    assert_eq!(run().0, 0);
    let growing = drop.join("cld_904_2026Q3.csv");
    std::fs::write(&growing, "LA Code").unwrap();
    let writer = keep_writing(&growing, 20, b",");
    let (code, stdout, stderr) = run();
    writer.join().unwrap();
    assert_eq!(code, 0, "{stdout}{stderr}");
    let said = "source cld: 1 file(s) in the drop folder still being written (changed while settling) were left for the next run";
    assert!(stdout.contains(said), "{stdout}");
    assert!(stderr.contains(said), "{stderr}");
    let pulled = stderr
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|e| e["message"] == "source pulled")
        .unwrap();
    assert_eq!(pulled["waiting"], 1, "{pulled}");
}

/// Regression (review): a full disk while landing a drop file exited 4 (as if the drop
/// folder had failed), its message naming only a `.incoming-…` temporary file, without
/// "No space left on device". It is this machine's failure: exit 5 with the OS's words,
/// the drop file named, and the rest of the folder left for the next pull.
#[test]
fn regression_a_full_disk_while_landing_a_drop_file_is_this_machine_s_failure() {
    let dir = tempfile::tempdir().unwrap();
    let pipeline = pipeline(dir.path(), 0, false);
    let (drop, out) = (dir.path().join("drop"), dir.path().join("out"));
    std::fs::write(drop.join("cld_901_a.csv"), "a\n").unwrap();
    std::fs::write(drop.join("cld_902_b.csv"), "b\n").unwrap();
    let (code, stdout, stderr) = result(&joinedup_env(
        &["pull", &pipeline, "--out", out.to_str().unwrap()],
        &[("JOINEDUP_FAULT", "enospc:landing_write")],
    ));
    assert_eq!(code, 5, "{stdout}{stderr}");
    assert!(
        stderr.contains("No space left on device (os error 28)"),
        "{stderr}"
    );
    assert!(
        stdout.contains("failed: cld_901_a.csv: writing ")
            && stdout.contains("No space left on device (os error 28)"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "note: 1 file(s) left in the drop folder for the next pull: landing failed on this machine"
        ),
        "{stdout}"
    );
    assert_eq!(counts(&stdout), [2, 0, 0, 0, 0, 1], "{stdout}");
    // Nothing landed, nothing half-written left, both files still to be taken.
    assert!(names(&out.join("landing/cld")).is_empty());
    assert_eq!(names(&drop), ["cld_901_a.csv", "cld_902_b.csv"]);
}

/// Regression (review): a file written to while it was being landed (after it had
/// settled) was compared only after the commit, so its first part was landed and made
/// the file's current version. It is compared before: not landed, counted as waiting,
/// and the next pull takes the whole file.
#[test]
fn regression_a_drop_file_changed_while_being_landed_is_not_landed() {
    use std::io::{BufRead, Write};
    let dir = tempfile::tempdir().unwrap();
    let pipeline = pipeline(dir.path(), 0, false);
    let (drop, out) = (dir.path().join("drop"), dir.path().join("out"));
    let file = drop.join("cld_901_a.csv");
    std::fs::write(&file, "a,b\n").unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_joinedup"))
        .current_dir(root())
        .args(["pull", &pipeline, "--out", out.to_str().unwrap()])
        .env_remove("JOINEDUP_LOG")
        .env_remove("JOINEDUP_OUT")
        .env("NO_COLOR", "1")
        .env("JOINEDUP_FAULT", "sleep:file_drop_before_commit:1500")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Read, not yet committed: the sender appends the rest.
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut said = String::new();
    while !said.contains("pausing at file_drop_before_commit") {
        let mut line = String::new();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "{said}");
        said.push_str(&line);
    }
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::OpenOptions::new()
        .append(true)
        .open(&file)
        .unwrap()
        .write_all(b"1,2\n")
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert_eq!(counts(&stdout), [1, 0, 0, 0, 1, 0], "{stdout}");
    assert!(names(&out.join("landing/cld")).is_empty());
    assert_eq!(names(&drop), ["cld_901_a.csv"]);

    // The next pull takes the whole file.
    let (code, stdout, stderr) = result(&joinedup(&[
        "pull",
        &pipeline,
        "--out",
        out.to_str().unwrap(),
    ]));
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(counts(&stdout), [1, 1, 0, 0, 0, 0], "{stdout}");
    let landed = names(&out.join("landing/cld"));
    assert_eq!(landed.len(), 1);
    assert_eq!(
        std::fs::read(out.join("landing/cld").join(&landed[0])).unwrap(),
        b"a,b\n1,2\n"
    );
}

/// Regression (review): a dropped file whose name is not UTF-8 (a Latin-1 name from an
/// old Windows share) was passed over without a word, never landed. It is landed under
/// its name with the other bytes as `%XX`, named in a note, and moved aside under its
/// own bytes.
#[cfg(unix)]
#[test]
fn regression_a_drop_file_name_that_is_not_utf8_is_landed_and_named() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let pipeline = pipeline(dir.path(), 0, false);
    let (drop, out) = (dir.path().join("drop"), dir.path().join("out"));
    let raw = std::ffi::OsStr::from_bytes(b"cld_901_\xE9.csv");
    std::fs::write(drop.join(raw), "a,b\n").unwrap();
    let (code, stdout, stderr) = result(&joinedup(&[
        "pull",
        &pipeline,
        "--out",
        out.to_str().unwrap(),
    ]));
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(counts(&stdout), [1, 1, 0, 0, 0, 0], "{stdout}");
    assert!(
        stdout.contains("note: cld_901_%E9.csv in the drop folder has a name that is not UTF-8 (shown with its other bytes as %XX and % as %25): taken under that name"),
        "{stdout}"
    );
    let manifest = std::fs::read_to_string(out.join("landing/manifest.jsonl")).unwrap();
    let record: serde_json::Value = serde_json::from_str(manifest.trim()).unwrap();
    assert_eq!(record["original_name"], "cld_901_%E9.csv");
    assert!(
        record["file"]
            .as_str()
            .unwrap()
            .starts_with("cld_901__E9__"),
        "{record}"
    );
    assert!(drop.join("processed").join(raw).exists());
}

/// Regression (review): a Latin-1 `caf\xE9.csv` and a file literally named `caf%E9.csv`
/// were both recorded as `caf%E9.csv`: one became an older version of the other and was
/// never read. A `%` is recorded as `%25`, so the two stay two files.
#[cfg(unix)]
#[test]
fn regression_a_non_utf8_drop_name_does_not_collide_with_its_escaped_spelling() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let pipeline = pipeline(dir.path(), 0, false);
    let (drop, out) = (dir.path().join("drop"), dir.path().join("out"));
    std::fs::write(
        drop.join(std::ffi::OsStr::from_bytes(b"cld_caf\xE9.csv")),
        "a,b\n1,2\n",
    )
    .unwrap();
    std::fs::write(drop.join("cld_caf%E9.csv"), "a,b\n3,4\n").unwrap();
    let (code, stdout, stderr) = result(&joinedup(&[
        "pull",
        &pipeline,
        "--out",
        out.to_str().unwrap(),
    ]));
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(counts(&stdout), [2, 2, 0, 0, 0, 0], "{stdout}");
    assert!(
        stdout.contains(
            "note: cld_caf%E9.csv in the drop folder has a % in its name: taken as cld_caf%25E9.csv"
        ),
        "{stdout}"
    );
    let manifest = std::fs::read_to_string(out.join("landing/manifest.jsonl")).unwrap();
    let mut names: Vec<String> = manifest
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["original_name"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    names.sort();
    assert_eq!(names, ["cld_caf%25E9.csv", "cld_caf%E9.csv"]);
}
