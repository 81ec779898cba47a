//! `?next=` accepts only same-site targets.

use tack_auth::safe_redirect_target;

#[test]
fn safe_redirect_targets() {
    let hosts = ["news.example", "news.example:8443"];
    // (next, accepted)
    let cases: &[(&str, bool)] = &[
        ("/", true),
        ("/articles/hello/?page=2#comments", true),
        ("/search/?q=a%20b", true),
        ("/caf%C3%A9/", true),
        ("https://news.example/admin/", true),
        ("HTTPS://NEWS.EXAMPLE/x", true),
        ("https://news.example:8443/x", true),
        ("", false),
        ("//evil.example", false),
        ("///evil.example", false),
        ("https://evil.example", false),
        ("http://news.example/", false),
        ("https://news.example.evil.example/", false),
        ("https://news.example@evil.example/", false),
        ("https://news.example:9999/", false),
        ("/\\evil.example", false),
        ("\\\\evil", false),
        ("\\/evil.example", false),
        ("%2F%2Fevil.example", false),
        ("/%2Fevil.example", false),
        ("/%5Cevil.example", false),
        ("%5C%5Cevil", false),
        ("/%252F%252Fevil.example", false),
        ("/%25252F%25252Fevil.example", false),
        ("javascript:alert(1)", false),
        ("JavaScript:alert(1)", false),
        ("/%0A/evil.example", false),
        ("/\t/evil.example", false),
        ("/ /evil.example", false),
        ("\u{0}/", false),
        ("data:text/html,hi", false),
        ("evil.example", false),
        ("articles/", false),
        ("/%FF", false),
    ];
    for (next, accepted) in cases {
        let answer = safe_redirect_target(next, &hosts);
        assert_eq!(answer.is_some(), *accepted, "{next:?}");
        if *accepted {
            assert_eq!(answer, Some(*next));
        }
    }
    assert_eq!(safe_redirect_target("https://news.example/", &[]), None);
    assert_eq!(
        safe_redirect_target(&format!("/{}", "a".repeat(3000)), &[]),
        None
    );
}
