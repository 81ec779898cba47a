//! Django's filters, one table per filter, hostile input included.
//!
//! Every case renders `{{ value|filter(...) }}` in an HTML template (so
//! autoescape is on) unless its template name says otherwise.

use tack_templates::{Templates, Value, context};

const NOW: &str = "2024-05-10T12:00:00Z";

/// Renders `expression` (with `value` and `now` in scope) in a template
/// named `name`.
fn render_in(name: &str, expression: &str, value: Value) -> String {
    let source = format!("{{{{ {expression} }}}}");
    let templates = Templates::builder()
        .add_embedded(&[(name, &source)])
        .build()
        .unwrap();
    templates
        .render(name, context! { value, now => NOW })
        .unwrap_or_else(|e| panic!("{expression}: {e}"))
}

fn render(expression: &str, value: Value) -> String {
    render_in("case.html", expression, value)
}

fn check(cases: &[(&str, Value, &str)]) {
    for (expression, value, expected) in cases {
        assert_eq!(
            render(expression, value.clone()),
            *expected,
            "{expression} with {value:?}"
        );
    }
}

fn v<T: Into<Value>>(value: T) -> Value {
    value.into()
}

#[test]
fn date() {
    let moment = v("2024-05-01T09:05:07.000123Z");
    check(&[
        ("value|date", moment.clone(), "May 1, 2024"),
        ("value|date('DATE_FORMAT')", moment.clone(), "May 1, 2024"),
        (
            "value|date('Y-m-d H:i:s')",
            moment.clone(),
            "2024-05-01 09:05:07",
        ),
        ("value|date('D, j M Y')", moment.clone(), "Wed, 1 May 2024"),
        (
            "value|date('l jS F y')",
            moment.clone(),
            "Wednesday 1st May 24",
        ),
        (
            "value|date('n.d.Y g:i A')",
            moment.clone(),
            "5.01.2024 9:05 AM",
        ),
        // Slashes are escaped in HTML templates like any output of minijinja.
        ("value|date('n/d/Y')", moment.clone(), "5&#x2f;01&#x2f;2024"),
        ("value|date('P')", moment.clone(), "9:05 a.m."),
        ("value|date('f a')", moment.clone(), "9:05 a.m."),
        ("value|date('h G H')", moment.clone(), "09 9 09"),
        (
            "value|date('u U w z W t L o')",
            moment.clone(),
            "000123 1714554307 3 122 18 31 True 2024",
        ),
        (
            "value|date('c')",
            moment.clone(),
            "2024-05-01T09:05:07.000123+00:00",
        ),
        (
            "value|date('r')",
            moment.clone(),
            "Wed, 1 May 2024 09:05:07 +0000",
        ),
        ("value|date('e O Z T')", moment.clone(), "UTC +0000 0 UTC"),
        (
            "value|date('b M E N')",
            v("2024-09-03T00:00:00Z"),
            "sep Sep September Sept.",
        ),
        ("value|date('P')", v("2024-09-03T00:00:00Z"), "midnight"),
        ("value|date('P')", v("2024-09-03T12:00:00Z"), "noon"),
        ("value|date('P')", v("2024-09-03T15:30:00Z"), "3:30 p.m."),
        ("value|date('jS')", v("2024-09-22"), "22nd"),
        ("value|date('jS')", v("2024-09-13"), "13th"),
        ("value|date('jS')", v("2024-09-23"), "23rd"),
        (
            "value|date('H:i O e')",
            v("2024-05-01T11:30:00+02:00"),
            "11:30 +0200 +02:00",
        ),
        (
            "value|date('Y-m-d H:i')",
            v(1_714_555_800),
            "2024-05-01 09:30",
        ),
        (
            "value|date('Y-m-d H:i')",
            v(1_714_555_800.5),
            "2024-05-01 09:30",
        ),
        (
            "value|date('Y-m-d H:i')",
            v("2024-05-01 09:30:00"),
            "2024-05-01 09:30",
        ),
        (
            "value|date('\\\\Y\\\\e\\\\a\\\\r: Y')",
            moment.clone(),
            "Year: 2024",
        ),
        (
            "value|date('SHORT_DATETIME_FORMAT')|safe",
            moment.clone(),
            "05/01/2024 9:05 a.m.",
        ),
        ("value|time", moment.clone(), "9:05 a.m."),
        ("value|time('H:i')", moment.clone(), "09:05"),
        ("value|date", v(()), ""),
        ("missing|date", v(()), ""),
        // Hostile text in the format is escaped like any other output.
        (
            "value|date('<Y>\\'\\\"&')",
            moment.clone(),
            "&lt;2024&gt;&#x27;&quot;&amp;",
        ),
    ]);
}

