//! Serde mirrors of the TOML files, exactly as written: no defaults resolved, no I/O.
//!
//! Every struct denies unknown fields, so a misspelt key is an error that lists the
//! valid keys. `#[serde(flatten)]` is avoided on purpose: it disables that check. A key
//! that takes one of a fixed set of values has the set here, and its file's mirror lists
//! it ([`ValidValues`]), so a message that it is missing or not a string gives the values.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::toml_errors::ValidValues;
use crate::schema::OnInvalid;

/// `[sources.<name>] kind`.
pub const SOURCE_KINDS: [&str; 6] = [
    "local",
    "http",
    "mesh",
    "file_drop",
    "nhse_sitrep",
    "nhse_ae",
];
/// A contract's `encoding` (`utf8` and `cp1252` are read too).
pub const ENCODINGS: [&str; 2] = ["utf-8", "windows-1252"];
/// A contract's `on_extra_column`.
pub const ON_EXTRA_COLUMN: [&str; 3] = ["warn", "ignore", "error"];
/// The `type` of a contract column.
pub const COLUMN_TYPES: [&str; 10] = [
    "string",
    "integer",
    "date",
    "datetime",
    "time",
    "code",
    "nhs_number",
    "pseudonym",
    "identifier",
    "sensitive",
];
/// The `rule` of a contract rule.
pub const RULES: [&str; 2] = ["not_before", "not_after"];
/// The `type` of a shared entity's field.
pub const FIELD_TYPES: [&str; 6] = ["string", "integer", "date", "datetime", "float", "boolean"];
/// What a shared entity's `pseudonym` field holds the pseudonym of.
pub const PSEUDONYMS: [&str; 2] = ["nhs_number", "identifier"];
/// A code list's `match`.
pub const MATCHING: [&str; 2] = ["exact", "folded"];
/// A mapping's `via`.
pub const VIA: [&str; 2] = ["label", "group"];

/// `pipelines/*.toml`: what runs.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPipeline {
    /// Name and description.
    pub pipeline: RawPipelineMeta,
    /// Where the pseudonymisation key comes from.
    pub pseudonymisation: Option<RawPseudonymisation>,
    /// Named sources.
    #[serde(default)]
    pub sources: BTreeMap<String, RawSource>,
    /// Linkage parameters.
    #[serde(default)]
    pub link: RawLink,
    /// Datasets to write.
    #[serde(default)]
    pub outputs: BTreeMap<String, RawOutput>,
    /// Data-quality thresholds.
    #[serde(default)]
    pub quality: RawQuality,
    /// Disclosure control for published datasets.
    #[serde(default)]
    pub disclosure: RawDisclosure,
    /// Incremental runs.
    #[serde(default)]
    pub incremental: RawIncremental,
}

/// `[incremental]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawIncremental {
    /// Months before a dataset's newest month that late data may still change; older
    /// published months are kept as they are (unset: every month stays open).
    pub lookback_months: Option<u32>,
}

/// `[disclosure]`: the threshold rule for published datasets (default: HES/ECDS).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDisclosure {
    /// Smallest count of people shown; 1 up to this minus one are suppressed (default 8).
    pub min_shown: Option<i64>,
    /// Shown counts are rounded to the nearest multiple of this (default 5).
    pub round_to: Option<i64>,
    /// Fewest distinct patients a provider needs in a month for `flow_daily` to publish
    /// its days one by one (default 50); 1 publishes every provider's days.
    pub daily_min_patients: Option<i64>,
    /// `[disclosure.dominance]`: the (n, k) rule for totals of what people account for
    /// (delayed bed-days); none by default, as in the HES rule.
    pub dominance: Option<RawDominance>,
}

/// `[disclosure.dominance]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDominance {
    /// How many of the largest patients are summed: 1 or 2. (Both keys are optional to
    /// serde, so a missing one is reported with the file's other errors.)
    pub top: Option<i64>,
    /// The share of a total (per cent) they may hold at most: 1 to 99.
    pub max_share_pct: Option<i64>,
}

/// `[pipeline]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPipelineMeta {
    /// Short name, used in the manifest.
    pub name: String,
    /// One line on what the pipeline is for.
    pub description: Option<String>,
    /// The schemas folder (contracts, shared entities, code lists), relative to this file.
    pub schemas: String,
    /// Write the HTML report (`<out>/report/index.html`) after publishing; default false.
    pub report: Option<bool>,
    /// ODS code of the ICB this pipeline serves (the report compares it in NHS England's
    /// publications).
    pub icb_code: Option<String>,
}

