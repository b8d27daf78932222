//! Finding identifiers by their shape in text that is not meant to hold them: NHS numbers
//! and UK postcodes, in data values kept as written, quarantine details and records, file
//! names, log lines and messages.
//!
//! An NHS-number shape is a run of digit groups joined by single separator characters
//! (`943 476 5919`, `943-476-5919`, `943 476-5919`, `9434-765-919`, `943/476/5919`, a
//! no-break space, a percent-encoded space in a URL), holding ten digits, or eleven with
//! a leading zero (a number padded by a spreadsheet, unbroken); grouped, every group has
//! three digits or more, which dates and times (`2026-08-01 10:00`) do not, and a
//! grouping other than 3-3-4 must not be joined to more digits (`+44 7700 900019`).
//! Digits are any Unicode numbers: full-width ones by their value, others of unknown
//! value, which pass any check.

use std::borrow::Cow;

/// Where shapes are looked for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Text {
    /// A data value or a file name: any character that is not a letter, a digit, a colon
    /// or a line break separates groups.
    Value,
    /// Free text (log lines, messages): dots and commas are number punctuation
    /// (`123.4567891` seconds, `1,234,567,890` bytes), not separators.
    Free,
}

/// The byte ranges of the NHS-number shapes in `text` for which `keep` is true (`keep`
/// is given the shape's digits, `None` for a digit of unknown value).
pub(crate) fn nhs_shapes(
    text: &str,
    mode: Text,
    keep: impl Fn(&[Option<u8>]) -> bool,
) -> Vec<(usize, usize)> {
    // A URL writes a separator percent-encoded (`943%20476%205919`): its hex digits would
    // join the groups, so shapes are found in the text with such escapes decoded, and
    // placed back on the text as written.
    if text.contains('%')
        && let Some((decoded, origin)) = separators_decoded(text)
    {
        let at = |i: usize| origin.get(i).copied().unwrap_or(text.len());
        return shapes_in(&decoded, mode, keep)
            .into_iter()
            .map(|(s, e)| (at(s), at(e)))
            .collect();
    }
    shapes_in(text, mode, keep)
}

/// `text` with each `%XX` escape of a separator character (not a letter or digit)
/// decoded, and for each byte of the result the offset in `text` it came from; `None`
/// when there is no such escape.
fn separators_decoded(text: &str) -> Option<(String, Vec<usize>)> {
    let b = text.as_bytes();
    let hex = |c: u8| (c as char).to_digit(16);
    let mut decoded = String::with_capacity(text.len());
    let mut origin = Vec::with_capacity(text.len());
    let mut any = false;
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let (Some(h), Some(l)) = (
                b.get(i + 1).and_then(|&c| hex(c)),
                b.get(i + 2).and_then(|&c| hex(c)),
            )
            && let c = char::from((h * 16 + l) as u8)
            && c.is_ascii()
            && !c.is_ascii_alphanumeric()
            && !c.is_ascii_control()
        {
            decoded.push(c);
            origin.push(i);
            any = true;
            i += 3;
            continue;
        }
        let c = text[i..].chars().next().expect("a char boundary");
        decoded.push(c);
        origin.extend(std::iter::repeat_n(i, c.len_utf8()));
        i += c.len_utf8();
    }
    any.then_some((decoded, origin))
}

fn shapes_in(text: &str, mode: Text, keep: impl Fn(&[Option<u8>]) -> bool) -> Vec<(usize, usize)> {
    let groups = digit_groups(text, mode);
    let mut found = Vec::new();
    let mut a = 0;
    while a < groups.len() {
        match shape_from(&groups, a) {
            Some(b) => {
                let digits: Vec<Option<u8>> = groups[a..=b]
                    .iter()
                    .flat_map(|g| g.digits.iter().copied())
                    .collect();
                if keep(&digits) {
                    found.push((groups[a].start, groups[b].end));
                    a = b + 1;
                    continue;
                }
                a += 1;
            }
            None => a += 1,
        }
    }
    found
}

/// Whether ten digits (or eleven with a leading zero) are an NHS number: they pass
/// Modulus 11 (a digit of unknown value passes).
pub(crate) fn passes_modulus_11(digits: &[Option<u8>]) -> bool {
    let ten = match digits {
        [Some(0), rest @ ..] if rest.len() == 10 => rest,
        d => d,
    };
    if ten.iter().any(Option::is_none) {
        return true;
    }
    let s: String = ten
        .iter()
        .map(|d| char::from(b'0' + d.unwrap_or(0)))
        .collect();
    super::nhs_number::validate(&s).is_ok()
}

/// `text` with the given byte ranges replaced by `<withheld>`; borrowed when there are none.
pub(crate) fn withhold<'t>(text: &'t str, ranges: &[(usize, usize)]) -> Cow<'t, str> {
    if ranges.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for &(s, e) in ranges {
        out.push_str(&text[last..s]);
        out.push_str("<withheld>");
        last = e;
    }
    out.push_str(&text[last..]);
    Cow::Owned(out)
}

/// A maximal run of digits, and the separator joining it to the next run.
struct Group {
    start: usize,
    end: usize,
    digits: Vec<Option<u8>>,
    /// The one separator character between this group and the next, when exactly one
    /// lies between them.
    joined_by: Option<char>,
}

