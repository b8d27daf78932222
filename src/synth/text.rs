//! Fast text formatting for the synthetic extracts: dates, times and numbers written
//! straight into a line buffer, without `format!`.

use crate::ingest::dates::civil_from_days as civil;

fn two(out: &mut Vec<u8>, v: u32) {
    out.push(b'0' + (v / 10 % 10) as u8);
    out.push(b'0' + (v % 10) as u8);
}

fn four(out: &mut Vec<u8>, v: i64) {
    let v = v.rem_euclid(10_000) as u32;
    two(out, v / 100);
    two(out, v % 100);
}

/// `dd/mm/yyyy`.
pub fn dmy(out: &mut Vec<u8>, days: i64) {
    let (y, m, d) = civil(days);
    two(out, d);
    out.push(b'/');
    two(out, m);
    out.push(b'/');
    four(out, y);
}

/// `yyyy-mm-dd`.
pub fn ymd(out: &mut Vec<u8>, days: i64) {
    let (y, m, d) = civil(days);
    four(out, y);
    out.push(b'-');
    two(out, m);
    out.push(b'-');
    two(out, d);
}

/// `HH:MM:SS` of minutes since midnight.
pub fn hms(out: &mut Vec<u8>, minutes: i64) {
    let m = minutes.rem_euclid(1440) as u32;
    two(out, m / 60);
    out.push(b':');
    two(out, m % 60);
    out.extend_from_slice(b":00");
}

/// `yyyy-mm-dd HH:MM` of minutes since 1970-01-01T00:00.
pub fn ymd_hm(out: &mut Vec<u8>, minutes: i64) {
    ymd(out, minutes.div_euclid(1440));
    out.push(b' ');
    let m = minutes.rem_euclid(1440) as u32;
    two(out, m / 60);
    out.push(b':');
    two(out, m % 60);
}

/// A non-negative integer.
pub fn int(out: &mut Vec<u8>, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        let d = crate::ingest::dates::days_from_civil(2026, 9, 3) as i64;
        let mut s = Vec::new();
        dmy(&mut s, d);
        s.push(b',');
        ymd(&mut s, d);
        s.push(b',');
        hms(&mut s, 7 * 60 + 5);
        s.push(b',');
        ymd_hm(&mut s, d * 1440 + 23 * 60 + 59);
        s.push(b',');
        int(&mut s, 1_064_891_000_000_107);
        s.push(b',');
        int(&mut s, 0);
        assert_eq!(
            String::from_utf8(s).unwrap(),
            "03/09/2026,2026-09-03,07:05:00,2026-09-03 23:59,1064891000000107,0"
        );
    }
}
