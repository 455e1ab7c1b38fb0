//! Review stage, on the web: the dashboard's charts as inline SVG, drawn on
//! the server. No script and no chart library, so they show under the strict
//! content security policy, print well and need no internet.

use std::fmt::Write;

/// Colours of series and bars, in order.
pub const PALETTE: [&str; 8] = [
    "#c0392b", "#2e86c1", "#d68910", "#27ae60", "#8e44ad", "#16a085", "#7f8c8d", "#e74c3c",
];

/// Escapes text for SVG (XML).
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn empty(width: u32, height: u32) -> String {
    format!(
        "<svg class=\"chart\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"暂无数据\" xmlns=\"http://www.w3.org/2000/svg\">\
         <text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#888\" font-size=\"13\">暂无数据</text></svg>",
        width / 2,
        height / 2
    )
}

/// A "nice" upper bound for an axis: 1, 2 or 5 times a power of ten, and at
/// least 4 so that the four ticks of the axis are whole numbers apart.
pub fn nice_max(v: i64) -> i64 {
    if v <= 4 {
        return 4;
    }
    let mut step = 1i64;
    loop {
        for m in [1, 2, 5] {
            if step * m >= v {
                return step * m;
            }
        }
        step = step.saturating_mul(10);
    }
}

/// Horizontal bars: one per item, label on the left, count on the right.
pub fn hbars(items: &[(String, i64, &str)], width: u32) -> String {
    let row = 24u32;
    let height = row * items.len().max(1) as u32 + 8;
    if items.iter().all(|(_, v, _)| *v == 0) {
        return empty(width, 60);
    }
    let max = items.iter().map(|(_, v, _)| *v).max().unwrap_or(1).max(1) as f64;
    let label_w = 120f64;
    let value_w = 64f64;
    let bar_w = width as f64 - label_w - value_w - 8.0;
    let mut svg = format!(
        "<svg class=\"chart\" viewBox=\"0 0 {width} {height}\" role=\"img\" xmlns=\"http://www.w3.org/2000/svg\" font-size=\"12\">"
    );
    for (i, (label, value, colour)) in items.iter().enumerate() {
        let y = 4 + i as u32 * row;
        let w = (*value as f64 / max * bar_w).max(if *value > 0 { 1.0 } else { 0.0 });
        let _ = write!(
            svg,
            "<text x=\"{lx}\" y=\"{ty}\" text-anchor=\"end\" fill=\"#333\">{label}</text>\
             <rect x=\"{bx}\" y=\"{y}\" width=\"{w:.1}\" height=\"{h}\" fill=\"{colour}\"><title>{label}：{value}</title></rect>\
             <text x=\"{vx:.1}\" y=\"{ty}\" fill=\"#333\">{value}</text>",
            lx = label_w - 6.0,
            ty = y + 15,
            label = esc(label),
            bx = label_w,
            h = row - 6,
            colour = esc(colour),
            vx = label_w + w + 4.0,
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Vertical columns with labels below (days, age buckets).
pub fn columns(items: &[(String, i64)], width: u32, height: u32, colour: &str) -> String {
    if items.is_empty() || items.iter().all(|(_, v)| *v == 0) {
        return empty(width, height);
    }
    let (left, bottom, top) = (44f64, 36f64, 10f64);
    let plot_w = width as f64 - left - 8.0;
    let plot_h = height as f64 - bottom - top;
    let max = nice_max(items.iter().map(|(_, v)| *v).max().unwrap_or(1));
    let slot = plot_w / items.len() as f64;
    let bar = (slot * 0.7).max(1.0);
    let mut svg = format!(
        "<svg class=\"chart\" viewBox=\"0 0 {width} {height}\" role=\"img\" xmlns=\"http://www.w3.org/2000/svg\" font-size=\"11\">"
    );
    axis(&mut svg, left, top, plot_w, plot_h, max);
    let every = (items.len() / 12).max(1);
    for (i, (label, value)) in items.iter().enumerate() {
        let h = *value as f64 / max as f64 * plot_h;
        let x = left + i as f64 * slot + (slot - bar) / 2.0;
        let y = top + plot_h - h;
        let _ = write!(
            svg,
            "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{bar:.1}\" height=\"{h:.1}\" fill=\"{c}\"><title>{l}：{value}</title></rect>",
            c = esc(colour),
            l = esc(label),
        );
        if i % every == 0 {
            let _ = write!(
                svg,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#555\">{}</text>",
                x + bar / 2.0,
                top + plot_h + 16.0,
                esc(label)
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

fn axis(svg: &mut String, left: f64, top: f64, plot_w: f64, plot_h: f64, max: i64) {
    for k in 0..=4 {
        let v = max * k / 4;
        let y = top + plot_h - plot_h * k as f64 / 4.0;
        let _ = write!(
            svg,
            "<line x1=\"{left}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#e3e3e3\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#777\">{v}</text>",
            left + plot_w,
            left - 4.0,
            y + 4.0
        );
    }
}

/// Lines over the same x labels, one per series, with a legend.
pub fn lines(
    x_labels: &[String],
    series: &[(String, Vec<i64>)],
    width: u32,
    height: u32,
) -> String {
    if x_labels.is_empty() || series.iter().all(|(_, v)| v.iter().all(|n| *n == 0)) {
        return empty(width, height);
    }
    let (left, bottom, top, legend_h) = (52f64, 36f64, 10f64, 20f64);
    let plot_w = width as f64 - left - 12.0;
    let plot_h = height as f64 - bottom - top - legend_h;
    let max = nice_max(
        series
            .iter()
            .flat_map(|(_, v)| v.iter().copied())
            .max()
            .unwrap_or(1),
    );
    let n = x_labels.len();
    let x_at = |i: usize| {
        if n == 1 {
            left + plot_w / 2.0
        } else {
            left + plot_w * i as f64 / (n - 1) as f64
        }
    };
    let y_at = |v: i64| top + legend_h + plot_h - v as f64 / max as f64 * plot_h;
    let mut svg = format!(
        "<svg class=\"chart\" viewBox=\"0 0 {width} {height}\" role=\"img\" xmlns=\"http://www.w3.org/2000/svg\" font-size=\"11\">"
    );
    axis(&mut svg, left, top + legend_h, plot_w, plot_h, max);
    let mut lx = left;
    for (s, (name, values)) in series.iter().enumerate() {
        let colour = PALETTE[s % PALETTE.len()];
        let _ = write!(
            svg,
            "<rect x=\"{lx:.1}\" y=\"{:.1}\" width=\"10\" height=\"10\" fill=\"{colour}\"/><text x=\"{:.1}\" y=\"{:.1}\" fill=\"#333\">{}</text>",
            top,
            lx + 14.0,
            top + 9.0,
            esc(name)
        );
        lx += 24.0 + name.chars().count() as f64 * 12.0;
        let points: Vec<String> = values
            .iter()
            .enumerate()
            .map(|(i, v)| format!("{:.1},{:.1}", x_at(i), y_at(*v)))
            .collect();
        let _ = write!(
            svg,
            "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{}\"/>",
            points.join(" ")
        );
        for (i, v) in values.iter().enumerate() {
            let _ = write!(
                svg,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{colour}\"><title>{} {}：{v}</title></circle>",
                x_at(i),
                y_at(*v),
                esc(name),
                esc(&x_labels[i])
            );
        }
    }
    let every = (n / 10).max(1);
    for (i, label) in x_labels.iter().enumerate().filter(|(i, _)| i % every == 0) {
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#555\">{}</text>",
            x_at(i),
            top + legend_h + plot_h + 16.0,
            esc(label)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Horizontal stacked bars: one bar per row (label on the left, total on
/// the right), one segment per series, with a legend above. `series` is
/// (name, colour); each row's values follow its order.
pub fn stacked_hbars(rows: &[(String, Vec<i64>)], series: &[(&str, &str)], width: u32) -> String {
    let (row, legend_h) = (26u32, 24u32);
    let height = legend_h + row * rows.len().max(1) as u32 + 6;
    let total = |v: &[i64]| v.iter().sum::<i64>();
    if rows.iter().all(|(_, v)| total(v) == 0) {
        return empty(width, 60);
    }
    let max = rows.iter().map(|(_, v)| total(v)).max().unwrap_or(1).max(1) as f64;
    let (label_w, value_w) = (120f64, 56f64);
    let bar_w = width as f64 - label_w - value_w - 8.0;
    let mut svg = format!(
        "<svg class=\"chart\" viewBox=\"0 0 {width} {height}\" role=\"img\" xmlns=\"http://www.w3.org/2000/svg\" font-size=\"12\">"
    );
    let mut lx = label_w;
    for (name, colour) in series {
        let _ = write!(
            svg,
            "<rect x=\"{lx:.1}\" y=\"4\" width=\"10\" height=\"10\" fill=\"{c}\"/><text x=\"{tx:.1}\" y=\"13\" fill=\"#333\">{n}</text>",
            c = esc(colour),
            tx = lx + 14.0,
            n = esc(name),
        );
        lx += 24.0 + name.chars().count() as f64 * 12.0;
    }
    for (i, (label, values)) in rows.iter().enumerate() {
        let y = legend_h + i as u32 * row;
        let _ = write!(
            svg,
            "<text x=\"{lx}\" y=\"{ty}\" text-anchor=\"end\" fill=\"#333\">{l}</text>",
            lx = label_w - 6.0,
            ty = y + 15,
            l = esc(label),
        );
        let mut x = label_w;
        for (k, v) in values.iter().enumerate().filter(|(_, v)| **v > 0) {
            let (name, colour) = series.get(k).copied().unwrap_or(("", "#999"));
            let w = (*v as f64 / max * bar_w).max(1.0);
            let _ = write!(
                svg,
                "<rect x=\"{x:.1}\" y=\"{y}\" width=\"{w:.1}\" height=\"{h}\" fill=\"{c}\"><title>{l} {n}：{v}</title></rect>",
                h = row - 8,
                c = esc(colour),
                l = esc(label),
                n = esc(name),
            );
            x += w;
        }
        let _ = write!(
            svg,
            "<text x=\"{vx:.1}\" y=\"{ty}\" fill=\"#333\">{t}</text>",
            vx = x + 4.0,
            ty = y + 15,
            t = total(values),
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped() {
        let svg = hbars(&[("<script>x</script>".into(), 3, "#000")], 400);
        assert!(!svg.contains("<script>"));
        assert!(svg.contains("&lt;script&gt;"));
        let svg = lines(&["a\"b".into()], &[("<s>".into(), vec![1])], 400, 200);
        assert!(!svg.contains("<s>") && svg.contains("a&quot;b"));
    }

    #[test]
    fn axis_bounds_are_round() {
        assert_eq!(nice_max(0), 4);
        assert_eq!(nice_max(2), 4);
        assert_eq!(nice_max(7), 10);
        assert_eq!(nice_max(11), 20);
        assert_eq!(nice_max(230), 500);
        assert_eq!(nice_max(1000), 1000);
    }

    #[test]
    fn empty_data_says_so() {
        assert!(columns(&[], 300, 150, "#000").contains("暂无数据"));
        assert!(hbars(&[("a".into(), 0, "#000")], 300).contains("暂无数据"));
        let svg = columns(
            &[("1天内".into(), 5), ("30天以上".into(), 10)],
            300,
            150,
            "#123",
        );
        assert_eq!(svg.matches("<rect").count(), 2);
    }

    #[test]
    fn stacked_bars_have_a_segment_per_nonzero_value() {
        let svg = stacked_hbars(
            &[
                ("<b>平台</b>".into(), vec![2, 0, 3]),
                ("jd".into(), vec![0, 0, 0]),
            ],
            &[("甲", "#111"), ("乙", "#222"), ("丙", "#333")],
            500,
        );
        assert_eq!(svg.matches("<rect").count(), 3 + 2, "legend plus segments");
        assert!(svg.contains("&lt;b&gt;平台&lt;/b&gt;") && !svg.contains("<b>"));
        assert!(svg.contains(">5</text>"), "the row's total");
        assert!(
            stacked_hbars(&[("a".into(), vec![0])], &[("甲", "#111")], 300).contains("暂无数据")
        );
    }
}
