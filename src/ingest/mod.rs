//! Stage 2, ingest: read each source's files against its contract.
//!
//! Per file: sniff the byte-order mark, match the header row to the contract (a missing
//! required column rejects the file), then check every row ([`row::RowChecker`]). A
//! file of no rows — a header only, or nothing at all (zero bytes) — is a warning naming
//! it; whether a source of no rows may run is the caller's (`allow_empty`).
//! Accepted rows are written in batches to Parquet with identifiers already
//! pseudonymised; rejected rows go to the file's [`quarantine::Quarantine`] with reason
//! codes. Rows in = rows accepted + rows quarantined, per file and source. A large file
//! without quote characters is checked in byte ranges on several threads ([`chunks`]),
//! one staged file per range, with the same rows, numbers and quarantine as one read.
//!
//! Each file's result is kept in the data directory's ingest cache, keyed by content and
//! name, so a later run reads only new or changed files.

pub mod batch;
pub mod chunks;
pub mod dates;
pub mod decode;
pub mod entry_files;
pub mod header;
pub mod lines;
pub mod nhs_number;
pub mod nhse;
pub mod quarantine;
pub mod reason;
pub mod row;
pub mod shapes;
pub mod workbook_cells;
pub mod workbook_extent;
pub mod workbook_limits;
pub mod workbook_merged;
mod workbook_padding;
pub mod workbook_rows;
pub mod workbook_sheet;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::SourcePlan;
use crate::error::{Error, Location, Result};
use crate::normalise::pseudonym::Pseudonymiser;
use crate::pull::InputFile;
use crate::schema::{DriftPolicy, Encoding};
use batch::BatchBuilder;
use decode::{Bom, sniff_bom};
use quarantine::{Quarantine, QuarantineRow};
use reason::Reason;

/// Rows per staged batch (and row group of a staged file). Measured at 10 M rows
/// against 65,536, four runs each side by side: the same time, and peak memory
/// 870-922 MB instead of 918-947 MB (a batch's buffers are a quarter the size, so the
/// allocator reuses them instead of fetching fresh pages).
const BATCH_ROWS: usize = 16_384;

/// What ingest did with one file; also kept as `report.json` in the ingest cache.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileIngest {
    /// The file and its fingerprint.
    pub input: InputFile,
    /// Encoding used to decode it (`utf-8`, `windows-1252`), or `workbook` for an Excel
    /// workbook (whose cells are text already).
    pub encoding: String,
    /// Data rows read (header excluded).
    pub rows_in: u64,
    /// Rows accepted.
    pub accepted: u64,
    /// Rows quarantined.
    pub quarantined: u64,
    /// Quarantined rows with each reason code (a row with several counts under each).
    pub reasons: BTreeMap<String, u64>,
    /// Values left blank in accepted rows (`on_invalid`/`on_fail = "blank"`): contract
    /// column → reason code → count.
    #[serde(default)]
    pub blanked: BTreeMap<String, BTreeMap<String, u64>>,
    /// Accepted rows without an NHS number (blank, or left blank as invalid) where the
    /// contract lets it be blank: rows that link to nothing.
    #[serde(default)]
    pub without_nhs_number: u64,
    /// Columns the contract does not declare.
    pub extra_columns: Vec<String>,
    /// Warnings for the run report (schema drift and the like).
    pub warnings: Vec<String>,
    /// In the ingest cache: the size and SHA-256 of each of the entry's data files as
    /// written ([`entry_files`]), checked before the entry is reused. Empty in an entry
    /// made by an older version, which is therefore read again.
    #[serde(default)]
    pub entry_files: BTreeMap<String, entry_files::FileRecord>,
    /// The run dates this reading holds for (its dates checked against the run's date by
    /// a column's `not_after_run_days`): a cached reading is reused only on a run date
    /// inside them ([`crate::run_date`]).
    #[serde(default)]
    pub run_dates: crate::run_date::RunDates,
    /// Accepted rows (Parquet, identifiers pseudonymised): one file per byte range read.
    #[serde(skip)]
    pub staged: Vec<PathBuf>,
    /// Quarantined rows (Parquet).
    #[serde(skip)]
    pub quarantine: PathBuf,
    /// True when this run reused an earlier run's work on the same file.
    #[serde(skip)]
    pub cached: bool,
}

/// What ingest did with one source.
#[derive(Debug)]
pub struct SourceIngest {
    /// Source name.
    pub name: String,
    /// Per file, in input order.
    pub files: Vec<FileIngest>,
}

impl SourceIngest {
    /// Data rows read.
    pub fn rows_in(&self) -> u64 {
        self.files.iter().map(|f| f.rows_in).sum()
    }
    /// Rows accepted.
    pub fn accepted(&self) -> u64 {
        self.files.iter().map(|f| f.accepted).sum()
    }
    /// Rows quarantined.
    pub fn quarantined(&self) -> u64 {
        self.files.iter().map(|f| f.quarantined).sum()
    }
    /// Accepted rows without an NHS number.
    pub fn without_nhs_number(&self) -> u64 {
        self.files.iter().map(|f| f.without_nhs_number).sum()
    }
    /// Quarantined rows with each reason, over all files (a row with several counts under
    /// each).
    pub fn reasons(&self) -> BTreeMap<String, u64> {
        let mut out = BTreeMap::new();
        for f in &self.files {
            for (k, v) in &f.reasons {
                *out.entry(k.clone()).or_default() += v;
            }
        }
        out
    }
    /// Warnings of all files.
    pub fn warnings(&self) -> impl Iterator<Item = &String> {
        self.files.iter().flat_map(|f| &f.warnings)
    }
    /// Files read fresh (not from the cache).
    pub fn fresh(&self) -> usize {
        self.files.iter().filter(|f| !f.cached).count()
    }
}

/// Ingests every file of a source, reusing `cache_root/<source>/<file key>/` for files an
/// earlier run already checked (same content, same name, same configuration and key —
/// the caller clears the cache when configuration or key change).
pub fn ingest_source(
    source: &SourcePlan,
    inputs: &[InputFile],
    pseudo: &Pseudonymiser,
    cache_root: &Path,
) -> Result<SourceIngest> {
    let mut files = Vec::with_capacity(inputs.len());
    for input in inputs {
        files.push(ingest_file_cached(source, input, pseudo, cache_root)?);
    }
    Ok(SourceIngest {
        name: source.name.clone(),
        files,
    })
}

