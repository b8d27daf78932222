//! A source plan for a contract alone, without a pipeline: what `joinedup check
//! --contract` reads files with, while a feed's contract is written and before it has a
//! mapping. Every column is read (so every column's checks apply, where a pipeline's
//! run checks only the columns its mapping and rules read), the contract's first NHS
//! number or pseudonym column is taken as the person key (its blanks count as rows
//! without an NHS number), and the thresholds are the `[quality]` defaults.

use std::path::Path;
use std::sync::Arc;

use super::errors::ConfigErrors;
use super::loader::Loader;
use super::plan::{
    DEFAULT_MAX_QUARANTINE_FRACTION, DEFAULT_MAX_WITHOUT_NHS_NUMBER_FRACTION, FieldSource, Mapping,
    SourcePlan,
};
use crate::schema::ColumnType;

/// The source plan reading `files` (a file, or a folder's files) against the contract
/// file `contract`, which is `<schemas>/sources/<name>.toml` beside its code lists in
/// `<schemas>/codes/`.
pub fn contract_source(contract: &Path, files: &Path) -> Result<SourcePlan, ConfigErrors> {
    let mut errors = ConfigErrors::default();
    let name = contract
        .file_stem()
        .and_then(|s| s.to_str())
        .filter(|_| contract.extension().is_some_and(|e| e == "toml"));
    let schemas = contract
        .parent()
        .filter(|p| p.file_name().is_some_and(|n| n == "sources"))
        .and_then(Path::parent);
    let (Some(name), Some(schemas)) = (name, schemas) else {
        errors.push(
            contract,
            "",
            "a contract is read as <schemas>/sources/<name>.toml, beside the code lists it names in <schemas>/codes/",
        );
        return Err(errors);
    };
    let mut loader = Loader::new(schemas.to_path_buf(), errors);
    let loaded: Option<Arc<crate::schema::Contract>> =
        loader.contract(name, contract, "--contract");
    let contract = match loaded {
        Some(c) if loader.errors.is_empty() => c,
        _ => return Err(loader.errors.deduplicated()),
    };
    // Every column filled into a field of its own name; the person key from the first
    // NHS number or pseudonym column.
    let mut fields: Vec<(String, Option<FieldSource>)> = contract
        .columns
        .iter()
        .enumerate()
        .filter(|(_, c)| c.kind.stored().is_some())
        .map(|(index, c)| {
            (
                c.name.clone(),
                Some(FieldSource::Column { index, via: None }),
            )
        })
        .collect();
    if let Some(index) = contract
        .columns
        .iter()
        .position(|c| matches!(c.kind, ColumnType::NhsNumber | ColumnType::Pseudonym { .. }))
    {
        fields.retain(|(f, _)| f != crate::link::person_index::PERSON_ID);
        fields.push((
            crate::link::person_index::PERSON_ID.to_string(),
            Some(FieldSource::Column { index, via: None }),
        ));
    }
    Ok(SourcePlan {
        name: contract.name.clone(),
        path: files.to_path_buf(),
        pattern: "*".to_string(),
        overridden: true,
        landed: false,
        mapping: Mapping {
            file: contract.file.clone(),
            target: String::new(),
            fields,
        },
        contract,
        max_quarantine_fraction: DEFAULT_MAX_QUARANTINE_FRACTION,
        max_without_nhs_number_fraction: DEFAULT_MAX_WITHOUT_NHS_NUMBER_FRACTION,
        allow_empty: false,
        follow_links_outside: false,
    })
}
