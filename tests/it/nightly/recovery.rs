//! Recovery after what a nightly run cannot rule out: a crash or a failure after its
//! datasets are in place, a full refresh stopped part-way, a damaged ingest cache, a
//! `joinedup report` while a run switches datasets, runs failing night after night.

use std::path::{Path, PathBuf};

use super::{Night, data, manifest_of_last_run};
use crate::util::*;

/// The run a report page records in its head (`<meta name="joinedup-run">`).
fn report_run(out: &Path) -> Option<String> {
    let page = std::fs::read_to_string(out.join("report/index.html")).ok()?;
    let (_, rest) = page.split_once("<meta name=\"joinedup-run\" content=\"")?;
    Some(rest.split_once('"')?.0.to_string())
}

/// The run id of a manifest.
fn id_of(m: &serde_json::Value) -> String {
    m["run_id"].as_str().unwrap().to_string()
}

/// `joinedup run` of the night's pipeline into `out` with `args`, quiet, with `env`.
fn run_args(night: &Night, out: &Path, args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let pipeline = night.pipeline();
    let mut all = vec!["run", &pipeline, "--out", out.to_str().unwrap(), "-q"];
    all.extend_from_slice(args);
    let (code, _, stderr) = result(&joinedup_env(&all, env));
    (code, stderr)
}

/// Every ingest cache entry folder of `source`.
fn cache_entries(out: &Path, source: &str) -> Vec<PathBuf> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(out.join(".cache/ingest"))
        .unwrap()
        .flatten()
        .flat_map(|c| {
            std::fs::read_dir(c.path().join(source))
                .into_iter()
                .flatten()
        })
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    entries
}

/// The data a clean first run of the night's current inputs publishes.
fn clean_run(night: &Night, name: &str) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    let out = night.dir.path().join(name);
    let (code, _, stderr) = night.run(&out, &[]);
    assert_eq!(code, 0, "{stderr}");
    data(&out)
}