#[test]
fn dates_that_cannot_be_read_are_errors_naming_the_filter() {
    let templates = Templates::builder()
        .add_embedded(&[("d.html", "one\n{{ value|date }}")])
        .build()
        .unwrap();
    for bad in [v("yesterday"), v("<script>"), v(vec![1, 2])] {
        let error = templates
            .render("d.html", context! { value => bad })
            .unwrap_err();
        assert_eq!(error.line(), Some(2));
        assert!(error.to_string().contains("date: cannot read"), "{error}");
    }
}

#[test]
fn timesince_and_timeuntil() {
    check(&[
        (
            "value|timesince(now)",
            v("2024-05-10T11:59:30Z"),
            "0 minutes",
        ),
        (
            "value|timesince(now)",
            v("2024-05-10T11:59:00Z"),
            "1 minute",
        ),
        (
            "value|timesince(now)",
            v("2024-05-10T09:58:00Z"),
            "2 hours, 2 minutes",
        ),
        (
            "value|timesince(now)",
            v("2024-05-07T10:00:00Z"),
            "3 days, 2 hours",
        ),
        (
            "value|timesince(now)",
            v("2024-04-01T12:00:00Z"),
            "1 month, 1 week",
        ),
        ("value|timesince(now)", v("2022-05-10T12:00:00Z"), "2 years"),
        (
            "value|timesince(now)",
            v("2024-05-11T12:00:00Z"),
            "0 minutes",
        ),
        ("value|timesince('2024-05-10')", v("2024-05-09"), "1 day"),
        ("value|timeuntil(now)", v("2024-05-24T13:00:00Z"), "2 weeks"),
        (
            "value|timeuntil(now)",
            v("2024-05-11T13:00:00Z"),
            "1 day, 1 hour",
        ),
        (
            "value|timeuntil(now)",
            v("2024-05-01T00:00:00Z"),
            "0 minutes",
        ),
        ("value|timesince", v(()), ""),
    ]);
    // Without `now` the filters measure against the clock.
    assert!(render("value|timesince", v("2000-01-01T00:00:00Z")).contains("years"));
}

#[test]
fn naturaltime() {
    check(&[
        ("value|naturaltime(now)", v(NOW), "now"),
        (
            "value|naturaltime(now)",
            v("2024-05-10T11:59:59Z"),
            "a second ago",
        ),
        (
            "value|naturaltime(now)",
            v("2024-05-10T11:59:30Z"),
            "30 seconds ago",
        ),
        (
            "value|naturaltime(now)",
            v("2024-05-10T11:59:00Z"),
            "a minute ago",
        ),
        (
            "value|naturaltime(now)",
            v("2024-05-10T11:55:00Z"),
            "5 minutes ago",
        ),
        (
            "value|naturaltime(now)",
            v("2024-05-10T11:00:00Z"),
            "an hour ago",
        ),
        (
            "value|naturaltime(now)",
            v("2024-05-10T09:00:00Z"),
            "3 hours ago",
        ),
        (
            "value|naturaltime(now)",
            v("2024-05-08T10:00:00Z"),
            "2 days, 2 hours ago",
        ),
        (
            "value|naturaltime(now)",
            v("2024-05-10T12:00:10Z"),
            "10 seconds from now",
        ),
        (
            "value|naturaltime(now)",
            v("2024-05-10T13:00:00Z"),
            "an hour from now",
        ),
        (
            "value|naturaltime(now)",
            v("2024-05-17T12:00:00Z"),
            "1 week from now",
        ),
        (
            "value|naturaltime(now)",
            v(1_715_342_400 - 120),
            "2 minutes ago",
        ),
    ]);
}

