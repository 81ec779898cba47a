//! What a page rendered for a request sees: `request`, the context
//! processors, `url()` and `static()`.

use tack_templates::{Error, Templates, Value, context};

/// Made-up values that layers would put in the extensions.
#[derive(Clone)]
struct CurrentUser {
    name: String,
    staff: bool,
}

#[derive(Clone)]
struct CsrfToken(String);

#[derive(Clone)]
struct Flash(Vec<String>);

fn templates(source: &str) -> Templates {
    Templates::builder()
        .add_embedded(&[("page.html", source)])
        .context_processor("user", |request| {
            request
                .extensions()
                .get::<CurrentUser>()
                .map(|u| context! { name => u.name.clone(), is_staff => u.staff })
        })
        .context_processor("csrf_token", |request| {
            request.extensions().get::<CsrfToken>().map(|t| t.0.clone())
        })
        .context_processor("messages", |request| {
            match request.extensions().get::<Flash>() {
                Some(flash) => Value::from(flash.0.clone()),
                None => Value::UNDEFINED,
            }
        })
        .build()
        .unwrap()
}

fn request(uri: &str) -> http::Request<()> {
    http::Request::builder().uri(uri).body(()).unwrap()
}

#[test]
fn processors_read_the_extensions() {
    let templates = templates(
        "{{ user.name }}|{{ user.is_staff }}|{{ csrf_token }}|{% for m in messages %}[{{ m }}]{% endfor %}",
    );
    let mut req = request("/");
    req.extensions_mut().insert(CurrentUser {
        name: "<ada>".into(),
        staff: true,
    });
    req.extensions_mut().insert(CsrfToken("tok\"en".into()));
    req.extensions_mut()
        .insert(Flash(vec!["Saved.".into(), "<b>x</b>".into()]));
    assert_eq!(
        templates.render_request(&req, "page.html", ()).unwrap(),
        "&lt;ada&gt;|True|tok&quot;en|[Saved.][&lt;b&gt;x&lt;&#x2f;b&gt;]"
    );
}

#[test]
fn absent_layers_leave_variables_empty() {
    let templates = templates(
        "{% if user %}in{% else %}out{% endif %}|{{ csrf_token }}|{{ messages is defined }}",
    );
    assert_eq!(
        templates
            .render_request(&request("/"), "page.html", ())
            .unwrap(),
        "out||False"
    );
}

#[test]
fn the_render_context_wins_over_processors() {
    let templates = templates("{{ user }}|{{ request.path }}");
    let mut req = request("/x/");
    req.extensions_mut().insert(CurrentUser {
        name: "ada".into(),
        staff: false,
    });
    let html = templates
        .render_request(&req, "page.html", context! { user => "given" })
        .unwrap();
    assert_eq!(html, "given|&#x2f;x&#x2f;");
}

#[test]
fn request_exposes_path_query_method_and_security() {
    let templates = templates(
        "{{ request.method }} {{ request.path|safe }} {{ request.GET.q }} {{ request.GET_LIST.tag|join(',') }} \
         {{ request.full_path|safe }} {{ request.is_secure }} {{ request.host }}",
    );
    let req = http::Request::builder()
        .method("POST")
        .uri("https://example.com/search/?q=%3Cscript%3E&tag=a&tag=b")
        .body(())
        .unwrap();
    assert_eq!(
        templates.render_request(&req, "page.html", ()).unwrap(),
        "POST /search/ &lt;script&gt; a,b /search/?q=%3Cscript%3E&tag=a&tag=b True example.com"
    );
}

#[test]
fn request_parts_work_as_well_as_requests() {
    let templates = templates("{{ request.path|safe }}");
    let (parts, ()) = request("/parts/").into_parts();
    assert_eq!(
        templates.render_request(&parts, "page.html", ()).unwrap(),
        "/parts/"
    );
}

#[test]
fn forwarded_proto_is_believed_only_when_trusted() {
    let req = http::Request::builder()
        .uri("/")
        .header("x-forwarded-proto", "https")
        .body(())
        .unwrap();
    for (trust, expected) in [(false, "False"), (true, "True")] {
        let templates = Templates::builder()
            .add_embedded(&[("p.html", "{{ request.is_secure }}")])
            .trust_forwarded_proto(trust)
            .build()
            .unwrap();
        assert_eq!(
            templates.render_request(&req, "p.html", ()).unwrap(),
            expected
        );
    }
}