/// `[pseudonymisation]`: exactly one key source.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPseudonymisation {
    /// Environment variable holding the key.
    pub key_env: Option<String>,
    /// File holding the key (relative to the pipeline file).
    pub key_file: Option<String>,
    /// A demo key, written in the file: only for synthetic data, must start with `DEMO-`.
    pub demo_key: Option<String>,
    /// Bits of the HMAC a pseudonym keeps: 128 (32 hex digits, the default) or 256.
    pub bits: Option<u32>,
}

/// `[sources.<name>]`.
#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum RawSource {
    /// Files already on local disk: one file, or a folder of files.
    Local(RawLocalSource),
    /// Files downloaded over HTTP(S) into the landing zone.
    Http(RawHttpSource),
    /// Messages pulled from an NHS England MESH mailbox into the landing zone.
    Mesh(RawMeshSource),
    /// Files picked up from a drop folder into the landing zone.
    FileDrop(RawFileDropSource),
    /// NHS England "Discharge Delays" sitrep workbooks (acute and community), as published.
    NhseSitrep(RawPublicationSource),
    /// NHS England monthly A&E attendances CSV: the tidy long form or the "MSitAE" layout.
    NhseAe(RawPublicationSource),
}

/// `kind = "http"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHttpSource {
    /// URLs to download.
    pub urls: Vec<String>,
    /// Expected SHA-256 per URL, for pinned files: a mismatch is a failure.
    #[serde(default)]
    pub sha256: BTreeMap<String, String>,
    /// Environment variable holding a bearer token.
    pub bearer_token_env: Option<String>,
    /// File holding a bearer token.
    pub bearer_token_file: Option<String>,
    /// Seconds allowed to connect (default 10).
    pub connect_timeout_seconds: Option<u64>,
    /// Seconds allowed between bytes of a response (default 30).
    pub read_timeout_seconds: Option<u64>,
    /// Seconds allowed for one download, start to end (default 3600).
    pub download_timeout_seconds: Option<u64>,
    /// Retries after the first attempt (default 6).
    pub retries: Option<u32>,
    /// Largest file accepted, in bytes (default 2 GiB).
    pub max_bytes: Option<u64>,
    /// Downloads at once (default 4).
    pub max_concurrent: Option<usize>,
    /// Source contract; without one the source is pulled but not ingested.
    pub contract: Option<String>,
    /// Mapping file.
    pub mapping: Option<String>,
    /// Landed files to ingest (`*`/`?` against the original name); default `*`.
    pub pattern: Option<String>,
    /// Largest share of rows that may be quarantined before the run exits with code 1.
    pub max_quarantine_fraction: Option<f64>,
    /// Largest share of accepted rows without an NHS number before the run exits with
    /// code 1 (default `[quality] max_without_nhs_number_fraction`).
    pub max_without_nhs_number_fraction: Option<f64>,
    /// Whether the source may hold no data rows at all (default false: an extract of
    /// headers only is refused, as it would empty every dataset the source feeds).
    pub allow_empty: Option<bool>,
}

