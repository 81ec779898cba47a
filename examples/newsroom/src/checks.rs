//! `newsroom check [--deploy]`: Django's system checks for this app.

use tack_sessions::SecretKey;

use crate::Settings;
use crate::app::SecurityStack;

/// One finding: what is wrong and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// A stable identifier (Django's where one exists).
    pub id: &'static str,
    /// What is wrong, and the fix.
    pub message: String,
}

/// The checks that matter before deploying: debug off, a strong secret key,
/// Secure cookies, and no wildcard in the allowed hosts.
pub fn deploy(settings: &Settings) -> Vec<Warning> {
    let mut warnings = Vec::new();
    let stack = match SecurityStack::new(settings) {
        Ok(stack) => stack,
        Err(error) => {
            warnings.push(Warning {
                id: "newsroom.E001",
                message: error.to_string(),
            });
            return warnings;
        }
    };
    if settings.debug {
        warnings.push(Warning {
            id: "security.W018",
            message: "NEWSROOM_DEBUG is on: error pages show internals. \
                      Unset NEWSROOM_DEBUG in deployment."
                .into(),
        });
    }
    if let Some(weakness) = SecretKey::new(settings.secret_key.as_bytes()).weakness() {
        warnings.push(Warning {
            id: "security.W009",
            message: format!("{weakness} (set NEWSROOM_SECRET_KEY)"),
        });
    }
    if !stack.secure_cookies || !stack.csrf.is_secure_cookie() {
        warnings.push(Warning {
            id: "security.W012",
            message: "NEWSROOM_HTTPS_ONLY is off: the session and CSRF cookies are Secure only \
                      on requests that came over HTTPS, and plain-HTTP requests are not \
                      redirected. Serve the site over HTTPS and set NEWSROOM_HTTPS_ONLY=1 \
                      (behind a TLS proxy, name it in NEWSROOM_TRUSTED_PROXIES and set \
                      NEWSROOM_PROXY_SSL_HEADER)."
                .into(),
        });
    }
    if stack.hosts.allows_any() {
        warnings.push(Warning {
            id: "security.W020",
            message: "NEWSROOM_ALLOWED_HOSTS contains '*': any Host header is accepted. \
                      List the domain names this site answers for."
                .into(),
        });
    }
    warnings
}

/// Why `serve` refuses to start, if it must: without debug, the secret key
/// may not be the insecure development key.
pub fn refuse_to_serve(settings: &Settings) -> Option<String> {
    let key = SecretKey::new(settings.secret_key.as_bytes());
    (!settings.debug && key.is_insecure()).then(|| {
        "NEWSROOM_SECRET_KEY is the insecure development key and debug is off. \
         Set NEWSROOM_SECRET_KEY to 50+ random characters (or unset it to have one \
         generated), or set NEWSROOM_DEBUG=1 for local development."
            .to_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(vars: &[(&str, &str)]) -> Settings {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
            .unwrap()
    }

    const STRONG: &str = "x7Gq2Lr9pT4vW1mZ8cN5bK3hJ6fD0sA-_=+!Qe@Yu#Io$Pl%Kj^";

    #[test]
    fn a_good_deployment_has_no_warnings() {
        let s = settings(&[
            ("NEWSROOM_SECRET_KEY", STRONG),
            ("NEWSROOM_ALLOWED_HOSTS", "news.example"),
            ("NEWSROOM_HTTPS_ONLY", "1"),
        ]);
        assert_eq!(deploy(&s), vec![]);
        assert_eq!(refuse_to_serve(&s), None);
    }

    #[test]
    fn each_problem_is_reported_with_its_fix() {
        let insecure = SecretKey::insecure_development();
        let key = String::from_utf8(insecure.as_bytes().to_vec()).unwrap();
        let s = settings(&[
            ("NEWSROOM_SECRET_KEY", &key),
            ("NEWSROOM_DEBUG", "1"),
            ("NEWSROOM_ALLOWED_HOSTS", "*"),
        ]);
        let ids: Vec<&str> = deploy(&s).iter().map(|w| w.id).collect();
        assert_eq!(
            ids,
            [
                "security.W018",
                "security.W009",
                "security.W012",
                "security.W020"
            ]
        );
        let short = settings(&[
            ("NEWSROOM_SECRET_KEY", "short"),
            ("NEWSROOM_HTTPS_ONLY", "1"),
        ]);
        let warnings = deploy(&short);
        assert_eq!(warnings.len(), 1);
        assert!(
            warnings[0].message.contains("fewer than 50"),
            "{warnings:?}"
        );
    }

    #[test]
    fn proxy_settings_are_checked() {
        let untrusted = settings(&[
            ("NEWSROOM_SECRET_KEY", STRONG),
            ("NEWSROOM_PROXY_SSL_HEADER", "X-Forwarded-Proto: https"),
        ]);
        let warnings = deploy(&untrusted);
        assert!(
            warnings[0].message.contains("NEWSROOM_TRUSTED_PROXIES"),
            "{warnings:?}"
        );
        let malformed = settings(&[
            ("NEWSROOM_SECRET_KEY", STRONG),
            ("NEWSROOM_TRUSTED_PROXIES", "10.0.0.0/99"),
        ]);
        assert!(deploy(&malformed)[0].message.contains("10.0.0.0/8"));
    }

    #[test]
    fn serve_refuses_the_development_key_without_debug() {
        let key = String::from_utf8(SecretKey::insecure_development().as_bytes().to_vec()).unwrap();
        let production = settings(&[("NEWSROOM_SECRET_KEY", &key)]);
        assert!(
            refuse_to_serve(&production)
                .unwrap()
                .contains("NEWSROOM_SECRET_KEY")
        );
        let development = settings(&[("NEWSROOM_SECRET_KEY", &key), ("NEWSROOM_DEBUG", "1")]);
        assert_eq!(refuse_to_serve(&development), None);
    }
}
