//! Dates as exports write them: `2024-03-01`, `2024/3/1`, `2024年3月1日`,
//! `2024.03.01`, with a time part or not, and Excel serial numbers.

use chrono::NaiveDate;

/// Parses a date cell; `None` when it is not a date in any known form.
pub fn parse_date(raw: &str) -> Option<NaiveDate> {
    let s = crate::text::normalize::fold_width(raw);
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Some(d) = parse_excel_serial(s) {
        return Some(d);
    }
    // Drop a time part: `2024-03-01 00:00:00`, `2024-03-01T00:00:00`.
    let date_part = s.split([' ', 'T']).next().unwrap_or(s);
    let unified: String = date_part
        .trim_end_matches('日')
        .chars()
        .map(|c| {
            if matches!(c, '/' | '.' | '年' | '月') {
                '-'
            } else {
                c
            }
        })
        .collect();
    let mut parts = unified.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || y.len() != 4 {
        return None;
    }
    NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
}

/// Excel stores dates as days since 1899-12-30 (serials 1 to 2958465).
fn parse_excel_serial(s: &str) -> Option<NaiveDate> {
    let v: f64 = s.parse().ok()?;
    excel_serial_to_date(v)
}

pub fn excel_serial_to_date(v: f64) -> Option<NaiveDate> {
    if !(1.0..2_958_466.0).contains(&v) {
        return None;
    }
    let base = NaiveDate::from_ymd_opt(1899, 12, 30)?;
    base.checked_add_signed(chrono::Duration::days(v.trunc() as i64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, day)
    }

    #[test]
    fn all_forms() {
        assert_eq!(parse_date("2024-03-01"), d(2024, 3, 1));
        assert_eq!(parse_date("2024/3/1"), d(2024, 3, 1));
        assert_eq!(parse_date("2024年03月01日"), d(2024, 3, 1));
        assert_eq!(parse_date("2024.03.01"), d(2024, 3, 1));
        assert_eq!(parse_date("2024-03-01 00:00:00"), d(2024, 3, 1));
        assert_eq!(parse_date("45352"), d(2024, 3, 1));
        assert_eq!(parse_date("45352.0"), d(2024, 3, 1));
        assert_eq!(parse_date("２０２４－０３－０１"), d(2024, 3, 1));
        assert_eq!(parse_date("2024-02-30"), None);
        assert_eq!(parse_date("长期"), None);
        assert_eq!(parse_date(""), None);
    }

    proptest! {
        #[test]
        fn forms_agree(days in 0i64..40000) {
            let date = NaiveDate::from_ymd_opt(1990, 1, 1).unwrap() + chrono::Duration::days(days);
            let iso = date.format("%Y-%m-%d").to_string();
            let slash = date.format("%Y/%-m/%-d").to_string();
            let zh = date.format("%Y年%m月%d日").to_string();
            let serial = (date - NaiveDate::from_ymd_opt(1899, 12, 30).unwrap()).num_days().to_string();
            prop_assert_eq!(parse_date(&iso), Some(date));
            prop_assert_eq!(parse_date(&slash), Some(date));
            prop_assert_eq!(parse_date(&zh), Some(date));
            prop_assert_eq!(parse_date(&serial), Some(date));
        }
    }
}
