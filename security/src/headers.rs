//! Security headers, set with tower-http's header layers.

use std::time::Duration;

use http::HeaderName;
use http::HeaderValue;
use http::header::{
    CONTENT_SECURITY_POLICY, REFERRER_POLICY, STRICT_TRANSPORT_SECURITY, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use tower_http::set_header::{SetResponseHeader, SetResponseHeaderLayer};
use tower_layer::Layer;

const CROSS_ORIGIN_OPENER_POLICY: HeaderName =
    HeaderName::from_static("cross-origin-opener-policy");

type Set<S> = SetResponseHeader<S, Option<HeaderValue>>;

/// The service [`SecurityHeadersLayer`] makes: tower-http's
/// `SetResponseHeader`, once per header.
pub type SecurityHeaders<S> = Set<Set<Set<Set<Set<Set<S>>>>>>;

/// Adds Django's security headers to responses that do not set them
/// already, so a handler can still choose its own (a per-page
/// Content-Security-Policy with a nonce, say):
///
/// - `X-Content-Type-Options: nosniff`
/// - `X-Frame-Options: DENY` (clickjacking)
/// - `Referrer-Policy: same-origin`
/// - `Cross-Origin-Opener-Policy: same-origin`
/// - `Strict-Transport-Security`, only when turned on with [`SecurityHeadersLayer::with_hsts`]
/// - `Content-Security-Policy`, only when given with
///   [`SecurityHeadersLayer::with_content_security_policy`]
#[derive(Clone, Debug)]
pub struct SecurityHeadersLayer {
    nosniff: Option<HeaderValue>,
    frame_options: Option<HeaderValue>,
    referrer_policy: Option<HeaderValue>,
    opener_policy: Option<HeaderValue>,
    hsts: Option<HeaderValue>,
    csp: Option<HeaderValue>,
}

impl Default for SecurityHeadersLayer {
    fn default() -> Self {
        SecurityHeadersLayer::new()
    }
}

impl SecurityHeadersLayer {
    /// The defaults listed above.
    pub fn new() -> Self {
        SecurityHeadersLayer {
            nosniff: Some(HeaderValue::from_static("nosniff")),
            frame_options: Some(HeaderValue::from_static("DENY")),
            referrer_policy: Some(HeaderValue::from_static("same-origin")),
            opener_policy: Some(HeaderValue::from_static("same-origin")),
            hsts: None,
            csp: None,
        }
    }

    /// `X-Frame-Options` (`DENY` or `SAMEORIGIN`), or `None` to leave it out.
    pub fn with_frame_options(mut self, value: Option<HeaderValue>) -> Self {
        self.frame_options = value;
        self
    }

    /// `Referrer-Policy`, or `None` to leave it out.
    pub fn with_referrer_policy(mut self, value: Option<HeaderValue>) -> Self {
        self.referrer_policy = value;
        self
    }

    /// `Cross-Origin-Opener-Policy`, or `None` to leave it out.
    pub fn with_cross_origin_opener_policy(mut self, value: Option<HeaderValue>) -> Self {
        self.opener_policy = value;
        self
    }

    /// Turns on HSTS: browsers will use only HTTPS for this host for
    /// `max_age`. Turn it on only once the whole site works over HTTPS.
    pub fn with_hsts(mut self, max_age: Duration, include_subdomains: bool, preload: bool) -> Self {
        let mut value = format!("max-age={}", max_age.as_secs());
        if include_subdomains {
            value.push_str("; includeSubDomains");
        }
        if preload {
            value.push_str("; preload");
        }
        // Digits, letters, `=`, `;` and spaces only.
        self.hsts = Some(HeaderValue::try_from(value).expect("an HSTS value is visible ASCII"));
        self
    }

    /// A `Content-Security-Policy` for responses that set none themselves.
    pub fn with_content_security_policy(mut self, policy: HeaderValue) -> Self {
        self.csp = Some(policy);
        self
    }
}

impl<S> Layer<S> for SecurityHeadersLayer {
    type Service = SecurityHeaders<S>;

    fn layer(&self, inner: S) -> Self::Service {
        let set = |name: HeaderName, value: &Option<HeaderValue>| {
            SetResponseHeaderLayer::if_not_present(name, value.clone())
        };
        let inner = set(X_CONTENT_TYPE_OPTIONS, &self.nosniff).layer(inner);
        let inner = set(X_FRAME_OPTIONS, &self.frame_options).layer(inner);
        let inner = set(REFERRER_POLICY, &self.referrer_policy).layer(inner);
        let inner = set(CROSS_ORIGIN_OPENER_POLICY, &self.opener_policy).layer(inner);
        let inner = set(STRICT_TRANSPORT_SECURITY, &self.hsts).layer(inner);
        set(CONTENT_SECURITY_POLICY, &self.csp).layer(inner)
    }
}