fn reverse(name: &str, params: &[(String, String)]) -> Result<String, String> {
    match (name, params) {
        ("index", []) => Ok("/".to_owned()),
        ("article-detail", [(key, slug)]) if key == "slug" => Ok(format!("/articles/{slug}/")),
        ("article-detail", _) => Err("expects exactly the parameter `slug`".to_owned()),
        _ => Err(format!("no route is named {name:?}")),
    }
}

#[test]
fn url_reverses_through_the_closure_and_escapes() {
    let templates = Templates::builder()
        .add_embedded(&[(
            "p.html",
            "<a href=\"{{ url('article-detail', slug=slug) }}\">{{ url('index') }}</a>",
        )])
        .reverse_urls(reverse)
        .build()
        .unwrap();
    assert_eq!(
        templates
            .render("p.html", context! { slug => "fish-&-\"chips\"" })
            .unwrap(),
        "<a href=\"/articles/fish-&amp;-&quot;chips&quot;/\">/</a>"
    );
}

#[test]
fn url_failures_name_the_route_and_line() {
    let templates = Templates::builder()
        .add_embedded(&[
            ("unknown.html", "x\n{{ url('nope') }}"),
            ("params.html", "{{ url('article-detail', id=3) }}"),
        ])
        .reverse_urls(reverse)
        .build()
        .unwrap();
    let error = templates.render("unknown.html", ()).unwrap_err();
    assert!(
        matches!(error, Error::Render { line: Some(2), .. }),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .contains("url(\"nope\") cannot be reversed: no route is named"),
        "{error}"
    );
    let error = templates.render("params.html", ()).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("expects exactly the parameter `slug`"),
        "{error}"
    );

    let unconfigured = Templates::builder()
        .add_embedded(&[("u.html", "{{ url('index') }}")])
        .build()
        .unwrap();
    let error = unconfigured.render("u.html", ()).unwrap_err();
    assert!(
        error.to_string().contains("no URL reverser is configured"),
        "{error}"
    );
}

/// What a router would leave in the extensions.
#[derive(Clone)]
struct RouteTable(&'static str);

#[test]
fn a_reverser_from_the_request_wins_over_the_fallback() {
    let templates = Templates::builder()
        .add_embedded(&[("p.html", "{{ url('index') }}")])
        .reverse_urls(|_: &str, _: &[(String, String)]| Ok("/fallback/".to_owned()))
        .reverse_urls_from_request(|request| {
            let table = request.extensions().get::<RouteTable>()?.clone();
            Some(move |_: &str, _: &[(String, String)]| Ok(table.0.to_owned()))
        })
        .build()
        .unwrap();
    let mut req = request("/");
    assert_eq!(
        templates.render_request(&req, "p.html", ()).unwrap(),
        "/fallback/"
    );
    req.extensions_mut().insert(RouteTable("/mounted/"));
    assert_eq!(
        templates.render_request(&req, "p.html", ()).unwrap(),
        "/mounted/"
    );
    assert_eq!(templates.render("p.html", ()).unwrap(), "/fallback/");
}

#[test]
fn static_uses_the_prefix_and_the_manifest() {
    let base = Templates::builder().add_embedded(&[(
        "s.html",
        "{{ static('css/site.css') }} {{ static('/js/a&b.js') }}",
    )]);
    let plain = base.build().unwrap();
    assert_eq!(
        plain.render("s.html", ()).unwrap(),
        "/static/css/site.css /static/js/a&amp;b.js"
    );

    let hashed = Templates::builder()
        .add_embedded(&[(
            "s.html",
            "{{ static('css/site.css') }} {{ static('img/x.png') }}",
        )])
        .static_url("https://cdn.example.com/assets")
        .static_manifest_json(
            r#"{"paths": {"css/site.css": "css/site.3f2a9c.css"}, "version": "1.1"}"#,
        )
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(
        hashed.render("s.html", ()).unwrap(),
        "https://cdn.example.com/assets/css/site.3f2a9c.css https://cdn.example.com/assets/img/x.png"
    );

    let error = Templates::builder()
        .static_manifest_json("{\"a\": 1}")
        .unwrap_err();
    assert!(matches!(error, Error::Manifest { .. }), "{error:?}");
}
