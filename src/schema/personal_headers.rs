//! Headers that name personal data: a person's name, date of birth, address, postcode or
//! contact details. `joinedup draft` declares such a column `sensitive` (never read), and
//! a contract column whose header names personal data has its values withheld from every
//! quarantine record and detail whatever type it is declared ([`crate::schema::Column`]'s
//! `personal`): a date of birth declared `date` by mistake, read by `check --contract`,
//! is not quoted. Over-matching only withholds a value.

/// Letters and digits of a header, lower case: `Date of Birth` → `dateofbirth`.
pub(crate) fn squashed(h: &str) -> String {
    h.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Words of a header, lower case: split at anything but a letter or digit, and where a
/// lower-case letter meets a capital (`PatientName` → `patient`, `name`).
pub(crate) fn words(h: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut lower_before = false;
    for c in h.chars() {
        if (!c.is_ascii_alphanumeric() || (lower_before && c.is_ascii_uppercase()))
            && !word.is_empty()
        {
            out.push(std::mem::take(&mut word));
        }
        if c.is_ascii_alphanumeric() {
            word.push(c.to_ascii_lowercase());
        }
        lower_before = c.is_ascii_lowercase();
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

/// A header naming personal data joinedup never keeps: a person's name, date of birth,
/// address, postcode or contact details. An organisation's name (`LA Name`, `Provider
/// Name`) is not a person's, unless the header names a person too (`Service User Name`).
pub fn names_personal_data(h: &str) -> bool {
    let squashed = squashed(h);
    let ws = words(h);
    let has = |list: &[&str]| ws.iter().any(|w| list.contains(&w.as_str()));
    let named = ws
        .iter()
        .any(|w| w.ends_with("name") || w.ends_with("names") || w == "initials");
    let person = has(&[
        "patient",
        "pt",
        "client",
        "person",
        "user",
        "first",
        "last",
        "given",
        "family",
        "full",
        "middle",
        "maiden",
        "preferred",
        "known",
        "carer",
        "child",
        "mother",
        "father",
    ]);
    let organisation = has(&[
        "la",
        "provider",
        "organisation",
        "org",
        "team",
        "site",
        "ccg",
        "icb",
        "trust",
        "council",
        "service",
        "practice",
        "gp",
        "ward",
        "hospital",
        "department",
        "unit",
        "file",
        "sheet",
        "field",
        "column",
        "code",
    ]);
    (named && (person || !organisation))
        || has(&["birth", "born", "dob"])
        || [
            "dob",
            "dateofbirth",
            "birthdate",
            "postcode",
            "postalcode",
            "zipcode",
            "address",
            "email",
            "ninumber",
            "nino",
            "nationalinsurance",
        ]
        .iter()
        .any(|p| squashed.contains(p))
        || has(&[
            "telephone",
            "phone",
            "mobile",
            "mob",
            "tel",
            "fax",
            "postal",
            "street",
            "addr",
        ])
        || (has(&["contact"]) && has(&["no", "number", "num", "tel", "details"]))
        // Other names and ways to reach a person (review): a birthday, an alias, the name
        // a person is known as, next of kin, an emergency contact, a carer, a numbered
        // address line (`Add1`), a residence.
        || has(&["birthday", "alias", "aka", "kin", "nok", "residence", "flat"])
        // A header that only names the person (`Client`, `Service User`) holds who they
        // are: a name, most often.
        || (has(&["client", "patient", "user", "resident", "person", "customer"])
            && ws.iter().all(|w| {
                ["client", "patient", "service", "user", "resident", "person", "customer"]
                    .contains(&w.as_str())
            }))
        || (has(&["known"]) && has(&["as"]))
        || (has(&["emergency"]) && has(&["contact"]))
        || (has(&["main", "primary", "informal", "unpaid"]) && has(&["carer"]))
        || ws.iter().any(|w| {
            ["address", "addr", "add"].iter().any(|p| {
                w.strip_prefix(p)
                    .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            })
        })
}

#[cfg(test)]
mod tests {
    use super::names_personal_data;

    /// A person's name, birth date, address or contact details by the header; an
    /// organisation's name is not a person's.
    #[test]
    fn headers_of_personal_data_are_sensitive_and_an_organisation_s_name_is_not() {
        for h in [
            "First Name",
            "Surname",
            "Date of Birth",
            "DOB",
            "Birth Dt",
            "Date_Birth",
            "Postcode",
            "Postal Code",
            "Address Line 1",
            "Telephone",
            "Name",
            "Client Name",
            "PatientName",
            "Service User Name",
            "Ward Patient Name",
            "Email",
            "DoB",
            "D.O.B.",
            "E-mail",
            "Forenames",
            "Given Names",
            "Addr Line 1",
            "Street",
            "Contact No",
            "Mob",
            "NI Number",
            "Initials",
            "Pt_Forenames",
            // Review of the workbook drafts.
            "Birthday",
            "Known As",
            "Alias",
            "Next of Kin",
            "NOK",
            "Emergency Contact",
            "Main Carer",
            "Add1",
            "Addr3",
            "Address2",
            "Residence",
            "Client",
            "Service User",
            "Flat/House",
        ] {
            assert!(names_personal_data(h), "{h}");
        }
        for h in [
            "LA Name",
            "Provider Name",
            "Service Type",
            "NHS Number",
            "Gender",
            "Team Name",
            "Additional Hours",
            "Carer Support Offered",
            "Service",
            "Client ID",
            "Client Type",
            "Patient Classification",
        ] {
            assert!(!names_personal_data(h), "{h}");
        }
    }
}

#[cfg(test)]
mod shipped {
    /// The shipped contracts declare `sensitive` every column whose header names personal
    /// data (and nothing else is withheld from their quarantine details): the CLD's names,
    /// date of birth and postcode.
    #[test]
    fn the_shipped_contracts_personal_columns_are_the_sensitive_ones() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let plan = crate::config::load_plan(&root.join("pipelines/sample.toml"), &[]).unwrap();
        let mut personal = Vec::new();
        for source in &plan.sources {
            for c in &source.contract.columns {
                assert_eq!(
                    c.personal,
                    matches!(c.kind, crate::schema::ColumnType::Sensitive),
                    "{}: {}",
                    source.name,
                    c.header
                );
                if c.personal {
                    personal.push(format!("{}: {}", source.name, c.header));
                }
            }
        }
        assert_eq!(
            personal,
            [
                "cld: First Name",
                "cld: Last Name",
                "cld: Date of Birth",
                "cld: Postcode"
            ]
        );
    }
}
