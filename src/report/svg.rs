//! Hand-built inline SVG charts: ranked horizontal bars (with optional ranges and
//! whiskers) and a daily line chart. No scripts, fonts or external references: the markup
//! is plain SVG inside the page, sized by its viewBox. Every chart has a `<title>` and
//! `<desc>` for assistive technology; the caller pairs it with its data table.
//!
//! Suppressed values are drawn with the page's hatch pattern (`url(#hatch)`, defined once
//! by `html`) and labelled, never as a zero-length bar.

use std::fmt::Write;

use chrono::NaiveDate;

use super::format;
use super::html::esc;
use super::palette::{GRID, MUTED, PALE, TEXT};

/// Id of the hatch pattern the page defines once.
pub const HATCH: &str = "hatch";

/// What one bar shows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BarValue {
    /// A known value.
    Value(f64),
    /// Known to lie between `low` (drawn solid) and `high` (drawn hatched); `high` is
    /// `None` when no upper bound is known.
    Range {
        /// Lower bound.
        low: f64,
        /// Upper bound, if known.
        high: Option<f64>,
    },
    /// Hidden by disclosure control.
    Suppressed,
    /// No value.
    Empty,
}

/// One bar of a ranked bar chart.
#[derive(Debug, Clone)]
pub struct Bar {
    /// Label at the left.
    pub label: String,
    /// The value.
    pub value: BarValue,
    /// A second value drawn as a whisker from the bar's end (e.g. the 90th percentile).
    pub whisker: Option<f64>,
    /// Fill colour.
    pub colour: &'static str,
    /// Text after the bar.
    pub text: String,
}

/// A ranked horizontal bar chart.
#[derive(Debug, Clone)]
pub struct BarChart<'a> {
    /// Unique id within the page.
    pub id: &'a str,
    /// Accessible title.
    pub title: &'a str,
    /// Accessible description (what the chart shows and its main point).
    pub desc: &'a str,
    /// The axis unit, e.g. "delayed bed-days".
    pub unit: &'a str,
    /// Bars, top to bottom.
    pub bars: &'a [Bar],
}

const W: f64 = 860.0;
const LABEL_W: f64 = 330.0;
const PLOT_X: f64 = 340.0;
const PLOT_W: f64 = 300.0;
const ROW: f64 = 26.0;
const BAR_H: f64 = 16.0;
const BAR_TOP: f64 = 34.0;
const LABEL_CHARS: usize = 50;
const STUB_W: f64 = 22.0;

