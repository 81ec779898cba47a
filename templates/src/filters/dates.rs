//! `date`, `time`, `timesince`, `timeuntil` and `naturaltime`.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, Timelike, Utc};
use minijinja::value::Value;
use minijinja::{Error, ErrorKind};

/// A moment read from a template value: `None` for none/undefined.
pub(crate) fn to_datetime(
    value: &Value,
    filter: &str,
) -> Result<Option<DateTime<FixedOffset>>, Error> {
    if value.is_undefined() || value.is_none() {
        return Ok(None);
    }
    let parsed = if value.is_number() {
        from_timestamp(value)
    } else if let Some(text) = value.as_str() {
        parse_text(text.trim())
    } else {
        None
    };
    match parsed {
        Some(moment) => Ok(Some(moment)),
        None => Err(Error::new(
            ErrorKind::InvalidOperation,
            format!(
                "{filter}: cannot read {value:?} as a date; expected an RFC 3339 string \
                 (2024-05-01T09:30:00Z), a YYYY-MM-DD date or a Unix timestamp"
            ),
        )),
    }
}

fn from_timestamp(value: &Value) -> Option<DateTime<FixedOffset>> {
    let moment = if let Some(secs) = value.as_i64() {
        DateTime::<Utc>::from_timestamp(secs, 0)?
    } else {
        let secs = f64::try_from(value.clone()).ok()?;
        if !secs.is_finite() || secs.abs() > 1e15 {
            return None;
        }
        let whole = secs.floor();
        let nanos = ((secs - whole) * 1e9).round().clamp(0.0, 999_999_999.0) as u32;
        DateTime::<Utc>::from_timestamp(whole as i64, nanos)?
    };
    Some(moment.fixed_offset())
}

fn parse_text(text: &str) -> Option<DateTime<FixedOffset>> {
    if let Ok(moment) = DateTime::parse_from_rfc3339(text) {
        return Some(moment);
    }
    for format in ["%Y-%m-%d %H:%M:%S%.f%:z", "%Y-%m-%d %H:%M:%S%.f%#z"] {
        if let Ok(moment) = DateTime::parse_from_str(text, format) {
            return Some(moment);
        }
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(text, format) {
            return Some(naive.and_utc().fixed_offset());
        }
    }
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Some(date.and_hms_opt(0, 0, 0)?.and_utc().fixed_offset());
    }
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return DateTime::<Utc>::from_timestamp(text.parse().ok()?, 0).map(|m| m.fixed_offset());
    }
    None
}

/// Django's named formats, in their English defaults.
fn named_format(format: &str) -> &str {
    match format {
        "DATE_FORMAT" => "N j, Y",
        "DATETIME_FORMAT" => "N j, Y, P",
        "SHORT_DATE_FORMAT" => "m/d/Y",
        "SHORT_DATETIME_FORMAT" => "m/d/Y P",
        "TIME_FORMAT" => "P",
        "YEAR_MONTH_FORMAT" => "F Y",
        "MONTH_DAY_FORMAT" => "F j",
        other => other,
    }
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const MONTHS_AP: [&str; 12] = [
    "Jan.", "Feb.", "March", "April", "May", "June", "July", "Aug.", "Sept.", "Oct.", "Nov.",
    "Dec.",
];
const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

fn hour12(hour: u32) -> u32 {
    match hour % 12 {
        0 => 12,
        h => h,
    }
}

fn offset_text(seconds: i32, colon: bool) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let minutes = seconds.unsigned_abs() / 60;
    if colon {
        format!("{sign}{:02}:{:02}", minutes / 60, minutes % 60)
    } else {
        format!("{sign}{:02}{:02}", minutes / 60, minutes % 60)
    }
}

fn days_in_month(year: i32, month: u32) -> u32 {
    let (next_year, next_month) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    NaiveDate::from_ymd_opt(next_year, next_month, 1)
        .and_then(|d| d.pred_opt())
        .map_or(31, |d| d.day())
}

fn ordinal_suffix(day: u32) -> &'static str {
    match (day % 10, day % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    }
}