/// Ingests the files of every source, several files at once (one worker per core, at most
/// `workers`), and returns one result per source in plan order. A file's rows do not depend
/// on any other file, so the order of work does not change any output.
pub fn ingest_all(
    sources: &[(&SourcePlan, &[InputFile])],
    pseudo: &Pseudonymiser,
    cache_root: &Path,
    workers: usize,
) -> Result<Vec<SourceIngest>> {
    let jobs: Vec<(usize, usize)> = sources
        .iter()
        .enumerate()
        .flat_map(|(s, (_, files))| (0..files.len()).map(move |f| (s, f)))
        .collect();
    // Largest files first, so the last file to start is a small one.
    let mut order: Vec<usize> = (0..jobs.len()).collect();
    order.sort_by_key(|&j| std::cmp::Reverse(sources[jobs[j].0].1[jobs[j].1].bytes));
    let results = crate::parallel::map_in_order(&jobs, &order, workers, |&(s, f)| {
        let (plan, files) = sources[s];
        ingest_file_cached(plan, &files[f], pseudo, cache_root)
    });
    let mut out: Vec<SourceIngest> = sources
        .iter()
        .map(|(plan, _)| SourceIngest {
            name: plan.name.clone(),
            files: Vec::new(),
        })
        .collect();
    for ((s, _), r) in jobs.into_iter().zip(results) {
        out[s].files.push(r?);
    }
    Ok(out)
}

/// The cache entries (folder names) of `inputs`, as [`ingest_all`] reads and writes them.
pub fn cache_entries(inputs: &[InputFile]) -> std::collections::BTreeSet<String> {
    inputs.iter().map(cache_key).collect()
}

/// The cache folder name of an input: content hash and file name, without an NHS-number
/// shape (a file named after its patient; the hash keeps files apart).
fn cache_key(input: &InputFile) -> String {
    let name = quarantine::file_name_text(&input.path);
    crate::pull::landing::landed_name(&quarantine::mask_file_name(&name), &input.sha256)
}

fn ingest_file_cached(
    source: &SourcePlan,
    input: &InputFile,
    pseudo: &Pseudonymiser,
    cache_root: &Path,
) -> Result<FileIngest> {
    let dir = cache_root.join(&source.name);
    let done = dir.join(cache_key(input));
    let report_path = done.join("report.json");
    if done.exists() {
        let reading = std::fs::read_to_string(&report_path)
            .map_err(|e| format!("report.json: {e}"))
            .and_then(|text| {
                serde_json::from_str::<FileIngest>(&text).map_err(|e| format!("report.json: {e}"))
            });
        let today = crate::run_date::today_or_now();
        let reading = reading.and_then(|report| match report.run_dates.why_not(today) {
            // Not damaged: read again, as its dates were checked against another day.
            Some(why) => {
                tracing::info!(source = %source.name, file = %quarantine::shown_path(&input.path), "read again: {why}");
                Err(String::new())
            }
            None => Ok(report),
        });
        match reading.and_then(|report| Ok((whole_entry(&done, &report)?, report))) {
            Ok((staged, mut report)) => {
                report.input = input.clone();
                report.staged = staged;
                report.quarantine = done.join("quarantine.parquet");
                report.cached = true;
                // A scheduler's log says each time what the file holds, read or reused.
                for w in &report.warnings {
                    tracing::warn!(source = %source.name, file = %quarantine::shown_path(&input.path), "{w} (read in an earlier run; its rows reused)");
                }
                return Ok(report);
            }
            Err(why) if why.is_empty() => {}
            // Trusted, a staged file removed published no rows of the file (the manifest
            // counting them all the same), and an empty one failed every later run.
            Err(why) => tracing::warn!(
                source = %source.name,
                entry = %quarantine::shown_path(&done),
                "ingest cache entry {} is damaged ({why}): {} is read again",
                quarantine::shown_path(&done),
                quarantine::shown_path(&input.path)
            ),
        }
    }
    let tmp = dir.join(format!(".tmp-{}", uuid::Uuid::new_v4().simple()));
    // Removed if a signal stops the run while the file is read: it holds pseudonymised
    // rows, and a workbook's sheet copied out with its NHS numbers.
    let _removed_on_signal = {
        let _creating = crate::interrupt::creating();
        std::fs::create_dir_all(&tmp).map_err(|e| Error::io("creating", &tmp, e))?;
        crate::interrupt::StagingGuard::new(tmp.clone())
    };
    let result = ingest_into(source, input, pseudo, &tmp, chunks::min_chunk_bytes());
    let mut report = match result {
        Ok(r) => r,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(e);
        }
    };
    let mut kept = cache_record(&report);
    // Hashed as written (still in the page cache), so a reuse can tell the same bytes.
    kept.entry_files = entry_files::record(&tmp)?;
    let json = serde_json::to_vec_pretty(&kept)
        .map_err(|e| Error::Internal(format!("ingest report: {e}")))?;
    crate::publish::staging::write_atomic(&tmp.join("report.json"), &json)?;
    // Not synced before it is renamed into place: a crash that leaves the entry's files
    // unwritten or torn leaves them failing their recorded sizes and hashes (or an
    // unreadable report.json), so the entry is read again, not trusted; syncing every
    // staged file cost a full run about 3 % of its time (0.8 s of 29 s at 10 M rows).
    crate::fault::point("ingest_before_cache_commit");
    if done.exists() {
        std::fs::remove_dir_all(&done).map_err(|e| Error::io("replacing", &done, e))?;
    }
    std::fs::rename(&tmp, &done).map_err(|e| Error::io("caching", &done, e))?;
    sync_folder(&dir)?;
    report.staged = staged_files(&done)?;
    report.quarantine = done.join("quarantine.parquet");
    Ok(report)
}

/// Reads one file against its source's contract into `dir` (its staged rows and
/// quarantine, as a run's cache entry holds them), without the cache: what
/// `joinedup check` reads a file with, so it says what a run would make of it.
pub fn ingest_uncached(
    source: &SourcePlan,
    input: &InputFile,
    pseudo: &Pseudonymiser,
    dir: &Path,
) -> Result<FileIngest> {
    let mut report = ingest_into(source, input, pseudo, dir, chunks::min_chunk_bytes())?;
    report.staged = staged_files(dir)?;
    report.quarantine = dir.join("quarantine.parquet");
    Ok(report)
}

/// What the ingest cache's `report.json` keeps of a reading: not where the file was (a
/// reuse takes the input it is reused for), its name holding no NHS number, and its
/// warnings with NHS numbers withheld as the manifest's are (a workbook's sheet may be
/// named after its patient).
pub fn cache_record(report: &FileIngest) -> FileIngest {
    let mut kept = report.clone();
    kept.input.path = PathBuf::from(quarantine::shown_path(&report.input.path));
    for w in &mut kept.warnings {
        if let std::borrow::Cow::Owned(masked) = quarantine::mask_nhs_numbers(w) {
            *w = masked;
        }
    }
    kept
}