/// Renders a bar chart.
pub fn bar_chart(c: &BarChart) -> String {
    let max = c
        .bars
        .iter()
        .flat_map(|b| {
            let v = match b.value {
                BarValue::Value(v) => Some(v),
                BarValue::Range { low, high } => Some(high.unwrap_or(low)),
                _ => None,
            };
            [v, b.whisker]
        })
        .flatten()
        .fold(0.0_f64, f64::max);
    // With no value to show (every bar suppressed or empty) a scale would read as data
    // (an axis 0 to 1 beside hatched stubs says "at most 1"): none is drawn.
    let shown = c.bars.iter().any(|b| {
        matches!(b.value, BarValue::Value(_) | BarValue::Range { .. }) || b.whisker.is_some()
    });
    let ticks = if shown { nice_ticks(max) } else { Vec::new() };
    let top = ticks.last().copied().unwrap_or(1.0).max(f64::MIN_POSITIVE);
    let x = |v: f64| PLOT_X + v.max(0.0) / top * PLOT_W;
    let h = BAR_TOP + ROW * c.bars.len() as f64 + 8.0;

    let mut s = open(c.id, c.title, c.desc, W, h);
    // Axis: ticks and gridlines.
    let _ = write!(
        s,
        r#"<text x="{PLOT_X}" y="12" class="axis">{}</text>"#,
        esc(&axis_unit(c.unit, shown))
    );
    for t in &ticks {
        let tx = x(*t);
        let _ = write!(
            s,
            r#"<line x1="{tx:.1}" y1="{y1}" x2="{tx:.1}" y2="{y2:.1}" stroke="{GRID}"/><text x="{tx:.1}" y="28" text-anchor="middle" class="axis">{}</text>"#,
            format::num(*t),
            y1 = BAR_TOP - 4.0,
            y2 = h - 6.0,
        );
    }
    for (i, b) in c.bars.iter().enumerate() {
        let y = BAR_TOP + ROW * i as f64;
        let by = y + (ROW - BAR_H) / 2.0;
        let mid = y + ROW / 2.0;
        let _ = write!(s, "<g>");
        let label = truncate(&b.label, LABEL_CHARS);
        if label != b.label {
            let _ = write!(s, "<title>{}</title>", esc(&b.label));
        }
        let _ = write!(
            s,
            r#"<text x="{LABEL_W}" y="{mid:.1}" text-anchor="end" dominant-baseline="middle" class="label">{}</text>"#,
            esc(&label)
        );
        let mut end = PLOT_X;
        match b.value {
            BarValue::Value(v) => {
                end = x(v);
                let _ = write!(
                    s,
                    r#"<rect x="{PLOT_X}" y="{by:.1}" width="{:.1}" height="{BAR_H}" fill="{}"/>"#,
                    end - PLOT_X,
                    b.colour
                );
            }
            BarValue::Range { low, high } => {
                let lo = x(low);
                let _ = write!(
                    s,
                    r#"<rect x="{PLOT_X}" y="{by:.1}" width="{:.1}" height="{BAR_H}" fill="{}"/>"#,
                    lo - PLOT_X,
                    b.colour
                );
                end = lo;
                if let Some(high) = high {
                    let hi = x(high);
                    let _ = write!(
                        s,
                        r#"<rect x="{lo:.1}" y="{by:.1}" width="{:.1}" height="{BAR_H}" fill="url(#{HATCH})" stroke="{}"/>"#,
                        (hi - lo).max(0.0),
                        b.colour
                    );
                    end = hi;
                }
            }
            BarValue::Suppressed => {
                end = PLOT_X + STUB_W;
                let _ = write!(
                    s,
                    r#"<rect x="{PLOT_X}" y="{by:.1}" width="{STUB_W}" height="{BAR_H}" fill="url(#{HATCH})" stroke="{MUTED}"/>"#
                );
            }
            BarValue::Empty => {}
        }
        if let Some(w) = b.whisker {
            let wx = x(w);
            if wx > end {
                let _ = write!(
                    s,
                    r#"<line x1="{end:.1}" y1="{mid:.1}" x2="{wx:.1}" y2="{mid:.1}" stroke="{TEXT}" stroke-width="1.5"/><line x1="{wx:.1}" y1="{:.1}" x2="{wx:.1}" y2="{:.1}" stroke="{TEXT}" stroke-width="1.5"/>"#,
                    mid - 5.0,
                    mid + 5.0
                );
                end = wx;
            }
        }
        let class = if matches!(b.value, BarValue::Suppressed | BarValue::Empty) {
            "note"
        } else {
            "value"
        };
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{mid:.1}" dominant-baseline="middle" class="{class}">{}</text></g>"#,
            end + 6.0,
            esc(&b.text)
        );
    }
    s.push_str("</svg>");
    s
}

/// The axis's unit, or, when no value can be shown, why there is no scale.
fn axis_unit(unit: &str, shown: bool) -> String {
    if shown {
        unit.to_string()
    } else {
        format!("{unit}: no value can be shown (each is suppressed or missing)")
    }
}

/// One line of a line chart.
#[derive(Debug, Clone)]
pub struct Series {
    /// Legend name.
    pub name: String,
    /// One value per date; `None` breaks the line (suppressed or missing).
    pub values: Vec<Option<f64>>,
    /// Stroke colour.
    pub colour: &'static str,
    /// SVG dash pattern, so lines differ by more than colour.
    pub dash: Option<&'static str>,
}

/// A daily line chart.
#[derive(Debug, Clone)]
pub struct LineChart<'a> {
    /// Unique id within the page.
    pub id: &'a str,
    /// Accessible title.
    pub title: &'a str,
    /// Accessible description.
    pub desc: &'a str,
    /// The axis unit.
    pub unit: &'a str,
    /// The dates, ascending.
    pub dates: &'a [NaiveDate],
    /// The lines.
    pub series: &'a [Series],
    /// A shaded band (first day, last day, label), e.g. the headline month.
    pub band: Option<(NaiveDate, NaiveDate, String)>,
}

const LINE_H: f64 = 300.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 16.0;
const BOTTOM: f64 = 28.0;
const LEGEND_ROW: f64 = 20.0;

