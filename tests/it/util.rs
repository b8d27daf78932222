//! Test helpers: run the binary, read Parquet back with arrow-rs (not polars).

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use arrow_array::cast::AsArray;
use arrow_array::types::ArrowPrimitiveType;
use arrow_array::types::{
    Date32Type, Float64Type, Int32Type, Int64Type, TimestampMillisecondType, UInt32Type, UInt64Type,
};
use arrow_array::{Array, ArrayRef};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `joinedup` with `args` from the repository root.
pub fn joinedup(args: &[&str]) -> Output {
    joinedup_env(args, &[])
}

/// Runs `joinedup` with extra environment variables.
pub fn joinedup_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_joinedup"));
    cmd.current_dir(root())
        .args(args)
        .env_remove("JOINEDUP_LOG")
        .env_remove("JOINEDUP_OUT")
        .env("NO_COLOR", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run joinedup")
}

/// Exit code, stdout and stderr as text.
pub fn result(o: &Output) -> (i32, String, String) {
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Runs `pipeline` (`None`: the sample's default) into `out` with `args` after, and
/// asserts it exits 0.
pub fn run_ok(pipeline: Option<&Path>, out: &Path, args: &[&str]) {
    let mut all = vec!["run"];
    if let Some(p) = pipeline {
        all.push(p.to_str().unwrap());
    }
    all.extend(["--out", out.to_str().unwrap()]);
    all.extend(args);
    let (code, stdout, stderr) = result(&joinedup(&all));
    assert_eq!(code, 0, "{}\n{stdout}{stderr}", all.join(" "));
}

/// The manifest of the one run under `out/runs/` (the first listed, where there are more).
pub fn only_manifest(out: &Path) -> serde_json::Value {
    let run = std::fs::read_dir(out.join("runs"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    serde_json::from_str(&std::fs::read_to_string(run.join("manifest.json")).unwrap()).unwrap()
}

/// A Parquet file read back as columns of display strings (`None` = null).
#[derive(Debug)]
pub struct Table {
    pub columns: BTreeMap<String, Vec<Option<String>>>,
    pub rows: usize,
    pub names: Vec<String>,
}

impl Table {
    pub fn col(&self, name: &str) -> &[Option<String>] {
        self.columns
            .get(name)
            .unwrap_or_else(|| panic!("no column {name}; have {:?}", self.names))
    }

    /// The distinct non-null values of column `name`, in order.
    pub fn distinct(&self, name: &str) -> std::collections::BTreeSet<String> {
        self.col(name).iter().flatten().cloned().collect()
    }

    /// Row `i` as a map.
    pub fn row(&self, i: usize) -> BTreeMap<&str, Option<&str>> {
        self.names
            .iter()
            .map(|n| (n.as_str(), self.columns[n][i].as_deref()))
            .collect()
    }

    pub fn i64s(&self, name: &str) -> Vec<Option<i64>> {
        self.col(name)
            .iter()
            .map(|v| v.as_ref().map(|s| s.parse().unwrap()))
            .collect()
    }
}

fn prim<T: ArrowPrimitiveType>(
    a: &ArrayRef,
    f: impl Fn(T::Native) -> String,
) -> Vec<Option<String>> {
    let p = a.as_primitive::<T>();
    (0..p.len())
        .map(|i| (!p.is_null(i)).then(|| f(p.value(i))))
        .collect()
}

fn to_strings(a: &ArrayRef) -> Vec<Option<String>> {
    use arrow_array::types::Int8Type;
    use arrow_schema::DataType;
    match a.data_type() {
        DataType::Utf8 => {
            let s = a.as_string::<i32>();
            (0..s.len())
                .map(|i| (!s.is_null(i)).then(|| s.value(i).to_string()))
                .collect()
        }
        DataType::LargeUtf8 => {
            let s = a.as_string::<i64>();
            (0..s.len())
                .map(|i| (!s.is_null(i)).then(|| s.value(i).to_string()))
                .collect()
        }
        DataType::Utf8View => {
            let s = a.as_string_view();
            (0..s.len())
                .map(|i| (!s.is_null(i)).then(|| s.value(i).to_string()))
                .collect()
        }
        DataType::Int64 => prim::<Int64Type>(a, |v| v.to_string()),
        DataType::Int32 => prim::<Int32Type>(a, |v| v.to_string()),
        DataType::Int8 => prim::<Int8Type>(a, |v| v.to_string()),
        DataType::UInt64 => prim::<UInt64Type>(a, |v| v.to_string()),
        DataType::UInt32 => prim::<UInt32Type>(a, |v| v.to_string()),
        DataType::Float64 => prim::<Float64Type>(a, |v| format!("{v:?}")),
        DataType::Date32 => prim::<Date32Type>(a, |v| civil(i64::from(v))),
        DataType::Timestamp(_, _) => prim::<TimestampMillisecondType>(a, |v| {
            let (d, ms) = (v.div_euclid(86_400_000), v.rem_euclid(86_400_000));
            format!(
                "{} {:02}:{:02}:{:02}",
                civil(d),
                ms / 3_600_000,
                ms / 60_000 % 60,
                ms / 1000 % 60
            )
        }),
        DataType::Boolean => {
            let b = a.as_boolean();
            (0..b.len())
                .map(|i| (!b.is_null(i)).then(|| b.value(i).to_string()))
                .collect()
        }
        other => panic!("unexpected type {other:?}"),
    }
}

/// `yyyy-mm-dd` for days since 1970-01-01 (Hinnant's civil_from_days).
pub fn civil(z: i64) -> String {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Reads a Parquet file, or every `*.parquet` file of a dataset folder in name order
/// (months in order), with arrow-rs.
pub fn read_parquet(path: &Path) -> Table {
    if path.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(path)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
            .collect();
        files.sort();
        assert!(!files.is_empty(), "no parquet files in {}", path.display());
        let mut all = read_file(&files[0]);
        for f in &files[1..] {
            let t = read_file(f);
            assert_eq!(t.names, all.names, "{} has other columns", f.display());
            for (k, v) in t.columns {
                all.columns.get_mut(&k).unwrap().extend(v);
            }
            all.rows += t.rows;
        }
        return all;
    }
    read_file(path)
}

fn read_file(path: &Path) -> Table {
    let file = File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap();
    let mut columns: BTreeMap<String, Vec<Option<String>>> = BTreeMap::new();
    let mut names = Vec::new();
    let mut rows = 0;
    for batch in reader {
        let batch = batch.unwrap();
        if names.is_empty() {
            names = batch
                .schema()
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .collect();
        }
        rows += batch.num_rows();
        for (f, a) in batch.schema().fields().iter().zip(batch.columns()) {
            columns
                .entry(f.name().clone())
                .or_default()
                .extend(to_strings(a));
        }
    }
    if names.is_empty() {
        let file = File::open(path).unwrap();
        let b = ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
        names = b
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        for n in &names {
            columns.insert(n.clone(), Vec::new());
        }
    }
    Table {
        columns,
        rows,
        names,
    }
}

/// Every file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The arrow type of a column, as a `schemas/shared` type name.
fn type_name(dt: &arrow_schema::DataType) -> &'static str {
    use arrow_schema::DataType::*;
    match dt {
        Utf8 | LargeUtf8 | Utf8View => "string",
        Int64 => "integer",
        Date32 => "date",
        Timestamp(_, _) => "datetime",
        Float64 => "float",
        Boolean => "boolean",
        other => panic!("unexpected column type {other:?}"),
    }
}

/// Checks the first file of `d`'s folder under `out` against `schemas/shared/<d>.toml`,
/// column for column (with a `<column>_suppressed` flag after each gated column of a
/// published dataset).
pub fn assert_matches_schema_file(out: &Path, d: joinedup::publish::Dataset) {
    let path = out.join(format!("{}/{}", d.access().folder(), d.name()));
    let first = files_under(&path)
        .into_iter()
        .find(|p| p.extension().is_some_and(|e| e == "parquet"))
        .unwrap();
    let file = File::open(&first).unwrap();
    let schema = ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .schema()
        .clone();
    let got: Vec<(String, &str)> = schema
        .fields()
        .iter()
        .map(|f| (f.name().clone(), type_name(f.data_type())))
        .collect();

    let text =
        std::fs::read_to_string(root().join(format!("schemas/shared/{}.toml", d.name()))).unwrap();
    let doc: toml::Value = toml::from_str(&text).unwrap();
    let gated: std::collections::BTreeSet<&str> = d.gate().flagged().into_iter().collect();
    let mut want: Vec<(String, &str)> = Vec::new();
    for f in doc["fields"].as_array().unwrap() {
        let name = f["name"].as_str().unwrap().to_string();
        let kind = match f["type"].as_str().unwrap() {
            "string" => "string",
            "integer" => "integer",
            "date" => "date",
            "datetime" => "datetime",
            "float" => "float",
            "boolean" => "boolean",
            other => panic!("{other}"),
        };
        assert!(!f["description"].as_str().unwrap().is_empty());
        let flag =
            gated.contains(name.as_str()) && d.access() == joinedup::publish::Access::Published;
        want.push((name.clone(), kind));
        if flag {
            want.push((format!("{name}_suppressed"), "boolean"));
        }
    }
    assert_eq!(got, want, "{}", d.name());
}

/// Reads `truth.json` of the sample.
pub fn truth() -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(root().join("data-samples/truth.json")).unwrap())
        .unwrap()
}

/// Every run manifest under `out/runs/` is a failed run's (status `failed`, with its
/// error): what a run that failed may leave besides the lock and the ingest cache.
pub fn assert_only_failed_runs(out: &Path) {
    let Ok(runs) = std::fs::read_dir(out.join("runs")) else {
        return;
    };
    for run in runs {
        let path = run.unwrap().path().join("manifest.json");
        let m: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(m["status"], "failed", "{}", path.display());
        assert!(m["error"]["message"].as_str().is_some(), "{m}");
    }
}

/// Copies every file under `from` to the same place under `to`.
pub fn copy_tree(from: &Path, to: &Path) {
    for f in files_under(from) {
        let rel = f.strip_prefix(from).unwrap();
        let target = to.join(rel);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(&f, target).unwrap();
    }
}

/// `pipelines/sample.toml` with its relative paths (schemas, inputs, mappings) made
/// absolute, so an edited copy runs from any folder.
pub fn sample_pipeline_anywhere(text: &str) -> String {
    let r = root();
    text.replace("\"../", &format!("\"{}/", r.display()))
        .replace(
            "\"mappings/",
            &format!("\"{}/pipelines/mappings/", r.display()),
        )
}

/// The text of `pipelines/sample.toml`.
pub fn sample_pipeline_text() -> String {
    std::fs::read_to_string(root().join("pipelines/sample.toml")).unwrap()
}

/// The median of `v` (the mean of the middle two for an even count).
pub fn median(v: &[i64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_unstable();
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2] as f64
    } else {
        (v[n / 2 - 1] + v[n / 2]) as f64 / 2.0
    }
}

