//! Crawl stage: turning fetched bytes into text.
//!
//! Order of evidence: a byte-order mark; the charset of the `Content-Type`
//! header; a `<meta charset>` or `<meta http-equiv>` anywhere in the page
//! (Alibaba pages declare it 100+ KB in); failing those, chardetng with the
//! host's top-level domain as hint. A declared legacy encoding is not
//! believed when the bytes are valid UTF-8 with non-ASCII text (shops re-save
//! GBK pages as UTF-8 and keep the old declaration); a declared UTF-8 that is
//! not valid UTF-8 falls back to detection. Decoding is WHATWG (encoding_rs):
//! GB2312 and GBK labels decode as GB18030-compatible GBK.

use encoding_rs::{Encoding, UTF_8};

/// Decoded text and how the encoding was chosen.
#[derive(Debug, Clone)]
pub struct Decoded {
    pub text: String,
    pub encoding: &'static Encoding,
    pub source: EncodingSource,
    /// Replacement characters produced (bytes that were not valid in the encoding).
    pub errors: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EncodingSource {
    Bom,
    Header,
    Meta,
    /// Declared otherwise, but the bytes are UTF-8.
    Utf8Bytes,
    Detected,
}

/// Decodes `bytes` given the `Content-Type` header and the host (for the TLD hint).
pub fn decode(bytes: &[u8], content_type: Option<&str>, host: Option<&str>) -> Decoded {
    if let Some((enc, bom_len)) = Encoding::for_bom(bytes) {
        return finish(&bytes[bom_len..], enc, EncodingSource::Bom);
    }
    let declared = content_type
        .and_then(charset_of_content_type)
        .map(|e| (e, EncodingSource::Header))
        .or_else(|| meta_charset(bytes).map(|e| (e, EncodingSource::Meta)));
    let utf8 = std::str::from_utf8(bytes).is_ok();
    match declared {
        Some((enc, src)) if enc == UTF_8 && utf8 => finish(bytes, UTF_8, src),
        Some((enc, _)) if enc != UTF_8 && utf8 && !bytes.is_ascii() => {
            finish(bytes, UTF_8, EncodingSource::Utf8Bytes)
        }
        Some((enc, src)) if enc != UTF_8 => finish(bytes, enc, src),
        _ if utf8 => finish(bytes, UTF_8, EncodingSource::Detected),
        _ => finish(bytes, detect(bytes, host), EncodingSource::Detected),
    }
}

fn finish(bytes: &[u8], enc: &'static Encoding, source: EncodingSource) -> Decoded {
    let (text, encoding, errors) = enc.decode(bytes);
    Decoded {
        text: text.into_owned(),
        encoding,
        source,
        errors,
    }
}

fn detect(bytes: &[u8], host: Option<&str>) -> &'static Encoding {
    let mut det = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    det.feed(bytes, true);
    let tld = host.and_then(|h| h.rsplit('.').next()).map(str::as_bytes);
    det.guess(tld, chardetng::Utf8Detection::Allow)
}

/// The encoding named by `charset=` in a Content-Type value.
pub fn charset_of_content_type(ct: &str) -> Option<&'static Encoding> {
    let lower = ct.to_ascii_lowercase();
    let i = lower.find("charset=")?;
    label_at(&ct.as_bytes()[i + 8..])
}

/// The first `<meta charset=…>` or `<meta http-equiv=content-type content="…charset=…">`.
pub fn meta_charset(bytes: &[u8]) -> Option<&'static Encoding> {
    let mut from = 0;
    while let Some(i) = find_meta(bytes, from) {
        let end = memchr::memchr(b'>', &bytes[i..]).map_or(bytes.len(), |e| i + e);
        let tag = &bytes[i..end];
        if let Some(enc) = charset_in_tag(tag) {
            return Some(enc);
        }
        from = end;
    }
    None
}

