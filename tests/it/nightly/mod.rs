//! Nightly operation: killed runs, concurrent runs, re-runs with nothing new, and a new
//! council file, on a copy of the sample where council 903's file arrives a night late.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::util::*;

mod recovery;

/// A working copy: a pipeline over `inputs/`, with cld_903 held back in `late/`.
struct Night {
    dir: tempfile::TempDir,
}

impl Night {
    fn new() -> Night {
        let dir = tempfile::tempdir().unwrap();
        let r = root();
        for sub in ["apc", "ecds", "cld"] {
            std::fs::create_dir_all(dir.path().join("inputs").join(sub)).unwrap();
            for f in std::fs::read_dir(r.join("data-samples").join(sub)).unwrap() {
                let f = f.unwrap();
                let name = f.file_name().into_string().unwrap();
                let to = if name.starts_with("cld_903") {
                    dir.path().join("late")
                } else {
                    dir.path().join("inputs").join(sub)
                };
                std::fs::create_dir_all(&to).unwrap();
                std::fs::copy(f.path(), to.join(&name)).unwrap();
            }
        }
        let text = std::fs::read_to_string(r.join("pipelines/sample.toml"))
            .unwrap()
            .replace(
                "\"../schemas\"",
                &format!("\"{}\"", r.join("schemas").display()),
            )
            .replace("\"../data-samples/", "\"inputs/")
            .replace(
                "\"mappings/",
                &format!("\"{}/pipelines/mappings/", r.display()),
            );
        std::fs::write(dir.path().join("nightly.toml"), text).unwrap();
        Night { dir }
    }

    fn pipeline(&self) -> String {
        self.dir
            .path()
            .join("nightly.toml")
            .to_str()
            .unwrap()
            .to_string()
    }

    fn deliver_late_file(&self) {
        let late = self.dir.path().join("late");
        for f in std::fs::read_dir(&late).unwrap() {
            let f = f.unwrap();
            std::fs::copy(
                f.path(),
                self.dir.path().join("inputs/cld").join(f.file_name()),
            )
            .unwrap();
        }
    }

    /// Starts a run into `out` with `fault`, sends it SIGTERM once it announces its pause
    /// at `point`, and returns its exit code and all it wrote to stderr.
    fn sigterm_when_paused(&self, out: &Path, fault: &str, point: &str) -> (Option<i32>, String) {
        let (mut run, mut stderr, mut seen) = self.paused_at(out, fault, point, &[]);
        let pid = run.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
        std::io::Read::read_to_string(&mut stderr, &mut seen).unwrap();
        (run.wait().unwrap().code(), seen)
    }

    /// Starts a run into `out` with `fault` and returns once it announces its pause at
    /// `point`: the run, the rest of its stderr, and what it wrote there until then.
    fn paused_at(
        &self,
        out: &Path,
        fault: &str,
        point: &str,
        args: &[&str],
    ) -> (
        std::process::Child,
        std::io::BufReader<std::process::ChildStderr>,
        String,
    ) {
        let mut run = self.spawn_paused(out, fault, args);
        let (stderr, seen) = until_paused(&mut run, point);
        (run, stderr, seen)
    }