/// Regression (review): the state was saved before the manifest and the report, so a
/// crash between them left the published datasets with no manifest and the report of
/// the run before, for good: the next run found nothing to do, and rewrote the report
/// only when it was missing. The manifest now comes first, and a run with nothing to do
/// rewrites a report that is not from the run that published.
#[test]
fn regression_a_crash_after_the_state_is_saved_leaves_the_manifest_and_the_next_run_rewrites_the_report()
 {
    let night = Night::new();
    let out = night.dir.path().join("out");
    assert_eq!(night.run(&out, &[]).0, 0);
    let first = id_of(&manifest_of_last_run(&out));
    assert_eq!(report_run(&out), Some(first.clone()));
    night.deliver_late_file();
    let (code, _, stderr) = night.run(&out, &[("JOINEDUP_FAULT", "run_after_state")]);
    assert!(
        code != 0 && stderr.contains("fault injected at run_after_state"),
        "{code} {stderr}"
    );
    let m = manifest_of_last_run(&out);
    let built = id_of(&m);
    assert_ne!(built, first);
    assert_eq!(m["status"], "ok", "{m}");
    assert_eq!(m["outputs"].as_array().unwrap().len(), 12);
    assert_eq!(
        report_run(&out),
        Some(first),
        "the crash left the old report"
    );

    let (code, stdout, stderr) = night.run_with_summary(&out);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("up to date"), "{stdout}");
    assert_eq!(report_run(&out), Some(built.clone()), "written again");
    // The page the run wrote is the one `joinedup report` writes from the same data.
    let page = std::fs::read(out.join("report/index.html")).unwrap();
    let (code, _, stderr) = result(&joinedup(&["report", "--out", out.to_str().unwrap()]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(std::fs::read(out.join("report/index.html")).unwrap(), page);
    // A run with nothing to do and a current report leaves it alone.
    let written = std::fs::metadata(out.join("report/index.html"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(night.run(&out, &[]).0, 0);
    assert_eq!(
        std::fs::metadata(out.join("report/index.html"))
            .unwrap()
            .modified()
            .unwrap(),
        written
    );
    // `status` lists the run that built what is published, as it ended.
    let (_, stdout, _) = night.status(&out);
    let line = stdout
        .lines()
        .find(|l| l.trim_start().starts_with(&built))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(line.contains(" ok "), "{line}");
}

/// Regression (review): a report that could not be written (exit 5) had the run's
/// manifest replaced by a failed run's record listing nothing, after its state was saved:
/// `status` showed no run that built the published datasets, and the stale report stayed.
/// The manifest keeps what the run published, with its error, and the next run writes
/// the report.
#[test]
fn regression_a_report_that_cannot_be_written_keeps_the_run_s_record_and_the_next_run_writes_it() {
    let night = Night::new();
    let out = night.dir.path().join("out");
    assert_eq!(night.run(&out, &[]).0, 0);
    night.deliver_late_file();
    // A folder where the page goes: it cannot be renamed over.
    let page = out.join("report/index.html");
    std::fs::remove_file(&page).unwrap();
    std::fs::create_dir_all(page.join("in-the-way")).unwrap();
    let (code, _, stderr) = night.run(&out, &[]);
    assert_eq!(code, 5, "{stderr}");
    assert!(
        stderr.contains("the datasets were published, but writing the report failed"),
        "{stderr}"
    );
    let m = manifest_of_last_run(&out);
    let built = id_of(&m);
    assert_eq!(
        (m["status"].as_str(), m["error"]["exit_code"].as_i64()),
        (Some("failed_after_publish"), Some(5)),
        "{m}"
    );
    assert_eq!(m["outputs"].as_array().unwrap().len(), 12);
    assert_eq!(m["sources"].as_array().unwrap().len(), 3, "{m}");
    let (_, stdout, _) = night.status(&out);
    assert!(
        stdout.contains(&format!("  {built} ")) && stdout.contains(" failed_after_publish "),
        "{stdout}"
    );
    assert!(stdout.contains("    exit 5: "), "{stdout}");

    std::fs::remove_dir_all(&page).unwrap();
    night.assert_up_to_date(&out);
    assert_eq!(report_run(&out), Some(built));
}

/// Regression (review): a state saved by a run whose manifest is missing (an older
/// joinedup killed between the two) was up to date for good, nothing describing the
/// published datasets. The next run builds them again, to the same bytes, and records
/// them.
#[test]
fn regression_a_state_whose_run_left_no_manifest_is_built_again() {
    let night = Night::new();
    let out = night.dir.path().join("out");
    assert_eq!(night.run(&out, &[]).0, 0);
    let before = data(&out);
    let id = id_of(&manifest_of_last_run(&out));
    std::fs::remove_dir_all(out.join("runs").join(&id)).unwrap();
    let (code, stdout, stderr) = night.run_with_summary(&out);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains(&format!(
            "rebuilt from everything (the manifest of run {id}, which built the published datasets, is missing; they are built again so that a manifest describes them)"
        )),
        "{stdout}"
    );
    assert_eq!(data(&out), before);
    let m = manifest_of_last_run(&out);
    assert_eq!(
        (m["status"].as_str(), m["mode"].as_str()),
        (Some("ok"), Some("incremental"))
    );
    let (code, stdout, _) = night.run_with_summary(&out);
    assert_eq!(code, 0);
    assert!(stdout.contains("up to date"), "{stdout}");
}

/// Regression (review): with `lookback_months`, a `--full-refresh` killed part-way
/// through the switch left datasets disagreeing (some refreshed with the late rows of a
/// closed month, some not), and the next run found nothing to do: the refresh was never
/// recorded. It is marked in the state before the first switch, and the next run does
/// it again, to what a clean run publishes.
#[test]
fn regression_a_full_refresh_killed_part_way_is_done_again_by_the_next_run() {
    let night = Night::new();
    let pipeline = night.pipeline();
    let text =
        std::fs::read_to_string(&pipeline).unwrap() + "\n[incremental]\nlookback_months = 1\n";
    std::fs::write(&pipeline, text).unwrap();
    let out = night.dir.path().join("out");
    assert_eq!(night.run(&out, &[]).0, 0);
    night.deliver_late_file();
    assert_eq!(night.run(&out, &[]).0, 0);
    let clean = clean_run(&night, "clean");
    assert_ne!(
        data(&out),
        clean,
        "the late rows of a closed month are kept out"
    );

    let point = "publish_switched_restricted_hospital_spell";
    let (code, stderr) = run_args(
        &night,
        &out,
        &["--full-refresh"],
        &[("JOINEDUP_FAULT", point)],
    );
    assert!(
        code != 0 && stderr.contains(&format!("fault injected at {point}")),
        "{code} {stderr}"
    );
    let (code, stdout, stderr) = night.run_with_summary(&out);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains(
            "rebuilt from everything (a --full-refresh was stopped before it finished; it is done again)"
        ),
        "{stdout}"
    );
    assert_eq!(data(&out), clean);
    let (code, stdout, _) = night.run_with_summary(&out);
    assert_eq!(code, 0);
    assert!(stdout.contains("up to date"), "{stdout}");
}

/// Regression (review): an ingest cache entry was trusted as found: with its staged rows
/// removed the run published no spells while the manifest counted them all accepted, and
/// with them emptied every later run failed (exit 5, "File out of specification") naming
/// neither the entry nor a remedy. An entry that is not whole is named in a warning and
/// its file read again.
#[test]
fn regression_a_damaged_ingest_cache_entry_is_read_again_not_trusted() {
    let night = Night::new();
    let out = night.dir.path().join("out");
    assert_eq!(night.run(&out, &[]).0, 0);
    let first_night = data(&out);
    let [apc] = cache_entries(&out, "apc").try_into().unwrap();
    let rows = apc.join("rows-000.parquet");

    std::fs::remove_file(&rows).unwrap();
    night.deliver_late_file();
    let (code, _, stderr) = night.run(&out, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "ingest cache entry {} is damaged (no rows-*.parquet): ",
            apc.display()
        )) && stderr.contains("apc_spells_2026Q3.csv is read again"),
        "{stderr}"
    );
    assert_eq!(data(&out), clean_run(&night, "clean_late"));

    std::fs::write(&rows, b"").unwrap();
    for f in std::fs::read_dir(night.dir.path().join("late")).unwrap() {
        std::fs::remove_file(
            night
                .dir
                .path()
                .join("inputs/cld")
                .join(f.unwrap().file_name()),
        )
        .unwrap();
    }
    let (code, _, stderr) = night.run(&out, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "ingest cache entry {} is damaged (rows-000.parquet: ",
            apc.display()
        )),
        "{stderr}"
    );
    assert_eq!(data(&out), first_night);
    assert!(std::fs::metadata(&rows).unwrap().len() > 0, "written again");
}