/// Reads `run`'s stderr (piped) until it announces its pause at fault point `point`: the
/// rest of its stderr, and what it wrote there until then.
pub fn until_paused(
    run: &mut std::process::Child,
    point: &str,
) -> (std::io::BufReader<std::process::ChildStderr>, String) {
    use std::io::BufRead;
    let mut stderr = std::io::BufReader::new(run.stderr.take().unwrap());
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "no pause: {seen}");
        seen.push_str(&line);
        if line.contains(&format!("fault: pausing at {point}")) {
            return (stderr, seen);
        }
    }
}

/// A source's counts in a run's manifest: name, rows in, accepted, quarantined, accepted
/// rows without an NHS number, and quarantine reasons with their counts.
pub type SourceCounts = (String, u64, u64, u64, u64, Vec<(String, u64)>);

/// [`SourceCounts`] of every source of a run's manifest, in its order.
pub fn manifest_source_counts(manifest: &serde_json::Value) -> Vec<SourceCounts> {
    manifest["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let n = |k: &str| s[k].as_u64().unwrap();
            (
                s["name"].as_str().unwrap().to_string(),
                n("rows_in"),
                n("accepted"),
                n("quarantined"),
                n("without_nhs_number"),
                s["quarantine_reasons"]
                    .as_object()
                    .unwrap()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
                    .collect(),
            )
        })
        .collect()
}

/// Writes the comma-separated file `csv` (no quoted fields) as the first sheet of the
/// workbook `book`, every cell a string.
pub fn csv_as_workbook(csv: &Path, book: &Path) {
    let text = std::fs::read_to_string(csv).unwrap();
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (r, line) in text.lines().enumerate() {
        for (c, v) in line.split(',').enumerate() {
            ws.write_string(r as u32, c as u16, v).unwrap();
        }
    }
    wb.save(book).unwrap();
}

/// `contract` (a contract's TOML) saved as `<dir>/schemas/sources/<name>.toml`, beside a
/// copy of the shipped code lists, as `check --contract` reads a contract alone; returns
/// its path.
pub fn contract_alone(dir: &Path, name: &str, contract: &str) -> PathBuf {
    let schemas = dir.join("schemas");
    copy_tree(&root().join("schemas/codes"), &schemas.join("codes"));
    std::fs::create_dir_all(schemas.join("sources")).unwrap();
    let path = schemas.join(format!("sources/{name}.toml"));
    std::fs::write(&path, contract).unwrap();
    path
}