/// Renders a line chart; values are joined only between consecutive days that both have
/// one, and a lone value is drawn as a dot.
pub fn line_chart(c: &LineChart) -> String {
    let legend_rows = c.series.len() as f64;
    let top = 8.0 + LEGEND_ROW * legend_rows + 22.0;
    let bottom = LINE_H - BOTTOM;
    let plot_w = W - LEFT - RIGHT;
    let (Some(first), Some(last)) = (c.dates.first(), c.dates.last()) else {
        return open(c.id, c.title, c.desc, W, 40.0) + "</svg>";
    };
    let span = (*last - *first).num_days().max(1) as f64;
    let x = |d: NaiveDate| LEFT + (d - *first).num_days() as f64 / span * plot_w;
    let max = c
        .series
        .iter()
        .flat_map(|s| s.values.iter().flatten())
        .fold(0.0_f64, |a, b| a.max(*b));
    let shown = c
        .series
        .iter()
        .any(|s| s.values.iter().any(Option::is_some));
    let ticks = if shown { nice_ticks(max) } else { Vec::new() };
    let ytop = ticks.last().copied().unwrap_or(1.0).max(f64::MIN_POSITIVE);
    let y = |v: f64| bottom - v.max(0.0) / ytop * (bottom - top);

    let mut s = open(c.id, c.title, c.desc, W, LINE_H);
    // Legend, one line per series.
    for (i, ser) in c.series.iter().enumerate() {
        let lx = LEFT;
        let ly = 8.0 + LEGEND_ROW * i as f64 + 10.0;
        let _ = write!(
            s,
            r#"<line x1="{lx}" y1="{ly}" x2="{:.1}" y2="{ly}" stroke="{}" stroke-width="3"{}/><text x="{:.1}" y="{ly}" dominant-baseline="middle" class="label">{}</text>"#,
            lx + 30.0,
            ser.colour,
            dash_attr(ser.dash),
            lx + 38.0,
            esc(&ser.name)
        );
    }
    if let Some((from, to, label)) = &c.band {
        let bx = x((*from).max(*first));
        let bx2 = x((*to).min(*last));
        if bx2 > bx {
            let _ = write!(
                s,
                r#"<rect x="{bx:.1}" y="{top:.1}" width="{:.1}" height="{:.1}" fill="{PALE}"/><text x="{:.1}" y="{:.1}" text-anchor="middle" class="axis">{}</text>"#,
                bx2 - bx,
                bottom - top,
                (bx + bx2) / 2.0,
                top - 6.0,
                esc(label)
            );
        }
    }
    let _ = write!(
        s,
        r#"<text x="4" y="{:.1}" class="axis">{}</text>"#,
        top - 16.0,
        esc(&axis_unit(c.unit, shown))
    );
    for t in &ticks {
        let ty = y(*t);
        let _ = write!(
            s,
            r#"<line x1="{LEFT}" y1="{ty:.1}" x2="{:.1}" y2="{ty:.1}" stroke="{GRID}"/><text x="{:.1}" y="{ty:.1}" text-anchor="end" dominant-baseline="middle" class="axis">{}</text>"#,
            W - RIGHT,
            LEFT - 6.0,
            format::num(*t)
        );
    }
    // Month starts along the bottom, and the first and last dates when there is room.
    let mut last_label = f64::NEG_INFINITY;
    for (i, d) in c.dates.iter().enumerate() {
        let tx = x(*d);
        let is_month_start = chrono::Datelike::day(d) == 1;
        let is_end = i == 0 || i + 1 == c.dates.len();
        if (is_month_start || is_end) && tx - last_label > 60.0 {
            last_label = tx;
            let anchor = if tx > W - RIGHT - 30.0 {
                "end"
            } else {
                "middle"
            };
            let _ = write!(
                s,
                r#"<line x1="{tx:.1}" y1="{bottom:.1}" x2="{tx:.1}" y2="{:.1}" stroke="{MUTED}"/><text x="{tx:.1}" y="{:.1}" text-anchor="{anchor}" class="axis">{}</text>"#,
                bottom + 5.0,
                bottom + 18.0,
                format::day_short(*d)
            );
        }
    }
    let _ = write!(
        s,
        r#"<line x1="{LEFT}" y1="{bottom:.1}" x2="{:.1}" y2="{bottom:.1}" stroke="{MUTED}"/>"#,
        W - RIGHT
    );
    for ser in c.series {
        let mut path = String::new();
        let mut dots = String::new();
        let n = ser.values.len().min(c.dates.len());
        for i in 0..n {
            let Some(v) = ser.values[i] else { continue };
            let (px, py) = (x(c.dates[i]), y(v));
            let joined_before = i > 0
                && ser.values[i - 1].is_some()
                && (c.dates[i] - c.dates[i - 1]).num_days() == 1;
            let joined_after = i + 1 < n
                && ser.values[i + 1].is_some()
                && (c.dates[i + 1] - c.dates[i]).num_days() == 1;
            if joined_before {
                let _ = write!(path, " L{px:.1} {py:.1}");
            } else if joined_after {
                let _ = write!(path, " M{px:.1} {py:.1}");
            } else {
                let _ = write!(
                    dots,
                    r#"<circle cx="{px:.1}" cy="{py:.1}" r="2.5" fill="{}"/>"#,
                    ser.colour
                );
            }
        }
        if !path.is_empty() {
            let _ = write!(
                s,
                r#"<path d="{}" fill="none" stroke="{}" stroke-width="2.5" stroke-linejoin="round"{}/>"#,
                path.trim_start(),
                ser.colour,
                dash_attr(ser.dash)
            );
        }
        s.push_str(&dots);
    }
    s.push_str("</svg>");
    s
}

