//! CSRF secrets and masked tokens.
//!
//! A secret is 32 letters and digits, kept in a cookie or the session.
//! A token put into a page is the secret masked with a fresh random mask
//! (64 characters: mask, then secret + mask per character, modulo 62), so
//! the bytes of a page change on every response and compression reveals
//! nothing about the secret (BREACH).

use rand::RngExt;
use rand::distr::Alphanumeric;
use subtle::ConstantTimeEq;

use crate::Error;

/// The characters of secrets, masks and tokens.
const ALPHABET: &[u8; 62] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
/// Characters in a secret (and in a mask).
pub(crate) const SECRET_LEN: usize = 32;
/// Characters in a masked token.
pub(crate) const TOKEN_LEN: usize = 2 * SECRET_LEN;

/// The position of `c` in [`ALPHABET`].
fn index(c: u8) -> Option<usize> {
    match c {
        b'a'..=b'z' => Some(usize::from(c - b'a')),
        b'A'..=b'Z' => Some(usize::from(c - b'A') + 26),
        b'0'..=b'9' => Some(usize::from(c - b'0') + 52),
        _ => None,
    }
}

/// A fresh secret from the thread-local CSPRNG.
pub(crate) fn new_secret() -> String {
    rand::rng()
        .sample_iter(Alphanumeric)
        .take(SECRET_LEN)
        .map(char::from)
        .collect()
}

/// Whether `text` is a well-formed secret.
pub(crate) fn is_secret(text: &str) -> bool {
    text.len() == SECRET_LEN && text.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// The secret masked with a fresh mask.
pub(crate) fn mask(secret: &str) -> String {
    let mask = new_secret();
    let mut token = String::with_capacity(TOKEN_LEN);
    token.push_str(&mask);
    for (s, m) in secret.bytes().zip(mask.bytes()) {
        // Both come from the alphabet: `new_secret` makes the mask, and
        // secrets are checked with `is_secret` before they are kept.
        let (s, m) = (index(s).unwrap_or(0), index(m).unwrap_or(0));
        token.push(char::from(ALPHABET[(s + m) % ALPHABET.len()]));
    }
    token
}

/// The secret inside a masked token (or the token itself when a client
/// sent the unmasked secret, as scripts reading the cookie do).
fn unmask(token: &str) -> Result<String, Error> {
    let malformed = || Error::CsrfTokenMalformed {
        length: token.len(),
    };
    if !token.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(malformed());
    }
    match token.len() {
        SECRET_LEN => Ok(token.to_owned()),
        TOKEN_LEN => {
            let (mask, cipher) = token.as_bytes().split_at(SECRET_LEN);
            let n = ALPHABET.len();
            cipher
                .iter()
                .zip(mask)
                .map(|(&c, &m)| {
                    let (c, m) = (
                        index(c).ok_or_else(malformed)?,
                        index(m).ok_or_else(malformed)?,
                    );
                    Ok(char::from(ALPHABET[(c + n - m) % n]))
                })
                .collect()
        }
        _ => Err(malformed()),
    }
}

/// Checks a token sent by the client against the secret, in constant time.
pub(crate) fn verify(sent: &str, secret: &str) -> Result<(), Error> {
    let unmasked = unmask(sent)?;
    if bool::from(unmasked.as_bytes().ct_eq(secret.as_bytes())) {
        Ok(())
    } else {
        Err(Error::CsrfTokenIncorrect)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_inverts_the_alphabet() {
        for (i, &c) in ALPHABET.iter().enumerate() {
            assert_eq!(index(c), Some(i));
        }
        assert_eq!(index(b'-'), None);
    }

    #[test]
    fn masked_tokens_differ_but_verify() {
        let secret = new_secret();
        assert!(is_secret(&secret));
        let a = mask(&secret);
        let b = mask(&secret);
        assert_ne!(a, b);
        assert_eq!(a.len(), TOKEN_LEN);
        verify(&a, &secret).unwrap();
        verify(&b, &secret).unwrap();
        verify(&secret, &secret).unwrap();
        assert!(!a.contains(&secret));
    }

    #[test]
    fn wrong_and_malformed_tokens_fail() {
        let secret = new_secret();
        let other = mask(&new_secret());
        assert!(matches!(
            verify(&other, &secret),
            Err(Error::CsrfTokenIncorrect)
        ));
        for bad in ["", "short", &"!".repeat(64), &"a".repeat(63)] {
            assert!(
                matches!(verify(bad, &secret), Err(Error::CsrfTokenMalformed { .. })),
                "{bad}"
            );
        }
    }
}