    /// Starts a run into `out` that `fault` (`sleep:<point>:<ms>`) holds at a point;
    /// stderr is piped.
    fn spawn_paused(&self, out: &Path, fault: &str, args: &[&str]) -> std::process::Child {
        Command::new(env!("CARGO_BIN_EXE_joinedup"))
            .current_dir(root())
            .args(["run", &self.pipeline(), "--out", out.to_str().unwrap()])
            .args(args)
            .env("JOINEDUP_FAULT", fault)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// Gives the pipeline a copy of the schemas folder of its own, in `schemas/`, and
    /// returns it.
    fn own_schemas(&self) -> PathBuf {
        let schemas = self.dir.path().join("schemas");
        copy_tree(&root().join("schemas"), &schemas);
        let text = std::fs::read_to_string(self.pipeline()).unwrap().replace(
            &format!("\"{}\"", root().join("schemas").display()),
            "\"schemas\"",
        );
        assert!(text.contains("schemas = \"schemas\""), "{text}");
        std::fs::write(self.pipeline(), text).unwrap();
        schemas
    }

    /// `joinedup status` of the pipeline and `out`.
    fn status(&self, out: &Path) -> (i32, String, String) {
        result(&joinedup(&[
            "status",
            &self.pipeline(),
            "--out",
            out.to_str().unwrap(),
        ]))
    }

    /// Runs the pipeline into `out` with the summary on stdout.
    /// A run now has nothing to do: exit 0, "up to date" in its summary.
    fn assert_up_to_date(&self, out: &Path) {
        let (code, stdout, stderr) = self.run_with_summary(out);
        assert_eq!(code, 0, "{stderr}");
        assert!(stdout.contains("up to date"), "{stdout}");
    }

    fn run_with_summary(&self, out: &Path) -> (i32, String, String) {
        result(&joinedup(&[
            "run",
            &self.pipeline(),
            "--out",
            out.to_str().unwrap(),
        ]))
    }

    fn run(&self, out: &Path, env: &[(&str, &str)]) -> (i32, String, String) {
        result(&joinedup_env(
            &[
                "run",
                &self.pipeline(),
                "--out",
                out.to_str().unwrap(),
                "-q",
            ],
            env,
        ))
    }
}

/// Waits (20 s at most) until `ready`, then a little longer, for a run held at a point.
fn wait_until(ready: impl Fn() -> bool) {
    let start = std::time::Instant::now();
    while !ready() && start.elapsed().as_secs() < 20 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
}

/// The data of every dataset: relative path → bytes (not runs, state or caches).
fn data(out: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    ["restricted", "published", "quarantine"]
        .iter()
        .flat_map(|d| files_under(&out.join(d)))
        .map(|p| {
            (
                p.strip_prefix(out).unwrap().to_path_buf(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect()
}

/// Each dataset folder, as a map of its files.
fn by_dataset(all: &BTreeMap<PathBuf, Vec<u8>>) -> BTreeMap<PathBuf, BTreeMap<PathBuf, Vec<u8>>> {
    let mut out: BTreeMap<PathBuf, BTreeMap<PathBuf, Vec<u8>>> = BTreeMap::new();
    for (p, b) in all {
        out.entry(p.parent().unwrap().to_path_buf())
            .or_default()
            .insert(p.clone(), b.clone());
    }
    out
}

const CRASH_POINTS: &[&str] = &[
    "run_after_lock",
    "run_after_pull",
    "ingest_before_cache_commit",
    "run_after_ingest",
    "run_after_normalise",
    "run_after_link",
    "publish_staged_restricted_hospital_spell",
    "publish_staged_restricted_ed_attendance",
    "publish_staged_restricted_social_care_event",
    "publish_staged_restricted_patient_journey",
    "publish_staged_published_discharge_delays",
    "publish_staged_published_flow_daily",
    "publish_staged_published_social_care_queue",
    "publish_staged_published_bottlenecks",
    "publish_staged_published_linkage_quality",
    "publish_staged_quarantine_cld",
    "run_before_switch",
    "publish_switched_published_bottlenecks",
    "publish_switched_published_discharge_delays",
    "publish_switched_restricted_patient_journey",
    "publish_switched_restricted_social_care_event",
    "publish_switched_published_social_care_queue",
    "publish_switched_quarantine_apc",
    "publish_switched_quarantine_cld",
    "run_before_manifest",
    "run_before_state",
    "run_after_state",
];

#[test]
fn a_run_killed_anywhere_leaves_whole_datasets_and_the_next_run_completes_it() {
    let night = Night::new();
    let reference = night.dir.path().join("reference");
    let (code, _, stderr) = night.run(&reference, &[]);
    assert_eq!(code, 0, "{stderr}");
    let before = data(&reference);
    let after_first_night = night.dir.path().join("after_first_night");
    copy_tree(&reference, &after_first_night);
    night.deliver_late_file();
    let (code, _, stderr) = night.run(&reference, &[]);
    assert_eq!(code, 0, "{stderr}");
    let after = data(&reference);
    assert_ne!(before, after, "the late file must change the outputs");
    let (old, new) = (by_dataset(&before), by_dataset(&after));

    assert!(CRASH_POINTS.len() >= 20);
    for point in CRASH_POINTS {
        let out = night.dir.path().join(format!("crash_{point}"));
        copy_tree(&after_first_night, &out);
        let (code, _, stderr) = night.run(&out, &[("JOINEDUP_FAULT", point)]);
        assert!(
            code != 0 && stderr.contains(&format!("fault injected at {point}")),
            "{point} was not reached: {code} {stderr}"
        );
        // Every dataset is the previous version or the new one, whole.
        for (dataset, files) in by_dataset(&data(&out)) {
            let ok = old.get(&dataset) == Some(&files) || new.get(&dataset) == Some(&files);
            assert!(
                ok,
                "after a crash at {point}, {} is neither the previous nor the new version",
                dataset.display()
            );
        }
        let (code, _, stderr) = night.run(&out, &[]);
        assert_eq!(code, 0, "{point}: {stderr}");
        assert_eq!(
            data(&out),
            after,
            "after a crash at {point}, the next run did not converge"
        );
        assert!(!out.join(".staging").exists());
        let leftovers: Vec<_> = files_under(&out.join(".cache"))
            .into_iter()
            .filter(|p| p.to_string_lossy().contains(".tmp-"))
            .collect();
        assert!(leftovers.is_empty(), "{point}: {leftovers:?}");
    }
}

#[test]
fn a_second_run_at_the_same_time_exits_6_and_changes_nothing() {
    let night = Night::new();
    let out = night.dir.path().join("out");
    let first = night.spawn_paused(&out, "sleep:run_after_lock:3000", &["-q"]);
    // Wait until the first run holds the lock.
    let lock = out.join(".lock");
    wait_until(|| lock.exists());
    let (code, _, stderr) = night.run(&out, &[]);
    assert_eq!(code, 6, "{stderr}");
    assert!(
        stderr.contains("another joinedup run holds") && stderr.contains(".lock"),
        "{stderr}"
    );
    // Regression (review): status, explain and a dry run said "a run now would do
    // nothing" while a run held the lock; they say what stops a run now, without taking
    // the lock (which would refuse a run starting at that moment).
    let (code, stdout, stderr) = night.status(&out);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("cannot tell: a run now would exit 6: another joinedup run holds"),
        "{stdout}"
    );
    let (code, _, stderr) = result(&joinedup(&[
        "run",
        &night.pipeline(),
        "--out",
        out.to_str().unwrap(),
        "--dry-run",
    ]));
    assert_eq!(code, 6, "{stderr}");
    let status = first.wait_with_output().unwrap().status;
    assert!(status.success(), "{status}");
    // The lock died with its holder: a run now proceeds.
    let (code, _, stderr) = night.run(&out, &[]);
    assert_eq!(code, 0, "{stderr}");
}

/// Regression: SIGINT/SIGTERM killed a run on the spot, with no log event, leaving its
/// staging folder (30 MB at 1.1 M rows) until the next run. Regression (known limit):
/// SIGHUP, an SSH session dropped under a one-off run, still did.
#[test]
fn a_run_stopped_by_sigint_sigterm_or_sighup_says_so_leaves_no_staging_and_the_outputs_as_they_were()
 {
    let night = Night::new();
    let out = night.dir.path().join("out");
    assert_eq!(night.run(&out, &[]).0, 0);
    let before = data(&out);
    night.deliver_late_file();
    for (signal, code) in [("-TERM", 143), ("-INT", 130), ("-HUP", 129)] {
        let run = night.spawn_paused(
            &out,
            "sleep:run_after_ingest:20000",
            &["--log-format", "json"],
        );
        // Wait until the run has a staging folder and is paused after ingest.
        let staging = out.join(".staging");
        let has_staging = || std::fs::read_dir(&staging).is_ok_and(|mut d| d.next().is_some());
        wait_until(has_staging);
        let pid = run.id().to_string();
        assert!(
            Command::new("kill")
                .args([signal, &pid])
                .status()
                .unwrap()
                .success()
        );
        let output = run.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(code), "{stderr}");
        assert!(stderr.contains("\"message\":\"interrupted:"), "{stderr}");
        assert!(stderr.contains("\"run_id\""), "{stderr}");
        // Regression (review): the log ended at the warning, with no `run finished`
        // event giving the exit code, as every other run's log ends.
        let last: serde_json::Value =
            serde_json::from_str(stderr.lines().last().unwrap_or_default()).unwrap();
        assert_eq!(
            (
                last["message"].as_str(),
                last["exit_code"].as_i64(),
                last["status"].as_str()
            ),
            (Some("run finished"), Some(code as i64), Some("failed")),
            "{stderr}"
        );
        assert!(
            last["manifest"]
                .as_str()
                .is_some_and(|m| m.ends_with("manifest.json")),
            "{last}"
        );
        assert!(!has_staging(), "staging left behind");
        assert_eq!(data(&out), before);
        // Regression: an interrupted run left no manifest, so `status` said nothing of it.
        let m = manifest_of_last_run(&out);
        assert_eq!(
            (m["status"].as_str(), m["error"]["exit_code"].as_i64()),
            (Some("failed"), Some(code as i64)),
            "{m}"
        );
        assert!(
            m["error"]["message"]
                .as_str()
                .is_some_and(|s| s.starts_with("interrupted by SIG")),
            "{m}"
        );
    }
    // The lock went with the process; the next run reads the late file.
    let (code, _, stderr) = night.run(&out, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_ne!(data(&out), before);
}

/// A run started under `nohup` (SIGHUP ignored, so it outlives its terminal) is not
/// stopped by SIGHUP: joinedup handles the signal only when it was not ignored.
#[test]
fn a_run_under_nohup_goes_on_after_sighup() {
    let night = Night::new();
    let out = night.dir.path().join("out");
    let run = Command::new("nohup")
        .current_dir(root())
        .arg(env!("CARGO_BIN_EXE_joinedup"))
        .args(["run", &night.pipeline(), "--out", out.to_str().unwrap()])
        .env("JOINEDUP_FAULT", "sleep:run_after_ingest:3000")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let staging = out.join(".staging");
    wait_until(|| std::fs::read_dir(&staging).is_ok_and(|mut d| d.next().is_some()));
    let pid = run.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-HUP", &pid])
            .status()
            .unwrap()
            .success()
    );
    let output = run.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("interrupted"), "{stderr}");
    assert_eq!(manifest_of_last_run(&out)["status"], "ok");
}

/// Regression (review): a SIGTERM while a workbook was read exited 143 saying nothing
/// half-written was left, but left the ingest folder under `.cache/ingest`, holding the
/// sheet copied out as CSV with its NHS numbers in plain text, until the next run. The
/// folder is removed with the staging folders.
#[test]
fn regression_sigterm_while_a_workbook_is_read_leaves_no_copy_of_it() {
    let dir = tempfile::tempdir().unwrap();
    let book = dir.path().join("apc.xlsx");
    csv_as_workbook(&root().join("tests/fixtures/bad/apc/valid.csv"), &book);
    for (signal, code) in [("-TERM", 143), ("-INT", 130)] {
        let out = dir.path().join(format!("out{signal}"));
        let mut run = Command::new(env!("CARGO_BIN_EXE_joinedup"))
            .current_dir(root())
            .args(["run", "tests/fixtures/apc_only.toml", "--source"])
            .arg(format!("apc={}", book.display()))
            .args(["--out", out.to_str().unwrap()])
            .env("JOINEDUP_FAULT", "sleep:ingest_workbook_copied:20000")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (mut stderr, mut seen) = until_paused(&mut run, "ingest_workbook_copied");
        // Every file and folder of an ingest folder in progress.
        let copies = || -> Vec<PathBuf> {
            let mut found = Vec::new();
            let mut stack = vec![out.join(".cache/ingest")];
            while let Some(d) = stack.pop() {
                for e in std::fs::read_dir(&d).into_iter().flatten() {
                    let p = e.unwrap().path();
                    if p.to_string_lossy().contains("/.tmp-") {
                        found.push(p.clone());
                    }
                    if p.is_dir() {
                        stack.push(p);
                    }
                }
            }
            found.sort();
            found
        };
        assert!(
            copies().iter().any(|p| p.ends_with("workbook/apc.xlsx")),
            "{:?}",
            copies()
        );
        let pid = run.id().to_string();
        assert!(
            Command::new("kill")
                .args([signal, &pid])
                .status()
                .unwrap()
                .success()
        );
        std::io::Read::read_to_string(&mut stderr, &mut seen).unwrap();
        assert_eq!(run.wait().unwrap().code(), Some(code), "{seen}");
        assert_eq!(copies(), Vec::<PathBuf>::new());
    }
}

/// Regression (found by a review: 2 of 55 SIGTERMs): a writer thread creating a staged
/// file after the signal had removed the staging folder left files behind (or failed,
/// and its error raced the signal's exit code). Now creation waits for the signal's
/// clean-up and none follows it. Held deterministically: a writer pauses just before
/// creating a dataset folder, the signal arrives, and the signal thread pauses after removing the
/// folders while the writer wakes.
#[test]
fn regression_a_writer_never_creates_files_after_sigterm_removed_staging() {
    let night = Night::new();
    let out = night.dir.path().join("out");
    let (code, stderr) = night.sigterm_when_paused(
        &out,
        "sleep:staged_dataset_before_create:1500,sleep:interrupt_after_removal:3000",
        "staged_dataset_before_create",
    );
    assert_eq!(code, Some(143), "{stderr}");
    let left: Vec<PathBuf> = std::fs::read_dir(out.join(".staging"))
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "staging left behind: {left:?}");
}

/// Regression (found by a review): a SIGTERM after the run had saved its state recorded
/// it as failed ("the next run redoes the work", which it did not: the state said up to
/// date), and the run's own manifest and the signal's record raced for one temporary
/// file, once ending in exit 0 with a "failed" manifest. A signal after the state is
/// saved now lets the run record itself.
#[test]
fn regression_a_signal_after_the_state_is_saved_lets_the_run_record_its_success() {
    let night = Night::new();
    let out = night.dir.path().join("out");
    let (code, stderr) =
        night.sigterm_when_paused(&out, "sleep:run_after_state:1500", "run_after_state");
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains("SIGTERM after the run finished its work"),
        "{stderr}"
    );
    let m = manifest_of_last_run(&out);
    assert_eq!(m["status"], "ok", "{m}");
    let (code, stdout, _) = night.run_with_summary(&out);
    assert_eq!(code, 0);
    assert!(stdout.contains("up to date"), "{stdout}");
}

