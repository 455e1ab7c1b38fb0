//! Which encoding a CSV export is in: a BOM, valid UTF-8, or else a guess by
//! chardetng (GBK/GB18030 from Excel on Chinese Windows, in practice).

use encoding_rs::{Encoding, GB18030, UTF_8, UTF_16BE, UTF_16LE};

/// Detects the encoding of a file from its first bytes.
pub fn detect(prefix: &[u8], complete: bool) -> &'static Encoding {
    if let Some((enc, _)) = Encoding::for_bom(prefix) {
        return enc;
    }
    // A multi-byte character may be cut at the end of the prefix.
    match std::str::from_utf8(prefix) {
        Ok(_) => return UTF_8,
        Err(e) if e.error_len().is_none() && !complete => return UTF_8,
        Err(_) => {}
    }
    let mut det = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    det.feed(prefix, complete);
    let guess = det.guess(Some(b"cn"), chardetng::Utf8Detection::Allow);
    // GBK and GB2312 are subsets of GB18030: decode with the superset.
    if guess == encoding_rs::GBK || guess.name() == "gb18030" {
        GB18030
    } else {
        guess
    }
}

/// A short name for reports.
pub fn label(enc: &'static Encoding) -> &'static str {
    match enc {
        e if e == UTF_8 => "UTF-8",
        e if e == GB18030 => "GB18030",
        e if e == UTF_16LE => "UTF-16LE",
        e if e == UTF_16BE => "UTF-16BE",
        e => e.name(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_bom_utf8_and_gbk() {
        let text = "证书编号,证书状态,产品名称,规格型号,认证委托人名称\n2016010201931890,有效,转换器,GN-H3050,公牛集团股份有限公司\n";
        let mut bom = vec![0xEF, 0xBB, 0xBF];
        bom.extend_from_slice(text.as_bytes());
        assert_eq!(detect(&bom, true), UTF_8);
        assert_eq!(detect(text.as_bytes(), true), UTF_8);
        let (gbk, _, _) = GB18030.encode(text);
        assert_eq!(detect(&gbk, true), GB18030);
        // A prefix that ends inside a character is still UTF-8.
        let cut = &text.as_bytes()[..text.len() - 2];
        assert_eq!(detect(cut, false), UTF_8);
    }
}