#[test]
fn pluralize() {
    check(&[
        ("value|pluralize", v(0), "s"),
        ("value|pluralize", v(1), ""),
        ("value|pluralize", v(2), "s"),
        ("value|pluralize", v(1.0), ""),
        ("value|pluralize", v(1.5), "s"),
        ("value|pluralize", v("1"), ""),
        ("value|pluralize", v("3"), "s"),
        ("value|pluralize", v("many"), ""),
        ("value|pluralize", v(vec![1]), ""),
        ("value|pluralize", v(vec![1, 2]), "s"),
        ("value|pluralize('es')", v(2), "es"),
        ("value|pluralize('y,ies')", v(1), "y"),
        ("value|pluralize('y,ies')", v(2), "ies"),
        ("value|pluralize('a,b,c')", v(2), ""),
        ("value|pluralize", v(()), ""),
        ("value|pluralize('<i>,<b>')", v(2), "&lt;b&gt;"),
    ]);
}

#[test]
fn truncatewords() {
    check(&[
        ("value|truncatewords(2)", v("Joel is a slug"), "Joel is …"),
        (
            "value|truncatewords(4)",
            v("Joel is a slug"),
            "Joel is a slug",
        ),
        (
            "value|truncatewords(9)",
            v("  spaced\n\nout  "),
            "spaced out",
        ),
        ("value|truncatewords(0)", v("Joel is a slug"), ""),
        ("value|truncatewords(-3)", v("Joel is a slug"), ""),
        ("value|truncatewords(1)", v(""), ""),
        (
            "value|truncatewords(2)",
            v("<script>alert(1)</script> and more"),
            "&lt;script&gt;alert(1)&lt;&#x2f;script&gt; and …",
        ),
        (
            "value|safe|truncatewords(2)",
            v("<b>bold</b> words here"),
            "<b>bold</b> words …",
        ),
    ]);
}

#[test]
fn truncatechars() {
    check(&[
        ("value|truncatechars(7)", v("Joel is a slug"), "Joel i…"),
        (
            "value|truncatechars(14)",
            v("Joel is a slug"),
            "Joel is a slug",
        ),
        ("value|truncatechars(1)", v("Joel"), "…"),
        ("value|truncatechars(0)", v("Joel"), ""),
        ("value|truncatechars(-1)", v("Joel"), ""),
        ("value|truncatechars(3)", v("héllo"), "hé…"),
        ("value|truncatechars(4)", v("<>&\"'"), "&lt;&gt;&amp;…"),
    ]);
}

#[test]
fn linebreaks() {
    check(&[
        ("value|linebreaks", v("one"), "<p>one</p>"),
        (
            "value|linebreaks",
            v("a\nb\n\nc"),
            "<p>a<br>b</p>\n\n<p>c</p>",
        ),
        (
            "value|linebreaks",
            v("a\r\n\r\n\r\nb\rc"),
            "<p>a</p>\n\n<p>b<br>c</p>",
        ),
        ("value|linebreaks", v(""), "<p></p>"),
        (
            "value|linebreaks",
            v("<script>x</script>\n\n&"),
            "<p>&lt;script&gt;x&lt;/script&gt;</p>\n\n<p>&amp;</p>",
        ),
        (
            "value|safe|linebreaks",
            v("<em>x</em>\ny"),
            "<p><em>x</em><br>y</p>",
        ),
    ]);
    // Where the template does not escape, neither does the filter.
    assert_eq!(
        render_in("mail.txt", "value|linebreaks", v("<a>\nb")),
        "<p><a><br>b</p>"
    );
}

