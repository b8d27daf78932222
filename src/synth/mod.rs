//! `joinedup synth`: a synthetic ICB at any scale, in the real extract layouts.
//!
//! Writes SUS APC spells (UTF-8), ECDS attendances (UTF-8 with BOM, CRLF) and CLD as
//! councils submit it: one file per council and quarter (`cld_<council>_<yyyy-mm>.csv`,
//! Windows-1252, CRLF, `NULL` for blanks), each event in every submission of a quarter it
//! was active in and open (no end date or outcome) until the quarter it ended in, so a
//! run's "latest submission wins" rule has work to do; a `pipeline.toml` that reads them,
//! and `truth.json`: what was planted. The population is a closed cohort that ages as the
//! years go by (rates and rules go by a person's age on the day) and dies by age-dependent
//! mortality (in hospital when the day falls in a stay; nobody past 105). It has
//! age-dependent admission and A&E rates, an emergency/elective mix, length-of-stay
//! distributions, A&E arrivals by hour and weekday, 4- and 12-hour waits, discharge ready
//! dates, social-care requests from hospital with council-specific delays (Easton's home
//! care is the planted bottleneck) up to the data's end (a patient still waiting then is in
//! hospital with a ready date; the truth's delays are those of finished stays; long-term
//! support arranged at discharge lasts about three years, short-term one to six weeks),
//! long-term clients (services lasting about three years) and council-only clients,
//! everything a person has running ending at their death, and defects at a chosen rate —
//! only on rows that no planted fact depends on, so the truth stays exact. NHS numbers come
//! from the 999 test range. Every person has their own random stream, so a seed gives the
//! same bytes.

pub(crate) mod rng;
mod text;
mod world;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Result};
use rng::Rng;
use text::{dmy, hms, int, ymd, ymd_hm};
use world::*;

/// What to generate.
#[derive(Debug, Clone)]
pub struct SynthOptions {
    /// People in the population (at most 909,090: the valid numbers of the 999 range).
    pub people: usize,
    /// Years of activity: from 1 April 2024, or, for more than two, the years to 31 March
    /// 2026 ([`first_year`]).
    pub years: u32,
    /// Seed.
    pub seed: u64,
    /// Output folder.
    pub out: PathBuf,
    /// Share of background rows given one deliberate defect.
    pub defect_rate: f64,
    /// The joinedup checkout (for `schemas/` and `pipelines/mappings/` in the pipeline).
    pub repo: PathBuf,
    /// Write NHS numbers pseudonymised upstream under this scheme, as NCDR and DSCRO
    /// extracts arrive ([`upstream_pseudonym`]); the pipeline then reads a copy of the
    /// schemas whose contracts declare them `type = "pseudonym"`.
    pub pseudonymise: Option<String>,
}

/// A person's NHS number as the extracts write it, and mistyped (its check digit wrong:
/// the invalid-number defect).
struct Nhs {
    written: String,
    mistyped: String,
}

/// An upstream scheme's pseudonym of NHS number `number`: SHA-256 of the scheme, the
/// seed and the number, as 64 upper-case hex digits (Open Pseudonymiser's look).
fn upstream_pseudonym(scheme: &str, seed: u64, number: u64) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::new()
        .chain_update(scheme.as_bytes())
        .chain_update(seed.to_le_bytes())
        .chain_update(number.to_string().as_bytes())
        .finalize();
    digest.iter().map(|b| format!("{b:02X}")).collect()
}

/// What was planted, for tests and benchmarks.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Truth {
    /// Seed.
    pub seed: u64,
    /// People.
    pub people: usize,
    /// Years.
    pub years: u32,
    /// Share of background rows given a defect (`--defect-rate`): with the seed, people and
    /// years, what recreates the data.
    pub defect_rate: f64,
    /// Data rows written per source.
    pub rows: BTreeMap<String, u64>,
    /// Defects injected per source and reason code (rows the pipeline quarantines).
    pub defects: BTreeMap<String, BTreeMap<String, u64>>,
    /// Defects injected in values the contracts leave blank (`on_invalid = "blank"`: the
    /// row is accepted and the value counted as `value_left_blank`), per source, column
    /// and reason code.
    pub left_blank: BTreeMap<String, BTreeMap<String, BTreeMap<String, u64>>>,
    /// Accepted rows without an NHS number, per source (the manifest's
    /// `sources[].without_nhs_number`): hospital and A&E rows whose invalid number was
    /// left blank, council rows of clients the council holds no number for.
    pub without_nhs_number: BTreeMap<String, u64>,
    /// Spells with the A&E attendance that led to them.
    pub ed_linked_spells: u64,
    /// Spells whose discharge waited for a social-care service.
    pub social_care_linked_spells: u64,
    /// Per council and awaited service.
    pub delays: Vec<DelayTruth>,
}

/// Planted delays of one council and service.
#[derive(Debug, Clone, Serialize)]
pub struct DelayTruth {
    /// Council.
    pub la_code: String,
    /// Awaited service.
    pub awaited_service: String,
    /// Spells.
    pub spells: u64,
    /// Sum of delays.
    pub delayed_bed_days: i64,
    /// Median delay.
    pub median_delay_days: f64,
}

/// The first day of activity of a history of up to two years: 1 April 2024.
const START: (i32, u32, u32) = (2024, 4, 1);

/// The last year of activity ends by 31 March of this year: a longer history starts
/// earlier, so synthetic activity is never after today (a date after the run's date is
/// held back as `date_in_future`), and the same options write the same bytes whenever
/// they are run.
const LAST_YEAR_ENDS: i32 = 2026;

/// The year (from 1 April) a history of `years` starts in: 2024, or earlier when
/// `years` would run past [`LAST_YEAR_ENDS`].
fn first_year(years: u32) -> i32 {
    START.0.min(LAST_YEAR_ENDS - years as i32)
}
const APC_HEADER: &str = "Hospital Provider Spell Number,Organisation code  Sender of transaction,NHS Number,NHS Number Status Indicator Code,Sex,Start Date (Hospital Provider Spell),Start Time (Hospital Provider Spell),Admission Method (Hospital Provider Spell),Source of Admission (Hospital Provider Spell),Patient Classification,Treatment Function Code,Discharge Date (From Hospital Provider Spell),Discharge Time (Hospital Provider Spell),Discharge Method (Hospital Provider Spell),Discharge Destination (Hospital Provider Spell),Hospital Provider Spell Discharge Ready Date";
const ECDS_HEADER: &str = "EC_Ident,NHS_Number,Der_Provider_Code,Der_Provider_Site_Code,EC_Department_Type,Age_At_Arrival,Sex,EC_AttendanceCategory,Der_EC_Arrival_Date_Time,EC_Decision_To_Admit_Date,EC_Decision_To_Admit_Time,Der_EC_Departure_Date_Time,EC_Acuity_SNOMED_CT,EC_Discharge_Status_SNOMED_CT,Discharge_Destination_SNOMED_CT";
const CLD_HEADER: &str = "LA Code,LA Name,Reporting Period Start Date,Reporting Period End Date,NHS Number,LA Person Unique Identifier,First Name,Last Name,Date of Birth,Postcode,Gender,Client Type,Primary Support Reason,Event Type,Event Reference,Event Start Date,Event End Date,Event Outcome,Request: Route of Access,Service Type,Service Component,Delivery Mechanism";