/// A digit's value: `Some(Some(v))` for ASCII and full-width digits, `Some(None)` for
/// other Unicode numbers, `None` for anything else.
fn digit(c: char) -> Option<Option<u8>> {
    match c {
        '0'..='9' => Some(Some(c as u8 - b'0')),
        '\u{FF10}'..='\u{FF19}' => Some(Some((c as u32 - 0xFF10) as u8)),
        c if c.is_numeric() => Some(None),
        _ => None,
    }
}

fn is_separator(c: char, mode: Text) -> bool {
    !c.is_alphanumeric()
        && !matches!(c, ':' | '\n' | '\r')
        && (mode == Text::Value || !matches!(c, '.' | ','))
}

fn digit_groups(text: &str, mode: Text) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    // Characters since the last group ended: (count, the first).
    let mut between: (usize, Option<char>) = (0, None);
    for (i, c) in text.char_indices() {
        match digit(c) {
            Some(d) => {
                let continues = between.0 == 0 && groups.last().is_some_and(|g| g.end == i);
                if continues {
                    let g = groups.last_mut().expect("checked");
                    g.digits.push(d);
                    g.end = i + c.len_utf8();
                } else {
                    if let Some(g) = groups.last_mut() {
                        g.joined_by = match between {
                            (1, Some(s)) if is_separator(s, mode) => Some(s),
                            _ => None,
                        };
                    }
                    groups.push(Group {
                        start: i,
                        end: i + c.len_utf8(),
                        digits: vec![d],
                        joined_by: None,
                    });
                }
                between = (0, None);
            }
            None => {
                if between.0 == 0 {
                    between.1 = Some(c);
                }
                between.0 += 1;
            }
        }
    }
    groups
}

/// The last group of an NHS-number shape starting at group `a`, if there is one: groups
/// of three digits or more joined by single separators (mixed: `943 476-5919`) making ten
/// digits, or one run of eleven with a leading zero (a spreadsheet's padding). Dates and
/// times (`2026-08-01 10`) have groups of two. Written 3-3-4, as NHS numbers are shown, or
/// unbroken, it is one whatever is around it (`cld_943_476_5919_2024.csv`,
/// `9434765919 01/02/1950`); grouped otherwise it must stand alone, not joined by a
/// separator to more digits: `+44 7700 900019` is a telephone number and
/// `20240401_153012_0004` a time stamp and a sequence.
fn shape_from(groups: &[Group], a: usize) -> Option<usize> {
    let mut digits = 0;
    let mut b = a;
    loop {
        let n = groups[b].digits.len();
        if b > a && (n < 3 || groups[b - 1].digits.len() < 3) {
            return None;
        }
        digits += n;
        let single = b == a;
        let padded = single && digits == 11 && groups[a].digits[0] == Some(0);
        if digits == 10 || padded {
            let sizes: Vec<usize> = groups[a..=b].iter().map(|g| g.digits.len()).collect();
            let alone =
                !(a > 0 && groups[a - 1].joined_by.is_some()) && groups[b].joined_by.is_none();
            return (single || sizes == [3, 3, 4] || alone).then_some(b);
        }
        if digits >= 11 || b + 1 == groups.len() {
            return None;
        }
        groups[b].joined_by?;
        b += 1;
    }
}

/// Whether `text` holds a full UK postcode shape as [`mask_postcodes`] finds them.
pub fn holds_postcode(text: &str) -> bool {
    let b = text.as_bytes();
    // Five characters at least, with a digit: most values (codes, counts) are out at once.
    b.len() >= 5
        && b.iter().any(u8::is_ascii_digit)
        && (0..b.len()).any(|i| postcode_at(b, i).is_some())
}

/// Replaces every full UK postcode shape (`A9 9AA`, `A99 9AA`, `A9A 9AA`, `AA9 9AA`,
/// `AA99 9AA`, `AA9A 9AA`, in either case, with no space, one, two or a no-break space
/// between its halves, not part of a longer word)
/// with `<withheld>`. Borrowed when there is none.
pub fn mask_postcodes(text: &str) -> Cow<'_, str> {
    let b = text.as_bytes();
    let mut ranges = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if let Some(end) = postcode_at(b, i) {
            ranges.push((i, end));
            i = end;
            continue;
        }
        i += 1;
    }
    withhold(text, &ranges)
}

/// The end of a postcode shape starting at `start`, which must begin a word.
fn postcode_at(b: &[u8], start: usize) -> Option<usize> {
    let alnum = |i: usize| b.get(i).is_some_and(u8::is_ascii_alphanumeric);
    let letter = |i: usize| b.get(i).is_some_and(u8::is_ascii_alphabetic);
    let digit = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    if !letter(start) || (start > 0 && alnum(start - 1)) {
        return None;
    }
    for letters in [1, 2] {
        if !(0..letters).all(|k| letter(start + k)) || !digit(start + letters) {
            continue;
        }
        let area = start + letters + 1;
        for extra in [0, 1] {
            if extra == 1 && !alnum(area) {
                continue;
            }
            let outward_end = area + extra;
            // None, a space, two (ONS's fixed-width `pcd8`), or a no-break space.
            for space in [&b""[..], b" ", b"  ", "\u{A0}".as_bytes()] {
                if !b[outward_end.min(b.len())..].starts_with(space) {
                    continue;
                }
                let inward = outward_end + space.len();
                if digit(inward) && letter(inward + 1) && letter(inward + 2) && !alnum(inward + 3) {
                    return Some(inward + 3);
                }
            }
        }
    }
    None
}
