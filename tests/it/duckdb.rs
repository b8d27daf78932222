//! The outputs as analysts read them: DuckDB (Python, `duckdb==2.0.1` in `.venv-readers/`,
//! which scripts/test creates, or `JOINEDUP_READERS_VENV`) filters and joins the
//! restricted datasets and gets what arrow-rs reads from the same files.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use crate::util::*;

fn python() -> Option<PathBuf> {
    let venv = std::env::var_os("JOINEDUP_READERS_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(".venv-readers"));
    let python = venv.join("bin/python");
    if python.exists() {
        return Some(python);
    }
    if std::env::var_os("JOINEDUP_REQUIRE_DUCKDB").is_some() {
        panic!(
            "DuckDB venv missing at {}; run scripts/test to create it",
            venv.display()
        );
    }
    eprintln!(
        "SKIPPED: DuckDB venv missing at {} (scripts/test creates it)",
        venv.display()
    );
    None
}

/// Runs `sql` (one row of integers) in DuckDB; `{dir}` is the restricted folder.
fn duckdb(python: &PathBuf, sql: &str) -> Vec<i64> {
    let script = "import duckdb, json, sys\nprint(json.dumps([int(v) for v in duckdb.sql(sys.argv[1]).fetchall()[0]]))";
    let o = Command::new(python)
        .args(["-c", script, sql])
        .output()
        .unwrap();
    let (code, stdout, stderr) = result(&o);
    assert_eq!(code, 0, "{sql}\n{stderr}");
    serde_json::from_str(stdout.trim()).unwrap()
}

/// Regression: pseudonym columns had no min/max statistics, and DuckDB 2.0 skipped every
/// row group on a filter or join on `person_id` (a join of spells to attendances gave 0
/// rows where there are thousands).
#[test]
fn duckdb_joins_and_filters_on_pseudonyms_as_arrow_rs_reads_them() {
    let Some(python) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    run_ok(None, dir.path(), &["-q"]);
    let restricted = dir.path().join("restricted");
    let spells = read_parquet(&restricted.join("hospital_spell"));
    let ed = read_parquet(&restricted.join("ed_attendance"));
    let care = read_parquet(&restricted.join("social_care_event"));

    // Pairs of a spell and an attendance of one person, and the rows of one person.
    let mut per_person: BTreeMap<&str, i64> = BTreeMap::new();
    for p in ed.col("person_id").iter().flatten() {
        *per_person.entry(p.as_str()).or_default() += 1;
    }
    let pairs: i64 = spells
        .col("person_id")
        .iter()
        .flatten()
        .map(|p| per_person.get(p.as_str()).copied().unwrap_or(0))
        .sum();
    assert!(
        pairs > 1000,
        "the sample's spells and attendances share people: {pairs}"
    );
    let someone = spells.col("person_id")[0].clone().unwrap();
    let count = |t: &Table, p: &str| {
        t.col("person_id")
            .iter()
            .flatten()
            .filter(|v| *v == p)
            .count() as i64
    };
    let prefix = &someone[..2];
    let with_prefix = spells
        .col("person_id")
        .iter()
        .flatten()
        .filter(|v| v.starts_with(prefix))
        .count() as i64;

    let path = |name: &str| format!("'{}/{name}/*.parquet'", restricted.display());
    let got = duckdb(
        &python,
        &format!(
            "SELECT (SELECT count(*) FROM read_parquet({s}) h JOIN read_parquet({e}) a ON h.person_id = a.person_id),
                    (SELECT count(*) FROM read_parquet({s}) WHERE person_id = '{someone}'),
                    (SELECT count(*) FROM read_parquet({e}) WHERE person_id = '{someone}'),
                    (SELECT count(*) FROM read_parquet({c}) WHERE person_id = '{someone}'),
                    (SELECT count(*) FROM read_parquet({s}) WHERE person_id LIKE '{prefix}%'),
                    (SELECT count(*) FROM read_parquet({s})),
                    (SELECT count(*) FROM read_parquet({e})),
                    (SELECT count(*) FROM read_parquet({c}))",
            s = path("hospital_spell"),
            e = path("ed_attendance"),
            c = path("social_care_event"),
        ),
    );
    assert_eq!(
        got,
        [
            pairs,
            count(&spells, &someone),
            count(&ed, &someone),
            count(&care, &someone),
            with_prefix,
            spells.rows as i64,
            ed.rows as i64,
            care.rows as i64,
        ]
    );
}
