//! What a body's start says, decided across network chunks: whether a body declared
//! HTML starts like a page ([`HtmlSniff`]), and whether a body is blank ([`Blank`]).
//!
//! A login or error page served with 200 (a proxy, an expired link) is not the file. The
//! body's first bytes other than whitespace, after an optional UTF-8 byte order mark,
//! decide: a body declared HTML is a page when it starts with `<`; any other body when it
//! starts with a page's own opening, `<!DOCTYPE html` or `<html` (any case): a proxy may
//! label its page `text/csv`, and no extract starts so. Those bytes may come in any chunk (a first chunk of
//! whitespace only, a BOM split across two), so the start is kept until it decides. A
//! body of only a BOM and whitespace is as empty as one of no bytes: no rows.

/// The UTF-8 byte order mark.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Watches the start of a body (see the module documentation).
#[derive(Debug)]
pub struct HtmlSniff {
    /// The start seen so far, while it has not decided: a BOM or part of one, and
    /// whitespace (kept to at most a few bytes: only a BOM's place matters).
    start: Vec<u8>,
    /// The decision, once made.
    decided: Option<bool>,
    /// Whether the response declared HTML (`Content-Type: text/html`).
    declared: bool,
}

impl HtmlSniff {
    /// A sniffer for a response with this `Content-Type`.
    pub fn new(content_type: Option<&str>) -> Self {
        let declared =
            content_type.is_some_and(|t| t.trim().to_ascii_lowercase().starts_with("text/html"));
        HtmlSniff {
            start: Vec::new(),
            decided: None,
            declared,
        }
    }

    /// Whether the response declared HTML.
    pub fn declared(&self) -> bool {
        self.declared
    }

    /// Takes the next chunk; `true` once the body is known to start like a page.
    pub fn feed(&mut self, chunk: &[u8]) -> bool {
        if let Some(d) = self.decided {
            return d;
        }
        self.start.extend_from_slice(chunk);
        match starts_like_page(&self.start, self.declared) {
            Some(d) => {
                self.decided = Some(d);
                self.start = Vec::new();
                d
            }
            None => {
                // A BOM (or its first bytes), whitespace, and perhaps the first bytes of
                // a page's opening so far: the whitespace can go.
                let bom = if self.start.starts_with(BOM) {
                    BOM.len()
                } else if BOM.starts_with(&self.start) {
                    self.start.len()
                } else {
                    0
                };
                let first = self.start[bom..]
                    .iter()
                    .position(|b| !b.is_ascii_whitespace())
                    .map_or(self.start.len(), |i| bom + i);
                self.start.drain(bom..first);
                false
            }
        }
    }
}

/// The openings that say a body is a page whatever it was declared as.
const PAGE_OPENINGS: [&[u8]; 2] = [b"<!doctype html", b"<html"];

/// `Some(true)` when `start` (a body's first bytes) begins, after an optional BOM and
/// whitespace, with `<` (`declared` HTML) or with one of [`PAGE_OPENINGS`], any case
/// (otherwise); `Some(false)` when with anything else; `None` while only a BOM, part of
/// one, whitespace, or the first bytes of an opening have come.
fn starts_like_page(start: &[u8], declared: bool) -> Option<bool> {
    if start.len() < BOM.len() && BOM.starts_with(start) {
        return None;
    }
    let rest = start.strip_prefix(BOM).unwrap_or(start);
    let at = rest.iter().position(|b| !b.is_ascii_whitespace())?;
    let rest = &rest[at..];
    if declared {
        return Some(rest[0] == b'<');
    }
    for opening in PAGE_OPENINGS {
        let n = rest.len().min(opening.len());
        if rest[..n].eq_ignore_ascii_case(&opening[..n]) {
            return (n == opening.len()).then_some(true);
        }
    }
    Some(false)
}

/// Whether a whole body is blank: nothing but an optional UTF-8 byte order mark at its
/// start and ASCII whitespace (an empty body is blank too).
#[derive(Debug)]
pub struct Blank {
    /// The body's first bytes, up to a BOM's length: where a BOM may be.
    head: Vec<u8>,
    /// False once a byte after the head is not whitespace.
    rest_blank: bool,
}

impl Default for Blank {
    fn default() -> Self {
        Blank {
            head: Vec::new(),
            rest_blank: true,
        }
    }
}

impl Blank {
    /// Takes the next chunk.
    pub fn feed(&mut self, chunk: &[u8]) {
        if !self.rest_blank {
            return;
        }
        let take = (BOM.len() - self.head.len()).min(chunk.len());
        self.head.extend_from_slice(&chunk[..take]);
        if !chunk[take..].iter().all(u8::is_ascii_whitespace) {
            self.rest_blank = false;
        }
    }