/// Formats like Django's `date` filter (its format characters; `\` escapes).
pub(crate) fn format_django(moment: &DateTime<FixedOffset>, format: &str) -> String {
    let mut out = String::with_capacity(format.len() * 3);
    let mut chars = format.chars();
    let month0 = moment.month0() as usize;
    let weekday = moment.weekday().num_days_from_monday() as usize;
    let offset = moment.offset().local_minus_utc();
    while let Some(c) = chars.next() {
        let (h, m, s) = (moment.hour(), moment.minute(), moment.second());
        match c {
            '\\' => {
                if let Some(next) = chars.next() {
                    out.push(next);
                }
            }
            'a' => out.push_str(if h < 12 { "a.m." } else { "p.m." }),
            'A' => out.push_str(if h < 12 { "AM" } else { "PM" }),
            'b' => out.push_str(&MONTHS[month0][..3].to_ascii_lowercase()),
            'c' => out.push_str(&iso_format(moment)),
            'd' => out.push_str(&format!("{:02}", moment.day())),
            'D' => out.push_str(&DAYS[weekday][..3]),
            'e' | 'T' => {
                if offset == 0 {
                    out.push_str("UTC");
                } else {
                    out.push_str(&offset_text(offset, true));
                }
            }
            'E' | 'F' => out.push_str(MONTHS[month0]),
            'f' => {
                if m == 0 {
                    out.push_str(&hour12(h).to_string());
                } else {
                    out.push_str(&format!("{}:{m:02}", hour12(h)));
                }
            }
            'g' => out.push_str(&hour12(h).to_string()),
            'G' => out.push_str(&h.to_string()),
            'h' => out.push_str(&format!("{:02}", hour12(h))),
            'H' => out.push_str(&format!("{h:02}")),
            'i' => out.push_str(&format!("{m:02}")),
            'I' => out.push('0'),
            'j' => out.push_str(&moment.day().to_string()),
            'l' => out.push_str(DAYS[weekday]),
            'L' => out.push_str(if days_in_month(moment.year(), 2) == 29 {
                "True"
            } else {
                "False"
            }),
            'm' => out.push_str(&format!("{:02}", moment.month())),
            'M' => out.push_str(&MONTHS[month0][..3]),
            'n' => out.push_str(&moment.month().to_string()),
            'N' => out.push_str(MONTHS_AP[month0]),
            'o' => out.push_str(&moment.iso_week().year().to_string()),
            'O' => out.push_str(&offset_text(offset, false)),
            'P' => {
                if m == 0 && h == 0 {
                    out.push_str("midnight");
                } else if m == 0 && h == 12 {
                    out.push_str("noon");
                } else {
                    if m == 0 {
                        out.push_str(&hour12(h).to_string());
                    } else {
                        out.push_str(&format!("{}:{m:02}", hour12(h)));
                    }
                    out.push_str(if h < 12 { " a.m." } else { " p.m." });
                }
            }
            'r' => out.push_str(&format_django(moment, "D, j M Y H:i:s O")),
            's' => out.push_str(&format!("{s:02}")),
            'S' => out.push_str(ordinal_suffix(moment.day())),
            't' => out.push_str(&days_in_month(moment.year(), moment.month()).to_string()),
            'u' => out.push_str(&format!("{:06}", moment.nanosecond() / 1000 % 1_000_000)),
            'U' => out.push_str(&moment.timestamp().to_string()),
            'w' => out.push_str(&moment.weekday().num_days_from_sunday().to_string()),
            'W' => out.push_str(&moment.iso_week().week().to_string()),
            'y' => out.push_str(&format!("{:02}", moment.year().rem_euclid(100))),
            'Y' => out.push_str(&moment.year().to_string()),
            'z' => out.push_str(&moment.ordinal().to_string()),
            'Z' => out.push_str(&offset.to_string()),
            other => out.push(other),
        }
    }
    out
}

/// ISO 8601 as Python's `isoformat()` writes it.
fn iso_format(moment: &DateTime<FixedOffset>) -> String {
    let micros = moment.nanosecond() / 1000 % 1_000_000;
    let mut out = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        moment.year(),
        moment.month(),
        moment.day(),
        moment.hour(),
        moment.minute(),
        moment.second()
    );
    if micros > 0 {
        out.push_str(&format!(".{micros:06}"));
    }
    out.push_str(&offset_text(moment.offset().local_minus_utc(), true));
    out
}

/// `{{ article.published_at|date("N j, Y") }}`: Django's format characters;
/// the default is `N j, Y`. None and undefined give an empty string.
pub(crate) fn date(value: Value, format: Option<&str>) -> Result<String, Error> {
    let Some(moment) = to_datetime(&value, "date")? else {
        return Ok(String::new());
    };
    Ok(format_django(
        &moment,
        named_format(format.unwrap_or("DATE_FORMAT")),
    ))
}

/// `{{ value|time }}`: like `date`, with `P` as the default format.
pub(crate) fn time(value: Value, format: Option<&str>) -> Result<String, Error> {
    let Some(moment) = to_datetime(&value, "time")? else {
        return Ok(String::new());
    };
    Ok(format_django(
        &moment,
        named_format(format.unwrap_or("TIME_FORMAT")),
    ))
}

fn now_or(value: Option<Value>, filter: &str) -> Result<DateTime<FixedOffset>, Error> {
    match value {
        Some(value) => {
            Ok(to_datetime(&value, filter)?.unwrap_or_else(|| Utc::now().fixed_offset()))
        }
        None => Ok(Utc::now().fixed_offset()),
    }
}

