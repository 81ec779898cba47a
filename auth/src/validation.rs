//! Password validators (Django's `AUTH_PASSWORD_VALIDATORS`), composable.
//!
//! ```
//! use tack_auth::validation::{UserAttributes, Validators};
//!
//! let validators = Validators::default();
//! let user = UserAttributes::new("ada", "ada@example.com");
//! assert!(validators.validate("mill-pond-lantern-42", &user).is_ok());
//! let error = validators.validate("12345678", &user).unwrap_err();
//! assert!(error.to_string().contains("entirely numeric"));
//! ```

use std::collections::HashSet;
use std::sync::OnceLock;

use crate::Error;

/// What the validators compare a password with.
#[derive(Clone, Debug, Default)]
pub struct UserAttributes<'a> {
    /// The username.
    pub username: &'a str,
    /// The email address.
    pub email: &'a str,
    /// The first name.
    pub first_name: &'a str,
    /// The last name.
    pub last_name: &'a str,
}

impl<'a> UserAttributes<'a> {
    /// Attributes with a username and an email (names left empty).
    pub fn new(username: &'a str, email: &'a str) -> Self {
        UserAttributes {
            username,
            email,
            ..UserAttributes::default()
        }
    }

    fn named(&self) -> [(&'static str, &'a str); 4] {
        [
            ("username", self.username),
            ("email address", self.email),
            ("first name", self.first_name),
            ("last name", self.last_name),
        ]
    }
}

/// One rule a new password must follow.
pub trait PasswordValidator: Send + Sync {
    /// `Err(message)` when `password` breaks the rule; the message tells
    /// the user what to change.
    fn validate(&self, password: &str, user: &UserAttributes<'_>) -> Result<(), String>;

    /// The rule, for help text beside a password field.
    fn help_text(&self) -> String;
}

/// At least this many characters (default 12, OWASP ASVS's minimum).
#[derive(Clone, Copy, Debug)]
pub struct MinimumLength(pub usize);

impl Default for MinimumLength {
    fn default() -> Self {
        MinimumLength(12)
    }
}

impl PasswordValidator for MinimumLength {
    fn validate(&self, password: &str, _: &UserAttributes<'_>) -> Result<(), String> {
        let length = password.chars().count();
        if length < self.0 {
            Err(format!(
                "This password is too short: it has {length} characters and must have at least {}.",
                self.0
            ))
        } else {
            Ok(())
        }
    }

    fn help_text(&self) -> String {
        format!("Your password must contain at least {} characters.", self.0)
    }
}

/// Not one of the few hundred passwords people pick most (case-insensitive),
/// or of a list of your own.
#[derive(Clone, Debug, Default)]
pub struct CommonPassword {
    extra: HashSet<String>,
}

fn builtin_common() -> &'static HashSet<&'static str> {
    static LIST: OnceLock<HashSet<&'static str>> = OnceLock::new();
    LIST.get_or_init(|| {
        include_str!("common-passwords.txt")
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .collect()
    })
}

impl CommonPassword {
    /// The built-in list.
    pub fn new() -> Self {
        CommonPassword::default()
    }

    /// Adds passwords of your own (a larger list, or your site's name).
    pub fn with_passwords(mut self, passwords: impl IntoIterator<Item = impl AsRef<str>>) -> Self {
        self.extra.extend(
            passwords
                .into_iter()
                .map(|p| p.as_ref().trim().to_lowercase()),
        );
        self
    }

    /// How many passwords the built-in list holds.
    pub fn builtin_len() -> usize {
        builtin_common().len()
    }
}

impl PasswordValidator for CommonPassword {
    fn validate(&self, password: &str, _: &UserAttributes<'_>) -> Result<(), String> {
        let lowered = password.trim().to_lowercase();
        if builtin_common().contains(lowered.as_str()) || self.extra.contains(&lowered) {
            Err("This password is too common: pick one that others are unlikely to use.".to_owned())
        } else {
            Ok(())
        }
    }

    fn help_text(&self) -> String {
        "Your password can't be a commonly used password.".to_owned()
    }
}

/// Not made of digits only.
#[derive(Clone, Copy, Debug, Default)]
pub struct NumericPassword;

impl PasswordValidator for NumericPassword {
    fn validate(&self, password: &str, _: &UserAttributes<'_>) -> Result<(), String> {
        if !password.is_empty() && password.chars().all(|c| c.is_numeric()) {
            Err("This password is entirely numeric: add letters or symbols.".to_owned())
        } else {
            Ok(())
        }
    }