/// `kind = "mesh"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMeshSource {
    /// Base URL, e.g. `https://mesh-sync.spineservices.nhs.uk`.
    pub url: Option<String>,
    /// Environment variable holding the base URL.
    pub url_env: Option<String>,
    /// Mailbox id.
    pub mailbox: Option<String>,
    /// Environment variable holding the mailbox id.
    pub mailbox_env: Option<String>,
    /// Environment variable holding the mailbox password.
    pub password_env: Option<String>,
    /// File holding the mailbox password.
    pub password_file: Option<String>,
    /// Environment variable holding the MESH shared key.
    pub shared_key_env: Option<String>,
    /// File holding the MESH shared key.
    pub shared_key_file: Option<String>,
    /// Only messages of workflows matching this MESH filter (`X`, `X*`, `!X`, …).
    pub workflow_filter: Option<String>,
    /// Client certificate (PEM) for mutual TLS.
    pub client_cert_file: Option<String>,
    /// Client private key (PEM) for mutual TLS, not encrypted (no passphrase can be
    /// given: decrypt an encrypted key once with `openssl pkey -in KEY -out NEW`).
    pub client_key_file: Option<String>,
    /// CA bundle (PEM) to trust instead of the system roots (it must hold at least one
    /// certificate).
    pub ca_file: Option<String>,
    /// Seconds allowed without a byte from MESH, waiting for an answer or between two
    /// bytes of one (default 120; connecting is allowed at most 30). A download that is
    /// still flowing is never cut off by it, however long it takes (only by
    /// `deadline_seconds`, when set).
    pub timeout_seconds: Option<u64>,
    /// Seconds the whole pull of the mailbox may take, retries and waits included (not
    /// set by default: no limit): a server trickling a message a byte at a time, or
    /// answering every request just inside `timeout_seconds`, cannot hold the run and
    /// its lock past it. What is left at the deadline stays in the inbox; a message that
    /// cannot download within it never lands, and holds up those behind it, so set it
    /// well above the time the largest message takes.
    pub deadline_seconds: Option<u64>,
    /// Messages per inbox page, 10 to 5000 (default 500).
    pub inbox_page_size: Option<u32>,
    /// Retries of a request, or of one chunk of a download, after a connect error, a
    /// timeout, a body cut off, 429 or 5xx (default 6, backing off from 1 s to about a
    /// minute in all, or as MESH's `Retry-After` asks, at most 60 s).
    pub retries: Option<u32>,
    /// Source contract; without one the source is pulled but not ingested.
    pub contract: Option<String>,
    /// Mapping file.
    pub mapping: Option<String>,
    /// Landed files to ingest; default `*`.
    pub pattern: Option<String>,
    /// Largest share of rows that may be quarantined before the run exits with code 1.
    pub max_quarantine_fraction: Option<f64>,
    /// Largest share of accepted rows without an NHS number before the run exits with
    /// code 1 (default `[quality] max_without_nhs_number_fraction`).
    pub max_without_nhs_number_fraction: Option<f64>,
    /// Whether the source may hold no data rows at all (default false: an extract of
    /// headers only is refused, as it would empty every dataset the source feeds).
    pub allow_empty: Option<bool>,
}

/// `kind = "file_drop"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFileDropSource {
    /// The drop folder (relative to the pipeline file).
    pub folder: String,
    /// Files to pick up; default `*`.
    pub pattern: Option<String>,
    /// Where originals go once landed; default `<folder>/processed`.
    pub processed_folder: Option<String>,
    /// A file is picked up once its size and time are unchanged for this long (default 5).
    pub settle_seconds: Option<u64>,
    /// Source contract; without one the source is pulled but not ingested.
    pub contract: Option<String>,
    /// Mapping file.
    pub mapping: Option<String>,
    /// Largest share of rows that may be quarantined before the run exits with code 1.
    pub max_quarantine_fraction: Option<f64>,
    /// Largest share of accepted rows without an NHS number before the run exits with
    /// code 1 (default `[quality] max_without_nhs_number_fraction`).
    pub max_without_nhs_number_fraction: Option<f64>,
    /// Whether the source may hold no data rows at all (default false: an extract of
    /// headers only is refused, as it would empty every dataset the source feeds).
    pub allow_empty: Option<bool>,
}

/// An NHS England publication source: a file or a folder of files, read by rule.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPublicationSource {
    /// File or folder, relative to the pipeline file.
    pub path: String,
    /// For a folder: file-name pattern; default `*.xlsx` (sitrep) or `*.csv` (A&E).
    pub pattern: Option<String>,
    /// The label mapping file, relative to the pipeline file.
    pub labels: String,
}

/// A local file or folder source.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLocalSource {
    /// File or folder, relative to the pipeline file.
    pub path: String,
    /// For a folder: file-name pattern (`*` and `?` wildcards); default `*.csv`.
    pub pattern: Option<String>,
    /// Source contract name, in `<schemas>/sources/<name>.toml`.
    pub contract: String,
    /// Mapping file to the shared schema, relative to the pipeline file.
    pub mapping: String,
    /// Largest share of rows that may be quarantined before the run exits with code 1.
    pub max_quarantine_fraction: Option<f64>,
    /// Largest share of accepted rows without an NHS number before the run exits with
    /// code 1 (default `[quality] max_without_nhs_number_fraction`).
    pub max_without_nhs_number_fraction: Option<f64>,
    /// Whether the source may hold no data rows at all (default false: an extract of
    /// headers only is refused, as it would empty every dataset the source feeds).
    pub allow_empty: Option<bool>,
    /// For a folder: whether a symbolic link in it to a file outside it is read (default
    /// false: named in a warning and not read, as a link planted to a system file would
    /// be read as an extract).
    pub follow_links_outside: Option<bool>,
}

