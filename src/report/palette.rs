//! The report's colours (NHS identity colours) and the WCAG 2.x contrast check they pass:
//! every colour used for text, bars or lines has at least 4.5:1 against the backgrounds it
//! is drawn on (AA for normal text; charts need only 3:1).

/// Page background.
pub const WHITE: &str = "#ffffff";
/// Body text (NHS black).
pub const TEXT: &str = "#212b32";
/// Secondary text and axes (NHS dark grey).
pub const MUTED: &str = "#4c6272";
/// Bars set apart from the blue ones: "not waiting for social care", an incomplete month,
/// no council (NHS mid grey). Lighter than the blues, so the two stay apart in greyscale
/// print and for readers who cannot tell the hues (NHS dark grey had the blue's
/// luminance: 1.0:1).
pub const BAR_GREY: &str = "#768692";
/// Main series and bars (NHS blue).
pub const BLUE: &str = "#005eb8";
/// The headline month's bar (NHS dark blue).
pub const DARK_BLUE: &str = "#003087";
/// Second series (NHS dark pink).
pub const PINK: &str = "#ae2573";
/// Third series (NHS dark green).
pub const GREEN: &str = "#006747";
/// Fourth series (NHS purple).
pub const PURPLE: &str = "#330072";
/// Background of the highlighted month band and of the headline tiles (NHS pale grey).
pub const PALE: &str = "#e8edee";
/// Gridlines: decorative, not information-bearing, so exempt from the contrast rule.
pub const GRID: &str = "#d8dde0";

/// Colours drawn as text or data marks, and the backgrounds each appears on.
pub const FOREGROUNDS: [&str; 7] = [TEXT, MUTED, BLUE, DARK_BLUE, PINK, GREEN, PURPLE];
/// Backgrounds.
pub const BACKGROUNDS: [&str; 2] = [WHITE, PALE];

/// WCAG 2.x AA minimum contrast for normal-size text.
pub const AA_TEXT: f64 = 4.5;

/// Parses `#rrggbb`.
pub fn rgb(hex: &str) -> Option<(u8, u8, u8)> {
    let h = hex.strip_prefix('#')?;
    if h.len() != 6 {
        return None;
    }
    let p = |i: usize| u8::from_str_radix(&h[i..i + 2], 16).ok();
    Some((p(0)?, p(2)?, p(4)?))
}

/// WCAG relative luminance of an sRGB colour.
pub fn luminance((r, g, b): (u8, u8, u8)) -> f64 {
    let lin = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)
}

/// WCAG contrast ratio between two colours, from 1 to 21.
pub fn contrast(a: &str, b: &str) -> Option<f64> {
    let (la, lb) = (luminance(rgb(a)?), luminance(rgb(b)?));
    let (hi, lo) = if la > lb { (la, lb) } else { (lb, la) };
    Some((hi + 0.05) / (lo + 0.05))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wcag_formula_gives_the_known_ratios() {
        assert!((contrast("#000000", "#ffffff").unwrap() - 21.0).abs() < 1e-9);
        assert!((contrast("#ffffff", "#ffffff").unwrap() - 1.0).abs() < 1e-9);
        // #767676 on white is the lightest grey that passes AA: 4.54:1.
        let grey = contrast("#767676", WHITE).unwrap();
        assert!((grey - 4.54).abs() < 0.01, "{grey}");
        assert!(contrast("#777777", WHITE).unwrap() < AA_TEXT);
        assert_eq!(rgb("#12345"), None);
    }

    /// Charts need 3:1 against the background (WCAG 1.4.11), and the grey bars must stay
    /// apart from the blue ones by lightness alone.
    #[test]
    fn grey_bars_pass_for_graphics_and_differ_from_the_blues_in_lightness() {
        for bg in BACKGROUNDS {
            let c = contrast(BAR_GREY, bg).unwrap();
            assert!(c >= 3.0, "{BAR_GREY} on {bg}: {c:.2}:1");
        }
        for blue in [BLUE, DARK_BLUE] {
            let c = contrast(BAR_GREY, blue).unwrap();
            assert!(c >= 1.5, "{BAR_GREY} against {blue}: {c:.2}:1");
        }
    }

    #[test]
    fn every_palette_colour_passes_aa_on_every_background() {
        for fg in FOREGROUNDS {
            for bg in BACKGROUNDS {
                let c = contrast(fg, bg).unwrap();
                assert!(c >= AA_TEXT, "{fg} on {bg}: {c:.2}:1 is below {AA_TEXT}:1");
            }
        }
    }
}
