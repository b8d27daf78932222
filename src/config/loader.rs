//! Loading schema files for the plan: each code list, source contract and shared entity is
//! read once (cached by name, a broken one as `None`, so it is reported once), every
//! problem goes to the one [`ConfigErrors`] the plan returns, and every file read is
//! recorded ([`Loader::read`]): the plan's configuration fingerprint covers those files
//! and no other file of the schemas folder.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::errors::{ConfigErrors, alternatives};
use super::plan::read_toml;
use super::raw::{FIELD_TYPES, MATCHING, PSEUDONYMS, RawCodeList, RawEntity};
use crate::schema::{Code, CodeList, Contract, Entity, Field, Matching, PseudonymOf, ValueType};

/// Loads schema files once each and records every problem.
pub(super) struct Loader {
    pub(super) schemas_dir: PathBuf,
    pub(super) errors: ConfigErrors,
    pub(super) code_lists: HashMap<String, Option<Arc<CodeList>>>,
    pub(super) contracts: HashMap<String, Option<Arc<Contract>>>,
    pub(super) entities: BTreeMap<String, Option<Arc<Entity>>>,
    /// The column names of each contract read as TOML, broken or not.
    pub(super) contract_columns: HashMap<String, Vec<String>>,
    /// Every schema file found for the plan (contracts, code lists, entities), whatever
    /// named it: a source, a contract column, an entity field, the link stage.
    pub(super) read: BTreeSet<PathBuf>,
}

impl Loader {
    /// A loader reading schema files under `schemas_dir`, adding to `errors`.
    pub(super) fn new(schemas_dir: PathBuf, errors: ConfigErrors) -> Self {
        Loader {
            schemas_dir,
            errors,
            code_lists: HashMap::new(),
            contracts: HashMap::new(),
            entities: BTreeMap::new(),
            contract_columns: HashMap::new(),
            read: BTreeSet::new(),
        }
    }

    pub(super) fn available(&self, sub: &str) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.schemas_dir.join(sub))
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .filter_map(|e| {
                        let p = e.path();
                        (p.extension()? == "toml")
                            .then(|| p.file_stem()?.to_str().map(String::from))?
                    })
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    pub(super) fn schema_file(
        &mut self,
        sub: &str,
        name: &str,
        from: &Path,
        key: &str,
    ) -> Option<PathBuf> {
        let folder = self.schemas_dir.join(sub);
        let path = folder.join(format!("{name}.toml"));
        let message = match std::fs::metadata(&path) {
            Ok(m) if m.is_file() => {
                self.read.insert(path.clone());
                return Some(path);
            }
            Ok(_) => format!("{} is not a file", path.display()),
            // A folder this user cannot list (or that is a file) is not an empty one: it
            // was reported as "there are none".
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                match std::fs::read_dir(&folder) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                        format!("cannot list {}: {e}", folder.display())
                    }
                    _ => format!(
                        "no {sub} schema \"{name}\" in {}; {}",
                        folder.display(),
                        alternatives(self.available(sub))
                    ),
                }
            }
            Err(e) => format!("cannot read {}: {e}", path.display()),
        };
        self.errors.push(from, key, message);
        None
    }

    pub(super) fn code_list(
        &mut self,
        name: &str,
        from: &Path,
        key: &str,
    ) -> Option<Arc<CodeList>> {
        if let Some(cached) = self.code_lists.get(name) {
            return cached.clone();
        }
        let loaded = self.load_code_list(name, from, key);
        self.code_lists.insert(name.to_string(), loaded.clone());
        loaded
    }

    fn load_code_list(&mut self, name: &str, from: &Path, key: &str) -> Option<Arc<CodeList>> {
        let path = self.schema_file("codes", name, from, key)?;
        let raw: RawCodeList = read_toml(&path, &mut self.errors)?;
        if raw.name != name {
            self.errors.push(
                &path,
                "name",
                format!("is \"{}\" but the file is named \"{name}\"", raw.name),
            );
        }
        let matching = match raw.matching.as_deref() {
            None | Some("exact") => Matching::Exact,
            Some("folded") => Matching::Folded,
            Some(other) => {
                self.errors.push(
                    &path,
                    "match",
                    format!("unknown rule \"{other}\"; {}", alternatives(MATCHING)),
                );
                Matching::Exact
            }
        };
        let codes: Vec<Code> = raw
            .codes
            .into_iter()
            .map(|c| Code {
                code: c.code,
                label: c.label,
                group: c.group,
            })
            .collect();
        // Each code once, as values are matched: a repeat would make one of two labels or
        // groups win silently.
        let mut seen: HashMap<String, usize> = HashMap::new();
        for (i, c) in codes.iter().enumerate() {
            let key = match matching {
                Matching::Exact => crate::schema::trim(&c.code).to_string(),
                Matching::Folded => crate::schema::fold::fold(&c.code),
            };
            if let Some(&first) = seen.get(&key) {
                self.errors.push(
                    &path,
                    format!("codes[{i}].code"),
                    format!(
                        "\"{}\" repeats codes[{first}] (\"{}\") after {} matching",
                        c.code,
                        codes[first].code,
                        if matching == Matching::Folded {
                            "folded"
                        } else {
                            "exact"
                        }
                    ),
                );
            } else {
                seen.insert(key, i);
            }
        }
        let mut list = CodeList::new(name.to_string(), matching, codes);
        if raw.leading_zeros_optional
            && let Err(why) = list.allow_missing_leading_zeros()
        {
            self.errors.push(&path, "leading_zeros_optional", why);
        }
        Some(Arc::new(list))
    }
}

