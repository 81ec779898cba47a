//! The Django filters that Jinja lacks.
//!
//! | filter | example |
//! |---|---|
//! | `date(format)` | `{{ a.published_at\|date("N j, Y") }}` → `May 1, 2024` |
//! | `time(format)` | `{{ a.published_at\|time }}` → `9:30 a.m.` |
//! | `timesince(now)` | `{{ c.created_at\|timesince }}` → `3 days, 2 hours` |
//! | `timeuntil(now)` | `{{ e.starts_at\|timeuntil }}` → `2 weeks` |
//! | `naturaltime(now)` | `{{ c.created_at\|naturaltime }}` → `5 minutes ago` |
//! | `pluralize(suffix)` | `{{ n }} comment{{ n\|pluralize }}`, `pluralize("y,ies")` |
//! | `truncatewords(n)` | `{{ a.body\|truncatewords(30) }}` |
//! | `truncatechars(n)` | `{{ a.title\|truncatechars(40) }}` |
//! | `linebreaks` | `<p>` per paragraph, `<br>` per line; escapes first |
//! | `linebreaksbr` | `<br>` per line; escapes first |
//! | `intcomma` | `{{ 45000\|intcomma }}` → `45,000` |
//! | `yesno(choices)` | `{{ flag\|yesno("on,off,unknown") }}` |
//! | `default_if_none(default)` | `{{ bio\|default_if_none("—") }}` |
//! | `slugify` | `{{ "Héllo World!"\|slugify }}` → `hello-world` |
//! | `urlize` | links for URLs and e-mail addresses, escaping the rest |
//! | `filesizeformat` | `{{ 123456789\|filesizeformat }}` → `117.7 MB` |
//!
//! Dates may be RFC 3339 strings (`2024-05-01T09:30:00Z`, what serde writes
//! for chrono types), naive `YYYY-MM-DD[ HH:MM:SS]` strings (read as UTC),
//! or Unix timestamps.

use minijinja::Environment;

mod dates;
mod numbers;
mod text;

pub(crate) use text::escape_into;

/// Adds every filter to `env`: what [`Templates`](crate::Templates) does,
/// for a project that keeps its own minijinja `Environment` (in axum or
/// actix-web, say).
///
/// ```
/// let mut env = tack_templates::minijinja::Environment::new();
/// tack_templates::filters::register(&mut env);
/// let page = env
///     .render_str("{{ 45000|intcomma }} comment{{ 2|pluralize }}", ())
///     .unwrap();
/// assert_eq!(page, "45,000 comments");
/// ```
pub fn register(env: &mut Environment<'_>) {
    env.add_filter("date", dates::date);
    env.add_filter("time", dates::time);
    env.add_filter("timesince", dates::timesince);
    env.add_filter("timeuntil", dates::timeuntil);
    env.add_filter("naturaltime", dates::naturaltime);
    env.add_filter("pluralize", text::pluralize);
    env.add_filter("truncatewords", text::truncatewords);
    env.add_filter("truncatechars", text::truncatechars);
    env.add_filter("linebreaks", text::linebreaks);
    env.add_filter("linebreaksbr", text::linebreaksbr);
    env.add_filter("yesno", text::yesno);
    env.add_filter("default_if_none", text::default_if_none);
    env.add_filter("slugify", text::slugify);
    env.add_filter("urlize", text::urlize);
    env.add_filter("intcomma", numbers::intcomma);
    env.add_filter("filesizeformat", numbers::filesizeformat);
}
