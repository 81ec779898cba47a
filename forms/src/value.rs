//! The Rust types a form field can be, and how submitted text becomes one.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};

use crate::data::UploadedFile;
use crate::field::{Field, FieldKind, is_checked};

/// What was submitted for one field: its texts (several for a multi-select)
/// and the uploaded file, if any.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    /// The submitted texts, in order.
    pub values: &'a [String],
    /// The uploaded file, for file fields.
    pub file: Option<&'a UploadedFile>,
}

impl Input<'_> {
    /// The first submitted text, trimmed (empty when nothing was sent).
    pub fn text(&self) -> &str {
        self.values.first().map_or("", |v| v.trim())
    }

    /// Whether nothing (or only blanks) was submitted.
    pub fn is_empty(&self) -> bool {
        self.file.is_none() && self.values.iter().all(|v| v.trim().is_empty())
    }
}

/// A Rust type a `#[derive(Form)]` field can have: its default form field
/// and how a valid submission becomes a value. The field's own checks
/// (required, lengths, choices, number bounds, formats) have passed when
/// `clean` runs.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a form field",
    label = "not a form field type",
    note = "form fields are String, bool, i32, i64, u32, u64, f64, chrono's NaiveDate, NaiveTime, NaiveDateTime and DateTime<Utc>, Vec<String> (a multi-select), UploadedFile, or an Option of one; or implement tack_forms::FormValue for your type"
)]
pub trait FormValue: Sized {
    /// The field a struct field of this type gets: kind, widget, required.
    fn field(name: &str) -> Field;

    /// The typed value, or the message shown beside the field.
    fn clean(input: Input<'_>) -> Result<Self, String>;
}

impl FormValue for String {
    fn field(name: &str) -> Field {
        Field::new(name, FieldKind::Text)
    }

    fn clean(input: Input<'_>) -> Result<Self, String> {
        Ok(input.text().to_owned())
    }
}

impl FormValue for bool {
    fn field(name: &str) -> Field {
        Field::new(name, FieldKind::Boolean)
    }

    fn clean(input: Input<'_>) -> Result<Self, String> {
        Ok(is_checked(input.text()))
    }
}

macro_rules! integers {
    ($($ty:ty),*) => {$(
        impl FormValue for $ty {
            fn field(name: &str) -> Field {
                let field = Field::new(name, FieldKind::Integer);
                if <$ty>::MIN == 0 { field.min(0.0) } else { field }
            }

            fn clean(input: Input<'_>) -> Result<Self, String> {
                input.text().parse().map_err(|_| format!(
                    "Ensure this value is between {} and {}.",
                    <$ty>::MIN,
                    <$ty>::MAX
                ))
            }
        }
    )*};
}

integers!(i32, i64, u32, u64);

impl FormValue for f64 {
    fn field(name: &str) -> Field {
        Field::new(name, FieldKind::Float)
    }

    fn clean(input: Input<'_>) -> Result<Self, String> {
        input
            .text()
            .parse()
            .map_err(|_| "Enter a number.".to_owned())
    }
}

impl FormValue for NaiveDate {
    fn field(name: &str) -> Field {
        Field::new(name, FieldKind::Date)
    }

    fn clean(input: Input<'_>) -> Result<Self, String> {
        parse_date(input.text()).ok_or_else(|| "Enter a valid date.".to_owned())
    }
}

impl FormValue for NaiveTime {
    fn field(name: &str) -> Field {
        Field::new(name, FieldKind::Time)
    }

    fn clean(input: Input<'_>) -> Result<Self, String> {
        parse_time(input.text()).ok_or_else(|| "Enter a valid time.".to_owned())
    }
}

impl FormValue for NaiveDateTime {
    fn field(name: &str) -> Field {
        Field::new(name, FieldKind::DateTime)
    }