impl Loader {
    pub(super) fn entity(&mut self, name: &str, from: &Path, key: &str) -> Option<Arc<Entity>> {
        if let Some(cached) = self.entities.get(name) {
            return cached.clone();
        }
        let loaded = self.load_entity(name, from, key);
        self.entities.insert(name.to_string(), loaded.clone());
        loaded
    }

    fn load_entity(&mut self, name: &str, from: &Path, key: &str) -> Option<Arc<Entity>> {
        let path = self.schema_file("shared", name, from, key)?;
        let raw: RawEntity = read_toml(&path, &mut self.errors)?;
        let before = self.errors.len();
        if raw.entity.name != name {
            self.errors.push(
                &path,
                "entity.name",
                format!(
                    "is \"{}\" but the file is named \"{name}\"",
                    raw.entity.name
                ),
            );
        }
        let mut fields: Vec<Field> = Vec::new();
        for (i, f) in raw.fields.iter().enumerate() {
            let kind = match f.kind.as_str() {
                "string" => ValueType::String,
                "integer" => ValueType::Integer,
                "date" => ValueType::Date,
                "datetime" => ValueType::DateTime,
                "float" => ValueType::Float,
                "boolean" => ValueType::Boolean,
                other => {
                    self.errors.push(
                        &path,
                        format!("fields[{i}].type"),
                        format!("unknown type \"{other}\"; {}", alternatives(FIELD_TYPES)),
                    );
                    ValueType::String
                }
            };
            if fields.iter().any(|x| x.name == f.name) {
                self.errors.push(
                    &path,
                    format!("fields[{i}].name"),
                    format!("\"{}\" is declared twice", f.name),
                );
            }
            if let Some(list) = &f.codes {
                self.code_list(list, &path, &format!("fields[{i}].codes"));
            }
            if f.identifier && kind != ValueType::String {
                self.errors.push(
                    &path,
                    format!("fields[{i}].identifier"),
                    format!(
                        "only a string field can be an identifier; \"{}\" is {}",
                        f.name, f.kind
                    ),
                );
            }
            let pseudonym = match f.pseudonym.as_deref() {
                None => None,
                Some("nhs_number") => Some(PseudonymOf::NhsNumber),
                Some("identifier") => Some(PseudonymOf::Identifier),
                Some(other) => {
                    self.errors.push(
                        &path,
                        format!("fields[{i}].pseudonym"),
                        format!("unknown value \"{other}\"; {}", alternatives(PSEUDONYMS)),
                    );
                    None
                }
            };
            if pseudonym.is_some() && (kind != ValueType::String || f.codes.is_some()) {
                self.errors.push(
                    &path,
                    format!("fields[{i}].pseudonym"),
                    "a pseudonym field is a string field without a code list",
                );
            }
            fields.push(Field {
                name: f.name.clone(),
                kind,
                nullable: f.nullable,
                identifier: f.identifier,
                codes: f.codes.clone(),
                pseudonym,
                description: f.description.clone(),
            });
        }
        for (i, k) in raw.entity.record_key.iter().enumerate() {
            if !fields.iter().any(|f| &f.name == k) {
                self.errors.push(
                    &path,
                    format!("entity.record_key[{i}]"),
                    format!(
                        "\"{k}\" is not a field of entity \"{name}\"; {}",
                        alternatives(fields.iter().map(|f| f.name.as_str()))
                    ),
                );
            }
        }
        if self.errors.len() > before {
            return None;
        }
        Some(Arc::new(Entity {
            name: name.to_string(),
            description: raw.entity.description,
            fields,
            record_key: raw.entity.record_key,
        }))
    }