fn check_digit(body9: u64) -> Option<u64> {
    let mut sum = 0;
    let mut v = body9;
    for w in 2..=10 {
        sum += (v % 10) * w;
        v /= 10;
    }
    match 11 - sum % 11 {
        11 => Some(0),
        10 => None,
        c => Some(c),
    }
}

/// Every valid NHS number of the 999 test range, shuffled by the seed.
fn nhs_numbers(seed: u64) -> Vec<u64> {
    let mut v: Vec<u64> = (0..1_000_000u64)
        .filter_map(|b| {
            let body = 999_000_000 + b;
            check_digit(body).map(|c| body * 10 + c)
        })
        .filter(|n| {
            let s = n.to_string();
            !s.bytes().all(|d| d == s.as_bytes()[0])
        })
        .collect();
    let mut r = Rng::new(seed, u64::MAX);
    for i in (1..v.len()).rev() {
        let j = (r.next() % (i as u64 + 1)) as usize;
        v.swap(i, j);
    }
    v
}

struct Out {
    apc: BufWriter<File>,
    ecds: BufWriter<File>,
    /// Per council, one file per quarter ([`quarters`]).
    cld: Vec<Vec<BufWriter<File>>>,
    line: Vec<u8>,
    truth: Truth,
    delays: BTreeMap<(usize, usize), Vec<i64>>,
    /// The reason a mistyped NHS number is refused for: `nhs_number_invalid`, or
    /// `nhs_number_in_text` where pseudonyms are written (ten digits in a pseudonym
    /// column).
    mistyped_reason: &'static str,
}

fn create(path: &Path) -> Result<BufWriter<File>> {
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d).map_err(|e| Error::io("creating", d, e))?;
    }
    Ok(BufWriter::with_capacity(
        1 << 20,
        File::create(path).map_err(|e| Error::io("creating", path, e))?,
    ))
}

impl Out {
    fn field(&mut self, s: &str) {
        self.line.extend_from_slice(s.as_bytes());
        self.line.push(b',');
    }
    fn end(&mut self, crlf: bool) {
        self.line.pop();
        if crlf {
            self.line.push(b'\r');
        }
        self.line.push(b'\n');
    }
    fn defect(&mut self, source: &str, reason: &str) {
        *self
            .truth
            .defects
            .entry(source.into())
            .or_default()
            .entry(reason.into())
            .or_default() += 1;
    }
    fn without_nhs_number(&mut self, source: &str) {
        *self
            .truth
            .without_nhs_number
            .entry(source.into())
            .or_default() += 1;
    }
    fn left_blank(&mut self, source: &str, column: &str, reason: &str) {
        *self
            .truth
            .left_blank
            .entry(source.into())
            .or_default()
            .entry(column.into())
            .or_default()
            .entry(reason.into())
            .or_default() += 1;
    }
    fn row(&mut self, source: &str) {
        *self.truth.rows.entry(source.into()).or_default() += 1;
    }
}

/// The NHS number with its check digit changed: still 10 digits, never valid.
fn wrong_check_digit(nhs: &str) -> String {
    let mut bad = nhs.to_string();
    let last = bad.pop().and_then(|c| c.to_digit(10)).unwrap_or(0);
    bad.push(char::from_digit((last + 1) % 10, 10).unwrap_or('0'));
    bad
}

/// The mean length of a long-term support service, in days.
const LONG_TERM_MEAN_DAYS: f64 = 3.0 * 365.25;

/// The share of adults aged 65 and over in long-term support from their council.
const KNOWN_SHARE_65_AND_OVER: f64 = 0.12;

/// The share of adults under 65 in long-term support from their council.
const KNOWN_SHARE_UNDER_65: f64 = 0.03;

/// Days after a stay's discharge that a community referral's service keeps clear of (a
/// spell's care window, 90 days by default, with room to spare).
const CLEAR_OF_A_STAY_DAYS: i64 = 131;

/// Mixed into the seed for the defect streams.
const DEFECT_SEED: u64 = 0x5DEE_CE66_D1CE_D0E5;

/// Whole years from the day `born` to the day `on` (both days since 1970).
fn age_on(born: i64, on: i64) -> i64 {
    let (y0, m0, d0) = crate::ingest::dates::civil_from_days(born);
    let (y1, m1, d1) = crate::ingest::dates::civil_from_days(on);
    (y1 - y0) - i64::from((m1, d1) < (m0, d0))
}

/// The age band of `age` ([`AGE_BANDS`]; past the last band's highest age, the last).
fn age_band(age: i64) -> &'static (f64, i64, i64, f64, f64) {
    AGE_BANDS
        .iter()
        .find(|b| age <= b.2)
        .unwrap_or(&AGE_BANDS[AGE_BANDS.len() - 1])
}

/// The day of death of someone born on the day `born`, alive on the day `start`, for a
/// uniform draw `u` in [0, 1): Gompertz mortality (a yearly hazard of
/// [`MORTALITY`]`.0 · e^(`[`MORTALITY`]`.1 · age)`, England's rates from middle age on),
/// inverted, and nobody older than [`MAX_AGE`].
fn death_day(born: i64, start: i64, u: f64) -> i64 {
    let (a, b) = MORTALITY;
    let age = (start - born) as f64 / 365.25;
    // Survival from `age` to `x` is exp(-(a/b)(e^(bx) - e^(b·age))); solve for S = 1 - u.
    let x = ((b * age).exp() - b * (1.0 - u).ln() / a).ln() / b;
    let x = x.min(MAX_AGE as f64 + 1.0);
    (born + (x * 365.25) as i64 - 1).max(start)
}

/// Which defect a background row gets, if any.
fn draw_defect(r: &mut Rng, rate: f64, kinds: usize) -> Option<usize> {
    r.chance(rate)
        .then(|| r.range(0, kinds as i64 - 1) as usize)
}

/// The valid NHS numbers of the 999 test range ([`nhs_numbers`]): the most `--people`.
pub const MAX_PEOPLE: usize = 909_090;

