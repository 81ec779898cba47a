//! Property tests: for any text, the markup-building filters emit only their
//! own tags, and the visible text is the input, escaped.

use proptest::prelude::*;
use tack_templates::{Templates, context};

fn templates() -> Templates {
    Templates::builder()
        .add_embedded(&[
            ("urlize.html", "{{ value|urlize }}"),
            ("linebreaks.html", "{{ value|linebreaks }}"),
            ("linebreaksbr.html", "{{ value|linebreaksbr }}"),
            (
                "truncate.html",
                "{{ value|truncatechars(12) }}|{{ value|truncatewords(3) }}",
            ),
        ])
        .build()
        .unwrap()
}

/// Text made of the pieces that matter: markup, quotes, URL and e-mail parts.
fn hostile_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("https://"),
        Just("http://"),
        Just("www."),
        Just("example.com"),
        Just("/path?a=1&b=2"),
        Just("me@example.org"),
        Just("javascript:alert(1)"),
        Just("<"),
        Just(">"),
        Just("\""),
        Just("'"),
        Just("&"),
        Just("&amp;"),
        Just(" "),
        Just("\n"),
        Just("\r\n"),
        Just("("),
        Just(")"),
        Just("."),
        Just(","),
        Just("word"),
        Just("é"),
        Just("<script>"),
        Just("onerror="),
    ];
    prop::collection::vec(piece, 0..24).prop_map(|pieces| pieces.concat())
}

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#x2f;", "/")
        .replace("&amp;", "&")
}

/// Checks that `text` holds no markup and no raw quotes.
fn assert_inert(text: &str, whole: &str) {
    assert!(
        !text.contains(['<', '>', '"', '\'']),
        "raw markup {text:?} in {whole:?}"
    );
}

/// Splits urlize output into its visible text, checking each anchor.
fn visible_text_of_urlize(output: &str) -> String {
    let mut visible = String::new();
    let mut rest = output;
    while let Some(start) = rest.find('<') {
        let before = &rest[..start];
        assert_inert(before, output);
        visible.push_str(before);
        let tag = &rest[start..];
        let href_start = tag
            .strip_prefix("<a href=\"")
            .unwrap_or_else(|| panic!("unexpected tag in {output:?}"));
        let href_end = href_start.find('"').expect("a closed href");
        let href = &href_start[..href_end];
        assert!(
            !href.contains(['<', '>', '\'', ' ', '\n']),
            "bad href {href:?} in {output:?}"
        );
        let href = unescape(href);
        assert!(
            href.starts_with("http://")
                || href.starts_with("https://")
                || href.starts_with("mailto:"),
            "unexpected scheme {href:?} in {output:?}"
        );
        let after_href = &href_start[href_end + 1..];
        let after_attrs = after_href
            .strip_prefix(" rel=\"nofollow\">")
            .or_else(|| after_href.strip_prefix('>'))
            .unwrap_or_else(|| panic!("unexpected attributes in {output:?}"));
        let close = after_attrs.find("</a>").expect("a closed anchor");
        let label = &after_attrs[..close];
        assert_inert(label, output);
        visible.push_str(label);
        rest = &after_attrs[close + 4..];
    }
    assert_inert(rest, output);
    visible.push_str(rest);
    visible
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn urlize_keeps_the_text_and_emits_only_anchors(text in hostile_text()) {
        let output = templates().render("urlize.html", context! { value => text.clone() }).unwrap();
        prop_assert_eq!(unescape(&visible_text_of_urlize(&output)), text);
    }

    #[test]
    fn linebreaks_emit_only_paragraphs_and_breaks(text in hostile_text()) {
        let output = templates().render("linebreaks.html", context! { value => text.clone() }).unwrap();
        let stripped = output.replace("<p>", "").replace("</p>", "").replace("<br>", "\n");
        assert_inert(&stripped, &output);
        let normalized = text.replace("\r\n", "\n").replace('\r', "\n");
        prop_assert_eq!(unescape(&stripped).replace('\n', ""), normalized.replace('\n', ""));

        let output = templates().render("linebreaksbr.html", context! { value => text.clone() }).unwrap();
        let stripped = output.replace("<br>", "\n");
        assert_inert(&stripped, &output);
        prop_assert_eq!(unescape(&stripped), normalized);
    }

    #[test]
    fn truncation_never_emits_markup(text in hostile_text()) {
        let output = templates().render("truncate.html", context! { value => text }).unwrap();
        assert_inert(&output, &output);
    }
}