#[test]
fn linebreaksbr() {
    check(&[
        ("value|linebreaksbr", v("a\nb\r\nc"), "a<br>b<br>c"),
        (
            "value|linebreaksbr",
            v("<img src=x onerror=alert(1)>\n\"q\""),
            "&lt;img src=x onerror=alert(1)&gt;<br>&quot;q&quot;",
        ),
        ("value|safe|linebreaksbr", v("<b>x</b>\ny"), "<b>x</b><br>y"),
    ]);
}

#[test]
fn intcomma() {
    check(&[
        ("value|intcomma", v(0), "0"),
        ("value|intcomma", v(999), "999"),
        ("value|intcomma", v(4500), "4,500"),
        ("value|intcomma", v(-1_234_567), "-1,234,567"),
        ("value|intcomma", v(45000.5), "45,000.5"),
        ("value|intcomma", v("1234567.25"), "1,234,567.25"),
        ("value|intcomma", v(i64::MAX), "9,223,372,036,854,775,807"),
        ("value|intcomma", v("12 apples"), "12 apples"),
        ("value|intcomma", v("<1000>"), "&lt;1000&gt;"),
        ("value|intcomma", v(()), "None"),
    ]);
}

#[test]
fn yesno() {
    check(&[
        ("value|yesno", v(true), "yes"),
        ("value|yesno", v(false), "no"),
        ("value|yesno", v(()), "maybe"),
        ("missing|yesno", v(()), "maybe"),
        ("value|yesno", v(""), "no"),
        ("value|yesno", v("x"), "yes"),
        ("value|yesno('on,off')", v(()), "off"),
        ("value|yesno('on,off,unknown')", v(()), "unknown"),
        ("value|yesno('only')", v(true), "True"),
        ("value|yesno('<b>,<i>')", v(true), "&lt;b&gt;"),
    ]);
}

#[test]
fn default_if_none() {
    check(&[
        ("value|default_if_none('n/a')", v(()), "n&#x2f;a"),
        ("value|default_if_none('x')", v(""), ""),
        ("value|default_if_none('x')", v(0), "0"),
        ("value|default_if_none('x')", v(false), "False"),
        ("value|default_if_none('x')", v("<b>"), "&lt;b&gt;"),
        ("value|default_if_none('<b>')", v(()), "&lt;b&gt;"),
    ]);
}

#[test]
fn slugify() {
    check(&[
        ("value|slugify", v("Hello World"), "hello-world"),
        ("value|slugify", v(" Joel is a slug "), "joel-is-a-slug"),
        (
            "value|slugify",
            v("Héllo, Wörld! Ça va?"),
            "hello-world-ca-va",
        ),
        ("value|slugify", v("--under_score--"), "under_score"),
        ("value|slugify", v("a  -  b"), "a-b"),
        (
            "value|slugify",
            v("<script>alert('x')</script>"),
            "scriptalertxscript",
        ),
        ("value|slugify", v("日本語"), ""),
        ("value|slugify", v(2024), "2024"),
    ]);
}

