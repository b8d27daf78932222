//! Golden cases: hand-built inputs in `tests/cases/<case>/` (apc.csv, ecds.csv, cld/) run
//! through `tests/cases/pipeline.toml`, compared with the hand-written `expected.toml`.
//!
//! `expected.toml` holds `[[expect]]` blocks: `dataset` (path under the data directory,
//! e.g. `restricted/patient_journey`), optional `filter` (column = value, all must
//! match), `columns`, and `rows` — the rows the filter selects, in file order, as strings
//! (`"null"` for null, `"*"` for any non-null value). `[[manifest]]` blocks compare a
//! dotted path in the run manifest (a number steps into a list: `sources.0.accepted`)
//! with a value, a whole number or a text.

use std::path::Path;

use crate::util::*;

fn run_case(case: &Path) -> tempfile::TempDir {
    let out = tempfile::tempdir().unwrap();
    let arg = |name: &str, rel: &str| format!("{name}={}", case.join(rel).display());
    let (code, stdout, stderr) = result(&joinedup(&[
        "run",
        "tests/cases/pipeline.toml",
        "--source",
        &arg("apc", "apc.csv"),
        "--source",
        &arg("ecds", "ecds.csv"),
        "--source",
        &arg("cld", "cld"),
        "--out",
        out.path().to_str().unwrap(),
        "-q",
    ]));
    assert_eq!(code, 0, "case {}: {stdout}\n{stderr}", case.display());
    out
}

fn cell(v: &Option<String>) -> String {
    v.clone().unwrap_or_else(|| "null".to_string())
}

fn check_case(case: &Path) {
    let out = run_case(case);
    let expected: toml::Value =
        toml::from_str(&std::fs::read_to_string(case.join("expected.toml")).unwrap()).unwrap();
    let name = case.file_name().unwrap().to_string_lossy();
    assert!(
        expected
            .get("expect")
            .and_then(|v| v.as_array())
            .is_some_and(|a| !a.is_empty()),
        "case {name} expects nothing"
    );
    for e in expected
        .get("expect")
        .and_then(|v| v.as_array())
        .into_iter()
        .flatten()
    {
        let dataset = e["dataset"].as_str().unwrap();
        let t = read_parquet(&out.path().join(dataset));
        let columns: Vec<&str> = e["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        let filter: Vec<(String, String)> = e
            .get("filter")
            .and_then(|f| f.as_table())
            .map(|f| {
                f.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                    .collect()
            })
            .unwrap_or_default();
        let got: Vec<Vec<String>> = (0..t.rows)
            .filter(|&i| filter.iter().all(|(k, v)| cell(&t.col(k)[i]) == *v))
            .map(|i| columns.iter().map(|c| cell(&t.col(c)[i])).collect())
            .collect();
        let want: Vec<Vec<String>> = e["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                r.as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_str().unwrap().to_string())
                    .collect()
            })
            .collect();
        assert_eq!(
            got.len(),
            want.len(),
            "case {name}, {dataset} {filter:?}: rows {got:?}"
        );
        for (g, w) in got.iter().zip(&want) {
            for ((c, gv), wv) in columns.iter().zip(g).zip(w) {
                let ok = if wv == "*" { gv != "null" } else { gv == wv };
                assert!(
                    ok,
                    "case {name}, {dataset} {filter:?}, column {c}: got {gv:?}, want {wv:?}\nrow {g:?}"
                );
            }
        }
    }
    let run = std::fs::read_dir(out.path().join("runs"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("manifest.json")).unwrap()).unwrap();
    for m in expected
        .get("manifest")
        .and_then(|v| v.as_array())
        .into_iter()
        .flatten()
    {
        let path = m["path"].as_str().unwrap();
        let got = path
            .split('.')
            .fold(&manifest, |v, k| match k.parse::<usize>() {
                Ok(i) if v.is_array() => &v[i],
                _ => &v[k],
            });
        match &m["value"] {
            toml::Value::String(want) => {
                assert_eq!(
                    got.as_str(),
                    Some(want.as_str()),
                    "case {name}: manifest {path}"
                )
            }
            want => assert_eq!(
                got.as_i64(),
                Some(want.as_integer().unwrap()),
                "case {name}: manifest {path}"
            ),
        }
    }
}

macro_rules! golden {
    ($($case:ident),* $(,)?) => {
        $(
            #[test]
            fn $case() {
                check_case(&root().join("tests/cases").join(stringify!($case)));
            }
        )*

        #[test]
        fn every_case_folder_has_a_test() {
            let mut folders: Vec<String> = std::fs::read_dir(root().join("tests/cases"))
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.is_dir())
                .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
                .collect();
            folders.sort();
            let mut listed = vec![$(stringify!($case).to_string()),*];
            listed.sort();
            assert_eq!(folders, listed);
        }
    };
}

golden!(
    home_care_delay,
    care_home_wait,
    readmission,
    ed_across_midnight,
    ed_over_clock_change,
    local_id_only,
    cld_resubmission,
    disclosure,
    unusable_values_left_blank,
);
