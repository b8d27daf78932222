//! Keyed pseudonyms (HMAC-SHA256) for NHS numbers and other person identifiers.
//!
//! The same key gives the same pseudonym across sources and runs, so records link; a
//! different key per deployment stops cross-deployment linkage. By default a pseudonym is
//! the HMAC-SHA-256 truncated to its first 128 bits ([`Width::Bits128`], as RFC 4868's
//! HMAC-SHA-256-128 and NIST SP 800-107 allow), written as 32 upper-case hex digits:
//! among 100 million people the chance that any two share a pseudonym is under 1 in
//! 10^22, and each is half the bytes of the full digest in every restricted file, in
//! memory and on every join a user makes. What protects a pseudonym is the key (there
//! are only ~10^9 NHS numbers to try), not its length. `[pseudonymisation] bits = 256`
//! keeps the whole digest (64 digits: the Open Pseudonymiser look, and what builds
//! before 2026-11-26 wrote), for a deployment that must go on matching what it published
//! before. The keyed HMAC state is built once and cloned per value (2 SHA-256
//! compressions instead of 4), and hex is written from a lookup table (see
//! reference/performance.md §5).
//!
//! Domains keep identifier kinds apart: an NHS number is hashed as its 10 digits; a
//! council person identifier as `LA:<scope>:<id>`; an NHS number pseudonymised upstream
//! (NCDR's `Der_Pseudo_NHS_Number`, a DSCRO's) as `PSEUDO:<scheme>:<pseudonym>`. So none
//! can equal another kind's pseudonym, and the upstream pseudonym (which its issuer can
//! reverse) never reaches an output: only joinedup's keyed pseudonym of it does.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Shortest key accepted, in bytes.
pub const MIN_KEY_BYTES: usize = 16;

/// How much of the HMAC a pseudonym keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Width {
    /// The first 128 bits: 32 hex digits.
    #[default]
    Bits128,
    /// The whole digest: 64 hex digits.
    Bits256,
}

impl Width {
    /// The widths `[pseudonymisation] bits` accepts.
    pub const BITS: [u32; 2] = [128, 256];

    /// The width of `bits`, if it is one of [`Self::BITS`].
    pub fn of_bits(bits: u32) -> Option<Self> {
        match bits {
            128 => Some(Width::Bits128),
            256 => Some(Width::Bits256),
            _ => None,
        }
    }

    /// Digest bytes kept.
    fn bytes(self) -> usize {
        match self {
            Width::Bits128 => 16,
            Width::Bits256 => 32,
        }
    }

    /// How pseudonyms of this width are made; recorded in the manifest and in the
    /// incremental state, so a data directory written under another scheme is rebuilt,
    /// never mixed.
    pub fn scheme(self) -> &'static str {
        match self {
            Width::Bits128 => "HMAC-SHA-256-128, upper-case hex",
            Width::Bits256 => "HMAC-SHA-256, upper-case hex",
        }
    }
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Both hex digits of every byte, so a digest is written a byte (not a nibble) at a time.
const HEX_PAIRS: [[u8; 2]; 256] = {
    let mut t = [[0u8; 2]; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = [HEX[b >> 4], HEX[b & 0x0f]];
        b += 1;
    }
    t
};

/// Why a key given as a secret (`key_env`, `key_file`) must not be used, if it must not:
/// a `DEMO-` key is public (joinedup's own files hold them), and one of few distinct
/// bytes (`aaaa…`, `0000…`, `abab…`) is guessed as easily. Pseudonyms are an HMAC of a
/// 10-digit number, so whoever holds or guesses the key reverses every one of them in
/// minutes.
pub fn key_weakness(key: &[u8]) -> Option<String> {
    const MIN_DISTINCT: usize = 8;
    if key.len() >= 5 && key[..5].eq_ignore_ascii_case(b"DEMO-") {
        return Some(
            "the key starts with \"DEMO-\": demonstration keys are public (joinedup's own files hold them), so pseudonyms made with it can be reversed; generate a secret one, e.g. `openssl rand -hex 32`".into(),
        );
    }
    let mut seen = [false; 256];
    key.iter().for_each(|&b| seen[usize::from(b)] = true);
    let distinct = seen.iter().filter(|&&s| s).count();
    (distinct < MIN_DISTINCT).then(|| {
        format!(
            "the key has only {distinct} distinct character(s) (at least {MIN_DISTINCT} are required): a key so regular is guessed, and pseudonyms made with it reversed; generate a secret one, e.g. `openssl rand -hex 32`"
        )
    })
}