#[test]
fn urlize() {
    check(&[
        (
            "value|urlize",
            v("See https://example.com/a?b=1&c=2 now."),
            "See <a href=\"https://example.com/a?b=1&amp;c=2\" rel=\"nofollow\">https://example.com/a?b=1&amp;c=2</a> now.",
        ),
        (
            "value|urlize",
            v("(www.example.com)"),
            "(<a href=\"http://www.example.com\" rel=\"nofollow\">www.example.com</a>)",
        ),
        (
            "value|urlize",
            v("example.org, then"),
            "<a href=\"http://example.org\" rel=\"nofollow\">example.org</a>, then",
        ),
        (
            "value|urlize",
            v("mail me@example.com!"),
            "mail <a href=\"mailto:me@example.com\">me@example.com</a>!",
        ),
        (
            "value|urlize",
            v("<script>alert('x')</script> & https://ok.com"),
            "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; <a href=\"https://ok.com\" rel=\"nofollow\">https://ok.com</a>",
        ),
        (
            "value|urlize",
            v("https://evil.com/\"onmouseover=\"alert(1)"),
            "<a href=\"https://evil.com/\" rel=\"nofollow\">https://evil.com/</a>&quot;onmouseover=&quot;alert(1)",
        ),
        (
            "value|urlize",
            v("https://evil.com/<img>"),
            "<a href=\"https://evil.com/\" rel=\"nofollow\">https://evil.com/</a>&lt;img&gt;",
        ),
        (
            "value|urlize",
            v("https://example.com/é?q=a b"),
            "<a href=\"https://example.com/%C3%A9?q=a\" rel=\"nofollow\">https://example.com/é?q=a</a> b",
        ),
        (
            "value|urlize",
            v("javascript:alert(1)"),
            "javascript:alert(1)",
        ),
        ("value|urlize", v("no links here"), "no links here"),
        (
            "value|safe|urlize",
            v("<b>bold</b> https://a.com/?x=1&amp;y=2"),
            "<b>bold</b> <a href=\"https://a.com/?x=1&amp;y=2\" rel=\"nofollow\">https://a.com/?x=1&amp;y=2</a>",
        ),
    ]);
}

#[test]
fn filesizeformat() {
    check(&[
        ("value|filesizeformat", v(0), "0 bytes"),
        ("value|filesizeformat", v(1), "1 byte"),
        ("value|filesizeformat", v(1023), "1023 bytes"),
        ("value|filesizeformat", v(1024), "1.0 KB"),
        ("value|filesizeformat", v(10 * 1024 + 512), "10.5 KB"),
        ("value|filesizeformat", v(123_456_789), "117.7 MB"),
        ("value|filesizeformat", v(1_i64 << 30), "1.0 GB"),
        ("value|filesizeformat", v(1_i64 << 40), "1.0 TB"),
        ("value|filesizeformat", v(1_i64 << 50), "1.0 PB"),
        ("value|filesizeformat", v(1_i64 << 60), "1024.0 PB"),
        ("value|filesizeformat", v(-2048), "-2.0 KB"),
        ("value|filesizeformat", v(i64::MIN), "-8192.0 PB"),
        ("value|filesizeformat", v("2048"), "2.0 KB"),
        ("value|filesizeformat", v("<lots>"), "0 bytes"),
        ("value|filesizeformat", v(()), "0 bytes"),
        ("value|filesizeformat", v(f64::NAN), "0 bytes"),
    ]);
}

#[test]
fn chrono_values_serialized_by_serde_work_with_every_date_filter() {
    use chrono::{DateTime, NaiveDate, TimeZone, Utc};
    use tack_templates::Serde;

    #[derive(serde::Serialize)]
    struct Article {
        published_at: DateTime<Utc>,
        updated_on: NaiveDate,
        archived_at: Option<DateTime<Utc>>,
    }
    let article = Article {
        published_at: Utc.with_ymd_and_hms(2024, 5, 1, 9, 30, 0).unwrap(),
        updated_on: NaiveDate::from_ymd_opt(2024, 5, 3).unwrap(),
        archived_at: None,
    };
    let templates = Templates::builder()
        .add_embedded(&[(
            "a.html",
            "{{ a.published_at|date('N j, Y, P') }}|{{ a.updated_on|date('D j') }}|\
             {{ a.archived_at|date }}|{{ a.published_at|timesince(a.updated_on) }}|\
             {{ a.published_at|naturaltime(a.updated_on) }}",
        )])
        .build()
        .unwrap();
    let html = templates
        .render("a.html", context! { a => Serde(&article) })
        .unwrap();
    assert_eq!(
        html,
        "May 1, 2024, 9:30 a.m.|Fri 3||1 day, 14 hours|1 day, 14 hours ago"
    );
}