/// Refuses options that would write nothing useful, before anything is written or an
/// earlier synth's extracts are removed: an empty population or one larger than the
/// test range's numbers, a defect rate that is not a share, an output folder that is a file, or a
/// `repo` without the schemas the written pipeline must point at.
fn check_options(opts: &SynthOptions) -> Result<()> {
    let mut wrong = Vec::new();
    if opts.people == 0 {
        wrong.push("--people must be at least 1".to_string());
    } else if opts.people > MAX_PEOPLE {
        wrong.push(format!(
            "--people {} is more than the {MAX_PEOPLE} valid NHS numbers of the 999 test range; use more --years instead",
            opts.people
        ));
    }
    if !(1..=MAX_YEARS).contains(&opts.years) {
        wrong.push(format!("--years must be 1 to {MAX_YEARS}"));
    }
    if !(0.0..=1.0).contains(&opts.defect_rate) {
        wrong.push(format!(
            "--defect-rate must be a share from 0 to 1, not {}",
            opts.defect_rate
        ));
    }
    if opts.out.exists() && !opts.out.is_dir() {
        wrong.push(format!(
            "--out {}: is a file, not a folder",
            opts.out.display()
        ));
    } else if !is_empty_or_synthetic(&opts.out) {
        // Files already there would be read by the pipeline written beside them, rows
        // the truth knows nothing of.
        wrong.push(format!(
            "--out {}: holds files synth did not write; choose a new or empty folder",
            opts.out.display()
        ));
    }
    if !opts.repo.join("schemas").is_dir() || !opts.repo.join("pipelines/mappings").is_dir() {
        wrong.push(format!(
            "--repo {}: has no schemas/ and pipelines/mappings/ (the pipeline written points at them); run from a joinedup checkout or pass --repo",
            opts.repo.display()
        ));
    }
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(Error::Usage(wrong.join("\n")))
    }
}

/// The most `--years` of activity (from April 2024, or ending by March 2026).
pub const MAX_YEARS: u32 = 50;

/// What synth writes into `--out`.
const WRITTEN: [&str; 5] = ["apc", "ecds", "cld", "pipeline.toml", "truth.json"];

/// Whether `out` is missing, empty, or an earlier synth's folder (its `truth.json` and
/// nothing synth does not write).
fn is_empty_or_synthetic(out: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(out) else {
        return true;
    };
    let names: Vec<String> = entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.is_empty()
        || (names.iter().any(|n| n == "truth.json")
            && names.iter().all(|n| WRITTEN.contains(&n.as_str())))
}