/// `<meta` in any letter case, from `from` on.
fn find_meta(bytes: &[u8], from: usize) -> Option<usize> {
    let mut pos = from;
    while pos < bytes.len() {
        let lt = memchr::memchr(b'<', &bytes[pos..])? + pos;
        if bytes.len() >= lt + 5 && bytes[lt + 1..lt + 5].eq_ignore_ascii_case(b"meta") {
            return Some(lt);
        }
        pos = lt + 1;
    }
    None
}

fn charset_in_tag(tag: &[u8]) -> Option<&'static Encoding> {
    let lower: Vec<u8> = tag.iter().map(u8::to_ascii_lowercase).collect();
    let i = memchr::memmem::find(&lower, b"charset")?;
    let mut rest = &tag[i + 7..];
    rest = trim_start(rest);
    rest = rest.strip_prefix(b"=")?;
    label_at(trim_start(rest))
}

fn trim_start(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|c| c.is_ascii_whitespace()).count();
    &b[n..]
}

/// An encoding label at the start of `b`, optionally quoted.
fn label_at(b: &[u8]) -> Option<&'static Encoding> {
    let b = trim_start(b);
    let b = b
        .strip_prefix(b"\"")
        .or_else(|| b.strip_prefix(b"'"))
        .unwrap_or(b);
    let len = b
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b':' | b'.'))
        .count();
    let enc = Encoding::for_label(&b[..len])?;
    // A page cannot really be UTF-16 when its meta tag was readable as ASCII.
    Some(
        if enc == encoding_rs::UTF_16LE || enc == encoding_rs::UTF_16BE {
            UTF_8
        } else {
            enc
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use encoding_rs::GBK;

    fn gbk(s: &str) -> Vec<u8> {
        GBK.encode(s).0.into_owned()
    }

    #[test]
    fn header_then_meta_then_detection() {
        let page = gbk("<html><head><meta charset=\"gbk\"></head><body>公牛插座</body></html>");
        let d = decode(&page, Some("text/html"), None);
        assert_eq!((d.encoding, d.source), (GBK, EncodingSource::Meta));
        assert!(d.text.contains("公牛插座"));
        let d = decode(&page, Some("text/html; charset=GB2312"), None);
        assert_eq!((d.encoding, d.source), (GBK, EncodingSource::Header));
        let bare = gbk("<html><body>公牛插座 五孔 正品 包邮 家用电器插线板</body></html>");
        let d = decode(&bare, None, Some("www.jd.com"));
        assert!(d.text.contains("公牛插座"), "{}", d.text);
    }

    #[test]
    fn meta_deep_in_the_page_and_http_equiv() {
        let mut page = b"<html><head><script>".to_vec();
        page.extend(std::iter::repeat_n(b'x', 200_000));
        page.extend(
            b"</script><META HTTP-EQUIV=\"Content-Type\" CONTENT=\"text/html; charset=GB2312\">",
        );
        page.extend(gbk("<title>电水壶</title>"));
        let d = decode(&page, None, None);
        assert_eq!((d.encoding, d.source), (GBK, EncodingSource::Meta));
        assert!(d.text.ends_with("<title>电水壶</title>"));
    }

    #[test]
    fn utf8_bytes_beat_a_stale_declaration() {
        let page = "<meta charset=gbk><p>电吹风</p>".as_bytes();
        let d = decode(page, None, None);
        assert_eq!((d.encoding, d.source), (UTF_8, EncodingSource::Utf8Bytes));
        assert!(d.text.contains("电吹风"));
    }

    #[test]
    fn bom_wins() {
        let mut page = vec![0xEF, 0xBB, 0xBF];
        page.extend("<meta charset=gbk>插座".as_bytes());
        let d = decode(&page, Some("text/html; charset=gbk"), None);
        assert_eq!((d.encoding, d.source), (UTF_8, EncodingSource::Bom));
        assert!(d.text.starts_with("<meta"));
    }
}