/// A keyed pseudonymiser. Its `Debug` output never shows the key.
#[derive(Clone)]
pub struct Pseudonymiser {
    keyed: HmacSha256,
    width: Width,
    fingerprint: String,
    test_range_only: bool,
}

impl std::fmt::Debug for Pseudonymiser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pseudonymiser")
            .field("width", &self.width)
            .field("fingerprint", &self.fingerprint)
            .finish()
    }
}

impl Pseudonymiser {
    /// Builds a pseudonymiser; the key must be at least [`MIN_KEY_BYTES`] long.
    pub fn new(key: &[u8], width: Width) -> Result<Self, String> {
        if key.len() < MIN_KEY_BYTES {
            return Err(format!(
                "the pseudonymisation key is {} bytes; at least {MIN_KEY_BYTES} are required",
                key.len()
            ));
        }
        let keyed = HmacSha256::new_from_slice(key).map_err(|e| e.to_string())?;
        let mut fp = keyed.clone();
        fp.update(b"joinedup key fingerprint v1");
        let fingerprint = hex_upper(&fp.finalize().into_bytes())[..12].to_string();
        Ok(Pseudonymiser {
            keyed,
            width,
            fingerprint,
            test_range_only: false,
        })
    }

    /// The same pseudonymiser, for synthetic data only: a key written in a pipeline file
    /// (`demo_key`) is public, so ingest refuses a file holding an NHS number outside
    /// the 999 test range rather than pseudonymise a real patient's number with it.
    pub fn for_test_data_only(mut self) -> Self {
        self.test_range_only = true;
        self
    }

    /// Whether only test-range NHS numbers (`999…`) may be pseudonymised.
    pub fn test_range_only(&self) -> bool {
        self.test_range_only
    }

    /// A short, non-reversible identifier of the key, for the manifest: two runs with the
    /// same fingerprint used the same key.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// What decides every pseudonym: the scheme and the key's fingerprint. Outputs made
    /// under a different provenance do not link with these.
    pub fn provenance(&self) -> String {
        format!("{}; key {}", self.scheme(), self.fingerprint)
    }