    /// `[link] discharge_route` must be a route of access exactly as the code list of
    /// `social_care_event.route_of_access` spells it: stored values are the list's own
    /// spelling and are compared exactly, so a near miss ("Discharge From Hospital")
    /// would match no request and leave the social-care measures empty without a word.
    pub(super) fn check_discharge_route(&mut self, route: &str, from: &Path) {
        let Some(list) = self
            .entity("social_care_event", from, "outputs")
            .and_then(|e| e.field("route_of_access").and_then(|f| f.codes.clone()))
            .and_then(|name| self.code_list(&name, from, "link.discharge_route"))
        else {
            return;
        };
        if list.codes.iter().any(|c| c.code == route) {
            return;
        }
        let message = match list.position(route) {
            Some(i) => format!(
                "\"{route}\" is spelt \"{}\" in code list \"{}\"; use that spelling",
                list.codes[i].code, list.name
            ),
            None => format!(
                "\"{route}\" is not a route of access in code list \"{}\"; {}",
                list.name,
                alternatives(list.codes.iter().map(|c| c.code.as_str()))
            ),
        };
        self.errors.push(from, "link.discharge_route", message);
    }

    pub(super) fn require_entity_fields(
        &mut self,
        entity: &str,
        fields: &[(&str, ValueType)],
        from: &Path,
    ) {
        let Some(e) = self.entity(entity, from, "outputs") else {
            return;
        };
        let file = self
            .schemas_dir
            .join("shared")
            .join(format!("{entity}.toml"));
        for (name, kind) in fields {
            match e.field(name) {
                Some(f) if f.kind == *kind => {}
                Some(f) => self.errors.push(
                    &file,
                    format!("fields.{name}"),
                    format!(
                        "the link stage needs type \"{}\", not \"{}\"",
                        kind.name(),
                        f.kind.name()
                    ),
                ),
                None => self.errors.push(
                    &file,
                    "fields",
                    format!(
                        "the link stage needs a field \"{name}\" of type \"{}\"",
                        kind.name()
                    ),
                ),
            }
        }
    }
}

/// Every code list under `schemas_dir/codes/`, in name order, for drafting a contract
/// (`schema::draft`): a list that does not load is an error naming its file and key, as
/// when a contract names it.
pub fn all_code_lists(schemas_dir: &Path) -> Result<Vec<Arc<CodeList>>, ConfigErrors> {
    let mut loader = Loader::new(schemas_dir.to_path_buf(), ConfigErrors::default());
    let from = schemas_dir.join("codes");
    let mut lists = Vec::new();
    for name in loader.available("codes") {
        lists.extend(loader.code_list(&name, &from, "codes"));
    }
    if loader.errors.is_empty() {
        Ok(lists)
    } else {
        Err(loader.errors)
    }
}