    /// Whether the body fed so far is blank.
    pub fn is_blank(&self) -> bool {
        let head = self.head.strip_prefix(BOM).unwrap_or(&self.head);
        self.rest_blank && head.iter().all(u8::is_ascii_whitespace)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blank(chunks: &[&[u8]]) -> bool {
        let mut b = Blank::default();
        chunks.iter().for_each(|c| b.feed(c));
        b.is_blank()
    }

    /// Regression (review): a body of only a BOM and/or whitespace was landed as the
    /// URL's current version (only a body of no bytes was refused).
    #[test]
    fn regression_a_body_of_only_a_bom_or_whitespace_is_blank() {
        assert!(blank(&[]));
        assert!(blank(&[b"\xEF\xBB\xBF"]));
        assert!(blank(&[b"\xEF", b"\xBB", b"\xBF\r\n", b"  \t\n"]));
        assert!(blank(&[b"\r\n", b"\n \n"]));
        assert!(!blank(&[b"\xEF\xBB\xBFa,b\n"]));
        assert!(!blank(&[b"\xEF\xBB\xBF\n", b"\n", b"x"]));
        assert!(!blank(&[b"a"]));
        // A partial BOM, or one that is not at the start, is not blank.
        assert!(!blank(&[b"\xEF\xBB"]));
        assert!(!blank(&[b" \xEF\xBB\xBF"]));
    }

    fn sniff(content_type: &str, chunks: &[&[u8]]) -> bool {
        let mut s = HtmlSniff::new(Some(content_type));
        chunks.iter().fold(false, |_, c| s.feed(c))
    }

    #[test]
    fn regression_an_html_page_is_told_apart() {
        assert!(sniff("text/html; charset=utf-8", &[b"\n <!DOCTYPE html>"]));
        assert!(!sniff("text/csv", &[b"<not,a,page>"]));
        assert!(!sniff("text/html", &[b"spell_id,provider\n"]));
    }

    #[test]
    fn regression_an_html_page_after_a_bom_or_a_chunk_of_whitespace_is_a_page() {
        // A BOM before the page, whole or split across chunks.
        assert!(sniff("text/html", &[b"\xEF\xBB\xBF<!DOCTYPE html>"]));
        assert!(sniff("text/html", &[b"\xEF\xBB", b"\xBF\r\n", b"<html>"]));
        assert!(sniff("text/html", &[b"\xEF", b"\xBB\xBF", b"  <html>"]));
        // A first chunk of whitespace only.
        assert!(sniff(
            "text/html",
            &[b"\r\n\r\n   ", b"\n", b"<!DOCTYPE html>"]
        ));
        assert!(sniff("text/html", &[&[b' '; 10_000], b"<html>"]));
        // Data after a BOM or whitespace is not a page; nor a BOM that is not at the start.
        assert!(!sniff("text/html", &[b"\xEF\xBB\xBFspell_id\n"]));
        assert!(!sniff("text/html", &[b"  ", b"spell_id\n", b"<b>"]));
        assert!(!sniff("text/html", &[b"  \xEF\xBB\xBF<html>"]));
        // Undeclared, a page is told by its own opening only (see below).
        assert!(sniff("text/plain", &[b"\xEF\xBB\xBF<html>"]));
        assert!(!sniff("text/plain", &[b"\xEF\xBB\xBF<b>"]));
    }

    fn page(content_type: Option<&str>, chunks: &[&[u8]]) -> bool {
        let mut sniff = HtmlSniff::new(content_type);
        chunks.iter().any(|c| sniff.feed(c))
    }

    /// Regression (review): a proxy's page served as `text/csv` (after a BOM and
    /// whitespace) was landed as the file: only a body declared HTML was looked at. A
    /// body of any type starting with a page's own opening is a page; one starting with
    /// any other `<` is not, unless declared HTML.
    #[test]
    fn regression_a_page_served_as_csv_is_told_by_its_opening() {
        let csv = Some("text/csv");
        assert!(page(csv, &[b"\xEF\xBB\xBF  \r\n<!DOCTYPE html><html>"]));
        assert!(page(
            csv,
            &[b"\xEF\xBB", b"\xBF\n", b"  <!doc", b"TYPE HTML>"]
        ));
        assert!(page(None, &[b"<HTML><body>Sign in</body></HTML>"]));
        assert!(!page(csv, &[b"APCS_Ident,NHS_Number\r\n1,999\r\n"]));
        assert!(!page(csv, &[b"<note>", b"not a page</note>"]));
        assert!(!page(csv, &[b"<ht", b"x,y\n"]));
        assert!(page(Some("text/html; charset=utf-8"), &[b"  <p>error</p>"]));
    }
}
