//! NHS England publications: the real sitrep workbooks and A&E files in
//! `../shared/real-data/`, and generated workbooks with one layout change each.

mod fixtures;
mod operations;
mod real_data;
mod workbook;

use std::path::{Path, PathBuf};

use crate::util::*;

/// The real publications, next to the repository.
pub fn real_data() -> PathBuf {
    root().join("../shared/real-data")
}

/// Runs the shipped publications pipeline with `--source` overrides into `out`.
pub fn run(out: &Path, sources: &[(&str, &Path)]) -> (i32, String, String) {
    run_env(out, sources, &[])
}

/// [`run`] with extra environment variables (e.g. `JOINEDUP_FAULT`).
pub fn run_env(
    out: &Path,
    sources: &[(&str, &Path)],
    env: &[(&str, &str)],
) -> (i32, String, String) {
    let mut args = vec![
        "run".to_string(),
        "pipelines/nhse_publications.toml".to_string(),
    ];
    for (name, path) in sources {
        args.push("--source".into());
        args.push(format!("{name}={}", path.display()));
    }
    args.push("--out".into());
    args.push(out.display().to_string());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    result(&joinedup_env(&args, env))
}

/// The newest manifest under `out`.
pub fn manifest(out: &Path) -> serde_json::Value {
    let mut runs: Vec<PathBuf> = std::fs::read_dir(out.join("runs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    runs.sort();
    let path = runs.last().unwrap().join("manifest.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A published dataset: every month file of its folder, in month order.
pub fn dataset(out: &Path, name: &str) -> Table {
    read_parquet(&out.join("published").join(name))
}

/// The one row matching every `(column, value)`; `""` matches null.
pub fn row<'t>(
    t: &'t Table,
    filters: &[(&str, &str)],
) -> std::collections::BTreeMap<&'t str, Option<&'t str>> {
    let hits: Vec<usize> = (0..t.rows)
        .filter(|&i| {
            filters
                .iter()
                .all(|(c, v)| t.col(c)[i].as_deref().unwrap_or("") == *v)
        })
        .collect();
    assert_eq!(hits.len(), 1, "rows matching {filters:?}: {hits:?}");
    t.row(hits[0])
}
