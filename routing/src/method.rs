//! Method dispatch: `get(list).post(create)`.

use bytes::Bytes;
use futures_util::future::BoxFuture;
use http::header::{ALLOW, HeaderValue};
use http::{Method, Request, StatusCode};
use tack_http::{Body, BoxError, IntoResponse, Response};
use tower::{Layer, Service};

use crate::route::{Handler, HttpService};
use crate::{Error, Route};

/// The handlers of one route, by method.
///
/// HEAD is answered by the GET handler without a body unless a HEAD handler
/// is set; OPTIONS is answered `204` with `Allow` unless an OPTIONS handler
/// is set; any other method without a handler is `405` with `Allow`.
#[derive(Clone, Debug, Default)]
pub struct MethodRouter {
    methods: Vec<(Method, Route)>,
    any: Option<Route>,
    allow: Option<HeaderValue>,
}

macro_rules! method_fns {
    ($($name:ident $method:ident),*) => {
        $(
            #[doc = concat!("A route answering ", stringify!($method), " with `handler`.")]
            pub fn $name(handler: impl Handler) -> MethodRouter {
                MethodRouter::default().on(Method::$method, handler)
            }
        )*

        impl MethodRouter {
            $(
                #[doc = concat!("Also answers ", stringify!($method), " with `handler`.")]
                pub fn $name(self, handler: impl Handler) -> MethodRouter {
                    self.on(Method::$method, handler)
                }
            )*
        }
    };
}

method_fns!(get GET, post POST, put PUT, patch PATCH, delete DELETE, head HEAD, options OPTIONS);

/// A route answering every method with `handler`.
pub fn any(handler: impl Handler) -> MethodRouter {
    MethodRouter {
        any: Some(handler.into_route()),
        ..MethodRouter::default()
    }
}

/// A route answering `method` with `handler`.
pub fn on(method: Method, handler: impl Handler) -> MethodRouter {
    MethodRouter::default().on(method, handler)
}

impl MethodRouter {
    /// Answers `method` with `handler`.
    ///
    /// # Panics
    /// If `method` already has a handler in this route.
    pub fn on(self, method: Method, handler: impl Handler) -> MethodRouter {
        self.on_route(method, handler.into_route())
    }

    /// Answers `method` with any tower service.
    ///
    /// # Panics
    /// If `method` already has a handler in this route.
    pub fn on_service(self, method: Method, service: impl HttpService) -> MethodRouter {
        self.on_route(method, service.into_route())
    }

    /// Answers every method that has no handler of its own with `handler`.
    pub fn any(mut self, handler: impl Handler) -> MethodRouter {
        self.any = Some(handler.into_route());
        self
    }

    fn on_route(mut self, method: Method, route: Route) -> MethodRouter {
        assert!(
            !self.methods.iter().any(|(m, _)| *m == method),
            "the method {method} has two handlers in one route"
        );
        self.methods.push((method, route));
        self.allow = self.compute_allow();
        self
    }

    /// Wraps every handler of this route in a tower layer (the route's own
    /// middleware: it does not see other routes or 404s).
    pub fn layer<L, B>(self, layer: L) -> MethodRouter
    where
        L: Layer<Route>,
        L::Service:
            Service<Request<Body>, Response = http::Response<B>> + Clone + Send + Sync + 'static,
        <L::Service as Service<Request<Body>>>::Future: Send + 'static,
        <L::Service as Service<Request<Body>>>::Error: Into<BoxError>,
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        self.map_routes(&|route| route.layer(&layer))
    }

    pub(crate) fn map_routes(self, f: &dyn Fn(Route) -> Route) -> MethodRouter {
        MethodRouter {
            methods: self.methods.into_iter().map(|(m, r)| (m, f(r))).collect(),
            any: self.any.map(f),
            allow: self.allow,
        }
    }

    fn compute_allow(&self) -> Option<HeaderValue> {
        let mut names: Vec<&str> = self.methods.iter().map(|(m, _)| m.as_str()).collect();
        if names.contains(&"GET") && !names.contains(&"HEAD") {
            names.push("HEAD");
        }
        if !names.contains(&"OPTIONS") {
            names.push("OPTIONS");
        }
        HeaderValue::from_str(&names.join(", ")).ok()
    }

    fn find(&self, method: &Method) -> Option<&Route> {
        self.methods
            .iter()
            .find(|(m, _)| m == method)
            .map(|(_, route)| route)
    }

    pub(crate) fn dispatch(&self, request: Request<Body>) -> BoxFuture<'static, Response> {
        let method = request.method();
        if let Some(route) = self.find(method) {
            return route.call_route(request);
        }
        if *method == Method::HEAD
            && let Some(route) = self.find(&Method::GET).or(self.any.as_ref())
        {
            let future = route.call_route(request);
            return Box::pin(async move {
                let mut response = future.await;
                *response.body_mut() = Body::empty();
                response
            });
        }
        if let Some(route) = &self.any {
            return route.call_route(request);
        }
        let allow = self.allow.clone();
        if *method == Method::OPTIONS {
            let mut response = StatusCode::NO_CONTENT.into_response();
            if let Some(allow) = allow {
                response.headers_mut().insert(ALLOW, allow);
            }
            return Box::pin(std::future::ready(response));
        }
        let error = Error::MethodNotAllowed {
            method: method.clone(),
            path: request.uri().path().to_owned(),
            allow: allow
                .as_ref()
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned(),
        };
        Box::pin(std::future::ready(error.into_response()))
    }
}