    /// How the pseudonyms are made ([`Width::scheme`]).
    pub fn scheme(&self) -> &'static str {
        self.width.scheme()
    }

    /// Pseudonym of a validated NHS number (its 10 digits).
    pub fn nhs_number(&self, digits: &[u8; 10]) -> String {
        self.nhs_number_hex(digits).as_str().to_string()
    }

    /// [`Self::nhs_number`] without a heap allocation (for ingest's hot loop).
    pub fn nhs_number_hex(&self, digits: &[u8; 10]) -> Hex {
        self.hash_hex(&[digits])
    }

    /// Pseudonym of another identifier, scoped (e.g. by council code).
    pub fn scoped_identifier(&self, scope: &str, id: &str) -> String {
        self.scoped_identifier_hex(scope, id).as_str().to_string()
    }

    /// [`Self::scoped_identifier`] without a heap allocation.
    pub fn scoped_identifier_hex(&self, scope: &str, id: &str) -> Hex {
        self.hash_hex(&[b"LA:", scope.as_bytes(), b":", id.as_bytes()])
    }

    /// Pseudonym of an NHS number pseudonymised upstream under `scheme`.
    pub fn upstream_pseudonym(&self, scheme: &str, pseudonym: &str) -> String {
        self.upstream_pseudonym_hex(scheme, pseudonym)
            .as_str()
            .to_string()
    }

    /// [`Self::upstream_pseudonym`] without a heap allocation.
    pub fn upstream_pseudonym_hex(&self, scheme: &str, pseudonym: &str) -> Hex {
        self.hash_hex(&[b"PSEUDO:", scheme.as_bytes(), b":", pseudonym.as_bytes()])
    }

    #[cfg(test)]
    fn hash(&self, parts: &[&[u8]]) -> String {
        self.hash_hex(parts).as_str().to_string()
    }

    fn hash_hex(&self, parts: &[&[u8]]) -> Hex {
        let mut mac = self.keyed.clone();
        for p in parts {
            mac.update(p);
        }
        let digest = mac.finalize().into_bytes();
        let kept = self.width.bytes();
        let mut out = Hex {
            digits: [0u8; 64],
            len: 2 * kept as u8,
        };
        for (pair, &b) in out.digits.chunks_exact_mut(2).zip(&digest[..kept]) {
            pair.copy_from_slice(&HEX_PAIRS[usize::from(b)]);
        }
        out
    }
}

/// A pseudonym as upper-case hex digits (32 or 64), held inline.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Hex {
    digits: [u8; 64],
    len: u8,
}

impl Hex {
    /// The digits as text.
    pub fn as_str(&self) -> &str {
        // Only ASCII hex digits are ever stored.
        std::str::from_utf8(&self.digits[..usize::from(self.len)]).unwrap_or_default()
    }
}

impl std::fmt::Debug for Hex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