/// Regression: a run that failed (exit 3, 4 or 5) wrote no manifest, so `status` showed
/// only the runs before it, as if nothing had happened.
#[test]
fn a_failed_run_is_listed_by_status_with_its_error() {
    let night = Night::new();
    let out = night.dir.path().join("out");
    assert_eq!(night.run(&out, &[]).0, 0);
    let bad = night.dir.path().join("inputs/cld/cld_utf16.csv");
    std::fs::write(&bad, b"\xFF\xFEL\x00A\x00").unwrap();
    let (code, _, stderr) = night.run(&out, &[]);
    assert_eq!(code, 3, "{stderr}");
    let m = manifest_of_last_run(&out);
    assert_eq!(m["status"], "failed");
    assert_eq!(m["error"]["exit_code"], 3);
    assert!(
        m["error"]["message"]
            .as_str()
            .unwrap()
            .contains("cld_utf16.csv:1: is UTF-16"),
        "{m}"
    );
    let (code, stdout, _) = night.status(&out);
    assert_eq!(code, 0);
    assert!(stdout.contains(" failed "), "{stdout}");
    assert!(
        stdout.contains("    exit 3: ") && stdout.contains("cld_utf16.csv:1: is UTF-16"),
        "{stdout}"
    );
    std::fs::remove_file(&bad).unwrap();
    assert_eq!(night.run(&out, &[]).0, 0);

    // Regression (found by a review): with a source gone missing, `status` printed
    // nothing and exited 4, hiding the failed run an operator looks for.
    let apc = night.dir.path().join("inputs/apc");
    std::fs::rename(&apc, night.dir.path().join("apc-away")).unwrap();
    assert_eq!(night.run(&out, &[]).0, 4);
    let (code, stdout, stderr) = night.status(&out);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout.matches(" failed ").count(), 2, "{stdout}");
    assert!(stdout.contains("    exit 4: "), "{stdout}");
    assert!(
        stdout.contains("cannot tell: a run now would exit 4: source `apc`"),
        "{stdout}"
    );
}

/// Regression (review): a run that failed while switching datasets into place (a folder
/// it could not write) left those switched before it new and the rest old, its failed
/// manifest listing no outputs. The switched ones are put back; the next run, once the
/// folder is mended, publishes them all.
#[test]
fn regression_a_run_failing_part_way_through_the_switch_leaves_every_dataset_as_it_was() {
    let night = Night::new();
    let out = night.dir.path().join("out");
    assert_eq!(night.run(&out, &[]).0, 0);
    let before = data(&out);
    // A file where the quarantine folder belongs: switched after published/ and
    // restricted/, which the late council file changes.
    let away = night.dir.path().join("quarantine-away");
    std::fs::rename(out.join("quarantine"), &away).unwrap();
    std::fs::write(out.join("quarantine"), b"in the way").unwrap();
    night.deliver_late_file();
    let (code, _, stderr) = night.run(&out, &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("dataset(s) switched before it were put back as they were"),
        "{stderr}"
    );
    std::fs::remove_file(out.join("quarantine")).unwrap();
    std::fs::rename(&away, out.join("quarantine")).unwrap();
    assert_eq!(data(&out), before, "every dataset as before the failed run");
    assert!(!out.join(".staging").exists());
    assert_eq!(night.run(&out, &[]).0, 0);
    assert_ne!(data(&out), before, "the late file published");
}

/// Regression (review): a nightly run whose key was not there (a secret not mounted)
/// exited 2 and left no record: `status` did not list it, and its JSON error named a run
/// id no folder held.
#[test]
fn regression_a_run_without_its_key_is_listed_by_status() {
    let night = Night::new();
    let out = night.dir.path().join("out");
    assert_eq!(night.run(&out, &[]).0, 0);
    let pipeline = night.pipeline();
    let text = std::fs::read_to_string(&pipeline).unwrap().replace(
        "demo_key = \"DEMO-joinedup-sample-key-not-secret\"",
        "key_env = \"JOINEDUP_TEST_KEY_NOT_SET\"",
    );
    std::fs::write(&pipeline, text).unwrap();
    let (code, _, stderr) = night.run(&out, &[]);
    assert_eq!(code, 2, "{stderr}");
    let m = manifest_of_last_run(&out);
    assert_eq!(m["status"], "failed");
    assert_eq!(m["error"]["exit_code"], 2);
    assert!(
        m["error"]["message"]
            .as_str()
            .unwrap()
            .contains("environment variable JOINEDUP_TEST_KEY_NOT_SET is not set"),
        "{m}"
    );
    let (_, stdout, _) = night.status(&out);
    assert!(
        stdout.contains(" failed ") && stdout.contains("    exit 2: "),
        "{stdout}"
    );
}

/// Regression (review): the ingest cache kept the rows of every file replaced or removed,
/// growing by each superseded extract (person-level rows kept for nothing).
#[test]
fn regression_the_ingest_cache_keeps_only_the_current_inputs() {
    let night = Night::new();
    let out = night.dir.path().join("out");
    let entries = |source: &str| -> usize {
        std::fs::read_dir(out.join(".cache/ingest"))
            .unwrap()
            .flatten()
            .flat_map(|c| {
                std::fs::read_dir(c.path().join(source))
                    .into_iter()
                    .flatten()
            })
            .count()
    };
    assert_eq!(night.run(&out, &[]).0, 0);
    assert_eq!(entries("cld"), 2);
    // A council resubmits: its file is replaced by one with a row fewer.
    let file = night.dir.path().join("inputs/cld/cld_901_2026Q3.csv");
    // (Windows-1252, as councils send it: bytes, not text.)
    let bytes = std::fs::read(&file).unwrap();
    let last_line = bytes[..bytes.len() - 1]
        .iter()
        .rposition(|&b| b == b'\n')
        .unwrap();
    let shorter = &bytes[..=last_line];
    std::fs::write(&file, shorter).unwrap();
    assert_eq!(night.run(&out, &[]).0, 0);
    assert_eq!(entries("cld"), 2, "the replaced file's entry is gone");
    std::fs::remove_file(&file).unwrap();
    assert_eq!(night.run(&out, &[]).0, 0);
    assert_eq!(entries("cld"), 1, "the removed file's entry is gone");
    assert_eq!(entries("apc"), 1);
}