/// Regression (review): the entry check read only footers and counts, so 300 bytes
/// overwritten in the middle of an entry's `rows-000.parquet` (footer intact) passed it,
/// and every later run failed (exit 5, "Invalid thrift: protocol error") naming no entry,
/// until a `--full-refresh`. Each data file's size and SHA-256 are recorded when the
/// entry is written and checked on reuse: the entry is named and its file read again.
#[test]
fn regression_an_ingest_cache_entry_damaged_mid_file_is_read_again() {
    let night = Night::new();
    let out = night.dir.path().join("out");
    assert_eq!(night.run(&out, &[]).0, 0);
    let [apc] = cache_entries(&out, "apc").try_into().unwrap();
    let rows = apc.join("rows-000.parquet");
    let mut bytes = std::fs::read(&rows).unwrap();
    let mid = bytes.len() / 2 - 150;
    bytes[mid..mid + 300].fill(0xA5);
    std::fs::write(&rows, &bytes).unwrap();

    night.deliver_late_file();
    let (code, _, stderr) = night.run(&out, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "ingest cache entry {} is damaged (rows-000.parquet: its SHA-256 is not the one written): ",
            apc.display()
        )) && stderr.contains("apc_spells_2026Q3.csv is read again"),
        "{stderr}"
    );
    assert_eq!(data(&out), clean_run(&night, "clean_late"));
}