/// Reads one file into `dir/rows-NNN.parquet` (one file per byte range, in order) and
/// `dir/quarantine.parquet`. A large unquoted file is split into ranges checked on
/// several threads ([`chunks`]); the rows, their numbers and the quarantine are the same
/// as a sequential read.
fn ingest_into(
    source: &SourcePlan,
    input: &InputFile,
    pseudo: &Pseudonymiser,
    dir: &Path,
    min_chunk_bytes: u64,
) -> Result<FileIngest> {
    let read = file_start(&input.path, 8).and_then(|head| {
        if workbook_sheet::is_workbook(&head) {
            read_workbook(source, input, pseudo, dir, min_chunk_bytes)
        } else {
            read_file(source, input, pseudo, dir, min_chunk_bytes, None)
        }
    });
    // What was read is kept under the hash taken before: only when the file is still the
    // file hashed (a file rewritten during the run was kept, under the full file's hash,
    // with the rows of the bytes read, and the next run found nothing changed). Checked
    // after an error too: a file removed mid-read is unavailable, not an internal error.
    match input.changed_since_hashed() {
        Some(why) => Err(Error::SourceUnavailable {
            source_name: source.name.clone(),
            message: format!(
                "{} {why}: nothing read from it is kept; run again once it is complete",
                quarantine::shown_path(&input.path)
            ),
        }),
        None => read,
    }
}