/// Generates the extracts; returns the truth (also written to `truth.json`).
pub fn generate(opts: &SynthOptions) -> Result<Truth> {
    check_options(opts)?;
    // An earlier synth's extracts go first: one with other --years or councils would
    // leave files the new truth does not describe.
    for sub in ["apc", "ecds", "cld"] {
        let dir = opts.out.join(sub);
        if dir.is_dir() {
            std::fs::remove_dir_all(&dir).map_err(|e| Error::io("replacing", &dir, e))?;
        }
    }
    let numbers = nhs_numbers(opts.seed);
    debug_assert_eq!(numbers.len(), MAX_PEOPLE);
    let councils = councils();
    let first = first_year(opts.years);
    let start = i64::from(crate::ingest::dates::days_from_civil(
        first, START.1, START.2,
    ));
    let end = i64::from(crate::ingest::dates::days_from_civil(
        first + opts.years as i32,
        START.1,
        START.2,
    ));
    let quarters = quarters(start, end);
    let data = &opts.out;
    let mut o = Out {
        apc: create(&data.join("apc/apc_spells.csv"))?,
        ecds: create(&data.join("ecds/ecds_attendances.csv"))?,
        cld: councils
            .iter()
            .map(|c| {
                quarters
                    .iter()
                    .map(|&(q, _)| {
                        let (y, m, _) = crate::ingest::dates::civil_from_days(q);
                        create(&data.join(format!("cld/cld_{}_{y:04}-{m:02}.csv", c.code)))
                    })
                    .collect::<Result<Vec<_>>>()
            })
            .collect::<Result<_>>()?,
        line: Vec::with_capacity(512),
        mistyped_reason: if opts.pseudonymise.is_some() {
            "nhs_number_in_text"
        } else {
            "nhs_number_invalid"
        },
        truth: Truth {
            seed: opts.seed,
            people: opts.people,
            years: opts.years,
            defect_rate: opts.defect_rate,
            // Every source, written to or not (a tiny population may give one no rows).
            rows: ["apc", "cld", "ecds"]
                .into_iter()
                .map(|s| (s.to_string(), 0))
                .collect(),
            ..Truth::default()
        },
        delays: BTreeMap::new(),
    };
    let io = |p: &str, e| Error::io("writing", data.join(p), e);
    writeln!(o.apc, "{APC_HEADER}").map_err(|e| io("apc", e))?;
    o.ecds
        .write_all(b"\xEF\xBB\xBF")
        .map_err(|e| io("ecds", e))?;
    write!(o.ecds, "{ECDS_HEADER}\r\n").map_err(|e| io("ecds", e))?;
    for w in o.cld.iter_mut().flatten() {
        write!(w, "{CLD_HEADER}\r\n").map_err(|e| io("cld", e))?;
    }
    let (mut spell_seq, mut ed_seq, mut event_seq) = (0u64, 0u64, 0u64);
    let band_weights: Vec<f64> = AGE_BANDS.iter().map(|b| b.0).collect();
    let hour_weights = HOUR_WEIGHTS.to_vec();
    let acuity_weights: Vec<f64> = ACUITY.iter().map(|a| a.1).collect();
    // The first day of each year of activity (from 1 April), and the data's end.
    let year_starts: Vec<i64> = (0..=opts.years)
        .map(|y| {
            i64::from(crate::ingest::dates::days_from_civil(
                first + y as i32,
                START.1,
                START.2,
            ))
        })
        .collect();

    for (p, number) in numbers.iter().take(opts.people).enumerate() {
        let mut r = Rng::new(opts.seed, p as u64);
        // Defects are drawn from a stream of their own, so the population (every draw
        // from `r`) is the same at any --defect-rate.
        let mut d = Rng::new(opts.seed ^ DEFECT_SEED, p as u64);
        let nhs = Nhs {
            written: match &opts.pseudonymise {
                Some(scheme) => upstream_pseudonym(scheme, opts.seed, *number),
                None => number.to_string(),
            },
            mistyped: wrong_check_digit(&number.to_string()),
        };
        let council = r.range(0, councils.len() as i64 - 1) as usize;
        let band = AGE_BANDS[r.weighted(&band_weights)];
        // Age on the first day; people age as the years go by: what happens to them goes
        // by their age on the day (`age_on`).
        let age_at_start = r.range(band.1, band.2);
        let born = start - age_at_start * 365 - r.range(0, 364);
        // The day of death, by age-dependent mortality: nothing happens to the person
        // from that day on (a death during a stay is a death in hospital).
        let mut death = death_day(born, start, r.unit());
        let sex = if r.chance(0.5) { "1" } else { "2" };
        let provider = PROVIDERS[if council == 2 {
            usize::from(r.chance(0.2))
        } else if council == 0 {
            usize::from(r.chance(0.8))
        } else {
            r.range(0, 1) as usize
        }];
        let la_id = format!("{}{:07}", councils[council].id_prefix, p);
        // Hospital stays, one after another.
        let mut busy: Vec<(i64, i64)> = Vec::new();
        // Each stay's admission and discharge days (the end of the data for an open one).
        let mut stays: Vec<(i64, i64)> = Vec::new();
        // The minute the person's latest stay ended (the midnight after its discharge day):
        // no A&E attendance of theirs starts before it.
        let mut last_out = i64::MIN;
        let mut cld_rows: Vec<CldEvent> = Vec::new();
        let mut next_free = start;
        // Admissions, year by year at the rate of the person's age that year.
        let mut admissions: Vec<i64> = Vec::new();
        for y in year_starts.windows(2) {
            let rate = age_band(age_on(born, y[0])).3;
            admissions.extend((0..r.poisson(rate)).map(|_| y[0] + r.range(0, y[1] - y[0] - 1)));
        }
        admissions.sort_unstable();
        let mut had_social = false;
        // A social-care spell must be clear of the person's earlier spells' windows, so
        // its service cannot be mistaken for one they waited for.
        let mut last_ready: Option<i64> = None;
        for candidate in admissions {
            let mut adm = candidate.max(next_free);
            let age = age_on(born, adm);
            // About 43 % of spells are emergencies (more among older people), and most
            // planned care is a day case, on a weekday.
            let emergency = r.chance(if age >= 65 { 0.55 } else { 0.3 });
            if !emergency {
                // A weekend day moves to a weekday of the next week.
                adm += match (adm + 3).rem_euclid(7) {
                    5 => 2 + r.range(0, 4),
                    6 => 1 + r.range(0, 4),
                    _ => 0,
                };
            }
            if adm >= end || adm >= death {
                break;
            }
            spell_seq += 1;
            let via_ae = emergency && r.chance(0.7);
            let day_case = !emergency && r.chance(0.7);
            // A third of emergency stays end the day they began (same-day emergency care).
            let same_day = emergency && r.chance(0.3);
            let medical = if day_case || same_day {
                0
            } else if emergency {
                (r.normal((if age >= 65 { 6.0f64 } else { 3.0 }).ln(), 0.8)
                    .exp()
                    .round() as i64)
                    .clamp(1, 120)
            } else {
                1 + i64::from(r.poisson(2.0))
            };
            let clear_of_earlier = last_ready.is_none_or(|lr| adm > lr + 130);
            let social = emergency
                && age >= 65
                && !same_day
                && !day_case
                && !had_social
                && clear_of_earlier
                && r.chance(0.22)
                && adm + medical < end;
            let ready = adm + medical;
            let (service, delay) = if social {
                let s = r.weighted(&councils[council].services.map(|x| x.0));
                let (_, lo, hi) = councils[council].services[s];
                (Some(s), r.range(lo, hi))
            } else if medical >= 2 && r.chance(0.25) {
                (None, r.range(1, 2))
            } else {
                (None, 0)
            };
            let mut discharge = ready + delay;
            last_ready = Some(ready);
            let mut died = emergency && age >= 80 && !social && r.chance(0.03);
            if death <= discharge && death < end {
                if social {
                    // Someone waiting for care lives until it starts (the planted delay
                    // stays whole), and dies in the weeks after.
                    death = discharge + 1 + r.range(0, 60);
                } else {
                    // The person's death falls during the stay: they die in hospital.
                    died = true;
                    discharge = death;
                }
            }
            let open = discharge >= end;
            // Time in A&E before admission: a median of five hours, a third within four.
            let ae_wait = if via_ae {
                (r.normal(300f64.ln(), 0.6).exp().round() as i64).clamp(60, 20 * 60)
            } else {
                0
            };
            let minute = if via_ae {
                // Arrivals follow A&E's hours; the admission comes `ae_wait` later.
                let arrived = r.weighted(&hour_weights) as i64 * 60 + r.range(0, 59);
                (arrived + ae_wait).rem_euclid(1440)
            } else if emergency {
                r.range(8 * 60, 22 * 60)
            } else {
                r.range(7 * 60, 12 * 60)
            };
            let adm_abs = adm * 1440 + minute;
            // A person is in one place at a time: an A&E wait that would start before their
            // previous stay ended makes this an emergency admission not via A&E (it was
            // linked to a still-running attendance, and the truth disagreed). So does one
            // that would start before the data's first day (an attendance the day before
            // made a stray month before the window).
            let via_ae = via_ae && adm_abs - ae_wait >= last_out.max(start * 1440);
            // The attendance that led to an admission via A&E.
            if via_ae {
                ed_seq += 1;
                let arrival = adm_abs - ae_wait;
                let departure = adm_abs - r.range(0, 60);
                let dta = arrival + (departure - arrival) * 2 / 3;
                write_ed(
                    &mut o,
                    &mut r,
                    ed_seq,
                    &nhs,
                    provider,
                    (born, sex),
                    arrival,
                    Some(dta),
                    departure,
                    "306706006",
                    &acuity_weights,
                    None,
                );
                o.truth.ed_linked_spells += 1;
            }
            let method = if via_ae {
                "21"
            } else if emergency {
                EMERGENCY_OTHER[r.range(0, 4) as usize]
            } else {
                ELECTIVE[r.range(0, 2) as usize]
            };
            let destination = match service {
                Some(2) | Some(3) => {
                    if r.chance(0.8) {
                        "85"
                    } else {
                        "54"
                    }
                }
                _ if died => "79",
                _ => "19",
            };
            // Defects only on stays nothing else depends on.
            let defect = if via_ae || social || open {
                None
            } else {
                draw_defect(&mut d, opts.defect_rate, 5)
            };
            write_spell(
                &mut o,
                &mut r,
                spell_seq,
                provider,
                &nhs,
                sex,
                age,
                adm,
                minute,
                method,
                day_case,
                discharge,
                destination,
                died,
                open,
                Some(ready).filter(|&day| day < end),
                defect,
            );
            busy.push((
                adm_abs - 48 * 60,
                (if open { end } else { discharge } + 1) * 1440,
            ));
            stays.push((adm, if open { end } else { discharge }));
            last_out = (if open { end } else { discharge } + 1) * 1440;
            if let Some(s) = service {
                had_social = true;
                // Ready before the data ends but still waiting at its end: the request
                // and assessment are in the data, the service is not, and the stay is
                // open (no delay to plant).
                if !open {
                    o.truth.social_care_linked_spells += 1;
                    o.delays.entry((council, s)).or_default().push(delay);
                }
                let request = r.range(adm, ready);
                let assessment = r.range(request, ready);
                let (stype, component) = SERVICE_ROWS[s];
                cld_rows.push(CldEvent::request(request, "Discharge from Hospital"));
                cld_rows.push(CldEvent::simple(
                    "Assessment",
                    assessment,
                    None,
                    "Progress to Support Planning / Services",
                ));
                // Short-term support lasts one to six weeks; long-term support (home
                // care, a care home) ends too, like a known client's: about three years
                // on average (a move, a change of need), and at death (below).
                let ends = if s == 0 || s == 2 {
                    discharge + r.range(7, 42)
                } else {
                    discharge + 1 + (-(1.0 - r.unit()).ln() * LONG_TERM_MEAN_DAYS) as i64
                };
                cld_rows.push(CldEvent::service(discharge, Some(ends), stype, component));
                next_free = ready + 131;
            } else {
                next_free = if open { end } else { discharge + 1 };
            }
            if died {
                death = discharge;
                break;
            }
        }
        // A&E attendances that did not lead to an admission, year by year at the rate of
        // the person's age that year.
        let attendances = year_starts.windows(2).flat_map(|y| {
            let n = r.poisson(age_band(age_on(born, y[0])).4);
            std::iter::repeat_n((y[0], y[1]), n as usize)
        });
        for (from, to) in attendances.collect::<Vec<_>>() {
            let day = loop {
                let d = from + r.range(0, to - from - 1);
                let weekday = (d + 3).rem_euclid(7) as usize; // 1970-01-01 was a Thursday
                if r.chance(WEEKDAY_WEIGHTS[weekday] / 1.18) {
                    break d;
                }
            };
            let arrival = day * 1440 + r.weighted(&hour_weights) as i64 * 60 + r.range(0, 59);
            let duration = (r.normal(170f64.ln(), 0.55).exp().round() as i64).clamp(10, 48 * 60);
            // Clear of every stay (and the 48 hours before it) and of the person's other
            // attendances, from arrival to departure: one place at a time.
            if busy
                .iter()
                .any(|(a, b)| arrival < *b && arrival + duration > *a)
                || arrival + duration >= death * 1440
            {
                continue;
            }
            busy.push((arrival, arrival + duration));
            ed_seq += 1;
            let defect = draw_defect(&mut d, opts.defect_rate, 4);
            let destination = if r.chance(0.01) {
                "19712007"
            } else {
                "306689006"
            };
            write_ed(
                &mut o,
                &mut r,
                ed_seq,
                &nhs,
                provider,
                (born, sex),
                arrival,
                None,
                arrival + duration,
                destination,
                &acuity_weights,
                defect,
            );
        }
        // Long-term clients known to the council at the start (some by council id only).
        let known = age_at_start >= 18
            && r.chance(if age_at_start >= 65 {
                KNOWN_SHARE_65_AND_OVER
            } else {
                KNOWN_SHARE_UNDER_65
            });
        // Someone discharged into a package was known by NHS number (the planted links
        // must be linkable: truth counts them).
        let council_only = known && !had_social && r.chance(0.04);
        // The last day of the long-term service the person has (none yet: before the data).
        let mut client_until = i64::MIN;
        if known {
            let began = start - r.range(30, 3000);
            let (stype, component) = if r.chance(0.7) {
                SERVICE_ROWS[1]
            } else {
                SERVICE_ROWS[3]
            };
            // Long-term support ends (a move, a change of need, a death outside
            // hospital): about three years on average, counted from the data's start for
            // a service already running then (the length left is memoryless), so every
            // known client is in the data. Open in the submissions before the quarter it
            // ends in; a death ends it (below).
            let lasts = (-(1.0 - r.unit()).ln() * LONG_TERM_MEAN_DAYS) as i64;
            let ends = Some(began.max(start) + 1 + lasts);
            client_until = began.max(start) + 1 + lasts;
            let mut ev = CldEvent::service(began, ends, stype, component);
            ev.background = true;
            cld_rows.push(ev);
            // A yearly review while the service lasts.
            for y in 0..opts.years {
                let day = start + i64::from(y) * 365 + r.range(0, 364);
                if ends.is_some_and(|e| day > e) {
                    continue;
                }
                let mut review = CldEvent::simple("Review", day, None, "No change in package");
                review.background = true;
                cld_rows.push(review);
            }
            if r.chance(0.3) {
                let mut req =
                    CldEvent::request(start + r.range(0, end - start - 1), "Community/Other route");
                req.background = true;
                cld_rows.push(req);
            }
        }
        // Long-term clients who come to the council during the data (a community
        // referral, not a hospital discharge), at the rate that keeps the share of adults
        // in long-term support where it is at the start: a share p in services lasting D
        // years on average needs p / ((1 - p) D) new clients a year among the rest.
        // Without them the clients known at the start were never replaced as their
        // services ended, and the councils' data thinned out year by year.
        for y in year_starts.windows(2) {
            let age = age_on(born, y[0]);
            let share = match age {
                ..18 => continue,
                18..65 => KNOWN_SHARE_UNDER_65,
                _ => KNOWN_SHARE_65_AND_OVER,
            };
            let rate = share / ((1.0 - share) * LONG_TERM_MEAN_DAYS / 365.25);
            if !r.chance(rate) {
                continue;
            }
            let request = y[0] + r.range(0, y[1] - y[0] - 1);
            let began = request + r.range(14, 60);
            let lasts = (-(1.0 - r.unit()).ln() * LONG_TERM_MEAN_DAYS) as i64;
            let assessment = r.range(request, began);
            let (stype, component) = if r.chance(0.7) {
                SERVICE_ROWS[1]
            } else {
                SERVICE_ROWS[3]
            };
            // Not while a service of theirs runs, and never near a stay, where a spell's
            // care window could take the service for the one it waited for (only those
            // planted are in the truth).
            let near_a_stay = stays.iter().any(|&(admitted, discharged)| {
                request <= discharged + CLEAR_OF_A_STAY_DAYS && began >= admitted
            });
            if request <= client_until || began >= end || near_a_stay {
                continue;
            }
            client_until = began + 1 + lasts;
            let mut events = vec![
                CldEvent::request(request, "Community/Other route"),
                CldEvent::simple(
                    "Assessment",
                    assessment,
                    None,
                    "Progress to Support Planning / Services",
                ),
                CldEvent::service(began, Some(client_until), stype, component),
            ];
            // A yearly review while the service lasts.
            let mut review = began + 365;
            while review < client_until.min(end) {
                events.push(CldEvent::simple(
                    "Review",
                    review,
                    None,
                    "No change in package",
                ));
                review += 365;
            }
            for mut ev in events {
                ev.background = true;
                cld_rows.push(ev);
            }
        }
        let mut details = Vec::new();
        for name in [
            // By the person's sex (SUS: 1 male, 2 female).
            if sex == "1" {
                FIRST_MALE[r.range(0, FIRST_MALE.len() as i64 - 1) as usize]
            } else {
                FIRST_FEMALE[r.range(0, FIRST_FEMALE.len() as i64 - 1) as usize]
            },
            LAST[r.range(0, LAST.len() as i64 - 1) as usize],
        ] {
            details.extend_from_slice(&encoding_rs::WINDOWS_1252.encode(name).0);
            details.push(b',');
        }
        dmy(&mut details, born);
        details.extend_from_slice(
            format!(
                ",ZZ99 {}{}{},",
                r.range(1, 9),
                (b'A' + r.range(0, 25) as u8) as char,
                (b'A' + r.range(0, 25) as u8) as char
            )
            .as_bytes(),
        );
        let person = CldPerson {
            council: &councils[council],
            nhs: if council_only { None } else { Some(&nhs) },
            la_id: &la_id,
            sex,
            support_reason: SUPPORT_REASONS[r.range(0, 3) as usize],
            details,
        };
        // Nothing starts after a death (the background events were drawn regardless, so the
        // stream does not depend on it), and whatever is running then ends with it.
        if death < end {
            cld_rows.retain(|ev| ev.start < death);
            for ev in &mut cld_rows {
                if ev.end.is_none_or(|e| e > death) {
                    ev.end = Some(death);
                    ev.outcome = Some("NFA - Deceased");
                }
            }
        }
        for ev in cld_rows {
            event_seq += 1;
            // In every quarterly submission the event was active in: open (no end date,
            // no outcome) in those before the quarter it ended in.
            for (k, &(q_start, q_end)) in quarters.iter().enumerate() {
                if ev.start < q_end && ev.end.is_none_or(|e| e >= q_start) {
                    // A defect is drawn for each submitted row, not once for the event:
                    // one drawn for a service open for years was in each of its dozen
                    // copies, and a small population's CLD could be quarantined past the
                    // threshold by one unlucky event.
                    let defect = if ev.background {
                        draw_defect(
                            &mut d,
                            opts.defect_rate,
                            if person.nhs.is_some() { 4 } else { 3 },
                        )
                    } else {
                        None
                    };
                    let ended = ev.end.is_some_and(|e| e < q_end);
                    let copy = CldEvent {
                        end: ev.end.filter(|_| ended),
                        outcome: ev.outcome.filter(|_| ended),
                        ..ev
                    };
                    let q = (council, k, q_start, q_end);
                    write_cld(&mut o, q, &person, &copy, event_seq, defect);
                }
            }
        }
    }

    // Flush and record the truth.
    o.apc.flush().map_err(|e| io("apc", e))?;
    o.ecds.flush().map_err(|e| io("ecds", e))?;
    for w in o.cld.iter_mut().flatten() {
        w.flush().map_err(|e| io("cld", e))?;
    }
    let mut truth = o.truth;
    for ((c, s), mut v) in o.delays {
        v.sort_unstable();
        let n = v.len();
        let median = if n % 2 == 1 {
            v[n / 2] as f64
        } else {
            (v[n / 2 - 1] + v[n / 2]) as f64 / 2.0
        };
        truth.delays.push(DelayTruth {
            la_code: councils[c].code.to_string(),
            awaited_service: SERVICES[s].to_string(),
            spells: n as u64,
            delayed_bed_days: v.iter().sum(),
            median_delay_days: median,
        });
    }
    let json = serde_json::to_vec_pretty(&truth).map_err(|e| Error::Internal(e.to_string()))?;
    std::fs::write(data.join("truth.json"), json).map_err(|e| io("truth.json", e))?;
    write_pipeline(opts, &truth)?;
    Ok(truth)
}

