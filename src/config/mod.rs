//! Configuration: raw TOML files → a checked [`Plan`].
//!
//! Two phases, as in ripgrep's low/high arguments: [`raw`] mirrors the TOML files
//! exactly (serde, `deny_unknown_fields`, no I/O beyond reading the file), and [`plan`]
//! resolves paths, loads contracts, code lists, shared entities and mappings, and checks
//! every cross-reference. All errors found are returned together ([`ConfigErrors`]),
//! each naming the file, the key path and the valid alternatives.

pub mod alone;
mod contract;
mod errors;
pub mod fetch;
mod loader;
mod mapping;
pub mod plan;
pub mod raw;
mod toml_errors;

pub(crate) use errors::alternatives;
pub use errors::{ConfigError, ConfigErrors};
pub use loader::all_code_lists;
pub use plan::{
    KeySource, LinkPlan, OutputPlan, Plan, PublicationSourcePlan, SourceOverride, SourcePlan,
    load_plan,
};
pub(crate) use toml_errors::ValidValues;