/// [`ingest_into`]'s reading of an Excel workbook: its sheet written out as CSV
/// ([`workbook_sheet`]) and read as the file's rows, under the file's own name.
fn read_workbook(
    source: &SourcePlan,
    input: &InputFile,
    pseudo: &Pseudonymiser,
    dir: &Path,
    min_chunk_bytes: u64,
) -> Result<FileIngest> {
    let rejected = |message: String| Error::InputRejected {
        location: Location {
            file: input.path.clone(),
            line: None,
            column: None,
        },
        message,
    };
    let scratch = dir.join("workbook");
    let sheet =
        workbook_sheet::to_csv(&input.path, &source.contract, &scratch).map_err(rejected)?;
    crate::fault::point("ingest_workbook_copied");
    // The sheet as the contract's rows: UTF-8, comma-delimited, whatever the contract says
    // of the text files it reads.
    let mut contract = source.contract.as_ref().clone();
    contract.encoding = Encoding::Utf8;
    contract.delimiter = b',';
    let plain = SourcePlan {
        contract: std::sync::Arc::new(contract),
        ..source.clone()
    };
    let as_csv = InputFile {
        path: sheet.path.clone(),
        bytes: sheet.bytes,
        sha256: input.sha256.clone(),
        stamp: None,
    };
    let read = read_file(
        &plain,
        &as_csv,
        pseudo,
        dir,
        min_chunk_bytes,
        Some(&input.path),
    );
    let _ = std::fs::remove_dir_all(&scratch);
    // Messages name the workbook, not the sheet's copy.
    let (copy, original) = (
        quarantine::shown_path(&sheet.path),
        quarantine::shown_path(&input.path),
    );
    let read_from = format!(
        "sheet \"{}\" of the workbook read; its sheets: {}; a contract's `sheet` names the one to read",
        sheet.sheet,
        sheet
            .sheets
            .iter()
            .map(|n| format!("\"{n}\""))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut report = read.map_err(|e| match e {
        Error::InputRejected {
            mut location,
            message,
        } => {
            location.file = input.path.clone();
            // Line 1 of the copy is blank unless the header is the sheet's row 1: a
            // message about line 1 is about the header, on its own row.
            if location.line == Some(1) {
                location.line = Some(u64::from(sheet.first_row));
            }
            // A header cell merged across columns names only the first of them: said
            // beside a refusal, which is most often of a column so left without a name.
            let merged = match &sheet.merged_header.first {
                Some(first) => format!(
                    "; merged cells span several columns of its header row (the first from {first}): a merged cell's name is its first column's only"
                ),
                None => String::new(),
            };
            Error::InputRejected {
                location,
                message: format!(
                    "{} ({read_from}{merged})",
                    message.replace(&copy, &original)
                ),
            }
        }
        other => other,
    })?;
    report.input = input.clone();
    // Its cells are text: no encoding of the contract's applied (the copy's UTF-8 is ours).
    report.encoding = "workbook".to_string();
    for w in &mut report.warnings {
        *w = w.replace(&copy, &original);
    }
    report.warnings.insert(
        0,
        format!(
            "{original}: an Excel workbook: read from sheet \"{}\" (line numbers are its rows)",
            sheet.sheet
        ),
    );
    if let Some(first) = &sheet.uncalculated.first {
        tracing::warn!(source = %source.name, file = %original, cell = %first, "formula cells without a saved result read as blank");
        report.warnings.insert(
            1,
            format!(
                "{original}: {} formula cell(s) of sheet \"{}\" (the first {first}) have no saved result and were read as blank: open the workbook in Excel and save it",
                sheet.uncalculated.count,
                sheet.sheet
            ),
        );
    }
    if let (Some(first), DriftPolicy::Warn) =
        (&sheet.headless.first, source.contract.on_extra_column)
    {
        tracing::warn!(source = %source.name, file = %original, cell = %first, "values in columns without a header not read");
        report.warnings.push(format!(
            "{original}: {} row(s) of sheet \"{}\" have values in columns without a header (the first {first}): not read, as a column the contract does not declare; give the column a header in the workbook if it is wanted",
            sheet.headless.count, sheet.sheet
        ));
    }
    if let Some(first) = &sheet.filled_down.first {
        tracing::warn!(source = %source.name, file = %original, cell = %first, "merged cells filled down the rows they span");
        report.warnings.push(format!(
            "{original}: {} merged cell region(s) of sheet \"{}\" (the first from {first}) one column wide: each row a region spans takes its value, as a person reading the sheet sees it",
            sheet.filled_down.count, sheet.sheet
        ));
    }
    if let Some(first) = &sheet.merged_header.first {
        tracing::warn!(source = %source.name, file = %original, cell = %first, "merged cells across columns of the header row");
        report.warnings.push(format!(
            "{original}: {} merged cell region(s) of sheet \"{}\" span several columns of its header row (the first from {first}): a merged cell's name is its first column's only, and the columns under the rest have none (values there are not read); unmerge them in the workbook",
            sheet.merged_header.count, sheet.sheet
        ));
    }
    if let Some(first) = &sheet.merged_across.first {
        tracing::warn!(source = %source.name, file = %original, cell = %first, "merged cells across columns read as their first cell only");
        report.warnings.push(format!(
            "{original}: {} merged cell region(s) of sheet \"{}\" (the first from {first}) span several columns: their value is read in the first column only; unmerge them in the workbook if it belongs to another",
            sheet.merged_across.count, sheet.sheet
        ));
    }
    if let Some(first) = &sheet.unheld.first {
        let msg = format!(
            "{original}: {} date/time cell(s) of sheet \"{}\" (the first {first}) hold a time no format of their column holds exactly (seconds where its formats have none): their rows were quarantined (invalid_date) rather than read with the time cut short; add a format with seconds to the contract",
            sheet.unheld.count, sheet.sheet
        );
        tracing::warn!(source = %source.name, file = %original, cell = %first, "date/time cells no declared format holds");
        report.warnings.push(msg);
    }
    Ok(report)
}

/// [`ingest_into`]'s reading, before the file is checked against its hash; `workbook`
/// when the file is that workbook's sheet's copy (fields are named by cell, not byte
/// offset, and log events name the workbook).
fn read_file(
    source: &SourcePlan,
    input: &InputFile,
    pseudo: &Pseudonymiser,
    dir: &Path,
    min_chunk_bytes: u64,
    workbook: Option<&Path>,
) -> Result<FileIngest> {
    // Log events name the file as its owner knows it: a workbook, not its sheet's copy.
    let named = workbook.unwrap_or(&input.path);
    let mut opened = open_file(source, input, named)?;
    opened.sheet = workbook.is_some();
    // One range per core, and at least two, so a one-core machine still exercises the
    // split (the ranges' threads then share the core).
    let parts = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .max(2);
    let ranges = chunks::plan(
        &input.path,
        opened.contract.delimiter,
        opened.data_start,
        opened.data_line,
        input.bytes,
        parts,
        min_chunk_bytes,
    )?;
    let progress = crate::telemetry::FileProgress::start(
        &format!("{} {}", source.name, opened.file_name),
        input.bytes,
    );
    let done_bytes = std::sync::atomic::AtomicU64::new(opened.data_start);
    let read_range = |k: usize, range: &chunks::Chunk| {
        read_range(
            source,
            input,
            pseudo,
            &opened,
            range,
            &dir.join(format!("rows-{k:03}.parquet")),
            &|bytes| {
                let at = done_bytes.fetch_add(bytes, std::sync::atomic::Ordering::Relaxed);
                progress.set(at + bytes);
            },
        )
    };
    let results: Vec<Result<RangeIngest>> = if ranges.len() == 1 {
        vec![read_range(0, &ranges[0])]
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = ranges
                .iter()
                .enumerate()
                .map(|(k, r)| {
                    let span = tracing::Span::current();
                    scope.spawn(move || {
                        let _entered = span.enter();
                        read_range(k, r)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(Error::Internal("an ingest range worker panicked".into()))
                    })
                })
                .collect()
        })
    };
    let mut report = FileIngest {
        input: input.clone(),
        encoding: if opened.contract.encoding == Encoding::Utf8 {
            "utf-8"
        } else {
            "windows-1252"
        }
        .to_string(),
        rows_in: 0,
        accepted: 0,
        quarantined: 0,
        reasons: BTreeMap::new(),
        blanked: BTreeMap::new(),
        without_nhs_number: 0,
        // Named unless a patient's row may be joined to the header row: then names,
        // dates of birth and council ids would be recorded as "columns".
        extra_columns: opened
            .header
            .extra
            .iter()
            .map(|h| {
                if opened.header.holds_data {
                    "<withheld>".to_string()
                } else {
                    quarantine::mask_data_value(h)
                }
            })
            .collect(),
        warnings: opened.warnings.clone(),
        entry_files: BTreeMap::new(),
        run_dates: Default::default(),
        staged: Vec::new(),
        quarantine: PathBuf::new(),
        cached: false,
    };
    let mut quarantine = Quarantine::default();
    let mut outside_test_range = 0;
    for r in results {
        let r = r?;
        outside_test_range += r.outside_test_range;
        report.run_dates = report.run_dates.and(r.run_dates);
        report.rows_in += r.rows_in;
        report.accepted += r.accepted;
        report.quarantined += r.quarantine.len();
        report.without_nhs_number += r.without_nhs_number;
        quarantine.append(r.quarantine);
        for ((column, reason), n) in r.blanked {
            *report
                .blanked
                .entry(opened.contract.columns[column].name.clone())
                .or_default()
                .entry(reason.code().to_string())
                .or_default() += n;
        }
    }
    if outside_test_range > 0 {
        return Err(Error::InputRejected {
            location: Location {
                file: input.path.clone(),
                line: None,
                column: None,
            },
            message: format!(
                "holds {outside_test_range} valid NHS number(s) outside the 999 test range, and the pipeline pseudonymises with its demo key ([pseudonymisation] demo_key), which is public: pseudonyms of real patients made with it can be reversed, so nothing read from the file is kept. Give a secret key (key_env or key_file) to read real data"
            ),
        });
    }
    // A file declared UTF-8 with rows that are not: most often a council's extract saved
    // as Windows-1252 (a dash or a pound sign in a few rows), so say which setting to try.
    // Not how many: warnings reach the report, which shows counts under the disclosure
    // rule (the file's reasons count them in the manifest).
    let not_utf8 = quarantine.rows_with_detail(&row::invalid_bytes(&opened.contract));
    let shown = quarantine::shown_path(named);
    if opened.contract.encoding == Encoding::Utf8 && not_utf8 > 0 {
        tracing::warn!(source = %source.name, file = %shown, contract = %opened.contract.name, "rows not valid UTF-8 quarantined: if the file was saved as Windows-1252, set encoding = \"windows-1252\" in the contract");
        report.warnings.push(format!(
            "{shown}: rows that are not valid UTF-8 were quarantined (invalid_encoding); if the file was saved as Windows-1252 (as Excel on Windows saves CSV), set encoding = \"windows-1252\" in contract \"{}\"",
            opened.contract.name
        ));
    }
    if report.rows_in == 0 {
        let what = if opened.empty {
            "is empty: no header and no data rows"
        } else {
            "a header and no data rows"
        };
        tracing::warn!(source = %source.name, file = %shown, "{what}");
        report
            .warnings
            .push(format!("{shown}: {what} (source {})", source.name));
    }
    // Every row one width, the header another: the file's rows do not fit its header.
    let misfit = report.rows_in > 0
        && report.accepted == 0
        && quarantine
            .counts()
            .keys()
            .all(|r| *r == Reason::WrongFieldCount.code());
    if misfit && opened.header.holds_data {
        // The signature of a lost line break after the header: the first row is joined
        // to it (its values taken for column names, and the row counted nowhere), and
        // every other row is one row's width short. Refused whole, so no row is lost
        // and the council's data are not dropped behind a passing quarantine threshold.
        return Err(Error::InputRejected {
            location: Location {
                file: input.path.clone(),
                line: Some(opened.data_line.saturating_sub(1).max(1)),
                column: None,
            },
            message: format!(
                "the header row has {} fields, some of them data values rather than names, and none of the file's {} row(s) has as many: the line break after the header row is probably missing (the first row joined to it). Nothing read from the file is kept; put the header on a line of its own",
                opened.header.width, report.rows_in
            ),
        });
    }
    if misfit {
        tracing::warn!(source = %source.name, file = %shown, rows = report.rows_in, fields = opened.header.width, "no row has as many fields as the header: every row quarantined (wrong_field_count)");
        report.warnings.push(format!(
            "{shown}: no row has as many fields as its header ({}): every row was quarantined (wrong_field_count); check the delimiter and the header row",
            opened.header.width
        ));
    }
    let mut qdf = quarantine
        .to_frame(&source.name)
        .map_err(|e| Error::engine("building quarantine", e))?;
    crate::publish::parquet::write_parquet(&mut qdf, &dir.join("quarantine.parquet"))?;
    report.reasons = quarantine
        .counts()
        .iter()
        .map(|(k, v)| (k.to_string(), *v))
        .collect();
    Ok(report)
}