const UNITS: [(i64, &str, &str); 6] = [
    (60 * 60 * 24 * 365, "year", "years"),
    (60 * 60 * 24 * 30, "month", "months"),
    (60 * 60 * 24 * 7, "week", "weeks"),
    (60 * 60 * 24, "day", "days"),
    (60 * 60, "hour", "hours"),
    (60, "minute", "minutes"),
];

fn unit_text(count: i64, singular: &str, plural: &str) -> String {
    format!("{count} {}", if count == 1 { singular } else { plural })
}

/// Django's `timesince` text for a span of seconds: up to two adjacent units,
/// `0 minutes` for anything under a minute or negative.
pub(crate) fn span_text(seconds: i64) -> String {
    if seconds < 60 {
        return "0 minutes".to_owned();
    }
    for (i, (size, singular, plural)) in UNITS.iter().enumerate() {
        let count = seconds / size;
        if count == 0 {
            continue;
        }
        let mut out = unit_text(count, singular, plural);
        if let Some((next_size, next_singular, next_plural)) = UNITS.get(i + 1) {
            let next = (seconds - count * size) / next_size;
            if next > 0 {
                out.push_str(", ");
                out.push_str(&unit_text(next, next_singular, next_plural));
            }
        }
        return out;
    }
    "0 minutes".to_owned()
}

/// `{{ comment.created_at|timesince }}` or `timesince(now)`: "3 days, 2 hours".
pub(crate) fn timesince(value: Value, now: Option<Value>) -> Result<String, Error> {
    let Some(moment) = to_datetime(&value, "timesince")? else {
        return Ok(String::new());
    };
    let now = now_or(now, "timesince")?;
    Ok(span_text((now - moment).num_seconds()))
}

/// `{{ event.starts_at|timeuntil }}` or `timeuntil(now)`: "2 weeks, 1 day".
pub(crate) fn timeuntil(value: Value, now: Option<Value>) -> Result<String, Error> {
    let Some(moment) = to_datetime(&value, "timeuntil")? else {
        return Ok(String::new());
    };
    let now = now_or(now, "timeuntil")?;
    Ok(span_text((moment - now).num_seconds()))
}

/// `{{ comment.created_at|naturaltime }}`: "now", "5 minutes ago",
/// "an hour from now", "2 days, 3 hours ago".
pub(crate) fn naturaltime(value: Value, now: Option<Value>) -> Result<String, Error> {
    let Some(moment) = to_datetime(&value, "naturaltime")? else {
        return Ok(String::new());
    };
    let now = now_or(now, "naturaltime")?;
    let delta = (now - moment).num_seconds();
    let (seconds, suffix) = if delta >= 0 {
        (delta, "ago")
    } else {
        (-delta, "from now")
    };
    let text = match seconds {
        0 => return Ok("now".to_owned()),
        1 => "a second".to_owned(),
        2..=59 => format!("{seconds} seconds"),
        60..=119 => "a minute".to_owned(),
        120..=3599 => format!("{} minutes", seconds / 60),
        3600..=7199 => "an hour".to_owned(),
        7200..=86_399 => format!("{} hours", seconds / 3600),
        _ => span_text(seconds),
    };
    Ok(format!("{text} {suffix}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_input_shape() {
        let expected = "2024-05-01T09:30:00+00:00";
        for input in [
            Value::from("2024-05-01T09:30:00Z"),
            Value::from("2024-05-01T11:30:00+02:00"),
            Value::from("2024-05-01 09:30:00"),
            Value::from("2024-05-01T09:30:00.000"),
            Value::from(1_714_555_800_i64),
            Value::from(1_714_555_800.0_f64),
        ] {
            let moment = to_datetime(&input, "date").unwrap().unwrap();
            assert_eq!(
                iso_format(&moment.with_timezone(&Utc).fixed_offset()),
                expected,
                "{input:?}"
            );
        }
        assert!(to_datetime(&Value::from(()), "date").unwrap().is_none());
        assert!(to_datetime(&Value::from("yesterday"), "date").is_err());
        assert!(to_datetime(&Value::from(f64::NAN), "date").is_err());
    }

    #[test]
    fn spans_use_two_adjacent_units() {
        for (seconds, text) in [
            (-5, "0 minutes"),
            (59, "0 minutes"),
            (60, "1 minute"),
            (3600 + 120, "1 hour, 2 minutes"),
            (86_400 * 2 + 3600 * 3, "2 days, 3 hours"),
            (86_400 * 8, "1 week, 1 day"),
            (86_400 * 400, "1 year, 1 month"),
            (86_400 * 365 + 86_400, "1 year"),
        ] {
            assert_eq!(span_text(seconds), text, "{seconds}");
        }
    }
}