/// The quarters from `start` (the first of a month) to `end`, as (first day, day after the
/// last): councils submit CLD quarterly, each submission covering one quarter.
fn quarters(start: i64, end: i64) -> Vec<(i64, i64)> {
    use crate::ingest::dates::{civil_from_days, days_from_civil};
    let mut out = Vec::new();
    let mut q = start;
    while q < end {
        let (y, m, _) = civil_from_days(q);
        let (y, m) = if m + 3 > 12 {
            (y + 1, m - 9)
        } else {
            (y, m + 3)
        };
        let next = i64::from(days_from_civil(y as i32, m, 1)).min(end);
        out.push((q, next));
        q = next;
    }
    out
}

struct CldPerson<'a> {
    council: &'a Council,
    nhs: Option<&'a Nhs>,
    la_id: &'a str,
    sex: &'a str,
    /// The person's primary support reason, the same in every submission.
    support_reason: &'static str,
    /// First name, last name (Windows-1252 bytes), date of birth and postcode, as the
    /// council holds them: the same on every row.
    details: Vec<u8>,
}

struct CldEvent {
    kind: &'static str,
    start: i64,
    end: Option<i64>,
    outcome: Option<&'static str>,
    route: Option<&'static str>,
    service: Option<(&'static str, &'static str)>,
    background: bool,
}