/// `[link]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLink {
    /// An A&E attendance leads to an admission if it arrived at most this many hours before.
    pub ed_window_hours: Option<i64>,
    /// A social-care service links to a spell if it starts within this many days after the ready date.
    pub care_window_days: Option<i64>,
    /// The `Request: Route of Access` value that marks a hospital-discharge request.
    pub discharge_route: Option<String>,
    /// An emergency admission this many days or fewer after discharge is a readmission.
    pub readmission_window_days: Option<i64>,
}

/// `[outputs.<dataset>]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOutput {
    /// Disclosure rule for a published dataset: `hes` (default), or `none` for NHS
    /// England's already-published statistics (and only for them).
    pub disclosure: Option<String>,
}

/// `[quality]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawQuality {
    /// Default largest quarantined share per source before exit code 1 (default 0.05).
    pub max_quarantine_fraction: Option<f64>,
    /// Largest share of a source's accepted rows without an NHS number (where the contract
    /// lets the linkage key be blank) before exit code 1 (default 0.1).
    pub max_without_nhs_number_fraction: Option<f64>,
}

/// `schemas/sources/<name>.toml`: what a source file must look like.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawContract {
    /// File-level settings.
    pub contract: RawContractMeta,
    /// Declared columns.
    pub columns: Vec<RawColumn>,
    /// Row rules across columns.
    #[serde(default)]
    pub rules: Vec<RawRule>,
}

/// `[contract]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawContractMeta {
    /// Contract name (matches the file name).
    pub name: String,
    /// Version number, recorded in the manifest.
    pub version: u32,
    /// What the extract is.
    pub description: String,
    /// `utf-8` (a BOM is accepted) or `windows-1252`.
    pub encoding: String,
    /// Field delimiter, one ASCII character; default `,`.
    pub delimiter: Option<String>,
    /// Cell values that mean "blank"; default `[""]`.
    pub null_values: Option<Vec<String>>,
    /// What to do with a column the contract does not declare: `warn` (default), `ignore`, `error`.
    pub on_extra_column: Option<String>,
    /// The sheet read when a file is an Excel workbook; default the first.
    pub sheet: Option<String>,
}

/// `[[columns]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawColumn {
    /// Internal name used by rules and mappings.
    pub name: String,
    /// The header as the supplier writes it.
    pub header: String,
    /// Other headers accepted for this column.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Value type.
    #[serde(rename = "type")]
    pub kind: String,
    /// Accepted formats for `date`, `datetime` and `time`.
    #[serde(default)]
    pub formats: Vec<String>,
    /// Code list for `code` columns.
    pub codes: Option<String>,
    /// Column that scopes an `identifier` (e.g. the council code).
    pub scope: Option<String>,
    /// For `pseudonym`: the scheme that pseudonymised the NHS numbers upstream (a name,
    /// e.g. `"ncdr"` for NCDR/UDAL's `Der_Pseudo_NHS_Number`). Only pseudonyms of one
    /// scheme link with each other.
    pub scheme: Option<String>,
    /// For `pseudonym`: letters are compared regardless of case (as upper case, ASCII),
    /// for a scheme whose pseudonyms one system writes in upper case and another in lower
    /// case (hex pseudonyms). The `pattern` is checked on the upper-case value, so it is
    /// written for upper case (`[0-9A-F]{64}`). Every contract of one scheme must say the
    /// same.
    pub ignore_case: Option<bool>,
    /// The header must be present and every value non-blank.
    #[serde(default)]
    pub required: bool,
    /// The header must be present, though values may be blank (implied by `required`):
    /// for a column whose values may be left blank but whose absence from a whole file
    /// would be a broken extract (an NHS number column left out would leave every row
    /// without a person).
    #[serde(default)]
    pub header_required: bool,
    /// For `date` and `datetime`: the first and last year a value may be in (default
    /// `[1900, 2100]`; activity dates are better bounded, so a `1900-01-01` placeholder
    /// is quarantined).
    pub years: Option<Vec<i32>>,
    /// For `date` and `datetime` columns of activity that has happened (an admission, a
    /// discharge, an arrival): the most days a value may be after the run's date
    /// (`JOINEDUP_TODAY`, else today). A later value is impossible, so it is unusable
    /// (`date_in_future`, then as `on_invalid` says). Unset: no bound but `years`.
    pub not_after_run_days: Option<i64>,
    /// For `string` and `integer`: values shaped like a valid NHS number are kept (numeric record ids
    /// that may pass Modulus 11 by chance). Otherwise such a row is quarantined
    /// (`nhs_number_in_text`): a column kept as written must not carry NHS numbers. For
    /// `pseudonym`: ten-digit values are taken as pseudonyms (a scheme whose pseudonyms
    /// are ten digits); otherwise they are NHS numbers, not pseudonymised, and unusable.
    #[serde(default)]
    pub allow_nhs_number_shape: bool,
    /// For `string` and `pseudonym`: a regular expression every value must match as a whole (e.g.
    /// `"[A-Z0-9]{3,5}"` for an ODS code). Other values are quarantined
    /// (`pattern_mismatch`) and not quoted; only columns with a pattern are copied into
    /// quarantine records.
    pub pattern: Option<String>,
    /// What an unusable value (failing the column's type, Modulus 11, years, code list,
    /// shape or pattern check) does: `quarantine` the row (default) or `blank` the
    /// value and accept the row (counted in the manifest's `data_quality`). A column
    /// that may be blanked cannot be `required`.
    pub on_invalid: Option<String>,
    /// What the column holds.
    pub description: Option<String>,
}

