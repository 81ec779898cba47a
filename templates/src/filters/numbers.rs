//! `intcomma` and `filesizeformat`.

use minijinja::value::{Value, ValueKind};

/// Inserts thousands separators into a decimal number written as text, or
/// `None` when the text is not such a number.
fn with_commas(text: &str) -> Option<String> {
    let (sign, unsigned) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", text),
    };
    let (whole, fraction) = match unsigned.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (unsigned, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || fraction.is_some_and(|f| !digits(f)) {
        return None;
    }
    let mut out = String::with_capacity(text.len() + whole.len() / 3);
    out.push_str(sign);
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if let Some(fraction) = fraction {
        out.push('.');
        out.push_str(fraction);
    }
    Some(out)
}

/// `{{ views|intcomma }}`: 4500 → 4,500; anything not a number is left as is.
pub(crate) fn intcomma(value: Value) -> Value {
    let text = match value.kind() {
        ValueKind::Number => value.to_string(),
        ValueKind::String => value.as_str().unwrap_or_default().trim().to_owned(),
        _ => return value,
    };
    match with_commas(&text) {
        Some(formatted) => Value::from(formatted),
        None => value,
    }
}

/// `{{ upload.size|filesizeformat }}`: "0 bytes", "1 byte", "13.6 KB",
/// "1.2 GB"; anything not a number counts as 0 bytes.
pub(crate) fn filesizeformat(value: Value) -> String {
    let bytes = match value.kind() {
        ValueKind::Number => f64::try_from(value).ok(),
        ValueKind::String => value.as_str().and_then(|s| s.trim().parse::<f64>().ok()),
        _ => None,
    };
    let bytes = bytes.filter(|b| b.is_finite()).map_or(0.0, f64::trunc);
    let negative = bytes < 0.0;
    let size = bytes.abs();
    const KB: f64 = 1024.0;
    let text = if size < KB {
        // Below 1024 the value is a small whole number.
        let count = size as u64;
        format!("{count} {}", if count == 1 { "byte" } else { "bytes" })
    } else {
        let units = [
            ("KB", KB),
            ("MB", KB * KB),
            ("GB", KB.powi(3)),
            ("TB", KB.powi(4)),
        ];
        match units.iter().find(|(_, unit)| size < unit * KB) {
            Some((name, unit)) => format!("{:.1} {name}", size / unit),
            None => format!("{:.1} PB", size / KB.powi(5)),
        }
    };
    if negative { format!("-{text}") } else { text }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commas_only_for_numbers() {
        for (text, expected) in [
            ("0", Some("0")),
            ("999", Some("999")),
            ("1000", Some("1,000")),
            ("-1234567.25", Some("-1,234,567.25")),
            ("12a", None),
            ("1.2.3", None),
            ("", None),
            ("-", None),
        ] {
            assert_eq!(with_commas(text).as_deref(), expected, "{text}");
        }
    }
}
