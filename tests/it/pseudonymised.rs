//! Extracts pseudonymised before they reach joinedup (NCDR/UDAL's `Der_Pseudo_NHS_Number`,
//! a DSCRO's pseudonym): declared `type = "pseudonym"` with their scheme, they link as
//! the NHS numbers behind them would. The sample with every valid NHS number replaced by
//! an upstream pseudonym of one scheme publishes what the sample publishes.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::util::*;

/// The test's upstream scheme: SHA-256 of a salt and the number, as 64 upper-case hex
/// digits (Open Pseudonymiser's look).
fn upstream(digits: &[u8; 10]) -> String {
    let mut h = Sha256::new();
    h.update(b"test-dscro-salt:");
    h.update(digits);
    h.finalize().iter().map(|b| format!("{b:02X}")).collect()
}

/// Replaces each valid NHS number of column `header` of a CSV file (no quoted fields, as
/// the sample's) by its upstream pseudonym, byte for byte otherwise (BOM, encoding, line
/// ends). Other values (blank, `NULL`, a wrong check digit) are left as they are: the
/// pseudonym column's pattern refuses them, as Modulus 11 refuses them in the sample.
/// Written in lower case when `lower` (another system's way of writing the scheme's hex).
/// Returns how many were replaced.
fn pseudonymise(path: &Path, header: &str, lower: bool) -> usize {
    let bytes = std::fs::read(path).unwrap();
    let mut lines = bytes.split_inclusive(|&b| b == b'\n');
    let head = lines.next().unwrap();
    let at = head
        .split(|&b| b == b',')
        .position(|f| {
            let f = f.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(f);
            f.trim_ascii() == header.as_bytes()
        })
        .unwrap_or_else(|| panic!("{} has no column {header}", path.display()));
    let mut out = head.to_vec();
    let mut replaced = 0;
    for line in lines {
        let mut fields: Vec<Vec<u8>> = line.split(|&b| b == b',').map(<[u8]>::to_vec).collect();
        let value = std::str::from_utf8(&fields[at]).unwrap_or_default();
        if let Ok(digits) = joinedup::ingest::nhs_number::validate(value) {
            let pseudonym = upstream(&digits);
            fields[at] = if lower {
                pseudonym.to_ascii_lowercase()
            } else {
                pseudonym
            }
            .into_bytes();
            replaced += 1;
        }
        out.extend(fields.join(&b','));
    }
    std::fs::write(path, out).unwrap();
    replaced
}

/// Every file under `dir`, relative, with its bytes.
fn files_with_bytes(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = files_under(dir)
        .into_iter()
        .map(|f| {
            let rel = f.strip_prefix(dir).unwrap().display().to_string();
            (rel, std::fs::read(&f).unwrap())
        })
        .collect();
    files.sort();
    files
}

/// The sources of a run's manifest.
fn sources(out: &Path) -> Vec<serde_json::Value> {
    only_manifest(out)["sources"].as_array().unwrap().clone()
}

/// The sources' rows in, accepted and quarantined, from a run's manifest.
fn source_counts(out: &Path) -> Vec<(String, u64, u64, u64)> {
    manifest_source_counts(&only_manifest(out))
        .into_iter()
        .map(|(name, rows_in, accepted, quarantined, ..)| (name, rows_in, accepted, quarantined))
        .collect()
}

/// The sample in a temporary folder, every valid NHS number replaced by its upstream
/// pseudonym (in lower case in the folders of `lower`), each contract declaring the
/// column a pseudonym of one scheme with `declared` added; run, and the sample run
/// beside it. Returns the folder, the pseudonymised run's data directory and the
/// sample's.
fn run_pseudonymised(lower: &[&str], declared: &str) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for sub in ["schemas", "pipelines", "data-samples"] {
        copy_tree(&root().join(sub), &d.join(sub));
    }
    for contract in ["sus_apc", "ecds", "cld"] {
        let path = d.join(format!("schemas/sources/{contract}.toml"));
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text.matches("type = \"nhs_number\"\n").count(),
            1,
            "{contract}"
        );
        let text = text.replace(
            "type = \"nhs_number\"\n",
            &format!(
                "type = \"pseudonym\"\nscheme = \"test-dscro\"\npattern = \"[0-9A-F]{{64}}\"\n{declared}"
            ),
        );
        std::fs::write(&path, text).unwrap();
    }
    let mut replaced = 0;
    for (folder, header) in [
        ("apc", "NHS Number"),
        ("ecds", "NHS_Number"),
        ("cld", "NHS Number"),
    ] {
        for f in files_under(&d.join("data-samples").join(folder)) {
            replaced += pseudonymise(&f, header, lower.contains(&folder));
        }
    }
    assert!(replaced > 4000, "{replaced}");

    let pseudonymised = d.join("out");
    let (code, stdout, stderr) = result(&joinedup(&[
        "run",
        d.join("pipelines/sample.toml").to_str().unwrap(),
        "--out",
        pseudonymised.to_str().unwrap(),
    ]));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        !stderr.contains("key their persons differently"),
        "{stderr}"
    );
    let sample = d.join("sample-out");
    run_ok(None, &sample, &[]);
    (dir, pseudonymised, sample)
}

/// Both runs accepted and quarantined the same rows of each source, and published the
/// same files, byte for byte: the same persons linked.
fn assert_published_alike(pseudonymised: &Path, sample: &Path) {
    // The same rows in, accepted and quarantined (a mistyped number: Modulus 11 in the
    // sample, the pseudonym's pattern here)...
    assert_eq!(source_counts(pseudonymised), source_counts(sample));
    let (got, want) = (
        files_with_bytes(&pseudonymised.join("published")),
        files_with_bytes(&sample.join("published")),
    );
    assert_eq!(
        got.iter().map(|(f, _)| f).collect::<Vec<_>>(),
        want.iter().map(|(f, _)| f).collect::<Vec<_>>()
    );
    for ((file, a), (_, b)) in got.iter().zip(&want) {
        assert!(a == b, "published/{file} differs");
    }
}

#[test]
fn the_sample_pseudonymised_upstream_publishes_what_the_sample_publishes() {
    let (_dir, pseudonymised, sample) = run_pseudonymised(&[], "");
    assert_published_alike(&pseudonymised, &sample);
    // The manifest says what each source keys its persons by.
    let keys = |out: &Path| -> Vec<String> {
        sources(out)
            .iter()
            .map(|s| s["person_key"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(keys(&pseudonymised), vec!["pseudonym:test-dscro"; 3]);
    assert_eq!(keys(&sample), vec!["nhs_number"; 3]);
    // No upstream pseudonym reaches an output: each is hashed again under the run's key.
    let one = upstream(b"9997555422");
    for f in files_under(&pseudonymised) {
        let bytes = std::fs::read(&f).unwrap();
        assert!(
            !bytes.windows(16).any(|w| w == &one.as_bytes()[..16]),
            "{}",
            f.display()
        );
    }
}

/// One system writes the scheme's hex pseudonyms in upper case and another in lower case
/// (the A&E extract here): declared `ignore_case`, they are one person's, and the run
/// publishes what the sample publishes. The pattern is checked on the value folded to
/// upper case, so `[0-9A-F]{64}` accepts the lower-case extract.
#[test]
fn pseudonyms_written_in_lower_case_by_one_source_link_when_the_scheme_ignores_case() {
    let (_dir, pseudonymised, sample) = run_pseudonymised(&["ecds"], "ignore_case = true\n");
    assert_published_alike(&pseudonymised, &sample);
}
