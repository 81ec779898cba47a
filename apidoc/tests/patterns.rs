//! Route patterns, for any input: never a panic, and generated patterns
//! come out as the OpenAPI paths and parameters they describe.

use proptest::prelude::*;
use tack_apidoc::{ApiDoc, Error};

/// A pattern segment: literal text, or a parameter with a converter.
fn segment() -> impl Strategy<Value = (String, Option<(String, &'static str)>)> {
    prop_oneof![
        "[a-z0-9_.-]{1,8}".prop_map(|text| (text, None)),
        (
            "[a-z_][a-z0-9_]{0,6}",
            prop::sample::select(vec!["", ":str", ":int", ":slug", ":uuid"]),
        )
            .prop_map(|(name, converter)| (String::new(), Some((name, converter)))),
    ]
}

proptest! {
    #[test]
    fn any_text_is_an_error_or_a_route(pattern in "/[/{}:*a-z0-9]{0,30}|\\PC{0,40}") {
        let mut doc = ApiDoc::new("T", "1");
        match doc.route("GET", &pattern, None) {
            Ok(_) => prop_assert!(doc.build().is_ok()),
            Err(error) => {
                let expected = matches!(error, Error::InvalidPattern { .. });
                prop_assert!(expected, "unexpected error: {}", error);
            }
        }
    }

    #[test]
    fn generated_patterns_become_templates(
        segments in prop::collection::vec(segment(), 0..6),
        trailing_slash in any::<bool>(),
    ) {
        let mut pattern = String::new();
        let mut expected = String::new();
        let mut names = Vec::new();
        for (index, (text, param)) in segments.iter().enumerate() {
            pattern.push('/');
            expected.push('/');
            match param {
                None => {
                    pattern.push_str(text);
                    expected.push_str(text);
                }
                Some((name, converter)) => {
                    // Names are made unique by their position.
                    let name = format!("{name}{index}");
                    pattern.push_str(&format!("{{{name}{converter}}}"));
                    expected.push_str(&format!("{{{name}}}"));
                    names.push((name, *converter));
                }
            }
        }
        if trailing_slash || pattern.is_empty() {
            pattern.push('/');
            expected.push('/');
        }
        let mut doc = ApiDoc::new("T", "1");
        doc.route("GET", &pattern, None).unwrap();
        let document = doc.build().unwrap();
        let item = document.paths.get(&expected);
        prop_assert!(item.is_some(), "{} did not become {}", pattern, expected);
        let parameters = &item.unwrap().get.as_ref().unwrap().parameters;
        prop_assert_eq!(parameters.len(), names.len());
        for (parameter, (name, converter)) in parameters.iter().zip(&names) {
            prop_assert_eq!(&parameter.name, name);
            prop_assert!(parameter.required);
            let integer = parameter.schema["type"] == "integer";
            prop_assert_eq!(integer, *converter == ":int");
        }
    }
}
