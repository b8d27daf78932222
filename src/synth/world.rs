//! The synthetic ICB: councils, their service delays (the planted bottlenecks), rates by
//! age, and the codes rows are drawn from.

/// One council and how long its services take to start after a patient is ready.
#[derive(Debug, Clone)]
pub struct Council {
    /// CLD `LA Code`.
    pub code: &'static str,
    /// CLD `LA Name`.
    pub name: &'static str,
    /// Prefix of LA person identifiers.
    pub id_prefix: &'static str,
    /// Per awaited service: (weight, delay low, delay high) in days, uniform inclusive.
    pub services: [(f64, i64, i64); 4],
}

/// The awaited-service groups, in the order of [`Council::services`].
pub const SERVICES: [&str; 4] = ["reablement", "home_care", "short_term_bed", "care_home"];

/// CLD Service Type and Service Component for each group.
pub const SERVICE_ROWS: [(&str, &str); 4] = [
    ("Short Term Support: ST-Max", "Reablement"),
    ("Long Term Support: Community", "Home Support"),
    (
        "Short Term Support: Other Short Term",
        "Short Term Residential Care",
    ),
    (
        "Long Term Support: Residential Care",
        "Long Term Residential Care",
    ),
];

/// The councils, with Easton's home care as the planted bottleneck.
pub fn councils() -> Vec<Council> {
    vec![
        Council {
            code: "901",
            name: "Northshire",
            id_prefix: "NS",
            services: [(0.4, 1, 3), (0.35, 2, 4), (0.0, 0, 0), (0.25, 4, 8)],
        },
        Council {
            code: "902",
            name: "Easton",
            id_prefix: "EA",
            services: [(0.35, 2, 4), (0.4, 8, 12), (0.0, 0, 0), (0.25, 5, 9)],
        },
        Council {
            code: "903",
            name: "Westbury",
            id_prefix: "WB",
            services: [(0.35, 1, 3), (0.3, 2, 4), (0.15, 3, 5), (0.2, 4, 8)],
        },
    ]
}

/// Age bands: (weight in the population, lowest age, highest age, spells per year,
/// A&E attendances per year not admitted), by a person's age each year (past the last
/// band's highest age, the last band's rates). About 270 spells a year per 1,000 people
/// of the first day's age mix, as in England (day cases included), half of them of people
/// aged 65 or more; 260 over two years, as some die. Ages within a band are uniform, so
/// the 80s are three bands thinning out as England's do (ONS mid-2022: about 4.5 % of
/// people in their 80s, 0.9 % in their 90s, 0.03 % aged 100 or more); one 80-100 band
/// made centenarians as common as 80-year-olds (a review found 1 % of A&E attendances
/// by people aged 100 or more).
pub const AGE_BANDS: [(f64, i64, i64, f64, f64); 6] = [
    (0.21, 0, 17, 0.13, 0.30),
    (0.60, 18, 64, 0.17, 0.28),
    (0.13, 65, 79, 0.57, 0.45),
    (0.0487, 80, 89, 1.10, 0.70),
    (0.011, 90, 99, 1.10, 0.70),
    (0.0003, 100, 104, 1.10, 0.70),
];

/// Providers.
pub const PROVIDERS: [&str; 2] = ["RX1", "RX2"];

/// Emergency admission methods other than via A&E, and elective ones.
pub const EMERGENCY_OTHER: [&str; 5] = ["22", "23", "2A", "2B", "2D"];
/// Elective admission methods.
pub const ELECTIVE: [&str; 3] = ["11", "12", "13"];
/// Treatment functions anyone may be under.
pub const TREATMENT: [&str; 8] = ["100", "101", "110", "130", "300", "301", "320", "340"];
/// Gynaecology: women and girls aged 12 or more only.
pub const GYNAECOLOGY: &str = "502";
/// Geriatric medicine: people aged 65 or more only.
pub const GERIATRIC: &str = "430";
/// Paediatrics: children (under 16) only.
pub const PAEDIATRICS: &str = "420";
/// Acuity SNOMED codes (1 immediate … 5 low) and their weights.
pub const ACUITY: [(&str, f64); 5] = [
    ("1064891000000107", 0.03),
    ("1064911000000105", 0.19),
    ("1064901000000108", 0.37),
    ("1077241000000103", 0.30),
    ("1077251000000100", 0.11),
];
/// A&E arrivals by hour of day (relative weights).
pub const HOUR_WEIGHTS: [f64; 24] = [
    2.0, 1.5, 1.2, 1.0, 0.9, 1.0, 1.5, 2.5, 4.0, 5.5, 6.0, 6.0, 5.8, 5.6, 5.4, 5.3, 5.4, 5.6, 5.5,
    5.0, 4.5, 4.0, 3.3, 2.6,
];
/// A&E arrivals by weekday, Monday first (relative weights).
pub const WEEKDAY_WEIGHTS: [f64; 7] = [1.18, 1.05, 1.0, 1.0, 1.02, 0.9, 0.88];
/// Primary support reasons.
pub const SUPPORT_REASONS: [&str; 4] = [
    "Physical Support: Personal care support",
    "Physical Support: Access & mobility only",
    "Support with Memory & Cognition",
    "Mental Health Support",
];
/// First names of women (Windows-1252 has every character).
pub const FIRST_FEMALE: [&str; 5] = ["Ann", "Zoë", "Siân", "Chloé", "Margaret"];
/// First names of men.
pub const FIRST_MALE: [&str; 5] = ["David", "Peter", "Oluwaseun", "Rhodri", "José"];
/// Last names.
pub const LAST: [&str; 6] = ["Smith", "O’Neill", "Patel", "Jones", "Müller", "Brown"];

/// Mortality by age (Gompertz): the yearly hazard at age x is `.0 · e^(.1 · x)`: about
/// 0.1 % at 40, 0.75 % at 60, 5 % at 80, 13 % at 90 and 33 % at 100, as in England's life
/// tables (both sexes).
pub const MORTALITY: (f64, f64) = (2.5e-5, 0.095);

/// The oldest anyone gets: they die before their next birthday.
pub const MAX_AGE: i64 = 105;