impl CldEvent {
    fn request(day: i64, route: &'static str) -> Self {
        CldEvent {
            kind: "Request",
            start: day,
            end: Some(day),
            outcome: Some("Progress to Assessment"),
            route: Some(route),
            service: None,
            background: false,
        }
    }
    fn simple(kind: &'static str, day: i64, end: Option<i64>, outcome: &'static str) -> Self {
        CldEvent {
            kind,
            start: day,
            end: end.or(Some(day)),
            outcome: Some(outcome),
            route: None,
            service: None,
            background: false,
        }
    }
    fn service(day: i64, end: Option<i64>, stype: &'static str, component: &'static str) -> Self {
        CldEvent {
            kind: "Service",
            start: day,
            end,
            outcome: end.map(|_| "Service ended as planned"),
            route: None,
            service: Some((stype, component)),
            background: false,
        }
    }
}

/// A spell's treatment function, as the patient's sex (`1` male, `2` female) and age
/// allow: children are mostly under paediatrics, gynaecology is for women and girls,
/// geriatric medicine for people aged 65 or more.
fn treatment_function(r: &mut Rng, sex: &str, age: i64) -> &'static str {
    if age < 16 && r.chance(0.7) {
        return PAEDIATRICS;
    }
    if sex == "2" && age >= 12 && r.chance(0.1) {
        return GYNAECOLOGY;
    }
    if age >= 65 && r.chance(0.25) {
        return GERIATRIC;
    }
    TREATMENT[r.range(0, TREATMENT.len() as i64 - 1) as usize]
}

#[allow(clippy::too_many_arguments)]
fn write_spell(
    o: &mut Out,
    r: &mut Rng,
    seq: u64,
    provider: &str,
    nhs: &Nhs,
    sex: &str,
    age: i64,
    adm: i64,
    minute: i64,
    method: &str,
    day_case: bool,
    discharge: i64,
    destination: &str,
    died: bool,
    open: bool,
    ready: Option<i64>,
    defect: Option<usize>,
) {
    o.line.clear();
    let mut adm_text = Vec::new();
    dmy(&mut adm_text, adm);
    let spell_id = format!("{provider}{seq:08}");
    match defect {
        Some(0) => {
            // nhs_number_invalid: the wrong check digit.
            let bad = nhs.mistyped.clone();
            let reason = o.mistyped_reason;
            o.left_blank("apc", "nhs_number", reason);
            o.without_nhs_number("apc");
            o.field(&spell_id);
            o.field(provider);
            o.field(&bad);
        }
        Some(4) => {
            o.defect("apc", "missing_required");
            o.field("");
            o.field(provider);
            o.field(&nhs.written);
        }
        _ => {
            o.field(&spell_id);
            o.field(provider);
            o.field(&nhs.written);
        }
    }
    o.field("01");
    o.field(sex);
    if defect == Some(1) {
        o.defect("apc", "invalid_date");
        let (y, _, _) = crate::ingest::dates::civil_from_days(adm);
        o.field(&format!("31/02/{y}"));
    } else {
        o.line.extend_from_slice(&adm_text);
        o.line.push(b',');
    }
    hms(&mut o.line, minute);
    o.line.push(b',');
    if defect == Some(2) {
        o.defect("apc", "unknown_code");
        o.field("X9");
    } else {
        o.field(method);
    }
    // Source of admission: an emergency transfer from another provider (2B) comes from
    // another hospital's ward (51); anyone else mostly from home (19).
    o.field(if method == "2B" || !r.chance(0.95) {
        "51"
    } else {
        "19"
    });
    o.field(if day_case { "2" } else { "1" });
    o.field(treatment_function(r, sex, age));
    if open {
        // Still in hospital at the extract: no discharge yet, but a ready date once the
        // patient was ready (a delayed discharge in progress).
        o.field("");
        o.field("");
        o.field("8");
        o.field("98");
        if let Some(ready) = ready {
            dmy(&mut o.line, ready);
        }
        o.line.push(b',');
    } else {
        let dis = if defect == Some(3) {
            o.defect("apc", "date_order");
            adm - 1
        } else {
            discharge
        };
        dmy(&mut o.line, dis);
        o.line.push(b',');
        // A stay ending the day it began ends one to six hours after the admission (by
        // midnight), so never before it, nor before the A&E departure that preceded it;
        // a longer one ends in the day.
        let out = if discharge == adm {
            r.range((minute + 60).min(1439), (minute + 6 * 60).min(1439))
        } else {
            r.range(10 * 60, 18 * 60)
        };
        hms(&mut o.line, out);
        o.line.push(b',');
        o.field(if died { "4" } else { "1" });
        o.field(destination);
        if let Some(ready) = ready.filter(|_| !died && defect != Some(3)) {
            dmy(&mut o.line, ready);
        }
        o.line.push(b',');
    }
    o.end(false);
    o.row("apc");
    let _ = o.apc.write_all(&o.line);
}