/// A file after its encoding and header were checked: what every range needs.
struct OpenedFile {
    /// The contract, with the encoding a byte-order mark may have overridden.
    contract: crate::schema::Contract,
    /// Where the contract's columns are.
    header: header::HeaderMap,
    /// Schema-drift and encoding warnings.
    warnings: Vec<String>,
    /// The file's name, for quarantine rows and the `_file` column.
    file_name: String,
    /// Byte offset of the first data record (after any byte-order mark and the header).
    data_start: u64,
    /// Line number at `data_start`.
    data_line: u64,
    /// True when the file is a workbook sheet's copy.
    sheet: bool,
    /// True when the file holds no header row (zero bytes): read as no rows.
    empty: bool,
}

/// The csv reader settings for every read of a contract's files.
///
/// Only '\n' ends a record: with the default CRLF terminator the csv crate reports the
/// line and byte of every CRLF record after the first one too early (it starts the next
/// record at the '\n'). The '\r' left at the end of a line's last field is trimmed with
/// the rest of the field's whitespace.
fn csv_builder(delimiter: u8) -> csv::ReaderBuilder {
    let mut b = csv::ReaderBuilder::new();
    b.has_headers(false)
        .flexible(true)
        .terminator(csv::Terminator::Any(b'\n'))
        .delimiter(delimiter);
    b
}

/// Checks the byte-order mark and the header row against the contract.
/// Bytes from the start of a Windows-1252 file checked for UTF-8.
const UTF8_SAMPLE_BYTES: u64 = 4 << 20;

/// Up to `n` bytes from the start of the file at `path`.
fn file_start(path: &Path, n: u64) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    File::open(path)
        .and_then(|f| f.take(n).read_to_end(&mut out))
        .map_err(|e| Error::io("reading", path, e))?;
    Ok(out)
}

/// Opens `input` (named `named` in log events: a workbook's sheet's copy by the workbook).
fn open_file(source: &SourcePlan, input: &InputFile, named: &Path) -> Result<OpenedFile> {
    let path = &input.path;
    let rejected = |line: Option<u64>, message: String| Error::InputRejected {
        location: Location {
            file: path.clone(),
            line,
            column: None,
        },
        message,
    };
    let file = File::open(path).map_err(|e| Error::io("opening", path, e))?;
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let head = reader
        .fill_buf()
        .map_err(|e| Error::io("reading", path, e))?;
    let mut contract = source.contract.as_ref().clone();
    let mut warnings = Vec::new();
    let mut bom_len = 0;
    if let Some(what) = decode::sniff_binary(head) {
        return Err(rejected(
            Some(1),
            format!(
                "is {what}, not delimited text: contract \"{}\" reads CSV (save the sheet as CSV)",
                contract.name
            ),
        ));
    }
    match sniff_bom(head) {
        Bom::Utf8 => {
            reader.consume(3);
            bom_len = 3;
            if contract.encoding != Encoding::Utf8 {
                warnings.push(format!(
                    "{}: starts with a UTF-8 byte-order mark, so it was read as UTF-8 although contract \"{}\" says windows-1252",
                    quarantine::shown_path(path),
                    contract.name
                ));
                contract.encoding = Encoding::Utf8;
            }
        }
        Bom::Utf16 => {
            return Err(rejected(
                Some(1),
                "is UTF-16 (byte-order mark FF FE or FE FF); save it as UTF-8 or Windows-1252"
                    .into(),
            ));
        }
        Bom::None if contract.encoding == Encoding::Windows1252 => {
            // A file saved as UTF-8 without a byte-order mark, read as Windows-1252, would
            // be accepted garbled (`CafÃ©`): the start of the file decides.
            if decode::looks_like_utf8(&file_start(path, UTF8_SAMPLE_BYTES)?) {
                warnings.push(format!(
                    "{}: is UTF-8 (without a byte-order mark), so it was read as UTF-8 although contract \"{}\" says windows-1252",
                    quarantine::shown_path(path),
                    contract.name
                ));
                contract.encoding = Encoding::Utf8;
            }
        }
        Bom::None => {}
    }
    let mut csv = csv_builder(contract.delimiter).from_reader(reader);
    let mut record = csv::ByteRecord::new();
    let mut has_header = csv
        .read_byte_record(&mut record)
        .map_err(|e| rejected(None, format!("cannot read the header row: {e}")))?;
    if has_header && lines::is_blank(&record) && !lines::spans_lines(&record) {
        // Blank lines only (CRLF ones are a field of "\r" to the reader) are no header.
        has_header = !only_blank_lines(path, bom_len, contract.delimiter)?;
    }
    if !has_header {
        // Zero bytes (or a byte-order mark, or blank lines, only): no header and no rows.
        // Like a header without rows, it holds no data, and is a warning, not a file
        // rejected (which stopped the run, whatever `allow_empty` said); a source none of
        // whose files hold rows is refused unless it allows empty, as for headers only.
        let next = csv.position();
        return Ok(OpenedFile {
            data_start: bom_len + next.byte(),
            data_line: next.line(),
            sheet: false,
            empty: true,
            header: header::HeaderMap {
                positions: vec![None; contract.columns.len()],
                extra: Vec::new(),
                repeated: Vec::new(),
                holds_data: false,
                width: 0,
            },
            contract,
            warnings,
            file_name: quarantine::file_name_text(path),
        });
    }
    let headers =
        header::header_texts(&record, contract.encoding).map_err(|m| rejected(Some(1), m))?;
    let header = header::match_header(&contract, &headers, path)?;
    if !header.extra.is_empty() {
        let cols = header::listed_unless_data(&header.extra);
        match contract.on_extra_column {
            DriftPolicy::Error => {
                return Err(rejected(
                    Some(1),
                    format!(
                        "has {cols} that contract \"{}\" does not declare, and its on_extra_column policy is \"error\"",
                        contract.name
                    ),
                ));
            }
            DriftPolicy::Warn => {
                let msg = format!(
                    "{}: ignored {cols} not declared in contract \"{}\"",
                    quarantine::shown_path(path),
                    contract.name
                );
                tracing::warn!(source = %source.name, file = %quarantine::shown_path(named), columns = %cols, "ignored undeclared columns");
                warnings.push(msg);
            }
            DriftPolicy::Ignore => {}
        }
    }
    if !header.repeated.is_empty() {
        let what = header.repeated.join("; ");
        match contract.on_extra_column {
            DriftPolicy::Error => {
                return Err(rejected(
                    Some(1),
                    format!(
                        "{what}; contract \"{}\" has on_extra_column = \"error\"",
                        contract.name
                    ),
                ));
            }
            DriftPolicy::Warn => {
                tracing::warn!(source = %source.name, file = %quarantine::shown_path(named), columns = %what, "a column under two of its names");
                warnings.push(format!("{}: {what}", quarantine::shown_path(path)));
            }
            DriftPolicy::Ignore => {}
        }
    }
    let absent = header::absent_optional(&contract, &header);
    if !absent.is_empty() {
        let cols = header::listed(&absent);
        tracing::warn!(source = %source.name, file = %quarantine::shown_path(named), columns = %cols, "optional columns missing");
        warnings.push(format!(
            "{}: optional column(s) {cols} of contract \"{}\" missing: read as blank in every row",
            quarantine::shown_path(path),
            contract.name
        ));
    }
    let file_name = quarantine::file_name_text(path);
    let next = csv.position();
    Ok(OpenedFile {
        data_start: bom_len + next.byte(),
        data_line: next.line(),
        sheet: false,
        empty: false,
        contract,
        header,
        warnings,
        file_name,
    })
}