fn dash_attr(dash: Option<&str>) -> String {
    dash.map(|d| format!(r#" stroke-dasharray="{d}""#))
        .unwrap_or_default()
}

fn open(id: &str, title: &str, desc: &str, w: f64, h: f64) -> String {
    format!(
        r#"<svg id="{id}" class="chart" viewBox="0 0 {w} {h:.0}" role="img" aria-labelledby="{id}-title {id}-desc"><title id="{id}-title">{}</title><desc id="{id}-desc">{}</desc>"#,
        esc(title),
        esc(desc)
    )
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n - 1).collect();
        t.push('…');
        t
    }
}

/// Round tick values from 0 covering `max`: steps of 1, 2, 2.5 or 5 × 10ⁿ, about four.
pub fn nice_ticks(max: f64) -> Vec<f64> {
    if max <= 0.0 || !max.is_finite() {
        return vec![0.0, 1.0];
    }
    let raw = max / 4.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let n = (max / step).ceil() as usize;
    (0..=n).map(|i| i as f64 * step).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_maximum() {
        assert_eq!(nice_ticks(105.0), vec![0.0, 50.0, 100.0, 150.0]);
        assert_eq!(nice_ticks(480.0), vec![0.0, 200.0, 400.0, 600.0]);
        assert_eq!(nice_ticks(9.0), vec![0.0, 2.5, 5.0, 7.5, 10.0]);
        assert_eq!(nice_ticks(0.0), vec![0.0, 1.0]);
        assert_eq!(nice_ticks(100.0), vec![0.0, 25.0, 50.0, 75.0, 100.0]);
    }

    fn bar(value: BarValue) -> Bar {
        Bar {
            label: "a label".to_string(),
            value,
            whisker: None,
            colour: "#005eb8",
            text: "t".to_string(),
        }
    }

    /// A bar chart of `bars` with unit `u`.
    fn bars_chart(bars: &[Bar]) -> String {
        bar_chart(&BarChart {
            id: "c",
            title: "T",
            desc: "D",
            unit: "u",
            bars,
        })
    }

    #[test]
    fn suppressed_bars_are_hatched_stubs_not_zero_bars() {
        let bars = [bar(BarValue::Value(10.0)), bar(BarValue::Suppressed)];
        let svg = bars_chart(&bars);
        assert_eq!(svg.matches("url(#hatch)").count(), 1, "{svg}");
        assert!(!svg.contains(r#"width="0.0""#), "{svg}");
        assert!(svg.contains(r#"role="img""#) && svg.contains("<title id=\"c-title\">T</title>"));
    }

    /// Regression: a chart whose every value was suppressed drew an axis from 0 to 1,
    /// which reads as "each is at most 1".
    #[test]
    fn a_chart_with_nothing_to_show_draws_no_scale_and_says_why() {
        let bars = [bar(BarValue::Suppressed), bar(BarValue::Empty)];
        let svg = bars_chart(&bars);
        assert!(!svg.contains(r#"class="axis">0</text>"#), "{svg}");
        assert!(!svg.contains(r#"class="axis">1</text>"#), "{svg}");
        assert!(
            svg.contains("u: no value can be shown (each is suppressed or missing)"),
            "{svg}"
        );
        let shown = [bar(BarValue::Value(3.0)), bar(BarValue::Suppressed)];
        let svg = bars_chart(&shown);
        assert!(svg.contains(r#"class="axis">u</text>"#), "{svg}");
        assert!(svg.contains(r#"class="axis">0</text>"#), "{svg}");
        let svg = one_line(vec![None, None]);
        assert!(!svg.contains(r#"class="axis">1</text>"#), "{svg}");
        assert!(svg.contains("no value can be shown"), "{svg}");
    }

    /// A line chart of one series, a value a day from 1 September 2026.
    fn one_line(values: Vec<Option<f64>>) -> String {
        let d = |day| NaiveDate::from_ymd_opt(2026, 9, day).unwrap();
        let dates: Vec<NaiveDate> = (1..=values.len() as u32).map(d).collect();
        let series = [Series {
            name: "s".to_string(),
            values,
            colour: "#005eb8",
            dash: None,
        }];
        line_chart(&LineChart {
            id: "l",
            title: "T",
            desc: "D",
            unit: "u",
            dates: &dates,
            series: &series,
            band: None,
        })
    }

    #[test]
    fn lines_break_at_missing_values_and_lone_values_are_dots() {
        let svg = one_line(vec![Some(1.0), Some(2.0), None, Some(3.0), None, Some(4.0)]);
        let path = svg.split("<path d=\"").nth(1).unwrap();
        let path = &path[..path.find('"').unwrap()];
        assert_eq!(path.matches('M').count(), 1, "{path}");
        assert_eq!(path.matches('L').count(), 1, "{path}");
        assert_eq!(svg.matches("<circle").count(), 2, "{svg}");
    }
}