#[allow(clippy::too_many_arguments)]
fn write_ed(
    o: &mut Out,
    r: &mut Rng,
    seq: u64,
    nhs: &Nhs,
    provider: &str,
    (born, sex): (i64, &str),
    arrival: i64,
    dta: Option<i64>,
    departure: i64,
    destination: &str,
    acuity_weights: &[f64],
    defect: Option<usize>,
) {
    o.line.clear();
    int(&mut o.line, 500_000_000 + seq);
    o.line.push(b',');
    if defect == Some(0) {
        let reason = o.mistyped_reason;
        o.left_blank("ecds", "nhs_number", reason);
        o.without_nhs_number("ecds");
        let bad = nhs.mistyped.clone();
        o.field(&bad);
    } else {
        o.field(&nhs.written);
    }
    o.field(provider);
    o.field(&format!("{provider}01"));
    o.field("01");
    int(&mut o.line, age_on(born, arrival.div_euclid(1440)) as u64);
    o.line.push(b',');
    o.field(sex);
    o.field("1");
    if defect == Some(1) {
        o.defect("ecds", "invalid_date");
        let (y, m, _) = crate::ingest::dates::civil_from_days(arrival.div_euclid(1440));
        o.field(&format!("{y:04}-{m:02}-32 10:00"));
    } else {
        ymd_hm(&mut o.line, arrival);
        o.line.push(b',');
    }
    match dta {
        Some(t) => {
            ymd(&mut o.line, t.div_euclid(1440));
            o.line.push(b',');
            hms(&mut o.line, t.rem_euclid(1440));
            o.line.push(b',');
        }
        None => o.line.extend_from_slice(b",,"),
    }
    let dep = if defect == Some(3) {
        o.defect("ecds", "date_order");
        arrival - 30
    } else {
        departure
    };
    ymd_hm(&mut o.line, dep);
    o.line.push(b',');
    // Drawn whether or not the row gets a defect, so defects do not move the stream.
    let acuity = ACUITY[r.weighted(acuity_weights)].0;
    if defect == Some(2) {
        o.defect("ecds", "unknown_code");
        o.field("999999");
    } else {
        o.field(acuity);
    }
    // Left before treatment was complete: about 4 % of those not admitted.
    o.field(if dta.is_some() || r.chance(0.96) {
        "182992009"
    } else {
        "1066321000000107"
    });
    o.field(destination);
    o.end(true);
    o.row("ecds");
    let _ = o.ecds.write_all(&o.line);
}

/// One row of a council's quarterly submission: `(council, quarter, first day, day after
/// the last)`.
fn write_cld(
    o: &mut Out,
    (council, quarter, q_start, q_end): (usize, usize, i64, i64),
    p: &CldPerson<'_>,
    ev: &CldEvent,
    seq: u64,
    defect: Option<usize>,
) {
    o.line.clear();
    o.field(p.council.code);
    o.field(p.council.name);
    dmy(&mut o.line, q_start);
    o.line.push(b',');
    dmy(&mut o.line, q_end - 1);
    o.line.push(b',');
    // Defect kinds: 0 invalid date, 1 unknown event type, 2 missing LA id, 3 bad NHS number.
    match (p.nhs, defect) {
        (Some(n), Some(3)) => {
            let reason = o.mistyped_reason;
            o.defect("cld", reason);
            o.field(&n.mistyped);
        }
        (Some(n), _) => o.field(&n.written),
        (None, defect) => {
            // Every CLD defect quarantines its row: one without is accepted, unnumbered.
            if defect.is_none() {
                o.without_nhs_number("cld");
            }
            o.field("NULL");
        }
    }
    if defect == Some(2) {
        o.defect("cld", "missing_required");
        o.field("NULL");
    } else {
        o.field(p.la_id);
    }
    o.line.extend_from_slice(&p.details);
    o.field(if p.sex == "1" {
        "1 - Male"
    } else {
        "2 - Female"
    });
    o.field("Service User");
    o.field(p.support_reason);
    if defect == Some(1) {
        o.defect("cld", "unknown_code");
        o.field("Requets");
    } else {
        o.field(ev.kind);
    }
    o.field(&format!("{}-{:09}", p.council.id_prefix, seq));
    if defect == Some(0) {
        o.defect("cld", "invalid_date");
        let (y, _, _) = crate::ingest::dates::civil_from_days(ev.start);
        o.field(&format!("30/02/{y}"));
    } else {
        dmy(&mut o.line, ev.start);
        o.line.push(b',');
    }
    match ev.end {
        Some(e) => {
            dmy(&mut o.line, e);
            o.line.push(b',');
        }
        None => o.field("NULL"),
    }
    o.field(ev.outcome.unwrap_or("NULL"));
    o.field(ev.route.unwrap_or("NULL"));
    match ev.service {
        Some((t, c)) => {
            o.field(t);
            o.field(c);
            o.field(if t == "Long Term Support: Community" {
                "CASSR Commissioned Support"
            } else {
                "NULL"
            });
        }
        None => {
            o.field("NULL");
            o.field("NULL");
            o.field("NULL");
        }
    }
    o.end(true);
    o.row("cld");
    let _ = o.cld[council][quarter].write_all(&o.line);
}

/// The contracts synth's extracts are read with, when they hold pseudonyms of `scheme`:
/// a copy of the checkout's `schemas/` in `out/schemas/`, the NHS number column of each
/// contract declared `type = "pseudonym"` with the scheme and the pseudonyms' shape.
fn pseudonymised_schemas(from: &Path, out: &Path, scheme: &str) -> Result<PathBuf> {
    let to = out.join("schemas");
    copy_folder(from, &to)?;
    for contract in ["sus_apc", "ecds", "cld"] {
        let path = to.join("sources").join(format!("{contract}.toml"));
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io("reading", &path, e))?;
        let column = "type = \"nhs_number\"\n";
        if text.matches(column).count() != 1 {
            return Err(Error::Internal(format!(
                "{}: not one NHS number column to declare a pseudonym",
                path.display()
            )));
        }
        let text = text.replace(
            column,
            &format!("type = \"pseudonym\"\nscheme = \"{scheme}\"\npattern = \"[0-9A-F]{{64}}\"\n"),
        );
        std::fs::write(&path, text).map_err(|e| Error::io("writing", &path, e))?;
    }
    Ok(to)
}