/// `--keep-runs N` keeps the pipeline's newest N run folders and the newest that wrote
/// datasets (the report reads it), removing older ones: a nightly job left one a night
/// for ever.
#[test]
fn keep_runs_removes_old_run_folders_but_the_last_that_published() {
    let night = Night::new();
    let out = night.dir.path().join("out");
    let run = |keep: &str| {
        let (code, _, stderr) = result(&joinedup(&[
            "run",
            &night.pipeline(),
            "--out",
            out.to_str().unwrap(),
            "-q",
            "--keep-runs",
            keep,
        ]));
        assert_eq!(code, 0, "{stderr}");
    };
    let runs = || -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(out.join("runs"))
            .unwrap()
            .map(|e| {
                let m: serde_json::Value = serde_json::from_str(
                    &std::fs::read_to_string(e.unwrap().path().join("manifest.json")).unwrap(),
                )
                .unwrap();
                format!(
                    "{} {}",
                    m["run_id"].as_str().unwrap(),
                    m["mode"].as_str().unwrap()
                )
            })
            .collect();
        v.sort();
        v.into_iter()
            .map(|r| r.split(' ').nth(1).unwrap().to_string())
            .collect()
    };
    run("2");
    for _ in 0..3 {
        run("2");
    }
    assert_eq!(
        runs(),
        ["full", "up_to_date", "up_to_date"],
        "the run that published stays"
    );
    night.deliver_late_file();
    run("2");
    assert_eq!(runs(), ["up_to_date", "incremental"]);
    let (code, _, stderr) = result(&joinedup(&[
        "run",
        &night.pipeline(),
        "--out",
        out.to_str().unwrap(),
        "--keep-runs",
        "0",
    ]));
    assert_eq!(code, 2, "a run must keep itself: {stderr}");
}

#[test]
fn a_killed_run_does_not_leave_the_lock_stuck() {
    let night = Night::new();
    let out = night.dir.path().join("out");
    let (code, _, _) = night.run(&out, &[("JOINEDUP_FAULT", "run_after_lock")]);
    assert_ne!(code, 0);
    assert!(out.join(".lock").exists());
    let (code, _, stderr) = night.run(&out, &[]);
    assert_eq!(code, 0, "{stderr}");
}

fn inodes(out: &Path) -> BTreeMap<PathBuf, (u64, i64)> {
    use std::os::unix::fs::MetadataExt;
    ["restricted", "published", "quarantine"]
        .iter()
        .flat_map(|d| files_under(&out.join(d)))
        .map(|p| {
            let m = std::fs::metadata(&p).unwrap();
            (p, (m.ino(), m.mtime_nsec()))
        })
        .collect()
}