/// True when every line of the file at `path` after its first `skip` bytes (a
/// byte-order mark) is blank ([`lines::is_blank`]): a file of no header and no rows.
fn only_blank_lines(path: &Path, skip: u64, delimiter: u8) -> Result<bool> {
    use std::io::{Seek, SeekFrom};
    let mut file = File::open(path).map_err(|e| Error::io("opening", path, e))?;
    file.seek(SeekFrom::Start(skip))
        .map_err(|e| Error::io("reading", path, e))?;
    let mut csv = csv_builder(delimiter).from_reader(BufReader::with_capacity(1 << 16, file));
    let mut record = csv::ByteRecord::new();
    loop {
        match csv.read_byte_record(&mut record) {
            Ok(false) => return Ok(true),
            Ok(true) if lines::is_blank(&record) && !lines::spans_lines(&record) => {}
            Ok(true) => return Ok(false),
            Err(e) => return Err(Error::io("reading", path, std::io::Error::other(e))),
        }
    }
}

/// What checking one byte range gave.
struct RangeIngest {
    rows_in: u64,
    accepted: u64,
    blanked: row::Blanked,
    without_nhs_number: u64,
    outside_test_range: u64,
    run_dates: crate::run_date::RunDates,
    quarantine: Quarantine,
}

/// Checks every record of one byte range, writing accepted rows (in batches) to `staged`
/// and keeping rejected ones; `advanced` is told of bytes read as work proceeds.
fn read_range(
    source: &SourcePlan,
    input: &InputFile,
    pseudo: &Pseudonymiser,
    opened: &OpenedFile,
    range: &chunks::Chunk,
    staged: &Path,
    advanced: &dyn Fn(u64),
) -> Result<RangeIngest> {
    use std::io::{Read, Seek, SeekFrom};
    let path = &input.path;
    let mut file = File::open(path).map_err(|e| Error::io("opening", path, e))?;
    file.seek(SeekFrom::Start(range.start))
        .map_err(|e| Error::io("reading", path, e))?;
    let reader = BufReader::with_capacity(1 << 20, file.take(range.end - range.start));
    let mut csv = csv_builder(opened.contract.delimiter).from_reader(reader);
    // Whether the range's last record ends without a line break (the file's last line):
    // the reader is then at the range's end without having counted a line for it.
    let len = range.end - range.start;
    let unterminated = len > 0 && read_span(path, range.end - 1, 1)? != b"\n";
    let unterminated_end = unterminated.then_some(len);

    let out = File::create(staged).map_err(|e| Error::io("creating", staged, e))?;
    let mut builder = BatchBuilder::new(&source.contract, BATCH_ROWS)
        .map_err(|e| Error::engine("numbering the codes of a contract", e))?;
    let schema = builder
        .take_frame()
        .map_err(|e| Error::engine("building the staging schema", e))?
        .schema()
        .as_ref()
        .clone();
    // Staged rows: see `publish::encoder::StagingWriter` (codes as dictionary pages
    // built from their numbers, read back as text; pseudonyms encoded as polars chooses).
    let (out, io_error) = crate::publish::parquet::KeepsIoError::new(out);
    let mut writer = crate::publish::encoder::StagingWriter::new(
        std::io::BufWriter::with_capacity(1 << 20, out),
        &schema,
    )
    .map_err(|e| io_error.or_engine("opening", staged, e))?;
    let mut write = |b: &mut BatchBuilder| -> Result<()> {
        let df = b
            .take_frame()
            .map_err(|e| Error::engine("building a batch", e))?;
        writer
            .write(&df)
            .map_err(|e| io_error.or_engine("writing", staged, e))
    };
    let read = source.columns_read();
    let checker = row::RowChecker {
        contract: &opened.contract,
        header: &opened.header,
        pseudo,
        file_name: &opened.file_name,
        byte_base: range.start,
        cells: opened.sheet,
        last_accepted: Default::default(),
        read: &read,
        blanked: Default::default(),
        person_column: source.person_column(),
        without_nhs_number: Default::default(),
        outside_test_range: Default::default(),
        run_day: crate::run_date::today_or_now(),
        run_dates: Default::default(),
    };
    let mut out = RangeIngest {
        rows_in: 0,
        accepted: 0,
        blanked: Default::default(),
        without_nhs_number: 0,
        outside_test_range: 0,
        run_dates: Default::default(),
        quarantine: Quarantine::default(),
    };
    let mut reported = 0u64;
    // Checks one record: accepted into the batch (written when full), or quarantined.
    let mut take = |record: &csv::ByteRecord, line: u64, row: u64, out: &mut RangeIngest| {
        match checker.check(record, line, row) {
            Ok(cells) => {
                out.accepted += 1;
                builder.push(row, cells);
                if builder.len() >= BATCH_ROWS {
                    write(&mut builder)?;
                    let at = record.position().map(|p| p.byte()).unwrap_or(0);
                    advanced(at.saturating_sub(reported));
                    reported = at;
                }
            }
            Err(q) => out.quarantine.push(q),
        }
        Ok::<(), Error>(())
    };
    let mut record = csv::ByteRecord::new();
    loop {
        let more = csv
            .read_byte_record(&mut record)
            .map_err(|e| Error::io("reading", path, std::io::Error::other(e.to_string())))?;
        if !more {
            break;
        }
        if lines::spans_lines(&record) {
            // A quote left open: the lines it swallowed are read again one at a time.
            let mut start = record
                .position()
                .cloned()
                .unwrap_or_else(csv::Position::new);
            let bytes = read_span(
                path,
                range.start + start.byte(),
                csv.position().byte() - start.byte(),
            )?;
            start.set_line(range.first_line + start.line() - 1);
            for l in lines::split(&bytes, opened.contract.delimiter, &start) {
                if l.blank {
                    continue;
                }
                out.rows_in += 1;
                let row = range.rows_before + out.rows_in;
                let line = l.record.position().map_or(0, |p| p.line());
                if l.unbalanced {
                    out.quarantine.push(QuarantineRow {
                        file: opened.file_name.clone(),
                        line,
                        row,
                        reasons: vec![Reason::UnbalancedQuote],
                        details: vec![format!(
                            "a quote opened on line {line} is not closed on it (a field may not span lines): the line is quarantined and the lines after it are read as rows"
                        )],
                        record: None,
                    });
                } else {
                    take(&l.record, line, row, &mut out)?;
                }
            }
            continue;
        }
        // A line holding only whitespace and delimiters is not a row.
        if lines::is_blank(&record) {
            continue;
        }
        out.rows_in += 1;
        let row = range.rows_before + out.rows_in;
        let at = own_start(&record, &csv.position().clone(), unterminated_end);
        record.set_position(Some(at.clone()));
        let line = range.first_line + at.line() - 1;
        take(&record, line, row, &mut out)?;
    }
    if !builder.is_empty() {
        write(&mut builder)?;
    }
    out.blanked = checker.blanked.take();
    out.without_nhs_number = checker.without_nhs_number.get();
    out.outside_test_range = checker.outside_test_range.get();
    out.run_dates = checker.run_dates.get();
    let (_, mut sink) = writer
        .finish()
        .map_err(|e| io_error.or_engine("finishing", staged, e))?;
    std::io::Write::flush(&mut sink).map_err(|e| Error::io("writing", staged, e))?;
    Ok(out)
}

