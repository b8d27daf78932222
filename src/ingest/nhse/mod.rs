//! NHS England's published statistics, read as they are published.
//!
//! Two publications, each a source kind:
//!
//! - `nhse_sitrep`: the monthly "Discharge Delays (Acute)" and "(Community)" workbooks
//!   ([`sitrep`]), whose tables are found by title and read by rule ([`layout`]);
//! - `nhse_ae`: monthly A&E attendances, tidy or in the raw "MSitAE" layout ([`ae`]).
//!
//! Wording lives in the label mapping file ([`labels`]). A file is loaded whole or not at
//! all: one whose layout cannot be understood fails with the sheet and cell where
//! recognition stopped, and the run goes on with the other files. Everything else worth
//! knowing (unknown labels, sums that do not add up, dates outside the period) is a
//! data-quality result ([`checks`]), not a failure.

pub mod ae;
pub mod checks;
pub mod cover;
pub mod frames;
pub mod labels;
pub mod layout;
pub mod period;
pub mod sitrep;
mod tables;
pub mod workbook;

/// Which publication a source reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublicationKind {
    /// Discharge sitrep workbooks, acute and community.
    Sitrep,
    /// Monthly A&E attendances CSV.
    Ae,
}

impl PublicationKind {
    /// The `kind` written in a pipeline.
    pub fn name(self) -> &'static str {
        match self {
            PublicationKind::Sitrep => "nhse_sitrep",
            PublicationKind::Ae => "nhse_ae",
        }
    }

    /// The folder pattern used when the pipeline gives none.
    pub fn default_pattern(self) -> &'static str {
        match self {
            PublicationKind::Sitrep => "*.xlsx",
            PublicationKind::Ae => "*.csv",
        }
    }
}

/// Why one publication file could not be loaded (the rest of the run goes on).
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The workbook's layout was not understood.
    #[error(transparent)]
    Layout(#[from] layout::LayoutError),
    /// The file could not be opened or parsed at all.
    #[error("{0}")]
    Unreadable(String),
}