/// `[[rules]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRule {
    /// `not_before` or `not_after`.
    pub rule: String,
    /// The column checked.
    pub column: String,
    /// The column it is compared with.
    pub reference: String,
    /// What a row breaking the rule gets: `quarantine` (default) or `blank`, which
    /// blanks the column named by `blank` and accepts the row.
    pub on_fail: Option<String>,
    /// With `on_fail = "blank"`: the column left blank, `column` or `reference`.
    pub blank: Option<String>,
}

/// `schemas/shared/<entity>.toml`: one entity of the shared model.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEntity {
    /// Name and description.
    pub entity: RawEntityMeta,
    /// Fields in output order.
    pub fields: Vec<RawEntityField>,
}

/// `[entity]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEntityMeta {
    /// Entity name (matches the file name).
    pub name: String,
    /// What one row is.
    pub description: String,
    /// Fields that together name one record (a spell: its provider and spell number):
    /// rows of the same key in two files, or twice in one, are reported.
    #[serde(default)]
    pub record_key: Vec<String>,
}

/// `[[fields]]` of an entity.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEntityField {
    /// Field name.
    pub name: String,
    /// `string`, `integer`, `date` or `datetime`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Whether nulls are allowed.
    pub nullable: bool,
    /// Code list the values come from, if any.
    pub codes: Option<String>,
    /// A string that is (nearly) unique per row, such as a record id: held as text.
    /// Other string fields repeat few values and are held as categoricals in memory.
    #[serde(default)]
    pub identifier: bool,
    /// `nhs_number` or `identifier`: the field holds a pseudonym, so a mapping must fill
    /// it from a contract column of that type (pseudonymised at ingest), never from a
    /// column kept as written.
    pub pseudonym: Option<String>,
    /// One line on what the field holds.
    pub description: String,
}

/// `schemas/codes/<name>.toml`: a code list (top-level keys, then `codes = [...]`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCodeList {
    /// Name (matches the file name).
    pub name: String,
    /// What the list is and where it comes from.
    pub description: String,
    /// `exact` (default) or `folded` (trim, case, whitespace and dash variants ignored).
    #[serde(rename = "match")]
    pub matching: Option<String>,
    /// Codes of digits only, one width: a value of fewer digits is the code it is with
    /// its leading zeros put back (`1` for `01`), as Excel drops them.
    #[serde(default)]
    pub leading_zeros_optional: bool,
    /// The codes.
    pub codes: Vec<RawCode>,
}

/// `[[codes]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCode {
    /// The canonical value.
    pub code: String,
    /// Human-readable meaning.
    pub label: Option<String>,
    /// Group used by mappings (`via = "group"`).
    pub group: Option<String>,
}

/// `pipelines/mappings/<feed>.toml`: one source → one shared entity.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMapping {
    /// Target entity.
    pub mapping: RawMappingMeta,
    /// Target field → how to fill it.
    pub fields: BTreeMap<String, RawFieldMapping>,
}

/// `[mapping]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMappingMeta {
    /// Shared entity name.
    pub target: String,
    /// What the mapping does.
    pub description: Option<String>,
}

/// How one target field is filled: exactly one of `from`, `date` + `time`, `value` or `meta`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFieldMapping {
    /// Copy this contract column.
    pub from: Option<String>,
    /// With `from` on a code column: take the code's `label` or `group` instead of the code.
    pub via: Option<String>,
    /// Combine this date column …
    pub date: Option<String>,
    /// … with this time column into a datetime.
    pub time: Option<String>,
    /// A constant.
    pub value: Option<String>,
    /// Lineage: `file` (the input file name the row came from).
    pub meta: Option<String>,
}