    fn clean(input: Input<'_>) -> Result<Self, String> {
        parse_datetime(input.text()).ok_or_else(|| "Enter a valid date/time.".to_owned())
    }
}

/// A browser's `datetime-local` carries no zone: it is read as UTC.
impl FormValue for DateTime<Utc> {
    fn field(name: &str) -> Field {
        Field::new(name, FieldKind::DateTime)
    }

    fn clean(input: Input<'_>) -> Result<Self, String> {
        NaiveDateTime::clean(input).map(|t| t.and_utc())
    }
}

/// A multi-select: every submitted value.
impl FormValue for Vec<String> {
    fn field(name: &str) -> Field {
        Field::new(name, FieldKind::MultipleChoice)
    }

    fn clean(input: Input<'_>) -> Result<Self, String> {
        Ok(input
            .values
            .iter()
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .collect())
    }
}

impl FormValue for UploadedFile {
    fn field(name: &str) -> Field {
        Field::new(name, FieldKind::File)
    }

    fn clean(input: Input<'_>) -> Result<Self, String> {
        input
            .file
            .cloned()
            .ok_or_else(|| "No file was submitted.".to_owned())
    }
}

/// Not required: nothing submitted is `None`.
impl<T: FormValue> FormValue for Option<T> {
    fn field(name: &str) -> Field {
        T::field(name).required(false)
    }

    fn clean(input: Input<'_>) -> Result<Self, String> {
        if input.is_empty() {
            Ok(None)
        } else {
            T::clean(input).map(Some)
        }
    }
}

/// `2024-05-01`.
pub(crate) fn parse_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()
}

/// `09:30`, `09:30:15` or `09:30:15.250`.
pub(crate) fn parse_time(text: &str) -> Option<NaiveTime> {
    let text = text.trim();
    ["%H:%M", "%H:%M:%S", "%H:%M:%S%.f"]
        .iter()
        .find_map(|format| NaiveTime::parse_from_str(text, format).ok())
}

/// `2024-05-01T09:30` (a browser's `datetime-local`), with seconds, with a
/// space instead of the `T`, or RFC 3339 with an offset (turned into UTC).
pub(crate) fn parse_datetime(text: &str) -> Option<NaiveDateTime> {
    let text = text.trim();
    if let Ok(aware) = DateTime::parse_from_rfc3339(text) {
        return Some(aware.naive_utc());
    }
    let text = text.replacen(' ', "T", 1);
    [
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M:%S%.f",
    ]
    .iter()
    .find_map(|format| NaiveDateTime::parse_from_str(&text, format).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(values: &[String]) -> Input<'_> {
        Input { values, file: None }
    }

    #[test]
    fn texts_become_values() {
        let v = |s: &str| vec![s.to_owned()];
        assert_eq!(String::clean(input(&v("  hi "))), Ok("hi".to_owned()));
        assert_eq!(bool::clean(input(&v("on"))), Ok(true));
        assert_eq!(bool::clean(input(&[])), Ok(false));
        assert_eq!(i32::clean(input(&v("-7"))), Ok(-7));
        assert!(i32::clean(input(&v("9999999999"))).is_err());
        assert_eq!(Option::<i64>::clean(input(&v(" "))), Ok(None));
        assert_eq!(
            NaiveDateTime::clean(input(&v("2024-05-01T09:30"))).map(|t| t.to_string()),
            Ok("2024-05-01 09:30:00".to_owned())
        );
        assert_eq!(
            DateTime::<Utc>::clean(input(&v("2024-05-01T09:30:00+02:00"))).map(|t| t.to_rfc3339()),
            Ok("2024-05-01T07:30:00+00:00".to_owned())
        );
        assert_eq!(
            NaiveTime::clean(input(&v("09:30"))).map(|t| t.to_string()),
            Ok("09:30:00".to_owned())
        );
        assert_eq!(
            Vec::<String>::clean(input(&["a".into(), "".into(), "b".into()])),
            Ok(vec!["a".to_owned(), "b".to_owned()])
        );
        assert!(!u32::field("n").required || u32::field("n").min == Some(0.0));
        assert!(!Option::<String>::field("n").required);
    }
}