fn manifest_of_last_run(out: &Path) -> serde_json::Value {
    let mut runs: Vec<PathBuf> = std::fs::read_dir(out.join("runs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    runs.sort();
    serde_json::from_str(
        &std::fs::read_to_string(runs.last().unwrap().join("manifest.json")).unwrap(),
    )
    .unwrap()
}

#[test]
fn a_rerun_with_nothing_new_does_no_work_and_a_new_council_file_rebuilds_only_its_months() {
    let night = Night::new();
    let out = night.dir.path().join("out");
    assert_eq!(night.run(&out, &[]).0, 0);
    let first = inodes(&out);

    // Nothing new: nothing read, no data file touched.
    let (code, stdout, _) = night.run_with_summary(&out);
    assert_eq!(code, 0);
    assert!(
        stdout.contains("up to date: 4 input file(s) unchanged since the last run; nothing to do"),
        "{stdout}"
    );
    assert_eq!(inodes(&out), first);
    let m = manifest_of_last_run(&out);
    assert_eq!(
        (m["mode"].as_str(), m["stages"].as_array().unwrap().len()),
        (Some("up_to_date"), 2)
    );

    // Regression: a dry run with nothing new said "would rebuild from 0 new, 0 changed
    // and 0 removed".
    let (code, stdout, _) = result(&joinedup(&[
        "run",
        &night.pipeline(),
        "--dry-run",
        "--out",
        out.to_str().unwrap(),
    ]));
    assert_eq!(code, 0);
    assert!(
        stdout.contains(
            "up to date: 4 input file(s) unchanged since the last run; a run now would do nothing"
        ),
        "{stdout}"
    );

    // Council 903's file arrives: only it is read, and only its months change.
    night.deliver_late_file();
    let (code, stdout, stderr) = result(&joinedup(&[
        "run",
        &night.pipeline(),
        "--dry-run",
        "--out",
        out.to_str().unwrap(),
    ]));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains(
            "would rebuild from 1 new, 0 changed and 0 removed input file(s); 4 file(s) unchanged"
        ) && stdout.contains("new      cld: "),
        "{stdout}"
    );
    assert_eq!(inodes(&out), first, "a dry run changes nothing");
    assert_eq!(night.run(&out, &[]).0, 0);
    let m = manifest_of_last_run(&out);
    assert_eq!(m["mode"], "incremental");
    let read: Vec<&str> = m["sources"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["files"].as_array().unwrap())
        .filter(|f| f["read_this_run"] == true)
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(read.len(), 1);
    assert!(read[0].ends_with("cld_903_2026Q3.csv"), "{read:?}");

    // The months of Westbury's valid events are exactly the social-care partitions rewritten.
    let text: String = std::fs::read(night.dir.path().join("inputs/cld/cld_903_2026Q3.csv"))
        .unwrap()
        .iter()
        .map(|&b| b as char)
        .collect();
    let quarantined: BTreeSet<u64> = {
        let q = read_parquet(&out.join("quarantine/cld"));
        (0..q.rows)
            .filter(|&i| q.col("file")[i].as_deref() == Some("cld_903_2026Q3.csv"))
            .map(|i| q.col("line")[i].as_ref().unwrap().parse().unwrap())
            .collect()
    };
    let mut months = BTreeSet::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        if quarantined.contains(&(i as u64 + 1)) {
            continue;
        }
        let start = line.split(',').nth(15).unwrap();
        months.insert(format!("{}-{}.parquet", &start[6..10], &start[3..5]));
    }
    let sce = m["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["dataset"] == "social_care_event")
        .unwrap();
    let rewritten: BTreeSet<String> = sce["partitions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["rewritten"] == true)
        .map(|p| p["file"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(rewritten, months);
    let all: usize = sce["partitions"].as_array().unwrap().len();
    assert!(all > rewritten.len(), "some months must be untouched");
    // Untouched months keep their very files; the APC quarantine is untouched too.
    let after = inodes(&out);
    for (path, before) in &first {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.starts_with(out.join("restricted/social_care_event")) && !months.contains(&name) {
            assert_eq!(
                after.get(path),
                Some(before),
                "{} was rewritten",
                path.display()
            );
        }
    }
    let apc_q = out.join("quarantine/apc/data.parquet");
    assert_eq!(after[&apc_q], first[&apc_q]);
}

#[test]
fn full_refresh_rebuilds_to_the_same_bytes() {
    let night = Night::new();
    let out = night.dir.path().join("out");
    assert_eq!(night.run(&out, &[]).0, 0);
    let before = data(&out);
    let (code, stdout, _) = result(&joinedup(&[
        "run",
        &night.pipeline(),
        "--full-refresh",
        "--out",
        out.to_str().unwrap(),
    ]));
    assert_eq!(code, 0);
    // Regression: a full refresh was reported as a configuration change.
    assert!(
        stdout.contains("rebuilt from everything (--full-refresh)"),
        "{stdout}"
    );
    assert_eq!(data(&out), before);
}

/// Regression (found by a review): events logged on ingest's worker threads (a file's
/// undeclared columns) had no span, so no run id, under `--log-format json`. Every
/// event of a run, at debug level too, carries it.
#[test]
fn regression_every_json_event_of_a_run_carries_its_run_id_worker_threads_too() {
    let dir = tempfile::tempdir().unwrap();
    let apc =
        std::fs::read_to_string(root().join("data-samples/apc/apc_spells_2026Q3.csv")).unwrap();
    let extra: String = apc
        .lines()
        .enumerate()
        .map(|(i, l)| format!("{l},{}\n", if i == 0 { "Ward Name" } else { "x" }))
        .collect();
    let file = dir.path().join("apc_extra.csv");
    std::fs::write(&file, extra).unwrap();
    let out = dir.path().join("out");
    let (code, _, stderr) = result(&joinedup_env(
        &[
            "run",
            "--source",
            &format!("apc={}", file.display()),
            "--log-format",
            "json",
            "--out",
            out.to_str().unwrap(),
        ],
        &[("JOINEDUP_LOG", "debug")],
    ));
    assert_eq!(code, 0, "{stderr}");
    let run_id = manifest_of_last_run(&out)["run_id"]
        .as_str()
        .unwrap()
        .to_string();
    let events: Vec<serde_json::Value> = stderr
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .collect();
    assert!(
        events
            .iter()
            .any(|v| v["message"] == "ignored undeclared columns"),
        "{stderr}"
    );
    for v in &events {
        assert_eq!(v["span"]["run_id"].as_str(), Some(run_id.as_str()), "{v}");
    }
    // Regression: the warning read "ignored column(s) 1 column(s), not listed: …" when
    // the headers were withheld; it names them when they are names.
    let warnings = manifest_of_last_run(&out)["warnings"].to_string();
    assert!(
        warnings.contains("apc_extra.csv: ignored column(s) \\\"Ward Name\\\" not declared in contract \\\"sus_apc\\\""),
        "{warnings}"
    );
}

#[test]
fn json_logs_carry_the_run_id() {
    let night = Night::new();
    let out = night.dir.path().join("out");
    let (code, _, stderr) = result(&joinedup(&[
        "run",
        &night.pipeline(),
        "--log-format",
        "json",
        "--out",
        out.to_str().unwrap(),
    ]));
    assert_eq!(code, 0, "{stderr}");
    let ingested: Vec<serde_json::Value> = stderr
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["message"] == "source ingested")
        .collect();
    assert_eq!(ingested.len(), 3, "{stderr}");
    let run_id = manifest_of_last_run(&out)["run_id"]
        .as_str()
        .unwrap()
        .to_string();
    for v in &ingested {
        assert_eq!(v["span"]["run_id"].as_str(), Some(run_id.as_str()), "{v}");
        assert_eq!(v["stage"], "ingest");
        assert!(v["rows_in"].as_u64().is_some());
    }
    let stages: Vec<String> = stderr
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["message"] == "stage finished" && v["seconds"].as_f64().is_some())
        // Each stage says the CPU it used and the cores that kept busy.
        .inspect(|v| {
            let (cpu, cores) = (v["cpu_seconds"].as_f64(), v["cores_busy"].as_f64());
            assert!(cpu.is_some_and(|c| c >= 0.0), "{v}");
            assert!(cores.is_some_and(|c| c >= 0.0), "{v}");
        })
        .map(|v| v["stage"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        stages,
        [
            "config",
            "pull",
            "ingest",
            "normalise",
            "link",
            "measure",
            "publish"
        ]
    );
}

/// Regression: under `-q` (or `JOINEDUP_LOG=warn`) the run span was filtered out with the
/// info events, so warnings had no run id, and the error event of a failed run had none.
#[test]
fn warnings_and_the_error_of_a_failed_run_carry_the_run_id_when_quiet() {
    let night = Night::new();
    let out = night.dir.path().join("out");
    let events = |stderr: &str| -> Vec<serde_json::Value> {
        stderr
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .collect()
    };
    let (code, _, stderr) = result(&joinedup(&[
        "-q",
        "--log-format",
        "json",
        "run",
        &night.pipeline(),
        "--out",
        out.to_str().unwrap(),
    ]));
    assert_eq!(code, 0, "{stderr}");
    let run_id = manifest_of_last_run(&out)["run_id"]
        .as_str()
        .unwrap()
        .to_string();
    let warnings = events(&stderr);
    assert!(!warnings.is_empty(), "the DEMO key warning");
    for v in &warnings {
        assert_eq!(v["span"]["run_id"].as_str(), Some(run_id.as_str()), "{v}");
    }
    let pipeline = night.pipeline();
    let text = std::fs::read_to_string(&pipeline).unwrap().replace(
        "demo_key = \"DEMO-joinedup-sample-key-not-secret\"",
        "key_env = \"JOINEDUP_TEST_UNSET_KEY\"",
    );
    std::fs::write(&pipeline, text).unwrap();
    let (code, _, stderr) = result(&joinedup(&[
        "-q",
        "--log-format",
        "json",
        "run",
        &pipeline,
        "--out",
        out.to_str().unwrap(),
    ]));
    assert_eq!(code, 2, "{stderr}");
    let error = events(&stderr)
        .into_iter()
        .find(|v| v["level"] == "ERROR")
        .expect("an error event");
    assert!(error["span"]["run_id"].as_str().is_some(), "{error}");
    assert_eq!(error["exit_code"], 2);
}

/// Regression (review, a second council's feed): the configuration fingerprint hashed
/// every file under the schemas folder, so a draft contract the pipeline does not use
/// rebuilt every dataset from every input on the next run, saying only "configuration,
/// key, pseudonym width or joinedup build changed, or first run", and `status` gave no
/// pending file. Only the schema files the plan reads count, and a change is named.
#[test]
fn regression_an_unused_contract_changes_nothing_and_an_edited_one_is_named() {
    let night = Night::new();
    let schemas = night.own_schemas();
    let out = night.dir.path().join("out");
    assert_eq!(night.run(&out, &[]).0, 0);
    let draft = std::fs::read_to_string(schemas.join("sources/cld.toml"))
        .unwrap()
        .replace("name = \"cld\"", "name = \"westbury_t\"");
    std::fs::write(schemas.join("sources/westbury_t.toml"), draft).unwrap();
    night.assert_up_to_date(&out);
    night.deliver_late_file();
    let (code, stdout, stderr) = night.status(&out);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains(
            "a run now would read 1 new, 0 changed and 0 removed input file(s) (4 unchanged):"
        ) && stdout.contains("new      cld: "),
        "{stdout}"
    );
    assert_eq!(night.run(&out, &[]).0, 0);
    assert_eq!(manifest_of_last_run(&out)["mode"], "incremental");

    // The contract the pipeline reads, edited: everything rebuilt, and the file named in
    // the log, the summary, the manifest and `status`.
    let contract = schemas.join("sources/cld.toml");
    let text = std::fs::read_to_string(&contract).unwrap();
    std::fs::write(&contract, format!("{text}# edited\n")).unwrap();
    let why = "changed since the last run: schemas/sources/cld.toml";
    let (code, stdout, _) = night.status(&out);
    assert_eq!(code, 0);
    assert!(
        stdout.contains(&format!("a run now would rebuild everything ({why})")),
        "{stdout}"
    );
    let (code, stdout, stderr) = night.run_with_summary(&out);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains(&format!("rebuilding from every input ({why})")),
        "{stderr}"
    );
    assert!(
        stdout.contains(&format!(
            "rebuilt from everything ({why}); 5 file(s) unchanged"
        )),
        "{stdout}"
    );
    let changes = &manifest_of_last_run(&out)["changes"];
    assert_eq!(changes["configuration_changed"], true);
    assert_eq!(
        changes["configuration_changes"],
        serde_json::json!(["schemas/sources/cld.toml"])
    );
}

#[test]
fn explain_and_status_describe_without_changing_anything() {
    let night = Night::new();
    let out = night.dir.path().join("out");
    let (code, stdout, stderr) = result(&joinedup(&[
        "explain",
        &night.pipeline(),
        "--out",
        out.to_str().unwrap(),
    ]));
    assert_eq!(code, 0, "{stderr}");
    for s in [
        "ingested sources",
        "with contract sus_apc v1 (utf-8, delimiter \",\")",
        "→ hospital_spell, persons by NHS numbers\n",
        "key      DEMO key written in the pipeline (synthetic data only)\npseudonyms HMAC-SHA-256-128, upper-case hex\n",
        "published/discharge_delays/<YYYY-MM>.parquet by month; 1–7 suppressed, rounded to 5",
        "a run now would rebuild everything",
    ] {
        assert!(stdout.contains(s), "{s:?} missing:\n{stdout}");
    }
    // Regression (found by a review): read-only commands logged a dry run's stage
    // timings on stderr; their answer is stdout, and only warnings go to stderr.
    assert!(stderr.lines().all(|l| l.contains(" WARN ")), "{stderr}");
    assert!(!out.exists(), "explain must not create the data directory");
    assert_eq!(night.run(&out, &[]).0, 0);
    night.deliver_late_file();
    let (code, stdout, _) = night.status(&out);
    assert_eq!(code, 0);
    assert!(
        stdout.contains("last runs") && stdout.contains(" ok "),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "a run now would read 1 new, 0 changed and 0 removed input file(s) (4 unchanged):"
        ),
        "{stdout}"
    );
}