impl ValidValues for RawPipeline {
    fn valid_values(key: &str) -> Option<&'static [&'static str]> {
        let name = key.strip_prefix("sources.")?.strip_suffix(".kind")?;
        (!name.is_empty()).then_some(&SOURCE_KINDS)
    }
}

impl ValidValues for RawContract {
    fn valid_values(key: &str) -> Option<&'static [&'static str]> {
        match key {
            "contract.encoding" => Some(&ENCODINGS),
            "contract.on_extra_column" => Some(&ON_EXTRA_COLUMN),
            "columns[].type" => Some(&COLUMN_TYPES),
            "columns[].on_invalid" | "rules[].on_fail" => Some(&OnInvalid::NAMES),
            "rules[].rule" => Some(&RULES),
            _ => None,
        }
    }
}

impl ValidValues for RawEntity {
    fn valid_values(key: &str) -> Option<&'static [&'static str]> {
        match key {
            "fields[].type" => Some(&FIELD_TYPES),
            "fields[].pseudonym" => Some(&PSEUDONYMS),
            _ => None,
        }
    }
}

impl ValidValues for RawCodeList {
    fn valid_values(key: &str) -> Option<&'static [&'static str]> {
        (key == "match").then_some(&MATCHING)
    }
}

impl ValidValues for RawMapping {
    fn valid_values(key: &str) -> Option<&'static [&'static str]> {
        key.strip_prefix("fields.")?
            .strip_suffix(".via")
            .map(|_| &VIA[..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ConfigErrors;

    fn errors_of<T: serde::de::DeserializeOwned + ValidValues>(text: &str) -> Vec<String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.toml");
        std::fs::write(&path, text).unwrap();
        let mut errors = ConfigErrors::default();
        assert!(super::super::toml_errors::read_toml::<T>(&path, &mut errors).is_none());
        errors
            .0
            .iter()
            .map(|e| format!("{}: {}", e.key, e.message))
            .collect()
    }

    /// Regression (review): a contract without `encoding` said "missing field `encoding`"
    /// without the values it takes; so did a column without its `type` and a source
    /// without its `kind`.
    #[test]
    fn regression_a_missing_key_of_a_fixed_set_lists_its_values() {
        assert_eq!(
            errors_of::<RawContract>(
                "[contract]\nname = \"c\"\nversion = 1\ndescription = \"d\"\n\n[[columns]]\nname = \"a\"\nheader = \"A\"\n"
            ),
            [
                "contract.encoding: line 1: missing field `encoding` in this table; valid values are \"utf-8\", \"windows-1252\"",
                "columns[0].type: line 6: missing field `type` in this table; valid values are \"string\", \"integer\", \"date\", \"datetime\", \"time\", \"code\", \"nhs_number\", \"pseudonym\", \"identifier\", \"sensitive\"",
            ]
        );
        assert_eq!(
            errors_of::<RawContract>(
                "[contract]\nname = \"c\"\nversion = 1\ndescription = \"d\"\nencoding = 1252\n[[columns]]\nname = \"a\"\nheader = \"A\"\ntype = \"string\"\n"
            ),
            [
                "contract.encoding: line 5: invalid type: integer `1252`, expected a string; valid values are \"utf-8\", \"windows-1252\"",
            ]
        );
        assert_eq!(
            errors_of::<RawPipeline>(
                "[pipeline]\nname = \"p\"\nschemas = \"s\"\n[sources.a]\npath = \"a\"\n[sources.b]\nkind = \"local\"\npath = \"b\"\ncontract = \"c\"\nmapping = \"m\"\n"
            ),
            [
                "sources.a: line 4: missing field `kind`; valid values are \"local\", \"http\", \"mesh\", \"file_drop\", \"nhse_sitrep\", \"nhse_ae\""
            ]
        );
        // Other keys are as they were.
        assert_eq!(
            errors_of::<RawPipeline>("[pipeline]\nname = \"p\"\n"),
            ["pipeline.schemas: line 1: missing field `schemas` in this table"]
        );
    }

    /// The kinds listed are the ones serde reads.
    #[test]
    fn the_source_kinds_listed_are_those_read() {
        let e = toml::from_str::<RawSource>("kind = \"x\"").unwrap_err();
        let listed: Vec<String> = SOURCE_KINDS.iter().map(|k| format!("`{k}`")).collect();
        assert_eq!(
            e.message(),
            format!("unknown variant `x`, expected one of {}", listed.join(", "))
        );
    }
}