/// Regression (review): two entries of equal counts whose `rows-000.parquet` files were
/// swapped passed the footer and count check, and each file's rows were published as
/// the other's (exit 0). Each entry's files are checked against the sizes and SHA-256
/// recorded when it was written: both entries are named and their files read again.
#[test]
fn regression_ingest_cache_entries_with_swapped_row_files_are_read_again() {
    let night = Night::new();
    let out = night.dir.path().join("out");
    // Two local authorities' files of 60 rows, none quarantined: equal counts.
    for (la, first) in [("901", 101), ("902", 1)] {
        let path = night
            .dir
            .path()
            .join(format!("inputs/cld/cld_{la}_2026Q3.csv"));
        let bytes = std::fs::read(&path).unwrap(); // Windows-1252
        let lines: Vec<&[u8]> = bytes.split(|b| *b == b'\n').collect();
        let kept = [&lines[..1], &lines[first..first + 60]]
            .concat()
            .join(&b'\n');
        std::fs::write(&path, [kept, b"\n".to_vec()].concat()).unwrap();
    }
    assert_eq!(night.run(&out, &[]).0, 0);
    let entries = cache_entries(&out, "cld");
    let entry = |la: &str| -> PathBuf {
        let name = format!("cld_{la}_2026Q3__");
        entries
            .iter()
            .find(|e| e.file_name().unwrap().to_str().unwrap().starts_with(&name))
            .unwrap()
            .clone()
    };
    let (a, b) = (entry("901"), entry("902"));
    let counts = |e: &Path| {
        let r: serde_json::Value =
            serde_json::from_slice(&std::fs::read(e.join("report.json")).unwrap()).unwrap();
        (r["accepted"].clone(), r["quarantined"].clone())
    };
    assert_eq!(counts(&a), counts(&b), "the swap must pass a count check");
    let (ra, rb) = (a.join("rows-000.parquet"), b.join("rows-000.parquet"));
    let tmp = a.join("swap");
    std::fs::rename(&ra, &tmp).unwrap();
    std::fs::rename(&rb, &ra).unwrap();
    std::fs::rename(&tmp, &rb).unwrap();

    night.deliver_late_file();
    let (code, _, stderr) = night.run(&out, &[]);
    assert_eq!(code, 0, "{stderr}");
    for (e, la) in [(&a, "901"), (&b, "902")] {
        assert!(
            stderr.contains(&format!(
                "ingest cache entry {} is damaged (rows-000.parquet: ",
                e.display()
            )) && stderr.contains(&format!("cld_{la}_2026Q3.csv is read again")),
            "{stderr}"
        );
    }
    assert_eq!(data(&out), clean_run(&night, "clean_late"));
}