/// Where a record that does not span lines starts (byte and line relative to the reader),
/// given the reader's position after it and, when the data's last line has no line
/// break, the data's length. The csv reader passes over empty lines before a record and
/// gives the record the position of the first of them (so with LF line endings a row
/// after two empty lines was reported two lines early); the empty lines it passed over are
/// one `\n` byte each, and the record ends with its own line break, unless it is the
/// data's unterminated last line.
fn own_start(
    record: &csv::ByteRecord,
    after: &csv::Position,
    unterminated_end: Option<u64>,
) -> csv::Position {
    let mut at = record
        .position()
        .cloned()
        .unwrap_or_else(csv::Position::new);
    let ended_by_a_break = unterminated_end != Some(after.byte());
    let line = after.line() - u64::from(ended_by_a_break);
    let skipped = line.saturating_sub(at.line());
    at.set_byte(at.byte() + skipped).set_line(line);
    at
}

/// `len` bytes of `path` from byte `offset`.
fn read_span(path: &Path, offset: u64, len: u64) -> Result<Vec<u8>> {
    use std::os::unix::fs::FileExt;
    let file = File::open(path).map_err(|e| Error::io("opening", path, e))?;
    let mut bytes = vec![0u8; len as usize];
    file.read_exact_at(&mut bytes, offset)
        .map_err(|e| Error::io("reading", path, e))?;
    Ok(bytes)
}

/// Syncs a folder, so the names made or renamed in it last.
fn sync_folder(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|f| f.sync_all())
        .map_err(|e| Error::io("syncing", dir, e))
}

/// A cache entry's staged row files, when the entry is whole: its data files those its
/// reading (`report.json`) recorded, each of the size and SHA-256 written
/// ([`entry_files::check`]: one sequential read of each), and its row files and its
/// quarantine Parquet files whose footers read, holding the rows its reading accepted
/// and quarantined, which add up to its rows in. Otherwise, what is wrong, naming the
/// file.
fn whole_entry(dir: &Path, report: &FileIngest) -> std::result::Result<Vec<PathBuf>, String> {
    let staged = staged_files(dir).map_err(|e| crate::error::chain(&e))?;
    if staged.is_empty() {
        return Err("no rows-*.parquet".to_string());
    }
    entry_files::check(dir, &report.entry_files)?;
    let rows = |path: &Path| -> std::result::Result<u64, String> {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let mut file = File::open(path).map_err(|e| format!("{name}: {e}"))?;
        polars_parquet::read::read_metadata(&mut file)
            .map(|m| m.num_rows as u64)
            .map_err(|e| format!("{name}: {e}"))
    };
    let mut accepted = 0;
    for path in &staged {
        accepted += rows(path)?;
    }
    let quarantined = rows(&dir.join("quarantine.parquet"))?;
    if (accepted, quarantined) != (report.accepted, report.quarantined) {
        return Err(format!(
            "its files hold {accepted} accepted and {quarantined} quarantined rows, its reading {} and {}",
            report.accepted, report.quarantined
        ));
    }
    if report.rows_in != report.accepted + report.quarantined {
        return Err(format!(
            "its reading's {} rows in are not its {} accepted and {} quarantined",
            report.rows_in, report.accepted, report.quarantined
        ));
    }
    Ok(staged)
}

