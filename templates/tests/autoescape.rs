//! What is escaped, by template name, and how to opt out.

use tack_templates::{AutoEscape, Templates, context};

const HOSTILE: &str = "<script>alert('x')</script> & \"q\"";

fn render(name: &str, source: &str) -> String {
    let templates = Templates::builder()
        .add_embedded(&[(name, source)])
        .build()
        .unwrap();
    templates.render(name, context! { v => HOSTILE }).unwrap()
}

#[test]
fn html_like_names_escape_others_do_not() {
    let escaped = "&lt;script&gt;alert(&#x27;x&#x27;)&lt;&#x2f;script&gt; &amp; &quot;q&quot;";
    for (name, expected) in [
        ("page.html", escaped),
        ("page.htm", escaped),
        ("feed.xml", escaped),
        ("icon.svg", escaped),
        ("emails/welcome.html.txt", escaped),
        ("page.html.j2", escaped),
        ("robots.txt", HOSTILE),
        ("styles.css", HOSTILE),
        ("notes.md", HOSTILE),
    ] {
        assert_eq!(render(name, "{{ v }}"), expected, "{name}");
    }
}

#[test]
fn json_templates_escape_as_json() {
    let output = render("data.json", "{\"v\": {{ v }}}");
    let value: serde_json::Value = serde_json::from_str(&output).unwrap();
    assert_eq!(value["v"], HOSTILE);
}

#[test]
fn safe_and_autoescape_blocks_opt_out() {
    assert_eq!(render("a.html", "{{ v|safe }}"), HOSTILE);
    assert_eq!(
        render("b.html", "{% autoescape false %}{{ v }}{% endautoescape %}"),
        HOSTILE
    );
    assert!(render("c.txt", "{% autoescape true %}{{ v }}{% endautoescape %}").contains("&lt;"));
}

#[test]
fn literals_in_templates_are_not_escaped() {
    assert_eq!(
        render("a.html", "<b>{{ '<i>' ~ 'x' }}</b>"),
        "<b>&lt;i&gt;x</b>"
    );
}

#[test]
fn the_rule_can_be_replaced() {
    let templates = Templates::builder()
        .add_embedded(&[("anything.txt", "{{ v }}")])
        .autoescape(|_| AutoEscape::Html)
        .build()
        .unwrap();
    assert!(
        templates
            .render("anything.txt", context! { v => "<" })
            .unwrap()
            .contains("&lt;")
    );
}