/// Regression (review): `joinedup report` took no lock, so one run while a run switched
/// datasets into place wrote a page mixing the old data and the new. It refuses (exit 6,
/// nothing written) while a run holds the lock, as a second run does.
#[test]
fn regression_report_refuses_while_a_run_holds_the_data_directory() {
    let night = Night::new();
    let out = night.dir.path().join("out");
    assert_eq!(night.run(&out, &[]).0, 0);
    let page = std::fs::read(out.join("report/index.html")).unwrap();
    night.deliver_late_file();
    let point = "publish_switched_published_bottlenecks";
    let (run, _, _) = night.paused_at(&out, &format!("sleep:{point}:4000"), point, &["-q"]);
    let (code, stdout, stderr) = result(&joinedup(&["report", "--out", out.to_str().unwrap()]));
    assert_eq!(code, 6, "{stdout}{stderr}");
    assert!(
        stderr.contains("another joinedup run holds") && stderr.contains(".lock"),
        "{stderr}"
    );
    assert_eq!(std::fs::read(out.join("report/index.html")).unwrap(), page);
    let status = run.wait_with_output().unwrap().status;
    assert!(status.success(), "{status}");
    let (code, _, stderr) = result(&joinedup(&["report", "--out", out.to_str().unwrap()]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(report_run(&out), Some(id_of(&manifest_of_last_run(&out))));
}

/// Regression (review): `--keep-runs` was applied only after a successful run, so
/// `runs/` grew by a folder a night while an extract was missing.
#[test]
fn regression_keep_runs_applies_after_failed_runs_too() {
    let night = Night::new();
    let out = night.dir.path().join("out");
    let modes = || -> Vec<String> {
        let mut runs: Vec<PathBuf> = std::fs::read_dir(out.join("runs"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        runs.sort();
        runs.iter()
            .map(|r| {
                let m: serde_json::Value = serde_json::from_str(
                    &std::fs::read_to_string(r.join("manifest.json")).unwrap(),
                )
                .unwrap();
                m["mode"].as_str().unwrap().to_string()
            })
            .collect()
    };
    assert_eq!(run_args(&night, &out, &["--keep-runs", "2"], &[]).0, 0);
    let apc = night.dir.path().join("inputs/apc");
    std::fs::rename(&apc, night.dir.path().join("apc-away")).unwrap();
    for _ in 0..3 {
        assert_eq!(run_args(&night, &out, &["--keep-runs", "2"], &[]).0, 4);
    }
    assert_eq!(
        modes(),
        ["full", "failed", "failed"],
        "the run that published stays"
    );
}

/// Regression (review): the check that every row read was accepted or quarantined ran
/// after the datasets were switched into place and the state saved, so a count that did
/// not add up was published and taken for done. It runs before the switch: nothing is
/// published, and the next run does the work.
#[test]
fn regression_a_count_that_does_not_add_up_publishes_nothing() {
    let night = Night::new();
    let out = night.dir.path().join("out");
    assert_eq!(night.run(&out, &[]).0, 0);
    let before = data(&out);
    night.deliver_late_file();
    let (code, _, stderr) = night.run(&out, &[("JOINEDUP_FAULT", "flag:rows_in_miscounted")]);
    assert_eq!(code, 5, "{stderr}");
    assert!(
        stderr.contains("source apc: rows in ≠ accepted + quarantined"),
        "{stderr}"
    );
    assert_eq!(data(&out), before, "nothing published");
    assert!(!out.join(".staging").exists());
    let (code, _, stderr) = night.run(&out, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(data(&out), clean_run(&night, "clean"));
}

/// Regression (review): the ingest cache was pruned only by a run that published, so the
/// entry of a file read by a run that then failed, and removed before the next, stayed
/// for as long as nothing changed.
#[test]
fn regression_a_run_with_nothing_to_do_prunes_cache_entries_no_input_uses() {
    let night = Night::new();
    let out = night.dir.path().join("out");
    assert_eq!(night.run(&out, &[]).0, 0);
    night.deliver_late_file();
    let (code, _, stderr) = night.run(&out, &[("JOINEDUP_FAULT", "run_after_ingest")]);
    assert!(code != 0, "{stderr}");
    assert_eq!(cache_entries(&out, "cld").len(), 3);
    for f in std::fs::read_dir(night.dir.path().join("late")).unwrap() {
        std::fs::remove_file(
            night
                .dir
                .path()
                .join("inputs/cld")
                .join(f.unwrap().file_name()),
        )
        .unwrap();
    }
    night.assert_up_to_date(&out);
    assert_eq!(cache_entries(&out, "cld").len(), 2);
}

/// Regression (review): a SIGTERM between the switch and the manifest exited 143 with
/// every dataset holding the new data, but recorded the run `failed` with no outputs and
/// "datasets not yet switched into place are as before this run", and `status` and the
/// report paired the new data with the previous run's manifest. The manifest is written
/// whole (`publishing`) before the switch, so the signal leaves it
/// `failed_after_publish` with its outputs, and the next run builds them again.
#[test]
fn regression_sigterm_between_the_switch_and_the_manifest_records_what_was_switched() {
    let night = Night::new();
    let out = night.dir.path().join("out");
    assert_eq!(night.run(&out, &[]).0, 0);
    night.deliver_late_file();
    let point = "run_before_manifest";
    let (code, stderr) = night.sigterm_when_paused(&out, &format!("sleep:{point}:4000"), point);
    assert_eq!(code, Some(143), "{stderr}");
    let m = manifest_of_last_run(&out);
    let stopped = id_of(&m);
    assert_eq!(
        (m["status"].as_str(), m["error"]["exit_code"].as_i64()),
        (Some("failed_after_publish"), Some(143)),
        "{m}"
    );
    assert_eq!(m["outputs"].as_array().unwrap().len(), 12, "{m}");
    assert_eq!(m["sources"].as_array().unwrap().len(), 3, "{m}");
    let message = m["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("interrupted by SIGTERM after it began switching")
            && !message.contains("as before this run"),
        "{message}"
    );
    let (_, stdout, _) = night.status(&out);
    assert!(
        stdout.contains(&format!("  {stopped} ")) && stdout.contains(" failed_after_publish "),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "run {stopped} was stopped after it began switching"
        )),
        "{stdout}"
    );
    let (code, _, stderr) = result(&joinedup(&["report", "--out", out.to_str().unwrap()]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        report_run(&out),
        Some(stopped.clone()),
        "the new data's run"
    );

    let (code, _, stderr) = night.run(&out, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(data(&out), clean_run(&night, "clean"));
    assert_ne!(id_of(&manifest_of_last_run(&out)), stopped);
    assert_eq!(report_run(&out), Some(id_of(&manifest_of_last_run(&out))));
}

/// Regression (review): a run killed outright (`kill -9`) between the switch and its
/// manifest left no record of the data it had switched into place. It leaves its
/// manifest `publishing`, outputs listed; `status` says what that means, and the next
/// run builds the datasets again, even with the inputs put back as the saved state has
/// them, to what a clean run publishes.
#[test]
fn regression_a_run_killed_between_the_switch_and_the_manifest_leaves_it_publishing() {
    let night = Night::new();
    let out = night.dir.path().join("out");
    assert_eq!(night.run(&out, &[]).0, 0);
    let first_night = data(&out);
    night.deliver_late_file();
    let point = "run_before_manifest";
    let (code, _, stderr) = night.run(&out, &[("JOINEDUP_FAULT", point)]);
    assert!(
        code != 0 && stderr.contains(&format!("fault injected at {point}")),
        "{code} {stderr}"
    );
    let m = manifest_of_last_run(&out);
    let killed = id_of(&m);
    assert_eq!(m["status"], "publishing", "{m}");
    assert_eq!(m["outputs"].as_array().unwrap().len(), 12, "{m}");
    assert_ne!(data(&out), first_night, "the late file's data are in place");

    let (_, stdout, _) = night.status(&out);
    assert!(
        stdout.contains(&format!("  {killed} ")) && stdout.contains(" publishing "),
        "{stdout}"
    );
    assert!(
        stdout.contains("stopped while switching its datasets into place")
            && stdout.contains(&format!(
                "run {killed} was stopped after it began switching"
            )),
        "{stdout}"
    );

    // The late file taken away again: the inputs equal the saved state, but what is
    // published is the killed run's, so the run still builds.
    for f in std::fs::read_dir(night.dir.path().join("late")).unwrap() {
        std::fs::remove_file(
            night
                .dir
                .path()
                .join("inputs/cld")
                .join(f.unwrap().file_name()),
        )
        .unwrap();
    }
    let (code, stdout, stderr) = night.run_with_summary(&out);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains(&format!(
            "run {killed} was stopped after it began switching"
        )),
        "{stdout}"
    );
    assert_eq!(data(&out), first_night);
    assert_eq!(data(&out), clean_run(&night, "clean"));
    let (code, stdout, _) = night.run_with_summary(&out);
    assert_eq!(code, 0);
    assert!(stdout.contains("up to date"), "{stdout}");
}

/// Regression (review): after a crash between a run's manifest and its state, the state
/// names an older run; `--keep-runs 1` on a later failing run removed that older run's
/// folder, so the next run found a state naming no manifest and built everything again.
/// The run the state names is kept too.
#[test]
fn regression_keep_runs_keeps_the_run_the_saved_state_names() {
    let night = Night::new();
    let out = night.dir.path().join("out");
    assert_eq!(run_args(&night, &out, &["--keep-runs", "1"], &[]).0, 0);
    let first = id_of(&manifest_of_last_run(&out));
    night.deliver_late_file();
    let (code, _) = run_args(
        &night,
        &out,
        &["--keep-runs", "1"],
        &[("JOINEDUP_FAULT", "run_before_state")],
    );
    assert_ne!(code, 0);
    let apc = night.dir.path().join("inputs/apc");
    std::fs::rename(&apc, night.dir.path().join("apc-away")).unwrap();
    assert_eq!(run_args(&night, &out, &["--keep-runs", "1"], &[]).0, 4);
    let runs: Vec<String> = std::fs::read_dir(out.join("runs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(runs.len(), 3, "{runs:?}");
    assert!(
        runs.contains(&first),
        "the state's run {first} stays: {runs:?}"
    );
}

/// Regression (review, session 18): a run that failed after ingest (a full disk while
/// writing a dataset) left a manifest with no changes, no stages and no sources, as if it
/// had read nothing, and `status` showed "–" rows read: at 3 a.m. it could not say which
/// inputs the run was processing. The manifest now keeps what it had done: what changed,
/// the stages finished and every source's files and counts.
#[test]
fn regression_a_run_failing_after_ingest_records_what_it_read() {
    let night = Night::new();
    let out = night.dir.path().join("out");
    let (code, stderr) = run_args(
        &night,
        &out,
        &[],
        &[("JOINEDUP_FAULT", "enospc:dataset_write")],
    );
    assert_eq!(code, 5, "{stderr}");
    assert!(
        stderr.contains("No space left on device (os error 28)"),
        "{stderr}"
    );
    let m = manifest_of_last_run(&out);
    assert_eq!(m["status"], "failed", "{m}");
    assert_eq!(m["error"]["exit_code"], 5);
    let stages: Vec<&str> = m["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["stage"].as_str().unwrap())
        .collect();
    assert_eq!(stages, ["config", "pull", "ingest"], "{m}");
    assert_eq!(m["changes"]["new"].as_array().unwrap().len(), 4, "{m}");
    let sources = m["sources"].as_array().unwrap();
    assert_eq!(
        sources
            .iter()
            .map(|s| s["name"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["apc", "cld", "ecds"]
    );
    for s in sources {
        let (rows_in, accepted, quarantined) = (
            s["rows_in"].as_u64().unwrap(),
            s["accepted"].as_u64().unwrap(),
            s["quarantined"].as_u64().unwrap(),
        );
        assert!(rows_in > 0 && rows_in == accepted + quarantined, "{s}");
    }
    // The next run, with room, completes and reads nothing twice over.
    assert_eq!(night.run(&out, &[]).0, 0);
}