/// The staged row files of a cached ingest, in order.
fn staged_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Error::io("listing", dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("rows") && n.ends_with(".parquet"))
        })
        .collect();
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalise::pseudonym::Width;

    /// The sample pipeline's APC source, and a copy of its first file in `dir`.
    fn apc_copy(dir: &Path) -> (SourcePlan, PathBuf) {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let plan = crate::config::load_plan(&root.join("pipelines/sample.toml"), &[]).unwrap();
        let source = plan.sources.into_iter().find(|s| s.name == "apc").unwrap();
        let from = crate::pull::list_paths("apc", &root.join("data-samples/apc"), "*.csv")
            .unwrap()
            .remove(0);
        let to = dir.join("apc.csv");
        std::fs::copy(from, &to).unwrap();
        (source, to)
    }

    /// [`apc_copy`], fingerprinted as a run lists it.
    fn hashed_copy(dir: &Path) -> (SourcePlan, PathBuf, InputFile) {
        let (source, path) = apc_copy(dir);
        let input = crate::pull::fingerprint_input("apc", &path).unwrap();
        (source, path, input)
    }

    fn pseudo() -> Pseudonymiser {
        Pseudonymiser::new(b"DEMO-key-0123456789", Width::Bits128).unwrap()
    }

    /// Regression (review): the ingest cache's `report.json` kept a warning naming a sheet
    /// called after its patient (`read from sheet "Mr Ebenezer 9434765919"`) where stdout
    /// and the manifest withheld the number.
    #[test]
    fn regression_the_cache_record_withholds_nhs_numbers_from_warnings() {
        let dir = tempfile::tempdir().unwrap();
        let (source, csv) = apc_copy(dir.path());
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        ws.set_name("Mr Ebenezer 9434765919").unwrap();
        for (r, line) in std::fs::read_to_string(&csv).unwrap().lines().enumerate() {
            for (c, v) in line.split(',').enumerate() {
                ws.write_string(r as u32, c as u16, v).unwrap();
            }
        }
        let book = dir.path().join("apc.xlsx");
        wb.save(&book).unwrap();
        let input = crate::pull::fingerprint_input("apc", &book).unwrap();
        let cache = dir.path().join("cache");
        ingest_source(&source, std::slice::from_ref(&input), &pseudo(), &cache).unwrap();
        let entry = cache
            .join("apc")
            .join(cache_key(&input))
            .join("report.json");
        let kept: FileIngest =
            serde_json::from_str(&std::fs::read_to_string(entry).unwrap()).unwrap();
        assert_eq!(
            kept.warnings[0],
            format!(
                "{}: an Excel workbook: read from sheet \"Mr Ebenezer <withheld>\" (line numbers are its rows)",
                book.display()
            )
        );
    }

    /// Regression: a local file rewritten between hashing and reading was kept under the
    /// first version's hash with the rows of the second, so the next run found nothing
    /// changed. Now nothing is kept and the source is unavailable (exit 4).
    #[test]
    fn a_file_rewritten_after_it_was_hashed_is_not_kept() {
        let dir = tempfile::tempdir().unwrap();
        let (source, path, input) = hashed_copy(dir.path());
        let text = std::fs::read_to_string(&path).unwrap();
        let first_rows: String = text.lines().take(4).map(|l| format!("{l}\n")).collect();
        std::fs::write(&path, first_rows).unwrap();
        let cache = dir.path().join("cache");
        let err =
            ingest_source(&source, std::slice::from_ref(&input), &pseudo(), &cache).unwrap_err();
        let Error::SourceUnavailable {
            source_name,
            message,
        } = &err
        else {
            panic!("{err:?}");
        };
        assert_eq!(source_name, "apc");
        assert!(
            message.ends_with(
                "apc.csv changed while the run was reading it: nothing read from it is kept; run again once it is complete"
            ),
            "{message}"
        );
        assert_eq!(
            std::fs::read_dir(cache.join("apc")).unwrap().count(),
            0,
            "nothing cached"
        );
    }

    /// Regression: a file removed after the run listed it failed as an internal error
    /// (exit 5); it is a source that is not there (exit 4).
    #[test]
    fn a_file_removed_after_it_was_hashed_is_unavailable() {
        let dir = tempfile::tempdir().unwrap();
        let (source, path, input) = hashed_copy(dir.path());
        std::fs::remove_file(&path).unwrap();
        let err =
            ingest_source(&source, &[input], &pseudo(), &dir.path().join("cache")).unwrap_err();
        assert!(
            matches!(&err, Error::SourceUnavailable { message, .. }
                if message.ends_with("apc.csv was removed while the run was reading it: nothing read from it is kept; run again once it is complete")),
            "{err:?}"
        );
    }

    /// Regression (review): a file with no header row — zero bytes, a byte-order mark
    /// only, line breaks only — was rejected as a whole ("is empty: expected a header
    /// row", exit 3), stopping the run however many good files were beside it. It is read
    /// as no rows, with a warning naming it, and cached as such: its cache entry (an empty
    /// staged file) is whole, and reused.
    #[test]
    fn regression_a_file_without_a_header_row_is_read_as_no_rows() {
        let dir = tempfile::tempdir().unwrap();
        let (source, _) = apc_copy(dir.path());
        let cache = dir.path().join("cache");
        for (name, bytes) in [
            ("zero.csv", &b""[..]),
            ("bom.csv", &b"\xEF\xBB\xBF"[..]),
            ("breaks.csv", &b"\n\r\n\n"[..]),
        ] {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            let input = crate::pull::fingerprint_input("apc", &path).unwrap();
            for cached in [false, true] {
                let got = ingest_source(&source, std::slice::from_ref(&input), &pseudo(), &cache)
                    .unwrap();
                let f = &got.files[0];
                assert_eq!(
                    (
                        f.cached,
                        f.rows_in,
                        f.accepted,
                        f.quarantined,
                        f.staged.len()
                    ),
                    (cached, 0, 0, 0, 1),
                    "{name}"
                );
                assert_eq!(
                    f.warnings,
                    [format!(
                        "{}: is empty: no header and no data rows (source apc)",
                        path.display()
                    )],
                    "{name}"
                );
            }
        }
    }

    #[test]
    fn a_file_unchanged_since_it_was_hashed_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let (source, path, input) = hashed_copy(dir.path());
        let got = ingest_source(&source, &[input], &pseudo(), &dir.path().join("cache")).unwrap();
        assert_eq!(
            got.rows_in(),
            std::fs::read_to_string(&path).unwrap().lines().count() as u64 - 1
        );
    }
}