#[test]
fn a_council_resubmission_that_replaces_its_file_replaces_its_rows() {
    let night = Night::new();
    let out = night.dir.path().join("out");
    assert_eq!(night.run(&out, &[]).0, 0);
    let outcomes = |out: &Path| -> BTreeMap<String, usize> {
        let t = read_parquet(&out.join("restricted/social_care_event"));
        let mut m = BTreeMap::new();
        for v in t.col("event_outcome").iter().flatten() {
            *m.entry(v.clone()).or_default() += 1;
        }
        m
    };
    let before = outcomes(&out);
    let rows_before = read_parquet(&out.join("restricted/social_care_event")).rows;

    // Easton resubmits: one review now records a death; the first file is withdrawn.
    let cld = night.dir.path().join("inputs/cld");
    let old = cld.join("cld_902_2026Q3.csv");
    let bytes = std::fs::read(&old).unwrap();
    let text: String = bytes.iter().map(|&b| b as char).collect();
    let target = text
        .lines()
        .position(|l| l.contains(",Review,") && l.contains(",No change in package,"))
        .unwrap();
    let new: Vec<String> = text
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i == target {
                l.replace(",No change in package,", ",NFA - Deceased,")
            } else {
                l.to_string()
            }
        })
        .collect();
    let new_bytes: Vec<u8> = (new.join("\r\n") + "\r\n")
        .chars()
        .map(|c| c as u8)
        .collect();
    std::fs::write(cld.join("cld_902_2026Q3_v2.csv"), new_bytes).unwrap();
    std::fs::remove_file(&old).unwrap();

    let (code, stdout, stderr) = night.run_with_summary(&out);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("rebuilt from 1 new, 0 changed and 1 removed input file(s)"),
        "{stdout}"
    );
    let after = outcomes(&out);
    assert_eq!(
        read_parquet(&out.join("restricted/social_care_event")).rows,
        rows_before
    );
    assert_eq!(after["NFA - Deceased"], before["NFA - Deceased"] + 1);
    assert_eq!(
        after["No change in package"],
        before["No change in package"] - 1
    );
}

/// Regression: inputs were tracked by content, so a second file with the same bytes as
/// another (a council sending its file twice under two names) was never read by an
/// incremental run, nor its removal noticed, while a full refresh read it.
#[test]
fn regression_a_copy_of_an_input_under_another_name_is_read_and_its_removal_noticed() {
    let night = Night::new();
    let out = night.dir.path().join("out");
    assert_eq!(night.run(&out, &[]).0, 0);
    let rows = || read_parquet(&out.join("restricted/social_care_event")).rows;
    let rows_in = |out: &Path| -> u64 {
        manifest_of_last_run(out)["sources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["rows_in"].as_u64().unwrap())
            .sum()
    };
    let (before, rows_in_before) = (rows(), rows_in(&out));
    let cld = night.dir.path().join("inputs/cld");
    let copy = cld.join("cld_901_2026Q3_copy.csv");
    std::fs::copy(cld.join("cld_901_2026Q3.csv"), &copy).unwrap();
    let (code, stdout, stderr) = night.run_with_summary(&out);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("rebuilt from 1 new, 0 changed and 0 removed input file(s)")
            && stdout.contains("new      cld: ")
            && stdout.contains("cld_901_2026Q3_copy.csv"),
        "{stdout}"
    );
    let copied_rows_in = rows_in(&out);
    assert!(copied_rows_in > rows_in_before);
    // The same as a full refresh reads.
    let full = night.dir.path().join("full");
    assert_eq!(night.run(&full, &[]).0, 0);
    assert_eq!(rows_in(&full), copied_rows_in);
    assert_eq!(data(&out), data(&full));

    std::fs::remove_file(&copy).unwrap();
    let (code, stdout, _) = night.run_with_summary(&out);
    assert_eq!(code, 0);
    assert!(
        stdout.contains("rebuilt from 0 new, 0 changed and 1 removed input file(s)"),
        "{stdout}"
    );
    assert_eq!((rows(), rows_in(&out)), (before, rows_in_before));
}

