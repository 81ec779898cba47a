//! Property tests: whatever `?next=` holds, an accepted target stays on
//! the site once fully decoded.

use percent_encoding::percent_decode_str;
use proptest::prelude::*;
use tack_auth::safe_redirect_target;

fn fully_decoded(text: &str) -> String {
    let mut current = text.to_owned();
    for _ in 0..4 {
        let next = percent_decode_str(&current)
            .decode_utf8_lossy()
            .into_owned();
        if next == current {
            break;
        }
        current = next;
    }
    current
}

proptest! {
    #[test]
    fn accepted_targets_are_same_site_paths(next in r"[/\\%a-zA-Z0-9:.@?#&= \t\x00-\x1f2-5CcFf]{0,24}") {
        if let Some(target) = safe_redirect_target(&next, &[]) {
            let decoded = fully_decoded(target);
            let path = decoded.split(['?', '#']).next().unwrap();
            prop_assert!(decoded.starts_with('/'), "{target:?} -> {decoded:?}");
            prop_assert!(!decoded.starts_with("//"), "{target:?} -> {decoded:?}");
            prop_assert!(!path.contains('\\'), "{target:?} -> {decoded:?}");
            prop_assert!(!decoded.chars().any(char::is_control), "{target:?} -> {decoded:?}");
        }
    }

    #[test]
    fn prefixing_a_path_with_a_slash_and_letters_is_accepted(tail in "[a-z0-9/_-]{0,20}") {
        let next = format!("/a{tail}");
        prop_assert_eq!(safe_redirect_target(&next, &[]), Some(next.as_str()));
    }
}