fn hex_upper(bytes: &[u8]) -> String {
    let mut out = Vec::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(HEX[usize::from(b >> 4)]);
        out.push(HEX[usize::from(b & 0x0f)]);
    }
    // Only ASCII hex digits were pushed.
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_and_regular_keys_are_weak_and_random_ones_are_not() {
        let weak = |k: &str| key_weakness(k.as_bytes());
        assert!(
            weak("DEMO-joinedup-sample-key-not-secret")
                .unwrap()
                .starts_with("the key starts with \"DEMO-\"")
        );
        assert_eq!(
            weak("aaaaaaaaaaaaaaaa").unwrap(),
            "the key has only 1 distinct character(s) (at least 8 are required): a key so regular is guessed, and pseudonyms made with it reversed; generate a secret one, e.g. `openssl rand -hex 32`"
        );
        assert!(weak("0000000000000000000000000000000000000000").is_some());
        // Regression (review): in another case too.
        assert!(weak("demo-synthetic-data-key-not-secret").is_some());
        assert!(weak("abcabcabcabcabcabcabc").is_some());
        assert!(weak("a1b2c3d4a1b2c3d4").is_none()); // 8 distinct
        assert!(weak("3f9c1e7a0b5d2846e1c9a7f30b6d4e28").is_none());
        assert!(weak("a-real-deployment-key-of-enough-length").is_none());
    }

    #[test]
    fn rfc_4231_case_2_known_vector() {
        // RFC 4231 test case 2 uses the 4-byte key "Jefe", below our minimum, so check the
        // HMAC primitive directly and then our hex encoding of it.
        let mut mac = HmacSha256::new_from_slice(b"Jefe").unwrap();
        mac.update(b"what do ya want for nothing?");
        assert_eq!(
            hex_upper(&mac.finalize().into_bytes()),
            "5BDCC146BF60754E6A042426089575C75A003F089D2739839DEC58B964EC3843"
        );
    }

    #[test]
    fn rfc_4231_case_4_through_the_pseudonymiser_is_its_first_128_bits() {
        // Key 0x0102…19 (25 bytes), data 0xcd × 50; the full HMAC is
        // 82558A389A443C0EA4CC819899F2083A85F0FAA3E578F8077A2E3FF46729665B.
        let key: Vec<u8> = (1..=25).collect();
        let p = Pseudonymiser::new(&key, Width::Bits128).unwrap();
        assert_eq!(p.hash(&[&[0xcd; 50]]), "82558A389A443C0EA4CC819899F2083A");
        let whole = Pseudonymiser::new(&key, Width::Bits256).unwrap();
        assert_eq!(
            whole.hash(&[&[0xcd; 50]]),
            "82558A389A443C0EA4CC819899F2083A85F0FAA3E578F8077A2E3FF46729665B"
        );
    }

    #[test]
    fn rfc_4231_case_5_truncation_to_128_bits() {
        // RFC 4231 §4.6: key 0x0c × 20, "Test With Truncation", HMAC-SHA-256 truncated
        // to 128 bits — the scheme pseudonyms use.
        let p = Pseudonymiser::new(&[0x0c; 20], Width::Bits128).unwrap();
        assert_eq!(
            p.hash(&[b"Test With Truncation"]),
            "A3B6167473100EE06E0C796C2955552B"
        );
    }

    #[test]
    fn nhs_pseudonyms_are_stable_keyed_and_domain_separated() {
        let a = Pseudonymiser::new(b"DEMO-key-one-0123456789", Width::default()).unwrap();
        let b = Pseudonymiser::new(b"DEMO-key-two-0123456789", Width::default()).unwrap();
        let n = *b"9434765919";
        assert_eq!(a.nhs_number(&n), a.nhs_number(&n));
        assert_ne!(a.nhs_number(&n), b.nhs_number(&n));
        assert_eq!(a.nhs_number(&n).len(), 32);
        let whole = Pseudonymiser::new(b"DEMO-key-one-0123456789", Width::Bits256).unwrap();
        assert_eq!(whole.nhs_number(&n).len(), 64);
        assert!(whole.nhs_number(&n).starts_with(&a.nhs_number(&n)));
        assert_ne!(
            whole.provenance(),
            a.provenance(),
            "the width is part of provenance"
        );
        assert_ne!(a.scoped_identifier("902", "9434765919"), a.nhs_number(&n));
        assert_ne!(
            a.scoped_identifier("901", "X1"),
            a.scoped_identifier("902", "X1")
        );
        assert_ne!(a.fingerprint(), b.fingerprint());
        assert!(!format!("{a:?}").contains("DEMO"));
    }

    /// An upstream pseudonym is hashed as `PSEUDO:<scheme>:<pseudonym>`: pinned to the
    /// HMAC of that text, apart from an NHS number's, a council id's and another
    /// scheme's pseudonym of the same text.
    #[test]
    fn upstream_pseudonyms_are_hashed_in_a_domain_of_their_scheme() {
        let key: Vec<u8> = (1..=25).collect();
        let p = Pseudonymiser::new(&key, Width::Bits256).unwrap();
        let mut mac = HmacSha256::new_from_slice(&key).unwrap();
        mac.update(b"PSEUDO:ncdr:A541CAF13D");
        assert_eq!(
            p.upstream_pseudonym("ncdr", "A541CAF13D"),
            hex_upper(&mac.finalize().into_bytes())
        );
        let p = Pseudonymiser::new(&key, Width::default()).unwrap();
        let digits = *b"9434765919";
        let upstream = p.upstream_pseudonym("ncdr", "9434765919");
        assert_eq!(upstream.len(), 32);
        assert_ne!(upstream, p.nhs_number(&digits));
        assert_ne!(upstream, p.upstream_pseudonym("dscro", "9434765919"));
        assert_ne!(upstream, p.scoped_identifier("ncdr", "9434765919"));
        assert_eq!(upstream, p.upstream_pseudonym("ncdr", "9434765919"));
    }

    #[test]
    fn short_keys_are_refused() {
        assert!(Pseudonymiser::new(b"short", Width::default()).is_err());
    }
}