/// A file rewritten under the same name is reported as changed, not as new and removed.
#[test]
fn a_file_rewritten_in_place_is_reported_as_changed() {
    let night = Night::new();
    let out = night.dir.path().join("out");
    assert_eq!(night.run(&out, &[]).0, 0);
    let file = night.dir.path().join("inputs/cld/cld_902_2026Q3.csv");
    let mut bytes = std::fs::read(&file).unwrap();
    let last = bytes.iter().rposition(|&b| b == b'\n').unwrap();
    let previous_line = bytes[..last].iter().rposition(|&b| b == b'\n').unwrap();
    bytes.truncate(previous_line + 1);
    std::fs::write(&file, bytes).unwrap();
    let (code, stdout, stderr) = night.run_with_summary(&out);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("rebuilt from 0 new, 1 changed and 0 removed input file(s)")
            && stdout.contains("  changed  cld: ")
            && stdout.contains("cld_902_2026Q3.csv"),
        "{stdout}"
    );
    assert_eq!(
        manifest_of_last_run(&out)["changes"]["changed"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn late_data_for_a_closed_month_is_kept_out_until_a_full_refresh() {
    let night = Night::new();
    let pipeline = night.pipeline();
    let text =
        std::fs::read_to_string(&pipeline).unwrap() + "\n[incremental]\nlookback_months = 1\n";
    std::fs::write(&pipeline, text).unwrap();
    let out = night.dir.path().join("out");
    assert_eq!(night.run(&out, &[]).0, 0);
    let journey_july = out.join("restricted/patient_journey/2026-07.parquet");
    let before = std::fs::read(&journey_july).unwrap();
    // Westbury's file links July spells to social care, but July is closed (newest month
    // of patient_journey is September): it stays as published, with a warning.
    night.deliver_late_file();
    let (code, stdout, _) = result(&joinedup(&[
        "run",
        &pipeline,
        "--out",
        out.to_str().unwrap(),
    ]));
    assert_eq!(code, 0);
    assert!(stdout.contains("restricted/patient_journey/2026-07.parquet: late data for a closed month was not published"), "{stdout}");
    assert_eq!(std::fs::read(&journey_july).unwrap(), before);
    // Regression (review): the manifest counted the suppressed cells of the rows
    // computed, closed months never published included, not of the files published.
    let manifest = manifest_of_last_run(&out);
    let mut kept_published = 0;
    for o in manifest["outputs"].as_array().unwrap() {
        if o["access"] != "published" {
            continue;
        }
        let t = read_parquet(&out.join(o["path"].as_str().unwrap()));
        let flagged = |c: &str| {
            t.col(c)
                .iter()
                .filter(|v| v.as_deref() == Some("true"))
                .count()
        };
        let mut total = 0;
        for (c, n) in o["suppressed"].as_object().unwrap() {
            assert_eq!(
                n.as_u64().unwrap() as usize,
                flagged(&format!("{c}_suppressed")),
                "{} {c}",
                o["path"]
            );
            total += n.as_u64().unwrap();
        }
        assert_eq!(o["suppressed_cells"].as_u64().unwrap(), total);
        kept_published += o["partitions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["closed_changed"] == true)
            .count();
    }
    assert!(
        kept_published > 0,
        "a published dataset kept a closed month"
    );
    let (code, _, _) = result(&joinedup(&[
        "run",
        &pipeline,
        "--full-refresh",
        "--out",
        out.to_str().unwrap(),
    ]));
    assert_eq!(code, 0);
    assert_ne!(std::fs::read(&journey_july).unwrap(), before);
}

/// Regression: both pipelines kept their state in one `state.json`, so running the NHS
/// England publications into the same data directory made the next person-level run
/// rebuild everything.
#[test]
fn r_two_pipelines_sharing_a_data_directory_each_stay_incremental() {
    let night = Night::new();
    let out = night.dir.path().join("out");
    assert_eq!(night.run(&out, &[]).0, 0);
    let (code, _, stderr) = result(&joinedup(&[
        "run",
        "pipelines/nhse_publications.toml",
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]));
    assert_eq!(code, 0, "{stderr}");
    let (code, stdout, _) = night.run_with_summary(&out);
    assert_eq!(code, 0);
    assert!(
        stdout.contains("up to date: 4 input file(s) unchanged since the last run"),
        "{stdout}"
    );
}

/// The bytes of every file under `dir`, by path.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    files_under(dir)
        .into_iter()
        .map(|f| {
            let bytes = std::fs::read(&f).unwrap();
            (f, bytes)
        })
        .collect()
}

/// Regression (found by a review): running another pipeline into a data directory
/// (a cron line naming the wrong pipeline, or `joinedup run` with the sample's default)
/// replaced its datasets without a word, and the owning pipeline's next run found its
/// state up to date and left them replaced. Now the run refuses (exit 2), names the
/// pipeline and the datasets, and changes nothing; removing that pipeline's state hands
/// the datasets over.
#[test]
fn regression_another_pipeline_cannot_replace_a_data_directory_s_datasets() {
    let night = Night::new();
    let out = night.dir.path().join("out");
    assert_eq!(night.run(&out, &[]).0, 0);
    let other = night.dir.path().join("other.toml");
    let text = std::fs::read_to_string(night.pipeline())
        .unwrap()
        .replace("name = \"sample\"", "name = \"other\"");
    assert!(text.contains("name = \"other\""));
    std::fs::write(&other, text).unwrap();
    let before = snapshot(&out);
    let run_other = || {
        result(&joinedup(&[
            "run",
            other.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--full-refresh",
            "-q",
        ]))
    };
    let (code, _, stderr) = run_other();
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("holds datasets of pipeline \"sample\" (published/bottlenecks, published/discharge_delays"),
        "{stderr}"
    );
    assert!(
        stderr.contains("which pipeline \"other\" would replace"),
        "{stderr}"
    );
    assert!(stderr.contains("state/sample.json"), "{stderr}");
    let after: BTreeMap<PathBuf, Vec<u8>> = snapshot(&out)
        .into_iter()
        .filter(|(p, _)| !p.starts_with(out.join("runs")))
        .collect();
    let before: BTreeMap<PathBuf, Vec<u8>> = before
        .into_iter()
        .filter(|(p, _)| !p.starts_with(out.join("runs")))
        .collect();
    assert!(
        before == after,
        "the refused run changed the data directory"
    );
    // `status` and `explain` say so too (found by a review: they said "a run now would
    // rebuild everything").
    let (code, stdout, stderr) = result(&joinedup(&[
        "status",
        other.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("cannot tell: a run now would exit 2: ")
            && stdout.contains("holds datasets of pipeline \"sample\""),
        "{stdout}"
    );
    let (code, _, stderr) = result(&joinedup(&[
        "explain",
        other.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("holds datasets of pipeline \"sample\""),
        "{stderr}"
    );

    // Handed over: the other pipeline's run goes ahead, and then owns them.
    std::fs::remove_file(out.join("state/sample.json")).unwrap();
    assert_eq!(run_other().0, 0);
    let (code, _, stderr) = night.run(&out, &[]);
    assert_eq!(code, 2, "{stderr}");

    // Two names that share a state file (`icb.a` and `icb_a` both keep
    // `state/icb_a.json`) are still two pipelines (found by a review: the second
    // replaced the first's datasets).
    let fresh = night.dir.path().join("fresh");
    let named = |name: &str| {
        let path = night.dir.path().join(format!("{name}.toml"));
        let text = std::fs::read_to_string(night.pipeline())
            .unwrap()
            .replace("name = \"sample\"", &format!("name = \"{name}\""));
        std::fs::write(&path, text).unwrap();
        path
    };
    let (dotted, underscored) = (named("icb.a"), named("icb_a"));
    run_ok(Some(&dotted), &fresh, &["-q"]);
    let (code, _, stderr) = result(&joinedup(&[
        "run",
        underscored.to_str().unwrap(),
        "--out",
        fresh.to_str().unwrap(),
    ]));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("holds datasets of pipeline \"icb.a\"")
            && stderr.contains("state/icb_a.json"),
        "{stderr}"
    );
}

/// A dataset its pipeline no longer writes (an output or a source removed from it) is
/// left in place, but every run says so: it looked current while nothing updated it.
#[test]
fn a_dataset_no_pipeline_writes_any_more_is_named_on_every_run() {
    let night = Night::new();
    let out = night.dir.path().join("out");
    assert_eq!(night.run(&out, &[]).0, 0);
    let text = std::fs::read_to_string(night.pipeline()).unwrap();
    assert!(text.contains("[outputs.flow_daily]\n"));
    std::fs::write(night.pipeline(), text.replace("[outputs.flow_daily]\n", "")).unwrap();
    for _ in 0..2 {
        assert_eq!(night.run(&out, &[]).0, 0);
        let warnings = manifest_of_last_run(&out)["warnings"].to_string();
        assert!(
            warnings.contains(
                "published/flow_daily: no pipeline of this data directory writes it any more"
            ),
            "{warnings}"
        );
        assert!(
            !warnings.contains("published/discharge_delays:"),
            "{warnings}"
        );
        assert!(out.join("published/flow_daily").is_dir());
    }
}

/// `[pseudonymisation] bits = 256` keeps the whole HMAC (what builds before 2026-11-26
/// wrote): switching a data directory to it rebuilds every dataset from every input
/// (state and ingest cache hold 128-bit pseudonyms), and every pseudonym is then the
/// 64-digit extension of the 32-digit one it replaces.
#[test]
fn changing_the_pseudonym_width_rebuilds_everything_with_the_longer_pseudonyms() {
    let night = Night::new();
    let out = night.dir.path().join("out");
    assert_eq!(night.run(&out, &[]).0, 0);
    let persons = |out: &Path| {
        read_parquet(&out.join("restricted/hospital_spell")).columns["person_id"].clone()
    };
    let short = persons(&out);
    assert!(short.iter().flatten().all(|p| p.len() == 32));
    assert_eq!(
        manifest_of_last_run(&out)["pseudonymisation"]["scheme"],
        "HMAC-SHA-256-128, upper-case hex"
    );

    let text = std::fs::read_to_string(night.pipeline()).unwrap();
    let wide = text.replace("[pseudonymisation]\n", "[pseudonymisation]\nbits = 256\n");
    assert_ne!(wide, text);
    std::fs::write(night.pipeline(), wide).unwrap();
    let (code, _, stderr) = night.run(&out, &[]);
    assert_eq!(code, 0, "{stderr}");
    let m = manifest_of_last_run(&out);
    assert_eq!(m["mode"], "full");
    assert_eq!(
        m["pseudonymisation"]["scheme"],
        "HMAC-SHA-256, upper-case hex"
    );
    let files = m["sources"].as_array().unwrap().iter().flat_map(|s| {
        s["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["read_this_run"].as_bool())
    });
    assert!(
        files.clone().all(|read| read == Some(true)),
        "no file came from the ingest cache"
    );
    let long = persons(&out);
    assert_eq!(long.len(), short.len());
    // Spells without a valid NHS number have no person at either width.
    for (s, l) in short.iter().zip(&long) {
        match (s, l) {
            (Some(s), Some(l)) => assert_eq!((l.len(), &l[..32]), (64, s.as_str())),
            (s, l) => assert_eq!((s, l), (&None, &None)),
        }
    }
    assert_eq!(short.iter().filter(|p| p.is_none()).count(), 5);
}

/// Regression: a key from the environment kept its trailing newline while the same key
/// from a file lost it, so one secret gave two sets of pseudonyms; an empty variable was
/// reported as not set.
#[test]
fn regression_a_key_gives_the_same_pseudonyms_from_the_environment_and_a_file() {
    let night = Night::new();
    let pipeline = night.pipeline();
    let text = std::fs::read_to_string(&pipeline).unwrap();
    let key = "a-real-looking-secret-key-0123456789";
    let fingerprint = |source: &str, env: &[(&str, &str)]| -> (i32, String, String) {
        std::fs::write(
            &pipeline,
            text.replace("demo_key = \"DEMO-joinedup-sample-key-not-secret\"", source),
        )
        .unwrap();
        let out = night.dir.path().join(format!("out-{}", env.len()));
        let (code, _, stderr) = night.run(&out, env);
        let fp = if code == 0 {
            manifest_of_last_run(&out)["pseudonymisation"]["fingerprint"]
                .as_str()
                .unwrap()
                .to_string()
        } else {
            String::new()
        };
        (code, fp, stderr)
    };
    let key_file = night.dir.path().join("key.txt");
    std::fs::write(&key_file, format!("{key}\n")).unwrap();
    let (code, from_file, stderr) =
        fingerprint(&format!("key_file = \"{}\"", key_file.display()), &[]);
    assert_eq!(code, 0, "{stderr}");
    let with_newline = format!("{key}\n");
    let (code, from_env, stderr) = fingerprint(
        "key_env = \"JOINEDUP_TEST_KEY\"",
        &[("JOINEDUP_TEST_KEY", &with_newline)],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(from_env, from_file);
    let (code, _, stderr) = fingerprint(
        "key_env = \"JOINEDUP_TEST_KEY\"",
        &[("JOINEDUP_TEST_KEY", ""), ("UNUSED", "")],
    );
    assert_eq!(code, 2);
    assert!(
        stderr.contains("environment variable JOINEDUP_TEST_KEY is empty"),
        "{stderr}"
    );
}

/// Regression: `explain` and `status` (dry runs) logged their events with a run id no
/// manifest holds, as if a run had happened.
#[test]
fn dry_runs_log_without_a_run_id() {
    let night = Night::new();
    let out = night.dir.path().join("out");
    // `status` refuses a data directory that is not there.
    std::fs::create_dir(&out).unwrap();
    for command in ["explain", "status"] {
        let (code, _, stderr) = result(&joinedup(&[
            command,
            &night.pipeline(),
            "--log-format",
            "json",
            "--out",
            out.to_str().unwrap(),
        ]));
        assert_eq!(code, 0, "{command}: {stderr}");
        let events: Vec<serde_json::Value> = stderr
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .collect();
        // The sample pipeline's demonstration key is warned about on every run.
        assert!(!events.is_empty(), "{command}: no events");
        for v in &events {
            assert_eq!(v["span"]["name"], "dry_run", "{command}: {v}");
            assert!(v["span"].get("run_id").is_none(), "{command}: {v}");
        }
    }
    assert!(!out.join("runs").exists(), "a dry run made runs/");
}

/// Regression: a trial configuration with another key that failed left its rows in the
/// ingest cache; once the configuration was put back, the next incremental run published
/// them, every pseudonym made with the trial's key.
#[test]
fn a_failed_trial_configuration_leaves_nothing_the_next_run_reuses() {
    let night = Night::new();
    let out = night.dir.path().join("out");
    assert_eq!(night.run(&out, &[]).0, 0);
    let pipeline = night.pipeline();
    let good = std::fs::read_to_string(&pipeline).unwrap();
    let trial = good.replace(
        "DEMO-joinedup-sample-key-not-secret",
        "DEMO-a-different-trial-key",
    );
    assert_ne!(good, trial);
    std::fs::write(&pipeline, trial).unwrap();
    let broken = night.dir.path().join("inputs/apc/broken.csv");
    std::fs::write(&broken, "x,y\n1,2\n").unwrap();
    assert_eq!(
        night.run(&out, &[]).0,
        3,
        "the trial fails on the broken file"
    );
    std::fs::write(&pipeline, good).unwrap();
    std::fs::remove_file(&broken).unwrap();
    night.deliver_late_file();
    let (code, _, stderr) = night.run(&out, &[]);
    assert_eq!(code, 0, "{stderr}");
    let full = night.dir.path().join("full");
    assert_eq!(night.run(&full, &[]).0, 0);
    let (incremental, rebuilt) = (data(&out), data(&full));
    assert_eq!(
        incremental.keys().collect::<Vec<_>>(),
        rebuilt.keys().collect::<Vec<_>>()
    );
    for (path, bytes) in &incremental {
        assert!(
            bytes == &rebuilt[path],
            "{} differs from a full build",
            path.display()
        );
    }
}

/// Regression: the state kept input paths as spelled, so the same pipeline run by
/// another spelling of its path (relative from cron, absolute by hand) took every file
/// for new, redid the data work and had `status` list every file as pending.
#[test]
fn the_same_inputs_are_unchanged_however_the_pipeline_path_is_spelled() {
    let night = Night::new();
    let out = night.dir.path().join("out");
    assert_eq!(night.run(&out, &[]).0, 0);
    let respelled = night
        .dir
        .path()
        .join("inputs")
        .join("..")
        .join("nightly.toml");
    let (code, stdout, stderr) = result(&joinedup(&[
        "run",
        respelled.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("up to date"), "{stdout}");
    let (code, stdout, _) = result(&joinedup(&[
        "status",
        respelled.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]));
    assert_eq!(code, 0);
    assert!(!stdout.contains("new"), "{stdout}");
}

/// Regression (review): a zero-byte council file beside good ones stopped the whole run
/// ("is empty: expected a header row", exit 3, nothing published), though a header-only
/// file there is a warning. It is read as a file of no rows: a warning naming it (also a
/// log event), the other files read and published, rows accounted as before; the ingest
/// cache keeps its (empty) reading, so a later run with it unchanged is up to date, one
/// where another file changed reuses it, and once it has content its rows are read.
#[test]
fn regression_a_zero_byte_file_among_good_ones_is_a_warning_and_the_rest_are_read() {
    let night = Night::new();
    let out = night.dir.path().join("out");
    let empty = night.dir.path().join("inputs/cld/cld_904_2026Q3.csv");
    std::fs::write(&empty, "").unwrap();
    let warning = format!(
        "{}: is empty: no header and no data rows (source cld)",
        empty.display()
    );
    let cld = |m: &serde_json::Value| -> (u64, u64, u64, Vec<(String, u64)>) {
        let s = m["sources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == "cld")
            .unwrap();
        let files = s["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                let path = f["path"].as_str().unwrap();
                (
                    path.rsplit('/').next().unwrap().to_string(),
                    f["rows_in"].as_u64().unwrap(),
                )
            })
            .collect();
        (
            s["rows_in"].as_u64().unwrap(),
            s["accepted"].as_u64().unwrap(),
            s["quarantined"].as_u64().unwrap(),
            files,
        )
    };
    let file_rows = |names: &[(&str, u64)]| -> Vec<(String, u64)> {
        names.iter().map(|(n, r)| (n.to_string(), *r)).collect()
    };

    let (code, _, stderr) = result(&joinedup(&[
        "run",
        &night.pipeline(),
        "--out",
        out.to_str().unwrap(),
        "--log-format",
        "json",
    ]));
    assert_eq!(code, 0, "{stderr}");
    let event = stderr
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| v["message"] == "is empty: no header and no data rows")
        .unwrap_or_else(|| panic!("no event: {stderr}"));
    assert_eq!(
        (&event["level"], &event["source"], &event["file"]),
        (
            &serde_json::json!("WARN"),
            &serde_json::json!("cld"),
            &serde_json::json!(empty.display().to_string())
        )
    );
    let m = manifest_of_last_run(&out);
    assert_eq!(m["status"], "ok");
    assert!(
        m["warnings"]
            .as_array()
            .unwrap()
            .contains(&warning.clone().into()),
        "{}",
        m["warnings"]
    );
    let (rows_in, accepted, quarantined, files) = cld(&m);
    assert_eq!(rows_in, accepted + quarantined);
    assert_eq!(
        (rows_in, files),
        (
            989,
            file_rows(&[
                ("cld_901_2026Q3.csv", 458),
                ("cld_902_2026Q3.csv", 531),
                ("cld_904_2026Q3.csv", 0)
            ])
        )
    );
    assert!(read_parquet(&out.join("restricted/social_care_event")).rows > 0);

    // Unchanged: nothing to do.
    night.assert_up_to_date(&out);

    // Another file new: the empty file's reading comes from the ingest cache, whole.
    night.deliver_late_file();
    let (code, _, stderr) = night.run(&out, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("ingest cache entry"), "{stderr}");
    let m = manifest_of_last_run(&out);
    let read_this_run: Vec<(&str, bool)> = m["sources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["name"] == "cld")
        .flat_map(|s| s["files"].as_array().unwrap())
        .map(|f| {
            (
                f["path"].as_str().unwrap().rsplit('/').next().unwrap(),
                f["read_this_run"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        read_this_run,
        [
            ("cld_901_2026Q3.csv", false),
            ("cld_902_2026Q3.csv", false),
            ("cld_903_2026Q3.csv", true),
            ("cld_904_2026Q3.csv", false)
        ]
    );
    assert!(
        m["warnings"]
            .as_array()
            .unwrap()
            .contains(&warning.clone().into()),
        "{}",
        m["warnings"]
    );
    let (rows_in, _, _, files) = cld(&m);
    assert_eq!(
        (rows_in, files),
        (
            1463,
            file_rows(&[
                ("cld_901_2026Q3.csv", 458),
                ("cld_902_2026Q3.csv", 531),
                ("cld_903_2026Q3.csv", 474),
                ("cld_904_2026Q3.csv", 0)
            ])
        )
    );

    // Content arrives: council 904's one row is read.
    let sample = std::fs::read(root().join("data-samples/cld/cld_901_2026Q3.csv")).unwrap();
    let mut lines = sample.split_inclusive(|&b| b == b'\n');
    let (header, row) = (lines.next().unwrap(), lines.next().unwrap());
    assert!(row.starts_with(b"901,Northshire,"));
    let mut text = header.to_vec();
    text.extend_from_slice(b"904,Westvale,");
    text.extend_from_slice(&row[b"901,Northshire,".len()..]);
    std::fs::write(&empty, text).unwrap();
    let (code, _, stderr) = night.run(&out, &[]);
    assert_eq!(code, 0, "{stderr}");
    let m = manifest_of_last_run(&out);
    assert!(
        !m["warnings"].as_array().unwrap().contains(&warning.into()),
        "{}",
        m["warnings"]
    );
    let (rows_in, accepted, quarantined, files) = cld(&m);
    assert_eq!(
        (rows_in, accepted + quarantined, files),
        (
            1464,
            1464,
            file_rows(&[
                ("cld_901_2026Q3.csv", 458),
                ("cld_902_2026Q3.csv", 531),
                ("cld_903_2026Q3.csv", 474),
                ("cld_904_2026Q3.csv", 1)
            ])
        )
    );
}