/// Copies every file under `from` to the same place under `to`.
fn copy_folder(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).map_err(|e| Error::io("creating", to, e))?;
    for entry in std::fs::read_dir(from).map_err(|e| Error::io("reading", from, e))? {
        let entry = entry.map_err(|e| Error::io("reading", from, e))?;
        let (source, target) = (entry.path(), to.join(entry.file_name()));
        if source.is_dir() {
            copy_folder(&source, &target)?;
        } else {
            std::fs::copy(&source, &target).map_err(|e| Error::io("copying", &source, e))?;
        }
    }
    Ok(())
}

/// The `pipeline.toml` that reads the extracts: a source with no data rows (a tiny
/// population's) may be empty, the quarantine threshold is at least the largest share
/// of a source's rows given a defect, and the threshold of accepted rows without an NHS
/// number at least the largest share of a source's accepted rows planted without one
/// (`Truth::without_nhs_number`), so a run passes on what synth planted however
/// small the population or high the defect rate (one defect among ten rows is 10 %).
fn write_pipeline(opts: &SynthOptions, truth: &Truth) -> Result<()> {
    let repo =
        std::fs::canonicalize(&opts.repo).map_err(|e| Error::io("resolving", &opts.repo, e))?;
    let schemas = match &opts.pseudonymise {
        None => repo.join("schemas"),
        Some(scheme) => pseudonymised_schemas(&repo.join("schemas"), &opts.out, scheme)?,
    };
    let mapping = |m: &str| {
        repo.join("pipelines/mappings")
            .join(format!("{m}.toml"))
            .display()
            .to_string()
    };
    // The largest share of a source's rows given a defect.
    let planted = truth
        .rows
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(s, n)| {
            truth.defects.get(s).map_or(0, |d| d.values().sum::<u64>()) as f64 / *n as f64
        })
        .fold(0.0, f64::max);
    // The largest share of a source's accepted rows without an NHS number: the planted
    // invalid ones of a contract that leaves them blank, and council clients without one.
    let without_nhs_number = truth
        .rows
        .iter()
        .map(|(s, n)| {
            let quarantined = truth.defects.get(s).map_or(0, |d| d.values().sum::<u64>());
            let blank = truth.without_nhs_number.get(s).copied().unwrap_or(0);
            let accepted = n.saturating_sub(quarantined);
            if accepted == 0 {
                0.0
            } else {
                blank as f64 / accepted as f64
            }
        })
        .fold(0.0, f64::max);
    let empty = |s: &str| {
        if truth.rows.get(s).is_some_and(|n| *n == 0) {
            "\n# No rows at this population.\nallow_empty = true"
        } else {
            ""
        }
    };
    let text = format!(
        r#"# Written by `joinedup synth --people {people} --years {years} --seed {seed} --defect-rate {defect_rate}{pseudonymise}`:
# reads the synthetic extracts beside it. truth.json says what was planted.
[pipeline]
name = "synth"
schemas = "{schemas}"

[pseudonymisation]
demo_key = "DEMO-synthetic-data-key-not-secret"

[sources.apc]
kind = "local"
path = "apc"
contract = "sus_apc"
mapping = "{apc}"{apc_empty}

[sources.ecds]
kind = "local"
path = "ecds"
contract = "ecds"
mapping = "{ecds}"{ecds_empty}

[sources.cld]
kind = "local"
path = "cld"
contract = "cld"
mapping = "{cld}"{cld_empty}

[quality]
max_quarantine_fraction = {fraction}
max_without_nhs_number_fraction = {without}

[outputs.hospital_spell]
[outputs.ed_attendance]
[outputs.social_care_event]
[outputs.patient_journey]
[outputs.discharge_delays]
[outputs.flow_daily]
[outputs.social_care_queue]
[outputs.bottlenecks]
[outputs.linkage_quality]
"#,
        people = opts.people,
        years = opts.years,
        seed = opts.seed,
        defect_rate = opts.defect_rate,
        pseudonymise = opts
            .pseudonymise
            .as_ref()
            .map(|s| format!(" --pseudonymise {s}"))
            .unwrap_or_default(),
        schemas = schemas.display(),
        apc = mapping("sus_apc"),
        ecds = mapping("ecds"),
        cld = mapping("cld"),
        apc_empty = empty("apc"),
        ecds_empty = empty("ecds"),
        cld_empty = empty("cld"),
        fraction = (opts.defect_rate * 3.0).clamp(0.05, 1.0).max(planted),
        without = without_nhs_number.max(0.1),
    );
    let path = opts.out.join("pipeline.toml");
    std::fs::write(&path, text).map_err(|e| Error::io("writing", &path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `--people` is checked against this number before anything is written, so it must
    /// be the count of numbers synth hands out.
    #[test]
    fn max_people_is_the_count_of_valid_test_range_numbers() {
        assert_eq!(nhs_numbers(1).len(), MAX_PEOPLE);
        assert_eq!(nhs_numbers(2).len(), MAX_PEOPLE);
    }

    /// Regression (session 20): a history of more than two years ran past today from
    /// April 2024 (16 years to 2040), and its rows dated after the run's date were held
    /// back as `date_in_future`. A longer history ends by March 2026 instead.
    #[test]
    fn regression_a_long_history_ends_by_march_2026() {
        assert_eq!(first_year(1), 2024);
        assert_eq!(first_year(2), 2024);
        assert_eq!(first_year(3), 2023);
        assert_eq!(first_year(16), 2010);
        assert_eq!(first_year(MAX_YEARS) + MAX_YEARS as i32, LAST_YEAR_ENDS);
    }

    /// Mortality: someone of 80 dies at a median 88 (England's life tables: about 89), and
    /// nobody lives past 105 however lucky the draw.
    #[test]
    fn deaths_follow_age_and_nobody_passes_105() {
        let born = i64::from(crate::ingest::dates::days_from_civil(1944, 4, 1));
        let start = i64::from(crate::ingest::dates::days_from_civil(2024, 4, 1));
        assert_eq!(age_on(born, death_day(born, start, 0.5)), 88);
        for u in [0.0, 0.9, 0.999, 0.999_999, 1.0 - f64::EPSILON] {
            let died = death_day(born, start, u);
            assert!(died >= start, "{u}");
            assert!(age_on(born, died) <= MAX_AGE, "{u}: {}", age_on(born, died));
        }
        assert_eq!(
            age_on(born, death_day(born, start, 1.0 - f64::EPSILON)),
            MAX_AGE
        );
        // A 100-year-old on the first day dies by 105 too.
        let old = i64::from(crate::ingest::dates::days_from_civil(1924, 3, 1));
        assert_eq!(
            age_on(old, death_day(old, start, 1.0 - f64::EPSILON)),
            MAX_AGE
        );
    }
}