    fn help_text(&self) -> String {
        "Your password can't be entirely numeric.".to_owned()
    }
}

/// Not too similar to the username, email address or names: the password
/// is compared (case-insensitively) with each attribute and each of its
/// parts (split on non-alphanumerics, so `ada.lovelace@example.com` gives
/// `ada`, `lovelace`...), and refused when their similarity reaches
/// `max_similarity` (default 0.7, as Django). Similarity is
/// `2 × longest common subsequence / (both lengths)`, from 0 to 1.
#[derive(Clone, Copy, Debug)]
pub struct AttributeSimilarity {
    /// From 0.1 (strict) to 1.0 (only identical).
    pub max_similarity: f64,
}

impl Default for AttributeSimilarity {
    fn default() -> Self {
        AttributeSimilarity {
            max_similarity: 0.7,
        }
    }
}

/// Longest passwords compared for similarity: the comparison is quadratic.
const MAX_SIMILARITY_LEN: usize = 256;

fn similarity(a: &[char], b: &[char]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let mut previous = vec![0usize; b.len() + 1];
    let mut current = vec![0usize; b.len() + 1];
    for &x in a {
        for (j, &y) in b.iter().enumerate() {
            current[j + 1] = if x == y {
                previous[j] + 1
            } else {
                current[j].max(previous[j + 1])
            };
        }
        std::mem::swap(&mut previous, &mut current);
    }
    let common = previous[b.len()];
    2.0 * common as f64 / (a.len() + b.len()) as f64
}

impl PasswordValidator for AttributeSimilarity {
    fn validate(&self, password: &str, user: &UserAttributes<'_>) -> Result<(), String> {
        let password: Vec<char> = password
            .to_lowercase()
            .chars()
            .take(MAX_SIMILARITY_LEN)
            .collect();
        for (name, value) in user.named() {
            let value = value.to_lowercase();
            let parts = value
                .split(|c: char| !c.is_alphanumeric())
                .filter(|part| part.chars().count() >= 3)
                .chain(std::iter::once(value.as_str()).filter(|v| !v.is_empty()));
            for part in parts {
                let part: Vec<char> = part.chars().take(MAX_SIMILARITY_LEN).collect();
                if similarity(&password, &part) >= self.max_similarity {
                    return Err(format!(
                        "This password is too similar to your {name}: pick one that does not contain it."
                    ));
                }
            }
        }
        Ok(())
    }

    fn help_text(&self) -> String {
        "Your password can't be too similar to your other personal information.".to_owned()
    }
}

/// A list of validators run together: every failure is reported, not just
/// the first.
pub struct Validators {
    rules: Vec<Box<dyn PasswordValidator>>,
}

impl std::fmt::Debug for Validators {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Validators")
            .field("rules", &self.rules.len())
            .finish()
    }
}

impl Default for Validators {
    /// Django's four: similarity, minimum length (12), common, numeric.
    fn default() -> Self {
        Validators::none()
            .with(AttributeSimilarity::default())
            .with(MinimumLength::default())
            .with(CommonPassword::new())
            .with(NumericPassword)
    }
}

impl Validators {
    /// No rules at all (every password passes).
    pub fn none() -> Self {
        Validators { rules: Vec::new() }
    }

    /// Adds a rule.
    pub fn with(mut self, rule: impl PasswordValidator + 'static) -> Self {
        self.rules.push(Box::new(rule));
        self
    }

    /// Every rule's message for `password`, empty when it passes.
    pub fn messages(&self, password: &str, user: &UserAttributes<'_>) -> Vec<String> {
        self.rules
            .iter()
            .filter_map(|rule| rule.validate(password, user).err())
            .collect()
    }

    /// `Ok` when every rule passes, else [`Error::PasswordRejected`] with
    /// every message.
    pub fn validate(&self, password: &str, user: &UserAttributes<'_>) -> Result<(), Error> {
        let messages = self.messages(password, user);
        if messages.is_empty() {
            Ok(())
        } else {
            Err(Error::PasswordRejected { messages })
        }
    }

    /// Each rule's help text, for the password field.
    pub fn help_texts(&self) -> Vec<String> {
        self.rules.iter().map(|rule| rule.help_text()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let user = UserAttributes {
            username: "lovelace",
            email: "ada.byron@example.com",
            first_name: "Augusta",
            last_name: "",
        };
        let validators = Validators::default();
        // (password, expected message fragments; empty = accepted)
        let cases: &[(&str, &[&str])] = &[
            ("mill-pond-lantern-42", &[]),
            (
                "short",
                &["too short: it has 5 characters and must have at least 12"],
            ),
            ("password1234", &["too common"]),
            ("PASSWORD1234", &["too common"]),
            ("123456789012", &["entirely numeric"]),
            ("12345678", &["too short", "too common", "entirely numeric"]),
            ("lovelace1842", &["similar to your username"]),
            ("byron-example", &["similar to your email address"]),
            ("augusta!", &["similar to your first name", "too short"]),
            ("ecalevol-tide-far", &[]),
        ];
        for (password, expected) in cases {
            let messages = validators.messages(password, &user);
            assert_eq!(messages.len(), expected.len(), "{password}: {messages:?}");
            for (message, fragment) in messages.iter().zip(*expected) {
                assert!(message.contains(fragment), "{password}: {message}");
            }
        }
    }

    #[test]
    fn built_in_list_is_a_few_hundred() {
        assert!(CommonPassword::builtin_len() >= 300);
        let own = CommonPassword::new().with_passwords(["Newsroom2026"]);
        assert!(
            own.validate("newsroom2026", &UserAttributes::default())
                .is_err()
        );
    }

    #[test]
    fn composition_and_help() {
        let only_length = Validators::none().with(MinimumLength(3));
        assert!(
            only_length
                .validate("abc", &UserAttributes::default())
                .is_ok()
        );
        assert_eq!(only_length.help_texts().len(), 1);
        let error = only_length
            .validate("ab", &UserAttributes::default())
            .unwrap_err();
        assert!(matches!(error, Error::PasswordRejected { ref messages } if messages.len() == 1));
    }

    #[test]
    fn similarity_bounds() {
        let a: Vec<char> = "abc".chars().collect();
        assert_eq!(similarity(&a, &a), 1.0);
        assert_eq!(similarity(&a, &[]), 0.0);
        let b: Vec<char> = "xyz".chars().collect();
        assert_eq!(similarity(&a, &b), 0.0);
    }
}
